// config.json → ModelConfig (models/model_config.hpp). Every field the forward pass depends on
// is read and checked here, so the loader and the forward pass can trust the config.
#include "models/model_config.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace attncert::models {
namespace {

using json = nlohmann::json;

class ConfigReader {
 public:
  ConfigReader(const json& j, const std::string& source) : j_(j), source_(source) {}

  [[noreturn]] void fail(std::string_view field, const std::string& what) const {
    throw std::runtime_error(fmt::format("{}: field \"{}\" {}", source_, field, what));
  }

  const json* find(std::string_view field) const {
    const auto it = j_.find(std::string(field));
    return it == j_.end() ? nullptr : &*it;
  }

  std::string text(std::string_view field) const {
    const json* v = find(field);
    if (v == nullptr) fail(field, "is missing");
    if (!v->is_string()) fail(field, "is not a string");
    return v->get<std::string>();
  }

  // A positive integer; `field` missing and `fallback` given → the fallback.
  std::size_t count(std::string_view field, std::optional<std::size_t> fallback = {}) const {
    const json* v = find(field);
    if ((v == nullptr || v->is_null()) && fallback) return *fallback;
    if (v == nullptr) fail(field, "is missing");
    if (!v->is_number_integer() || v->get<std::int64_t>() <= 0) {
      fail(field, fmt::format("is {}, expected a positive integer", v->dump()));
    }
    // A bound far above any real model keeps later size products from overflowing.
    constexpr std::int64_t kMaxCount = std::int64_t{1} << 24;
    if (v->get<std::int64_t>() > kMaxCount) fail(field, fmt::format("is {}, too large", v->dump()));
    return static_cast<std::size_t>(v->get<std::int64_t>());
  }

  double positive_number(std::string_view field, double fallback) const {
    const json* v = find(field);
    if (v == nullptr) return fallback;
    if (!v->is_number() || !std::isfinite(v->get<double>()) || v->get<double>() <= 0) {
      fail(field, fmt::format("is {}, expected a positive number", v->dump()));
    }
    return v->get<double>();
  }

  // A flag the forward pass does not implement must hold its supported value if present.
  template <class T>
  void require(std::string_view field, const T& supported, std::string_view why) const {
    const json* v = find(field);
    if (v == nullptr || v->is_null()) return;
    if (*v != json(supported)) {
      fail(field,
           fmt::format("is {}; only {} is supported ({})", v->dump(), json(supported).dump(), why));
    }
  }

  Activation activation(std::string_view field) const {
    const std::string name = text(field);
    if (name == "gelu") return Activation::gelu_erf;
    if (name == "gelu_new") return Activation::gelu_tanh;
    fail(field, fmt::format("is \"{}\"; supported: gelu, gelu_new", name));
  }

 private:
  const json& j_;
  const std::string& source_;
};

ModelConfig bert_config(const ConfigReader& r) {
  ModelConfig c;
  c.family = ModelFamily::bert;
  c.layers = r.count("num_hidden_layers");
  c.heads = r.count("num_attention_heads");
  c.hidden = r.count("hidden_size");
  c.intermediate = r.count("intermediate_size");
  c.max_positions = r.count("max_position_embeddings");
  c.vocab = r.count("vocab_size");
  c.type_vocab = r.count("type_vocab_size");
  c.layer_norm_eps = r.positive_number("layer_norm_eps", 1e-12);  // BertConfig's default
  c.activation = r.activation("hidden_act");
  r.require("position_embedding_type", std::string("absolute"), "learned absolute positions");
  r.require("is_decoder", false, "bidirectional encoders");
  return c;
}

ModelConfig gpt2_config(const ConfigReader& r) {
  ModelConfig c;
  c.family = ModelFamily::gpt2;
  c.layers = r.count("n_layer");
  c.heads = r.count("n_head");
  c.hidden = r.count("n_embd");
  c.intermediate = r.count("n_inner", 4 * c.hidden);  // null in GPT-2's configs: 4·n_embd
  c.max_positions = r.count("n_positions");
  c.vocab = r.count("vocab_size");
  c.layer_norm_eps = r.positive_number("layer_norm_epsilon", 1e-5);  // GPT2Config's default
  c.activation =
      r.find("activation_function") ? r.activation("activation_function") : Activation::gelu_tanh;
  r.require("scale_attn_weights", true, "logits scaled by 1/sqrt(d_head)");
  r.require("scale_attn_by_inverse_layer_idx", false, "no per-layer logit scaling");
  r.require("add_cross_attention", false, "decoder-only models");
  return c;
}

}  // namespace

std::string_view family_name(ModelFamily family) {
  return family == ModelFamily::bert ? "bert" : "gpt2";
}

ModelConfig parse_model_config(std::string_view json_text, const std::string& source) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::parse_error& e) {
    throw std::runtime_error(fmt::format("{}: not valid JSON (byte {})", source, e.byte));
  }
  if (!j.is_object()) throw std::runtime_error(fmt::format("{}: not a JSON object", source));
  const ConfigReader r(j, source);
  const std::string type = r.text("model_type");
  ModelConfig c;
  if (type == "bert") {
    c = bert_config(r);
  } else if (type == "gpt2") {
    c = gpt2_config(r);
  } else {
    r.fail("model_type", fmt::format("is \"{}\"; supported architectures: bert, gpt2", type));
  }
  if (c.hidden % c.heads != 0) {
    r.fail(c.family == ModelFamily::bert ? "num_attention_heads" : "n_head",
           fmt::format("is {}, which does not divide the width {}", c.heads, c.hidden));
  }
  return c;
}

ModelConfig read_model_config(const std::filesystem::path& config_json) {
  std::error_code ec;
  if (std::filesystem::is_directory(config_json, ec)) {
    throw std::runtime_error(
        fmt::format("{}: is a directory, expected the model's config.json", config_json.string()));
  }
  // A config.json is a few kB; a bound keeps a wrong path from being read whole.
  if (const std::uintmax_t size = std::filesystem::file_size(config_json, ec);
      !ec && size > (std::uintmax_t{16} << 20)) {
    throw std::runtime_error(fmt::format("{}: {} bytes, larger than any config.json (limit 16 MiB)",
                                         config_json.string(), size));
  }
  std::ifstream in(config_json, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open ({})", config_json.string(), std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw std::runtime_error(fmt::format("{}: read error", config_json.string()));
  return parse_model_config(text.str(), config_json.string());
}

}  // namespace attncert::models
