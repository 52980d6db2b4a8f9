// ASCII character classes for the expression and domain scanners and the registry's name
// rule, by hand: <cctype> is locale dependent and undefined for negative chars.
#pragma once

#include <algorithm>
#include <string_view>

namespace attncert::ascii {

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_letter(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
constexpr bool is_word(char c) noexcept { return is_letter(c) || is_digit(c); }
constexpr bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
constexpr char to_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
/// A name of the language: a letter, then letters, digits or '_'.
inline bool is_identifier(std::string_view s) noexcept {
  return !s.empty() && is_letter(s[0]) && std::all_of(s.begin(), s.end(), is_word);
}

}  // namespace attncert::ascii
