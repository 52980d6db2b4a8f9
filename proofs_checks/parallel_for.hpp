// The one way attncert runs independent tasks on worker threads (claims in `verify` and
// `report`, kernel validation cases): results come back in task order, so the output does not
// depend on the number of workers.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

namespace attncert {

/// Progress of a parallel run: tasks done so far and the total; called under a lock, so the
/// callback needs no locking of its own.
using TaskProgress = std::function<void(std::size_t done, std::size_t total)>;

/// Worker threads for `tasks` tasks at `jobs` requested (0: the machine's hardware threads),
/// never more than there are tasks and at least 1.
std::size_t worker_count(int jobs, std::size_t tasks);

/// Calls task(i) for every i in [0, n) on worker_count(jobs, n) threads (the calling thread is
/// one of them). No exception leaves a worker: the first one a task throws stops the handing
/// out of further tasks and is rethrown, unchanged, once every worker has stopped. Each worker
/// thread frees FLINT's per-thread caches before it ends.
void parallel_for(std::size_t n, int jobs, const std::function<void(std::size_t)>& task,
                  const TaskProgress& progress = {});

/// {task(0), …, task(n − 1)} computed by parallel_for (R must be default-constructible).
template <class R, class Task>
std::vector<R> parallel_map(std::size_t n, int jobs, const Task& task,
                            const TaskProgress& progress = {}) {
  std::vector<R> results(n);
  parallel_for(n, jobs, [&](std::size_t i) { results[i] = task(i); }, progress);
  return results;
}

}  // namespace attncert
