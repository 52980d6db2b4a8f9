#include "reports/sweeps/mean_interval.hpp"

#include <fmt/format.h>

#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <stdexcept>

namespace attncert::sweeps {

MeanInterval mean_interval(std::span<const double> draws, double gamma) {
  if (draws.empty()) throw std::invalid_argument("mean_interval: no draws");
  if (!(gamma > 0 && gamma < 1)) throw std::invalid_argument(fmt::format("mean_interval: gamma {} is not in (0, 1)", gamma));
  double sum = 0;
  for (std::size_t i = 0; i < draws.size(); ++i) {
    if (!std::isfinite(draws[i])) {
      throw std::invalid_argument(fmt::format("mean_interval: draw {} is not finite ({})", i, draws[i]));
    }
    sum += draws[i];
  }
  const double n = static_cast<double>(draws.size());
  const double mean = sum / n;
  if (draws.size() == 1) return {mean, std::nullopt, std::nullopt};
  double ss = 0;
  for (double x : draws) ss += (x - mean) * (x - mean);
  const double sd = std::sqrt(ss / (n - 1));
  const boost::math::students_t dist(n - 1);
  const double t = boost::math::quantile(boost::math::complement(dist, gamma / 2));
  const double half = t * sd / std::sqrt(n);
  return {mean, mean - half, mean + half};
}

}  // namespace attncert::sweeps
