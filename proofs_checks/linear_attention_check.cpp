// Linear attention kernel validation: certified ground truth, a-priori error bound, naive
// same-precision reference and the flash-attention rule.
//
// ---- The a-priori forward error bound -------------------------------------------------------
// Notation: u = 2⁻²⁴ (fp32 arithmetic), u_in = unit roundoff of the dtype, μ = its smallest
// normal (fp16 2⁻¹⁴, bf16/fp32 2⁻¹²⁶), κ = kPortableExpRelativeError = 4·2⁻²⁴, η = 2⁻¹⁵⁰ (the
// absolute error of an fp32 rounding in the subnormal range), γ_n = nu/(1 − nu) (higham_gamma);
// chunks of B = gpu::kLinearAttentionChunk = 64 tokens, the length the kernel and its twin use.
//
// 1. Inputs. RNE to the dtype (straight from double): |x̂ − x| ≤ u_in·(|x| + μ) (relative
//    error u_in for normal results, absolute u_in·μ in the subnormal range).
// 2. Map inputs. Keys x' = k̂: β = u_in(|k| + μ). Queries x' = fl(scale·q̂):
//    β = scale·u_in(|q| + μ) + u·scale·(|q| + u_in(|q| + μ)) + η, so |x' − x| ≤ β, x = scale·q.
// 3. Features, |φ̂_a − φ_a| ≤ ε_a with φ the exact map of the exact input:
//    identity, relu (1-Lipschitz, no rounding): ε = β;
//    elu+1 (1-Lipschitz; x'+1 rounds with u, portable_expf errs by κ relative, or by < 2⁻¹²⁶
//      where it flushes to 0; κ ≥ u): ε = β + κ(|x| + 1 + β) + 2⁻¹²⁶;
//    Taylor-2: 1 exact; x_a: β_a; c·x_a² (c = ½ query, 1 key):
//      c(β(2|x| + β) + u(|x| + β)² + 2η) + η; x_p x_q: β_p|x_q| + β_q|x_p| + β_pβ_q +
//      u(|x_p| + β_p)(|x_q| + β_q) + η.
//    Values: |v̂ − v| ≤ u_in(|v| + μ); the normaliser's "value" 1 is exact.
// 4. Accumulation. Every output element r(i,e) is a sum over (j, a) of φ̂q_ia·φ̂k_ja·v̂_je, each
//    term passing through at most n roundings of fma chains and additions:
//      causal:     B (chunk state chain) + C (state scan) + m (read-out chain) + B (the
//                  intra-chunk continuation of the same chain)  → n = 2B + C + m
//                  (intra-chunk terms: m (score chain) + B ≤ n);
//      non-causal: n = B + C + m,
//    with C the number of chunk states scanned in all (⌈T/B⌉; for a split sequence the sum
//    over the calls, since the carried state went through the earlier call's scan). Higham's
//    lemma (Π(1 + δ_k) ∈ [1 − γ_n, 1 + γ_n]) and |âb̂ĉ − abc| ≤ āb̄c̄ − |a||b||c| for
//    ā = |a| + ε_a etc. give, with N = Σ|φq||φk||v| and N̄ = Σ(|φq| + ε)(|φk| + ε)(|v| + ε_v),
//      |r̂ − r| ≤ E := (1 + γ_n)·N̄ − N + U,
//    U = η(1 + γ_n)(m(B + C)·max φ̄q + m + B + B·m·max(1, v̄)) covering subnormal roundings
//    inside the chains. N, N̄ are computed in double from the inputs (prefix sums of
//    non-negative terms, relative error < (T + m + 8)·2⁻⁵³ < 10⁻¹²); we enlarge them by 10⁻⁹.
// 5. Read-out. Unnormalised: o = r, then rounding to the output dtype: + u_out(1 + γ_n)N̄ +
//    u_out·μ (u_out = 0 for fp32 output). Normalised (positive weights: elu+1, Taylor-2; the
//    normaliser den = r(i,d) > 0): with the errors E_num, E_den and den_low ≤ den,
//      |n̂/d̂ − o| ≤ t := (E_num + |o|·E_den)/(den_low − E_den),  |o| ≤ N(i,e)/den_low,
//    then the fp32 division (u, η) and the output rounding (u_out, u_out·μ):
//      bound = t + (u + u_out + u·u_out)(|o| + t) + η + u_out·μ.
//    den_low = den (double) − 10⁻⁹·N(i,d). If den_low ≤ E_den the bound is +inf (identity and
//    relu normalisers may be ≤ 0: those maps are validated with the unnormalised read-out).
// The bound is elementwise; a row's "bound" is its maximum, and the check also requires every
// element's error to be within its own bound. It depends only on the inputs, the dtype and the
// algorithm's shape (m, C, chunk length B), never on the computed output.
// ---------------------------------------------------------------------------------------------
#include "proofs_checks/linear_attention_check.hpp"

#include <arb.h>
#include <arb_mat.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "gpu/device.hpp"
#include "gpu/portable_exp.hpp"
#include "numerics/arb_handles.hpp"
#include "numerics/ball.hpp"
#include "numerics/feature_maps.hpp"
#include "numerics/rng.hpp"
#include "numerics/scalar_traits.hpp"
#include "proofs_checks/kernel_checks.hpp"

namespace attncert {
namespace {

// Bit-for-bit equality: float == would call +0 and −0 equal and two identical NaNs different.
bool same_float_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

using gpu::DType;
using gpu::LinearFeature;
using gpu::LinearReadout;

constexpr long kBallPrecision = 128;
constexpr int kChunk = gpu::kLinearAttentionChunk;
constexpr double kU = 0x1p-24;
constexpr double kEta = 0x1p-150;
constexpr double kDoubleMargin = 1e-9;

int significand_bits(DType t) { return t == DType::f32 ? 24 : t == DType::f16 ? 11 : 8; }
int min_exponent(DType t) { return t == DType::f16 ? -14 : -126; }
double max_finite(DType t) {
  return t == DType::f16 ? 65504.0 : t == DType::bf16 ? 0x1.fep127 : 0x1.fffffep127;
}

// RNE of x to the dtype's precision and exponent range, in double (exact: scaling by a power
// of two, nearbyint ties to even).
double round_to_dtype(double x, DType t) {
  if (x == 0 || !std::isfinite(x)) return x;
  int e = 0;
  std::frexp(x, &e);
  const int exponent = std::max(e - 1, min_exponent(t));
  const double quantum = std::ldexp(1.0, exponent - (significand_bits(t) - 1));
  const double r = std::nearbyint(x / quantum) * quantum;
  if (std::fabs(r) > max_finite(t))
    throw std::domain_error(fmt::format("linear attention check: input {} overflows {}", x,
                                        gpu::dtype_name(t)));
  return r;
}

FeatureMap numerics_map(LinearFeature f) {
  switch (f) {
    case LinearFeature::identity: return FeatureMap::identity();
    case LinearFeature::relu: return FeatureMap::relu();
    case LinearFeature::elu_plus_one: return FeatureMap::elu_plus_one();
    case LinearFeature::taylor2: return FeatureMap::taylor2();
  }
  throw std::invalid_argument("linear attention check: unknown feature map");
}

long long chunks_of(long long T) { return (T + kChunk - 1) / kChunk; }

// --- certified ground truth ------------------------------------------------------------------

using arb_handles::ArbHandle;
using arb_handles::ArbMatHandle;

// --- the bound's double-precision sums ---------------------------------------------------------

// Per token row: the exact features (double), their magnitudes, and their error bounds ε.
struct FeatureTable {
  long long m = 0;
  std::vector<double> value, magnitude, error;  // T×m
};

FeatureTable feature_table(const LinearAttentionProblem& p, LinearFeature f, DType t,
                           bool is_query) {
  const int d = p.head_dim;
  const double u_in = gpu::dtype_unit_roundoff(t), mu = gpu::dtype_smallest_normal(t);
  const double scale = p.scale;
  const double kappa = gpu::kPortableExpRelativeError;
  FeatureTable table;
  table.m = gpu::linear_feature_dim(f, d);
  const auto T = static_cast<std::size_t>(p.seqlen);
  table.value.resize(T * table.m);
  table.magnitude.resize(T * table.m);
  table.error.resize(T * table.m);
  std::vector<double> x(d), beta(d);
  const std::vector<double>& source = is_query ? p.q : p.k;
  for (std::size_t i = 0; i < T; ++i) {
    for (int a = 0; a < d; ++a) {
      const double raw = source[i * d + a];
      if (is_query) {
        x[a] = scale * raw;
        beta[a] = scale * u_in * (std::fabs(raw) + mu) +
                  kU * scale * (std::fabs(raw) + u_in * (std::fabs(raw) + mu)) + kEta;
      } else {
        x[a] = raw;
        beta[a] = u_in * (std::fabs(raw) + mu);
      }
    }
    std::size_t c = i * table.m;
    auto put = [&](double value, double error) {
      table.value[c] = value;
      table.magnitude[c] = std::fabs(value);
      table.error[c] = error;
      ++c;
    };
    switch (f) {
      case LinearFeature::identity:
        for (int a = 0; a < d; ++a) put(x[a], beta[a]);
        break;
      case LinearFeature::relu:
        for (int a = 0; a < d; ++a) put(std::max(x[a], 0.0), beta[a]);
        break;
      case LinearFeature::elu_plus_one:
        // |x̂ − x| ≤ β. Three cases by which branch x̂ can take:
        //  x > β  : x̂ > 0, φ̂ = fl(x̂ + 1): |φ̂ − (x + 1)| ≤ β + u(|x| + 1 + β) (u ≤ κ).
        //  x < −β : x̂ < 0, φ̂ = exp~(x̂) with relative error κ, or 0 below the underflow
        //           threshold (error < 2⁻¹²⁶): |φ̂ − eˣ| ≤ eˣ·expm1(β) + κ·e^{x+β} [+ 2⁻¹²⁶].
        //           Relative, so tiny features keep tiny errors (an absolute κ(|x|+1) term made
        //           normalisers of e⁻⁸⁴-sized features unboundable).
        //  |x| ≤ β: either branch; φ and φ̂ both lie in [e^{−β}(1 − κ), (1 + β)(1 + κ)], so
        //           |φ̂ − φ| ≤ (1 − e^{−β}) + β + 2κ + βκ ≤ 2β + 2κ + βκ.
        for (int a = 0; a < d; ++a) {
          const double xa = x[a], b = beta[a];
          double err;
          if (xa > b) {
            err = b + kappa * (std::fabs(xa) + 1 + b);
          } else if (xa < -b) {
            err = std::exp(xa) * std::expm1(b) + kappa * std::exp(xa + b) +
                  (xa - b < static_cast<double>(gpu::kPortableExpUnderflow) ? 0x1p-126 : 0.0);
          } else {
            err = 2 * b + 2 * kappa + b * kappa;
          }
          put(xa > 0 ? xa + 1 : std::exp(xa), err);
        }
        break;
      case LinearFeature::taylor2: {
        const double half = is_query ? 0.5 : 1.0;
        put(1.0, 0.0);
        for (int a = 0; a < d; ++a) put(x[a], beta[a]);
        for (int a = 0; a < d; ++a) {
          const double ax = std::fabs(x[a]);
          put(half * x[a] * x[a],
              half * (beta[a] * (2 * ax + beta[a]) + kU * (ax + beta[a]) * (ax + beta[a]) +
                      2 * kEta) + kEta);
        }
        for (int a = 0; a < d; ++a)
          for (int b = a + 1; b < d; ++b) {
            const double xa = std::fabs(x[a]), xb = std::fabs(x[b]);
            put(x[a] * x[b], beta[a] * xb + beta[b] * xa + beta[a] * beta[b] +
                                 kU * (xa + beta[a]) * (xb + beta[b]) + kEta);
          }
        break;
      }
    }
  }
  return table;
}

// out(i,e) = Σ_{j ∈ J(i)} Σ_a fq(i,a)·fk(j,a)·val(j,e) in double through a prefix state
// (fq, fk T×m, val T×w; all entries non-negative here, so the order barely matters).
std::vector<double> prefix_attention(const std::vector<double>& fq, const std::vector<double>& fk,
                                     const std::vector<double>& val, long long T, long long m,
                                     long long w, bool causal) {
  std::vector<double> state(m * w, 0.0), out(T * w, 0.0);
  auto absorb = [&](long long j) {
    for (long long a = 0; a < m; ++a) {
      const double f = fk[j * m + a];
      if (f == 0) continue;
      for (long long e = 0; e < w; ++e) state[a * w + e] += f * val[j * w + e];
    }
  };
  auto emit = [&](long long i) {
    for (long long a = 0; a < m; ++a) {
      const double f = fq[i * m + a];
      if (f == 0) continue;
      for (long long e = 0; e < w; ++e) out[i * w + e] += f * state[a * w + e];
    }
  };
  if (causal) {
    for (long long i = 0; i < T; ++i) {
      absorb(i);
      emit(i);
    }
  } else {
    for (long long j = 0; j < T; ++j) absorb(j);
    for (long long i = 0; i < T; ++i) emit(i);
  }
  return out;
}

// --- naive same-precision implementation -------------------------------------------------------

// What a framework does in the dtype: features and every matmul result rounded to the dtype
// (fp32 accumulation inside the matmuls), quadratic form with a causal mask.
std::vector<float> naive_linear_attention(const LinearAttentionProblem& p, LinearFeature f,
                                          LinearReadout readout, bool causal, DType t) {
  const int d = p.head_dim;
  const long long T = p.seqlen, m = gpu::linear_feature_dim(f, d);
  auto rt = [t](float x) { return gpu::round_through(t, x); };
  auto features = [&](const std::vector<double>& src, bool is_query) {
    std::vector<float> out(T * m);
    std::vector<float> x(d);
    for (long long i = 0; i < T; ++i) {
      for (int a = 0; a < d; ++a) {
        const auto xr = static_cast<float>(round_to_dtype(src[i * d + a], t));
        x[a] = is_query ? rt(p.scale * xr) : xr;
      }
      float* o = out.data() + i * m;
      switch (f) {
        case LinearFeature::identity:
          for (int a = 0; a < d; ++a) o[a] = x[a];
          break;
        case LinearFeature::relu:
          for (int a = 0; a < d; ++a) o[a] = std::max(x[a], 0.0f);
          break;
        case LinearFeature::elu_plus_one:
          for (int a = 0; a < d; ++a) o[a] = rt(x[a] > 0 ? x[a] + 1.0f : std::exp(x[a]));
          break;
        case LinearFeature::taylor2: {
          long long c = 0;
          o[c++] = 1.0f;
          for (int a = 0; a < d; ++a) o[c++] = x[a];
          for (int a = 0; a < d; ++a) o[c++] = rt(is_query ? x[a] * x[a] * 0.5f : x[a] * x[a]);
          for (int a = 0; a < d; ++a)
            for (int b = a + 1; b < d; ++b) o[c++] = rt(x[a] * x[b]);
          break;
        }
      }
    }
    return out;
  };
  const std::vector<float> fq = features(p.q, true), fk = features(p.k, false);
  std::vector<float> v(T * d);
  for (long long i = 0; i < T * d; ++i) v[i] = static_cast<float>(round_to_dtype(p.v[i], t));
  // Keys' features transposed (m×T): each score still sums over a in order, but the loop over
  // keys is innermost and vectorises, with the same roundings as one dot product per key.
  std::vector<float> fkT(m * T);
  for (long long j = 0; j < T; ++j)
    for (long long a = 0; a < m; ++a) fkT[a * T + j] = fk[j * m + a];
  std::vector<float> out(T * d), scores(T), num(d);
  for (long long i = 0; i < T; ++i) {
    const long long keys = causal ? i + 1 : T;
    std::fill(scores.begin(), scores.begin() + keys, 0.0f);
    for (long long a = 0; a < m; ++a) {
      const float f = fq[i * m + a];
      const float* column = fkT.data() + a * T;
      for (long long j = 0; j < keys; ++j) scores[j] += f * column[j];
    }
    float den = 0.0f;
    for (long long j = 0; j < keys; ++j) {
      scores[j] = rt(scores[j]);
      den += scores[j];
    }
    std::fill(num.begin(), num.end(), 0.0f);
    for (long long j = 0; j < keys; ++j)
      for (int e = 0; e < d; ++e) num[e] += scores[j] * v[j * d + e];
    den = rt(den);
    for (int e = 0; e < d; ++e) {
      const float n = rt(num[e]);
      out[i * d + e] = readout == LinearReadout::normalised ? rt(n / den) : n;
    }
  }
  return out;
}

std::string case_shape(const LinearAttentionCase& c) {
  return fmt::format("T={} d={} {} {}", c.seqlen, c.head_dim, gpu::linear_feature_name(c.feature),
                     c.readout == LinearReadout::normalised ? "normalised" : "unnormalised");
}

}  // namespace

// --- cases ---------------------------------------------------------------------------------------

std::vector<LinearAttentionCase> linear_attention_cases(const KernelCheckRequest& request) {
  std::vector<LinearAttentionCase> cases;
  std::uint64_t index = 0;
  const LinearFeature features[] = {LinearFeature::identity, LinearFeature::relu,
                                    LinearFeature::elu_plus_one, LinearFeature::taylor2};
  // A length or head dim the user names that the matrix lacks runs as given (substreams after
  // the matrix's own, the --quick subset then does not apply).
  std::vector<int> lengths = {63, 500, 1000, 2048};
  const std::vector<int> matrix_dims = {60, 64, 100, 128}, taylor_dims = {7, 16};
  const auto absent = [](const std::vector<int>& v, int x) {
    return std::find(v.begin(), v.end(), x) == v.end();
  };
  const bool custom_length = request.seqlen_q && absent(lengths, *request.seqlen_q);
  const bool custom_dim = request.head_dim && absent(matrix_dims, *request.head_dim) &&
                          absent(taylor_dims, *request.head_dim);
  if (custom_length) {
    if (*request.seqlen_q > 16384)
      throw std::invalid_argument(fmt::format(
          "linear-attention: T = {} is above 16384, where the certified truth takes minutes",
          *request.seqlen_q));
    lengths = {*request.seqlen_q};
  }
  if (custom_dim && (*request.head_dim < 1 || *request.head_dim > gpu::kLinearAttentionMaxHeadDim))
    throw std::invalid_argument(fmt::format(
        "linear-attention: head dim {} is not supported (the kernel handles 1..{})",
        *request.head_dim, gpu::kLinearAttentionMaxHeadDim));
  if (custom_length || custom_dim) index = 100000;
  for (int T : lengths)
    for (LinearFeature f : features) {
      const bool taylor = f == LinearFeature::taylor2;
      std::vector<int> dims = taylor ? taylor_dims : matrix_dims;
      // Taylor-2 has 1 + d + d(d+1)/2 features: its Ball truth is tractable up to d = 16.
      if (custom_dim) dims = taylor && *request.head_dim > 16 ? std::vector<int>{} : std::vector<int>{*request.head_dim};
      for (int d : dims)
        for (DType t : {DType::f32, DType::f16, DType::bf16})
          for (bool causal : {true, false}) {
            LinearAttentionCase c;
            c.seqlen = T;
            c.head_dim = d;
            c.dtype = t;
            c.feature = f;
            c.readout = f == LinearFeature::identity || f == LinearFeature::relu
                            ? LinearReadout::unnormalised
                            : LinearReadout::normalised;
            c.causal = causal;
            c.index = index++;
            const bool in_quick = (T == 63 || T == 500) && (d == 60 || d == 7);
            if (request.quick && !in_quick && !custom_length && !custom_dim) continue;
            if (request.dtype && *request.dtype != t) continue;
            if (request.seqlen_q && *request.seqlen_q != T) continue;
            if (request.head_dim && *request.head_dim != d) continue;
            if (request.causal && *request.causal != causal) continue;
            cases.push_back(c);
          }
    }
  return cases;
}

LinearAttentionProblem make_linear_attention_problem(int seqlen, int head_dim, Rng& rng) {
  if (seqlen < 1 || head_dim < 1)
    throw std::invalid_argument(fmt::format(
        "make_linear_attention_problem: T = {}, d = {}; both must be >= 1", seqlen, head_dim));
  LinearAttentionProblem p;
  p.seqlen = seqlen;
  p.head_dim = head_dim;
  p.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(head_dim)));
  const auto n = static_cast<std::size_t>(seqlen) * head_dim;
  p.q = rng.normal_vector(n);
  p.k = rng.normal_vector(n);
  p.v = rng.normal_vector(n);
  return p;
}

LinearAttentionProblem slice_tokens(const LinearAttentionProblem& p, int first, int count) {
  if (first < 0 || count < 1 || first + count > p.seqlen)
    throw std::invalid_argument(fmt::format("slice_tokens: rows [{}, {}) outside [0, {})", first,
                                            first + count, p.seqlen));
  LinearAttentionProblem s = p;
  s.seqlen = count;
  const auto begin = static_cast<std::ptrdiff_t>(first) * p.head_dim;
  const auto end = begin + static_cast<std::ptrdiff_t>(count) * p.head_dim;
  s.q.assign(p.q.begin() + begin, p.q.begin() + end);
  s.k.assign(p.k.begin() + begin, p.k.begin() + end);
  s.v.assign(p.v.begin() + begin, p.v.begin() + end);
  return s;
}

std::vector<unsigned char> to_dtype_buffer(const std::vector<double>& values, DType t) {
  std::vector<unsigned char> out(values.size() * gpu::dtype_size(t));
  for (std::size_t i = 0; i < values.size(); ++i) {
    const auto x = static_cast<float>(round_to_dtype(values[i], t));  // exact
    if (t == DType::f32) {
      std::memcpy(out.data() + 4 * i, &x, 4);
    } else {
      const std::uint16_t bits =
          t == DType::f16 ? gpu::float_to_f16_bits(x) : gpu::float_to_bf16_bits(x);
      std::memcpy(out.data() + 2 * i, &bits, 2);
    }
  }
  return out;
}

double dtype_buffer_value(const std::vector<unsigned char>& buffer, DType t, std::size_t i) {
  return gpu::load_element(t, buffer.data(), static_cast<long long>(i));
}

CertifiedLinearOutput certified_linear_attention(const LinearAttentionProblem& p,
                                                 LinearFeature feature, LinearReadout readout,
                                                 bool causal) {
  const long long T = p.seqlen, d = p.head_dim, w = d + 1;
  const FeatureMap phi = numerics_map(feature);
  RowMatrix<Ball> Qs(T, d), Kb(T, d);
  const Ball scale(static_cast<double>(p.scale), kBallPrecision);
  for (long long i = 0; i < T; ++i)
    for (long long a = 0; a < d; ++a) {
      Qs(i, a) = scale * Ball(p.q[i * d + a], kBallPrecision);
      Kb(i, a) = Ball(p.k[i * d + a], kBallPrecision);
    }
  const RowMatrix<Ball> Fq = phi.query_features<Ball>(Qs);
  const RowMatrix<Ball> Fk = phi.key_features<Ball>(Kb);
  const long long m = Fq.cols();
  // Products of Arb matrices (arb_mat_mul: exact integer block products, far faster than one
  // arb_dot per entry); num = [O·den | den] row by row, chunk by chunk when causal.
  ArbMatHandle fq(T, m), fkT(m, T), vw(T, w), num(T, w), state(m, w);
  for (long long i = 0; i < T; ++i)
    for (long long a = 0; a < m; ++a) {
      arb_set(fq(i, a), Fq(i, a).arb());
      arb_set(fkT(a, i), Fk(i, a).arb());
    }
  for (long long j = 0; j < T; ++j) {
    for (long long e = 0; e < d; ++e) arb_set_d(vw(j, e), p.v[j * d + e]);
    arb_one(vw(j, d));
  }
  if (!causal) {
    arb_mat_mul(state, fkT, vw, kBallPrecision);
    arb_mat_mul(num, fq, state, kBallPrecision);
  } else {
    // Chunk [b, e): num = fq_c·state + tril(fq_c·fk_cᵀ)·vw_c, then state += fk_cᵀ·vw_c.
    for (long long begin = 0; begin < T; begin += kChunk) {
      const long long n = std::min(T, begin + kChunk) - begin;
      ArbMatHandle fq_c(n, m), fkT_c(m, n), vw_c(n, w), scores(n, n), part(n, w), inner(n, w),
          absorbed(m, w);
      for (long long i = 0; i < n; ++i) {
        for (long long a = 0; a < m; ++a) {
          arb_set(fq_c(i, a), fq(begin + i, a));
          arb_set(fkT_c(a, i), fkT(a, begin + i));
        }
        for (long long e = 0; e < w; ++e) arb_set(vw_c(i, e), vw(begin + i, e));
      }
      arb_mat_mul(part, fq_c, state, kBallPrecision);
      arb_mat_mul(scores, fq_c, fkT_c, kBallPrecision);
      for (long long i = 0; i < n; ++i)
        for (long long j = i + 1; j < n; ++j) arb_zero(scores(i, j));  // keys after the query
      arb_mat_mul(inner, scores, vw_c, kBallPrecision);
      arb_mat_add(part, part, inner, kBallPrecision);
      for (long long i = 0; i < n; ++i)
        for (long long e = 0; e < w; ++e) arb_swap(num(begin + i, e), part(i, e));
      arb_mat_mul(absorbed, fkT_c, vw_c, kBallPrecision);
      arb_mat_add(state, state, absorbed, kBallPrecision);
    }
  }
  CertifiedLinearOutput out;
  out.mid.assign(T * d, 0.0);
  out.radius.assign(T * d, 0.0);
  ArbHandle quotient;
  for (long long i = 0; i < T; ++i) {
    arb_srcptr den = num(i, d);
    const bool usable = readout == LinearReadout::unnormalised || arb_is_positive(den);
    for (long long e = 0; e < d; ++e) {
      double mid = std::numeric_limits<double>::quiet_NaN(), rad = mid;
      if (usable) {
        arb_srcptr value = num(i, e);
        if (readout == LinearReadout::normalised) {
          arb_div(quotient, value, den, kBallPrecision);
          value = quotient;
        }
        mid = arf_get_d(arb_midref(value), ARF_RND_NEAR);
        // The double midpoint is off the ball's by ≤ half an ulp: fold that into the radius.
        rad = mag_get_d(arb_radref(value)) + std::fabs(mid) * 0x1p-53;
        out.max_radius = std::max(out.max_radius, rad);
      }
      out.mid[i * d + e] = mid;
      out.radius[i * d + e] = rad;
    }
  }
  return out;
}

std::vector<double> linear_attention_error_bound(const LinearAttentionProblem& p,
                                                 LinearFeature feature, LinearReadout readout,
                                                 bool causal, DType dtype, long long total_chunks,
                                                 int chunk_length) {
  const long long T = p.seqlen, d = p.head_dim, w = d + 1;
  const FeatureTable q = feature_table(p, feature, dtype, true);
  const FeatureTable k = feature_table(p, feature, dtype, false);
  const long long m = q.m;
  const double u_in = gpu::dtype_unit_roundoff(dtype), mu = gpu::dtype_smallest_normal(dtype);
  const double u_out = dtype == DType::f32 ? 0.0 : u_in, eta_out = u_out * mu;

  std::vector<double> v_mag(T * w), v_bar(T * w);
  double v_bar_max = 1.0;
  for (long long j = 0; j < T; ++j) {
    for (long long e = 0; e < d; ++e) {
      const double a = std::fabs(p.v[j * d + e]);
      v_mag[j * w + e] = a;
      v_bar[j * w + e] = a + u_in * (a + mu);
      v_bar_max = std::max(v_bar_max, v_bar[j * w + e]);
    }
    v_mag[j * w + d] = v_bar[j * w + d] = 1.0;
  }
  std::vector<double> q_bar(T * m), k_bar(T * m);
  double q_bar_max = 0;
  for (long long s = 0; s < T * m; ++s) {
    q_bar[s] = q.magnitude[s] + q.error[s];
    k_bar[s] = k.magnitude[s] + k.error[s];
    q_bar_max = std::max(q_bar_max, q_bar[s]);
  }
  const std::vector<double> N = prefix_attention(q.magnitude, k.magnitude, v_mag, T, m, w, causal);
  const std::vector<double> Nbar = prefix_attention(q_bar, k_bar, v_bar, T, m, w, causal);

  const double C = static_cast<double>(total_chunks), chunk = chunk_length;
  const long long n = (causal ? 2LL : 1LL) * chunk_length + total_chunks + m;  // roundings
  const double gamma = higham_gamma(n, kU);
  const double U = kEta * (1 + gamma) *
                   (static_cast<double>(m) * (chunk + C) * q_bar_max + static_cast<double>(m) +
                    chunk + chunk * static_cast<double>(m) * v_bar_max);
  auto chain_error = [&](long long s) {
    return (1 + gamma) * (1 + kDoubleMargin) * Nbar[s] - (1 - kDoubleMargin) * N[s] + U;
  };

  std::vector<double> bound(T * d);
  if (readout == LinearReadout::unnormalised) {
    for (long long i = 0; i < T; ++i)
      for (long long e = 0; e < d; ++e) {
        const long long s = i * w + e;
        bound[i * d + e] =
            chain_error(s) + u_out * (1 + gamma) * (1 + kDoubleMargin) * Nbar[s] + eta_out;
      }
    return bound;
  }
  // Normalised: the exact normaliser in double (signed features), with its evaluation error.
  std::vector<double> ones(T, 1.0);
  const std::vector<double> den = prefix_attention(q.value, k.value, ones, T, m, 1, causal);
  for (long long i = 0; i < T; ++i) {
    const double e_den = chain_error(i * w + d);
    const double den_low = den[i] - kDoubleMargin * N[i * w + d];
    for (long long e = 0; e < d; ++e) {
      if (!(den_low > e_den)) {
        bound[i * d + e] = std::numeric_limits<double>::infinity();
        continue;
      }
      const double o_abs = (1 + kDoubleMargin) * N[i * w + e] / den_low;
      const double t = (chain_error(i * w + e) + o_abs * e_den) / (den_low - e_den);
      bound[i * d + e] = t + (kU + u_out + kU * u_out) * (o_abs + t) + kEta + eta_out;
    }
  }
  return bound;
}

KernelCheckRow check_linear_attention_case(const LinearAttentionCase& c, std::uint64_t seed,
                                           bool prefer_device) {
  Rng rng = Rng(seed).substream(c.index);
  const LinearAttentionProblem p = make_linear_attention_problem(c.seqlen, c.head_dim, rng);
  const DType t = c.dtype;
  const long long T = p.seqlen, d = p.head_dim;
  const auto qb = to_dtype_buffer(p.q, t), kb = to_dtype_buffer(p.k, t), vb = to_dtype_buffer(p.v, t);
  const long long state_size = gpu::linear_state_elements(c.feature, c.head_dim);

  struct Run {
    std::vector<unsigned char> out;
    std::vector<float> state;
    long long rows_not_normalised = -1;
    gpu::KernelStatus status;
  };
  const gpu::DeviceReport device = gpu::query_devices();
  const bool on_device = prefer_device && device.device_count > 0;
  auto run = [&](bool use_device) {
    Run r;
    r.out.assign(qb.size(), 0);
    r.state.assign(state_size, 0.0f);
    gpu::LinearAttentionArgs a;
    a.seqlen = c.seqlen;
    a.head_dim = c.head_dim;
    a.q_dtype = a.k_dtype = a.v_dtype = t;
    a.feature = c.feature;
    a.readout = c.readout;
    a.causal = c.causal;
    a.scale = p.scale;
    a.q = qb.data();
    a.k = kb.data();
    a.v = vb.data();
    a.out = r.out.data();
    a.final_state = r.state.data();
    a.rows_not_normalised = &r.rows_not_normalised;
    r.status = use_device ? gpu::run_linear_attention_on_device(a) : gpu::linear_attention_twin(a);
    return r;
  };
  const Run first = run(on_device);

  KernelCheckRow row;
  row.kernel = "linear-attention";
  row.shape = case_shape(c);
  row.dtype = std::string(gpu::dtype_name(t));
  row.variant = c.causal ? "causal" : "non-causal";
  row.executed_on = on_device ? "device (" + device.name + ")" : "twin";
  if (!first.status.ok()) {  // a failing case (as flash attention reports it), not an abort
    row.note = "run failed: " + first.status.message;
    return row;
  }
  const Run second = run(on_device);
  row.deterministic =
      second.status.ok() && first.out == second.out && same_float_bits(first.state, second.state);

  const CertifiedLinearOutput truth = certified_linear_attention(p, c.feature, c.readout, c.causal);
  const std::vector<double> bound =
      linear_attention_error_bound(p, c.feature, c.readout, c.causal, t, chunks_of(T));
  const std::vector<float> naive = naive_linear_attention(p, c.feature, c.readout, c.causal, t);
  row.ground_truth_radius = truth.max_radius;
  bool finite = true;
  double worst_element_ratio = 0, atol = 0;
  for (long long s = 0; s < T * d; ++s) {
    const double computed = dtype_buffer_value(first.out, t, static_cast<std::size_t>(s));
    const double error = std::fabs(computed - truth.mid[s]) + truth.radius[s];
    if (!std::isfinite(computed) || !std::isfinite(error)) finite = false;
    row.max_abs_error = std::max(row.max_abs_error, error);
    row.bound = std::max(row.bound, bound[s]);
    worst_element_ratio = std::max(worst_element_ratio, error / bound[s]);
    row.naive_error = std::max(row.naive_error,
                               std::fabs(static_cast<double>(naive[s]) - truth.mid[s]) + truth.radius[s]);
    // FA3's absolute term: how far ref moves under + 0.3 − 0.3 in the dtype.
    const float ref = gpu::round_through(t, static_cast<float>(truth.mid[s]));
    const float moved = gpu::round_through(t, gpu::round_through(t, ref + 0.3f) - 0.3f);
    atol = std::max(atol, 2.0 * std::fabs(static_cast<double>(moved) - ref));
  }
  // An infinite element bound (e.g. a normaliser whose error bound reaches its value) checks
  // nothing for that element; the case is vacuous when no element has a finite bound.
  std::size_t unbounded = 0;
  for (double b : bound) unbounded += std::isfinite(b) ? 0 : 1;
  row.vacuous = unbounded == bound.size();
  row.ratio = row.max_abs_error / row.bound;
  row.fa_rule_threshold = 2 * row.naive_error + atol;
  row.fa_rule_pass = row.max_abs_error <= row.fa_rule_threshold;
  const bool rows_ok = first.rows_not_normalised == 0;
  row.note = fmt::format("elementwise max error/bound {:.3g}", worst_element_ratio);
  bool matches_twin = true;
  if (on_device) {  // the kernel must also reproduce its twin bit for bit
    const Run twin = run(false);
    matches_twin =
        twin.status.ok() && twin.out == first.out && same_float_bits(twin.state, first.state);
    row.note += matches_twin ? "; bit-identical to the twin" : "; DIFFERS from the twin";
  }
  row.pass = finite && rows_ok && matches_twin && row.deterministic && row.ratio <= 1 &&
             worst_element_ratio <= 1;
  if (!rows_ok) row.note += fmt::format("; {} rows not normalised", first.rows_not_normalised);
  if (unbounded > 0)
    row.note += fmt::format("; {} of {} elements have an infinite (vacuous) bound", unbounded,
                            bound.size());
  if (!finite) row.note += "; non-finite output or ground truth";
  return row;
}

std::vector<KernelCheckRow> check_linear_attention(
    const KernelCheckRequest& request,
    const std::function<void(std::size_t done, std::size_t total)>& progress) {
  const std::vector<LinearAttentionCase> cases = linear_attention_cases(request);
  return run_cases_in_parallel(
      cases.size(), request.jobs,
      [&](std::size_t i) {
        return std::vector<KernelCheckRow>{
            check_linear_attention_case(cases[i], request.seed, request.prefer_device)};
      },
      progress);
}

}  // namespace attncert
