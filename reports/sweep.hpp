// Sweeps: one experiment evaluated over a parameter grid, as a tidy table (one row per grid
// point × series × statistic), plus what the report needs to draw it (figure specs) and to
// summarise it (one table row). Deterministic: the same grid and seed give byte-identical CSV.
//
// Text rule. Human-readable text — Experiment::title and ::description, FigureSpec labels and
// caption, CurveSpec::legend, SweepSummary::finding — is plain text in which `$…$` is LaTeX math
// (e.g. "$L\,\alpha_{\max}$ versus $L$", "$e^{-2\Delta/T}$", "$\|J\|_2$", "$\tilde d$");
// write "\$" for a literal dollar. The report typesets it with latex::escape_with_math (outside
// $…$ every LaTeX special character is escaped); the terminal shows latex::plain_text of it
// ("L α_max versus L"). Keep to the math that plain_text knows (reports/latex.hpp).
// Identifiers are NOT text: SweepRow::series / ::statistic, parameter and bound names are plain
// ASCII column values of the CSV (figures and tests select rows by them) and never hold $…$.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace attncert::sweeps {

/// One axis of a grid: a name (as the experiment knows it, e.g. "L", "T", "N") and its values.
struct GridAxis {
  std::string name;
  std::vector<double> values;
};

/// Axes in the order given; unspecified axes take the experiment's defaults.
struct Grid {
  std::vector<GridAxis> axes;
  const GridAxis* find(std::string_view name) const;
};

/// One axis an experiment understands, declared once: its values in the full report's grid and
/// in the quick grid, and which values it admits. Both grids are derived from these declarations
/// (reports/sweep_grid.hpp), so a default is never stated twice.
struct AxisSpec {
  std::string name;          // as --grid names it; also the CSV column
  std::string values;        // the default grid's values in parse_grid syntax, e.g. "2..8192:x2"
  std::string quick_values;  // the quick grid's: a subset of `values`, or a single smaller count
                             // (trials, samples); empty means the same as `values`
  bool integer = false;      // whole numbers only (sizes and counts)
  double min = -INFINITY;    // admissible values: [min, max], both ends included
  double max = INFINITY;
  std::string meaning;       // what the axis is, for error messages
  bool single = false;       // a setting that takes exactly one value (not swept)
};

/// Parses one --grid text, e.g. "L=32..1024:log2, N=5" or "T={0.01,0.1,1}".
/// Throws std::invalid_argument naming the offending axis/column on malformed input or an
/// empty range. The full syntax, merging and axis checks: reports/sweep_grid.hpp.
Grid parse_grid(std::string_view text);

struct SweepRow {
  std::vector<double> parameters;            // one per SweepTable::parameter_names
  std::string series;                        // identifier, e.g. "Delta/T=2", "softmax", "reading A"
  std::string statistic;                     // identifier, e.g. "L*alpha_max", "max ||J||_2"
  double value = 0;
  std::vector<std::optional<double>> bounds; // one per SweepTable::bound_names (empty cell if none)
  std::optional<double> ci_low, ci_high;     // statistical estimates only
};

struct SweepTable {
  std::string experiment;
  std::vector<std::string> parameter_names;
  std::vector<std::string> bound_names;
  std::uint64_t seed = 0;
  std::vector<SweepRow> rows;
};

/// Tidy CSV (RFC 4180, \r\n): parameters…, series, statistic, value, bounds…, ci_low, ci_high,
/// seed. Numbers are written with 17 significant digits (round-trip), never locale-dependent.
std::string sweep_csv(const SweepTable& table);

/// One curve of a figure: the rows with this series and statistic, y taken from `y_column`
/// ("value" or one of the bound names).
struct CurveSpec {
  std::string legend;      // text with $…$ math (see the text rule above)
  std::string series;
  std::string statistic;
  std::string y_column = "value";
  bool is_bound = false;   // drawn dashed, without marks
  bool with_ci = false;    // draw ci_low..ci_high as a band / error bars
};

struct FigureSpec {
  std::string id;                           // file stem, e.g. "vanishing-attention"
  std::string x_parameter;                  // one of the parameter names
  std::map<std::string, double> fixed;      // other parameters held at these values
  std::string x_label, y_label;             // text with $…$ math, symbols and units
  bool log_x = false, log_y = false;
  std::vector<CurveSpec> curves;
  std::string caption;                      // text with $…$ math: what the reader should see;
                                            // cites claim ids
};

/// The report's one-line finding for an experiment, computed from its table.
struct SweepSummary {
  int points = 0;
  int bound_violations = 0;  // rows where a claimed upper (lower) bound is exceeded (undercut)
  std::string finding;       // text with $…$ math, e.g. "printed bound holds at all 40 points"
};

using ProgressCallback = std::function<void(std::size_t done, std::size_t total)>;

struct Experiment {
  std::string name;         // CLI name: "vanishing-attention"
  std::string claim_ids;    // e.g. "A.cor1, A.cor1-tight"
  std::string title;        // text with $…$ math; also the report's section heading
  std::string description;  // text with $…$ math: one paragraph for the report
  // The grid axes run() understands (others are an error), with the full report's values and
  // those of report --quick (all quick grids together finish in < ~1 min).
  std::vector<AxisSpec> axes;
  // The table of a grid. Its points are units of distributed_map (reports/sweeps/point_rows.hpp):
  // `jobs` threads here (0: all hardware threads) and MPI ranks, whose count changes no byte.
  std::function<SweepTable(const Grid&, std::uint64_t seed, int jobs, const ProgressCallback&)> run;
  std::vector<FigureSpec> figures;
  std::function<SweepSummary(const SweepTable&)> summarize;
  // Rough work of one grid point (about one unit per floating-point operation of its inner
  // loops), from the point's axis values by name, and that formula as text for the error
  // message. resolve_grid refuses a grid whose summed work exceeds kMaxWorkUnits
  // (reports/sweep_grid.hpp), so `--grid 'n=65536, samples=1e6'` fails at once instead of
  // running for hours. Empty: no estimate.
  std::function<double(const std::map<std::string, double>& point)> work;
  std::string work_formula;  // e.g. "trials*L*d"
};

/// Every experiment, in report order.
const std::vector<Experiment>& experiments();
const Experiment* find_experiment(std::string_view name);

}  // namespace attncert::sweeps
