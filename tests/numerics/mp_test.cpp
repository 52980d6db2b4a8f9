// Mp and MpPrecision: precision is what the scope says, restored afterwards, and threads with
// different precisions never see each other's.
#include "numerics/mp.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>

#include "numerics/eigen_support.hpp"

namespace attncert {
namespace {

TEST(MpPrecision, ScopeSetsAndRestoresTheDefault) {
  const long before = MpPrecision::current_bits();
  {
    MpPrecision outer(300);
    EXPECT_GE(MpPrecision::current_bits(), 300);
    EXPECT_LE(MpPrecision::current_bits(), 304);  // decimal-digit granularity of Boost
    const Mp x = Mp(1) / 3;
    EXPECT_GE(mp_bits(x), 300);
    {
      MpPrecision inner(80);  // nested scope on the same thread: no deadlock
      const Mp y = Mp(1) / 3;
      EXPECT_GE(mp_bits(y), 80);
      EXPECT_LT(mp_bits(y), 100);
    }
    EXPECT_GE(MpPrecision::current_bits(), 300);
  }
  EXPECT_EQ(MpPrecision::current_bits(), before);
}

TEST(MpPrecision, ThreadsComputeAtTheirOwnPrecision) {
  long bits_a = 0, bits_b = 0;
  auto work = [](long bits, long* seen) {
    for (int i = 0; i < 200; ++i) {
      MpPrecision scope(bits);
      const Mp x = Mp(2) / 7 + Mp(1);
      *seen = mp_bits(x);
      if (*seen < bits) return;
    }
  };
  std::thread a(work, 500, &bits_a), b(work, 70, &bits_b);
  a.join();
  b.join();
  EXPECT_GE(bits_a, 500);
  EXPECT_GE(bits_b, 70);
  EXPECT_LT(bits_b, 100);
}

TEST(MpConversions, FromDoubleIsExactAtTheRequestedPrecision) {
  const Mp x = mp_from_double(0.1, 113);
  EXPECT_EQ(mp_bits(x), 113);
  EXPECT_EQ(mp_to_double(x), 0.1);
  EXPECT_THROW(mp_from_double(std::nan(""), 64), std::domain_error);
  EXPECT_THROW(mp_from_double(1.0, 1), std::invalid_argument);
  EXPECT_THROW(MpPrecision(3'000'000), std::invalid_argument);
}

TEST(MpEigen, DenseProductAtScopePrecision) {
  MpPrecision scope(256);
  MpMatrix A(2, 2);
  A << Mp(1) / 3, Mp(2), Mp(3), Mp(4);
  const MpMatrix B = A * A;
  // (1/3)^2 + 6 to ~256 bits: the residual is at the 2^-250 level, far below double.
  const Mp expected = Mp(1) / 9 + 6;
  EXPECT_LT(boost::multiprecision::abs(B(0, 0) - expected), Mp(1e-70));
  EXPECT_GE(mp_bits(B(0, 0)), 256);
}

}  // namespace
}  // namespace attncert
