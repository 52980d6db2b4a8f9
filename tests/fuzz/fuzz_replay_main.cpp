// Replay driver for compilers without libFuzzer: runs LLVMFuzzerTestOneInput on every file of
// the corpus directories given, then on --random N seeded inputs (token soup from the target's
// alphabet — the expression language's, or with ATTNCERT_FUZZ_SAFETENSORS a safetensors
// header's JSON — and byte-level mutations of corpus files). The seed is printed; pass
// --seed S to reproduce a run. Exit 0 unless the target aborts.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

void run(const std::string& input) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
}

#ifdef ATTNCERT_FUZZ_SAFETENSORS
// safetensors_fuzz reads "HEADER JSON \0 DATA" too, so JSON fragments of a header make inputs.
constexpr const char* kTarget = "safetensors_fuzz_replay";
constexpr std::string_view kTokens[] = {
    "{", "}", "[", "]", ",", ":", "\"", "{\"t\":", "\"dtype\":", "\"shape\":",
    "\"data_offsets\":", "\"__metadata__\":", "\"F64\"", "\"F32\"", "\"F16\"", "\"BF16\"",
    "\"I64\"", "\"BOOL\"", "\"U8\"", "\"F8_E4M3\"", "0", "1", "2", "4", "8", "-1", "1.5",
    "1e3", "268435456", "4294967296", "18446744073709551615", "99999999999999999999", "[0,4]",
    "[2]", "[]", "\"\\u0000\"", "\"a\"", "\"\xce\xbb\"", "\xff", " ", "\n",
    std::string_view("\0", 1), std::string_view("\0\0\0\0", 4), "\x80\x3f",
    std::string_view("\x7c\x00", 2), "\x01\x7e", "\xff\xff\xff\xff",
};
#else
constexpr const char* kTarget = "expression_fuzz_replay";
constexpr std::string_view kTokens[] = {
    "alpha_max", "jacobian_norm", "Delta", "L", "T", "N", "d", "pi", "e", "logits", "q",
    "unknown", "exp", "log", "sqrt", "abs", "min", "max", "sin", "(", ")", ",", "+", "-", "*",
    "/", "^", "<=", "<", ">=", ">", "=", "==", "~", "[", "]", "in", "log", "normal", "uniform",
    "rademacher", "sphere", "0", "1", "2", "0.5", ".5", "1e-3", "1e", "1.2.3", "1e308",
    "1e400", "64", "-3", " ", "\t", "\n", "\xe2\x89\xa4", "\xff", "#", "@",
    "0.1", "0.3",  // not doubles: range bounds round inward and must round-trip
};
#endif

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t seed = std::random_device{}();
  long random_inputs = 0;
  std::vector<std::string> corpus;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--seed" && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--random" && i + 1 < argc) {
      random_inputs = std::strtol(argv[++i], nullptr, 10);
    } else {
      std::vector<std::filesystem::path> files;
      for (const auto& entry : std::filesystem::directory_iterator(arg)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());  // a reproducible order
      for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        corpus.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      }
    }
  }
  std::printf("%s: %zu corpus inputs, %ld random inputs, seed %llu "
              "(reproduce with --seed %llu)\n",
              kTarget, corpus.size(), random_inputs, static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  for (const auto& input : corpus) run(input);

  // std::mt19937_64 is fully specified by the standard; only its raw output is used, so the
  // inputs are the same on every platform for a given seed.
  std::mt19937_64 rng(seed);
  const auto below = [&](std::uint64_t n) { return n == 0 ? 0 : rng() % n; };
  for (long k = 0; k < random_inputs; ++k) {
    std::string input;
    if (k % 2 == 0 || corpus.empty()) {
      const auto tokens = 1 + below(24);
      for (std::uint64_t t = 0; t < tokens; ++t) {
        input += kTokens[below(std::size(kTokens))];
        if (below(3) == 0) input += ' ';
      }
    } else {
      input = corpus[below(corpus.size())];
      const auto edits = 1 + below(4);
      for (std::uint64_t m = 0; m < edits; ++m) {
        const auto pos = below(input.size() + 1);
        switch (below(3)) {
          case 0: input.insert(pos, 1, static_cast<char>(below(256))); break;
          case 1: if (pos < input.size()) input.erase(pos, 1 + below(3)); break;
          default: input.insert(pos, kTokens[below(std::size(kTokens))]); break;
        }
      }
    }
    run(input);
  }
  std::printf("%s: all inputs passed\n", kTarget);
  return 0;
}
