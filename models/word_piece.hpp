// The BERT tokenizer of a tokenizer.json: BertNormalizer (clean_text, handle_chinese_chars,
// strip_accents — null follows lowercase —, lowercase), BertPreTokenizer (split on White_Space,
// punctuation characters alone) and the WordPiece model (greedy longest match, continuation
// prefix "##", a word longer than max_input_chars_per_word becomes unk_token).
#pragma once

#include <memory>

#include "models/tokenizer.hpp"

namespace attncert::models {

namespace tokenizer_json {
struct File;
}

class WordPieceTokenizer final : public Tokenizer {
 public:
  /// Built from a file whose model.type is "WordPiece"; called by load_tokenizer.
  static std::unique_ptr<WordPieceTokenizer> from_file(const tokenizer_json::File& file);

  std::string_view model_type() const override { return "WordPiece"; }
  std::optional<TokenId> unknown_id() const override;
  /// The normaliser alone (for tests): UTF-32 in, UTF-32 out.
  std::u32string normalize(std::u32string_view text) const;

 protected:
  void encode_segment(std::u32string_view text, std::vector<TokenId>& ids) const override;

 private:
  struct Parts;
  WordPieceTokenizer(std::string source, const std::unordered_map<std::string, TokenId>& vocab,
                     std::vector<AddedToken> added, SingleSequenceTemplate single_template,
                     std::unique_ptr<const Parts> parts);
  void encode_word(std::u32string_view word, std::vector<TokenId>& ids) const;

  std::unique_ptr<const Parts> parts_;

 public:
  ~WordPieceTokenizer() override;
};

}  // namespace attncert::models
