// How many units per second rank 0's coordinator hands out to the other ranks (issue 15), the
// figure that bounds how many ranks a job of short units can keep busy. Units on the other
// ranks do no work: each returns `bytes` bytes, so their time is the exchange alone (a request
// carrying the previous result, a reply). Rank 0's own worker sleeps 0.2 s per unit it takes,
// so that nearly every unit goes through the coordinator, whose thread then has a core.
//   mpirun -np 2 build/bench/unit_dispatch_bench [UNITS] [BYTES]
// Prints units handed to the other ranks per second, the figure docs/mpi.md's model uses.
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "cli/mpi_world.hpp"
#include "proofs_checks/distributed_map.hpp"

int main(int argc, char** argv) {
  attncert::cli::MpiWorld world(argc, argv);
  const std::size_t units = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 200000;
  const std::size_t bytes = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 64;
  std::atomic<std::size_t> local{0};
  const auto unit = [&](std::size_t) {
    if (attncert::unit_rank() == 0) {
      ++local;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return std::string(bytes, 'u');
  };
  const auto same = [](const std::string& s) { return s; };
  const auto start = std::chrono::steady_clock::now();
  const std::vector<std::string> out =
      attncert::distributed_map<std::string>(units, 1, unit, same, same);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (attncert::unit_rank() == 0) {
    const double remote = static_cast<double>(units - local.load());
    fmt::print("ranks {}  units {}  bytes/unit {}  {:.3f} s: {:.0f} units/s handed out to the other ranks "
               "({:.1f} us per unit; {} units taken by rank 0's sleeping worker)\n",
               attncert::unit_ranks(), units, bytes, seconds, remote / seconds, 1e6 * seconds / remote, local.load());
  }
  return out.size() == units ? 0 : 1;
}
