// Proof certificates: the JSON round trip is exact, every malformed certificate is a one-line
// error naming the field, and real prover certificates re-check valid with MPFI after a round
// trip through JSON — and invalid after tampering (a moved split point, a deleted leaf, a
// lowered bound).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <unistd.h>

#include "proofs_checks/box_prover.hpp"
#include "proofs_checks/proof_certificate.hpp"
#include "proofs_checks/proof_checker.hpp"

namespace attncert {
namespace {

using nlohmann::json;

ProofNode leaf(LeafMethod m) {
  ProofNode n;
  n.method = m;
  return n;
}

// A certificate exercising every node kind: x in [-1, 1], y in [0.1 (the double), 2].
ProofCertificate every_node_kind() {
  ProofGoal g;
  g.name = "upper, L = 2";
  g.program = ElementaryProgram({"x", "y"});
  const auto x = g.program.variable(0u);
  const auto y = g.program.variable(1u);
  g.lhs = g.program.binary(ElementaryOp::Multiply, x, y);
  g.rhs = g.program.constant("0.51");
  g.relation = Relation::Less;
  g.slack = "1e-9";
  g.box = {{-1, 0.1}, {1, 2}};
  ProofNode root;
  root.is_split = true;
  root.variable = 0;
  root.at = 0.1;  // not dyadic: its exact decimal has 55 digits
  root.below = std::make_unique<ProofNode>(leaf(LeafMethod::Naive));
  ProofNode mono = leaf(LeafMethod::Monotone);
  mono.variable = 1;
  mono.increasing = false;
  mono.precision = 128;
  ProofNode mv = leaf(LeafMethod::MeanValue);
  mv.center = {0.5, 0.1};
  mono.face = std::make_unique<ProofNode>(std::move(mv));
  root.above = std::make_unique<ProofNode>(std::move(mono));
  ProofCertificate c;
  c.claim_id = "A.lemma1";
  c.statement = "x*y < 0.51";
  c.domain = "x in [-1, 1], y in [0.1, 2]";
  c.scope = "x in [-1, 1], y in [0.1, 2]";
  c.goals.push_back({std::move(g), std::move(root)});
  return c;
}

// Expects proof_certificate_from_json to throw a message starting with `prefix`.
void expect_rejected(const json& j, const std::string& prefix) {
  try {
    (void)proof_certificate_from_json(j);
    ADD_FAILURE() << "accepted; expected: " << prefix;
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind(prefix, 0), 0u) << "got: " << what << "\nexpected prefix: " << prefix;
    EXPECT_EQ(what.find('\n'), std::string::npos);
  }
}

TEST(ProofCertificate, RoundTripIsExact) {
  const ProofCertificate c = every_node_kind();
  const json j = to_json(c);
  EXPECT_EQ(j["format"], "attncert-proof");
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["goals"][0]["tree"]["split"]["at"], "0.1000000000000000055511151231257827021181583404541015625");
  EXPECT_EQ(j["goals"][0]["relation"], "<");
  EXPECT_EQ(j["goals"][0]["box"][1]["lower"], "0.1000000000000000055511151231257827021181583404541015625");
  const ProofCertificate back = proof_certificate_from_json(json::parse(j.dump()));
  EXPECT_EQ(back.claim_id, c.claim_id);
  EXPECT_EQ(back.scope, c.scope);
  ASSERT_EQ(back.goals.size(), 1u);
  EXPECT_EQ(back.goals[0].goal, c.goals[0].goal);
  EXPECT_EQ(back.goals[0].tree.below->method, LeafMethod::Naive);
  EXPECT_EQ(back.goals[0].tree.at, 0.1);
  EXPECT_EQ(back.goals[0].tree.above->face->center, (std::vector<double>{0.5, 0.1}));
  EXPECT_EQ(back.goals[0].tree.above->precision, 128);
  EXPECT_FALSE(back.goals[0].tree.above->increasing);
  EXPECT_EQ(to_json(back), j);
}

TEST(ProofCertificate, FormatAndVersionAreChecked) {
  json j = to_json(every_node_kind());
  j["format"] = "attncert-counterexample";
  expect_rejected(j, "format: expected 'attncert-proof'");
  j = to_json(every_node_kind());
  j["version"] = 2;
  expect_rejected(j, "version: expected 1, got 2");
  j.erase("version");
  expect_rejected(j, "certificate: missing field 'version'");
  expect_rejected(json::array(), "certificate: expected a JSON object");
}

TEST(ProofCertificate, MalformedFieldsAreNamedByTheirPath) {
  const json good = to_json(every_node_kind());
  const auto edited = [&](const std::function<void(json&)>& edit) {
    json j = good;
    edit(j);
    return j;
  };
  expect_rejected(edited([](json& j) { j["goals"][0]["tree"]["split"]["below"]["leaf"] = "magic"; }),
                  "goals[0].tree.split.below.leaf: unknown method 'magic'");
  expect_rejected(edited([](json& j) { j["goals"][0]["tree"]["split"].erase("below"); }),
                  "goals[0].tree.split: missing field 'below'");
  expect_rejected(edited([](json& j) { j["goals"][0]["tree"]["split"]["variable"] = 2; }),
                  "goals[0].tree.split.variable: variable 2 is out of range (there are 2)");
  expect_rejected(edited([](json& j) { j["goals"][0]["tree"]["split"]["above"]["variable"] = -1; }),
                  "goals[0].tree.split.above.variable: expected a non-negative integer");
  expect_rejected(edited([](json& j) { j["goals"][0]["tree"]["split"]["above"]["direction"] = "up"; }),
                  "goals[0].tree.split.above.direction: 'up' is neither");
  expect_rejected(edited([](json& j) { j["goals"][0]["tree"]["split"]["above"]["face"]["center"] = {"0.5"}; }),
                  "goals[0].tree.split.above.face.center: 1 coordinates for 2 program variables");
  expect_rejected(edited([](json& j) { j["goals"][0]["tree"]["split"]["at"] = "0.1"; }),
                  "goals[0].tree.split.at: '0.1' is not exactly a double");
  expect_rejected(edited([](json& j) { j["goals"][0]["tree"]["split"]["at"] = 0.5; }),
                  "goals[0].tree.split.at: expected an exact decimal string");
  expect_rejected(edited([](json& j) { j["goals"][0]["tree"]["split"]["at"] = "nan"; }),
                  "goals[0].tree.split.at: 'nan' is not a decimal number");
  expect_rejected(edited([](json& j) { j["goals"][0]["tree"]["split"]["at"] = "1e400"; }),
                  "goals[0].tree.split.at: '1e400' is not exactly a double");
  expect_rejected(edited([](json& j) { j["goals"][0]["tree"]["split"]["extra"] = 1; }),
                  "goals[0].tree.split: unexpected field 'extra'");
  expect_rejected(edited([](json& j) { j["goals"][0]["tree"]["split"]["below"]["precision"] = 1; }),
                  "goals[0].tree.split.below.precision: expected an integer number of bits");
  expect_rejected(edited([](json& j) { j["goals"][0]["box"].erase(1); }),
                  "goals[0].box: 1 ranges for 2 program variables");
  expect_rejected(edited([](json& j) { j["goals"][0]["box"][0]["lower"] = "2"; }),
                  "goals[0].box[0]: lower 2 > upper 1");
  expect_rejected(edited([](json& j) { j["goals"][0]["box"][0]["upper"] = "inf"; }),
                  "goals[0].box[0].upper: 'inf' is not a decimal number");
  expect_rejected(edited([](json& j) { j["goals"][0]["lhs"] = 99; }),
                  "goals[0].lhs: instruction 99 is out of range");
  expect_rejected(edited([](json& j) { j["goals"][0]["relation"] = "=="; }),
                  "goals[0].relation: '==' is not one of <=, <, >=, >");
  expect_rejected(edited([](json& j) { j["goals"][0]["slack"] = "-1e-9"; }),
                  "goals[0].slack: '-1e-9' is not a decimal >= 0");
  expect_rejected(edited([](json& j) { j["goals"][0]["program"]["code"][0]["op"] = "frob"; }),
                  "goals[0].program.code[0]: unknown op 'frob'");
  expect_rejected(edited([](json& j) { j["goals"] = json::array(); }), "goals: empty");
  expect_rejected(edited([](json& j) { j.erase("claim"); }), "certificate: missing field 'claim'");
  expect_rejected(edited([](json& j) {
                    for (int i = 0; i < 65; ++i) j["goals"][0]["program"]["variables"].push_back("v" + std::to_string(i));
                  }),
                  "goals[0].program.variables: 67 variables, more than the 64");
  // "-0" is zero: harmless.
  EXPECT_NO_THROW((void)proof_certificate_from_json(edited([](json& j) { j["goals"][0]["slack"] = "-0"; })));
}

TEST(ProofCertificate, AbsurdlyDeepTreesAreRejectedNotOverflowed) {
  json node = {{"leaf", "naive"}, {"precision", 53}};
  for (int i = 0; i < 5000; ++i) node = {{"leaf", "monotone"}, {"precision", 53}, {"variable", 0},
                                         {"direction", "increasing"}, {"face", std::move(node)}};
  json j = to_json(every_node_kind());
  j["goals"][0]["tree"] = std::move(node);
  try {
    (void)proof_certificate_from_json(j);
    ADD_FAILURE() << "accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("deeper than 4000 levels"), std::string::npos) << e.what();
  }
}

class TempFile {
 public:
  explicit TempFile(const std::string& text)
      : path_((std::filesystem::temp_directory_path() / ("attncert_proof_" + std::to_string(::getpid()) + "_" +
                                                         std::to_string(counter_++) + ".json"))
                  .string()) {
    std::ofstream(path_, std::ios::binary) << text;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

void expect_file_rejected(const std::string& text, const std::string& part) {
  const TempFile f(text);
  try {
    (void)read_proof_certificate(f.path());
    ADD_FAILURE() << "accepted; expected: " << part;
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind(f.path() + ": ", 0), 0u) << what;
    EXPECT_NE(what.find(part), std::string::npos) << "got: " << what << "\nexpected: " << part;
  }
}

TEST(ProofCertificate, FilesAreReadStrictly) {
  const std::string text = to_json(every_node_kind()).dump(1);
  const TempFile good(text);
  EXPECT_EQ(read_proof_certificate(good.path()).goals.size(), 1u);
  expect_file_rejected(text.substr(0, text.size() / 2), "not valid JSON");  // truncated
  expect_file_rejected(text + "}", "not valid JSON");                      // trailing garbage
  expect_file_rejected("", "not valid JSON");
  expect_file_rejected(R"({"format": "attncert-proof", "version": 1})", "missing field 'claim'");
  EXPECT_THROW((void)read_proof_certificate("/nonexistent/proof.json"), std::invalid_argument);
  EXPECT_THROW((void)read_proof_certificate(std::filesystem::temp_directory_path().string()), std::invalid_argument);
}

// ---- real prover certificates ------------------------------------------------------------

// log(exp(x1) + exp(x2) + exp(x3)) <= max(x1, x2, x3) + log 3 + 1/100 on [-1, 1]^3 (lse <=
// max + log n): true with room 1/100, so the prover's tree mixes methods and splits.
ProofGoal lse_goal() {
  ProofGoal g;
  g.name = "lse, n = 3";
  g.program = ElementaryProgram({"x1", "x2", "x3"});
  ElementaryProgram& p = g.program;
  std::uint32_t sum = 0, mx = 0;
  for (std::uint32_t i = 0; i < 3; ++i) {
    const auto x = p.variable(i);
    const auto e = p.unary(ElementaryOp::Exp, x);
    sum = i == 0 ? e : p.binary(ElementaryOp::Add, sum, e);
    mx = i == 0 ? x : p.binary(ElementaryOp::Max, mx, x);
  }
  g.lhs = p.unary(ElementaryOp::Log, sum);
  g.rhs = p.binary(ElementaryOp::Add, p.binary(ElementaryOp::Add, mx, p.unary(ElementaryOp::Log, p.constant("3"))),
                   p.constant("0.01"));
  g.box = {{-1, -1, -1}, {1, 1, 1}};
  return g;
}

ProofCertificate proved_certificate(const ProofGoal& goal) {
  ProverOptions o;
  o.slack_ladder.clear();
  ProofAttempt a = prove_goal(goal, o);
  EXPECT_EQ(a.outcome, ProofOutcome::Proved) << a.reason;
  ProofCertificate c;
  c.claim_id = "test.lse";
  if (a.tree) c.goals.push_back({goal, std::move(*a.tree)});
  return c;
}

// The first split node of the tree, depth first.
json* first_split(json& node) {
  if (node.contains("split")) return &node;
  if (node.contains("face")) return first_split(node["face"]);
  return nullptr;
}

TEST(ProofCertificate, ProverCertificatesRoundTripAndCheckValid) {
  const ProofCertificate c = proved_certificate(lse_goal());
  ASSERT_EQ(c.goals.size(), 1u);
  const ProofCertificate back = proof_certificate_from_json(json::parse(to_json(c).dump()));
  const ProofCheckReport r = check_proof_certificate(back);
  EXPECT_TRUE(r.valid) << r.failure;
  EXPECT_EQ(r.leaves_checked, c.goals[0].tree.leaf_count());
  EXPECT_GT(r.leaves_checked, 1);
  const std::string text = to_json(c).dump();
  const auto count = [&](const std::string& m) {
    long n = 0;
    for (std::size_t at = text.find(m); at != std::string::npos; at = text.find(m, at + 1)) ++n;
    return n;
  };
  std::printf("lse n = 3: %ld leaves (%ld naive, %ld mean-value, %ld monotone), %zu bytes of JSON\n",
              r.leaves_checked, count("\"naive\""), count("\"mean_value\""), count("\"monotone\""), text.size());
}

TEST(ProofCertificate, TamperedProverCertificatesFail) {
  const json good = to_json(proved_certificate(lse_goal()));
  ASSERT_TRUE(check_proof_certificate(proof_certificate_from_json(good)).valid);
  const auto check = [](const json& j) { return check_proof_certificate(proof_certificate_from_json(j)); };

  // The bound lowered: 1/100 of room becomes none below the attained lse = max + log 3.
  json lowered = good;
  for (json& ins : lowered["goals"][0]["program"]["code"]) {
    if (ins["op"] == "const" && ins["value"] == "0.01") ins["value"] = "-0.01";
  }
  const ProofCheckReport r1 = check(lowered);
  EXPECT_FALSE(r1.valid);
  EXPECT_NE(r1.failure.find("not shown"), std::string::npos) << r1.failure;

  // A leaf deleted: the root split loses a child.
  json deleted = good;
  json* s = first_split(deleted["goals"][0]["tree"]);
  ASSERT_NE(s, nullptr) << "the prover's tree has no split";
  (*s)["split"].erase("above");
  EXPECT_THROW((void)proof_certificate_from_json(deleted), std::invalid_argument);
  // … or a whole subtree replaced by one naive leaf: no longer a proof on that box.
  json collapsed = good;
  s = first_split(collapsed["goals"][0]["tree"]);
  *s = {{"leaf", "naive"}, {"precision", 53}};
  const ProofCheckReport r2 = check(collapsed);
  EXPECT_FALSE(r2.valid);
  EXPECT_NE(r2.failure.find("(naive, 53 bits)"), std::string::npos) << r2.failure;

  // A split point moved to the edge of its range: not strictly inside, no longer a cover of two
  // proper halves; moved inside, the leaves' boxes change and some no longer show the bound.
  json moved = good;
  s = first_split(moved["goals"][0]["tree"]);
  const std::uint32_t v = (*s)["split"]["variable"];
  (*s)["split"]["at"] = good["goals"][0]["box"][v]["upper"];
  const ProofCheckReport r3 = check(moved);
  EXPECT_FALSE(r3.valid);
  EXPECT_NE(r3.failure.find("is not strictly inside"), std::string::npos) << r3.failure;
  json shifted = good;
  s = first_split(shifted["goals"][0]["tree"]);
  (*s)["split"]["at"] = "0.875";
  const ProofCheckReport r4 = check(shifted);
  EXPECT_FALSE(r4.valid) << "moving the first split to 0.875 left every leaf valid";
}

}  // namespace
}  // namespace attncert
