#include "proofs_checks/error_budget.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace attncert {

void ErrorBudget::rounding(double coefficient, double unit) {
  const double e = std::abs(coefficient) * unit;
  linear_ += e;
  square_ += e * e;
}

void ErrorBudget::roundings(double coefficient_sum, double coefficient_square_sum, double unit) {
  linear_ += std::abs(coefficient_sum) * unit;
  square_ += std::abs(coefficient_square_sum) * unit * unit;
}

void ErrorBudget::systematic(double bound) { systematic_ += std::abs(bound); }
void ErrorBudget::remainder(double bound) { remainder_ += std::abs(bound); }

void ErrorBudget::add(const ErrorBudget& inner, double factor) {
  const double f = std::abs(factor);
  linear_ += f * inner.linear_;
  square_ += f * f * inner.square_;
  systematic_ += f * inner.systematic_;
  remainder_ += f * inner.remainder_;
}

double ErrorBudget::linear_rms() const { return std::sqrt(square_); }

double ErrorBudget::guaranteed() const { return linear_ + systematic_ + remainder_; }

double ErrorBudget::probabilistic(double lambda) const {
  // Never above the guaranteed bound: √(Σ e²)·λ can exceed Σ e for few events.
  return std::min(lambda * linear_rms(), linear_) + systematic_ + remainder_;
}

void require_false_alarm(double false_alarm) {
  if (!(false_alarm > 0 && false_alarm < 1))
    throw std::invalid_argument(fmt::format(
        "false-alarm probability {} is not in (0, 1)", false_alarm));
}

double probabilistic_lambda(double false_alarm, double values_checked) {
  require_false_alarm(false_alarm);
  if (!(values_checked >= 1))
    throw std::invalid_argument(
        fmt::format("probabilistic bound over {} values: need at least one", values_checked));
  return std::sqrt(2 * std::log(2 * values_checked / false_alarm));
}

}  // namespace attncert
