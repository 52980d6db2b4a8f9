// Linear attention forward kernels: one launch per stage of linear_attention_tile.cuh, whose
// stage functions are the thread bodies (the twin calls the same ones), one thread per produced
// element, so each value is the same fma chain as in the twin.
// Workspace: an unsigned long long row counter, then the fp32 scratch of WorkspaceLayout for
// every head (grid.y = head).
#include <cuda_runtime.h>

#include <string>
#include <vector>

#include "gpu/cuda_check.cuh"
#include "gpu/device.hpp"
#include "gpu/device_memory.hpp"
#include "gpu/linear_attention.hpp"
#include "gpu/linear_attention_tile.cuh"

namespace attncert::gpu {
namespace {

namespace lt = linear_tile;

constexpr int kThreads = 256;

// Grid-stride loops over a stage's elements; grid.y = head, scratch per head.
__device__ float* head_scratch(float* scratch, const lt::CallView& c) {
  return scratch + blockIdx.y * c.l.per_head;
}
__device__ long long first_index() { return blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; }
__device__ long long grid_stride() { return static_cast<long long>(gridDim.x) * blockDim.x; }

__global__ void features_kernel(lt::CallView c, float* scratch) {
  float* ws = head_scratch(scratch, c);
  for (long long idx = first_index(); idx < c.T * c.l.m; idx += grid_stride())
    lt::stage_features(c, blockIdx.y, ws, idx);
}

// One block per chunk (strided when there are more chunks than blocks).
__global__ void chunk_states_kernel(lt::CallView c, float* scratch) {
  float* ws = head_scratch(scratch, c);
  for (long long chunk = blockIdx.x; chunk < c.l.chunks; chunk += gridDim.x)
    for (long long s = threadIdx.x; s < c.l.m * c.l.w; s += blockDim.x)
      lt::stage_chunk_state(c, blockIdx.y, ws, chunk, s);
}

__global__ void scan_kernel(lt::CallView c, float* scratch) {
  float* ws = head_scratch(scratch, c);
  for (long long s = first_index(); s < c.l.m * c.l.w; s += grid_stride())
    lt::stage_scan(c, blockIdx.y, ws, s);
}

__global__ void scores_kernel(lt::CallView c, float* scratch) {
  float* ws = head_scratch(scratch, c);
  for (long long idx = first_index(); idx < c.T * lt::kChunk; idx += grid_stride())
    lt::stage_score(c, blockIdx.y, ws, idx);
}

__global__ void readout_kernel(lt::CallView c, float* scratch) {
  float* ws = head_scratch(scratch, c);
  for (long long idx = first_index(); idx < c.T * c.l.w; idx += grid_stride())
    lt::stage_readout(c, blockIdx.y, ws, idx);
}

__global__ void finish_kernel(lt::CallView c, float* scratch, unsigned long long* counter) {
  const float* ws = head_scratch(scratch, c);
  for (long long idx = first_index(); idx < c.T * c.d; idx += grid_stride())
    if (lt::stage_finish(c, blockIdx.y, ws, idx)) atomicAdd(counter, 1ULL);
}

unsigned grid_for(long long n) {
  const long long blocks = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < 65535 ? (blocks < 1 ? 1 : blocks) : 65535);
}

// Launches the six stages in order on the default stream (each waits for the previous).
KernelStatus launch_stages(const LinearAttentionArgs& args, void* workspace) {
  const lt::CallView c = lt::call_view(args);
  auto* counter = static_cast<unsigned long long*>(workspace);
  float* scratch = reinterpret_cast<float*>(static_cast<char*>(workspace) + 8);
  const unsigned heads = static_cast<unsigned>(args.batch_heads);
  ATTNCERT_CUDA_CHECK(cudaMemsetAsync(counter, 0, sizeof(unsigned long long)));
  features_kernel<<<dim3(grid_for(c.T * c.l.m), heads), kThreads>>>(c, scratch);
  ATTNCERT_CUDA_CHECK(cudaGetLastError());
  const unsigned chunk_blocks = static_cast<unsigned>(c.l.chunks < 65535 ? c.l.chunks : 65535);
  chunk_states_kernel<<<dim3(chunk_blocks, heads), kThreads>>>(c, scratch);
  ATTNCERT_CUDA_CHECK(cudaGetLastError());
  scan_kernel<<<dim3(grid_for(c.l.m * c.l.w), heads), kThreads>>>(c, scratch);
  ATTNCERT_CUDA_CHECK(cudaGetLastError());
  if (c.causal) {
    scores_kernel<<<dim3(grid_for(c.T * lt::kChunk), heads), kThreads>>>(c, scratch);
    ATTNCERT_CUDA_CHECK(cudaGetLastError());
  }
  readout_kernel<<<dim3(grid_for(c.T * c.l.w), heads), kThreads>>>(c, scratch);
  ATTNCERT_CUDA_CHECK(cudaGetLastError());
  finish_kernel<<<dim3(grid_for(c.T * c.d), heads), kThreads>>>(c, scratch, counter);
  ATTNCERT_CUDA_CHECK(cudaGetLastError());
  return KernelStatus::success();
}

// Device copies of a call's buffers; frees them on every path.
struct DeviceBuffers {
  std::vector<void*> owned;
  ~DeviceBuffers() {
    for (void* p : owned) cudaFree(p);
  }
  cudaError_t alloc(void** p, std::size_t bytes) {
    const cudaError_t e = cudaMalloc(p, bytes);
    if (e == cudaSuccess) owned.push_back(*p);
    return e;
  }
};

// Allocates device buffers and copies the inputs; `dev` gets the device-pointer arguments.
KernelStatus stage_inputs(const LinearAttentionArgs& args, DeviceBuffers& buffers,
                          LinearAttentionArgs& dev, void** workspace) {
  const std::size_t tokens = static_cast<std::size_t>(args.batch_heads) * args.seqlen * args.head_dim;
  const std::size_t bytes = tokens * dtype_size(args.q_dtype);
  const std::size_t state_bytes =
      static_cast<std::size_t>(args.batch_heads) * linear_state_elements(args.feature, args.head_dim) * 4;
  // Refused before any allocation: a device without code for it, or too little memory for the
  // buffers allocated below (gpu/device_memory.hpp counts them).
  if (KernelStatus s = check_kernel_image("linear_attention",
                                          reinterpret_cast<const void*>(&features_kernel));
      !s.ok())
    return s;
  const std::string shape = "batch_heads=" + std::to_string(args.batch_heads) +
                            " seqlen=" + std::to_string(args.seqlen) +
                            " head_dim=" + std::to_string(args.head_dim) + " " +
                            std::string(dtype_name(args.q_dtype));
  if (KernelStatus s = check_device_memory("linear_attention", shape,
                                          linear_attention_device_bytes(args));
      !s.ok())
    return s;
  dev = args;
  void* p = nullptr;
  const void* inputs[3] = {args.q, args.k, args.v};
  const void** targets[3] = {&dev.q, &dev.k, &dev.v};
  for (int t = 0; t < 3; ++t) {
    ATTNCERT_CUDA_CHECK(buffers.alloc(&p, bytes));
    ATTNCERT_CUDA_CHECK(cudaMemcpy(p, inputs[t], bytes, cudaMemcpyHostToDevice));
    *targets[t] = p;
  }
  ATTNCERT_CUDA_CHECK(buffers.alloc(&p, bytes));
  dev.out = p;
  if (args.initial_state) {
    ATTNCERT_CUDA_CHECK(buffers.alloc(&p, state_bytes));
    ATTNCERT_CUDA_CHECK(cudaMemcpy(p, args.initial_state, state_bytes, cudaMemcpyHostToDevice));
    dev.initial_state = static_cast<const float*>(p);
  }
  if (args.final_state) {
    ATTNCERT_CUDA_CHECK(buffers.alloc(&p, state_bytes));
    dev.final_state = static_cast<float*>(p);
  }
  if (args.normaliser) {
    ATTNCERT_CUDA_CHECK(buffers.alloc(&p, static_cast<std::size_t>(args.batch_heads) * args.seqlen * 4));
    dev.normaliser = static_cast<float*>(p);
  }
  dev.rows_not_normalised = nullptr;
  ATTNCERT_CUDA_CHECK(buffers.alloc(workspace, static_cast<std::size_t>(linear_attention_workspace_bytes(args))));
  return KernelStatus::success();
}

}  // namespace

KernelStatus launch_linear_attention(const LinearAttentionArgs& args, void* workspace) {
  KernelStatus status = can_run(args);
  if (!status.ok()) return status;
  if (workspace == nullptr)
    return KernelStatus::failure(KernelStatusCode::null_pointer, "linear_attention: null workspace");
  if (reinterpret_cast<std::uintptr_t>(workspace) % 8 != 0)
    return KernelStatus::failure(KernelStatusCode::misaligned_pointer,
                                 "linear_attention: workspace is not 8-byte aligned");
  status = launch_stages(args, workspace);
  if (status.ok() && args.rows_not_normalised) {
    // The caller's counter is a device pointer here: copy the kernel's count into it.
    ATTNCERT_CUDA_CHECK(cudaMemcpyAsync(args.rows_not_normalised, workspace, sizeof(long long),
                                        cudaMemcpyDeviceToDevice));
  }
  return status;
}

KernelStatus run_linear_attention_on_device(const LinearAttentionArgs& args) {
  KernelStatus status = can_run(args);
  if (!status.ok()) return status;
  if (KernelStatus s = require_device("linear_attention"); !s.ok()) return s;
  DeviceBuffers buffers;
  LinearAttentionArgs dev;
  void* workspace = nullptr;
  status = stage_inputs(args, buffers, dev, &workspace);
  if (!status.ok()) return status;
  status = launch_stages(dev, workspace);
  if (!status.ok()) return status;
  ATTNCERT_CUDA_CHECK(cudaDeviceSynchronize());
  const std::size_t tokens = static_cast<std::size_t>(args.batch_heads) * args.seqlen * args.head_dim;
  ATTNCERT_CUDA_CHECK(cudaMemcpy(args.out, dev.out, tokens * dtype_size(args.q_dtype), cudaMemcpyDeviceToHost));
  if (args.final_state) {
    const std::size_t state_bytes =
        static_cast<std::size_t>(args.batch_heads) * linear_state_elements(args.feature, args.head_dim) * 4;
    ATTNCERT_CUDA_CHECK(cudaMemcpy(args.final_state, dev.final_state, state_bytes, cudaMemcpyDeviceToHost));
  }
  if (args.normaliser) {
    ATTNCERT_CUDA_CHECK(cudaMemcpy(args.normaliser, dev.normaliser,
                                   static_cast<std::size_t>(args.batch_heads) * args.seqlen * 4,
                                   cudaMemcpyDeviceToHost));
  }
  if (args.rows_not_normalised) {
    unsigned long long count = 0;
    ATTNCERT_CUDA_CHECK(cudaMemcpy(&count, workspace, sizeof count, cudaMemcpyDeviceToHost));
    *args.rows_not_normalised = static_cast<long long>(count);
  }
  return KernelStatus::success();
}

KernelStatus time_linear_attention_on_device(const LinearAttentionArgs& args, int repeats,
                                             double* milliseconds) {
  KernelStatus status = can_run(args);
  if (!status.ok()) return status;
  if (repeats < 1 || milliseconds == nullptr)
    return KernelStatus::failure(KernelStatusCode::invalid_argument,
                                 "linear_attention timing: repeats must be >= 1 and milliseconds non-null");
  if (KernelStatus s = require_device("linear_attention"); !s.ok()) return s;
  DeviceBuffers buffers;
  LinearAttentionArgs dev;
  void* workspace = nullptr;
  status = stage_inputs(args, buffers, dev, &workspace);
  if (!status.ok()) return status;
  status = launch_stages(dev, workspace);  // warm-up
  if (!status.ok()) return status;
  CudaEvent start, stop;
  ATTNCERT_CUDA_CHECK(cudaEventCreate(&start.e));
  ATTNCERT_CUDA_CHECK(cudaEventCreate(&stop.e));
  ATTNCERT_CUDA_CHECK(cudaEventRecord(start.e));
  for (int r = 0; r < repeats && status.ok(); ++r) status = launch_stages(dev, workspace);
  ATTNCERT_CUDA_CHECK(cudaEventRecord(stop.e));
  ATTNCERT_CUDA_CHECK(cudaEventSynchronize(stop.e));
  float ms = 0;
  ATTNCERT_CUDA_CHECK(cudaEventElapsedTime(&ms, start.e, stop.e));
  if (!status.ok()) return status;
  *milliseconds = static_cast<double>(ms) / repeats;
  return KernelStatus::success();
}

}  // namespace attncert::gpu
