// Which keys a query sees: causal masks in both alignments and sliding windows, the one
// definition for every tier of softmax attention (softmax_attention.hpp,
// midpoint_radius_attention.hpp) and for check-attention. The visible keys of a row are always
// one contiguous range [begin, end) (possibly empty: a fully masked row).
//
// The diagonal of query i is key i + δ, δ = Lk − Lq (bottom-right alignment, FlashAttention's
// convention for causal masks and windows) or δ = 0 (top-left alignment, PyTorch SDPA's
// is_causal = torch.tril(ones(Lq, Lk))). Query i sees key j iff
//   causal:        j ≤ i + δ
//   window_left W: j ≥ i + δ − W
//   window_right R: j ≤ i + δ + R
// (FlashAttention's window_size = (left, right) with −1 = unbounded is window_left/right unset.)
// For Lq = Lk the two alignments agree.
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>

namespace attncert {

enum class DiagonalAlignment { bottom_right, top_left };

struct KeyRange {
  std::ptrdiff_t begin = 0, end = 0;  ///< visible keys j ∈ [begin, end)
  std::ptrdiff_t size() const noexcept { return end > begin ? end - begin : 0; }
  bool empty() const noexcept { return end <= begin; }
  bool contains(std::ptrdiff_t j) const noexcept { return begin <= j && j < end; }
};

struct KeyVisibility {
  bool causal = false;
  DiagonalAlignment alignment = DiagonalAlignment::bottom_right;
  std::optional<std::ptrdiff_t> window_left;   ///< ≥ 0 when set
  std::optional<std::ptrdiff_t> window_right;  ///< ≥ 0 when set

  static KeyVisibility all() { return {}; }
  static KeyVisibility causal_mask(DiagonalAlignment a = DiagonalAlignment::bottom_right) {
    KeyVisibility v;
    v.causal = true;
    v.alignment = a;
    return v;
  }
  /// Causal or not, with a sliding window around the diagonal (FlashAttention's window_size).
  static KeyVisibility sliding_window(bool causal, DiagonalAlignment a,
                                      std::optional<std::ptrdiff_t> left = std::nullopt,
                                      std::optional<std::ptrdiff_t> right = std::nullopt) {
    KeyVisibility v;
    v.causal = causal;
    v.alignment = a;
    v.window_left = left;
    v.window_right = right;
    return v;
  }
  /// Every key visible to every query (no mask of any kind).
  bool is_full() const noexcept { return !causal && !window_left && !window_right; }

  /// Throws std::invalid_argument naming the problem (a negative window).
  void validate() const {
    if (window_left && *window_left < 0)
      throw std::invalid_argument("window left size " + std::to_string(*window_left) +
                                  " is negative");
    if (window_right && *window_right < 0)
      throw std::invalid_argument("window right size " + std::to_string(*window_right) +
                                  " is negative");
  }

  /// The keys query row i (of Lq) sees among Lk, clamped to [0, Lk].
  KeyRange range(std::ptrdiff_t i, std::ptrdiff_t Lq, std::ptrdiff_t Lk) const noexcept {
    const std::ptrdiff_t diagonal = i + (alignment == DiagonalAlignment::bottom_right ? Lk - Lq : 0);
    // A window of Lq + Lk keys already reaches past every key from any diagonal in [−Lq, Lk]; so
    // larger ones (up to PTRDIFF_MAX from Python) are cut there and the sums cannot overflow.
    const auto reach = [&](std::ptrdiff_t w) { return std::min<std::ptrdiff_t>(w, Lq + Lk); };
    std::ptrdiff_t begin = 0, end = Lk;
    if (causal) end = std::min(end, diagonal + 1);
    if (window_right) end = std::min(end, diagonal + reach(*window_right) + 1);
    if (window_left) begin = std::max(begin, diagonal - reach(*window_left));
    begin = std::clamp<std::ptrdiff_t>(begin, 0, Lk);
    end = std::clamp<std::ptrdiff_t>(end, 0, Lk);
    if (end < begin) end = begin;
    return {begin, end};
  }
};

}  // namespace attncert
