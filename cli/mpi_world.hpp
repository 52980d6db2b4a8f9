// The MPI side of a run: started only when the process was launched by mpirun (Open MPI's or
// a PMI launcher's variables in the environment), otherwise absent, so a plain run never pays
// for MPI. Installs the MPI unit transport (proofs_checks/distributed_map.hpp) and silences
// stdout on ranks other than 0: rank 0 prints and writes every output.
#pragma once

namespace attncert::cli {

class MpiWorld {
 public:
  /// Throws std::invalid_argument when launched by mpirun with more than one rank but built
  /// without MPI (N independent copies would each write the same outputs).
  MpiWorld(int& argc, char**& argv);
  ~MpiWorld();  // MPI_Finalize
  MpiWorld(const MpiWorld&) = delete;
  MpiWorld& operator=(const MpiWorld&) = delete;
};

/// Under mpirun with more than one rank, refuses (CLI::ValidationError, exit 3) a subcommand whose
/// work is not spread over ranks: each rank would run all of it and write the same files.
void require_distributable_command(int argc, char** argv);

/// Whether this process writes outputs and prints results: rank 0, or the only process.
bool is_output_rank();
/// "rank R: " under mpirun with more than one rank, "" otherwise (prefix of error lines).
const char* rank_prefix();
/// Ends the whole job with `code` once this rank has failed (MPI_Abort under mpirun, so no
/// rank waits forever for it and mpirun exits non-zero); returns when there is no MPI job.
void abort_job_if_distributed(int code);

}  // namespace attncert::cli
