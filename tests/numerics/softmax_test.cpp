// Unit tests of the softmax family and the general normaliser in every tier.
//
// Certified checks compare the Ball result with an Mp reference at 4x the Ball precision. The
// Mp value is not the exact value: it is within the a-priori error bound of the algorithm at
// u = 2^-(4p) (softmax_test_support.hpp). So "contains" means: the Ball widened by that bound
// contains the Mp value. The widening is ~2^-(4p) relative, far below the Ball's own ~2^-p
// radius, so the check is not made vacuous by it; the Ball radius itself is checked to be
// small, so the enclosure is not vacuous either.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "numerics/arb_handles.hpp"
#include "numerics/ball.hpp"
#include "numerics/mp.hpp"
#include "numerics/normaliser.hpp"
#include "numerics/softmax.hpp"
#include "numerics/tier_conversions.hpp"
#include "tests/numerics/softmax_test_support.hpp"

namespace attncert {
namespace {

using testing_support::SoftmaxErrorModel;
using testing_support::underflow_floor;
using testing_support::widened;

constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<Ball> to_balls(const std::vector<double>& v, long prec) {
  std::vector<Ball> out;
  for (double x : v) out.emplace_back(x, prec);
  return out;
}

std::vector<Mp> to_mps(const std::vector<double>& v, long bits) {
  std::vector<Mp> out;
  for (double x : v) out.push_back(mp_from_double(x, bits));
  return out;
}

bool masked(double l) { return std::isinf(l) && l < 0; }

// The logit rows every certified check runs on: L = 1, 2, odd L, ties, huge (±1e6), tiny
// (1e-300, subnormal), masked entries, and a random row.
std::vector<std::vector<double>> logit_cases() {
  std::vector<std::vector<double>> rows = {
      {0.5},
      {1.0, 2.0},
      {3.0, 3.0, 3.0},
      {-1e6, 1e6, 0.25, 1e6, -3.0},
      {1e-300, -1e-300, 2e-300, 0.0, 5e-324},
      {1.0, -kInf, 2.0, -kInf, 0.5},
      {-kInf, 7.0},
      {-7.5, 1e6, -1e6},
  };
  const unsigned seed = 20240611u;  // fixed: the row is part of the test's definition
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(-10.0, 10.0);
  std::vector<double> random_row(7);
  for (double& l : random_row) l = dist(rng);
  rows.push_back(random_row);
  return rows;
}

std::string row_text(const std::vector<double>& row, double t, long prec) {
  std::ostringstream s;
  s.precision(17);
  s << "T = " << t << ", prec = " << prec << ", logits =";
  for (double l : row) s << ' ' << l;
  return s.str();
}

// ---------------------------------------------------------------------------------------
// Ball encloses the exact value
// ---------------------------------------------------------------------------------------

TEST(SoftmaxBall, EnclosesMpReferenceAcrossTemperaturesMasksTiesAndExtremeLogits) {
  for (long prec : {64L, 256L}) {
    const long q = 4 * prec;  // Mp precision
    for (double t : {1e-3, 0.37, 1.0, 8.0, 1e3}) {
      for (const auto& row : logit_cases()) {
        SCOPED_TRACE(row_text(row, t, prec));
        const std::vector<Ball> lb = to_balls(row, prec);
        const Ball tb(t, prec);
        const std::vector<Ball> alpha = softmax<Ball>(lb, tb);
        const std::vector<Ball> log_alpha = log_softmax<Ball>(lb, tb);
        const Ball lse = log_sum_exp<Ball>(lb, tb);
        const Ball h = entropy<Ball>(lb, tb);

        std::vector<Mp> alpha_mp, log_alpha_mp;
        Mp lse_mp, h_mp;
        {
          MpPrecision guard(q);
          const std::vector<Mp> lm = to_mps(row, q);
          const Mp tm = mp_from_double(t, q);
          alpha_mp = softmax<Mp>(lm, tm);
          log_alpha_mp = log_softmax<Mp>(lm, tm);
          lse_mp = log_sum_exp<Mp>(lm, tm);
          h_mp = entropy<Mp>(lm, tm);
        }
        const SoftmaxErrorModel model(row, t, alpha);
        // Relative radius of a handful of roundings (exp, dot, division, each <= 2^-p, the
        // argument computed with guard bits): 16·2^-p leaves room for Arb's 30-bit radius
        // arithmetic rounding up.
        const double rel_radius_bound = std::ldexp(16.0, -static_cast<int>(prec));
        for (std::size_t i = 0; i < row.size(); ++i) {
          SCOPED_TRACE("i = " + std::to_string(i));
          EXPECT_EQ(mp_bits(alpha_mp[i]) >= q, true);
          if (masked(row[i])) {
            EXPECT_TRUE(alpha[i].is_zero());
            EXPECT_TRUE(alpha_mp[i] == 0);
            EXPECT_TRUE(arf_is_neg_inf(arb_midref(log_alpha[i].arb())));
            continue;
          }
          EXPECT_TRUE(contains(widened(alpha[i], alpha[i], model.alpha(i), q, 0, true), alpha_mp[i]))
              << alpha[i] << " vs Mp " << mp_to_double(alpha_mp[i]);
          EXPECT_LE(alpha[i].relative_radius(), rel_radius_bound) << alpha[i];
          const double abs_log = std::abs(log_alpha[i].mid());
          EXPECT_TRUE(contains(widened(log_alpha[i], Ball(1), model.log_alpha(i, abs_log), q),
                               log_alpha_mp[i]))
              << log_alpha[i];
          EXPECT_LE(log_alpha[i].radius(), (1 + abs_log) * rel_radius_bound) << log_alpha[i];
        }
        EXPECT_TRUE(contains(widened(lse, Ball(1), model.lse(std::abs(lse.mid())), q), lse_mp))
            << lse;
        EXPECT_LE(lse.radius(), (1 + std::abs(lse.mid())) * rel_radius_bound) << lse;
        EXPECT_TRUE(contains(widened(h, Ball(1), model.entropy(std::abs(h.mid())), q, 0, true), h_mp))
            << h;
        EXPECT_LE(h.radius(), (1 + model.xbar + model.log_l) * rel_radius_bound) << h;
      }
    }
  }
}

TEST(SoftmaxBall, MillionLogitsOfMagnitudeOneMillionSumToOneWithTightRadius) {
  const std::size_t length = 1'000'000;
  const long prec = 128;
  const unsigned seed = 7u;
  std::cout << "[ seed ] MillionLogits: mt19937 seed " << seed << "\n";
  RecordProperty("seed", static_cast<int>(seed));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(-1e6, 1e6);
  std::vector<Ball> logits;
  logits.reserve(length);
  for (std::size_t i = 0; i < length; ++i) logits.emplace_back(dist(rng), prec);
  logits[17] = Ball(-kInf, prec);  // a masked entry
  // T = 1e5 puts x_i in [−20, 0]: the mass is spread over many entries, not one spike.
  const std::vector<Ball> alpha = softmax<Ball>(logits, Ball(1e5, prec));
  arb_handles::ArbVecHandle v(static_cast<slong>(length));
  for (std::size_t i = 0; i < length; ++i) arb_set(v[static_cast<slong>(i)], alpha[i].arb());
  Ball one(1);
  Ball sum(0.0, prec);
  arb_dot(sum.arb(), nullptr, 0, v, 1, one.arb(), 0, static_cast<slong>(length), prec);
  EXPECT_TRUE(sum.contains(1.0)) << sum;
  EXPECT_TRUE(alpha[17].is_zero());
  // Each α_i has relative radius <= ~16·2^-p (see above) and the dot adds 2^-p: the sum's
  // radius is ~2^-p relative, far below the L·2^-p ≈ 2^-108 of a naive running sum.
  EXPECT_LE(sum.radius(), std::ldexp(32.0, -static_cast<int>(prec))) << sum;
}

// ---------------------------------------------------------------------------------------
// Working tiers agree with the enclosure within the a-priori bound
// ---------------------------------------------------------------------------------------

template <class F>
void expect_working_tier_within_bound() {
  const long prec = 256;
  const long q = std::numeric_limits<F>::digits;
  for (double t : {1e-3, 0.375, 1.0, 8.0, 1e3}) {
    for (const auto& row_d : logit_cases()) {
      std::vector<F> row;  // logits exactly representable in F
      std::vector<double> row_exact;
      for (double l : row_d) {
        row.push_back(static_cast<F>(l));
        row_exact.push_back(static_cast<double>(row.back()));
      }
      const F tf = static_cast<F>(t);
      const double t_exact = static_cast<double>(tf);
      SCOPED_TRACE(row_text(row_exact, t_exact, prec));
      const std::vector<Ball> lb = to_balls(row_exact, prec);
      const Ball tb(t_exact, prec);
      const std::vector<Ball> alpha = softmax<Ball>(lb, tb);
      const std::vector<Ball> log_alpha = log_softmax<Ball>(lb, tb);
      const Ball lse = log_sum_exp<Ball>(lb, tb);
      const Ball h = entropy<Ball>(lb, tb);
      const std::vector<F> alpha_w = softmax<F>(row, tf);
      const std::vector<F> log_alpha_w = log_softmax<F>(row, tf);
      const F lse_w = log_sum_exp<F>(row, tf);
      const F h_w = entropy<F>(row, tf);
      const SoftmaxErrorModel model(row_exact, t_exact, alpha);
      const double floor = underflow_floor<F>();
      for (std::size_t i = 0; i < row.size(); ++i) {
        SCOPED_TRACE("i = " + std::to_string(i));
        EXPECT_TRUE(widened(alpha[i], alpha[i], model.alpha(i), q, floor).contains(alpha_w[i]))
            << alpha_w[i] << " vs " << alpha[i];
        if (masked(row_exact[i])) {
          EXPECT_TRUE(std::isinf(log_alpha_w[i]) && log_alpha_w[i] < 0);
          continue;
        }
        const double abs_log = std::abs(log_alpha[i].mid());
        // Where the weight underflows, log α is still finite in the working tier (x_i − log S)
        // unless x_i itself overflowed; compare only finite values.
        if (std::isfinite(log_alpha_w[i])) {
          EXPECT_TRUE(widened(log_alpha[i], Ball(1), model.log_alpha(i, abs_log), q)
                          .contains(log_alpha_w[i]))
              << log_alpha_w[i] << " vs " << log_alpha[i];
        }
      }
      if (std::isfinite(lse_w)) {
        EXPECT_TRUE(widened(lse, Ball(1), model.lse(std::abs(lse.mid())), q).contains(lse_w))
            << lse_w << " vs " << lse;
      }
      // Underflowed terms are skipped: each is <= e^x·|x| < L·1e-30 in float and far less in
      // double, covered by the length·floor^(1/2) term below.
      EXPECT_TRUE(widened(h, Ball(1), model.entropy(std::abs(h.mid())), q,
                          model.length * std::sqrt(floor))
                      .contains(h_w))
          << h_w << " vs " << h;
    }
  }
}

TEST(SoftmaxWorkingTiers, DoubleWithinAPrioriBoundOfEnclosure) { expect_working_tier_within_bound<double>(); }
TEST(SoftmaxWorkingTiers, FloatWithinAPrioriBoundOfEnclosure) { expect_working_tier_within_bound<float>(); }

TEST(SoftmaxWorkingTiers, HugeLogitsDoNotOverflow) {
  const std::vector<double> row = {1e6, 1e6 - 1, -1e6, 1.7e308, 1.7e308};
  const std::vector<double> alpha = softmax<double>(row, 1.0);
  EXPECT_EQ(alpha[0], 0.0);
  EXPECT_EQ(alpha[3], 0.5);
  EXPECT_EQ(alpha[4], 0.5);
  EXPECT_EQ(log_sum_exp<double>(row, 1.0), 1.7e308 + std::log(2.0));
  EXPECT_NEAR(entropy<double>(row, 1.0), std::log(2.0), 4 * std::numeric_limits<double>::epsilon());
}

// ---------------------------------------------------------------------------------------
// Masking, in every tier
// ---------------------------------------------------------------------------------------

template <class T>
T make(double x) {
  if constexpr (std::is_same_v<T, Ball>) {
    return Ball(x, 128);
  } else if constexpr (std::is_same_v<T, Mp>) {
    return mp_from_double(x, 128);
  } else {
    return static_cast<T>(x);
  }
}

template <class T>
std::vector<T> make_row(const std::vector<double>& v) {
  std::vector<T> out;
  for (double x : v) out.push_back(make<T>(x));
  return out;
}

template <class T>
double as_double(const T& x) {
  if constexpr (std::is_same_v<T, Ball>) {
    return x.mid();
  } else if constexpr (std::is_same_v<T, Mp>) {
    return mp_to_double(x);
  } else {
    return static_cast<double>(x);
  }
}

template <class T>
void expect_fully_masked_row_gives_zeros() {
  const std::vector<T> row = make_row<T>({-kInf, -kInf, -kInf});
  const T t = make<T>(0.5);
  for (const T& a : softmax<T>(row, t)) EXPECT_EQ(as_double(a), 0.0);
  const double lse = as_double(log_sum_exp<T>(row, t));
  EXPECT_TRUE(std::isinf(lse) && lse < 0) << lse;
  for (const T& a : log_softmax<T>(row, t)) {
    EXPECT_TRUE(std::isinf(as_double(a)) && as_double(a) < 0);
  }
  EXPECT_EQ(as_double(entropy<T>(row, t)), 0.0);
  for (const T& a : normalise<T>(row, sigmoid_normaliser<T>())) EXPECT_EQ(as_double(a), 0.0);
}

TEST(SoftmaxMasking, FullyMaskedRowGivesZerosAndMinusInfNotNaN) {
  expect_fully_masked_row_gives_zeros<float>();
  expect_fully_masked_row_gives_zeros<double>();
  expect_fully_masked_row_gives_zeros<Mp>();
  expect_fully_masked_row_gives_zeros<Ball>();
}

template <class T>
void expect_masked_entries_are_dropped() {
  const std::vector<T> with_mask = make_row<T>({-kInf, 1.5, -kInf, -2.0, 0.25});
  const std::vector<T> without = make_row<T>({1.5, -2.0, 0.25});
  const T t = make<T>(0.75);
  const std::vector<T> a = softmax<T>(with_mask, t);
  const std::vector<T> b = softmax<T>(without, t);
  EXPECT_EQ(as_double(a[0]), 0.0);
  EXPECT_EQ(as_double(a[2]), 0.0);
  // The masked terms contribute exact zeros, so the same operations run on the same values:
  // identical results (for Ball: identical balls).
  const std::size_t kept[] = {1, 3, 4};
  for (std::size_t j = 0; j < 3; ++j) {
    if constexpr (std::is_same_v<T, Ball>) {
      EXPECT_TRUE(arb_equal(a[kept[j]].arb(), b[j].arb()) != 0) << a[kept[j]] << " vs " << b[j];
    } else {
      EXPECT_TRUE(a[kept[j]] == b[j]) << as_double(a[kept[j]]) << " vs " << as_double(b[j]);
    }
  }
  EXPECT_EQ(as_double(entropy<T>(with_mask, t)), as_double(entropy<T>(without, t)));
  EXPECT_EQ(as_double(log_sum_exp<T>(with_mask, t)), as_double(log_sum_exp<T>(without, t)));
}

TEST(SoftmaxMasking, MaskedEntriesGetZeroWeightAndDoNotChangeTheRest) {
  expect_masked_entries_are_dropped<float>();
  expect_masked_entries_are_dropped<double>();
  expect_masked_entries_are_dropped<Mp>();
  expect_masked_entries_are_dropped<Ball>();
}

// ---------------------------------------------------------------------------------------
// Bad input: exception type and a message that names the problem
// ---------------------------------------------------------------------------------------

template <class E, class Fn>
void expect_throws_naming(Fn&& fn, const std::vector<std::string>& words) {
  try {
    fn();
    ADD_FAILURE() << "no exception thrown";
  } catch (const E& e) {
    const std::string msg = e.what();
    for (const std::string& w : words) {
      EXPECT_NE(msg.find(w), std::string::npos) << "message '" << msg << "' lacks '" << w << "'";
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
  }
}

template <class T>
void expect_bad_input_rejected() {
  SCOPED_TRACE(std::string("tier ") + typeid(T).name());
  const T t = make<T>(1.0);
  const std::vector<T> empty;
  using Fn = std::function<void(std::span<const T>, const T&)>;
  const std::vector<std::pair<const char*, Fn>> functions = {
      {"softmax", [](std::span<const T> l, const T& x) { (void)softmax<T>(l, x); }},
      {"log_sum_exp", [](std::span<const T> l, const T& x) { (void)log_sum_exp<T>(l, x); }},
      {"log_softmax", [](std::span<const T> l, const T& x) { (void)log_softmax<T>(l, x); }},
      {"entropy", [](std::span<const T> l, const T& x) { (void)entropy<T>(l, x); }},
  };
  for (const auto& [name, f] : functions) {
    SCOPED_TRACE(name);
    expect_throws_naming<std::invalid_argument>([&] { f(empty, t); }, {name, "empty"});
    if constexpr (std::is_same_v<T, Mp>) {  // mp_from_double(NaN) itself throws
      std::vector<T> nan_row = make_row<T>({0.0, 1.0, 2.0});
      mpfr_set_nan(nan_row[2].backend().data());
      expect_throws_naming<std::domain_error>([&] { f(nan_row, t); }, {"logit 2", "NaN"});
    } else if constexpr (!std::is_same_v<T, Ball>) {  // Ball(NaN) itself throws
      const std::vector<T> nan_row = make_row<T>({0.0, 1.0, std::nan("")});
      expect_throws_naming<std::domain_error>([&] { f(nan_row, t); }, {"logit 2", "NaN"});
    } else {
      std::vector<T> nan_row = make_row<T>({0.0, 1.0, 2.0});
      arb_indeterminate(nan_row[2].arb());  // a NaN ball from Arb arithmetic
      expect_throws_naming<std::domain_error>([&] { f(nan_row, t); }, {"logit 2", "NaN"});
    }
    const std::vector<T> inf_row = make_row<T>({0.0, kInf, 1.0});
    expect_throws_naming<std::domain_error>([&] { f(inf_row, t); }, {"logit 1", "+inf"});
    const std::vector<T> ok_row = make_row<T>({0.0, 1.0});
    for (double bad_t : {0.0, -1.0, kInf, -kInf}) {
      expect_throws_naming<std::invalid_argument>([&] { f(ok_row, make<T>(bad_t)); },
                                                  {"temperature", "> 0"});
    }
    if constexpr (std::is_same_v<T, Ball>) {
      // A temperature ball that straddles 0 is not certainly > 0.
      expect_throws_naming<std::invalid_argument>(
          [&] { f(ok_row, Ball::interval(-0.1, 0.1, 64)); }, {"temperature", "certainly > 0"});
      // No working precision anywhere: exp of an exact ball is not computable.
      const std::vector<Ball> exact_row = {Ball(0.0), Ball(1.0)};
      expect_throws_naming<std::invalid_argument>([&] { f(exact_row, Ball(1.0)); },
                                                  {"precision"});
    } else {
      T nan_t = make<T>(1.0);
      if constexpr (std::is_same_v<T, Mp>) {
        mpfr_set_nan(nan_t.backend().data());
      } else {
        nan_t = std::numeric_limits<T>::quiet_NaN();
      }
      expect_throws_naming<std::invalid_argument>([&] { f(ok_row, nan_t); },
                                                  {"temperature", "> 0"});
    }
  }
  const std::vector<T> nonpositive_row = make_row<T>({0.5, -0.5});
  expect_throws_naming<std::domain_error>(
      [&] { (void)normalise<T>(nonpositive_row, [](const T& l) { return l; }); },
      {"F(logit 1)", "> 0"});
  expect_throws_naming<std::invalid_argument>([&] { (void)normalise<T>(empty, sigmoid_normaliser<T>()); },
                                              {"normalise", "empty"});
  expect_throws_naming<std::invalid_argument>(
      [&] { (void)normalise<T>(nonpositive_row, PositiveFunction<T>{}); }, {"F is empty"});
}

TEST(SoftmaxBadInput, RejectedWithNamedProblemInEveryTier) {
  expect_bad_input_rejected<float>();
  expect_bad_input_rejected<double>();
  expect_bad_input_rejected<Mp>();
  expect_bad_input_rejected<Ball>();
}

TEST(SoftmaxBadInput, BallNormaliserValueNotCertainlyPositiveIsRejected) {
  const std::vector<Ball> row = {Ball(0.0, 64), Ball(1.0, 64)};
  const PositiveFunction<Ball> straddling = [](const Ball& l) {
    return l - Ball::interval(0.5, 1.5, 64);  // F(1) = [−0.5, 0.5]
  };
  expect_throws_naming<std::domain_error>([&] { (void)normalise<Ball>(row, straddling); },
                                          {"F(logit 0)", "certainly"});
}

TEST(SoftmaxBadInput, DoubleNormaliserOverflowAndUnderflowAreRejected) {
  const std::vector<double> row = {800.0, 0.0};
  expect_throws_naming<std::domain_error>(
      [&] { (void)normalise<double>(row, exp_normaliser<double>(1.0)); }, {"F(logit 0)"});
  const std::vector<double> low = {0.0, -800.0};
  expect_throws_naming<std::domain_error>(
      [&] { (void)normalise<double>(low, sigmoid_normaliser<double>()); }, {"F(logit 1)", "underflow"});
}

TEST(NormaliserParameters, InvalidParametersAreRejectedWithTheirRange) {
  for (double bad : {0.0, -1.0, kInf, std::nan("")}) {
    expect_throws_naming<std::invalid_argument>([&] { (void)exp_normaliser<double>(bad); },
                                                {"temperature", "> 0"});
    expect_throws_naming<std::invalid_argument>([&] { (void)softplus_normaliser<Ball>(bad); },
                                                {"shift c", "> 0"});
    expect_throws_naming<std::invalid_argument>([&] { (void)power_normaliser<Mp>(1.0, bad); },
                                                {"exponent p", "> 0"});
  }
  for (double bad : {-1.0, kInf, std::nan("")}) {
    expect_throws_naming<std::invalid_argument>([&] { (void)power_normaliser<float>(bad, 2.0); },
                                                {"half-width a", ">= 0"});
  }
  expect_throws_naming<std::domain_error>(
      [&] { (void)power_normaliser<double>(1.0, 2.0)(1.5); }, {"[-a, a]", "1.5"});
  expect_throws_naming<std::domain_error>(
      [&] { (void)power_normaliser<Ball>(1.0, 2.0)(Ball(-1.25, 64)); }, {"[-a, a]"});
}

// ---------------------------------------------------------------------------------------
// General normaliser
// ---------------------------------------------------------------------------------------

struct NamedNormaliser {
  const char* name;
  double a;  // logits are drawn from [−a, a]
  std::function<PositiveFunction<double>()> in_double;
  std::function<PositiveFunction<Mp>()> in_mp;
  std::function<PositiveFunction<Ball>()> in_ball;
  double log_derivative_bound;  // sup |d log F / dl| on [−a, a]: F's error amplification
};

std::vector<NamedNormaliser> builtin_normalisers() {
  return {
      {"exp(l/0.5)", 4.0, [] { return exp_normaliser<double>(0.5); },
       [] { return exp_normaliser<Mp>(0.5); }, [] { return exp_normaliser<Ball>(0.5); }, 2.0},
      {"softplus(l)+0.1", 4.0, [] { return softplus_normaliser<double>(0.1); },
       [] { return softplus_normaliser<Mp>(0.1); }, [] { return softplus_normaliser<Ball>(0.1); },
       1.0},
      {"sigmoid(l)", 4.0, [] { return sigmoid_normaliser<double>(); },
       [] { return sigmoid_normaliser<Mp>(); }, [] { return sigmoid_normaliser<Ball>(); }, 1.0},
      {"(l+a+1)^2.5", 4.0, [] { return power_normaliser<double>(4.0, 2.5); },
       [] { return power_normaliser<Mp>(4.0, 2.5); },
       [] { return power_normaliser<Ball>(4.0, 2.5); }, 2.5},
  };
}

std::vector<double> normaliser_row(std::size_t length, double a, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> k(-64, 64);  // multiples of a/64: ties are likely
  std::vector<double> row(length);
  for (double& l : row) l = a * k(rng) / 64.0;
  if (length >= 2) row[0] = -a, row[1] = a;  // the extremes of the domain
  return row;
}

TEST(Normaliser, BuiltinsAgreeAcrossTiersAndBallEnclosesMp) {
  const long prec = 64, q = 256;
  const unsigned seed = 99u;
  std::cout << "[ seed ] Normaliser rows: mt19937 seed " << seed << " (+ length)\n";
  for (const NamedNormaliser& f : builtin_normalisers()) {
    for (std::size_t length : {1u, 2u, 5u, 33u}) {
      SCOPED_TRACE(std::string(f.name) + ", L = " + std::to_string(length));
      const std::vector<double> row = normaliser_row(length, f.a, seed + length);
      const std::vector<Ball> alpha = normalise<Ball>(to_balls(row, prec), f.in_ball());
      std::vector<Mp> alpha_mp;
      {
        MpPrecision guard(q);
        alpha_mp = normalise<Mp>(to_mps(row, q), f.in_mp());
      }
      const std::vector<double> alpha_d = normalise<double>(row, f.in_double());
      // F is a composition of a few correctly rounded (Mp) or <= 1-ulp (libm) operations: its
      // relative error is <= (8 + log_derivative_bound·a)·u (input shifts like l + a + 1
      // are amplified by the log-derivative); the sum adds γ_L and the division u. Factor 2
      // as in softmax_test_support.hpp.
      const double k =
          2 * (2 * (8 + f.log_derivative_bound * (2 * f.a + 1)) + static_cast<double>(length) + 2);
      for (std::size_t i = 0; i < length; ++i) {
        EXPECT_TRUE(contains(widened(alpha[i], alpha[i], k, q), alpha_mp[i])) << alpha[i];
        EXPECT_LE(alpha[i].relative_radius(), std::ldexp(64.0, -static_cast<int>(prec)))
            << alpha[i];
        EXPECT_TRUE(widened(alpha[i], alpha[i], k, 53).contains(alpha_d[i]))
            << alpha_d[i] << " vs " << alpha[i];
      }
    }
  }
}

TEST(Normaliser, ExpNormaliserIsSoftmax) {
  const std::vector<double> row = {-3.0, 0.5, 2.0, 2.0, -0.125};
  const std::vector<Ball> lb = to_balls(row, 128);
  const std::vector<Ball> a = normalise<Ball>(lb, exp_normaliser<Ball>(0.75));
  const std::vector<Ball> b = softmax<Ball>(lb, Ball(0.75, 128));
  // Both enclose the same exact vector, so disjoint balls would prove a bug.
  for (std::size_t i = 0; i < row.size(); ++i) EXPECT_TRUE(a[i].overlaps(b[i])) << a[i] << b[i];
}

TEST(Normaliser, LemmaOneBoundsHoldCertifiedForEveryBuiltin) {
  // Paper A, lemma 1 with the reconstructed constants: for logits in [−a, a] and F
  // independent of L, C1/L <= α_i <= C2/L with C1 = min F / max F, C2 = max F / min F. Every
  // built-in F is increasing, so min F = F(−a), max F = F(a). The inequalities are strict
  // here (F(−a) < F(a)), so at 128 bits they must be proved, not just possible.
  const long prec = 128;
  const unsigned seed = 5u;
  std::cout << "[ seed ] Lemma 1 rows: mt19937 seed " << seed << " (+ length)\n";
  for (const NamedNormaliser& f : builtin_normalisers()) {
    const PositiveFunction<Ball> fb = f.in_ball();
    const Ball f_min = fb(Ball(-f.a, prec));
    const Ball f_max = fb(Ball(f.a, prec));
    const Ball c1 = f_min / f_max;
    const Ball c2 = f_max / f_min;
    for (std::size_t length : {1u, 2u, 5u, 64u, 1000u}) {
      SCOPED_TRACE(std::string(f.name) + ", L = " + std::to_string(length));
      const std::vector<double> row = normaliser_row(length, f.a, seed + length);
      const std::vector<Ball> alpha = normalise<Ball>(to_balls(row, prec), fb);
      const Ball l(static_cast<int>(length));
      for (const Ball& a : alpha) {
        ASSERT_TRUE(certainly(a >= c1 / l)) << a << " vs C1/L = " << c1 / l;
        ASSERT_TRUE(certainly(a <= c2 / l)) << a << " vs C2/L = " << c2 / l;
      }
    }
  }
}

}  // namespace
}  // namespace attncert
