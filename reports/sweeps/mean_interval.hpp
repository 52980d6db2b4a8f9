// Mean of a Monte Carlo sample with a two-sided Student-t confidence interval, for the
// experiments' averaged quantities (MSEs, distances, fractions averaged over trials).
#pragma once

#include <optional>
#include <span>

namespace attncert::sweeps {

struct MeanInterval {
  double mean = 0;
  std::optional<double> low;   // mean − t_{n−1, 1−γ/2} · s/√n; none for one draw
  std::optional<double> high;  // mean + t_{n−1, 1−γ/2} · s/√n; none for one draw
};

/// 95% t-interval (γ = 0.05) for the mean of i.i.d. draws. One draw gives no interval
/// (low, high empty): no spread can be estimated, and [mean, mean] would claim certainty. Throws std::invalid_argument for an empty sample or a
/// non-finite draw.
MeanInterval mean_interval(std::span<const double> draws);

}  // namespace attncert::sweeps
