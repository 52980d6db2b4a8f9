// Linear attention (running prefix state) and kernel attention (quadratic form) in every tier.
#include "numerics/linear_attention.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "numerics/ball.hpp"
#include "numerics/blas.hpp"
#include "numerics/mp.hpp"
#include "numerics/scalar_traits.hpp"
#include "numerics/tier_scope.hpp"

namespace attncert {
namespace {

using Index = Eigen::Index;

// --- per-tier primitives ------------------------------------------------------------------

template <class T>
RowStatus classify_normaliser(const T& den) {
  if (!ScalarTraits<T>::is_finite(den)) return RowStatus::NotFinite;
  return den > T(0) ? RowStatus::Ok : RowStatus::NormaliserNotPositive;
}
RowStatus classify_normaliser(const Ball& den) {
  if (!den.is_finite()) return RowStatus::NotFinite;
  const Tri positive = den > 0;
  if (positive == Tri::True) return RowStatus::Ok;
  return positive == Tri::False ? RowStatus::NormaliserNotPositive
                                : RowStatus::NormaliserUndecided;
}

template <class T>
bool certainly_positive(const T& x) {
  return ScalarTraits<T>::is_finite(x) && x > T(0);
}
bool certainly_positive(const Ball& x) { return x.is_finite() && certainly(x > 0); }

// The value a failed row gets: visibly not a number.
template <class T>
T not_a_number() {
  return std::numeric_limits<T>::quiet_NaN();
}
template <>
Mp not_a_number<Mp>() {
  Mp x;
  mpfr_set_nan(x.backend().data());
  return x;
}
template <>
Ball not_a_number<Ball>() {
  Ball x;
  arb_indeterminate(x.arb());
  return x;
}

template <class T>
std::string value_string(const T& x) {
  std::ostringstream os;
  os.precision(17);
  os << x;
  return os.str();
}
std::string value_string(const Ball& x) { return x.str(17); }

template <class T>
void require_finite_matrix(const ConstMatrixRef<T>& x, const char* what, const char* name) {
  for (Index i = 0; i < x.rows(); ++i)
    for (Index j = 0; j < x.cols(); ++j)
      if (!ScalarTraits<T>::is_finite(x(i, j))) {
        throw std::domain_error(fmt::format(
            "{}: {}({}, {}) is not finite (NaN or ±inf); inputs must be finite reals", what,
            name, i, j));
      }
}

template <class T>
void require_positive_scale(const T& scale, const char* what) {
  if (!ScalarTraits<T>::is_finite(scale)) {
    throw std::domain_error(fmt::format("{}: scale {} is not finite; must be a finite real > 0",
                                        what, value_string(scale)));
  }
  if (!certainly_positive(scale)) {
    throw std::invalid_argument(fmt::format(
        "{}: scale {} is not (certainly) > 0; admissible: finite scale > 0", what,
        value_string(scale)));
  }
}

// Shapes: Q Lq×d, K Lk×d, V Lk×dv (V optional), causal needs Lq = Lk.
template <class T>
void require_shapes(const ConstMatrixRef<T>& Q, const ConstMatrixRef<T>& K,
                    const ConstMatrixRef<T>* V, bool causal, const char* what) {
  if (Q.rows() < 1 || Q.cols() < 1 || K.rows() < 1 || K.cols() < 1) {
    throw std::invalid_argument(fmt::format(
        "{}: empty input (Q is {}×{}, K is {}×{}); lengths and dimensions must be >= 1", what,
        Q.rows(), Q.cols(), K.rows(), K.cols()));
  }
  if (Q.cols() != K.cols()) {
    throw std::invalid_argument(fmt::format(
        "{}: Q is {}×{} but K is {}×{}; queries and keys need the same dimension d", what,
        Q.rows(), Q.cols(), K.rows(), K.cols()));
  }
  if (V != nullptr && (V->rows() != K.rows() || V->cols() < 1)) {
    throw std::invalid_argument(fmt::format(
        "{}: K is {}×{} but V is {}×{}; V needs one row per key and >= 1 column", what,
        K.rows(), K.cols(), V->rows(), V->cols()));
  }
  if (causal && Q.rows() != K.rows()) {
    throw std::invalid_argument(fmt::format(
        "{}: causal attention needs as many queries as keys (Q has {} rows, K has {})", what,
        Q.rows(), K.rows()));
  }
}

template <class T>
RowMatrix<T> scaled(const ConstMatrixRef<T>& Q, const T& scale) {
  RowMatrix<T> out(Q.rows(), Q.cols());
  for (Index i = 0; i < Q.rows(); ++i)
    for (Index a = 0; a < Q.cols(); ++a) out(i, a) = scale * Q(i, a);
  return out;
}

template <class T>
FeatureMap resolve_map(const FeatureMap& phi, Index offset, Index length, const char* what) {
  if (phi.kind() == FeatureMapKind::CosFormer && phi.horizon() == 0 && offset > 0) {
    throw std::invalid_argument(fmt::format(
        "{}: cosFormer continued from a state at position {} needs an explicit horizon M "
        "(the default M = call length would change the re-weighting between calls)",
        what, offset));
  }
  return phi.with_default_horizon(offset + length);
}

template <class T>
void fail_row(RowMatrix<T>& out, Index i) {
  for (Index c = 0; c < out.cols(); ++c) out(i, c) = not_a_number<T>();
}

// O_i = num / den when den is (certainly) > 0 and the quotient is finite.
template <class T>
RowStatus finish_row(RowMatrix<T>& out, Index i, const T& den) {
  RowStatus status = classify_normaliser(den);
  if (status == RowStatus::Ok) {
    for (Index c = 0; c < out.cols(); ++c) {
      out(i, c) /= den;
      if (!ScalarTraits<T>::is_finite(out(i, c))) status = RowStatus::NotFinite;
    }
  }
  if (status != RowStatus::Ok) fail_row(out, i);
  return status;
}

}  // namespace

std::string to_string(RowStatus status) {
  switch (status) {
    case RowStatus::Ok: return "ok";
    case RowStatus::NormaliserNotPositive: return "normaliser <= 0";
    case RowStatus::NormaliserUndecided: return "normaliser not certainly > 0 (enclosure contains 0)";
    case RowStatus::NotFinite: return "normaliser or output not finite";
    case RowStatus::KernelArgumentNotPositive: return "power kernel argument s_ij not (certainly) > 0";
    case RowStatus::KernelValueNotPositive: return "kernel value F(s_ij) not (certainly) > 0 and finite";
  }
  return "unknown";
}

namespace {
std::optional<Index> first_failed(const std::vector<RowStatus>& status) {
  for (std::size_t i = 0; i < status.size(); ++i)
    if (status[i] != RowStatus::Ok) return static_cast<Index>(i);
  return std::nullopt;
}
}  // namespace

template <class T>
bool AttentionResult<T>::all_ok() const {
  return !first_failed(row_status).has_value();
}
template <class T>
std::optional<Index> AttentionResult<T>::first_failed_row() const {
  return first_failed(row_status);
}
template <class T>
bool AttentionMatrixResult<T>::all_ok() const {
  return !first_failed(row_status).has_value();
}
template <class T>
std::optional<Index> AttentionMatrixResult<T>::first_failed_row() const {
  return first_failed(row_status);
}

template <class T>
void require_rows_ok(const std::vector<RowStatus>& status, const ColVector<T>& normaliser,
                     const std::string& what) {
  const auto row = first_failed(status);
  if (!row) return;
  const std::string value =
      *row < normaliser.size() ? value_string(normaliser(*row)) : std::string("?");
  throw std::domain_error(fmt::format("{}: row {}: {} (normaliser = {}); not divided through",
                                      what, *row, to_string(status[*row]), value));
}

// --- linear attention -------------------------------------------------------------------------

// double: the same sums as the token loops of linear_attention, as matrix products by
// blas::gemm. Non-causal: kv += fkᵀV, k_sum += Σ_j fk_j, O = fq·kv, den = fq·k_sum. Causal, in
// chunks of kLinearChunk tokens: a chunk's queries see the state of the earlier chunks
// (fq_c·kv, fq_c·k_sum) plus their own chunk's keys j ≤ i through the lower-triangular block
// W = tril(fq_c fk_cᵀ) (W·V_c, row sums of W); then the chunk's keys join the state. Only the
// summation order differs from the token loops (each sum is still one of Lk products).
namespace {

constexpr Index kLinearChunk = 128;

void blas_linear_attention(const RowMatrix<double>& fq, const RowMatrix<double>& fk,
                           const ConstMatrixRef<double>& V, bool causal,
                           LinearAttentionResult<double>& r) {
  LinearAttentionState<double>& st = r.state;
  const Index Lq = fq.rows();
  auto finish = [&r](Index first, Index count) {
    for (Index i = first; i < first + count; ++i)
      r.row_status[static_cast<std::size_t>(i)] = finish_row(r.output, i, r.normaliser(i));
  };
  if (!causal) {
    blas::gemm(1.0, fk.transpose(), V, 1.0, st.kv);
    st.k_sum += fk.colwise().sum().transpose();
    blas::gemm(1.0, fq, st.kv, 0.0, r.output);
    blas::gemm(1.0, fq, st.k_sum, 0.0, r.normaliser);
    finish(0, Lq);
    return;
  }
  RowMatrix<double> w(std::min(kLinearChunk, Lq), std::min(kLinearChunk, Lq));
  for (Index c0 = 0; c0 < Lq; c0 += kLinearChunk) {
    const Index n = std::min(kLinearChunk, Lq - c0);
    const auto fq_c = fq.middleRows(c0, n);
    const auto fk_c = fk.middleRows(c0, n);
    const auto v_c = V.middleRows(c0, n);
    auto out_c = r.output.middleRows(c0, n);
    auto den_c = r.normaliser.segment(c0, n);
    auto W = w.topLeftCorner(n, n);
    blas::gemm(1.0, fq_c, st.kv, 0.0, out_c);
    blas::gemm(1.0, fq_c, st.k_sum, 0.0, den_c);
    blas::gemm(1.0, fq_c, fk_c.transpose(), 0.0, W);
    W.triangularView<Eigen::StrictlyUpper>().setZero();
    blas::gemm(1.0, W, v_c, 1.0, out_c);
    den_c += W.rowwise().sum();
    blas::gemm(1.0, fk_c.transpose(), v_c, 1.0, st.kv);
    st.k_sum += fk_c.colwise().sum().transpose();
  }
  finish(0, Lq);
}

}  // namespace


template <class T>
LinearAttentionResult<T> linear_attention(MatrixArg<T> Q, MatrixArg<T> K, MatrixArg<T> V,
                                          const FeatureMap& phi_in, const T& scale, bool causal,
                                          const LinearAttentionState<T>* initial) {
  const char* what = causal ? "linear_attention (causal)" : "linear_attention";
  require_shapes<T>(Q, K, &V, causal, what);
  require_finite_matrix<T>(Q, what, "Q");
  require_finite_matrix<T>(K, what, "K");
  require_finite_matrix<T>(V, what, "V");
  require_positive_scale(scale, what);
  TierScope<T> scope(Q, K, V, scale);

  const Index offset = initial ? initial->tokens : 0;
  if (offset < 0) throw std::invalid_argument(fmt::format("{}: state has {} tokens, must be >= 0", what, offset));
  const FeatureMap phi = resolve_map<T>(phi_in, offset, std::max(Q.rows(), K.rows()), what);
  const RowMatrix<T> fq = phi.template query_features<T>(scaled<T>(Q, scale), offset);
  const RowMatrix<T> fk = phi.template key_features<T>(K, offset);
  const Index m = fq.cols(), dv = V.cols(), Lq = Q.rows(), Lk = K.rows();

  LinearAttentionResult<T> r;
  LinearAttentionState<T>& st = r.state;
  if (initial) {
    if (initial->kv.rows() != m || initial->kv.cols() != dv || initial->k_sum.size() != m) {
      throw std::invalid_argument(fmt::format(
          "{}: state is kv {}×{}, k_sum {}; this call needs kv {}×{}, k_sum {} (m × dv)", what,
          initial->kv.rows(), initial->kv.cols(), initial->k_sum.size(), m, dv, m));
    }
    st.kv = initial->kv;
    st.k_sum = initial->k_sum;
  } else {
    st.kv = RowMatrix<T>::Constant(m, dv, T(0));
    st.k_sum = ColVector<T>::Constant(m, T(0));
  }
  st.tokens = offset + Lk;

  auto absorb_key = [&](Index j) {
    for (Index a = 0; a < m; ++a) {
      const T& f = fk(j, a);
      st.k_sum(a) += f;
      for (Index c = 0; c < dv; ++c) st.kv(a, c) += f * V(j, c);
    }
  };
  r.output = RowMatrix<T>::Constant(Lq, dv, T(0));
  r.normaliser = ColVector<T>::Constant(Lq, T(0));
  r.row_status.assign(static_cast<std::size_t>(Lq), RowStatus::Ok);
  auto emit_query = [&](Index i) {
    T den = T(0);
    for (Index a = 0; a < m; ++a) {
      const T& f = fq(i, a);
      den += f * st.k_sum(a);
      for (Index c = 0; c < dv; ++c) r.output(i, c) += f * st.kv(a, c);
    }
    r.normaliser(i) = den;
    r.row_status[static_cast<std::size_t>(i)] = finish_row(r.output, i, den);
  };

  if constexpr (std::is_same_v<T, double>) {
    blas_linear_attention(fq, fk, V, causal, r);
  } else if (causal) {
    for (Index i = 0; i < Lq; ++i) {
      absorb_key(i);
      emit_query(i);
    }
  } else {
    for (Index j = 0; j < Lk; ++j) absorb_key(j);
    for (Index i = 0; i < Lq; ++i) emit_query(i);
  }
  return r;
}

template <class T>
LinearAttentionResult<T> linear_attention_or_throw(MatrixArg<T> Q, MatrixArg<T> K,
                                                   MatrixArg<T> V, const FeatureMap& phi,
                                                   const T& scale, bool causal,
                                                   const LinearAttentionState<T>* initial) {
  LinearAttentionResult<T> r = linear_attention<T>(Q, K, V, phi, scale, causal, initial);
  require_rows_ok<T>(r.row_status, r.normaliser,
                     fmt::format("linear_attention({}{})", phi.name(), causal ? ", causal" : ""));
  return r;
}

template <class T>
RowMatrix<T> linear_kernel_matrix(MatrixArg<T> Q, MatrixArg<T> K, const FeatureMap& phi_in,
                                  const T& scale) {
  const char* what = "linear_kernel_matrix";
  require_shapes<T>(Q, K, nullptr, false, what);
  require_finite_matrix<T>(Q, what, "Q");
  require_finite_matrix<T>(K, what, "K");
  require_positive_scale(scale, what);
  TierScope<T> scope(Q, K, scale);
  const FeatureMap phi = resolve_map<T>(phi_in, 0, std::max(Q.rows(), K.rows()), what);
  const RowMatrix<T> fq = phi.template query_features<T>(scaled<T>(Q, scale), 0);
  const RowMatrix<T> fk = phi.template key_features<T>(K, 0);
  RowMatrix<T> A(Q.rows(), K.rows());
  for (Index i = 0; i < Q.rows(); ++i)
    for (Index j = 0; j < K.rows(); ++j) {
      T s = T(0);
      for (Index a = 0; a < fq.cols(); ++a) s += fq(i, a) * fk(j, a);
      A(i, j) = s;
    }
  return A;
}

template <class T>
AttentionMatrixResult<T> linear_attention_matrix(MatrixArg<T> Q, MatrixArg<T> K,
                                                 const FeatureMap& phi, const T& scale,
                                                 bool causal) {
  const char* what = "linear_attention_matrix";
  require_shapes<T>(Q, K, nullptr, causal, what);
  TierScope<T> scope(Q, K, scale);
  AttentionMatrixResult<T> r;
  r.weights = linear_kernel_matrix<T>(Q, K, phi, scale);
  const Index Lq = Q.rows(), Lk = K.rows();
  r.normaliser = ColVector<T>::Constant(Lq, T(0));
  r.row_status.assign(static_cast<std::size_t>(Lq), RowStatus::Ok);
  for (Index i = 0; i < Lq; ++i) {
    const Index visible = causal ? i + 1 : Lk;
    for (Index j = visible; j < Lk; ++j) r.weights(i, j) = T(0);
    T den = T(0);
    for (Index j = 0; j < visible; ++j) den += r.weights(i, j);
    r.normaliser(i) = den;
    r.row_status[static_cast<std::size_t>(i)] = finish_row(r.weights, i, den);
  }
  return r;
}

// --- kernel attention -------------------------------------------------------------------------

template <class T>
ScoreKernel<T> ScoreKernel<T>::power(double beta) {
  if (!std::isfinite(beta) || !(beta > 0.0)) {
    throw std::invalid_argument(
        fmt::format("power kernel: exponent beta = {}, must be finite and > 0", beta));
  }
  ScoreKernel k;
  k.beta_ = beta;
  k.name_ = fmt::format("power(beta={})", beta);
  return k;
}

template <class T>
ScoreKernel<T> ScoreKernel<T>::normaliser(PositiveFunction<T> F, std::string name) {
  if (!F) throw std::invalid_argument("normaliser kernel: F is an empty function");
  ScoreKernel k;
  k.F_ = std::move(F);
  k.name_ = std::move(name);
  return k;
}

namespace {
template <class T>
T power_value(const T& s, double beta) {
  using std::pow;
  return pow(s, T(beta));
}
template <>
float power_value<float>(const float& s, double beta) {
  return std::pow(s, static_cast<float>(beta));
}
template <>
Ball power_value<Ball>(const Ball& s, double beta) {
  // Integer exponents stay exact on exact balls; others need s's working precision.
  if (beta == std::floor(beta) && beta <= 1e9) return pow(s, static_cast<long>(beta));
  return pow(s, Ball(beta, s.precision()));
}
}  // namespace

template <class T>
std::optional<T> ScoreKernel<T>::operator()(const T& s, RowStatus* failure) const {
  if (is_power()) {
    if (!certainly_positive(s)) {
      if (failure) *failure = RowStatus::KernelArgumentNotPositive;
      return std::nullopt;
    }
    T v = power_value<T>(s, beta_);
    if (!ScalarTraits<T>::is_finite(v)) {
      if (failure) *failure = RowStatus::NotFinite;
      return std::nullopt;
    }
    return v;
  }
  T v = F_(s);
  if (!certainly_positive(v)) {
    if (failure) *failure = RowStatus::KernelValueNotPositive;
    return std::nullopt;
  }
  return v;
}

namespace {
// Kernel weights of row i (unnormalised) into w; returns Ok or the first failure.
template <class T>
RowStatus kernel_row(const ConstMatrixRef<T>& Q, const ConstMatrixRef<T>& K,
                     const ScoreKernel<T>& kernel, const T& scale, Index i, Index visible,
                     std::vector<T>& w) {
  w.resize(static_cast<std::size_t>(visible));
  for (Index j = 0; j < visible; ++j) {
    T dot = T(0);
    for (Index a = 0; a < Q.cols(); ++a) dot += Q(i, a) * K(j, a);
    RowStatus failure = RowStatus::Ok;
    std::optional<T> v = kernel(T(scale * dot), &failure);
    if (!v) return failure;
    w[static_cast<std::size_t>(j)] = std::move(*v);
  }
  return RowStatus::Ok;
}
}  // namespace

template <class T>
AttentionResult<T> kernel_attention(MatrixArg<T> Q, MatrixArg<T> K, MatrixArg<T> V,
                                    const ScoreKernel<T>& kernel, const T& scale, bool causal) {
  const char* what = "kernel_attention";
  require_shapes<T>(Q, K, &V, causal, what);
  require_finite_matrix<T>(Q, what, "Q");
  require_finite_matrix<T>(K, what, "K");
  require_finite_matrix<T>(V, what, "V");
  require_positive_scale(scale, what);
  TierScope<T> scope(Q, K, V, scale);
  const Index Lq = Q.rows(), Lk = K.rows(), dv = V.cols();
  AttentionResult<T> r;
  r.output = RowMatrix<T>::Constant(Lq, dv, T(0));
  r.normaliser = ColVector<T>::Constant(Lq, T(0));
  r.row_status.assign(static_cast<std::size_t>(Lq), RowStatus::Ok);
  std::vector<T> w;
  for (Index i = 0; i < Lq; ++i) {
    const Index visible = causal ? i + 1 : Lk;
    RowStatus st = kernel_row<T>(Q, K, kernel, scale, i, visible, w);
    if (st != RowStatus::Ok) {
      r.normaliser(i) = not_a_number<T>();
      fail_row(r.output, i);
      r.row_status[static_cast<std::size_t>(i)] = st;
      continue;
    }
    T den = T(0);
    for (Index j = 0; j < visible; ++j) {
      const T& wj = w[static_cast<std::size_t>(j)];
      den += wj;
      for (Index c = 0; c < dv; ++c) r.output(i, c) += wj * V(j, c);
    }
    r.normaliser(i) = den;
    r.row_status[static_cast<std::size_t>(i)] = finish_row(r.output, i, den);
  }
  return r;
}

template <class T>
AttentionMatrixResult<T> kernel_attention_matrix(MatrixArg<T> Q, MatrixArg<T> K,
                                                 const ScoreKernel<T>& kernel, const T& scale,
                                                 bool causal) {
  const char* what = "kernel_attention_matrix";
  require_shapes<T>(Q, K, nullptr, causal, what);
  require_finite_matrix<T>(Q, what, "Q");
  require_finite_matrix<T>(K, what, "K");
  require_positive_scale(scale, what);
  TierScope<T> scope(Q, K, scale);
  const Index Lq = Q.rows(), Lk = K.rows();
  AttentionMatrixResult<T> r;
  r.weights = RowMatrix<T>::Constant(Lq, Lk, T(0));
  r.normaliser = ColVector<T>::Constant(Lq, T(0));
  r.row_status.assign(static_cast<std::size_t>(Lq), RowStatus::Ok);
  std::vector<T> w;
  for (Index i = 0; i < Lq; ++i) {
    const Index visible = causal ? i + 1 : Lk;
    RowStatus st = kernel_row<T>(Q, K, kernel, scale, i, visible, w);
    if (st != RowStatus::Ok) {
      r.normaliser(i) = not_a_number<T>();
      fail_row(r.weights, i);
      r.row_status[static_cast<std::size_t>(i)] = st;
      continue;
    }
    T den = T(0);
    for (Index j = 0; j < visible; ++j) {
      den += w[static_cast<std::size_t>(j)];
      r.weights(i, j) = w[static_cast<std::size_t>(j)];
    }
    r.normaliser(i) = den;
    r.row_status[static_cast<std::size_t>(i)] = finish_row(r.weights, i, den);
  }
  return r;
}

#define ATTNCERT_INSTANTIATE_LINEAR_ATTENTION(T)                                                \
  template struct AttentionResult<T>;                                                           \
  template struct AttentionMatrixResult<T>;                                                     \
  template class ScoreKernel<T>;                                                                \
  template void require_rows_ok<T>(const std::vector<RowStatus>&, const ColVector<T>&,         \
                                   const std::string&);                                        \
  template LinearAttentionResult<T> linear_attention<T>(MatrixArg<T>, MatrixArg<T>,            \
                                                        MatrixArg<T>, const FeatureMap&,       \
                                                        const T&, bool,                        \
                                                        const LinearAttentionState<T>*);       \
  template LinearAttentionResult<T> linear_attention_or_throw<T>(                              \
      MatrixArg<T>, MatrixArg<T>, MatrixArg<T>, const FeatureMap&, const T&, bool,             \
      const LinearAttentionState<T>*);                                                          \
  template RowMatrix<T> linear_kernel_matrix<T>(MatrixArg<T>, MatrixArg<T>, const FeatureMap&, \
                                                const T&);                                     \
  template AttentionMatrixResult<T> linear_attention_matrix<T>(                                \
      MatrixArg<T>, MatrixArg<T>, const FeatureMap&, const T&, bool);                          \
  template AttentionResult<T> kernel_attention<T>(MatrixArg<T>, MatrixArg<T>, MatrixArg<T>,    \
                                                  const ScoreKernel<T>&, const T&, bool);      \
  template AttentionMatrixResult<T> kernel_attention_matrix<T>(                                \
      MatrixArg<T>, MatrixArg<T>, const ScoreKernel<T>&, const T&, bool);

ATTNCERT_INSTANTIATE_LINEAR_ATTENTION(float)
ATTNCERT_INSTANTIATE_LINEAR_ATTENTION(double)
ATTNCERT_INSTANTIATE_LINEAR_ATTENTION(Mp)
ATTNCERT_INSTANTIATE_LINEAR_ATTENTION(Ball)
#undef ATTNCERT_INSTANTIATE_LINEAR_ATTENTION

}  // namespace attncert
