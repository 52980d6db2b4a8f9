// Experiment "vanishing-attention" (paper A, Corollary 1): L·α_max and L·α_min versus L for
// several Δ/T, against the printed bound e^{±2Δ/T} (A.cor1, printed) and the tight form
// L/(1 + (L−1)e^{∓2Δ/T}) (A.cor1-tight, classical algebra, not printed in the paper).
//
// Instances: T = 1 and Δ = Delta_over_T. "random q, K": q = Δ·u and unit keys k_j, with u and
// k_j uniform on the sphere S^{d−1} (so ‖q‖·max‖k_j‖ = Δ up to rounding). "extremal logits":
// q = (Δ), K = (+1, −1, …, −1) (resp. (−1, +1, …, +1)), logits ±Δ exactly, which attain the
// tight upper (resp. lower) form. Both bounds come from the catalog claims (evaluate_double on
// the extremal instance, whose Δ is exact), never re-typed here.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <stdexcept>

#include "numerics/rng.hpp"
#include "numerics/softmax.hpp"
#include "reports/sweep_grid.hpp"
#include "reports/sweeps/experiment_factories.hpp"
#include "reports/sweeps/grid_values.hpp"
#include "reports/sweeps/loglog_slope.hpp"
#include "reports/sweeps/mean_interval.hpp"
#include "reports/sweeps/point_rows.hpp"
#include "theory/catalog.hpp"

namespace attncert::sweeps {
namespace {

constexpr const char* kName = "vanishing-attention";
const std::vector<double> kFigureRatios = {0.5, 1, 2};  // the Δ/T values of both grids (axes())

std::vector<AxisSpec> axes() {
  return {{"L", "2..8192:x2", "2..2048:x4", true, 1, 1 << 20, "sequence length"},
          // e^{2Δ/T} must stay finite in double for the printed bound.
          {"Delta_over_T", "{0.5,1,2}", "", false, 0, 300, "Delta/T, the logit range over the temperature"},
          {"d", "16", "", true, 1, 4096, "dimension of q and the keys"},
          {"trials", "400", "100", true, 1, 1000000, "random instances per point"}};
}

std::string ratio_label(double r) { return fmt::format("Delta/T={}", r); }
std::string random_series(double r) { return ratio_label(r) + ": random q, K"; }
std::string extremal_series(double r) { return ratio_label(r) + ": extremal logits"; }

// q = (Δ), K = (s, −s, …, −s) with s = +1 (one high logit) or −1 (one low logit); T = 1.
Instance extremal_instance(long L, double delta, bool one_high) {
  Instance x;
  x.scalars["L"] = static_cast<double>(L);
  x.scalars["d"] = 1;
  x.scalars["T"] = 1;
  x.arrays["q"] = RowMatrix<double>::Constant(1, 1, delta);
  RowMatrix<double> K = RowMatrix<double>::Constant(L, 1, one_high ? -1.0 : 1.0);
  K(0, 0) = one_high ? 1.0 : -1.0;
  x.arrays["K"] = K;
  return x;
}

// Side "upper"/"lower" of a claim on an instance: (lhs, rhs) in double.
std::pair<double, double> side(const Claim& claim, const Instance& x, const std::string& name) {
  for (const auto& s : claim.evaluate_double(x)) {
    if (s.name == name) return {s.lhs, s.rhs};
  }
  throw std::logic_error(fmt::format("{}: claim {} has no side '{}'", kName, claim.info().id, name));
}

const Claim& claim(const char* id) {
  const Claim* c = find_claim(id);
  if (!c) throw std::logic_error(fmt::format("{}: claim {} missing from the catalog", kName, id));
  return *c;
}

SweepTable run(const Grid& given, std::uint64_t seed, int jobs, const ProgressCallback& progress) {
  const Grid grid = complete_grid(given, axes(), kName);
  const auto& lengths = axis_values(grid, "L");
  const auto& ratios = axis_values(grid, "Delta_over_T");
  const auto& dims = axis_values(grid, "d");
  const auto& trial_counts = axis_values(grid, "trials");

  const Claim& printed = claim("A.cor1");
  const Claim& tight = claim("A.cor1-tight");
  SweepTable table = table_over_axes(grid, kName, seed);
  table.bound_names = {"printed bound (A.cor1)", "tight form, classical (A.cor1-tight)"};
  // The points (L, Delta_over_T, d, trials) in the table's row order: L varies fastest.
  std::vector<std::vector<double>> points;
  for (double ratio : ratios)
    for (double dim : dims)
      for (double trials_value : trial_counts)
        for (double L_value : lengths) points.push_back({L_value, ratio, dim, trials_value});
  table.rows = rows_over_points(points.size(), jobs, [&](std::size_t i) {
    const std::vector<double>& params = points[i];
    const double L_value = params[0], ratio = params[1];
    const long L = static_cast<long>(L_value);
    const long d = static_cast<long>(params[2]);
    const long trials = static_cast<long>(params[3]);
    // Bounds from the catalog claims on the extremal instances (exact Δ).
    const Instance high = extremal_instance(L, ratio, true);
    const Instance low = extremal_instance(L, ratio, false);
    const double printed_upper = side(printed, high, "upper").second;
    const double printed_lower = side(printed, low, "lower").second;
    const auto [tight_alpha_max, tight_upper] = side(tight, high, "upper");
    const auto [tight_alpha_min, tight_lower] = side(tight, low, "lower");
    const std::vector<std::optional<double>> upper = {L_value * printed_upper, L_value * tight_upper};
    const std::vector<std::optional<double>> lower = {L_value * printed_lower, L_value * tight_lower};

    Rng rng = Rng(seed).substream(point_key(params));
    std::vector<double> max_draws, min_draws;
    for (long t = 0; t < trials; ++t) {
      const std::vector<double> u = rng.unit_sphere(static_cast<std::size_t>(d));
      std::vector<double> logits(static_cast<std::size_t>(L));
      for (long j = 0; j < L; ++j) {
        const std::vector<double> k = rng.unit_sphere(static_cast<std::size_t>(d));
        double dot = 0;
        for (long c = 0; c < d; ++c) dot += ratio * u[c] * k[c];
        logits[j] = dot;
      }
      const std::vector<double> alpha = softmax<double>(logits, 1.0);
      const auto [mn, mx] = std::minmax_element(alpha.begin(), alpha.end());
      max_draws.push_back(L_value * *mx);
      min_draws.push_back(L_value * *mn);
    }
    const MeanInterval max_mean = mean_interval(max_draws);
    const MeanInterval min_mean = mean_interval(min_draws);
    const std::string rs = random_series(ratio);
    const std::string es = extremal_series(ratio);
    return std::vector<SweepRow>{
        {params, rs, "L*alpha_max (mean)", max_mean.mean, upper, max_mean.low, max_mean.high},
        {params, rs, "L*alpha_max (largest)", *std::max_element(max_draws.begin(), max_draws.end()), upper, {}, {}},
        {params, rs, "L*alpha_min (mean)", min_mean.mean, lower, min_mean.low, min_mean.high},
        {params, rs, "L*alpha_min (smallest)", *std::min_element(min_draws.begin(), min_draws.end()), lower, {}, {}},
        {params, es, "L*alpha_max", L_value * tight_alpha_max, upper, {}, {}},
        {params, es, "L*alpha_min", L_value * tight_alpha_min, lower, {}, {}}};
  }, progress);
  return table;
}

// Rounding slack of a double comparison value vs bound: softmax of L terms and the bound's
// exp/division each carry a relative error below (L + 4)·u (sum of L terms, exp, two divisions;
// u = 2^−53), so a difference within 2(L + 4)·u relative is not a violation.
double rounding_slack(double L) { return 2 * (L + 4) * 0x1p-53; }

SweepSummary summarize(const SweepTable& table) {
  SweepSummary s;
  std::set<std::vector<double>> points;
  int printed_violations = 0, tight_violations = 0;
  double worst_printed = 0, worst_tight = 0;  // largest value/upper or lower/value
  std::string worst_printed_at;
  double extremal_gap = 0;  // largest |extremal/tight − 1|
  // (L, mean α_max) per setting of the other axes, for the decay slope.
  std::map<std::vector<double>, std::vector<std::pair<double, double>>> decay;
  for (const SweepRow& row : table.rows) {
    points.insert(row.parameters);
    const bool upper = row.statistic.rfind("L*alpha_max", 0) == 0;
    const double slack = rounding_slack(row.parameters.at(0));
    for (std::size_t b = 0; b < 2 && b < row.bounds.size(); ++b) {
      if (!row.bounds[b]) continue;
      const double bound = *row.bounds[b];
      const double ratio = upper ? row.value / bound : bound / row.value;
      const bool violated = ratio > 1 + slack;
      if (b == 0) {
        printed_violations += violated;
        if (ratio > worst_printed) {
          worst_printed = ratio;
          worst_printed_at = fmt::format("$L={}$, $\\Delta/T={}$, {}", row.parameters.at(0), row.parameters.at(1),
                                         row.series.find("extremal") != std::string::npos ? "extremal logits"
                                                                                          : "random $q$, $K$");
        }
      } else {
        tight_violations += violated;
        worst_tight = std::max(worst_tight, ratio);
        if (row.series.find("extremal") != std::string::npos) extremal_gap = std::max(extremal_gap, std::abs(ratio - 1));
      }
    }
    if (row.statistic == "L*alpha_max (mean)") {
      const std::vector<double> others(row.parameters.begin() + 1, row.parameters.end());
      decay[others].push_back({row.parameters.at(0), row.value / row.parameters.at(0)});
    }
  }
  // α_max = O(1/L) shows as a log-log slope near −1; fitted only from ≥ 3 lengths.
  double slope_low = INFINITY, slope_high = -INFINITY;
  int fitted = 0;
  for (const auto& [others, xy] : decay) {
    if (xy.size() < 3) continue;
    const double slope = loglog_slope(xy);
    slope_low = std::min(slope_low, slope);
    slope_high = std::max(slope_high, slope);
    ++fitted;
  }
  const std::string decay_text =
      fitted == 0 ? std::string("fewer than 3 lengths $L$ per setting, so no decay rate of $\\alpha_{\\max}$ is fitted")
                  : fmt::format("log-log slope of mean $\\alpha_{{\\max}}$ versus $L$ from {:.3g} to {:.3g} over {} "
                                "settings of $\\Delta/T$, $d$, trials ($-1$ is $\\alpha_{{\\max}} \\propto 1/L$)",
                                slope_low, slope_high, fitted);
  s.points = static_cast<int>(points.size());
  s.bound_violations = printed_violations + tight_violations;
  s.finding = fmt::format(
      "A.cor1 (printed) {} at {} points (largest value/bound {:.6g}, {}); tight form {} (largest "
      "ratio {:.6g}; extremal logits attain it to {:.1e}); {}{}",
      printed_violations ? fmt::format("violated in {} rows (double precision, not certified)", printed_violations)
                         : "holds",
      s.points, worst_printed, worst_printed_at,
      tight_violations ? fmt::format("violated in {} rows (double precision, not certified)", tight_violations)
                       : "holds",
      worst_tight, extremal_gap, decay_text,
      printed_violations + tight_violations ? "" : "; no violation to certify");
  return s;
}

std::vector<FigureSpec> figures() {
  std::vector<FigureSpec> out;
  for (const bool upper : {true, false}) {
    FigureSpec f;
    f.id = upper ? "vanishing-attention-max" : "vanishing-attention-min";
    f.x_parameter = "L";
    f.x_label = "sequence length $L$";
    f.y_label = upper ? "$L\\,\\alpha_{\\max}$" : "$L\\,\\alpha_{\\min}$";
    f.log_x = f.log_y = true;
    const std::string stat = upper ? "L*alpha_max (mean)" : "L*alpha_min (mean)";
    for (double r : kFigureRatios) {
      // One legend row per Δ/T: measurement, printed bound, tight form (same colour).
      f.curves.push_back({fmt::format("$\\Delta/T = {}$, mean (95% CI)", r), random_series(r),
                          stat, "value", false, true});
      f.curves.push_back({upper ? "printed $e^{2\\Delta/T}$ (A.cor1)" : "printed $e^{-2\\Delta/T}$ (A.cor1)",
                          random_series(r), stat, "printed bound (A.cor1)", true, false});
      f.curves.push_back({"tight form (A.cor1-tight)", random_series(r), stat,
                          "tight form, classical (A.cor1-tight)", true, false});
    }
    // What to look at, not what the data shows: the finding (summarize) states the outcome.
    f.caption = upper
        ? "$L\\,\\alpha_{\\max}$ (solid: mean over random $q$, $K$; one colour per $\\Delta/T$) against $L$: a curve "
          "that stays bounded as $L$ grows means $\\alpha_{\\max} = O(1/L)$, attention vanishing. Compare it with the "
          "printed bound $e^{2\\Delta/T}$ of A.cor1 (dashed) and the tight form "
          "$L/(1+(L-1)e^{-2\\Delta/T})$ (dotted; A.cor1-tight, classical algebra, not printed), which rises "
          "to $e^{2\\Delta/T}$ with $L$ and is attained by the extremal logits (one at $+\\Delta$, the rest at "
          "$-\\Delta$; rows \"extremal logits\" of the CSV)."
        : "$L\\,\\alpha_{\\min}$ (solid: mean over random $q$, $K$; one colour per $\\Delta/T$) against $L$, compared with "
          "the printed lower bound $e^{-2\\Delta/T}$ of A.cor1 (dashed) and the tight form "
          "$L/(1+(L-1)e^{2\\Delta/T})$ (dotted; A.cor1-tight, classical, not printed), which falls to "
          "$e^{-2\\Delta/T}$ from above as $L$ grows.";
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace

Experiment make_vanishing_attention_experiment() {
  Experiment e;
  e.name = kName;
  e.claim_ids = "A.cor1, A.cor1-tight";
  e.title = "Vanishing attention: $L\\,\\alpha$ versus $L$ (paper A, Corollary 1)";
  e.description =
      "$L\\,\\alpha_{\\max}$ and $L\\,\\alpha_{\\min}$ of $\\alpha = \\mathrm{softmax}(q^\\top K/T)$ "
      "versus $L$ for several $\\Delta/T$ ($T = 1$; $q$ of norm $\\Delta$ and unit keys uniform on the "
      "sphere in $d$ dimensions; mean over trials with a 95% $t$-interval), with the printed bounds "
      "$e^{\\pm 2\\Delta/T}$ (A.cor1) and the tight forms $L/(1+(L-1)e^{\\mp 2\\Delta/T})$ (A.cor1-tight, "
      "classical), attained by extremal logits $\\pm\\Delta$. Axes: L, Delta_over_T, d, trials.";
  e.axes = axes();
  e.run = run;
  e.figures = figures();
  e.summarize = summarize;
  e.work = [](const std::map<std::string, double>& p) { return p.at("trials") * p.at("L") * p.at("d"); };
  e.work_formula = "trials*L*d";
  return e;
}

}  // namespace attncert::sweeps
