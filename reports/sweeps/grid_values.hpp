// What experiments build from a complete grid (complete_grid, reports/sweep_grid.hpp): the
// table's parameter columns, the grid points, and each point's random stream.
#pragma once

#include <bit>
#include <cstdint>
#include <string>
#include <vector>

#include "numerics/rng.hpp"
#include "reports/sweep.hpp"

namespace attncert::sweeps {

/// An empty table of `experiment` with one parameter column per axis of `grid`, in the grid's
/// order (complete_grid gives the declaration order).
inline SweepTable table_over_axes(const Grid& grid, const std::string& experiment, std::uint64_t seed) {
  SweepTable table;
  table.experiment = experiment;
  table.seed = seed;
  for (const GridAxis& axis : grid.axes) table.parameter_names.push_back(axis.name);
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
