// One computed value's forward error, bounded two ways from one analysis (docs/error_bounds.md):
//
//   error = Σ_k g_k δ_k  +  s  +  r,
//
//   δ_k  the relative rounding errors of the basic operations (|δ_k| ≤ u_k), g_k their
//        first-order coefficients evaluated at the EXACT data (|g_k| ≤ c_k);
//   s    errors that are not roundings — exp/log/tanh approximations, subnormal floors, flushed
//        underflow, the double evaluation of the bound itself: |s| ≤ S, never averaged;
//   r    everything of second order in the u's: |r| ≤ R, bounded rigorously.
//
//   guaranteed    = Σ_k c_k u_k + S + R            (every rounding at its worst: certain)
//   probabilistic = min(λ·√(Σ_k (c_k u_k)²), Σ_k c_k u_k) + S + R
//
// Probabilistic model (Higham & Mary, SIAM J. Sci. Comput. 41(5), 2019, Model 2.1, taken with
// independence): the δ_k are independent random variables of mean zero — round-to-nearest
// arithmetic on data without exact structure (truncating accumulation is not mean-zero; ties,
// repeated or constant data make the δ_k equal and correlated). Then Hoeffding's inequality gives
// P(|Σ g_k δ_k| ≥ λ√(Σ c_k² u_k²)) ≤ 2·exp(−λ²/2), and over m checked values (a union bound: no
// independence between the values is needed) λ = √(2·ln(2m/δ)) keeps the probability that a
// correct kernel exceeds the bound anywhere in the call ≤ δ (the false-alarm probability).
//
// Each rounding event must enter a budget ONCE, with its total coefficient: the probabilistic
// part adds squares, so splitting one δ_k over two entries would understate it.
#pragma once

#include <cstddef>

namespace attncert {

/// The default false-alarm probability per call (all values checked in one case or head).
inline constexpr double kDefaultFalseAlarm = 1e-6;

class ErrorBudget {
 public:
  /// One rounding event: |coefficient| at the exact data ≤ `coefficient`, |δ| ≤ `unit`.
  void rounding(double coefficient, double unit);
  /// Many rounding events of the same unit: Σ_k c_k and Σ_k c_k² of their coefficient bounds.
  void roundings(double coefficient_sum, double coefficient_square_sum, double unit);
  /// A non-random first-order error (approximation, floor): |s| ≤ bound.
  void systematic(double bound);
  /// A rigorous bound of second-order terms.
  void remainder(double bound);
  /// The error of `inner` enters this value multiplied by a factor of modulus ≤ |factor| (to
  /// first order; the caller bounds the second-order rest with remainder()). inner's events
  /// must not enter this budget by any other path.
  void add(const ErrorBudget& inner, double factor = 1.0);

  /// Σ c_k u_k + S + R.
  double guaranteed() const;
  /// min(λ·√(Σ (c_k u_k)²), Σ c_k u_k) + S + R (|Σ g_k δ_k| ≤ Σ c_k u_k holds surely).
  double probabilistic(double lambda) const;

  double linear() const { return linear_; }          ///< Σ c_k u_k
  double linear_rms() const;                         ///< √(Σ (c_k u_k)²)
  double systematic_part() const { return systematic_; }
  double remainder_part() const { return remainder_; }

 private:
  double linear_ = 0, square_ = 0, systematic_ = 0, remainder_ = 0;
};

/// λ = √(2·ln(2m/δ)) for m values checked with false-alarm probability δ per call. Throws
/// std::invalid_argument (one line) unless 0 < δ < 1 and m ≥ 1.
double probabilistic_lambda(double false_alarm, double values_checked);

/// Throws std::invalid_argument naming the problem unless 0 < δ < 1.
void require_false_alarm(double false_alarm);

}  // namespace attncert
