// A single self-overwriting status line on stderr when stderr is a terminal; silent otherwise
// (CI logs and pipes get only the final results).
#pragma once

#include <mutex>
#include <string>

namespace attncert::cli {

class ProgressLine {
 public:
  ProgressLine();
  ~ProgressLine();
  bool enabled() const noexcept { return enabled_; }
  /// Replaces the line (thread-safe; rate-limited to ~20 updates per second).
  void update(const std::string& text);
  /// Clears the line so that normal output starts at column 0.
  void clear();

 private:
  bool enabled_;
  std::mutex mutex_;
  long last_ms_ = 0;
  std::size_t last_width_ = 0;
};

}  // namespace attncert::cli
