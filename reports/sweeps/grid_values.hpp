// Reading an experiment's axes from a Grid: unknown axis names are an error that lists the
// valid ones, missing axes take the experiment's default values, and values are checked
// against the admissible range with a message naming the axis.
#pragma once

#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "numerics/rng.hpp"
#include "reports/sweep.hpp"

namespace attncert::sweeps {

/// One axis an experiment understands: its name, default values, and admissible range.
struct AxisSpec {
  std::string name;
  std::vector<double> defaults;
  double min = -INFINITY;
  double max = INFINITY;
  bool integer = false;
  std::string meaning;  // for the error message
};

/// Throws std::invalid_argument naming the first axis of `grid` that `axes` does not know,
/// with the list of valid names.
inline void require_known_axes(const Grid& grid, const std::string& experiment,
                               const std::vector<AxisSpec>& axes) {
  for (const GridAxis& a : grid.axes) {
    bool known = false;
    for (const AxisSpec& s : axes) known = known || s.name == a.name;
    if (known) continue;
    std::string valid;
    for (const AxisSpec& s : axes) valid += (valid.empty() ? "" : ", ") + s.name;
    throw std::invalid_argument(
        fmt::format("{}: unknown grid axis '{}' (valid axes: {})", experiment, a.name, valid));
  }
}

/// The grid's values of `spec.name`, or its defaults. Throws std::invalid_argument when the axis
/// is empty, or a value is non-finite, out of [min, max], or not an integer for an integer axis.
inline std::vector<double> axis_values(const Grid& grid, const std::string& experiment,
                                       const AxisSpec& spec) {
  const GridAxis* a = grid.find(spec.name);
  std::vector<double> v = a ? a->values : spec.defaults;
  if (v.empty())
    throw std::invalid_argument(fmt::format("{}: grid axis '{}' has no values", experiment, spec.name));
  for (double x : v) {
    if (!std::isfinite(x) || x < spec.min || x > spec.max || (spec.integer && std::floor(x) != x)) {
      throw std::invalid_argument(fmt::format(
          "{}: grid axis '{}' ({}) has value {}; admissible: {} in [{}, {}]", experiment, spec.name,
          spec.meaning, x, spec.integer ? "integers" : "reals", spec.min, spec.max));
    }
  }
  return v;
}

/// As axis_values, for an axis that must hold a single value (a setting, not swept).
inline double single_axis_value(const Grid& grid, const std::string& experiment, const AxisSpec& spec) {
  const std::vector<double> v = axis_values(grid, experiment, spec);
  if (v.size() != 1)
    throw std::invalid_argument(fmt::format("{}: grid axis '{}' ({}) takes one value, got {}",
                                            experiment, spec.name, spec.meaning, v.size()));
  return v.front();
}

/// The axis names, for Experiment::axes (what `attncert sweep --grid` may name).
inline std::vector<std::string> axis_names(const std::vector<AxisSpec>& specs) {
  std::vector<std::string> names;
  for (const AxisSpec& s : specs) names.push_back(s.name);
  return names;
}

/// A table of `experiment` with one parameter column per spec, and each axis's values (the
/// grid's, else the defaults, range-checked) in spec order. Unknown grid axes are an error.
inline SweepTable table_over_axes(const Grid& grid, const std::string& experiment, std::uint64_t seed,
                                  const std::vector<AxisSpec>& specs,
                                  std::vector<std::vector<double>>& values) {
  require_known_axes(grid, experiment, specs);
  SweepTable table;
  table.experiment = experiment;
  table.seed = seed;
  values.clear();
  for (const AxisSpec& a : specs) {
    table.parameter_names.push_back(a.name);
    values.push_back(axis_values(grid, experiment, a));
  }
  return table;
}

/// Every combination of the axes' values (the cartesian product), first axis slowest.
inline std::vector<std::vector<double>> grid_points(const std::vector<std::vector<double>>& axes) {
  std::vector<std::vector<double>> points{{}};
  for (const std::vector<double>& values : axes) {
    std::vector<std::vector<double>> next;
    for (const std::vector<double>& p : points) {
      for (double v : values) {
        next.push_back(p);
        next.back().push_back(v);
      }
    }
    points = std::move(next);
  }
  return points;
}

/// A key of a point's parameter values (their bit patterns, hashed in order), so that the random
/// stream of a point, Rng(seed).substream(point_key(p)), depends on the point itself and not on
/// which other points the grid holds: a point of the quick grid has the same data in the full one.
inline std::uint64_t point_key(const std::vector<double>& parameters) {
  std::uint64_t key = 0x5eed;
  for (double p : parameters) key = SplitMix64::mix(key ^ std::bit_cast<std::uint64_t>(p + 0.0));
  return key;
}

}  // namespace attncert::sweeps
