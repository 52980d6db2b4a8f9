// Cooperative cancellation of long computations (the Python module's Ctrl-C: the caller's
// thread waits with the GIL released and requests cancellation when Python reports a signal).
// Long loops call throw_if_requested() at block boundaries; a requested cancellation surfaces as
// attncert::Cancelled, never as a partial result.
#pragma once

#include <atomic>
#include <stdexcept>

namespace attncert {

struct Cancelled : std::runtime_error {
  Cancelled() : std::runtime_error("interrupted") {}
};

class Cancellation {
 public:
  void request() noexcept { requested_.store(true, std::memory_order_relaxed); }
  bool requested() const noexcept { return requested_.load(std::memory_order_relaxed); }
  void throw_if_requested() const {
    if (requested()) throw Cancelled();
  }

 private:
  std::atomic<bool> requested_{false};
};

/// For an optional token: no-op when null.
inline void throw_if_cancelled(const Cancellation* c) {
  if (c != nullptr) c->throw_if_requested();
}

}  // namespace attncert
