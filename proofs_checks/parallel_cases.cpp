#include "proofs_checks/parallel_cases.hpp"

#include <flint/flint.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

namespace attncert {
namespace {

std::size_t case_workers(int jobs, std::size_t cases) {
  std::size_t w = jobs > 0 ? static_cast<std::size_t>(jobs)
                           : std::max(1u, std::thread::hardware_concurrency());
  return std::max<std::size_t>(1, std::min(w, cases));
}

}  // namespace

std::vector<KernelCheckRow> run_cases_in_parallel(
    std::size_t n, int jobs, const std::function<std::vector<KernelCheckRow>(std::size_t)>& rows,
    const std::function<void(std::size_t, std::size_t)>& progress, std::size_t units_per_case) {
  std::vector<std::vector<KernelCheckRow>> results(n);
  std::atomic<std::size_t> next{0};
  std::mutex mutex;  // guards done, first_error and progress
  std::size_t done = 0;
  std::exception_ptr first_error;
  const std::size_t total = n * units_per_case;
  auto work = [&](bool own_thread) {
    for (std::size_t i = next++; i < n; i = next++) {
      try {
        results[i] = rows(i);
        const std::lock_guard<std::mutex> lock(mutex);
        done += units_per_case;
        if (progress) progress(done, total);
      } catch (...) {  // never let an exception leave a worker thread (std::terminate)
        const std::lock_guard<std::mutex> lock(mutex);
        if (!first_error) first_error = std::current_exception();
        next = n;  // stop handing out cases
        break;
      }
    }
    if (own_thread) flint_cleanup();  // Arb/FLINT per-thread caches die with the thread
  };
  const std::size_t workers = case_workers(jobs, n);
  std::vector<std::thread> threads;
  try {
    for (std::size_t w = 1; w < workers; ++w) threads.emplace_back(work, true);
  } catch (...) {  // could not start a thread: the ones running finish the cases
  }
  work(false);  // the calling thread works too
  for (std::thread& t : threads) t.join();
  if (first_error) std::rethrow_exception(first_error);
  std::vector<KernelCheckRow> out;
  for (auto& r : results) out.insert(out.end(), std::make_move_iterator(r.begin()),
                                     std::make_move_iterator(r.end()));
  return out;
}

}  // namespace attncert
