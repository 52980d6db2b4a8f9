// The tables scripts/generate-unicode-tables writes into models/unicode_tables.cpp. Internal to
// models/unicode.cpp; everyone else asks models/unicode.hpp.
#pragma once

#include <cstddef>
#include <cstdint>

namespace attncert::models::unicode::tables {

// Code points first..(next run's first − 1) have these flags (models/unicode.hpp's CharFlag).
struct FlagRun {
  char32_t first;
  std::uint8_t flags;
};
struct CombiningClassRun {
  char32_t first, last;
  std::uint8_t combining_class;
};
// code_point maps to kMappingPool[offset .. offset + length).
struct Mapping {
  char32_t code_point;
  std::uint32_t offset;
  std::uint8_t length;
};

extern const char* const kUnicodeVersion;
extern const FlagRun kFlagRuns[];
extern const std::size_t kFlagRunsCount;
extern const CombiningClassRun kCombiningClassRuns[];
extern const std::size_t kCombiningClassRunsCount;
extern const Mapping kDecompositions[];
extern const std::size_t kDecompositionsCount;
extern const Mapping kLowercase[];
extern const std::size_t kLowercaseCount;
extern const char32_t kMappingPool[];
extern const std::size_t kMappingPoolCount;

}  // namespace attncert::models::unicode::tables
