// Linear attention forward kernels: one launch per stage of linear_attention_tile.cuh, one
// thread per produced element, so each value is the same fma chain as in the twin.
// Workspace: an unsigned long long row counter, then the fp32 scratch of WorkspaceLayout for
// every head (grid.y = head).
#include <cuda_runtime.h>

#include <string>
#include <vector>

#include "gpu/cuda_check.cuh"
#include "gpu/linear_attention.hpp"
#include "gpu/linear_attention_tile.cuh"

namespace attncert::gpu {
namespace {

namespace lt = linear_tile;

constexpr int kThreads = 256;

struct DeviceCall {
  int feature, d;
  long long T;
  DType dt;
  bool causal, normalised;
  float scale;
  const void* q;
  const void* k;
  const void* v;
  void* out;
  const float* initial_state;
  float* final_state;
  float* normaliser;
  float* scratch;
  unsigned long long* counter;
  lt::WorkspaceLayout l;
};

__device__ float* head_scratch(const DeviceCall& c) { return c.scratch + blockIdx.y * c.l.per_head; }

__global__ void features_kernel(DeviceCall c) {
  float* ws = head_scratch(c);
  const long long token_base = static_cast<long long>(blockIdx.y) * c.T * c.d;
  const long long n = c.T * c.l.m;
  for (long long idx = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; idx < n;
       idx += static_cast<long long>(gridDim.x) * blockDim.x) {
    const long long i = idx / c.l.m, a = idx % c.l.m;
    ws[c.l.phiq + idx] = lt::feature_value(c.feature, true, c.scale, c.dt, c.q, token_base + i * c.d, c.d, a);
    ws[c.l.phik + idx] = lt::feature_value(c.feature, false, c.scale, c.dt, c.k, token_base + i * c.d, c.d, a);
  }
}

// grid.x = chunk (blockIdx.z strides further chunks when there are more than gridDim.x)
__global__ void chunk_states_kernel(DeviceCall c) {
  float* ws = head_scratch(c);
  const long long token_base = static_cast<long long>(blockIdx.y) * c.T * c.d;
  const long long mw = c.l.m * c.l.w;
  for (long long chunk = blockIdx.x; chunk < c.l.chunks; chunk += gridDim.x) {
    const long long begin = chunk * lt::kChunk;
    const long long end = begin + lt::kChunk < c.T ? begin + lt::kChunk : c.T;
    for (long long s = threadIdx.x; s < mw; s += blockDim.x) {
      const long long a = s / c.l.w;
      const int e = static_cast<int>(s % c.l.w);
      ws[c.l.states + chunk * mw + s] =
          lt::chunk_state_element(ws + c.l.phik, c.l.m, c.dt, c.v, token_base, c.d, begin, end, a, e);
    }
  }
}

__global__ void scan_kernel(DeviceCall c) {
  float* ws = head_scratch(c);
  const long long mw = c.l.m * c.l.w;
  float* states = ws + c.l.states;
  for (long long s = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; s < mw;
       s += static_cast<long long>(gridDim.x) * blockDim.x) {
    float running = c.initial_state ? c.initial_state[blockIdx.y * mw + s] : 0.0f;
    for (long long chunk = 0; chunk < c.l.chunks; ++chunk) {
      const float partial = states[chunk * mw + s];
      states[chunk * mw + s] = running;
      running = running + partial;
    }
    states[c.l.chunks * mw + s] = running;
    if (c.final_state) c.final_state[blockIdx.y * mw + s] = running;
  }
}

__global__ void scores_kernel(DeviceCall c) {
  float* ws = head_scratch(c);
  const long long n = c.T * lt::kChunk;
  for (long long idx = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; idx < n;
       idx += static_cast<long long>(gridDim.x) * blockDim.x) {
    const long long i = idx / lt::kChunk, t = idx % lt::kChunk;
    const long long j = i / lt::kChunk * lt::kChunk + t;
    if (j <= i) ws[c.l.scores + idx] = lt::score_element(ws + c.l.phiq, ws + c.l.phik, c.l.m, i, j);
  }
}

__global__ void readout_kernel(DeviceCall c) {
  float* ws = head_scratch(c);
  const long long token_base = static_cast<long long>(blockIdx.y) * c.T * c.d;
  const long long n = c.T * c.l.w;
  const long long mw = c.l.m * c.l.w;
  for (long long idx = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; idx < n;
       idx += static_cast<long long>(gridDim.x) * blockDim.x) {
    const long long i = idx / c.l.w;
    const int e = static_cast<int>(idx % c.l.w);
    const long long chunk = i / lt::kChunk;
    const float* state = ws + c.l.states + (c.causal ? chunk : c.l.chunks) * mw;
    const float* scores_row = c.causal ? ws + c.l.scores + i * lt::kChunk : nullptr;
    ws[c.l.readout + idx] = lt::readout_element(ws + c.l.phiq, c.l.m, state, c.d, i, e,
                                                scores_row, chunk * lt::kChunk, c.dt, c.v, token_base);
  }
}

__global__ void finish_kernel(DeviceCall c) {
  float* ws = head_scratch(c);
  const long long token_base = static_cast<long long>(blockIdx.y) * c.T * c.d;
  const long long n = c.T * c.d;
  for (long long idx = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; idx < n;
       idx += static_cast<long long>(gridDim.x) * blockDim.x) {
    const long long i = idx / c.d, e = idx % c.d;
    const float den = ws[c.l.readout + i * c.l.w + c.d];
    if (e == 0) {
      if (c.normaliser) c.normaliser[blockIdx.y * c.T + i] = den;
      if (c.normalised && !lt::normaliser_usable(den)) atomicAdd(c.counter, 1ULL);
    }
    lt::store_element(c.dt, c.out, token_base + idx,
                      lt::finish_element(ws[c.l.readout + i * c.l.w + e], den, c.normalised));
  }
}

unsigned grid_for(long long n) {
  const long long blocks = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < 65535 ? (blocks < 1 ? 1 : blocks) : 65535);
}

KernelStatus launch_stages(const LinearAttentionArgs& args, void* workspace) {
  DeviceCall c{};
  c.feature = static_cast<int>(args.feature);
  c.d = args.head_dim;
  c.T = args.seqlen;
  c.dt = args.q_dtype;
  c.causal = args.causal;
  c.normalised = args.readout == LinearReadout::normalised;
  c.scale = args.scale;
  c.q = args.q;
  c.k = args.k;
  c.v = args.v;
  c.out = args.out;
  c.initial_state = args.initial_state;
  c.final_state = args.final_state;
  c.normaliser = args.normaliser;
  c.counter = static_cast<unsigned long long*>(workspace);
  c.scratch = reinterpret_cast<float*>(static_cast<char*>(workspace) + 8);
  c.l = lt::workspace_layout(c.feature, c.T, c.d);
  const unsigned heads = static_cast<unsigned>(args.batch_heads);
  ATTNCERT_CUDA_CHECK(cudaMemsetAsync(c.counter, 0, sizeof(unsigned long long)));
  features_kernel<<<dim3(grid_for(c.T * c.l.m), heads), kThreads>>>(c);
  ATTNCERT_CUDA_CHECK(cudaGetLastError());
  const unsigned chunk_blocks = static_cast<unsigned>(c.l.chunks < 65535 ? c.l.chunks : 65535);
  chunk_states_kernel<<<dim3(chunk_blocks, heads), kThreads>>>(c);
  ATTNCERT_CUDA_CHECK(cudaGetLastError());
  scan_kernel<<<dim3(grid_for(c.l.m * c.l.w), heads), kThreads>>>(c);
  ATTNCERT_CUDA_CHECK(cudaGetLastError());
  if (c.causal) {
    scores_kernel<<<dim3(grid_for(c.T * lt::kChunk), heads), kThreads>>>(c);
    ATTNCERT_CUDA_CHECK(cudaGetLastError());
  }
  readout_kernel<<<dim3(grid_for(c.T * c.l.w), heads), kThreads>>>(c);
  ATTNCERT_CUDA_CHECK(cudaGetLastError());
  finish_kernel<<<dim3(grid_for(c.T * c.d), heads), kThreads>>>(c);
  ATTNCERT_CUDA_CHECK(cudaGetLastError());
  return KernelStatus::success();
}

bool device_available(std::string* message) {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0) {
    cudaGetLastError();
    *message = e == cudaSuccess ? std::string("no CUDA device found")
                                : std::string("no CUDA device usable: ") + cudaGetErrorString(e);
    return false;
  }
  return true;
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
  std::string why;
  if (!device_available(&why)) return KernelStatus::failure(KernelStatusCode::no_device, why);
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
  std::string why;
  if (!device_available(&why)) return KernelStatus::failure(KernelStatusCode::no_device, why);
  DeviceBuffers buffers;
  LinearAttentionArgs dev;
  void* workspace = nullptr;
  status = stage_inputs(args, buffers, dev, &workspace);
  if (!status.ok()) return status;
  status = launch_stages(dev, workspace);  // warm-up
  if (!status.ok()) return status;
  cudaEvent_t start, stop;
  ATTNCERT_CUDA_CHECK(cudaEventCreate(&start));
  ATTNCERT_CUDA_CHECK(cudaEventCreate(&stop));
  ATTNCERT_CUDA_CHECK(cudaEventRecord(start));
  for (int r = 0; r < repeats && status.ok(); ++r) status = launch_stages(dev, workspace);
  ATTNCERT_CUDA_CHECK(cudaEventRecord(stop));
  ATTNCERT_CUDA_CHECK(cudaEventSynchronize(stop));
  float ms = 0;
  ATTNCERT_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  if (!status.ok()) return status;
  *milliseconds = static_cast<double>(ms) / repeats;
  return KernelStatus::success();
}

}  // namespace attncert::gpu
