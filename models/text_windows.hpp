// Windows of a long text for a model with a bounded number of positions: the text's ids
// (without special tokens) cut into consecutive, non-overlapping pieces, each wrapped in the
// tokenizer's single-sequence template (BERT: [CLS] piece [SEP]), so every window is exactly
// `length` ids — what the model sees when a text longer than its positions is read in windows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "models/tokenizer.hpp"

namespace attncert::models {

struct TextWindow {
  std::size_t first_token = 0;  // index of the window's first text id in the text's ids
  std::vector<std::int64_t> ids;  // template prefix, the piece, template suffix: `length` ids
};

/// Up to `count` windows of exactly `length` ids, spread evenly over the text (the first at its
/// start; when the text holds fewer than `count` pieces, all of them). `text_ids` are the
/// text's ids without special tokens (Tokenizer::encode_without_special_tokens). Throws
/// std::invalid_argument (one line) when length exceeds max_positions, leaves no room for text
/// inside the template, or the text is shorter than one window; count must be >= 1.
std::vector<TextWindow> text_windows(const std::vector<TokenId>& text_ids,
                                     const SingleSequenceTemplate& single_template,
                                     std::size_t length, std::size_t max_positions,
                                     std::size_t count);

}  // namespace attncert::models
