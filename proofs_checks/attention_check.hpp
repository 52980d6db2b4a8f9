// check-attention: judge anyone's attention output O (and log-sum-exp) against the certified
// truth of the inputs the kernel was given, per head, with
//  - the a-priori forward error bounds of a correct algorithm of the declared class
//    (attention_error_bound.hpp: online-softmax tiling with fp32 accumulation, or plain
//    three-pass), computed from the inputs only, per element: guaranteed (every rounding at its
//    worst: exceeding it proves a defect) and probabilistic (independent mean-zero roundings —
//    round-to-nearest on unstructured data; exceeded by a correct kernel with probability ≤
//    false_alarm per call);
//  - FlashAttention's rule (max error ≤ 2 × the max error of a naive same-precision reference
//    on the same inputs + atol), the naive reference computed here;
//  - the worst element (indices, value, truth, error, bound).
// The inputs are the values the kernel read: Q, K, V exactly representable in the declared
// dtype (checked: a value that is not is an error, not a silent rounding).
// The truth is the fast enclosure tier (midpoint_radius_attention) with every row whose verdict
// its radius leaves undecided recomputed in Arb balls (as flash_attention_check does).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gpu/dtype.hpp"
#include "numerics/cancellation.hpp"
#include "numerics/key_visibility.hpp"
#include "numerics/tensor_view.hpp"
#include "proofs_checks/error_budget.hpp"

namespace attncert {

/// How a user's (batch, seq, heads, dim) tensors are laid out in memory.
enum class AttentionLayout {
  bshd,  ///< FlashAttention: (batch, seqlen, heads, head_dim)
  bhsd,  ///< PyTorch SDPA:   (batch, heads, seqlen, head_dim)
};

/// The algorithm class whose a-priori bound judges the output.
enum class AttentionAlgorithm {
  flash,       ///< online softmax over key tiles, fp32 accumulation, P rounded to the input
               ///< dtype before P·V (FlashAttention 2/3, PyTorch's CPU flash kernel)
  three_pass,  ///< S = QKᵀ, softmax, P·V, each stored in the input dtype, fp32 accumulation
};

/// Which test decides the verdict (all are always reported).
enum class AttentionRule {
  bound,  ///< error ≤ the a-priori bound of the declared class (default; a certain verdict)
  flash,  ///< FlashAttention's rule: error ≤ 2·naive error + atol
  naive,  ///< no worse than the naive same-precision reference: error ≤ naive error + atol
  /// error ≤ the probabilistic bound of the declared class (error_budget.hpp): a violation is
  /// a defect unless the rounding errors are correlated; false alarms ≤ false_alarm per call
  probabilistic,
};

/// The problem: what the kernel was asked to compute.
struct AttentionProblem {
  std::optional<double> scale;    ///< multiplies QKᵀ; empty = 1/√d (exact real)
  KeyVisibility keys;             ///< causal (either alignment), sliding window
  std::optional<double> softcap;  ///< logits ← C·tanh(logits/C) after scaling, C > 0
};

/// User tensors as exact doubles, viewed as (B, H, L, d) whatever the memory layout (the view's
/// strides carry it; see attention_view). GQA/MQA: K and V have Hkv heads dividing H.
struct AttentionTensors {
  const Tensor4View<const double>* q = nullptr;  // (B, H, Lq, d)
  const Tensor4View<const double>* k = nullptr;  // (B, Hkv, Lk, d)
  const Tensor4View<const double>* v = nullptr;  // (B, Hkv, Lk, dv)
};

/// A view of a contiguous buffer holding a tensor in `layout` with logical sizes
/// (batch, heads, seqlen, dim), as (B, H, L, d) with the right strides (no copy).
Tensor4View<const double> attention_view(const double* data, AttentionLayout layout,
                                         std::ptrdiff_t batch, std::ptrdiff_t heads,
                                         std::ptrdiff_t seqlen, std::ptrdiff_t dim);

struct AttentionCheckOptions {
  gpu::DType dtype = gpu::DType::f32;  ///< what the kernel read Q, K, V in
  /// What O was stored in (the bound adds its rounding). Empty: the coarsest of bf16, fp16,
  /// fp32 that holds every finite value of O (a 16-bit kernel's O saved as float32) — judging a
  /// bf16 store as fp32 or fp16 would deny a correct kernel its final rounding; a coarser guess
  /// only loosens the bound.
  std::optional<gpu::DType> output_dtype;
  AttentionAlgorithm algorithm = AttentionAlgorithm::flash;
  /// Keys per tile of the flash class (its bound grows with the number of tiles ⌈Lk/block_k⌉);
  /// the default is smaller than any real kernel's, so it covers them.
  int block_k = 16;
  AttentionRule rule = AttentionRule::bound;
  /// δ of the probabilistic bound: a correct kernel exceeds it anywhere in the whole call (all
  /// heads, outputs and lse values) with probability ≤ δ under its model. In (0, 1).
  double false_alarm = kDefaultFalseAlarm;
  int jobs = 0;  ///< heads checked in parallel (parallel_for); 0: all hardware threads
  const Cancellation* cancel = nullptr;
  std::function<void(std::size_t done, std::size_t total)> progress;  ///< heads done
};

/// One output element, with the user's logical indices.
struct AttentionElement {
  std::ptrdiff_t batch = 0, head = 0, row = 0, column = 0;  // column = −1 for an lse value
  double value = 0;  ///< the user's value (NaN/inf kept as given)
  double truth_mid = 0, truth_rad = 0;
  double error = 0;                ///< |value − truth_mid| + truth_rad (inf for NaN/inf values)
  double bound = 0;                ///< the class's guaranteed bound at this element
  double probabilistic_bound = 0;  ///< the class's probabilistic bound at this element
};

struct AttentionHeadReport {
  std::ptrdiff_t batch = 0, head = 0;
  double max_error = 0;    ///< max over the head's O elements (certified upper end)
  double max_ratio = 0;    ///< max error/bound (inf if a NaN/inf sits in O)
  AttentionElement worst;  ///< the element attaining max_ratio
  std::optional<double> lse_max_error, lse_max_ratio;  ///< when lse was given
  std::optional<AttentionElement> lse_worst;
  double max_probabilistic_ratio = 0;    ///< max error/probabilistic bound (O and lse)
  AttentionElement probabilistic_worst;  ///< the element attaining it
  bool probabilistic_pass = false;       ///< max_probabilistic_ratio ≤ 1 and no NaN/inf
  double naive_error = 0;                ///< the naive same-precision reference's max error
  double atol = 0;                       ///< the rule's absolute term
  bool fa_rule_pass = false, naive_rule_pass = false, bound_pass = false;
  std::size_t non_finite = 0;    ///< NaN/inf elements in O (each a violation)
  std::size_t masked_rows = 0;   ///< rows without a visible key (truth: O = 0, lse = −inf)
  std::size_t refined_rows = 0;  ///< rows the truth recomputed in Arb balls
  bool vacuous = false;          ///< every element's bound is vacuous (below)
  /// Elements whose bound is infinite (the class's model does not cover the row) or no smaller
  /// than a trivial one (≥ 2·max|v|): the bound verdict says nothing about them.
  std::size_t vacuous_elements = 0;
  bool pass = false;  ///< by options.rule
  /// Where the head's time went (wall seconds on its worker): the fast enclosure tier, the Arb
  /// refinement of undecided rows, the naive reference, the bounds.
  double seconds_truth = 0, seconds_refinement = 0, seconds_reference = 0, seconds_bounds = 0;
};

struct AttentionCheckResult {
  std::vector<AttentionHeadReport> heads;     ///< in (batch, head) order
  bool pass = false;                          ///< every head passes
  double seconds = 0;                         ///< wall time of the whole check
  AttentionRule rule = AttentionRule::bound;  ///< options.rule, which decided `pass`
  gpu::DType output_dtype = gpu::DType::f32;  ///< the output dtype the bounds used
  double false_alarm = kDefaultFalseAlarm;    ///< δ of the probabilistic bounds (per call)
  double lambda = 0;                          ///< their λ = √(2 ln(2m/δ)), m values checked
  /// The head with the largest ratio under `rule` (a failing head before any passing one).
  const AttentionHeadReport& worst_head() const;
};

/// Throws std::invalid_argument (one line) for mismatched shapes between Q, K, V, O, lse,
/// inputs not representable in options.dtype, NaN/inf in Q, K or V, bad problem parameters, a
/// false-alarm probability outside (0, 1), an accumulation length the class bound's derivation
/// does not cover (n·u ≥ 1); a
/// NaN/inf in O or lse is not an error but a violation reported with its index.
/// o: (B, H, Lq, dv) view; lse: optional (B, H, Lq) contiguous in (b, h, i) order (nullptr if
/// not given). Throws attncert::Cancelled when options.cancel is requested.
AttentionCheckResult check_attention(const AttentionTensors& inputs,
                                     const Tensor4View<const double>& o, const double* lse,
                                     const AttentionProblem& problem,
                                     const AttentionCheckOptions& options);

/// The rule's name as the CLI and the Python module spell it ("guaranteed", "probabilistic",
/// "flash", "naive"), and back; "bound" is read as "guaranteed" (its name before the
/// probabilistic bound existed). Unknown names: nullopt.
std::string_view attention_rule_name(AttentionRule rule);
std::optional<AttentionRule> attention_rule_from_name(std::string_view name);

}  // namespace attncert
