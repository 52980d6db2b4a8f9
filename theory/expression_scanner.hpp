// The expression language's tokens and errors, shared by the expression and domain parsers:
// the scanner (numbers, names, operators, whitespace), the input limits, and ParseError with
// its one-line message and caret line.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace attncert {

/// Longest accepted input (expression, inequality or domain), in bytes.
inline constexpr std::size_t kMaxInputLength = 10'000;
/// Deepest accepted nesting of parentheses, calls, unary signs and exponents; keeps the
/// recursive-descent parser's stack small whatever the input.
inline constexpr int kMaxNestingDepth = 200;

// --- errors ------------------------------------------------------------------------------

/// A malformed expression, inequality or domain. what() is one line:
///   "column 7: expected ')', found end of input"
/// (column is 1-based, in bytes of the input; the input is ASCII up to the error).
class ParseError : public std::invalid_argument {
 public:
  ParseError(std::string_view input, std::size_t column, const std::string& detail);
  std::size_t column() const noexcept { return column_; }
  const std::string& input() const noexcept { return input_; }
  /// The message without the "column N: " prefix.
  const std::string& detail() const noexcept { return detail_; }
  /// Two lines: the input (a window of it when long) and a ^ under the column.
  std::string caret_line() const;

 private:
  std::string input_;
  std::size_t column_;
  std::string detail_;
};

/// Renders `input` on one line (control characters shown as spaces, a window with "..." when
/// longer than `width`) and a second line with ^ under 1-based `column`. No trailing newline.
std::string caret_line(std::string_view input, std::size_t column, std::size_t width = 72);

namespace detail {

class Scanner {
 public:
  /// Throws ParseError when the text is longer than kMaxInputLength.
  explicit Scanner(std::string_view text);

  std::string_view text() const noexcept { return text_; }
  std::size_t position() const noexcept { return pos_; }
  void skip_space() noexcept;
  /// After skipping space.
  bool at_end() noexcept;
  char peek() noexcept;  // '\0' at the end
  /// Consumes `token` (after skipping space) if the text continues with it.
  bool accept(std::string_view token) noexcept;
  /// An identifier at the current position (after skipping space), consumed; empty if none.
  std::string_view identifier() noexcept;

  struct Number {
    double value = 0;
    std::string mantissa;  // decimal digits, leading zeros stripped ("0" for zero)
    long exponent10 = 0;   // value = mantissa * 10^exponent10 (before the sign)
    bool negative = false;
    std::size_t position = 0;
  };
  /// A number literal at the current position (after space), with an optional sign when
  /// `allow_sign`; nullopt when none starts here. A malformed one ("1e", "1.2.3", "2x",
  /// out of double range) throws ParseError.
  std::optional<Number> number(bool allow_sign);

  /// "'<token>'" for the token starting at `position`, or "end of input".
  std::string describe(std::size_t position) const;
  /// Throws "column C: expected <what>, found <token at the current position>[ (<note>)]".
  [[noreturn]] void fail_expected(std::string_view what, std::string_view note = {});
  /// Throws "column <position + 1>: <detail>".
  [[noreturn]] void fail_at(std::size_t position, const std::string& detail) const;

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

/// `text`, cut to `limit` characters with "..." appended (long names in messages).
std::string clip(std::string_view text, std::size_t limit = 40);

/// The one-line description of an unknown name: "unknown name 'x' (did you mean 'y'?);
/// known names: a, b, c".
std::string unknown_name_detail(std::string_view name, const std::vector<std::string>& known);

}  // namespace detail

}  // namespace attncert
