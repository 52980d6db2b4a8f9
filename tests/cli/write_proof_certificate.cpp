// Test helper for check-proof's CLI test: proves a conjecture with the prover (prove_claim) and
// writes its certificate, as verify --prove does, so the test checks a real certificate of the
// current program lowering rather than a stored file that would drift from it.
//   write_proof_certificate EXPR OVER OUT.json    a conjecture, proved as stated (no slack)
//   write_proof_certificate CLAIM_ID OUT.json     a catalog claim's plans (the default slack ladder)
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "proofs_checks/claim_proof.hpp"
#include "theory/catalog.hpp"
#include "theory/expression_claim.hpp"

int main(int argc, char** argv) {
  using namespace attncert;
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: write_proof_certificate (EXPR OVER | CLAIM_ID) OUT.json\n");
    return 3;
  }
  std::unique_ptr<Claim> conjecture;
  const Claim* claim = nullptr;
  ProverOptions options;
  if (argc == 4) {
    conjecture = make_expression_claim(argv[1], argv[2]);
    claim = conjecture.get();
    options.slack_ladder.clear();
  } else {
    claim = find_claim(argv[1]);
    if (!claim) {
      std::fprintf(stderr, "unknown claim %s\n", argv[1]);
      return 3;
    }
  }
  const ClaimProof proof = prove_claim(*claim, options);
  if (!proof.certificate) {
    std::fprintf(stderr, "not proved: %s\n", proof.reason.c_str());
    return 1;
  }
  std::ofstream(argv[argc - 1]) << to_json(*proof.certificate).dump(1) << "\n";
  return 0;
}
