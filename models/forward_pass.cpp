// The forward pass (models/forward_pass.hpp): transformers' BertModel and GPT2Model in eval
// mode (no dropout), operation for operation, in double.
#include "models/forward_pass.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>

#include "numerics/blas.hpp"
#include "numerics/bounded_exp.hpp"

namespace attncert::models {
namespace {

using Index = Eigen::Index;

// x·W + b for every row of x.
Matrix linear(const Matrix& x, const LinearWeights& w) {
  Matrix y = w.bias.replicate(x.rows(), 1);
  blas::gemm(1.0, x, w.weight, 1.0, y);
  return y;
}

// LayerNorm over each row: (x − mean)/sqrt(var + eps)·gain + bias, var the biased variance
// (torch.nn.LayerNorm's definition).
Matrix layer_norm(const Matrix& x, const LayerNormWeights& w, double eps) {
  Matrix y(x.rows(), x.cols());
  for (Index i = 0; i < x.rows(); ++i) {
    const double mean = x.row(i).mean();
    const RowVector centred = x.row(i).array() - mean;
    const double var = centred.squaredNorm() / static_cast<double>(x.cols());
    y.row(i) = (centred / std::sqrt(var + eps)).cwiseProduct(w.gain) + w.bias;
  }
  return y;
}

void activate(Matrix& x, Activation a) {
  if (a == Activation::gelu_erf) {
    // x/2·(1 + erf(x/√2)): transformers' "gelu" (torch's exact GELU).
    x = x.unaryExpr(
        [](double v) { return 0.5 * v * (1.0 + std::erf(v * std::numbers::sqrt2 / 2)); });
  } else {
    // x/2·(1 + tanh(√(2/π)·(x + 0.044715·x³))): transformers' NewGELUActivation.
    const double c = std::sqrt(2.0 / std::numbers::pi);
    x = x.unaryExpr(
        [c](double v) { return 0.5 * v * (1.0 + std::tanh(c * (v + 0.044715 * v * v * v))); });
  }
}

// Multi-head self-attention of one layer on its (normalised) input x: returns the heads'
// concatenated outputs before the output projection, recording the selected heads.
Matrix attention(const Matrix& x, const TransformerLayer& layer, const ModelConfig& c,
                 std::size_t layer_index, const TraceSelection& selection,
                 std::vector<HeadTrace>& recorded) {
  const Index n = x.rows();
  const auto d = static_cast<Index>(c.head_dim());
  const Matrix q = linear(x, layer.query);
  const Matrix k = linear(x, layer.key);
  const Matrix v = linear(x, layer.value);
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  constexpr double kMasked = -std::numeric_limits<double>::infinity();
  Matrix context(n, x.cols());
  // A recorded head's logits and weights are computed in matrices of their own and moved into
  // the trace; the others reuse one scratch pair.
  Matrix scratch_logits(n, n), scratch_weights(n, n);
  for (std::size_t h = 0; h < c.heads; ++h) {
    const Index col = static_cast<Index>(h) * d;
    const auto qh = q.middleCols(col, d);
    const auto kh = k.middleCols(col, d);
    const auto vh = v.middleCols(col, d);
    const LayerHead where{layer_index, h};
    const bool keep = selection.wants(where);
    HeadTrace t{where, {}, {}, {}, {}, {}};
    Matrix& logits = keep && selection.logits ? (t.logits.resize(n, n), t.logits) : scratch_logits;
    Matrix& weights =
        keep && selection.attention ? (t.attention.resize(n, n), t.attention) : scratch_weights;
    blas::gemm(scale, qh, kh.transpose(), 0.0, logits);
    for (Index i = 0; i < n; ++i) {
      // softmax over the visible keys, shifted by their largest logit (torch's order: exp, sum,
      // divide); bounded_exp is the double attention path's exp (numerics/bounded_exp.hpp).
      const Index visible = c.causal() ? i + 1 : n;
      logits.row(i).tail(n - visible).setConstant(kMasked);
      const double largest = logits.row(i).head(visible).maxCoeff();
      bounded_exp(&logits(i, 0), largest, &weights(i, 0), static_cast<std::size_t>(visible));
      weights.row(i).head(visible) /= weights.row(i).head(visible).sum();
      weights.row(i).tail(n - visible).setZero();
    }
    blas::gemm(1.0, weights, vh, 0.0, context.middleCols(col, d));
    if (!keep) continue;
    if (selection.projections) {
      t.query = qh;
      t.key = kh;
      t.value = vh;
    }
    recorded.push_back(std::move(t));
  }
  return context;
}

void check_tokens(const TransformerModel& model, std::span<const std::int64_t> ids) {
  const ModelConfig& c = model.config;
  if (ids.empty()) throw std::invalid_argument("no tokens: the forward pass needs at least one");
  if (ids.size() > c.max_positions) {
    throw std::invalid_argument(fmt::format(
        "{} tokens exceed the model's {} positions ({}): split the text into windows of at most "
        "{} tokens",
        ids.size(), c.max_positions, (model.directory / "config.json").string(), c.max_positions));
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || static_cast<std::size_t>(ids[i]) >= c.vocab) {
      throw std::invalid_argument(fmt::format(
          "token id {} at position {} is outside the vocabulary (size {})", ids[i], i, c.vocab));
    }
  }
}

// A head asked for that the model does not have would silently never be recorded.
void check_selection(const ModelConfig& c, const TraceSelection& selection) {
  if (!selection.heads) return;
  for (const LayerHead& lh : *selection.heads) {
    if (lh.layer >= c.layers || lh.head >= c.heads) {
      throw std::invalid_argument(fmt::format(
          "layer {} head {} asked for, but the model has {} layers x {} heads (counted from 0)",
          lh.layer, lh.head, c.layers, c.heads));
    }
  }
}

}  // namespace

bool TraceSelection::wants(LayerHead lh) const {
  if (!projections && !logits && !attention) return false;
  return !heads || std::find(heads->begin(), heads->end(), lh) != heads->end();
}

const HeadTrace* ModelTrace::find(LayerHead lh) const {
  const auto it =
      std::find_if(heads.begin(), heads.end(), [lh](const HeadTrace& t) { return t.where == lh; });
  return it == heads.end() ? nullptr : &*it;
}

ModelTrace run_forward(const TransformerModel& model, std::span<const std::int64_t> token_ids,
                       const TraceSelection& selection) {
  check_tokens(model, token_ids);
  check_selection(model.config, selection);
  const ModelConfig& c = model.config;
  const bool bert = c.family == ModelFamily::bert;
  const auto n = static_cast<Index>(token_ids.size());
  ModelTrace trace;
  trace.token_ids.assign(token_ids.begin(), token_ids.end());

  Matrix x(n, static_cast<Index>(c.hidden));
  for (Index i = 0; i < n; ++i) {
    x.row(i) =
        model.token_embeddings.row(static_cast<Index>(token_ids[static_cast<std::size_t>(i)])) +
        model.position_embeddings.row(i);
    if (bert) x.row(i) += model.token_type_embedding;
  }
  if (bert) x = layer_norm(x, model.embedding_norm, c.layer_norm_eps);
  trace.hidden_states.push_back(x);

  for (std::size_t l = 0; l < c.layers; ++l) {
    const TransformerLayer& layer = model.layers[l];
    if (bert) {  // post-LN: x ← LN(x + Attn(x)); x ← LN(x + MLP(x))
      const Matrix attended =
          linear(attention(x, layer, c, l, selection, trace.heads), layer.attention_output);
      x = layer_norm(x + attended, layer.attention_norm, c.layer_norm_eps);
      Matrix hidden = linear(x, layer.mlp_in);
      activate(hidden, c.activation);
      x = layer_norm(x + linear(hidden, layer.mlp_out), layer.mlp_norm, c.layer_norm_eps);
    } else {  // pre-LN: x ← x + Attn(LN₁(x)); x ← x + MLP(LN₂(x))
      const Matrix normed = layer_norm(x, layer.attention_norm, c.layer_norm_eps);
      x += linear(attention(normed, layer, c, l, selection, trace.heads), layer.attention_output);
      Matrix hidden = linear(layer_norm(x, layer.mlp_norm, c.layer_norm_eps), layer.mlp_in);
      activate(hidden, c.activation);
      x += linear(hidden, layer.mlp_out);
    }
    trace.hidden_states.push_back(x);
  }
  trace.final_hidden = bert ? x : layer_norm(x, model.final_norm, c.layer_norm_eps);
  return trace;
}

}  // namespace attncert::models
