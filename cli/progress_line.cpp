#include "cli/progress_line.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace attncert::cli {

ProgressLine::ProgressLine() : enabled_(::isatty(STDERR_FILENO) == 1) {}

ProgressLine::~ProgressLine() { clear(); }

void ProgressLine::update(const std::string& text) {
  if (!enabled_) return;
  const long now = static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now().time_since_epoch())
                                         .count());
  std::lock_guard<std::mutex> lock(mutex_);
  if (now - last_ms_ < 50) return;
  last_ms_ = now;
  const std::string line = text.size() > 110 ? text.substr(0, 109) + "…" : text;
  std::fprintf(stderr, "\r%s%*s", line.c_str(),
               static_cast<int>(last_width_ > line.size() ? last_width_ - line.size() : 0), "");
  std::fflush(stderr);
  last_width_ = line.size();
}

void ProgressLine::clear() {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (last_width_ == 0) return;
  std::fprintf(stderr, "\r%*s\r", static_cast<int>(last_width_), "");
  std::fflush(stderr);
  last_width_ = 0;
}

}  // namespace attncert::cli
