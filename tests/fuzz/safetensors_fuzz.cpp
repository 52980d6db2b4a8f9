// Fuzz target for the safetensors reader (numerics/safetensors.cpp). Each input is tried twice:
// as a whole file, and as "HEADER JSON \0 DATA" given the correct 8-byte length prefix, so that
// mutations of the JSON text reach the header checks instead of stopping at the length. The
// only acceptable failure is std::runtime_error with one line naming the source; anything else
// (another exception, a crash, an allocation beyond the input's size under ASan) aborts. What
// is accepted must be consistent (data size = product of the shape, within the cap) and its
// floating tensors must survive a round trip through safetensors_bytes bit for bit.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "numerics/tensor_file.hpp"

namespace {

using attncert::Tensor;

[[noreturn]] void fail(std::string_view what, std::string_view detail) {
  std::fprintf(stderr, "safetensors_fuzz: %.*s\n  detail: %.*s\n", static_cast<int>(what.size()),
               what.data(), static_cast<int>(detail.size()), detail.data());
  std::abort();
}

bool same_value(double a, double b) {
  return std::isnan(a) ? std::isnan(b)
                       : std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b);
}

void check_accepted(const std::vector<Tensor>& tensors) {
  std::vector<attncert::TensorToWrite> floating;
  for (const Tensor& t : tensors) {
    std::size_t count = 1;
    for (std::size_t d : t.shape) count *= d;  // ≤ the cap once accepted: no overflow
    if (count != t.data.size() || count > attncert::kMaxTensorElements) {
      fail("accepted tensor whose data does not match its shape", t.name);
    }
    if (attncert::is_floating(t.type)) floating.push_back({t.name, t.type, t.shape, &t.data});
  }
  std::string bytes;
  try {
    bytes = attncert::safetensors_bytes(floating);
  } catch (const std::exception& e) {
    fail("values read from a file could not be written back", e.what());
  }
  const std::vector<Tensor> back = attncert::parse_safetensors(bytes, "round trip");
  std::size_t k = 0;
  for (const Tensor& t : tensors) {
    if (!attncert::is_floating(t.type)) continue;
    // The writer lays the tensors out in the reader's (offset) order, so the order is kept.
    if (k >= back.size() || back[k].name != t.name || back[k].type != t.type ||
        back[k].shape != t.shape || back[k].data.size() != t.data.size()) {
      fail("round trip changed a tensor", t.name);
    }
    for (std::size_t i = 0; i < t.data.size(); ++i) {
      if (!same_value(t.data[i], back[k].data[i])) fail("round trip changed a value", t.name);
    }
    ++k;
  }
}

void try_bytes(std::string_view bytes) {
  std::vector<Tensor> tensors;
  try {
    tensors = attncert::parse_safetensors(bytes, "fuzz");
  } catch (const std::runtime_error& e) {
    const std::string_view what = e.what();
    if (!what.starts_with("fuzz: ") || what.find('\n') != std::string_view::npos) {
      fail("error is not one line naming the source", what);
    }
    return;
  } catch (const std::exception& e) {
    fail("an exception other than std::runtime_error escaped", e.what());
  }
  check_accepted(tensors);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  try_bytes(input);
  const std::size_t split = std::min(input.find('\0'), input.size());
  std::string file;
  for (int i = 0; i < 8; ++i) file.push_back(static_cast<char>((split >> (8 * i)) & 0xff));
  file += input.substr(0, split);
  if (split < input.size()) file += input.substr(split + 1);
  try_bytes(file);
  return 0;
}
