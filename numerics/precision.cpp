#include "numerics/precision.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace attncert {

void require_precision(long bits, const char* what) {
  if (bits < kMinPrecisionBits || bits > kMaxPrecisionBits) {
    throw std::invalid_argument(fmt::format("{}: precision {} bits is outside [{}, {}]", what,
                                            bits, kMinPrecisionBits, kMaxPrecisionBits));
  }
}

}  // namespace attncert
