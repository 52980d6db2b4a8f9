#include "models/tokenizer.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "models/byte_level_bpe.hpp"
#include "models/tokenizer_json.hpp"
#include "models/unicode.hpp"
#include "models/word_piece.hpp"

namespace attncert::models {

Tokenizer::Tokenizer(std::string source, const std::unordered_map<std::string, TokenId>& vocab,
                     std::vector<AddedToken> added_tokens, SingleSequenceTemplate single_template)
    : source_(std::move(source)),
      token_to_id_(vocab),
      added_tokens_(std::move(added_tokens)),
      single_template_(std::move(single_template)) {
  TokenId largest = 0;
  for (const auto& [token, id] : vocab) largest = std::max(largest, id);
  for (const AddedToken& added : added_tokens_) largest = std::max(largest, added.id);
  id_to_token_.resize(static_cast<std::size_t>(largest) + 1);
  for (const auto& [token, id] : vocab) id_to_token_[static_cast<std::size_t>(id)] = token;
  for (const AddedToken& added : added_tokens_) {
    std::string text = unicode::encode_utf8(added.content);
    id_to_token_[static_cast<std::size_t>(added.id)] = text;
    token_to_id_.emplace(std::move(text), added.id);
  }
  auto check = [&](const std::vector<TokenId>& ids) {
    for (TokenId id : ids) {
      if (id < 0 || static_cast<std::size_t>(id) >= id_to_token_.size()) {
        throw std::runtime_error(fmt::format(
            "{}: field post_processor: special token id {} is outside the vocabulary (size {})",
            source_, id, id_to_token_.size()));
      }
    }
  };
  check(single_template_.prefix);
  check(single_template_.suffix);
}

const std::string& Tokenizer::token(TokenId id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= id_to_token_.size()) {
    throw std::out_of_range(fmt::format("{}: token id {} is outside the vocabulary (size {})",
                                        source_, id, id_to_token_.size()));
  }
  return id_to_token_[static_cast<std::size_t>(id)];
}

std::optional<TokenId> Tokenizer::token_id(std::string_view token) const {
  auto it = token_to_id_.find(std::string(token));
  if (it == token_to_id_.end()) return std::nullopt;
  return it->second;
}

void Tokenizer::encode_body(std::string_view utf8_text, std::vector<TokenId>& ids) const {
  const std::u32string text = unicode::decode_utf8(utf8_text);
  const std::u32string_view view(text);
  // Added tokens split the raw text first: at each position the longest added token that
  // starts there wins, and the leftmost start wins over later ones (the reference's
  // leftmost-longest matching).
  std::size_t segment_start = 0;
  for (std::size_t i = 0; i < view.size();) {
    const AddedToken* best = nullptr;
    for (const AddedToken& added : added_tokens_) {
      if (added.content.size() <= view.size() - i && added.content[0] == view[i] &&
          view.substr(i, added.content.size()) == added.content &&
          (best == nullptr || added.content.size() > best->content.size())) {
        best = &added;
      }
    }
    if (best == nullptr) {
      ++i;
      continue;
    }
    if (i > segment_start) encode_segment(view.substr(segment_start, i - segment_start), ids);
    ids.push_back(best->id);
    i += best->content.size();
    segment_start = i;
  }
  if (segment_start < view.size()) encode_segment(view.substr(segment_start), ids);
}

std::vector<TokenId> Tokenizer::encode(std::string_view utf8_text) const {
  std::vector<TokenId> ids(single_template_.prefix);
  encode_body(utf8_text, ids);
  ids.insert(ids.end(), single_template_.suffix.begin(), single_template_.suffix.end());
  return ids;
}

std::vector<TokenId> Tokenizer::encode_without_special_tokens(std::string_view utf8_text) const {
  std::vector<TokenId> ids;
  encode_body(utf8_text, ids);
  return ids;
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& tokenizer_json) {
  tokenizer_json::File file;
  file.path = tokenizer_json.string();
  std::error_code ec;
  if (std::filesystem::is_directory(tokenizer_json, ec)) {
    throw std::runtime_error(
        fmt::format("{}: is a directory, expected a tokenizer.json file", file.path));
  }
  // Real tokenizer.json files are a few MB; a bound keeps a wrong path from being read whole.
  constexpr std::uintmax_t kMaxTokenizerBytes = std::uintmax_t{256} << 20;
  if (const std::uintmax_t size = std::filesystem::file_size(tokenizer_json, ec);
      !ec && size > kMaxTokenizerBytes) {
    throw std::runtime_error(fmt::format(
        "{}: {} bytes, larger than any tokenizer.json (limit 256 MiB)", file.path, size));
  }
  std::ifstream in(tokenizer_json, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open the tokenizer file", file.path));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  try {
    file.root = tokenizer_json::json::parse(buffer.str());
  } catch (const tokenizer_json::json::parse_error& e) {
    // nlohmann's message names the byte; keep its first line only.
    std::string what = e.what();
    what = what.substr(0, what.find('\n'));
    throw std::runtime_error(fmt::format("{}: not valid JSON: {}", file.path, what));
  }
  if (!file.root.is_object()) {
    throw std::runtime_error(
        fmt::format("{}: not a tokenizer.json (top level is not an object)", file.path));
  }
  const tokenizer_json::json& model = file.require(file.root, "model", "model");
  const std::string type = file.require_string(model, "type", "model.type");
  if (type == "WordPiece") return WordPieceTokenizer::from_file(file);
  if (type == "BPE") return ByteLevelBpeTokenizer::from_file(file);
  file.fail("model.type", fmt::format("unsupported model type {} (supported: WordPiece, BPE)",
                                      tokenizer_json::shown(type)));
}

}  // namespace attncert::models
