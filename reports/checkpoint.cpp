#include "reports/checkpoint.hpp"

#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "numerics/sha256.hpp"
#include "reports/output_file.hpp"
#include "reports/temporary_path.hpp"

namespace attncert {
namespace fs = std::filesystem;
namespace {

constexpr const char* kFormat = "attncert-checkpoint";
constexpr int kFormatVersion = 1;
constexpr std::string_view kUnitMagic = "attncert-unit-1\n";

std::optional<std::string> read_whole(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return std::move(s).str();
}

std::string key_of(const std::string& version, const std::vector<std::string>& arguments) {
  std::string joined = version;
  for (const std::string& a : arguments) {
    joined += '\0';
    joined += a;
  }
  return sha256_hex(joined);
}

}  // namespace

CheckpointDirectory::CheckpointDirectory(const fs::path& dir, const std::string& version,
                                         const std::vector<std::string>& arguments)
    : dir_(dir) {
  const std::string where = "--checkpoint " + dir.string();
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    throw std::invalid_argument(where + ": exists and is not a directory");
  }
  lock_ = std::make_unique<OutputDirectoryLock>(dir);  // creates it; a second run is refused
  fs::create_directories(dir / "units", ec);
  if (ec) throw std::invalid_argument(fmt::format("{}: cannot create units/: {}", where, ec.message()));
  const std::string key = key_of(version, arguments);
  const fs::path job = dir / "job.json";
  if (fs::exists(job, ec)) {
    const std::optional<std::string> text = read_whole(job);
    if (!text) throw std::invalid_argument(where + ": job.json cannot be read");
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(*text);
    } catch (const nlohmann::json::exception&) {
      throw std::invalid_argument(where + ": job.json is not JSON (not a checkpoint, or damaged)");
    }
    if (!j.is_object() || j.value("format", "") != kFormat || j.value("version", 0) != kFormatVersion) {
      throw std::invalid_argument(where + ": job.json is not an attncert checkpoint of format version 1");
    }
    if (j.value("attncert", "") != version) {
      throw std::invalid_argument(fmt::format("{}: written by attncert {}, this is {}; start a new checkpoint",
                                              where, j.value("attncert", "?"), version));
    }
    if (j.value("key", "") != key) {
      throw std::invalid_argument(where + ": written by a run with other arguments (its job.json lists them); "
                                          "resume with the same arguments or start a new checkpoint");
    }
    std::vector<fs::path> partial;  // a killed run's unit temporaries: "S-U.unit.tmp-PID-…"
    for (const auto& entry : fs::directory_iterator(dir / "units", ec)) {
      const std::string name = entry.path().filename().string();
      if (entry.path().extension() == ".unit") {
        ++units_found_;
      } else if (const std::size_t at = name.find(".unit.tmp-"); at != std::string::npos) {
        partial.push_back(dir / "units" / name.substr(0, at + 5));
      }
    }
    // Cleaned once here, so save() need not scan the directory for each unit.
    for (const fs::path& unit : partial) remove_stale_temporaries(unit);
  } else {
    nlohmann::json j = {{"format", kFormat}, {"version", kFormatVersion}, {"attncert", version},
                        {"key", key}, {"arguments", arguments}};
    write_file_atomically(job.string(), j.dump(2) + "\n");
  }
}

fs::path CheckpointDirectory::unit_path(std::uint64_t section, std::size_t unit) const {
  return dir_ / "units" / fmt::format("{}-{}.unit", section, unit);
}

std::optional<std::string> CheckpointDirectory::load(std::uint64_t section, std::size_t unit) {
  const fs::path path = unit_path(section, unit);
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  const std::optional<std::string> text = read_whole(path);
  const std::size_t header = kUnitMagic.size() + 65;
  if (!text || text->size() < header || std::string_view(*text).substr(0, kUnitMagic.size()) != kUnitMagic ||
      (*text)[header - 1] != '\n') {
    throw std::invalid_argument(fmt::format("checkpoint unit {}: not a unit file of this format; remove it to "
                                            "recompute the unit", path.string()));
  }
  std::string payload = text->substr(header);
  if (sha256_hex(payload) != text->substr(kUnitMagic.size(), 64)) {
    throw std::invalid_argument(fmt::format("checkpoint unit {}: damaged (its SHA-256 does not match); remove it "
                                            "to recompute the unit", path.string()));
  }
  return payload;
}

void CheckpointDirectory::save(std::uint64_t section, std::size_t unit, const std::string& bytes) {
  write_file_atomically(unit_path(section, unit).string(),
                        std::string(kUnitMagic) + sha256_hex(bytes) + "\n" + bytes,
                        StaleTemporaries::LeftToCaller);
}

}  // namespace attncert
