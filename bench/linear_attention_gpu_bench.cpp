// Linear attention kernel on the device (host API only): mean time per call from CUDA events,
// reported as achieved TFLOP/s (the algorithm's own FLOPs, linear_attention_flops) and GB/s of
// the unavoidable traffic (Q, K, V in, O out, linear_attention_min_bytes), with fractions of
// this device's fp32 CUDA-core peak (of_fp32_core_peak: the kernel's arithmetic, fp32 FMA, no
// tensor cores, so that its CPU twin is bit-exact) and bf16 dense tensor peak
// (of_bf16_tensor_peak: what a tensor-core kernel could aim at; gpu/device_peak.hpp), and of an
// H100's HBM 3.35 TB/s. A kernel that fails on a present device fails the run (exit 1).
// Without a device every benchmark is skipped with the one-line reason; with
// ATTNCERT_REQUIRE_DEVICE=1 the run fails with it.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/required_device.hpp"
#include "gpu/device.hpp"
#include "gpu/linear_attention.hpp"
#include "numerics/rng.hpp"

namespace attncert::gpu {
namespace {

constexpr double kHbmPeak = 3.35e12;  // H100 SXM
constexpr int kBatchHeads = 32;

void BM_LinearAttention(benchmark::State& state, LinearFeature feature, int seqlen, int head_dim) {
  const DeviceReport device = query_devices();
  if (device.device_count == 0) {
    state.SkipWithError(device.message.c_str());
    return;
  }
  const std::size_t n = static_cast<std::size_t>(kBatchHeads) * seqlen * head_dim;
  Rng rng(20261123);
  std::vector<std::uint16_t> q(n), k(n), v(n), out(n);
  for (std::size_t i = 0; i < n; ++i) {
    q[i] = float_to_bf16_bits(static_cast<float>(rng.normal()));
    k[i] = float_to_bf16_bits(static_cast<float>(rng.normal()));
    v[i] = float_to_bf16_bits(static_cast<float>(rng.normal()));
  }
  LinearAttentionArgs a;
  a.batch_heads = kBatchHeads;
  a.seqlen = seqlen;
  a.head_dim = head_dim;
  a.q_dtype = a.k_dtype = a.v_dtype = DType::bf16;
  a.feature = feature;
  a.readout = LinearReadout::normalised;
  a.causal = true;
  a.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(head_dim)));
  a.q = q.data();
  a.k = k.data();
  a.v = v.data();
  a.out = out.data();
  double ms = 0;
  for (auto _ : state) {
    const KernelStatus s = time_linear_attention_on_device(a, 10, &ms);
    if (!s.ok()) {
      bench::fail_device_launch(state, s.message);
      return;
    }
    state.SetIterationTime(ms / 1e3);
  }
  const double flops = linear_attention_flops(a), bytes = linear_attention_min_bytes(a);
  const double seconds = ms / 1e3;
  bench::report_flop_rate(state, flops, seconds, DType::bf16, device);
  state.counters["GB/s"] = bytes / seconds / 1e9;
  state.counters["of_hbm_peak"] = bytes / seconds / kHbmPeak;
  state.counters["flop_per_byte"] = flops / bytes;
}

BENCHMARK_CAPTURE(BM_LinearAttention, elu_T2048_d64, LinearFeature::elu_plus_one, 2048, 64)->UseManualTime();
BENCHMARK_CAPTURE(BM_LinearAttention, elu_T2048_d128, LinearFeature::elu_plus_one, 2048, 128)->UseManualTime();
BENCHMARK_CAPTURE(BM_LinearAttention, elu_T8192_d128, LinearFeature::elu_plus_one, 8192, 128)->UseManualTime();
BENCHMARK_CAPTURE(BM_LinearAttention, taylor2_T2048_d16, LinearFeature::taylor2, 2048, 16)->UseManualTime();

}  // namespace
}  // namespace attncert::gpu

int main(int argc, char** argv) { return attncert::bench::run_gpu_benchmarks(argc, argv); }
