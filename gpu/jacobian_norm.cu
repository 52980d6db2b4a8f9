// CUDA kernel: one warp per (row, temperature), the per-warp algorithm of
// jacobian_norm_tile.cuh with __shfl_xor_sync reductions (the twin emulates the same tree).
// Each warp keeps its row's weights in dynamic shared memory (L floats); warps of a block
// handle consecutive (row, temperature) pairs, temperature fastest, so a row read by one warp
// is an L1/L2 hit for the next. CUDA-core fp32 only (no tensor cores: their accumulation order
// is unspecified, so a twin could not reproduce it).
#include <cuda_runtime.h>

#include <cstring>
#include <string>

#include "gpu/cuda_check.cuh"
#include "gpu/device.hpp"
#include "gpu/device_memory.hpp"
#include "gpu/jacobian_norm.hpp"
#include "gpu/jacobian_norm_tile.cuh"

namespace attncert::gpu {
namespace {

namespace tile = jacobian_norm_tile;

constexpr int kSharedBytesPerBlock = 48 * 1024;
constexpr int kMaxWarpsPerBlock = 8;

struct DeviceWarp {
  int lane;

  __device__ static float shuffle(float v, int offset) {
    return __shfl_xor_sync(0xffffffffu, v, offset);
  }
  __device__ static int shuffle(int v, int offset) {
    return __shfl_xor_sync(0xffffffffu, v, offset);
  }
  __device__ static tile::LogitScan shuffle(tile::LogitScan v, int o) {
    return {shuffle(v.max_logit, o), shuffle(v.bad, o)};
  }
  __device__ static tile::WeightScan shuffle(tile::WeightScan v, int o) {
    return {shuffle(v.sum, o), shuffle(v.top, o)};
  }
  __device__ static tile::SecondScan shuffle(tile::SecondScan v, int o) {
    return {shuffle(v.top_count, o), shuffle(v.second, o)};
  }
  __device__ static tile::CountScan shuffle(tile::CountScan v, int o) {
    return {shuffle(v.count, o)};
  }
  __device__ static tile::SecularScan shuffle(tile::SecularScan v, int o) {
    return {shuffle(v.rest, o), shuffle(v.rest_d, o)};
  }

  template <class PerLane, class Combine>
  __device__ auto all_reduce(PerLane per_lane, Combine combine) {
    auto v = per_lane(lane);
    for (int offset = tile::kWarpSize / 2; offset >= 1; offset /= 2) {
      v = combine(v, shuffle(v, offset));
    }
    return v;
  }
};

struct KernelParams {
  DType dtype;
  const void* logits;
  long long rows;
  long long length;
  long long row_bytes;  // length · element size (dtype_size is host-only constexpr)
  int num_temperatures;
  float temperatures[kJacobianNormMaxTemperatures];
  float* out;
};

__global__ void jacobian_norm_kernel(KernelParams p) {
  extern __shared__ float shared_weights[];
  const int warp_in_block = static_cast<int>(threadIdx.x) / tile::kWarpSize;
  const long long pair =
      static_cast<long long>(blockIdx.x) * (blockDim.x / tile::kWarpSize) + warp_in_block;
  if (pair >= p.rows * p.num_temperatures) return;  // whole warps exit together
  const long long r = pair / p.num_temperatures;
  const int t = static_cast<int>(pair % p.num_temperatures);
  DeviceWarp warp{static_cast<int>(threadIdx.x) % tile::kWarpSize};
  const void* row =
      static_cast<const unsigned char*>(p.logits) + r * p.row_bytes;
  float* weights = shared_weights + static_cast<long long>(warp_in_block) * p.length;
  const tile::RowResult result =
      tile::jacobian_norm_row(warp, p.dtype, row, p.length, p.temperatures[t], weights);
  if (warp.lane == 0) p.out[pair] = result.norm;
}

int warps_per_block(long long length) {
  const long long fit = kSharedBytesPerBlock / (length * static_cast<long long>(sizeof(float)));
  return static_cast<int>(fit < 1 ? 1 : (fit > kMaxWarpsPerBlock ? kMaxWarpsPerBlock : fit));
}

KernelParams params_of(const JacobianNormArgs& a) {
  KernelParams p{};
  p.dtype = a.dtype;
  p.logits = a.logits;
  p.rows = a.rows;
  p.length = a.length;
  p.row_bytes = a.length * dtype_size(a.dtype);
  p.num_temperatures = static_cast<int>(a.num_temperatures);
  for (int i = 0; i < a.num_temperatures; ++i) p.temperatures[i] = a.temperatures[i];
  p.out = a.out;
  return p;
}

/// Device buffers for a host-pointer call, freed on every path.
struct DeviceBuffers {
  void* logits = nullptr;
  float* out = nullptr;
  ~DeviceBuffers() {
    cudaFree(logits);
    cudaFree(out);
  }
};

KernelStatus upload(const JacobianNormArgs& host, DeviceBuffers& buffers,
                    JacobianNormArgs& device) {
  const std::size_t in_bytes =
      static_cast<std::size_t>(host.rows * host.length * dtype_size(host.dtype));
  const std::size_t out_bytes =
      static_cast<std::size_t>(host.rows) * static_cast<std::size_t>(host.num_temperatures) * sizeof(float);
  // Refused before any allocation: a device without code for it, or too little memory.
  if (KernelStatus s = check_kernel_image("jacobian_norm",
                                          reinterpret_cast<const void*>(&jacobian_norm_kernel));
      !s.ok())
    return s;
  const std::string shape = "rows=" + std::to_string(host.rows) + " length=" +
                            std::to_string(host.length) + " temperatures=" +
                            std::to_string(host.num_temperatures) + " " +
                            std::string(dtype_name(host.dtype));
  if (KernelStatus s =
          check_device_memory("jacobian_norm", shape, jacobian_norm_device_bytes(host));
      !s.ok())
    return s;
  ATTNCERT_CUDA_CHECK(cudaMalloc(&buffers.logits, in_bytes));
  ATTNCERT_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&buffers.out), out_bytes));
  ATTNCERT_CUDA_CHECK(cudaMemcpy(buffers.logits, host.logits, in_bytes, cudaMemcpyHostToDevice));
  device = host;
  device.logits = buffers.logits;
  device.out = buffers.out;
  return KernelStatus::success();
}

KernelStatus download(const JacobianNormArgs& host, const JacobianNormArgs& device) {
  const std::size_t out_bytes =
      static_cast<std::size_t>(host.rows) * static_cast<std::size_t>(host.num_temperatures) * sizeof(float);
  ATTNCERT_CUDA_CHECK(cudaMemcpy(host.out, device.out, out_bytes, cudaMemcpyDeviceToHost));
  return KernelStatus::success();
}

}  // namespace

KernelStatus launch_jacobian_norm(const JacobianNormArgs& args, void* stream) {
  if (KernelStatus s = can_run_jacobian_norm(args); !s.ok()) return s;
  const KernelParams p = params_of(args);
  const int wpb = warps_per_block(args.length);
  const long long pairs = args.rows * p.num_temperatures;
  const long long blocks = (pairs + wpb - 1) / wpb;
  const std::size_t shared = static_cast<std::size_t>(wpb) * args.length * sizeof(float);
  jacobian_norm_kernel<<<static_cast<unsigned>(blocks), wpb * tile::kWarpSize, shared,
                         static_cast<cudaStream_t>(stream)>>>(p);
  ATTNCERT_CUDA_CHECK(cudaGetLastError());
  return KernelStatus::success();
}

KernelStatus run_jacobian_norm_on_device(const JacobianNormArgs& args) {
  if (KernelStatus s = can_run_jacobian_norm(args); !s.ok()) return s;
  if (KernelStatus s = require_device("jacobian_norm"); !s.ok()) return s;
  DeviceBuffers buffers;
  JacobianNormArgs device;
  if (KernelStatus s = upload(args, buffers, device); !s.ok()) return s;
  if (KernelStatus s = launch_jacobian_norm(device); !s.ok()) return s;
  ATTNCERT_CUDA_CHECK(cudaDeviceSynchronize());
  return download(args, device);
}

KernelStatus time_jacobian_norm_on_device(const JacobianNormArgs& args, int repeats,
                                          double* milliseconds) {
  if (KernelStatus s = can_run_jacobian_norm(args); !s.ok()) return s;
  if (repeats < 1 || milliseconds == nullptr) {
    return KernelStatus::failure(KernelStatusCode::invalid_argument,
                                 "jacobian_norm: timing needs repeats >= 1 and a result pointer");
  }
  if (KernelStatus s = require_device("jacobian_norm"); !s.ok()) return s;
  DeviceBuffers buffers;
  JacobianNormArgs device;
  if (KernelStatus s = upload(args, buffers, device); !s.ok()) return s;
  if (KernelStatus s = launch_jacobian_norm(device); !s.ok()) return s;  // warm-up
  struct Events {
    cudaEvent_t start = nullptr, stop = nullptr;
    ~Events() {
      if (start) cudaEventDestroy(start);
      if (stop) cudaEventDestroy(stop);
    }
  } events;
  cudaEvent_t& start = events.start;
  cudaEvent_t& stop = events.stop;
  ATTNCERT_CUDA_CHECK(cudaEventCreate(&start));
  ATTNCERT_CUDA_CHECK(cudaEventCreate(&stop));
  ATTNCERT_CUDA_CHECK(cudaEventRecord(start));
  for (int i = 0; i < repeats; ++i) {
    if (KernelStatus s = launch_jacobian_norm(device); !s.ok()) return s;
  }
  ATTNCERT_CUDA_CHECK(cudaEventRecord(stop));
  ATTNCERT_CUDA_CHECK(cudaEventSynchronize(stop));
  float ms = 0;
  ATTNCERT_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
  *milliseconds = static_cast<double>(ms) / repeats;
  return download(args, device);
}

}  // namespace attncert::gpu
