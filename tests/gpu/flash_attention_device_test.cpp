// The flash-attention CUDA kernel against its CPU twin, bit for bit (compared by value,
// gpu/output_equality.hpp: any NaN equals any NaN), on several shapes, dtypes and maskings, and
// repeated launches identical. Needs a device; skips with the reason
// (ctest label gpu) when there is none, fails with it when ATTNCERT_REQUIRE_DEVICE=1.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "gpu/device.hpp"
#include "gpu/flash_attention.hpp"
#include "gpu/output_equality.hpp"
#include "numerics/rng.hpp"
#include "tests/gpu/device_requirement.hpp"

namespace attncert::gpu {
namespace {

constexpr std::uint64_t kSeed = 20261123;

struct Shape {
  int bh, Lq, Lk, d;
};

TEST(FlashAttentionDevice, KernelMatchesTwinBitForBit) {
  const DeviceReport device = query_devices();
  ATTNCERT_SKIP_OR_FAIL_WITHOUT_DEVICE();
  SCOPED_TRACE("seed = " + std::to_string(kSeed) + ", " + device.message);
  const Shape shapes[] = {{2, 1, 1, 64},     {1, 239, 1, 60},    {2, 799, 3, 100},
                          {3, 113, 203, 60}, {2, 108, 256, 128}, {1, 1023, 1024, 128},
                          {1, 200, 77, 32},  {2, 64, 64, 96}};
  std::uint64_t index = 0;
  for (const Shape& s : shapes)
    for (DType t : {DType::f32, DType::f16, DType::bf16})
      for (bool causal : {false, true}) {
        SCOPED_TRACE("bh=" + std::to_string(s.bh) + " Lq=" + std::to_string(s.Lq) +
                     " Lk=" + std::to_string(s.Lk) + " d=" + std::to_string(s.d) + " " +
                     std::string(dtype_name(t)) + (causal ? " causal" : ""));
        Rng rng = Rng(kSeed).substream(index++);
        const std::size_t nq = static_cast<std::size_t>(s.bh) * s.Lq * s.d;
        const std::size_t nk = static_cast<std::size_t>(s.bh) * s.Lk * s.d;
        std::vector<float> f(nq + 2 * nk);
        for (float& x : f) x = static_cast<float>(rng.normal(0.0, 2.0));
        std::vector<std::uint16_t> h(f.size());
        for (std::size_t i = 0; i < f.size(); ++i)
          h[i] = t == DType::f16 ? float_to_f16_bits(f[i]) : float_to_bf16_bits(f[i]);
        auto at = [&](std::size_t offset) -> const void* {
          return t == DType::f32 ? static_cast<const void*>(f.data() + offset)
                                 : static_cast<const void*>(h.data() + offset);
        };
        std::vector<float> out_twin(nq), lse_twin(nq / s.d), out_dev(nq), lse_dev(nq / s.d);
        FlashAttentionArgs a;
        a.q = at(0), a.k = at(nq), a.v = at(nq + nk);
        a.q_dtype = a.k_dtype = a.v_dtype = t;
        a.batch_heads = s.bh, a.seqlen_q = s.Lq, a.seqlen_k = s.Lk, a.head_dim = s.d;
        a.scale = default_attention_scale(s.d), a.causal = causal;
        a.out = out_twin.data(), a.log_sum_exp = lse_twin.data();
        ASSERT_TRUE(flash_attention_twin(a).ok());
        a.out = out_dev.data(), a.log_sum_exp = lse_dev.data();
        const KernelStatus st = run_flash_attention_on_device(a);
        ASSERT_TRUE(st.ok()) << st.message;
        // By value (gpu/output_equality.hpp): NaN payloads differ between host and device.
        EXPECT_EQ(output_difference_message(out_twin, out_dev), "");
        EXPECT_EQ(output_difference_message(lse_twin, lse_dev), "");
        for (int repeat = 0; repeat < 3; ++repeat) {
          std::vector<float> again(nq), lse_again(lse_dev.size());
          a.out = again.data(), a.log_sum_exp = lse_again.data();
          ASSERT_TRUE(run_flash_attention_on_device(a).ok());
          EXPECT_EQ(output_difference_message(again, out_dev), "") << "repeat " << repeat;
          EXPECT_EQ(output_difference_message(lse_again, lse_dev), "") << "repeat " << repeat;
        }
      }
}

}  // namespace
}  // namespace attncert::gpu
