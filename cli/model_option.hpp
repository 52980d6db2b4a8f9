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

/// The directory --model names (models::model_directory_for); errors say "--model".
inline std::filesystem::path resolve_model_option(const std::string& model) {
  try {
    return models::model_directory_for(model);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("--model ") + e.what());
  }
}

}  // namespace attncert::cli
