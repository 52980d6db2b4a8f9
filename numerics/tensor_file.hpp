// Tensors from and to files: NumPy .npy (numerics/npy.hpp) and safetensors (the format PyTorch
// users save tensors in; it carries bf16 natively, which .npy cannot). One entry point reads
// either, keeping the element type the file stored, so a caller knows whether the values are
// fp32, fp16 or bf16 (check-attention judges a kernel by the dtype it read).
//
// A tensor spec is "PATH" (a .npy file, or a .safetensors file holding exactly one tensor) or
// "PATH:NAME" (the tensor NAME of a .safetensors file). A spec that names an existing file is a
// PATH even if it contains ':'; otherwise PATH is the longest prefix before a ':' that is a
// file, so NAME may contain ':' too. Files must be regular files (the format is read from the
// first bytes, so a pipe could not be read twice). Values are widened exactly to double; an
// integer that a double cannot hold exactly (|I64| > 2^53) is refused, not rounded.
//
// safetensors: 8-byte little-endian header length N, N bytes of UTF-8 JSON
// {"NAME": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
// optionally "__metadata__": {string: string}}, then the data buffer. Read with no trust in the
// header: N bounded (≤ 16 MiB; real headers of thousands of tensors take a few hundred kB) and within the file, every dtype known, every shape's product
// times the element size equal to end − begin (checked without overflow), offsets inside the
// buffer, tensors not overlapping, the buffer covered exactly (no gaps), element counts within
// kMaxTensorElements before anything is allocated. Each violation: std::runtime_error with one
// line naming the file and the problem.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace attncert {

/// Element types a tensor file may store.
enum class ElementType : std::uint8_t { f64, f32, f16, bf16, i64, i32, i16, i8, u8, boolean };

/// "F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL" (safetensors' names).
std::string_view safetensors_dtype_name(ElementType t);
/// "float64", "float32", "float16", "bfloat16", "int64", … (what users and numpy call them).
std::string_view element_type_name(ElementType t);
/// Bytes per element.
std::size_t element_size(ElementType t);
/// True for f64/f32/f16/bf16.
bool is_floating(ElementType t);

/// Refuse tensors beyond this many elements (before allocating): 2^28, i.e. 2 GiB once widened
/// to double. One cap for both formats (numerics/npy.cpp uses it too).
inline constexpr std::size_t kMaxTensorElements = std::size_t{1} << 28;

/// Refuse safetensors headers longer than this (the reference implementation's limit).
/// The reference reader allows 100 MB, but parsed into a DOM that is several times more memory;
/// 16 MiB is ~50× the header of a large model shard.
inline constexpr std::size_t kMaxSafetensorsHeaderBytes = std::size_t{16} << 20;
/// Entries of any JSON list in a header (shapes, data_offsets): a shape of rank beyond this is
/// refused while parsing, before a huge list is built.
inline constexpr std::size_t kMaxSafetensorsListEntries = 64;

struct Tensor {
  std::string name;                // the safetensors name, or the path for .npy
  ElementType type = ElementType::f64;
  std::vector<std::size_t> shape;  // empty for a scalar
  std::vector<double> data;        // row-major, exact widening of the stored values

  std::size_t size() const noexcept { return data.size(); }
  std::size_t rank() const noexcept { return shape.size(); }
};

/// Reads "PATH" or "PATH:NAME" (see above). The format comes from the file's contents (the
/// .npy magic, else safetensors), not its extension. Throws std::runtime_error, one line.
Tensor read_tensor(const std::string& spec);

/// Every tensor of a safetensors file, in the order of their data offsets.
std::vector<Tensor> read_safetensors(const std::string& path);

/// One tensor of a safetensors file: `name`, or the file's only tensor when `name` is empty (an
/// error then lists the names if there are several). The whole header is checked; only that
/// tensor's data is read.
Tensor read_safetensors_tensor(const std::string& path, const std::optional<std::string>& name);

/// The same for the bytes of a safetensors file already in memory (the fuzz target's entry);
/// `source` names them in errors, as the path does for read_safetensors.
std::vector<Tensor> parse_safetensors(std::string_view bytes, const std::string& source);

/// A tensor to write: values must be exactly representable in `type` (checked; a value that is
/// not throws std::invalid_argument naming the tensor and index — no silent rounding).
struct TensorToWrite {
  std::string name;
  ElementType type = ElementType::f64;  // f64, f32, f16 or bf16
  std::vector<std::size_t> shape;
  const std::vector<double>* data = nullptr;
};

/// The bytes of a safetensors file holding `tensors` (names unique and non-empty, data
/// contiguous in the given order, header padded with spaces to a multiple of 8 as the reference
/// writer does), and `metadata` as "__metadata__" first when it is not empty (keys unique,
/// strings UTF-8). Bad arguments throw std::invalid_argument. Files are written by
/// write_file_atomically (reports/output_file.hpp).
std::string safetensors_bytes(
    const std::vector<TensorToWrite>& tensors,
    const std::vector<std::pair<std::string, std::string>>& metadata = {});

}  // namespace attncert
