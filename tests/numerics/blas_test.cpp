// blas::gemm against a plain triple loop in long double, on contiguous, strided, transposed and
// degenerate operands (strides of extent-1 dimensions, k = 0), and its shape errors.
#include "numerics/blas.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "numerics/rng.hpp"
#include "numerics/tensor_view.hpp"

namespace attncert {
namespace {

template <class T>
RowMatrix<T> random_matrix(Rng& rng, Eigen::Index rows, Eigen::Index cols) {
  RowMatrix<T> m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<T>(rng.normal());
  return m;
}

// |fl(AB) − AB| ≤ γ_k |A||B| for any summation order (Higham, Thm 3.5): the check's tolerance.
template <class T, class A, class B, class C>
void expect_product(const A& a, const B& b, const C& c, T alpha, T beta, const RowMatrix<T>& c0) {
  const double u = std::numeric_limits<T>::epsilon() / 2;
  const double k = static_cast<double>(a.cols());
  const double gamma = (k + 2) * u / (1 - (k + 2) * u);  // +2: alpha and beta roundings
  for (Eigen::Index i = 0; i < c.rows(); ++i)
    for (Eigen::Index j = 0; j < c.cols(); ++j) {
      long double exact = 0, magnitude = 0;
      for (Eigen::Index l = 0; l < a.cols(); ++l) {
        exact += static_cast<long double>(a(i, l)) * b(l, j);
        magnitude += std::abs(static_cast<long double>(a(i, l)) * b(l, j));
      }
      exact = alpha * exact + beta * static_cast<long double>(c0(i, j));
      magnitude = std::abs(alpha) * magnitude + std::abs(beta * c0(i, j));
      EXPECT_LE(std::abs(c(i, j) - exact), gamma * magnitude + 1e-300)
          << "entry (" << i << ", " << j << ")";
    }
}

TEST(Blas, ContiguousStridedAndTransposedOperands) {
  const std::uint64_t seed = 20261203;
  SCOPED_TRACE(testing::Message() << "seed " << seed);
  Rng rng(seed);
  for (auto [m, n, k] : {std::array<Eigen::Index, 3>{1, 1, 1}, {1, 7, 3}, {5, 1, 4}, {3, 4, 1},
                         {37, 29, 64}, {130, 70, 257}}) {
    const RowMatrix<double> a = random_matrix<double>(rng, m, k);
    const RowMatrix<double> bt = random_matrix<double>(rng, n, k);  // B = btᵀ (strided view)
    RowMatrix<double> c = random_matrix<double>(rng, m, n);
    const RowMatrix<double> c0 = c;
    blas::gemm(0.5, a, bt.transpose(), 2.0, c);
    expect_product<double>(a, bt.transpose(), c, 0.5, 2.0, c0);

    // Every other column of a wider buffer: a non-unit column stride.
    RowMatrix<double> wide = random_matrix<double>(rng, m, 2 * k);
    Eigen::Map<const RowMatrix<double>, Eigen::Unaligned, ViewStride> strided(
        wide.data(), m, k, ViewStride(2 * k, 2));
    RowMatrix<double> out(m, n);
    blas::gemm(1.0, strided, bt.transpose(), 0.0, out);
    expect_product<double>(strided, bt.transpose(), out, 1.0, 0.0, RowMatrix<double>::Zero(m, n));

    const RowMatrix<float> af = a.cast<float>(), btf = bt.cast<float>();
    RowMatrix<float> cf(m, n);
    blas::gemm(1.0f, af, btf.transpose(), 0.0f, cf);
    expect_product<float>(af, btf.transpose(), cf, 1.0f, 0.0f, RowMatrix<float>::Zero(m, n));
  }
}

TEST(Blas, EmptyInnerDimensionScalesByBeta) {
  RowMatrix<double> a(3, 0), b(0, 2), c(3, 2);
  c.setConstant(4.0);
  blas::gemm(1.0, a, b, 0.5, c);
  EXPECT_TRUE((c.array() == 2.0).all());
  c.setConstant(std::numeric_limits<double>::quiet_NaN());
  blas::gemm(1.0, a, b, 0.0, c);  // beta = 0 overwrites, as BLAS does
  EXPECT_TRUE((c.array() == 0.0).all());
}

TEST(Blas, MismatchedShapesNameThem) {
  RowMatrix<double> a(3, 4), b(5, 2), c(3, 2);
  try {
    blas::gemm(1.0, a, b, 0.0, c);
    FAIL() << "no throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "blas::gemm: A is 3×4, B is 5×2, C is 3×2; need A m×k, B k×n and C m×n");
  }
}

TEST(Blas, ConfigurationNamesTheLibrary) {
  EXPECT_NE(blas::configuration().find("BLIS"), std::string::npos) << blas::configuration();
}

}  // namespace
}  // namespace attncert
