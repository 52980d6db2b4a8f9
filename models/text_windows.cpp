#include "models/text_windows.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace attncert::models {

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
