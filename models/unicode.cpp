#include "models/unicode.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <stdexcept>

#include "models/unicode_tables.hpp"

namespace attncert::models::unicode {
namespace {

using namespace tables;

// ASCII is most of every text: answer it from a 128-entry copy of the runs.
const std::array<std::uint8_t, 128> kAsciiFlags = [] {
  std::array<std::uint8_t, 128> flags{};
  std::size_t run = 0;
  for (char32_t c = 0; c < 128; ++c) {
    while (run + 1 < kFlagRunsCount && kFlagRuns[run + 1].first <= c) ++run;
    flags[c] = kFlagRuns[run].flags;
  }
  return flags;
}();

const Mapping* find_mapping(const Mapping* table, std::size_t count, char32_t c) {
  const Mapping* end = table + count;
  const Mapping* it = std::lower_bound(
      table, end, c, [](const Mapping& m, char32_t value) { return m.code_point < value; });
  return it != end && it->code_point == c ? it : nullptr;
}

// Hangul syllables decompose arithmetically (Unicode §3.12).
constexpr char32_t kHangulBase = 0xAC00, kLeadBase = 0x1100, kVowelBase = 0x1161,
                   kTrailBase = 0x11A7;
constexpr char32_t kVowelCount = 21, kTrailCount = 28, kSyllableCount = 11172;

}  // namespace

std::uint8_t char_flags(char32_t c) {
  if (c < 128) return kAsciiFlags[c];
  const FlagRun* end = kFlagRuns + kFlagRunsCount;
  const FlagRun* it = std::upper_bound(
      kFlagRuns, end, c, [](char32_t value, const FlagRun& r) { return value < r.first; });
  return it == kFlagRuns ? 0 : (it - 1)->flags;
}

std::uint8_t canonical_combining_class(char32_t c) {
  if (c < 0x300) return 0;
  const CombiningClassRun* end = kCombiningClassRuns + kCombiningClassRunsCount;
  const CombiningClassRun* it =
      std::upper_bound(kCombiningClassRuns, end, c,
                       [](char32_t value, const CombiningClassRun& r) { return value < r.first; });
  if (it == kCombiningClassRuns) return 0;
  --it;
  return c <= it->last ? it->combining_class : 0;
}

void append_nfd(std::u32string_view text, std::u32string& out) {
  const std::size_t start = out.size();
  for (char32_t c : text) {
    if (c < 0xC0) {  // nothing below U+00C0 decomposes
      out.push_back(c);
    } else if (c >= kHangulBase && c < kHangulBase + kSyllableCount) {
      const char32_t s = c - kHangulBase;
      out.push_back(kLeadBase + s / (kVowelCount * kTrailCount));
      out.push_back(kVowelBase + (s % (kVowelCount * kTrailCount)) / kTrailCount);
      if (s % kTrailCount != 0) out.push_back(kTrailBase + s % kTrailCount);
    } else if (const Mapping* m = find_mapping(kDecompositions, kDecompositionsCount, c)) {
      out.append(kMappingPool + m->offset, m->length);
    } else {
      out.push_back(c);
    }
  }
  // Canonical ordering: a stable sort of each run of non-starters by combining class.
  for (std::size_t i = start; i < out.size();) {
    if (canonical_combining_class(out[i]) == 0) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < out.size() && canonical_combining_class(out[j]) != 0) ++j;
    std::stable_sort(out.begin() + static_cast<std::ptrdiff_t>(i),
                     out.begin() + static_cast<std::ptrdiff_t>(j), [](char32_t a, char32_t b) {
                       return canonical_combining_class(a) < canonical_combining_class(b);
                     });
    i = j;
  }
}

void append_lowercase(char32_t c, std::u32string& out) {
  if (c < 128) {
    out.push_back(c >= 'A' && c <= 'Z' ? c + 32 : c);
  } else if (const Mapping* m = find_mapping(kLowercase, kLowercaseCount, c)) {
    out.append(kMappingPool + m->offset, m->length);
  } else {
    out.push_back(c);
  }
}

std::u32string decode_utf8(std::string_view bytes, std::string_view source) {
  std::u32string out;
  out.reserve(bytes.size());
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  auto fail = [&](std::size_t at, const char* why) {
    throw std::invalid_argument(
        fmt::format("{}: invalid UTF-8 at byte {} (0x{:02X}): {}", source, at, p[at], why));
  };
  for (std::size_t i = 0; i < n;) {
    const unsigned char b = p[i];
    if (b < 0x80) {
      out.push_back(b);
      ++i;
      continue;
    }
    std::size_t length;
    char32_t c;
    char32_t minimum;
    if ((b & 0xE0) == 0xC0) {
      length = 2, c = b & 0x1F, minimum = 0x80;
    } else if ((b & 0xF0) == 0xE0) {
      length = 3, c = b & 0x0F, minimum = 0x800;
    } else if ((b & 0xF8) == 0xF0) {
      length = 4, c = b & 0x07, minimum = 0x10000;
    } else {
      fail(i, "not a lead byte");
    }
    if (i + length > n) fail(i, "sequence cut short by the end of the text");
    for (std::size_t k = 1; k < length; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) fail(i, "lead byte not followed by continuation bytes");
      c = (c << 6) | (p[i + k] & 0x3F);
    }
    if (c < minimum) fail(i, "overlong encoding");
    if (c >= 0xD800 && c <= 0xDFFF) fail(i, "encodes a UTF-16 surrogate");
    if (c > 0x10FFFF) fail(i, "above U+10FFFF");
    out.push_back(c);
    i += length;
  }
  return out;
}

void append_utf8(char32_t c, std::string& out) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

std::string encode_utf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t c : text) append_utf8(c, out);
  return out;
}

const char* unicode_version() { return kUnicodeVersion; }

}  // namespace attncert::models::unicode
