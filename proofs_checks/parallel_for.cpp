#include "proofs_checks/parallel_for.hpp"

#include <flint/flint.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

namespace attncert {

std::size_t worker_count(int jobs, std::size_t tasks) {
  const std::size_t wanted = jobs > 0 ? static_cast<std::size_t>(jobs)
                                      : std::max(1u, std::thread::hardware_concurrency());
  return std::max<std::size_t>(1, std::min(wanted, tasks));
}

void parallel_for(std::size_t n, int jobs, const std::function<void(std::size_t)>& task,
                  const TaskProgress& progress) {
  std::atomic<std::size_t> next{0};
  std::mutex mutex;  // guards done, first_error and the progress callback
  std::size_t done = 0;
  std::exception_ptr first_error;
  const auto work = [&](bool own_thread) {
    for (std::size_t i = next++; i < n; i = next++) {
      try {
        task(i);
        const std::lock_guard<std::mutex> lock(mutex);
        ++done;
        if (progress) progress(done, n);
      } catch (...) {  // an exception leaving a thread would call std::terminate
        const std::lock_guard<std::mutex> lock(mutex);
        if (!first_error) first_error = std::current_exception();
        next = n;  // stop handing out tasks
        break;
      }
    }
    if (own_thread) flint_cleanup();  // Arb/FLINT per-thread caches die with the thread
  };
  const std::size_t workers = worker_count(jobs, n);
  std::vector<std::thread> threads;
  try {
    for (std::size_t w = 1; w < workers; ++w) threads.emplace_back(work, true);
  } catch (...) {  // could not start a thread: the ones running share its tasks
  }
  work(false);
  for (std::thread& t : threads) t.join();
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace attncert
