// The tier support every algorithm shares: the Arb owners (arb_handles.hpp), the per-tier value
// tests in ScalarTraits and the Mp precision scope (tier_scope.hpp).
#include <gtest/gtest.h>

#include <limits>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "numerics/arb_handles.hpp"
#include "numerics/ball.hpp"
#include "numerics/eigen_support.hpp"
#include "numerics/mp.hpp"
#include "numerics/precision.hpp"
#include "numerics/scalar_traits.hpp"
#include "numerics/tensor_view.hpp"
#include "numerics/tier_scope.hpp"

namespace attncert {
namespace {

using arb_handles::ArbHandle;
using arb_handles::ArbMatHandle;
using arb_handles::ArbVecHandle;
using arb_handles::ArfHandle;
using arb_handles::FmpqHandle;

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(ArbHandles, ScalarMovesItsValueAndLeavesAFreshZero) {
  ArbHandle a;
  EXPECT_TRUE(arb_is_zero(a));  // initialised on construction
  arb_set_si(a, 7);
  ArbHandle b(std::move(a));
  EXPECT_TRUE(arb_equal_si(b, 7));
  EXPECT_TRUE(arb_is_zero(a));  // NOLINT(bugprone-use-after-move): moved-from is a valid zero
  ArbHandle c;
  arb_set_si(c, -3);
  c = std::move(b);
  EXPECT_TRUE(arb_equal_si(c, 7));
  // -> serves Arb's accessor macros, the conversion its functions.
  EXPECT_TRUE(arf_equal_si(arb_midref(c), 7));
  ArfHandle m;
  arf_set(m, arb_midref(c));
  EXPECT_TRUE(arf_equal_si(m, 7));
  FmpqHandle q;
  fmpq_set_si(q, 1, 3);
  EXPECT_EQ(fmpz_get_si(fmpq_denref(q.get())), 3);
}

TEST(ArbHandles, VectorOwnsNEntriesAndAllowsZeroLength) {
  ArbVecHandle v(4);
  ASSERT_EQ(v.size(), 4);
  for (slong i = 0; i < v.size(); ++i) arb_set_si(v[i], i + 1);
  ArbHandle sum;
  ArbHandle one;
  arb_one(one);
  arb_dot(sum, nullptr, 0, v, 1, one, 0, v.size(), 64);  // what the softmax sum does
  EXPECT_TRUE(arb_equal_si(sum, 10));
  ArbVecHandle w(std::move(v));
  EXPECT_EQ(w.size(), 4);
  EXPECT_EQ(v.size(), 0);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(v.get(), nullptr);
  ArbVecHandle empty(0);
  EXPECT_EQ(empty.size(), 0);
  EXPECT_EQ(empty.get(), nullptr);
}

TEST(ArbHandles, MatrixEntriesAndMove) {
  ArbMatHandle a(2, 3);
  EXPECT_EQ(a.rows(), 2);
  EXPECT_EQ(a.cols(), 3);
  EXPECT_EQ(arb_mat_nrows(a), 2);  // the macro through ->
  arb_set_si(a(1, 2), 5);
  EXPECT_EQ(a(1, 2), arb_mat_entry(a, 1, 2));
  ArbMatHandle at(3, 2);
  arb_mat_transpose(at, a);
  EXPECT_TRUE(arb_equal_si(at(2, 1), 5));
  ArbMatHandle b(std::move(at));
  EXPECT_EQ(b.rows(), 3);
  EXPECT_TRUE(arb_equal_si(b(2, 1), 5));
  EXPECT_EQ(at.rows(), 0);  // NOLINT(bugprone-use-after-move)
}

TEST(ScalarTraitsValueTests, FiniteMinusInfinityAndMaxAgreeAcrossTiers) {
  EXPECT_TRUE(ScalarTraits<double>::is_finite(1.5));
  EXPECT_FALSE(ScalarTraits<double>::is_finite(kInf));
  EXPECT_FALSE(ScalarTraits<double>::is_finite(std::numeric_limits<double>::quiet_NaN()));
  EXPECT_TRUE(ScalarTraits<double>::is_minus_infinity(-kInf));
  EXPECT_FALSE(ScalarTraits<double>::is_minus_infinity(kInf));
  EXPECT_EQ(ScalarTraits<double>::max(-1.0, 2.0), 2.0);

  MpPrecision scope(128);
  EXPECT_TRUE(ScalarTraits<Mp>::is_finite(mp_from_double(1.5, 128)));
  EXPECT_FALSE(ScalarTraits<Mp>::is_finite(mp_from_double(kInf, 128)));
  EXPECT_TRUE(ScalarTraits<Mp>::is_minus_infinity(mp_from_double(-kInf, 128)));
  EXPECT_FALSE(ScalarTraits<Mp>::is_minus_infinity(mp_from_double(-1.0, 128)));
  EXPECT_EQ(ScalarTraits<Mp>::max(mp_from_double(3.0, 128), mp_from_double(2.0, 128)), 3);

  EXPECT_TRUE(ScalarTraits<Ball>::is_finite(Ball(1.5, 64)));
  EXPECT_FALSE(ScalarTraits<Ball>::is_finite(Ball(-kInf, 64)));
  EXPECT_TRUE(ScalarTraits<Ball>::is_minus_infinity(Ball(-kInf, 64)));
  // −inf with a radius is not the point −inf: it does not mask.
  Ball wide(-kInf, 64);
  mag_set_ui(arb_radref(wide.arb()), 1);
  EXPECT_FALSE(ScalarTraits<Ball>::is_minus_infinity(wide));
  // Ball's max encloses max over all points: [0, 2] vs 1 gives [1, 2], not either operand.
  const Ball m = ScalarTraits<Ball>::max(Ball::interval(0.0, 2.0, 64), Ball(1.0, 64));
  EXPECT_TRUE(m.contains(1.0));
  EXPECT_TRUE(m.contains(2.0));
  EXPECT_FALSE(m.contains(0.5));
}

TEST(TierScope, MpRunsAtTheLargestPrecisionOfEveryKindOfInput) {
  MpPrecision outer(64);
  const Mp scalar = mp_from_double(1.0, 100);
  const std::vector<Mp> row{mp_from_double(1.0, 90), mp_from_double(2.0, 300)};
  RowMatrix<Mp> matrix(1, 2);
  matrix(0, 0) = mp_from_double(1.0, 500);
  matrix(0, 1) = mp_from_double(1.0, 80);
  const std::optional<Mp> none;
  const std::optional<Mp> some = mp_from_double(1.0, 700);
  const Mp* null = nullptr;

  EXPECT_EQ(scoped_precision_bits<Mp>(scalar), 100);
  EXPECT_EQ(scoped_precision_bits<Mp>(scalar, std::span<const Mp>(row)), 300);
  EXPECT_EQ(scoped_precision_bits<Mp>(scalar, row, matrix), 500);
  EXPECT_EQ(scoped_precision_bits<Mp>(scalar, none, null), 100);
  EXPECT_EQ(scoped_precision_bits<Mp>(scalar, some), 700);
  EXPECT_EQ(scoped_precision_bits<Mp>(&scalar, 1000L), 1000);  // an explicit precision
  EXPECT_EQ(scoped_precision_bits<Mp>(std::vector<Mp>{}), kMinPrecisionBits);
  const long before = MpPrecision::current_bits();
  {
    // Boost keeps the default in decimal digits: the scope gets at least 500 bits, and the
    // rounding up to whole digits adds fewer than 4 bits (log2 10 ≈ 3.3) per digit step.
    TierScope<Mp> scope(scalar, row, matrix);
    EXPECT_GE(MpPrecision::current_bits(), 500);
    EXPECT_LT(MpPrecision::current_bits(), 510);
  }
  EXPECT_EQ(MpPrecision::current_bits(), before);  // restored at the end of the scope
}

TEST(TierScope, TiersThatCarryTheirPrecisionOpenNoScope) {
  MpPrecision outer(64);
  const long before = MpPrecision::current_bits();
  {
    TierScope<double> scope(1.0, std::vector<double>{2.0});
    TierScope<Ball> ball_scope(Ball(1.0, 300));
    EXPECT_EQ(MpPrecision::current_bits(), before);
  }
  EXPECT_EQ(scoped_precision_bits<double>(1.0), kMinPrecisionBits);
  EXPECT_EQ(scoped_precision_bits<Ball>(Ball(1.0, 300)), kMinPrecisionBits);
}

}  // namespace
}  // namespace attncert
