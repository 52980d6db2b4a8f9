// --model of `model` and `report`: a Hugging Face model directory, or `minilm` for the
// all-MiniLM-L6-v2 that scripts/get-model caches; and the default text, the GNU GPL v3 that
// Debian ships on every system.
#pragma once

#include <CLI/CLI.hpp>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

#include "models/model_cache.hpp"

namespace attncert::cli {

inline constexpr const char* kDefaultModelText = "/usr/share/common-licenses/GPL-3";

inline CLI::Option* add_model_option(CLI::App* cmd, std::string& model) {
  return cmd
      ->add_option("--model", model,
                   "model directory (config.json, model.safetensors, tokenizer.json), or 'minilm' for "
                   "the all-MiniLM-L6-v2 scripts/get-model caches")
      ->capture_default_str();
}

/// The directory --model names; `minilm` not yet fetched is a one-line error saying how.
inline std::filesystem::path resolve_model_option(const std::string& model) {
  if (model != "minilm") return model;
  const std::filesystem::path dir = models::cached_model_directory("all-minilm-l6-v2");
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    throw std::invalid_argument("--model minilm: " + dir.string() +
                                " does not exist; run scripts/get-model (scripts/test does) or pass a model directory");
  return dir;
}

}  // namespace attncert::cli
