#include "theory/expression_scanner.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <system_error>
#include <utility>

#include "theory/ascii.hpp"
#include "theory/quantity_registry.hpp"

namespace attncert {

using ascii::is_digit, ascii::is_letter, ascii::is_space, ascii::is_word;

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if the bytes there are not one.
std::size_t utf8_length(std::string_view s, std::size_t i) noexcept {
  const auto b = static_cast<unsigned char>(s[i]);
  std::size_t n = 0;
  unsigned min_code = 0;
  unsigned code = 0;
  if (b >= 0xC2 && b <= 0xDF) {
    n = 2, code = b & 0x1Fu, min_code = 0x80;
  } else if (b >= 0xE0 && b <= 0xEF) {
    n = 3, code = b & 0x0Fu, min_code = 0x800;
  } else if (b >= 0xF0 && b <= 0xF4) {
    n = 4, code = b & 0x07u, min_code = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0u) != 0x80u) return 0;
    code = (code << 6) | (c & 0x3Fu);
  }
  if (code < min_code || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
  return n;
}

// Typographic characters pasted from papers, and what the language spells instead.
std::string_view unicode_hint(std::string_view token) noexcept {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kHints = {{
      {"\u2264", "write <="},
      {"\u2265", "write >="},
      {"\u2212", "write - for minus"},
      {"\u00d7", "write * for a product"},
      {"\u00b7", "write * for a product"},
      {"\u03b1", "write alpha_max or alpha_min"},
      {"\u0394", "write Delta"},
  }};
  for (const auto& [from, hint] : kHints) {
    if (token == from) return hint;
  }
  return {};
}

}  // namespace

// --- errors ------------------------------------------------------------------------------

ParseError::ParseError(std::string_view input, std::size_t column, const std::string& detail)
    : std::invalid_argument(fmt::format("column {}: {}", column, detail)),
      input_(input),
      column_(column),
      detail_(detail) {}

std::string ParseError::caret_line() const { return attncert::caret_line(input_, column_); }

std::string caret_line(std::string_view input, std::size_t column, std::size_t width) {
  width = std::max<std::size_t>(width, 8);
  const std::size_t index = std::min(column == 0 ? 0 : column - 1, input.size());
  std::size_t begin = 0;
  std::size_t end = input.size();
  if (input.size() > width) {
    begin = index > width / 2 ? index - width / 2 : 0;
    end = std::min(input.size(), begin + width);
    // Do not start inside a UTF-8 sequence.
    while (begin > 0 && begin < input.size() &&
           (static_cast<unsigned char>(input[begin]) & 0xC0u) == 0x80u) {
      --begin;
    }
  }
  std::string line = begin > 0 ? "..." : "";
  std::size_t display = line.size();
  std::size_t caret = std::string::npos;
  std::size_t i = begin;
  while (i < end) {
    if (i >= index && caret == std::string::npos) caret = display;
    const char c = input[i];
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x80) {
      line += (b < 0x20 || b == 0x7F) ? ' ' : c;  // keeps the input on one line
      ++i;
    } else if (const std::size_t n = utf8_length(input, i); n > 0 && i + n <= end) {
      line.append(input.substr(i, n));
      i += n;
    } else {
      line += '?';
      ++i;
    }
    ++display;
  }
  if (caret == std::string::npos) caret = display;
  if (end < input.size()) line += "...";
  return line + "\n" + std::string(caret, ' ') + "^";
}

// --- scanner -----------------------------------------------------------------------------

namespace detail {

Scanner::Scanner(std::string_view text) : text_(text) {
  if (text.size() > kMaxInputLength) {
    fail_at(kMaxInputLength,
            fmt::format("expected at most {} characters, found {}", kMaxInputLength, text.size()));
  }
}

void Scanner::skip_space() noexcept {
  while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
}

bool Scanner::at_end() noexcept {
  skip_space();
  return pos_ >= text_.size();
}

char Scanner::peek() noexcept {
  skip_space();
  return pos_ < text_.size() ? text_[pos_] : '\0';
}

bool Scanner::accept(std::string_view token) noexcept {
  skip_space();
  if (text_.substr(pos_).starts_with(token)) {
    pos_ += token.size();
    return true;
  }
  return false;
}

std::string_view Scanner::identifier() noexcept {
  skip_space();
  if (pos_ >= text_.size() || !is_letter(text_[pos_])) return {};
  const std::size_t begin = pos_;
  while (pos_ < text_.size() && is_word(text_[pos_])) ++pos_;
  return text_.substr(begin, pos_ - begin);
}

std::optional<Scanner::Number> Scanner::number(bool allow_sign) {
  skip_space();
  const std::size_t start = pos_;
  std::size_t p = pos_;
  const auto at = [&](std::size_t i) { return i < text_.size() ? text_[i] : '\0'; };
  bool negative = false;
  if (allow_sign && (at(p) == '+' || at(p) == '-')) {
    negative = at(p) == '-';
    ++p;
  }
  if (!(is_digit(at(p)) || (at(p) == '.' && is_digit(at(p + 1))))) {
    if (p == start) return std::nullopt;
    pos_ = p;
    fail_expected("a number after the sign");
  }
  const std::size_t digits_begin = p;
  std::string mantissa;
  while (is_digit(at(p))) mantissa += text_[p++];
  std::size_t fraction_digits = 0;
  if (at(p) == '.') {
    ++p;
    while (is_digit(at(p))) {
      mantissa += text_[p++];
      ++fraction_digits;
    }
  }
  const auto malformed = [&](std::size_t end, std::string_view note) {
    while (is_word(at(end)) || at(end) == '.') ++end;
    fail_at(start, fmt::format("expected a number, found '{}' ({})",
                               clip(text_.substr(start, end - start)), note));
  };
  long exponent = 0;
  if (at(p) == 'e' || at(p) == 'E') {
    std::size_t q = p + 1;
    bool exponent_negative = false;
    if (at(q) == '+' || at(q) == '-') exponent_negative = at(q++) == '-';
    if (!is_digit(at(q))) malformed(q, "an exponent needs digits, e.g. 1e-3");
    while (is_digit(at(q))) {
      // Saturates far beyond the double range; the range check below rejects such values.
      exponent = std::min(exponent * 10 + (text_[q++] - '0'), 1'000'000'000L);
    }
    if (exponent_negative) exponent = -exponent;
    p = q;
  }
  if (at(p) == '.') malformed(p, "a number has one decimal point");
  if (is_word(at(p))) malformed(p, "a number cannot run into a name; write 2*x for a product");

  Number n;
  n.position = start;
  n.negative = negative;
  const char* first = text_.data() + digits_begin;
  const char* last = text_.data() + p;
  const auto [ptr, ec] = std::from_chars(first, last, n.value, std::chars_format::general);
  if (ec != std::errc() || ptr != last || !std::isfinite(n.value)) {
    fail_at(start, fmt::format("expected a number within double range (about 4.9e-324 to "
                               "1.8e308 in magnitude, or 0), found '{}'",
                               clip(text_.substr(start, p - start))));
  }
  if (negative) n.value = -n.value;
  const std::size_t nonzero = mantissa.find_first_not_of('0');
  if (nonzero == std::string::npos) {
    n.mantissa.assign(1, '0');  // 0e999999 is 0 (not = "0": GCC 12's false -Wrestrict)
  } else {
    n.mantissa = mantissa.substr(nonzero);
    n.exponent10 = exponent - static_cast<long>(fraction_digits);
  }
  pos_ = p;
  return n;
}

std::string Scanner::describe(std::size_t position) const {
  if (position >= text_.size()) return "end of input";
  const std::string_view rest = text_.substr(position);
  const char c = rest[0];
  std::size_t n = 1;
  if (is_letter(c) || is_digit(c) || c == '.') {
    while (n < rest.size() && (is_word(rest[n]) || rest[n] == '.')) ++n;
    n = std::min<std::size_t>(n, 40);
  } else if (rest.starts_with("<=") || rest.starts_with(">=") || rest.starts_with("==") ||
             rest.starts_with("!=") || rest.starts_with("**")) {
    n = 2;
  }
  const auto b = static_cast<unsigned char>(c);
  if (b < 0x20 || b == 0x7F) return fmt::format("'\\x{:02x}'", b);
  if (b >= 0x80) {
    const std::size_t len = utf8_length(text_, position);
    if (len == 0) return fmt::format("'\\x{:02x}'", b);
    return fmt::format("'{}'", rest.substr(0, len));
  }
  return fmt::format("'{}'", rest.substr(0, n));
}

void Scanner::fail_expected(std::string_view what, std::string_view note) {
  skip_space();
  std::string detail = fmt::format("expected {}, found {}", what, describe(pos_));
  if (note.empty() && pos_ < text_.size()) {
    note = unicode_hint(text_.substr(pos_, utf8_length(text_, pos_)));
  }
  if (!note.empty()) detail += fmt::format(" ({})", note);
  fail_at(pos_, detail);
}

void Scanner::fail_at(std::size_t position, const std::string& detail) const {
  throw ParseError(text_, position + 1, detail);
}

std::string clip(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) return std::string(text);
  return std::string(text.substr(0, limit)) + "...";
}

std::string unknown_name_detail(std::string_view name, const std::vector<std::string>& known) {
  std::string detail = fmt::format("unknown name '{}'", clip(name));
  if (const auto guess = QuantityRegistry::closest(name, known)) {
    detail += fmt::format(" (did you mean '{}'?)", *guess);
  }
  return detail + fmt::format("; known names: {}", fmt::join(known, ", "));
}

}  // namespace detail

}  // namespace attncert
