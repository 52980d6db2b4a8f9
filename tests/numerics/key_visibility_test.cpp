// KeyVisibility::range against hand-computed ranges (both alignments, Lq < Lk, Lq > Lk,
// windows left and right, empty rows) and, exhaustively on small shapes, against the
// definition of key_visibility.hpp written out as a per-key predicate.
#include "numerics/key_visibility.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace attncert {
namespace {

using Index = std::ptrdiff_t;
using Ranges = std::vector<std::pair<Index, Index>>;
constexpr auto kBottomRight = DiagonalAlignment::bottom_right;
constexpr auto kTopLeft = DiagonalAlignment::top_left;

/// Every row's [begin, end), empty ranges normalised to (begin, begin).
Ranges ranges(const KeyVisibility& v, Index Lq, Index Lk) {
  Ranges r;
  for (Index i = 0; i < Lq; ++i) {
    const KeyRange k = v.range(i, Lq, Lk);
    r.emplace_back(k.begin, k.end);
  }
  return r;
}

TEST(KeyVisibility, NoMaskSeesEveryKey) {
  EXPECT_EQ(ranges(KeyVisibility::all(), 3, 5), (Ranges{{0, 5}, {0, 5}, {0, 5}}));
  EXPECT_TRUE(KeyVisibility::all().is_full());
  EXPECT_FALSE(KeyVisibility::causal_mask().is_full());
}

TEST(KeyVisibility, CausalBothAlignmentsFewerQueriesThanKeys) {
  // Lq = 3, Lk = 5: bottom-right diagonal of row i is key i + 2, top-left key i.
  EXPECT_EQ(ranges(KeyVisibility::sliding_window(true, kBottomRight), 3, 5),
            (Ranges{{0, 3}, {0, 4}, {0, 5}}));
  EXPECT_EQ(ranges(KeyVisibility::sliding_window(true, kTopLeft), 3, 5),
            (Ranges{{0, 1}, {0, 2}, {0, 3}}));
}

TEST(KeyVisibility, CausalBothAlignmentsMoreQueriesThanKeys) {
  // Lq = 5, Lk = 3: bottom-right diagonal i − 2, so rows 0 and 1 see nothing (FlashAttention);
  // top-left: torch.tril(ones(5, 3)).
  EXPECT_EQ(ranges(KeyVisibility::sliding_window(true, kBottomRight), 5, 3),
            (Ranges{{0, 0}, {0, 0}, {0, 1}, {0, 2}, {0, 3}}));
  EXPECT_EQ(ranges(KeyVisibility::sliding_window(true, kTopLeft), 5, 3),
            (Ranges{{0, 1}, {0, 2}, {0, 3}, {0, 3}, {0, 3}}));
}

TEST(KeyVisibility, AlignmentsAgreeForSquare) {
  for (Index n : {1, 2, 7})
    EXPECT_EQ(ranges(KeyVisibility::sliding_window(true, kBottomRight, 2, 1), n, n),
              ranges(KeyVisibility::sliding_window(true, kTopLeft, 2, 1), n, n));
}

TEST(KeyVisibility, SlidingWindows) {
  // Causal with window_left 1 (Lq = Lk = 4): keys i − 1 and i.
  EXPECT_EQ(ranges(KeyVisibility::sliding_window(true, kBottomRight, 1), 4, 4),
            (Ranges{{0, 1}, {0, 2}, {1, 3}, {2, 4}}));
  // Window (1, 1), not causal: keys i − 1 … i + 1.
  EXPECT_EQ(ranges(KeyVisibility::sliding_window(false, kTopLeft, 1, 1), 4, 4),
            (Ranges{{0, 2}, {0, 3}, {1, 4}, {2, 4}}));
  // Window left 0 with causal: only the diagonal key.
  EXPECT_EQ(ranges(KeyVisibility::sliding_window(true, kTopLeft, 0), 3, 3),
            (Ranges{{0, 1}, {1, 2}, {2, 3}}));
  // Bottom-right, Lq = 2, Lk = 6, window_left 2 + causal: diagonals 4 and 5.
  EXPECT_EQ(ranges(KeyVisibility::sliding_window(true, kBottomRight, 2), 2, 6),
            (Ranges{{2, 5}, {3, 6}}));
  // Window right 0 alone is causal.
  EXPECT_EQ(ranges(KeyVisibility::sliding_window(false, kTopLeft, std::nullopt, 0), 3, 5),
            ranges(KeyVisibility::sliding_window(true, kTopLeft), 3, 5));
  // Window right 2, not causal, bottom-right Lq = 3, Lk = 5: ends at i + 2 + 3, clamped to 5.
  EXPECT_EQ(ranges(KeyVisibility::sliding_window(false, kBottomRight, std::nullopt, 2), 3, 5),
            (Ranges{{0, 5}, {0, 5}, {0, 5}}));
  // Window right 0 and left 0, top-left, Lq = 5 > Lk = 3: rows 3 and 4 are past the keys.
  EXPECT_EQ(ranges(KeyVisibility::sliding_window(false, kTopLeft, 0, 0), 5, 3),
            (Ranges{{0, 1}, {1, 2}, {2, 3}, {3, 3}, {3, 3}}));
  // Bottom-right window_left 0 with Lq > Lk: rows before the diagonal reaches key 0 are empty.
  EXPECT_EQ(ranges(KeyVisibility::sliding_window(true, kBottomRight, 0), 5, 3),
            (Ranges{{0, 0}, {0, 0}, {0, 1}, {1, 2}, {2, 3}}));
}

TEST(KeyVisibility, NegativeWindowsAreRefused) {
  EXPECT_THROW(KeyVisibility::sliding_window(false, kTopLeft, -1).validate(),
               std::invalid_argument);
  EXPECT_THROW(KeyVisibility::sliding_window(false, kTopLeft, std::nullopt, -3).validate(),
               std::invalid_argument);
  EXPECT_NO_THROW(KeyVisibility::sliding_window(true, kTopLeft, 0, 0).validate());
}

// Windows as large as PTRDIFF_MAX (Python ints) are unbounded windows, not overflowed sums that
// would mask every key.
TEST(KeyVisibility, HugeWindowsMeanUnbounded) {
  constexpr Index kHuge = std::numeric_limits<Index>::max();
  for (const auto a : {kBottomRight, kTopLeft})
    for (const auto [Lq, Lk] : {std::pair<Index, Index>{3, 5}, {5, 3}, {4, 4}}) {
      EXPECT_EQ(ranges(KeyVisibility::sliding_window(false, a, kHuge, kHuge), Lq, Lk),
                ranges(KeyVisibility::sliding_window(false, a), Lq, Lk));
      EXPECT_EQ(ranges(KeyVisibility::sliding_window(true, a, kHuge), Lq, Lk),
                ranges(KeyVisibility::sliding_window(true, a), Lq, Lk));
      EXPECT_EQ(ranges(KeyVisibility::sliding_window(false, a, std::nullopt, kHuge), Lq, Lk),
                ranges(KeyVisibility::sliding_window(false, a), Lq, Lk));
    }
}

// Exhaustive: range(i) is exactly {j : the per-key predicate of the header holds}.
TEST(KeyVisibility, RangeIsTheSetOfKeysTheDefinitionAdmits) {
  const std::vector<std::optional<Index>> windows{std::nullopt, 0, 1, 3};
  int checked = 0;
  for (Index Lq = 1; Lq <= 6; ++Lq)
    for (Index Lk = 1; Lk <= 6; ++Lk)
      for (auto a : {kBottomRight, kTopLeft})
        for (bool causal : {false, true})
          for (auto left : windows)
            for (auto right : windows) {
              const KeyVisibility v = KeyVisibility::sliding_window(causal, a, left, right);
              const Index delta = a == kBottomRight ? Lk - Lq : 0;
              for (Index i = 0; i < Lq; ++i) {
                const KeyRange r = v.range(i, Lq, Lk);
                ASSERT_LE(0, r.begin);
                ASSERT_LE(r.end, Lk);
                for (Index j = 0; j < Lk; ++j) {
                  const bool admitted = (!causal || j <= i + delta) &&
                                        (!left || j >= i + delta - *left) &&
                                        (!right || j <= i + delta + *right);
                  ASSERT_EQ(r.contains(j), admitted)
                      << "Lq " << Lq << " Lk " << Lk << " row " << i << " key " << j;
                }
                ++checked;
              }
            }
  EXPECT_EQ(checked, 21 * 6 * 2 * 2 * 16);  // (Σ Lq) · 6 values of Lk · 2 · 2 · 4 · 4
}

}  // namespace
}  // namespace attncert
