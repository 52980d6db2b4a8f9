// Two-sample Kolmogorov–Smirnov test, for checking that two samplers draw from the same
// distribution (e.g. a fast path against a reference path).
//
// The statistic D is exact (up to the rounding of i/n_a − j/n_b). The p-value is NOT exact: it
// is the asymptotic Kolmogorov distribution with Stephens' (1970) small-sample correction, as in
// Numerical Recipes' `kstwo` (2nd ed. §14.3; `KSdist` in the 3rd ed.):
//   n_e = n_a·n_b/(n_a + n_b),  λ = (√n_e + 0.12 + 0.11/√n_e)·D,  p = Q_KS(λ).
// It is a good approximation for n_e ≳ 4 and improves as n_e grows, but it ignores that D
// lives on a lattice of multiples of 1/lcm(n_a, n_b): for n_a = n_b = 100 the exact size of
// "p < 0.05" is 0.0539, not 0.05. Treat p as a screening number, not a certified probability.
#pragma once

#include <cstddef>
#include <span>

namespace attncert {

struct KsResult {
  double statistic = 0;  // D = sup_x |F_a(x) − F_b(x)| of the two empirical CDFs
  double p_value = 1;    // asymptotic two-sided p-value (see the header comment), in [0, 1]
  std::size_t n_a = 0, n_b = 0;
};

/// Two-sample KS test of "a and b are draws from the same continuous distribution". Ties within
/// and across samples are allowed: D is measured only after every draw equal to x has entered
/// both empirical CDFs. The inputs need not be sorted (they are copied).
/// Throws std::invalid_argument (one line naming the problem) for an empty sample or a NaN/inf
/// draw.
KsResult two_sample_ks(std::span<const double> a, std::span<const double> b);

/// Q_KS(λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²} = P(K > λ) for the Kolmogorov distribution K
/// (the limit law of √n·D). 1 for λ ≤ 0 and 0 for λ = +∞; for 0 < λ < 1.18 the theta-function
/// form below is used (the alternating series converges slowly there), otherwise the
/// alternating series. Absolute error ≈ 1e-16. Throws std::domain_error for NaN.
double kolmogorov_survival(double lambda);

/// The two series that kolmogorov_survival switches between at λ = 1.18, exposed so that
/// their agreement near the switch can be tested. Both throw std::domain_error outside their
/// range (where they would need many terms or cancel catastrophically).
///
/// Alternating form 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²}, for 0.5 ≤ λ ≤ +∞ (≤ 10 terms).
double kolmogorov_survival_alternating(double lambda);
/// Complementary (Jacobi theta) form 1 − (√(2π)/λ) Σ_{k≥1} e^{−(2k−1)²π²/(8λ²)}, for
/// 0 < λ ≤ 2 (≤ 7 terms). It is 1 − (a number near 1), so it loses relative accuracy as Q → 0.
double kolmogorov_survival_theta(double lambda);

}  // namespace attncert
