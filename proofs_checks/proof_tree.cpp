#include "proofs_checks/proof_tree.hpp"

#include <string_view>

namespace attncert {

std::string_view to_string(LeafMethod m) noexcept {
  switch (m) {
    case LeafMethod::Naive: return "naive";
    case LeafMethod::MeanValue: return "mean_value";
    case LeafMethod::Monotone: return "monotone";
    case LeafMethod::SecondOrder: return "second_order";
  }
  return "unknown";
}

long ProofNode::leaf_count() const noexcept {
  if (is_split) {
    return (below ? below->leaf_count() : 0) + (above ? above->leaf_count() : 0);
  }
  // A Monotone leaf stands for its face's proof; a malformed one without a face still counts.
  if (method == LeafMethod::Monotone && face) {
    const long inner = face->leaf_count();
    return inner > 0 ? inner : 1;
  }
  return 1;
}

ProofNode ProofNode::clone() const {
  ProofNode copy;
  copy.is_split = is_split;
  copy.variable = variable;
  copy.at = at;
  if (below) copy.below = std::make_unique<ProofNode>(below->clone());
  if (above) copy.above = std::make_unique<ProofNode>(above->clone());
  copy.method = method;
  copy.precision = precision;
  copy.center = center;
  copy.increasing = increasing;
  if (face) copy.face = std::make_unique<ProofNode>(face->clone());
  return copy;
}

}  // namespace attncert
