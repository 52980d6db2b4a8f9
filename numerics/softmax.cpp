// The softmax family in every tier (see softmax.hpp for the conventions).
//
// One algorithm for all tiers, shifted by the largest unmasked logit m so nothing overflows:
//   x_i = (l_i − m) / T,  e_i = exp(x_i),  S = Σ e_i  (1 <= S <= L),
//   α_i = e_i / S,  LSE = m/T + log S,  log α_i = x_i − log S,  H = log S − Σ α_i x_i.
// float, double and Mp run it with their own rounding (Mp inside an MpPrecision scope at the
// largest precision of the inputs). Ball runs it on raw arb_t: shift invariance makes any
// shift exact in theory, so shifting by the (exact) midpoint of the largest logit keeps every
// ball an enclosure of the exact value; the sums use arb_dot, whose error is ~2^-prec of the
// sum rather than L roundings.
#include "numerics/softmax.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "numerics/arb_handles.hpp"
#include "numerics/ball.hpp"
#include "numerics/mp.hpp"
#include "numerics/tier_scope.hpp"

namespace attncert {
namespace {

// ---------------------------------------------------------------------------------------
// Shared validation and messages
// ---------------------------------------------------------------------------------------

std::string describe(float x) { return fmt::format("{}", x); }
std::string describe(double x) { return fmt::format("{}", x); }
std::string describe(const Mp& x) {
  // mpfr_snprintf rather than Mp::str(), whose Boost implementation trips GCC 12's -Wrestrict.
  char buf[64];
  mpfr_snprintf(buf, sizeof buf, "%.17Rg", x.backend().data());
  return buf;
}
std::string describe(const Ball& x) { return x.str(17); }

void require_nonempty(std::size_t size, const char* fn) {
  if (size == 0) {
    throw std::invalid_argument(
        fmt::format("{}: the logit vector is empty; need at least one logit", fn));
  }
}

[[noreturn]] void throw_bad_logit(const char* fn, std::size_t index, const char* what) {
  throw std::domain_error(fmt::format(
      "{}: logit {} is {}; admissible logits are finite reals or -inf (masked)", fn, index,
      what));
}

[[noreturn]] void throw_bad_temperature(const char* fn, const std::string& value,
                                        const char* tier_note) {
  throw std::invalid_argument(fmt::format(
      "{}: temperature T = {} is not admissible; need a finite T > 0{}", fn, value, tier_note));
}

// ---------------------------------------------------------------------------------------
// float, double, Mp: the algorithm in the tier's own arithmetic
// ---------------------------------------------------------------------------------------

template <class T>
bool is_nan_value(const T& x) {
  using std::isnan;
  return isnan(x);
}
template <class T>
bool is_inf_value(const T& x) {
  using std::isinf;
  return isinf(x);
}
template <class T>
bool is_masked(const T& x) {
  return is_inf_value(x) && x < 0;
}

template <class T>
void validate_logits(std::span<const T> logits, const char* fn) {
  require_nonempty(logits.size(), fn);
  for (std::size_t i = 0; i < logits.size(); ++i) {
    if (is_nan_value(logits[i])) throw_bad_logit(fn, i, "NaN");
    if (is_inf_value(logits[i]) && logits[i] > 0) throw_bad_logit(fn, i, "+inf");
  }
}

template <class T>
void validate_temperature(const T& t, const char* fn) {
  if (!(t > 0) || is_inf_value(t)) throw_bad_temperature(fn, describe(t), "");
}

/// x_i = (l_i − m)/T (−inf for masked logits), the shift m, and whether any logit is unmasked.
template <class T>
struct ShiftedRow {
  std::vector<T> x;
  T max_logit;
  bool any_unmasked = false;
};

template <class T>
ShiftedRow<T> shift_row(std::span<const T> logits, const T& t) {
  ShiftedRow<T> row;
  std::size_t arg = logits.size();
  for (std::size_t i = 0; i < logits.size(); ++i) {
    if (is_masked(logits[i])) continue;
    if (arg == logits.size() || logits[arg] < logits[i]) arg = i;
  }
  if (arg == logits.size()) return row;
  row.any_unmasked = true;
  row.max_logit = logits[arg];
  row.x.reserve(logits.size());
  for (const T& l : logits) row.x.push_back((l - row.max_logit) / t);  // −inf stays −inf
  return row;
}

/// e_i = exp(x_i) (exactly 0 for masked logits) and S = Σ e_i.
template <class T>
T exponentials(const std::vector<T>& x, std::vector<T>& e) {
  using std::exp;
  e.resize(x.size());
  T sum = T(0);
  for (std::size_t i = 0; i < x.size(); ++i) {
    e[i] = exp(x[i]);
    sum += e[i];
  }
  return sum;
}

template <class T>
std::vector<T> softmax_rounded(std::span<const T> logits, const T& t) {
  constexpr const char* fn = "softmax";
  validate_logits(logits, fn);
  validate_temperature(t, fn);
  TierScope<T> scope(logits, t);
  ShiftedRow<T> row = shift_row(logits, t);
  if (!row.any_unmasked) return std::vector<T>(logits.size(), T(0));
  std::vector<T> alpha;
  const T sum = exponentials(row.x, alpha);
  for (T& a : alpha) a /= sum;
  return alpha;
}

template <class T>
T log_sum_exp_rounded(std::span<const T> logits, const T& t) {
  constexpr const char* fn = "log_sum_exp";
  validate_logits(logits, fn);
  validate_temperature(t, fn);
  TierScope<T> scope(logits, t);
  using std::log;
  ShiftedRow<T> row = shift_row(logits, t);
  if (!row.any_unmasked) return -std::numeric_limits<T>::infinity();
  std::vector<T> e;
  const T sum = exponentials(row.x, e);
  return row.max_logit / t + log(sum);
}

template <class T>
std::vector<T> log_softmax_rounded(std::span<const T> logits, const T& t) {
  constexpr const char* fn = "log_softmax";
  validate_logits(logits, fn);
  validate_temperature(t, fn);
  TierScope<T> scope(logits, t);
  using std::log;
  ShiftedRow<T> row = shift_row(logits, t);
  if (!row.any_unmasked) {
    return std::vector<T>(logits.size(), -std::numeric_limits<T>::infinity());
  }
  std::vector<T> e;
  const T log_sum = log(exponentials(row.x, e));
  for (T& xi : row.x) xi -= log_sum;  // −inf − finite = −inf
  return std::move(row.x);
}

template <class T>
T entropy_rounded(std::span<const T> logits, const T& t) {
  constexpr const char* fn = "entropy";
  validate_logits(logits, fn);
  validate_temperature(t, fn);
  TierScope<T> scope(logits, t);
  using std::log;
  ShiftedRow<T> row = shift_row(logits, t);
  if (!row.any_unmasked) return T(0);
  std::vector<T> e;
  const T sum = exponentials(row.x, e);
  T weighted = T(0);  // Σ α_i x_i = Σ e_i x_i / S
  for (std::size_t i = 0; i < e.size(); ++i) {
    // e_i == 0 means masked or underflowed (x_i < log of the smallest subnormal): the term
    // e_i·x_i → 0, and skipping it avoids 0·(−inf) = NaN.
    if (e[i] != 0) weighted += e[i] * row.x[i];
  }
  return log(sum) - weighted / sum;
}

template <class T>
std::vector<T> normalise_rounded(std::span<const T> logits, const PositiveFunction<T>& f) {
  constexpr const char* fn = "normalise";
  validate_logits(logits, fn);
  if (!f) throw std::invalid_argument("normalise: the positive function F is empty");
  TierScope<T> scope(logits);
  std::vector<T> values(logits.size(), T(0));
  T sum = T(0);
  bool any_unmasked = false;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    if (is_masked(logits[i])) continue;
    any_unmasked = true;
    values[i] = f(logits[i]);
    if (is_nan_value(values[i]) || is_inf_value(values[i]) || !(values[i] > 0)) {
      throw std::domain_error(fmt::format(
          "normalise: F(logit {}) = {} is not a finite value > 0; the general normaliser "
          "needs F > 0 on every unmasked logit (an underflow to 0 needs a wider tier)",
          i, describe(values[i])));
    }
    sum += values[i];
  }
  if (!any_unmasked) return values;  // all zero
  if (is_inf_value(sum)) {
    throw std::domain_error(
        "normalise: the sum of the F values overflows this tier; use Mp or Ball");
  }
  for (T& v : values) v /= sum;
  return values;
}

// ---------------------------------------------------------------------------------------
// Ball: raw Arb, in place, no temporaries in the loops
// ---------------------------------------------------------------------------------------

using arb_handles::ArbHandle;
using arb_handles::ArbVecHandle;

bool ball_is_masked(const Ball& x) {
  return arf_is_neg_inf(arb_midref(x.arb())) && mag_is_finite(arb_radref(x.arb()));
}

[[noreturn]] void throw_bad_ball_logit(const char* fn, std::size_t index, const Ball& x) {
  if (arf_is_nan(arb_midref(x.arb()))) throw_bad_logit(fn, index, "NaN");
  if (arf_is_pos_inf(arb_midref(x.arb()))) throw_bad_logit(fn, index, "+inf");
  throw_bad_logit(fn, index, "a ball of infinite radius (not a bounded real)");
}

[[noreturn]] void throw_no_precision(const char* fn) {
  throw std::invalid_argument(fmt::format(
      "{}: every argument is an exact ball without a working precision; give the logits or "
      "the temperature a precision (e.g. Ball(x, 128))",
      fn));
}

/// The validated row in Ball: which logits are unmasked, the exact shift m (the midpoint of
/// the largest one), the working precision and the precision of the argument computation.
struct BallRow {
  std::vector<std::size_t> unmasked;  // indices of unmasked logits, in order
  const arf_struct* shift = nullptr;  // midpoint of the largest unmasked logit
  long prec = 0;                      // working precision of the results
  long arg_prec = 0;                  // prec + guard bits for x_i = (l_i − m)/T
};

/// Validates logits (and the temperature when given) and prepares the shift.
BallRow prepare_ball_row(std::span<const Ball> logits, const Ball* temperature, const char* fn) {
  require_nonempty(logits.size(), fn);
  BallRow row;
  long prec = Ball::kExact;
  if (temperature != nullptr) {
    if (!arb_is_finite(temperature->arb()) || !arb_is_positive(temperature->arb())) {
      throw_bad_temperature(fn, describe(*temperature), " (for Ball: certainly > 0)");
    }
    prec = temperature->precision();
  }
  row.unmasked.reserve(logits.size());
  const arf_struct* lowest = nullptr;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    const Ball& l = logits[i];
    prec = std::max(prec, l.precision());
    if (!arb_is_finite(l.arb())) {
      if (ball_is_masked(l)) continue;
      throw_bad_ball_logit(fn, i, l);
    }
    const arf_struct* mid = arb_midref(l.arb());
    if (row.shift == nullptr || arf_cmp(mid, row.shift) > 0) row.shift = mid;
    if (lowest == nullptr || arf_cmp(mid, lowest) < 0) lowest = mid;
    row.unmasked.push_back(i);
  }
  if (prec == Ball::kExact) throw_no_precision(fn);
  row.prec = prec;
  row.arg_prec = prec;
  if (row.shift != nullptr && temperature != nullptr) {
    // exp amplifies an absolute error δ of its argument into a relative error δ, so compute
    // x_i with log2(max |x_i|) extra bits: then every e_i has a relative radius ~2^-prec.
    const double spread = arf_get_d(row.shift, ARF_RND_UP) - arf_get_d(lowest, ARF_RND_DOWN);
    const double t_low = arf_get_d(arb_midref(temperature->arb()), ARF_RND_DOWN);
    const double ratio = spread / t_low;  // may be inf or NaN: only the precision depends on it
    long guard = 2;
    if (ratio > 1.0) guard = ratio < 0x1p126 ? static_cast<long>(std::ceil(std::log2(ratio))) + 2 : 128;
    row.arg_prec = prec + guard;
  }
  return row;
}

/// x_j = (l_{unmasked[j]} − m) / T for every unmasked logit, into x (size = #unmasked).
void shifted_arguments(std::span<const Ball> logits, const Ball& t, const BallRow& row,
                       ArbVecHandle& x) {
  ArbHandle inv_t;
  arb_inv(inv_t, t.arb(), row.arg_prec);
  for (slong j = 0; j < x.size(); ++j) {
    arb_ptr xj = x[j];
    arb_sub_arf(xj, logits[row.unmasked[j]].arb(), row.shift, row.arg_prec);
    arb_mul(xj, xj, inv_t, row.arg_prec);
  }
}

/// Σ v_j with one rounding (arb_dot against a stride-0 vector of ones).
void ball_sum(arb_ptr sum, ArbVecHandle& v, long prec) {
  ArbHandle one;
  arb_one(one);
  arb_dot(sum, nullptr, 0, v, 1, one, 0, v.size(), prec);
}

std::vector<Ball> ball_vector(std::size_t n, long prec) {
  std::vector<Ball> out(n);
  for (Ball& b : out) b.set_precision(prec);
  return out;
}

std::vector<Ball> softmax_ball(std::span<const Ball> logits, const Ball& t) {
  const BallRow row = prepare_ball_row(logits, &t, "softmax");
  std::vector<Ball> out = ball_vector(logits.size(), row.prec);  // masked entries stay 0
  const auto n = static_cast<slong>(row.unmasked.size());
  if (n == 0) return out;
  ArbVecHandle e(n);
  shifted_arguments(logits, t, row, e);
  for (slong j = 0; j < n; ++j) arb_exp(e[j], e[j], row.prec);
  ArbHandle sum;
  ball_sum(sum, e, row.prec);
  for (slong j = 0; j < n; ++j) {
    arb_div(e[j], e[j], sum, row.prec);
    arb_swap(out[row.unmasked[j]].arb(), e[j]);
  }
  return out;
}

Ball log_sum_exp_ball(std::span<const Ball> logits, const Ball& t) {
  const BallRow row = prepare_ball_row(logits, &t, "log_sum_exp");
  Ball out;
  out.set_precision(row.prec);
  const auto n = static_cast<slong>(row.unmasked.size());
  if (n == 0) {
    arb_neg_inf(out.arb());
    return out;
  }
  ArbVecHandle e(n);
  shifted_arguments(logits, t, row, e);
  for (slong j = 0; j < n; ++j) arb_exp(e[j], e[j], row.prec);
  ArbHandle log_sum;
  ball_sum(log_sum, e, row.prec);
  arb_log(log_sum, log_sum, row.prec);
  arb_set_arf(out.arb(), row.shift);
  arb_div(out.arb(), out.arb(), t.arb(), row.prec);  // m / T
  arb_add(out.arb(), out.arb(), log_sum, row.prec);
  return out;
}

std::vector<Ball> log_softmax_ball(std::span<const Ball> logits, const Ball& t) {
  const BallRow row = prepare_ball_row(logits, &t, "log_softmax");
  std::vector<Ball> out = ball_vector(logits.size(), row.prec);
  for (Ball& b : out) arb_neg_inf(b.arb());
  const auto n = static_cast<slong>(row.unmasked.size());
  if (n == 0) return out;
  ArbVecHandle x(n);
  ArbVecHandle e(n);
  shifted_arguments(logits, t, row, x);
  for (slong j = 0; j < n; ++j) arb_exp(e[j], x[j], row.prec);
  ArbHandle log_sum;
  ball_sum(log_sum, e, row.prec);
  arb_log(log_sum, log_sum, row.prec);
  for (slong j = 0; j < n; ++j) {
    arb_sub(x[j], x[j], log_sum, row.prec);
    arb_swap(out[row.unmasked[j]].arb(), x[j]);
  }
  return out;
}

Ball entropy_ball(std::span<const Ball> logits, const Ball& t) {
  const BallRow row = prepare_ball_row(logits, &t, "entropy");
  Ball out;
  out.set_precision(row.prec);
  const auto n = static_cast<slong>(row.unmasked.size());
  if (n == 0) return out;  // exactly 0
  ArbVecHandle x(n);
  ArbVecHandle alpha(n);
  shifted_arguments(logits, t, row, x);
  for (slong j = 0; j < n; ++j) arb_exp(alpha[j], x[j], row.prec);
  ArbHandle log_sum;
  ball_sum(log_sum, alpha, row.prec);
  for (slong j = 0; j < n; ++j) arb_div(alpha[j], alpha[j], log_sum, row.prec);
  arb_log(log_sum, log_sum, row.prec);
  // H = log S − Σ α_j x_j, the dot product with one rounding.
  arb_dot(out.arb(), log_sum, 1, alpha, 1, x, 1, n, row.prec);
  return out;
}

std::vector<Ball> normalise_ball(std::span<const Ball> logits, const PositiveFunction<Ball>& f) {
  constexpr const char* fn = "normalise";
  if (!f) throw std::invalid_argument("normalise: the positive function F is empty");
  BallRow row;
  require_nonempty(logits.size(), fn);
  long prec = Ball::kExact;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    prec = std::max(prec, logits[i].precision());
    if (arb_is_finite(logits[i].arb())) {
      row.unmasked.push_back(i);
    } else if (!ball_is_masked(logits[i])) {
      throw_bad_ball_logit(fn, i, logits[i]);
    }
  }
  const auto n = static_cast<slong>(row.unmasked.size());
  ArbVecHandle values(n);
  for (slong j = 0; j < n; ++j) {
    Ball v = f(logits[row.unmasked[j]]);
    if (!arb_is_finite(v.arb()) || !arb_is_positive(v.arb())) {
      throw std::domain_error(fmt::format(
          "normalise: F(logit {}) = {} is not certainly a finite value > 0; the general "
          "normaliser needs F > 0 on every unmasked logit",
          row.unmasked[j], describe(v)));
    }
    prec = std::max(prec, v.precision());
    arb_swap(values[j], v.arb());
  }
  if (prec == Ball::kExact) throw_no_precision(fn);
  std::vector<Ball> out = ball_vector(logits.size(), prec);
  if (n == 0) return out;
  ArbHandle sum;
  ball_sum(sum, values, prec);
  for (slong j = 0; j < n; ++j) {
    arb_div(values[j], values[j], sum, prec);
    arb_swap(out[row.unmasked[j]].arb(), values[j]);
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Public templates: dispatch per tier
// ---------------------------------------------------------------------------------------

template <class T>
std::vector<T> softmax(std::span<const T> logits, const T& temperature) {
  if constexpr (std::is_same_v<T, Ball>) {
    return softmax_ball(logits, temperature);
  } else {
    return softmax_rounded(logits, temperature);
  }
}

template <class T>
T log_sum_exp(std::span<const T> logits, const T& temperature) {
  if constexpr (std::is_same_v<T, Ball>) {
    return log_sum_exp_ball(logits, temperature);
  } else {
    return log_sum_exp_rounded(logits, temperature);
  }
}

template <class T>
std::vector<T> log_softmax(std::span<const T> logits, const T& temperature) {
  if constexpr (std::is_same_v<T, Ball>) {
    return log_softmax_ball(logits, temperature);
  } else {
    return log_softmax_rounded(logits, temperature);
  }
}

template <class T>
T entropy(std::span<const T> logits, const T& temperature) {
  if constexpr (std::is_same_v<T, Ball>) {
    return entropy_ball(logits, temperature);
  } else {
    return entropy_rounded(logits, temperature);
  }
}

template <class T>
std::vector<T> normalise(std::span<const T> logits, const PositiveFunction<T>& f) {
  if constexpr (std::is_same_v<T, Ball>) {
    return normalise_ball(logits, f);
  } else {
    return normalise_rounded(logits, f);
  }
}

#define ATTNCERT_INSTANTIATE_SOFTMAX(T)                                                  \
  template std::vector<T> softmax<T>(std::span<const T>, const T&);                     \
  template T log_sum_exp<T>(std::span<const T>, const T&);                              \
  template std::vector<T> log_softmax<T>(std::span<const T>, const T&);                 \
  template T entropy<T>(std::span<const T>, const T&);                                  \
  template std::vector<T> normalise<T>(std::span<const T>, const PositiveFunction<T>&);

ATTNCERT_INSTANTIATE_SOFTMAX(float)
ATTNCERT_INSTANTIATE_SOFTMAX(double)
ATTNCERT_INSTANTIATE_SOFTMAX(Mp)
ATTNCERT_INSTANTIATE_SOFTMAX(Ball)
#undef ATTNCERT_INSTANTIATE_SOFTMAX

}  // namespace attncert
