// The double tier of spectral.hpp: Eigen dense solvers and Spectra's Lanczos on AᵀA.
// (The Mp SVD lives in spectral_mp.cpp so that only one TU instantiates Eigen × Mp.)
#include "numerics/spectral.hpp"

#include <Eigen/Eigenvalues>
#include <Eigen/SVD>
#include <Spectra/SymEigsSolver.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "numerics/scalar_traits.hpp"

namespace attncert {
namespace {

void require_nonempty(Eigen::Index rows, Eigen::Index cols, const char* what) {
  if (rows < 1 || cols < 1) {
    throw std::invalid_argument(std::string(what) + ": matrix is " + std::to_string(rows) +
                                "x" + std::to_string(cols) + ", need at least 1x1");
  }
}

void require_finite(const RowMatrix<double>& A, const char* what) {
  for (Eigen::Index i = 0; i < A.rows(); ++i) {
    for (Eigen::Index j = 0; j < A.cols(); ++j) {
      if (!std::isfinite(A(i, j))) {
        throw std::domain_error(std::string(what) + ": entry (" + std::to_string(i) + ", " +
                                std::to_string(j) + ") is not finite; entries must be finite");
      }
    }
  }
}

// Spectra operator for the p×p Gram matrix of A: AᵀA when A is tall (or square), AAᵀ when
// wide. Both have the squared singular values of A as their p = min(m, n) eigenvalues.
class GramOperator {
 public:
  using Scalar = double;
  explicit GramOperator(const LinearOperator& A)
      : A_(A), tall_(A.rows >= A.cols), cache_(tall_ ? A.rows : A.cols) {}
  Eigen::Index rows() const { return tall_ ? A_.cols : A_.rows; }
  Eigen::Index cols() const { return rows(); }
  void perform_op(const double* x, double* y) const {
    if (tall_) {
      A_.apply(x, cache_.data());
      A_.apply_transpose(cache_.data(), y);
    } else {
      A_.apply_transpose(x, cache_.data());
      A_.apply(cache_.data(), y);
    }
  }

 private:
  const LinearOperator& A_;
  bool tall_;
  mutable Eigen::VectorXd cache_;
};

std::vector<double> sqrt_of_eigenvalues_descending(Eigen::VectorXd lambda, Eigen::Index k) {
  std::vector<double> out(lambda.data(), lambda.data() + lambda.size());
  std::sort(out.begin(), out.end(), std::greater<>());
  out.resize(static_cast<std::size_t>(k));
  // A Gram matrix is PSD; a tiny negative Ritz value is rounding, its singular value is ~0.
  for (double& v : out) v = std::sqrt(std::max(v, 0.0));
  return out;
}

}  // namespace

std::vector<double> singular_values(const RowMatrix<double>& A) {
  require_nonempty(A.rows(), A.cols(), "singular_values");
  require_finite(A, "singular_values");
  Eigen::MatrixXd a = A;
  Eigen::BDCSVD<Eigen::MatrixXd> svd(a);
  const Eigen::VectorXd& s = svd.singularValues();
  return std::vector<double>(s.data(), s.data() + s.size());
}

std::vector<std::complex<double>> eigenvalues(const RowMatrix<double>& A) {
  require_nonempty(A.rows(), A.cols(), "eigenvalues");
  if (A.rows() != A.cols()) {
    throw std::invalid_argument("eigenvalues: matrix is " + std::to_string(A.rows()) + "x" +
                                std::to_string(A.cols()) + ", must be square");
  }
  require_finite(A, "eigenvalues");
  Eigen::MatrixXd a = A;
  Eigen::EigenSolver<Eigen::MatrixXd> es(a, /*computeEigenvectors=*/false);
  if (es.info() != Eigen::Success) {
    throw std::runtime_error("eigenvalues: Eigen's QR iteration did not converge");
  }
  const Eigen::VectorXcd& ev = es.eigenvalues();
  std::vector<std::complex<double>> out(ev.data(), ev.data() + ev.size());
  std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) {
    if (std::abs(x) != std::abs(y)) return std::abs(x) > std::abs(y);
    if (x.real() != y.real()) return x.real() > y.real();
    return x.imag() > y.imag();
  });
  return out;
}

LinearOperator dense_operator(const RowMatrix<double>& A) {
  const RowMatrix<double>* a = &A;
  LinearOperator op;
  op.rows = A.rows();
  op.cols = A.cols();
  op.apply = [a](const double* x, double* y) {
    Eigen::Map<Eigen::VectorXd>(y, a->rows()).noalias() =
        (*a) * Eigen::Map<const Eigen::VectorXd>(x, a->cols());
  };
  op.apply_transpose = [a](const double* x, double* y) {
    Eigen::Map<Eigen::VectorXd>(y, a->cols()).noalias() =
        a->transpose() * Eigen::Map<const Eigen::VectorXd>(x, a->rows());
  };
  return op;
}

LinearOperator low_rank_operator(const RowMatrix<double>& left, const RowMatrix<double>& right) {
  require_nonempty(left.rows(), left.cols(), "low_rank_operator (left)");
  require_nonempty(right.rows(), right.cols(), "low_rank_operator (right)");
  require_finite(left, "low_rank_operator (left)");
  require_finite(right, "low_rank_operator (right)");
  if (left.cols() != right.cols()) {
    throw std::invalid_argument("low_rank_operator: left is " + std::to_string(left.rows()) +
                                "x" + std::to_string(left.cols()) + ", right is " +
                                std::to_string(right.rows()) + "x" +
                                std::to_string(right.cols()) +
                                "; the inner (feature) dimensions must agree");
  }
  const RowMatrix<double>* l = &left;
  const RowMatrix<double>* r = &right;
  LinearOperator op;
  op.rows = left.rows();
  op.cols = right.rows();
  op.apply = [l, r](const double* x, double* y) {  // y = L (Rᵀ x)
    const Eigen::VectorXd t = r->transpose() * Eigen::Map<const Eigen::VectorXd>(x, r->rows());
    Eigen::Map<Eigen::VectorXd>(y, l->rows()).noalias() = (*l) * t;
  };
  op.apply_transpose = [l, r](const double* x, double* y) {  // y = R (Lᵀ x)
    const Eigen::VectorXd t = l->transpose() * Eigen::Map<const Eigen::VectorXd>(x, l->rows());
    Eigen::Map<Eigen::VectorXd>(y, r->rows()).noalias() = (*r) * t;
  };
  return op;
}

std::vector<double> top_singular_values(const LinearOperator& A, Eigen::Index k,
                                        const TopSingularValuesOptions& options) {
  require_nonempty(A.rows, A.cols, "top_singular_values");
  if (!A.apply || !A.apply_transpose) {
    throw std::invalid_argument("top_singular_values: the operator needs both apply and "
                                "apply_transpose");
  }
  const Eigen::Index p = std::min(A.rows, A.cols);
  if (k < 1 || k > p) {
    throw std::invalid_argument("top_singular_values: k = " + std::to_string(k) +
                                " outside [1, min(rows, cols)] = [1, " + std::to_string(p) + "]");
  }
  if (!(options.relative_tolerance > 0.0) || !std::isfinite(options.relative_tolerance)) {
    throw std::invalid_argument("top_singular_values: relative_tolerance must be finite and > 0");
  }
  if (options.max_iterations < 1) {
    throw std::invalid_argument("top_singular_values: max_iterations must be >= 1");
  }
  GramOperator gram(A);
  if (k == p || p <= 2) {
    // Lanczos needs k < ncv <= p; assemble the p×p Gram matrix column by column instead.
    Eigen::MatrixXd G(p, p);
    Eigen::VectorXd e = Eigen::VectorXd::Zero(p);
    for (Eigen::Index j = 0; j < p; ++j) {
      e(j) = 1.0;
      gram.perform_op(e.data(), G.col(j).data());
      e(j) = 0.0;
    }
    // Symmetrise the rounding; the eigenvalues move by at most ‖G − Gᵀ‖/2. The eigenvalues
    // of the symmetric PSD G are its singular values (up to the sign of rounding-level
    // negative ones, whose σ is ~0 either way), so reuse the BDCSVD already instantiated
    // above instead of paying for SelfAdjointEigenSolver's templates too.
    const Eigen::MatrixXd Gs = 0.5 * (G + G.transpose());
    Eigen::BDCSVD<Eigen::MatrixXd> svd(Gs);
    return sqrt_of_eigenvalues_descending(svd.singularValues(), k);
  }
  Eigen::Index ncv = options.subspace_dimension;
  if (ncv == 0) {
    ncv = std::min(p, std::max<Eigen::Index>(2 * k + 1, 20));
  } else if (ncv <= k || ncv > p) {
    throw std::invalid_argument("top_singular_values: subspace_dimension = " +
                                std::to_string(ncv) + " must satisfy k < ncv <= min(rows, "
                                "cols), i.e. lie in [" + std::to_string(k + 1) + ", " +
                                std::to_string(p) + "]");
  }
  Spectra::SymEigsSolver<GramOperator> solver(gram, k, ncv);
  solver.init();
  solver.compute(Spectra::SortRule::LargestAlge, options.max_iterations,
                 options.relative_tolerance, Spectra::SortRule::LargestAlge);
  if (solver.info() != Spectra::CompInfo::Successful) {
    throw std::runtime_error("top_singular_values: Spectra's Lanczos did not converge for k = " +
                             std::to_string(k) + " within " +
                             std::to_string(options.max_iterations) +
                             " restarts; raise max_iterations or subspace_dimension");
  }
  return sqrt_of_eigenvalues_descending(solver.eigenvalues(), k);
}

std::vector<double> top_singular_values(const RowMatrix<double>& A, Eigen::Index k,
                                        const TopSingularValuesOptions& options) {
  require_nonempty(A.rows(), A.cols(), "top_singular_values");
  require_finite(A, "top_singular_values");
  return top_singular_values(dense_operator(A), k, options);
}

}  // namespace attncert
