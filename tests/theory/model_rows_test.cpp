// Real attention rows as a domain (theory/model_rows.hpp) on the tiny random BERT and GPT-2 of
// tests/models/fixtures: the rows are the forward pass's, a claim gets only the arrays it
// declares, the engine never moves a row, a changed row is refused, and claims that are not
// about one row are named as such.
#include "theory/model_rows.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "models/forward_pass.hpp"
#include "models/text_windows.hpp"
#include "models/tokenizer.hpp"
#include "models/transformer_model.hpp"
#include "numerics/rng.hpp"
#include "proofs_checks/counterexample_shrinker.hpp"
#include "proofs_checks/instance_sampler.hpp"
#include "proofs_checks/verifier.hpp"
#include "tests/models/small_tokenizers.hpp"
#include "tests/models/tiny_model_test_support.hpp"
#include "theory/catalog.hpp"

namespace attncert {
namespace {

namespace fs = std::filesystem;
const fs::path kFixtures = ATTNCERT_MODELS_FIXTURES_DIR;

struct TinyModel : test::TinyModel {
  TinyModel(const std::string& fixture, const nlohmann::json& tokenizer)
      : test::TinyModel(kFixtures, fixture, tokenizer, 800) {}
  ModelRowsOptions options() const {
    ModelRowsOptions o;
    o.model = dir.string();
    o.text_path = text;
    o.rows_per_window = 3;
    return o;
  }
};

TEST(ModelRows, RowsAreTheForwardPassRows) {
  const TinyModel m("tiny_bert", models::letters_word_piece());
  const auto rows = model_rows(m.options());
  // Windows of 8, 16, 32, 64 (the model's positions) × 2 layers × 4 heads × 3 rows.
  ASSERT_EQ(rows->size(), 4u * 8u * 3u);
  const Instance r = rows->row(rows->size() - 1);  // the last window (L = 64), last head
  EXPECT_EQ(r.scalar("L"), 64);
  EXPECT_EQ(r.scalar("window_length"), 64);
  EXPECT_EQ(r.scalar("layer"), 1);
  EXPECT_EQ(r.scalar("head"), 3);
  const models::TransformerModel model = models::load_model(m.dir);
  const auto tokenizer = models::load_tokenizer(m.dir / "tokenizer.json");
  std::ifstream in(m.text);
  std::stringstream text;
  text << in.rdbuf();
  const auto window = models::text_windows(tokenizer->encode_without_special_tokens(text.str()),
                                           tokenizer->single_template(), 64, 64, 1);
  const models::ModelTrace trace = models::run_forward(model, window.front().ids);
  const models::HeadTrace& h = *trace.find({1, 3});
  const auto t = static_cast<Eigen::Index>(r.scalar("query"));
  EXPECT_EQ(r.array("logits"), h.logits.row(t));  // bit for bit: the same forward pass
  EXPECT_EQ(r.array("K"), h.key);
  EXPECT_EQ(r.array("X"), h.value);
  EXPECT_EQ(r.array("q"), h.query.row(t) * (1 / std::sqrt(16.0)));  // d_head = 64 / 4
}

TEST(ModelRows, CausalRowsSeeTheirPrefix) {
  const TinyModel m("tiny_gpt2", models::small_bpe());
  const auto rows = model_rows(m.options());
  for (std::size_t k = 0; k < rows->size(); ++k) {
    const Instance r = rows->row(k);
    EXPECT_EQ(r.scalar("L"), r.scalar("query") + 1);
    EXPECT_EQ(r.array("logits").cols(), r.scalar("query") + 1);
    EXPECT_EQ(r.array("K").rows(), r.scalar("query") + 1);
  }
}

TEST(ModelRows, AClaimGetsItsOwnArraysAndTheEngineNeverMovesARow) {
  const TinyModel m("tiny_bert", models::letters_word_piece());
  const auto rows = model_rows(m.options());
  const auto jacobian = claim_over_rows(*find_claim("C.jacobian-softmax"), rows);  // logits only
  const auto cor1 = claim_over_rows(*find_claim("A.cor1"), rows);                  // q and K
  const std::uint64_t seed = 11;
  std::cout << "seed " << seed << "\n";
  Rng rng(seed);
  for (int i = 0; i < 20; ++i) {
    Instance x = sample_instance(jacobian->space(), rng, i % 2 ? SampleMode::Edge : SampleMode::Plain);
    EXPECT_TRUE(x.has_array("logits"));
    EXPECT_FALSE(x.has_array("q") || x.has_array("K") || x.has_array("X"));
    EXPECT_NO_THROW(jacobian->check_in_domain(x, 64));
    const Instance moved = perturb_instance(jacobian->space(), x, rng, 0.3);
    EXPECT_EQ(moved.array("logits"), x.array("logits"));  // data: only T may move
    const Instance y = sample_instance(cor1->space(), rng, SampleMode::Plain);
    EXPECT_TRUE(y.has_array("q") && y.has_array("K"));
    EXPECT_FALSE(y.has_array("logits"));
    EXPECT_NO_THROW(cor1->check_in_domain(y, 64));
  }
  Instance x = sample_instance(jacobian->space(), rng, SampleMode::Plain);
  EXPECT_EQ(shrink_counterexample(*jacobian, x, CertifyOptions{}, 50).array("logits"), x.array("logits"));
  // One changed logit, or a row index the source does not have: not a row, refutes nothing.
  Instance changed = x;
  changed.arrays["logits"](0, 0) += 1;
  EXPECT_THROW(jacobian->check_in_domain(changed, 64), std::invalid_argument);
  Instance elsewhere = x;
  elsewhere.scalars[kSourceRowScalar] = static_cast<double>(rows->size());
  EXPECT_THROW(jacobian->check_in_domain(elsewhere, 64), std::invalid_argument);
}

TEST(ModelRows, TheEngineCertifiesTheClassicalBoundOnRows) {
  const TinyModel m("tiny_gpt2", models::small_bpe());
  const auto claim = claim_over_rows(*find_claim("C.jacobian-softmax"), model_rows(m.options()));
  VerifyOptions o;
  o.instances = 200;
  o.certify = 8;
  o.seed = 3;
  const ClaimResult r = verify_claim(*claim, o);
  EXPECT_EQ(r.verdict, DomainVerdict::Survived);  // ‖J‖₂ <= 1/(2T) is a theorem
  EXPECT_GT(r.certified, 0);
  EXPECT_FALSE(claim->proof_plans().size());
}

TEST(ModelRows, ClaimsNotAboutOneRowAreNamed) {
  const TinyModel m("tiny_bert", models::letters_word_piece());
  const auto rows = model_rows(m.options());
  EXPECT_NE(model_rows_unsuitable(*find_claim("A.thm2"), rows).find("array 'W'"), std::string::npos);
  EXPECT_EQ(model_rows_unsuitable(*find_claim("A.cor3"), rows), "");
  try {
    claim_over_rows(*find_claim("A.thm2"), rows);
    ADD_FAILURE() << "A.thm2 accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("A.thm2 cannot be checked on attention rows"), std::string::npos);
  }
}

TEST(ModelRows, RecipeRebuildsTheSameRows) {
  const TinyModel m("tiny_gpt2", models::small_bpe());
  const auto rows = model_rows(m.options());
  const auto again = model_rows(model_rows_options_from_recipe(rows->recipe()));
  ASSERT_EQ(again->size(), rows->size());
  for (std::size_t k = 0; k < rows->size(); k += 7) EXPECT_EQ(again->row(k).array("logits"), rows->row(k).array("logits"));
  EXPECT_THROW(model_rows_options_from_recipe(nlohmann::json{{"model", "x"}}), std::invalid_argument);
  // The text changed since: refused, naming it, rather than rows that no longer match.
  std::ofstream(m.text, std::ios::app) << " kalo";
  try {
    model_rows(model_rows_options_from_recipe(rows->recipe()));
    ADD_FAILURE() << "rows rebuilt from a changed text";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("the text has changed since the rows were drawn"), std::string::npos);
  }
}

TEST(ModelRows, BadInputIsOneLine) {
  const TinyModel m("tiny_gpt2", models::small_bpe());
  ModelRowsOptions o = m.options();
  o.text_path = m.scratch.path() / "short.txt";
  std::ofstream(o.text_path) << "ab";
  try {
    model_rows(o);
    ADD_FAILURE() << "a two-byte text gave rows";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("not prose"), std::string::npos) << e.what();
  }
  o = m.options();
  o.model = (m.scratch.path() / "nowhere").string();
  EXPECT_THROW(model_rows(o), std::exception);
}

}  // namespace
}  // namespace attncert
