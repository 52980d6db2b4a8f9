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

/// The grid an experiment runs on: `given` checked against the experiment's axes (an unknown
/// name throws std::invalid_argument listing the known ones), with every axis it does not name
/// taken from `defaults` (parse_grid syntax); more than kMaxGridPoints points in all is an error.
/// Experiments call this first in run().
Grid complete_grid(const Grid& given, std::string_view defaults,
                   const std::vector<std::string>& axes, std::string_view experiment);

/// What the CLI passes to run(): the experiment's quick or default grid, merged with each
/// --grid text in order (later wins per axis), axis names checked, and its grid_work at most
/// kMaxWorkUnits (else std::invalid_argument naming the work formula's axes).
Grid resolve_grid(const Experiment& experiment, bool quick, const std::vector<std::string>& grid_texts);

/// The values of axis `name`; throws std::invalid_argument when the grid lacks it.
const std::vector<double>& axis_values(const Grid& grid, std::string_view name);

/// The single value of axis `name`, checked to be an integer in [lo, hi] (for sizes such as
/// trials or a dimension); throws std::invalid_argument naming the axis otherwise.
long integer_value(double value, std::string_view name, long lo, long hi);

}  // namespace attncert::sweeps
