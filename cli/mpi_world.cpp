#include "cli/mpi_world.hpp"

#include <CLI/CLI.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "proofs_checks/distributed_map.hpp"

#ifdef ATTNCERT_HAVE_MPI
#include <mpi.h>

#include <chrono>
#include <algorithm>
#include <climits>
#include <mutex>
#include <thread>
#include <vector>

#include "proofs_checks/byte_codec.hpp"
#endif

namespace attncert::cli {
namespace {

// The number of processes a launcher started, read from its environment (0: not launched).
int launched_ranks() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"}) {
    if (const char* v = std::getenv(name)) return std::atoi(v);
  }
  return 0;
}

bool g_distributed = false;  // MPI started with more than one rank
char g_prefix[32] = "";

#ifdef ATTNCERT_HAVE_MPI
constexpr int kRequestTag = 7301;
constexpr int kReplyTag = 7302;

// A worker loop's request: section, loop, loops, then (optional) the finished unit and its
// result. The reply: one byte (1: a unit follows, 0: the section is over) and the unit.
class MpiUnitTransport final : public UnitTransport {
 public:
  MpiUnitTransport(int rank, int ranks) : rank_(rank), ranks_(ranks) {
    // Fault injection for the mpi tests: this rank fails on its first exchange, as a rank whose
    // node dies or whose unit throws would, and the job must end non-zero with its message.
    if (const char* v = std::getenv("ATTNCERT_TEST_FAIL_RANK")) fail_ = std::atoi(v) == rank;
  }
  int rank() const override { return rank_; }
  int ranks() const override { return ranks_; }

  std::optional<std::size_t> exchange(std::uint64_t section, std::size_t loop, std::size_t loops,
                                      const std::optional<std::pair<std::size_t, std::string>>& finished) override {
    if (fail_) throw std::runtime_error("injected failure (ATTNCERT_TEST_FAIL_RANK)");
    ByteWriter w;
    w.u64(section);
    w.u64(loop);
    w.u64(loops);
    w.boolean(finished.has_value());
    if (finished) {
      w.u64(finished->first);
      w.text(finished->second);
    }
    const std::string& message = w.bytes();
    if (message.size() > static_cast<std::size_t>(INT_MAX)) {
      throw std::runtime_error("a unit's result is larger than one MPI message (2 GiB)");
    }
    char reply[9];
    // MPI_THREAD_SERIALIZED: one exchange at a time per rank; holding the lock across the
    // reply also keeps each loop's reply its own.
    const std::lock_guard<std::mutex> lock(mutex_);
    check(MPI_Send(message.data(), static_cast<int>(message.size()), MPI_BYTE, 0, kRequestTag, MPI_COMM_WORLD),
          "MPI_Send");
    check(MPI_Recv(reply, sizeof reply, MPI_BYTE, 0, kReplyTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "MPI_Recv");
    ByteReader r(std::string_view(reply, sizeof reply));
    const bool has = r.boolean("reply");
    const std::uint64_t unit = r.u64("reply unit");
    if (!has) return std::nullopt;
    return static_cast<std::size_t>(unit);
  }

  void broadcast(std::vector<std::string>& results) override {
    std::string packed;
    if (rank_ == 0) {
      ByteWriter w;
      w.u64(results.size());
      for (const std::string& r : results) w.text(r);
      packed = std::move(w).bytes();
    }
    std::uint64_t size = packed.size();
    check(MPI_Bcast(&size, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD), "MPI_Bcast");
    packed.resize(size);
    constexpr std::uint64_t kChunk = 1u << 30;  // MPI counts are ints
    for (std::uint64_t at = 0; at < size; at += kChunk) {
      const int length = static_cast<int>(std::min(kChunk, size - at));
      check(MPI_Bcast(packed.data() + at, length, MPI_BYTE, 0, MPI_COMM_WORLD), "MPI_Bcast");
    }
    if (rank_ != 0) {
      ByteReader r(packed);
      results.assign(r.count("broadcast results", 8), std::string());
      for (std::string& one : results) one = r.text("broadcast result");
      r.finish("broadcast");
    }
  }

  void serve(std::uint64_t section, const std::function<std::optional<std::size_t>()>& next,
             const std::function<void(std::size_t, std::string&&)>& deliver,
             const std::atomic<bool>& stop) override {
    std::vector<std::uint64_t> loops(ranks_, 0), ended(ranks_, 0);
    int ranks_open = ranks_ - 1;
    std::string buffer;
    auto idle = std::chrono::microseconds(20);
    while (ranks_open > 0 && !stop) {
      int flag = 0;
      MPI_Status status;
      check(MPI_Iprobe(MPI_ANY_SOURCE, kRequestTag, MPI_COMM_WORLD, &flag, &status), "MPI_Iprobe");
      if (!flag) {
        // Polling, not a blocking receive: Open MPI's blocking receive spins a core, which on a
        // 2-core machine would take one from the ranks computing. The wait grows to 1 ms.
        std::this_thread::sleep_for(idle);
        idle = std::min(idle * 2, std::chrono::microseconds(1000));
        continue;
      }
      idle = std::chrono::microseconds(20);
      int count = 0;
      check(MPI_Get_count(&status, MPI_BYTE, &count), "MPI_Get_count");
      buffer.resize(static_cast<std::size_t>(count));
      check(MPI_Recv(buffer.data(), count, MPI_BYTE, status.MPI_SOURCE, kRequestTag, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE), "MPI_Recv");
      const int from = status.MPI_SOURCE;
      ByteReader r(buffer);
      const std::uint64_t their_section = r.u64("request section");
      r.u64("request loop");
      const std::uint64_t their_loops = r.u64("request loops");
      if (their_section != section) {
        throw std::logic_error("rank " + std::to_string(from) + " is in section " + std::to_string(their_section) +
                               ", rank 0 in " + std::to_string(section) + " (ranks ran different commands?)");
      }
      loops[from] = their_loops;
      if (r.boolean("request has result")) {
        const std::size_t unit = static_cast<std::size_t>(r.u64("request unit"));
        std::string bytes = r.text("request result");
        r.finish("request");
        deliver(unit, std::move(bytes));
      }
      const std::optional<std::size_t> unit = next();
      ByteWriter w;
      w.boolean(unit.has_value());
      w.u64(unit.value_or(0));
      check(MPI_Send(w.bytes().data(), static_cast<int>(w.bytes().size()), MPI_BYTE, from, kReplyTag,
                     MPI_COMM_WORLD), "MPI_Send");
      if (!unit && ++ended[from] == loops[from]) --ranks_open;
    }
  }

 private:
  static void check(int rc, const char* call) {
    if (rc != MPI_SUCCESS) {
      char text[MPI_MAX_ERROR_STRING];
      int length = 0;
      MPI_Error_string(rc, text, &length);
      throw std::runtime_error(std::string(call) + " failed: " + std::string(text, length));
    }
  }
  int rank_, ranks_;
  bool fail_ = false;
  std::mutex mutex_;
};

MpiUnitTransport* g_transport = nullptr;
#endif

}  // namespace

MpiWorld::MpiWorld(int& argc, char**& argv) {
  const int launched = launched_ranks();
#ifdef ATTNCERT_HAVE_MPI
  if (launched < 1) return;
  int provided = 0;
  if (MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS) {
    throw std::runtime_error("MPI_Init_thread failed");
  }
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  if (ranks < 2) return;
  if (provided < MPI_THREAD_SERIALIZED) {
    throw std::runtime_error("this MPI library does not support MPI_THREAD_SERIALIZED, which attncert's ranks need");
  }
  g_distributed = true;
  std::snprintf(g_prefix, sizeof g_prefix, "rank %d: ", rank);
  g_transport = new MpiUnitTransport(rank, ranks);
  install_unit_transport(g_transport);
  if (rank != 0) {  // rank 0 prints the results; the others would print the same or less
    std::fflush(stdout);
    const int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) {
      ::dup2(null, STDOUT_FILENO);
      ::close(null);
    }
  }
#else
  (void)argc;
  (void)argv;
  if (launched > 1) {
    throw std::invalid_argument(
        "this attncert was built without MPI (Debian package libopenmpi-dev): under mpirun each of the " +
        std::to_string(launched) + " processes would run the whole job alone and write the same outputs");
  }
#endif
}

MpiWorld::~MpiWorld() {
#ifdef ATTNCERT_HAVE_MPI
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) {
    install_unit_transport(nullptr);
    MPI_Finalize();
  }
#endif
}

void require_distributable_command(int argc, char** argv) {
  if (unit_ranks() < 2) return;
  std::string command;
  for (int i = 1; i < argc && command.empty(); ++i) {
    if (argv[i][0] != '-') command = argv[i];
  }
  // No command: --help or --version, which do no work. Commands whose units go through
  // distributed_map and whose outputs only rank 0 writes.
  if (command.empty()) return;
  for (const char* known : {"verify", "check-kernel", "check-proof", "sweep", "report", "list", "info"}) {
    if (command == known) return;
  }
  throw CLI::ValidationError("mpirun", "`attncert " + command + "` does not spread its work over MPI ranks yet "
                                       "(verify, sweep, check-kernel, report and check-proof do): run it "
                                       "without mpirun");
}

bool is_output_rank() { return unit_rank() == 0; }
const char* rank_prefix() { return g_prefix; }

void abort_job_if_distributed(int code) {
#ifdef ATTNCERT_HAVE_MPI
  if (g_distributed) {
    std::fflush(stdout);
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
  }
#else
  (void)code;
#endif
}

}  // namespace attncert::cli
