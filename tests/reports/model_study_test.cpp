// Paper A's protocol on a model (reports/model_study.hpp), on the tiny random BERT and GPT-2
// checkpoints of tests/models/fixtures with tokenizers written here: what must hold whatever
// the weights (known truth), one statistic recomputed independently, determinism, and the
// one-line refusals.
#include "reports/model_study.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "models/forward_pass.hpp"
#include "models/text_windows.hpp"
#include "models/tokenizer.hpp"
#include "models/transformer_model.hpp"
#include "numerics/rng.hpp"
#include "numerics/scalar_traits.hpp"
#include "tests/models/small_tokenizers.hpp"
#include "tests/models/tiny_model_test_support.hpp"
#include "tests/reports/scratch_directory_test_support.hpp"
#include "theory/distance_collapse.hpp"

namespace attncert {
namespace {

namespace fs = std::filesystem;
const fs::path kFixtures = ATTNCERT_MODELS_FIXTURES_DIR;

using TinyModelBase = test::TinyModel;
struct TinyModel : TinyModelBase {
  TinyModel(const std::string& fixture, const nlohmann::json& tokenizer) : TinyModelBase(kFixtures, fixture, tokenizer) {}
};

ModelStudyOptions small_options(const TinyModel& m) {
  ModelStudyOptions o;
  o.model_dir = m.dir;
  o.text_path = m.text;
  o.lengths = {8, 16, 32};
  o.counts = {1, 2, 4};
  o.separability_counts = {1, 2, 4};
  o.temperatures = {0.01, 0.1, 1};
  o.epsilons = {1e-3, 1e-1};
  o.windows = 2;
  o.rows_per_window = 64;  // >= every L: all rows
  o.certified_rows = 2;
  o.jobs = 2;
  return o;
}

const ModelStudyTable& table(const ModelStudy& s, const std::string& name) {
  for (const ModelStudyTable& t : s.tables)
    if (t.name == name) return t;
  throw std::logic_error("no table " + name);
}

double column(const ModelStudyTable& t, const ModelStudyTable::Row& r, const std::string& name) {
  const auto it = std::find(t.columns.begin(), t.columns.end(), name);
  if (it == t.columns.end()) throw std::logic_error("no column " + name);
  return r.values.at(static_cast<std::size_t>(it - t.columns.begin()));
}

// What holds for any weights: the catalog's classical bound is certified on every certified
// row, A.cor3's verdict agrees with the certified enclosure of ‖J‖₂, N_s/N = 1 at N = 1 (the
// one selected token is at distance 0 from s), 1 <= L·α_max <= L, and g <= 1/(2T) (g is a
// difference quotient of a map with Lipschitz constant sup‖J‖₂ = 1/(2T); the softmax
// differences lose at most ~L·u/ε, far below the 1e-9 relative slack used).
void expect_known_truth(const ModelStudy& s) {
  const ModelStudyTable& j = table(s, "jacobian");
  ASSERT_EQ(j.rows.size(), s.layers * s.heads * 2);
  for (const auto& r : j.rows) {
    EXPECT_EQ(column(j, r, "classical_status"), 1.0);
    const double low = column(j, r, "norm_low"), high = column(j, r, "norm_high");
    EXPECT_LE(low, high);
    // The double ‖J‖₂ that picked the row lies in the certified enclosure of that same row, up
    // to the secular solver's relative error O(L·u) (L <= 32 here): a wrong row would not.
    const double slack = 64 * 32 * ScalarTraits<double>::unit_roundoff() * high;
    EXPECT_GE(column(j, r, "norm_double"), low - slack);
    EXPECT_LE(column(j, r, "norm_double"), high + slack);
    const double cor3 = column(j, r, "cor3_status");
    if (low > 0.25) {
      EXPECT_EQ(cor3, -1.0);
    }
    if (high < 0.25) {
      EXPECT_EQ(cor3, 1.0);
    }
    if (cor3 == -1.0) {
      EXPECT_GT(high, 0.25);
    }
    EXPECT_EQ(column(j, r, "keys"), s.causal ? column(j, r, "row") + 1 : 32.0);
  }
  EXPECT_EQ(s.certified_rows, j.rows.size());
  EXPECT_EQ(s.classical_proved, j.rows.size());
  const ModelStudyTable& sep = table(s, "separability");
  for (const auto& r : sep.rows) {
    if (column(sep, r, "N") == 1) {
      EXPECT_EQ(column(sep, r, "Ns_over_N_mean"), 1.0);
    }
  }
  const ModelStudyTable& v = table(s, "vanishing");
  for (const auto& r : v.rows) {
    EXPECT_GE(column(v, r, "L_alpha_max_mean"), 1 - 1e-12);
    EXPECT_LE(column(v, r, "L_alpha_max_max"), column(v, r, "L") * (1 + 1e-12));
  }
  const ModelStudyTable& g = table(s, "sensitivity");
  for (const auto& r : g.rows)
    EXPECT_LE(column(g, r, "g_mean"), 1 / (2 * column(g, r, "T")) * (1 + 1e-9));
  const ModelStudyTable& ks = table(s, "ks");
  for (const auto& r : ks.rows) {
    const double p = column(ks, r, "ks_p"), D = column(ks, r, "ks_D");
    if (!std::isnan(p)) {
      EXPECT_GE(p, 0.0);
      EXPECT_LE(p, 1.0);
      EXPECT_GE(D, 0.0);
      EXPECT_LE(D, 1.0);
    }
  }
  EXPECT_FALSE(s.comparison.empty());
  EXPECT_EQ(s.heatmaps.size(), 7u);
  for (const HeadHeatmap& h : s.heatmaps) EXPECT_EQ(h.values.size(), s.layers * s.heads);
}

TEST(ModelStudy, TinyGpt2IsCausalAndKnownTruthHolds) {
  const TinyModel m("tiny_gpt2", models::small_bpe());
  const ModelStudy s = run_model_study(small_options(m));
  EXPECT_TRUE(s.causal);
  EXPECT_EQ(s.family, "gpt2");
  EXPECT_EQ(s.layers * s.heads, 8u);
  expect_known_truth(s);
}

TEST(ModelStudy, TinyBertKnownTruthAndOneStatisticRecomputed) {
  const TinyModel m("tiny_bert", models::letters_word_piece());
  const ModelStudyOptions o = small_options(m);
  const ModelStudy s = run_model_study(o);
  EXPECT_FALSE(s.causal);
  expect_known_truth(s);

  // Mean d̃_B of head (1, 2) at L = 8, N = 5, over every row of both windows, recomputed with the
  // generic theory path from our own forward passes. Same formulas, other summation order: the
  // relative difference stays within a few hundred u.
  const models::TransformerModel model = models::load_model(m.dir);
  const auto tokenizer = models::load_tokenizer(m.dir / "tokenizer.json");
  std::ifstream in(m.text);
  std::stringstream text;
  text << in.rdbuf();
  const auto windows = models::text_windows(tokenizer->encode_without_special_tokens(text.str()),
                                            tokenizer->single_template(), 8, 64, 2);
  double sum = 0;
  long rows = 0;
  for (const models::TextWindow& w : windows) {
    const models::ModelTrace trace = models::run_forward(model, w.ids);
    const models::HeadTrace& h = *trace.find({1, 2});
    TokenMatrix<double> X{8, h.value.cols(), std::vector<double>(h.value.data(), h.value.data() + h.value.size())};
    for (Eigen::Index t = 0; t < 8; ++t) {
      const std::vector<double> alpha(h.attention.row(t).data(), h.attention.row(t).data() + 8);
      const std::vector<double> logits(h.logits.row(t).data(), h.logits.row(t).data() + 8);
      sum += dtilde<double>(DtildeReading::B, std::span<const double>(alpha), X, top_n_indices(logits, 5));
      ++rows;
    }
  }
  const ModelStudyTable& t = table(s, "dtilde-vs-L");
  bool found = false;
  for (const auto& r : t.rows) {
    if (r.layer != 1 || r.head != 2 || column(t, r, "L") != 8) continue;
    found = true;
    EXPECT_EQ(column(t, r, "rows"), static_cast<double>(rows));
    EXPECT_NEAR(column(t, r, "dtilde_B_mean"), sum / static_cast<double>(rows),
                512 * ScalarTraits<double>::unit_roundoff() * std::abs(sum / static_cast<double>(rows)));
  }
  EXPECT_TRUE(found);
}

std::map<std::string, std::string> csv_files(const ModelStudy& s, const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const fs::path& p : write_model_study_csvs(s, dir)) files[p.filename().string()] = test::read_file(p);
  return files;
}

TEST(ModelStudy, SameSeedSameBytesWhateverTheThreadsAnotherSeedOtherRows) {
  const TinyModel m("tiny_gpt2", models::small_bpe());
  ModelStudyOptions o = small_options(m);
  o.rows_per_window = 5;  // sampled rows, so the seed matters
  o.jobs = 1;
  const auto one = csv_files(run_model_study(o), m.scratch.path() / "one");
  o.jobs = 2;
  const auto two = csv_files(run_model_study(o), m.scratch.path() / "two");
  EXPECT_EQ(one, two);
  EXPECT_EQ(one.size(), 9u);
  o.seed = 2;
  const auto other = csv_files(run_model_study(o), m.scratch.path() / "other");
  EXPECT_NE(one.at("model-dtilde-vs-L.csv"), other.at("model-dtilde-vs-L.csv"));
  EXPECT_EQ(one.at("model-dtilde-vs-L.csv").substr(0, 10), "layer,head");
}

void expect_refused(const ModelStudyOptions& o, const std::vector<std::string>& parts) {
  try {
    run_model_study(o);
    ADD_FAILURE() << "not refused: " << parts.front();
  } catch (const std::exception& e) {
    const std::string what = e.what();
    for (const std::string& p : parts) EXPECT_NE(what.find(p), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

TEST(ModelStudy, RefusesATokenizerOfTheOtherFamily) {
  const TinyModel m("tiny_bert", models::small_bpe());  // a byte-level BPE beside a BERT
  expect_refused(small_options(m), {"tokenizer.json", "a BPE tokenizer, but config.json says bert"});
}

TEST(ModelStudy, RefusesBadInputInOneLine) {
  const TinyModel m("tiny_gpt2", models::small_bpe());
  ModelStudyOptions o = small_options(m);
  ModelStudyOptions bad = o;
  bad.lengths = {8, 256};
  expect_refused(bad, {"L = 256", "exceeds the model's 128 positions"});
  bad = o;
  bad.lengths = {16, 8};
  expect_refused(bad, {"increase"});
  bad = o;
  bad.text_path = m.scratch.path() / "empty.txt";
  std::ofstream(bad.text_path) << " \n ";
  expect_refused(bad, {"empty.txt", "the text is empty"});
  bad = o;
  bad.text_path = m.scratch.path() / "short.txt";
  std::ofstream(bad.text_path) << "abcdefghijklmnopqrst";  // 20 distinct byte tokens, L = 32 needs 32
  expect_refused(bad, {"fewer than one window"});
  bad = o;
  bad.text_path = m.scratch.path() / "repeated.txt";
  {
    std::ofstream out(bad.text_path);
    for (int i = 0; i < 500; ++i) out << "x ";
  }
  expect_refused(bad, {"repeated.txt", "distinct", "not prose"});
  bad = o;
  bad.text_path = m.scratch.path() / "absent.txt";
  expect_refused(bad, {"absent.txt"});
  bad = o;
  bad.temperatures = {0};
  expect_refused(bad, {"temperature 0"});
  bad = o;
  bad.model_dir = m.scratch.path() / "nowhere";
  expect_refused(bad, {"nowhere", "not a model directory"});
  // A tokenizer whose ids the model does not have (2000 tokens, 500 embeddings).
  fs::copy_file(kFixtures / "tokenizer_bpe_small.json", m.dir / "tokenizer.json",
                fs::copy_options::overwrite_existing);
  expect_refused(o, {"outside the model's vocabulary of 500"});
  fs::remove(m.dir / "tokenizer.json");
  expect_refused(o, {"tokenizer.json", "missing"});
}

}  // namespace
}  // namespace attncert
