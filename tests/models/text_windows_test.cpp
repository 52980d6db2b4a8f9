// Windows of a long text (models/text_windows.hpp): exact lengths, the template around each
// piece, pieces spread over the text without overlap, and one-line refusals.
#include "models/text_windows.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

namespace attncert::models {
namespace {

std::vector<TokenId> counting(std::size_t n) {
  std::vector<TokenId> ids(n);
  std::iota(ids.begin(), ids.end(), 100);
  return ids;
}

const SingleSequenceTemplate kBert{{2}, {3}};  // [CLS] … [SEP]

TEST(TextWindows, EachWindowIsTheTemplateAroundConsecutiveTextIds) {
  // 100 text ids, windows of 10 = [CLS] + 8 ids + [SEP]: 12 pieces; 3 asked for → pieces 0, 4, 8.
  const std::vector<TextWindow> w = text_windows(counting(100), kBert, 10, 512, 3);
  ASSERT_EQ(w.size(), 3u);
  const std::size_t firsts[] = {0, 32, 64};
  for (std::size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(w[k].first_token, firsts[k]);
    ASSERT_EQ(w[k].ids.size(), 10u);
    EXPECT_EQ(w[k].ids.front(), 2);
    EXPECT_EQ(w[k].ids.back(), 3);
    for (std::size_t i = 0; i < 8; ++i) EXPECT_EQ(w[k].ids[1 + i], 100 + static_cast<long>(firsts[k] + i));
  }
}

TEST(TextWindows, NoTemplateAndFewerPiecesThanAskedForGiveAllPieces) {
  const std::vector<TextWindow> w = text_windows(counting(25), SingleSequenceTemplate{}, 8, 8, 10);
  ASSERT_EQ(w.size(), 3u);  // 25 / 8 pieces; the last 1 id is not a window
  for (std::size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(w[k].first_token, 8 * k);
    EXPECT_EQ(w[k].ids.size(), 8u);
    EXPECT_EQ(w[k].ids.front(), 100 + static_cast<long>(8 * k));
  }
}

void expect_refused(const std::function<void()>& call, const std::string& part) {
  try {
    call();
    ADD_FAILURE() << "not refused: " << part;
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(part), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

TEST(TextWindows, RefusesWindowsTheModelOrTextCannotHold) {
  expect_refused([] { text_windows(counting(5000), kBert, 1024, 512, 1); },
                 "a window of 1024 tokens exceeds the model's 512 positions");
  expect_refused([] { text_windows(counting(50), kBert, 2, 512, 1); }, "leaves no room for text");
  expect_refused([] { text_windows(counting(7), kBert, 10, 512, 1); },
                 "the text has 7 tokens, fewer than one window of 10");
  expect_refused([] { text_windows({}, kBert, 10, 512, 1); }, "the text has 0 tokens");
  expect_refused([] { text_windows(counting(50), kBert, 10, 512, 0); }, "must be >= 1");
}

}  // namespace
}  // namespace attncert::models
