// RationalMatrix: a matrix of exact rationals (FLINT fmpq_mat), for the questions interval
// arithmetic cannot settle. The rank is not continuous in the entries, so no enclosure, however
// narrow, certifies that a singular value is exactly 0; a matrix of rationals has an exact rank.
//
// Every finite double and every finite exact ball (radius 0) is a dyadic rational m·2^e, so
// both convert without error; products, sums and quotients of rationals stay exact. Matrices
// whose entries are transcendental (exp of a nonzero rational) cannot be built here.
#pragma once

#include <Eigen/Core>

#include <memory>

#include "numerics/ball.hpp"
#include "numerics/tensor_view.hpp"

namespace attncert {

class RationalMatrix {
 public:
  using Index = Eigen::Index;

  /// A rows × cols matrix of zeros.
  RationalMatrix(Index rows, Index cols);
  /// Each double's exact value. Throws std::domain_error naming the entry on NaN or ±inf.
  static RationalMatrix from_doubles(const RowMatrix<double>& a);
  /// Each ball's exact value. Throws std::domain_error naming the entry when a ball has a
  /// positive radius or is not finite (its value is then not one known rational).
  static RationalMatrix from_exact_balls(const RowMatrix<Ball>& a);

  ~RationalMatrix();
  RationalMatrix(RationalMatrix&& other) noexcept;
  RationalMatrix& operator=(RationalMatrix&& other) noexcept;
  RationalMatrix(const RationalMatrix&) = delete;
  RationalMatrix& operator=(const RationalMatrix&) = delete;

  Index rows() const noexcept;
  Index cols() const noexcept;
  /// Entry (i, j) enclosed at `prec` bits: exact when it is a dyadic rational of at most `prec`
  /// significant bits.
  Ball entry(Index i, Index j, long prec) const;

  /// this · otherᵀ, exactly. Throws std::invalid_argument when the column counts differ.
  RationalMatrix times_transpose(const RationalMatrix& other) const;
  /// Whether row i sums to exactly 0.
  bool row_sum_is_zero(Index i) const;
  /// D⁻¹·this, D = diag(row sums), exactly. Throws std::domain_error naming the first row
  /// whose sum is exactly 0.
  RationalMatrix row_normalised() const;
  /// The exact rank (FLINT: rows scaled to integers, which keeps the rank, then fmpz_mat_rank).
  long rank() const;

 private:
  struct Data;  // owns the fmpq_mat_t; FLINT stays out of this header
  explicit RationalMatrix(std::unique_ptr<Data> data) noexcept;
  std::unique_ptr<Data> data_;
};

}  // namespace attncert
