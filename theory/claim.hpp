// Claim: a statement from the theory of attention, as data plus evaluators.
//
// A claim is identified (id, source, provenance, LaTeX statement), has a domain (SearchSpace
// plus hypotheses checked on each instance) and, on an instance, evaluates one or more
// inequalities `lhs REL rhs` that must all hold. Evaluators exist in every tier: double (the
// search), Mp (reference) and Ball (the only tier a verdict may come from).
//
// Most claims derive from InequalityClaim<Derived> (below), writing one template
// `sides<T>(instance, context)` that serves all tiers.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "numerics/ball.hpp"
#include "numerics/mp.hpp"
#include "numerics/scalar_traits.hpp"
#include "theory/instance.hpp"
#include "theory/proof_plan.hpp"
#include "theory/search_space.hpp"

namespace attncert {

/// Printed: the paper's printed statement (ClaimInfo::adapted says what, if anything, we changed).
/// Reconstructed: our derivation of a statement whose printed formula we do not have.
/// Reading: one alternative reading of an ambiguous or fragmentary statement, checked beside the
/// catalog's own; refuting it rejects the reading, not the paper.
enum class Provenance { Printed, Reconstructed, Classical, Reading, Conjecture, Experiment };
std::string_view to_string(Provenance p);

/// Equal is for identities (an exact formula for the same quantity): interval arithmetic can
/// refute an identity (disjoint enclosures) but never prove one unless both sides are exact,
/// so overlapping enclosures make an instance "consistent", reported apart from "proved".
enum class Relation { LessEqual, Less, GreaterEqual, Greater, Equal };
std::string_view to_string(Relation r);

/// How the claim is checked. All kinds go through the same engine; the kind says how to read
/// the verdict:
///  - Inequality: every side is a certified enclosure of an exact quantity.
///  - Statistical: a side compares a confidence interval (as a ball: Clopper–Pearson for a
///    probability estimated by Monte Carlo whose events are decided with certified arithmetic,
///    or Student t for a mean — ClaimInfo::interval_method says which and whether its coverage
///    is exact or asymptotic) with a value; a refutation rejects the claim at the stated
///    confidence, and surviving means "not rejected", not "holds".
///  - Trend: the sides compare certified values along a parameter grid (monotonicity, limits)
///    for a qualitative statement.
///  - Derived: a step that follows from an elementary inequality (triangle, Jensen, Markov;
///    ClaimInfo::derivation names it). It cannot fail for a correct implementation of its
///    quantities, so surviving tests our code, not the paper; tables show it apart.
enum class ClaimKind { Inequality, Statistical, Trend, Derived };
std::string_view to_string(ClaimKind k);

struct ClaimInfo {
  std::string id;              // "A.cor1"
  std::string source;          // "Mudarisov et al., arXiv 2508.17821, Corollary 1"
  Provenance provenance = Provenance::Printed;
  ClaimKind kind = ClaimKind::Inequality;
  std::string statement_latex;  // the statement as LaTeX (for reports)
  std::string statement_text;   // the statement in plain text (for the terminal)
  std::string hypotheses;       // plain text: what the domain assumes
  std::string note;             // e.g. what part is reconstructed and why
  double confidence = 0;        // Statistical: confidence level 1 − γ of each interval
  std::string interval_method;  // Statistical: how the intervals are built and whether their
                                // coverage is exact or asymptotic ("Clopper–Pearson (exact)")
  std::string adapted;          // Printed: what we changed from the print (empty: verbatim)
  std::string derivation;       // Derived: the elementary inequality the statement follows from
};

/// One side `lhs rel rhs` of a claim on an instance. Tightness (how close the side comes to
/// failing) is measured per family: lhs/rhs for "<=" and "<", rhs/lhs for ">=" and ">", or, with
/// a gap origin o, the same ratio on the distances from o (see SideEnclosure::tightness).
/// Relation::Equal sides (identities) have no tightness.
template <class T>
struct Inequality {
  std::string name;  // "lower", "upper", "remainder k3", … (which side)
  T lhs;
  Relation rel;
  T rhs;
  /// Sides that report one tightness together ("remainder" for "remainder k0", "remainder k1",
  /// …). Empty: the name.
  std::string family{};
  /// Where the slack is measured from when lhs and rhs both approach a limit: for
  /// p ≥ 1 − ε the origin 1 gives tightness (1 − p)/ε instead of (1 − ε)/p ≈ 1, for p ≤ b near 1
  /// it gives (1 − b)/(1 − p). Used only when lhs − o and rhs − o certainly have the same sign.
  std::optional<T> gap_origin{};
  /// A bound on lhs in the side's direction that holds whatever the claim says (a probability
  /// is ≤ 1; the probability of an impossible event is ≤ 0): the side is vacuous on an instance
  /// whose rhs is certainly at or beyond it (rhs ≥ a_priori for "<=", rhs ≤ a_priori for ">=").
  std::optional<T> a_priori{};
};

/// Converts instance data into tier T at the working precision.
template <class T>
struct TierContext {
  long precision = 53;  // bits; ignored by double
  T from(double x) const { return ScalarTraits<T>::from_double(x, precision); }
};

/// An instance array in tier T, entry by entry through ctx.from (exact for Mp and Ball).
template <class T>
RowMatrix<T> to_tier(const RowMatrix<double>& a, const TierContext<T>& ctx) {
  RowMatrix<T> out(a.rows(), a.cols());
  for (Eigen::Index i = 0; i < a.size(); ++i) out.data()[i] = ctx.from(a.data()[i]);
  return out;
}

/// Every member is const and must be safe to call from several threads at once on the same
/// claim: the engine's phases (proofs_checks/claim_search.hpp) run one claim's sampling chunks,
/// starts and certifications concurrently. A claim keeps no mutable state.
class Claim {
 public:
  virtual ~Claim() = default;
  virtual const ClaimInfo& info() const = 0;
  virtual const SearchSpace& space() const = 0;

  /// Repairs a sampled or perturbed instance so that it lies in the domain exactly (e.g.
  /// clamps entries to [−R, R] after a perturbation, fixes derived shapes). Default: none.
  virtual void project(Instance&) const {}
  /// Certified check of the hypotheses that the SearchSpace cannot express (True when they
  /// hold for this instance). An instance that is not certainly admissible is never a
  /// counterexample. Default: True.
  virtual Tri admissible(const Instance&, long /*precision*/) const { return Tri::True; }
  /// Throws std::invalid_argument naming the first field of an instance from outside (a file)
  /// that is not in the claim's domain: outside space() (see SearchSpace::check_contains; an
  /// entry project() sets itself is not held to its law), moved by project() (which repairs
  /// only instances outside the domain), or certainly violating admissible() at `precision`.
  /// Such an instance refutes nothing.
  void check_in_domain(const Instance& x, long precision) const;
  /// check_in_domain as a predicate: false where it would throw.
  bool is_in_domain(const Instance& x, long precision) const;

  /// Why the claim's bound is met on this instance for a trivial reason (a = 0 makes every
  /// weight 1/L; L = 1; q = 0), or "" for an informative instance. A documented predicate on
  /// the instance's exact data: degenerate instances are certified like any other (they can
  /// refute) but their tightness is reported apart. Default: none is degenerate.
  virtual std::string degenerate_reason(const Instance&) const { return {}; }

  /// How `verify --prove` proves the claim on bounded parts of its domain (fixed small L, a
  /// reduction to few variables). Default: none — the claim stays "survived" under --prove.
  virtual std::vector<ProofPlan> proof_plans() const { return {}; }

  virtual std::vector<Inequality<double>> evaluate_double(const Instance&) const = 0;
  /// Reference evaluation; runs inside an MpPrecision scope the caller opens.
  virtual std::vector<Inequality<Mp>> evaluate_mp(const Instance&, long bits) const = 0;
  /// Certified evaluation at `precision` bits.
  virtual std::vector<Inequality<Ball>> evaluate_ball(const Instance&, long precision) const = 0;
};

/// CRTP helper: Derived provides
///   template <class T> std::vector<Inequality<T>> sides(const Instance&, const TierContext<T>&) const;
template <class Derived>
class InequalityClaim : public Claim {
 public:
  InequalityClaim(ClaimInfo info, SearchSpace space)
      : info_(std::move(info)), space_(std::move(space)) {
    space_.validate();
  }
  const ClaimInfo& info() const override { return info_; }
  const SearchSpace& space() const override { return space_; }
  std::vector<Inequality<double>> evaluate_double(const Instance& x) const override {
    return self().template sides<double>(x, TierContext<double>{53});
  }
  std::vector<Inequality<Mp>> evaluate_mp(const Instance& x, long bits) const override {
    MpPrecision scope(bits);
    return self().template sides<Mp>(x, TierContext<Mp>{bits});
  }
  std::vector<Inequality<Ball>> evaluate_ball(const Instance& x, long prec) const override {
    return self().template sides<Ball>(x, TierContext<Ball>{prec});
  }

 private:
  const Derived& self() const { return static_cast<const Derived&>(*this); }
  ClaimInfo info_;
  SearchSpace space_;
};

}  // namespace attncert
