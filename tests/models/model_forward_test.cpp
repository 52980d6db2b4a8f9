// The models layer against the truth: the forward pass agrees with Hugging Face transformers
// (float64) on the committed fixtures (tests/models/fixtures/make_model_fixtures.py) — a small
// random GPT-2 and BERT always, all-MiniLM-L6-v2 when scripts/get-model has fetched it — and with
// values computed by hand on a one-layer model; attention rows are distributions and GPT-2's are
// causal; every kind of bad input is refused with one line naming the file and the tensor or
// field (models/transformer_model.hpp, models/forward_pass.hpp).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/model_cache.hpp"
#include "models/forward_pass.hpp"
#include "models/model_config.hpp"
#include "models/transformer_model.hpp"
#include "numerics/scalar_traits.hpp"
#include "numerics/tensor_file.hpp"

namespace attncert::models {
namespace {

namespace fs = std::filesystem;

const fs::path kFixtures = ATTNCERT_MODELS_FIXTURES_DIR;
constexpr double kUnitRoundoff = std::numeric_limits<double>::epsilon() / 2;

// all-MiniLM-L6-v2 where scripts/get-model puts it.
fs::path minilm_directory() { return attncert::models::cached_model_directory("all-minilm-l6-v2"); }

std::map<std::string, Tensor> read_reference(const fs::path& path) {
  std::map<std::string, Tensor> by_name;
  for (Tensor& t : read_safetensors(path.string())) by_name.emplace(t.name, std::move(t));
  return by_name;
}

Matrix as_matrix(const Tensor& t) {
  EXPECT_EQ(t.rank(), 2u) << t.name;
  return Eigen::Map<const Matrix>(t.data.data(), static_cast<Eigen::Index>(t.shape[0]),
                                  static_cast<Eigen::Index>(t.shape[1]));
}

std::vector<std::int64_t> as_ids(const Tensor& t) {
  return {t.data.begin(), t.data.end()};  // int64 ids, exact in double (< 2^53)
}

// Normwise relative difference: max |ours − reference| / max |reference|. Elementwise relative
// error is meaningless for entries near 0 (hidden states cross 0; masked attention is 0).
double relative_difference(const Matrix& ours, const Matrix& reference) {
  EXPECT_EQ(ours.rows(), reference.rows());
  EXPECT_EQ(ours.cols(), reference.cols());
  if (ours.rows() != reference.rows() || ours.cols() != reference.cols()) return INFINITY;
  return (ours - reference).cwiseAbs().maxCoeff() / reference.cwiseAbs().maxCoeff();
}

// How far two double implementations of the same network may differ. Both round differently
// (product order, BLAS blocking, exp/erf/tanh implementations). A product of inner length n is
// within γ_n·Σ|a_i b_i| of exact (Higham, Thm 3.5), and n ≤ n_max = max(hidden, intermediate,
// tokens). Along the longest dependency chain each layer has 6 products (Q/K/V projection,
// logits, attention·V, output projection, MLP in, MLP out); both sides err, hence
// 2·6·layers·γ_{n_max} relative. Layers can amplify a relative perturbation (LayerNorm divides
// by a row's spread, softmax by the logits' range): a factor 100 allows for that — an
// allowance, not a proof; the measured differences sit four orders below the result. A real
// difference (erf vs tanh GELU, a missing mask, a wrong LayerNorm ε, float32 arithmetic)
// moves results by 1e-7 or more, far above it.
double agreement_tolerance(const ModelConfig& c, std::size_t tokens) {
  const std::size_t n_max = std::max({c.hidden, c.intermediate, tokens});
  constexpr double kConditioningAllowance = 100;
  return 2.0 * 6.0 * static_cast<double>(c.layers) *
         higham_gamma(static_cast<long>(n_max), kUnitRoundoff) * kConditioningAllowance;
}

struct Agreement {
  double hidden = 0;
  double attention = 0;
};

// Runs the model on the reference's input_ids and compares every hidden state and attention
// matrix the reference holds. The reference's last hidden state is the model's output
// (transformers reports GPT-2's after ln_f), compared with ModelTrace::final_hidden.
void compare_with_reference(const TransformerModel& model, const fs::path& reference_path) {
  std::map<std::string, Tensor> ref = read_reference(reference_path);
  const std::vector<std::int64_t> ids = as_ids(ref.at("input_ids"));
  const ModelTrace trace = run_forward(model, ids);
  const double tol = agreement_tolerance(model.config, ids.size());
  Agreement worst;
  int compared = 0;
  for (const auto& [name, tensor] : ref) {
    std::size_t layer = 0, head = 0;
    if (std::sscanf(name.c_str(), "hidden_states.%zu", &layer) == 1) {
      ASSERT_LE(layer, model.config.layers) << name;
      const Matrix& ours =
          layer == model.config.layers ? trace.final_hidden : trace.hidden_states[layer];
      const double e = relative_difference(ours, as_matrix(tensor));
      EXPECT_LE(e, tol) << name;
      worst.hidden = std::max(worst.hidden, e);
      ++compared;
    } else if (std::sscanf(name.c_str(), "attention.%zu.%zu", &layer, &head) == 2) {
      const HeadTrace* h = trace.find({layer, head});
      ASSERT_NE(h, nullptr) << name;
      const double e = relative_difference(h->attention, as_matrix(tensor));
      EXPECT_LE(e, tol) << name;
      worst.attention = std::max(worst.attention, e);
      ++compared;
    }
  }
  EXPECT_GE(compared, 4) << reference_path << " holds too few reference tensors";
  std::cout << fmt::format(
      "{}: {} tokens, max relative difference from transformers (float64): "
      "hidden states {:.2e}, attention {:.2e} (tolerance {:.1e})\n",
      reference_path.filename().string(), ids.size(), worst.hidden, worst.attention, tol);
}

TEST(ModelForward, TinyGpt2AgreesWithTransformers) {
  const TransformerModel model = load_model(kFixtures / "tiny_gpt2");
  EXPECT_EQ(model.config.family, ModelFamily::gpt2);
  EXPECT_EQ(model.config.layers, 2u);
  compare_with_reference(model, kFixtures / "tiny_gpt2_reference.safetensors");
}

// Saved as BertForMaskedLM: "bert." names and a cls.* head the loader ignores.
TEST(ModelForward, TinyBertAgreesWithTransformers) {
  const TransformerModel model = load_model(kFixtures / "tiny_bert");
  EXPECT_EQ(model.config.family, ModelFamily::bert);
  EXPECT_EQ(model.config.heads, 4u);
  compare_with_reference(model, kFixtures / "tiny_bert_reference.safetensors");
}

TEST(ModelForward, MiniLmAgreesWithTransformers) {
  const fs::path dir = minilm_directory();
  if (!fs::is_regular_file(dir / "model.safetensors")) {
    GTEST_SKIP() << dir << " not found: run scripts/get-model (scripts/test does)";
  }
  const TransformerModel model = load_model(dir);
  EXPECT_EQ(model.config.layers, 6u);
  EXPECT_EQ(model.config.heads, 12u);
  EXPECT_EQ(model.config.head_dim(), 32u);
  EXPECT_EQ(model.config.max_positions, 512u);
  compare_with_reference(model, kFixtures / "minilm_reference.safetensors");
}

// Rows sum to 1 (each weight is within a few u relative of exact, so the sum of L of them is
// within (L + 2)·u of 1 — γ_{L+2} allows for the division); GPT-2 attends to no future key.
TEST(ModelForward, AttentionRowsAreDistributionsAndGpt2IsCausal) {
  const TransformerModel model = load_model(kFixtures / "tiny_gpt2");
  const std::vector<std::int64_t> ids = {5, 17, 499, 0, 250, 17, 3, 88, 42, 120};
  const ModelTrace trace = run_forward(model, ids);
  ASSERT_EQ(trace.heads.size(), model.config.layers * model.config.heads);
  // A row's sum in double: each weight is exp (< 1 ulp in glibc) over a sum of n terms
  // (γ_{n−1}) and one division (u), and summing the n weights here adds γ_{n−1}: |Σ − 1| ≤
  // γ_{2n+1}; γ_{2n+2} covers exp's fraction of an ulp.
  const double tol = higham_gamma(2 * static_cast<long>(ids.size()) + 2, kUnitRoundoff);
  for (const HeadTrace& h : trace.heads) {
    const auto n = static_cast<Eigen::Index>(ids.size());
    ASSERT_EQ(h.attention.rows(), n);
    ASSERT_EQ(h.query.cols(), static_cast<Eigen::Index>(model.config.head_dim()));
    for (Eigen::Index i = 0; i < n; ++i) {
      EXPECT_NEAR(h.attention.row(i).sum(), 1.0, tol);
      for (Eigen::Index j = i + 1; j < n; ++j) {
        EXPECT_EQ(h.attention(i, j), 0.0) << "layer " << h.where.layer << " head " << h.where.head;
        EXPECT_EQ(h.logits(i, j), -INFINITY);
      }
      EXPECT_GT(h.attention(i, 0), 0.0);
    }
    // The recorded logits are the recorded projections' scaled products.
    const Matrix expected =
        h.query * h.key.transpose() / std::sqrt(double(model.config.head_dim()));
    EXPECT_NEAR(h.logits(n - 1, 0), expected(n - 1, 0), 1e-12 * (1 + std::abs(expected(n - 1, 0))));
  }
}

// ---- model directories written by the tests -------------------------------------------------

class TempModelDir {
 public:
  explicit TempModelDir(const std::string& name)
      : path_(fs::temp_directory_path() /
              fmt::format("attncert_model_test_{}_{}", name, static_cast<long>(::getpid()))) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempModelDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }
  void write(const std::string& file, const std::string& bytes) const {
    std::ofstream(path_ / file, std::ios::binary) << bytes;
  }

 private:
  fs::path path_;
};

// A one-layer, one-head GPT-2 of width 2 small enough to compute by hand (see the test below).
struct HandModel {
  std::map<std::string, std::vector<double>> values;
  std::map<std::string, std::vector<std::size_t>> shapes;
  void set(const std::string& name, std::vector<std::size_t> shape, std::vector<double> v) {
    shapes[name] = std::move(shape);
    values[name] = std::move(v);
  }
  std::string bytes() const {
    std::vector<TensorToWrite> tensors;
    for (const auto& [name, v] : values)
      tensors.push_back({name, ElementType::f32, shapes.at(name), &v});
    return safetensors_bytes(tensors);
  }
};

constexpr const char* kHandConfig = R"({"model_type": "gpt2", "n_layer": 1, "n_head": 1,
  "n_embd": 2, "n_inner": 2, "n_positions": 2, "vocab_size": 2, "layer_norm_epsilon": 1e-300,
  "activation_function": "gelu_new"})";

// wte = I, wpe = 0; every LayerNorm (1, 0), so with ε = 1e-300 LN([1,0]) = [1,−1] exactly;
// W_q = W_k = W_v = W_proj = I, zero biases; MLP weights 0. Tokens (0, 1): n₀ = [1,−1],
// n₁ = [−1,1]. Row 0 sees key 0 only. Row 1: logits n₁·n₀/√2 = −√2 and n₁·n₁/√2 = √2, so
// a = (1, e^{2√2}) / (1 + e^{2√2}); its output a₀n₀ + a₁n₁ = (a₁ − a₀)·[−1, 1] is added to
// x₁ = [0, 1].
HandModel hand_model() {
  HandModel m;
  const std::vector<double> identity = {1, 0, 0, 1}, zero2 = {0, 0}, one2 = {1, 1};
  m.set("wte.weight", {2, 2}, identity);
  m.set("wpe.weight", {2, 2}, {0, 0, 0, 0});
  m.set("h.0.attn.c_attn.weight", {2, 6},
        {1, 0, 1, 0, 1, 0,  //
         0, 1, 0, 1, 0, 1});
  m.set("h.0.attn.c_attn.bias", {6}, {0, 0, 0, 0, 0, 0});
  m.set("h.0.attn.c_proj.weight", {2, 2}, identity);
  m.set("h.0.attn.c_proj.bias", {2}, zero2);
  m.set("h.0.mlp.c_fc.weight", {2, 2}, {0, 0, 0, 0});
  m.set("h.0.mlp.c_fc.bias", {2}, zero2);
  m.set("h.0.mlp.c_proj.weight", {2, 2}, {0, 0, 0, 0});
  m.set("h.0.mlp.c_proj.bias", {2}, zero2);
  for (const char* ln : {"h.0.ln_1", "h.0.ln_2", "ln_f"}) {
    m.set(std::string(ln) + ".weight", {2}, one2);
    m.set(std::string(ln) + ".bias", {2}, zero2);
  }
  return m;
}

TEST(ModelForward, OneLayerModelMatchesHandComputation) {
  const TempModelDir dir("hand");
  dir.write("config.json", kHandConfig);
  dir.write("model.safetensors", hand_model().bytes());
  const TransformerModel model = load_model(dir.path());
  const std::vector<std::int64_t> ids = {0, 1};
  const ModelTrace trace = run_forward(model, ids);
  const HeadTrace* h = trace.find({0, 0});
  ASSERT_NE(h, nullptr);
  const double e = std::exp(2 * std::sqrt(2.0));
  const double a0 = 1 / (1 + e), a1 = e / (1 + e);
  // A few roundings in each of exp, the sum and the division: 8u relative is ample.
  const double tol = 8 * kUnitRoundoff;
  EXPECT_EQ(h->attention(0, 0), 1.0);
  EXPECT_EQ(h->attention(0, 1), 0.0);
  EXPECT_NEAR(h->attention(1, 0), a0, tol * a0);
  EXPECT_NEAR(h->attention(1, 1), a1, tol);
  EXPECT_NEAR(h->logits(1, 0), -std::sqrt(2.0), tol);
  EXPECT_NEAR(h->logits(1, 1), std::sqrt(2.0), tol);
  EXPECT_EQ(h->query(0, 0), 1.0);
  EXPECT_EQ(h->query(0, 1), -1.0);
  // Layer output: x + attention output (MLP is zero). Row 0 attends to itself: [1,0] + [1,−1].
  EXPECT_EQ(trace.hidden_states[1](0, 0), 2.0);
  EXPECT_EQ(trace.hidden_states[1](0, 1), -1.0);
  EXPECT_NEAR(trace.hidden_states[1](1, 0), -(a1 - a0), tol);
  EXPECT_NEAR(trace.hidden_states[1](1, 1), 1 + (a1 - a0), tol);
  // ln_f of [2, −1] is [1, −1].
  EXPECT_NEAR(trace.final_hidden(0, 0), 1.0, tol);
  EXPECT_NEAR(trace.final_hidden(0, 1), -1.0, tol);
}

// A one-layer BERT of width 4 with random weights under transformers' "bert." prefix (as
// BertForMaskedLM saves them, with its cls.* head ignored): it loads, attends both ways (no
// weight is 0), its rows are distributions, and its hidden states are LayerNorm outputs (each
// row has mean ≈ 0 and variance ≈ 1 with gain 1, bias 0).
TEST(ModelForward, PrefixedBertIsBidirectional) {
  const std::uint64_t seed = 20261203;
  std::cout << "seed " << seed << "\n";
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  HandModel m;
  const auto random = [&](const std::string& name, std::vector<std::size_t> shape) {
    std::size_t n = 1;
    for (std::size_t s : shape) n *= s;
    std::vector<double> v(n);
    for (double& x : v) x = static_cast<float>(normal(rng));  // exact in the F32 file
    m.set("bert." + name, std::move(shape), std::move(v));
  };
  const auto norm = [&](const std::string& prefix) {
    m.set("bert." + prefix + ".weight", {4}, {1, 1, 1, 1});
    m.set("bert." + prefix + ".bias", {4}, {0, 0, 0, 0});
  };
  random("embeddings.word_embeddings.weight", {7, 4});
  random("embeddings.position_embeddings.weight", {5, 4});
  random("embeddings.token_type_embeddings.weight", {2, 4});
  norm("embeddings.LayerNorm");
  for (const char* lin : {"attention.self.query", "attention.self.key", "attention.self.value",
                          "attention.output.dense"}) {
    random(std::string("encoder.layer.0.") + lin + ".weight", {4, 4});
    random(std::string("encoder.layer.0.") + lin + ".bias", {4});
  }
  random("encoder.layer.0.intermediate.dense.weight", {6, 4});  // nn.Linear: [out, in]
  random("encoder.layer.0.intermediate.dense.bias", {6});
  random("encoder.layer.0.output.dense.weight", {4, 6});
  random("encoder.layer.0.output.dense.bias", {4});
  norm("encoder.layer.0.attention.output.LayerNorm");
  norm("encoder.layer.0.output.LayerNorm");
  m.set("cls.predictions.bias", {7}, std::vector<double>(7, 0.0));
  const TempModelDir dir("bert");
  dir.write("config.json", R"({"model_type": "bert", "num_hidden_layers": 1,
    "num_attention_heads": 2, "hidden_size": 4, "intermediate_size": 6,
    "max_position_embeddings": 5, "vocab_size": 7, "type_vocab_size": 2, "hidden_act": "gelu",
    "layer_norm_eps": 1e-12})");
  dir.write("model.safetensors", m.bytes());
  const TransformerModel model = load_model(dir.path());
  const std::vector<std::int64_t> ids = {6, 0, 3, 3, 1};
  const ModelTrace trace = run_forward(model, ids);
  ASSERT_EQ(trace.heads.size(), 2u);
  // Sums of 5 weights each within a few u: γ_7 covers them and the division.
  const double tol = higham_gamma(7, kUnitRoundoff);
  for (const HeadTrace& h : trace.heads) {
    EXPECT_GT(h.attention.minCoeff(), 0.0);
    for (Eigen::Index i = 0; i < h.attention.rows(); ++i)
      EXPECT_NEAR(h.attention.row(i).sum(), 1.0, tol);
  }
  ASSERT_EQ(trace.hidden_states.size(), 2u);
  for (const Matrix& x : trace.hidden_states) {
    for (Eigen::Index i = 0; i < x.rows(); ++i) {
      EXPECT_NEAR(x.row(i).mean(), 0.0, 1e-15);             // 4 entries of size ~1: a few u
      EXPECT_NEAR(x.row(i).squaredNorm() / 4, 1.0, 1e-10);  // ε = 1e-12 moves it by ~1e-12/var
    }
  }
  EXPECT_EQ(trace.final_hidden, trace.hidden_states.back());
}

TEST(ModelForward, SelectionKeepsOnlyTheAskedHeadsAndParts) {
  const TransformerModel model = load_model(kFixtures / "tiny_gpt2");
  const std::vector<std::int64_t> ids = {1, 2, 3, 4};
  TraceSelection only{std::vector<LayerHead>{{1, 2}}, false, false, true};
  const ModelTrace trace = run_forward(model, ids, only);
  ASSERT_EQ(trace.heads.size(), 1u);
  EXPECT_EQ(trace.heads[0].where, (LayerHead{1, 2}));
  EXPECT_EQ(trace.heads[0].query.size(), 0);
  EXPECT_EQ(trace.heads[0].logits.size(), 0);
  const ModelTrace full = run_forward(model, ids);
  EXPECT_EQ(trace.heads[0].attention, full.find({1, 2})->attention);
  EXPECT_TRUE(run_forward(model, ids, TraceSelection::no_heads()).heads.empty());
  EXPECT_EQ(trace.final_hidden, full.final_hidden);
}

// ---- bad input: one line naming the file and the field or tensor ----------------------------

// Runs `f`, which must throw E with a one-line message containing every one of `parts`.
template <class E = std::runtime_error>
void expect_one_line_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning " << parts.front();
  } catch (const E& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    for (const std::string& p : parts)
      EXPECT_NE(what.find(p), std::string::npos) << what << "\n lacks: " << p;
  }
}

TEST(ModelForwardBadInput, MissingDirectoryAndFiles) {
  expect_one_line_error([] { load_model("/nonexistent/model"); },
                        {"/nonexistent/model", "not a model directory"});
  const TempModelDir dir("missing");
  expect_one_line_error([&] { load_model(dir.path()); }, {"config.json", "cannot open"});
  dir.write("config.json", kHandConfig);
  expect_one_line_error([&] { load_model(dir.path()); }, {"model.safetensors", "missing"});
  const TempModelDir config_is_a_directory("config_dir");
  std::filesystem::create_directory(config_is_a_directory.path() / "config.json");
  expect_one_line_error([&] { load_model(config_is_a_directory.path()); },
                        {"config.json", "is a directory"});
}

TEST(ModelForwardBadInput, UnsupportedOrBrokenConfig) {
  const TempModelDir dir("config");
  dir.write("model.safetensors", hand_model().bytes());
  const std::string config = (dir.path() / "config.json").string();
  const auto refused = [&](const std::string& json, const std::vector<std::string>& parts) {
    dir.write("config.json", json);
    std::vector<std::string> all = parts;
    all.push_back(config);
    expect_one_line_error([&] { load_model(dir.path()); }, all);
  };
  refused(R"({"model_type": "llama", "hidden_size": 8})",
          {"\"model_type\"", "llama", "bert, gpt2"});
  refused(R"({"n_layer": 1})", {"\"model_type\"", "missing"});
  refused("{not json", {"not valid JSON"});
  refused(R"({"model_type": "gpt2", "n_layer": 1, "n_head": 3, "n_embd": 2, "n_positions": 2,
             "vocab_size": 2})",
          {"\"n_head\"", "does not divide"});
  refused(R"({"model_type": "gpt2", "n_layer": -1})", {"\"n_layer\"", "positive integer"});
  refused(R"({"model_type": "gpt2", "n_layer": 1, "n_head": 1, "n_embd": 2, "n_positions": 2,
             "vocab_size": 2, "scale_attn_by_inverse_layer_idx": true})",
          {"\"scale_attn_by_inverse_layer_idx\""});
  refused(R"({"model_type": "bert", "num_hidden_layers": 1, "num_attention_heads": 1,
             "hidden_size": 2, "intermediate_size": 2, "max_position_embeddings": 2,
             "vocab_size": 2, "type_vocab_size": 1, "hidden_act": "relu"})",
          {"\"hidden_act\"", "relu"});
  refused(R"({"model_type": "bert", "num_hidden_layers": 1, "num_attention_heads": 1,
             "hidden_size": 2, "intermediate_size": 2, "max_position_embeddings": 2,
             "vocab_size": 2, "type_vocab_size": 1, "hidden_act": "gelu",
             "position_embedding_type": "relative_key"})",
          {"\"position_embedding_type\""});
}

TEST(ModelForwardBadInput, WrongShapeDtypeMissingOrNonFiniteTensor) {
  const TempModelDir dir("weights");
  dir.write("config.json", kHandConfig);
  const std::string weights = (dir.path() / "model.safetensors").string();

  HandModel wrong_shape = hand_model();
  wrong_shape.set("h.0.mlp.c_fc.weight", {2, 3}, {0, 0, 0, 0, 0, 0});
  dir.write("model.safetensors", wrong_shape.bytes());
  expect_one_line_error([&] { load_model(dir.path()); },
                        {weights, "\"h.0.mlp.c_fc.weight\"", "shape [2, 3]", "expected [2, 2]"});

  HandModel missing = hand_model();
  missing.values.erase("ln_f.bias");
  dir.write("model.safetensors", missing.bytes());
  expect_one_line_error([&] { load_model(dir.path()); }, {weights, "\"ln_f.bias\"", "missing"});

  HandModel non_finite = hand_model();
  non_finite.values["h.0.ln_2.weight"][1] = INFINITY;
  dir.write("model.safetensors", non_finite.bytes());
  expect_one_line_error([&] { load_model(dir.path()); },
                        {weights, "\"h.0.ln_2.weight\"", "non-finite"});

  // A layer the config does not have: the weights are of another (deeper) model.
  HandModel deeper = hand_model();
  deeper.set("h.1.ln_1.weight", {2}, {1, 1});
  dir.write("model.safetensors", deeper.bytes());
  expect_one_line_error([&] { load_model(dir.path()); },
                        {weights, "\"h.1.ln_1.weight\"", "layer 1", "\"n_layer\" is 1"});

  // Names as the file spells them, prefix included.
  HandModel prefixed;
  for (const auto& [name, v] : wrong_shape.values)
    prefixed.set("transformer." + name, wrong_shape.shapes.at(name), v);
  dir.write("model.safetensors", prefixed.bytes());
  expect_one_line_error([&] { load_model(dir.path()); },
                        {weights, "\"transformer.h.0.mlp.c_fc.weight\"", "shape [2, 3]"});

  // An integer tensor where a weight belongs (wte read first, so its dtype is what fails).
  const std::string header =
      R"({"wte.weight":{"dtype":"I64","shape":[2,2],"data_offsets":[0,32]}})";
  std::string file(8, '\0');
  for (int i = 0; i < 8; ++i) file[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  dir.write("model.safetensors", file + header + std::string(32, '\0'));
  expect_one_line_error([&] { load_model(dir.path()); }, {weights, "\"wte.weight\"", "dtype I64"});
}

TEST(ModelForwardBadInput, CorruptSafetensors) {
  const TempModelDir dir("corrupt");
  dir.write("config.json", kHandConfig);
  const std::string bytes = hand_model().bytes();
  dir.write("model.safetensors", bytes.substr(0, bytes.size() - 5));  // truncated data
  expect_one_line_error([&] { load_model(dir.path()); }, {"model.safetensors"});
  dir.write("model.safetensors", "garbage");
  expect_one_line_error([&] { load_model(dir.path()); }, {"model.safetensors"});
}

TEST(ModelForwardBadInput, EmptyTooLongOrOutOfVocabularyTokensOrAbsentHead) {
  const TempModelDir dir("tokens");
  dir.write("config.json", kHandConfig);
  dir.write("model.safetensors", hand_model().bytes());
  const TransformerModel model = load_model(dir.path());
  expect_one_line_error<std::invalid_argument>([&] { run_forward(model, {}); }, {"no tokens"});
  const std::vector<std::int64_t> three = {0, 1, 0};
  expect_one_line_error<std::invalid_argument>(
      [&] { run_forward(model, three); }, {"3 tokens exceed the model's 2 positions", "windows"});
  const std::vector<std::int64_t> outside = {0, 2};
  expect_one_line_error<std::invalid_argument>([&] { run_forward(model, outside); },
                                               {"token id 2 at position 1", "vocabulary (size 2)"});
  const std::vector<std::int64_t> two = {0, 1};
  const TraceSelection absent{std::vector<LayerHead>{{1, 0}}};
  expect_one_line_error<std::invalid_argument>([&] { run_forward(model, two, absent); },
                                               {"layer 1 head 0", "1 layers x 1 heads"});
}

}  // namespace
}  // namespace attncert::models
