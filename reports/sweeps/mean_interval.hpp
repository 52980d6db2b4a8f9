// Mean of a Monte Carlo sample with a two-sided Student-t confidence interval: the one interval
// of the experiments' averaged quantities (MSEs, distances, norms, fractions over trials).
#pragma once

#include <optional>
#include <span>

namespace attncert::sweeps {

struct MeanInterval {
  double mean = 0;
  std::optional<double> low;   // mean − t_{n−1, 1−γ/2} · s/√n; none for one draw
  std::optional<double> high;  // mean + t_{n−1, 1−γ/2} · s/√n; none for one draw
};

/// Two-sided t-interval at confidence 1 − γ for the mean of i.i.d. draws (s: the sample
/// standard deviation; exact for normal draws, asymptotic otherwise). γ is passed rather than
/// the confidence because 1 − 0.95 is not 0.05 in double. One draw gives no interval (low, high
/// empty): no spread can be estimated, and [mean, mean] would claim certainty. Throws
/// std::invalid_argument for an empty sample, a non-finite draw, or γ outside (0, 1).
MeanInterval mean_interval(std::span<const double> draws, double gamma = 0.05);

}  // namespace attncert::sweeps
