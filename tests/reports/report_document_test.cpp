// The report's verification section (issue 14): the verdict table with kind and vacuity, derived
// claims in a table of their own, the refutations counted by what they mean, and each rejected
// reading stated with its counterexample. Hand-built results: report_document is a pure function.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "reports/pdflatex.hpp"
#include "reports/report_document.hpp"
#include "scratch_directory_test_support.hpp"
#include "toy_claim_test_support.hpp"

namespace attncert {
namespace {

using test::toy_info;

// A verification with a derived claim, a refuted printed claim and a rejected reading.
struct ReadingsAndDerived {
  ClaimInfo derived_info = [] {
    ClaimInfo i = toy_info("C.performer-unbiased", Provenance::Reconstructed, ClaimKind::Derived);
    i.derivation = "Markov's inequality";
    return i;
  }();
  ClaimInfo reading_info = [] {
    ClaimInfo i = toy_info("A.cor2-i-exactly", Provenance::Reading, ClaimKind::Inequality);
    i.note = "the condition read as necessary and sufficient";
    i.statement_latex = "\\alpha_{\\max} \\le 1";
    return i;
  }();
  test::ToyClaim derived{derived_info}, reading{reading_info};
  test::ToyClaim printed{toy_info("A.cor3", Provenance::Printed, ClaimKind::Inequality)};
  CatalogVerification v() const {
    CatalogVerification c;
    c.claims = {&derived, &printed, &reading};
    c.results = {test::toy_survived(), test::toy_refuted(), test::toy_refuted()};
    c.instances = 500;
    return c;
  }
};

TEST(ReportDocument, VerificationHasTheNewColumnsDerivedTableCountsAndRejectedReadings) {
  const ReadingsAndDerived catalog;
  const CatalogVerification v = catalog.v();
  ReportOptions o;
  o.tool_version = "test";
  const std::string tex = report_document(o, {}, v, std::nullopt);

  EXPECT_NE(tex.find("Claim & Provenance & Kind & Verdict & Certified & Tightness & Vacuity & Bits"),
            std::string::npos);
  // The derived claim is in its own table, after the main one (a label opens its table).
  const std::size_t main_table = tex.find("\\label{tab:verification}");
  const std::size_t derived_table = tex.find("\\label{tab:derived}");
  ASSERT_NE(main_table, std::string::npos);
  ASSERT_NE(derived_table, std::string::npos) << "no table of derived steps";
  const std::size_t printed_row = tex.find("\\texttt{A.cor3}");
  EXPECT_GT(printed_row, main_table);
  EXPECT_LT(printed_row, derived_table);
  EXPECT_GT(tex.find("\\texttt{C.performer-unbiased}"), derived_table);
  EXPECT_NE(tex.find("derived from Markov{'}s inequality"), std::string::npos);
  // Counts: a printed refutation and a rejected reading are not one number.
  EXPECT_NE(tex.find("refuted: 1 printed (A.cor3), 0 reconstructed, 0 classical; rejected "
                     "readings: 1 (A.cor2-i-exactly)"),
            std::string::npos);
  // The rejected reading, stated, with its counterexample.
  const std::size_t readings = tex.find("\\paragraph{Rejected readings.}");
  ASSERT_NE(readings, std::string::npos);
  const std::string list = tex.substr(readings);
  EXPECT_NE(list.find("\\texttt{A.cor2-i-exactly}"), std::string::npos);
  EXPECT_NE(list.find("the condition read as necessary and sufficient"), std::string::npos);
  EXPECT_NE(list.find("Counterexample (side `upper'"), std::string::npos);
  EXPECT_EQ(list.find("\\texttt{A.cor3}"), std::string::npos) << "a printed claim is not a reading";
  // Vacuity of the derived claim's result.
  EXPECT_NE(tex.find("& 0.125 &"), std::string::npos);
  // The same input, the same bytes.
  EXPECT_EQ(tex, report_document(o, {}, v, std::nullopt));
}

TEST(ReportDocument, StatisticalVerdictIsNotRejected) {
  ClaimInfo info = toy_info("B.stat", Provenance::Printed, ClaimKind::Statistical);
  info.confidence = 0.99;
  const test::ToyClaim c(info);
  CatalogVerification v;
  v.claims = {&c};
  v.results = {test::toy_survived()};
  const std::string tex = report_document(ReportOptions{}, {}, v, std::nullopt);
  EXPECT_NE(tex.find("& not rejected &"), std::string::npos);
  EXPECT_EQ(tex.find("\\label{tab:derived}"), std::string::npos);
}

TEST(ReportDocument, TheVerificationSectionCompiles) {
  const auto pdflatex = latex::find_program("pdflatex");
  if (!pdflatex) GTEST_SKIP() << "pdflatex not found on PATH (Debian: " << latex::kTexPackages << ")";
  const ReadingsAndDerived catalog;
  ReportOptions o;
  o.tool_version = "test";
  test::ScratchDirectory tmp;
  std::ofstream(tmp.path() / "report.tex") << report_document(o, {}, catalog.v(), std::nullopt);
  const latex::PdflatexRun run = latex::run_pdflatex(*pdflatex, tmp.path().string(), "report.tex", 1);
  ASSERT_TRUE(run.ok) << run.error;
  // Eight columns fit the text width even with the catalog's longest ids (20 characters).
  const std::string log = test::read_file(run.log_path);
  EXPECT_EQ(log.find("Overfull \\hbox"), std::string::npos)
      << log.substr(log.find("Overfull \\hbox"), 200);
}

}  // namespace
}  // namespace attncert
