// The --seed option of verify, sweep and report: a decimal uint64 parsed with std::from_chars.
// CLI11's own integer conversion saturates or wraps out-of-range and negative text (`--seed -1`
// and `--seed 99999999999999999999` both ran with 2^64 − 1), so the option is read as text and
// anything that is not exactly a decimal in [0, 2^64 − 1] is a usage error naming the range.
#pragma once

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace attncert::cli {

/// The seed `text` denotes; throws CLI::ValidationError (exit 3) unless it is a decimal integer
/// in [0, 18446744073709551615] with nothing around it.
inline std::uint64_t parse_seed(std::string_view text) {
  std::uint64_t seed = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, seed, 10);
  if (text.empty() || ec != std::errc{} || ptr != end) {
    throw CLI::ValidationError(
        "--seed", fmt::format("'{}' is not a decimal integer in [0, 18446744073709551615]", text));
  }
  return seed;
}

/// Adds --seed to `cmd`, storing the parsed value in `seed` (whose current value is the default).
inline CLI::Option* add_seed_option(CLI::App* cmd, std::uint64_t& seed, const std::string& help) {
  return cmd
      ->add_option_function<std::string>(
          "--seed", [&seed](const std::string& text) { seed = parse_seed(text); }, help)
      ->default_str(std::to_string(seed));
}

}  // namespace attncert::cli
