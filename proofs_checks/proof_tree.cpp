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

namespace {

long count_into(const ProofNode& node, std::unordered_map<const ProofNode*, long>& out) {
  long n = 1;
  if (node.is_split) {
    n = (node.below ? count_into(*node.below, out) : 0) + (node.above ? count_into(*node.above, out) : 0);
  } else if (node.face) {
    const long inner = count_into(*node.face, out);
    n = node.method == LeafMethod::Monotone && inner > 0 ? inner : 1;
  }
  out[&node] = n;
  return n;
}

void collect_units(const ProofNode& node, const std::unordered_map<const ProofNode*, long>& counts, long max_leaves,
                   std::vector<const ProofNode*>& out) {
  if (node.is_split) {
    if (counts.at(&node) <= max_leaves) {
      out.push_back(&node);
      return;
    }
    if (node.below) collect_units(*node.below, counts, max_leaves, out);
    if (node.above) collect_units(*node.above, counts, max_leaves, out);
  } else if (node.face) {
    collect_units(*node.face, counts, max_leaves, out);
  }
}

}  // namespace

std::unordered_map<const ProofNode*, long> leaf_counts(const ProofNode& root) {
  std::unordered_map<const ProofNode*, long> out;
  count_into(root, out);
  return out;
}

std::vector<const ProofNode*> unit_subtrees(const ProofNode& root,
                                            const std::unordered_map<const ProofNode*, long>& counts,
                                            long max_leaves) {
  std::vector<const ProofNode*> out;
  collect_units(root, counts, max_leaves, out);
  return out;
}

}  // namespace attncert
