#include "numerics/rank_measures.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <stdexcept>
#include <string>

#include "numerics/certified_spectrum.hpp"
#include "numerics/scalar_traits.hpp"
#include "numerics/spectral.hpp"

namespace attncert {
namespace {

void require_sigma(std::span<const double> sigma, const char* what) {
  if (sigma.empty()) {
    throw std::invalid_argument(std::string(what) + ": no singular values (need at least 1)");
  }
  for (std::size_t i = 0; i < sigma.size(); ++i) {
    if (!std::isfinite(sigma[i]) || sigma[i] < 0.0) {
      throw std::domain_error(std::string(what) + ": singular value " + std::to_string(i) +
                              " is " + std::to_string(sigma[i]) +
                              "; singular values must be finite and >= 0");
    }
    if (i > 0 && sigma[i] > sigma[i - 1]) {
      throw std::invalid_argument(std::string(what) +
                                  ": singular values must be in descending order (index " +
                                  std::to_string(i) + ")");
    }
  }
}

Ball indeterminate() {
  Ball b;
  arb_indeterminate(b.arb());
  return b;
}

}  // namespace

double default_rank_tolerance(Eigen::Index rows, Eigen::Index cols, double sigma_max) {
  return static_cast<double>(std::max(rows, cols)) * ScalarTraits<double>::epsilon() * sigma_max;
}

Eigen::Index numerical_rank(std::span<const double> sigma, double tolerance) {
  require_sigma(sigma, "numerical_rank");
  if (!(tolerance >= 0.0)) {
    throw std::invalid_argument("numerical_rank: tolerance must be >= 0 (got " +
                                std::to_string(tolerance) + ")");
  }
  return static_cast<Eigen::Index>(
      std::count_if(sigma.begin(), sigma.end(), [&](double s) { return s > tolerance; }));
}

double stable_rank(std::span<const double> sigma) {
  require_sigma(sigma, "stable_rank");
  if (sigma[0] == 0.0) return 0.0;
  // Σ(σ_i/σ₁)² avoids overflow of σ² for huge entries.
  double sum = 0.0;
  for (double s : sigma) sum += (s / sigma[0]) * (s / sigma[0]);
  return sum;
}

double effective_rank(std::span<const double> sigma) {
  require_sigma(sigma, "effective_rank");
  double total = 0.0;
  for (double s : sigma) total += s;
  if (total == 0.0) return 0.0;
  double entropy = 0.0;
  for (double s : sigma) {
    const double p = s / total;
    if (p > 0.0) entropy -= p * std::log(p);  // 0·log 0 = 0
  }
  return std::exp(entropy);
}

double condition_number(std::span<const double> sigma) {
  require_sigma(sigma, "condition_number");
  const double smin = sigma.back();
  if (smin == 0.0) return std::numeric_limits<double>::infinity();
  return sigma.front() / smin;
}

RankMeasures rank_measures(const RowMatrix<double>& A, std::optional<double> tolerance) {
  RankMeasures r;
  r.rows = A.rows();
  r.cols = A.cols();
  r.singular_values = singular_values(A);  // validates shape and finiteness
  r.tolerance = tolerance ? *tolerance
                          : default_rank_tolerance(A.rows(), A.cols(), r.singular_values[0]);
  r.numerical_rank = numerical_rank(r.singular_values, r.tolerance);
  r.stable_rank = stable_rank(r.singular_values);
  r.effective_rank = effective_rank(r.singular_values);
  r.condition_number = condition_number(r.singular_values);
  return r;
}

double spectral_gap(const RowMatrix<double>& P) {
  if (P.rows() < 1 || P.rows() != P.cols()) {
    throw std::invalid_argument("spectral_gap: P is " + std::to_string(P.rows()) + "x" +
                                std::to_string(P.cols()) + ", must be square and at least 1x1");
  }
  const Eigen::Index n = P.rows();
  // A row sum of n rounded probabilities is 1 within about n·ε (each entry carries a relative
  // error of a few ε and they add to 1); 4n·ε leaves room for the summation itself.
  const double row_tolerance = 4.0 * static_cast<double>(n) * ScalarTraits<double>::epsilon();
  for (Eigen::Index i = 0; i < n; ++i) {
    double sum = 0.0;
    for (Eigen::Index j = 0; j < n; ++j) {
      if (!std::isfinite(P(i, j))) {
        throw std::domain_error("spectral_gap: P(" + std::to_string(i) + ", " +
                                std::to_string(j) + ") is not finite");
      }
      if (P(i, j) < 0.0) {
        throw std::invalid_argument("spectral_gap: P(" + std::to_string(i) + ", " +
                                    std::to_string(j) + ") < 0; P must be row-stochastic");
      }
      sum += P(i, j);
    }
    if (std::abs(sum - 1.0) > row_tolerance) {
      throw std::invalid_argument("spectral_gap: row " + std::to_string(i) + " sums to " +
                                  std::to_string(sum) + ", not 1 within " +
                                  std::to_string(row_tolerance) + "; P must be row-stochastic");
    }
  }
  if (n == 1) return 1.0;
  const auto lambda = eigenvalues(P);  // by modulus, largest first: λ₁ ≈ 1
  return 1.0 - std::abs(lambda[1]);
}

Eigen::Index certified_rank_lower_bound(std::span<const Ball> sigma) {
  Eigen::Index k = 0;
  for (std::size_t i = 0; i < sigma.size(); ++i) {
    if (certainly(sigma[i] > Ball(0))) k = static_cast<Eigen::Index>(i) + 1;
  }
  return k;
}

CertifiedRankBounds certified_rank(const CertifiedSingularValues& sigma,
                                   std::optional<Eigen::Index> structural_upper_bound) {
  const auto p = static_cast<Eigen::Index>(sigma.singular_values.size());
  if (structural_upper_bound && *structural_upper_bound < 0) {
    throw std::invalid_argument("certified_rank: structural_upper_bound must be >= 0");
  }
  CertifiedRankBounds r;
  r.lower = certified_rank_lower_bound(sigma.singular_values);
  r.upper = structural_upper_bound ? std::min(*structural_upper_bound, p) : p;
  if (r.lower > r.upper) {
    // Both are proved facts about the same matrix, so this is a contradiction: either the
    // structural bound does not belong to this matrix or an enclosure is wrong.
    throw std::invalid_argument("certified_rank: certified lower bound " + std::to_string(r.lower) +
                           " exceeds the structural upper bound " + std::to_string(r.upper) +
                           "; the structural bound does not describe this matrix");
  }
  return r;
}

Eigen::Index linear_attention_rank_upper_bound(Eigen::Index query_rows, Eigen::Index key_rows,
                                               Eigen::Index feature_dim) {
  if (query_rows < 1 || key_rows < 1 || feature_dim < 1) {
    throw std::invalid_argument("linear_attention_rank_upper_bound: shapes must be >= 1 (got " +
                                std::to_string(query_rows) + ", " + std::to_string(key_rows) +
                                ", m = " + std::to_string(feature_dim) + ")");
  }
  return std::min({query_rows, key_rows, feature_dim});
}

template <class T>
Eigen::Index linear_attention_rank_upper_bound(const RowMatrix<T>& phi_q,
                                               const RowMatrix<T>& phi_k) {
  if (phi_q.cols() != phi_k.cols()) {
    throw std::invalid_argument("linear_attention_rank_upper_bound: phi_q is " +
                                std::to_string(phi_q.rows()) + "x" +
                                std::to_string(phi_q.cols()) + ", phi_k is " +
                                std::to_string(phi_k.rows()) + "x" +
                                std::to_string(phi_k.cols()) +
                                "; the feature dimensions must agree");
  }
  return linear_attention_rank_upper_bound(phi_q.rows(), phi_k.rows(), phi_q.cols());
}

template Eigen::Index linear_attention_rank_upper_bound<double>(const RowMatrix<double>&,
                                                                const RowMatrix<double>&);
template Eigen::Index linear_attention_rank_upper_bound<Ball>(const RowMatrix<Ball>&,
                                                              const RowMatrix<Ball>&);

Ball certified_stable_rank(const RowMatrix<Ball>& A, const CertifiedSingularValues& sigma) {
  if (sigma.singular_values.empty() ||
      !certainly(sigma.singular_values[0] > Ball(0))) {
    return indeterminate();
  }
  const Ball& s1 = sigma.singular_values[0];
  Ball frob2(0);
  frob2.set_precision(sigma.precision_bits);
  for (Eigen::Index i = 0; i < A.rows(); ++i)
    for (Eigen::Index j = 0; j < A.cols(); ++j) frob2 += sqr(A(i, j));
  // Stable rank is >= 1 exactly; intersecting would need arb_intersection, keep the raw ball.
  return frob2 / sqr(s1);
}

Ball certified_condition_number(const CertifiedSingularValues& sigma) {
  if (sigma.singular_values.empty() || !certainly(sigma.singular_values.back() > Ball(0))) {
    return indeterminate();
  }
  return sigma.singular_values.front() / sigma.singular_values.back();
}

Ball certified_effective_rank(const CertifiedSingularValues& sigma) {
  if (sigma.singular_values.empty()) return indeterminate();
  const long prec = sigma.precision_bits;
  Ball total(0);
  total.set_precision(prec);
  for (const Ball& s : sigma.singular_values) total += s;
  // Every σ_i >= 0, so Σσ_j > 0 unless A = 0, where the p_i (and the effective rank) are undefined.
  if (!certainly(total > Ball(0))) return indeterminate();
  Ball entropy(0);
  entropy.set_precision(prec);
  for (const Ball& s : sigma.singular_values) {
    const Ball p = s / total;
    if (certainly(s > Ball(0))) {
      entropy -= p * log(p);
      continue;
    }
    // σ_i may be 0 (a rank-deficient A): the term is h(p) = −p log p with h(0) = 0, which is
    // increasing on [0, 1/e] and at most 1/e, so for 0 <= p <= u it lies in [0, h(min(u, 1/e))].
    const double u = p.upper();
    if (u <= 0) continue;  // p = 0 exactly: the term is 0
    double h_max = 0.36787944117144234;  // > 1/e = max h
    if (u < 0.36787944117144) {
      const Ball pu(u, prec);
      h_max = (-(pu * log(pu))).upper();
    }
    entropy += Ball::interval(0, h_max, prec);
  }
  return exp(entropy);
}

}  // namespace attncert
