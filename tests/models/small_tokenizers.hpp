// Small tokenizer.json documents for tests: written here, so every expected id can be worked out
// by hand (tests/models) and a tiny random model can read text (tests/reports/model_study_test).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "models/byte_level_bpe.hpp"
#include "models/tokenizer.hpp"
#include "models/unicode.hpp"

namespace attncert::models {

/// A byte-level BPE tokenizer: the 256 bytes as GPT-2's alphabet (ids 0–255), merges "a b" →
/// "ab", "ab c" → "abc", "Ġ a" → "Ġa", "b c" → "bc" (256–259) and <|endoftext|> (260).
inline nlohmann::json small_bpe() {
  nlohmann::json vocab = nlohmann::json::object();
  TokenId next = 0;
  for (unsigned b = 0; b < 256; ++b) {
    std::string symbol;
    unicode::append_utf8(byte_to_unicode(static_cast<unsigned char>(b)), symbol);
    vocab[symbol] = next++;
  }
  vocab["ab"] = next++;             // 256
  vocab["abc"] = next++;            // 257
  vocab["Ġa"] = next++;             // 258
  vocab["bc"] = next++;             // 259
  vocab["<|endoftext|>"] = next++;  // 260
  return {
      {"added_tokens",
       {{{"id", 260},
         {"content", "<|endoftext|>"},
         {"single_word", false},
         {"lstrip", false},
         {"rstrip", false},
         {"normalized", true},
         {"special", true}}}},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "ByteLevel"},
        {"add_prefix_space", false},
        {"trim_offsets", true},
        {"use_regex", true}}},
      {"post_processor", nullptr},
      {"model",
       {{"type", "BPE"},
        {"dropout", nullptr},
        {"unk_token", nullptr},
        {"vocab", vocab},
        {"merges", {"a b", "Ġ a", "ab c", "b c"}}}},
  };
}

/// A lower-casing WordPiece tokenizer whose vocabulary is [PAD] 0, [UNK] 1, [CLS] 2, [SEP] 3, the
/// letters a–z (4–29), their continuations ##a–##z (30–55) and ". , ;" (56–58): every lower-case
/// word splits into letters, and ids stay below 59 (tiny test models have small vocabularies).
inline nlohmann::json letters_word_piece() {
  nlohmann::json vocab = nlohmann::json::object();
  TokenId next = 0;
  for (const char* t : {"[PAD]", "[UNK]", "[CLS]", "[SEP]"}) vocab[t] = next++;
  for (char c = 'a'; c <= 'z'; ++c) vocab[std::string(1, c)] = next++;
  for (char c = 'a'; c <= 'z'; ++c) vocab["##" + std::string(1, c)] = next++;
  for (const char* t : {".", ",", ";"}) vocab[t] = next++;
  return {
      {"normalizer",
       {{"type", "BertNormalizer"}, {"clean_text", true}, {"handle_chinese_chars", true},
        {"strip_accents", nullptr}, {"lowercase", true}}},
      {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
      {"post_processor", {{"type", "BertProcessing"}, {"cls", {"[CLS]", 2}}, {"sep", {"[SEP]", 3}}}},
      {"model",
       {{"type", "WordPiece"},
        {"unk_token", "[UNK]"},
        {"continuing_subword_prefix", "##"},
        {"max_input_chars_per_word", 100},
        {"vocab", vocab}}},
  };
}

}  // namespace attncert::models
