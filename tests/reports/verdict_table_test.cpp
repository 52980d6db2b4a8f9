// The words and layout of a verdict (issue 14): derived claims apart, statistical claims "not
// rejected"/"rejected" at their confidence with their interval method, "printed*" for an
// adapted print, the degenerate / vacuous / per-family tightness in the note, and the counts of
// refutations by what they mean. Hand-built results, so every case is rendered on purpose.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "reports/verdict_counts.hpp"
#include "reports/verdict_note.hpp"
#include "reports/verdict_table.hpp"
#include "toy_claim_test_support.hpp"

namespace attncert {
namespace {

using test::toy_info;

// The line of `table` that starts with `id`.
std::string line_of(const std::string& table, const std::string& id) {
  const std::size_t at = table.find("\n" + id + " ");
  if (at == std::string::npos) return "<no line for " + id + ">";
  return table.substr(at + 1, table.find('\n', at + 1) - at - 1);
}

TEST(VerdictTable, HasTheKindAndVacuityColumnsAndShowsDerivedClaimsApart) {
  ClaimInfo derived = toy_info("A.derived", Provenance::Printed, ClaimKind::Derived);
  derived.derivation = "the triangle inequality";
  const test::ToyClaim d(derived);
  const test::ToyClaim p(toy_info("A.printed", Provenance::Printed, ClaimKind::Inequality));
  // The derived claim comes first in the catalog order; the table still lists it apart.
  const std::string table = verdict_table_text({&d, &p}, {test::toy_survived(), test::toy_survived()});
  const std::string header = table.substr(0, table.find('\n'));
  for (const char* column : {"claim", "provenance", "kind", "verdict", "certified", "tightness",
                             "vacuity", "bits", "note"}) {
    EXPECT_NE(header.find(column), std::string::npos) << column << " missing in\n" << header;
  }
  const std::size_t block = table.find("derived steps");
  ASSERT_NE(block, std::string::npos) << table;
  EXPECT_LT(table.find("\nA.printed "), block) << table;
  EXPECT_GT(table.find("\nA.derived "), block) << table;
  EXPECT_NE(table.find("cannot fail for a correct implementation"), std::string::npos);
  const std::string row = line_of(table, "A.derived");
  EXPECT_NE(row.find(" derived "), std::string::npos) << row;
  EXPECT_NE(row.find("0.125"), std::string::npos) << row;  // vacuity
  EXPECT_NE(row.find("derived from the triangle inequality"), std::string::npos) << row;
}

TEST(VerdictTable, WithoutDerivedClaimsHasNoDerivedBlock) {
  const test::ToyClaim p(toy_info("A.printed", Provenance::Printed, ClaimKind::Inequality));
  EXPECT_EQ(verdict_table_text({&p}, {test::toy_survived()}).find("derived steps"), std::string::npos);
}

TEST(VerdictTable, StatisticalClaimsAreNotRejectedOrRejectedAtTheirConfidence) {
  ClaimInfo info = toy_info("B.stat", Provenance::Printed, ClaimKind::Statistical);
  info.confidence = 0.99;
  info.interval_method = "Student-t (asymptotic)";
  const test::ToyClaim c(info);
  const std::string kept = line_of(verdict_table_text({&c}, {test::toy_survived()}), "B.stat");
  EXPECT_NE(kept.find(" not rejected "), std::string::npos) << kept;
  EXPECT_EQ(kept.find("survived"), std::string::npos) << kept;
  EXPECT_NE(kept.find("not rejected at confidence 0.99 (Student-t (asymptotic) intervals)"),
            std::string::npos) << kept;
  const std::string rejected = line_of(verdict_table_text({&c}, {test::toy_refuted()}), "B.stat");
  EXPECT_NE(rejected.find(" REJECTED "), std::string::npos) << rejected;
}

TEST(VerdictTable, AnAdaptedPrintIsPrintedStarAndTheNoteSaysWhatWasAdapted) {
  ClaimInfo info = toy_info("A.cor1", Provenance::Printed, ClaimKind::Inequality);
  info.adapted = "Delta over the keys only";
  const test::ToyClaim c(info);
  const std::string table = verdict_table_text({&c}, {test::toy_survived()});
  const std::string row = line_of(table, "A.cor1");
  EXPECT_NE(row.find(" printed* "), std::string::npos) << row;
  EXPECT_NE(row.find("adapted: Delta over the keys only"), std::string::npos) << row;
  EXPECT_NE(table.find("printed* = "), std::string::npos) << "no legend for printed*";
  const test::ToyClaim verbatim(toy_info("A.cor3", Provenance::Printed, ClaimKind::Inequality));
  EXPECT_EQ(provenance_label(verbatim.info()), "printed");
}

TEST(VerdictNote, ShowsPerFamilyTightnessAndDegenerateAndVacuousInstancesApart) {
  const test::ToyClaim c(toy_info("A.toy", Provenance::Printed, ClaimKind::Inequality));
  const std::string note = verdict_note(c, test::toy_survived());
  EXPECT_NE(note.find("tightness per side (over informative instances): lower 0.250000 over 30, "
                      "upper 0.750000 over 28 (3 vacuous)"),
            std::string::npos)
      << note;
  EXPECT_NE(note.find("5 degenerate (tightness 1.000000, not counted above)"), std::string::npos) << note;
  EXPECT_NE(note.find("3 vacuous"), std::string::npos) << note;
}

TEST(VerdictNote, ConsistentNamesTheWidthThreshold) {
  const test::ToyClaim c(toy_info("C.identity", Provenance::Classical, ClaimKind::Inequality));
  ClaimResult r = test::toy_survived();
  r.consistent = 12;
  const std::string note = verdict_note(c, r);
  EXPECT_NE(note.find("12 consistent (identity: the enclosures of both sides overlap, within the "
                      "relative width threshold)"),
            std::string::npos) << note;
}

TEST(VerdictCounts, SeparatePrintedReconstructedReadingsAndConjectures) {
  const test::ToyClaim printed(toy_info("A.cor3", Provenance::Printed, ClaimKind::Inequality));
  const test::ToyClaim classical(toy_info("C.x", Provenance::Classical, ClaimKind::Inequality));
  const test::ToyClaim reading1(toy_info("A.thm1-fixed-A", Provenance::Reading, ClaimKind::Inequality));
  const test::ToyClaim reading2(toy_info("A.cor2-ii-monotone", Provenance::Reading, ClaimKind::Trend));
  const VerdictCounts c = count_verdicts(
      {&printed, &classical, &reading1, &reading2},
      {test::toy_refuted(), test::toy_survived(), test::toy_refuted(), test::toy_refuted()});
  EXPECT_EQ(c.refuted, 3);
  EXPECT_EQ(c.survived, 1);
  EXPECT_EQ(refutation_breakdown(c),
            "refuted: 1 printed (A.cor3), 0 reconstructed, 0 classical; rejected readings: 2 "
            "(A.thm1-fixed-A, A.cor2-ii-monotone)");
  const test::ToyClaim conjecture(toy_info("conjecture", Provenance::Conjecture, ClaimKind::Inequality));
  EXPECT_EQ(refutation_breakdown(count_verdicts({&conjecture}, {test::toy_refuted()})),
            "refuted: 0 printed, 0 reconstructed, 0 classical; rejected readings: 0; refuted "
            "conjectures: 1 (conjecture)");
}

TEST(VerdictCounts, AdaptedPrintsAndClassicalStatementsAreCountedApart) {
  ClaimInfo adapted_info = toy_info("A.cor1", Provenance::Printed, ClaimKind::Inequality);
  adapted_info.adapted = "Delta over the keys only";
  const test::ToyClaim adapted(adapted_info);
  const test::ToyClaim reconstructed(toy_info("B.x", Provenance::Reconstructed, ClaimKind::Inequality));
  const test::ToyClaim classical(toy_info("C.x", Provenance::Classical, ClaimKind::Inequality));
  EXPECT_EQ(refutation_breakdown(count_verdicts({&adapted, &reconstructed, &classical},
                                                {test::toy_refuted(), test::toy_refuted(), test::toy_refuted()})),
            "refuted: 0 printed, 1 printed* (adapted) (A.cor1), 1 reconstructed (B.x), 1 classical (C.x); "
            "rejected readings: 0");
}

}  // namespace
}  // namespace attncert
