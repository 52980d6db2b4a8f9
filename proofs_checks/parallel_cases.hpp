// Runs independent validation cases on worker threads and returns their rows in case order, so
// the output does not depend on the number of jobs (each case draws from its own Rng
// substream). Progress is reported under a lock, as cases finish.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "proofs_checks/kernel_check.hpp"

namespace attncert {

/// rows(i) for i in [0, n), concatenated in order of i, on min(jobs, n) threads (jobs 0: the
/// machine's hardware threads). The first exception a case throws is rethrown after every
/// worker has stopped. Each case counts `units_per_case` progress units (e.g. the dtypes it
/// covers); progress(done, total) is called under a lock.
std::vector<KernelCheckRow> run_cases_in_parallel(
    std::size_t n, int jobs, const std::function<std::vector<KernelCheckRow>(std::size_t)>& rows,
    const std::function<void(std::size_t done, std::size_t total)>& progress,
    std::size_t units_per_case = 1);

}  // namespace attncert
