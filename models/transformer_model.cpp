// Loading a model directory into TransformerModel (models/transformer_model.hpp). The
// safetensors reader (numerics/tensor_file.hpp) already checks the file's structure; here each
// tensor is checked against what the config says it must be.
#include "models/transformer_model.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <map>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "numerics/tensor_file.hpp"

namespace attncert::models {
namespace {

namespace fs = std::filesystem;

class WeightFile {
 public:
  WeightFile(std::vector<Tensor> tensors, std::string source, std::string_view prefix)
      : source_(std::move(source)) {
    for (Tensor& t : tensors) {
      std::string name = t.name;
      if (!prefix.empty() && name.starts_with(prefix)) name.erase(0, prefix.size());
      std::string file_name = t.name;
      if (!by_name_.emplace(name, Entry{std::move(t), file_name}).second) {
        throw std::runtime_error(fmt::format(
            "{}: tensor \"{}\" appears both with and without the \"{}\" prefix", source_,
            file_name, prefix));
      }
    }
  }

  // Errors name a tensor as the file spells it ("bert.encoder.layer.0…"), not as looked up.
  [[noreturn]] void fail(const std::string& file_name, const std::string& what) const {
    throw std::runtime_error(fmt::format("{}: tensor \"{}\" {}", source_, file_name, what));
  }

  // The tensor `name`, checked: present, floating, of `shape`, finite. Its data is moved out.
  std::vector<double> take(const std::string& name, const std::vector<std::size_t>& shape) {
    const auto it = by_name_.find(name);
    if (it == by_name_.end()) fail(name, "is missing (with or without the model's prefix)");
    Tensor& t = it->second.tensor;
    const std::string& file_name = it->second.file_name;
    if (!is_floating(t.type)) {
      fail(file_name,
           fmt::format("has dtype {}, expected a floating type (F32, F16, BF16 or F64)",
                       safetensors_dtype_name(t.type)));
    }
    if (t.shape != shape) {
      fail(file_name, fmt::format("has shape [{}], expected [{}] from config.json",
                                  fmt::join(t.shape, ", "), fmt::join(shape, ", ")));
    }
    for (std::size_t i = 0; i < t.data.size(); ++i) {
      if (!std::isfinite(t.data[i]))
        fail(file_name, fmt::format("has a non-finite value at index {}", i));
    }
    return std::move(t.data);
  }

  // A tensor of a layer the config does not have ("encoder.layer.7." with 6 layers) means the
  // config and the weights disagree: running the first `layers` would be a different model.
  void refuse_layers_beyond(std::string_view layer_prefix, std::size_t layers,
                            std::string_view config_field) const {
    for (const auto& [name, entry] : by_name_) {
      if (!name.starts_with(layer_prefix)) continue;
      const std::string_view rest = std::string_view(name).substr(layer_prefix.size());
      std::size_t index = 0, digits = 0;
      while (digits < rest.size() && digits < 9 && rest[digits] >= '0' && rest[digits] <= '9')
        index = index * 10 + static_cast<std::size_t>(rest[digits++] - '0');
      if (digits == 0 || digits >= rest.size() || rest[digits] != '.') continue;
      if (index >= layers) {
        fail(entry.file_name,
             fmt::format("belongs to layer {}, but config.json's \"{}\" is {}: the weights "
                         "and the config are of different models",
                         index, config_field, layers));
      }
    }
  }

  Matrix matrix(const std::string& name, std::size_t rows, std::size_t cols) {
    const std::vector<double> data = take(name, {rows, cols});
    return Eigen::Map<const Matrix>(data.data(), static_cast<Eigen::Index>(rows),
                                    static_cast<Eigen::Index>(cols));
  }

  RowVector vector(const std::string& name, std::size_t n) {
    const std::vector<double> data = take(name, {n});
    return Eigen::Map<const RowVector>(data.data(), static_cast<Eigen::Index>(n));
  }

  LayerNormWeights layer_norm(const std::string& gain, const std::string& bias, std::size_t n) {
    return {vector(gain, n), vector(bias, n)};
  }

  // nn.Linear: weight [out, in], transposed into the [in, out] form.
  LinearWeights linear(const std::string& prefix, std::size_t in, std::size_t out) {
    Matrix w = matrix(prefix + ".weight", out, in).transpose();
    return {std::move(w), vector(prefix + ".bias", out)};
  }

  // GPT-2's Conv1D: weight already [in, out].
  LinearWeights conv1d(const std::string& prefix, std::size_t in, std::size_t out) {
    return {matrix(prefix + ".weight", in, out), vector(prefix + ".bias", out)};
  }

 private:
  struct Entry {
    Tensor tensor;
    std::string file_name;
  };
  std::string source_;
  std::map<std::string, Entry, std::less<>> by_name_;
};

void load_bert(TransformerModel& m, WeightFile& w) {
  const ModelConfig& c = m.config;
  m.token_embeddings = w.matrix("embeddings.word_embeddings.weight", c.vocab, c.hidden);
  m.position_embeddings =
      w.matrix("embeddings.position_embeddings.weight", c.max_positions, c.hidden);
  m.token_type_embedding =
      w.matrix("embeddings.token_type_embeddings.weight", c.type_vocab, c.hidden).row(0);
  m.embedding_norm =
      w.layer_norm("embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias", c.hidden);
  for (std::size_t l = 0; l < c.layers; ++l) {
    const std::string p = fmt::format("encoder.layer.{}.", l);
    TransformerLayer layer;
    layer.query = w.linear(p + "attention.self.query", c.hidden, c.hidden);
    layer.key = w.linear(p + "attention.self.key", c.hidden, c.hidden);
    layer.value = w.linear(p + "attention.self.value", c.hidden, c.hidden);
    layer.attention_output = w.linear(p + "attention.output.dense", c.hidden, c.hidden);
    layer.attention_norm = w.layer_norm(p + "attention.output.LayerNorm.weight",
                                        p + "attention.output.LayerNorm.bias", c.hidden);
    layer.mlp_in = w.linear(p + "intermediate.dense", c.hidden, c.intermediate);
    layer.mlp_out = w.linear(p + "output.dense", c.intermediate, c.hidden);
    layer.mlp_norm =
        w.layer_norm(p + "output.LayerNorm.weight", p + "output.LayerNorm.bias", c.hidden);
    m.layers.push_back(std::move(layer));
  }
  w.refuse_layers_beyond("encoder.layer.", c.layers, "num_hidden_layers");
}

void load_gpt2(TransformerModel& m, WeightFile& w) {
  const ModelConfig& c = m.config;
  m.token_embeddings = w.matrix("wte.weight", c.vocab, c.hidden);
  m.position_embeddings = w.matrix("wpe.weight", c.max_positions, c.hidden);
  m.final_norm = w.layer_norm("ln_f.weight", "ln_f.bias", c.hidden);
  const auto e = static_cast<Eigen::Index>(c.hidden);
  for (std::size_t l = 0; l < c.layers; ++l) {
    const std::string p = fmt::format("h.{}.", l);
    TransformerLayer layer;
    // c_attn maps to [q | k | v] side by side.
    const LinearWeights qkv = w.conv1d(p + "attn.c_attn", c.hidden, 3 * c.hidden);
    layer.query = {qkv.weight.leftCols(e), qkv.bias.head(e)};
    layer.key = {qkv.weight.middleCols(e, e), qkv.bias.segment(e, e)};
    layer.value = {qkv.weight.rightCols(e), qkv.bias.tail(e)};
    layer.attention_output = w.conv1d(p + "attn.c_proj", c.hidden, c.hidden);
    layer.attention_norm = w.layer_norm(p + "ln_1.weight", p + "ln_1.bias", c.hidden);
    layer.mlp_in = w.conv1d(p + "mlp.c_fc", c.hidden, c.intermediate);
    layer.mlp_out = w.conv1d(p + "mlp.c_proj", c.intermediate, c.hidden);
    layer.mlp_norm = w.layer_norm(p + "ln_2.weight", p + "ln_2.bias", c.hidden);
    m.layers.push_back(std::move(layer));
  }
  w.refuse_layers_beyond("h.", c.layers, "n_layer");
}

}  // namespace

TransformerModel load_model(const fs::path& directory) {
  std::error_code ec;
  if (!fs::is_directory(directory, ec)) {
    throw std::runtime_error(
        fmt::format("{}: not a model directory (does not exist or is not a "
                    "directory)",
                    directory.string()));
  }
  TransformerModel m;
  m.directory = directory;
  m.config = read_model_config(directory / "config.json");
  const fs::path weights = directory / "model.safetensors";
  if (!fs::is_regular_file(weights, ec)) {
    throw std::runtime_error(fmt::format(
        "{}: missing (the weights must be one safetensors file; sharded checkpoints and "
        "pytorch_model.bin are not read)",
        weights.string()));
  }
  const bool bert = m.config.family == ModelFamily::bert;
  WeightFile w(read_safetensors(weights.string()), weights.string(),
               bert ? "bert." : "transformer.");
  if (bert) {
    load_bert(m, w);
  } else {
    load_gpt2(m, w);
  }
  return m;
}

}  // namespace attncert::models
