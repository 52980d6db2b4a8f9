// Experiment softmax-linear-separation (paper B, reconstructed: B.separation, B.spike-softmax,
// B.spike-linear, B.degree): can one attention read-out tell D₀ from D₁, for softmax, linear and
// power-β attention, as the sequence length n grows?
//
// The datasets (THEORY.md paper B; one sample = one query row): scores s_j ~ U[r, R] for every
// token; in D₁ the first token is a spike, s_1 = B. Values v_1 = μ (the signal token) and
// v_j = σ_j Rademacher (j ≥ 2). Attention weights p = u(s)/Σu(s) with u = exp (softmax), u = id
// (linear; positive scores) or u = s^β (power kernel); the statistic is the read-out
// F = c = p_1·μ + Σ_{j≥2} p_j σ_j. The three mechanisms see the same scores and signs.
//
// Per grid point and mechanism: the best threshold on F is fitted on a training set (samples per
// dataset) and its error counted on an independent test set of the same size, so the
// Clopper–Pearson interval is a valid interval for the error of that threshold (fitting and
// evaluating on one sample would be optimistic). Also: AUC (test set), the raw gap
// min_{D₁}F − max_{D₀}F (all samples), and the spike weight against the catalog's bounds.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include "numerics/clopper_pearson.hpp"
#include "numerics/rng.hpp"
#include "proofs_checks/certificate.hpp"
#include "reports/sweep_grid.hpp"
#include "reports/sweeps/experiment_factories.hpp"
#include "reports/sweeps/grid_values.hpp"
#include "reports/sweeps/point_rows.hpp"
#include "theory/catalog.hpp"
#include "theory/spike_bounds.hpp"

namespace attncert::sweeps {
namespace {

constexpr const char* kName = "softmax-linear-separation";
constexpr double kGamma = 0.05;  // Clopper–Pearson interval at confidence 95%

// Series names (CSV) — the mechanisms.
constexpr const char* kSoftmax = "softmax";
constexpr const char* kLinear = "linear";
constexpr const char* kPower = "power s^beta";

// Statistics (CSV).
constexpr const char* kError = "best-threshold test error";
constexpr const char* kAuc = "AUC";
constexpr const char* kGap = "gap min_D1 F - max_D0 F";
constexpr const char* kSpikeMin = "min_D1 p_1";
constexpr const char* kSpikeMax = "max_D1 p_1";
constexpr const char* kD0Max = "max_D0 max_j p_j";
constexpr const char* kCertified = "violations certified (Ball)";

constexpr const char* kLowerBound = "lower bound (reconstructed)";
constexpr const char* kUpperBound = "upper bound (reconstructed)";

std::vector<AxisSpec> axes() {
  return {{"n", "4..4096:log2", "{4,16,64,256,1024}", true, 2, 65536, "number of tokens"},
          {"B", "8", "", false, 1e-6, 1e3, "spike score s_1 of D1"},
          {"R", "2", "", false, 1e-6, 1e3, "upper end of the other scores"},
          {"r", "0.5", "", false, 1e-6, 1e3, "lower end of the other scores, 0 < r <= R"},
          {"beta", "3", "", false, 0.1, 64, "degree of the power kernel s^beta"},
          {"mu", "1", "", false, -100, 100, "value of the signal token"},
          {"samples", "2000", "400", true, 10, 1e6, "samples per dataset and per split"}};
}

struct Point {
  long n;
  double B, R, r, beta, mu;
  long samples;
};

enum Mechanism { kSoftmaxM = 0, kLinearM = 1, kPowerM = 2 };
constexpr const char* kSeries[3] = {kSoftmax, kLinear, kPower};

// Weights p of one mechanism for scores s (all > 0).
void weights(Mechanism m, const std::vector<double>& s, double beta, std::vector<double>& p) {
  const double top = *std::max_element(s.begin(), s.end());
  p.resize(s.size());
  for (std::size_t j = 0; j < s.size(); ++j) {
    switch (m) {
      case kSoftmaxM: p[j] = std::exp(s[j] - top); break;  // shift: no overflow
      case kLinearM: p[j] = s[j]; break;
      case kPowerM: p[j] = std::pow(s[j] / top, beta); break;  // as spike_power_weight
    }
  }
  const double total = std::accumulate(p.begin(), p.end(), 0.0);
  for (double& x : p) x /= total;
}

struct Sample {
  double F;
  bool d1;
};

struct Threshold {
  double t = 0;
  bool d1_above = true;  // predict D1 when F > t (else when F <= t)
};

// The threshold with the fewest training errors (the first such, scanning upwards: deterministic).
Threshold best_threshold(std::vector<Sample> train) {
  std::sort(train.begin(), train.end(), [](const Sample& a, const Sample& b) {
    return a.F < b.F || (a.F == b.F && a.d1 < b.d1);
  });
  const std::size_t N = train.size();
  std::size_t d0_total = 0;
  for (const Sample& x : train) d0_total += x.d1 ? 0 : 1;
  // Threshold below the first i samples' upper end: errors(d1 above) = d1 below + d0 above.
  std::size_t d1_below = 0, d0_below = 0;
  std::size_t best = N + 1;
  Threshold out;
  for (std::size_t i = 0; i <= N; ++i) {
    if (i > 0) (train[i - 1].d1 ? d1_below : d0_below) += 1;
    if (i > 0 && i < N && train[i - 1].F == train[i].F) continue;  // not a cut between values
    const std::size_t above = d1_below + (d0_total - d0_below);
    const std::size_t below = N - above;
    const double t = i == 0 ? -std::numeric_limits<double>::infinity()
                     : i == N ? std::numeric_limits<double>::infinity()
                              : train[i - 1].F + (train[i].F - train[i - 1].F) / 2;
    if (above < best) best = above, out = {t, true};
    if (below < best) best = below, out = {t, false};
  }
  return out;
}

std::size_t test_errors(const std::vector<Sample>& test, const Threshold& th) {
  std::size_t e = 0;
  for (const Sample& x : test) e += ((x.F > th.t) == th.d1_above) != x.d1 ? 1 : 0;
  return e;
}

// P(F₁ > F₀) + P(F₁ = F₀)/2 over the test set (Mann–Whitney with mid-ranks for ties).
double auc(std::vector<Sample> test) {
  std::sort(test.begin(), test.end(), [](const Sample& a, const Sample& b) { return a.F < b.F; });
  double rank_sum = 0, n1 = 0;
  for (std::size_t i = 0; i < test.size();) {
    std::size_t j = i;
    while (j < test.size() && test[j].F == test[i].F) ++j;
    const double mid_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    for (std::size_t k = i; k < j; ++k) {
      if (test[k].d1) rank_sum += mid_rank, n1 += 1;
    }
    i = j;
  }
  const double n0 = static_cast<double>(test.size()) - n1;
  return (rank_sum - n1 * (n1 + 1) / 2) / (n1 * n0);
}

// Whether a side observed violated in double is certified violated: the instance through the
// catalog claim and the engine's certification (Ball, precision escalation to 512 bits).
bool certified_violation(const char* claim_id, const Instance& x, const std::string& side) {
  const Claim* claim = find_claim(claim_id);
  if (claim == nullptr) throw std::logic_error(std::string(kName) + ": claim " + claim_id + " missing");
  const InstanceCertificate c = certify_instance(*claim, x, CertifyOptions{64, 512});
  return c.status == InstanceStatus::Refuted && c.violated == side;
}

RowMatrix<double> as_row(const std::vector<double>& v) {
  RowMatrix<double> a(1, static_cast<Eigen::Index>(v.size()));
  for (std::size_t j = 0; j < v.size(); ++j) a(0, static_cast<Eigen::Index>(j)) = v[j];
  return a;
}

// Extremes of the weights over the samples, with the sample attaining them (for certification).
struct Extremes {
  double spike_min = INFINITY, spike_max = -INFINITY, d0_max = -INFINITY;
  std::vector<double> spike_min_s, spike_max_s, d0_max_s;
};

void add_point(const Point& pt, const std::vector<double>& params, const Rng& stream, std::vector<SweepRow>& rows) {
  const auto n = static_cast<std::size_t>(pt.n);
  std::vector<Sample> train[3], test[3];
  Extremes ext[3];
  double d1_min[3], d0_max[3];
  std::fill(d1_min, d1_min + 3, INFINITY);
  std::fill(d0_max, d0_max + 3, -INFINITY);
  std::vector<double> s(n), sigma(n), p;
  // Four blocks of samples: (train, test) × (D0, D1), each from its own substream.
  for (int block = 0; block < 4; ++block) {
    const bool is_test = block >= 2, d1 = (block % 2) == 1;
    Rng rng = stream.substream(static_cast<std::uint64_t>(block));
    for (long k = 0; k < pt.samples; ++k) {
      for (std::size_t j = 0; j < n; ++j) s[j] = pt.r < pt.R ? rng.uniform(pt.r, pt.R) : pt.R;
      if (d1) s[0] = pt.B;
      for (std::size_t j = 1; j < n; ++j) sigma[j] = rng.rademacher();
      for (int m = 0; m < 3; ++m) {
        weights(static_cast<Mechanism>(m), s, pt.beta, p);
        double F = p[0] * pt.mu;
        for (std::size_t j = 1; j < n; ++j) F += p[j] * sigma[j];
        (is_test ? test[m] : train[m]).push_back({F, d1});
        Extremes& e = ext[m];
        if (d1) {
          d1_min[m] = std::min(d1_min[m], F);
          if (p[0] < e.spike_min) e.spike_min = p[0], e.spike_min_s = s;
          if (p[0] > e.spike_max) e.spike_max = p[0], e.spike_max_s = s;
        } else {
          d0_max[m] = std::max(d0_max[m], F);
          const double top = *std::max_element(p.begin(), p.end());
          if (top > e.d0_max) e.d0_max = top, e.d0_max_s = s;
        }
      }
    }
  }

  const TierContext<double> ctx{};
  const double others = static_cast<double>(n) - 1;
  auto row = [&](const char* series, const char* statistic, double value, std::optional<double> lower,
                 std::optional<double> upper) {
    rows.push_back({params, series, statistic, value, {lower, upper}, {}, {}});
  };
  for (int m = 0; m < 3; ++m) {
    const Threshold th = best_threshold(train[m]);
    const std::size_t errors = test_errors(test[m], th);
    const auto trials = static_cast<std::uint64_t>(test[m].size());
    const ProportionInterval ci = clopper_pearson(errors, trials, kGamma);
    rows.push_back({params, kSeries[m], kError, static_cast<double>(errors) / static_cast<double>(trials),
                    {std::nullopt, std::nullopt}, ci.lower, ci.upper});
    row(kSeries[m], kAuc, auc(test[m]), {}, {});
    row(kSeries[m], kGap, d1_min[m] - d0_max[m], {}, {});
  }

  // Spike weights against the catalog's bounds; a violation seen in double is certified (or not)
  // on the attaining sample through the catalog claim.
  const Extremes& es = ext[kSoftmaxM];
  const double soft_lower = spike_softmax_lower_bound(others, pt.R, pt.B, ctx);
  const double soft_d0_upper = bounded_softmax_max_upper_bound(others, pt.R, ctx);
  row(kSoftmax, kSpikeMin, es.spike_min, soft_lower, {});
  row(kSoftmax, kD0Max, es.d0_max, {}, soft_d0_upper);
  int certified = 0;
  bool any_violation = false;
  if (es.spike_min < soft_lower || es.d0_max > soft_d0_upper) {
    any_violation = true;
    Instance x{{{"n", static_cast<double>(pt.n)}, {"R", pt.R}, {"B", pt.B}, {"eps", 0.5}},
               {{"s", as_row(es.spike_min_s)}, {"s0", as_row(es.d0_max_s)}}};
    certified += certified_violation("B.spike-softmax", x, "D1 spike lower") ? 1 : 0;
    certified += certified_violation("B.spike-softmax", x, "D0 max upper") ? 1 : 0;
  }
  const Extremes& el = ext[kLinearM];
  const double lin_lower = spike_linear_lower_bound(others, pt.R, pt.B);
  const double lin_upper = spike_linear_upper_bound(others, pt.r, pt.B);
  row(kLinear, kSpikeMin, el.spike_min, lin_lower, {});
  row(kLinear, kSpikeMax, el.spike_max, {}, lin_upper);
  row(kLinear, kD0Max, el.d0_max, {}, {});
  if (el.spike_min < lin_lower || el.spike_max > lin_upper) {
    any_violation = true;
    for (const auto* s_attaining : {&el.spike_min_s, &el.spike_max_s}) {
      Instance x{{{"n", static_cast<double>(pt.n)}, {"r", pt.r}, {"R", pt.R}, {"B", pt.B}}, {{"s", as_row(*s_attaining)}}};
      certified += certified_violation("B.spike-linear", x, s_attaining == &el.spike_min_s ? "lower" : "upper");
    }
  }
  const Extremes& ep = ext[kPowerM];
  const double pow_lower = spike_power_lower_bound(others, pt.R, pt.B, pt.beta, ctx);
  row(kPower, kSpikeMin, ep.spike_min, pow_lower, {});
  row(kPower, kD0Max, ep.d0_max, {}, {});
  if (ep.spike_min < pow_lower) {
    any_violation = true;
    Instance x{{{"n", static_cast<double>(pt.n)}, {"r", pt.r}, {"R", pt.R}, {"B", pt.B}, {"beta", pt.beta}, {"eps", 0.5}},
               {{"s", as_row(ep.spike_min_s)}}};
    certified += certified_violation("B.degree", x, "lower") ? 1 : 0;
  }
  if (any_violation) row("all", kCertified, certified, {}, {});
}

Point point_of(const std::vector<double>& v) {
  return Point{std::lround(v[0]), v[1], v[2], v[3], v[4], v[5], std::lround(v[6])};
}

SweepTable run(const Grid& grid, std::uint64_t seed, int jobs, const ProgressCallback& progress) {
  const Grid complete = complete_grid(grid, axes(), kName);
  SweepTable table = table_over_axes(complete, kName, seed);
  table.bound_names = {kLowerBound, kUpperBound};
  std::vector<std::vector<double>> values;  // in declaration order: n, B, R, r, beta, mu, samples
  for (const GridAxis& axis : complete.axes) values.push_back(axis.values);
  const std::vector<std::vector<double>> points = grid_points(values);
  // Refused before any work, at the first such point in grid order.
  for (const std::vector<double>& v : points) {
    const Point pt = point_of(v);
    if (!(pt.r <= pt.R)) throw std::invalid_argument(fmt::format("{}: need r <= R, got r = {}, R = {}", kName, pt.r, pt.R));
  }
  const Rng base(seed);
  table.rows = rows_over_points(points.size(), jobs, [&](std::size_t i) {
    std::vector<SweepRow> rows;
    add_point(point_of(points[i]), points[i], base.substream(point_key(points[i])), rows);
    return rows;
  }, progress);
  return table;
}

// Relative rounding slack of a spike weight vs its bound (u = 2^−53): the weight is one term over
// a normaliser summed from n terms (relative error below (n + 2)·u), the bound has an exp or a
// power and two roundings; 4(n + 4)·u covers both. Without it, r = R makes the value equal the
// bound mathematically and a last-bit difference counted as a violation.
double rounding_slack(const SweepRow& row) { return 4 * (row.parameters.at(0) + 4) * 0x1p-53; }

bool violates(const SweepRow& row) {
  const double slack = rounding_slack(row);
  return (row.bounds[0] && row.value < *row.bounds[0] * (1 - slack)) ||
         (row.bounds[1] && row.value > *row.bounds[1] * (1 + slack));
}

SweepSummary summarize(const SweepTable& table) {
  SweepSummary out;
  std::vector<std::vector<double>> seen;
  int bound_rows = 0, certified = 0;
  double worst_ratio = 0;  // max over bounded rows of how close the value comes to its bound
  // Per mechanism: grid points where the test error's CP upper end is <= 0.05, and the error at
  // the largest n (first such row).
  std::map<std::string, std::pair<int, int>> separated;  // series -> (points with CP upper <= 0.05, points)
  std::map<std::string, const SweepRow*> at_largest_n;
  for (const SweepRow& row : table.rows) {
    if (std::find(seen.begin(), seen.end(), row.parameters) == seen.end()) seen.push_back(row.parameters);
    if (row.statistic == kCertified) certified += static_cast<int>(row.value);
    if (row.bounds.size() == 2 && (row.bounds[0] || row.bounds[1])) {
      ++bound_rows;
      if (violates(row)) ++out.bound_violations;
      if (row.bounds[0] && row.value > 0) worst_ratio = std::max(worst_ratio, *row.bounds[0] / row.value);
      if (row.bounds[1] && *row.bounds[1] > 0) worst_ratio = std::max(worst_ratio, row.value / *row.bounds[1]);
    }
    if (row.statistic == kError) {
      auto& [good, total] = separated[row.series];
      ++total;
      if (row.ci_high && *row.ci_high <= 0.05) ++good;
      const SweepRow*& best = at_largest_n[row.series];
      if (best == nullptr || row.parameters[0] > best->parameters[0]) best = &row;
    }
  }
  out.points = static_cast<int>(seen.size());
  std::string errors;
  for (const char* series : kSeries) {
    auto it = at_largest_n.find(series);
    if (it == at_largest_n.end()) continue;
    const SweepRow& r = *it->second;
    const std::string shown = std::string_view(series) == kPower ? "power $s^\\beta$" : series;
    errors += fmt::format("{}{} {:.3f} [{:.3f}, {:.3f}] ({} of {} points with error $\\le 0.05$ at 95%)",
                          errors.empty() ? "" : "; ", shown, r.value, r.ci_low.value_or(NAN),
                          r.ci_high.value_or(NAN), separated[series].first, separated[series].second);
  }
  const double n_max = at_largest_n.empty() ? NAN : at_largest_n.begin()->second->parameters[0];
  out.finding = fmt::format(
      "test error at $n = {}$: {}. Reconstructed spike-weight bounds: {} violation(s) in {} bounded rows "
      "(double; {} certified in Ball); closest approach to a bound (bound/value for lower, value/bound "
      "for upper bounds; $\\le 1$ means it holds) = {:.4g}",
      n_max, errors.empty() ? "none" : errors, out.bound_violations, bound_rows, certified, worst_ratio);
  return out;
}

std::vector<FigureSpec> figures() {
  const std::map<std::string, double> fixed = {{"B", 8}, {"R", 2}, {"r", 0.5}, {"beta", 3}, {"mu", 1}};
  FigureSpec error{
      "softmax-linear-separation-error", "n", fixed, "sequence length $n$",
      "best-threshold test error", true, false,
      {{"softmax", kSoftmax, kError, "value", false, true},
       {"linear", kLinear, kError, "value", false, true},
       {"power $s^\\beta$ ($\\beta=3$)", kPower, kError, "value", false, true}},
      "Telling $D_0$ (scores in $[r, R]$) from $D_1$ (spike $B$ on token 1) by thresholding the read-out "
      "$F = p_1\\mu + \\sum_{j \\ge 2} p_j v_j$ (threshold fitted on a training set, error on a fresh test "
      "set, Clopper–Pearson 95% bars). Read each mechanism's error against $n$: the reconstructed claims "
      "expect softmax's error to stay near 0 while $\\ln n$ is below about $B - R$, and linear attention's to "
      "approach $1/2$ as its spike weight decays like $B/n$; at the smallest $n$ the few Rademacher values of "
      "$D_0$ can all be $+1$ and imitate the signal. The finding gives the errors at the largest $n$ "
      "(B.separation, B.spike-linear, B.degree; reconstructed statements of Deng, Song, Zhou)."};
  FigureSpec gap{
      "softmax-linear-separation-gap", "n", fixed, "sequence length $n$",
      "raw gap $\\min_{D_1} F - \\max_{D_0} F$", true, false,
      {{"softmax", kSoftmax, kGap}, {"linear", kLinear, kGap},
       {"power $s^\\beta$ ($\\beta=3$)", kPower, kGap}},
      "The raw gap between the smallest $D_1$ read-out and the largest $D_0$ read-out over all samples: "
      "positive means the samples are perfectly separated by a threshold. Compare over which range of $n$ "
      "each mechanism's gap is positive, and how it changes as $\\ln n$ approaches $B - R$ "
      "(B.separation, reconstructed)."};
  FigureSpec spike{
      "softmax-linear-separation-spike-weight", "n", fixed, "sequence length $n$",
      "smallest spike weight $\\min_{D_1} p_1$", true, true,
      {{"softmax", kSoftmax, kSpikeMin},
       {"softmax bound $1/(1+(n-1)e^{R-B})$", kSoftmax, kSpikeMin, kLowerBound, true},
       {"linear", kLinear, kSpikeMin},
       {"linear bound $B/(B+(n-1)R)$", kLinear, kSpikeMin, kLowerBound, true},
       {"power $s^\\beta$", kPower, kSpikeMin},
       {"power bound $1/(1+(n-1)(R/B)^\\beta)$", kPower, kSpikeMin, kLowerBound, true}},
      "Smallest weight of the spike token over the $D_1$ samples against the reconstructed lower bounds "
      "B.spike-softmax, B.spike-linear and B.degree (dashed, same colour): a mark below its dashed line would "
      "violate the bound (the finding counts violations). The linear bound decays like $B/n$."};
  return {error, gap, spike};
}

}  // namespace

Experiment make_softmax_linear_separation_experiment() {
  Experiment e;
  e.name = kName;
  e.claim_ids = "B.separation, B.spike-softmax, B.spike-linear, B.degree";
  e.title = "Softmax versus linear attention on the spike datasets (paper B, reconstructed)";
  e.description =
      "Paper B's datasets (reconstructed): scores $s_j \\sim U[r, R]$; $D_1$ adds a spike $s_1 = B$. Values "
      "$v_1 = \\mu$, $v_j$ Rademacher; read-out $F = \\sum_j p_j v_j$ with $p$ from softmax ($\\exp$), linear "
      "(identity) or the power kernel $s^\\beta$, on the same scores and signs. Per point: best-threshold "
      "error (threshold fitted on `samples` per dataset, error on a fresh test set of the same size, "
      "Clopper–Pearson 95%), AUC, the raw gap $\\min_{D_1} F - \\max_{D_0} F$, and the spike weight against "
      "the reconstructed bounds B.spike-softmax, B.spike-linear, B.degree (violations seen in double are "
      "re-checked by certifying the attaining sample with the catalog claim). Axes: n, B, R, r, beta, "
      "mu, samples.";
  e.axes = axes();
  e.run = run;
  e.figures = figures();
  e.summarize = summarize;
  e.work = [](const std::map<std::string, double>& p) { return 12 * p.at("n") * p.at("samples"); };
  e.work_formula = "12*n*samples";
  return e;
}

}  // namespace attncert::sweeps
