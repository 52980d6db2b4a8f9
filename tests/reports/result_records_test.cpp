// The verdict records (issue 14): results.jsonl and results.csv carry the per-family tightness,
// degenerate and vacuous counts, vacuity, the new kinds and provenances and what a claim
// adapted or derives from; the tightest instance is saved as a replayable file, kept and
// pruned exactly like the counterexamples. Hand-built results: no engine run, no randomness.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "reports/result_records.hpp"
#include "reports/results_files.hpp"
#include "scratch_directory_test_support.hpp"
#include "toy_claim_test_support.hpp"

namespace attncert {
namespace {

namespace fs = std::filesystem;
using test::toy_info;

TEST(ResultJson, CarriesPerFamilyTightnessDegenerateAndVacuousInstancesAndVacuity) {
  const test::ToyClaim claim(toy_info("A.toy", Provenance::Printed, ClaimKind::Inequality));
  const nlohmann::json j = result_json(claim, test::toy_survived());
  ASSERT_TRUE(j.contains("side_tightness")) << j.dump(2);
  ASSERT_EQ(j["side_tightness"].size(), 2u);
  EXPECT_EQ(j["side_tightness"][1]["family"], "upper");
  EXPECT_EQ(j["side_tightness"][1]["tightness"], 0.75);
  EXPECT_EQ(j["side_tightness"][1]["informative_instances"], 28);
  EXPECT_EQ(j["side_tightness"][1]["vacuous_instances"], 3);
  EXPECT_EQ(j["side_tightness"][1]["tightest_instance"], to_json(test::toy_instance()));
  EXPECT_EQ(j["tightest_family"], "upper");  // the family whose tightness is the claim's
  EXPECT_EQ(j["degenerate_instances"], 5);
  EXPECT_EQ(j["degenerate_tightness"], 1.0);
  EXPECT_EQ(j["vacuous_instances"], 3);
  EXPECT_EQ(j["vacuity"], 0.125);
  EXPECT_EQ(j["verdict_label"], "survived");
  EXPECT_FALSE(j.contains("adapted"));  // verbatim: nothing adapted
}

TEST(ResultJson, NamesDerivedKindReadingProvenanceAndWhatWasAdaptedOrDerivedFrom) {
  ClaimInfo derived = toy_info("A.toy", Provenance::Printed, ClaimKind::Derived);
  derived.adapted = "Delta measured on the keys only";
  derived.derivation = "the triangle inequality";
  const nlohmann::json d = result_json(test::ToyClaim(derived), test::toy_survived());
  EXPECT_EQ(d["kind"], "derived");
  EXPECT_EQ(d["adapted"], "Delta measured on the keys only");
  EXPECT_EQ(d["derivation"], "the triangle inequality");

  const nlohmann::json r =
      result_json(test::ToyClaim(toy_info("A.toy", Provenance::Reading, ClaimKind::Inequality)),
                  test::toy_refuted());
  EXPECT_EQ(r["provenance"], "reading");
  EXPECT_EQ(r["verdict_label"], "refuted");
}

TEST(ResultJson, StatisticalClaimStatesItsIntervalMethodAndIsNotRejected) {
  ClaimInfo info = toy_info("B.toy", Provenance::Printed, ClaimKind::Statistical);
  info.confidence = 0.99;
  info.interval_method = "Student-t (asymptotic)";
  const test::ToyClaim claim(info);
  const nlohmann::json j = result_json(claim, test::toy_survived());
  EXPECT_EQ(j["interval_method"], "Student-t (asymptotic)");
  EXPECT_EQ(j["verdict_label"], "not rejected");
  EXPECT_EQ(result_json(claim, test::toy_refuted())["verdict_label"], "rejected");
}

TEST(ResultJson, UnmeasuredNumbersAreNull) {
  const test::ToyClaim claim(toy_info("A.toy", Provenance::Printed, ClaimKind::Inequality));
  const nlohmann::json j = result_json(claim, test::toy_refuted());
  EXPECT_TRUE(j["vacuity"].is_null());
  EXPECT_TRUE(j["degenerate_tightness"].is_null());
  EXPECT_TRUE(j["side_tightness"].empty());
  EXPECT_FALSE(j.contains("tightest_family"));
}

// Splits one CSV line without quoted fields (the rows below have none).
std::vector<std::string> fields(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream s(line.substr(0, line.find("\r\n")));
  for (std::string f; std::getline(s, f, ',');) out.push_back(f);
  return out;
}

TEST(ResultsCsv, HasVacuityDegenerateAndVacuousColumnsUnderTheirHeaders) {
  const test::ToyClaim claim(toy_info("A.toy", Provenance::Printed, ClaimKind::Inequality));
  const std::vector<std::string> header = fields(results_csv_header());
  const std::vector<std::string> row = fields(result_csv_row(claim, test::toy_survived()));
  ASSERT_EQ(header.size(), row.size() + 1);  // the empty counterexample field ends the row
  const auto value = [&](const std::string& column) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (header[i] == column) return row[i];
    }
    return std::string("<no column ") + column + ">";
  };
  EXPECT_EQ(value("vacuity"), "0.125");
  EXPECT_EQ(value("degenerate_instances"), "5");
  EXPECT_EQ(value("vacuous_instances"), "3");
  EXPECT_EQ(value("tightness"), "0.75");
  EXPECT_EQ(value("kind"), "inequality");
}

TEST(TightestJson, IsAReplayableFileNamingTheFamilyAndTightness) {
  const test::ToyClaim claim(toy_info("A.toy", Provenance::Printed, ClaimKind::Inequality));
  const nlohmann::json j = tightest_json(claim, test::toy_survived());
  EXPECT_EQ(j["format"], kTightestFormat);
  EXPECT_EQ(j["claim"], "A.toy");
  EXPECT_EQ(j["family"], "upper");
  EXPECT_EQ(j["tightness"], 0.75);
  EXPECT_EQ(instance_from_json(j["instance"]).describe(), test::toy_instance().describe());
  EXPECT_THROW(tightest_json(claim, test::toy_refuted()), std::logic_error);  // none recorded
  // A conjecture carries what replay rebuilds it from, as its counterexample file does.
  const auto conjecture = make_expression_claim("alpha_max <= 1", test::kToyDomain);
  const nlohmann::json c = tightest_json(*conjecture, test::toy_survived());
  EXPECT_EQ(c["expression"], "alpha_max <= 1");
  EXPECT_EQ(c["domain"], test::kToyDomain);
}

TEST(ResultsFiles, WritesTheTightestInstanceAndRemovesItWhenAnotherRunHasNone) {
  test::ScratchDirectory tmp;
  const auto conjecture = make_expression_claim("alpha_max <= 1", test::kToyDomain);
  const std::vector<const Claim*> claims = {conjecture.get()};
  write_results_files(tmp.path(), claims, {test::toy_survived()});
  const fs::path file = tmp.path() / "tightest" / "conjecture.json";
  ASSERT_TRUE(fs::is_regular_file(file));
  EXPECT_EQ(test::read_file(file), tightest_json(*conjecture, test::toy_survived()).dump(2) + "\n");
  // The user's files in tightest/ are theirs; a tightest file of this run's claim that this run
  // did not write is stale and goes.
  std::ofstream(tmp.path() / "tightest" / "my-notes.json") << "{}\n";
  write_results_files(tmp.path(), claims, {test::toy_refuted()});
  EXPECT_FALSE(fs::exists(file));
  EXPECT_TRUE(fs::exists(tmp.path() / "tightest" / "my-notes.json"));
  EXPECT_TRUE(fs::exists(tmp.path() / "counterexamples" / "conjecture.json"));
}

TEST(ResultsFiles, RefusesALinkedTightestDirectoryBeforeWritingAnything) {
  test::ScratchDirectory tmp;
  fs::create_directories(tmp.path() / "elsewhere");
  std::ofstream(tmp.path() / "elsewhere" / "conjecture.json") << "the user's\n";
  fs::create_directory_symlink(tmp.path() / "elsewhere", tmp.path() / "tightest");
  const auto conjecture = make_expression_claim("alpha_max <= 1", test::kToyDomain);
  try {
    write_results_files(tmp.path(), {conjecture.get()}, {test::toy_refuted()});
    ADD_FAILURE() << "a symbolic link as tightest/ was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("tightest: is a symbolic link, not a directory"),
              std::string::npos) << e.what();
  }
  EXPECT_EQ(test::read_file(tmp.path() / "elsewhere" / "conjecture.json"), "the user's\n");
  EXPECT_FALSE(fs::exists(tmp.path() / "results.jsonl"));
}

}  // namespace
}  // namespace attncert
