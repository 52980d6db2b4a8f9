// CPU twin of the jacobian_norm kernel, and the argument check shared by every entry point.
// The twin runs jacobian_norm_tile::jacobian_norm_row with a HostWarp whose all_reduce
// evaluates the 32 lanes in turn and combines them by the same xor-butterfly tree as
// __shfl_xor_sync in the kernel, so the results are bit-identical.
#include <fmt/format.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "gpu/jacobian_norm.hpp"
#include "gpu/jacobian_norm_tile.cuh"

namespace attncert::gpu {
namespace {

namespace tile = jacobian_norm_tile;

struct HostWarp {
  template <class PerLane, class Combine>
  auto all_reduce(PerLane per_lane, Combine combine) {
    using V = decltype(per_lane(0));
    std::array<V, tile::kWarpSize> v;
    for (int lane = 0; lane < tile::kWarpSize; ++lane) v[static_cast<std::size_t>(lane)] = per_lane(lane);
    for (int offset = tile::kWarpSize / 2; offset >= 1; offset /= 2) {
      std::array<V, tile::kWarpSize> next;
      for (int lane = 0; lane < tile::kWarpSize; ++lane) {
        next[static_cast<std::size_t>(lane)] = combine(v[static_cast<std::size_t>(lane)],
                                                       v[static_cast<std::size_t>(lane ^ offset)]);
      }
      v = next;
    }
    return v[0];
  }
};

KernelStatus fail(KernelStatusCode code, std::string message) {
  return KernelStatus::failure(code, "jacobian_norm: " + std::move(message));
}

bool aligned(const void* p, std::size_t alignment) {
  return reinterpret_cast<std::uintptr_t>(p) % alignment == 0;
}

}  // namespace

KernelStatus can_run_jacobian_norm(const JacobianNormArgs& args) {
  if (!dtype_is_valid(args.dtype))
    return fail(KernelStatusCode::invalid_argument, "dtype is not one of fp32, fp16, bf16");
  if (args.rows <= 0) {
    return fail(args.rows == 0 ? KernelStatusCode::empty_input : KernelStatusCode::unsupported_shape,
                fmt::format("rows = {}; need rows >= 1", args.rows));
  }
  if (args.length <= 0) {
    return fail(args.length == 0 ? KernelStatusCode::empty_input
                                 : KernelStatusCode::unsupported_shape,
                fmt::format("row length L = {}; need 1 <= L <= {}", args.length,
                            kJacobianNormMaxLength));
  }
  if (args.length > kJacobianNormMaxLength) {
    return fail(KernelStatusCode::unsupported_shape,
                fmt::format("row length L = {} exceeds the limit {} (a row's weights live in "
                            "48 KB of shared memory); need 1 <= L <= {}",
                            args.length, kJacobianNormMaxLength, kJacobianNormMaxLength));
  }
  if (args.num_temperatures > 0 && args.temperatures == nullptr) {
    return fail(KernelStatusCode::null_pointer, "temperatures pointer is null");
  }
  if (args.num_temperatures <= 0) {
    return fail(KernelStatusCode::empty_input,
                fmt::format("no temperature given; need 1 to {} temperatures",
                            kJacobianNormMaxTemperatures));
  }
  if (args.num_temperatures > kJacobianNormMaxTemperatures) {
    return fail(KernelStatusCode::unsupported_shape,
                fmt::format("{} temperatures; need 1 to {} per launch", args.num_temperatures,
                            kJacobianNormMaxTemperatures));
  }
  const long long pairs = args.rows * static_cast<long long>(args.num_temperatures);
  if (args.rows > (1LL << 31) - 1 || pairs > (1LL << 31) - 1) {
    return fail(KernelStatusCode::unsupported_shape,
                fmt::format("rows × temperatures = {} × {}; need at most 2^31 − 1 pairs",
                            args.rows, args.num_temperatures));
  }
  for (int t = 0; t < args.num_temperatures; ++t) {
    const float T = args.temperatures[t];
    if (!(T >= kJacobianNormMinTemperature && T <= kJacobianNormMaxTemperature)) {
      return fail(KernelStatusCode::invalid_argument,
                  fmt::format("temperature {} is {}; need a finite T in [{:g}, {:g}]", t, T,
                              kJacobianNormMinTemperature, kJacobianNormMaxTemperature));
    }
  }
  if (args.logits == nullptr) return fail(KernelStatusCode::null_pointer, "logits pointer is null");
  if (args.out == nullptr) return fail(KernelStatusCode::null_pointer, "output pointer is null");
  const auto elem = static_cast<std::size_t>(dtype_size(args.dtype));
  if (!aligned(args.logits, elem)) {
    return fail(KernelStatusCode::misaligned_pointer,
                fmt::format("logits pointer is not aligned to {} bytes ({} elements)", elem,
                            dtype_name(args.dtype)));
  }
  if (!aligned(args.out, sizeof(float))) {
    return fail(KernelStatusCode::misaligned_pointer,
                "output pointer is not aligned to 4 bytes (fp32)");
  }
  return KernelStatus::success();
}

KernelStatus jacobian_norm_twin(const JacobianNormArgs& args) {
  if (KernelStatus s = can_run_jacobian_norm(args); !s.ok()) return s;
  const std::size_t n_t = static_cast<std::size_t>(args.num_temperatures);
  const long long row_bytes = args.length * dtype_size(args.dtype);
  std::vector<float> weights(static_cast<std::size_t>(args.length));
  HostWarp warp;
  for (long long r = 0; r < args.rows; ++r) {
    const void* row = static_cast<const unsigned char*>(args.logits) + r * row_bytes;
    for (std::size_t t = 0; t < n_t; ++t) {
      args.out[static_cast<std::size_t>(r) * n_t + t] =
          tile::jacobian_norm_row(warp, args.dtype, row, args.length, args.temperatures[t],
                                  weights.data())
              .norm;
    }
  }
  return KernelStatus::success();
}

JacobianNormTwinTrace jacobian_norm_twin_trace(DType dtype, const void* row, long long length,
                                               float temperature) {
  const float temps[1] = {temperature};
  float out = 0;
  const JacobianNormArgs args{dtype, row, 1, length, temps, 1, &out};
  if (KernelStatus s = can_run_jacobian_norm(args); !s.ok()) throw std::invalid_argument(s.message);
  std::vector<float> weights(static_cast<std::size_t>(length));
  HostWarp warp;
  const tile::RowResult r =
      tile::jacobian_norm_row(warp, dtype, row, length, temperature, weights.data());
  return {r.norm, static_cast<int>(r.exit), r.iterations};
}

}  // namespace attncert::gpu
