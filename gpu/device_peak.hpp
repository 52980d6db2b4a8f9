// A device's peak arithmetic rate, for the benches' "fraction of peak": ONE table keyed by
// compute capability (per-SM, per-clock rates) times the SM count and clock the device reports.
//
// Our kernels compute in fp32 on CUDA cores whatever the input dtype, so their ceiling is the
// fp32 CUDA-core peak; the tensor-core peak of the input dtype (TF32 for fp32 inputs, dense,
// fp32 accumulation) is what a tensor-core kernel could reach. The two are named apart
// everywhere they are printed.
//
// Sources (per SM per clock; the published totals the unit test reproduces):
//  - sm_80: NVIDIA A100 Tensor Core GPU Architecture whitepaper (2020): 64 FP32 lanes/SM, 1024
//    dense FP16 FMA/clock/SM (= 2048 FLOP), TF32 half that. A100 SXM4: 108 SMs at 1410 MHz →
//    19.5 TFLOP/s FP32, 312 FP16/BF16 dense, 156 TF32 dense.
//  - sm_90: NVIDIA H100 Tensor Core GPU Architecture whitepaper (2022): 128 FP32 lanes/SM, 2048
//    dense FP16 FMA/clock/SM (= 4096 FLOP), TF32 half that. H100 SXM5: 132 SMs; the published
//    66.9 TFLOP/s FP32 is at 1980 MHz, 989.4 FP16/BF16 dense and 494.7 TF32 dense at 1830 MHz
//    (tensor-heavy work runs at the lower clock). The device reports 1980 MHz, so on H100 the
//    tensor peak here is ~8% above the published one and a tensor fraction errs low.
//  - sm_86 / sm_89 (A10/A40, L4/L40S datasheets): 128 FP32 lanes/SM, 512 dense FP16 FMA with
//    FP32 accumulation per clock/SM (GeForce parts halve that; their fraction reads low).
// Unknown capabilities have no entry: the benches print "unknown", never a made-up ratio.
#pragma once

#include <array>
#include <optional>

#include "gpu/dtype.hpp"

namespace attncert::gpu {

struct PeakPerSmClock {
  int compute_capability;
  int fp32_fma_lanes;          // FP32 CUDA-core FMA lanes per SM (2 FLOP per lane per clock)
  int tensor_fp16_bf16_flop;   // dense fp16/bf16 tensor-core FLOP per SM per clock, fp32 accumulate
  int tensor_tf32_flop;        // dense TF32 tensor-core FLOP per SM per clock
};

inline constexpr std::array<PeakPerSmClock, 4> kPeakPerSmClock{{
    {80, 64, 2048, 1024},
    {86, 128, 1024, 512},
    {89, 128, 1024, 512},
    {90, 128, 4096, 2048},
}};

inline std::optional<PeakPerSmClock> peak_per_sm_clock(int compute_capability) {
  for (const PeakPerSmClock& p : kPeakPerSmClock)
    if (p.compute_capability == compute_capability) return p;
  return std::nullopt;
}

/// FP32 CUDA-core peak in TFLOP/s (the ceiling of our kernels), or nullopt for an unknown device.
inline std::optional<double> fp32_cuda_core_peak_tflops(int compute_capability, int sm_count,
                                                        double clock_mhz) {
  const auto p = peak_per_sm_clock(compute_capability);
  if (!p || sm_count <= 0 || !(clock_mhz > 0)) return std::nullopt;
  return 2.0 * p->fp32_fma_lanes * sm_count * clock_mhz * 1e6 / 1e12;
}

/// Dense tensor-core peak for inputs of `dtype` (TF32 for fp32) in TFLOP/s, or nullopt.
inline std::optional<double> tensor_dense_peak_tflops(int compute_capability, DType dtype,
                                                      int sm_count, double clock_mhz) {
  const auto p = peak_per_sm_clock(compute_capability);
  if (!p || sm_count <= 0 || !(clock_mhz > 0)) return std::nullopt;
  const int per_clock = dtype == DType::f32 ? p->tensor_tf32_flop : p->tensor_fp16_bf16_flop;
  return static_cast<double>(per_clock) * sm_count * clock_mhz * 1e6 / 1e12;
}

}  // namespace attncert::gpu
