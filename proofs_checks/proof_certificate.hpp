// ProofCertificate: what `verify --prove` writes to OUT/proofs/ID.json and `attncert
// check-proof FILE` re-checks: the claim, its statement and domain, and for each goal the
// exact statement proved (program, relation, box, slack) with its search tree.
//
// JSON (every real number an exact decimal string; see docs/proofs.md):
//   { "format": "attncert-proof", "version": 1,
//     "claim": "A.lemma1", "statement": "...", "domain": "...", "scope": "L in {2, 3}, ...",
//     "goals": [ { "name": "upper, L = 2",
//                  "program": {ElementaryProgram JSON}, "lhs": 7, "relation": "<=", "rhs": 12,
//                  "slack": "0",
//                  "box": [{"lower": "-20", "upper": "20"}, ...],   (one per program variable)
//                  "tree": NODE } ] }
//   NODE = {"split": {"variable": 0, "at": "1.5", "below": NODE, "above": NODE}}
//        | {"leaf": "naive", "precision": 53}
//        | {"leaf": "mean_value", "precision": 53, "center": ["0.5", ...]}
//        | {"leaf": "monotone", "precision": 53, "variable": 1, "direction": "increasing"|"decreasing", "face": NODE}
//        | {"leaf": "second_order", "precision": 53, "center": [...]}
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "proofs_checks/proof_goal.hpp"
#include "proofs_checks/proof_tree.hpp"

namespace attncert {

inline constexpr const char* kProofFormat = "attncert-proof";
inline constexpr int kProofFormatVersion = 1;

struct ProvedGoal {
  ProofGoal goal;
  ProofNode tree;
};

struct ProofCertificate {
  std::string claim_id;
  std::string statement;  // the claim's statement_text (or the conjecture's inequality)
  std::string domain;     // the domain text proved over (a plan's or the user's)
  std::string scope;      // "L in {2, 3, 4}, T in [0.05, 5], logits in [-20, 20]^L"
  std::vector<ProvedGoal> goals;
};

nlohmann::json to_json(const ProofNode& node);
nlohmann::json to_json(const ProofCertificate& certificate);
/// to_json(certificate).dump(), byte for byte, with the tree's subtrees rendered as units of
/// distributed_map (`jobs` threads; MPI ranks share them): exact decimals are most of the cost
/// of a large certificate.
std::string certificate_json_text(const ProofCertificate& certificate, int jobs);
/// Strict: throws std::invalid_argument with a one-line message naming the offending field
/// ("goals[1].tree.split.below.leaf: unknown method 'magic'") for anything that is not a
/// certificate of this format and version. Structural checks only (shapes, indices, exact
/// decimals that are doubles); whether the proof is valid is the checker's job.
ProofCertificate proof_certificate_from_json(const nlohmann::json& j);

/// Reads and parses FILE; throws std::invalid_argument naming the file for unreadable or
/// malformed JSON (including truncation).
ProofCertificate read_proof_certificate(const std::string& path);

}  // namespace attncert
