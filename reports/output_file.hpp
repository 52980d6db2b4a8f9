// Writing result files and directories so that nothing is lost or half-written: atomic
// replacement of files, refusal of targets that are not regular files.
#pragma once

#include <string>

namespace attncert {

/// Writes `content` to `path` through a temporary file beside it + rename, so a reader never
/// sees a partial file under the final name. Throws std::runtime_error naming the path on failure.
void write_file_atomically(const std::string& path, const std::string& content);

}  // namespace attncert
