#include "python/gil_wait.hpp"

#include <flint/flint.h>
#include <pybind11/pybind11.h>

#include <chrono>
#include <exception>
#include <future>
#include <thread>

namespace py = pybind11;

namespace attncert::python {

void run_interruptible(const std::function<void(const Cancellation&)>& work) {
  Cancellation cancel;
  std::promise<void> done;
  std::future<void> finished = done.get_future();
  std::thread worker([&] {
    try {
      work(cancel);
      done.set_value();
    } catch (...) {
      done.set_exception(std::current_exception());
    }
    flint_cleanup();  // Arb/FLINT per-thread caches die with the thread
  });
  bool interrupted = false;
  {
    py::gil_scoped_release release;
    while (finished.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
      py::gil_scoped_acquire acquire;
      if (PyErr_CheckSignals() != 0) {  // a handler raised (KeyboardInterrupt): stop the work
        interrupted = true;
        cancel.request();
        py::gil_scoped_release again;
        finished.wait();
        break;
      }
    }
  }
  worker.join();
  if (interrupted) throw py::error_already_set();  // the handler's exception, still pending
  finished.get();                                  // rethrows the work's exception
}

}  // namespace attncert::python
