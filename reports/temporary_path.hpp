// Temporary files and directories beside an output target, and their cleanup: on success they
// are renamed into place, on failure removed, on SIGINT/SIGTERM/SIGHUP removed by a watcher
// thread, and after a crash or SIGKILL removed by the next run (their name holds the pid).
//
// Names: TARGET.tmp-<pid>-<random hex>, created with O_EXCL / mkdir so two runs never share one.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace attncert {

/// Starts (once per process) the thread that removes the registered temporaries when SIGINT,
/// SIGTERM or SIGHUP arrives and then ends the process by that signal (exit status 128 + sig in
/// a shell). The signals are blocked in the calling thread and in every thread created after
/// it, so call it early, from the main thread, before starting workers. Signals the process
/// inherited as ignored stay ignored. Forked children get the signals unblocked again.
void install_interrupt_cleanup();

/// Holds off the interrupt cleanup while a temporary is being renamed into place, so the
/// watcher sees it either before the rename (and removes it) or after (and leaves the result).
std::unique_lock<std::mutex> hold_interrupt_cleanup();

/// The pid a temporary's name carries, if `name` is `<prefix>.tmp-<pid>-<16 lowercase hex
/// digits>` (or `.old-` for `marker` "old"); any other name, however alike, is not ours.
std::optional<pid_t> temporary_owner(std::string_view name, std::string_view prefix,
                                     std::string_view marker = "tmp");

/// True when no process with that pid exists (kill(pid, 0) fails with ESRCH).
bool is_dead_process(pid_t pid);

/// Removes TARGET.tmp-<pid>-* (files or directories) beside `target` whose process is gone.
void remove_stale_temporaries(const std::filesystem::path& target);

/// A new, empty file beside `target`, registered for interrupt cleanup; removed by the
/// destructor unless commit() renamed it onto `target`.
class TemporaryFile {
 public:
  explicit TemporaryFile(const std::filesystem::path& target);
  ~TemporaryFile();
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;

  const std::filesystem::path& path() const { return path_; }
  /// Writes all of `content`, flushes it to disk (fsync) and closes the file.
  void write_and_close(std::string_view content);
  /// Renames the file onto the target (replacing a regular file there).
  void commit();

 private:
  std::filesystem::path target_, path_;
  int fd_ = -1;
};

/// A new, empty directory beside `target` (mode 0777 & ~umask), registered for interrupt
/// cleanup; removed by the destructor unless keep() or release() was called.
class TemporaryDirectory {
 public:
  explicit TemporaryDirectory(const std::filesystem::path& target);
  ~TemporaryDirectory();
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;

  const std::filesystem::path& path() const { return path_; }
  /// Leaves the directory on disk (for inspection after a failure): no cleanup at all.
  void keep();
  /// The directory was renamed away by the caller: nothing left to clean up. Call it under
  /// hold_interrupt_cleanup() together with the rename.
  void release();

 private:
  std::filesystem::path path_;
  bool owned_ = false;  // removed by the destructor and on interrupt
};

}  // namespace attncert
