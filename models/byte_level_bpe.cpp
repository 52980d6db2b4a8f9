#include "models/byte_level_bpe.hpp"

#include <fmt/format.h>

#include <array>
#include <limits>
#include <queue>
#include <stdexcept>
#include <tuple>

#include "models/tokenizer_json.hpp"
#include "models/unicode.hpp"

namespace attncert::models {
namespace {

using tokenizer_json::shown;

constexpr bool is_printable_byte(unsigned b) {
  return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
}

const std::array<char32_t, 256> kByteToUnicode = [] {
  std::array<char32_t, 256> table{};
  char32_t next = 256;
  for (unsigned b = 0; b < 256; ++b) table[b] = is_printable_byte(b) ? b : next++;
  return table;
}();

// Classes of GPT-2's split regex.
enum class CharKind { Letter, Number, Space, Other };

CharKind kind_of(char32_t c) {
  const std::uint8_t flags = unicode::char_flags(c);
  if (flags & unicode::kLetter) return CharKind::Letter;
  if (flags & unicode::kNumber) return CharKind::Number;
  if (flags & unicode::kWhiteSpace) return CharKind::Space;
  return CharKind::Other;
}

std::uint64_t pair_key(TokenId left, TokenId right) {
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(left)) << 32) |
         static_cast<std::uint32_t>(right);
}

struct Merge {
  std::uint32_t rank;
  TokenId merged;
};

}  // namespace

char32_t byte_to_unicode(unsigned char byte) { return kByteToUnicode[byte]; }

struct ByteLevelBpeTokenizer::Parts {
  bool add_prefix_space = false;
  std::array<TokenId, 256> byte_ids{};
  std::unordered_map<std::uint64_t, Merge> merges;
  std::unordered_map<char32_t, unsigned char> unicode_to_byte;
};

ByteLevelBpeTokenizer::ByteLevelBpeTokenizer(std::string source,
                                             const std::unordered_map<std::string, TokenId>& vocab,
                                             std::vector<AddedToken> added,
                                             SingleSequenceTemplate single_template,
                                             std::unique_ptr<const Parts> parts)
    : Tokenizer(std::move(source), vocab, std::move(added), std::move(single_template)),
      parts_(std::move(parts)) {}

ByteLevelBpeTokenizer::~ByteLevelBpeTokenizer() = default;

std::unique_ptr<ByteLevelBpeTokenizer> ByteLevelBpeTokenizer::from_file(
    const tokenizer_json::File& file) {
  auto parts = std::make_unique<Parts>();
  const std::string normalizer = file.piece_type("normalizer");
  if (!normalizer.empty()) {
    file.fail("normalizer.type", fmt::format("unsupported normalizer {} for byte-level BPE "
                                             "(supported: null)",
                                             shown(normalizer)));
  }
  const std::string pre_tokenizer = file.piece_type("pre_tokenizer");
  if (pre_tokenizer != "ByteLevel") {
    file.fail("pre_tokenizer.type",
              fmt::format("unsupported pre-tokenizer {} for BPE (supported: ByteLevel)",
                          shown(pre_tokenizer.empty() ? "null" : pre_tokenizer)));
  }
  const tokenizer_json::json& pre = file.root["pre_tokenizer"];
  if (const tokenizer_json::json* use_regex = file.optional(pre, "use_regex");
      use_regex != nullptr && !(use_regex->is_boolean() && use_regex->get<bool>())) {
    file.fail("pre_tokenizer.use_regex",
              fmt::format("{} is not supported (only true: GPT-2's split)", shown(*use_regex)));
  }
  if (const tokenizer_json::json* prefix = file.optional(pre, "add_prefix_space")) {
    if (!prefix->is_boolean()) {
      file.fail("pre_tokenizer.add_prefix_space",
                fmt::format("expected true or false, found {}", shown(*prefix)));
    }
    parts->add_prefix_space = prefix->get<bool>();
  }

  const tokenizer_json::json& model = file.root["model"];
  // Options that change the algorithm: refused unless off.
  for (const char* key : {"dropout", "continuing_subword_prefix", "end_of_word_suffix"}) {
    const tokenizer_json::json* value = file.optional(model, key);
    if (value != nullptr && !(value->is_string() && value->get<std::string>().empty())) {
      file.fail(fmt::format("model.{}", key),
                fmt::format("{} is not supported (only null)", shown(*value)));
    }
  }
  // ignore_merges (Llama 3's tokenizers) takes a word found whole in the vocab before merging.
  for (const char* key : {"fuse_unk", "byte_fallback", "ignore_merges"}) {
    const tokenizer_json::json* value = file.optional(model, key);
    if (value != nullptr && !(value->is_boolean() && !value->get<bool>())) {
      file.fail(fmt::format("model.{}", key),
                fmt::format("{} is not supported (only false)", shown(*value)));
    }
  }

  const std::unordered_map<std::string, TokenId> vocab = file.vocab();
  // Every byte must have a token: byte-level BPE never needs unk, and a missing byte would be
  // dropped silently by the reference.
  for (unsigned b = 0; b < 256; ++b) {
    std::string symbol;
    unicode::append_utf8(kByteToUnicode[b], symbol);
    auto it = vocab.find(symbol);
    if (it == vocab.end()) {
      file.fail("model.vocab", fmt::format("the byte-level alphabet is incomplete: no token for "
                                           "byte 0x{:02X} ({})",
                                           b, shown(symbol)));
    }
    parts->byte_ids[b] = it->second;
    parts->unicode_to_byte.emplace(kByteToUnicode[b], static_cast<unsigned char>(b));
  }

  const tokenizer_json::json& merges = file.require(model, "merges", "model.merges");
  if (!merges.is_array()) file.fail("model.merges", "expected an array");
  parts->merges.reserve(merges.size());
  for (std::size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string field = fmt::format("model.merges[{}]", rank);
    const tokenizer_json::json& merge = merges[rank];
    std::string left, right;
    // "a b" (tokenizers < 0.20) or ["a", "b"] (newer files).
    if (merge.is_string()) {
      const std::string text = merge.get<std::string>();
      const std::size_t space = text.find(' ');
      if (space == std::string::npos || text.find(' ', space + 1) != std::string::npos) {
        file.fail(field, fmt::format("expected \"left right\", found {}", shown(merge)));
      }
      left = text.substr(0, space);
      right = text.substr(space + 1);
    } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() &&
               merge[1].is_string()) {
      left = merge[0].get<std::string>();
      right = merge[1].get<std::string>();
    } else {
      file.fail(field,
                fmt::format("expected \"left right\" or [left, right], found {}", shown(merge)));
    }
    auto id_of = [&](const std::string& token) {
      auto it = vocab.find(token);
      if (it == vocab.end()) {
        file.fail(field, fmt::format("token {} is not in model.vocab", shown(token)));
      }
      return it->second;
    };
    const TokenId left_id = id_of(left), right_id = id_of(right), merged_id = id_of(left + right);
    // A repeated pair would have two ranks: refused rather than one chosen silently.
    if (!parts->merges
             .try_emplace(pair_key(left_id, right_id),
                          Merge{static_cast<std::uint32_t>(rank), merged_id})
             .second) {
      file.fail(field, fmt::format("the pair {} is listed twice", shown(merge)));
    }
  }
  const bool has_normalizer = false;
  std::vector<AddedToken> added = file.added_tokens(has_normalizer);
  SingleSequenceTemplate single_template = file.single_template(vocab);
  return std::unique_ptr<ByteLevelBpeTokenizer>(new ByteLevelBpeTokenizer(
      file.path, vocab, std::move(added), std::move(single_template), std::move(parts)));
}

std::vector<std::u32string_view> ByteLevelBpeTokenizer::split_pieces(std::u32string_view t) {
  std::vector<std::u32string_view> pieces;
  const std::size_t n = t.size();
  auto run_end = [&](std::size_t from, CharKind kind) {
    while (from < n && kind_of(t[from]) == kind) ++from;
    return from;
  };
  for (std::size_t i = 0; i < n;) {
    const char32_t c = t[i];
    std::size_t end = 0;
    // 's 't 'm 'd 're 've 'll (case-sensitive, as GPT-2's regex)
    if (c == U'\'' && i + 1 < n) {
      const char32_t a = t[i + 1];
      if (a == U's' || a == U't' || a == U'm' || a == U'd') {
        end = i + 2;
      } else if (i + 2 < n) {
        const char32_t b = t[i + 2];
        if ((a == U'r' && b == U'e') || (a == U'v' && b == U'e') || (a == U'l' && b == U'l')) {
          end = i + 3;
        }
      }
    }
    if (end == 0) {
      const CharKind kind = kind_of(c);
      if (c == U' ' && i + 1 < n && kind_of(t[i + 1]) != CharKind::Space) {
        end = run_end(i + 1, kind_of(t[i + 1]));  // " ?\p{L}+", " ?\p{N}+", " ?[^\s\p{L}\p{N}]+"
      } else if (kind != CharKind::Space) {
        end = run_end(i, kind);
      } else {
        // \s+(?!\S) leaves the last space of a run before a non-space to the next piece; a
        // single space there is matched by the final \s+.
        const std::size_t j = run_end(i, CharKind::Space);
        end = (j == n || j - i == 1) ? j : j - 1;
      }
    }
    pieces.push_back(t.substr(i, end - i));
    i = end;
  }
  return pieces;
}

void ByteLevelBpeTokenizer::encode_segment(std::u32string_view text,
                                           std::vector<TokenId>& ids) const {
  std::u32string prefixed;
  if (parts_->add_prefix_space && (text.empty() || text[0] != U' ')) {
    prefixed.reserve(text.size() + 1);
    prefixed.push_back(U' ');
    prefixed.append(text);
    text = prefixed;
  }
  // Prose repeats its words: each distinct piece is merged once per call. The cache is local to
  // the call, so a shared tokenizer stays safe to use from several threads.
  std::unordered_map<std::u32string_view, std::pair<std::size_t, std::size_t>> seen;
  for (std::u32string_view piece : split_pieces(text)) {
    if (auto it = seen.find(piece); it != seen.end()) {
      const auto [first, count] = it->second;
      for (std::size_t k = 0; k < count; ++k) {
        const TokenId id = ids[first + k];  // a copy: push_back may reallocate
        ids.push_back(id);
      }
      continue;
    }
    const std::size_t first = ids.size();
    encode_piece(piece, ids);
    seen.emplace(piece, std::pair{first, ids.size() - first});
  }
}

void ByteLevelBpeTokenizer::encode_piece(std::u32string_view piece,
                                         std::vector<TokenId>& ids) const {
  std::string bytes;
  for (char32_t c : piece) unicode::append_utf8(c, bytes);
  // Symbols in a linked list; a min-heap of candidate merges by (rank, position) — the lowest
  // rank first, the leftmost among equal ranks, as the reference — so a long piece costs
  // O(n log n), not O(n²). An entry is stale when its pair has changed since it was pushed; like
  // the reference, an entry counts as current when the pair now there merges to the same token.
  struct Symbol {
    TokenId id;
    std::int32_t prev, next;  // -1 at the ends
  };
  const auto n = static_cast<std::int32_t>(bytes.size());
  std::vector<Symbol> symbols(bytes.size());
  for (std::int32_t i = 0; i < n; ++i) {
    symbols[i] = {parts_->byte_ids[static_cast<unsigned char>(bytes[i])], i - 1,
                  i + 1 < n ? i + 1 : -1};
  }
  using Candidate = std::tuple<std::uint32_t, std::int32_t, TokenId>;  // rank, left, merged
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  auto push = [&](std::int32_t left) {
    if (left < 0 || symbols[left].next < 0) return;
    auto it = parts_->merges.find(pair_key(symbols[left].id, symbols[symbols[left].next].id));
    if (it != parts_->merges.end()) queue.emplace(it->second.rank, left, it->second.merged);
  };
  for (std::int32_t i = 0; i + 1 < n; ++i) push(i);
  std::vector<bool> removed(bytes.size(), false);
  while (!queue.empty()) {
    const auto [rank, left, merged] = queue.top();
    queue.pop();
    if (removed[left] || symbols[left].next < 0) continue;
    const std::int32_t right = symbols[left].next;
    auto it = parts_->merges.find(pair_key(symbols[left].id, symbols[right].id));
    if (it == parts_->merges.end() || it->second.merged != merged) continue;
    symbols[left].id = merged;
    symbols[left].next = symbols[right].next;
    if (symbols[right].next >= 0) symbols[symbols[right].next].prev = left;
    removed[right] = true;
    push(symbols[left].prev);
    push(left);
  }
  for (std::int32_t i = n > 0 ? 0 : -1; i >= 0; i = symbols[i].next) ids.push_back(symbols[i].id);
}

std::string ByteLevelBpeTokenizer::token_bytes(TokenId id) const {
  const std::u32string symbols = unicode::decode_utf8(token(id), source());
  std::string out;
  for (char32_t c : symbols) {
    auto it = parts_->unicode_to_byte.find(c);
    if (it == parts_->unicode_to_byte.end()) {
      // An added token (e.g. "<|endoftext|>") is plain text, not in the byte alphabet.
      return token(id);
    }
    out.push_back(static_cast<char>(it->second));
  }
  return out;
}

}  // namespace attncert::models
