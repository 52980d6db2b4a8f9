// C.performer-unbiased / C.performer-mse (Choromanski et al. 2021, FAVOR+): the positive random
// features φ⁺ give an unbiased estimate of the softmax kernel e^{xᵀy}, with a closed-form MSE.
//
// How a statement about an expectation over ω is checked. The expectation has no finite
// certificate, so each instance runs a Monte Carlo experiment whose randomness is fixed by the
// instance (scalar mc_seed): n = 2000 independent replicates of the estimator, replicate r with
// its own directions ω from FeatureMap::performer(d, m, seed_r), seed_r = substream r of
// Rng(mc_seed). Every replicate value is enclosed in Ball for exactly those ω (the ω doubles are
// exact inputs), and so are the sample mean and variance. The confidence interval
//     mean ± t_{n−1, 1−γ/2} · s/√n
// is the two-sided Student-t interval, with the t quantile certified (student_t_quantile.hpp),
// so the Ball enclosures contain the exact interval of the replicates. Its coverage is only
// ASYMPTOTIC (CLT), since the estimator is unbounded (a lognormal mixture), so no
// distribution-free interval with finite width exists (Bahadur–Savage) and bounded-variable
// inequalities (Hoeffding, Bernstein) do not apply. The claimed value is checked with two
// inequality sides, lower end ≤ value ≤ upper end: an instance whose interval certainly contains
// the value is "not rejected at confidence 1 − γ", and one whose interval certainly excludes it
// rejects the claim at that (asymptotic) confidence. A confidence interval containing a value is
// not an identity — the sides are not Relation::Equal.
//
// The CLT is only credible when the replicates are not too skewed. The skewness of one feature
// term e^{ωᵀ(x+y)} is that of a lognormal with σ² = ‖x+y‖², (e^{σ²} + 2)√(e^{σ²} − 1); the domain
// bounds ‖x‖, ‖y‖ by R (R = 1/2 for the mean: σ² ≤ 1, skewness of the mean of n·m ≥ 2000 terms
// ≤ 6.2/√2000 ≈ 0.14; R = 1/4 for the MSE, whose replicates are squared errors with roughly the
// tails of a lognormal with 4σ² ≤ 1). This is a condition of the test, not of the theorem; it
// is fixed from this skewness argument, not from verdicts.
#include <cmath>
#include <cstdint>

#include "numerics/feature_maps.hpp"
#include "numerics/rng.hpp"
#include "numerics/student_t_quantile.hpp"
#include "theory/approximation_bounds.hpp"
#include "theory/catalog.hpp"

namespace attncert {
namespace {

constexpr long kReplicates = 2000;
// Per-instance confidence 1 − γ. A refutation needs the interval at the searched instance and at
// each of the engine's fresh confirmation seeds (verifier.cpp: kStatisticalConfirmations = 2,
// drawn from the verification seed, not by the search) to exclude the value; for a true claim
// each fresh interval does so with probability ≤ γ (nominally: the coverage is asymptotic), so a
// false refutation has probability ≤ γ² = 1e-8 per certified instance and ≤ 200·γ² = 2e-6 over
// the at most 200 instances the engine certifies per claim (union bound).
constexpr double kGamma = 1e-4;

template <class T>
T dot_rows(const RowMatrix<T>& a, const RowMatrix<T>& b, const T& zero) {
  T s = zero;
  for (Eigen::Index c = 0; c < a.cols(); ++c) s += a(0, c) * b(0, c);
  return s;
}

// t_{n−1} quantile at 1 − γ/2: the certified enclosure in Ball, its midpoint in double and Mp.
template <class T>
T t_quantile(const TierContext<T>& ctx) {
  static const QuantileEnclosure q =
      student_t_quantile(static_cast<double>(kReplicates - 1), kGamma / 2);
  if constexpr (std::is_same_v<T, Ball>) {
    return Ball::interval(q.lower, q.upper, ctx.precision);
  } else {
    return ctx.from(0.5 * (q.lower + q.upper));
  }
}

// The replicates' sample mean and the half-width t_{n−1, 1−γ/2}·s/√n of their t-interval.
template <class T>
struct TInterval {
  T mean, half_width;
};

template <class T>
TInterval<T> t_interval(const std::vector<T>& v, const TierContext<T>& ctx) {
  using std::sqrt;
  const T n = ctx.from(static_cast<double>(v.size()));
  T mean = ctx.from(0.0);
  for (const T& a : v) mean += a;
  mean = mean / n;
  T ss = ctx.from(0.0);
  for (const T& a : v) ss += (a - mean) * (a - mean);
  const T var = ss / (n - ctx.from(1.0));
  return {mean, T(t_quantile(ctx) * T(sqrt(T(var / n))))};
}

// Replicate r of the estimator φ⁺(x)ᵀφ⁺(y) with m features.
template <class T>
std::vector<T> replicates(const Instance& inst, const TierContext<T>& ctx, bool orthogonal) {
  const RowMatrix<T> x = to_tier(inst.array("x"), ctx);
  const RowMatrix<T> y = to_tier(inst.array("y"), ctx);
  const auto d = static_cast<Eigen::Index>(x.cols());
  const auto m = static_cast<Eigen::Index>(std::llround(inst.scalar("m")));
  const Rng base(static_cast<std::uint64_t>(std::llround(inst.scalar("mc_seed"))));
  const T zero = ctx.from(0.0);
  std::vector<T> v;
  v.reserve(kReplicates);
  for (long r = 0; r < kReplicates; ++r) {
    const FeatureMap phi =
        FeatureMap::performer(d, m, base.substream(static_cast<std::uint64_t>(r)).seed(), orthogonal);
    v.push_back(dot_rows(phi.query_features<T>(x), phi.key_features<T>(y), zero));
  }
  return v;
}

// The interval against the claimed value, in every tier: value ≥ lower end and value ≤ upper
// end, one family whose gap is measured from the mean, so that its tightness is
// |value − mean|/half-width = |t statistic|/t quantile (1: the value at an end of the interval).
template <class T>
std::vector<Inequality<T>> interval_sides(const TInterval<T>& ci, const T& value,
                                          const std::string& what) {
  const std::string family = "confidence interval";
  return {{what + " >= interval lower end", value, Relation::GreaterEqual,
           T(ci.mean - ci.half_width), family, ci.mean},
          {what + " <= interval upper end", value, Relation::LessEqual, T(ci.mean + ci.half_width),
           family, ci.mean}};
}

// x + y ≠ 0, a hypothesis of the t-interval: at x + y = 0 each feature term is
// e^{ωᵀ(x+y)}·e^{−‖x‖²} = e^{xᵀy}, every replicate equals the claimed value (the MSE is 0), the
// sample variance is 0 and the t statistic 0/0 is undefined. (The search meets this case: its
// rounded edge cases give x = y = 0, and a zero-width interval looks like the most violating
// candidate in double.) Otherwise e^{ωᵀ(x+y)} is non-constant and the variance is positive.
Tri estimator_varies(const Instance& inst) {
  const RowMatrix<double>& x = inst.array("x");
  const RowMatrix<double>& y = inst.array("y");
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    if (x.data()[i] != -y.data()[i]) return Tri::True;
  }
  return Tri::False;
}

// ‖x‖ ≤ R and ‖y‖ ≤ R: rows longer than R are scaled onto (just inside) the sphere.
void project_rows(Instance& inst, double radius) {
  for (const char* name : {"x", "y"}) {
    RowMatrix<double>& a = inst.arrays[name];
    const double norm = a.norm();
    if (norm > radius) a *= radius * (1 - 1e-12) / norm;
  }
}

Tri rows_within(const Instance& inst, double radius, long precision) {
  const TierContext<Ball> ctx{precision};
  const Ball r2 = ctx.from(radius) * ctx.from(radius);
  Tri ok = Tri::True;
  for (const char* name : {"x", "y"}) {
    const RowMatrix<Ball> a = to_tier(inst.array(name), ctx);
    ok = ok && (dot_rows(a, a, ctx.from(0.0)) <= r2);
  }
  return ok;
}

// E[φ⁺(x)ᵀφ⁺(y)] = e^{xᵀy}: the t-interval of the replicate mean must contain e^{xᵀy}.
class PerformerUnbiased : public InequalityClaim<PerformerUnbiased> {
 public:
  static constexpr double kRadius = 0.5;
  using InequalityClaim::InequalityClaim;
  void project(Instance& x) const override { project_rows(x, kRadius); }
  Tri admissible(const Instance& x, long precision) const override {
    return rows_within(x, kRadius, precision) && estimator_varies(x);
  }
  template <class T>
  std::vector<Inequality<T>> sides(const Instance& inst, const TierContext<T>& ctx) const {
    using std::exp;
    const bool orthogonal = std::llround(inst.scalar("orthogonal")) != 0;
    const T kernel = exp(dot_rows(to_tier(inst.array("x"), ctx), to_tier(inst.array("y"), ctx), ctx.from(0.0)));
    return interval_sides(t_interval(replicates(inst, ctx, orthogonal), ctx), kernel, "e^{x.y}");
  }
};

// E[(φ⁺(x)ᵀφ⁺(y) − e^{xᵀy})²] = (1/m)·e^{‖x+y‖²}·e^{2xᵀy}·(1 − e^{−‖x+y‖²}) (i.i.d. ω): the
// t-interval of the mean squared error must contain the formula.
class PerformerMse : public InequalityClaim<PerformerMse> {
 public:
  static constexpr double kRadius = 0.25;
  using InequalityClaim::InequalityClaim;
  void project(Instance& x) const override { project_rows(x, kRadius); }
  Tri admissible(const Instance& x, long precision) const override {
    return rows_within(x, kRadius, precision) && estimator_varies(x);
  }
  template <class T>
  std::vector<Inequality<T>> sides(const Instance& inst, const TierContext<T>& ctx) const {
    using std::exp;
    const RowMatrix<T> x = to_tier(inst.array("x"), ctx);
    const RowMatrix<T> y = to_tier(inst.array("y"), ctx);
    const T zero = ctx.from(0.0);
    const T xy = dot_rows(x, y, zero);
    const T kernel = exp(xy);
    std::vector<T> sq = replicates(inst, ctx, /*orthogonal=*/false);
    for (T& v : sq) v = (v - kernel) * (v - kernel);
    RowMatrix<T> s = x;
    for (Eigen::Index c = 0; c < s.cols(); ++c) s(0, c) = x(0, c) + y(0, c);
    const T s2 = dot_rows(s, s, zero);
    const T m = ctx.from(inst.scalar("m"));
    const T mse = performer_mse(xy, s2, m, ctx);
    return interval_sides(t_interval(sq, ctx), mse, "the MSE formula");
  }
};

const char* kSource =
    "Choromanski et al., \"Rethinking Attention with Performers\", ICLR 2021 (arXiv 2009.14794), "
    "Lemma 1 (positive random features) and Lemma 2 (their MSE)";

SearchSpace performer_space(bool with_orthogonal) {
  SearchSpace space{{{"d", 1, 8, true, false, "input dimension"},
                     {"m", 1, 16, true, false, "number of random features"},
                     {"mc_seed", 0, 1e9, true, false, "seed of the Monte Carlo replicates"}},
                    {{"x", "1", "d", Law::Normal, 0, 0.3, false, "query-side input"},
                     {"y", "1", "d", Law::Normal, 0, 0.3, false, "key-side input"}}};
  if (with_orthogonal) {
    space.scalars.push_back({"orthogonal", 0, 1, true, false, "1: orthogonal random features"});
  }
  return space;
}

const char* kMethod =
    "Monte Carlo over ω: n = 2000 replicates seeded from mc_seed, each replicate enclosed in Ball for "
    "its exact ω; the claimed value is compared with both ends of the two-sided Student-t interval of "
    "the replicates at confidence 1 − 1e-4 (certified t quantile). Coverage is ASYMPTOTIC (CLT), not a "
    "certified probability: the estimator is unbounded, so exact (Clopper–Pearson) or bounded-variable "
    "intervals do not apply. Surviving means 'not rejected at confidence 1 − 1e-4'; a refutation must "
    "be confirmed at fresh Monte Carlo seeds (false-refutation probability ≤ 1e-8 per certified "
    "instance, nominally). ";

const char* kIntervalMethod =
    "Student t, two-sided, asymptotic (normal approximation of the sample mean of 2000 replicates); "
    "t quantile certified";

}  // namespace

std::unique_ptr<Claim> make_c_performer_unbiased() {
  ClaimInfo info;
  info.id = "C.performer-unbiased";
  info.source = kSource;
  info.provenance = Provenance::Classical;
  info.kind = ClaimKind::Statistical;
  info.confidence = 1 - kGamma;
  info.interval_method = kIntervalMethod;
  info.statement_latex =
      R"(\mathbb{E}_{\omega}\big[\phi^+(x)^\top\phi^+(y)\big] = e^{x^\top y},\quad )"
      R"(\phi^+(u) = \tfrac{1}{\sqrt m}e^{-\|u\|^2/2}\big(e^{\omega_i^\top u}\big)_{i\le m},\ \omega_i\sim\mathcal N(0, I_d))";
  info.statement_text =
      "E_ω[φ⁺(x)ᵀφ⁺(y)] = e^{xᵀy}, φ⁺(u) = m^{−1/2}·e^{−‖u‖²/2}·(e^{ω_iᵀu})_{i≤m}, ω_i ~ N(0, I) (i.i.d., or "
      "orthogonal blocks with χ_d row norms: each row is still N(0, I))";
  info.hypotheses =
      "any x, y ∈ ℝ^d; checked on ‖x‖, ‖y‖ ≤ 1/2 (a condition of the asymptotic test: it keeps the "
      "replicates' skewness small, see note) and x + y ≠ 0 (at x + y = 0 the estimator is the constant "
      "e^{xᵀy}: zero variance, no t statistic)";
  info.note = std::string(kMethod) +
              "The identity holds for all x, y; outside ‖x+y‖² ≤ 1 the lognormal tails make the t-interval "
              "undercover and a 'refutation' would be an artefact of the test. Unbiased per kernel entry "
              "only: the row-normalised Performer weights φ⁺(q)ᵀφ⁺(k_j)/Σ_l φ⁺(q)ᵀφ⁺(k_l) are a ratio "
              "estimator and are biased (O(1/m)) for the softmax weights — not a catalog claim.";
  return std::make_unique<PerformerUnbiased>(std::move(info), performer_space(true));
}

std::unique_ptr<Claim> make_c_performer_mse() {
  ClaimInfo info;
  info.id = "C.performer-mse";
  info.source = kSource;
  info.provenance = Provenance::Classical;
  info.kind = ClaimKind::Statistical;
  info.confidence = 1 - kGamma;
  info.interval_method = kIntervalMethod;
  info.statement_latex =
      R"(\mathbb{E}_{\omega}\big[(\phi^+(x)^\top\phi^+(y) - e^{x^\top y})^2\big] = )"
      R"(\tfrac{1}{m}e^{\|x+y\|^2}e^{2x^\top y}\big(1 - e^{-\|x+y\|^2}\big))";
  info.statement_text =
      "MSE of φ⁺(x)ᵀφ⁺(y) as an estimate of e^{xᵀy} = (1/m)·e^{‖x+y‖²}·e^{2xᵀy}·(1 − e^{−‖x+y‖²}), "
      "ω_i ~ N(0, I) i.i.d.";
  info.hypotheses =
      "i.i.d. ω (orthogonal features have a smaller MSE, not this formula); any x, y ∈ ℝ^d; checked on "
      "‖x‖, ‖y‖ ≤ 1/4 (a condition of the asymptotic test, see note) and x + y ≠ 0 (zero variance: "
      "no t statistic)";
  info.note = std::string(kMethod) +
              "The replicates are squared errors, with roughly the tails of a lognormal of parameter "
              "4‖x+y‖², hence the smaller radius.";
  return std::make_unique<PerformerMse>(std::move(info), performer_space(false));
}

}  // namespace attncert
