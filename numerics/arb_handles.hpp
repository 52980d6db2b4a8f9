// Owners of Arb and FLINT C objects, for code that calls the C API directly (Ball is the value
// type for everything else). One RAII mechanism: the object is initialised on construction and
// cleared on every exit, so a throw between the two can no longer leak it.
//
// Each owner is move-only (moving swaps with a fresh object, as Arb's own *_swap does) and
// converts implicitly to its raw pointer and has ->, so calls read like the C idiom:
// arb_add(s, a, b, prec), arb_midref(s), arb_mat_entry(m, i, j). get() names the pointer.
#pragma once

#include <acb.h>
#include <acb_mat.h>
#include <arb.h>
#include <arb_mat.h>
#include <arf.h>
#include <flint/fmpq.h>
#include <flint/fmpq_mat.h>
#include <flint/fmpz.h>
#include <flint/fmpz_mat.h>
#include <flint/fmpz_vec.h>
#include <mag.h>

#include <utility>

namespace attncert::arb_handles {

// The library's functions for one C type. Arb and FLINT define most of them static inline in
// C headers; calling them from these (externally linked) members keeps every owner type the
// same type in every translation unit.
struct ArbOps {
  using Struct = arb_struct;
  static void init(Struct* x) noexcept { arb_init(x); }
  static void clear(Struct* x) noexcept { arb_clear(x); }
  static void swap(Struct* a, Struct* b) noexcept { arb_swap(a, b); }
  static Struct* vec_init(slong n) noexcept { return _arb_vec_init(n); }
  static void vec_clear(Struct* v, slong n) noexcept { _arb_vec_clear(v, n); }
};
struct AcbOps {
  using Struct = acb_struct;
  static void init(Struct* x) noexcept { acb_init(x); }
  static void clear(Struct* x) noexcept { acb_clear(x); }
  static void swap(Struct* a, Struct* b) noexcept { acb_swap(a, b); }
  static Struct* vec_init(slong n) noexcept { return _acb_vec_init(n); }
  static void vec_clear(Struct* v, slong n) noexcept { _acb_vec_clear(v, n); }
};
struct ArfOps {
  using Struct = arf_struct;
  static void init(Struct* x) noexcept { arf_init(x); }
  static void clear(Struct* x) noexcept { arf_clear(x); }
  static void swap(Struct* a, Struct* b) noexcept { arf_swap(a, b); }
};
struct MagOps {
  using Struct = mag_struct;
  static void init(Struct* x) noexcept { mag_init(x); }
  static void clear(Struct* x) noexcept { mag_clear(x); }
  static void swap(Struct* a, Struct* b) noexcept { mag_swap(a, b); }
};
struct FmpzOps {
  using Struct = fmpz;
  static void init(Struct* x) noexcept { fmpz_init(x); }
  static void clear(Struct* x) noexcept { fmpz_clear(x); }
  static void swap(Struct* a, Struct* b) noexcept { fmpz_swap(a, b); }
  static Struct* vec_init(slong n) noexcept { return _fmpz_vec_init(n); }
  static void vec_clear(Struct* v, slong n) noexcept { _fmpz_vec_clear(v, n); }
};
struct FmpqOps {
  using Struct = fmpq;
  static void init(Struct* x) noexcept { fmpq_init(x); }
  static void clear(Struct* x) noexcept { fmpq_clear(x); }
  static void swap(Struct* a, Struct* b) noexcept { fmpq_swap(a, b); }
};
struct FmpzMatOps {
  using Struct = fmpz_mat_struct;
  using Entry = fmpz;
  static void init(Struct* m, slong r, slong c) noexcept { fmpz_mat_init(m, r, c); }
  static void init(Struct* m) noexcept { fmpz_mat_init(m, 0, 0); }
  static void clear(Struct* m) noexcept { fmpz_mat_clear(m); }
  static void swap(Struct* a, Struct* b) noexcept { fmpz_mat_swap(a, b); }
};
struct FmpqMatOps {
  using Struct = fmpq_mat_struct;
  using Entry = fmpq;
  static void init(Struct* m, slong r, slong c) noexcept { fmpq_mat_init(m, r, c); }
  static void init(Struct* m) noexcept { fmpq_mat_init(m, 0, 0); }
  static void clear(Struct* m) noexcept { fmpq_mat_clear(m); }
  static void swap(Struct* a, Struct* b) noexcept { fmpq_mat_swap(a, b); }
};
struct ArbMatOps {
  using Struct = arb_mat_struct;
  using Entry = arb_struct;
  static void init(Struct* m, slong r, slong c) noexcept { arb_mat_init(m, r, c); }
  static void init(Struct* m) noexcept { arb_mat_init(m, 0, 0); }
  static void clear(Struct* m) noexcept { arb_mat_clear(m); }
  static void swap(Struct* a, Struct* b) noexcept { arb_mat_swap(a, b); }
};
struct AcbMatOps {
  using Struct = acb_mat_struct;
  using Entry = acb_struct;
  static void init(Struct* m, slong r, slong c) noexcept { acb_mat_init(m, r, c); }
  static void init(Struct* m) noexcept { acb_mat_init(m, 0, 0); }
  static void clear(Struct* m) noexcept { acb_mat_clear(m); }
  static void swap(Struct* a, Struct* b) noexcept { acb_mat_swap(a, b); }
};

/// One C object: a scalar (arb_t, arf_t, …), or a matrix built with its shape (rows, cols).
template <class Ops>
class Owned {
  using Struct = typename Ops::Struct;

 public:
  template <class... Shape>
    requires requires(Struct* p, Shape... shape) { Ops::init(p, shape...); }
  explicit Owned(Shape... shape) noexcept {
    Ops::init(v_, shape...);
  }
  ~Owned() { Ops::clear(v_); }
  Owned(Owned&& other) noexcept {
    Ops::init(v_);
    Ops::swap(v_, other.v_);
  }
  Owned& operator=(Owned&& other) noexcept {
    Ops::swap(v_, other.v_);
    return *this;
  }
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;

  Struct* get() noexcept { return v_; }
  const Struct* get() const noexcept { return v_; }
  operator Struct*() noexcept { return v_; }              // NOLINT(google-explicit-constructor)
  operator const Struct*() const noexcept { return v_; }  // NOLINT(google-explicit-constructor)
  Struct* operator->() noexcept { return v_; }  // for Arb's accessor macros: arb_midref(x)
  const Struct* operator->() const noexcept { return v_; }

  // Matrices only.
  auto* operator()(slong i, slong j) noexcept
    requires requires { typename Ops::Entry; }
  {
    return v_->rows[i] + j;
  }
  const auto* operator()(slong i, slong j) const noexcept
    requires requires { typename Ops::Entry; }
  {
    return v_->rows[i] + j;
  }
  slong rows() const noexcept
    requires requires { typename Ops::Entry; }
  {
    return v_->r;
  }
  slong cols() const noexcept
    requires requires { typename Ops::Entry; }
  {
    return v_->c;
  }

 private:
  Struct v_[1];
};

/// A contiguous vector of n entries (what arb_dot and the eigenvalue routines take).
template <class Ops>
class Vector {
  using Struct = typename Ops::Struct;

 public:
  explicit Vector(slong n) noexcept : v_(n > 0 ? Ops::vec_init(n) : nullptr), n_(n > 0 ? n : 0) {}
  ~Vector() {
    if (v_ != nullptr) Ops::vec_clear(v_, n_);
  }
  Vector(Vector&& other) noexcept
      : v_(std::exchange(other.v_, nullptr)), n_(std::exchange(other.n_, 0)) {}
  Vector& operator=(Vector&& other) noexcept {
    std::swap(v_, other.v_);
    std::swap(n_, other.n_);
    return *this;
  }
  Vector(const Vector&) = delete;
  Vector& operator=(const Vector&) = delete;

  Struct* get() noexcept { return v_; }
  const Struct* get() const noexcept { return v_; }
  operator Struct*() noexcept { return v_; }              // NOLINT(google-explicit-constructor)
  operator const Struct*() const noexcept { return v_; }  // NOLINT(google-explicit-constructor)
  Struct* operator[](slong i) noexcept { return v_ + i; }
  const Struct* operator[](slong i) const noexcept { return v_ + i; }
  slong size() const noexcept { return n_; }

 private:
  Struct* v_;
  slong n_;
};

using ArbHandle = Owned<ArbOps>;
using AcbHandle = Owned<AcbOps>;
using ArfHandle = Owned<ArfOps>;
using MagHandle = Owned<MagOps>;
using FmpzHandle = Owned<FmpzOps>;
using FmpqHandle = Owned<FmpqOps>;
using ArbVecHandle = Vector<ArbOps>;
using AcbVecHandle = Vector<AcbOps>;
using FmpzVecHandle = Vector<FmpzOps>;
using ArbMatHandle = Owned<ArbMatOps>;  // m(i, j) points to entry (i, j)
using AcbMatHandle = Owned<AcbMatOps>;
using FmpzMatHandle = Owned<FmpzMatOps>;
using FmpqMatHandle = Owned<FmpqMatOps>;

}  // namespace attncert::arb_handles
