// NumPy .npy reader and writer: the format a user gets from `np.save` / PyTorch
// `tensor.numpy()`. Reads float64, float32, float16 and integer arrays of any rank, C or
// Fortran order, little or big endian, into row-major doubles (float16/float32 widen exactly).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace attncert {

struct NpyArray {
  std::vector<std::size_t> shape;  // empty for a 0-d array
  std::vector<double> data;        // row-major (C order), size = product of shape
  std::string source_dtype;        // the descr of the file, e.g. "<f4"

  std::size_t size() const noexcept { return data.size(); }
  std::size_t rank() const noexcept { return shape.size(); }
};

/// Throws std::runtime_error with one line naming the file and the problem (unreadable, a
/// directory, bad magic, unsupported dtype, malformed header or shape, size beyond
/// kMaxTensorElements = 2^28 elements (numerics/tensor_file.hpp), truncated data, a file longer
/// than its header declares, …). Reads the magic and header first, then exactly the declared
/// data, so an endless stream fails at once.
NpyArray read_npy(const std::string& path);

/// The bytes of a .npy file (format 1.0, float64, C order) holding `data` with `shape`. Files
/// are written by one mechanism, write_file_atomically (reports/output_file.hpp).
std::string npy_bytes(const std::vector<std::size_t>& shape, const std::vector<double>& data);

}  // namespace attncert
