// Certification of one instance: enclosures of every side of a claim in Ball arithmetic with
// precision escalation (64 → 128 → 256 → … ≤ cap). Proved / Refuted are certified; a tie at
// the boundary, or enclosures that never separate, end as Inconclusive.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "theory/claim.hpp"

namespace attncert {

/// Consistent: every inequality side proved and every identity (Relation::Equal) side has
/// overlapping enclosures that are narrow (below) — all that interval arithmetic can say for an
/// identity. Overlapping enclosures that stay wide up to the precision cap leave the instance
/// Inconclusive, its detail naming the width.
enum class InstanceStatus { Proved, Consistent, Refuted, Inconclusive, Inadmissible };
std::string_view to_string(InstanceStatus s);

/// An identity side is narrow when rad(lhs) + rad(rhs) <= kConsistentRelativeWidth ·
/// max(|mid lhs|, |mid rhs|): the two sides agree to about 15 significant digits. When both
/// enclosures contain 0 (an identity whose value is zero or nearly so has no scale to be
/// relative to) it is narrow when rad(lhs) + rad(rhs) <= kConsistentAbsoluteWidth. Statistical
/// claims are exempt: their identity side's lhs is a confidence interval, wide by design, and
/// overlap with the claimed value is their test ("not rejected").
inline constexpr double kConsistentRelativeWidth = 1e-15;
inline constexpr double kConsistentAbsoluteWidth = 1e-30;

struct SideEnclosure {
  std::string name;
  std::string family;  // Inequality::family, or the name when the claim gave none
  Ball lhs, rhs;
  Relation rel = Relation::LessEqual;
  Tri holds = Tri::Unknown;
  std::optional<Ball> gap_origin;  // see Inequality
  std::optional<Ball> a_priori;    // see Inequality

  /// How close the side comes to failing, from the midpoints (a measure, not a bound): lhs/rhs
  /// for "<=" / "<", rhs/lhs for ">=" / ">", both enclosures certainly positive; with a gap
  /// origin o, when lhs − o and rhs − o are certainly of one sign, the ratio of the distances
  /// |lhs − o| and |rhs − o| that is ≤ 1 exactly when the side holds (|lhs − o|/|rhs − o| for
  /// an upper bound with o below or a lower bound with o above, the inverse otherwise). NaN for
  /// identities (Relation::Equal) and where the ratio is undefined.
  double tightness() const;
  /// The bound is certainly at or beyond the a-priori bound on lhs: the side constrains nothing.
  bool vacuous() const;
};

struct InstanceCertificate {
  InstanceStatus status = InstanceStatus::Inconclusive;
  long precision = 0;                // bits of the deciding (or last) attempt
  std::vector<SideEnclosure> sides;  // at that precision
  std::string violated;              // name of a certainly violated side (Refuted)
  std::string detail;                // why inadmissible / what kept it undecided

  /// SideEnclosure::tightness maximised over the sides; NaN when no side has one.
  double tightness() const;
  /// One family's tightness on this instance: the largest SideEnclosure::tightness of its sides
  /// that are not vacuous; NaN when none has one. What the engine records per family and what
  /// replay re-measures.
  double family_tightness(std::string_view family) const;
  /// Every side that is not an identity is vacuous (and there is at least one): the instance
  /// tests nothing.
  bool vacuous() const;
};

struct CertifyOptions {
  long start_precision = 64;
  long max_precision = 4096;
};

/// Never throws for numerical trouble: evaluation errors at one precision count as undecided
/// and are retried at the next (their message lands in `detail`).
InstanceCertificate certify_instance(const Claim& claim, const Instance& x,
                                     const CertifyOptions& options = {});

/// Tri of `lhs rel rhs` for enclosures.
Tri compare(const Ball& lhs, Relation rel, const Ball& rhs);

}  // namespace attncert
