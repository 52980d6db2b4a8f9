// The forward pass of a loaded transformer in double, from token ids, recording what the
// engine needs from each attention head: Q, K, V after the projection (per head, L × d_head),
// the scaled logits q·k/√d_head and the attention matrix (L × L), plus the hidden states.
//
// Masked entries (GPT-2's future keys) have logit −inf and attention weight exactly 0, the
// convention of numerics/softmax.hpp. Products run through numerics/blas.hpp, one thread per
// call (callers parallelise over texts or windows).
//
// Memory: every head's attention at 512 tokens is 512·512·8 B = 2 MiB, so all 72 of MiniLM
// take 151 MB with the logits as much again; TraceSelection keeps only the heads (and the
// parts) a caller asks for. Heads not kept are computed and dropped.
//
// Bad input (one line, std::invalid_argument): no tokens; more tokens than the model's
// positions (the caller splits a long text into windows); a token id outside the vocabulary;
// a selected (layer, head) the model does not have.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "models/transformer_model.hpp"

namespace attncert::models {

struct LayerHead {
  std::size_t layer = 0;
  std::size_t head = 0;
  auto operator<=>(const LayerHead&) const = default;
};

/// Which heads to record, and which of their matrices.
struct TraceSelection {
  std::optional<std::vector<LayerHead>> heads;  // nullopt: every head of every layer
  bool projections = true;                      // Q, K, V
  bool logits = true;
  bool attention = true;

  bool wants(LayerHead lh) const;
  static TraceSelection all_heads() { return {}; }
  static TraceSelection no_heads() { return {std::vector<LayerHead>{}, false, false, false}; }
};

struct HeadTrace {
  LayerHead where;
  Matrix query, key, value;  // L × d_head each (empty unless TraceSelection::projections)
  Matrix logits;             // L × L, q_i·k_j/√d_head; −inf where masked
  Matrix attention;          // L × L, rows sum to 1; 0 where masked
};

struct ModelTrace {
  std::vector<std::int64_t> token_ids;
  // hidden_states[0]: the embeddings (after BERT's embedding LayerNorm); hidden_states[l + 1]:
  // the output of layer l. Each L × hidden.
  std::vector<Matrix> hidden_states;
  // The model's output: GPT-2's ln_f of the last hidden state (what transformers reports as the
  // last hidden state); BERT's last hidden state itself.
  Matrix final_hidden;
  std::vector<HeadTrace> heads;  // the selected heads, ordered by (layer, head)

  /// The recorded head, or nullptr when it was not selected.
  const HeadTrace* find(LayerHead lh) const;
};

ModelTrace run_forward(const TransformerModel& model, std::span<const std::int64_t> token_ids,
                       const TraceSelection& selection = TraceSelection::all_heads());

}  // namespace attncert::models
