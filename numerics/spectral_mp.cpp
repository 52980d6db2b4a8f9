// The Mp tier of spectral.hpp: Eigen::BDCSVD<MpMatrix>. This is the one TU that instantiates
// Eigen's SVD templates for Mp (BDCSVD pulls in JacobiSVD, Householder bidiagonalisation and
// ColPivHouseholderQR for Mp too) — and therefore also the compile test the design asks
// for: the Eigen solver × scalar pair BDCSVD × Mp builds here, and spectral_test runs it.
#include "numerics/eigen_support.hpp"

// Eigen's generic hypot (positive_real_hypot, used by the Jacobi rotations inside BDCSVD)
// needs NumTraits<Mp>::infinity() and quiet_NaN(), which Boost 1.74's NumTraits for
// multiprecision numbers does not provide. MPFR has a correctly rounded hypot; use it. The
// result takes the current MpPrecision default, like every other Mp temporary.
// (Better placed in eigen_support.hpp, next to the NumTraits, if a second TU ever needs it.)
namespace Eigen::internal {
template <>
struct hypot_impl<attncert::Mp> {
  static attncert::Mp run(const attncert::Mp& x, const attncert::Mp& y) {
    attncert::Mp r;
    mpfr_hypot(r.backend().data(), x.backend().data(), y.backend().data(), MPFR_RNDN);
    return r;
  }
};
}  // namespace Eigen::internal

#include <Eigen/SVD>

#include <cmath>
#include <stdexcept>
#include <string>

#include "numerics/precision.hpp"
#include "numerics/spectral.hpp"

namespace attncert {
namespace {

void require_shape(Eigen::Index rows, Eigen::Index cols, const char* what) {
  if (rows < 1 || cols < 1) {
    throw std::invalid_argument(std::string(what) + ": matrix is " + std::to_string(rows) +
                                "x" + std::to_string(cols) + ", need at least 1x1");
  }
}

// Copies A into a column-major MpMatrix whose entries all carry exactly `bits` bits (rounded
// to nearest), so that no entry keeps a different precision into the decomposition.
// Must run inside an MpPrecision(bits) scope.
MpMatrix rounded_copy(const RowMatrix<Mp>& A, const char* what) {
  require_shape(A.rows(), A.cols(), what);
  MpMatrix out(A.rows(), A.cols());
  for (Eigen::Index i = 0; i < A.rows(); ++i) {
    for (Eigen::Index j = 0; j < A.cols(); ++j) {
      mpfr_srcptr src = A(i, j).backend().data();
      if (!mpfr_number_p(src)) {
        throw std::domain_error(std::string(what) + ": entry (" + std::to_string(i) + ", " +
                                std::to_string(j) + ") is not finite; entries must be finite");
      }
      Mp v;  // default precision = bits (inside the caller's MpPrecision)
      mpfr_set(v.backend().data(), src, MPFR_RNDN);
      out(i, j) = v;
    }
  }
  return out;
}

}  // namespace

RowMatrix<Mp> to_mp_matrix(const RowMatrix<double>& A, long bits) {
  require_precision(bits, "to_mp_matrix");
  RowMatrix<Mp> out(A.rows(), A.cols());
  for (Eigen::Index i = 0; i < A.rows(); ++i) {
    for (Eigen::Index j = 0; j < A.cols(); ++j) {
      if (!std::isfinite(A(i, j))) {
        throw std::domain_error("to_mp_matrix: entry (" + std::to_string(i) + ", " +
                                std::to_string(j) + ") is not finite; entries must be finite");
      }
      out(i, j) = mp_from_double(A(i, j), bits);
    }
  }
  return out;
}

MpSvd mp_svd(const RowMatrix<Mp>& A, long bits) {
  require_precision(bits, "mp_svd");
  MpPrecision guard(bits);
  const MpMatrix a = rounded_copy(A, "mp_svd");
  Eigen::BDCSVD<MpMatrix> svd(a, Eigen::ComputeFullU | Eigen::ComputeFullV);
  if (svd.info() != Eigen::Success) {
    throw std::runtime_error("mp_svd: Eigen's BDCSVD did not converge at " +
                             std::to_string(bits) + " bits");
  }
  MpSvd out;
  out.U = svd.matrixU();
  out.V = svd.matrixV();
  out.singular_values = svd.singularValues();
  out.precision_bits = bits;
  return out;
}

MpSvd mp_svd(const RowMatrix<double>& A, long bits) {
  require_precision(bits, "mp_svd");
  return mp_svd(to_mp_matrix(A, std::max(bits, 53L)), bits);
}

std::vector<Mp> mp_singular_values(const RowMatrix<Mp>& A, long bits) {
  require_precision(bits, "mp_singular_values");
  MpPrecision guard(bits);
  const MpMatrix a = rounded_copy(A, "mp_singular_values");
  Eigen::BDCSVD<MpMatrix> svd(a);
  if (svd.info() != Eigen::Success) {
    throw std::runtime_error("mp_singular_values: Eigen's BDCSVD did not converge at " +
                             std::to_string(bits) + " bits");
  }
  const MpVector& s = svd.singularValues();
  return std::vector<Mp>(s.data(), s.data() + s.size());
}

std::vector<Mp> mp_singular_values(const RowMatrix<double>& A, long bits) {
  require_precision(bits, "mp_singular_values");
  return mp_singular_values(to_mp_matrix(A, std::max(bits, 53L)), bits);
}

}  // namespace attncert
