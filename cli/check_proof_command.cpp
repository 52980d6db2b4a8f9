#include "cli/check_proof_command.hpp"

#include <fmt/format.h>

#include <memory>
#include <stdexcept>

#include "proofs_checks/conjecture_claim.hpp"
#include "cli/exit_codes.hpp"
#include "proofs_checks/claim_proof.hpp"
#include "proofs_checks/proof_checker.hpp"
#include "theory/catalog.hpp"
#include "theory/expression_claim.hpp"

namespace attncert::cli {

std::unique_ptr<Claim> certificate_claim(const ProofCertificate& certificate) {
  if (certificate.claim_id == kConjectureClaimId) {
    return conjecture_claim(certificate.statement, certificate.domain);
  }
  if (!find_claim(certificate.claim_id)) {
    throw std::invalid_argument(fmt::format("unknown claim id '{}'", certificate.claim_id));
  }
  return nullptr;  // a catalog claim: find_claim
}

std::string check_proof_file(const std::string& path, const std::string& claim_id) {
  const ProofCertificate certificate = read_proof_certificate(path);
  if (!claim_id.empty() && certificate.claim_id != claim_id) {
    throw std::invalid_argument(
        fmt::format("{}: is a certificate for claim '{}', not '{}'", path, certificate.claim_id, claim_id));
  }
  std::string mismatch;
  try {
    const std::unique_ptr<Claim> conjecture = certificate_claim(certificate);
    const Claim& claim = conjecture ? *conjecture : *find_claim(certificate.claim_id);
    mismatch = certificate_mismatch(certificate, claim);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(fmt::format("{}: {}", path, e.what()));
  }
  if (!mismatch.empty()) {
    throw std::invalid_argument(fmt::format("{}: INVALID: not a proof of claim '{}': {}", path, certificate.claim_id, mismatch));
  }
  const ProofCheckReport report = check_proof_certificate(certificate);
  if (!report.valid) throw std::invalid_argument(fmt::format("{}: INVALID: {}", path, report.failure));
  std::string slacks;
  for (const ProvedGoal& g : certificate.goals) {
    if (slack_is_positive(g.goal.slack)) {
      slacks += fmt::format("{}'{}' + {}", slacks.empty() ? "" : ", ", g.goal.name, g.goal.slack);
    }
  }
  // Statement and scope are the claim's own (certificate_mismatch compared them).
  return fmt::format("valid{}: claim {}, {} goal{}, {} leaves re-checked with MPFI; scope {}{}; "
                     "statement {}",
                     slacks.empty() ? "" : " with slack", certificate.claim_id, report.goals,
                     report.goals == 1 ? "" : "s", report.leaves_checked, certificate.scope,
                     slacks.empty() ? "" : fmt::format(" (proved only with slack: {})", slacks),
                     certificate.statement);
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
