// SHA-256 (FIPS 180-4) of bytes in memory, as lowercase hex: the digest outputs record of their
// inputs (the model study's text), and tests use to recognise a reference file.
#pragma once

#include <string>
#include <string_view>

namespace attncert {

/// The 64 lowercase hex digits of SHA-256(data).
std::string sha256_hex(std::string_view data);

}  // namespace attncert
