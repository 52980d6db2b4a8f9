// Flash-attention forward kernel (CUDA cores, fp32 FMA; sm_80 / sm_90). Tiling and the order of
// every rounding are described in flash_attention_tile.cuh; the CPU twin
// (flash_attention_twin.cpp) runs the same functions in the same order; every float operation is
// an explicit rounded one (gpu/rounded_arithmetic.hpp), so no nvcc flag changes a bit.
//
// Design and its limits. 64×64 tiles, 4 warps, K/V staged in shared memory as fp32 (up to
// 112 KB for d = 128: one block per SM on sm_80, opt-in dynamic shared memory), warp
// butterflies for the row max and sum. The ceiling is the fp32 CUDA-core rate (H100: 67 TFLOP/s,
// shared-memory loads ≈ 18 per 32 FMAs in the logit loop); FlashAttention-3 reaches ~600–750
// TFLOP/s on H100 in bf16. Hopper speed would need: wgmma (warpgroup tensor-core GEMMs with
// fp32 accumulation) for Q·Kᵀ and P·V; TMA bulk copies of K/V tiles into a multi-stage
// shared-memory ring with mbarrier synchronisation; warp specialisation (producer warps issuing
// TMA, consumer warpgroups doing GEMM + softmax, ping-ponged so exp overlaps the GEMMs);
// 128×128 (or 128×176) tiles with register-resident accumulators; optionally FP8 (e4m3) with
// per-block scaling. Tensor-core accumulation order and rounding are unspecified, so such a
// kernel could no longer match a CPU twin bit for bit: its validation would rest on the
// a-priori bound alone (with a bound term for the mma's accumulation, e.g. γ over the k-steps
// with truncation, as measured for wgmma).
#include <cuda_runtime.h>

#include <string>

#include "gpu/cuda_check.cuh"
#include "gpu/device.hpp"
#include "gpu/device_memory.hpp"
#include "gpu/flash_attention.hpp"
#include "gpu/flash_attention_tile.cuh"

namespace attncert::gpu {
namespace {

using namespace flash;

__device__ __forceinline__ float butterfly_max(float v) {
  for (int offset = kLanes / 2; offset > 0; offset /= 2)
    v = max_op(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

__device__ __forceinline__ float butterfly_sum(float v) {
  for (int offset = kLanes / 2; offset > 0; offset /= 2)
    v = sum_op(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

/// Shared memory: Q tile (64 × dp), K tile (64 × (dp+1): the odd row stride keeps lanes that
/// read K[lane][c] on distinct banks), V tile (64 × dp), per-warp P (16 × 64).
constexpr int shared_floats(int dp) {
  return kBlockQ * dp + kBlockK * (dp + 1) + kBlockK * dp + kWarps * kRowsPerWarp * kBlockK;
}

template <int kSlots>
__global__ void __launch_bounds__(kWarps* kLanes) flash_attention_forward(FlashAttentionArgs a) {
  constexpr int dp = kSlots * kLanes;  // head dim padded to a multiple of 32
  extern __shared__ float shared[];
  float* const q_tile = shared;
  float* const k_tile = q_tile + kBlockQ * dp;
  float* const v_tile = k_tile + kBlockK * (dp + 1);
  float* const p_tile = v_tile + kBlockK * dp;

  const int Lq = a.seqlen_q, Lk = a.seqlen_k, d = a.head_dim;
  const DType dtype = a.q_dtype;
  const int block = static_cast<int>(blockIdx.x);
  const long long bh = blockIdx.y;
  const int warp = static_cast<int>(threadIdx.x) / kLanes;
  const int lane = static_cast<int>(threadIdx.x) % kLanes;
  const int warp_row0 = warp * kRowsPerWarp;
  float* const warp_p = p_tile + warp * kRowsPerWarp * kBlockK;

  for (int idx = static_cast<int>(threadIdx.x); idx < kBlockQ * dp; idx += kWarps * kLanes) {
    const int r = idx / dp, c = idx % dp, row = block * kBlockQ + r;
    q_tile[idx] = (row < Lq && c < d) ? load_element(dtype, a.q, (bh * Lq + row) * d + c) : 0.0f;
  }

  float m[kRowsPerWarp], l[kRowsPerWarp], acc[kRowsPerWarp][kSlots];
  int visible_end[kRowsPerWarp];
#pragma unroll
  for (int r = 0; r < kRowsPerWarp; ++r) {
    visible_end[r] = visible_key_end(block * kBlockQ + warp_row0 + r, Lq, Lk, a.causal);
    m[r] = negative_infinity();
    l[r] = 0.0f;
#pragma unroll
    for (int s = 0; s < kSlots; ++s) acc[r][s] = 0.0f;
  }

  const int tiles = key_tile_count(block, Lq, Lk, a.causal);
  for (int tile = 0; tile < tiles; ++tile) {
    const int key0 = tile * kBlockK;
    __syncthreads();  // the previous tile's K, V (and this warp's P) are no longer read
    for (int idx = static_cast<int>(threadIdx.x); idx < kBlockK * dp; idx += kWarps * kLanes) {
      const int j = idx / dp, c = idx % dp, key = key0 + j;
      const bool inside = key < Lk && c < d;
      const long long g = (bh * Lk + key) * d + c;
      k_tile[j * (dp + 1) + c] = inside ? load_element(dtype, a.k, g) : 0.0f;
      v_tile[j * dp + c] = inside ? load_element(dtype, a.v, g) : 0.0f;
    }
    __syncthreads();

    // Logits of keys lane and lane+32 for the warp's 16 rows; each an fmaf chain over c.
    float dot[kRowsPerWarp][kKeysPerLane];
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) dot[r][0] = dot[r][1] = 0.0f;
    for (int c = 0; c < d; ++c) {
      const float k0 = k_tile[lane * (dp + 1) + c];
      const float k1 = k_tile[(lane + kLanes) * (dp + 1) + c];
#pragma unroll
      for (int r = 0; r < kRowsPerWarp; ++r) {
        const float qv = q_tile[(warp_row0 + r) * dp + c];
        dot[r][0] = score_step(dot[r][0], qv, k0);
        dot[r][1] = score_step(dot[r][1], qv, k1);
      }
    }

#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) {
      const float t0 = masked_logit(dot[r][0], a.scale, key0 + lane < visible_end[r]);
      const float t1 = masked_logit(dot[r][1], a.scale, key0 + lane + kLanes < visible_end[r]);
      const float tile_max = butterfly_max(max_op(t0, t1));
      const RowRescale rr = rescale_row(m[r], tile_max);
      const float p0 = tile_probability(t0, rr);
      const float p1 = tile_probability(t1, rr);
      const float tile_sum = butterfly_sum(sum_op(p0, p1));
      l[r] = update_row_sum(l[r], rr.alpha, tile_sum);
      m[r] = rr.m_new;
      warp_p[r * kBlockK + lane] = pv_weight(dtype, p0);
      warp_p[r * kBlockK + lane + kLanes] = pv_weight(dtype, p1);
#pragma unroll
      for (int s = 0; s < kSlots; ++s) acc[r][s] = rescale_accumulator(acc[r][s], rr.alpha);
    }
    __syncwarp();

    const int valid = Lk - key0 < kBlockK ? Lk - key0 : kBlockK;
    for (int j = 0; j < valid; ++j) {
      float vv[kSlots];
#pragma unroll
      for (int s = 0; s < kSlots; ++s) vv[s] = v_tile[j * dp + s * kLanes + lane];
#pragma unroll
      for (int r = 0; r < kRowsPerWarp; ++r) {
        const float pj = warp_p[r * kBlockK + j];
        const bool visible = key0 + j < visible_end[r];
#pragma unroll
        for (int s = 0; s < kSlots; ++s)
          acc[r][s] = pv_step(acc[r][s], pj, pv_value(vv[s], visible));
      }
    }
  }

#pragma unroll
  for (int r = 0; r < kRowsPerWarp; ++r) {
    const int row = block * kBlockQ + warp_row0 + r;
    if (row >= Lq) continue;
    float* const out_row = a.out + (bh * Lq + row) * d;
#pragma unroll
    for (int s = 0; s < kSlots; ++s) {
      const int c = s * kLanes + lane;
      if (c < d) out_row[c] = finalize_output(acc[r][s], l[r], visible_end[r] > 0);
    }
    if (lane == 0) a.log_sum_exp[bh * Lq + row] = finalize_log_sum_exp(m[r], l[r]);
  }
}

// The dynamic shared-memory size of a head-dim class, and the device's permission for it.
template <int kSlots>
KernelStatus configure_slots(const FlashAttentionArgs& a) {
  const int bytes = shared_floats(kSlots * kLanes) * static_cast<int>(sizeof(float));
  // d = 97..128 needs ~112 KB; sm_86/sm_89 parts allow 99 KB even with opt-in. Say so instead
  // of failing in cudaFuncSetAttribute (a smaller tile would need a Q-in-registers variant).
  int device = 0, optin = 0;
  ATTNCERT_CUDA_CHECK(cudaGetDevice(&device));
  ATTNCERT_CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  if (bytes > optin) {
    return KernelStatus::failure(
        KernelStatusCode::unsupported_shape,
        "head_dim = " + std::to_string(a.head_dim) + " needs " + std::to_string(bytes) +
            " bytes of shared memory per block; this device allows " + std::to_string(optin));
  }
  ATTNCERT_CUDA_CHECK(cudaFuncSetAttribute(flash_attention_forward<kSlots>,
                                           cudaFuncAttributeMaxDynamicSharedMemorySize, bytes));
  return KernelStatus::success();
}

// The launch alone (arguments checked and the kernel configured beforehand).
template <int kSlots>
KernelStatus launch_configured(const FlashAttentionArgs& a, cudaStream_t stream) {
  const int bytes = shared_floats(kSlots * kLanes) * static_cast<int>(sizeof(float));
  const dim3 grid((a.seqlen_q + kBlockQ - 1) / kBlockQ, a.batch_heads);
  flash_attention_forward<kSlots><<<grid, kWarps * kLanes, bytes, stream>>>(a);
  ATTNCERT_CUDA_CHECK(cudaGetLastError());
  return KernelStatus::success();
}

template <int kSlots>
KernelStatus launch_slots(const FlashAttentionArgs& a, cudaStream_t stream, bool configure) {
  if (configure)
    if (KernelStatus s = configure_slots<kSlots>(a); !s.ok()) return s;
  return launch_configured<kSlots>(a, stream);
}

KernelStatus launch_by_head_dim(const FlashAttentionArgs& a, cudaStream_t st, bool configure) {
  switch (flash::padded_head_dim(a.head_dim) / kLanes) {
    case 1:
      return launch_slots<1>(a, st, configure);
    case 2:
      return launch_slots<2>(a, st, configure);
    case 3:
      return launch_slots<3>(a, st, configure);
    default:
      return launch_slots<4>(a, st, configure);
  }
}

/// cudaMalloc'd memory freed on every exit path.
struct DeviceBuffer {
  void* p = nullptr;
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() {
    if (p != nullptr) cudaFree(p);
  }
};

struct DeviceCopies {
  DeviceBuffer q, k, v, out, lse;
  std::size_t q_bytes = 0, kv_bytes = 0, out_bytes = 0, lse_bytes = 0;
};

/// Allocates device buffers, copies the host inputs, and returns args pointing at them.
KernelStatus upload(const FlashAttentionArgs& host, DeviceCopies& dev, FlashAttentionArgs& device) {
  const std::size_t es = static_cast<std::size_t>(dtype_size(host.q_dtype));
  const std::size_t bh = static_cast<std::size_t>(host.batch_heads);
  dev.q_bytes = bh * host.seqlen_q * host.head_dim * es;
  dev.kv_bytes = bh * host.seqlen_k * host.head_dim * es;
  dev.out_bytes = bh * host.seqlen_q * host.head_dim * sizeof(float);
  dev.lse_bytes = bh * host.seqlen_q * sizeof(float);
  // Refused before any allocation: a device without code for it, or too little memory.
  if (KernelStatus s = check_kernel_image(
          "flash_attention", reinterpret_cast<const void*>(&flash_attention_forward<1>));
      !s.ok())
    return s;
  const std::string shape = "batch_heads=" + std::to_string(host.batch_heads) +
                            " seqlen_q=" + std::to_string(host.seqlen_q) +
                            " seqlen_k=" + std::to_string(host.seqlen_k) +
                            " head_dim=" + std::to_string(host.head_dim) + " " +
                            std::string(dtype_name(host.q_dtype));
  if (KernelStatus s =
          check_device_memory("flash_attention", shape, flash_attention_device_bytes(host));
      !s.ok())
    return s;
  ATTNCERT_CUDA_CHECK(cudaMalloc(&dev.q.p, dev.q_bytes));
  ATTNCERT_CUDA_CHECK(cudaMalloc(&dev.k.p, dev.kv_bytes));
  ATTNCERT_CUDA_CHECK(cudaMalloc(&dev.v.p, dev.kv_bytes));
  ATTNCERT_CUDA_CHECK(cudaMalloc(&dev.out.p, dev.out_bytes));
  ATTNCERT_CUDA_CHECK(cudaMalloc(&dev.lse.p, dev.lse_bytes));
  ATTNCERT_CUDA_CHECK(cudaMemcpy(dev.q.p, host.q, dev.q_bytes, cudaMemcpyHostToDevice));
  ATTNCERT_CUDA_CHECK(cudaMemcpy(dev.k.p, host.k, dev.kv_bytes, cudaMemcpyHostToDevice));
  ATTNCERT_CUDA_CHECK(cudaMemcpy(dev.v.p, host.v, dev.kv_bytes, cudaMemcpyHostToDevice));
  device = host;
  device.q = dev.q.p;
  device.k = dev.k.p;
  device.v = dev.v.p;
  device.out = static_cast<float*>(dev.out.p);
  device.log_sum_exp = static_cast<float*>(dev.lse.p);
  return KernelStatus::success();
}

}  // namespace

KernelStatus launch_flash_attention(const FlashAttentionArgs& a, void* stream) {
  if (KernelStatus s = can_run(a); !s.ok()) return s;
  return launch_by_head_dim(a, static_cast<cudaStream_t>(stream), true);
}

KernelStatus run_flash_attention_on_device(const FlashAttentionArgs& host) {
  if (KernelStatus s = can_run(host); !s.ok()) return s;
  if (KernelStatus s = require_device("flash_attention"); !s.ok()) return s;
  DeviceCopies dev;
  FlashAttentionArgs device;
  if (KernelStatus s = upload(host, dev, device); !s.ok()) return s;
  if (KernelStatus s = launch_flash_attention(device); !s.ok()) return s;
  ATTNCERT_CUDA_CHECK(cudaDeviceSynchronize());
  ATTNCERT_CUDA_CHECK(cudaMemcpy(host.out, dev.out.p, dev.out_bytes, cudaMemcpyDeviceToHost));
  ATTNCERT_CUDA_CHECK(
      cudaMemcpy(host.log_sum_exp, dev.lse.p, dev.lse_bytes, cudaMemcpyDeviceToHost));
  return KernelStatus::success();
}

KernelStatus time_flash_attention_on_device(const FlashAttentionArgs& host, int repeats,
                                            double& milliseconds_per_launch) {
  if (KernelStatus s = can_run(host); !s.ok()) return s;
  if (repeats < 1) {
    return KernelStatus::failure(
        KernelStatusCode::invalid_argument,
        "flash_attention: repeats = " + std::to_string(repeats) + "; must be >= 1");
  }
  if (KernelStatus s = require_device("flash_attention"); !s.ok()) return s;
  DeviceCopies dev;
  FlashAttentionArgs device;
  if (KernelStatus s = upload(host, dev, device); !s.ok()) return s;
  if (KernelStatus s = launch_flash_attention(device); !s.ok()) return s;  // warm-up
  CudaEvent start, stop;
  ATTNCERT_CUDA_CHECK(cudaEventCreate(&start.e));
  ATTNCERT_CUDA_CHECK(cudaEventCreate(&stop.e));
  ATTNCERT_CUDA_CHECK(cudaEventRecord(start.e));
  for (int i = 0; i < repeats; ++i) {  // checked and configured by the warm-up: launches only
    if (KernelStatus s = launch_by_head_dim(device, nullptr, false); !s.ok()) return s;
  }
  ATTNCERT_CUDA_CHECK(cudaEventRecord(stop.e));
  ATTNCERT_CUDA_CHECK(cudaEventSynchronize(stop.e));
  float ms = 0.0f;
  ATTNCERT_CUDA_CHECK(cudaEventElapsedTime(&ms, start.e, stop.e));
  milliseconds_per_launch = static_cast<double>(ms) / repeats;
  return KernelStatus::success();
}

}  // namespace attncert::gpu
