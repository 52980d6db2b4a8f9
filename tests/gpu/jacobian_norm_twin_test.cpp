// The jacobian_norm CPU twin against the certified ground truth (quick shape matrix, every row
// within its a-priori bound), its exact special cases, determinism, the solver's termination,
// and can_run's one-line refusals. Runs without a GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "gpu/dtype.hpp"
#include "gpu/jacobian_norm.hpp"
#include "gpu/jacobian_norm_tile.cuh"
#include "numerics/rng.hpp"
#include "tests/gpu/kernel_check_test_support.hpp"
#include "proofs_checks/jacobian_norm_check.hpp"

namespace attncert::gpu {
namespace {

constexpr std::uint64_t kSeed = 20261123;
constexpr DType kDtypes[] = {DType::f32, DType::f16, DType::bf16};

/// Rows stored in `dtype` (fp32 floats or 16-bit patterns), rounded from floats.
struct Buffer {
  DType dtype;
  std::vector<std::uint32_t> storage;
  Buffer(DType t, const std::vector<float>& values) : dtype(t), storage((values.size() * 4 + 3) / 4 + 1) {
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (t == DType::f32) {
        reinterpret_cast<float*>(storage.data())[i] = values[i];
      } else {
        reinterpret_cast<std::uint16_t*>(storage.data())[i] =
            t == DType::f16 ? float_to_f16_bits(values[i]) : float_to_bf16_bits(values[i]);
      }
    }
  }
  const void* data() const { return storage.data(); }
};

std::vector<float> run_twin(DType t, const std::vector<float>& logits, long long rows,
                            long long length, const std::vector<float>& temps) {
  const Buffer buffer(t, logits);
  std::vector<float> out(static_cast<std::size_t>(rows) * temps.size(), -1.0f);
  const JacobianNormArgs args{t, buffer.data(), rows, length, temps.data(),
                              static_cast<int>(temps.size()), out.data()};
  const KernelStatus s = jacobian_norm_twin(args);
  EXPECT_TRUE(s.ok()) << s.message;
  return out;
}

TEST(JacobianNormTwin, QuickShapeMatrixStaysWithinTheDerivedBound) {
  SCOPED_TRACE("seed = " + std::to_string(kSeed));
  KernelCheckRequest request;
  request.seed = kSeed;
  request.quick = true;
  request.prefer_device = false;
  const std::vector<KernelCheckRow> rows = check_jacobian_norm(request);
  ASSERT_FALSE(rows.empty());
  double worst = 0;
  std::vector<double> ratios, probabilistic_ratios;
  bool some_quantization = false;
  for (const KernelCheckRow& r : rows) {
    SCOPED_TRACE(fmt::format("{} {} {}", r.dtype, r.shape, r.variant));
    EXPECT_EQ(r.executed_on, "twin");
    EXPECT_LE(r.ratio, 1.0) << r.note;
    EXPECT_TRUE(r.deterministic);
    EXPECT_TRUE(r.pass) << r.note;
    // Judged against the truth of the logits as read, the arithmetic bound is never trivial.
    EXPECT_FALSE(r.vacuous) << r.note;
    EXPECT_GE(r.max_abs_error, 0.0);
    EXPECT_LE(r.probabilistic_bound, r.bound);
    EXPECT_GE(r.probabilistic_ratio, r.ratio);
    EXPECT_EQ(r.false_alarm, request.false_alarm);
    EXPECT_LE(r.input_quantization_low, r.input_quantization_high);
    some_quantization = some_quantization || r.input_quantization_low > 0;
    worst = std::max(worst, r.ratio);
    ratios.push_back(r.ratio);
    probabilistic_ratios.push_back(r.probabilistic_ratio);
    std::cout << fmt::format("{:5} {:22} {:13} err {:9.3g} bound {:9.3g} ratio {:9.3g} p-ratio {:9.3g} "
                             "quant [{:.3g}, {:.3g}] naive {:9.3g} FA {}\n",
                             r.dtype, r.shape, r.variant, r.max_abs_error, r.bound, r.ratio,
                             r.probabilistic_ratio, r.input_quantization_low,
                             r.input_quantization_high, r.naive_error, r.fa_rule_pass ? "pass" : "FAIL");
  }
  std::sort(ratios.begin(), ratios.end());
  std::sort(probabilistic_ratios.begin(), probabilistic_ratios.end());
  const double median = ratios[ratios.size() / 2];
  std::cout << fmt::format("median ratio {:.3g}, median probabilistic ratio {:.3g}\n", median,
                           probabilistic_ratios[probabilistic_ratios.size() / 2]);
  RecordProperty("worst_ratio", fmt::format("{:.3g}", worst));
  RecordProperty("median_ratio", fmt::format("{:.3g}", median));
  // Rounding the (double) logits to the dtype moves the certified norm somewhere, provably.
  EXPECT_TRUE(some_quantization);
  // Not absurdly loose: the worst case reaches 10% of the bound, and the median is at least 3×
  // the 0.009 of the a-priori bound of issue 19 (its headline target).
  EXPECT_GT(worst, 0.1);
  EXPECT_GT(median, 3 * 0.009);
}

TEST(JacobianNormTwin, FullyMaskedAndSingleEntryRowsGiveExactlyZero) {
  const float inf = std::numeric_limits<float>::infinity();
  for (DType t : kDtypes) {
    SCOPED_TRACE(std::string(dtype_name(t)));
    // Row 0 fully masked, row 1 a single unmasked entry, row 2 L = 5 with one entry.
    const std::vector<float> logits = {-inf, -inf, -inf, -inf, -inf,  //
                                       -inf, 3.5f, -inf, -inf, -inf,  //
                                       -inf, -inf, -inf, -inf, -7.0f};
    const std::vector<float> out = run_twin(t, logits, 3, 5, {0.01f, 1.0f, 100.0f});
    for (float x : out) {
      EXPECT_EQ(x, 0.0f);
      EXPECT_FALSE(std::signbit(x));
    }
    // L = 1.
    const std::vector<float> one = run_twin(t, {2.0f}, 1, 1, {0.5f});
    EXPECT_EQ(one[0], 0.0f);
  }
}

TEST(JacobianNormTwin, EqualLogitsGiveOneOverMTExactlyRounded) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> temps = {0.01f, 0.1f, 1.0f, 10.0f, 100.0f};
  for (DType t : kDtypes) {
    SCOPED_TRACE(std::string(dtype_name(t)));
    // Two equal logits (others masked): λ = 1 exactly, S = 2 exactly, ‖J‖ = fl(1/fl(2T)), and
    // 2T is exact, so the output is 1/(2T) correctly rounded. Four equal: fl(1/fl(4T)).
    const std::vector<float> logits = {-inf, 1.25f, -inf, 1.25f, 0.5f, 0.5f, 0.5f, 0.5f};
    const std::vector<float> out = run_twin(t, logits, 2, 4, temps);
    for (std::size_t k = 0; k < temps.size(); ++k) {
      EXPECT_EQ(out[k], 1.0f / (2.0f * temps[k])) << "T = " << temps[k];
      EXPECT_EQ(out[temps.size() + k], 1.0f / (4.0f * temps[k])) << "T = " << temps[k];
    }
  }
}

TEST(JacobianNormTwin, NanOrPlusInfLogitGivesNanForThatRowOnly) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  for (DType t : kDtypes) {
    SCOPED_TRACE(std::string(dtype_name(t)));
    const std::vector<float> out =
        run_twin(t, {0.0f, nan, 1.0f, 0.0f, inf, 1.0f, 0.0f, 0.5f, 1.0f}, 3, 3, {1.0f});
    EXPECT_TRUE(std::isnan(out[0]));
    EXPECT_TRUE(std::isnan(out[1]));
    EXPECT_TRUE(std::isfinite(out[2]));
  }
}

TEST(JacobianNormTwin, RepeatedRunsAreBitIdentical) {
  SCOPED_TRACE("seed = " + std::to_string(kSeed));
  Rng rng(kSeed);
  const long long rows = 16, L = 1000;
  std::vector<float> logits(static_cast<std::size_t>(rows * L));
  for (float& x : logits) x = static_cast<float>(rng.normal(0.0, 4.0));
  const std::vector<float> temps = {0.01f, 0.3f, 1.0f, 30.0f};
  for (DType t : kDtypes) {
    const std::vector<float> a = run_twin(t, logits, rows, L, temps);
    const std::vector<float> b = run_twin(t, logits, rows, L, temps);
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0) << dtype_name(t);
  }
}

TEST(JacobianNormTwin, SolverStopsOnItsRulesNeverOnTheIterationCap) {
  // Rows built to stress the bracket: near-ties of the top two weights, a second weight at the
  // e^−69 floor, clusters of weights just below b, and plain random rows, over L and T.
  SCOPED_TRACE("seed = " + std::to_string(kSeed));
  Rng rng(kSeed + 7);
  int worst_iterations = 0, solved = 0;
  for (int trial = 0; trial < 600; ++trial) {
    const long long L = std::vector<long long>{2, 3, 5, 64, 257, 4096}[static_cast<std::size_t>(trial % 6)];
    const float T = std::vector<float>{0.01f, 0.1f, 1.0f, 10.0f}[static_cast<std::size_t>((trial / 6) % 4)];
    std::vector<float> row(static_cast<std::size_t>(L));
    const int kind = (trial / 24) % 5;
    for (float& x : row) x = static_cast<float>(rng.normal(0.0, 3.0));
    if (kind == 1) {  // top two within a few ulps of each other (in l/T)
      row[0] = 10.0f;
      row[1] = std::nextafter(10.0f, 0.0f);
      for (std::size_t j = 2; j < row.size(); ++j) row[j] = std::min(row[j], 9.0f);
    } else if (kind == 2) {  // second weight near the floor e^−69
      row[0] = 0.0f;
      for (std::size_t j = 1; j < row.size(); ++j) row[j] = -68.9f * T - static_cast<float>(rng.uniform()) * T;
    } else if (kind == 3) {  // a cluster of equal and nearly equal weights under the top
      row[0] = 1.0f;
      for (std::size_t j = 1; j < row.size(); ++j) row[j] = (j % 2 ? 0.0f : std::nextafter(0.0f, -1.0f)) - 1e-3f * static_cast<float>(j % 5);
    } else if (kind == 4) {  // wide dynamic range
      for (float& x : row) x = static_cast<float>(rng.uniform(-60.0, 0.0)) * T;
    }
    const JacobianNormTwinTrace trace = jacobian_norm_twin_trace(DType::f32, row.data(), L, T);
    ASSERT_NE(trace.solver_exit, 4) << "trial " << trial << " L " << L << " T " << T << " kind " << kind;
    ASSERT_TRUE(std::isfinite(trace.norm));
    if (trace.solver_exit == 2 || trace.solver_exit == 3) ++solved;
    worst_iterations = std::max(worst_iterations, trace.iterations);
  }
  RecordProperty("worst_iterations", worst_iterations);
  EXPECT_GT(solved, 300);  // most trials reach the iteration (not a tie or a single weight)
  EXPECT_LE(worst_iterations, 40 + 29);  // Newton phase + the bisection tail's worst case
}

TEST(JacobianNormTwin, BisectionTailClosesTheWidestBracketBeforeTheCap) {
  // The cap argument: from step kNewtonIterations on the solver only bisects, and must reach
  // an exit from any bracket inside [2^-100, 1] within 29 more steps. Two positive weights
  // (a = 1, b; R = 0) give the root λ* = 2ab/(a + b) exactly, to compare with.
  namespace tile = jacobian_norm_tile;
  for (const float b : {0x1p-100f, 0x1p-60f, 1e-9f, 0.25f, 0.5f, 1.0f - 0x1p-20f}) {
    SCOPED_TRACE(fmt::format("b = {:a}", b));
    tile::SolverState s = tile::start_solver(1.0f, b, 1, 2);
    s.iterations = tile::kNewtonIterations;  // skip Newton: the worst case is pure bisection
    s.lambda = tile::bisection_point(s.lo, s.hi);
    while (!s.done) s = tile::solver_step(s, tile::SecularScan{0.0f, 0.0f});
    EXPECT_NE(s.exit, tile::SolverExit::cap);
    EXPECT_LE(s.iterations, tile::kNewtonIterations + 29);
    // Exit accuracy: within the bound's solver term (proofs_checks/jacobian_norm_check.cpp: the
    // bracket exit is within 2^-22 of λ* in log, the noise exit within log((1+c)/(1-c))).
    const double tolerance = jacobian_norm_error_bound(DType::f32, 2, 0.0, 1.0f).solver_part;
    const double root = 2.0 * b / (1.0 + static_cast<double>(b));
    EXPECT_LE(std::fabs(std::log(s.lambda / root)), tolerance) << s.lambda << " vs " << root;
  }
}

TEST(JacobianNormTwin, CanRunNamesEachBadInput) {
  std::vector<float> logits(64, 0.0f), out(64, 0.0f);
  const float temps[] = {1.0f};
  const JacobianNormArgs good{DType::f32, logits.data(), 2, 8, temps, 1, out.data()};
  ASSERT_TRUE(can_run_jacobian_norm(good).ok());
  struct Bad {
    const char* what;
    JacobianNormArgs args;
    KernelStatusCode code;
    const char* says;
  };
  const float zero_t[] = {0.0f}, negative_t[] = {-1.0f},
              nan_t[] = {std::numeric_limits<float>::quiet_NaN()},
              inf_t[] = {std::numeric_limits<float>::infinity()}, tiny_t[] = {1e-35f};
  std::vector<float> many_t(65, 1.0f);
  auto with = [&](auto change) {
    JacobianNormArgs a = good;
    change(a);
    return a;
  };
  const std::vector<Bad> cases = {
      {"L = 0", with([](auto& a) { a.length = 0; }), KernelStatusCode::empty_input, "row length L = 0"},
      {"R = 0", with([](auto& a) { a.rows = 0; }), KernelStatusCode::empty_input, "rows = 0"},
      {"L too long", with([](auto& a) { a.length = kJacobianNormMaxLength + 1; }),
       KernelStatusCode::unsupported_shape, "exceeds the limit"},
      {"no temperatures", with([](auto& a) { a.num_temperatures = 0; }),
       KernelStatusCode::empty_input, "no temperature"},
      {"too many temperatures", with([&](auto& a) { a.temperatures = many_t.data(); a.num_temperatures = 65; }),
       KernelStatusCode::unsupported_shape, "65 temperatures"},
      {"T = 0", with([&](auto& a) { a.temperatures = zero_t; }), KernelStatusCode::invalid_argument, "temperature 0 is 0"},
      {"T < 0", with([&](auto& a) { a.temperatures = negative_t; }), KernelStatusCode::invalid_argument, "is -1"},
      {"T NaN", with([&](auto& a) { a.temperatures = nan_t; }), KernelStatusCode::invalid_argument, "nan"},
      {"T inf", with([&](auto& a) { a.temperatures = inf_t; }), KernelStatusCode::invalid_argument, "inf"},
      {"T tiny", with([&](auto& a) { a.temperatures = tiny_t; }), KernelStatusCode::invalid_argument, "1e-30"},
      {"null logits", with([](auto& a) { a.logits = nullptr; }), KernelStatusCode::null_pointer, "logits pointer is null"},
      {"null out", with([](auto& a) { a.out = nullptr; }), KernelStatusCode::null_pointer, "output pointer is null"},
      {"null temperatures", with([](auto& a) { a.temperatures = nullptr; }), KernelStatusCode::null_pointer, "temperatures pointer is null"},
      {"misaligned fp32 logits",
       with([&](auto& a) { a.logits = reinterpret_cast<const char*>(logits.data()) + 2; }),
       KernelStatusCode::misaligned_pointer, "aligned to 4 bytes (fp32"},
      {"misaligned fp16 logits",
       with([&](auto& a) { a.dtype = DType::f16; a.logits = reinterpret_cast<const char*>(logits.data()) + 1; }),
       KernelStatusCode::misaligned_pointer, "aligned to 2 bytes (fp16"},
      {"misaligned out",
       with([&](auto& a) { a.out = reinterpret_cast<float*>(reinterpret_cast<char*>(out.data()) + 2); }),
       KernelStatusCode::misaligned_pointer, "output pointer is not aligned"},
  };
  for (const Bad& c : cases) {
    SCOPED_TRACE(c.what);
    const KernelStatus s = can_run_jacobian_norm(c.args);
    EXPECT_EQ(s.code, c.code) << s.message;
    EXPECT_NE(s.message.find(c.says), std::string::npos) << s.message;
    EXPECT_EQ(s.message.find('\n'), std::string::npos);
    // Every entry point refuses the same way, before touching any pointer.
    EXPECT_EQ(jacobian_norm_twin(c.args).code, c.code);
    EXPECT_EQ(run_jacobian_norm_on_device(c.args).code, c.code);
  }
}

TEST(JacobianNormTwin, BoundGrowsWithInputRoundingAndIsVacuousWhenItMustBe) {
  // fp32, moderate logits: ρ of the order of a few hundred u (exponent and exp roundings).
  const JacobianNormBound f32 = jacobian_norm_error_bound(DType::f32, 64, 10.0, 1.0f);
  EXPECT_GT(f32.rho, 1e-6);
  EXPECT_LT(f32.rho, 1e-4);
  // bf16 at T = 0.01 with |l| = 5e4: rounding the logits (spacing 256) changes l/T by 10⁴.
  const JacobianNormBound bf16 = jacobian_norm_error_bound(DType::bf16, 64, 5e4, 0.01f);
  EXPECT_TRUE(std::isinf(bf16.rho));
  // Monotone in the dtype's precision.
  EXPECT_LT(f32.rho, jacobian_norm_error_bound(DType::f16, 64, 10.0, 1.0f).rho);
  EXPECT_LT(jacobian_norm_error_bound(DType::f16, 64, 10.0, 1.0f).rho,
            jacobian_norm_error_bound(DType::bf16, 64, 10.0, 1.0f).rho);
}

// The bound is a function of the kernel's constants (issue 16): changing one moves it the way
// the derivation says. Fewer lanes make every warp sum deeper (γ_D, and K of the noise exit); a
// wider bracket exit or a larger noise factor lets the solver stop further from the root; a
// higher weight floor drops more mass (τ).
TEST(JacobianNormTwin, BoundFollowsTheKernelGeometry) {
  const JacobianNormGeometry& kernel = kJacobianNormGeometry;
  const auto bound = [](const JacobianNormGeometry& g) {
    return jacobian_norm_error_bound(DType::f32, 4096, 10.0, 1.0f, g);
  };
  const JacobianNormBound base = bound(kernel);
  EXPECT_EQ(base.rho, jacobian_norm_error_bound(DType::f32, 4096, 10.0, 1.0f).rho);
  EXPECT_EQ(base.tau, jacobian_norm_error_bound(DType::f32, 4096, 10.0, 1.0f).tau);

  JacobianNormGeometry narrower = kernel;
  narrower.warp_size = 16;  // depth ⌈4096/16⌉ + 3 = 259 instead of ⌈4096/32⌉ + 4 = 132
  EXPECT_GT(bound(narrower).rho, base.rho);
  JacobianNormGeometry wider_exit = kernel;
  wider_exit.bracket_exit_width = 0x1p-12f;  // above the noise exit's log error (5e-5 here)
  EXPECT_GT(bound(wider_exit).solver_part, base.solver_part);
  EXPECT_GT(bound(wider_exit).rho, base.rho);
  JacobianNormGeometry noisier = kernel;
  noisier.noise_factor = 4;
  EXPECT_GT(bound(noisier).rho, base.rho);
  JacobianNormGeometry higher_floor = kernel;
  higher_floor.weight_floor_exponent = -40.0f;
  EXPECT_GT(bound(higher_floor).tau, base.tau);
}

// The constants the bound assumes are the ones the twin runs: its sums' depth (⌈L/32⌉ + 4 for
// 32 lanes, as counted in the derivation) and its weight floor.
TEST(JacobianNormTwin, TwinRunsTheGeometryTheBoundAssumes) {
  namespace tile = jacobian_norm_tile;
  for (long long L : {1LL, 31LL, 32LL, 33LL, 1000LL, kJacobianNormMaxLength}) {
    EXPECT_EQ(jacobian_norm_sum_depth(L, kJacobianNormGeometry.warp_size), (L + 31) / 32 + 4) << L;
    EXPECT_EQ(tile::secular_noise_k(L), (L + 31) / 32 + 13) << L;
  }
  const float floor = kJacobianNormGeometry.weight_floor_exponent;
  EXPECT_GT(tile::weight_of(floor, 0.0f, 1.0f), 0.0f);
  EXPECT_EQ(tile::weight_of(std::nextafter(floor, -1e9f), 0.0f, 1.0f), 0.0f);
}

// Cases run on worker threads; the rows, in order and bit for bit, must not depend on how many.
TEST(JacobianNormTwin, ValidationRowsDoNotDependOnTheNumberOfJobs) {
  expect_rows_independent_of_jobs(check_jacobian_norm, DType::f16, 7);
}

// Review finding: fp16 logits beyond 65520 overflow to −inf in the kernel (a masked entry), so
// the rounding model behind ρ fails; the bound must say so instead of promising accuracy.
TEST(JacobianNormTwin, LogitsBeyondTheDtypeRangeGetNoFiniteBound) {
  EXPECT_TRUE(std::isinf(jacobian_norm_error_bound(DType::f16, 2, 65600.0, 100.0f).rho));
  EXPECT_TRUE(std::isinf(jacobian_norm_error_bound(DType::f16, 2, 65520.0, 100.0f).rho));
  EXPECT_TRUE(std::isfinite(jacobian_norm_error_bound(DType::f16, 2, 65519.0, 100.0f).rho));
  // 65600 is well inside bf16's range: at T = 1e6 the rounding term u_d·M/T is small.
  EXPECT_TRUE(std::isfinite(jacobian_norm_error_bound(DType::bf16, 2, 65600.0, 1e6f).rho));
}

}  // namespace
}  // namespace attncert::gpu
