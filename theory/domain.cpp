#include "theory/domain.hpp"

#include <fmt/format.h>
#include <mpfr.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>

namespace attncert {

namespace {

// Integers above 2^53 are not all doubles, so an integer bound must stay below.
constexpr double kMaxExactInteger = 9007199254740992.0;

std::string join(const std::vector<std::string>& items) {
  std::string r;
  for (const auto& s : items) {
    if (!r.empty()) r += ", ";
    r += s;
  }
  return r;
}

std::string number_text(double x) { return fmt::format("{}", x); }

// A decimal text rounded to a double toward `rnd`. Range bounds and law supports round inward
// (lower up, upper down): then a double x satisfies x >= RNDU(lo) exactly when x >= lo, so the
// engine's double comparisons decide membership of the decimal range exactly (T in [0.3, 1]
// must not admit the double 0.29999999999999998 nearest 0.3).
double rounded_toward(const std::string& text, mpfr_rnd_t rnd) {
  mpfr_t v;
  mpfr_init2(v, 53);
  mpfr_strtofr(v, text.c_str(), nullptr, 10, rnd);
  const double d = mpfr_get_d(v, rnd);
  mpfr_clear(v);
  return d;
}

// Text for an inward-rounded bound that reads back to the same double: the shortest decimal
// when it rounds the right way, else more digits (the exact expansion, at the latest, does).
std::string bound_text(double x, mpfr_rnd_t rnd) {
  std::string text = number_text(x);
  for (int digits = 17; rounded_toward(text, rnd) != x && digits <= 800; ++digits) {
    text = fmt::format("{:.{}g}", x, digits);
  }
  return text;
}

class DomainParser {
 public:
  DomainParser(std::string_view text, const QuantityRegistry& registry)
      : s_(text), registry_(registry) {}

  Domain parse() {
    Domain domain;
    if (s_.at_end()) return domain;
    for (;;) {
      domain.items.push_back(item(domain));
      if (s_.at_end()) break;
      if (!s_.accept(",")) s_.fail_expected("',' or end of input");
    }
    return domain;
  }

 private:
  DomainItem item(const Domain& so_far) {
    s_.skip_space();
    const std::size_t at = s_.position();
    const std::string_view name = s_.identifier();
    if (name.empty()) s_.fail_expected("a parameter name");
    const Quantity* q = registry_.find(name);
    if (q == nullptr) s_.fail_at(at, detail::unknown_name_detail(name, settable_names()));
    if (q->kind == QuantityKind::Derived || q->kind == QuantityKind::Constant) {
      s_.fail_at(at, fmt::format("'{}' is a {} and cannot be set; a domain sets: {}", name,
                                 q->kind == QuantityKind::Derived
                                     ? "quantity computed from each instance"
                                     : "constant",
                                 join(settable_names())));
    }
    if (const DomainItem* first = so_far.find(name)) {
      s_.fail_at(at, fmt::format("duplicate item for '{}' (first given at column {})", name,
                                 first->column));
    }
    DomainItem item;
    item.name = std::string(name);
    item.column = at + 1;
    const bool vector = q->kind == QuantityKind::VectorInput;
    const bool integer = q->kind == QuantityKind::IntegerParameter;

    s_.skip_space();
    const std::size_t op_at = s_.position();
    const std::string_view keyword = s_.identifier();
    const bool is_in = keyword == "in";
    const bool is_fixed = keyword.empty() && s_.peek() == '=' && !s_.text().substr(op_at).starts_with("==");
    const bool is_law = keyword.empty() && s_.peek() == '~';
    if (!is_in && !is_fixed && !is_law) {
      s_.fail_at(op_at, fmt::format("expected 'in', '=' or '~' after '{}', found {}", name,
                                    s_.describe(op_at)));
    }
    if (vector && is_fixed) {
      s_.fail_at(op_at, fmt::format("'{}' is a vector input: give a distribution, e.g. '{} ~ "
                                    "normal(0, 1)', or a box, e.g. '{} in [-1, 1]^L'",
                                    name, name, name));
    }
    if (!vector && is_law) {
      s_.fail_at(op_at, fmt::format("'{}' is a scalar parameter: give a range '{} in [a, b]' or "
                                    "a value '{} = v'",
                                    name, name, name));
    }
    if (is_in && vector) {
      item.spec = array_box(*q);
    } else if (is_in) {
      item.spec = range(*q, integer);
    } else if (is_fixed) {
      s_.accept("=");
      const auto v = scalar(*q, integer, "a value");
      const std::string text = text_of(v);
      item.spec = DomainFixed{v.value, rounded_toward(text, MPFR_RNDD), rounded_toward(text, MPFR_RNDU)};
    } else {
      s_.accept("~");
      item.spec = law();
    }
    return item;
  }

  DomainRange range(const Quantity& q, bool integer) {
    if (!s_.accept("[")) s_.fail_expected("'[' to open the range");
    const auto lo = scalar(q, integer, "a lower bound");
    const std::string lo_text = text_of(lo);
    if (!s_.accept(",")) s_.fail_expected("',' between the bounds");
    const auto hi = scalar(q, integer, "an upper bound");
    const std::string hi_text = text_of(hi);
    if (!s_.accept("]")) s_.fail_expected("']' to close the range");
    if (lo.value > hi.value) {
      s_.fail_at(lo.position, fmt::format("empty range for '{}': lower bound {} exceeds upper "
                                          "bound {}",
                                          q.name, number_text(lo.value), number_text(hi.value)));
    }
    DomainRange r{rounded_toward(lo_text, MPFR_RNDU), rounded_toward(hi_text, MPFR_RNDD), integer,
                  false, rounded_toward(lo_text, MPFR_RNDD), rounded_toward(hi_text, MPFR_RNDU)};
    if (r.lower > r.upper) {
      s_.fail_at(lo.position, fmt::format("range [{}, {}] for '{}' contains no double; write '{} "
                                          "= {}' for the double nearest to it",
                                          lo_text, hi_text, q.name, q.name, lo_text));
    }
    s_.skip_space();
    const std::size_t at = s_.position();
    const std::string_view word = s_.identifier();
    if (word == "log") {
      if (!(r.lower > 0)) {
        s_.fail_at(at, fmt::format("log scale needs a positive range, but '{}' starts at {}",
                                   q.name, number_text(lo.value)));
      }
      r.log_scale = true;
    } else if (!word.empty()) {
      s_.fail_at(at, fmt::format("expected 'log', ',' or end of input, found '{}'",
                                 detail::clip(word)));
    }
    return r;
  }

  // NAME in [a, b]^SHAPE with SHAPE a name or digits, or (ROWS, COLS) for a matrix input.
  ArrayBox array_box(const Quantity& q) {
    if (!s_.accept("[")) s_.fail_expected("'[' to open the box");
    const auto lo = s_.number(true);
    if (!lo) s_.fail_expected("a lower bound");
    const std::string lo_text(s_.text().substr(lo->position, s_.position() - lo->position));
    if (!s_.accept(",")) s_.fail_expected("',' between the bounds");
    const auto hi = s_.number(true);
    if (!hi) s_.fail_expected("an upper bound");
    const std::string hi_text(s_.text().substr(hi->position, s_.position() - hi->position));
    if (!s_.accept("]")) s_.fail_expected("']' to close the box");
    if (lo->value > hi->value) {
      s_.fail_at(lo->position, fmt::format("empty box for '{}': lower bound {} exceeds upper bound {}",
                                           q.name, lo_text, hi_text));
    }
    ArrayBox box{rounded_toward(lo_text, MPFR_RNDU), rounded_toward(hi_text, MPFR_RNDD),
                 rounded_toward(lo_text, MPFR_RNDD), rounded_toward(hi_text, MPFR_RNDU), ""};
    if (box.lower > box.upper) {
      s_.fail_at(lo->position, fmt::format("box [{}, {}] for '{}' contains no double", lo_text,
                                           hi_text, q.name));
    }
    if (!s_.accept("^")) {
      s_.fail_expected(fmt::format("'^' after the box ('{}' is a vector input: give a distribution, "
                                   "e.g. '{} ~ normal(0, 1)', or a box with its length, e.g. "
                                   "'{} in [-1, 1]^L')",
                                   q.name, q.name, q.name));
    }
    auto dimension = [&]() -> std::string {
      s_.skip_space();
      if (const std::string_view id = s_.identifier(); !id.empty()) return std::string(id);
      const auto n = s_.number(false);
      if (!n || n->value != std::floor(n->value) || n->value < 1 || n->exponent10 != 0) {
        s_.fail_expected("a size (a parameter name such as L, or a positive integer)");
      }
      return n->mantissa;
    };
    if (s_.accept("(")) {
      box.shape = dimension();
      if (!s_.accept(",")) s_.fail_expected("',' between the sizes");
      box.shape += "," + dimension();
      if (!s_.accept(")")) s_.fail_expected("')' after the sizes");
    } else {
      box.shape = dimension();
    }
    return box;
  }

  // A signed number, checked against the quantity's integrality and admissible minimum.
  detail::Scanner::Number scalar(const Quantity& q, bool integer, std::string_view what) {
    auto n = s_.number(true);
    if (!n) s_.fail_expected(what);
    const std::string text(s_.text().substr(n->position, s_.position() - n->position));
    if (integer && (n->value != std::floor(n->value) || std::fabs(n->value) > kMaxExactInteger)) {
      s_.fail_at(n->position, fmt::format("expected an integer of magnitude at most 2^53 for "
                                          "integer parameter '{}', found '{}'",
                                          q.name, text));
    }
    const bool below = q.minimum_is_open ? !(n->value > q.minimum) : !(n->value >= q.minimum);
    if (below) {
      s_.fail_at(n->position, fmt::format("'{}' must be {} {}, found '{}'", q.name,
                                          q.minimum_is_open ? ">" : ">=",
                                          number_text(q.minimum), text));
    }
    return *n;
  }

  DomainItem::Spec law() {
    s_.skip_space();
    const std::size_t at = s_.position();
    const std::string_view name = s_.identifier();
    static constexpr std::array<std::string_view, 4> kLaws = {"normal", "uniform", "rademacher",
                                                              "sphere"};
    if (name.empty()) s_.fail_expected("a distribution (normal, uniform, rademacher, sphere)");
    if (std::find(kLaws.begin(), kLaws.end(), name) == kLaws.end()) {
      std::string detail = fmt::format("unknown distribution '{}'", detail::clip(name));
      if (const auto guess = QuantityRegistry::closest(name, {kLaws.begin(), kLaws.end()})) {
        detail += fmt::format(" (did you mean '{}'?)", *guess);
      }
      s_.fail_at(at, detail + "; distributions: normal(mean, sigma), uniform(lower, upper), "
                              "rademacher, sphere(radius)");
    }
    std::vector<detail::Scanner::Number> args;
    std::vector<std::string> texts;
    if (s_.accept("(")) {
      if (!s_.accept(")")) {
        for (;;) {
          auto n = s_.number(true);
          if (!n) s_.fail_expected("a number");
          args.push_back(*n);
          texts.push_back(text_of(*n));
          if (s_.accept(")")) break;
          if (!s_.accept(",")) s_.fail_expected("',' or ')'");
        }
      }
    } else if (name != "rademacher") {
      s_.fail_expected(fmt::format("'(' after '{}'", name));
    }
    const auto arity = [&](std::size_t n, std::string_view params) {
      if (args.size() != n) {
        s_.fail_at(at, fmt::format("distribution '{}' takes {} parameter{}{}, found {}", name, n,
                                   n == 1 ? "" : "s", params, args.size()));
      }
    };
    if (name == "normal") {
      arity(2, " (mean, sigma)");
      if (!(args[1].value > 0)) {
        s_.fail_at(args[1].position, fmt::format("normal needs sigma > 0, found {}",
                                                 number_text(args[1].value)));
      }
      return NormalLaw{args[0].value, args[1].value};
    }
    if (name == "uniform") {
      arity(2, " (lower, upper)");
      if (args[0].value > args[1].value) {
        s_.fail_at(args[0].position, fmt::format("uniform needs lower <= upper, found {} > {}",
                                                 number_text(args[0].value),
                                                 number_text(args[1].value)));
      }
      // The support is a range: rounded inward like one.
      const UniformLaw law{rounded_toward(texts[0], MPFR_RNDU),
                           rounded_toward(texts[1], MPFR_RNDD)};
      if (law.lower > law.upper) {
        s_.fail_at(args[0].position,
                   fmt::format("uniform({}, {}) contains no double", texts[0], texts[1]));
      }
      return law;
    }
    if (name == "sphere") {
      arity(1, " (radius)");
      if (!(args[0].value > 0)) {
        s_.fail_at(args[0].position, fmt::format("sphere needs radius > 0, found {}",
                                                 number_text(args[0].value)));
      }
      return SphereLaw{args[0].value};
    }
    arity(0, "");
    return RademacherLaw{};
  }

  // The source text of a number the scanner has just read.
  std::string text_of(const detail::Scanner::Number& n) const {
    return std::string(s_.text().substr(n.position, s_.position() - n.position));
  }

  const std::vector<std::string>& settable_names() {
    if (settable_.empty()) {
      settable_ = registry_.names({QuantityKind::RealParameter, QuantityKind::IntegerParameter,
                                   QuantityKind::VectorInput});
    }
    return settable_;
  }

  detail::Scanner s_;
  const QuantityRegistry& registry_;
  std::vector<std::string> settable_;
};

}  // namespace

const DomainItem* Domain::find(std::string_view name) const noexcept {
  for (const auto& item : items) {
    if (item.name == name) return &item;
  }
  return nullptr;
}

std::string to_string(const DomainItem& item) {
  struct Render {
    const std::string& name;
    std::string operator()(const DomainRange& r) const {
      return fmt::format("{} in [{}, {}]{}", name, bound_text(r.lower, MPFR_RNDU),
                         bound_text(r.upper, MPFR_RNDD), r.log_scale ? " log" : "");
    }
    std::string operator()(const DomainFixed& f) const {
      return fmt::format("{} = {}", name, number_text(f.value));
    }
    std::string operator()(const NormalLaw& l) const {
      return fmt::format("{} ~ normal({}, {})", name, number_text(l.mean), number_text(l.sigma));
    }
    std::string operator()(const UniformLaw& l) const {
      return fmt::format("{} ~ uniform({}, {})", name, bound_text(l.lower, MPFR_RNDU),
                         bound_text(l.upper, MPFR_RNDD));
    }
    std::string operator()(const RademacherLaw&) const { return name + " ~ rademacher"; }
    std::string operator()(const ArrayBox& b) const {
      const bool matrix = b.shape.find(',') != std::string::npos;
      return fmt::format("{} in [{}, {}]^{}{}{}", name, bound_text(b.lower, MPFR_RNDU),
                         bound_text(b.upper, MPFR_RNDD), matrix ? "(" : "", b.shape, matrix ? ")" : "");
    }
    std::string operator()(const SphereLaw& l) const {
      return fmt::format("{} ~ sphere({})", name, number_text(l.radius));
    }
  };
  return std::visit(Render{item.name}, item.spec);
}

std::string to_string(const Domain& domain) {
  std::string r;
  for (const auto& item : domain.items) {
    if (!r.empty()) r += ", ";
    r += to_string(item);
  }
  return r;
}

Domain parse_domain(std::string_view text, const QuantityRegistry& registry) {
  return DomainParser(text, registry).parse();
}

}  // namespace attncert
