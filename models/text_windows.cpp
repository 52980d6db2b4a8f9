#include "models/text_windows.hpp"

#include "numerics/sha256.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace attncert::models {

namespace fs = std::filesystem;

ModelText read_model_text(const fs::path& path, const Tokenizer& tokenizer, const ModelConfig& config) {
  const bool wordpiece = tokenizer.model_type() == "WordPiece";
  if (wordpiece != (config.family == ModelFamily::bert))
    throw std::invalid_argument(fmt::format("{}: a {} tokenizer, but config.json says {} (which uses {})",
                                            tokenizer.source(), tokenizer.model_type(), family_name(config.family),
                                            wordpiece ? "BPE" : "WordPiece"));
  std::error_code ec;
  if (fs::is_directory(path, ec))
    throw std::invalid_argument(fmt::format("{}: is a directory, expected a text file", path.string()));
  const std::uintmax_t size = fs::file_size(path, ec);
  if (ec) throw std::invalid_argument(fmt::format("{}: cannot read the text ({})", path.string(), ec.message()));
  // A text larger than this is not prose to read in windows but a wrong path.
  if (size > (std::uintmax_t{64} << 20))
    throw std::invalid_argument(fmt::format("{}: {} bytes, more than a text to read (64 MiB)", path.string(), size));
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (!in && !in.eof()) throw std::invalid_argument(fmt::format("{}: cannot read the text", path.string()));
  const std::string text = buffer.str();
  if (text.find_first_not_of(" \t\r\n") == std::string::npos)
    throw std::invalid_argument(fmt::format("{}: the text is empty", path.string()));
  ModelText t;
  t.sha256 = sha256_hex(text);
  t.bytes = text.size();
  try {
    t.ids = tokenizer.encode_without_special_tokens(text);
  } catch (const std::invalid_argument& e) {  // invalid UTF-8: name the file
    throw std::invalid_argument(fmt::format("{}: {}", path.string(), e.what()));
  }
  for (TokenId id : t.ids)
    if (static_cast<std::size_t>(id) >= config.vocab)
      throw std::invalid_argument(fmt::format("{}: token id {} is outside the model's vocabulary of {} (tokenizer and "
                                              "model do not belong together)", tokenizer.source(), id, config.vocab));
  std::vector<TokenId> distinct = t.ids;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  t.distinct = distinct.size();
  if (const std::optional<TokenId> unk = tokenizer.unknown_id())
    t.unknown = static_cast<std::size_t>(std::count(t.ids.begin(), t.ids.end(), *unk));
  if (t.distinct < kMinDistinctTextTokens || 2 * t.unknown > t.ids.size())
    throw std::invalid_argument(fmt::format(
        "{}: {} tokens of which {} distinct and {} unknown to the tokenizer: not prose to read (at least {} "
        "distinct tokens, at most half unknown)",
        path.string(), t.ids.size(), t.distinct, t.unknown, kMinDistinctTextTokens));
  return t;
}

std::vector<TextWindow> text_windows(const std::vector<TokenId>& text_ids,
                                     const SingleSequenceTemplate& single_template,
                                     std::size_t length, std::size_t max_positions,
                                     std::size_t count) {
  if (count == 0) throw std::invalid_argument("text windows: the number of windows must be >= 1");
  if (length > max_positions) {
    throw std::invalid_argument(fmt::format(
        "text windows: a window of {} tokens exceeds the model's {} positions", length,
        max_positions));
  }
  const std::size_t specials = single_template.prefix.size() + single_template.suffix.size();
  if (length <= specials) {
    throw std::invalid_argument(fmt::format(
        "text windows: a window of {} tokens leaves no room for text beside the {} special tokens",
        length, specials));
  }
  const std::size_t piece = length - specials;
  const std::size_t pieces = text_ids.size() / piece;
  if (pieces == 0) {
    throw std::invalid_argument(fmt::format(
        "text windows: the text has {} tokens, fewer than one window of {} ({} of text)",
        text_ids.size(), length, piece));
  }
  const std::size_t used = std::min(count, pieces);
  std::vector<TextWindow> windows;
  windows.reserve(used);
  for (std::size_t w = 0; w < used; ++w) {
    // Piece indices spread evenly over [0, pieces): w·pieces/used, distinct since used <= pieces.
    const std::size_t first = (w * pieces / used) * piece;
    TextWindow window;
    window.first_token = first;
    window.ids.reserve(length);
    window.ids.insert(window.ids.end(), single_template.prefix.begin(), single_template.prefix.end());
    window.ids.insert(window.ids.end(), text_ids.begin() + static_cast<std::ptrdiff_t>(first),
                      text_ids.begin() + static_cast<std::ptrdiff_t>(first + piece));
    window.ids.insert(window.ids.end(), single_template.suffix.begin(), single_template.suffix.end());
    windows.push_back(std::move(window));
  }
  return windows;
}

}  // namespace attncert::models
