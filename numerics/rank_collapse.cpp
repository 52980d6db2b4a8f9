#include "numerics/rank_collapse.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "numerics/rng.hpp"
#include "numerics/softmax_attention.hpp"

namespace attncert {
namespace {

void require_finite_nonempty(const RowMatrix<double>& X, const char* what) {
  if (X.rows() < 1 || X.cols() < 1) {
    throw std::invalid_argument(std::string(what) + ": X is " + std::to_string(X.rows()) + "x" +
                                std::to_string(X.cols()) + ", need at least 1x1");
  }
  for (Eigen::Index i = 0; i < X.rows(); ++i)
    for (Eigen::Index j = 0; j < X.cols(); ++j)
      if (!std::isfinite(X(i, j)))
        throw std::domain_error(std::string(what) + ": X(" + std::to_string(i) + ", " +
                                std::to_string(j) + ") is not finite");
}

std::string shape(const RowMatrix<double>& M) {
  return std::to_string(M.rows()) + "x" + std::to_string(M.cols());
}

}  // namespace

std::vector<AttentionLayerWeights> random_attention_layers(Eigen::Index layers,
                                                          Eigen::Index model_dim,
                                                          Eigen::Index head_dim,
                                                          double weight_scale,
                                                          std::uint64_t seed) {
  if (layers < 0) throw std::invalid_argument("random_attention_layers: layers must be >= 0");
  if (model_dim < 1 || head_dim < 1) {
    throw std::invalid_argument("random_attention_layers: model_dim and head_dim must be >= 1 "
                                "(got " + std::to_string(model_dim) + ", " +
                                std::to_string(head_dim) + ")");
  }
  if (!std::isfinite(weight_scale) || !(weight_scale > 0.0)) {
    throw std::invalid_argument("random_attention_layers: weight_scale must be finite and > 0");
  }
  Rng rng(seed);
  const double sd = weight_scale / std::sqrt(static_cast<double>(model_dim));
  auto draw = [&](Eigen::Index r, Eigen::Index c) {
    RowMatrix<double> W(r, c);
    for (Eigen::Index i = 0; i < r; ++i)
      for (Eigen::Index j = 0; j < c; ++j) W(i, j) = rng.normal(0.0, sd);
    return W;
  };
  std::vector<AttentionLayerWeights> out;
  out.reserve(static_cast<std::size_t>(layers));
  for (Eigen::Index l = 0; l < layers; ++l) {
    AttentionLayerWeights w;
    w.query = draw(model_dim, head_dim);
    w.key = draw(model_dim, head_dim);
    w.value = draw(model_dim, model_dim);
    out.push_back(std::move(w));
  }
  return out;
}

RowMatrix<double> rank_collapse_residual_matrix(const RowMatrix<double>& X) {
  require_finite_nonempty(X, "rank_collapse_residual");
  const Eigen::RowVectorXd mean = X.colwise().mean();
  return X.rowwise() - mean;
}

double rank_collapse_residual(const RowMatrix<double>& X) {
  return rank_collapse_residual_matrix(X).norm();
}

double composite_l1_inf_norm(const RowMatrix<double>& R) {
  require_finite_nonempty(R, "composite_l1_inf_norm");
  const double one = R.cwiseAbs().colwise().sum().maxCoeff();
  const double inf = R.cwiseAbs().rowwise().sum().maxCoeff();
  return std::sqrt(one * inf);
}

RowMatrix<double> pure_attention_layer(const RowMatrix<double>& X,
                                       const AttentionLayerWeights& w) {
  require_finite_nonempty(X, "pure_attention_layer");
  const Eigen::Index d = X.cols();
  if (w.query.rows() != d || w.key.rows() != d || w.query.cols() != w.key.cols() ||
      w.query.cols() < 1 || w.value.rows() != d || w.value.cols() != d) {
    throw std::invalid_argument("pure_attention_layer: X is " + shape(X) + ", W_Q " +
                                shape(w.query) + ", W_K " + shape(w.key) + ", W_V " +
                                shape(w.value) + "; need W_Q, W_K d×d_qk and W_V d×d with d = " +
                                std::to_string(d));
  }
  const RowMatrix<double> Q = X * w.query;
  const RowMatrix<double> K = X * w.key;
  const RowMatrix<double> V = X * w.value;
  return softmax_attention<double>(Q, K, V).output;  // scale 1/√d_qk, T = 1, no mask
}

RankCollapseTrace rank_collapse(const RowMatrix<double>& X0,
                                std::span<const AttentionLayerWeights> layers) {
  require_finite_nonempty(X0, "rank_collapse");
  RankCollapseTrace trace;
  auto record = [&](const RowMatrix<double>& X) {
    const RowMatrix<double> R = rank_collapse_residual_matrix(X);
    const double r = R.norm();
    const double x = X.norm();
    trace.residual.push_back(r);
    trace.relative_residual.push_back(x > 0.0 ? r / x : 0.0);
    trace.residual_l1_inf.push_back(composite_l1_inf_norm(R));
  };
  RowMatrix<double> X = X0;
  record(X);
  for (const AttentionLayerWeights& w : layers) {
    X = pure_attention_layer(X, w);
    record(X);
  }
  return trace;
}

RankCollapseTrace rank_collapse(const RowMatrix<double>& X0, const RankCollapseOptions& options) {
  require_finite_nonempty(X0, "rank_collapse");
  if (options.head_dim < 0) throw std::invalid_argument("rank_collapse: head_dim must be >= 0");
  const Eigen::Index d = X0.cols();
  const auto layers = random_attention_layers(
      options.layers, d, options.head_dim == 0 ? d : options.head_dim, options.weight_scale,
      options.seed);
  return rank_collapse(X0, layers);
}

}  // namespace attncert
