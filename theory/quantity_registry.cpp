#include "theory/quantity_registry.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>
#include <utility>

#include "theory/ascii.hpp"

namespace attncert {
namespace {

// Optimal-string-alignment distance (edit distance counting a transposition as one edit).
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::string lowered(std::string_view s) {
  std::string r(s);
  std::transform(r.begin(), r.end(), r.begin(), ascii::to_lower);
  return r;
}

}  // namespace

std::string_view to_string(QuantityKind kind) noexcept {
  switch (kind) {
    case QuantityKind::RealParameter: return "real parameter";
    case QuantityKind::IntegerParameter: return "integer parameter";
    case QuantityKind::Derived: return "derived quantity";
    case QuantityKind::Constant: return "constant";
    case QuantityKind::VectorInput: return "vector input";
  }
  return "?";
}

std::span<const std::string_view> function_names() noexcept {
  static constexpr std::array<std::string_view, 6> kNames = {"abs", "exp", "log", "max", "min", "sqrt"};
  return kNames;
}

QuantityRegistry::QuantityRegistry(std::initializer_list<Quantity> quantities) {
  for (const auto& q : quantities) add(q);
}

void QuantityRegistry::add(Quantity quantity) {
  if (!ascii::is_identifier(quantity.name)) {
    throw std::invalid_argument(fmt::format(
        "QuantityRegistry: '{}' is not a name (letters, digits, '_', not starting with a digit)",
        quantity.name));
  }
  const auto functions = function_names();
  if (std::find(functions.begin(), functions.end(), quantity.name) != functions.end()) {
    throw std::invalid_argument(fmt::format(
        "QuantityRegistry: '{}' is a function name; a quantity needs another name", quantity.name));
  }
  if (find(quantity.name) != nullptr) {
    throw std::invalid_argument(
        fmt::format("QuantityRegistry: '{}' is registered twice", quantity.name));
  }
  // The evaluator encloses constants itself (Arb's pi and e); it knows no others.
  if (quantity.kind == QuantityKind::Constant && quantity.name != "pi" && quantity.name != "e") {
    throw std::invalid_argument(fmt::format(
        "QuantityRegistry: '{}': the only constants are pi and e; register other values as "
        "parameters",
        quantity.name));
  }
  if (std::isnan(quantity.minimum)) {
    throw std::invalid_argument(
        fmt::format("QuantityRegistry: '{}': minimum must not be NaN", quantity.name));
  }
  quantities_.push_back(std::move(quantity));
}

const Quantity* QuantityRegistry::find(std::string_view name) const noexcept {
  for (const auto& q : quantities_) {
    if (q.name == name) return &q;
  }
  return nullptr;
}

std::vector<std::string> QuantityRegistry::names() const {
  std::vector<std::string> r;
  for (const auto& q : quantities_) r.push_back(q.name);
  std::sort(r.begin(), r.end());
  return r;
}

std::vector<std::string> QuantityRegistry::names(std::initializer_list<QuantityKind> kinds) const {
  std::vector<std::string> r;
  for (const auto& q : quantities_) {
    if (std::find(kinds.begin(), kinds.end(), q.kind) != kinds.end()) r.push_back(q.name);
  }
  std::sort(r.begin(), r.end());
  return r;
}

std::optional<std::string> QuantityRegistry::closest(std::string_view name,
                                                     const std::vector<std::string>& candidates) {
  const std::string lower = lowered(name);
  // A typo costs about one edit per three characters; a one- or two-letter name only
  // matches up to case (x is not a typo of d).
  const std::size_t budget = std::max<std::size_t>(name.size() / 3, name.size() >= 3 ? 1 : 0);
  std::optional<std::string> best;
  std::pair<std::size_t, std::size_t> best_score{0, 0};
  for (const auto& c : candidates) {
    const std::string lc = lowered(c);
    std::size_t d = edit_distance(lower, lc);
    if (d > budget && name.size() >= 3 && lc.starts_with(lower)) d = budget;  // "sigma" -> sigma_min
    if (d > budget) continue;
    const std::pair<std::size_t, std::size_t> score{d, edit_distance(name, c)};
    if (!best || score < best_score) {
      best = c;
      best_score = score;
    }
  }
  return best;
}

const QuantityRegistry& default_quantities() {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  static const QuantityRegistry registry{
#define ATTNCERT_QUANTITY(name, kind, minimum, open, tiers, description) \
  {#name, QuantityKind::kind, description, minimum, open, QuantityTiers::tiers},
#include "theory/quantity_list.def"
#undef ATTNCERT_QUANTITY
  };
  return registry;
}

}  // namespace attncert
