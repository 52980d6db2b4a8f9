#include "cli/replay_command.hpp"

#include <fmt/format.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "cli/conjecture_claim.hpp"
#include "cli/exit_codes.hpp"
#include "numerics/precision.hpp"
#include "proofs_checks/verifier.hpp"
#include "reports/result_records.hpp"
#include "theory/catalog.hpp"

namespace attncert::cli {
namespace {

int run_replay(const std::string& path, long max_precision) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open for reading", path));
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw std::runtime_error(fmt::format("{}: not valid JSON (byte {})", path, e.byte));
  }
  if (!j.is_object() || !j.contains("claim") || !j["claim"].is_string() || !j.contains("instance")) {
    throw std::runtime_error(fmt::format("{}: not an attncert counterexample (needs 'claim' and 'instance')", path));
  }
  const std::string id = j["claim"];
  std::unique_ptr<Claim> user_claim;
  const Claim* claim = nullptr;
  if (j.contains("expression") && j.contains("domain") && j["expression"].is_string() &&
      j["domain"].is_string()) {
    user_claim = conjecture_claim(j["expression"], j["domain"]);
    claim = user_claim.get();
  } else {
    claim = find_claim(id);
  }
  if (!claim) throw std::invalid_argument(fmt::format("{}: unknown claim id '{}'", path, id));
  Instance x;
  try {
    x = instance_from_json(j["instance"]);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(fmt::format("{}: {}", path, e.what()));
  }
  require_precision(max_precision, "--max-precision");
  CertifyOptions o;
  o.max_precision = max_precision;
  o.start_precision = std::min(64L, max_precision);
  const InstanceCertificate cert = certify_instance(*claim, x, o);
  fmt::print("claim     {} ({})\n", id, to_string(claim->info().provenance));
  fmt::print("statement {}\n", claim->info().statement_text);
  fmt::print("instance  {}\n", x.describe(64));
  for (const auto& s : cert.sides) {
    fmt::print("  {:<8} {} {} {}  → {}\n", s.name, ball_text(s.lhs), to_string(s.rel), ball_text(s.rhs),
               s.holds == Tri::True ? "holds (certified)"
               : s.holds == Tri::False ? "VIOLATED (certified)" : "undecided");
  }
  fmt::print("result    {} at {} bits{}\n", to_string(cert.status), cert.precision,
             cert.detail.empty() ? "" : " (" + cert.detail + ")");
  switch (cert.status) {
    case InstanceStatus::Refuted: return kRefuted;
    case InstanceStatus::Proved: return kAllHold;
    default: return kInconclusive;
  }
}

}  // namespace

void add_replay_command(CLI::App& app, int& exit_code) {
  auto path = std::make_shared<std::string>();
  auto max_precision = std::make_shared<long>(4096);
  CLI::App* cmd = app.add_subcommand("replay", "Re-certify a saved counterexample from scratch");
  cmd->add_option("file", *path, "counterexample JSON written by `attncert verify`")->required();
  cmd->add_option("--max-precision", *max_precision, "precision cap in bits")->capture_default_str();
  cmd->callback([path, max_precision, &exit_code] { exit_code = run_replay(*path, *max_precision); });
}

}  // namespace attncert::cli
