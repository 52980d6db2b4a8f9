// Tidy sweep CSV: header order, RFC 4180 quoting, empty cells for missing bounds, round-trip
// numbers, and a row that does not match its table is an error, not a shifted column.
#include <gtest/gtest.h>

#include <stdexcept>

#include "reports/sweep.hpp"

namespace attncert::sweeps {
namespace {

SweepTable sample_table() {
  SweepTable t;
  t.experiment = "demo";
  t.parameter_names = {"L", "T"};
  t.bound_names = {"printed bound", "tight"};
  t.seed = 7;
  t.rows.push_back({{32, 0.1}, "Delta/T=2", "L*alpha_max", 0.1, {1.5, std::nullopt}, {}, {}});
  t.rows.push_back({{64, 0.1}, "a,\"b\"", "rate", 1.0 / 3.0, {2.0, 0.5}, 0.25, 0.5});
  return t;
}

TEST(SweepCsv, TidyColumnsQuotingAndRoundTripNumbers) {
  const std::string csv = sweep_csv(sample_table());
  EXPECT_EQ(csv,
            "L,T,series,statistic,value,printed bound,tight,ci_low,ci_high,seed\r\n"
            "32,0.1,Delta/T=2,L*alpha_max,0.1,1.5,,,,7\r\n"
            "64,0.1,\"a,\"\"b\"\"\",rate,0.3333333333333333,2,0.5,0.25,0.5,7\r\n");
}

TEST(SweepCsv, SameTableGivesSameBytes) {
  EXPECT_EQ(sweep_csv(sample_table()), sweep_csv(sample_table()));
}

TEST(SweepCsv, RowWithWrongColumnCountIsAnError) {
  SweepTable t = sample_table();
  t.rows[1].bounds.pop_back();
  EXPECT_THROW(sweep_csv(t), std::logic_error);
}

TEST(Grid, FindsAxesByName) {
  Grid g{{{"L", {32, 64}}, {"N", {5}}}};
  ASSERT_NE(g.find("N"), nullptr);
  EXPECT_EQ(g.find("N")->values.size(), 1u);
  EXPECT_EQ(g.find("T"), nullptr);
}

}  // namespace
}  // namespace attncert::sweeps
