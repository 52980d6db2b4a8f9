// A pretrained transformer's weights, loaded from a Hugging Face model directory
// (config.json + model.safetensors) and checked against the config before any use.
//
// Weight names are those of transformers' BertModel / GPT2Model, with or without the prefix a
// task model adds ("bert.", "transformer."). Every weight the forward pass uses must be present
// with the shape the config implies and a floating dtype (F32, F16, BF16, F64; widened exactly
// to double) and finite values; other tensors (pooler, position_ids, GPT-2's attn.bias mask
// buffers, heads) are ignored. GPT-2's lm_head is tied to wte and not loaded. Each violation:
// std::runtime_error with one line naming the file and the tensor. Sharded checkpoints
// (model-0000x-of-0000y.safetensors) and pytorch_model.bin are not read.
//
// Linear maps are stored uniformly as y = x·W + b with W of shape [in, out] (GPT-2's Conv1D
// layout; BERT's nn.Linear [out, in] is transposed once at load), so the forward pass has one
// product form.
#pragma once

#include <Eigen/Core>
#include <filesystem>
#include <string>
#include <vector>

#include "models/model_config.hpp"

namespace attncert::models {

/// Row-major, like the tensors in the file and the token-by-feature activations.
using Matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowVector = Eigen::Matrix<double, 1, Eigen::Dynamic>;

struct LinearWeights {
  Matrix weight;   // [in, out]
  RowVector bias;  // [out]
};

struct LayerNormWeights {
  RowVector gain;
  RowVector bias;
};

struct TransformerLayer {
  LinearWeights query, key, value;  // [hidden, hidden] each; head h is columns h·d … (h+1)·d−1
  LinearWeights attention_output;   // [hidden, hidden]
  LinearWeights mlp_in;             // [hidden, intermediate]
  LinearWeights mlp_out;            // [intermediate, hidden]
  // BERT (post-LN): applied after each residual sum. GPT-2 (pre-LN): ln_1 and ln_2, applied to
  // the input of each sublayer.
  LayerNormWeights attention_norm, mlp_norm;
};

struct TransformerModel {
  ModelConfig config;
  std::filesystem::path directory;
  Matrix token_embeddings;          // [vocab, hidden]
  Matrix position_embeddings;       // [max_positions, hidden]
  RowVector token_type_embedding;   // BERT: row 0 of token_type_embeddings; empty for GPT-2
  LayerNormWeights embedding_norm;  // BERT's embeddings.LayerNorm; empty for GPT-2
  LayerNormWeights final_norm;      // GPT-2's ln_f; empty for BERT
  std::vector<TransformerLayer> layers;
};

/// Loads DIR/config.json and DIR/model.safetensors.
TransformerModel load_model(const std::filesystem::path& directory);

}  // namespace attncert::models
