// Flash-attention forward kernel on the device (host API only). Per shape it reports, as
// counters: achieved TFLOP/s (4·d·visible logits per head), the fraction of this device's fp32
// CUDA-core peak (of_fp32_core_peak: the kernel uses CUDA-core FMAs, so this is its ceiling) and
// of its dense tensor peak for the input dtype (of_<dtype>_tensor_peak: what a tensor-core kernel
// could reach; gpu/device_peak.hpp), GB/s of compulsory traffic and its fraction of an H100's
// HBM, and the arithmetic intensity (FLOP/byte). A kernel that fails on a present device fails
// the run (exit 1). Without a device every benchmark
// is skipped with the one-line reason; with ATTNCERT_REQUIRE_DEVICE=1 the run fails with it.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/required_device.hpp"
#include "gpu/device.hpp"
#include "gpu/flash_attention.hpp"
#include "numerics/rng.hpp"

namespace attncert::gpu {
namespace {

constexpr double kH100HbmTbS = 3.35;

void flash_attention_forward(benchmark::State& state) {
  const int bh = static_cast<int>(state.range(0)), L = static_cast<int>(state.range(1));
  const int d = static_cast<int>(state.range(2));
  const bool causal = state.range(3) != 0;
  const DType dtype = static_cast<DType>(state.range(4));
  const DeviceReport device = query_devices();
  if (device.device_count == 0) {
    state.SkipWithError(device.message.c_str());
    return;
  }
  Rng rng(20261123);
  const std::size_t nq = static_cast<std::size_t>(bh) * L * d;
  std::vector<float> f(3 * nq);
  for (float& x : f) x = static_cast<float>(rng.normal());
  std::vector<std::uint16_t> h(f.size());
  for (std::size_t i = 0; i < f.size(); ++i)
    h[i] = dtype == DType::f16 ? float_to_f16_bits(f[i]) : float_to_bf16_bits(f[i]);
  auto at = [&](std::size_t offset) -> const void* {
    return dtype == DType::f32 ? static_cast<const void*>(f.data() + offset)
                               : static_cast<const void*>(h.data() + offset);
  };
  std::vector<float> out(nq), lse(nq / d);
  FlashAttentionArgs a;
  a.q = at(0), a.k = at(nq), a.v = at(2 * nq);
  a.q_dtype = a.k_dtype = a.v_dtype = dtype;
  a.out = out.data(), a.log_sum_exp = lse.data();
  a.batch_heads = bh, a.seqlen_q = L, a.seqlen_k = L, a.head_dim = d;
  a.scale = default_attention_scale(d), a.causal = causal;
  double ms = 0;
  for (auto _ : state) {
    const KernelStatus s = time_flash_attention_on_device(a, 10, ms);
    if (!s.ok()) {
      bench::fail_device_launch(state, s.message);
      return;
    }
    state.SetIterationTime(ms * 1e-3);
  }
  const double flops = flash_attention_flops(a), bytes = flash_attention_bytes(a);
  bench::report_flop_rate(state, flops, ms * 1e-3, dtype, device);
  state.counters["GB/s"] = bytes / (ms * 1e-3) / 1e9;
  state.counters["frac_H100_HBM"] = bytes / (ms * 1e-3) / (kH100HbmTbS * 1e12);
  state.counters["FLOP/byte"] = flops / bytes;
  state.SetLabel(std::string(dtype_name(dtype)) + (causal ? " causal" : " non-causal") + " on " +
                 device.name);
}

void shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"bh", "L", "d", "causal", "dtype"});
  for (int dtype : {0, 2})  // fp32, bf16
    for (int causal : {0, 1})
      for (int d : {64, 128}) b->Args({64, 1024, d, causal, dtype});
  b->Args({16, 4096, 128, 1, 2});
  b->Args({256, 239, 100, 0, 1});
}

BENCHMARK(flash_attention_forward)->Apply(shapes)->UseManualTime()->Iterations(1);

}  // namespace
}  // namespace attncert::gpu

int main(int argc, char** argv) { return attncert::bench::run_gpu_benchmarks(argc, argv); }
