#include "python/buffer_input.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace py = pybind11;

namespace attncert::python {

const char* array_type_name(ArrayType t) {
  switch (t) {
    case ArrayType::f16:
      return "float16";
    case ArrayType::bf16:
      return "bfloat16";
    case ArrayType::f32:
      return "float32";
    case ArrayType::f64:
      return "float64";
  }
  return "?";
}

std::optional<gpu::DType> kernel_dtype(ArrayType t) {
  switch (t) {
    case ArrayType::f16:
      return gpu::DType::f16;
    case ArrayType::bf16:
      return gpu::DType::bf16;
    case ArrayType::f32:
      return gpu::DType::f32;
    case ArrayType::f64:
      return std::nullopt;
  }
  return std::nullopt;
}

namespace {

// The struct-module format of a buffer without byte-order or alignment prefixes ('<', '=', '@'
// are native here: little-endian x86-64/aarch64; '>' and '!' are refused).
std::string plain_format(const std::string& format, const std::string& name) {
  std::string f = format;
  if (!f.empty() && (f[0] == '<' || f[0] == '=' || f[0] == '@'))
    f = f.substr(1);
  else if (!f.empty() && (f[0] == '>' || f[0] == '!')) {
    throw std::invalid_argument(
        fmt::format("{}: big-endian data (format '{}') is not supported; "
                    "convert to native byte order",
                    name, format));
  }
  return f;
}

}  // namespace

InputArray read_array(const py::buffer& buffer, const std::string& name, bool bf16_bits) {
  const py::buffer_info info = buffer.request();  // PyBUF_STRIDES | PyBUF_FORMAT, readonly ok
  InputArray a;
  a.name = name;
  const std::string f = plain_format(info.format, name);
  if (bf16_bits) {
    if ((f != "h" && f != "H") || info.itemsize != 2) {
      throw std::invalid_argument(
          fmt::format("{}: bfloat16 bit patterns must be a 16-bit integer buffer, got format '{}'",
                      name, info.format));
    }
    a.type = ArrayType::bf16;
  } else if (f == "e" && info.itemsize == 2) {
    a.type = ArrayType::f16;
  } else if (f == "f" && info.itemsize == 4) {
    a.type = ArrayType::f32;
  } else if (f == "d" && info.itemsize == 8) {
    a.type = ArrayType::f64;
  } else {
    throw std::invalid_argument(fmt::format(
        "{}: unsupported element type (buffer format '{}'); give float16, bfloat16, float32 or "
        "float64",
        name, info.format));
  }
  // Sizes first, overflow-checked, before any allocation.
  std::size_t count = 1;
  for (const py::ssize_t s : info.shape) {
    if (s < 0) throw std::invalid_argument(fmt::format("{}: negative dimension {}", name, s));
    if (s != 0 && count > kMaxArrayElements / static_cast<std::size_t>(s)) {
      throw std::invalid_argument(fmt::format("{}: shape ({}) has more than 2^28 elements", name,
                                              fmt::join(info.shape, ", ")));
    }
    count *= static_cast<std::size_t>(s);
  }
  // C-contiguous: the strides of a row-major array of this shape (dimensions of size 1 may
  // carry any stride, as numpy and torch allow).
  py::ssize_t expected = info.itemsize;
  for (std::size_t i = info.shape.size(); i-- > 0;) {
    if (info.shape[i] != 1 && info.strides[i] != expected) {
      throw std::invalid_argument(fmt::format(
          "{} is not contiguous (shape ({}), strides ({}) bytes); pass a contiguous array "
          "(numpy.ascontiguousarray / tensor.contiguous()) — no silent copy is made",
          name, fmt::join(info.shape, ", "), fmt::join(info.strides, ", ")));
    }
    expected *= info.shape[i];
  }
  a.shape.assign(info.shape.begin(), info.shape.end());
  a.data.resize(count);
  const auto* bytes = static_cast<const unsigned char*>(info.ptr);
  for (std::size_t i = 0; i < count; ++i) {
    switch (a.type) {
      case ArrayType::f16:
      case ArrayType::bf16: {
        std::uint16_t h;
        std::memcpy(&h, bytes + 2 * i, 2);
        a.data[i] =
            a.type == ArrayType::f16 ? gpu::f16_bits_to_float(h) : gpu::bf16_bits_to_float(h);
        break;
      }
      case ArrayType::f32: {
        float x;
        std::memcpy(&x, bytes + 4 * i, 4);
        a.data[i] = x;
        break;
      }
      case ArrayType::f64:
        std::memcpy(&a.data[i], bytes + 8 * i, 8);
        break;
    }
  }
  return a;
}

}  // namespace attncert::python
