// Per-warp math of the softmax-Jacobian spectral norm kernel, shared by the CUDA kernel
// (jacobian_norm.cu) and its CPU twin (jacobian_norm_twin.cpp). C++17, no CUDA headers.
//
// One warp computes ‖J‖₂ = λ_max(diag α − ααᵀ)/T for one (row, temperature) pair by the secular
// method of numerics/softmax_jacobian.cpp: weights w_j = exp((l_j − max l)/T), the two largest
// distinct weights a > b bracket λ_max, safeguarded Newton / bisection on the pole-free secular
// function H(λ) = a(λ−b) − m_b·b·(a−λ) + (a−λ)(λ−b)·Σ_{0<w_i<b} w_i/(w_i−λ), then λ/(S·T).
//
// The algorithm is written once, in jacobian_norm_row<Warp>, against a one-method "warp":
//   warp.all_reduce(per_lane, combine) evaluates per_lane(lane) for each of the 32 lanes and
//   combines the values by the xor-butterfly tree (offsets 16, 8, 4, 2, 1:
//   v_i ← combine(v_i, v_{i xor o})), leaving the result in every lane.
// The kernel implements it with __shfl_xor_sync, the twin by an explicit loop over 32 lanes and
// the same tree; combine is commutative bit for bit (IEEE +, and a max that never sees −0 or
// NaN), so lanes agree and the twin reproduces the kernel's bits. Lane `lane` handles elements
// j = lane, lane + 32, … in increasing j (sequential per-lane accumulation, then the tree).
//
// Every scalar step after a reduction (solver update, bracket, final division) is one
// ATTNCERT_HOST_DEVICE function evaluated identically in every lane and in the twin.
// Arithmetic: correctly rounded + − × ÷ sqrt only, each an explicit operation of
// gpu/rounded_arithmetic.hpp (no contraction, no flush to zero, whatever the build flags),
// exp by portable_expf. The error analysis is in
// proofs_checks/jacobian_norm_check.cpp.
#pragma once

#include <cstdint>

#include "gpu/dtype.hpp"
#include "gpu/host_device.hpp"
#include "gpu/jacobian_norm.hpp"
#include "gpu/portable_exp.hpp"
#include "gpu/rounded_arithmetic.hpp"

namespace attncert::gpu::jacobian_norm_tile {

// The bound's constants (gpu/jacobian_norm.hpp: kJacobianNormGeometry), as scalars for the
// device code.
inline constexpr int kWarpSize = kJacobianNormGeometry.warp_size;
inline constexpr float kWeightFloorExponent = kJacobianNormGeometry.weight_floor_exponent;
inline constexpr float kBracketExitWidth = kJacobianNormGeometry.bracket_exit_width;
inline constexpr int kNoiseFactor = kJacobianNormGeometry.noise_factor;
static_assert(kWarpSize == 32, "the kernel's shuffles and shared-memory layout assume full warps");

/// Safeguarded Newton for the first kNewtonIterations steps, then pure bisection until the
/// bracket exit: from any bracket inside [2^−100, 1], ≤ 7 geometric halvings of log(hi/lo) reach
/// hi ≤ 2·lo and ≤ 22 arithmetic ones reach hi − lo ≤ 2^−22·lo, so the cap below is never what
/// stops the solver (tested; typical rows stop by the noise or bracket test within ~10 steps).
inline constexpr int kNewtonIterations = 40;
inline constexpr int kMaxSolverIterations = 80;
/// Shortest Newton step, relative to λ: half the exit width, so that once Newton has converged
/// the next point lands past the root and the bracket closes (a one-sided Newton sequence never
/// closes it by itself).
inline constexpr float kMinNewtonStep = kBracketExitWidth / 2;

/// How the solver stopped (for tests; the kernel does not report it).
enum class SolverExit : int { none = 0, trivial = 1, noise = 2, bracket = 3, cap = 4 };

/// K of the noise exit for this kernel's warps (gpu/jacobian_norm.hpp).
ATTNCERT_HOST_DEVICE int secular_noise_k(long long length) {
  return jacobian_norm_secular_noise_k(length, kWarpSize);
}

// ---------------------------------------------------------------------------------------
// Lane partials and their combines
// ---------------------------------------------------------------------------------------

struct LogitScan {
  float max_logit;  // −inf when the lane saw no unmasked logit
  int bad;          // a NaN or +inf logit was seen
};
ATTNCERT_HOST_DEVICE LogitScan combine(LogitScan x, LogitScan y) {
  return {ieee_greater(x.max_logit, y.max_logit) ? x.max_logit : y.max_logit, x.bad | y.bad};
}

struct WeightScan {
  float sum;  // Σ w over the lane's elements
  float top;  // max w
};
ATTNCERT_HOST_DEVICE WeightScan combine(WeightScan x, WeightScan y) {
  return {rn_add(x.sum, y.sum), ieee_greater(x.top, y.top) ? x.top : y.top};
}

struct SecondScan {
  int top_count;  // #{w == a}
  float second;   // max{w < a} (0 if none)
};
ATTNCERT_HOST_DEVICE SecondScan combine(SecondScan x, SecondScan y) {
  return {x.top_count + y.top_count, ieee_greater(x.second, y.second) ? x.second : y.second};
}

struct CountScan {
  int count;
};
ATTNCERT_HOST_DEVICE CountScan combine(CountScan x, CountScan y) { return {x.count + y.count}; }

/// R(λ) = Σ_{0<w<b} w/(w−λ) (every term is negative: w < b < λ) and R'(λ) = Σ w/(w−λ)².
struct SecularScan {
  float rest;
  float rest_d;
};
ATTNCERT_HOST_DEVICE SecularScan combine(SecularScan x, SecularScan y) {
  return {rn_add(x.rest, y.rest), rn_add(x.rest_d, y.rest_d)};
}

/// Logit j as the kernel sees it; −0 becomes +0 (x + 0 = +0 for x = −0 under round to nearest)
/// so that the max-combine never has to choose between two zeros.
ATTNCERT_HOST_DEVICE float load_logit(DType dtype, const void* row, long long j) {
  return rn_add(load_element(dtype, row, j), 0.0f);
}

ATTNCERT_HOST_DEVICE bool is_masked(float l) { return ieee_equal(l, bits_float(0xff800000u)); }
ATTNCERT_HOST_DEVICE bool is_bad(float l) {
  return ieee_is_nan(l) || ieee_equal(l, bits_float(0x7f800000u));
}

/// ŵ = portable_expf(fl(fl(l − m)/T)), or 0 for a masked logit or an exponent below the floor.
ATTNCERT_HOST_DEVICE float weight_of(float logit, float max_logit, float temperature) {
  if (is_masked(logit)) return 0.0f;
  const float x = rn_div(rn_sub(logit, max_logit), temperature);
  if (!ieee_greater_equal(x, kWeightFloorExponent)) return 0.0f;
  return portable_expf(x);
}

// ---------------------------------------------------------------------------------------
// The solver's scalar state (identical in every lane)
// ---------------------------------------------------------------------------------------

struct SolverState {
  float a = 0, b = 0, mbb = 0;  // top weight, second distinct weight, m_b·b
  float noise_factor = 0;       // kNoiseFactor·K·u: computed noise bound multiplier
  float lo = 0, hi = 0;         // bracket: lo < λ* < hi (every update has the correct sign)
  float lambda = 0;             // current iterate, lo < λ < hi
  float last_step = 0;          // |previous Newton step| (0: none yet)
  bool bisect_next = false;
  bool done = false;
  SolverExit exit = SolverExit::none;
  int iterations = 0;
};

/// The bisection point: geometric (√lo·√hi, no underflow of lo·hi) while hi > 2·lo, else the
/// arithmetic midpoint.
ATTNCERT_HOST_DEVICE float bisection_point(float lo, float hi) {
  if (ieee_greater(hi, rn_mul(2.0f, lo))) return rn_mul(rn_sqrt(lo), rn_sqrt(hi));
  return rn_add(lo, rn_mul(rn_sub(hi, lo), 0.5f));
}

/// Start: λ₀ from the two-pole model (exact root when R = 0), bisection point if it falls outside.
ATTNCERT_HOST_DEVICE SolverState start_solver(float a, float b, int mb, long long length) {
  SolverState s;
  s.a = a;
  s.b = b;
  s.mbb = rn_mul(static_cast<float>(mb), b);
  s.noise_factor = rn_mul(static_cast<float>(kNoiseFactor * secular_noise_k(length)), 0x1p-24f);
  s.lo = b;
  s.hi = a;
  const float lambda0 = rn_div(rn_mul(rn_mul(a, b), static_cast<float>(1 + mb)), rn_add(a, s.mbb));
  s.lambda = (ieee_greater(lambda0, s.lo) && ieee_less(lambda0, s.hi))
                 ? lambda0
                 : bisection_point(s.lo, s.hi);
  return s;
}

/// One step from the reduced sums at s.lambda: noise test, bracket update, bracket test, next
/// iterate.
ATTNCERT_HOST_DEVICE SolverState solver_step(SolverState s, SecularScan sums) {
  const float left = rn_sub(s.lambda, s.b), right = rn_sub(s.a, s.lambda);
  const float p1 = rn_mul(s.a, left);
  const float p2 = rn_mul(s.mbb, right);
  const float lr = rn_mul(right, left);
  const float p3 = rn_mul(lr, sums.rest);
  const float h = rn_add(rn_sub(p1, p2), p3);
  // Rigorous bound on the evaluation error of h (γ_K·Σ|parts|, with margin; R's terms are all
  // negative so Σ|t_i| = −R): below it, the sign of h says nothing.
  const float noise =
      rn_mul(s.noise_factor, rn_add(rn_add(p1, p2), rn_mul(lr, ieee_negate(sums.rest))));
  s.iterations += 1;
  if (ieee_less_equal(ieee_less(h, 0.0f) ? ieee_negate(h) : h, noise)) {
    s.done = true;
    s.exit = SolverExit::noise;
    return s;
  }
  const float old_lo = s.lo, old_hi = s.hi;
  if (ieee_less(h, 0.0f)) {
    s.lo = s.lambda;
  } else {
    s.hi = s.lambda;
  }
  // λ (an end of the bracket) is close enough:
  if (ieee_less_equal(rn_sub(s.hi, s.lo), rn_mul(kBracketExitWidth, s.lo))) {
    s.done = true;
    s.exit = SolverExit::bracket;
    return s;
  }
  // Did this step halve the bracket measure (log(hi/lo) while hi > 2·lo, else width)?
  bool progressed;
  if (ieee_greater(old_hi, rn_mul(2.0f, old_lo))) {
    const float ratio = rn_div(s.hi, s.lo);
    progressed = ieee_less_equal(rn_mul(ratio, ratio), rn_div(old_hi, old_lo));
  } else {
    progressed = ieee_less_equal(rn_sub(s.hi, s.lo), rn_mul(0.5f, rn_sub(old_hi, old_lo)));
  }
  float next;
  if (s.iterations < kNewtonIterations && !s.bisect_next) {
    const float dh = rn_add(rn_add(rn_add(s.a, s.mbb), rn_mul(rn_sub(right, left), sums.rest)),
                            rn_mul(lr, sums.rest_d));
    float step = rn_div(ieee_negate(h), dh);
    const float min_step = rn_mul(kMinNewtonStep, s.lambda);
    const bool backward = ieee_less(step, 0.0f);
    if (ieee_less(backward ? ieee_negate(step) : step, min_step))
      step = backward ? ieee_negate(min_step) : min_step;
    next = rn_add(s.lambda, step);
    const float size = ieee_less(step, 0.0f) ? ieee_negate(step) : step;
    // A Newton step at most half the previous one is converging: no bisection needed.
    progressed = progressed || (ieee_greater(s.last_step, 0.0f) &&
                                ieee_less_equal(size, rn_mul(0.5f, s.last_step)));
    s.last_step = size;
    if (!(ieee_greater(next, s.lo) && ieee_less(next, s.hi))) next = bisection_point(s.lo, s.hi);
  } else {
    next = bisection_point(s.lo, s.hi);
  }
  // If this step neither halved the bracket nor shortened Newton's step, bisect next time.
  s.bisect_next = !progressed;
  // Cannot happen above the exit width; kept as a guard.
  if (!(ieee_greater(next, s.lo) && ieee_less(next, s.hi))) {
    s.lambda = s.lo;
    s.done = true;
    s.exit = SolverExit::bracket;
    return s;
  }
  s.lambda = next;
  if (s.iterations >= kMaxSolverIterations) {
    s.done = true;
    s.exit = SolverExit::cap;
  }
  return s;
}

/// The final division ‖J‖₂ = λ/(S·T) (0 stays 0 exactly).
ATTNCERT_HOST_DEVICE float norm_from(float lambda, float sum, float temperature) {
  if (ieee_equal(lambda, 0.0f)) return 0.0f;
  return rn_div(lambda, rn_mul(sum, temperature));
}

/// Result of one (row, temperature) pair; the exit and iteration count are for tests only.
struct RowResult {
  float norm = 0;
  SolverExit exit = SolverExit::none;
  int iterations = 0;
};

/// The whole per-(row, temperature) algorithm. `weights` is per-warp scratch of `length`
/// floats (shared memory on the device); each lane writes and reads only its own elements.
template <class Warp>
ATTNCERT_HOST_DEVICE RowResult jacobian_norm_row(Warp& warp, DType dtype, const void* row,
                                                 long long length, float temperature,
                                                 float* weights) {
  RowResult result;
  // 1. Max of the unmasked logits; NaN / +inf poison the row.
  const LogitScan scan = warp.all_reduce(
      [&](int lane) {
        LogitScan v{bits_float(0xff800000u), 0};
        for (long long j = lane; j < length; j += kWarpSize) {
          const float l = load_logit(dtype, row, j);
          if (is_bad(l)) {
            v.bad = 1;
          } else if (!is_masked(l) && ieee_greater(l, v.max_logit)) {
            v.max_logit = l;
          }
        }
        return v;
      },
      [](LogitScan x, LogitScan y) { return combine(x, y); });
  if (scan.bad) {
    result.norm = bits_float(0x7fc00000u);  // NaN in, NaN out
    result.exit = SolverExit::trivial;
    return result;
  }
  if (is_masked(scan.max_logit)) {  // fully masked row: J = 0
    result.exit = SolverExit::trivial;
    return result;
  }
  const float m = scan.max_logit;
  // 2. Weights, their sum S and their max a.
  const WeightScan ws = warp.all_reduce(
      [&](int lane) {
        WeightScan v{0.0f, 0.0f};
        for (long long j = lane; j < length; j += kWarpSize) {
          const float w = weight_of(load_logit(dtype, row, j), m, temperature);
          weights[j] = w;
          v.sum = rn_add(v.sum, w);
          v.top = ieee_greater(w, v.top) ? w : v.top;
        }
        return v;
      },
      [](WeightScan x, WeightScan y) { return combine(x, y); });
  const float a = ws.top;
  // 3. Multiplicity of a and the second distinct weight b.
  const SecondScan ss = warp.all_reduce(
      [&](int lane) {
        SecondScan v{0, 0.0f};
        for (long long j = lane; j < length; j += kWarpSize) {
          const float w = weights[j];
          if (ieee_equal(w, a))
            v.top_count += 1;
          else if (ieee_greater(w, v.second))
            v.second = w;
        }
        return v;
      },
      [](SecondScan x, SecondScan y) { return combine(x, y); });
  float lambda;
  if (ss.top_count >= 2) {
    lambda = a;  // tied top weight: λ_max = a exactly
    result.exit = SolverExit::trivial;
  } else if (!ieee_greater(ss.second, 0.0f)) {
    lambda = 0.0f;  // a single positive weight: J = 0
    result.exit = SolverExit::trivial;
  } else {
    const float b = ss.second;
    const CountScan cs = warp.all_reduce(
        [&](int lane) {
          CountScan v{0};
          for (long long j = lane; j < length; j += kWarpSize)
            v.count += ieee_equal(weights[j], b) ? 1 : 0;
          return v;
        },
        [](CountScan x, CountScan y) { return combine(x, y); });
    // 4. Safeguarded Newton / bisection on H.
    SolverState s = start_solver(a, b, cs.count, length);
    while (!s.done) {
      const float at = s.lambda;
      const SecularScan sums = warp.all_reduce(
          [&](int lane) {
            SecularScan v{0.0f, 0.0f};
            for (long long j = lane; j < length; j += kWarpSize) {
              const float w = weights[j];
              if (ieee_greater(w, 0.0f) && ieee_less(w, b)) {
                const float inv = rn_div(1.0f, rn_sub(w, at));
                const float t = rn_mul(w, inv);
                v.rest = rn_add(v.rest, t);
                v.rest_d = rn_add(v.rest_d, rn_mul(t, inv));
              }
            }
            return v;
          },
          [](SecularScan x, SecularScan y) { return combine(x, y); });
      s = solver_step(s, sums);
    }
    lambda = s.lambda;
    result.exit = s.exit;
    result.iterations = s.iterations;
  }
  result.norm = norm_from(lambda, ws.sum, temperature);
  return result;
}

}  // namespace attncert::gpu::jacobian_norm_tile
