#include "proofs_checks/certificate.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "numerics/arb_handles.hpp"
#include "numerics/precision.hpp"

namespace attncert {
namespace {
constexpr long kIdentityPrecision = 256;

// "" when an overlapping identity side is narrow enough to call consistent (see
// kConsistentRelativeWidth), else what is too wide. Measured in Arb's magnitudes: radii and
// midpoints of identities between tiny quantities (1e-2604) are below the doubles' range.
std::string identity_width_excess(const SideEnclosure& e) {
  arb_handles::MagHandle width, scale, limit, mid_mag;
  mag_add(width, arb_radref(e.lhs.arb()), arb_radref(e.rhs.arb()));  // rounded up
  arf_get_mag_lower(scale, arb_midref(e.lhs.arb()));
  arf_get_mag_lower(mid_mag, arb_midref(e.rhs.arb()));
  mag_max(scale, scale, mid_mag);
  mag_set_d_lower(limit, kConsistentRelativeWidth);
  mag_mul_lower(limit, limit, scale);
  if (mag_cmp(width, limit) <= 0) return {};
  const bool both_near_zero = e.lhs.contains(0.0) && e.rhs.contains(0.0);
  mag_set_d_lower(limit, kConsistentAbsoluteWidth);
  if (both_near_zero && mag_cmp(width, limit) <= 0) return {};
  arb_handles::MagHandle relative;
  mag_div(relative, width, scale);  // inf when the scale is 0
  return fmt::format(
      "identity side '{}' overlaps but its enclosures are too wide to call consistent: radii sum to "
      "{:.3g} of the larger midpoint (at most {:.0e}){}",
      e.name, mag_get_d(relative), kConsistentRelativeWidth,
      both_near_zero ? fmt::format("; both contain 0, radii sum to {:.3g} (at most {:.0e})",
                                   mag_get_d(width), kConsistentAbsoluteWidth)
                     : "");
}
}  // namespace

std::string_view to_string(InstanceStatus s) {
  switch (s) {
    case InstanceStatus::Proved: return "proved";
    case InstanceStatus::Consistent: return "consistent";
    case InstanceStatus::Refuted: return "refuted";
    case InstanceStatus::Inconclusive: return "inconclusive";
    case InstanceStatus::Inadmissible: return "inadmissible";
  }
  return "?";
}

Tri compare(const Ball& lhs, Relation rel, const Ball& rhs) {
  if (!lhs.is_finite() || !rhs.is_finite()) {
    // Arb marks an indeterminate result with a non-finite ball; only exact infinities compare.
    if (!(lhs.is_exact() && rhs.is_exact())) return Tri::Unknown;
  }
  switch (rel) {
    case Relation::LessEqual: return lhs <= rhs;
    case Relation::Less: return lhs < rhs;
    case Relation::GreaterEqual: return lhs >= rhs;
    case Relation::Greater: return lhs > rhs;
    case Relation::Equal: return lhs == rhs;
  }
  return Tri::Unknown;
}

namespace {
bool is_upper(Relation rel) { return rel == Relation::LessEqual || rel == Relation::Less; }
}  // namespace

double SideEnclosure::tightness() const {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  if (rel == Relation::Equal) return kNaN;  // an identity is attained by construction
  if (gap_origin) {
    const Ball lhs_gap = lhs - *gap_origin;
    const Ball rhs_gap = rhs - *gap_origin;
    const bool positive = certainly(lhs_gap > Ball(0)) && certainly(rhs_gap > Ball(0));
    const bool negative = certainly(lhs_gap < Ball(0)) && certainly(rhs_gap < Ball(0));
    if (!positive && !negative) return kNaN;
    // The side restated on the gaps: lhs ≤ rhs is |lhs − o| ≤ |rhs − o| with o below both and
    // |rhs − o| ≤ |lhs − o| with o above (and the other way round for ≥), so the ratio is ≤ 1
    // exactly when the side holds, whichever end o is.
    const double lhs_distance = std::abs(lhs_gap.mid());
    const double rhs_distance = std::abs(rhs_gap.mid());
    return is_upper(rel) == positive ? lhs_distance / rhs_distance : rhs_distance / lhs_distance;
  }
  if (!certainly(lhs > Ball(0)) || !certainly(rhs > Ball(0))) return kNaN;
  return is_upper(rel) ? lhs.mid() / rhs.mid() : rhs.mid() / lhs.mid();
}

bool SideEnclosure::vacuous() const {
  if (!a_priori || rel == Relation::Equal) return false;
  return certainly(is_upper(rel) ? rhs >= *a_priori : rhs <= *a_priori);
}

double InstanceCertificate::tightness() const {
  double best = std::numeric_limits<double>::quiet_NaN();
  for (const auto& s : sides) {
    const double r = s.tightness();
    if (!std::isnan(r) && (std::isnan(best) || r > best)) best = r;
  }
  return best;
}

double InstanceCertificate::family_tightness(std::string_view family) const {
  double best = std::numeric_limits<double>::quiet_NaN();
  for (const auto& s : sides) {
    if (s.family != family || s.vacuous()) continue;
    const double r = s.tightness();
    if (!std::isnan(r) && (std::isnan(best) || r > best)) best = r;
  }
  return best;
}

bool InstanceCertificate::vacuous() const {
  bool any = false;
  for (const auto& s : sides) {
    if (s.rel == Relation::Equal) continue;
    if (!s.vacuous()) return false;
    any = true;
  }
  return any;
}

InstanceCertificate certify_instance(const Claim& claim, const Instance& x,
                                     const CertifyOptions& options) {
  require_precision(options.start_precision, "certify: start precision");
  require_precision(options.max_precision, "certify: maximum precision");
  InstanceCertificate cert;
  // A statistical claim's identity side has a confidence interval as lhs: its width is
  // statistical, not rounding, and overlap is the test itself ("not rejected").
  const bool statistical = claim.info().kind == ClaimKind::Statistical;
  for (long prec = options.start_precision;; prec = std::min(2 * prec, options.max_precision)) {
    cert.precision = prec;
    cert.sides.clear();
    cert.violated.clear();
    cert.detail.clear();  // what kept the previous precision undecided no longer applies
    try {
      const Tri ok = claim.admissible(x, prec);
      if (ok == Tri::False) {
        cert.status = InstanceStatus::Inadmissible;
        cert.detail = "the instance violates the claim's hypotheses";
        return cert;
      }
      if (ok == Tri::True) {
        bool all_hold = true;
        bool identities_overlap = true;  // every undecided side is an identity that overlaps
        std::string too_wide;            // the first overlapping identity side that is too wide
        for (auto& side : claim.evaluate_ball(x, prec)) {
          SideEnclosure e{side.name, side.family.empty() ? side.name : side.family,
                          std::move(side.lhs), std::move(side.rhs), side.rel, Tri::Unknown,
                          std::move(side.gap_origin), std::move(side.a_priori)};
          e.holds = compare(e.lhs, e.rel, e.rhs);
          if (e.holds == Tri::False && cert.violated.empty()) cert.violated = e.name;
          all_hold = all_hold && e.holds == Tri::True;
          if (e.holds == Tri::Unknown) {
            if (!(e.rel == Relation::Equal && e.lhs.overlaps(e.rhs))) {
              identities_overlap = false;
            } else if (too_wide.empty() && !statistical) {
              too_wide = identity_width_excess(e);
            }
          }
          cert.sides.push_back(std::move(e));
        }
        if (!cert.violated.empty()) {
          cert.status = InstanceStatus::Refuted;
          return cert;
        }
        if (all_hold) {
          cert.status = InstanceStatus::Proved;
          return cert;
        }
        // An identity never gets sharper than "overlapping". Overlap at >= 256 bits (or the cap)
        // means the two sides agree to ~75 significant digits; going on to the cap would only
        // cost time on every instance of every identity claim.
        // Overlap alone is not agreement: the enclosures must also be narrow (else escalate,
        // and at the cap the instance stays inconclusive, naming the width).
        if (identities_overlap && too_wide.empty() &&
            prec >= std::min(options.max_precision, kIdentityPrecision)) {
          cert.status = InstanceStatus::Consistent;
          cert.detail = statistical ? "the confidence interval contains the claimed value"
                                    : "identity sides agree to within their enclosures";
          return cert;
        }
        cert.detail = identities_overlap && !too_wide.empty() ? too_wide
                                                              : "enclosures overlap at this precision";
      } else {
        cert.detail = "hypotheses not decided at this precision";
      }
    } catch (const std::domain_error& e) {
      // A tier operation's documented numerical failure (a non-finite intermediate, a spectrum
      // that could not be certified, …): undecided at this precision, maybe not at the next.
      // Everything else — std::logic_error (a bug, or bad input such as an expression undefined
      // at this instance) and other failures — propagates to the caller.
      cert.detail = e.what();
    } catch (const std::runtime_error& e) {  // e.g. a degenerate random feature block
      cert.detail = e.what();
    }
    if (prec >= options.max_precision) break;
  }
  cert.status = InstanceStatus::Inconclusive;
  return cert;
}

}  // namespace attncert
