// Writing result files so that nothing is lost, damaged or half-written: only regular files are
// ever replaced, each write goes through its own temporary file renamed into place, and an
// output directory can be locked against a second attncert run.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace attncert {

/// The one test of an output file target: it must be absent or a regular file (checked without
/// following a symbolic link). A device, FIFO, socket, directory or symbolic link is refused
/// with std::invalid_argument "<what> <path>: is a <kind>, not a regular file; …" (exit 4), so
/// `--out /dev/null` as root can never replace the device node with a file.
void check_output_file_target(const std::filesystem::path& path, std::string_view what);

/// check_output_file_target, then proves a file can be created beside `path` (a temporary,
/// removed at once): a command calls it before its work, so a bad --out fails in a second.
void check_output_file_writable(const std::filesystem::path& path, std::string_view what);

/// Writes `content` to `path` through a new temporary file beside it (unique name, O_EXCL,
/// fsync) renamed into place, so a reader never sees a partial file under the final name and
/// two concurrent writers never mix their bytes (the last rename wins whole). Refuses targets
/// check_output_file_target refuses and removes stale temporaries of dead runs beside it.
/// Throws std::runtime_error naming the path and the system's reason on failure.
/// LeftToCaller skips that scan of the directory: for a writer of many files into one directory
/// that cleans it once itself (a checkpoint's units: a scan per file would be quadratic).
enum class StaleTemporaries { Removed, LeftToCaller };
void write_file_atomically(const std::string& path, const std::string& content,
                           StaleTemporaries stale = StaleTemporaries::Removed);

/// An advisory lock (flock) on an output directory for as long as the object lives, so two
/// attncert runs never write the same directory at once. Creates the directory if absent. A
/// second holder — another process or another open in this one — gets std::runtime_error
/// "<dir>: is in use by another attncert run" at once (no waiting). On a filesystem without
/// flock support the directory is used unlocked.
class OutputDirectoryLock {
 public:
  explicit OutputDirectoryLock(const std::filesystem::path& dir);
  ~OutputDirectoryLock();
  OutputDirectoryLock(const OutputDirectoryLock&) = delete;
  OutputDirectoryLock& operator=(const OutputDirectoryLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace attncert
