// Softmax vs linear / kernel attention: kernel, attention-matrix and output errors.
#include "numerics/attention_error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "numerics/ball.hpp"
#include "numerics/mp.hpp"
#include "numerics/scalar_traits.hpp"
#include "numerics/softmax_attention.hpp"
#include "numerics/tier_scope.hpp"

namespace attncert {
namespace {

using Index = Eigen::Index;

template <class T>
T abs_value(const T& x) {
  using std::abs;
  return abs(x);
}

// |x| as an enclosure with a non-negative lower end (the error is a distance).
template <>
Ball abs_value<Ball>(const Ball& x) {
  Ball r = abs(x);
  arb_nonnegative_part(r.arb(), r.arb());
  return r;
}

// √x for x that is exactly >= 0 (a sum of squares): an enclosure whose width straddles 0 must
// not turn into NaN, so only its non-negative part is used.
template <class T>
T sqrt_of_nonnegative(const T& x) {
  using std::sqrt;
  return sqrt(x);
}
template <>
Ball sqrt_of_nonnegative<Ball>(const Ball& x) {
  Ball r = x;
  if (r.precision() == Ball::kExact) r.set_precision(64);
  arb_sqrtpos(r.arb(), x.arb(), r.precision());
  return r;
}

template <class T>
ConstMatrixView<T> view_of(const ConstMatrixRef<T>& x) {
  return ConstMatrixView<T>(x.data(), x.rows(), x.cols(),
                            ViewStride(x.outerStride(), x.innerStride()));
}

template <class T>
SoftmaxAttentionResult<T> softmax_reference(const ConstMatrixRef<T>& Q,
                                            const ConstMatrixRef<T>& K,
                                            const ConstMatrixRef<T>& V, const T& scale,
                                            bool causal) {
  SoftmaxAttentionOptions<T> options;
  options.scale = scale;
  if (causal) options.keys = KeyVisibility::causal_mask();  // Lq = Lk: both alignments are j <= i
  options.return_probabilities = true;
  return softmax_attention<T>(view_of(Q), view_of(K), view_of(V), options);
}

}  // namespace

template <class T>
KernelApproximationError<T> kernel_approximation_error(MatrixArg<T> Q, MatrixArg<T> K,
                                                       const FeatureMap& phi, const T& scale) {
  TierScope<T> scope(Q, K);
  using std::exp;
  KernelApproximationError<T> r;
  r.error = linear_kernel_matrix<T>(Q, K, phi, scale);  // validates shapes, entries, scale
  r.max = T(0);
  for (Index i = 0; i < Q.rows(); ++i) {
    for (Index j = 0; j < K.rows(); ++j) {
      T dot = T(0);
      for (Index a = 0; a < Q.cols(); ++a) dot += Q(i, a) * K(j, a);
      r.error(i, j) = abs_value<T>(T(exp(T(scale * dot)) - r.error(i, j)));
      r.max = ScalarTraits<T>::max(r.max, r.error(i, j));
    }
  }
  return r;
}

template <class T>
AttentionApproximationError<T> attention_difference(MatrixArg<T> P, MatrixArg<T> A,
                                                    MatrixArg<T> O_P, MatrixArg<T> O_A) {
  if (P.rows() != A.rows() || P.cols() != A.cols() || O_P.rows() != O_A.rows() ||
      O_P.cols() != O_A.cols() || O_P.rows() != P.rows()) {
    throw std::invalid_argument(fmt::format(
        "attention_difference: weights {}×{} vs {}×{}, outputs {}×{} vs {}×{}; the weights "
        "must have equal shapes, the outputs too, with one output row per weight row",
        P.rows(), P.cols(), A.rows(), A.cols(), O_P.rows(), O_P.cols(), O_A.rows(),
        O_A.cols()));
  }
  TierScope<T> scope(P, A, O_P, O_A);
  AttentionApproximationError<T> e;
  e.weights_max = T(0);
  e.total_variation_max = T(0);
  e.output_max = T(0);
  T weights_sq = T(0), output_sq = T(0);
  e.row_l1.reserve(static_cast<std::size_t>(P.rows()));
  for (Index i = 0; i < P.rows(); ++i) {
    T l1 = T(0);
    for (Index j = 0; j < P.cols(); ++j) {
      const T diff = P(i, j) - A(i, j);
      const T ad = abs_value<T>(diff);
      l1 += ad;
      weights_sq += diff * diff;
      e.weights_max = ScalarTraits<T>::max(e.weights_max, ad);
    }
    e.total_variation_max = ScalarTraits<T>::max(e.total_variation_max, T(l1 * T(0.5)));
    e.row_l1.push_back(std::move(l1));
    for (Index c = 0; c < O_P.cols(); ++c) {
      const T diff = O_P(i, c) - O_A(i, c);
      output_sq += diff * diff;
      e.output_max = ScalarTraits<T>::max(e.output_max, abs_value<T>(diff));
    }
  }
  e.weights_frobenius = sqrt_of_nonnegative<T>(weights_sq);
  e.output_frobenius = sqrt_of_nonnegative<T>(output_sq);
  return e;
}

template <class T>
AttentionApproximationError<T> attention_approximation_error(MatrixArg<T> Q, MatrixArg<T> K,
                                                             MatrixArg<T> V,
                                                             const FeatureMap& phi,
                                                             const T& scale, bool causal) {
  const std::string what = fmt::format("attention_approximation_error({}{})", phi.name(),
                                       causal ? ", causal" : "");
  // Linear side first: it validates the inputs with this module's messages.
  const LinearAttentionResult<T> lin = linear_attention<T>(Q, K, V, phi, scale, causal);
  require_rows_ok<T>(lin.row_status, lin.normaliser, what);
  const AttentionMatrixResult<T> A = linear_attention_matrix<T>(Q, K, phi, scale, causal);
  require_rows_ok<T>(A.row_status, A.normaliser, what);
  const SoftmaxAttentionResult<T> soft = softmax_reference<T>(Q, K, V, scale, causal);
  return attention_difference<T>(soft.probabilities, A.weights, soft.output, lin.output);
}

template <class T>
AttentionApproximationError<T> attention_approximation_error(MatrixArg<T> Q, MatrixArg<T> K,
                                                             MatrixArg<T> V,
                                                             const ScoreKernel<T>& kernel,
                                                             const T& scale, bool causal) {
  const std::string what = fmt::format("attention_approximation_error({}{})", kernel.name(),
                                       causal ? ", causal" : "");
  const AttentionResult<T> out = kernel_attention<T>(Q, K, V, kernel, scale, causal);
  require_rows_ok<T>(out.row_status, out.normaliser, what);
  const AttentionMatrixResult<T> A = kernel_attention_matrix<T>(Q, K, kernel, scale, causal);
  require_rows_ok<T>(A.row_status, A.normaliser, what);
  const SoftmaxAttentionResult<T> soft = softmax_reference<T>(Q, K, V, scale, causal);
  return attention_difference<T>(soft.probabilities, A.weights, soft.output, out.output);
}

#define ATTNCERT_INSTANTIATE_ATTENTION_ERROR(T)                                                 \
  template KernelApproximationError<T> kernel_approximation_error<T>(                          \
      MatrixArg<T>, MatrixArg<T>, const FeatureMap&, const T&);                                 \
  template AttentionApproximationError<T> attention_difference<T>(MatrixArg<T>, MatrixArg<T>,  \
                                                                  MatrixArg<T>, MatrixArg<T>); \
  template AttentionApproximationError<T> attention_approximation_error<T>(                    \
      MatrixArg<T>, MatrixArg<T>, MatrixArg<T>, const FeatureMap&, const T&, bool);             \
  template AttentionApproximationError<T> attention_approximation_error<T>(                    \
      MatrixArg<T>, MatrixArg<T>, MatrixArg<T>, const ScoreKernel<T>&, const T&, bool);

ATTNCERT_INSTANTIATE_ATTENTION_ERROR(double)
ATTNCERT_INSTANTIATE_ATTENTION_ERROR(Mp)
ATTNCERT_INSTANTIATE_ATTENTION_ERROR(Ball)
#undef ATTNCERT_INSTANTIATE_ATTENTION_ERROR

}  // namespace attncert
