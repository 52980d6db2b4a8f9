// Experiments softmax-linear-separation, rank-spectra and approximation-error on tiny grids:
// their columns and series, byte-identical CSV for the same seed, values that are known exactly
// (rank of a rank-1 instance, the Performer closed form inside the Monte Carlo interval, the
// Taylor remainder), clear errors for unknown axes, and summarize() on constructed tables.
#include <boost/math/distributions/students_t.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <stdexcept>
#include <string>

#include "reports/sweep.hpp"

namespace attncert::sweeps {
namespace {

constexpr std::uint64_t kSeed = 20261123;

const Experiment& experiment(const std::string& name) {
  const Experiment* e = find_experiment(name);
  if (e == nullptr) throw std::logic_error("experiment " + name + " is not registered");
  return *e;
}

std::set<std::string> column_values(const SweepTable& t, bool series) {
  std::set<std::string> out;
  for (const SweepRow& r : t.rows) out.insert(series ? r.series : r.statistic);
  return out;
}

std::size_t column(const SweepTable& t, const std::string& name) {
  const auto it = std::find(t.parameter_names.begin(), t.parameter_names.end(), name);
  if (it == t.parameter_names.end()) throw std::logic_error("no parameter " + name);
  return static_cast<std::size_t>(it - t.parameter_names.begin());
}

const SweepRow& find_row(const SweepTable& t, const std::string& series, const std::string& statistic,
                         const std::map<std::string, double>& at = {}) {
  for (const SweepRow& r : t.rows) {
    if (r.series != series || r.statistic != statistic) continue;
    bool match = true;
    for (const auto& [name, value] : at) match = match && r.parameters[column(t, name)] == value;
    if (match) return r;
  }
  throw std::logic_error("no row " + series + " / " + statistic);
}

// Every figure curve names a series/statistic/column the table actually has (else the report
// would draw an empty plot).
void expect_figures_match_table(const Experiment& e, const SweepTable& t) {
  for (const FigureSpec& f : e.figures) {
    SCOPED_TRACE(f.id);
    EXPECT_NE(std::find(t.parameter_names.begin(), t.parameter_names.end(), f.x_parameter),
              t.parameter_names.end());
    for (const auto& [name, value] : f.fixed) {
      EXPECT_NE(std::find(t.parameter_names.begin(), t.parameter_names.end(), name), t.parameter_names.end())
          << name;
    }
    for (const CurveSpec& c : f.curves) {
      SCOPED_TRACE(c.legend);
      EXPECT_TRUE(std::any_of(t.rows.begin(), t.rows.end(), [&](const SweepRow& r) {
        return r.series == c.series && r.statistic == c.statistic;
      }));
      if (c.y_column != "value") {
        EXPECT_NE(std::find(t.bound_names.begin(), t.bound_names.end(), c.y_column), t.bound_names.end());
      }
    }
  }
}

// run() reports progress once per grid point, counting up to the total.
void expect_progress_per_point(const Experiment& e, const Grid& g, std::size_t points) {
  std::vector<std::pair<std::size_t, std::size_t>> calls;
  e.run(g, kSeed, 1, [&](std::size_t done, std::size_t total) { calls.emplace_back(done, total); });
  ASSERT_EQ(calls.size(), points);
  for (std::size_t i = 0; i < points; ++i) EXPECT_EQ(calls[i], std::make_pair(i + 1, points));
}

// ---- softmax-linear-separation ----------------------------------------------------------------

Grid separation_grid() {
  return Grid{{{"n", {4, 256}}, {"samples", {300}}}};
}

TEST(SoftmaxLinearSeparationSweep, ColumnsSeriesAndFigures) {
  RecordProperty("seed", std::to_string(kSeed));
  SCOPED_TRACE("seed " + std::to_string(kSeed));
  const Experiment& e = experiment("softmax-linear-separation");
  const SweepTable t = e.run(separation_grid(), kSeed, 1, {});
  EXPECT_EQ(t.parameter_names, (std::vector<std::string>{"n", "B", "R", "r", "beta", "mu", "samples"}));
  EXPECT_EQ(t.bound_names.size(), 2u);
  EXPECT_EQ(column_values(t, true), (std::set<std::string>{"softmax", "linear", "power s^beta"}));
  for (const char* stat : {"best-threshold test error", "AUC", "gap min_D1 F - max_D0 F", "min_D1 p_1"}) {
    EXPECT_TRUE(column_values(t, false).count(stat)) << stat;
  }
  expect_figures_match_table(e, t);
  // Error rows carry a Clopper-Pearson interval around the rate.
  const SweepRow& err = find_row(t, "linear", "best-threshold test error", {{"n", 256}});
  ASSERT_TRUE(err.ci_low && err.ci_high);
  EXPECT_LE(*err.ci_low, err.value);
  EXPECT_GE(*err.ci_high, err.value);
  expect_progress_per_point(e, separation_grid(), 2);
}

TEST(SoftmaxLinearSeparationSweep, SameSeedSameBytesOtherSeedOtherData) {
  RecordProperty("seed", std::to_string(kSeed));
  SCOPED_TRACE("seed " + std::to_string(kSeed));
  const Experiment& e = experiment("softmax-linear-separation");
  const std::string a = sweep_csv(e.run(separation_grid(), kSeed, 1, {}));
  EXPECT_EQ(a, sweep_csv(e.run(separation_grid(), kSeed, 1, {})));
  EXPECT_NE(a, sweep_csv(e.run(separation_grid(), kSeed + 1, 1, {})));
}

// At n = 4 the linear spike weight is exactly B/(B + Σ_{j≥2} s_j) with s_j ∈ [r, R]: between the
// two bounds of B.spike-linear, and the softmax one above its bound. At n = 256 softmax still
// separates (B − R = 6 > ln 255 ≈ 5.5 by a margin: error ≈ 0) while linear attention's spike weight
// B/(B + 255·1.25) ≈ 0.025 is buried in noise of size ‖p‖₂ ≈ 0.06 (error well above 0.2).
TEST(SoftmaxLinearSeparationSweep, SoftmaxSeparatesLinearDoesNotAndBoundsHold) {
  RecordProperty("seed", std::to_string(kSeed));
  SCOPED_TRACE("seed " + std::to_string(kSeed));
  const SweepTable t = experiment("softmax-linear-separation").run(separation_grid(), kSeed, 1, {});
  for (const SweepRow& r : t.rows) {
    if (r.bounds[0]) {
      EXPECT_GE(r.value, *r.bounds[0]) << r.series << " " << r.statistic;
    }
    if (r.bounds[1]) {
      EXPECT_LE(r.value, *r.bounds[1]) << r.series << " " << r.statistic;
    }
  }
  EXPECT_LE(find_row(t, "softmax", "best-threshold test error", {{"n", 256}}).value, 0.01);
  EXPECT_GT(find_row(t, "softmax", "gap min_D1 F - max_D0 F", {{"n", 256}}).value, 0);
  EXPECT_GE(find_row(t, "linear", "best-threshold test error", {{"n", 256}}).value, 0.2);
  EXPECT_LT(find_row(t, "linear", "gap min_D1 F - max_D0 F", {{"n", 256}}).value, 0);
}

TEST(SoftmaxLinearSeparationSweep, BadAxesAreClearErrors) {
  const Experiment& e = experiment("softmax-linear-separation");
  try {
    e.run(Grid{{{"L", {4}}}}, kSeed, 1, {});
    FAIL() << "unknown axis accepted";
  } catch (const std::invalid_argument& ex) {
    EXPECT_NE(std::string(ex.what()).find("'L'"), std::string::npos) << ex.what();
    EXPECT_NE(std::string(ex.what()).find("n, B, R, r, beta, mu, samples"), std::string::npos) << ex.what();
  }
  EXPECT_THROW(e.run(Grid{{{"n", {1}}}}, kSeed, 1, {}), std::invalid_argument);
  EXPECT_THROW(e.run(Grid{{{"n", {4}}, {"r", {3}}, {"R", {2}}}}, kSeed, 1, {}), std::invalid_argument);
}

TEST(SoftmaxLinearSeparationSweep, SummaryCountsAConstructedViolation) {
  const Experiment& e = experiment("softmax-linear-separation");
  SweepTable t;
  t.experiment = e.name;
  t.parameter_names = {"n", "B", "R", "r", "beta", "mu", "samples"};
  t.bound_names = {"lower bound (reconstructed)", "upper bound (reconstructed)"};
  const std::vector<double> p1 = {4, 8, 2, 0.5, 3, 1, 100}, p2 = {8, 8, 2, 0.5, 3, 1, 100};
  t.rows.push_back({p1, "softmax", "min_D1 p_1", 0.9, {0.95, std::nullopt}, {}, {}});  // undercut
  t.rows.push_back({p1, "linear", "max_D1 p_1", 0.5, {std::nullopt, 0.6}, {}, {}});    // holds
  t.rows.push_back({p2, "linear", "max_D1 p_1", 0.7, {std::nullopt, 0.6}, {}, {}});    // exceeded
  t.rows.push_back({p2, "softmax", "best-threshold test error", 0.01, {std::nullopt, std::nullopt}, 0.0, 0.04});
  const SweepSummary s = e.summarize(t);
  EXPECT_EQ(s.points, 2);
  EXPECT_EQ(s.bound_violations, 2);
  EXPECT_NE(s.finding.find("2 violation(s) in 3 bounded rows"), std::string::npos) << s.finding;
  EXPECT_NE(s.finding.find("softmax 0.010 [0.000, 0.040] (1 of 1"), std::string::npos) << s.finding;
}

// ---- rank-spectra -------------------------------------------------------------------------------

TEST(RankSpectraSweep, ColumnsSeriesFiguresAndDeterminism) {
  RecordProperty("seed", std::to_string(kSeed));
  SCOPED_TRACE("seed " + std::to_string(kSeed));
  const Experiment& e = experiment("rank-spectra");
  const Grid g{{{"n", {8, 12}}, {"d", {2}}, {"certify_max_n", {8}}}};
  const SweepTable t = e.run(g, kSeed, 1, {});
  EXPECT_EQ(t.parameter_names, (std::vector<std::string>{"n", "d", "k"}));
  EXPECT_EQ(column_values(t, true), (std::set<std::string>{"softmax", "linear elu+1", "linear Taylor-2"}));
  EXPECT_EQ(column_values(t, false),
            (std::set<std::string>{"numerical rank", "effective rank", "stable rank", "spectral gap 1-|lambda_2|",
                                   "sigma_k/sigma_1", "certified full rank (Ball)"}));
  expect_figures_match_table(e, t);
  // One σ_k/σ_1 row per k = 1..n and series, the first equal to 1.
  EXPECT_EQ(find_row(t, "softmax", "sigma_k/sigma_1", {{"n", 12}, {"k", 1}}).value, 1.0);
  EXPECT_NO_THROW(find_row(t, "linear Taylor-2", "sigma_k/sigma_1", {{"n", 12}, {"k", 12}}));
  EXPECT_EQ(sweep_csv(t), sweep_csv(e.run(g, kSeed, 1, {})));
  expect_progress_per_point(e, g, 2);
}

// d = 1: the elu+1 matrix D⁻¹φ(Q)φ(K)ᵀ has identical rows (rank 1 exactly), Taylor-2 has m = 3
// features (rank 3 for distinct Gaussian q_i, k_j), and softmax exp(q_i k_j) is a totally positive
// kernel matrix (full rank) — certified for n = 8. Tolerance for the rank-1 stable rank: rounding
// leaves σ_k ≲ n·ε·σ_1 for k ≥ 2 (backward-stable SVD of a matrix with entrywise relative error
// O(ε)), so Σ_{k≥2}σ_k²/σ_1² ≲ n³ε² ≈ 3e-29 at n = 12; 1e-12 leaves a huge margin.
TEST(RankSpectraSweep, ExactRanksAtHeadDimensionOne) {
  RecordProperty("seed", std::to_string(kSeed));
  SCOPED_TRACE("seed " + std::to_string(kSeed));
  const SweepTable t =
      experiment("rank-spectra").run(Grid{{{"n", {8, 12}}, {"d", {1}}, {"certify_max_n", {8}}}}, kSeed, 1, {});
  for (double n : {8.0, 12.0}) {
    SCOPED_TRACE(n);
    const SweepRow& elu = find_row(t, "linear elu+1", "numerical rank", {{"n", n}});
    EXPECT_EQ(elu.value, 1);
    EXPECT_EQ(elu.bounds[0], 1.0);  // min(n, m), m = d = 1
    EXPECT_NEAR(find_row(t, "linear elu+1", "stable rank", {{"n", n}}).value, 1.0, 1e-12);
    EXPECT_NEAR(find_row(t, "linear elu+1", "effective rank", {{"n", n}}).value, 1.0, 1e-12);
    const SweepRow& taylor = find_row(t, "linear Taylor-2", "numerical rank", {{"n", n}});
    EXPECT_EQ(taylor.value, 3);
    EXPECT_EQ(taylor.bounds[0], 3.0);
    EXPECT_EQ(find_row(t, "softmax", "numerical rank", {{"n", n}}).bounds[1], n);
  }
  EXPECT_EQ(find_row(t, "softmax", "certified full rank (Ball)", {{"n", 8}}).value, 1.0);
  // n = 12 > certify_max_n: no certification row.
  EXPECT_THROW(find_row(t, "softmax", "certified full rank (Ball)", {{"n", 12}}), std::logic_error);
}

TEST(RankSpectraSweep, BadAxesAreClearErrors) {
  const Experiment& e = experiment("rank-spectra");
  try {
    e.run(Grid{{{"m", {4}}}}, kSeed, 1, {});
    FAIL() << "unknown axis accepted";
  } catch (const std::invalid_argument& ex) {
    EXPECT_NE(std::string(ex.what()).find("'m'"), std::string::npos) << ex.what();
    EXPECT_NE(std::string(ex.what()).find("n, d, certify_max_n"), std::string::npos) << ex.what();
  }
  EXPECT_THROW(e.run(Grid{{{"n", {8.5}}}}, kSeed, 1, {}), std::invalid_argument);
  EXPECT_THROW(e.run(Grid{{{"n", {8}}, {"certify_max_n", {4, 8}}}}, kSeed, 1, {}), std::invalid_argument);
}

TEST(RankSpectraSweep, SummaryCountsAConstructedViolation) {
  const Experiment& e = experiment("rank-spectra");
  SweepTable t;
  t.experiment = e.name;
  t.parameter_names = {"n", "d", "k"};
  t.bound_names = {"upper bound min(n,m) (C.rank-linear)", "exact rank n (C.rank-softmax)"};
  t.rows.push_back({{16, 2, 0}, "linear elu+1", "numerical rank", 3, {2.0, std::nullopt}, {}, {}});  // exceeds
  t.rows.push_back({{32, 2, 0}, "linear elu+1", "numerical rank", 2, {2.0, std::nullopt}, {}, {}});
  t.rows.push_back({{32, 2, 0}, "softmax", "numerical rank", 24, {std::nullopt, 32.0}, {}, {}});
  t.rows.push_back({{16, 2, 0}, "softmax", "certified full rank (Ball)", 1, {std::nullopt, std::nullopt}, {}, {}});
  t.rows.push_back({{16, 2, 3}, "softmax", "sigma_k/sigma_1", 0.1, {std::nullopt, std::nullopt}, {}, {}});
  const SweepSummary s = e.summarize(t);
  EXPECT_EQ(s.points, 2);
  EXPECT_EQ(s.bound_violations, 1);
  EXPECT_NE(s.finding.find("at 1 of 2 rows"), std::string::npos) << s.finding;
  EXPECT_NE(s.finding.find("below $n$ at 1 of 1 points (lowest numerical rank$/n$ = 0.75)"), std::string::npos)
      << s.finding;
  EXPECT_NE(s.finding.find("at 1 of 1 instances"), std::string::npos) << s.finding;
}

// ---- approximation-error -------------------------------------------------------------------------

Grid approximation_grid() {
  return Grid{{{"m", {1, 16}}, {"abs_s", {1.0 / 1048576, 0.5}}, {"replicates", {2000}}}};
}

TEST(ApproximationErrorSweep, ColumnsSeriesFiguresAndDeterminism) {
  RecordProperty("seed", std::to_string(kSeed));
  SCOPED_TRACE("seed " + std::to_string(kSeed));
  const Experiment& e = experiment("approximation-error");
  const SweepTable t = e.run(approximation_grid(), kSeed, 1, {});
  EXPECT_EQ(t.parameter_names, (std::vector<std::string>{"m", "abs_s", "d", "r", "replicates"}));
  EXPECT_EQ(t.bound_names, (std::vector<std::string>{"closed form (C.performer-mse)", "Lagrange bound (C.taylor2)"}));
  EXPECT_EQ(column_values(t, true), (std::set<std::string>{"Performer, i.i.d. omega", "Performer, orthogonal omega",
                                                           "s > 0", "s < 0"}));
  expect_figures_match_table(e, t);
  // 2 Performer rows per m, 3 Taylor rows per |s| and sign.
  EXPECT_EQ(t.rows.size(), 2u * 2 + 2u * 2 * 3);
  EXPECT_EQ(sweep_csv(t), sweep_csv(e.run(approximation_grid(), kSeed, 1, {})));
  expect_progress_per_point(e, approximation_grid(), 4);  // 2 values of m + 2 of |s|
}

// The closed form of C.performer-mse against the Monte Carlo mean of the squared error, with a
// tolerance that holds for any seed with probability >= 99.9% per m and does not rely on the
// t-interval's asymptotic coverage (the squared errors are skewed, so a 99.9% t-interval from a
// few hundred replicates can miss): Chebyshev, P(|mean − μ| ≥ k·σ/√n) ≤ 1/k², with k = √1000 and
// σ the sample standard deviation, recovered from the sweep's 99.9% t-interval as
// (ci_high − mean)/t_{n−1, 0.9995}. 50000 replicates keep it informative (the squared error at m = 1
// has σ ≈ 2.5·μ, so the tolerance is ≈ √1000·2.5μ/√50000 ≈ 0.36μ): the test also requires
// the tolerance to be below half the closed form, so an MSE formula off by a factor 2 fails.
TEST(ApproximationErrorSweep, PerformerClosedFormWithinChebyshevTolerance) {
  RecordProperty("seed", std::to_string(kSeed));
  SCOPED_TRACE("seed " + std::to_string(kSeed));
  constexpr double kReplicates = 50000;
  const Grid grid{{{"m", {1, 16}}, {"abs_s", {0.5}}, {"replicates", {kReplicates}}}};
  const SweepTable t = experiment("approximation-error").run(grid, kSeed, 1, {});
  const boost::math::students_t_distribution<double> student(kReplicates - 1);
  const double t999 = boost::math::quantile(boost::math::complement(student, 0.0005));
  for (double m : {1.0, 16.0}) {
    SCOPED_TRACE(m);
    const SweepRow& r = find_row(t, "Performer, i.i.d. omega", "MSE", {{"m", m}});
    ASSERT_TRUE(r.bounds[0] && r.ci_low && r.ci_high);
    const double standard_error = (*r.ci_high - r.value) / t999;  // σ̂/√n
    const double tolerance = std::sqrt(1000.0) * standard_error;
    EXPECT_NEAR(r.value, *r.bounds[0], tolerance);
    EXPECT_LT(tolerance, 0.5 * *r.bounds[0]) << "the Monte Carlo estimate is too noisy to test the closed form";
  }
  // MSE ∝ 1/m: the closed forms at m = 1 and 16 differ by exactly that factor (same x, y).
  EXPECT_DOUBLE_EQ(*find_row(t, "Performer, i.i.d. omega", "MSE", {{"m", 1}}).bounds[0],
                   16 * *find_row(t, "Performer, i.i.d. omega", "MSE", {{"m", 16}}).bounds[0]);
}

// At |s| = 0.5 the exact error is |expm1(s) − s − s²/2| (s ≈ ±0.5 up to the rounding of qᵀk, which
// moves the error by ~s²/2·1e-16: relative tolerance 1e-12 covers it and the expm1 evaluation), the
// bound holds and Ball proves it. At |s| = 2^-20 the exact error ≈ |s|³/6 ≈ 1.4e-19 lies far below
// double's rounding floor, but the exact (Ball) value still follows the bound within a factor
// e^{|s|} ≈ 1 + 1e-6.
TEST(ApproximationErrorSweep, TaylorExactErrorAndBound) {
  RecordProperty("seed", std::to_string(kSeed));
  SCOPED_TRACE("seed " + std::to_string(kSeed));
  const SweepTable t = experiment("approximation-error").run(approximation_grid(), kSeed, 1, {});
  for (const char* series : {"s > 0", "s < 0"}) {
    SCOPED_TRACE(series);
    const double s = std::string(series) == "s > 0" ? 0.5 : -0.5;
    const SweepRow& exact = find_row(t, series, "error (exact, Ball midpoint)", {{"abs_s", 0.5}});
    const double expected = std::abs(std::expm1(s) - s - s * s / 2);
    EXPECT_NEAR(exact.value, expected, 1e-12 * expected);
    EXPECT_LE(exact.value, *exact.bounds[1]);
    const SweepRow& tiny = find_row(t, series, "error (exact, Ball midpoint)", {{"abs_s", 1.0 / 1048576}});
    EXPECT_LE(tiny.value, *tiny.bounds[1]);
    EXPECT_GE(tiny.value, *tiny.bounds[1] * (1 - 2e-6));
    for (double a : {0.5, 1.0 / 1048576}) {
      EXPECT_EQ(find_row(t, series, "Ball verdict (1 proved, 0 undecided, -1 violated)", {{"abs_s", a}}).value, 1.0);
    }
  }
}

TEST(ApproximationErrorSweep, BadAxesAreClearErrors) {
  const Experiment& e = experiment("approximation-error");
  try {
    e.run(Grid{{{"s", {1}}}}, kSeed, 1, {});
    FAIL() << "unknown axis accepted";
  } catch (const std::invalid_argument& ex) {
    EXPECT_NE(std::string(ex.what()).find("'s'"), std::string::npos) << ex.what();
    EXPECT_NE(std::string(ex.what()).find("m, abs_s, d, r, replicates"), std::string::npos) << ex.what();
  }
  EXPECT_THROW(e.run(Grid{{{"m", {0}}}}, kSeed, 1, {}), std::invalid_argument);
  EXPECT_THROW(e.run(Grid{{{"abs_s", {NAN}}}}, kSeed, 1, {}), std::invalid_argument);
}

TEST(ApproximationErrorSweep, SummaryCountsConstructedViolations) {
  const Experiment& e = experiment("approximation-error");
  SweepTable t;
  t.experiment = e.name;
  t.parameter_names = {"m", "abs_s", "d", "r", "replicates"};
  t.bound_names = {"closed form (C.performer-mse)", "Lagrange bound (C.taylor2)"};
  const std::vector<double> m1 = {1, 0, 4, 0.25, 100}, m2 = {2, 0, 4, 0.25, 100}, s1 = {0, 0.5, 4, 0, 0};
  t.rows.push_back({m1, "Performer, i.i.d. omega", "MSE", 0.10, {0.2, std::nullopt}, 0.05, 0.15});  // outside
  t.rows.push_back({m1, "Performer, orthogonal omega", "MSE", 0.05, {std::nullopt, std::nullopt}, 0.04, 0.06});
  t.rows.push_back({m2, "Performer, i.i.d. omega", "MSE", 0.10, {0.1, std::nullopt}, 0.05, 0.15});  // inside
  t.rows.push_back({s1, "s > 0", "error (double)", 3e-2, {std::nullopt, 2e-2}, {}, {}});  // above in double
  t.rows.push_back({s1, "s > 0", "error (exact, Ball midpoint)", 3e-2, {std::nullopt, 2e-2}, {}, {}});
  t.rows.push_back({s1, "s > 0", "Ball verdict (1 proved, 0 undecided, -1 violated)", -1, {std::nullopt, std::nullopt}, {}, {}});
  t.rows.push_back({s1, "s < 0", "error (exact, Ball midpoint)", 1e-2, {std::nullopt, 2e-2}, {}, {}});
  t.rows.push_back({s1, "s < 0", "Ball verdict (1 proved, 0 undecided, -1 violated)", 1, {std::nullopt, std::nullopt}, {}, {}});
  const SweepSummary s = e.summarize(t);
  EXPECT_EQ(s.points, 3);
  EXPECT_EQ(s.bound_violations, 2);
  EXPECT_NE(s.finding.find("outside the 99.9% t-interval at 1 of 2 values"), std::string::npos) << s.finding;
  EXPECT_NE(s.finding.find("below the i.i.d. closed form at 1 of 1"), std::string::npos) << s.finding;
  EXPECT_NE(s.finding.find("proved in Ball at 1 of 2 instances, violated (certified) at 1"), std::string::npos)
      << s.finding;
  EXPECT_NE(s.finding.find("exceeds the bound at 1 instance(s), of which Ball proves the bound at 0"),
            std::string::npos)
      << s.finding;
}

// "rounding, not a violation, where Ball proves the bound" used to be appended whatever the
// verdicts; now the finding counts the double crossings Ball proves, and says nothing of rounding
// when the double error never crosses the bound.
TEST(ApproximationErrorSweep, RoundingRemarkFollowsTheVerdicts) {
  const Experiment& e = experiment("approximation-error");
  SweepTable t;
  t.experiment = e.name;
  t.parameter_names = {"m", "abs_s", "d", "r", "replicates"};
  t.bound_names = {"closed form (C.performer-mse)", "Lagrange bound (C.taylor2)"};
  const std::vector<double> s1 = {0, 1e-6, 4, 0, 0}, s2 = {0, 2e-6, 4, 0, 0};
  const char* verdict = "Ball verdict (1 proved, 0 undecided, -1 violated)";
  // s1: double above the bound, Ball proves it (rounding). s2: double above, Ball undecided.
  t.rows.push_back({s1, "s > 0", "error (double)", 1e-16, {std::nullopt, 2e-19}, {}, {}});
  t.rows.push_back({s1, "s > 0", "error (exact, Ball midpoint)", 1.6e-19, {std::nullopt, 2e-19}, {}, {}});
  t.rows.push_back({s1, "s > 0", verdict, 1, {std::nullopt, std::nullopt}, {}, {}});
  t.rows.push_back({s2, "s > 0", "error (double)", 1e-16, {std::nullopt, 2e-18}, {}, {}});
  t.rows.push_back({s2, "s > 0", "error (exact, Ball midpoint)", 1.3e-18, {std::nullopt, 2e-18}, {}, {}});
  t.rows.push_back({s2, "s > 0", verdict, 0, {std::nullopt, std::nullopt}, {}, {}});
  const std::string both = e.summarize(t).finding;
  EXPECT_NE(both.find("exceeds the bound at 2 instance(s), of which Ball proves the bound at 1"), std::string::npos)
      << both;
  // Without crossings there is no rounding remark at all.
  t.rows[0].value = t.rows[3].value = 1e-20;
  const std::string none = e.summarize(t).finding;
  EXPECT_EQ(none.find("rounding"), std::string::npos) << none;
  EXPECT_NE(none.find("stays within the bound at every instance"), std::string::npos) << none;
}

// With r = R every score equals R and the spike weight equals its bound mathematically; a value a
// few ulps beyond the bound is rounding (4(n + 4)·u relative), not a violation. It used to count.
TEST(SoftmaxLinearSeparationSweep, SummaryAllowsRoundingSlackAtTheBound) {
  const Experiment& e = experiment("softmax-linear-separation");
  SweepTable t;
  t.experiment = e.name;
  t.parameter_names = {"n", "B", "R", "r", "beta", "mu", "samples"};
  t.bound_names = {"lower bound (reconstructed)", "upper bound (reconstructed)"};
  const std::vector<double> p = {16, 8, 2, 2, 3, 1, 100};
  const double bound = 8.0 / (8.0 + 15 * 2.0);
  t.rows.push_back({p, "linear", "min_D1 p_1", std::nextafter(bound, 0.0), {bound, std::nullopt}, {}, {}});
  t.rows.push_back({p, "linear", "max_D1 p_1", std::nextafter(bound, 1.0), {std::nullopt, bound}, {}, {}});
  EXPECT_EQ(e.summarize(t).bound_violations, 0) << e.summarize(t).finding;
  // Beyond the slack it still counts: 1e-12 relative is far above 4(n + 4)·u ≈ 9e-15.
  t.rows[0].value = bound * (1 - 1e-12);
  EXPECT_EQ(e.summarize(t).bound_violations, 1) << e.summarize(t).finding;
}

}  // namespace
}  // namespace attncert::sweeps
