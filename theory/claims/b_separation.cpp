// Paper B (Deng, Song, Zhou), reconstructed: the read-out c = p_{i*}·μ + Σ_{j≠i*} p_j σ_j with
// Rademacher-signed values, and Hoeffding's bound on its noise term (B.separation).
//
// The probability is over the signs σ only (the weights p are fixed by the instance). With
// m = n − 1 ≤ 16 signs it is computed exactly by enumerating the sign patterns (an exact dyadic
// rational, certified); beyond that by Monte Carlo with the seed in the instance, every event
// decided in the instance's tier, and a Clopper–Pearson interval as the certified lhs.
#include <arb.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <span>

#include "numerics/clopper_pearson.hpp"
#include "numerics/rng.hpp"
#include "numerics/softmax.hpp"
#include "theory/catalog.hpp"
#include "theory/quantities.hpp"

namespace attncert {
namespace {

constexpr int kMaxEnumeratedSigns = 16;       // 2^15 patterns after the ±σ symmetry
constexpr std::uint64_t kMonteCarloSamples = 4096;
constexpr double kConfidence = 0.999;         // of each Clopper–Pearson interval
constexpr long kEventPrecisionCap = 256;      // bits for deciding single events (see below)

// Tri of |S| ≥ t (t ≥ 0) in every tier; Unknown only for Ball enclosures straddling ±t.
template <class T>
Tri abs_at_least(const T& S, const T& t) {
  if constexpr (std::is_same_v<T, Ball>) {
    return (S >= t) || (S <= -t);
  } else {
    return Tri::from_bool(S >= t || S <= -t);
  }
}

// Events counted so far: certainly happened, undecided (Ball only), out of `trials`.
struct EventCount {
  std::uint64_t yes = 0, unknown = 0, trials = 0;
  void add(Tri t) {
    ++trials;
    if (t == Tri::True) ++yes;
    if (t == Tri::Unknown) ++unknown;
  }
};

// The probability as tier T: the exact frequency for an enumeration (an interval
// [yes, yes + unknown]/trials for Ball), the Clopper–Pearson interval (hull of the intervals for
// yes and yes + unknown) for Monte Carlo. double and Mp get the point frequency.
template <class T>
T probability(const EventCount& c, bool exact, const TierContext<T>& ctx) {
  const double lo = static_cast<double>(c.yes) / static_cast<double>(c.trials);
  if constexpr (std::is_same_v<T, Ball>) {
    if (exact) {  // trials is a power of two and yes ≤ 2^15: both ends are exact doubles
      const double hi = static_cast<double>(c.yes + c.unknown) / static_cast<double>(c.trials);
      return Ball::interval(lo, hi, ctx.precision);
    }
    return clopper_pearson_ball(c.yes, c.unknown, c.trials, 1 - kConfidence, ctx.precision);
  } else {
    return ctx.from(lo);
  }
}

// Weights of the event sums. For Ball they are rounded (outward) to at most kEventPrecisionCap
// bits: a single event undecided at 256 bits is a genuine tie, and higher precision would only
// make the Monte Carlo loop slow when the engine escalates because of a straddling interval.
template <class T>
std::vector<T> event_weights(std::vector<T> w) {
  if constexpr (std::is_same_v<T, Ball>) {
    for (Ball& b : w) {
      if (b.precision() > kEventPrecisionCap) {
        arb_set_round(b.arb(), b.arb(), kEventPrecisionCap);
        b.set_precision(kEventPrecisionCap);
      }
    }
  }
  return w;
}

// P(|Σ_j w_j σ_j| ≥ t) over independent Rademacher σ_j.
template <class T>
EventCount count_sign_events(const std::vector<T>& w, const T& t, std::uint64_t seed, bool& exact) {
  const std::size_t m = w.size();
  EventCount c;
  exact = m <= kMaxEnumeratedSigns;
  if (exact) {
    // S(−σ) = −S(σ): fix σ_1 = +1 and walk the other m − 1 signs in Gray-code order, one
    // ± 2w_j update per pattern.
    std::vector<bool> plus(m, true);
    T S = w[0];
    for (std::size_t j = 1; j < m; ++j) S += w[j];
    c.add(abs_at_least(S, t));
    const std::uint64_t patterns = std::uint64_t{1} << (m - 1);
    for (std::uint64_t k = 1; k < patterns; ++k) {
      const std::size_t j = 1 + static_cast<std::size_t>(std::countr_zero(k));
      const T twice = w[j] + w[j];
      if (plus[j]) {
        S -= twice;
      } else {
        S += twice;
      }
      plus[j] = !plus[j];
      c.add(abs_at_least(S, t));
    }
    return c;
  }
  Rng rng(seed);
  for (std::uint64_t k = 0; k < kMonteCarloSamples; ++k) {
    const std::uint64_t bits = rng.next_u64();  // bit j: the sign of w_j (m ≤ 63)
    T S = (bits & 1) ? w[0] : T(-w[0]);
    for (std::size_t j = 1; j < m; ++j) {
      if ((bits >> j) & 1) {
        S += w[j];
      } else {
        S -= w[j];
      }
    }
    c.add(abs_at_least(S, t));
  }
  return c;
}

// Logits s (p = softmax(s)), the signal token i* = token 1 (index 0) whose value is μ, and
// t = τ·(Σ_{j≠i*} p_j²)^{1/2}: Hoeffding reads P(|Σ p_j σ_j| ≥ t) ≤ 2e^{−τ²/2}.
SearchSpace separation_space() {
  return SearchSpace{
      {{"n", 2, 64, true, false, "number of tokens (the signal token and n − 1 Rademacher-valued ones)"},
       {"tau", 0, 3, false, false, "threshold t in units of ‖p_{−i*}‖₂"},
       {"mc_seed", 1, 1e9, true, false, "seed of the Monte Carlo over the signs (n − 1 > 16)"}},
      {{"s", "1", "n", Law::Normal, 0, 3, false, "logits (token 1 carries the signal μ)"}}};
}

class Separation : public InequalityClaim<Separation> {
 public:
  using InequalityClaim::InequalityClaim;

  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    using std::exp;
    using std::sqrt;
    const RowMatrix<double>& raw = x.array("s");
    if (raw.size() < 2) throw std::invalid_argument("B.separation: need n >= 2 logits");
    std::vector<T> s;
    for (Eigen::Index j = 0; j < raw.size(); ++j) s.push_back(ctx.from(raw.data()[j]));
    const std::vector<T> p = softmax<T>(std::span<const T>(s), ctx.from(1.0));
    const std::vector<T> w(p.begin() + 1, p.end());  // the noise weights p_j, j ≠ i*
    T sum_sq = w[0] * w[0];
    for (std::size_t j = 1; j < w.size(); ++j) sum_sq += w[j] * w[j];
    const T tau = ctx.from(x.scalar("tau"));
    const T t = tau * T(sqrt(sum_sq));
    const auto seed = static_cast<std::uint64_t>(std::llround(x.scalar("mc_seed")));
    bool exact = false;
    const std::vector<T> ew = event_weights(w);
    T t_event = t;
    if constexpr (std::is_same_v<T, Ball>) t_event = event_weights(std::vector<Ball>{t})[0];
    const EventCount c = count_sign_events(ew, t_event, seed, exact);
    const T bound = ctx.from(2.0) * T(exp(-(tau * tau) / ctx.from(2.0)));
    // a_priori 1: a probability is ≤ 1, so the side is vacuous where the bound is ≥ 1
    // (τ ≤ √(2 ln 2) ≈ 1.18).
    return {{exact ? "hoeffding (exact enumeration)" : "hoeffding (Monte Carlo)", probability(c, exact, ctx),
             Relation::LessEqual, bound, "hoeffding", std::nullopt, ctx.from(1.0)}};
  }
};

}  // namespace

std::unique_ptr<Claim> make_b_separation() {
  ClaimInfo info;
  info.id = "B.separation";
  info.source =
      "Deng, Song, Zhou, arXiv 2310.11685 (read-out with random signs, Hoeffding step; numbering "
      "unknown to us)";
  info.provenance = Provenance::Reconstructed;
  info.kind = ClaimKind::Statistical;
  info.confidence = kConfidence;
  info.interval_method =
      "exact enumeration of the sign patterns for n − 1 ≤ 16 (no interval); beyond, Clopper–Pearson "
      "at confidence 0.999 — exact (conservative) coverage, ends certified with Arb's regularised "
      "incomplete beta";
  info.statement_latex =
      R"(c=p_{i^*}\mu+\sum_{j\ne i^*}p_j\sigma_j,\ \sigma_j\ \text{Rademacher}:\quad )"
      R"(\Pr\Big[\Big|\sum_{j\ne i^*}p_j\sigma_j\Big|\ge t\Big]\le 2\exp\Big(-\frac{t^2}{2\sum_{j\ne i^*}p_j^2}\Big),)"
      R"(\quad t=\tau\Big(\sum_{j\ne i^*}p_j^2\Big)^{1/2})";
  info.statement_text =
      "p = softmax(s), values v_1 = μ and v_j = σ_j Rademacher (j ≠ 1), read-out c = p_1·μ + Σ_{j≠1} p_j σ_j: "
      "P(|Σ_{j≠1} p_j σ_j| ≥ t) ≤ 2·exp(−t²/(2Σ_{j≠1} p_j²)), checked at t = τ·(Σ_{j≠1} p_j²)^{1/2}";
  info.hypotheses = "n ≥ 2 tokens, any logits, signs independent and uniform; 0 ≤ τ ≤ 3";
  info.note =
      "reconstructed: the paper's printed statement is not available to us; the read-out c with random "
      "signs is the structure its abstract and the companion arXiv 2310.20051 describe, and the bound is "
      "Hoeffding's inequality applied to it. For n − 1 ≤ 16 signs the probability is exact (all sign "
      "patterns enumerated, certified); beyond, Monte Carlo with 4096 samples seeded by mc_seed, each "
      "event decided in ball arithmetic, lhs = Clopper–Pearson interval at confidence 0.999 (a refutation "
      "would hold at that confidence per instance, not with certainty). t is parametrised relative to "
      "‖p_{−1}‖₂ so that the bound is resolvable (τ ≤ 3: bound ≥ 0.022, resolvable with 4096 samples); "
      "for τ ≤ √(2 ln 2) ≈ 1.18 the bound is ≥ 1 and the side is vacuous (a probability is ≤ 1). "
      "The separation itself — softmax tells D₀ from D₁ with a constant margin once B − R ≳ ln n while "
      "linear attention's best-threshold error stays near 1/2 — is an experiment (sweeps), not this claim.";
  return std::make_unique<Separation>(std::move(info), separation_space());
}

}  // namespace attncert
