#include "models/word_piece.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "models/tokenizer_json.hpp"
#include "models/unicode.hpp"

namespace attncert::models {
namespace {

// Heterogeneous lookup: substrings of a word are looked up without building a std::string.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using VocabMap = std::unordered_map<std::string, TokenId, StringHash, std::equal_to<>>;

// The BERT normalizer's ranges of "Chinese" characters (CJK ideographs; not Hangul or kana),
// exactly as the reference lists them.
bool is_chinese_char(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// Mn, P and "other" as the reference's BERT pieces see them: their tables are Unicode 8.0, so a
// character assigned later is none of these (models/unicode.hpp, kAssignedByUnicode8).
bool has_unicode_8_class(char32_t c, unicode::CharFlag flag) {
  const std::uint8_t flags = unicode::char_flags(c);
  return (flags & flag) != 0 && (flags & unicode::kAssignedByUnicode8) != 0;
}

// The pre-tokenizer's punctuation: ASCII punctuation (which includes symbols such as $ + < = >
// ^ ` | ~) or a character of general category P.
bool is_bert_punctuation(char32_t c) {
  if (c < 128) {
    return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
           (c >= 123 && c <= 126);
  }
  return has_unicode_8_class(c, unicode::kPunctuation);
}

bool bool_option(const tokenizer_json::File& file, const tokenizer_json::json& object,
                 std::string_view key, bool default_value) {
  const tokenizer_json::json* value = file.optional(object, key);
  if (value == nullptr) return default_value;
  if (!value->is_boolean()) {
    file.fail(fmt::format("normalizer.{}", key),
              fmt::format("expected true, false or null, found {}", tokenizer_json::shown(*value)));
  }
  return value->get<bool>();
}

}  // namespace

struct WordPieceTokenizer::Parts {
  bool normalize = false;
  bool clean_text = true, handle_chinese_chars = true, strip_accents = true, lowercase = true;
  VocabMap word_start;    // every token
  VocabMap continuation;  // tokens that begin with the prefix, keyed without it
  TokenId unk_id = 0;
  std::size_t max_input_chars_per_word = 100;
};

std::optional<TokenId> WordPieceTokenizer::unknown_id() const { return parts_->unk_id; }

WordPieceTokenizer::WordPieceTokenizer(std::string source,
                                       const std::unordered_map<std::string, TokenId>& vocab,
                                       std::vector<AddedToken> added,
                                       SingleSequenceTemplate single_template,
                                       std::unique_ptr<const Parts> parts)
    : Tokenizer(std::move(source), vocab, std::move(added), std::move(single_template)),
      parts_(std::move(parts)) {}

WordPieceTokenizer::~WordPieceTokenizer() = default;

std::unique_ptr<WordPieceTokenizer> WordPieceTokenizer::from_file(
    const tokenizer_json::File& file) {
  using tokenizer_json::shown;
  auto parts = std::make_unique<Parts>();
  const std::string normalizer = file.piece_type("normalizer");
  if (!normalizer.empty()) {
    if (normalizer != "BertNormalizer") {
      file.fail("normalizer.type",
                fmt::format("unsupported normalizer {} for WordPiece (supported: BertNormalizer, "
                            "null)",
                            shown(normalizer)));
    }
    const tokenizer_json::json& options = file.root["normalizer"];
    parts->normalize = true;
    parts->clean_text = bool_option(file, options, "clean_text", true);
    parts->handle_chinese_chars = bool_option(file, options, "handle_chinese_chars", true);
    parts->lowercase = bool_option(file, options, "lowercase", true);
    // null means "strip accents when lower-casing" (the reference's rule).
    parts->strip_accents = bool_option(file, options, "strip_accents", parts->lowercase);
  }
  const std::string pre_tokenizer = file.piece_type("pre_tokenizer");
  if (pre_tokenizer != "BertPreTokenizer") {
    file.fail("pre_tokenizer.type",
              fmt::format("unsupported pre-tokenizer {} for WordPiece (supported: "
                          "BertPreTokenizer)",
                          shown(pre_tokenizer.empty() ? "null" : pre_tokenizer)));
  }
  const tokenizer_json::json& model = file.root["model"];
  const std::unordered_map<std::string, TokenId> vocab = file.vocab();
  const std::string prefix = file.optional(model, "continuing_subword_prefix") == nullptr
                                 ? std::string("##")
                                 : file.require_string(model, "continuing_subword_prefix",
                                                       "model.continuing_subword_prefix");
  for (const auto& [token, id] : vocab) {
    parts->word_start.emplace(token, id);
    if (!prefix.empty() && token.size() > prefix.size() && token.starts_with(prefix)) {
      parts->continuation.emplace(token.substr(prefix.size()), id);
    }
  }
  const std::string unk = file.require_string(model, "unk_token", "model.unk_token");
  auto unk_it = vocab.find(unk);
  if (unk_it == vocab.end()) {
    file.fail("model.unk_token", fmt::format("{} is not in model.vocab", shown(unk)));
  }
  parts->unk_id = unk_it->second;
  if (const tokenizer_json::json* max = file.optional(model, "max_input_chars_per_word")) {
    if (!max->is_number_unsigned()) {
      file.fail("model.max_input_chars_per_word",
                fmt::format("expected a non-negative integer, found {}", shown(*max)));
    }
    parts->max_input_chars_per_word = max->get<std::size_t>();
  }
  // Read before parts is moved: argument evaluation order is unspecified.
  std::vector<AddedToken> added = file.added_tokens(parts->normalize);
  SingleSequenceTemplate single_template = file.single_template(vocab);
  return std::unique_ptr<WordPieceTokenizer>(new WordPieceTokenizer(
      file.path, vocab, std::move(added), std::move(single_template), std::move(parts)));
}

std::u32string WordPieceTokenizer::normalize(std::u32string_view text) const {
  const Parts& p = *parts_;
  if (!p.normalize) return std::u32string(text);
  std::u32string cleaned;
  cleaned.reserve(text.size() + text.size() / 8);
  for (char32_t c : text) {
    if (p.clean_text) {
      const bool tab_or_newline = c == U'\t' || c == U'\n' || c == U'\r';
      if (c == 0 || c == 0xFFFD || (!tab_or_newline && has_unicode_8_class(c, unicode::kOther))) {
        continue;
      }
      if (tab_or_newline || unicode::is_white_space(c)) c = U' ';
    }
    if (p.handle_chinese_chars && is_chinese_char(c)) {
      cleaned.push_back(U' ');
      cleaned.push_back(c);
      cleaned.push_back(U' ');
    } else {
      cleaned.push_back(c);
    }
  }
  if (p.strip_accents) {  // NFD, then drop the nonspacing marks
    std::u32string decomposed;
    decomposed.reserve(cleaned.size());
    unicode::append_nfd(cleaned, decomposed);
    cleaned.clear();
    for (char32_t c : decomposed) {
      if (!has_unicode_8_class(c, unicode::kNonspacingMark)) cleaned.push_back(c);
    }
  }
  if (!p.lowercase) return cleaned;
  std::u32string lowered;  // after accent stripping, as the reference orders them
  lowered.reserve(cleaned.size());
  for (char32_t c : cleaned) unicode::append_lowercase(c, lowered);
  return lowered;
}

void WordPieceTokenizer::encode_segment(std::u32string_view text, std::vector<TokenId>& ids) const {
  const std::u32string normalized = normalize(text);
  // BertPreTokenizer: White_Space separates words; each punctuation character is a word.
  std::size_t word_start = 0;
  for (std::size_t i = 0; i < normalized.size(); ++i) {
    const char32_t c = normalized[i];
    const bool space = unicode::is_white_space(c);
    if (space || is_bert_punctuation(c)) {
      if (i > word_start)
        encode_word(std::u32string_view(normalized).substr(word_start, i - word_start), ids);
      if (!space) encode_word(std::u32string_view(normalized).substr(i, 1), ids);
      word_start = i + 1;
    }
  }
  if (normalized.size() > word_start) {
    encode_word(std::u32string_view(normalized).substr(word_start), ids);
  }
}

void WordPieceTokenizer::encode_word(std::u32string_view word, std::vector<TokenId>& ids) const {
  const Parts& p = *parts_;
  if (word.size() > p.max_input_chars_per_word) {
    ids.push_back(p.unk_id);
    return;
  }
  // UTF-8 of the word and where each character starts, so pieces are string_views into it.
  std::string bytes;
  std::vector<std::size_t> starts;
  starts.reserve(word.size() + 1);
  for (char32_t c : word) {
    starts.push_back(bytes.size());
    unicode::append_utf8(c, bytes);
  }
  starts.push_back(bytes.size());
  const std::size_t first_new = ids.size();
  // Greedy longest match from the left; one piece that matches nothing makes the word unknown.
  for (std::size_t start = 0; start < word.size();) {
    const VocabMap& table = start == 0 ? p.word_start : p.continuation;
    std::size_t end = word.size();
    for (; end > start; --end) {
      auto it =
          table.find(std::string_view(bytes).substr(starts[start], starts[end] - starts[start]));
      if (it != table.end()) {
        ids.push_back(it->second);
        break;
      }
    }
    if (end == start) {
      ids.resize(first_new);
      ids.push_back(p.unk_id);
      return;
    }
    start = end;
  }
}

}  // namespace attncert::models
