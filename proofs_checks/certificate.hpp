// Certification of one instance: enclosures of every side of a claim in Ball arithmetic with
// precision escalation (64 → 128 → 256 → … ≤ cap). Proved / Refuted are certified; a tie at
// the boundary, or enclosures that never separate, end as Inconclusive.
#pragma once

#include <string>
#include <vector>

#include "theory/claim.hpp"

namespace attncert {

/// Consistent: every inequality side proved and every identity (Relation::Equal) side has
/// overlapping enclosures at the cap — all that interval arithmetic can say for an identity.
enum class InstanceStatus { Proved, Consistent, Refuted, Inconclusive, Inadmissible };
std::string_view to_string(InstanceStatus s);

struct SideEnclosure {
  std::string name;
  Ball lhs, rhs;
  Relation rel = Relation::LessEqual;
  Tri holds = Tri::Unknown;
};

struct InstanceCertificate {
  InstanceStatus status = InstanceStatus::Inconclusive;
  long precision = 0;                // bits of the deciding (or last) attempt
  std::vector<SideEnclosure> sides;  // at that precision
  std::string violated;              // name of a certainly violated side (Refuted)
  std::string detail;                // why inadmissible / what kept it undecided

  /// lhs/rhs for "<=" / "<" sides (rhs/lhs for ">=" / ">"), maximised over sides whose two
  /// enclosures are certainly positive; NaN when no side qualifies. Midpoint ratio: a
  /// measure of tightness, not a bound.
  double tightness() const;
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
