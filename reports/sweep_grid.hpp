// The --grid language of `attncert sweep` and the experiments' default/quick grids.
//
// A grid is a comma-separated list of axes (whitespace is ignored around every token):
//
//   NAME=V              one value                          N=5
//   NAME={V1,V2,...}    a list, in the order given          T={0.01,0.1,1}
//   NAME=A..B           A, A+1, A+2, … up to B              N=1..8
//   NAME=A..B:+S        A, A+S, A+2S, … up to B (S > 0)     T=0.1..1:+0.1
//   NAME=A..B:xF        A, A·F, A·F², … up to B (F > 1)     L=32..1024:x2
//   NAME=A..B:logF      the same as :xF (one point per power of F; log2 = x2)
//   NAME=A..B:nK        K points, geometric from A to B     T=0.01..10:n7
//   NAME=A..B:linK      K points, evenly spaced A to B      eps=0..1:lin5
//
// NAME is an identifier ([A-Za-z_][A-Za-z0-9_]*). Ranges include both ends (B is included
// when it lies on the progression, within a relative 1e-9); geometric ranges need A > 0.
// Generated values are rounded to 15 significant digits so that 0.1..0.3:+0.1 gives 0.3, not
// 0.30000000000000004. At most kMaxAxisPoints values per axis.
//
// Malformed text throws std::invalid_argument with one line naming the axis and the problem:
// missing '=', bad name, non-numeric or non-finite number, unknown step, empty range (A > B),
// a list with a repeated value, a duplicate axis, too many points.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "reports/sweep.hpp"

namespace attncert::sweeps {

/// Cap on the values of one axis (a typo like 1..1e9 fails at once instead of running forever).
inline constexpr std::size_t kMaxAxisPoints = 100000;
/// Cap on the grid points of a run (the product of the axis sizes).
inline constexpr double kMaxGridPoints = 1e6;
/// Cap on a run's estimated work (Experiment::work summed over the grid points): about 1e11
/// floating-point operations, minutes on one core; every default grid is far below it.
inline constexpr double kMaxWorkUnits = 1e11;

/// Experiment::work summed over every point of `grid` (0 when the experiment has no estimate).
double grid_work(const Experiment& experiment, const Grid& grid);

// parse_grid(text) is declared in reports/sweep.hpp and implemented in sweep_grid.cpp.

/// Canonical text of a grid, NAME={v1,v2,…} per axis with round-trip numbers:
/// parse_grid(grid_text(g)) == g for every grid parse_grid can return.
std::string grid_text(const Grid& grid);

/// `base` with every axis of `later` replacing the axis of the same name (appended if new):
/// several --grid options merge, the later one winning per axis.
Grid merge_grids(const Grid& base, const Grid& later);

/// The declared grid of `axes`: every axis with its default values, or with its quick values
/// when `quick` (AxisSpec::quick_values, else the default ones).
Grid declared_grid(const std::vector<AxisSpec>& axes, bool quick);

/// The same as text, "NAME=VALUES, …" exactly as declared (the report shows it).
std::string declared_grid_text(const std::vector<AxisSpec>& axes, bool quick);

/// The grid an experiment runs on, with its axes in declaration order: every axis of `given`
/// (an axis `axes` does not declare throws std::invalid_argument listing the declared ones),
/// the others from declared_grid(axes, quick). Every value is checked against its AxisSpec
/// (whole number, [min, max], one value for a single axis) and the grid against kMaxGridPoints;
/// a bad given value throws std::invalid_argument naming the axis, a bad declared one
/// std::logic_error. Experiments call this first in run(), so that any grid is checked.
Grid complete_grid(const Grid& given, const std::vector<AxisSpec>& axes, std::string_view experiment,
                   bool quick = false);

/// What the CLI and the report pass to run(): each --grid text merged in order (later wins per
/// axis), completed by complete_grid from the experiment's quick or default values, and its
/// grid_work at most kMaxWorkUnits (else std::invalid_argument naming the work formula's axes).
Grid resolve_grid(const Experiment& experiment, bool quick, const std::vector<std::string>& grid_texts);

/// The values of axis `name`; throws std::invalid_argument when the grid lacks it.
const std::vector<double>& axis_values(const Grid& grid, std::string_view name);

}  // namespace attncert::sweeps
