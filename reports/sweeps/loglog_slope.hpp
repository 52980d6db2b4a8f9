// The least-squares slope of log y against log x: how the findings read a power law from sweep
// points (slope −1 is y ∝ 1/x).
#pragma once

#include <cmath>
#include <limits>
#include <utility>
#include <vector>

namespace attncert::sweeps {

/// Slope of the least-squares line through the points (log x, log y), x, y > 0; NaN below two
/// points. Two points always fit a line exactly, so a finding that reads the slope as evidence
/// asks for three or more itself.
inline double loglog_slope(const std::vector<std::pair<double, double>>& xy) {
  if (xy.size() < 2) return std::numeric_limits<double>::quiet_NaN();
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const auto& [x, y] : xy) {
    const double lx = std::log(x), ly = std::log(y);
    sx += lx, sy += ly, sxx += lx * lx, sxy += lx * ly;
  }
  const double n = static_cast<double>(xy.size());
  return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

}  // namespace attncert::sweeps
