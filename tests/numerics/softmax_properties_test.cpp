// RapidCheck properties of the softmax family, certified with Ball where the property is a
// theorem about exact values.
//
// Generators are built from integers (RapidCheck's double generator has no range control) and
// favour the edge cases: ties (logits on a grid of quarters), huge logits (±1e6 + k), tiny
// ones (k·1e-300), masked ones (−inf), and rows of length 1 and 2.
//
// Reproducing a run: the seed is printed at start ("[ seed ] RapidCheck seed N"), and
// RapidCheck prints a `reproduce` string on failure. Re-run with
//   RC_PARAMS="seed=N" ./softmax_properties_test --gtest_filter=SoftmaxProperties.<Name>
// or RC_PARAMS="reproduce=<string>" for the shrunk counterexample. RC_PARAMS is honoured as
// usual (e.g. max_success=1000 for a longer search).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <limits>
#include <vector>

#include "numerics/ball.hpp"
#include "numerics/mp.hpp"
#include "numerics/softmax.hpp"
#include "numerics/tier_conversions.hpp"
#include "tests/numerics/softmax_test_support.hpp"

namespace attncert {
namespace {

using testing_support::SoftmaxErrorModel;
using testing_support::underflow_floor;
using testing_support::widened;

constexpr long kPrec = 128;         // Ball precision
constexpr long kMpBits = 4 * kPrec;  // Mp reference precision
constexpr double kInf = std::numeric_limits<double>::infinity();

class PrintRapidCheckSeed : public ::testing::Environment {
 public:
  void SetUp() override {
    const auto seed = rc::detail::configuration().testParams.seed;  // may print the config
    std::cout << "[ seed ] RapidCheck seed " << seed << " (reproduce with RC_PARAMS=\"seed="
              << seed << "\")" << std::endl;
  }
};
[[maybe_unused]] const ::testing::Environment* const kSeedPrinter =
    ::testing::AddGlobalTestEnvironment(new PrintRapidCheckSeed);

rc::Gen<double> logit_gen() {
  return rc::gen::weightedOneOf<double>({
      {6, rc::gen::map(rc::gen::inRange(-16, 17), [](int k) { return k / 4.0; })},
      {2, rc::gen::map(rc::gen::inRange(-8, 9),
                       [](int k) { return k < 0 ? -1e6 + k : 1e6 - k; })},
      {2, rc::gen::map(rc::gen::inRange(-8, 9), [](int k) { return k * 1e-300; })},
      {1, rc::gen::just(-kInf)},
  });
}

rc::Gen<std::vector<double>> row_gen() {
  const auto length = rc::gen::weightedOneOf<int>(
      {{3, rc::gen::just(1)}, {3, rc::gen::just(2)}, {6, rc::gen::inRange(3, 25)}});
  return rc::gen::mapcat(length, [](int n) {
    return rc::gen::container<std::vector<double>>(static_cast<std::size_t>(n), logit_gen());
  });
}

/// T = m·2^e with m in [1, 16], e in [−6, 6]: exact in every tier, from 1/64 to 1024.
rc::Gen<double> temperature_gen() {
  return rc::gen::map(rc::gen::pair(rc::gen::inRange(1, 17), rc::gen::inRange(-6, 7)),
                      [](const std::pair<int, int>& me) { return std::ldexp(me.first, me.second); });
}

std::vector<Ball> to_balls(const std::vector<double>& v) {
  std::vector<Ball> out;
  for (double x : v) out.emplace_back(x, kPrec);
  return out;
}

bool masked(double l) { return std::isinf(l) && l < 0; }

double max_logit(const std::vector<double>& row) {
  return *std::max_element(row.begin(), row.end());
}

std::size_t unmasked_count(const std::vector<double>& row) {
  return static_cast<std::size_t>(std::count_if(row.begin(), row.end(), [](double l) { return !masked(l); }));
}

// ---------------------------------------------------------------------------------------

RC_GTEST_PROP(SoftmaxProperties, ShiftInvarianceCertified, ()) {
  const auto row = *row_gen();
  const double t = *temperature_gen();
  const int shift_quarters = *rc::gen::inRange(-4000, 4001);
  const Ball shift(shift_quarters / 4.0);
  const std::vector<Ball> lb = to_balls(row);
  std::vector<Ball> shifted = lb;
  for (Ball& l : shifted) l += shift;  // an enclosure of l + c (−inf stays −inf)
  const std::vector<Ball> a = softmax<Ball>(lb, Ball(t, kPrec));
  const std::vector<Ball> b = softmax<Ball>(shifted, Ball(t, kPrec));
  // Both enclose softmax(l/T) = softmax((l + c)/T): disjoint balls would prove a bug.
  for (std::size_t i = 0; i < row.size(); ++i) RC_ASSERT(a[i].overlaps(b[i]));
}

RC_GTEST_PROP(SoftmaxProperties, SumsToOneCertified, ()) {
  const auto row = *row_gen();
  const double t = *temperature_gen();
  const std::vector<Ball> alpha = softmax<Ball>(to_balls(row), Ball(t, kPrec));
  Ball sum(0.0, kPrec);
  for (const Ball& a : alpha) sum += a;
  if (unmasked_count(row) == 0) {
    RC_ASSERT(sum.is_zero());
  } else {
    RC_ASSERT(sum.contains(1.0));
    // Not vacuous: a few roundings per term plus L additions at 2^-128.
    RC_ASSERT(sum.radius() <= std::ldexp(64.0 + row.size(), -static_cast<int>(kPrec)));
  }
}

RC_GTEST_PROP(SoftmaxProperties, MonotoneInTheLogitsCertifiedWhereDecidable, ()) {
  const auto row = *row_gen();
  const double t = *temperature_gen();
  const std::vector<Ball> alpha = softmax<Ball>(to_balls(row), Ball(t, kPrec));
  std::vector<Mp> alpha_mp;
  {
    MpPrecision guard(kMpBits);
    std::vector<Mp> lm;
    for (double l : row) lm.push_back(mp_from_double(l, kMpBits));
    alpha_mp = softmax<Mp>(lm, mp_from_double(t, kMpBits));
  }
  for (std::size_t i = 0; i < row.size(); ++i) {
    for (std::size_t j = 0; j < row.size(); ++j) {
      if (!(row[i] <= row[j])) continue;
      // l_i <= l_j ⇒ α_i <= α_j: a proof of α_i > α_j refutes the implementation.
      RC_ASSERT(!certainly(alpha[i] > alpha[j]));
      if (row[i] == row[j]) RC_ASSERT(arb_equal(alpha[i].arb(), alpha[j].arb()) != 0);
      // Mp: every step is a correctly rounded monotone operation, so the order survives.
      RC_ASSERT(alpha_mp[i] <= alpha_mp[j]);
    }
  }
}

RC_GTEST_PROP(SoftmaxProperties, TiersAgreeWithinDerivedBounds, ()) {
  const auto row = *row_gen();
  const double t = *temperature_gen();
  const std::vector<Ball> lb = to_balls(row);
  const Ball tb(t, kPrec);
  const std::vector<Ball> alpha = softmax<Ball>(lb, tb);
  const Ball lse = log_sum_exp<Ball>(lb, tb);
  const Ball h = entropy<Ball>(lb, tb);
  std::vector<Mp> alpha_mp;
  Mp lse_mp, h_mp;
  {
    MpPrecision guard(kMpBits);
    std::vector<Mp> lm;
    for (double l : row) lm.push_back(mp_from_double(l, kMpBits));
    const Mp tm = mp_from_double(t, kMpBits);
    alpha_mp = softmax<Mp>(lm, tm);
    lse_mp = log_sum_exp<Mp>(lm, tm);
    h_mp = entropy<Mp>(lm, tm);
  }
  const std::vector<double> alpha_d = softmax<double>(row, t);
  const double lse_d = log_sum_exp<double>(row, t);
  const double h_d = entropy<double>(row, t);
  const SoftmaxErrorModel model(row, t, alpha);
  const double floor = underflow_floor<double>();
  for (std::size_t i = 0; i < row.size(); ++i) {
    // Mp is within its a-priori bound of the exact value, which the Ball contains.
    RC_ASSERT(contains(widened(alpha[i], alpha[i], model.alpha(i), kMpBits, 0, true), alpha_mp[i]));
    // double: the same bound at u = 2^-53, plus the subnormal floor.
    RC_ASSERT(widened(alpha[i], alpha[i], model.alpha(i), 53, floor).contains(alpha_d[i]));
  }
  if (unmasked_count(row) > 0) {
    RC_ASSERT(contains(widened(lse, Ball(1), model.lse(std::abs(lse.mid())), kMpBits), lse_mp));
    RC_ASSERT(widened(lse, Ball(1), model.lse(std::abs(lse.mid())), 53).contains(lse_d));
  } else {
    RC_ASSERT(std::isinf(lse_d) && lse_d < 0);
  }
  const Ball h_wide = widened(h, Ball(1), model.entropy(std::abs(h.mid())), kMpBits, 0, true);
  RC_ASSERT(contains(h_wide, h_mp));
  // Skipped underflowed terms e^x·|x| (x < −745) add far less than sqrt(floor) each.
  RC_ASSERT(widened(h, Ball(1), model.entropy(std::abs(h.mid())), 53,
                    model.length * std::sqrt(floor))
                .contains(h_d));
}

RC_GTEST_PROP(SoftmaxProperties, LogSumExpBetweenMaxAndMaxPlusLogL, ()) {
  const auto row = *row_gen();
  const double t = *temperature_gen();
  const std::size_t n = unmasked_count(row);
  RC_PRE(n > 0);
  const Ball lse = log_sum_exp<Ball>(to_balls(row), Ball(t, kPrec));
  const Ball max_over_t = Ball(max_logit(row), kPrec) / Ball(t, kPrec);
  // max/T <= LSE <= max/T + log n, equality at n = 1: a proof of either violation is a bug.
  RC_ASSERT(!certainly(lse < max_over_t));
  RC_ASSERT(!certainly(lse > max_over_t + log(Ball(static_cast<int>(n)) + Ball(0.0, kPrec))));
  if (n == 1) RC_ASSERT(lse.overlaps(max_over_t));  // LSE = max/T exactly
}

RC_GTEST_PROP(SoftmaxProperties, LogSoftmaxIsLogOfSoftmax, ()) {
  const auto row = *row_gen();
  const double t = *temperature_gen();
  const std::vector<Ball> lb = to_balls(row);
  const std::vector<Ball> alpha = softmax<Ball>(lb, Ball(t, kPrec));
  const std::vector<Ball> log_alpha = log_softmax<Ball>(lb, Ball(t, kPrec));
  for (std::size_t i = 0; i < row.size(); ++i) {
    if (masked(row[i]) || unmasked_count(row) == 0) {
      RC_ASSERT(arf_is_neg_inf(arb_midref(log_alpha[i].arb())) != 0);
      RC_ASSERT(alpha[i].is_zero());
      continue;
    }
    RC_ASSERT(log(alpha[i]).overlaps(log_alpha[i]));
  }
}

RC_GTEST_PROP(SoftmaxProperties, EntropyBetweenZeroAndLogL, ()) {
  const auto row = *row_gen();
  const double t = *temperature_gen();
  const std::size_t n = unmasked_count(row);
  const std::vector<Ball> lb = to_balls(row);
  const Ball h = entropy<Ball>(lb, Ball(t, kPrec));
  if (n == 0) {
    RC_ASSERT(h.is_zero());
    return;
  }
  const Ball log_n = log(Ball(static_cast<int>(n)) + Ball(0.0, kPrec));
  RC_ASSERT(!certainly(h < Ball(0)));
  RC_ASSERT(!certainly(h > log_n));
  const double h_d = entropy<double>(row, t);
  const SoftmaxErrorModel model(row, t, softmax<Ball>(lb, Ball(t, kPrec)));
  const double tol = std::ldexp(model.entropy(std::log(static_cast<double>(n))), -53) +
                     static_cast<double>(n) * std::sqrt(underflow_floor<double>());
  RC_ASSERT(h_d >= -tol);
  RC_ASSERT(h_d <= std::log(static_cast<double>(n)) + tol);
}

}  // namespace
}  // namespace attncert
