// Reading tokenizer.json's fields with one-line errors that name the file and the field.
// Internal to the tokenizer sources (models/tokenizer.cpp, word_piece.cpp, byte_level_bpe.cpp):
// nlohmann::json never appears in a public header.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>

#include "models/tokenizer.hpp"

namespace attncert::models::tokenizer_json {

using json = nlohmann::json;

/// The parsed file and its path, for messages.
struct File {
  std::string path;
  json root;

  /// Throws std::runtime_error "PATH: field FIELD: WHAT".
  [[noreturn]] void fail(std::string_view field, std::string_view what) const;
  /// object[key], which must exist; field is the dotted path of object[key] for messages.
  const json& require(const json& object, std::string_view key, std::string_view field) const;
  std::string require_string(const json& object, std::string_view key,
                             std::string_view field) const;
  /// object[key] if present and not null.
  const json* optional(const json& object, std::string_view key) const;
  /// The "type" of a pipeline piece (normalizer, pre_tokenizer, …), or "" when the piece is null
  /// or absent.
  std::string piece_type(std::string_view piece) const;
  /// model.vocab as token → id (ids must be non-negative and below 2^24).
  std::unordered_map<std::string, TokenId> vocab() const;
  /// The added tokens; refuses options this reader does not implement.
  std::vector<AddedToken> added_tokens(bool has_normalizer) const;
  /// The post-processor's special tokens around a single sequence.
  SingleSequenceTemplate single_template(
      const std::unordered_map<std::string, TokenId>& vocab) const;
};

/// A JSON value quoted for a one-line message (control characters escaped, long ones cut).
std::string shown(const json& value);

}  // namespace attncert::models::tokenizer_json
