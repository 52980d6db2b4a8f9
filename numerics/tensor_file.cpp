// read_tensor: one entry point for .npy and safetensors files, the format told by the file's
// first bytes (numerics/tensor_file.hpp).
#include "numerics/tensor_file.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>

#include "numerics/npy.hpp"

namespace attncert {
namespace {

[[noreturn]] void fail(const std::string& source, const std::string& what) {
  throw std::runtime_error(fmt::format("{}: {}", source, what));
}

bool is_file(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec) && !ec;
}

bool has_npy_magic(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (std::filesystem::is_directory(status)) fail(path, "is a directory, not a tensor file");
  // The first bytes are read twice (here, then by the format's reader): a pipe could not be.
  if (!std::filesystem::is_regular_file(status)) fail(path, "is not a regular file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open for reading");
  unsigned char head[8] = {};
  in.read(reinterpret_cast<char*>(head), sizeof head);
  const auto got = static_cast<std::size_t>(in.gcount());
  if (got >= 6 && std::memcmp(head, "\x93NUMPY", 6) == 0) return true;
  // Not .npy: say what it is when it is plainly neither format, rather than report a safetensors
  // header length read from someone else's bytes.
  if (got >= 4 && std::memcmp(head, "PK\x03\x04", 4) == 0)
    fail(path, "is a ZIP archive (a torch.save .pt or a numpy .npz file?), not .npy or "
               ".safetensors: save tensors with numpy.save or safetensors.torch.save_file");
  if (got >= 1 && head[0] == 0x80)
    fail(path, "looks like a Python pickle (an old torch.save file?), not .npy or .safetensors: "
               "save tensors with numpy.save or safetensors.torch.save_file");
  std::uintmax_t size = std::filesystem::file_size(path, ec);
  std::uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) header_length = header_length << 8 | head[i];
  if (got < 8 || ec || header_length > size - 8)
    fail(path, fmt::format("is neither a .npy file (no \\x93NUMPY magic) nor a safetensors file "
                           "({}); save tensors with numpy.save or safetensors.torch.save_file",
                           got < 8 ? fmt::format("{} bytes long", got)
                                   : fmt::format("its first 8 bytes give a header length of {} "
                                                 "in a file of {} bytes", header_length, size)));
  return false;
}

// The element type of a .npy descr such as "<f4" (read_npy has widened the values already).
ElementType npy_element_type(const std::string& path, const std::string& descr) {
  const std::string kind = descr.substr(1);
  if (kind == "f8") return ElementType::f64;
  if (kind == "f4") return ElementType::f32;
  if (kind == "f2") return ElementType::f16;
  if (kind == "i8") return ElementType::i64;
  if (kind == "i4") return ElementType::i32;
  if (kind == "i2") return ElementType::i16;
  if (kind == "i1") return ElementType::i8;
  if (kind == "u1") return ElementType::u8;
  if (kind == "b1") return ElementType::boolean;
  fail(path, fmt::format("numpy dtype '{}' has no tensor element type (attncert reads float64, "
                         "float32, float16, int64, int32, int16, int8, uint8 and bool)",
                         descr));
}

Tensor read_npy_tensor(const std::string& path) {
  NpyArray a = read_npy(path);
  Tensor t;
  t.type = npy_element_type(path, a.source_dtype);
  if (t.type == ElementType::i64) {
    // read_npy widened int64 with rounding beyond 2^53 (2^53 + 1 became 2^53, so 2^53 itself
    // is refused too); the tensor contract is exact values.
    for (std::size_t i = 0; i < a.data.size(); ++i) {
      if (std::abs(a.data[i]) >= 0x1p53) {
        fail(path, fmt::format("element {} of int64 is at or beyond 2^53, where a double cannot hold "
                               "every integer",
                               i));
      }
    }
  }
  t.name = path;
  t.shape = std::move(a.shape);
  t.data = std::move(a.data);
  return t;
}

}  // namespace

Tensor read_tensor(const std::string& spec) {
  std::string path = spec;
  std::optional<std::string> name;
  if (!is_file(spec)) {
    // PATH:NAME — the longest prefix before a ':' that is a file, so both PATH and NAME may
    // contain ':'.
    std::size_t colon = spec.rfind(':');
    while (colon != std::string::npos && colon > 0 && !is_file(spec.substr(0, colon))) {
      colon = spec.rfind(':', colon - 1);
    }
    if (colon == std::string::npos || colon == 0) {
      fail(spec, spec.find(':') == std::string::npos
                     ? "no such file"
                     : "no such file (nor is any part before a ':' a file, as PATH:NAME needs)");
    }
    path = spec.substr(0, colon);
    name = spec.substr(colon + 1);
  }
  if (has_npy_magic(path)) {
    if (name) {
      fail(path, fmt::format("is a .npy file, which holds one unnamed array: drop ':{}'", *name));
    }
    return read_npy_tensor(path);
  }
  return read_safetensors_tensor(path, name);
}

}  // namespace attncert
