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
#include "theory/search_space.hpp"

namespace attncert {

enum class Provenance { Printed, Reconstructed, Classical, Conjecture, Experiment };
std::string_view to_string(Provenance p);

/// Equal is for identities (an exact formula for the same quantity): interval arithmetic can
/// refute an identity (disjoint enclosures) but never prove one unless both sides are exact,
/// so overlapping enclosures make an instance "consistent", reported apart from "proved".
enum class Relation { LessEqual, Less, GreaterEqual, Greater, Equal };
std::string_view to_string(Relation r);

/// How the claim is checked. All kinds go through the same engine; the kind says how to read
/// the verdict:
///  - Inequality: every side is a certified enclosure of an exact quantity.
///  - Statistical: a side's lhs is a Clopper–Pearson confidence interval (as a ball) for a
///    probability estimated by Monte Carlo whose individual events are decided with certified
///    arithmetic; "refuted"/"survived" then hold at the stated confidence, not with certainty.
///  - Trend: the sides compare certified values along a parameter grid (monotonicity, limits)
///    for a qualitative statement.
enum class ClaimKind { Inequality, Statistical, Trend };
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
};

template <class T>
struct Inequality {
  std::string name;  // "lower", "upper", … (which side of a two-sided claim)
  T lhs;
  Relation rel;
  T rhs;
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
