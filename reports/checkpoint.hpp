// --checkpoint DIR: the finished units of a run (proofs_checks/distributed_map.hpp), one file
// each, so that a run killed at any moment (SIGKILL, node loss, walltime) and started again
// with the same arguments computes only what is missing and writes the same bytes.
//
//   DIR/job.json              {"format": "attncert-checkpoint", "version": 1,
//                              "attncert": VERSION, "key": SHA-256 of the arguments,
//                              "arguments": [...]}   (the arguments for a reader; the key decides)
//   DIR/units/S-U.unit        unit U of section S: "attncert-unit-1\n", the SHA-256 of the
//                              payload (64 hex digits) and "\n", then the payload
//
// Every file is written through a temporary renamed into place, so a kill leaves whole files
// or none. A directory written by other arguments or another attncert version is refused, and
// a damaged unit file is refused naming it — never silently recomputed or trusted.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proofs_checks/distributed_map.hpp"
#include "reports/output_file.hpp"

namespace attncert {

class CheckpointDirectory final : public UnitStore {
 public:
  /// Creates DIR (or opens an existing checkpoint) and locks it against a second run. Throws
  /// std::invalid_argument "--checkpoint DIR: …" (exit 4) for a checkpoint of other arguments,
  /// another version or format, or a path that is not a usable directory.
  CheckpointDirectory(const std::filesystem::path& dir, const std::string& version,
                      const std::vector<std::string>& arguments);
  std::optional<std::string> load(std::uint64_t section, std::size_t unit) override;
  void save(std::uint64_t section, std::size_t unit, const std::string& bytes) override;
  /// Units found in the directory when it was opened (for the "resuming" line).
  std::size_t units_found() const noexcept { return units_found_; }

 private:
  std::filesystem::path unit_path(std::uint64_t section, std::size_t unit) const;
  std::filesystem::path dir_;
  std::unique_ptr<OutputDirectoryLock> lock_;
  std::size_t units_found_ = 0;
};

}  // namespace attncert
