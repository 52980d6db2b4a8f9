// ProofNode: the search tree of a proof over a box — how the prover covered it — recorded so
// that a checker re-checks every leaf without searching.
//
// The tree's root covers the goal's box. A Split on variable v at point s (a double strictly
// inside the box's range for v) has two children: `below` covers the box with v ∈ [lower, s],
// `above` the box with v ∈ [s, upper]. A leaf proves f := lhs − rhs − slack <= 0 (< 0 for a
// strict relation; for >=/>: f := rhs − lhs − slack) on its box by one method:
//   Naive        — interval evaluation of f over the box at `precision` bits.
//   MeanValue    — f(box) ⊆ f(center) + Σ_i G_i·(box_i − center_i), where G encloses the
//                  (Clarke generalised) gradient of f over the box by forward-mode interval
//                  derivatives and `center` is a point of the box.
//   Monotone     — the enclosure of ∂f/∂x_v over the box has a certain sign (`increasing`:
//                  >= 0), so f's largest value on the box is on the face x_v = upper
//                  (increasing) or x_v = lower (decreasing); `face` is the subtree proving the
//                  goal on that face (the box with v fixed), itself any node.
//   SecondOrder  — local argument at an attained bound (see box_prover.hpp): f(center) = 0
//                  exactly, ∇f(center) = 0 and the interval Hessian of f over the box is
//                  negative semidefinite by a certified test, so f <= 0 on the (convex) box.
// `precision` is the working precision in bits the leaf was decided at; a checker may use more.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

namespace attncert {

enum class LeafMethod { Naive, MeanValue, Monotone, SecondOrder };
std::string_view to_string(LeafMethod m) noexcept;  // "naive", "mean_value", "monotone", "second_order"

struct ProofNode {
  bool is_split = false;
  // Split
  std::uint32_t variable = 0;   // Split: variable split; Monotone: the monotone variable
  double at = 0;                // Split point
  std::unique_ptr<ProofNode> below, above;
  // Leaf
  LeafMethod method = LeafMethod::Naive;
  long precision = 53;
  std::vector<double> center;   // MeanValue, SecondOrder: a point of the box
  bool increasing = true;       // Monotone
  std::unique_ptr<ProofNode> face;  // Monotone

  /// Number of leaves (a Monotone leaf counts its face's leaves, at least 1).
  long leaf_count() const noexcept;
  /// Deep copy (nodes own their children).
  ProofNode clone() const;

  ProofNode() = default;
  ProofNode(ProofNode&&) noexcept = default;
  ProofNode& operator=(ProofNode&&) noexcept = default;
  // Copies are deep (results holding certificates are copied like any other value).
  ProofNode(const ProofNode& other) : ProofNode(other.clone()) {}
  ProofNode& operator=(const ProofNode& other) { return *this = other.clone(); }
  ~ProofNode() = default;
};

/// Leaves below every node of the tree rooted at `root` (ProofNode::leaf_count of each), in one
/// pass: where the checker and the certificate writer cut a tree into units.
std::unordered_map<const ProofNode*, long> leaf_counts(const ProofNode& root);

/// The largest split nodes of the tree with at most `max_leaves` leaves below them, in
/// depth-first order (below, above, a monotone leaf's face): subtrees of similar size, whatever
/// the tree's shape, to be handled as units of their own.
std::vector<const ProofNode*> unit_subtrees(const ProofNode& root,
                                            const std::unordered_map<const ProofNode*, long>& counts,
                                            long max_leaves);

}  // namespace attncert
