#include "cli/replay_command.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <system_error>

#include "proofs_checks/conjecture_claim.hpp"
#include "theory/model_rows.hpp"
#include "cli/exit_codes.hpp"
#include "numerics/precision.hpp"
#include "proofs_checks/verifier.hpp"
#include "reports/result_records.hpp"
#include "theory/catalog.hpp"

namespace attncert::cli {
namespace {

// The conjecture a counterexample file carries, or nullptr for a catalog claim. A conjecture is
// rebuilt from its own texts and must carry the id verify writes for it; a catalog id with an
// expression would pair a catalog statement with a foreign inequality.
std::unique_ptr<Claim> conjecture_of_file(const std::string& path, const nlohmann::json& j) {
  if (!j.contains("expression") && !j.contains("domain")) return nullptr;
  if (!j.contains("expression") || !j["expression"].is_string() || !j.contains("domain") ||
      !j["domain"].is_string()) {
    throw std::invalid_argument(
        fmt::format("{}: a conjecture needs 'expression' and 'domain', both strings", path));
  }
  std::unique_ptr<Claim> claim = conjecture_claim(j["expression"], j["domain"]);
  const std::string& id = j["claim"].get_ref<const std::string&>();
  if (id != claim->info().id) {
    throw std::invalid_argument(fmt::format(
        "{}: claim '{}' comes with an 'expression', which only a conjecture (claim '{}') has", path,
        id, claim->info().id));
  }
  return claim;
}

// Counterexample files are small (an instance and its enclosures); a larger one is not ours.
constexpr std::uintmax_t kMaxCounterexampleBytes = 64u << 20;

// Opens a counterexample file after checking it is a regular file of sane size: a directory,
// a FIFO or an endless stream would otherwise fail inside the JSON reader or grow without bound.
std::ifstream open_counterexample_file(const std::string& path) {
  std::error_code ec;
  const std::filesystem::file_status st = std::filesystem::status(path, ec);
  if (ec) throw std::runtime_error(fmt::format("{}: cannot open for reading: {}", path, ec.message()));
  if (std::filesystem::is_directory(st)) {
    throw std::runtime_error(fmt::format("{}: is a directory, not a counterexample file", path));
  }
  if (!std::filesystem::is_regular_file(st)) {
    throw std::runtime_error(fmt::format("{}: is not a regular file, not a counterexample file", path));
  }
  const std::uintmax_t bytes = std::filesystem::file_size(path, ec);
  if (!ec && bytes > kMaxCounterexampleBytes) {
    throw std::runtime_error(fmt::format(
        "{}: {} bytes is more than a counterexample file holds (at most {} MiB)", path, bytes,
        kMaxCounterexampleBytes >> 20));
  }
  std::ifstream in(path);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open for reading", path));
  return in;
}

// A tightest-instance file's tightness line: its side family's tightness re-measured on the
// re-certified enclosures (InstanceCertificate::family_tightness, as the engine measured it), beside
// the recorded one. Throws (input error) for a file that names no family of the claim.
std::string tightness_line(const std::string& path, const nlohmann::json& j, const InstanceCertificate& cert) {
  if (!j.contains("family") || !(j["family"].is_string() || j["family"].is_null())) {
    throw std::invalid_argument(fmt::format("{}: a tightest-instance file needs 'family' (a string or null)", path));
  }
  const auto text = [](double t) { return std::isnan(t) ? std::string("undefined") : fmt::format("{:.6f}", t); };
  if (j["family"].is_null()) return fmt::format("tightness {} (re-certified, every side)\n", text(cert.tightness()));
  const std::string family = j["family"];
  const bool found = std::any_of(cert.sides.begin(), cert.sides.end(),
                                [&](const SideEnclosure& s) { return s.family == family; });
  if (!found) throw std::invalid_argument(fmt::format("{}: the claim has no side family '{}'", path, family));
  const nlohmann::json recorded = j.value("tightness", nlohmann::json(nullptr));
  return fmt::format("tightness {} (side family '{}', re-certified; recorded {})\n",
                     text(cert.family_tightness(family)), family,
                     recorded.is_number() ? text(recorded.get<double>()) : std::string("none"));
}

int run_replay(const std::string& path, long max_precision) {
  std::ifstream in = open_counterexample_file(path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw std::runtime_error(fmt::format("{}: not valid JSON (byte {})", path, e.byte));
  } catch (const nlohmann::json::out_of_range& e) {  // 1e999: no double holds it
    const std::string what = e.what();
    throw std::runtime_error(
        fmt::format("{}: a number is out of the range of a double ({})", path,
                    what.substr(what.find("] ") == std::string::npos ? 0 : what.find("] ") + 2)));
  }
  if (!j.is_object() || !j.contains("claim") || !j["claim"].is_string() || !j.contains("instance")) {
    throw std::runtime_error(fmt::format("{}: not an attncert counterexample (needs 'claim' and 'instance')", path));
  }
  const std::string id = j["claim"];
  const std::unique_ptr<Claim> user_claim = conjecture_of_file(path, j);
  const Claim* claim = user_claim ? user_claim.get() : find_claim(id);
  if (!claim) throw std::invalid_argument(fmt::format("{}: unknown claim id '{}'", path, id));
  // A row of a model (`verify … --over model:…`): the same rows again, so that the instance
  // must be one of them exactly (check_in_domain below), then the claim over them.
  std::unique_ptr<Claim> over_rows;
  if (j.contains("rows")) {
    try {
      over_rows = claim_over_rows(*claim, model_rows(model_rows_options_from_recipe(j["rows"])));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(fmt::format("{}: {}", path, e.what()));
    }
    claim = over_rows.get();
  }
  require_precision(max_precision, "--max-precision");
  Instance x;
  try {
    x = instance_from_json(j["instance"]);
    // An instance outside the claim's domain refutes nothing, however its sides compare.
    claim->check_in_domain(x, max_precision);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(fmt::format("{}: {}", path, e.what()));
  }
  CertifyOptions o;
  o.max_precision = max_precision;
  o.start_precision = std::min(64L, max_precision);
  const InstanceCertificate cert = certify_instance(*claim, x, o);
  const bool tightest = j.contains("format") && j["format"] == kTightestFormat;
  const std::string tightness = tightest ? tightness_line(path, j, cert) : "";
  fmt::print("claim     {} ({})\n", id, to_string(claim->info().provenance));
  fmt::print("statement {}\n", claim->info().statement_text);
  fmt::print("instance  {}\n", x.describe(64));
  for (const auto& s : cert.sides) {
    const double t = s.tightness();
    fmt::print("  {:<8} {} {} {}  → {}{}{}\n", s.name, ball_text(s.lhs), to_string(s.rel), ball_text(s.rhs),
               s.holds == Tri::True ? "holds (certified)"
               : s.holds == Tri::False ? "VIOLATED (certified)" : "undecided",
               tightest && !std::isnan(t) ? fmt::format(", tightness {:.6f}", t) : "",
               s.vacuous() ? ", vacuous (the bound is beyond what holds anyway)" : "");
  }
  if (const std::string why = claim->degenerate_reason(x); !why.empty()) {
    fmt::print("degenerate instance: {}\n", why);
  }
  fmt::print("{}", tightness);
  fmt::print("result    {} at {} bits{}\n", to_string(cert.status), cert.precision,
             cert.detail.empty() ? "" : " (" + cert.detail + ")");
  return exit_code_for_instance(cert.status);
}

}  // namespace

void add_replay_command(CLI::App& app, int& exit_code) {
  auto path = std::make_shared<std::string>();
  auto max_precision = std::make_shared<long>(4096);
  CLI::App* cmd = app.add_subcommand(
      "replay", "Re-certify a saved counterexample or tightest instance from scratch");
  cmd->add_option("file", *path,
                  "counterexamples/ID.json or tightest/ID.json written by `attncert verify`")
      ->required();
  cmd->add_option("--max-precision", *max_precision, "precision cap in bits")->capture_default_str();
  cmd->callback([path, max_precision, &exit_code] { exit_code = run_replay(*path, *max_precision); });
}

}  // namespace attncert::cli
