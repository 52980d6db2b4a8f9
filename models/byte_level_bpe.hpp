// The GPT-2 tokenizer of a tokenizer.json: ByteLevel pre-tokenizer (GPT-2's split regex
// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+, then every byte
// mapped to GPT-2's printable byte→unicode alphabet) and the BPE model (merges applied by rank,
// lowest first, leftmost among equals). No normalizer; dropout, byte fallback, unk fusing and
// subword prefixes/suffixes are refused.
#pragma once

#include <memory>
#include <string>

#include "models/tokenizer.hpp"

namespace attncert::models {

namespace tokenizer_json {
struct File;
}

class ByteLevelBpeTokenizer final : public Tokenizer {
 public:
  /// Built from a file whose model.type is "BPE"; called by load_tokenizer.
  static std::unique_ptr<ByteLevelBpeTokenizer> from_file(const tokenizer_json::File& file);

  std::string_view model_type() const override { return "BPE"; }
  /// The bytes a token stands for (the inverse of the byte→unicode alphabet).
  std::string token_bytes(TokenId id) const;
  /// GPT-2's regex split of a text (for tests): the pieces, in order.
  static std::vector<std::u32string_view> split_pieces(std::u32string_view text);

  ~ByteLevelBpeTokenizer() override;

 protected:
  void encode_segment(std::u32string_view text, std::vector<TokenId>& ids) const override;

 private:
  struct Parts;
  ByteLevelBpeTokenizer(std::string source, const std::unordered_map<std::string, TokenId>& vocab,
                        std::vector<AddedToken> added, SingleSequenceTemplate single_template,
                        std::unique_ptr<const Parts> parts);
  void encode_piece(std::u32string_view piece, std::vector<TokenId>& ids) const;

  std::unique_ptr<const Parts> parts_;
};

/// GPT-2's byte→unicode alphabet: the printable bytes stand for themselves, the others (0–32,
/// 127–160, 173) for U+0100 upwards in byte order.
char32_t byte_to_unicode(unsigned char byte);

}  // namespace attncert::models
