// Exact rational matrices on FLINT's fmpq_mat (see rational_matrix.hpp).
#include "numerics/rational_matrix.hpp"

#include <arb.h>
#include <arf.h>
#include <flint/fmpq.h>
#include <flint/fmpq_mat.h>
#include <flint/fmpz.h>
#include <flint/fmpz_mat.h>
#include <fmt/format.h>

#include <stdexcept>
#include <utility>

#include "numerics/arb_handles.hpp"

namespace attncert {

struct RationalMatrix::Data {
  arb_handles::FmpqMatHandle m;
  Data(slong rows, slong cols) : m(rows, cols) {}
};

namespace {

// out = x's exact value man·2^exp, read off its midpoint (x is exact and finite).
void set_exact(fmpq* out, const Ball& x, Eigen::Index i, Eigen::Index j) {
  if (!x.is_finite() || !x.is_exact()) {
    throw std::domain_error(fmt::format(
        "rational matrix: entry ({}, {}) = {} is not one exact finite rational", i, j, x.str()));
  }
  arb_handles::FmpzHandle exp;
  arf_get_fmpz_2exp(fmpq_numref(out), exp, arb_midref(x.arb()));
  fmpz_one(fmpq_denref(out));
  // Exponents of doubles and of their exact products and sums are far inside slong; a ball
  // built otherwise could carry a huge exponent, and 2^e would not fit in memory anyway.
  if (!fmpz_fits_si(exp)) {
    throw std::domain_error(
        fmt::format("rational matrix: entry ({}, {}) has a binary exponent beyond 64 bits", i, j));
  }
  const slong e = fmpz_get_si(exp);
  if (e >= 0) {
    fmpq_mul_2exp(out, out, static_cast<flint_bitcnt_t>(e));
  } else {
    fmpq_div_2exp(out, out, static_cast<flint_bitcnt_t>(-e));
  }
}

void row_sum(fmpq* out, const fmpq_mat_t m, slong i) {
  fmpq_zero(out);
  for (slong j = 0; j < fmpq_mat_ncols(m); ++j) fmpq_add(out, out, fmpq_mat_entry(m, i, j));
}

}  // namespace

RationalMatrix::RationalMatrix(Index rows, Index cols)
    : data_(std::make_unique<Data>(static_cast<slong>(rows), static_cast<slong>(cols))) {}
RationalMatrix::RationalMatrix(std::unique_ptr<Data> data) noexcept : data_(std::move(data)) {}
RationalMatrix::~RationalMatrix() = default;
RationalMatrix::RationalMatrix(RationalMatrix&& other) noexcept = default;
RationalMatrix& RationalMatrix::operator=(RationalMatrix&& other) noexcept = default;

RationalMatrix RationalMatrix::from_doubles(const RowMatrix<double>& a) {
  RationalMatrix r(a.rows(), a.cols());
  for (Index i = 0; i < a.rows(); ++i) {
    for (Index j = 0; j < a.cols(); ++j) set_exact(fmpq_mat_entry(r.data_->m, i, j), Ball(a(i, j)), i, j);
  }
  return r;
}

RationalMatrix RationalMatrix::from_exact_balls(const RowMatrix<Ball>& a) {
  RationalMatrix r(a.rows(), a.cols());
  for (Index i = 0; i < a.rows(); ++i) {
    for (Index j = 0; j < a.cols(); ++j) set_exact(fmpq_mat_entry(r.data_->m, i, j), a(i, j), i, j);
  }
  return r;
}

RationalMatrix::Index RationalMatrix::rows() const noexcept { return fmpq_mat_nrows(data_->m); }
RationalMatrix::Index RationalMatrix::cols() const noexcept { return fmpq_mat_ncols(data_->m); }

Ball RationalMatrix::entry(Index i, Index j, long prec) const {
  Ball r(0.0, prec);
  arb_set_fmpq(r.arb(), fmpq_mat_entry(data_->m, i, j), prec);
  return r;
}

RationalMatrix RationalMatrix::times_transpose(const RationalMatrix& other) const {
  if (cols() != other.cols()) {
    throw std::invalid_argument(fmt::format(
        "rational matrix: A·Bᵀ needs equal column counts, got {} and {}", cols(), other.cols()));
  }
  arb_handles::FmpqMatHandle bt(fmpq_mat_ncols(other.data_->m), fmpq_mat_nrows(other.data_->m));
  fmpq_mat_transpose(bt, other.data_->m);
  RationalMatrix r(rows(), other.rows());
  fmpq_mat_mul(r.data_->m, data_->m, bt);
  return r;
}

bool RationalMatrix::row_sum_is_zero(Index i) const {
  arb_handles::FmpqHandle s;
  row_sum(s, data_->m, static_cast<slong>(i));
  return fmpq_is_zero(s) != 0;
}

RationalMatrix RationalMatrix::row_normalised() const {
  RationalMatrix r(rows(), cols());
  arb_handles::FmpqHandle s;
  for (slong i = 0; i < fmpq_mat_nrows(data_->m); ++i) {
    row_sum(s, data_->m, i);
    if (fmpq_is_zero(s)) {
      throw std::domain_error(
          fmt::format("rational matrix: row {} sums to exactly 0, D⁻¹ does not exist", i));
    }
    for (slong j = 0; j < fmpq_mat_ncols(data_->m); ++j) {
      fmpq_div(fmpq_mat_entry(r.data_->m, i, j), fmpq_mat_entry(data_->m, i, j), s);
    }
  }
  return r;
}

long RationalMatrix::rank() const {
  const slong rows = fmpq_mat_nrows(data_->m), cols = fmpq_mat_ncols(data_->m);
  if (rows == 0 || cols == 0) return 0;
  // Scaling each row by its denominators' lcm multiplies by an invertible diagonal matrix.
  arb_handles::FmpzMatHandle num(rows, cols);
  arb_handles::FmpzVecHandle den(rows);
  fmpq_mat_get_fmpz_mat_rowwise(num, den, data_->m);
  return fmpz_mat_rank(num);
}

}  // namespace attncert
