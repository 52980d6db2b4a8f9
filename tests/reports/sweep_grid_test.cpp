// The --grid language: every form of the syntax gives the documented values, every malformed
// grid is a one-line std::invalid_argument naming the axis and the problem, several grids merge
// with the later one winning, and experiments reject axes they do not have.
//
// RapidCheck properties: parse_grid(grid_text(g)) == g, and parse_grid never crashes on random
// text over the grid alphabet (it returns a well-formed grid or throws std::invalid_argument).
// Reproducing: the seed is printed at start; RC_PARAMS="seed=N" ./sweep_grid_test.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "reports/sweep_grid.hpp"

namespace attncert::sweeps {
namespace {

class PrintRapidCheckSeed : public ::testing::Environment {
 public:
  void SetUp() override {
    const auto seed = rc::detail::configuration().testParams.seed;
    std::cout << "[ seed ] RapidCheck seed " << seed << " (reproduce with RC_PARAMS=\"seed=" << seed
              << "\")" << std::endl;
  }
};
[[maybe_unused]] const ::testing::Environment* const kSeedPrinter =
    ::testing::AddGlobalTestEnvironment(new PrintRapidCheckSeed);

std::vector<double> values_of(const std::string& text, const std::string& axis) {
  const Grid g = parse_grid(text);
  const GridAxis* a = g.find(axis);
  if (!a) throw std::logic_error("no axis " + axis);
  return a->values;
}

TEST(ParseGrid, SingleValuesListsAndOrder) {
  const Grid g = parse_grid("  N = 5 , T={0.01, 0.1,1}, L=+32 ");
  ASSERT_EQ(g.axes.size(), 3u);
  EXPECT_EQ(g.axes[0].name, "N");
  EXPECT_EQ(g.axes[0].values, std::vector<double>{5});
  EXPECT_EQ(g.axes[1].name, "T");
  EXPECT_EQ(g.axes[1].values, (std::vector<double>{0.01, 0.1, 1}));
  EXPECT_EQ(g.axes[2].values, std::vector<double>{32});
  EXPECT_TRUE(parse_grid("").axes.empty());
  EXPECT_TRUE(parse_grid("   ").axes.empty());
}

TEST(ParseGrid, Ranges) {
  const std::vector<double> powers = {32, 64, 128, 256, 512, 1024};
  EXPECT_EQ(values_of("L=32..1024:log2", "L"), powers);
  EXPECT_EQ(values_of("L=32..1024:x2", "L"), powers);
  EXPECT_EQ(values_of("L=32..1000:x2", "L"), (std::vector<double>{32, 64, 128, 256, 512}));
  EXPECT_EQ(values_of("N=1..4", "N"), (std::vector<double>{1, 2, 3, 4}));
  EXPECT_EQ(values_of("N=3..3", "N"), std::vector<double>{3});
  // Generated values are rounded to 15 digits, so they equal the literals a user would type.
  EXPECT_EQ(values_of("T=0.1..0.3:+0.1", "T"), (std::vector<double>{0.1, 0.2, 0.3}));
  EXPECT_EQ(values_of("T=0.01..10:n4", "T"), (std::vector<double>{0.01, 0.1, 1, 10}));
  EXPECT_EQ(values_of("T=0.01..10:log10", "T"), (std::vector<double>{0.01, 0.1, 1, 10}));
  EXPECT_EQ(values_of("e=0..1:lin5", "e"), (std::vector<double>{0, 0.25, 0.5, 0.75, 1}));
  EXPECT_EQ(values_of("e=-1..1:+0.5", "e"), (std::vector<double>{-1, -0.5, 0, 0.5, 1}));
  EXPECT_EQ(values_of("T=2..2:n1", "T"), std::vector<double>{2});
}

// The message names the axis (or the text) and the problem, on one line.
void expect_error(const std::string& text, const std::string& fragment) {
  SCOPED_TRACE("grid: " + text);
  try {
    (void)parse_grid(text);
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(fragment), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

TEST(ParseGrid, MalformedGridsNameTheAxisAndTheProblem) {
  expect_error("L=1..4:q2", "axis 'L': unknown step ':q2'");
  expect_error("L=1024..32:log2", "axis 'L': empty range 1024..32");
  expect_error("L=abc", "axis 'L': 'abc' is not a number");
  expect_error("L=1..x", "axis 'L': 'x' is not a number");
  expect_error("T=nan", "axis 'T': 'nan' is not finite");
  expect_error("T=inf", "axis 'T': 'inf' is not finite");
  expect_error("T={1,-inf}", "axis 'T': '-inf' is not finite");
  expect_error("T=1e400", "axis 'T': '1e400' is out of the range");
  expect_error("L=1, N=2, L=3", "axis 'L': given twice");
  expect_error("L=1..1e6", "axis 'L': 1000000 points, more than the cap of 100000");
  expect_error("L=1..2:x1.0000001", "axis 'L':");
  expect_error("T=0..1:x2", "axis 'T': geometric step ':x2' needs a start > 0");
  expect_error("T=-1..1:n3", "axis 'T': geometric step ':n3' needs a start > 0");
  expect_error("L=1..4:+0", "axis 'L': step ':+0' must be > 0");
  expect_error("L=1..4:x1", "axis 'L': step ':x1' needs a factor > 1");
  expect_error("L=1..4:n0", "axis 'L': step ':n0' needs a whole number");
  expect_error("L=1..4:lin2.5", "axis 'L': step ':lin2.5' needs a whole number");
  expect_error("L=1..4:n1", "axis 'L': step ':n1' gives one point");
  expect_error("L=1..4:x", "axis 'L': unknown step ':x'");
  expect_error("T={}", "axis 'T': empty list");
  expect_error("T={1,,2}", "axis 'T': empty entry");
  expect_error("T={1,1}", "axis 'T': the list repeats the value 1");
  expect_error("T={1,2", "unbalanced");
  expect_error("T=1}", "unbalanced");
  expect_error("T={{1}}", "nested");
  expect_error("L", "expected NAME=VALUES");
  expect_error("L=1,", "an empty axis");
  expect_error("1L=3", "'1L' is not an axis name");
  expect_error("=3", "'' is not an axis name");
  expect_error("L=", "axis 'L': no value");
}

TEST(ParseGrid, PrintsCanonicalText) {
  EXPECT_EQ(grid_text(parse_grid("L=32..128:x2, T=0.1")), "L={32,64,128}, T={0.1}");
  EXPECT_EQ(grid_text(Grid{}), "");
}

TEST(MergeGrids, LaterWinsPerAxisAndNewAxesAppend) {
  const Grid merged = merge_grids(parse_grid("L=1..3, N=5"), parse_grid("N={6,7}, T=2"));
  EXPECT_EQ(grid_text(merged), "L={1,2,3}, N={6,7}, T={2}");
}

TEST(CompleteGrid, UnknownAxisListsTheExperimentsAxes) {
  const std::vector<std::string> axes = {"L", "N"};
  try {
    (void)complete_grid(parse_grid("Q=1"), "L=4, N=1", axes, "demo");
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "--grid axis 'Q': sweep demo has no such axis (its axes: L, N)");
  }
  EXPECT_THROW((void)complete_grid(parse_grid("L=1..1000, N=1..1001"), "", axes, "demo"), std::invalid_argument);
  EXPECT_NO_THROW((void)complete_grid(parse_grid("L=1..1000, N=1..1000"), "", axes, "demo"));  // 10^6
  // Unspecified axes come from the defaults; given ones override them.
  EXPECT_EQ(grid_text(complete_grid(parse_grid("N=2"), "L=4, N=1", axes, "demo")), "L={4}, N={2}");
}

TEST(ResolveGrid, QuickOrDefaultThenEveryGridInOrder) {
  Experiment e;
  e.name = "demo";
  e.axes = {"L", "N", "T"};
  e.default_grid = "L=1..4, N=1, T=1";
  e.quick_grid = "L=2";
  EXPECT_EQ(grid_text(resolve_grid(e, false, {})), "L={1,2,3,4}, N={1}, T={1}");
  // Quick: the quick grid's axes, the rest from the default grid.
  EXPECT_EQ(grid_text(resolve_grid(e, true, {})), "L={2}, N={1}, T={1}");
  EXPECT_EQ(grid_text(resolve_grid(e, true, {"N=3, T=5", "N=4"})), "L={2}, N={4}, T={5}");
  EXPECT_THROW((void)resolve_grid(e, false, {"Z=1"}), std::invalid_argument);
}

TEST(IntegerValue, ChecksWholeNumbersInRange) {
  EXPECT_EQ(integer_value(5, "N", 1, 10), 5);
  EXPECT_THROW((void)integer_value(2.5, "N", 1, 10), std::invalid_argument);
  EXPECT_THROW((void)integer_value(0, "N", 1, 10), std::invalid_argument);
  EXPECT_THROW((void)integer_value(11, "N", 1, 10), std::invalid_argument);
}

// Any finite double (from raw bits, so subnormals, huge values and −0 occur).
rc::Gen<double> finite_double() {
  return rc::gen::suchThat(rc::gen::map(rc::gen::arbitrary<std::uint64_t>(),
                                        [](std::uint64_t bits) { return std::bit_cast<double>(bits); }),
                           [](double x) { return std::isfinite(x); });
}

RC_GTEST_PROP(GridProperties, ParseInvertsPrint, ()) {
  const auto count = *rc::gen::inRange<std::size_t>(0, 4);
  RC_TAG(count);
  const std::vector<std::string> names = {"L", "N", "T", "Delta_over_T", "d2", "_x"};
  Grid g;
  for (std::size_t i = 0; i < count; ++i) {
    GridAxis axis{names[i], {}};
    const auto values = *rc::gen::nonEmpty(rc::gen::container<std::vector<double>>(finite_double()));
    for (double v : values) {
      if (std::find(axis.values.begin(), axis.values.end(), v) == axis.values.end()) axis.values.push_back(v);
    }
    g.axes.push_back(axis);
  }
  const Grid back = parse_grid(grid_text(g));
  RC_ASSERT(back.axes.size() == g.axes.size());
  for (std::size_t i = 0; i < g.axes.size(); ++i) {
    RC_ASSERT(back.axes[i].name == g.axes[i].name);
    RC_ASSERT(back.axes[i].values == g.axes[i].values);
  }
}

RC_GTEST_PROP(GridProperties, RandomTextParsesOrThrowsInvalidArgument, ()) {
  // Grids built from the syntax (numbers, lists, ranges with steps; some numbers bad), then
  // perhaps damaged by deleting or inserting a character, so draws are both valid and not.
  const std::vector<std::string> numbers = {"1", "32", "0.5", "-2", "1e3", "1e-300", "0", "1e400", "nan", "inf", "x"};
  const std::vector<std::string> steps = {"", ":x2", ":+1", ":+0.25", ":n3", ":lin4", ":log10", ":q", ":n0", ":x1"};
  const auto number = rc::gen::elementOf(numbers);
  const auto axes = *rc::gen::inRange(0, 4);
  std::string text;
  for (int a = 0; a < axes; ++a) {
    std::string spec;
    switch (*rc::gen::inRange(0, 3)) {
      case 0: spec = *number; break;
      case 1: {
        const auto items = *rc::gen::container<std::vector<std::string>>(number);
        spec = "{";
        for (std::size_t k = 0; k < items.size(); ++k) spec += (k ? "," : "") + items[k];
        spec += "}";
        break;
      }
      default: spec = *number + ".." + *number + *rc::gen::elementOf(steps);
    }
    text += (a ? "," : "") + std::string(1, "LNTL"[*rc::gen::inRange(0, 4)]) + "=" + spec;
  }
  if (!text.empty() && *rc::gen::arbitrary<bool>()) {
    const auto at = *rc::gen::inRange<std::size_t>(0, text.size());
    if (*rc::gen::arbitrary<bool>()) {
      text.erase(at, 1);
    } else {
      text.insert(at, 1, *rc::gen::elementOf(std::string("=.,{}:+-x ")));
    }
  }
  try {
    const Grid g = parse_grid(text);
    RC_TAG(g.axes.empty() ? "empty grid" : "parsed");
    for (const GridAxis& a : g.axes) {
      RC_ASSERT(!a.values.empty());
      RC_ASSERT(a.values.size() <= kMaxAxisPoints);
      for (double v : a.values) RC_ASSERT(std::isfinite(v));
    }
  } catch (const std::invalid_argument& e) {
    RC_TAG("rejected");
    RC_ASSERT(std::string(e.what()).find('\n') == std::string::npos);
  }
}

}  // namespace
}  // namespace attncert::sweeps
