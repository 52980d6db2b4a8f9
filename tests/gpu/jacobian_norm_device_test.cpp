// The jacobian_norm CUDA kernel: bit-identical to its CPU twin on every dtype and a spread of
// shapes, and within its per-row bound on the quick shape matrix. Needs a device; skips with
// the reason otherwise (fails with it when ATTNCERT_REQUIRE_DEVICE=1).
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "gpu/dtype.hpp"
#include "gpu/jacobian_norm.hpp"
#include "gpu/output_equality.hpp"
#include "numerics/rng.hpp"
#include "proofs_checks/jacobian_norm_check.hpp"
#include "tests/gpu/device_requirement.hpp"

namespace attncert::gpu {
namespace {

constexpr std::uint64_t kSeed = 20261123;

class JacobianNormDevice : public ::testing::Test {
 protected:
  void SetUp() override {
    ATTNCERT_SKIP_OR_FAIL_WITHOUT_DEVICE();
  }
};

TEST_F(JacobianNormDevice, KernelMatchesTwinBitForBit) {
  SCOPED_TRACE("seed = " + std::to_string(kSeed));
  Rng rng(kSeed);
  const std::vector<float> temps = {0.01f, 0.1f, 1.0f, 10.0f, 100.0f};
  for (DType t : {DType::f32, DType::f16, DType::bf16}) {
    for (long long L : {1LL, 2LL, 3LL, 33LL, 64LL, 1000LL, 4096LL, kJacobianNormMaxLength}) {
      SCOPED_TRACE(fmt::format("{} L={}", dtype_name(t), L));
      const long long rows = 37;
      std::vector<std::uint16_t> half(static_cast<std::size_t>(rows * L));
      std::vector<float> full(half.size());
      for (std::size_t i = 0; i < half.size(); ++i) {
        float x = static_cast<float>(rng.normal(0.0, 3.0));
        if (rng.uniform() < 0.1) x = -std::numeric_limits<float>::infinity();
        full[i] = x;
        half[i] = t == DType::f16 ? float_to_f16_bits(x) : float_to_bf16_bits(x);
      }
      const void* data = t == DType::f32 ? static_cast<const void*>(full.data()) : half.data();
      std::vector<float> dev(static_cast<std::size_t>(rows) * temps.size()), cpu(dev.size());
      JacobianNormArgs args{t, data, rows, L, temps.data(), static_cast<int>(temps.size()), dev.data()};
      const KernelStatus s = run_jacobian_norm_on_device(args);
      ASSERT_TRUE(s.ok()) << s.message;
      args.out = cpu.data();
      ASSERT_TRUE(jacobian_norm_twin(args).ok());
      EXPECT_EQ(output_difference_message(dev, cpu), "");  // by value: NaN payloads differ
    }
  }
}

TEST_F(JacobianNormDevice, QuickShapeMatrixOnTheDeviceStaysWithinTheBound) {
  KernelCheckRequest request;
  request.seed = kSeed;
  request.quick = true;
  request.prefer_device = true;
  for (const KernelCheckRow& r : check_jacobian_norm(request)) {
    SCOPED_TRACE(fmt::format("{} {} {}", r.dtype, r.shape, r.variant));
    EXPECT_NE(r.executed_on.find("device"), std::string::npos);
    EXPECT_LE(r.ratio, 1.0);
    EXPECT_TRUE(r.pass) << r.note;  // includes device == twin bit for bit
  }
}

}  // namespace
}  // namespace attncert::gpu
