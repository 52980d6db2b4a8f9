// Forward-mode derivatives of attention outputs; formulas in attention_jvp.hpp.
#include "numerics/attention_jvp.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/math/constants/constants.hpp>
#include <cmath>
#include <optional>
#include <stdexcept>
#include <type_traits>

#include "numerics/blas.hpp"
#include "numerics/linear_attention.hpp"
#include "numerics/mp.hpp"
#include "numerics/normaliser_jacobian.hpp"
#include "numerics/scalar_traits.hpp"
#include "numerics/tier_scope.hpp"

namespace attncert {

std::string to_string(AttentionInput input) {
  switch (input) {
    case AttentionInput::Q: return "Q";
    case AttentionInput::K: return "K";
    case AttentionInput::V: return "V";
  }
  return "?";
}

namespace {

using Index = Eigen::Index;

template <class T>
RowMatrix<T> direction_or_zero(const RowMatrix<T>& d, const RowMatrix<T>& x, const char* name,
                               const char* fn) {
  if (d.size() == 0) return RowMatrix<T>::Zero(x.rows(), x.cols());
  if (d.rows() != x.rows() || d.cols() != x.cols()) {
    throw std::invalid_argument(fmt::format(
        "{}: direction d{} is {}x{} but {} is {}x{}; need the same shape (or empty for 0)", fn,
        name, d.rows(), d.cols(), name, x.rows(), x.cols()));
  }
  for (Index i = 0; i < d.rows(); ++i) {
    for (Index j = 0; j < d.cols(); ++j) {
      if (!ScalarTraits<T>::is_finite(d(i, j))) {
        throw std::domain_error(
            fmt::format("{}: direction d{} entry ({}, {}) is not finite", fn, name, i, j));
      }
    }
  }
  return d;
}

// ---- softmax attention -------------------------------------------------------------------

template <class T>
struct SoftmaxPrimal {
  RowMatrix<T> P, O, K, Q, V;
  T c;  // scale / T
};

template <class T>
SoftmaxPrimal<T> softmax_primal(const RowMatrix<T>& Q, const RowMatrix<T>& K,
                                const RowMatrix<T>& V, const SoftmaxAttentionOptions<T>& options) {
  // The tangent below differentiates s = c·q·k only; a capped logit has another derivative.
  if (options.softcap) {
    throw std::invalid_argument("softmax_attention_jvp: softcap is not supported");
  }
  SoftmaxAttentionOptions<T> opts = options;
  opts.return_probabilities = true;
  SoftmaxAttentionResult<T> r = softmax_attention<T>(Q, K, V, opts);
  SoftmaxPrimal<T> p;
  p.P = std::move(r.probabilities);
  p.O = std::move(r.output);
  p.Q = Q;
  p.K = K;
  p.V = V;
  using std::sqrt;
  const T scale = options.scale ? *options.scale : T(T(1) / sqrt(T(static_cast<double>(Q.cols()))));
  p.c = T(scale / options.temperature);
  return p;
}

// a1·b1 + a2·b2; double's products go through blas::gemm (a Jacobian runs one tangent per
// input entry).
template <class T, class A1, class B1, class A2, class B2>
RowMatrix<T> sum_of_products(const A1& a1, const B1& b1, const A2& a2, const B2& b2) {
  RowMatrix<T> c(a1.rows(), b1.cols());
  if constexpr (std::is_same_v<T, double>) {
    blas::gemm(1.0, a1, b1, 0.0, c);
    blas::gemm(1.0, a2, b2, 1.0, c);
  } else {
    c.noalias() = a1 * b1;
    c.noalias() += a2 * b2;
  }
  return c;
}

template <class T>
RowMatrix<T> softmax_tangent(const SoftmaxPrimal<T>& p, const RowMatrix<T>& dQ,
                             const RowMatrix<T>& dK, const RowMatrix<T>& dV) {
  RowMatrix<T> dS = sum_of_products<T>(dQ, p.K.transpose(), p.Q, dK.transpose());
  dS *= p.c;
  RowMatrix<T> dP(p.P.rows(), p.P.cols());
  for (Index i = 0; i < p.P.rows(); ++i) {
    T mean = T(0);
    for (Index j = 0; j < p.P.cols(); ++j) mean += p.P(i, j) * dS(i, j);
    for (Index j = 0; j < p.P.cols(); ++j) dP(i, j) = p.P(i, j) * T(dS(i, j) - mean);
  }
  return sum_of_products<T>(dP, p.V, p.P, dV);
}

template <class T>
long softmax_bits(const RowMatrix<T>& Q, const RowMatrix<T>& K, const RowMatrix<T>& V,
                  const RowMatrix<T>& dQ, const RowMatrix<T>& dK, const RowMatrix<T>& dV,
                  const SoftmaxAttentionOptions<T>& options) {
  if (options.precision_bits > 0) return options.precision_bits;
  return scoped_precision_bits<T>(Q, K, V, dQ, dK, dV, options.temperature, options.scale);
}

// ---- linear attention --------------------------------------------------------------------

template <class T>
struct LinearPrimal {
  FeatureMap phi = FeatureMap::identity();
  RowMatrix<T> Qs, K, V, A, B, W, O;
  ColVector<T> den;
  T scale;
  bool causal = false;
};

/// Dφ(x)[dx] row by row, in the layout of FeatureMap::features.
template <class T>
RowMatrix<T> feature_tangent(const FeatureMap& phi, const RowMatrix<T>& x, const RowMatrix<T>& dx,
                             const RowMatrix<T>& features, bool is_query) {
  using std::exp;
  const Index L = x.rows(), d = x.cols();
  RowMatrix<T> out = RowMatrix<T>::Zero(features.rows(), features.cols());
  switch (phi.kind()) {
    case FeatureMapKind::Identity:
      out = dx;
      break;
    case FeatureMapKind::Relu:
      for (Index i = 0; i < L; ++i)
        for (Index a = 0; a < d; ++a) out(i, a) = x(i, a) > T(0) ? dx(i, a) : T(0);
      break;
    case FeatureMapKind::EluPlusOne:
      for (Index i = 0; i < L; ++i)
        for (Index a = 0; a < d; ++a)
          out(i, a) = x(i, a) > T(0) ? dx(i, a) : T(exp(x(i, a)) * dx(i, a));
      break;
    case FeatureMapKind::Taylor2:
      for (Index i = 0; i < L; ++i) {
        Index c = 1;  // the constant feature has derivative 0
        for (Index a = 0; a < d; ++a) out(i, c++) = dx(i, a);
        for (Index a = 0; a < d; ++a) {
          const T t = T(x(i, a) * dx(i, a));
          out(i, c++) = is_query ? t : T(t + t);
        }
        for (Index a = 0; a < d; ++a)
          for (Index b = a + 1; b < d; ++b)
            out(i, c++) = T(dx(i, a) * x(i, b) + x(i, a) * dx(i, b));
      }
      break;
    case FeatureMapKind::Performer: {
      const RowMatrix<double>& omega = phi.performer_directions();
      for (Index i = 0; i < L; ++i) {
        T xdx = T(0);
        for (Index a = 0; a < d; ++a) xdx += x(i, a) * dx(i, a);
        for (Index r = 0; r < omega.rows(); ++r) {
          T wdx = T(0);
          for (Index a = 0; a < d; ++a) wdx += T(omega(r, a)) * dx(i, a);
          out(i, r) = features(i, r) * T(wdx - xdx);
        }
      }
      break;
    }
    case FeatureMapKind::CosFormer: {
      const T pi = boost::math::constants::pi<T>();
      for (Index i = 0; i < L; ++i) {
        using std::cos;
        using std::sin;
        const T angle = T(pi * T(static_cast<double>(i)) / T(2.0 * static_cast<double>(phi.horizon())));
        const T c = cos(angle), s = sin(angle);
        for (Index a = 0; a < d; ++a) {
          const T g = x(i, a) > T(0) ? dx(i, a) : T(0);
          out(i, a) = g * c;
          out(i, d + a) = g * s;
        }
      }
      break;
    }
  }
  return out;
}

template <class T>
LinearPrimal<T> linear_primal(const RowMatrix<T>& Q, const RowMatrix<T>& K, const RowMatrix<T>& V,
                              const FeatureMap& phi, const T& scale, bool causal, const char* fn) {
  if (Q.rows() < 1 || K.rows() < 1 || Q.cols() < 1 || V.cols() < 1 || Q.cols() != K.cols() ||
      K.rows() != V.rows()) {
    throw std::invalid_argument(fmt::format(
        "{}: shapes Q {}x{}, K {}x{}, V {}x{}; need Q Lq×d, K Lk×d, V Lk×dv, all >= 1", fn,
        Q.rows(), Q.cols(), K.rows(), K.cols(), V.rows(), V.cols()));
  }
  if (causal && Q.rows() != K.rows()) {
    throw std::invalid_argument(
        fmt::format("{}: causal needs Lq = Lk, got {} and {}", fn, Q.rows(), K.rows()));
  }
  if (!ScalarTraits<T>::is_finite(scale) || !(scale > T(0))) {
    throw std::invalid_argument(fmt::format("{}: scale must be finite and > 0", fn));
  }
  LinearPrimal<T> p;
  p.phi = phi.with_default_horizon(std::max(Q.rows(), K.rows()));
  p.scale = scale;
  p.causal = causal;
  p.Qs = Q * scale;
  p.K = K;
  p.V = V;
  p.A = p.phi.template query_features<T>(p.Qs, 0);
  p.B = p.phi.template key_features<T>(K, 0);
  p.W = p.A * p.B.transpose();
  if (causal) p.W = p.W.template triangularView<Eigen::Lower>();
  p.den = p.W.rowwise().sum();
  for (Index i = 0; i < p.den.size(); ++i) {
    if (!ScalarTraits<T>::is_finite(p.den(i)) || !(p.den(i) > T(0))) {
      throw std::domain_error(fmt::format(
          "{}: row {}: the normaliser φ_q(q')ᵀΣφ_k(k) is {}, must be finite and > 0 for the "
          "derivative to exist",
          fn, i, static_cast<double>(p.den(i))));
    }
  }
  p.O = p.W * V;
  for (Index i = 0; i < p.O.rows(); ++i) p.O.row(i) /= p.den(i);
  return p;
}

template <class T>
RowMatrix<T> linear_tangent(const LinearPrimal<T>& p, const RowMatrix<T>& dQ,
                            const RowMatrix<T>& dK, const RowMatrix<T>& dV) {
  const RowMatrix<T> dA =
      feature_tangent<T>(p.phi, p.Qs, RowMatrix<T>(dQ * p.scale), p.A, /*is_query=*/true);
  const RowMatrix<T> dB = feature_tangent<T>(p.phi, p.K, dK, p.B, /*is_query=*/false);
  RowMatrix<T> dW = sum_of_products<T>(dA, p.B.transpose(), p.A, dB.transpose());
  if (p.causal) dW.template triangularView<Eigen::StrictlyUpper>().setZero();
  const ColVector<T> dden = dW.rowwise().sum();
  RowMatrix<T> dO = sum_of_products<T>(dW, p.V, p.W, dV);
  for (Index i = 0; i < dO.rows(); ++i) {
    dO.row(i) = (dO.row(i) - p.O.row(i) * dden(i)) / p.den(i);
  }
  return dO;
}

/// Column k of the Jacobian = tangent for the unit direction at X(k / cols, k % cols).
template <class T, class Tangent>
RowMatrix<T> jacobian_by_columns(const RowMatrix<T>& Q, const RowMatrix<T>& K,
                                 const RowMatrix<T>& V, AttentionInput wrt, Index out_rows,
                                 Index out_cols, const Tangent& tangent) {
  const RowMatrix<T>& X = wrt == AttentionInput::Q ? Q : wrt == AttentionInput::K ? K : V;
  const Index n = X.rows() * X.cols();
  RowMatrix<T> J(out_rows * out_cols, n);
  RowMatrix<T> zQ = RowMatrix<T>::Zero(Q.rows(), Q.cols());
  RowMatrix<T> zK = RowMatrix<T>::Zero(K.rows(), K.cols());
  RowMatrix<T> zV = RowMatrix<T>::Zero(V.rows(), V.cols());
  RowMatrix<T>& dX = wrt == AttentionInput::Q ? zQ : wrt == AttentionInput::K ? zK : zV;
  for (Index k = 0; k < n; ++k) {
    dX(k / X.cols(), k % X.cols()) = T(1);
    const RowMatrix<T> dO = tangent(zQ, zK, zV);
    dX(k / X.cols(), k % X.cols()) = T(0);
    for (Index i = 0; i < out_rows; ++i)
      for (Index j = 0; j < out_cols; ++j) J(i * out_cols + j, k) = dO(i, j);
  }
  return J;
}

}  // namespace

template <class T>
AttentionJvp<T> softmax_attention_jvp(const RowMatrix<T>& Q, const RowMatrix<T>& K,
                                      const RowMatrix<T>& V, const RowMatrix<T>& dQ,
                                      const RowMatrix<T>& dK, const RowMatrix<T>& dV,
                                      const SoftmaxAttentionOptions<T>& options) {
  const char* fn = "softmax_attention_jvp";
  TierScope<T> scope(softmax_bits(Q, K, V, dQ, dK, dV, options));
  const SoftmaxPrimal<T> p = softmax_primal(Q, K, V, options);
  const RowMatrix<T> tQ = direction_or_zero(dQ, Q, "Q", fn);
  const RowMatrix<T> tK = direction_or_zero(dK, K, "K", fn);
  const RowMatrix<T> tV = direction_or_zero(dV, V, "V", fn);
  return {p.O, softmax_tangent(p, tQ, tK, tV)};
}

template <class T>
AttentionJvp<T> linear_attention_jvp(const RowMatrix<T>& Q, const RowMatrix<T>& K,
                                     const RowMatrix<T>& V, const RowMatrix<T>& dQ,
                                     const RowMatrix<T>& dK, const RowMatrix<T>& dV,
                                     const FeatureMap& phi, const T& scale, bool causal) {
  const char* fn = "linear_attention_jvp";
  TierScope<T> scope(Q, K, V, dQ, dK, dV, scale);
  const LinearPrimal<T> p = linear_primal(Q, K, V, phi, scale, causal, fn);
  const RowMatrix<T> tQ = direction_or_zero(dQ, Q, "Q", fn);
  const RowMatrix<T> tK = direction_or_zero(dK, K, "K", fn);
  const RowMatrix<T> tV = direction_or_zero(dV, V, "V", fn);
  return {p.O, linear_tangent(p, tQ, tK, tV)};
}

template <class T>
RowMatrix<T> softmax_attention_jacobian(const RowMatrix<T>& Q, const RowMatrix<T>& K,
                                        const RowMatrix<T>& V, AttentionInput wrt,
                                        const SoftmaxAttentionOptions<T>& options) {
  TierScope<T> scope(softmax_bits(Q, K, V, Q, K, V, options));
  const SoftmaxPrimal<T> p = softmax_primal(Q, K, V, options);
  return jacobian_by_columns<T>(Q, K, V, wrt, p.O.rows(), p.O.cols(),
                                [&](const RowMatrix<T>& a, const RowMatrix<T>& b,
                                    const RowMatrix<T>& c) { return softmax_tangent(p, a, b, c); });
}

template <class T>
RowMatrix<T> linear_attention_jacobian(const RowMatrix<T>& Q, const RowMatrix<T>& K,
                                       const RowMatrix<T>& V, AttentionInput wrt,
                                       const FeatureMap& phi, const T& scale, bool causal) {
  TierScope<T> scope(Q, K, V, scale);
  const LinearPrimal<T> p = linear_primal(Q, K, V, phi, scale, causal, "linear_attention_jacobian");
  return jacobian_by_columns<T>(Q, K, V, wrt, p.O.rows(), p.O.cols(),
                                [&](const RowMatrix<T>& a, const RowMatrix<T>& b,
                                    const RowMatrix<T>& c) { return linear_tangent(p, a, b, c); });
}

template <class T>
T softmax_attention_local_lipschitz(const RowMatrix<T>& Q, const RowMatrix<T>& K,
                                    const RowMatrix<T>& V, AttentionInput wrt,
                                    const SoftmaxAttentionOptions<T>& options) {
  return jacobian_spectral_norm<T>(softmax_attention_jacobian<T>(Q, K, V, wrt, options));
}

template <class T>
T linear_attention_local_lipschitz(const RowMatrix<T>& Q, const RowMatrix<T>& K,
                                   const RowMatrix<T>& V, AttentionInput wrt,
                                   const FeatureMap& phi, const T& scale, bool causal) {
  return jacobian_spectral_norm<T>(linear_attention_jacobian<T>(Q, K, V, wrt, phi, scale, causal));
}

#define ATTNCERT_INSTANTIATE_JVP(T)                                                              \
  template AttentionJvp<T> softmax_attention_jvp<T>(                                             \
      const RowMatrix<T>&, const RowMatrix<T>&, const RowMatrix<T>&, const RowMatrix<T>&,        \
      const RowMatrix<T>&, const RowMatrix<T>&, const SoftmaxAttentionOptions<T>&);              \
  template AttentionJvp<T> linear_attention_jvp<T>(                                              \
      const RowMatrix<T>&, const RowMatrix<T>&, const RowMatrix<T>&, const RowMatrix<T>&,        \
      const RowMatrix<T>&, const RowMatrix<T>&, const FeatureMap&, const T&, bool);              \
  template RowMatrix<T> softmax_attention_jacobian<T>(const RowMatrix<T>&, const RowMatrix<T>&,  \
                                                      const RowMatrix<T>&, AttentionInput,       \
                                                      const SoftmaxAttentionOptions<T>&);        \
  template RowMatrix<T> linear_attention_jacobian<T>(const RowMatrix<T>&, const RowMatrix<T>&,   \
                                                     const RowMatrix<T>&, AttentionInput,        \
                                                     const FeatureMap&, const T&, bool);         \
  template T softmax_attention_local_lipschitz<T>(const RowMatrix<T>&, const RowMatrix<T>&,      \
                                                  const RowMatrix<T>&, AttentionInput,           \
                                                  const SoftmaxAttentionOptions<T>&);            \
  template T linear_attention_local_lipschitz<T>(const RowMatrix<T>&, const RowMatrix<T>&,       \
                                                 const RowMatrix<T>&, AttentionInput,            \
                                                 const FeatureMap&, const T&, bool);
ATTNCERT_INSTANTIATE_JVP(double)
ATTNCERT_INSTANTIATE_JVP(Mp)
#undef ATTNCERT_INSTANTIATE_JVP

}  // namespace attncert
