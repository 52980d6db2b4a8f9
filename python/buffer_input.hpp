// Arrays from Python (numpy arrays, CPU torch tensors, anything with the buffer protocol) as
// the exact doubles the C++ checks take. Formats 'e' (float16), 'f' (float32), 'd' (float64);
// bfloat16 arrives as int16 bit patterns (torch: t.view(torch.int16), zero copy) and is widened
// here exactly. Only C-contiguous buffers: a strided view is refused (no silent copy).
#pragma once

#include <pybind11/pybind11.h>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "gpu/dtype.hpp"
#include "numerics/tensor_file.hpp"

namespace attncert::python {

/// Element type of a Python array as the module sees it.
enum class ArrayType { f16, bf16, f32, f64 };

const char* array_type_name(ArrayType t);
/// The kernel dtype an array of this type was read in; empty for float64.
std::optional<gpu::DType> kernel_dtype(ArrayType t);

/// An array widened to double (exact for every accepted format), row-major.
struct InputArray {
  std::string name;  ///< the argument's name, for messages
  ArrayType type = ArrayType::f64;
  std::vector<std::ptrdiff_t> shape;
  std::vector<double> data;
  std::size_t size() const noexcept { return data.size(); }
};

/// Reads a buffer. `bf16_bits`: the buffer holds int16 bfloat16 bit patterns. Throws
/// std::invalid_argument naming `name` for an unsupported format, a non-contiguous buffer or a
/// size above kMaxArrayElements (before allocating). NaN/inf are kept: the callers decide.
InputArray read_array(const pybind11::buffer& buffer, const std::string& name, bool bf16_bits);

/// The cap of tensor files (numerics/tensor_file.hpp), 2^28 elements (2 GiB once widened to
/// double): larger arrays are refused before allocating, as from the CLI.
inline constexpr std::size_t kMaxArrayElements = kMaxTensorElements;

/// A row-major array of doubles owned by C++ and exposed to Python through the buffer protocol
/// (numpy.asarray(x) views it without a copy).
struct DoubleArray {
  std::vector<double> data;
  std::vector<std::ptrdiff_t> shape;
};

}  // namespace attncert::python
