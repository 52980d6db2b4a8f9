#include "theory/expression.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <type_traits>
#include <utility>

#include "numerics/ball.hpp"
#include "numerics/precision.hpp"
#include "numerics/tri_state.hpp"
#include "theory/ascii.hpp"
#include "theory/claim.hpp"  // Relation
#include "theory/decimal_literal.hpp"
#include "theory/elementary_program.hpp"

namespace attncert {

using ascii::is_space;

// --- parser ------------------------------------------------------------------------------

// Recursive descent, one function per grammar rule. Nodes are appended as soon as their
// children exist, which makes the node array post-ordered.
class ExpressionParser {
 public:
  ExpressionParser(detail::Scanner& scanner, const QuantityRegistry& registry)
      : s_(scanner), registry_(registry) {}

  // Parses one expression from the scanner's position; stops before the first token that
  // cannot continue it.
  Expression parse() {
    s_.skip_space();
    const std::size_t begin = s_.position();
    expression();
    Expression e = std::move(e_);
    e.text_ = std::string(trimmed(s_.text().substr(begin, s_.position() - begin)));
    // Slots were numbered in order of appearance; renumber them in sorted-name order.
    std::vector<std::uint32_t> order(e.names_.size());
    for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](std::uint32_t a, std::uint32_t b) { return e.names_[a] < e.names_[b]; });
    std::vector<std::uint32_t> new_slot(order.size());
    std::vector<std::string> sorted(order.size());
    for (std::uint32_t k = 0; k < order.size(); ++k) {
      new_slot[order[k]] = k;
      sorted[k] = e.names_[order[k]];
    }
    for (auto& node : e.nodes_) {
      if (node.kind == Expression::NodeKind::Name) node.slot = new_slot[node.slot];
    }
    e.names_ = std::move(sorted);
    return e;
  }

 private:
  using Kind = Expression::NodeKind;

  static std::string_view trimmed(std::string_view s) {
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
  }

  std::uint32_t push(Expression::Node node, const std::vector<std::uint32_t>& children = {},
                     const std::vector<char>& ops = {}) {
    node.first_child = static_cast<std::uint32_t>(e_.children_.size());
    node.child_count = static_cast<std::uint32_t>(children.size());
    for (std::size_t i = 0; i < children.size(); ++i) {
      e_.children_.push_back(children[i]);
      e_.operators_.push_back(i < ops.size() ? ops[i] : ' ');
    }
    e_.nodes_.push_back(std::move(node));
    return static_cast<std::uint32_t>(e_.nodes_.size() - 1);
  }

  // expression = term { ("+" | "-") term }
  std::uint32_t expression() {
    std::vector<std::uint32_t> terms{term()};
    std::vector<char> ops{'+'};
    for (;;) {
      const char c = s_.peek();
      if (c != '+' && c != '-') break;
      s_.accept(std::string_view(&c, 1));
      ops.push_back(c);
      terms.push_back(term());
    }
    if (terms.size() == 1) return terms[0];
    Expression::Node node;
    node.kind = Kind::Sum;
    return push(std::move(node), terms, ops);
  }

  // term = unary { ("*" | "/") unary }
  std::uint32_t term() {
    std::vector<std::uint32_t> factors{unary()};
    std::vector<char> ops{'*'};
    for (;;) {
      const char c = s_.peek();
      if (c != '*' && c != '/') break;
      s_.accept(std::string_view(&c, 1));
      if (c == '*' && s_.peek() == '*') s_.fail_expected("an operand", "write x^2 for a power");
      ops.push_back(c);
      factors.push_back(unary());
    }
    if (factors.size() == 1) return factors[0];
    Expression::Node node;
    node.kind = Kind::Product;
    return push(std::move(node), factors, ops);
  }

  // unary = ("-" | "+") unary | power. Every recursion cycle of the grammar passes here, so
  // this is where nesting is counted.
  std::uint32_t unary() {
    s_.skip_space();
    if (++depth_ > kMaxNestingDepth) {
      s_.fail_at(s_.position(), fmt::format("nesting deeper than {} levels (parentheses, calls, "
                                            "signs and exponents count)",
                                            kMaxNestingDepth));
    }
    std::uint32_t r;
    if (s_.accept("-")) {
      const std::uint32_t operand = unary();
      Expression::Node node;
      node.kind = Kind::Negate;
      r = push(std::move(node), {operand});
    } else if (s_.accept("+")) {
      r = unary();
    } else {
      r = power();
    }
    --depth_;
    return r;
  }

  // power = primary [ "^" unary ]
  std::uint32_t power() {
    const std::uint32_t base = primary();
    if (!s_.accept("^")) return base;
    const std::uint32_t exponent = unary();
    Expression::Node node;
    node.kind = Kind::Power;
    return push(std::move(node), {base, exponent});
  }

  std::uint32_t primary() {
    if (s_.at_end()) s_.fail_expected("a number, a name or '('");
    if (s_.accept("(")) {
      const std::uint32_t inner = expression();
      if (!s_.accept(")")) s_.fail_expected("an operator or ')'");
      return inner;
    }
    if (auto n = s_.number(false)) {
      Expression::Node node;
      node.kind = Kind::Number;
      node.value = n->value;
      node.mantissa = std::move(n->mantissa);
      node.exponent10 = n->exponent10;
      return push(std::move(node));
    }
    const std::size_t at = s_.position();
    const std::string_view name = s_.identifier();
    if (name.empty()) s_.fail_expected("a number, a name or '('");
    const auto functions = function_names();
    const auto function = std::find(functions.begin(), functions.end(), name);
    const Quantity* quantity = registry_.find(name);
    if (s_.peek() == '(') {
      if (function != functions.end()) return call(name, at);
      if (quantity != nullptr) {
        s_.fail_at(at, fmt::format("'{}' is a quantity, not a function; write {}*(...) for a "
                                   "product",
                                   name, name));  // registry names are short
      }
      s_.fail_at(at, fmt::format("unknown function '{}' (functions: {})", detail::clip(name),
                                 fmt::join(functions, ", ")));
    }
    if (function != functions.end()) {
      s_.fail_expected(fmt::format("'(' after function '{}'", name));
    }
    if (quantity == nullptr) {
      s_.fail_at(at, detail::unknown_name_detail(name, scalar_names()));
    }
    Expression::Node node;
    switch (quantity->kind) {
      case QuantityKind::VectorInput:
        s_.fail_at(at, fmt::format("'{}' is a vector input, not a number; expressions use the "
                                   "scalar quantities: {}",
                                   name, fmt::join(scalar_names(), ", ")));
      case QuantityKind::Constant:
        node.kind = Kind::Constant;
        node.constant = name == "pi" ? Expression::ConstantId::Pi : Expression::ConstantId::E;
        return push(std::move(node));
      default: {
        node.kind = Kind::Name;
        const auto it = std::find(e_.names_.begin(), e_.names_.end(), name);
        node.slot = static_cast<std::uint32_t>(it - e_.names_.begin());
        if (it == e_.names_.end()) e_.names_.emplace_back(name);
        return push(std::move(node));
      }
    }
  }

  // call = function "(" expression { "," expression } ")"
  std::uint32_t call(std::string_view name, std::size_t at) {
    s_.accept("(");
    std::vector<std::uint32_t> args{expression()};
    while (s_.accept(",")) args.push_back(expression());
    if (!s_.accept(")")) s_.fail_expected("an operator, ',' or ')'");
    Expression::Node node;
    node.kind = Kind::Call;
    const bool variadic = name == "min" || name == "max";
    if (variadic && args.size() < 2) {
      s_.fail_at(at, fmt::format("function '{}' takes 2 or more arguments, found 1", name));
    }
    if (!variadic && args.size() != 1) {
      s_.fail_at(at, fmt::format("function '{}' takes 1 argument, found {}", name, args.size()));
    }
    using F = Expression::Function;
    node.function = name == "exp"    ? F::Exp
                    : name == "log"  ? F::Log
                    : name == "sqrt" ? F::Sqrt
                    : name == "abs"  ? F::Abs
                    : name == "min"  ? F::Min
                                     : F::Max;
    return push(std::move(node), args);
  }

  const std::vector<std::string>& scalar_names() {
    if (scalar_names_.empty()) {
      scalar_names_ = registry_.names({QuantityKind::RealParameter, QuantityKind::IntegerParameter,
                                       QuantityKind::Derived, QuantityKind::Constant});
    }
    return scalar_names_;
  }

  detail::Scanner& s_;
  const QuantityRegistry& registry_;
  Expression e_;
  int depth_ = 0;
  std::vector<std::string> scalar_names_;
};

namespace {

bool is_relation_start(char c) noexcept { return c == '<' || c == '>' || c == '=' || c == '!'; }

}  // namespace

Expression parse_expression(std::string_view text, const QuantityRegistry& registry) {
  detail::Scanner scanner(text);
  if (scanner.at_end()) scanner.fail_expected("an expression");
  Expression e = ExpressionParser(scanner, registry).parse();
  if (!scanner.at_end()) {
    const char c = scanner.peek();
    scanner.fail_expected("an operator or end of input",
                          c == ')'                 ? "no matching '('"
                          : is_relation_start(c) ? "a relation belongs in an inequality, not an "
                                                   "expression"
                                                 : "");
  }
  return e;
}

InequalityExpression parse_inequality(std::string_view text, const QuantityRegistry& registry) {
  detail::Scanner scanner(text);
  if (scanner.at_end()) scanner.fail_expected("an inequality such as 'alpha_max <= 1'");
  InequalityExpression r;
  r.text = std::string(text);
  r.lhs = ExpressionParser(scanner, registry).parse();
  constexpr std::string_view kRelations = "a relation (<=, <, >=, >)";
  if (scanner.accept("<=")) {
    r.relation = Relation::LessEqual;
  } else if (scanner.accept(">=")) {
    r.relation = Relation::GreaterEqual;
  } else if (scanner.accept("<")) {
    r.relation = Relation::Less;
  } else if (scanner.accept(">")) {
    r.relation = Relation::Greater;
  } else {
    const char c = scanner.peek();
    const std::string what =
        scanner.at_end() ? std::string(kRelations) : "an operator or " + std::string(kRelations);
    scanner.fail_expected(what,
                          c == '=' || c == '!' ? "an equality is not checkable numerically; state "
                                                 "it as two inequalities"
                          : c == ')'           ? "no matching '('"
                                               : "");
  }
  if (scanner.at_end()) scanner.fail_expected("an expression after the relation");
  r.rhs = ExpressionParser(scanner, registry).parse();
  if (!scanner.at_end()) {
    const char c = scanner.peek();
    scanner.fail_expected("an operator or end of input",
                          is_relation_start(c) ? "an inequality has exactly one relation; chain "
                                                 "claims separately"
                          : c == ')'           ? "no matching '('"
                                               : "");
  }
  return r;
}

// --- evaluation --------------------------------------------------------------------------

namespace {

// mantissa * 10^exponent10 as a plain decimal when short, else in e-notation.
std::string decimal_text(const std::string& mantissa, long exponent10) {
  const long digits = static_cast<long>(mantissa.size());
  if (exponent10 >= 0 && exponent10 <= 6) return mantissa + std::string(exponent10, '0');
  if (exponent10 < 0 && -exponent10 < digits) {
    return mantissa.substr(0, digits + exponent10) + "." + mantissa.substr(digits + exponent10);
  }
  if (exponent10 < 0 && -exponent10 <= digits + 6) {
    return "0." + std::string(-exponent10 - digits, '0') + mantissa;
  }
  return fmt::format("{}e{}", mantissa, exponent10);
}

std::string enclosure_text(const Ball& b) { return fmt::format("[{:.6g}, {:.6g}]", b.lower(), b.upper()); }

double nan_min(double a, double b) { return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b); }
double nan_max(double a, double b) { return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b); }

}  // namespace

template <class T>
T Expression::evaluate_nodes(std::span<const T> values, long prec) const {
  constexpr bool kBall = std::is_same_v<T, Ball>;
  if constexpr (kBall) require_precision(prec, "Expression::evaluate");
  if (nodes_.empty()) {
    throw std::invalid_argument("Expression::evaluate: empty (default-constructed) expression");
  }
  if (values.size() != names_.size()) {
    throw std::invalid_argument(fmt::format(
        "Expression::evaluate: '{}' needs {} values (for {}), got {}", text_, names_.size(),
        fmt::join(names_, ", "), values.size()));
  }
  std::vector<T> v(nodes_.size());
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const Node& n = nodes_[i];
    const std::uint32_t* child = children_.data() + n.first_child;
    const char* op = operators_.data() + n.first_child;
    switch (n.kind) {
      case NodeKind::Number:
        if constexpr (kBall) v[i] = decimal_ball({n.mantissa, n.exponent10, false, n.value}, prec);
        else v[i] = n.value;
        break;
      case NodeKind::Name:
        v[i] = values[n.slot];
        if constexpr (kBall) {
          if (v[i].precision() < prec) v[i].set_precision(prec);
        }
        break;
      case NodeKind::Constant:
        if constexpr (kBall) {
          v[i] = Ball(0.0, prec);
          if (n.constant == ConstantId::Pi) arb_const_pi(v[i].arb(), prec);
          else arb_const_e(v[i].arb(), prec);
        } else {
          v[i] = n.constant == ConstantId::Pi ? std::numbers::pi : std::numbers::e;
        }
        break;
      case NodeKind::Negate: v[i] = -v[child[0]]; break;
      case NodeKind::Sum:
        v[i] = std::move(v[child[0]]);
        for (std::uint32_t k = 1; k < n.child_count; ++k) {
          if (op[k] == '+') v[i] += v[child[k]];
          else v[i] -= v[child[k]];
        }
        break;
      case NodeKind::Product:
        v[i] = std::move(v[child[0]]);
        for (std::uint32_t k = 1; k < n.child_count; ++k) {
          if (op[k] == '*') {
            v[i] *= v[child[k]];
            continue;
          }
          if constexpr (kBall) {
            if (v[child[k]].is_zero()) {
              throw ExpressionDomainError(
                  fmt::format("division by {}, which is 0, is undefined", render(child[k])));
            }
          }
          v[i] /= v[child[k]];
        }
        break;
      case NodeKind::Power: {
        using std::pow;
        if constexpr (kBall) require_power_defined(child[0], v[child[0]], child[1], v[child[1]]);
        v[i] = pow(v[child[0]], v[child[1]]);
        break;
      }
      case NodeKind::Call: {
        using std::abs, std::exp, std::log, std::sqrt;
        const T& x = v[child[0]];
        if constexpr (kBall) require_argument_defined(n.function, child[0], x);
        switch (n.function) {
          case Function::Exp: v[i] = exp(x); break;
          case Function::Log: v[i] = log(x); break;
          case Function::Sqrt: v[i] = sqrt(x); break;
          case Function::Abs: v[i] = abs(x); break;
          case Function::Min:
          case Function::Max:
            v[i] = std::move(v[child[0]]);
            for (std::uint32_t k = 1; k < n.child_count; ++k) {
              if constexpr (kBall) {
                v[i] = n.function == Function::Min ? min(v[i], v[child[k]]) : max(v[i], v[child[k]]);
              } else {
                v[i] = n.function == Function::Min ? nan_min(v[i], v[child[k]])
                                                   : nan_max(v[i], v[child[k]]);
              }
            }
            break;
        }
        break;
      }
    }
  }
  return std::move(v.back());
}

void Expression::require_argument_defined(Function f, std::uint32_t arg, const Ball& x) const {
  const bool log_undefined = f == Function::Log && certainly(x <= Ball(0));
  const bool sqrt_undefined = f == Function::Sqrt && certainly(x < Ball(0));
  if (log_undefined || sqrt_undefined) {
    throw ExpressionDomainError(fmt::format("{}({}) is undefined: its argument lies in {}, which is {}",
                                            log_undefined ? "log" : "sqrt", render(arg),
                                            enclosure_text(x), log_undefined ? "<= 0" : "< 0"));
  }
}

void Expression::require_power_defined(std::uint32_t base, const Ball& x, std::uint32_t exponent,
                                       const Ball& y) const {
  if (x.is_zero() && certainly(y < Ball(0))) {
    throw ExpressionDomainError(fmt::format("{} ^ {} is undefined: 0 to the power {}",
                                            render(base), render(exponent), enclosure_text(y)));
  }
  if (certainly(x < Ball(0)) && y.is_exact() && y.is_finite() && !arb_is_int(y.arb())) {
    throw ExpressionDomainError(fmt::format(
        "{} ^ {} is undefined: a negative base ({}) to the non-integer power {}", render(base),
        render(exponent), enclosure_text(x), fmt::format("{:.17g}", y.mid())));
  }
}

double Expression::evaluate(std::span<const double> values) const {
  return evaluate_nodes<double>(values, 0);
}

Ball Expression::evaluate(std::span<const Ball> values, long prec) const {
  return evaluate_nodes<Ball>(values, prec);
}

double Expression::evaluate(const Lookup<double>& env) const {
  std::vector<double> values;
  values.reserve(names_.size());
  for (const auto& name : names_) values.push_back(env(name));
  return evaluate(values);
}

Ball Expression::evaluate(const Lookup<Ball>& env, long prec) const {
  std::vector<Ball> values;
  values.reserve(names_.size());
  for (const auto& name : names_) values.push_back(env(name));
  return evaluate(values, prec);
}

std::uint32_t Expression::lower(ElementaryProgram& program,
                               const std::function<std::uint32_t(std::string_view)>& name) const {
  if (nodes_.empty()) throw std::invalid_argument("Expression::lower: empty expression");
  // An integer exponent literal (2, or -1 as Negate of a Number) becomes Power: exp(y·log x)
  // would be undefined for x <= 0 where x^2 is not.
  auto integer_literal = [&](std::uint32_t node) -> std::optional<int> {
    bool negative = false;
    if (nodes_[node].kind == NodeKind::Negate) {
      negative = true;
      node = children_[nodes_[node].first_child];
    }
    const Node& n = nodes_[node];
    if (n.kind != NodeKind::Number) return std::nullopt;
    // Decided on the exact decimal mantissa·10^exponent10, not on its nearest double
    // (2.00000000000000001 is not 2).
    std::string digits = n.mantissa;
    long e = n.exponent10;
    while (e < 0 && digits.size() > 1 && digits.back() == '0') digits.pop_back(), ++e;
    if (e < 0 && digits != "0") return std::nullopt;
    if (digits != "0") digits += std::string(static_cast<std::size_t>(std::max(e, 0L)), '0');
    if (digits.size() > 2 || std::stoi(digits) > 64) return std::nullopt;
    const int k = std::stoi(digits);
    return negative ? -k : k;
  };
  std::vector<std::uint32_t> at(nodes_.size());
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const Node& n = nodes_[i];
    const std::uint32_t* child = children_.data() + n.first_child;
    const char* op = operators_.data() + n.first_child;
    switch (n.kind) {
      case NodeKind::Number: at[i] = program.constant(decimal_text(n.mantissa, n.exponent10)); break;
      case NodeKind::Name: at[i] = name(names_[n.slot]); break;
      case NodeKind::Constant:
        at[i] = n.constant == ConstantId::Pi ? program.pi()
                                             : program.unary(ElementaryOp::Exp, program.constant("1"));
        break;
      case NodeKind::Negate: at[i] = program.unary(ElementaryOp::Negate, at[child[0]]); break;
      case NodeKind::Sum:
      case NodeKind::Product:
        at[i] = at[child[0]];
        for (std::uint32_t k = 1; k < n.child_count; ++k) {
          const ElementaryOp o = op[k] == '+'   ? ElementaryOp::Add
                                 : op[k] == '-' ? ElementaryOp::Subtract
                                 : op[k] == '*' ? ElementaryOp::Multiply
                                                : ElementaryOp::Divide;
          at[i] = program.binary(o, at[i], at[child[k]]);
        }
        break;
      case NodeKind::Power:
        if (const auto k = integer_literal(child[1])) {
          at[i] = program.power(at[child[0]], *k);
        } else {
          const std::uint32_t log_x = program.unary(ElementaryOp::Log, at[child[0]]);
          at[i] = program.unary(ElementaryOp::Exp,
                                program.binary(ElementaryOp::Multiply, at[child[1]], log_x));
        }
        break;
      case NodeKind::Call:
        switch (n.function) {
          case Function::Exp: at[i] = program.unary(ElementaryOp::Exp, at[child[0]]); break;
          case Function::Log: at[i] = program.unary(ElementaryOp::Log, at[child[0]]); break;
          case Function::Sqrt: at[i] = program.unary(ElementaryOp::Sqrt, at[child[0]]); break;
          case Function::Abs: at[i] = program.unary(ElementaryOp::Abs, at[child[0]]); break;
          case Function::Min:
          case Function::Max:
            at[i] = at[child[0]];
            for (std::uint32_t k = 1; k < n.child_count; ++k) {
              at[i] = program.binary(n.function == Function::Min ? ElementaryOp::Min : ElementaryOp::Max,
                                     at[i], at[child[k]]);
            }
            break;
        }
        break;
    }
  }
  return at.back();
}

std::string Expression::to_string() const { return nodes_.empty() ? "" : render(nodes_.size() - 1); }

std::string Expression::render(std::uint32_t index) const {
  const Node& n = nodes_[index];
  const std::uint32_t* child = children_.data() + n.first_child;
  const char* op = operators_.data() + n.first_child;
  switch (n.kind) {
    case NodeKind::Number: return decimal_text(n.mantissa, n.exponent10);
    case NodeKind::Name: return names_[n.slot];
    case NodeKind::Constant: return n.constant == ConstantId::Pi ? "pi" : "e";
    case NodeKind::Negate: return "(-" + render(child[0]) + ")";
    case NodeKind::Power: return "(" + render(child[0]) + " ^ " + render(child[1]) + ")";
    case NodeKind::Sum:
    case NodeKind::Product: {
      std::string r = "(" + render(child[0]);
      for (std::uint32_t k = 1; k < n.child_count; ++k) {
        r += fmt::format(" {} ", op[k]) + render(child[k]);
      }
      return r + ")";
    }
    case NodeKind::Call: {
      std::string r = std::string(function_names()[static_cast<std::size_t>(
          n.function == Function::Abs    ? 0
          : n.function == Function::Exp  ? 1
          : n.function == Function::Log  ? 2
          : n.function == Function::Max  ? 3
          : n.function == Function::Min  ? 4
                                         : 5)]) +
                      "(";
      for (std::uint32_t k = 0; k < n.child_count; ++k) r += (k ? ", " : "") + render(child[k]);
      return r + ")";
    }
  }
  return "?";
}

// --- inequalities --------------------------------------------------------------------------

std::vector<std::string> InequalityExpression::names_used() const {
  std::vector<std::string> r = lhs.names_used();
  r.insert(r.end(), rhs.names_used().begin(), rhs.names_used().end());
  std::sort(r.begin(), r.end());
  r.erase(std::unique(r.begin(), r.end()), r.end());
  return r;
}

Tri InequalityExpression::holds(const Lookup<Ball>& env, long prec) const {
  const Ball l = lhs.evaluate(env, prec);
  const Ball r = rhs.evaluate(env, prec);
  if (!l.is_finite() || !r.is_finite()) return Tri::Unknown;
  switch (relation) {
    case Relation::LessEqual: return l <= r;
    case Relation::Less: return l < r;
    case Relation::GreaterEqual: return l >= r;
    case Relation::Greater: return l > r;
    case Relation::Equal: return l == r;  // not parsed; for inequalities built in code
  }
  return Tri::Unknown;
}

double InequalityExpression::violation_margin(const Lookup<double>& env) const {
  const double l = lhs.evaluate(env);
  const double r = rhs.evaluate(env);
  switch (relation) {
    case Relation::LessEqual:
    case Relation::Less: return l - r;
    case Relation::GreaterEqual:
    case Relation::Greater: return r - l;
    case Relation::Equal: return std::fabs(l - r);
  }
  return NAN;
}

bool InequalityExpression::violates(double margin) const noexcept {
  const bool strict = relation == Relation::Less || relation == Relation::Greater;
  return strict ? margin >= 0 : margin > 0;
}

}  // namespace attncert
