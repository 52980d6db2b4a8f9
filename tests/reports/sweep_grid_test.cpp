// The --grid language: every form of the syntax gives the documented values, every malformed
// grid is a one-line std::invalid_argument naming the axis and the problem, several grids merge
// with the later one winning; complete_grid checks every kind of axis and fills the unnamed ones
// from their one declaration, and every experiment's quick grid coarsens its default one.
//
// RapidCheck properties: parse_grid(grid_text(g)) == g, and parse_grid never crashes on random
// text over the grid alphabet (it returns a well-formed grid or throws std::invalid_argument).
// Reproducing: the seed is printed at start; RC_PARAMS="seed=N" ./sweep_grid_test.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
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

// A demo experiment's axes: one of each kind (integer, real, single setting).
std::vector<AxisSpec> demo_axes() {
  AxisSpec setting{"S", "3", "", true, 1, 10, "a setting"};
  setting.single = true;
  return {{"L", "1..4", "{2,4}", true, 1, 100, "length"}, {"T", "{0.5,1}", "", false, 0.1, 10, "temperature"},
          setting};
}

// The one-line message of what `call` throws as E ("" when it does not throw).
template <typename E, typename F>
std::string error_of(F call) {
  try {
    call();
  } catch (const E& e) {
    return e.what();
  }
  return "";
}

TEST(CompleteGrid, UnknownAxisListsTheDeclaredAxes) {
  EXPECT_EQ(error_of<std::invalid_argument>([] { (void)complete_grid(parse_grid("Q=1"), demo_axes(), "demo"); }),
            "--grid axis 'Q': sweep demo has no such axis (its axes: L, T, S)");
}

TEST(CompleteGrid, UnnamedAxesComeFromTheDeclarationInItsOrder) {
  EXPECT_EQ(grid_text(complete_grid({}, demo_axes(), "demo")), "L={1,2,3,4}, T={0.5,1}, S={3}");
  EXPECT_EQ(grid_text(complete_grid({}, demo_axes(), "demo", true)), "L={2,4}, T={0.5,1}, S={3}");
  // Given axes win, in any order; the result keeps the declaration's order.
  EXPECT_EQ(grid_text(complete_grid(parse_grid("S=5, L=7"), demo_axes(), "demo", true)), "L={7}, T={0.5,1}, S={5}");
  EXPECT_EQ(declared_grid_text(demo_axes(), false), "L=1..4, T={0.5,1}, S=3");
  EXPECT_EQ(declared_grid_text(demo_axes(), true), "L={2,4}, T={0.5,1}, S=3");
}

TEST(CompleteGrid, EachKindOfAxisRefusesWhatItDoesNotAdmitNamingTheAxis) {
  const auto error = [](const Grid& given) {
    return error_of<std::invalid_argument>([&] { (void)complete_grid(given, demo_axes(), "demo"); });
  };
  // Integer axis: whole numbers in [min, max].
  EXPECT_EQ(error(parse_grid("L=2.5")), "--grid axis 'L': 2.5 is not a whole number (length)");
  EXPECT_EQ(error(parse_grid("L={1,101}")), "--grid axis 'L': 101 is outside [1, 100] (length)");
  EXPECT_EQ(error(parse_grid("L=100")), "");
  // Real axis: [min, max] with both ends included; NaN (only from code: the parser refuses it) is outside.
  EXPECT_EQ(error(parse_grid("T=0.05")), "--grid axis 'T': 0.05 is outside [0.1, 10] (temperature)");
  EXPECT_EQ(error(parse_grid("T={0.1,10}")), "");
  EXPECT_EQ(error(Grid{{{"T", {NAN}}}}), "--grid axis 'T': nan is outside [0.1, 10] (temperature)");
  // A single axis takes one value; no axis takes none.
  EXPECT_EQ(error(parse_grid("S={1,2}")), "--grid axis 'S': takes one value, got 2 (a setting)");
  EXPECT_EQ(error(Grid{{{"L", {}}}}), "--grid axis 'L': no values (length)");
  // Syntax errors come from the parser, also naming the axis.
  EXPECT_EQ(error_of<std::invalid_argument>([] { (void)parse_grid("L=4..2"); }),
            "--grid axis 'L': empty range 4..2 (start above end)");
  EXPECT_EQ(error_of<std::invalid_argument>([] { (void)parse_grid("T=warm"); }),
            "--grid axis 'T': 'warm' is not a number");
  // Too many points in all.
  std::vector<AxisSpec> wide = {{"a", "1..1000", "", true, 1, 1e6, "a"}, {"b", "1..1001", "", true, 1, 1e6, "b"}};
  EXPECT_NE(error_of<std::invalid_argument>([&] { (void)complete_grid({}, wide, "demo"); }).find("more than the cap"),
            std::string::npos);
  wide[1].values = "1..1000";  // 10^6 points: the cap itself
  EXPECT_NO_THROW((void)complete_grid({}, wide, "demo"));
}

// A declaration its own checks refuse is a bug in the experiment, not bad input.
TEST(CompleteGrid, ARefusedDeclarationIsALogicError) {
  std::vector<AxisSpec> axes = demo_axes();
  axes[0].quick_values = "0.5";
  EXPECT_NO_THROW((void)complete_grid({}, axes, "demo"));
  EXPECT_EQ(error_of<std::logic_error>([&] { (void)complete_grid({}, axes, "demo", true); }),
            "sweep demo declares axis 'L' with values it refuses: 0.5 is outside [1, 100]");
}

TEST(ResolveGrid, QuickOrDefaultThenEveryGridInOrder) {
  Experiment e;
  e.name = "demo";
  e.axes = demo_axes();
  EXPECT_EQ(grid_text(resolve_grid(e, false, {})), "L={1,2,3,4}, T={0.5,1}, S={3}");
  EXPECT_EQ(grid_text(resolve_grid(e, true, {})), "L={2,4}, T={0.5,1}, S={3}");
  EXPECT_EQ(grid_text(resolve_grid(e, true, {"L=3, T=5", "L=4"})), "L={4}, T={5}, S={3}");
  EXPECT_THROW((void)resolve_grid(e, false, {"Z=1"}), std::invalid_argument);
  EXPECT_THROW((void)resolve_grid(e, false, {"L=0.5"}), std::invalid_argument);
}

// Every experiment's declarations: both grids parse and pass the axes' own checks, and the quick
// grid is a coarsening of the default one as AxisSpec::quick_values promises: per axis a subset
// of the default values, or one value no larger than the default's one (fewer trials, a smaller
// dimension); in all, no more points and no more work.
TEST(DeclaredGrids, QuickIsACoarseningOfTheDefaultForEveryExperiment) {
  for (const Experiment& e : experiments()) {
    SCOPED_TRACE(e.name);
    ASSERT_FALSE(e.axes.empty());
    const Grid full = resolve_grid(e, false, {});
    const Grid quick = resolve_grid(e, true, {});
    ASSERT_EQ(full.axes.size(), e.axes.size());
    ASSERT_EQ(quick.axes.size(), e.axes.size());
    double full_points = 1, quick_points = 1;
    for (std::size_t a = 0; a < e.axes.size(); ++a) {
      SCOPED_TRACE(e.axes[a].name);
      const std::vector<double>& f = full.axes[a].values;
      const std::vector<double>& q = quick.axes[a].values;
      EXPECT_EQ(full.axes[a].name, e.axes[a].name);
      if (e.axes[a].quick_values.empty()) {
        EXPECT_EQ(q, f);
      }
      const bool subset = std::all_of(q.begin(), q.end(),
                                      [&](double v) { return std::find(f.begin(), f.end(), v) != f.end(); });
      const bool smaller_single = q.size() == 1 && f.size() == 1 && q[0] <= f[0];
      EXPECT_TRUE(subset || smaller_single) << "quick " << grid_text(quick) << " vs default " << grid_text(full);
      full_points *= static_cast<double>(f.size());
      quick_points *= static_cast<double>(q.size());
    }
    EXPECT_LE(quick_points, full_points);
    EXPECT_LE(grid_work(e, quick), grid_work(e, full));
  }
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
