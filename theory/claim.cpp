#include "theory/claim.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace attncert {
namespace {

// What the domain assumes, for errors: the claim's hypotheses, or a conjecture's domain.
std::string domain_text(const Claim& claim) {
  return claim.info().hypotheses.empty() ? claim.space().describe() : claim.info().hypotheses;
}

}  // namespace

std::string_view to_string(Provenance p) {
  switch (p) {
    case Provenance::Printed: return "printed";
    case Provenance::Reconstructed: return "reconstructed";
    case Provenance::Classical: return "classical";
    case Provenance::Reading: return "reading";
    case Provenance::Conjecture: return "conjecture";
    case Provenance::Experiment: return "experiment";
  }
  return "?";
}

std::string_view to_string(Relation r) {
  switch (r) {
    case Relation::LessEqual: return "<=";
    case Relation::Less: return "<";
    case Relation::GreaterEqual: return ">=";
    case Relation::Greater: return ">";
    case Relation::Equal: return "==";
  }
  return "?";
}

std::string_view to_string(ClaimKind k) {
  switch (k) {
    case ClaimKind::Inequality: return "inequality";
    case ClaimKind::Statistical: return "statistical";
    case ClaimKind::Trend: return "trend";
    case ClaimKind::Derived: return "derived";
  }
  return "?";
}

void Claim::check_in_domain(const Instance& x, long precision) const {
  // An entry outside its law is the claim's own when project() puts it back after it has been
  // moved into the law's support (e.g. s_1 := B).
  const auto set_by_claim = [&](const ArraySpec& a, Eigen::Index r, Eigen::Index c) {
    Instance y = x;
    double& v = y.arrays.at(a.name)(r, c);
    v = a.law == Law::Rademacher ? 1.0 : std::clamp(v, a.a, a.b);
    project(y);
    return y.array(a.name)(r, c) == x.array(a.name)(r, c);
  };
  space().check_contains(x, set_by_claim);
  Instance repaired = x;
  project(repaired);
  const auto outside = [&](const std::string& field) {
    throw std::invalid_argument(fmt::format("instance: {} is outside the domain of {} ({})", field,
                                            info().id, domain_text(*this)));
  };
  for (const auto& [name, v] : x.scalars) {
    if (repaired.scalar(name) != v) outside(fmt::format("{} = {}", name, v));
  }
  for (const auto& [name, a] : x.arrays) {
    const RowMatrix<double>& b = repaired.array(name);
    for (Eigen::Index i = 0; i < a.size(); ++i) {
      if (b.data()[i] != a.data()[i]) {
        outside(fmt::format("{}[{}, {}] = {}", name, i / a.cols(), i % a.cols(), a.data()[i]));
      }
    }
  }
  if (admissible(x, precision) == Tri::False) {
    throw std::invalid_argument(
        fmt::format("instance: violates the hypotheses of {} ({})", info().id, domain_text(*this)));
  }
}

bool Claim::is_in_domain(const Instance& x, long precision) const {
  try {
    check_in_domain(x, precision);
    return true;
  } catch (const std::invalid_argument&) {
    return false;
  }
}

}  // namespace attncert
