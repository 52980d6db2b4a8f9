// A text as a model reads it, and windows of it for a model with a bounded number of positions: the text's ids
// (without special tokens) cut into consecutive, non-overlapping pieces, each wrapped in the
// tokenizer's single-sequence template (BERT: [CLS] piece [SEP]), so every window is exactly
// `length` ids — what the model sees when a text longer than its positions is read in windows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "models/model_config.hpp"
#include "models/tokenizer.hpp"

namespace attncert::models {

/// A text as a model reads it: its ids without special tokens, and what they say about it.
struct ModelText {
  std::string sha256;                // of the file's bytes
  std::size_t bytes = 0;
  std::vector<TokenId> ids;
  std::size_t distinct = 0, unknown = 0;  // distinct ids; ids of the tokenizer's unknown token
};

/// The least number of distinct tokens read_model_text accepts as prose.
inline constexpr std::size_t kMinDistinctTextTokens = 16;

/// Reads `text_path` (UTF-8, at most 64 MiB) with the tokenizer of a model whose config is
/// `config`. One-line refusals naming the file: a directory, unreadable, empty or blank, invalid
/// UTF-8; a tokenizer of the other family (WordPiece for BERT, byte-level BPE for GPT-2); an id
/// outside the model's vocabulary; and a text that is not prose — fewer than
/// kMinDistinctTextTokens distinct ids or more than half unknown ones — on which every statistic
/// would describe the model's reaction to repetition.
ModelText read_model_text(const std::filesystem::path& text_path, const Tokenizer& tokenizer,
                          const ModelConfig& config);

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
