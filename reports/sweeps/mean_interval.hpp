// Mean of a Monte Carlo sample with a two-sided Student-t confidence interval, for the
// experiments' averaged quantities (MSEs, distances, fractions averaged over trials).
#pragma once

#include <span>

namespace attncert::sweeps {

struct MeanInterval {
  double mean = 0;
  double low = 0;   // mean − t_{n−1, 1−γ/2} · s/√n
  double high = 0;  // mean + t_{n−1, 1−γ/2} · s/√n
};

/// 95% t-interval (γ = 0.05) for the mean of i.i.d. draws; one draw gives low = high = mean
/// (no spread can be estimated). Throws std::invalid_argument for an empty sample or a
/// non-finite draw.
MeanInterval mean_interval(std::span<const double> draws);

}  // namespace attncert::sweeps
