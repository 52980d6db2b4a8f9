// Validation of a kernel (or its CPU twin) against the certified ground truth: one row per
// case of the shape matrix. The measured error must stay within the kernel's a-priori bound
// (ratio ≤ 1); the flash-attention rule is reported alongside for comparison with peers.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <functional>
#include <string>
#include <vector>

#include "gpu/dtype.hpp"
#include "proofs_checks/error_budget.hpp"

namespace attncert {

/// The certified truth a kernel is judged against. Both are enclosures (verdict-capable); they
/// differ in cost. Only flash attention has the fast tier; the other kernels always use Arb.
enum class KernelTruth {
  /// midpoint_radius_attention (double midpoint + proven radius), and every row whose verdict
  /// that radius leaves undecided recomputed in Arb balls.
  fast,
  /// Every row in Arb balls.
  ball,
};

/// Which cases to run. Unset fields mean "the whole shape matrix" for that dimension.
struct KernelCheckRequest {
  std::optional<gpu::DType> dtype;
  std::optional<int> seqlen_q;     // softmax attention; for linear attention: the length
  std::optional<int> seqlen_k;
  std::optional<int> head_dim;
  std::optional<bool> causal;
  std::uint64_t seed = 20261123;
  bool prefer_device = true;       // run the CUDA kernel when a device is present
  bool quick = false;              // a reduced matrix (tests, report --quick)
  int jobs = 0;                    // cases validated in parallel; 0: all hardware threads
  KernelTruth truth = KernelTruth::fast;
  /// δ of the probabilistic bound: under its model (error_budget.hpp), a correct kernel exceeds
  /// the probabilistic bound somewhere in a case (all its outputs and lse values) with
  /// probability ≤ δ. In (0, 1).
  double false_alarm = kDefaultFalseAlarm;
  /// Called before the first case runs, once the cases are known (so the filters have been
  /// checked): where the CLI refuses a defective build or a missing required device, after any
  /// mistake in the command line has been reported as one. May throw; unset: nothing.
  std::function<void()> before_running;
};

/// The input-quantization effect of a case: an enclosure [low, high] of the largest
/// |exact(original inputs) − exact(inputs as the kernel read them)| over its values, from the two
/// truths' balls. Each |a − b| lies in [gap − radii, gap + radii], gap = |mid_a − mid_b|; the
/// double subtraction errs by ≤ gap·2⁻⁵³, and the sums by ≤ 2⁻⁵³ each (so 2⁻⁵¹ outward covers both
/// ends). One definition for every kernel check (they had three, one without the rounding).
struct InputQuantizationEnclosure {
  double low = 0, high = 0;
  void add(double original_mid, double original_rad, double read_mid, double read_rad) {
    const double gap = std::abs(original_mid - read_mid);
    const double radii = original_rad + read_rad + gap * 0x1p-53;
    low = std::max(low, (gap - radii) * (1 - 0x1p-51));
    high = std::max(high, (gap + radii) * (1 + 0x1p-51));
  }
};

/// The note a device row carries after comparing the device output with the CPU twin's (by
/// value, gpu/output_equality.hpp). scripts/gpu-check counts rows by these exact strings
/// (test gpu_check_counts_the_twin_notes keeps the two in step).
inline std::string device_twin_note(bool equal, const std::string& difference) {
  return equal ? "; equal to the twin by value" : "; DIFFERS from the twin: " + difference;
}

struct KernelCheckRow {
  std::string kernel;          // "flash-attention", "linear-attention", "jacobian-norm"
  std::string shape;           // e.g. "Lq=113 Lk=203 d=60", "T=500 d=64 elu+1"
  std::string dtype;           // "fp32" | "fp16" | "bf16"
  std::string variant;         // "causal", "non-causal", "masked-rows", "logits<=-5e4", …
  std::string executed_on;     // "twin" or "device (NAME)"
  // Errors are against the certified truth of the inputs AS THE KERNEL READ THEM (rounded to
  // its dtype); the effect of that rounding is reported apart (input_quantization).
  double max_abs_error = 0;    // max over outputs of |computed − certified midpoint| + radius
  double bound = 0;            // max over outputs of the guaranteed bound (same norm as the error)
  double ratio = 0;            // max over outputs (and lse) of error / guaranteed bound; ≤ 1
  double ground_truth_radius = 0;  // largest radius of the certified enclosure used
  double naive_error = 0;      // error of a naive implementation in the same precision
  double fa_rule_threshold = 0;    // 2·naive_error + absolute term (flash-attention tests)
  bool fa_rule_pass = false;
  bool deterministic = false;  // a second run gave bit-identical output
  bool pass = false;           // ratio ≤ 1 (guaranteed bound), deterministic, and no NaN/Inf
                               // where none belongs
  std::string note;            // e.g. "fully masked rows: output 0"
  /// The kernel did not execute (a refused launch: memory, architecture, a CUDA error; the note
  /// says which): pass is false, but nothing about its accuracy was learnt.
  bool could_not_run = false;
  /// The bound is infinite or no smaller than a trivial one (e.g. relative error ≥ 1), so the
  /// case validates nothing about accuracy (pass then only means determinism and finiteness).
  /// Reported separately from pass: such rows are neither evidence nor failures.
  bool vacuous = false;

  double probabilistic_bound = 0;  // max over outputs of the probabilistic bound
  double probabilistic_ratio = 0;  // max over outputs (and lse) of error / probabilistic bound
  double false_alarm = 0;          // δ the probabilistic bound was computed for (per case)
  bool probabilistic_pass = false; // probabilistic_ratio ≤ 1 (and everything `pass` requires
                                   // besides the guaranteed ratio)
  // max over outputs of |O(original inputs) − O(inputs rounded to the dtype)|, both certified:
  // [low, high] encloses it (0, 0 when the inputs are exact in the dtype).
  double input_quantization_low = 0, input_quantization_high = 0;
};

}  // namespace attncert
