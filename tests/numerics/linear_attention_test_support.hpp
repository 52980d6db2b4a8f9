// Helpers shared by the linear-attention test files (feature maps, linear attention,
// approximation error): seeded random matrices, tier conversions, exception checks.
#pragma once

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "numerics/ball.hpp"
#include "numerics/mp.hpp"
#include "numerics/rng.hpp"
#include "numerics/tensor_view.hpp"
#include "numerics/tier_conversions.hpp"

namespace attncert::linear_attention_testing {


using Index = Eigen::Index;

#define ATTNCERT_TRACE_SEED(seed)                 \
  SCOPED_TRACE("seed = " + std::to_string(seed)); \
  ::testing::Test::RecordProperty("seed", std::to_string(seed))

inline RowMatrix<double> random_matrix(Rng& rng, Index rows, Index cols, double sd = 1.0) {
  RowMatrix<double> m(rows, cols);
  for (Index i = 0; i < rows; ++i)
    for (Index j = 0; j < cols; ++j) m(i, j) = rng.normal(0.0, sd);
  return m;
}

inline RowMatrix<Ball> to_ball(const RowMatrix<double>& m, long prec) {
  RowMatrix<Ball> b(m.rows(), m.cols());
  for (Index i = 0; i < m.rows(); ++i)
    for (Index j = 0; j < m.cols(); ++j) b(i, j) = Ball(m(i, j), prec);
  return b;
}

// Must be called inside an MpPrecision scope of at least `bits`.
inline RowMatrix<Mp> to_mp(const RowMatrix<double>& m, long bits) {
  RowMatrix<Mp> r(m.rows(), m.cols());
  for (Index i = 0; i < m.rows(); ++i)
    for (Index j = 0; j < m.cols(); ++j) r(i, j) = mp_from_double(m(i, j), bits);
  return r;
}

template <class F>
void expect_throw_mentioning(F&& f, const std::string& fragment) {
  try {
    f();
    ADD_FAILURE() << "expected an exception mentioning \"" << fragment << "\"";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
        << "message \"" << e.what() << "\" does not mention \"" << fragment << "\"";
  }
}

}  // namespace attncert::linear_attention_testing
