#include "models/tokenizer_json.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "models/unicode.hpp"

namespace attncert::models::tokenizer_json {
namespace {

// Ids index a table of token strings: a bound keeps a corrupt id from allocating gigabytes. The
// largest real vocabularies hold a few hundred thousand tokens.
constexpr std::int64_t kTokenIdLimit = std::int64_t{1} << 24;

}  // namespace

std::string shown(const json& value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  constexpr std::size_t kMaxShown = 80;  // a message stays one readable line
  if (text.size() > kMaxShown) text = text.substr(0, kMaxShown) + "…";
  return text;
}

void File::fail(std::string_view field, std::string_view what) const {
  throw std::runtime_error(fmt::format("{}: field {}: {}", path, field, what));
}

const json& File::require(const json& object, std::string_view key, std::string_view field) const {
  if (!object.is_object()) fail(field, "its parent is not a JSON object");
  auto it = object.find(key);
  if (it == object.end()) fail(field, "missing");
  return *it;
}

std::string File::require_string(const json& object, std::string_view key,
                                 std::string_view field) const {
  const json& value = require(object, key, field);
  if (!value.is_string()) fail(field, fmt::format("expected a string, found {}", shown(value)));
  return value.get<std::string>();
}

const json* File::optional(const json& object, std::string_view key) const {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

std::string File::piece_type(std::string_view piece) const {
  const json* value = optional(root, piece);
  if (value == nullptr) return "";
  return require_string(*value, "type", fmt::format("{}.type", piece));
}

std::unordered_map<std::string, TokenId> File::vocab() const {
  const json& model = require(root, "model", "model");
  const json& vocab = require(model, "vocab", "model.vocab");
  if (!vocab.is_object()) fail("model.vocab", "expected an object of token → id");
  std::unordered_map<std::string, TokenId> out;
  out.reserve(vocab.size());
  // Two tokens with one id make the file lie about which token an id is (decoding, and the
  // reference's id → token table, would pick one silently).
  std::unordered_map<TokenId, std::string> token_of_id;
  token_of_id.reserve(vocab.size());
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<std::int64_t>() < 0 ||
        it.value().get<std::int64_t>() >= kTokenIdLimit) {
      fail(fmt::format("model.vocab[{}]", shown(it.key())),
           fmt::format("id {} is not an integer in [0, 2^24)", shown(it.value())));
    }
    const auto id = it.value().get<TokenId>();
    if (const auto [other, fresh] = token_of_id.emplace(id, it.key()); !fresh) {
      fail(fmt::format("model.vocab[{}]", shown(it.key())),
           fmt::format("id {} is also the id of {}", id, shown(other->second)));
    }
    out.emplace(it.key(), id);
  }
  if (out.empty()) fail("model.vocab", "empty");
  return out;
}

std::vector<AddedToken> File::added_tokens(bool has_normalizer) const {
  std::vector<AddedToken> out;
  const json* list = optional(root, "added_tokens");
  if (list == nullptr) return out;
  if (!list->is_array()) fail("added_tokens", "expected an array");
  for (std::size_t i = 0; i < list->size(); ++i) {
    const json& entry = (*list)[i];
    const std::string field = fmt::format("added_tokens[{}]", i);
    AddedToken token;
    const std::string content = require_string(entry, "content", field + ".content");
    if (content.empty()) fail(field + ".content", "empty");
    token.content = unicode::decode_utf8(content, fmt::format("{}: field {}.content", path, field));
    const json& id = require(entry, "id", field + ".id");
    if (!id.is_number_integer() || id.get<std::int64_t>() < 0 ||
        id.get<std::int64_t>() >= kTokenIdLimit) {
      fail(field + ".id", fmt::format("{} is not an integer in [0, 2^24)", shown(id)));
    }
    token.id = id.get<TokenId>();
    // Options that change where a token matches: not implemented, so refused rather than ignored.
    for (const char* flag : {"single_word", "lstrip", "rstrip"}) {
      const json* value = optional(entry, flag);
      if (value != nullptr && (!value->is_boolean() || value->get<bool>())) {
        fail(fmt::format("{}.{}", field, flag),
             fmt::format("{} is not supported (only false)", shown(*value)));
      }
    }
    // A "normalized" token matches in the normalised text; with no normaliser that is the raw
    // text, which is where we match. With a normaliser it would need a second pass: refused.
    const json* normalized = optional(entry, "normalized");
    if (has_normalizer && normalized != nullptr && normalized->is_boolean() &&
        normalized->get<bool>()) {
      fail(field + ".normalized",
           "true with a normalizer is not supported (the token would match normalised text)");
    }
    out.push_back(std::move(token));
  }
  return out;
}

SingleSequenceTemplate File::single_template(
    const std::unordered_map<std::string, TokenId>& vocab) const {
  SingleSequenceTemplate out;
  const std::string type = piece_type("post_processor");
  if (type.empty() || type == "ByteLevel") return out;  // ByteLevel only trims offsets
  const json& processor = root["post_processor"];
  auto id_of_pair = [&](std::string_view key) {  // BertProcessing's ["[CLS]", 101]
    const std::string field = fmt::format("post_processor.{}", key);
    const json& pair = require(processor, key, field);
    if (!pair.is_array() || pair.size() != 2 || !pair[1].is_number_integer() ||
        pair[1].get<std::int64_t>() < 0 || pair[1].get<std::int64_t>() >= kTokenIdLimit) {
      fail(field, fmt::format("expected [token, id] with an id in [0, 2^24), found {}",
                              shown(pair)));
    }
    return pair[1].get<TokenId>();
  };
  if (type == "BertProcessing") {
    out.prefix.push_back(id_of_pair("cls"));
    out.suffix.push_back(id_of_pair("sep"));
    return out;
  }
  if (type != "TemplateProcessing") {
    fail("post_processor.type",
         fmt::format("unsupported post-processor {} (supported: TemplateProcessing, "
                     "BertProcessing, ByteLevel, null)",
                     shown(type)));
  }
  const json& single = require(processor, "single", "post_processor.single");
  if (!single.is_array()) fail("post_processor.single", "expected an array");
  const json* specials = optional(processor, "special_tokens");
  bool seen_sequence = false;
  for (std::size_t i = 0; i < single.size(); ++i) {
    const std::string field = fmt::format("post_processor.single[{}]", i);
    const json& piece = single[i];
    if (const json* sequence = optional(piece, "Sequence")) {
      const std::string id = require_string(*sequence, "id", field + ".Sequence.id");
      if (id != "A" || seen_sequence) {
        fail(field,
             fmt::format("a single-sequence template holds $A once, found {}", shown(piece)));
      }
      seen_sequence = true;
      continue;
    }
    const json* special = optional(piece, "SpecialToken");
    if (special == nullptr) fail(field, fmt::format("unsupported piece {}", shown(piece)));
    const std::string name = require_string(*special, "id", field + ".SpecialToken.id");
    std::vector<TokenId>& target = seen_sequence ? out.suffix : out.prefix;
    // The special token's ids come from special_tokens, as the reference does; its vocab id
    // when special_tokens does not list it.
    const json* entry = specials != nullptr ? optional(*specials, name) : nullptr;
    if (entry != nullptr) {
      const json& ids =
          require(*entry, "ids", fmt::format("post_processor.special_tokens[{}].ids", shown(name)));
      if (!ids.is_array()) {
        fail(fmt::format("post_processor.special_tokens[{}].ids", shown(name)),
             "expected an array of ids");
      }
      for (const json& id : ids) {
        if (!id.is_number_integer() || id.get<std::int64_t>() < 0 ||
            id.get<std::int64_t>() >= kTokenIdLimit) {
          fail(fmt::format("post_processor.special_tokens[{}].ids", shown(name)),
               fmt::format("{} is not a token id", shown(id)));
        }
        target.push_back(id.get<TokenId>());
      }
    } else if (auto it = vocab.find(name); it != vocab.end()) {
      target.push_back(it->second);
    } else {
      fail(field, fmt::format("special token {} is neither in special_tokens nor in the vocab",
                              shown(name)));
    }
  }
  if (!seen_sequence) fail("post_processor.single", "no $A in the template");
  return out;
}

}  // namespace attncert::models::tokenizer_json
