// Where scripts/get-model keeps pretrained models and tokenizers: $ATTNCERT_MODEL_CACHE, else
// ~/.cache/attncert/models. The one place C++ code reads that location (the script is the other).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace attncert::models {

/// The cache's subdirectory `name` ("all-minilm-l6-v2", "gpt2-tokenizer"); it may not exist.
/// Without ATTNCERT_MODEL_CACHE and HOME, a path that does not exist (callers report "missing").
inline std::filesystem::path cached_model_directory(const std::string& name) {
  if (const char* cache = std::getenv("ATTNCERT_MODEL_CACHE"); cache != nullptr && *cache != '\0')
    return std::filesystem::path(cache) / name;
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home != nullptr ? home : "/nonexistent") / ".cache/attncert/models" /
         name;
}

/// The directory a model name means: `minilm` is the all-MiniLM-L6-v2 of scripts/get-model
/// (std::invalid_argument, one line saying how to fetch it, when it is not there or there is no
/// cache to look in); any other name is a model directory, returned as given.
inline std::filesystem::path model_directory_for(const std::string& name) {
  if (name != "minilm") return name;
  const char* cache = std::getenv("ATTNCERT_MODEL_CACHE");
  const char* home = std::getenv("HOME");
  if ((cache == nullptr || *cache == '\0') && (home == nullptr || *home == '\0'))
    throw std::invalid_argument(
        "minilm: neither ATTNCERT_MODEL_CACHE nor HOME is set, so there is no model cache to look in; "
        "name a model directory");
  const std::filesystem::path dir = cached_model_directory("all-minilm-l6-v2");
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    throw std::invalid_argument("minilm: " + dir.string() +
                                " does not exist; run scripts/get-model (scripts/test does) or name a model directory");
  return dir;
}

}  // namespace attncert::models
