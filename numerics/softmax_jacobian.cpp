// Softmax Jacobian: dense form, exact spectral norm by the secular equation, certified
// enclosure, and the finite-difference sensitivity of paper A.
//
// ---------------------------------------------------------------------------------------
// The secular equation (derivation)
// ---------------------------------------------------------------------------------------
// Let w_i = exp((l_i − c)/T) >= 0, S = Σ w_i, α = w/S. Then
//     J = (1/T)(diag α − ααᵀ) = (1/(T·S)) · M,   M = D − z zᵀ,  D = diag(w),  z = w/√S.
// For λ not a diagonal entry, det(M − λI) = det(D − λI)·det(I − (D − λI)⁻¹ z zᵀ)
//     = det(D − λI)·(1 − zᵀ(D − λI)⁻¹ z) = det(D − λI)·f(λ),
//     f(λ) = 1 − (1/S) Σ w_i²/(w_i − λ).                       (the textbook secular function)
// Using w_i²/(w_i − λ) = w_i + λ·w_i/(w_i − λ) and Σ w_i = S exactly:
//     f(λ) = −(λ/S)·g(λ),   g(λ) = Σ_i w_i/(w_i − λ).
// So λ = 0 is always an eigenvalue (M·1 = 0: softmax is shift invariant) and the other
// eigenvalues off the diagonal values are the roots of g. g involves no "1 −" and no S: its
// roots are the exact eigenvalues for the given w, even when Σ w is not exactly 1 in a tier.
//
// Deflation. Zero weights (masked logits) give eigenvalue 0 with eigenvector e_i and drop out of
// g. Equal positive weights w_i = w_j = a give M(e_i − e_j) = a(e_i − e_j): a group of m equal
// weights contributes the eigenvalue a with multiplicity m − 1 and one pole m·a/(a − λ) to g.
//
// Interlacing. Let a > b be the two largest distinct positive weights (m_b copies of b). On
// (b, a) g is continuous and strictly increasing (g' = Σ w_i/(w_i − λ)² > 0), from −∞ (λ ↓ b)
// to +∞ (λ ↑ a): exactly one root λ*. Weyl: M ≼ D, so λ_k(M) <= λ_k(D) for every k; hence the
// second largest eigenvalue of M is <= b < λ*, and λ* is λ_max(M). If a is tied (m_a >= 2), a
// is an eigenvalue and λ_max(M) <= λ_max(D) = a, so λ_max = a exactly. With fewer than two
// positive weights M = 0 on the support: λ_max = 0.
//
// Solving. Multiply g by (a − λ)(λ − b) to remove both poles of the bracket:
//     H(λ) = a(λ − b) − m_b·b·(a − λ) + (a − λ)(λ − b)·R(λ),   R(λ) = Σ_{0 < w_i < b} w_i/(w_i − λ),
// smooth on [b, a] with H(b) < 0 < H(a) and the same root. The two-pole model (R = 0) gives
// λ₀ = a·b·(1 + m_b)/(a + m_b·b) (exact when at most two distinct weights are positive, e.g.
// L = 2: λ = 2ab/(a + b)); safeguarded Newton on H from there, bisecting whenever a step leaves
// the bracket, until the step is below 2u·λ. Each step is O(L).
//
// Accuracy. ∂g/∂w_i = −λ/(w_i − λ)², so a relative perturbation ε_i of each w_i moves the root
// by δλ/λ = Σ ε_i w_i/(w_i−λ)² / Σ w_i/(w_i−λ)², a weighted mean of the ε_i: the root is as
// accurate relatively as the weights. Evaluation error: at the root the positive term a/(a−λ)
// equals the sum of the |negative| ones, and λ·g'(λ) >= that sum, so the relative root error
// from rounding is <= 2·γ_{L+3}. The iteration stops once |H| is below its own rounding bound
// γ_{L+4}·(|a(λ−b)| + m_b·b(a−λ) + |(a−λ)(λ−b)R|), which keeps the total within a few γ_{L+4}.
#include "numerics/softmax_jacobian.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "numerics/ball.hpp"
#include "numerics/eigen_support.hpp"
#include "numerics/mp.hpp"
#include "numerics/precision.hpp"
#include "numerics/rng.hpp"
#include "numerics/softmax.hpp"
#include "numerics/tier_conversions.hpp"
#include "numerics/tier_scope.hpp"

namespace attncert {
namespace {

// ---------------------------------------------------------------------------------------
// Tier helpers
// ---------------------------------------------------------------------------------------

template <class R>
double unit_roundoff_of(const R&) {
  return std::ldexp(1.0, -std::numeric_limits<R>::digits);
}
template <>
double unit_roundoff_of<Mp>(const Mp&) {
  return std::ldexp(1.0, -static_cast<int>(MpPrecision::current_bits()));
}

template <class R>
std::string describe(const R& x) {
  return fmt::format("{}", static_cast<double>(x));
}
template <>
std::string describe<Mp>(const Mp& x) {
  return fmt::format("{}", mp_to_double(x));
}

template <class R>
bool is_nan(const R& x) {
  using std::isnan;
  return isnan(x);
}
template <class R>
bool is_inf(const R& x) {
  using std::isinf;
  return isinf(x);
}

void require_nonempty(std::size_t n, const char* fn, const char* what) {
  if (n == 0) {
    throw std::invalid_argument(
        fmt::format("{}: the {} vector is empty; need at least one entry", fn, what));
  }
}

template <class R>
void require_temperature(const R& t, const char* fn) {
  if (is_nan(t) || is_inf(t) || !(t > R(0))) {
    throw std::invalid_argument(fmt::format(
        "{}: temperature T = {} is not admissible; need a finite T > 0", fn, describe(t)));
  }
}

[[noreturn]] void throw_bad_logit(const char* fn, std::size_t i, const char* what) {
  throw std::domain_error(fmt::format(
      "{}: logit {} is {}; admissible logits are finite reals or -inf (masked)", fn, i, what));
}

/// w_i = exp((l_i − max l)/T) (masked: exactly 0), validated. Empty result if fully masked.
template <class R>
std::vector<R> shifted_weights(std::span<const R> logits, const R& temperature, const char* fn) {
  require_nonempty(logits.size(), fn, "logit");
  for (std::size_t i = 0; i < logits.size(); ++i) {
    if (is_nan(logits[i])) throw_bad_logit(fn, i, "NaN");
    if (is_inf(logits[i]) && logits[i] > R(0)) throw_bad_logit(fn, i, "+inf");
  }
  require_temperature(temperature, fn);
  using std::exp;
  R top = R(0);
  bool any = false;
  for (const R& l : logits) {
    if (is_inf(l)) continue;
    if (!any || l > top) top = l;
    any = true;
  }
  std::vector<R> w(logits.size(), R(0));
  if (!any) return w;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    if (!is_inf(logits[i])) w[i] = exp(R((logits[i] - top) / temperature));
  }
  return w;
}

template <class R>
void require_weights(std::span<const R> w, const char* fn) {
  require_nonempty(w.size(), fn, "weight");
  bool positive = false;
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (is_nan(w[i]) || is_inf(w[i]) || w[i] < R(0)) {
      throw std::domain_error(fmt::format(
          "{}: weight {} is {}; admissible weights are finite and >= 0", fn, i, describe(w[i])));
    }
    if (w[i] > R(0)) positive = true;
  }
  if (!positive) {
    throw std::invalid_argument(
        fmt::format("{}: every weight is 0; need at least one positive weight", fn));
  }
}

template <class R>
R sum_of(std::span<const R> w) {
  R s = R(0);
  for (const R& x : w) s += x;
  return s;
}

// ---------------------------------------------------------------------------------------
// The secular solver (see the derivation above)
// ---------------------------------------------------------------------------------------

template <class R>
R secular_solve(std::span<const R> w) {
  // Two largest distinct positive weights a > b and their multiplicities.
  R a = R(0);
  long ma = 0;
  for (const R& x : w) {
    if (x > a) {
      a = x;
      ma = 1;
    } else if (x == a && x > R(0)) {
      ++ma;
    }
  }
  if (ma == 0) return R(0);  // every weight 0
  if (ma >= 2) return a;     // tied top: eigenvalue a = λ_max(D)
  R b = R(0);
  long mb = 0;
  for (const R& x : w) {
    if (x < a) {
      if (x > b) {
        b = x;
        mb = 1;
      } else if (x == b && x > R(0)) {
        ++mb;
      }
    }
  }
  if (mb == 0) return R(0);  // a single positive weight: J = 0 on the support
  const R mbb = R(mb) * b;
  const double u = unit_roundoff_of(a);
  R lo = b, hi = a;
  R lambda = a * b * R(1 + mb) / (a + mbb);
  if (!(lambda > lo && lambda < hi)) lambda = (lo + hi) / 2;
  for (int iter = 0; iter < 200; ++iter) {
    R rest = R(0), rest_d = R(0);
    for (const R& x : w) {
      if (x < b && x > R(0)) {
        const R inv = R(1) / (x - lambda);
        const R t = x * inv;
        rest += t;
        rest_d += t * inv;
      }
    }
    const R left = lambda - b, right = a - lambda;
    const R p1 = a * left, p2 = mbb * right, p3 = right * left * rest;
    const R h = p1 - p2 + p3;
    // |rounding error of h| <= γ_{L+4}·(|p1| + |p2| + |p3|): below that, λ is a root as far as
    // the tier can tell (without this stop, noise-driven steps would bisect away from it).
    using std::abs;
    const R noise = R(2 * (static_cast<double>(w.size()) + 4) * u) * (p1 + p2 + abs(p3));
    if (abs(h) <= noise) return lambda;
    if (h < R(0)) {
      lo = lambda;
    } else {
      hi = lambda;
    }
    const R dh = a + mbb + (right - left) * rest + right * left * rest_d;
    R next = lambda - h / dh;
    if (!(next > lo && next < hi)) {
      // Bisect; geometrically when the bracket spans orders of magnitude (lo >= b > 0), so that
      // a root near the lower pole is reached in O(log log) rather than O(exponent) steps.
      using std::sqrt;
      next = hi > 4 * lo ? R(sqrt(R(lo * hi))) : R(lo + (hi - lo) / 2);
      if (!(next > lo && next < hi)) next = lo + (hi - lo) / 2;
    }
    const R step = abs(R(next - lambda));
    lambda = next;
    if (step <= R(2 * u) * lambda || !(hi - lo > R(2 * u) * lambda)) break;
  }
  return lambda;
}

template <class R>
R norm_from_weights(std::span<const R> w, const R& temperature) {
  const R lambda = secular_solve<R>(w);
  if (lambda == R(0)) return R(0);
  return lambda / (sum_of<R>(w) * temperature);
}

template <class R>
RowMatrix<R> dense_from_weights(std::span<const R> w, const R& temperature) {
  const auto L = static_cast<Eigen::Index>(w.size());
  RowMatrix<R> J = RowMatrix<R>::Zero(L, L);
  // Σ_{j≠i} w_j from prefix and suffix sums: all terms >= 0, so no cancellation.
  std::vector<R> prefix(w.size() + 1, R(0)), suffix(w.size() + 1, R(0));
  for (std::size_t i = 0; i < w.size(); ++i) prefix[i + 1] = prefix[i] + w[i];
  for (std::size_t i = w.size(); i-- > 0;) suffix[i] = suffix[i + 1] + w[i];
  const R S = prefix[w.size()];
  if (S == R(0)) return J;
  std::vector<R> alpha(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) alpha[i] = w[i] / S;
  for (Eigen::Index i = 0; i < L; ++i) {
    const auto si = static_cast<std::size_t>(i);
    for (Eigen::Index k = 0; k < L; ++k) {
      const auto sk = static_cast<std::size_t>(k);
      J(i, k) = i == k ? R(alpha[si] * ((prefix[si] + suffix[si + 1]) / S) / temperature)
                       : R(-(alpha[si] * alpha[sk]) / temperature);
    }
  }
  return J;
}

// ---------------------------------------------------------------------------------------
// Ball: the certified enclosure
// ---------------------------------------------------------------------------------------
//
// For every exact (l, T) inside the input balls, the exact weights w_i lie in the enclosures
// W_i computed below, S in the enclosure of Σ W_i, T in its ball; so it suffices to enclose
// λ_max(M) for every w ∈ Π W_i and divide by S·T in ball arithmetic.
//
// Separated case: p certainly the unique largest weight (W_p > W_i certainly for i ≠ p).
// For every such w the gap G = (max_{i≠p} w_i, w_p) holds exactly one root λ* of g, and
// λ* = λ_max(M) (interlacing, see the top of the file). A point λ_lo certainly inside G
// (λ_lo > W_i for i ≠ p and λ_lo < W_p, certainly) with g(λ_lo) certainly < 0 proves
// λ* > λ_lo, because g is increasing on G; likewise g(λ_hi) certainly > 0 proves λ* < λ_hi.
// The two ends are proved independently; an end that cannot be proved falls back to the
// interlacing bound (λ* > max_{i≠p} w_i >= W_q's lower end, λ* < w_p <= W_p's upper end).
// The candidate root comes from the Mp secular solver on the midpoints (2^-16 guard digits);
// the bracket half-width covers the largest relative radius of the W_i (the root moves by at
// most that, relatively) and is widened ×64 when a sign is not proved.
//
// Not separated (tied or overlapping top weights): λ_max(M) ∈ [w_(L−1), w_(L)] for every w
// (Cauchy interlacing of the rank-one downdate and Weyl), and w_(L−1) >= min(w_p, w_q) for the
// two largest midpoints p, q: the enclosure is hull(min(W_p, W_q), max_i W_i).

long ball_precision(std::span<const Ball> xs, const Ball& t, const char* fn) {
  long prec = t.precision();
  for (const Ball& x : xs) prec = std::max(prec, x.precision());
  if (prec == Ball::kExact) {
    throw std::invalid_argument(fmt::format(
        "{}: every Ball input is exact and carries no working precision; give one, e.g. "
        "Ball(x, 128) or set_precision(bits) with bits in [{}, {}]",
        fn, kMinPrecisionBits, kMaxPrecisionBits));
  }
  return prec;
}

bool is_masked_ball(const Ball& x) {
  return arf_is_neg_inf(arb_midref(x.arb())) != 0;
}

void require_ball_temperature(const Ball& t, const char* fn) {
  if (!t.is_finite() || !certainly(t > Ball(0))) {
    throw std::invalid_argument(fmt::format(
        "{}: temperature T = {} is not admissible; need a finite T certainly > 0", fn,
        t.str(17)));
  }
}

/// Enclosures of w_i = exp((l_i − c)/T), c the exact midpoint of the largest unmasked logit.
std::vector<Ball> ball_weights(std::span<const Ball> logits, const Ball& temperature,
                               const char* fn, long prec) {
  require_nonempty(logits.size(), fn, "logit");
  std::size_t top = logits.size();
  for (std::size_t i = 0; i < logits.size(); ++i) {
    const Ball& l = logits[i];
    if (is_masked_ball(l)) continue;
    if (!l.is_finite()) {
      if (arf_is_nan(arb_midref(l.arb()))) throw_bad_logit(fn, i, "NaN");
      if (arf_is_pos_inf(arb_midref(l.arb()))) throw_bad_logit(fn, i, "+inf");
      throw_bad_logit(fn, i, "a ball of infinite radius (not a bounded real)");
    }
    if (top == logits.size() || arf_cmp(arb_midref(l.arb()), arb_midref(logits[top].arb())) > 0)
      top = i;
  }
  require_ball_temperature(temperature, fn);
  std::vector<Ball> w(logits.size(), Ball(0.0, prec));
  if (top == logits.size()) return w;
  Ball shift(0.0, prec);
  arb_get_mid_arb(shift.arb(), logits[top].arb());
  for (std::size_t i = 0; i < logits.size(); ++i) {
    if (is_masked_ball(logits[i])) continue;
    Ball x = logits[i];
    x.set_precision(prec);
    w[i] = exp((x - shift) / temperature);
  }
  return w;
}

Ball ball_sum(const std::vector<Ball>& w, long prec) {
  Ball s(0.0, prec);
  for (const Ball& x : w) s += x;
  return s;
}

/// g(λ) = Σ w_i/(w_i − λ) over positive weights (exact zeros contribute exactly 0).
Ball ball_secular(const std::vector<Ball>& w, const Ball& lambda) {
  Ball g(0.0, lambda.precision());
  for (const Ball& x : w) {
    if (x.is_zero()) continue;
    g += x / (x - lambda);
  }
  return g;
}

Ball ball_largest_eigenvalue(const std::vector<Ball>& w, long prec) {
  // The two largest midpoints p, q among nonzero weights.
  std::size_t p = w.size(), q = w.size();
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (w[i].is_zero()) continue;
    if (p == w.size() || arf_cmp(arb_midref(w[i].arb()), arb_midref(w[p].arb())) > 0) {
      q = p;
      p = i;
    } else if (q == w.size() ||
               arf_cmp(arb_midref(w[i].arb()), arb_midref(w[q].arb())) > 0) {
      q = i;
    }
  }
  if (q == w.size()) return Ball(0.0, prec);  // at most one positive weight: M = 0
  Ball top = w[p];
  for (const Ball& x : w) top = max(top, x);
  Ball fallback_lo = min(w[p], w[q]);
  bool separated = true;
  for (std::size_t i = 0; i < w.size() && separated; ++i) {
    if (i != p && !w[i].is_zero() && !certainly(w[p] > w[i])) separated = false;
  }
  if (!separated) return hull(fallback_lo, top);

  // Candidate root in Mp on the midpoints, and the largest relative radius of the weights.
  const long guard_bits = prec + 16;
  double max_rel = 0.0;
  for (const Ball& x : w) {
    if (!x.is_zero()) max_rel = std::max(max_rel, x.relative_radius());
  }
  Ball lower = fallback_lo, upper = w[p];
  bool lower_proved = false, upper_proved = false;
  {
    MpPrecision scope(guard_bits);
    std::vector<Mp> mids;
    mids.reserve(w.size());
    for (const Ball& x : w) {
      // Widened to the guard precision: Boost 1.74 keeps a variable's own (here: the
      // midpoint's) precision in in-place operations.
      const Mp m = midpoint_mp(x);
      Mp wide;
      mpfr_set_prec(wide.backend().data(), static_cast<mpfr_prec_t>(guard_bits));
      mpfr_set(wide.backend().data(), m.backend().data(), MPFR_RNDN);
      mids.push_back(wide);
    }
    const Mp root = secular_solve<Mp>(std::span<const Mp>(mids));
    double rel = 2.0 * max_rel + std::ldexp(1.0, -static_cast<int>(prec) + 4);
    // Widen ×64 until both ends are proved or the bracket is as wide as the interlacing bound
    // anyway (the Mp root's accuracy depends on how well the two top weights are separated, so
    // a fixed number of attempts left near-tied rows at the interlacing fallback at high
    // precision — wider than the same row at 64 bits).
    for (; rel < 0.25 && !(lower_proved && upper_proved);) {
      const Mp r = mp_from_double(rel, 53);
      if (!lower_proved) {
        const Ball lo = to_ball(Mp(root * (Mp(1) - r)), prec);
        bool in_gap = certainly(lo < w[p]);
        for (std::size_t i = 0; i < w.size() && in_gap; ++i) {
          if (i != p && !w[i].is_zero() && !certainly(lo > w[i])) in_gap = false;
        }
        if (in_gap && certainly(ball_secular(w, lo) < Ball(0))) {
          lower = lo;
          lower_proved = true;
        }
      }
      if (!upper_proved) {
        const Ball hi = to_ball(Mp(root * (Mp(1) + r)), prec);
        bool in_gap = certainly(hi < w[p]);
        for (std::size_t i = 0; i < w.size() && in_gap; ++i) {
          if (i != p && !w[i].is_zero() && !certainly(hi > w[i])) in_gap = false;
        }
        if (in_gap && certainly(ball_secular(w, hi) > Ball(0))) {
          upper = hi;
          upper_proved = true;
        }
      }
      rel *= 64.0;
    }
  }
  return hull(lower, upper);
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------

template <class R>
R secular_largest_eigenvalue(std::span<const R> weights) {
  const char* fn = "secular_largest_eigenvalue";
  TierScope<R> scope(weights);
  require_weights(weights, fn);
  return secular_solve<R>(weights);
}

namespace {
Ball ball_jacobian_norm(std::span<const Ball> logits, const Ball& temperature) {
  const char* fn = "softmax_jacobian_norm";
  require_nonempty(logits.size(), fn, "logit");
  const long prec = ball_precision(logits, temperature, fn);
  const std::vector<Ball> w = ball_weights(logits, temperature, fn, prec);
  const Ball lambda = ball_largest_eigenvalue(w, prec);
  if (lambda.is_zero()) return lambda;
  Ball t = temperature;
  t.set_precision(prec);
  return lambda / (ball_sum(w, prec) * t);
}
}  // namespace

template <class T>
T softmax_jacobian_norm(std::span<const T> logits, const T& temperature) {
  if constexpr (std::is_same_v<T, Ball>) {
    return ball_jacobian_norm(logits, temperature);
  } else {
    TierScope<T> scope(logits, temperature);
    const std::vector<T> w = shifted_weights<T>(logits, temperature, "softmax_jacobian_norm");
    return norm_from_weights<T>(std::span<const T>(w), temperature);
  }
}

template <class T>
T softmax_jacobian_norm_from_weights(std::span<const T> alpha, const T& temperature) {
  const char* fn = "softmax_jacobian_norm_from_weights";
  TierScope<T> scope(alpha, temperature);
  require_weights(alpha, fn);
  require_temperature(temperature, fn);
  return norm_from_weights<T>(alpha, temperature);
}

RowMatrix<double> softmax_jacobian_norms(const Eigen::Ref<const RowMatrix<double>>& logits,
                                         std::span<const double> temperatures) {
  if (logits.rows() < 1 || logits.cols() < 1) {
    throw std::invalid_argument(fmt::format(
        "softmax_jacobian_norms: logits are {}x{}; need at least one row and one column",
        logits.rows(), logits.cols()));
  }
  if (temperatures.empty()) {
    throw std::invalid_argument("softmax_jacobian_norms: no temperature given; need at least one");
  }
  RowMatrix<double> out(logits.rows(), static_cast<Eigen::Index>(temperatures.size()));
  std::vector<double> row(static_cast<std::size_t>(logits.cols()));
  for (Eigen::Index r = 0; r < logits.rows(); ++r) {
    for (Eigen::Index c = 0; c < logits.cols(); ++c) row[static_cast<std::size_t>(c)] = logits(r, c);
    for (std::size_t t = 0; t < temperatures.size(); ++t) {
      out(r, static_cast<Eigen::Index>(t)) =
          softmax_jacobian_norm<double>(std::span<const double>(row), temperatures[t]);
    }
  }
  return out;
}

std::vector<double> softmax_jacobian_norms_from_weights(
    const Eigen::Ref<const RowMatrix<double>>& alpha, double temperature) {
  const char* fn = "softmax_jacobian_norms_from_weights";
  if (alpha.rows() < 1 || alpha.cols() < 1) {
    throw std::invalid_argument(fmt::format(
        "{}: weights are {}x{}; need at least one row and one column", fn, alpha.rows(),
        alpha.cols()));
  }
  require_temperature(temperature, fn);
  std::vector<double> out(static_cast<std::size_t>(alpha.rows()));
  for (Eigen::Index r = 0; r < alpha.rows(); ++r) {
    const std::span<const double> row(alpha.row(r).data(), static_cast<std::size_t>(alpha.cols()));
    require_weights(row, fn);
    out[static_cast<std::size_t>(r)] = norm_from_weights<double>(row, temperature);
  }
  return out;
}

template <class T>
RowMatrix<T> softmax_jacobian(std::span<const T> logits, const T& temperature) {
  const char* fn = "softmax_jacobian";
  if constexpr (std::is_same_v<T, Ball>) {
    require_nonempty(logits.size(), fn, "logit");
    const long prec = ball_precision(logits, temperature, fn);
    const std::vector<Ball> w = ball_weights(logits, temperature, fn, prec);
    Ball t = temperature;
    t.set_precision(prec);
    return dense_from_weights<Ball>(std::span<const Ball>(w), t);
  } else {
    TierScope<T> scope(logits, temperature);
    const std::vector<T> w = shifted_weights<T>(logits, temperature, fn);
    return dense_from_weights<T>(std::span<const T>(w), temperature);
  }
}

template <class T>
T finite_difference_sensitivity(std::span<const T> logits, const T& temperature,
                                const T& epsilon, std::span<const T> direction) {
  const char* fn = "finite_difference_sensitivity";
  require_nonempty(logits.size(), fn, "logit");
  if (direction.size() != logits.size()) {
    throw std::invalid_argument(fmt::format("{}: direction has length {}, logits {}; need equal",
                                            fn, direction.size(), logits.size()));
  }
  if constexpr (std::is_same_v<T, Ball>) {
    if (!epsilon.is_finite() || !certainly(epsilon > Ball(0))) {
      throw std::invalid_argument(fmt::format(
          "{}: epsilon = {} is not admissible; need a finite epsilon certainly > 0", fn,
          epsilon.str(17)));
    }
  } else {
    if (is_nan(epsilon) || is_inf(epsilon) || !(epsilon > T(0))) {
      throw std::invalid_argument(fmt::format(
          "{}: epsilon = {} is not admissible; need a finite epsilon > 0", fn,
          describe(epsilon)));
    }
  }
  TierScope<T> scope(temperature, epsilon, logits, direction);
  std::vector<T> moved(logits.begin(), logits.end());
  for (std::size_t i = 0; i < moved.size(); ++i) {
    if constexpr (std::is_same_v<T, Ball>) {
      if (!direction[i].is_finite()) {
        throw std::domain_error(fmt::format("{}: direction entry {} is not finite", fn, i));
      }
    } else if (is_nan(direction[i]) || is_inf(direction[i])) {
      throw std::domain_error(fmt::format("{}: direction entry {} is {}; need finite entries", fn,
                                          i, describe(direction[i])));
    }
    moved[i] = T(moved[i] + epsilon * direction[i]);
  }
  const std::vector<T> base = softmax<T>(logits, temperature);
  const std::vector<T> shifted = softmax<T>(std::span<const T>(moved), temperature);
  T sq = T(0);
  for (std::size_t i = 0; i < base.size(); ++i) {
    const T d = T(shifted[i] - base[i]);
    sq += d * d;
  }
  using std::sqrt;
  return T(sqrt(sq) / epsilon);
}

double finite_difference_sensitivity(std::span<const double> logits, double temperature,
                                     double epsilon, Rng& rng) {
  require_nonempty(logits.size(), "finite_difference_sensitivity", "logit");
  const std::vector<double> v = rng.unit_sphere(logits.size());
  return finite_difference_sensitivity<double>(logits, temperature, epsilon,
                                               std::span<const double>(v));
}

// ---------------------------------------------------------------------------------------
// Instantiations
// ---------------------------------------------------------------------------------------

#define ATTNCERT_INSTANTIATE_SECULAR(T)                                              \
  template T secular_largest_eigenvalue<T>(std::span<const T>);                      \
  template T softmax_jacobian_norm_from_weights<T>(std::span<const T>, const T&);    \
  template T softmax_jacobian_norm<T>(std::span<const T>, const T&);                 \
  template RowMatrix<T> softmax_jacobian<T>(std::span<const T>, const T&);
ATTNCERT_INSTANTIATE_SECULAR(float)
ATTNCERT_INSTANTIATE_SECULAR(double)
ATTNCERT_INSTANTIATE_SECULAR(Mp)
#undef ATTNCERT_INSTANTIATE_SECULAR
template Ball softmax_jacobian_norm<Ball>(std::span<const Ball>, const Ball&);
template RowMatrix<Ball> softmax_jacobian<Ball>(std::span<const Ball>, const Ball&);

template float finite_difference_sensitivity<float>(std::span<const float>, const float&,
                                                    const float&, std::span<const float>);
template double finite_difference_sensitivity<double>(std::span<const double>, const double&,
                                                      const double&, std::span<const double>);
template Mp finite_difference_sensitivity<Mp>(std::span<const Mp>, const Mp&, const Mp&,
                                              std::span<const Mp>);
template Ball finite_difference_sensitivity<Ball>(std::span<const Ball>, const Ball&,
                                                  const Ball&, std::span<const Ball>);

}  // namespace attncert
