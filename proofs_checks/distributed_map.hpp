// The one way a job's independent units are spread over processes: MPI ranks (`mpirun -np N
// attncert …`), each rank's threads (-j), and a checkpoint that records finished units so a
// killed run resumes. Every process runs the same command; each distributed_map call is a
// section that all of them reach in the same order. Rank 0 hands out unit indices one at a time
// (dynamic balancing: uneven units never wait on a fixed split) and computes units itself with
// its own threads; at the end of the section it sends every result to every rank, so all ranks
// hold the same vector and go on in step (only rank 0 writes outputs: cli/mpi_world.hpp).
// Results are indexed by unit, so the output is the same whoever computed what.
//
// Two rules keep the ranks in step. A map called inside a unit runs on the unit's own thread,
// locally, and is no section (its units travel inside the enclosing unit's result). A map of a
// single unit runs inline on every rank and is no section either, so the maps inside it are
// sections: one long claim's proof is spread box by box instead of sitting on one rank. What
// runs inline on every rank must be deterministic (no wall-clock budgets under mpirun).
//
// Without a transport (a single process) and without a unit store this is parallel_map. With
// either, every result goes through encode/decode, which must round-trip exactly: a 1-rank run
// with a checkpoint exercises the same bytes that N ranks exchange.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "proofs_checks/parallel_for.hpp"

namespace attncert {

/// Carries units between processes. Installed once by the program (the CLI's MPI transport);
/// the engine knows only this interface.
class UnitTransport {
 public:
  virtual ~UnitTransport() = default;
  virtual int rank() const = 0;
  virtual int ranks() const = 0;
  /// A rank other than 0, for its worker loop `loop` of `loops`: hands in the finished unit's
  /// result (when set) and returns the next unit to compute, or nullopt when `section` has none
  /// left for this loop. Thread-safe.
  virtual std::optional<std::size_t> exchange(std::uint64_t section, std::size_t loop, std::size_t loops,
                                              const std::optional<std::pair<std::size_t, std::string>>& finished) = 0;
  /// Every rank, together: rank 0's `results` replace the others' (a collective call).
  virtual void broadcast(std::vector<std::string>& results) = 0;
  /// Rank 0: answers the other ranks' exchanges for `section` — next() gives a unit or nullopt,
  /// deliver() takes a result — until every loop of every other rank has been told the
  /// section is over, or `stop` is set (rank 0 itself failed; the job is being aborted).
  virtual void serve(std::uint64_t section, const std::function<std::optional<std::size_t>()>& next,
                     const std::function<void(std::size_t, std::string&&)>& deliver,
                     const std::atomic<bool>& stop) = 0;
};

/// Finished units kept across runs (reports/checkpoint.hpp). Used on rank 0 only.
class UnitStore {
 public:
  virtual ~UnitStore() = default;
  /// The stored result of `unit` of `section`, if any.
  virtual std::optional<std::string> load(std::uint64_t section, std::size_t unit) = 0;
  /// Records a finished unit (durably, before the next unit is handed out).
  virtual void save(std::uint64_t section, std::size_t unit, const std::string& bytes) = 0;
};

/// Process-wide, set by the program before any section runs; null: none.
void install_unit_transport(UnitTransport* transport);
void install_unit_store(UnitStore* store);
/// This process's rank (0 without a transport) and the number of ranks (1 without one).
int unit_rank();
int unit_ranks();

/// Whether results cross a process or a file (a transport with more than one rank, or a store).
bool needs_encoding();
/// Advances the section counter (every distributed_map call is one section, on every rank).
std::uint64_t next_section();

/// Whether a checkpoint keeps a section's units. Recomputed: results that must come from this
/// run's own computation (the independent checker's verdicts: a stored file must not decide
/// that a proof is valid).
enum class UnitKeeping { Stored, Recomputed };

/// Whether the calling thread is computing a unit (a map called there runs locally).
bool inside_unit();
/// Marks the calling thread as computing a unit while it lives.
class UnitMark {
 public:
  UnitMark() noexcept;
  ~UnitMark();
  UnitMark(const UnitMark&) = delete;
  UnitMark& operator=(const UnitMark&) = delete;

 private:
  bool outer_;
};

/// The section core: results of task(i) as bytes on every rank (see the file comment).
/// Units already in the store are not recomputed; progress counts them as done.
std::vector<std::string> distributed_units(std::size_t n, int jobs,
                                           const std::function<std::string(std::size_t)>& task,
                                           const TaskProgress& progress = {},
                                           UnitKeeping keeping = UnitKeeping::Stored);

/// parallel_map across processes: {task(0), …, task(n − 1)} on every rank (see the file
/// comment). Inside a unit: parallel_map on this thread alone.
template <class R, class Task, class Encode, class Decode>
std::vector<R> distributed_map(std::size_t n, int jobs, const Task& task, const Encode& encode,
                               const Decode& decode, const TaskProgress& progress = {},
                               UnitKeeping keeping = UnitKeeping::Stored) {
  if (inside_unit()) return parallel_map<R>(n, 1, task, progress);
  if (n == 0) return {};  // every rank has nothing to do alike: no section
  if (n == 1) {
    std::vector<R> one;
    one.push_back(task(0));
    if (progress) progress(1, 1);
    return one;
  }
  if (!needs_encoding() || (keeping == UnitKeeping::Recomputed && unit_ranks() == 1)) {
    next_section();
    return parallel_map<R>(n, jobs, [&](std::size_t i) {
      const UnitMark mark;
      return task(i);
    }, progress);
  }
  const std::vector<std::string> bytes = distributed_units(
      n, jobs, [&](std::size_t i) { return encode(task(i)); }, progress, keeping);
  std::vector<R> results(n);
  for (std::size_t i = 0; i < n; ++i) results[i] = decode(bytes[i]);
  return results;
}
}  // namespace attncert
