// Where scripts/get-model keeps pretrained models and tokenizers: $ATTNCERT_MODEL_CACHE, else
// ~/.cache/attncert/models. The one place C++ code reads that location (the script is the other).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

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

}  // namespace attncert::models
