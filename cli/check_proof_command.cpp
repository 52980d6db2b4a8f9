#include "cli/check_proof_command.hpp"

#include <fmt/format.h>

#include <memory>
#include <stdexcept>

#include "cli/conjecture_claim.hpp"
#include "cli/exit_codes.hpp"
#include "proofs_checks/claim_proof.hpp"
#include "proofs_checks/proof_checker.hpp"
#include "theory/catalog.hpp"
#include "theory/expression_claim.hpp"

namespace attncert::cli {

std::vector<ProofGoal> claim_goals(const ProofCertificate& certificate) {
  std::unique_ptr<Claim> conjecture;
  const Claim* claim = nullptr;
  if (certificate.claim_id == kConjectureClaimId) {
    conjecture = conjecture_claim(certificate.statement, certificate.domain);
    claim = conjecture.get();
  } else {
    claim = find_claim(certificate.claim_id);
    if (!claim) throw std::invalid_argument(fmt::format("unknown claim id '{}'", certificate.claim_id));
  }
  std::vector<ProofGoal> goals = expected_goals(*claim);
  if (goals.empty()) {
    throw std::invalid_argument(
        fmt::format("claim '{}' has no proof plan: no certificate proves it", certificate.claim_id));
  }
  return goals;
}

std::string goal_mismatch(const ProofCertificate& certificate, const std::vector<ProofGoal>& expected) {
  if (certificate.goals.size() != expected.size()) {
    return fmt::format("the certificate has {} goals, the claim {}", certificate.goals.size(), expected.size());
  }
  for (std::size_t k = 0; k < expected.size(); ++k) {
    const ProofGoal& got = certificate.goals[k].goal;
    const ProofGoal& want = expected[k];
    const auto differs = [&](const char* what) {
      return fmt::format("goal {} ('{}'): its {} is not the claim's", k, got.name, what);
    };
    if (got.name != want.name) return fmt::format("goal {} is '{}', the claim's is '{}'", k, got.name, want.name);
    if (!(got.program == want.program)) return differs("program");
    if (got.lhs != want.lhs || got.rhs != want.rhs) return differs("lhs or rhs");
    if (got.relation != want.relation) return differs("relation");
    if (!(got.box == want.box)) return differs("box");
  }
  return "";
}

std::string check_proof_file(const std::string& path, const std::string& claim_id, const ExpectedGoals& expected) {
  const ProofCertificate certificate = read_proof_certificate(path);
  if (!claim_id.empty() && certificate.claim_id != claim_id) {
    throw std::invalid_argument(
        fmt::format("{}: is a certificate for claim '{}', not '{}'", path, certificate.claim_id, claim_id));
  }
  std::vector<ProofGoal> goals;
  try {
    goals = expected(certificate);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(fmt::format("{}: {}", path, e.what()));
  }
  if (const std::string why = goal_mismatch(certificate, goals); !why.empty()) {
    throw std::invalid_argument(fmt::format("{}: INVALID: not a proof of claim '{}': {}", path, certificate.claim_id, why));
  }
  const ProofCheckReport report = check_proof_certificate(certificate);
  if (!report.valid) throw std::invalid_argument(fmt::format("{}: INVALID: {}", path, report.failure));
  std::string slacks;
  for (const ProvedGoal& g : certificate.goals) {
    if (g.goal.slack.find_first_of("123456789") < g.goal.slack.find_first_of("eE")) {
      slacks += fmt::format("{}'{}' + {}", slacks.empty() ? "" : ", ", g.goal.name, g.goal.slack);
    }
  }
  return fmt::format("valid{}: claim {}, {} goal{}, {} leaves re-checked with MPFI; scope {}{}",
                     slacks.empty() ? "" : " with slack", certificate.claim_id, report.goals,
                     report.goals == 1 ? "" : "s", report.leaves_checked, certificate.scope,
                     slacks.empty() ? "" : fmt::format(" (proved only with slack: {})", slacks));
}

void add_check_proof_command(CLI::App& app, int& exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "check-proof",
      "Re-check a proof certificate (OUT/proofs/ID.json) with the independent MPFI checker, without "
      "searching; exit 0 when valid, 4 when malformed, not the claim's or INVALID");
  auto path = std::make_shared<std::string>();
  auto claim = std::make_shared<std::string>();
  cmd->add_option("FILE", *path, "the certificate")->required();
  cmd->add_option("--claim", *claim, "require the certificate to be for this claim id");
  cmd->callback([path, claim, &exit_code] {
    fmt::print("{}\n", check_proof_file(*path, *claim));
    exit_code = kAllHold;
  });
}

}  // namespace attncert::cli
