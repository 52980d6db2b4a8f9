// Long work off the Python thread: the work runs on a worker thread while the caller waits with
// the GIL released, re-acquiring it every ~50 ms to let Python run its signal handlers. On a
// signal (Ctrl-C: KeyboardInterrupt) it requests the cancellation token, waits for the worker
// to stop and raises the Python exception the handler set.
#pragma once

#include <functional>

#include "numerics/cancellation.hpp"

namespace attncert::python {

/// Runs work(cancel) on a worker thread; rethrows what the work throws (attncert::Cancelled
/// when it stopped because of the token and no Python error is pending). Must be called with
/// the GIL held. Work without a cancellation hook still runs with the GIL released; a signal
/// then takes effect when the work ends.
void run_interruptible(const std::function<void(const Cancellation&)>& work);

}  // namespace attncert::python
