// gpu/output_equality.hpp against known truth: every NaN equals every NaN (payloads and signs
// differ between host and device), everything else only with identical bits (−0 ≠ +0, ±inf,
// subnormals), per dtype (0x7c01 is a NaN in fp16 and a finite number in bf16).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "gpu/flash_attention.hpp"
#include "gpu/output_equality.hpp"

namespace attncert::gpu {
namespace {

float from_bits(std::uint32_t b) { return bits_float(b); }

TEST(OutputEquality, AllNaNsAreEqualWhateverTheirPayloadOrSign) {
  // quiet (x86 default is 0xffc00000), CUDA's canonical 0x7fffffff, signalling, negative.
  const std::uint32_t nans[] = {0x7fc00000u, 0xffc00000u, 0x7fffffffu, 0x7f800001u, 0xff800001u,
                                0x7fc12345u};
  for (std::uint32_t a : nans)
    for (std::uint32_t b : nans) EXPECT_TRUE(same_output_value(from_bits(a), from_bits(b))) << a << " " << b;
}

TEST(OutputEquality, ANaNIsNotEqualToAnyNumber) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (std::uint32_t b : {0x7f800000u, 0xff800000u, 0x00000000u, 0x80000000u, 0x00000001u,
                          0x7f7fffffu, 0x3f800000u}) {
    EXPECT_FALSE(same_output_value(nan, from_bits(b))) << b;
    EXPECT_FALSE(same_output_value(from_bits(b), nan)) << b;
  }
}

TEST(OutputEquality, NumbersAreEqualOnlyBitForBit) {
  EXPECT_FALSE(same_output_value(0.0f, -0.0f));  // documented: the sign of zero counts
  EXPECT_TRUE(same_output_value(-0.0f, -0.0f));
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_TRUE(same_output_value(inf, inf));
  EXPECT_TRUE(same_output_value(-inf, -inf));
  EXPECT_FALSE(same_output_value(inf, -inf));
  EXPECT_FALSE(same_output_value(inf, std::numeric_limits<float>::max()));
  // Subnormals: the smallest differ from each other and from 0 (no flush-to-zero equality).
  EXPECT_TRUE(same_output_value(from_bits(1), from_bits(1)));
  EXPECT_FALSE(same_output_value(from_bits(1), from_bits(2)));
  EXPECT_FALSE(same_output_value(from_bits(1), 0.0f));
  EXPECT_FALSE(same_output_value(from_bits(0x80000001u), -0.0f));
  EXPECT_FALSE(same_output_value(1.0f, std::nextafter(1.0f, 2.0f)));
}

TEST(OutputEquality, SixteenBitPatternsAreJudgedInTheirOwnDType) {
  // fp16: exponent 0x7c00; bf16: exponent 0x7f80.
  EXPECT_TRUE(same_output_bits(DType::f16, 0x7e00u, 0xfc01u));   // two fp16 NaNs
  EXPECT_TRUE(same_output_bits(DType::f16, 0x7c01u, 0x7e00u));
  EXPECT_FALSE(same_output_bits(DType::bf16, 0x7c01u, 0x7e00u));  // finite bf16 numbers
  EXPECT_TRUE(same_output_bits(DType::bf16, 0x7fc0u, 0xff81u));  // two bf16 NaNs
  EXPECT_FALSE(same_output_bits(DType::f16, 0x7c00u, 0x7e00u));  // inf vs NaN
  EXPECT_FALSE(same_output_bits(DType::bf16, 0x7f80u, 0x7f81u));
  EXPECT_FALSE(same_output_bits(DType::f16, 0x8000u, 0x0000u));  // −0 vs +0
  EXPECT_FALSE(same_output_bits(DType::bf16, 0x8000u, 0x0000u));
  EXPECT_FALSE(same_output_bits(DType::f16, 0x0001u, 0x0000u));  // smallest subnormal vs 0
  EXPECT_TRUE(same_output_bits(DType::f16, 0x03ffu, 0x03ffu));   // largest subnormal
  EXPECT_FALSE(same_output_bits(DType::f16, 0x7bffu, 0x7c00u));  // max finite vs inf
}

TEST(OutputEquality, FirstDifferenceNamesTheElementAndBothValues) {
  std::vector<float> a = {1.0f, std::numeric_limits<float>::quiet_NaN(), 0.0f, 2.0f};
  std::vector<float> b = a;
  b[1] = from_bits(0x7fffffffu);  // another NaN: still equal
  EXPECT_EQ(output_difference_message(a, b), "");
  b[2] = -0.0f;
  b[3] = 3.0f;
  const auto d = first_output_difference(a, b);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->index, 2u);
  EXPECT_EQ(d->first_bits, 0x00000000u);
  EXPECT_EQ(d->second_bits, 0x80000000u);
  EXPECT_EQ(d->message(), "element 2: 0x0p+0 [0x00000000] vs -0x0p+0 [0x80000000] (fp32)");
  const std::vector<float> shorter(a.begin(), a.end() - 1);
  EXPECT_EQ(output_difference_message(a, shorter), "sizes differ: 4 vs 3 elements");
}

TEST(OutputEquality, ByteBuffersOfSixteenBitElements) {
  const std::vector<std::uint16_t> a = {0x3c00u, 0x7e00u, 0x0001u}, b = {0x3c00u, 0xfe01u, 0x0001u};
  const auto bytes = [](const std::vector<std::uint16_t>& x) {
    return std::span<const unsigned char>(reinterpret_cast<const unsigned char*>(x.data()),
                                          x.size() * 2);
  };
  EXPECT_EQ(output_difference_message(DType::f16, bytes(a), bytes(b)), "");
  // As bf16, 0x7e00 is a finite number (2^125) and 0xfe01 another: element 1 differs.
  EXPECT_EQ(output_difference_message(DType::bf16, bytes(a), bytes(b)),
            "element 1: 0x1p+125 [0x7e00] vs -0x1.02p+125 [0xfe01] (bf16)");
  const std::vector<std::uint16_t> c = {0x3c00u, 0x7e00u, 0x0000u};
  EXPECT_EQ(output_difference_message(DType::f16, bytes(a), bytes(c)),
            "element 2: 0x1p-24 [0x0001] vs 0x0p+0 [0x0000] (fp16)");
}

// The case the comparison exists for: the twin's NaN rows (x86 payloads) against the same rows
// with CUDA's payload 0x7fffffff are equal by value, though memcmp calls them different.
TEST(OutputEquality, TwinNaNRowsEqualTheSameRowsWithTheDevicePayload) {
  const int L = 3, d = 32;
  std::vector<float> q(L * d, 0.25f), k(L * d, -0.5f), v(L * d, 1.0f);
  k[d + 3] = std::numeric_limits<float>::infinity();  // +inf·(+q) logit: e^(inf − inf) = NaN
  std::vector<float> out(L * d), lse(L);
  FlashAttentionArgs a;
  a.q = q.data(), a.k = k.data(), a.v = v.data();
  a.out = out.data(), a.log_sum_exp = lse.data();
  a.seqlen_q = a.seqlen_k = L, a.head_dim = d;
  a.scale = default_attention_scale(d);
  ASSERT_TRUE(flash_attention_twin(a).ok());
  std::vector<float> device_like = out;
  int nans = 0;
  for (float& x : device_like)
    if (std::isnan(x)) x = from_bits(0x7fffffffu), ++nans;
  ASSERT_EQ(nans, L * d);  // every row sees key 1
  EXPECT_NE(std::memcmp(out.data(), device_like.data(), out.size() * 4), 0);
  EXPECT_EQ(output_difference_message(out, device_like), "");
}

}  // namespace
}  // namespace attncert::gpu
