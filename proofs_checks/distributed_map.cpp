#include "proofs_checks/distributed_map.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace attncert {
namespace {

UnitTransport* g_transport = nullptr;
UnitStore* g_store = nullptr;
std::uint64_t g_section = 0;  // sections are entered by the main thread, in program order
thread_local bool t_inside_unit = false;

// ATTNCERT_UNIT_TIMES=PREFIX: each rank appends "section unit seconds bytes finished_at" per
// unit it computes to PREFIX.RANK (finished_at: seconds since the rank's first section) — the unit-cost distribution behind docs/mpi.md's scaling model.
std::FILE* unit_times_file() {
  static std::FILE* file = [] {
    const char* prefix = std::getenv("ATTNCERT_UNIT_TIMES");
    if (!prefix || !*prefix) return static_cast<std::FILE*>(nullptr);
    return std::fopen((std::string(prefix) + "." + std::to_string(unit_rank())).c_str(), "a");
  }();
  return file;
}

std::string run_unit(const std::function<std::string(std::size_t)>& task, std::size_t i, std::uint64_t section) {
  const UnitMark mark;
  const auto start = std::chrono::steady_clock::now();
  std::string bytes = task(i);
  if (std::FILE* f = unit_times_file()) {
    static std::mutex mutex;
    const std::lock_guard<std::mutex> lock(mutex);
    static const auto first = start;
    const auto now = std::chrono::steady_clock::now();
    std::fprintf(f, "%llu %zu %.6f %zu %.3f\n", static_cast<unsigned long long>(section), i,
                 std::chrono::duration<double>(now - start).count(), bytes.size(),
                 std::chrono::duration<double>(now - first).count());
    std::fflush(f);
  }
  return bytes;
}

// Rank 0's dispenser: the next unit that is neither stored nor handed out; results in order.
class UnitLedger {
 public:
  UnitLedger(std::size_t n, std::uint64_t section, const TaskProgress& progress, UnitKeeping keeping)
      : results_(n), have_(n, false), section_(section), progress_(progress),
        store_(keeping == UnitKeeping::Stored ? g_store : nullptr) {
    if (store_) {
      for (std::size_t i = 0; i < n; ++i) {
        if (std::optional<std::string> bytes = store_->load(section, i)) {
          results_[i] = std::move(*bytes);
          have_[i] = true;
          ++done_;
        }
      }
    }
    if (progress_ && done_ > 0) progress_(done_, results_.size());
  }

  std::optional<std::size_t> next() {
    const std::lock_guard<std::mutex> lock(mutex_);
    while (next_ < results_.size() && have_[next_]) ++next_;
    if (next_ >= results_.size()) return std::nullopt;
    return next_++;
  }

  void deliver(std::size_t unit, std::string&& bytes) {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (unit >= results_.size() || have_[unit]) {
      throw std::logic_error("a rank returned unit " + std::to_string(unit) + ", which was not handed out");
    }
    if (store_) store_->save(section_, unit, bytes);
    results_[unit] = std::move(bytes);
    have_[unit] = true;
    ++done_;
    if (progress_) progress_(done_, results_.size());
  }

  std::vector<std::string> take() {
    for (std::size_t i = 0; i < have_.size(); ++i) {
      if (!have_[i]) throw std::logic_error("unit " + std::to_string(i) + " of a section never came back");
    }
    return std::move(results_);
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> results_;
  std::vector<bool> have_;
  std::size_t next_ = 0;
  std::size_t done_ = 0;
  std::uint64_t section_;
  const TaskProgress& progress_;
  UnitStore* store_;
};

// Worker loops of this process: `loops` of them, each pulling units until none is left.
std::size_t worker_loops(int jobs, std::size_t n) { return worker_count(jobs, n); }

std::vector<std::string> run_on_rank_zero(std::size_t n, int jobs, std::uint64_t section,
                                          const std::function<std::string(std::size_t)>& task,
                                          const TaskProgress& progress, UnitKeeping keeping) {
  UnitLedger ledger(n, section, progress, keeping);
  std::atomic<bool> stop{false};
  std::exception_ptr coordinator_error;
  std::thread coordinator;
  if (g_transport && g_transport->ranks() > 1) {
    coordinator = std::thread([&] {
      try {
        g_transport->serve(section, [&] { return ledger.next(); },
                           [&](std::size_t unit, std::string&& bytes) { ledger.deliver(unit, std::move(bytes)); },
                           stop);
      } catch (...) {
        coordinator_error = std::current_exception();
      }
    });
  }
  const std::size_t loops = worker_loops(jobs, n);
  try {
    parallel_for(loops, static_cast<int>(loops), [&](std::size_t) {
      while (!stop) {
        const std::optional<std::size_t> unit = ledger.next();
        if (!unit) break;
        ledger.deliver(*unit, run_unit(task, *unit, section));
      }
    });
  } catch (...) {
    stop = true;
    if (coordinator.joinable()) coordinator.join();
    throw;
  }
  if (coordinator.joinable()) coordinator.join();
  if (coordinator_error) std::rethrow_exception(coordinator_error);
  return ledger.take();
}

void run_on_other_rank(std::size_t n, int jobs, std::uint64_t section,
                       const std::function<std::string(std::size_t)>& task) {
  const std::size_t loops = worker_loops(jobs, n);
  parallel_for(loops, static_cast<int>(loops), [&](std::size_t loop) {
    std::optional<std::pair<std::size_t, std::string>> finished;
    while (const std::optional<std::size_t> unit = g_transport->exchange(section, loop, loops, finished)) {
      finished.emplace(*unit, run_unit(task, *unit, section));
    }
  });
}

}  // namespace

void install_unit_transport(UnitTransport* transport) { g_transport = transport; }
void install_unit_store(UnitStore* store) { g_store = store; }
int unit_rank() { return g_transport ? g_transport->rank() : 0; }
int unit_ranks() { return g_transport ? g_transport->ranks() : 1; }
bool inside_unit() { return t_inside_unit; }
UnitMark::UnitMark() noexcept : outer_(t_inside_unit) { t_inside_unit = true; }
UnitMark::~UnitMark() { t_inside_unit = outer_; }

bool needs_encoding() { return g_store != nullptr || unit_ranks() > 1; }
std::uint64_t next_section() { return g_section++; }

std::vector<std::string> distributed_units(std::size_t n, int jobs,
                                           const std::function<std::string(std::size_t)>& task,
                                           const TaskProgress& progress, UnitKeeping keeping) {
  const std::uint64_t section = next_section();
  std::vector<std::string> results;
  if (unit_rank() == 0) {
    results = run_on_rank_zero(n, jobs, section, task, progress, keeping);
  } else {
    run_on_other_rank(n, jobs, section, task);
  }
  if (g_transport && g_transport->ranks() > 1) g_transport->broadcast(results);
  return results;
}

}  // namespace attncert
