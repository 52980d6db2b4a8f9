#include "proofs_checks/tensor_core_model.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "numerics/scalar_traits.hpp"

namespace attncert {
namespace {

constexpr double kUnitRoundoff = 0x1p-24;     // fp32, round to nearest
constexpr double kSubnormalFloor = 0x1p-149;  // a faithful subnormal result errs by less

[[noreturn]] void refuse(const std::string& what) {
  throw std::invalid_argument("tensor-core model: " + what);
}

void check_value(const char* name, std::size_t index, float x, gpu::DType dtype) {
  if (!std::isfinite(x)) refuse(fmt::format("{}[{}] = {} is not finite", name, index, x));
  if (gpu::round_through(dtype, x) != x)
    refuse(fmt::format("{}[{}] = {} is not representable in {}", name, index, x,
                       dtype == gpu::DType::f16 ? "fp16" : "bf16"));
}

void check_arguments(const TensorCoreModel& model, float c, std::span<const float> a,
                     std::span<const float> b) {
  check_tensor_core_model(model);
  if (a.size() != b.size())
    refuse("a has " + std::to_string(a.size()) + " elements, b " + std::to_string(b.size()));
  if (!std::isfinite(c)) refuse(fmt::format("c = {} is not finite", c));
  for (std::size_t j = 0; j < a.size(); ++j) {
    check_value("a", j, a[j], model.input_dtype);
    check_value("b", j, b[j], model.input_dtype);
  }
}

/// fp32 rounding of an exact double (≤ 53 significant bits) in the model's mode.
float round_to_float(double exact, TensorCoreModel::Rounding mode) {
  float f = static_cast<float>(exact);  // round to nearest even: one rounding of an exact value
  if (mode == TensorCoreModel::Rounding::truncate &&
      std::fabs(static_cast<double>(f)) > std::fabs(exact))
    f = std::nextafter(f, 0.0f);  // the nearest was the one above in magnitude: step back
  return f;
}

/// One block: align every addend to the largest one's exponent keeping 24 + t bits, truncate
/// toward zero, sum exactly, round to fp32. The addends are exact doubles (the fp32 accumulator
/// and products of two ≤ 11-bit significands).
float block_sum(const TensorCoreModel& model, const std::vector<double>& addends) {
  double largest = 0.0;
  for (double x : addends) largest = std::max(largest, std::fabs(x));
  if (largest == 0.0) return 0.0f;
  int e = 0;
  std::frexp(largest, &e);  // largest = m·2^e, m ∈ [0.5, 1): leading bit 2^(e−1)
  const int quantum_exponent = (e - 1) - 23 - model.extra_bits;
  // Each aligned addend is an integer below 2^(25+t) in units of the quantum; k + 1 ≤ 65 of
  // them sum below 2^52 for t ≤ 20: exact in double.
  double units = 0.0;
  for (double x : addends) units += std::trunc(std::ldexp(x, -quantum_exponent));
  return round_to_float(std::ldexp(units, quantum_exponent), model.block_rounding);
}

}  // namespace

void check_tensor_core_model(const TensorCoreModel& model) {
  if (model.block_size < 1 || model.block_size > kTensorCoreMaxBlockSize)
    refuse("block size k = " + std::to_string(model.block_size) + "; must be in [1, " +
           std::to_string(kTensorCoreMaxBlockSize) + "]");
  if (model.extra_bits < 0 || model.extra_bits > kTensorCoreMaxExtraBits)
    refuse("extra alignment bits t = " + std::to_string(model.extra_bits) + "; must be in [0, " +
           std::to_string(kTensorCoreMaxExtraBits) + "]");
  if (model.input_dtype != gpu::DType::f16 && model.input_dtype != gpu::DType::bf16)
    refuse("input dtype must be fp16 or bf16 (tensor-core operands)");
}

double tensor_core_block_delta(const TensorCoreModel& model) {
  check_tensor_core_model(model);
  const double rho = model.block_rounding == TensorCoreModel::Rounding::truncate
                         ? 2 * kUnitRoundoff
                         : kUnitRoundoff;
  const double alignment = model.block_size * std::ldexp(2 * kUnitRoundoff, -model.extra_bits);
  // ρ + alignment + ρ·alignment: powers of two times k ≤ 64 spanning < 53 bits: exact.
  return rho + alignment + rho * alignment;
}

float tensor_core_dot(const TensorCoreModel& model, float c, std::span<const float> a,
                      std::span<const float> b) {
  check_arguments(model, c, a, b);
  const std::size_t k = static_cast<std::size_t>(model.block_size);
  float accumulator = c;
  std::vector<double> addends;
  addends.reserve(k + 1);
  for (std::size_t begin = 0; begin < a.size(); begin += k) {
    addends.assign(1, static_cast<double>(accumulator));
    for (std::size_t j = begin; j < std::min(a.size(), begin + k); ++j)
      addends.push_back(static_cast<double>(a[j]) * static_cast<double>(b[j]));  // exact
    accumulator = block_sum(model, addends);
  }
  return accumulator;
}

double tensor_core_dot_error_bound(const TensorCoreModel& model, float c,
                                   std::span<const float> a, std::span<const float> b) {
  check_arguments(model, c, a, b);
  const std::size_t n = a.size();
  double magnitude = std::fabs(static_cast<double>(c));
  for (std::size_t j = 0; j < n; ++j)
    magnitude += std::fabs(static_cast<double>(a[j]) * static_cast<double>(b[j]));
  // n + 1 non-negative terms summed in double: relative error below (n + 1)·2⁻⁵².
  magnitude *= 1.0 + static_cast<double>(n + 1) * 0x1p-52;
  if (magnitude >= static_cast<double>(std::numeric_limits<float>::max()))
    return std::numeric_limits<double>::infinity();  // overflow is outside the model
  const long blocks = static_cast<long>((n + model.block_size - 1) / model.block_size);
  if (blocks == 0) return 0.0;  // ŝ = c exactly
  const double delta = tensor_core_block_delta(model);
  // (1 + δ)^B − 1 ≤ γ_B(δ); the few double roundings below are covered by the last factor.
  return higham_gamma(blocks, delta) * (magnitude + kSubnormalFloor / delta) * (1.0 + 0x1p-48);
}

}  // namespace attncert
