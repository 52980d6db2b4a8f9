// Dense matrix products for the float/double paths, on BLIS (see docs/design-decisions.md for
// why BLIS and how its kernel is chosen on the machine as it is).
//
//   gemm(alpha, A, B, beta, C):   C ← alpha·A·B + beta·C
//
// A, B and C are any direct-access Eigen matrices (Matrix, Map with any strides, Block, and
// their .transpose()): BLIS takes a row and a column stride per operand, so strided heads and
// transposes are multiplied in place, never copied. C must not alias A or B.
//
// One thread per call: attncert parallelises over heads, claims and cases with its own pool
// (parallel_for.hpp); the serial BLIS build cannot start threads of its own.
//
// Bad shapes throw std::invalid_argument naming both shapes (BLIS itself would abort).
#pragma once

#include <Eigen/Core>

#include <cstddef>
#include <string>
#include <type_traits>

namespace attncert::blas {

/// C ← alpha·A·B + beta·C on raw strided storage (element strides, ≥ 0).
/// m×k times k×n into m×n. k = 0 scales C by beta; m = 0 or n = 0 does nothing.
template <class T>
void gemm(std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k, T alpha, const T* a,
          std::ptrdiff_t a_row_stride, std::ptrdiff_t a_col_stride, const T* b,
          std::ptrdiff_t b_row_stride, std::ptrdiff_t b_col_stride, T beta, T* c,
          std::ptrdiff_t c_row_stride, std::ptrdiff_t c_col_stride);

/// Throws std::invalid_argument: "blas::gemm: A is m×k, B is k'×n, C is …".
[[noreturn]] void throw_shape_mismatch(std::ptrdiff_t a_rows, std::ptrdiff_t a_cols,
                                       std::ptrdiff_t b_rows, std::ptrdiff_t b_cols,
                                       std::ptrdiff_t c_rows, std::ptrdiff_t c_cols);

/// The Eigen form. Extern-instantiated for float and double in blas.cpp.
template <class MatA, class MatB, class MatC>
void gemm(typename std::remove_reference_t<MatC>::Scalar alpha, const Eigen::DenseBase<MatA>& a,
          const Eigen::DenseBase<MatB>& b, typename std::remove_reference_t<MatC>::Scalar beta,
          MatC&& c) {
  using T = typename std::decay_t<MatC>::Scalar;
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "blas::gemm multiplies float or double matrices");
  static_assert(std::is_same_v<typename MatA::Scalar, T> && std::is_same_v<typename MatB::Scalar, T>,
                "blas::gemm operands must share one scalar type");
  if (a.cols() != b.rows() || c.rows() != a.rows() || c.cols() != b.cols()) {
    throw_shape_mismatch(a.rows(), a.cols(), b.rows(), b.cols(), c.rows(), c.cols());
  }
  const auto& ad = a.derived();
  const auto& bd = b.derived();
  gemm<T>(c.rows(), c.cols(), a.cols(), alpha, ad.data(), ad.rowStride(), ad.colStride(),
          bd.data(), bd.rowStride(), bd.colStride(), beta, c.data(), c.rowStride(), c.colStride());
}

/// What runs the products, e.g. "BLIS 0.9.0 (serial), sub-configuration skx, chosen by
/// attncert from the CPU's features (avx512f)". Initialises BLIS if it was not yet.
std::string configuration();

}  // namespace attncert::blas
