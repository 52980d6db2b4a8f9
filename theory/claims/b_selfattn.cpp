// Paper B (Deng, Song, Zhou), reconstructed: in the self-attention variant (A₁ = A₂ = A₃) with
// random sign rows a_i ∈ {±1/√d}^d, the off-diagonal logits ⟨a_i, a_j⟩ concentrate (B.selfattn).
//
// One pair: d·⟨a_i, a_j⟩ is a sum of d independent Rademacher products, i.e. 2·Bin(d, 1/2) − d,
// so P(|⟨a_i, a_j⟩| ≥ t) is an exact dyadic rational computed from the binomial distribution —
// no Monte Carlo. All pairs (the union-bound consequence): Monte Carlo over n random rows with
// the seed in the instance; the inner products are integers (d − 2·popcount(a_i ⊕ a_j)), so each
// sample is exact and only the threshold comparison needs certified arithmetic.
#include <bit>
#include <cmath>
#include <cstdint>

#include "numerics/clopper_pearson.hpp"
#include "numerics/rng.hpp"
#include "theory/catalog.hpp"
#include "theory/quantities.hpp"

namespace attncert {
namespace {

constexpr std::uint64_t kMonteCarloSamples = 8192;  // 0 events: CP upper 9.3e-4 < min δ
constexpr double kConfidence = 0.999;  // of the Clopper–Pearson interval

// Tri of a ≥ b in every tier.
template <class T>
Tri tier_ge(const T& a, const T& b) {
  if constexpr (std::is_same_v<T, Ball>) {
    return a >= b;
  } else {
    return Tri::from_bool(a >= b);
  }
}

// P(|2X − d| ≥ d·t), X ~ Bin(d, 1/2), as Σ_{qualifying k} C(d, k) / 2^d. In Ball every step is
// exact (integer binomials by Pascal's rule, an exact dyadic scale, exact products d·t), so the
// result is the exact probability as a point ball.
template <class T>
T pair_tail_probability(int d, double t, const TierContext<T>& ctx) {
  const T one = [&] {
    if constexpr (std::is_same_v<T, Ball>) {
      return Ball(1);  // exact; Pascal's rule stays exact in Ball
    } else {
      return ctx.from(1.0);
    }
  }();
  std::vector<T> row{one};  // C(k, ·) for k = 0
  for (int k = 1; k <= d; ++k) {
    std::vector<T> next(static_cast<std::size_t>(k) + 1, one);
    for (int i = 1; i < k; ++i) next[static_cast<std::size_t>(i)] = row[static_cast<std::size_t>(i) - 1] + row[static_cast<std::size_t>(i)];
    row = std::move(next);
  }
  const T dt = [&] {
    if constexpr (std::is_same_v<T, Ball>) {
      return Ball(d) * Ball(t);  // two exact balls: the exact product d·t
    } else {
      return ctx.from(static_cast<double>(d)) * ctx.from(t);
    }
  }();
  T count = one - one;
  for (int k = 0; k <= d; ++k) {
    const T deviation = ctx.from(std::abs(2.0 * k - d));  // |2k − d|, an exact small integer
    const Tri event = tier_ge(deviation, dt);
    if (event == Tri::Unknown) throw std::logic_error("B.selfattn: exact comparison undecided");
    if (event == Tri::True) count += row[static_cast<std::size_t>(k)];
  }
  const T scale = [&] {
    if constexpr (std::is_same_v<T, Ball>) {
      return Ball(std::ldexp(1.0, -d));  // exact dyadic
    } else {
      return ctx.from(std::ldexp(1.0, -d));
    }
  }();
  T p = count * scale;
  if constexpr (std::is_same_v<T, Ball>) p.set_precision(ctx.precision);
  return p;
}

// Monte Carlo over n independent rows of d random signs: the fraction of samples whose largest
// off-diagonal |d·⟨a_i, a_j⟩| (an integer in [0, d]) reaches d·t*.
template <class T>
T union_tail_probability(int n, int d, const T& dt_star, std::uint64_t seed, const TierContext<T>& ctx) {
  // Which integers M ∈ [0, d] reach the threshold: decided once, in tier T.
  std::vector<Tri> reaches(static_cast<std::size_t>(d) + 1, Tri::False);
  for (int M = 0; M <= d; ++M) reaches[static_cast<std::size_t>(M)] = tier_ge(ctx.from(M), dt_star);
  // reaches is monotone in M. No M can reach (t* > 1): the event is impossible, probability 0.
  int first_true = d + 1;
  bool any_possible = false;
  for (int M = d; M >= 0; --M) {
    const Tri r = reaches[static_cast<std::size_t>(M)];
    if (r == Tri::True) first_true = M;
    any_possible = any_possible || r != Tri::False;
  }
  if (!any_possible) return ctx.from(0.0);
  const std::uint64_t mask = d == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << d) - 1;
  Rng rng(seed);
  std::vector<std::uint64_t> rows(static_cast<std::size_t>(n));
  std::uint64_t yes = 0, unknown = 0;
  for (std::uint64_t sample = 0; sample < kMonteCarloSamples; ++sample) {
    for (auto& r : rows) r = rng.next_u64() & mask;
    int largest = 0;
    for (int i = 0; i < n && largest < first_true; ++i) {  // stop once the event is certain
      for (int j = i + 1; j < n; ++j) {
        const int disagree = std::popcount(rows[static_cast<std::size_t>(i)] ^ rows[static_cast<std::size_t>(j)]);
        largest = std::max(largest, std::abs(d - 2 * disagree));
        if (largest >= first_true) break;
      }
    }
    const Tri event = reaches[static_cast<std::size_t>(largest)];
    if (event == Tri::True) ++yes;
    if (event == Tri::Unknown) ++unknown;
  }
  if constexpr (std::is_same_v<T, Ball>) {
    return clopper_pearson_ball(yes, unknown, kMonteCarloSamples, 1 - kConfidence, ctx.precision);
  } else {
    return ctx.from(static_cast<double>(yes) / static_cast<double>(kMonteCarloSamples));
  }
}

SearchSpace selfattn_space() {
  return SearchSpace{
      {{"d", 1, 64, true, false, "dimension of the sign rows a_i ∈ {±1/√d}^d"},
       {"n", 2, 16, true, false, "number of rows (tokens)"},
       {"t", 0, 1, false, false, "threshold on one off-diagonal logit |⟨a_i, a_j⟩|"},
       {"delta", 1e-3, 0.5, false, true, "failure probability δ of the union bound"},
       {"mc_seed", 1, 1e9, true, false, "seed of the Monte Carlo over the rows"}},
      {}};
}

class SelfAttn : public InequalityClaim<SelfAttn> {
 public:
  using InequalityClaim::InequalityClaim;

  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    using std::exp;
    using std::log;
    using std::sqrt;
    const int d = static_cast<int>(std::llround(x.scalar("d")));
    const int n = static_cast<int>(std::llround(x.scalar("n")));
    if (d < 1 || d > 64 || n < 2) {
      throw std::invalid_argument("B.selfattn: need 1 <= d <= 64 and n >= 2");
    }
    const T dd = ctx.from(static_cast<double>(d));
    const T t = ctx.from(x.scalar("t"));
    const T delta = ctx.from(x.scalar("delta"));
    const T two = ctx.from(2.0);

    // One pair: P(|⟨a_i, a_j⟩| ≥ t) ≤ 2e^{−dt²/2}.
    const T pair = pair_tail_probability(d, x.scalar("t"), ctx);
    const T pair_bound = two * T(exp(-(dd * t * t) / two));

    // All pairs: P(max_{i<j} |⟨a_i, a_j⟩| ≥ t*) ≤ δ, t* = √(2 ln(n(n−1)/δ)/d); in integer units
    // d·t* = √(2d·ln(n(n−1)/δ)).
    const T pairs2 = ctx.from(static_cast<double>(n) * (n - 1));
    const T dt_star = T(sqrt(two * dd * T(log(T(pairs2 / delta)))));
    const auto seed = static_cast<std::uint64_t>(std::llround(x.scalar("mc_seed")));
    const T all = union_tail_probability(n, d, dt_star, seed, ctx);
    // A-priori bounds on the probabilities: 1, and 0 for all pairs when t* certainly exceeds 1
    // (|⟨a_i, a_j⟩| ≤ 1 for rows in {±1/√d}^d: the event is impossible, and the side, whose
    // bound δ is ≥ 0, is vacuous — possible for d < 2 ln(n(n−1)/δ) ≤ 24.8).
    const T one = ctx.from(1.0);
    const T all_a_priori = tier_ge(dd, dt_star) == Tri::False ? ctx.from(0.0) : one;

    return {{"one pair (exact)", pair, Relation::LessEqual, pair_bound, "", std::nullopt, one},
            {"all pairs (Monte Carlo)", all, Relation::LessEqual, delta, "", std::nullopt,
             all_a_priori}};
  }
};

}  // namespace

std::unique_ptr<Claim> make_b_selfattn() {
  ClaimInfo info;
  info.id = "B.selfattn";
  info.source =
      "Deng, Song, Zhou, arXiv 2310.11685 (self-attention variant A₁ = A₂ = A₃; numbering unknown to us)";
  info.provenance = Provenance::Reconstructed;
  info.kind = ClaimKind::Statistical;
  info.confidence = kConfidence;
  info.interval_method =
      "one pair: exact binomial probability (no interval); all pairs: Clopper–Pearson at confidence "
      "0.999 — exact (conservative) coverage, ends certified with Arb's regularised incomplete beta";
  info.statement_latex =
      R"(a_i\sim\mathrm{U}\{\pm1/\sqrt d\}^d\ \text{i.i.d.}:\ \Pr[|\langle a_i,a_j\rangle|\ge t]\le 2e^{-dt^2/2};\quad )"
      R"(\Pr\big[\max_{i<j}|\langle a_i,a_j\rangle|\ge t^*\big]\le\delta,\ t^*=\sqrt{2\ln(n(n-1)/\delta)/d})";
  info.statement_text =
      "rows a_i uniform in {±1/√d}^d, independent: P(|⟨a_i, a_j⟩| ≥ t) ≤ 2e^{−dt²/2} (i ≠ j); and all "
      "off-diagonal logits stay below t* = √(2 ln(n(n−1)/δ)/d) with probability ≥ 1 − δ (d = Ω(log(n/δ)))";
  info.hypotheses = "1 ≤ d ≤ 64, 2 ≤ n ≤ 16, 0 ≤ t ≤ 1, 0 < δ < 1, rows independent and uniform";
  info.note =
      "reconstructed: the paper's printed statement is not available to us; this is our derivation of the "
      "concentration step its abstract and the companion arXiv 2310.20051 describe (Hoeffding, then a union "
      "bound over the n(n−1)/2 pairs). The one-pair side is exact (binomial distribution, certified; "
      "its bound is ≥ 1, vacuous, for d·t² ≤ 2 ln 2); the "
      "all-pairs side is Monte Carlo with 8192 samples seeded by mc_seed (exact integer inner products; "
      "no sampling when t* > 1, where the probability is exactly 0 and the side is vacuous), "
      "lhs = Clopper–Pearson interval at confidence 0.999 (a refutation would hold at that confidence, not "
      "with certainty). d ≤ 64 so that a row fits one 64-bit word.";
  return std::make_unique<SelfAttn>(std::move(info), selfattn_space());
}

}  // namespace attncert
