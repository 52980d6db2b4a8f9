// Softmax attention: validation shared by every tier, then one kernel per tier family
// (float/double blocked GEMM, Mp reference loops, Ball on Arb matrices), and the multi-head
// drivers. Explicit instantiations for float, double, Mp and Ball at the end.
#include "numerics/softmax_attention.hpp"

#include <arb_mat.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "numerics/arb_handles.hpp"
#include "numerics/blas.hpp"
#include "numerics/bounded_exp.hpp"
#include "numerics/cpu_dispatch.hpp"
#include "numerics/precision.hpp"
#include "numerics/scalar_traits.hpp"
#include "numerics/tier_scope.hpp"

namespace attncert {
namespace {

using Index = Eigen::Index;

template <class T>
constexpr bool kIsIeee = std::is_same_v<T, float> || std::is_same_v<T, double>;

template <class T>
std::string who() {
  return fmt::format("softmax_attention<{}>", ScalarTraits<T>::name);
}

// ---- value inspection per tier --------------------------------------------------------------

template <class T>
std::string value_text(const T& x) {
  if constexpr (kIsIeee<T>) {
    return fmt::format("{}", x);
  } else if constexpr (std::is_same_v<T, Mp>) {
    return fmt::format("{}", mp_to_double(x));
  } else {
    return x.str(6);
  }
}

// ---- validation ------------------------------------------------------------------------------

struct Dims {
  Index Lq, Lk, d, dv;
};

/// Key visibility and softcap (shared by the single- and multi-head entry points).
template <class T>
void check_key_options(const SoftmaxAttentionOptions<T>& options) {
  options.keys.validate();
  if (!options.softcap) return;
  const T& cap = *options.softcap;
  bool positive_finite;
  if constexpr (std::is_same_v<T, Ball>) {
    positive_finite = arb_is_finite(cap.arb()) && arb_is_positive(cap.arb());
  } else {
    positive_finite = ScalarTraits<T>::is_finite(cap) && cap > T(0);
  }
  if (!positive_finite) {
    throw std::invalid_argument(fmt::format("{}: softcap C = {} must be finite and (certainly) > 0",
                                            who<T>(), value_text(cap)));
  }
}

template <class T>
Dims check_shapes(const ConstMatrixView<T>& Q, const ConstMatrixView<T>& K,
                  const ConstMatrixView<T>& V, const SoftmaxAttentionOptions<T>& options) {
  auto shape = [](const auto& m) { return fmt::format("{}×{}", m.rows(), m.cols()); };
  const std::string w = who<T>();
  if (Q.size() == 0 || K.size() == 0 || V.size() == 0) {
    throw std::invalid_argument(fmt::format(
        "{}: empty input (Q is {}, K is {}, V is {}); every dimension must be >= 1", w,
        shape(Q), shape(K), shape(V)));
  }
  if (Q.cols() != K.cols()) {
    throw std::invalid_argument(fmt::format(
        "{}: Q is {} but K is {}; Q and K must have the same number of columns (head dim d)", w,
        shape(Q), shape(K)));
  }
  if (K.rows() != V.rows()) {
    throw std::invalid_argument(fmt::format(
        "{}: K is {} but V is {}; K and V must have the same number of rows (keys Lk)", w,
        shape(K), shape(V)));
  }
  if (options.mask && (options.mask->rows() != Q.rows() || options.mask->cols() != K.rows())) {
    throw std::invalid_argument(fmt::format("{}: mask is {} but must be Lq×Lk = {}×{}", w,
                                            shape(*options.mask), Q.rows(), K.rows()));
  }
  check_key_options(options);
  return {Q.rows(), K.rows(), Q.cols(), V.cols()};
}

template <class T>
void check_entries_finite(const ConstMatrixView<T>& M, const char* name,
                          const std::string& context) {
  for (Index i = 0; i < M.rows(); ++i) {
    for (Index j = 0; j < M.cols(); ++j) {
      if (!ScalarTraits<T>::is_finite(M(i, j))) {
        throw std::domain_error(fmt::format(
            "{}: {}({}, {}){} is {}; entries of Q, K and V must be finite", who<T>(), name, i, j,
            context, value_text(M(i, j))));
      }
    }
  }
}

template <class T>
void check_mask(const ConstMatrixView<T>& M) {
  for (Index i = 0; i < M.rows(); ++i) {
    for (Index j = 0; j < M.cols(); ++j) {
      const T& x = M(i, j);
      if (!ScalarTraits<T>::is_finite(x) && !ScalarTraits<T>::is_minus_infinity(x)) {
        throw std::domain_error(fmt::format(
            "{}: mask({}, {}) is {}; mask entries must be finite or exactly -inf", who<T>(), i,
            j, value_text(M(i, j))));
      }
    }
  }
}


// ---- the scaled-logit multiplier c = scale / T in each tier --------------------------------

/// The largest precision among one head's inputs, options.scale and T (0 if all exact).
template <class T>
long input_precision(const ConstMatrixView<T>& Q, const ConstMatrixView<T>& K,
                     const ConstMatrixView<T>& V, const SoftmaxAttentionOptions<T>& options) {
  long bits = ScalarTraits<T>::digits(options.temperature);
  if (options.scale) bits = std::max(bits, ScalarTraits<T>::digits(*options.scale));
  if (options.softcap) bits = std::max(bits, ScalarTraits<T>::digits(*options.softcap));
  auto scan = [&bits](const ConstMatrixView<T>& M) {
    for (Index i = 0; i < M.rows(); ++i)
      for (Index j = 0; j < M.cols(); ++j) bits = std::max(bits, ScalarTraits<T>::digits(M(i, j)));
  };
  scan(Q);
  scan(K);
  scan(V);
  if (options.mask) scan(*options.mask);
  return bits;
}

/// options.precision_bits if set, else the inputs' precision; validated.
template <class T>
long resolve_precision(const SoftmaxAttentionOptions<T>& options, long input_bits) {
  if (options.precision_bits != 0) {
    require_precision(options.precision_bits, "softmax_attention precision_bits");
    return options.precision_bits;
  }
  if (input_bits == 0) {
    throw std::invalid_argument(fmt::format(
        "{}: every input is an exact ball, so there is no working precision; set "
        "options.precision_bits (range [{}, {}])",
        who<T>(), kMinPrecisionBits, kMaxPrecisionBits));
  }
  require_precision(input_bits, "softmax_attention (precision of the inputs)");
  return input_bits;
}

template <class T>
long working_precision(const ConstMatrixView<T>& Q, const ConstMatrixView<T>& K,
                       const ConstMatrixView<T>& V, const SoftmaxAttentionOptions<T>& options) {
  if constexpr (kIsIeee<T>) {
    return ScalarTraits<T>::digits();
  } else {
    return resolve_precision(options,
                             options.precision_bits != 0 ? 0 : input_precision(Q, K, V, options));
  }
}

template <class T>
T logit_multiplier(Index d, const SoftmaxAttentionOptions<T>& options, long bits) {
  const std::string w = who<T>();
  const T& temp = options.temperature;
  if (!ScalarTraits<T>::is_finite(temp)) {
    throw std::domain_error(fmt::format("{}: temperature T = {} must be finite and > 0", w,
                                        value_text(temp)));
  }
  if (options.scale && !ScalarTraits<T>::is_finite(*options.scale)) {
    throw std::domain_error(
        fmt::format("{}: scale = {} must be finite", w, value_text(*options.scale)));
  }
  if constexpr (kIsIeee<T>) {
    if (!(temp > T(0))) {
      throw std::invalid_argument(fmt::format("{}: temperature T = {} must be > 0", w, temp));
    }
    const T scale = options.scale ? *options.scale : T(1) / std::sqrt(static_cast<T>(d));
    return scale / temp;
  } else if constexpr (std::is_same_v<T, Mp>) {
    if (!(temp > 0)) {
      throw std::invalid_argument(
          fmt::format("{}: temperature T = {} must be > 0", w, value_text(temp)));
    }
    // Inside the caller's MpPrecision(bits) scope.
    Mp scale;
    if (options.scale) {
      scale = *options.scale;
    } else {
      mpfr_set_prec(scale.backend().data(), static_cast<mpfr_prec_t>(bits));
      mpfr_set_ui(scale.backend().data(), static_cast<unsigned long>(d), MPFR_RNDN);
      mpfr_rec_sqrt(scale.backend().data(), scale.backend().data(), MPFR_RNDN);
    }
    return scale / temp;
  } else {
    if (!arb_is_positive(temp.arb())) {
      throw std::invalid_argument(fmt::format(
          "{}: temperature T = {} must be certainly > 0 (its ball must exclude 0 and negatives)",
          w, value_text(temp)));
    }
    Ball c;
    c.set_precision(bits);
    if (options.scale) {
      arb_div(c.arb(), options.scale->arb(), temp.arb(), bits);
    } else {
      arb_rsqrt_ui(c.arb(), static_cast<ulong>(d), bits);
      arb_div(c.arb(), c.arb(), temp.arb(), bits);
    }
    return c;
  }
}

// ---- row passes of the double path, vectorised per CPU (cpu_dispatch.hpp) ---------------------

constexpr auto kLanes = static_cast<std::size_t>(kDoubleLanes);

struct RowScan {
  double max;
  bool all_finite;
};

/// The largest of s[0, n) (−inf if n = 0) and whether every entry is finite, in one pass
/// (x − x is 0 for finite x and NaN otherwise).
ATTNCERT_CPU_CLONES RowScan scan_row(const double* s, std::size_t n) {
  constexpr double kNegInf = -std::numeric_limits<double>::infinity();
  DoubleLanes max = DoubleLanes{} + kNegInf, nonfinite = {};
  std::size_t j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    DoubleLanes x;
    std::memcpy(&x, s + j, sizeof x);
    max = x > max ? x : max;
    nonfinite += x - x;
  }
  double m = kNegInf, z = 0;
  for (; j < n; ++j) {
    m = s[j] > m ? s[j] : m;
    z += s[j] - s[j];
  }
  for (std::size_t k = 0; k < kLanes; ++k) {
    m = max[k] > m ? max[k] : m;
    z += nonfinite[k];
  }
  return {m, z == 0};
}

/// Σ s[0, n) (in kLanes interleaved partial sums).
ATTNCERT_CPU_CLONES double sum_row(const double* s, std::size_t n) {
  DoubleLanes partial = {};
  std::size_t j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    DoubleLanes x;
    std::memcpy(&x, s + j, sizeof x);
    partial += x;
  }
  double sum = 0;
  for (; j < n; ++j) sum += s[j];
  for (std::size_t k = 0; k < kLanes; ++k) sum += partial[k];
  return sum;
}

/// Tile sizes of the float/double path: query rows per block and keys per tile; an S tile of
/// 512 × 256 doubles is 1 MiB, one core's L2 here. Measured at n = 4096, d = 64 and 128, one
/// thread, interleaved: 512 × 256 fastest; 256 × 256, 256 × 512 and 512 × 512 were 2–10% slower.
constexpr Index kQueryBlock = 512;
constexpr Index kKeyTile = 256;

/// exp(x − shift) in the tier's fast exp (bounded_exp for double), for one value.
template <class T>
T ieee_exp(T x, T shift) {
  if constexpr (std::is_same_v<T, double>) {
    double y;
    bounded_exp(&x, shift, &y, 1);
    return y;
  } else {
    return std::exp(x - shift);
  }
}

// ---- one head: the output is written into views ---------------------------------------------

template <class T>
struct HeadOutput {
  MatrixView<T> output;         // Lq×dv
  T* log_sum_exp;               // Lq entries at stride lse_stride
  Index lse_stride;
  RowMatrix<T>* probabilities;  // nullptr unless requested
};

/// Throws the domain_error for the first non-finite logit of row `row`; s is the row's slice of
/// keys from `first_key` on.
template <class T, class Row>
[[noreturn]] void throw_logit_overflow(const Row& s, Index row, Index first_key,
                                       const std::string& context) {
  Index j = 0;
  while (j + 1 < s.size() && std::isfinite(s(j))) ++j;
  throw std::domain_error(fmt::format(
      "{}: logit ({}, {}){} = {} overflows {}; use a wider tier (Mp or Ball)", who<T>(), row,
      first_key + j, context, s(j), ScalarTraits<T>::name));
}

// float / double: flash-attention's tiling, so that the logits never leave the cache. Per block
// of query rows and tile of keys: S = (c·Q_blk) K_tileᵀ by blas::gemm; per row: the tile's max
// joins the running max m, the accumulated sum l and output rows are rescaled by exp(m_old − m),
// the tile's weights exp(s − m) are added to l, and O_acc += P_tile V_tile by blas::gemm. At the
// end O = O_acc / l and lse = m + log l. A block runs over the keys some row of it sees (from
// the tile of its first row's first key to its last row's last key: causal masks and windows
// only move right as the row grows); softcap is applied to the tile's visible logits.
// double's exp is bounded_exp, whose exp(−inf) is exactly 0; float's is Eigen's vectorised exp,
// which clamps its argument (exp(−inf) = 1e-38, not 0), so masked float pairs are zeroed after.
// Requested probabilities are written per tile with the tile's shift and rescaled at the end.
template <class T>
void ieee_head(const ConstMatrixView<T>& Q, const ConstMatrixView<T>& K,
               const ConstMatrixView<T>& V, const T c, const SoftmaxAttentionOptions<T>& options,
               HeadOutput<T> out, const std::string& context) {
  using Mat = RowMatrix<T>;
  const Index Lq = Q.rows(), Lk = K.rows(), d = Q.cols(), dv = V.cols();
  constexpr T kNegInf = -std::numeric_limits<T>::infinity();

  const Index block = std::min(kQueryBlock, Lq), tile = std::min(kKeyTile, Lk);
  const Index tiles = (Lk + tile - 1) / tile;
  Mat q_block(block, d);
  Mat s_tile(block, tile);
  Mat o_acc(block, dv);
  ColVector<T> row_max(block), row_sum(block);
  Mat tile_shift(out.probabilities ? block : 0, tiles);  // the shift of each probability tile

  for (Index r0 = 0; r0 < Lq; r0 += block) {
    const Index b = std::min(block, Lq - r0);
    // Keys some row of the block sees: [kb, kv), kb a tile boundary (ranges only move right
    // as the row grows, key_visibility.hpp).
    const Index kv = options.keys.range(r0 + b - 1, Lq, Lk).end;
    const Index kb = std::min(options.keys.range(r0, Lq, Lk).begin, kv) / tile * tile;
    auto Qc = q_block.topRows(b);
    Qc = Q.middleRows(r0, b) * c;
    auto O = o_acc.topRows(b);
    O.setZero();
    row_max.head(b).setConstant(kNegInf);
    row_sum.head(b).setZero();
    for (Index k0 = kb; k0 < kv; k0 += tile) {
      const Index kt = std::min(tile, kv - k0);
      auto S = s_tile.topLeftCorner(b, kt);
      blas::gemm(T(1), Qc, K.middleRows(k0, kt).transpose(), T(0), S);
      for (Index i = 0; i < b; ++i) {
        const Index row = r0 + i;
        auto s = S.row(i);
        // Keys of this tile the row sees: [lo, hi) of the tile.
        const KeyRange keys = options.keys.range(row, Lq, Lk);
        const Index lo = std::clamp<Index>(keys.begin - k0, 0, kt);
        const Index hi = std::clamp<Index>(keys.end - k0, lo, kt);
        const Index vis = hi - lo;
        auto seen = s.segment(lo, vis);
        T m;
        if constexpr (std::is_same_v<T, double>) {
          const RowScan scan = scan_row(s.data() + lo, static_cast<std::size_t>(vis));
          const bool finite = scan.all_finite &&
                              scan_row(s.data(), static_cast<std::size_t>(lo)).all_finite &&
                              scan_row(s.data() + hi, static_cast<std::size_t>(kt - hi)).all_finite;
          if (!finite) throw_logit_overflow<T>(s, row, k0, context);
          m = scan.max;
        } else {
          if (!s.allFinite()) throw_logit_overflow<T>(s, row, k0, context);
          m = vis > 0 ? seen.maxCoeff() : kNegInf;
        }
        if (options.softcap && vis > 0) {  // C·tanh(s/C), before the mask
          const T cap = *options.softcap;
          for (Index j = lo; j < hi; ++j) s(j) = cap * std::tanh(s(j) / cap);
          m = seen.maxCoeff();
        }
        if (options.mask && vis > 0) {
          seen += options.mask->row(row).segment(k0 + lo, vis);
          m = seen.maxCoeff();
          if (m == -kNegInf) {
            throw std::domain_error(fmt::format(
                "{}: a logit plus its mask entry in row {}{} overflows {}; use a wider tier "
                "(Mp or Ball)",
                who<T>(), row, context, ScalarTraits<T>::name));
          }
        }
        const T m_old = row_max(i), m_new = std::max(m_old, m);
        if (m_new == kNegInf) {  // no visible key so far
          s.setZero();
          if (out.probabilities) {
            out.probabilities->row(row).segment(k0, kt).setZero();
            tile_shift(i, k0 / tile) = kNegInf;
          }
          continue;
        }
        if (m_old != m_new) {  // rescale what was accumulated against the old maximum
          const T alpha = m_old == kNegInf ? T(0) : ieee_exp(m_old, m_new);
          row_sum(i) *= alpha;
          O.row(i) *= alpha;
          row_max(i) = m_new;
        }
        if constexpr (std::is_same_v<T, double>) {
          bounded_exp(s.data() + lo, m_new, s.data() + lo, static_cast<std::size_t>(vis));
          row_sum(i) += sum_row(s.data() + lo, static_cast<std::size_t>(vis));
        } else {
          seen = (seen.array() - m_new).exp();
          if (options.mask) {
            for (Index j = lo; j < hi; ++j)
              if ((*options.mask)(row, k0 + j) == kNegInf) s(j) = T(0);
          }
          row_sum(i) += seen.sum();
        }
        s.head(lo).setZero();
        s.tail(kt - hi).setZero();
        if (out.probabilities) {
          out.probabilities->row(row).segment(k0, kt) = s;
          tile_shift(i, k0 / tile) = m_new;
        }
      }
      blas::gemm(T(1), S, V.middleRows(k0, kt), T(1), O);
    }
    for (Index i = 0; i < b; ++i) {
      const Index row = r0 + i;
      if (row_sum(i) == T(0)) {  // fully masked row (a visible key contributes exp(0) = 1)
        out.output.row(row).setZero();
        out.log_sum_exp[row * out.lse_stride] = kNegInf;
        if (out.probabilities) out.probabilities->row(row).setZero();
        continue;
      }
      const T inv = T(1) / row_sum(i);
      out.output.row(row) = O.row(i) * inv;
      out.log_sum_exp[row * out.lse_stride] = row_max(i) + std::log(row_sum(i));
      if (out.probabilities) {
        for (Index k0 = kb; k0 < kv; k0 += tile) {
          const T shift = tile_shift(i, k0 / tile);
          const T factor = shift == kNegInf ? T(0) : ieee_exp(shift, row_max(i)) * inv;
          out.probabilities->row(row).segment(k0, std::min(tile, kv - k0)) *= factor;
        }
        out.probabilities->row(row).head(kb).setZero();
        out.probabilities->row(row).tail(Lk - kv).setZero();
      }
    }
  }
}

// Mp: the textbook algorithm in round-to-nearest at `bits` (caller holds MpPrecision).
void mp_head(const ConstMatrixView<Mp>& Q, const ConstMatrixView<Mp>& K,
             const ConstMatrixView<Mp>& V, const Mp& c, const SoftmaxAttentionOptions<Mp>& options,
             HeadOutput<Mp> out) {
  const Index Lq = Q.rows(), Lk = K.rows(), d = Q.cols(), dv = V.cols();
  std::vector<Mp> s(static_cast<size_t>(Lk));
  std::vector<bool> masked(static_cast<size_t>(Lk));
  Mp neg_inf = -std::numeric_limits<Mp>::infinity();
  for (Index i = 0; i < Lq; ++i) {
    const KeyRange keys = options.keys.range(i, Lq, Lk);
    bool any = false;
    Mp m = neg_inf;
    for (Index j = keys.begin; j < keys.end; ++j) {
      masked[j] = options.mask && ScalarTraits<Mp>::is_minus_infinity((*options.mask)(i, j));
      if (masked[j]) continue;
      Mp dot = 0;
      for (Index k = 0; k < d; ++k) dot += Q(i, k) * K(j, k);
      s[j] = dot * c;
      if (options.softcap) s[j] = *options.softcap * tanh(s[j] / *options.softcap);
      if (options.mask) s[j] += (*options.mask)(i, j);
      if (!any || s[j] > m) m = s[j];
      any = true;
    }
    if (out.probabilities) out.probabilities->row(i).setZero();
    if (!any) {
      for (Index k = 0; k < dv; ++k) out.output(i, k) = 0;
      out.log_sum_exp[i * out.lse_stride] = neg_inf;
      continue;
    }
    Mp sum = 0;
    std::vector<Mp> acc(static_cast<size_t>(dv), Mp(0));
    for (Index j = keys.begin; j < keys.end; ++j) {
      if (masked[j]) continue;
      s[j] = exp(s[j] - m);
      sum += s[j];
      for (Index k = 0; k < dv; ++k) acc[k] += s[j] * V(j, k);
    }
    for (Index k = 0; k < dv; ++k) out.output(i, k) = acc[k] / sum;
    out.log_sum_exp[i * out.lse_stride] = m + log(sum);
    if (out.probabilities) {
      for (Index j = keys.begin; j < keys.end; ++j) {
        if (!masked[j]) (*out.probabilities)(i, j) = s[j] / sum;
      }
    }
  }
}

using arb_handles::ArbHandle;
using arb_handles::ArbMatHandle;
using arb_handles::ArfHandle;

// Ball: certified. Every step is an Arb operation whose result contains the exact value:
// (c·Q) Kᵀ and E V by arb_mat_mul, E_ij = exp(s_ij − m_i) with m_i an exact dyadic (the
// largest midpoint of row i, so E_ij ≲ 1 and nothing overflows), Σ_j E_ij by arb_dot,
// O = (E V) / Σ, lse = m + log Σ. Masked pairs get E_ij = 0 exactly.
void ball_head(const ConstMatrixView<Ball>& Q, const ConstMatrixView<Ball>& K,
               const ConstMatrixView<Ball>& V, const Ball& c,
               const SoftmaxAttentionOptions<Ball>& options, HeadOutput<Ball> out,
               long prec) {
  const Index Lq = Q.rows(), Lk = K.rows(), d = Q.cols(), dv = V.cols();
  // Query rows per block: at most 2^16 logits (~5 MB at 256 bits) live at once; n = 256 is
  // a single block.
  const Index block = std::clamp<Index>((Index{1} << 16) / Lk, 1, Lq);
  ArbMatHandle kt(d, Lk), vm(Lk, dv);
  for (Index j = 0; j < Lk; ++j)
    for (Index k = 0; k < d; ++k) arb_set(kt(k, j), K(j, k).arb());
  for (Index j = 0; j < Lk; ++j)
    for (Index k = 0; k < dv; ++k) arb_set(vm(j, k), V(j, k).arb());

  std::vector<slong> ones(static_cast<size_t>(Lk), 1);
  ArfHandle m;
  ArbHandle sum;
  std::vector<char> row_empty(static_cast<size_t>(block));
  std::vector<Ball> row_sum(static_cast<size_t>(block));
  for (Index r0 = 0; r0 < Lq; r0 += block) {
    const Index b = std::min(block, Lq - r0);
    ArbMatHandle cq(b, d), logits(b, Lk), numer(b, dv);
    for (Index i = 0; i < b; ++i)
      for (Index k = 0; k < d; ++k) arb_mul(cq(i, k), Q(r0 + i, k).arb(), c.arb(), prec);
    arb_mat_mul(logits, cq, kt, prec);

    for (Index i = 0; i < b; ++i) {
      const Index row = r0 + i;
      const KeyRange keys = options.keys.range(row, Lq, Lk);
      bool any = false;
      for (Index j = 0; j < Lk; ++j) {
        arb_ptr s = logits(i, j);
        const bool masked =
            !keys.contains(j) ||
            (options.mask && ScalarTraits<Ball>::is_minus_infinity((*options.mask)(row, j)));
        if (masked) {
          arb_zero(s);  // E_ij = 0 exactly
          continue;
        }
        if (options.softcap) {  // C·tanh(s/C), before the mask
          arb_div(s, s, options.softcap->arb(), prec);
          arb_tanh(s, s, prec);
          arb_mul(s, s, options.softcap->arb(), prec);
        }
        if (options.mask) arb_add(s, s, (*options.mask)(row, j).arb(), prec);
        if (!any || arf_cmp(arb_midref(s), m) > 0) arf_set(m, arb_midref(s));
        any = true;
      }
      row_empty[i] = !any;
      if (!any) continue;
      for (Index j = keys.begin; j < keys.end; ++j) {
        if (options.mask && ScalarTraits<Ball>::is_minus_infinity((*options.mask)(row, j))) {
          continue;
        }
        arb_ptr s = logits(i, j);
        arb_sub_arf(s, s, m, prec);
        arb_exp(s, s, prec);
      }
      arb_dot_si(sum, nullptr, 0, logits(i, keys.begin), 1, ones.data(), 1, keys.size(), prec);
      arb_set(row_sum[i].arb(), sum);
      Ball& lse = out.log_sum_exp[row * out.lse_stride];
      lse.set_precision(prec);
      arb_log(lse.arb(), sum, prec);
      arb_add_arf(lse.arb(), lse.arb(), m, prec);
    }
    arb_mat_mul(numer, logits, vm, prec);

    for (Index i = 0; i < b; ++i) {
      const Index row = r0 + i;
      if (row_empty[i]) {
        for (Index k = 0; k < dv; ++k) out.output(row, k) = Ball(0.0, prec);
        out.log_sum_exp[row * out.lse_stride] =
            Ball(-std::numeric_limits<double>::infinity(), prec);
        if (out.probabilities) {
          for (Index j = 0; j < Lk; ++j) (*out.probabilities)(row, j) = Ball(0.0, prec);
        }
        continue;
      }
      const arb_srcptr total = row_sum[i].arb();
      for (Index k = 0; k < dv; ++k) {
        Ball& o = out.output(row, k);
        o.set_precision(prec);
        arb_div(o.arb(), numer(i, k), total, prec);
      }
      if (out.probabilities) {
        for (Index j = 0; j < Lk; ++j) {
          Ball& p = (*out.probabilities)(row, j);
          p.set_precision(prec);
          arb_div(p.arb(), logits(i, j), total, prec);
        }
      }
    }
  }
}

// Validates one head's entries, then runs the tier's kernel.
template <class T>
void run_head(const ConstMatrixView<T>& Q, const ConstMatrixView<T>& K,
              const ConstMatrixView<T>& V, const T& c, const SoftmaxAttentionOptions<T>& options,
              HeadOutput<T> out, long bits, const std::string& context) {
  check_entries_finite(Q, "Q", context);
  check_entries_finite(K, "K", context);
  check_entries_finite(V, "V", context);
  if constexpr (kIsIeee<T>) {
    (void)bits;
    ieee_head(Q, K, V, c, options, out, context);
  } else if constexpr (std::is_same_v<T, Mp>) {
    (void)context;
    mp_head(Q, K, V, c, options, out);
  } else {
    (void)context;
    ball_head(Q, K, V, c, options, out, bits);
  }
}

/// Opens an MpPrecision scope for Mp (no-op for the other tiers).
std::string head_context(Index b, Index h) { return fmt::format(" (batch {}, head {})", b, h); }

}  // namespace

template <class T>
SoftmaxAttentionResult<T> softmax_attention(const ConstMatrixView<T>& Q,
                                            const ConstMatrixView<T>& K,
                                            const ConstMatrixView<T>& V,
                                            const SoftmaxAttentionOptions<T>& options) {
  const Dims dims = check_shapes(Q, K, V, options);
  if (options.mask) check_mask(*options.mask);
  const long bits = working_precision(Q, K, V, options);
  TierScope<T> scope(bits);
  const T c = logit_multiplier(dims.d, options, bits);

  SoftmaxAttentionResult<T> result;
  result.output.resize(dims.Lq, dims.dv);
  result.log_sum_exp.resize(dims.Lq);
  if (options.return_probabilities) result.probabilities.resize(dims.Lq, dims.Lk);
  HeadOutput<T> out{MatrixView<T>(result.output.data(), dims.Lq, dims.dv, ViewStride(dims.dv, 1)),
                    result.log_sum_exp.data(), 1,
                    options.return_probabilities ? &result.probabilities : nullptr};
  run_head(Q, K, V, c, options, out, bits, std::string());
  return result;
}

template <class T>
void softmax_attention(const Tensor4View<const T>& Q, const Tensor4View<const T>& K,
                       const Tensor4View<const T>& V, const Tensor4View<T>& output,
                       const SoftmaxAttentionOptions<T>& options,
                       const std::optional<Tensor4View<T>>& log_sum_exp) {
  const std::string w = who<T>();
  auto shape = [](const auto& t) {
    return fmt::format("({}, {}, {}, {})", t.batch(), t.heads(), t.length(), t.dim());
  };
  if (options.return_probabilities) {
    throw std::invalid_argument(fmt::format(
        "{}: multi-head attention does not return probabilities; use the single-head API", w));
  }
  if (K.batch() != Q.batch() || V.batch() != Q.batch() || K.heads() != V.heads() ||
      Q.heads() % K.heads() != 0 || K.length() != V.length() || K.dim() != Q.dim()) {
    throw std::invalid_argument(fmt::format(
        "{}: Q is {}, K is {}, V is {} (B, H, L, d); need equal batch, K.dim = Q.dim, "
        "K and V with the same heads and length, and K's heads dividing Q's heads",
        w, shape(Q), shape(K), shape(V)));
  }
  if (output.batch() != Q.batch() || output.heads() != Q.heads() ||
      output.length() != Q.length() || output.dim() != V.dim()) {
    throw std::invalid_argument(fmt::format(
        "{}: output is {} but must be (B, H, Lq, dv) = ({}, {}, {}, {})", w, shape(output),
        Q.batch(), Q.heads(), Q.length(), V.dim()));
  }
  if (log_sum_exp && (log_sum_exp->batch() != Q.batch() || log_sum_exp->heads() != Q.heads() ||
                      log_sum_exp->length() != Q.length() || log_sum_exp->dim() != 1)) {
    throw std::invalid_argument(fmt::format(
        "{}: log_sum_exp is {} but must be (B, H, Lq, 1) = ({}, {}, {}, 1)", w,
        shape(*log_sum_exp), Q.batch(), Q.heads(), Q.length()));
  }
  check_key_options(options);
  if (options.mask) {
    check_shapes(Q.const_head(0, 0), K.const_head(0, 0), V.const_head(0, 0), options);
    check_mask(*options.mask);
  }
  const Index group = Q.heads() / K.heads();

  // Precision: the largest over all heads.
  long bits = 0;
  if constexpr (kIsIeee<T>) {
    bits = ScalarTraits<T>::digits();
  } else {
    long input_bits = 0;
    if (options.precision_bits == 0) {
      for (Index b = 0; b < Q.batch(); ++b)
        for (Index h = 0; h < Q.heads(); ++h)
          input_bits = std::max(input_bits, input_precision(Q.const_head(b, h),
                                                            K.const_head(b, h / group),
                                                            V.const_head(b, h / group), options));
    }
    bits = resolve_precision(options, input_bits);
  }
  TierScope<T> scope(bits);
  const T c = logit_multiplier(Q.dim(), options, bits);

  ColVector<T> lse_scratch(Q.length());
  for (Index b = 0; b < Q.batch(); ++b) {
    for (Index h = 0; h < Q.heads(); ++h) {
      HeadOutput<T> out{output.head(b, h), nullptr, 1, nullptr};
      if (log_sum_exp) {
        auto l = log_sum_exp->head(b, h);  // Lq×1
        out.log_sum_exp = l.data();
        out.lse_stride = l.rowStride();
      } else {
        out.log_sum_exp = lse_scratch.data();
      }
      run_head(Q.const_head(b, h), K.const_head(b, h / group), V.const_head(b, h / group), c,
               options, out, bits, head_context(b, h));
    }
  }
}

template <class T>
MultiHeadAttentionResult<T> softmax_attention(const Tensor4View<const T>& Q,
                                              const Tensor4View<const T>& K,
                                              const Tensor4View<const T>& V,
                                              const SoftmaxAttentionOptions<T>& options) {
  MultiHeadAttentionResult<T> result;
  result.shape = {Q.batch(), Q.heads(), Q.length(), V.dim()};
  result.output.resize(static_cast<size_t>(Q.batch() * Q.heads() * Q.length() * V.dim()));
  result.log_sum_exp.resize(static_cast<size_t>(Q.batch() * Q.heads() * Q.length()));
  softmax_attention<T>(Q, K, V, result.output_view(), options,
                       std::optional<Tensor4View<T>>(result.log_sum_exp_view()));
  return result;
}

#define ATTNCERT_INSTANTIATE_SOFTMAX_ATTENTION(T)                                              \
  template SoftmaxAttentionResult<T> softmax_attention<T>(                                     \
      const ConstMatrixView<T>&, const ConstMatrixView<T>&, const ConstMatrixView<T>&,         \
      const SoftmaxAttentionOptions<T>&);                                                      \
  template void softmax_attention<T>(const Tensor4View<const T>&, const Tensor4View<const T>&, \
                                     const Tensor4View<const T>&, const Tensor4View<T>&,       \
                                     const SoftmaxAttentionOptions<T>&,                        \
                                     const std::optional<Tensor4View<T>>&);                    \
  template MultiHeadAttentionResult<T> softmax_attention<T>(                                   \
      const Tensor4View<const T>&, const Tensor4View<const T>&, const Tensor4View<const T>&,   \
      const SoftmaxAttentionOptions<T>&);

ATTNCERT_INSTANTIATE_SOFTMAX_ATTENTION(float)
ATTNCERT_INSTANTIATE_SOFTMAX_ATTENTION(double)
ATTNCERT_INSTANTIATE_SOFTMAX_ATTENTION(Mp)
ATTNCERT_INSTANTIATE_SOFTMAX_ATTENTION(Ball)

#undef ATTNCERT_INSTANTIATE_SOFTMAX_ATTENTION

}  // namespace attncert
