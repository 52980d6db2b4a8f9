// The one parallel-for: results in task order whatever the number of workers, progress counted
// under a lock, the first exception rethrown unchanged after every worker stopped.
#include "proofs_checks/parallel_for.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace attncert {
namespace {

// Tasks of uneven length (by index), so that with several workers they finish out of order.
std::string uneven_task(std::size_t i) {
  std::this_thread::sleep_for(std::chrono::microseconds((i * 7919) % 13 * 100));
  return "task " + std::to_string(i);
}

TEST(WorkerCount, ZeroMeansHardwareThreadsAndNeverMoreThanTheTasks) {
  const std::size_t hardware = std::max(1u, std::thread::hardware_concurrency());
  EXPECT_EQ(worker_count(0, 1000), std::min<std::size_t>(hardware, 1000));
  EXPECT_EQ(worker_count(3, 1000), 3u);
  EXPECT_EQ(worker_count(8, 2), 2u);
  EXPECT_EQ(worker_count(4, 0), 1u);  // at least one (it returns at once)
}

TEST(ParallelFor, ResultsInTaskOrderWhateverTheNumberOfJobs) {
  const std::size_t n = 64;
  const auto serial = parallel_map<std::string>(n, 1, uneven_task);
  ASSERT_EQ(serial.size(), n);
  for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(serial[i], "task " + std::to_string(i));
  for (int jobs : {2, 3, 8, 0}) {
    SCOPED_TRACE("jobs " + std::to_string(jobs));
    EXPECT_EQ(parallel_map<std::string>(n, jobs, uneven_task), serial);
  }
}

TEST(ParallelFor, EveryTaskRunsOnceAndProgressCountsUpUnderALock) {
  const std::size_t n = 200;
  std::vector<std::atomic<int>> runs(n);
  std::vector<std::size_t> seen;  // appended to by the callback without a lock of its own
  int inside = 0, overlap = 0;
  parallel_for(
      n, 4, [&](std::size_t i) { ++runs[i]; },
      [&](std::size_t done, std::size_t total) {
        overlap += inside++ != 0;  // a second caller inside at once would be a data race
        EXPECT_EQ(total, n);
        seen.push_back(done);
        --inside;
      });
  for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(runs[i].load(), 1) << "task " << i;
  EXPECT_EQ(overlap, 0);
  ASSERT_EQ(seen.size(), n);
  for (std::size_t k = 0; k < n; ++k) EXPECT_EQ(seen[k], k + 1);
}

TEST(ParallelFor, TheFirstExceptionIsRethrownUnchangedAfterAllWorkersStopped) {
  for (int jobs : {1, 2, 4}) {
    SCOPED_TRACE("jobs " + std::to_string(jobs));
    std::atomic<int> running{0}, started{0};
    try {
      parallel_for(100, jobs, [&](std::size_t i) {
        ++running;
        ++started;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        --running;
        if (i == 5) throw std::invalid_argument("task 5 failed");
      });
      ADD_FAILURE() << "no exception";
    } catch (const std::invalid_argument& e) {  // the type survives: callers classify it
      EXPECT_STREQ(e.what(), "task 5 failed");
    }
    EXPECT_EQ(running.load(), 0);  // no task still running when the exception arrives
    // Tasks stop being handed out: one worker stops right after task 5; with more, the others
    // finish the task they hold (1 ms each), far from reaching all 100.
    if (jobs == 1) EXPECT_EQ(started.load(), 6);
    else EXPECT_LT(started.load(), 100);
  }
}

TEST(ParallelFor, ATaskThatThrowsSomethingElseIsRethrownToo) {
  EXPECT_THROW(parallel_for(10, 3, [](std::size_t i) {
                 if (i == 9) throw 42;  // not a std::exception: must not std::terminate
               }),
               int);
}

TEST(ParallelFor, NoTasksIsNoWork) {
  int calls = 0;
  parallel_for(0, 4, [&](std::size_t) { ++calls; }, [&](std::size_t, std::size_t) { ++calls; });
  EXPECT_EQ(calls, 0);
  EXPECT_TRUE(parallel_map<int>(0, 0, [](std::size_t) { return 1; }).empty());
}

}  // namespace
}  // namespace attncert
