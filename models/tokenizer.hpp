// Tokenizers read from a Hugging Face tokenizer.json: text → token ids, id → token string.
//
// Two model families are supported, each with exactly the pipeline pieces its models use, and
// anything else in the file is refused with one line naming the file and the field:
//   - WordPiece (BERT): BertNormalizer, BertPreTokenizer, WordPiece model (models/word_piece.hpp);
//   - byte-level BPE (GPT-2): ByteLevel pre-tokenizer with GPT-2's regex, BPE merges by rank
//     (models/byte_level_bpe.hpp).
// Common to both: added tokens (e.g. "[MASK]", "<|endoftext|>") are matched in the raw text
// before normalisation, leftmost-longest, like the reference; the post-processor
// (TemplateProcessing, BertProcessing, ByteLevel or none) adds the single-sequence special tokens.
//
// The file's own "truncation" and "padding" are NOT applied: encode() returns the ids of the
// whole text (all-MiniLM-L6-v2's file would otherwise cut every text to 128 ids and pad short
// ones). Splitting a long text into windows that fit the model's positions is the caller's job.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace attncert::models {

using TokenId = std::int32_t;

/// A token of tokenizer.json's "added_tokens", matched in the raw text before the model runs.
struct AddedToken {
  std::u32string content;
  TokenId id = 0;
};

/// Special tokens the post-processor puts around a single sequence: prefix ids, the text, suffix.
struct SingleSequenceTemplate {
  std::vector<TokenId> prefix, suffix;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  /// Ids of the whole UTF-8 text, special tokens of the post-processor included. Invalid UTF-8
  /// throws std::invalid_argument naming the byte offset.
  std::vector<TokenId> encode(std::string_view utf8_text) const;
  /// The same without the post-processor's special tokens.
  std::vector<TokenId> encode_without_special_tokens(std::string_view utf8_text) const;

  /// The vocabulary's string for an id (byte-level BPE: in GPT-2's byte→unicode alphabet, e.g.
  /// "Ġthe"). Throws std::out_of_range for an id outside the vocabulary.
  const std::string& token(TokenId id) const;
  std::optional<TokenId> token_id(std::string_view token) const;
  /// One more than the largest id (ids the file leaves unused have an empty token string).
  std::size_t vocab_size() const { return id_to_token_.size(); }
  /// "WordPiece" or "BPE", as tokenizer.json's model.type.
  virtual std::string_view model_type() const = 0;
  /// The id text outside the vocabulary becomes (WordPiece's unk_token); none for byte-level
  /// BPE, which covers every byte.
  virtual std::optional<TokenId> unknown_id() const { return std::nullopt; }
  /// The tokenizer.json path it was read from.
  const std::string& source() const { return source_; }
  /// The special tokens encode() puts around a text (BERT: [CLS] … [SEP]; GPT-2: none).
  const SingleSequenceTemplate& single_template() const { return single_template_; }

 protected:
  Tokenizer(std::string source, const std::unordered_map<std::string, TokenId>& vocab,
            std::vector<AddedToken> added_tokens, SingleSequenceTemplate single_template);
  /// The model's ids for a piece of text that holds no added token (normalise, pre-tokenise,
  /// run the model), appended to ids.
  virtual void encode_segment(std::u32string_view text, std::vector<TokenId>& ids) const = 0;

 private:
  void encode_body(std::string_view utf8_text, std::vector<TokenId>& ids) const;

  std::string source_;
  std::vector<std::string> id_to_token_;
  std::unordered_map<std::string, TokenId> token_to_id_;
  std::vector<AddedToken> added_tokens_;
  SingleSequenceTemplate single_template_;
};

/// Reads a tokenizer.json. Anything unreadable, malformed or unsupported throws
/// std::runtime_error with one line: "PATH: field FIELD: problem".
std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& tokenizer_json);

}  // namespace attncert::models
