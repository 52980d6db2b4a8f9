// A pretrained transformer's architecture, read from its Hugging Face config.json.
//
// Two families are supported:
//  - "bert" (encoders such as all-MiniLM-L6-v2): bidirectional attention, post-LayerNorm,
//    absolute learned positions, token type 0; hidden_act "gelu" (exact erf) or "gelu_new".
//  - "gpt2" (decoders): causal attention, pre-LayerNorm with a final ln_f, learned positions,
//    Conv1D weights stored [in, out]; activation_function "gelu_new" (tanh) or "gelu".
// Anything else — another model_type, relative positions, GPT-2's layer-index scaling or
// unscaled attention, a missing or non-integer field — is refused with one line naming the
// file and the field: a forward pass of a different architecture would be silently wrong.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace attncert::models {

enum class ModelFamily { bert, gpt2 };

/// The MLP's nonlinearity: GELU with the exact erf, or the tanh approximation ("gelu_new").
enum class Activation { gelu_erf, gelu_tanh };

struct ModelConfig {
  ModelFamily family = ModelFamily::bert;
  std::size_t layers = 0;
  std::size_t heads = 0;          // per layer
  std::size_t hidden = 0;         // model width; head_dim() = hidden / heads
  std::size_t intermediate = 0;   // MLP width
  std::size_t max_positions = 0;  // rows of the position embedding: the longest input
  std::size_t vocab = 0;
  std::size_t type_vocab = 0;  // BERT's token-type rows (token type 0 is used); 0 for GPT-2
  double layer_norm_eps = 0;
  Activation activation = Activation::gelu_erf;

  std::size_t head_dim() const noexcept { return hidden / heads; }
  bool causal() const noexcept { return family == ModelFamily::gpt2; }
};

/// "bert" or "gpt2" (config.json's model_type).
std::string_view family_name(ModelFamily family);

/// Parses config.json's text; `source` names it in errors. Throws std::runtime_error, one line.
ModelConfig parse_model_config(std::string_view json_text, const std::string& source);

/// Reads and parses a config.json file.
ModelConfig read_model_config(const std::filesystem::path& config_json);

}  // namespace attncert::models
