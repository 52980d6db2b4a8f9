// Eigen support for the multiprecision tiers: NumTraits for Ball (ours) and Mp (Boost's
// boost/multiprecision/eigen.hpp), so that Eigen matrices of either do products and norms.
// Ball comparisons are tri-state, so Eigen algorithms that branch on scalar comparisons
// (pivoting decompositions, maxCoeff) are not meant for Ball; Ball matrices are for
// certified products, sums and norms. Decompositions run in Mp.
#pragma once

#include <Eigen/Core>
#include <boost/multiprecision/eigen.hpp>

#include "numerics/ball.hpp"
#include "numerics/mp.hpp"

namespace Eigen {

template <>
struct NumTraits<attncert::Ball> : GenericNumTraits<attncert::Ball> {
  using Real = attncert::Ball;
  using NonInteger = attncert::Ball;
  using Literal = attncert::Ball;
  using Nested = attncert::Ball;
  enum {
    IsComplex = 0,
    IsInteger = 0,
    IsSigned = 1,
    RequireInitialization = 1,
    ReadCost = 1,
    AddCost = 8,
    MulCost = 16
  };
  // A ball's rounding is tracked in its radius; these are exact zeros so that Eigen's
  // "approximately zero" logic never silently discards a ball's width.
  static inline Real epsilon() { return Real(0); }
  static inline Real dummy_precision() { return Real(0); }
  static inline int digits10() { return 0; }
};

}  // namespace Eigen

namespace attncert {
using BallMatrix = Eigen::Matrix<Ball, Eigen::Dynamic, Eigen::Dynamic>;
using BallVector = Eigen::Matrix<Ball, Eigen::Dynamic, 1>;
using MpMatrix = Eigen::Matrix<Mp, Eigen::Dynamic, Eigen::Dynamic>;
using MpVector = Eigen::Matrix<Mp, Eigen::Dynamic, 1>;
}  // namespace attncert
