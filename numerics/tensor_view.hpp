// Matrices and strided multi-head views shared by the attention code.
//
// A single head is a row-major L×d matrix (one token per row). Multi-head inputs arrive as a
// (batch, heads, L, d) buffer — e.g. exported from PyTorch, possibly non-contiguous after a
// transpose — and are viewed, never copied: Tensor4View keeps a pointer and four element
// strides, and head(b, h) is an Eigen::Map over one L×d slice.
#pragma once

#include <Eigen/Core>

#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>

namespace attncert {

template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using ColVector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

/// Element strides of a row-major view: (row stride, column stride).
using ViewStride = Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>;
template <class T>
using MatrixView = Eigen::Map<RowMatrix<T>, Eigen::Unaligned, ViewStride>;
template <class T>
using ConstMatrixView = Eigen::Map<const RowMatrix<T>, Eigen::Unaligned, ViewStride>;

/// A (batch, heads, length, dim) view with arbitrary non-negative element strides.
template <class T>
class Tensor4View {
 public:
  using Index = std::ptrdiff_t;

  /// Contiguous row-major (B, H, L, d).
  Tensor4View(T* data, Index batch, Index heads, Index length, Index dim)
      : Tensor4View(data, {batch, heads, length, dim},
                    {heads * length * dim, length * dim, dim, 1}) {}

  Tensor4View(T* data, std::array<Index, 4> shape, std::array<Index, 4> strides)
      : data_(data), shape_(shape), strides_(strides) {
    if (data == nullptr) throw std::invalid_argument("Tensor4View: null data pointer");
    for (int i = 0; i < 4; ++i) {
      if (shape[i] < 1) {
        throw std::invalid_argument("Tensor4View: dimension " + std::to_string(i) +
                                    " is " + std::to_string(shape[i]) + ", must be >= 1");
      }
      if (strides[i] < 0) {
        throw std::invalid_argument("Tensor4View: stride " + std::to_string(i) +
                                    " is negative");
      }
    }
  }

  Index batch() const noexcept { return shape_[0]; }
  Index heads() const noexcept { return shape_[1]; }
  Index length() const noexcept { return shape_[2]; }
  Index dim() const noexcept { return shape_[3]; }
  const std::array<Index, 4>& shape() const noexcept { return shape_; }
  const std::array<Index, 4>& strides() const noexcept { return strides_; }

  /// The L×d slice of batch b, head h, as a view into the same memory.
  MatrixView<std::remove_const_t<T>> head(Index b, Index h) const
    requires(!std::is_const_v<T>)
  {
    check(b, h);
    return MatrixView<T>(data_ + b * strides_[0] + h * strides_[1], shape_[2], shape_[3],
                         ViewStride(strides_[2], strides_[3]));
  }
  ConstMatrixView<std::remove_const_t<T>> const_head(Index b, Index h) const {
    check(b, h);
    return ConstMatrixView<std::remove_const_t<T>>(data_ + b * strides_[0] + h * strides_[1],
                                                   shape_[2], shape_[3],
                                                   ViewStride(strides_[2], strides_[3]));
  }

 private:
  void check(Index b, Index h) const {
    if (b < 0 || b >= shape_[0] || h < 0 || h >= shape_[1]) {
      throw std::out_of_range("Tensor4View: head (" + std::to_string(b) + ", " +
                              std::to_string(h) + ") outside (" + std::to_string(shape_[0]) +
                              ", " + std::to_string(shape_[1]) + ")");
    }
  }
  T* data_;
  std::array<Index, 4> shape_;
  std::array<Index, 4> strides_;
};

}  // namespace attncert
