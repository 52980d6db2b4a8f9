// Linear attention kernel validation: certified ground truth, a-priori error bound, naive
// same-precision reference and the flash-attention rule.
//
// ---- The error bounds (docs/linear_attention_kernel_bound.md, same numbering) ---------------
// One analysis, two evaluations through ErrorBudget: guaranteed = Σ c_k u_k + S + R (certain),
// probabilistic = min(λ√Σ(c_k u_k)², Σ c_k u_k) + S + R (independent mean-zero roundings, λ from the case's δ
// over its T·d outputs). u = 2⁻²⁴, u_out the output dtype's unit roundoff (0 for fp32), κ the
// portable_expf error, η = 2⁻¹⁵⁰.
// §1 The truth is that of the inputs as the kernel read them (inputs_as_read); no input-rounding
//    term. The original inputs' truth is certified too: input_quantization_low/high.
// §2 fl(x∘y) = (x∘y)(1 + δ) + η′; r̂ = Σ_t φ̂q·φ̂k·v·Π_path(1 + δ): the coefficient of δ_k is the
//    exact pre-rounding value of its operation — the actual partial sums, in the kernel's order.
// §3 Features φ̂ = φΠ(1 + x_k) + ε: query δ_x of fl(scale·q̂) (Taylor-2: one event per coordinate
//    with its total coefficient over x_a, x_a²/2 and every x_a x_b), δ of fl(x′ + 1), of squares
//    and products; exp's κ is systematic; flushes and subnormals are ε.
// §4 Per element (i,e): a chunk chains + scan: Σ_a|φq|·Σ|partial sums|; b key events:
//    φq·w_k·v; c score chains: partial sums of A(i,j) times v; d read-out chain: its partial sums;
//    e query events: Σ w·Seff (the exact prefix state); f R = N·(A²/2·e^A + (Xu)²/2·e^{Xu}),
//    A = n·u + max relative feature perturbations, n = (2 causal | 1)·ℓ + C + m.
// §5 Normalised: shared events enter as (g_n − o·g_d)/d (common-mode weight errors cancel:
//    v − o), private ones as 1/d and |o|/d; remainder (R_n + |o|R_d)/d + t·E_d/(d_low − E_d);
//    fp32 division and output rounding (coefficient |o|). +inf unless d_low > E_d.
// §6 Unnormalised: output rounding, coefficient |r|.
// §7 Additive ε and subnormal η′: systematic, with the e^A growth downstream.
// §8 Double evaluation: ops·2⁻⁵² (ops = 8(T + m + 2ℓ + C) + 64) times the magnitude sums, ×λ.
// §9 +inf where an fp32 intermediate or the output could overflow.
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
#include "gpu/output_equality.hpp"
#include "gpu/portable_exp.hpp"
#include "numerics/arb_handles.hpp"
#include "numerics/ball.hpp"
#include "numerics/feature_maps.hpp"
#include "numerics/rng.hpp"
#include "numerics/scalar_traits.hpp"
#include "proofs_checks/kernel_checks.hpp"
#include "proofs_checks/naive_attention_reference.hpp"

namespace attncert {
namespace {


using gpu::DType;
using gpu::LinearFeature;
using gpu::LinearReadout;

constexpr long kBallPrecision = 128;
constexpr int kChunk = gpu::kLinearAttentionChunk;
constexpr double kU = 0x1p-24;
constexpr double kEta = 0x1p-150;

int significand_bits(DType t) { return t == DType::f32 ? 24 : t == DType::f16 ? 11 : 8; }
int min_exponent(DType t) { return t == DType::f16 ? -14 : -126; }
double max_finite(DType t) { return gpu::dtype_max_finite(t); }

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


// --- certified ground truth ------------------------------------------------------------------

using arb_handles::ArbHandle;
using arb_handles::ArbMatHandle;

// --- the bound: feature analysis (§3) ------------------------------------------------------------

// The features of one side (queries or keys) of the inputs as the kernel read them, as the bound
// sees them: φ̂ = φ·Π(1 + x_k) + ε, with the x_k rounding events (first order: `events`),
// non-rounding relative errors (κ of the exponential: `systematic`, absolute) and additive ε
// (subnormal results, flushed exponentials: `absolute_max`).
struct FeatureAnalysis {
  long long m = 0;
  std::vector<double> value;       // T×m exact features φ
  std::vector<double> systematic;  // T×m bound of the first-order non-rounding error
  double absolute_max = 0;         // max ε
  double relative_max = 0;         // max over features of Σ_k bound(|x_k|)
  double exp_argument_max = 0;     // max |x| over exponentials of a rounded argument (queries)
  double value_max = 0;            // max |φ|
  // Rounding events (unit u): token i owns events [token_event[i], token_event[i+1]); event k
  // changes features entries[event_entry[k] .. event_entry[k+1]) by coefficient·δ_k.
  std::vector<long long> token_event{0}, event_entry{0};
  std::vector<std::pair<long long, double>> entries;
};

long long taylor_pair_index(int d, int a, int b) {  // a < b, the kernel's order
  return 1 + 2LL * d + static_cast<long long>(a) * (2 * d - a - 1) / 2 + (b - a - 1);
}

FeatureAnalysis analyse_features(const LinearAttentionProblem& p, LinearFeature f, bool is_query) {
  const int d = p.head_dim;
  const long long T = p.seqlen;
  const double u = kU, kappa = gpu::kPortableExpRelativeError;
  const double underflow = static_cast<double>(gpu::kPortableExpUnderflow);
  FeatureAnalysis fa;
  fa.m = gpu::linear_feature_dim(f, d);
  const long long m = fa.m;
  fa.value.assign(T * m, 0.0);
  fa.systematic.assign(T * m, 0.0);
  const std::vector<double>& source = is_query ? p.q : p.k;
  std::vector<double> x(d);
  // The query input x' = fl(scale·q̂) = x(1 + δ) + η' (x = scale·q̂ exact in double); keys exact.
  const double u_x = is_query ? u : 0.0, eta_x = is_query ? kEta : 0.0;
  auto event = [&](std::initializer_list<std::pair<long long, double>> list) {
    for (const auto& entry : list) fa.entries.push_back(entry);
    fa.event_entry.push_back(static_cast<long long>(fa.entries.size()));
  };
  auto note = [&](double relative, double absolute) {
    fa.relative_max = std::max(fa.relative_max, relative);
    fa.absolute_max = std::max(fa.absolute_max, absolute);
  };
  for (long long i = 0; i < T; ++i) {
    for (int a = 0; a < d; ++a)
      x[a] = is_query ? static_cast<double>(p.scale) * source[i * d + a] : source[i * d + a];
    double* value = fa.value.data() + i * m;
    double* systematic = fa.systematic.data() + i * m;
    switch (f) {
      case LinearFeature::identity:
      case LinearFeature::relu:
        // fl(scale·q̂) keeps the sign, so relu(x') = relu(x)(1 + δ) + ε.
        for (int a = 0; a < d; ++a) {
          const bool zero = f == LinearFeature::relu && x[a] <= 0;
          value[a] = zero ? 0.0 : x[a];
          if (!zero && is_query) event({{a, x[a]}});
          note(zero ? 0.0 : u_x, zero ? 0.0 : eta_x);
        }
        break;
      case LinearFeature::elu_plus_one:
        for (int a = 0; a < d; ++a) {
          const double xa = x[a];
          if (xa > 0) {  // fl(x' + 1) = (x(1 + δ₁) + η' + 1)(1 + δ₂)
            value[a] = xa + 1;
            if (is_query) event({{a, xa}});
            event({{a, xa + 1}});
            // x' may underflow to +0 and take the exponential branch: e^0 within κ of 1.
            const double flip = is_query && xa < 0x1p-125 ? kappa + 0x1p-125 : 0.0;
            note(u_x * xa / (xa + 1) + u, eta_x * (1 + u) + flip);
          } else {  // exp~(x') = e^x·e^{xδ₁}·e^{η'}(1 + θ), |θ| ≤ κ, or 0 below the threshold
            value[a] = std::exp(xa);
            if (is_query) event({{a, xa * value[a]}});
            systematic[a] = (kappa + 2 * eta_x) * value[a];
            const bool can_flush = xa * (1 + u_x) - eta_x < underflow;
            note(std::expm1(std::fabs(xa) * u_x) + std::expm1(eta_x) + kappa,
                 // + 2^-1000: e^x itself may underflow in double
                 can_flush ? value[a] * std::exp(std::fabs(xa) * u_x + eta_x) * (1 + 1e-12) + 0x1p-1000
                           : 0.0);
            if (is_query) fa.exp_argument_max = std::max(fa.exp_argument_max, std::fabs(xa));
          }
        }
        break;
      case LinearFeature::taylor2: {
        const double half = is_query ? 0.5 : 1.0;
        value[0] = 1.0;
        for (int a = 0; a < d; ++a) value[1 + a] = x[a];
        for (int a = 0; a < d; ++a) value[1 + d + a] = half * x[a] * x[a];
        for (int a = 0; a < d; ++a)
          for (int b = a + 1; b < d; ++b) value[taylor_pair_index(d, a, b)] = x[a] * x[b];
        if (is_query)  // δ_a of fl(scale·q̂_a) moves x_a, x_a²/2 and every x_a·x_b: one event
          for (int a = 0; a < d; ++a) {
            fa.entries.push_back({1 + a, x[a]});
            fa.entries.push_back({1 + d + a, x[a] * x[a]});
            for (int b = 0; b < d; ++b)
              if (b != a) fa.entries.push_back({taylor_pair_index(d, std::min(a, b), std::max(a, b)),
                                                x[a] * x[b]});
            fa.event_entry.push_back(static_cast<long long>(fa.entries.size()));
          }
        note(u_x, eta_x);
        for (int a = 0; a < d; ++a) {  // c·fl(x'²): (1 + δ_a)²(1 + δ_sq); ×½ exact but subnormal
          event({{1 + d + a, half * x[a] * x[a]}});
          note(2 * u_x + u, (half * (2 * std::fabs(x[a]) + 1) * eta_x) * 1.01 + 2 * kEta);
        }
        for (int a = 0; a < d; ++a)
          for (int b = a + 1; b < d; ++b) {
            event({{taylor_pair_index(d, a, b), x[a] * x[b]}});
            note(2 * u_x + u, (std::fabs(x[a]) + std::fabs(x[b]) + 1) * eta_x * 1.01 + kEta);
          }
        break;
      }
    }
    for (long long a = 0; a < m; ++a) fa.value_max = std::max(fa.value_max, std::fabs(value[a]));
    fa.token_event.push_back(static_cast<long long>(fa.event_entry.size()) - 1);
  }
  return fa;
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

LinearAttentionProblem inputs_as_read(const LinearAttentionProblem& p, DType t) {
  LinearAttentionProblem read = p;
  for (auto* values : {&read.q, &read.k, &read.v})
    for (double& x : *values) x = round_to_dtype(x, t);
  return read;
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

LinearAttentionBounds linear_attention_error_bounds(const LinearAttentionProblem& p,
                                                    LinearFeature feature, LinearReadout readout,
                                                    bool causal, DType dtype, double false_alarm,
                                                    const std::vector<int>& call_lengths,
                                                    int chunk_length) {
  require_false_alarm(false_alarm);
  const long long T = p.seqlen, d = p.head_dim, w = d + 1;
  if (T < 1 || d < 1 || static_cast<long long>(p.q.size()) != T * d ||
      static_cast<long long>(p.k.size()) != T * d || static_cast<long long>(p.v.size()) != T * d)
    throw std::invalid_argument(fmt::format(
        "linear attention bound: q, k, v must hold T·d = {}·{} values", T, d));
  if (chunk_length < 1)
    throw std::invalid_argument(fmt::format("linear attention bound: chunk length {} < 1",
                                            chunk_length));
  // §1: the truth this bound is for is the one of the inputs as the kernel read them.
  const std::pair<const std::vector<double>*, const char*> inputs[] = {
      {&p.q, "q"}, {&p.k, "k"}, {&p.v, "v"}};
  for (const auto& [values, name] : inputs)
    for (std::size_t s = 0; s < values->size(); ++s) {
      const double x = (*values)[s];
      if (!std::isfinite(x) || std::fabs(x) > max_finite(dtype) || round_to_dtype(x, dtype) != x)
        throw std::invalid_argument(fmt::format(
            "linear attention bound: {}[{}] = {} is not a {} value (pass the inputs as the "
            "kernel reads them)", name, s, x, gpu::dtype_name(dtype)));
    }
  // Chunks: of chunk_length tokens from each call's first token; the scan runs over all of
  // them in order (a later call starts from the earlier call's final state).
  std::vector<long long> chunk_begin;
  {
    long long start = 0;
    const std::vector<int> lengths =
        call_lengths.empty() ? std::vector<int>{static_cast<int>(T)} : call_lengths;
    if (!causal && lengths.size() > 1)
      throw std::invalid_argument(
          "linear attention bound: a non-causal sequence split into calls is not one attention");
    for (int length : lengths) {
      if (length < 1)
        throw std::invalid_argument(fmt::format("linear attention bound: call length {}", length));
      for (long long b = start; b < start + length; b += chunk_length) chunk_begin.push_back(b);
      start += length;
    }
    if (start != T)
      throw std::invalid_argument(fmt::format(
          "linear attention bound: the call lengths add up to {}, not T = {}", start, T));
    chunk_begin.push_back(T);
  }
  const long long C = static_cast<long long>(chunk_begin.size()) - 1;
  long long longest = 0;
  std::vector<long long> chunk_of(T);
  for (long long c = 0; c < C; ++c) {
    longest = std::max(longest, chunk_begin[c + 1] - chunk_begin[c]);
    for (long long i = chunk_begin[c]; i < chunk_begin[c + 1]; ++i) chunk_of[i] = c;
  }

  const FeatureAnalysis fq = analyse_features(p, feature, true);
  const FeatureAnalysis fk = analyse_features(p, feature, false);
  const long long m = fq.m, mw = m * w;
  const double u = kU;
  const double u_out = dtype == DType::f32 ? 0.0 : gpu::dtype_unit_roundoff(dtype);
  const double mu = gpu::dtype_smallest_normal(dtype);
  // §4f: roundings on one term's path (chunk chain, scan, read-out chain with its intra-chunk
  // continuation; the intra-chunk terms' score chain m + continuation ≤ ℓ is no longer).
  const long long n_path = (causal ? 2 : 1) * longest + C + m;
  if (!(static_cast<double>(n_path) * u < 1))
    throw std::invalid_argument(fmt::format(
        "linear attention bound: n·u = {}·2^-24 >= 1, beyond the bound's derivation", n_path));
  const double A = static_cast<double>(n_path) * u + fq.relative_max + fk.relative_max;
  const double second_order = A * A / 2 * std::exp(A);  // ≥ e^A − 1 − A
  const double xu = fq.exp_argument_max * u;
  const double exp_linearisation = xu * xu / 2 * std::exp(xu);  // ≥ e^{|x|u} − 1 − |x|u
  const double lambda = probabilistic_lambda(false_alarm, static_cast<double>(T * d));
  // §8: every double quantity below is a sum of at most `ops` roundings deep.
  const double ops = 8.0 * static_cast<double>(T + m + 2 * longest + C) + 64;
  const double double_slack = ops * 0x1p-52;

  std::vector<double> vw(T * w);
  double v_max = 1;
  for (long long j = 0; j < T; ++j) {
    for (long long e = 0; e < d; ++e) {
      vw[j * w + e] = p.v[j * d + e];
      v_max = std::max(v_max, std::fabs(p.v[j * d + e]));
    }
    vw[j * w + d] = 1.0;
  }
  // Key rounding events: one per (token, feature) at most.
  std::vector<double> key_rounding(T * m, 0.0);
  for (long long j = 0; j < T; ++j)
    for (long long k = fk.token_event[j]; k < fk.token_event[j + 1]; ++k) {
      if (fk.event_entry[k + 1] - fk.event_entry[k] != 1)
        throw std::logic_error("linear attention bound: a key event covers several features");
      const auto& [a, coefficient] = fk.entries[fk.event_entry[k]];
      if (key_rounding[j * m + a] != 0)
        throw std::logic_error("linear attention bound: two key events on one feature");
      key_rounding[j * m + a] = std::fabs(coefficient);
    }

  // §4a: exact chunk states S_c (before chunk c) and the chain and scan coefficient sums
  // L1_c = Σ |pre-rounding value|, L2_c = Σ (pre-rounding value)², over chunks before c.
  std::vector<double> S((C + 1) * mw, 0.0), L1((C + 1) * mw, 0.0), L2((C + 1) * mw, 0.0),
      partial(mw);
  for (long long c = 0; c < C; ++c) {
    double* l1 = L1.data() + (c + 1) * mw;
    double* l2 = L2.data() + (c + 1) * mw;
    std::copy_n(L1.data() + c * mw, mw, l1);
    std::copy_n(L2.data() + c * mw, mw, l2);
    std::fill(partial.begin(), partial.end(), 0.0);
    for (long long j = chunk_begin[c]; j < chunk_begin[c + 1]; ++j)
      for (long long a = 0; a < m; ++a) {
        const double phi = fk.value[j * m + a];
        for (long long e = 0; e < w; ++e) {
          double& s = partial[a * w + e];
          s += phi * vw[j * w + e];
          l1[a * w + e] += std::fabs(s);
          l2[a * w + e] += s * s;
        }
      }
    for (long long s = 0; s < mw; ++s) {
      const double next = S[c * mw + s] + partial[s];
      S[(c + 1) * mw + s] = next;
      if (c >= 1) {  // running = fl(running + P_c); for c = 0 it is 0 + P_0, exact
        l1[s] += std::fabs(next);
        l2[s] += next * next;
      }
    }
  }

  // Prefix states over the keys a query sees (all of them when non-causal).
  std::vector<double> Seff(mw, 0.0), Kabs(mw, 0.0), R0(m, 0.0), R1(mw, 0.0), R2(mw, 0.0),
      R1abs(mw, 0.0), P0(m, 0.0), P1(mw, 0.0), P2(mw, 0.0), Y0(m, 0.0), Y1(mw, 0.0), Y2(mw, 0.0),
      Y1abs(mw, 0.0), Vabs(w, 0.0);
  auto add_token = [&](long long j) {
    for (long long e = 0; e < w; ++e) Vabs[e] += std::fabs(vw[j * w + e]);
    for (long long a = 0; a < m; ++a) {
      const double phi = fk.value[j * m + a], r = key_rounding[j * m + a],
                   y = fk.systematic[j * m + a];
      R0[a] += r;
      P0[a] += r * r;
      Y0[a] += y;
      for (long long e = 0; e < w; ++e) {
        const double v = vw[j * w + e], s = a * w + e;
        Seff[s] += phi * v;
        Kabs[s] += std::fabs(phi * v);
        R1[s] += r * v;
        R2[s] += r * v * v;
        R1abs[s] += r * std::fabs(v);
        P1[s] += r * r * v;
        P2[s] += r * r * v * v;
        Y1[s] += y * v;
        Y2[s] += y * v * v;
        Y1abs[s] += y * std::fabs(v);
      }
    }
  };
  if (!causal)
    for (long long j = 0; j < T; ++j) add_token(j);

  LinearAttentionBounds out;
  out.guaranteed.assign(T * d, std::numeric_limits<double>::infinity());
  out.probabilistic.assign(T * d, std::numeric_limits<double>::infinity());
  // §9: the derivation assumes no overflow. fp32 intermediates stay below growth·N (chains) or
  // growth·max|φ| (features); the output below |o| + bound.
  const double fp32_max = max_finite(DType::f32), out_max = max_finite(dtype);
  if (std::max(fq.value_max, fk.value_max) * std::exp(A) >= fp32_max) return out;
  auto overflows = [&](double sum) { return !(sum * std::exp(A) < fp32_max); };
  const bool normalised = readout == LinearReadout::normalised;
  // Per-column row sums (index e < w).
  std::vector<double> num(w), N(w), G1(w), G2(w), RO1(w), RO2(w), KR1(w), KR2(w), KR1abs(w),
      KP1(w), KP2(w), KY1(w), KY2(w), KY1abs(w), Ksum(w), o(w, 0.0), SC1(w), SC2(w), Q1(w), Q2(w),
      QS(w), coefficient(w), scores, alpha1, alpha2;
  for (long long i = 0; i < T; ++i) {
    if (causal) add_token(i);
    const long long c = causal ? chunk_of[i] : C;
    const double* phq = fq.value.data() + i * m;
    const double* state = S.data() + c * mw;
    const double* l1 = L1.data() + c * mw;
    const double* l2 = L2.data() + c * mw;
    double KR0 = 0, KP0 = 0, KY0 = 0, phq_abs = 0;
    for (auto* column : {&num, &N, &G1, &G2, &KR1, &KR2, &KR1abs, &KP1, &KP2, &KY1, &KY2,
                         &KY1abs, &Ksum, &RO1, &RO2, &SC1, &SC2, &Q1, &Q2, &QS})
      std::fill(column->begin(), column->end(), 0.0);
    for (long long a = 0; a < m; ++a) {
      const double g = phq[a], ga = std::fabs(g), g2 = g * g;
      phq_abs += ga;
      KR0 += ga * R0[a];
      KP0 += g2 * P0[a];
      KY0 += ga * Y0[a];
      for (long long e = 0; e < w; ++e) {
        const long long s = a * w + e;
        num[e] += g * Seff[s];
        N[e] += ga * Kabs[s];
        Ksum[e] += Kabs[s];
        G1[e] += ga * l1[s];
        G2[e] += g2 * l2[s];
        KR1[e] += ga * R1[s];
        KR2[e] += ga * R2[s];
        KR1abs[e] += ga * R1abs[s];
        KP1[e] += g2 * P1[s];
        KP2[e] += g2 * P2[s];
        KY1[e] += ga * Y1[s];
        KY2[e] += ga * Y2[s];
        KY1abs[e] += ga * Y1abs[s];
      }
    }
    // The state itself (Σ_j |φ(k_j) v_j| ≤ Ksum) must not overflow either: N weighs it by |φ(q)|,
    // which can be < 1 (issue 18: v = FLT_MAX gave a −inf output under a finite bound).
    if (overflows(*std::max_element(N.begin(), N.end())) ||
        overflows(*std::max_element(Ksum.begin(), Ksum.end())))
      continue;
    const double den = num[d];
    const double den_low = den - double_slack * N[d];
    if (normalised) {
      if (!(den_low > 0)) continue;  // no bound for this row (§5)
      for (long long e = 0; e < d; ++e) o[e] = num[e] / den;
      o[d] = 0;  // the normaliser's own budget (column d) is the plain one
    }
    // §4c, §4d: the score chains (causal, shared by all columns) and the read-out chains.
    const long long first = causal ? chunk_begin[c] : i + 1;
    scores.assign(std::max<long long>(i + 1 - first, 0), 0.0);
    alpha1.assign(scores.size(), 0.0);
    alpha2.assign(scores.size(), 0.0);
    for (long long j = first; j <= i; ++j) {
      double acc = 0, s1 = 0, s2 = 0;
      const double* phk = fk.value.data() + j * m;
      for (long long a = 0; a < m; ++a) {
        acc += phq[a] * phk[a];
        s1 += std::fabs(acc);
        s2 += acc * acc;
      }
      scores[j - first] = acc;
      alpha1[j - first] = s1;
      alpha2[j - first] = s2;
    }
    for (long long e = 0; e < w; ++e) {
      double t = 0, t1 = 0, t2 = 0, s1 = 0, s2 = 0;
      for (long long a = 0; a < m; ++a) {
        t += phq[a] * state[a * w + e];
        t1 += std::fabs(t);
        t2 += t * t;
      }
      for (long long j = first; j <= i; ++j) {
        const double v = vw[j * w + e];
        t += scores[j - first] * v;
        t1 += std::fabs(t);
        t2 += t * t;
        const double dv = v - o[e];
        s1 += alpha1[j - first] * std::fabs(dv);
        s2 += alpha2[j - first] * dv * dv;
      }
      RO1[e] = t1;
      RO2[e] = t2;
      SC1[e] = s1;
      SC2[e] = s2;
    }
    // §4e: query feature events; a feature's coefficient is Seff (− o·Seff of the normaliser).
    for (long long k = fq.token_event[i]; k < fq.token_event[i + 1]; ++k) {
      std::fill(coefficient.begin(), coefficient.end(), 0.0);
      for (long long r = fq.event_entry[k]; r < fq.event_entry[k + 1]; ++r) {
        const auto& [a, weight] = fq.entries[r];
        for (long long e = 0; e < w; ++e)
          coefficient[e] += weight * (Seff[a * w + e] - o[e] * Seff[a * w + d]);
      }
      for (long long e = 0; e < w; ++e) {
        Q1[e] += std::fabs(coefficient[e]);
        Q2[e] += coefficient[e] * coefficient[e];
      }
    }
    for (long long a = 0; a < m; ++a) {
      const double y = fq.systematic[i * m + a];
      if (y != 0)
        for (long long e = 0; e < w; ++e) QS[e] += y * std::fabs(Seff[a * w + e] - o[e] * Seff[a * w + d]);
    }
    // §7: additive errors (subnormal results, flushed exponentials) and subnormal roundings.
    const double eps_q = fq.absolute_max, eps_k = fk.absolute_max, growth = std::exp(A);
    auto additive = [&](long long e) {
      const double features = growth * (eps_q * Ksum[e] + eps_k * (phq_abs + m * eps_q) * Vabs[e]);
      const double chains = kEta * growth * 2 *
                            (static_cast<double>(T + C) * (growth * phq_abs + m * eps_q + 1) +
                             static_cast<double>(m + longest) +
                             static_cast<double>(longest * m) * v_max);
      return features + chains;
    };
    const double second = second_order + exp_linearisation;

    if (!normalised) {
      for (long long e = 0; e < d; ++e) {
        ErrorBudget b;
        b.roundings(G1[e] + RO1[e] + SC1[e] + KR1abs[e] + Q1[e],
                    G2[e] + RO2[e] + SC2[e] + KP2[e] + Q2[e], u);
        b.systematic(KY1abs[e] + QS[e] + additive(e));
        b.remainder(N[e] * second);
        if (u_out > 0) {  // §6: rounding to the output dtype
          const double before = b.guaranteed();
          b.rounding(std::fabs(num[e]), u_out);
          b.remainder(before * u_out);
          b.systematic(u_out * mu);
        }
        b.systematic(lambda * double_slack * (A + u_out) * N[e]);
        if (!(std::fabs(num[e]) + b.guaranteed() < out_max)) continue;
        out.guaranteed[i * d + e] = b.guaranteed();
        out.probabilistic[i * d + e] = b.probabilistic(lambda);
      }
      continue;
    }
    // §5: the normaliser's own error.
    ErrorBudget bd;
    bd.roundings(G1[d] + RO1[d] + SC1[d] + KR0 + Q1[d], G2[d] + RO2[d] + SC2[d] + KP0 + Q2[d], u);
    bd.systematic(KY0 + QS[d] + additive(d) + lambda * double_slack * A * N[d]);
    bd.remainder(N[d] * second);
    const double den_error = bd.guaranteed();
    if (!(den_low > den_error)) continue;
    const double inflate = 1 + N[d] / den;  // §8: o and the coefficients carry its error
    for (long long e = 0; e < d; ++e) {
      const double oe = o[e], oa = std::fabs(oe);
      // Key events: Σ_j Σ_a |φq|·r·|v − o| by Cauchy–Schwarz, or by |v| + |o|; squares exact.
      const double cs_slack = double_slack * (KR2[e] + 2 * oa * KR1abs[e] + oe * oe * KR0);
      const double key1 = std::min(
          std::sqrt(KR0 * (std::max(0.0, KR2[e] - 2 * oe * KR1[e] + oe * oe * KR0) + cs_slack)),
          KR1abs[e] + oa * KR0);
      const double key2 = std::max(0.0, KP2[e] - 2 * oe * KP1[e] + oe * oe * KP0) +
                          double_slack * (KP2[e] + 2 * oa * std::fabs(KP1[e]) + oe * oe * KP0);
      const double ys_slack = double_slack * (KY2[e] + 2 * oa * KY1abs[e] + oe * oe * KY0);
      const double key_systematic = std::min(
          std::sqrt(KY0 * (std::max(0.0, KY2[e] - 2 * oe * KY1[e] + oe * oe * KY0) + ys_slack)),
          KY1abs[e] + oa * KY0);
      ErrorBudget b;  // in units of the output: coefficients divided by den
      b.roundings((G1[e] + RO1[e] + oa * (G1[d] + RO1[d]) + SC1[e] + key1 + Q1[e]) / den,
                  (G2[e] + RO2[e] + oe * oe * (G2[d] + RO2[d]) + SC2[e] + key2 + Q2[e]) /
                      (den * den),
                  u);
      b.systematic((key_systematic + QS[e] + additive(e) + oa * additive(d)) / den);
      b.remainder((N[e] + oa * N[d]) * second / den);
      b.remainder(b.guaranteed() * den_error / (den_low - den_error));  // 1/d̂ − 1/d
      const double quotient = b.guaranteed();
      b.rounding(oa, u);  // the fp32 division
      if (u_out > 0) b.rounding(oa, u_out);
      b.remainder(quotient * (u + u_out + u * u_out) + oa * u * u_out);
      b.systematic(kEta + u_out * mu);
      b.systematic(lambda * double_slack * inflate *
                   (A * (N[e] + oa * N[d]) / den + (u + u_out) * (oa + N[e] / den)));
      if (!(oa + b.guaranteed() < out_max)) continue;
      out.guaranteed[i * d + e] = b.guaranteed();
      out.probabilistic[i * d + e] = b.probabilistic(lambda);
    }
  }
  return out;
}

KernelCheckRow check_linear_attention_case(const LinearAttentionCase& c, std::uint64_t seed,
                                           bool prefer_device, double false_alarm) {
  require_false_alarm(false_alarm);
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
    row.could_not_run = true;
    return row;
  }
  const Run second = run(on_device);
  // Runs compare by value (gpu/output_equality.hpp): all NaNs equal — payloads differ between
  // host and device —, else the same bits (float == would call +0 and −0 equal).
  const auto run_difference = [t](const Run& a, const Run& b) -> std::string {
    if (const auto d = gpu::first_output_difference(t, a.out, b.out)) return "output " + d->message();
    if (const auto d = gpu::first_output_difference(a.state, b.state)) return "state " + d->message();
    return "";
  };
  row.deterministic = second.status.ok() && run_difference(first, second).empty();

  // §1: judged against the certified truth of the inputs as the kernel read them; the effect of
  // rounding the inputs to the dtype is reported apart (both truths certified).
  const LinearAttentionProblem read = inputs_as_read(p, t);
  const CertifiedLinearOutput truth = certified_linear_attention(read, c.feature, c.readout, c.causal);
  const CertifiedLinearOutput original =
      certified_linear_attention(p, c.feature, c.readout, c.causal);
  const LinearAttentionBounds bounds = linear_attention_error_bounds(
      read, c.feature, c.readout, c.causal, t, false_alarm);
  const std::vector<float> naive = naive_linear_attention(p, c.feature, c.readout, c.causal, t);
  row.ground_truth_radius = std::max(truth.max_radius, original.max_radius);
  row.false_alarm = false_alarm;
  bool finite = true;
  double atol = 0;
  InputQuantizationEnclosure quantization;
  long long worst = -1, worst_probabilistic = -1;
  for (long long s = 0; s < T * d; ++s) {
    const double computed = dtype_buffer_value(first.out, t, static_cast<std::size_t>(s));
    const double error = std::fabs(computed - truth.mid[s]) + truth.radius[s];
    if (!std::isfinite(computed) || !std::isfinite(error)) finite = false;
    row.max_abs_error = std::max(row.max_abs_error, error);
    const double g = bounds.guaranteed[s], q = bounds.probabilistic[s];
    if (std::isfinite(g)) {
      row.bound = std::max(row.bound, g);
      row.probabilistic_bound = std::max(row.probabilistic_bound, q);
      if (worst < 0 || error / g > row.ratio) {
        row.ratio = error / g;
        worst = s;
      }
      if (worst_probabilistic < 0 || error / q > row.probabilistic_ratio) {
        row.probabilistic_ratio = error / q;
        worst_probabilistic = s;
      }
    }
    row.naive_error = std::max(row.naive_error,
                               std::fabs(static_cast<double>(naive[s]) - truth.mid[s]) + truth.radius[s]);
    atol = std::max(atol, flash_rule_absolute_term(t, truth.mid[s]));
    quantization.add(original.mid[s], original.radius[s], truth.mid[s], truth.radius[s]);
  }
  row.input_quantization_low = quantization.low;
  row.input_quantization_high = quantization.high;
  // An infinite element bound (a normaliser whose error bound reaches its value) checks nothing
  // for that element; the case is vacuous when no element has a finite bound.
  std::size_t unbounded = 0;
  for (double b : bounds.guaranteed) unbounded += std::isfinite(b) ? 0 : 1;
  row.vacuous = unbounded == bounds.guaranteed.size();
  row.fa_rule_threshold = 2 * row.naive_error + atol;
  row.fa_rule_pass = row.max_abs_error <= row.fa_rule_threshold;
  const bool rows_ok = first.rows_not_normalised == 0;
  if (worst >= 0)
    row.note = fmt::format(
        "worst element (row {}, col {}): error/guaranteed {:.3g}; worst by error/probabilistic "
        "(row {}, col {}): {:.3g}, false alarm {:g} per case if roundings are independent and "
        "mean-zero",
        worst / d, worst % d, row.ratio, worst_probabilistic / d, worst_probabilistic % d,
        row.probabilistic_ratio, false_alarm);
  bool matches_twin = true;
  if (on_device) {  // the kernel must also reproduce its twin bit for bit
    const Run twin = run(false);
    const std::string difference = twin.status.ok() ? run_difference(first, twin) : twin.status.message;
    matches_twin = twin.status.ok() && difference.empty();
    row.note += device_twin_note(matches_twin, difference);
  }
  // A vacuous row is neither evidence nor failure (kernel_check.hpp): pass then means only
  // determinism, finiteness and normalised rows.
  const bool sound = finite && rows_ok && matches_twin && row.deterministic;
  row.pass = sound && row.ratio <= 1;
  row.probabilistic_pass = sound && row.probabilistic_ratio <= 1;
  if (!rows_ok) row.note += fmt::format("; {} rows not normalised", first.rows_not_normalised);
  if (unbounded > 0)
    row.note += fmt::format("; {} of {} elements have an infinite (vacuous) bound", unbounded,
                            bounds.guaranteed.size());
  if (!finite) row.note += "; non-finite output or ground truth";
  return row;
}

std::vector<KernelCheckRow> check_linear_attention(
    const KernelCheckRequest& request,
    const std::function<void(std::size_t done, std::size_t total)>& progress) {
  require_false_alarm(request.false_alarm);
  const std::vector<LinearAttentionCase> cases = linear_attention_cases(request);
  return run_cases_in_parallel(cases.size(), request,
      [&](std::size_t i) {
        return std::vector<KernelCheckRow>{
            check_linear_attention_case(cases[i], request.seed, request.prefer_device,
                                        request.false_alarm)};
      },
      progress);
}

}  // namespace attncert
