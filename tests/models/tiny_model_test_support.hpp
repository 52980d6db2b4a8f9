// A tiny random model of tests/models/fixtures (config.json + model.safetensors) copied into a
// scratch directory with a tokenizer.json written by the test, and a seeded text of pseudo-words
// it can read: what the model study and the model-rows tests run on.
#pragma once

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "numerics/rng.hpp"
#include "tests/reports/scratch_directory_test_support.hpp"

namespace attncert::test {

struct TinyModel {
  ScratchDirectory scratch;
  std::filesystem::path dir, text;
  /// `fixture`: "tiny_bert" or "tiny_gpt2"; `words`: length of the text.
  TinyModel(const std::filesystem::path& fixtures, const std::string& fixture, const nlohmann::json& tokenizer,
            std::size_t words = 1500) {
    dir = scratch.path() / fixture;
    std::filesystem::create_directories(dir);
    for (const char* f : {"config.json", "model.safetensors"})
      std::filesystem::copy_file(fixtures / fixture / f, dir / f);
    std::ofstream(dir / "tokenizer.json") << tokenizer.dump();
    text = scratch.path() / "text.txt";
    std::ofstream(text) << pseudo_text(words);
  }

  /// Lower-case pseudo-words from a fixed seed: prose enough for byte-level and letter tokenizers.
  static std::string pseudo_text(std::size_t words) {
    static const char* syllables[] = {"ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "da", "ve", "qu", "bo"};
    Rng rng(2026);
    std::string out;
    for (std::size_t w = 0; w < words; ++w) {
      const int n = 1 + static_cast<int>(rng.uniform_int(0, 3));
      for (int k = 0; k < n; ++k) out += syllables[rng.uniform_int(0, 11)];
      out += (w % 11 == 10) ? ". " : " ";
    }
    return out;
  }
};

}  // namespace attncert::test
