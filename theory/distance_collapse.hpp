// Paper A's distance collapse (Theorem 1, Corollary 2): how far the context s of a selected
// token set is from the non-selected tokens, in every tier.
//
// Notation (shared/THEORY.md): α = softmax(l/T), tokens x_i ∈ ℝ^d (rows of X, L×d), a selected
// set I of size N, ᾱ = Σ_{I} α_i, s = Σ_{I} α_i x_i, d₁ = max_{i∉I, j∈I}‖x_i − x_j‖,
// M_N = max_{j∈I}‖x_j‖. The paper's "cumulative distance" d̃ is ambiguous to us; three readings:
//   A: ‖Σ_{i∉I} α_i x_i − s‖,   B: Σ_{i∉I} ‖α_i x_i − s‖,   C: ‖Σ_{i∉I} (α_i x_i − s)‖.
//
// Top-N set: the N largest α. Softmax is strictly increasing, so this is the N largest logits;
// ties are broken toward the LOWER index (a deterministic choice, documented in every claim).
// The set is decided exactly from the instance's doubles (q/K logits are formed in exact ball
// arithmetic), never from rounded values, so every tier uses the same, correct set.
//
// All norms are Euclidean. Ball results enclose the exact values; double and Mp are not bounds.
// Instantiated for double, Mp and Ball in distance_collapse.cpp.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "theory/claim.hpp"

namespace attncert {

enum class DtildeReading { A, B, C };
std::string_view to_string(DtildeReading r);

/// Row-major L×d token matrix in tier T (light: no Eigen over Ball/Mp in headers).
template <class T>
struct TokenMatrix {
  long rows = 0;
  long cols = 0;
  std::vector<T> data;
  const T& operator()(long i, long c) const { return data[static_cast<std::size_t>(i * cols + c)]; }
};

/// The instance's array `X` (L×d) in tier T. Throws std::invalid_argument when missing/empty
/// and std::domain_error on a non-finite entry.
template <class T>
TokenMatrix<T> instance_tokens(const Instance& x, const TierContext<T>& ctx);

/// The instance's scalar `N`, checked to be an integer in [1, L]. Throws std::invalid_argument.
long instance_top_n_count(const Instance& x, long L);

/// Indices (ascending) of the N largest logits, ties toward the lower index. Exact comparison
/// of doubles; −inf (masked) ranks last. Throws std::invalid_argument unless 1 <= N <= L and
/// std::domain_error on NaN.
std::vector<std::size_t> top_n_indices(std::span<const double> logits, long N);

/// The same for an instance: logits from `logits`, or l_j = qᵀk_j from `q` and `K` computed
/// exactly (exact ball arithmetic), so near-ties are ranked correctly.
std::vector<std::size_t> instance_top_n(const Instance& x, long N);

/// d̃ of one reading for the selected index set `selected` (distinct, each < L).
template <class T>
T dtilde(DtildeReading reading, std::span<const T> alpha, const TokenMatrix<T>& X,
         std::span<const std::size_t> selected);

/// Terms of Theorem 1 (fixed set): ᾱ, d₁, M_N, the catalog's bound
/// (1 − ᾱ)·d₁ + ((L − N)·ᾱ − (1 − ᾱ))·M_N and the square-root form a secondary summary transcribes,
/// (1 − ᾱ)·d₁ + M_N·√(max(0, (L − N)·ᾱ − (1 − ᾱ))). Needs 1 <= |selected| <= L − 1.
template <class T>
struct Thm1FixedTerms {
  T alpha_bar, d1, M_N, bound, sqrt_bound;
};
template <class T>
Thm1FixedTerms<T> thm1_fixed_terms(std::span<const T> alpha, const TokenMatrix<T>& X,
                                   std::span<const std::size_t> selected);

/// Largest L for which the exact enumerations below are allowed (2^L subsets at most).
inline constexpr long kMaxEnumerationTokens = 16;

/// E over I uniform among all C(L, N) subsets of size N, by exhaustive enumeration:
/// .dtilde[r] = E[d̃_r(I)] and .context_norm = E‖s_I‖. Throws std::invalid_argument for
/// L > kMaxEnumerationTokens or N outside [1, L].
template <class T>
struct RandomSubsetExpectation {
  std::array<T, 3> dtilde;
  T context_norm;
};
template <class T>
RandomSubsetExpectation<T> expected_over_random_subsets(std::span<const T> alpha,
                                                        const TokenMatrix<T>& X, long N);

/// The Jensen term of Theorem 1 (random set), reading B:
/// ((L − N)/L) · Σ_i ‖α_i x_i − (N/(L − 1)) · Σ_{j≠i} α_j x_j‖. Needs L >= 2, 1 <= N <= L.
template <class T>
T thm1_random_jensen_term(std::span<const T> alpha, const TokenMatrix<T>& X, long N);

/// Σ_i ‖α_i x_i‖ (Corollary 2's dominant term).
template <class T>
T weighted_token_norm_sum(std::span<const T> alpha, const TokenMatrix<T>& X);

/// d̃ of a reading for the instance: α = softmax(logits/T), X, top-N set with N = scalar `N`
/// (the named quantities dtilde_A/B/C). Needs 1 <= N <= L − 1.
template <class T>
T instance_dtilde(DtildeReading reading, const Instance& x, const TierContext<T>& ctx);

/// Monte Carlo estimate (double) of E[d̃_r] over uniform random N-subsets, `samples` draws.
double expected_dtilde_monte_carlo(DtildeReading reading, std::span<const double> alpha,
                                   const TokenMatrix<double>& X, long N, long samples,
                                   std::uint64_t seed);

/// One attention row's weighted tokens y_i = α_i x_i, computed once for the many selected sets a
/// study evaluates per row (double only: statistics over real rows, not verdicts). `X` may have
/// more rows than alpha (a causal row sees the first alpha.size() tokens).
struct WeightedTokens {
  RowMatrix<double> y;  // alpha.size() × d
};
/// Throws std::invalid_argument when X has fewer rows than alpha or no columns.
WeightedTokens weighted_tokens(std::span<const double> alpha, const RowMatrix<double>& X);

/// d̃ in readings A, B, C for `selected` (distinct, each < rows, at least one row left out):
/// dtilde<double>'s formulas without its per-token allocations (tests/theory compare the two).
std::array<double, 3> dtilde_readings(const WeightedTokens& w, std::span<const std::size_t> selected);

/// N_s/N under paper A's experiment protocol (THEORY.md, A.thm2): s = Σ_{j∈I} y_j, radius
/// r = min_{j∉I} ‖s − y_j‖ (data dependent), N_s = #{i ∈ I : ‖y_i − s‖ <= r}. Needs a
/// non-selected token (throws std::invalid_argument otherwise).
double protocol_distinguishable_fraction(const WeightedTokens& w,
                                         std::span<const std::size_t> selected);

/// The domain shared by the distance-collapse claims: L ∈ [2, max_tokens], N ∈ [1, max_tokens − 1]
/// (kept below L by project_top_n), d ∈ [1, max_dim], T ∈ [0.01, 10] log; logits 1×L ~ normal(0, 3)
/// (no masking), tokens X L×d ~ normal(0, 1).
SearchSpace top_n_space(long max_tokens, long max_dim);
/// Keeps N in [1, L − 1] after sampling or shrinking (L = the logits' length): an N >= L is
/// folded to 1 + (N − 1) mod (L − 1), so N stays spread over its range rather than piling up at
/// L − 1. Idempotent on admissible instances.
void project_top_n(Instance& x);
/// True when the instance has logits (1×L, L >= 2, finite), X with L rows and an integer N in
/// [1, L − 1]; False otherwise (decided exactly on the doubles).
Tri top_n_admissible(const Instance& x);

/// Residual weight below which attention counts as one-hot (see one_hot_reason).
inline constexpr double kOneHotResidualWeight = 1e-9;
/// "" unless the weight outside the `top` largest logits, Σ_{j∉top} α_j (computed in double from
/// the instance's logits and T, without cancellation), is below kOneHotResidualWeight. With
/// top = N the fixed-set bound then sits at its one-hot limit with d̃ (d̃_B → (L−N)·‖s‖ against
/// (L−N)·M_N: all that is left is ‖s‖ ≤ M_N); with top = 1 every α_i x_i but one vanishes and the
/// triangle and Jensen steps over random subsets hold with equality. Either way a ratio ≈ 1 says
/// nothing about the bound.
std::string one_hot_reason(const Instance& x, long top);

/// Base of the claims over top_n_space: project_top_n and top_n_admissible.
template <class Derived>
class TopNClaim : public InequalityClaim<Derived> {
 public:
  TopNClaim(ClaimInfo info, SearchSpace space)
      : InequalityClaim<Derived>(std::move(info), std::move(space)) {}
  void project(Instance& x) const override { project_top_n(x); }
  Tri admissible(const Instance& x, long) const override { return top_n_admissible(x); }
};

/// Experiment (not a claim): how d̃ of the top-N set grows with L on random instances.
/// Logits l_j ~ Normal(0, logit_sd) (token 0 gets + sink_logit, an "attention sink"),
/// tokens x_j ~ Normal(0, I_d) (+ token_mean in every coordinate), T = 1.
struct DtildeGrowthOptions {
  long N = 5;
  std::vector<long> lengths = {32, 64, 128, 256, 512, 1024};
  long d = 64;
  double logit_sd = 1.0;
  double sink_logit = 0.0;
  double token_mean = 0.0;
  long trials = 20;
  std::uint64_t seed = 1;
};
struct DtildeGrowth {
  std::vector<long> lengths;
  std::array<std::vector<double>, 3> mean;  // mean d̃_{A,B,C} per length
  std::array<double, 3> loglog_slope{};     // least-squares slope of log mean vs log L
};
DtildeGrowth measure_dtilde_growth(const DtildeGrowthOptions& options);

}  // namespace attncert
