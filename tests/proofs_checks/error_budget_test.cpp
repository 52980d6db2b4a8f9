// ErrorBudget and the probabilistic λ, on cases of known truth: the recursive sum of n terms,
// whose error is exactly Σ_k s_k δ_k (s_k the computed partial sums), simulated with random
// δ_k; the bound's algebra; bad false-alarm probabilities.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "numerics/rng.hpp"
#include "proofs_checks/error_budget.hpp"

namespace attncert {
namespace {

TEST(ErrorBudget, GuaranteedAndProbabilisticAlgebra) {
  ErrorBudget b;
  b.rounding(3.0, 0x1p-24);
  b.roundings(4.0, 10.0, 0x1p-24);  // e.g. coefficients 1 and 3: Σc = 4, Σc² = 10
  b.systematic(1e-9);
  b.remainder(-2e-12);  // magnitudes only
  const double u = 0x1p-24;
  EXPECT_DOUBLE_EQ(b.linear(), 7 * u);
  EXPECT_DOUBLE_EQ(b.linear_rms(), std::sqrt(19.0) * u);
  EXPECT_DOUBLE_EQ(b.guaranteed(), 7 * u + 1e-9 + 2e-12);
  EXPECT_DOUBLE_EQ(b.probabilistic(1.0), std::sqrt(19.0) * u + 1e-9 + 2e-12);
  // λ large: never above the guaranteed bound (|Σ g δ| ≤ Σ c u holds surely).
  EXPECT_DOUBLE_EQ(b.probabilistic(100.0), b.guaranteed());

  ErrorBudget outer;
  outer.add(b, -2.0);
  EXPECT_DOUBLE_EQ(outer.linear(), 14 * u);
  EXPECT_DOUBLE_EQ(outer.linear_rms(), 2 * std::sqrt(19.0) * u);
  EXPECT_DOUBLE_EQ(outer.guaranteed(), 2 * b.guaranteed());
}

TEST(ErrorBudget, LambdaFromFalseAlarm) {
  // m·2exp(−λ²/2) = δ exactly.
  for (double m : {1.0, 1e3, 1e7})
    for (double delta : {0.5, 1e-3, 1e-9}) {
      const double lambda = probabilistic_lambda(delta, m);
      EXPECT_NEAR(m * 2 * std::exp(-lambda * lambda / 2), delta, 1e-12 * delta);
    }
  EXPECT_THROW(probabilistic_lambda(0.0, 10), std::invalid_argument);
  EXPECT_THROW(probabilistic_lambda(1.0, 10), std::invalid_argument);
  EXPECT_THROW(probabilistic_lambda(std::nan(""), 10), std::invalid_argument);
  EXPECT_THROW(probabilistic_lambda(1e-3, 0), std::invalid_argument);
  try {
    require_false_alarm(-0.5);
    FAIL() << "accepted δ = −0.5";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("(0, 1)"), std::string::npos) << e.what();
  }
}

// Recursive summation s_k = (s_{k−1} + x_k)(1 + δ_k): error = Σ_k ŝ_k δ_k exactly, first-order
// coefficient the exact partial sum. Simulated with δ_k uniform on [−u, u] (the model), the
// guaranteed bound is never exceeded, and the probabilistic one with λ for δ = 1e-3 over the
// trials is exceeded at most rarely (expected ≤ 1e-3·trials; we allow the binomial tail).
TEST(ErrorBudget, RecursiveSumSimulation) {
  const std::uint64_t seed = 20261203;
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  Rng rng(seed);
  const int n = 2000, trials = 2000;
  const double u = 0x1p-24;
  const std::vector<double> x = rng.normal_vector(n);
  ErrorBudget b;
  double exact = 0, remainder = 0, abs_partials = 0;
  for (int k = 0; k < n; ++k) {
    exact += x[k];
    b.rounding(std::abs(exact), u);
    abs_partials += std::abs(exact);
  }
  // Second order: the computed partials differ from the exact ones by ≤ the running error
  // E_k ≤ (1 + u)^k − 1 times Σ|x|; Σ_k E_k·u bounds the rest.
  double abs_sum = 0;
  for (double xi : x) abs_sum += std::abs(xi);
  for (int k = 0; k < n; ++k) remainder += std::expm1(k * std::log1p(u)) * abs_sum * u;
  b.remainder(remainder);
  const double lambda = probabilistic_lambda(1e-3, trials);
  int over_probabilistic = 0;
  double worst_ratio = 0;
  for (int t = 0; t < trials; ++t) {
    double s = 0, err = 0, s_exact = 0;
    for (int k = 0; k < n; ++k) {
      const double delta = (2 * rng.uniform() - 1) * u;
      const double pre = s + x[k];
      s = pre * (1 + delta);
      s_exact += x[k];
    }
    err = std::abs(s - s_exact);
    ASSERT_LE(err, b.guaranteed()) << "trial " << t;
    over_probabilistic += err > b.probabilistic(lambda);
    worst_ratio = std::max(worst_ratio, err / b.probabilistic(lambda));
  }
  std::printf("worst error / probabilistic bound %.3f, guaranteed/probabilistic %.1f\n",
              worst_ratio, b.guaranteed() / b.probabilistic(lambda));
  EXPECT_EQ(over_probabilistic, 0);
  // The probabilistic bound is far below the guaranteed one here (√n against n).
  EXPECT_LT(b.probabilistic(lambda), 0.2 * b.guaranteed());
  // ...and not vacuous: the worst of the trials reaches a sizeable part of it.
  EXPECT_GT(worst_ratio, 0.1);
}

}  // namespace
}  // namespace attncert
