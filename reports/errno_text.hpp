// The system's text for an errno value, for one-line error messages ("No space left on device").
#pragma once

#include <string>
#include <system_error>

namespace attncert {

inline std::string errno_text(int err) {
  return std::error_code(err, std::generic_category()).message();
}

}  // namespace attncert
