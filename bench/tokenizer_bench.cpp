// Tokenizer throughput (models/tokenizer.hpp): tokens/s encoding the GNU GPL v3 text Debian ships
// (/usr/share/common-licenses/GPL-3, 35,149 bytes), single-threaded, for each tokenizer present:
//   minilm     all-MiniLM-L6-v2's WordPiece (scripts/get-model; models/model_cache.hpp)
//   gpt2       GPT-2's byte-level BPE (scripts/get-model gpt2-tokenizer)
//   bpe_small  the committed 2,000-token byte-level BPE fixture
// The reference is the Rust `tokenizers` (PyPI) on the same text and files, one thread, best of
// 20 — printed by
//     python tests/models/fixtures/make_tokenizer_fixtures.py --time
// (a venv with tokenizers==0.15.2). Both in wall-clock time. Ratio = this program's tokens/s ÷ the
// reference's.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "models/model_cache.hpp"
#include "models/tokenizer.hpp"

namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

fs::path home_cache(const char* name) { return attncert::models::cached_model_directory(name); }

void encode_text(benchmark::State& state, const fs::path& tokenizer_path) {
  const std::string text = read_file("/usr/share/common-licenses/GPL-3");
  if (text.empty() || !fs::exists(tokenizer_path)) {
    state.SkipWithError(("missing " + tokenizer_path.string() + " or the GPL-3 text").c_str());
    return;
  }
  const auto tokenizer = attncert::models::load_tokenizer(tokenizer_path);
  std::size_t tokens = 0;
  for (auto _ : state) {
    const auto ids = tokenizer->encode(text);
    tokens += ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.counters["tokens/s"] =
      benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
  state.counters["tokens"] = static_cast<double>(tokens) / static_cast<double>(state.iterations());
}

fs::path minilm_path() { return home_cache("all-minilm-l6-v2") / "tokenizer.json"; }

void BM_MiniLm(benchmark::State& state) { encode_text(state, minilm_path()); }
void BM_Gpt2(benchmark::State& state) {
  encode_text(state, home_cache("gpt2-tokenizer") / "tokenizer.json");
}
void BM_SmallBpe(benchmark::State& state) {
  encode_text(state, fs::path(ATTNCERT_TOKENIZER_FIXTURES) / "tokenizer_bpe_small.json");
}

BENCHMARK(BM_MiniLm)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Gpt2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SmallBpe)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
