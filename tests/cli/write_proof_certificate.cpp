// Test helper for check-proof's CLI test: proves a conjecture with the prover (prove_claim) and
// writes its certificate, as verify --prove does, so the test checks a real certificate of the
// current program lowering rather than a stored file that would drift from it.
//   write_proof_certificate EXPR OVER OUT.json
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "proofs_checks/claim_proof.hpp"
#include "theory/expression_claim.hpp"

int main(int argc, char** argv) {
  using namespace attncert;
  if (argc != 4) {
    std::fprintf(stderr, "usage: write_proof_certificate EXPR OVER OUT.json\n");
    return 3;
  }
  const auto claim = make_expression_claim(argv[1], argv[2]);
  ProverOptions options;
  options.slack_ladder.clear();
  const ClaimProof proof = prove_claim(*claim, options);
  if (!proof.certificate) {
    std::fprintf(stderr, "not proved: %s\n", proof.reason.c_str());
    return 1;
  }
  std::ofstream(argv[3]) << to_json(*proof.certificate).dump(1) << "\n";
  return 0;
}
