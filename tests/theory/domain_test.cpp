// Domains of user conjectures: every item form, the canonical round trip, and every error with
// its column.
#include "theory/domain.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <variant>

#include "theory/search_space.hpp"

namespace attncert {
namespace {

TEST(DomainParsing, TheDocumentedExample) {
  const Domain d = parse_domain("L in [2,64], T in [0.01,10] log, logits ~ normal(0,3)");
  ASSERT_EQ(d.items.size(), 3u);
  EXPECT_EQ(d.items[0].name, "L");
  EXPECT_EQ(d.items[0].column, 1u);
  EXPECT_EQ(std::get<DomainRange>(d.items[0].spec), (DomainRange{2, 64, true, false}));
  EXPECT_EQ(d.items[1].name, "T");
  EXPECT_EQ(d.items[1].column, 14u);
  EXPECT_EQ(std::get<DomainRange>(d.items[1].spec), (DomainRange{0.01, 10, false, true}));
  EXPECT_EQ(d.items[2].name, "logits");
  EXPECT_EQ(std::get<NormalLaw>(d.items[2].spec), (NormalLaw{0, 3}));
  EXPECT_EQ(d.find("T"), &d.items[1]);
  EXPECT_EQ(d.find("N"), nullptr);
}

TEST(DomainParsing, FixedValuesAndEveryLaw) {
  const Domain d = parse_domain(
      "N = 3, T = 2.5e-1, q ~ sphere(2), K ~ rademacher, X ~ uniform(-1, +1), logits ~ "
      "rademacher()");
  ASSERT_EQ(d.items.size(), 6u);
  EXPECT_EQ(std::get<DomainFixed>(d.items[0].spec).value, 3.0);
  EXPECT_EQ(std::get<DomainFixed>(d.items[1].spec).value, 0.25);
  EXPECT_EQ(std::get<SphereLaw>(d.items[2].spec).radius, 2.0);
  EXPECT_TRUE(std::holds_alternative<RademacherLaw>(d.items[3].spec));
  EXPECT_EQ(std::get<UniformLaw>(d.items[4].spec), (UniformLaw{-1, 1}));
  EXPECT_TRUE(std::holds_alternative<RademacherLaw>(d.items[5].spec));
}

TEST(DomainParsing, EmptyTextIsTheEmptyDomain) {
  EXPECT_TRUE(parse_domain("").items.empty());
  EXPECT_TRUE(parse_domain(" \t\n").items.empty());
}

TEST(DomainParsing, DegenerateRangesAndUniformsAreAllowed) {
  EXPECT_EQ(std::get<DomainRange>(parse_domain("L in [4, 4]").items[0].spec).lower, 4.0);
  EXPECT_EQ(std::get<UniformLaw>(parse_domain("logits ~ uniform(1, 1)").items[0].spec).upper, 1.0);
}

TEST(DomainParsing, CanonicalTextRoundTrips) {
  const Domain d = parse_domain(
      "L in[1,1024]log,T=1e-5,d in [ 1 , 8 ],logits~normal(-0.5,3),q~sphere(1),K~rademacher,"
      "X~uniform(-2,2)");
  const std::string canonical = to_string(d);
  EXPECT_EQ(canonical,
            "L in [1, 1024] log, T = 1e-05, d in [1, 8], logits ~ normal(-0.5, 3), q ~ sphere(1), "
            "K ~ rademacher, X ~ uniform(-2, 2)");
  EXPECT_EQ(parse_domain(canonical), d);
}

TEST(DomainParsing, CustomRegistry) {
  const QuantityRegistry r{{"w", QuantityKind::RealParameter, "unbounded"},
                           {"v", QuantityKind::VectorInput, "vector"}};
  const Domain d = parse_domain("w in [-3, -1], v ~ normal(1, 0.5)", r);
  EXPECT_EQ(std::get<DomainRange>(d.items[0].spec), (DomainRange{-3, -1, false, false}));
  EXPECT_THROW(parse_domain("L in [1, 2]", r), ParseError);
}

// --- errors ---------------------------------------------------------------------------

void expect_error(std::string_view text, std::size_t column, std::string_view detail_part) {
  try {
    parse_domain(text);
  } catch (const ParseError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << "not one line: " << what;
    EXPECT_EQ(e.column(), column) << text << " -> " << what;
    EXPECT_NE(e.detail().find(detail_part), std::string::npos)
        << text << " -> " << what << "\n  wanted: " << detail_part;
    return;
  }
  ADD_FAILURE() << "no ParseError for '" << text << "'";
}

TEST(DomainErrors, EmptyOrReversedRangesNameTheItem) {
  expect_error("L in [64, 2]", 7, "empty range for 'L': lower bound 64 exceeds upper bound 2");
  expect_error("T in [1, 0.5]", 7, "empty range for 'T'");
}

TEST(DomainErrors, IntegerParametersNeedIntegers) {
  expect_error("L in [2.5, 3]", 7, "expected an integer of magnitude at most 2^53 for integer "
                                   "parameter 'L', found '2.5'");
  expect_error("N = 1.5", 5, "integer parameter 'N'");
  expect_error("L in [1, 1e300]", 10, "found '1e300'");
}

TEST(DomainErrors, BoundsRespectTheAdmissibleMinimum) {
  expect_error("T in [0, 1]", 7, "'T' must be > 0, found '0'");
  expect_error("L in [0, 4]", 7, "'L' must be >= 1, found '0'");
  expect_error("T = -1", 5, "'T' must be > 0, found '-1'");
}

TEST(DomainErrors, LogScaleNeedsAPositiveRange) {
  const QuantityRegistry r{{"w", QuantityKind::RealParameter, "unbounded"}};
  try {
    parse_domain("w in [0, 1] log", r);
    ADD_FAILURE() << "no error";
  } catch (const ParseError& e) {
    EXPECT_EQ(e.column(), 13u) << e.what();
    EXPECT_EQ(e.detail(), "log scale needs a positive range, but 'w' starts at 0");
  }
}

TEST(DomainErrors, DuplicatesAreErrors) {
  expect_error("L in [2, 4], L = 3", 14, "duplicate item for 'L' (first given at column 1)");
  expect_error("logits ~ rademacher, logits ~ normal(0, 1)", 22, "duplicate item for 'logits'");
}

TEST(DomainErrors, LawParametersAreChecked) {
  expect_error("logits ~ normal(0, 0)", 20, "normal needs sigma > 0, found 0");
  expect_error("logits ~ normal(0, -1)", 20, "normal needs sigma > 0, found -1");
  expect_error("logits ~ uniform(1, 0)", 18, "uniform needs lower <= upper, found 1 > 0");
  expect_error("q ~ sphere(0)", 12, "sphere needs radius > 0");
  expect_error("logits ~ normal(0)", 10,
               "distribution 'normal' takes 2 parameters (mean, sigma), found 1");
  expect_error("logits ~ rademacher(1)", 10, "distribution 'rademacher' takes 0 parameters, found 1");
  expect_error("q ~ sphere", 11, "expected '(' after 'sphere', found end of input");
  expect_error("logits ~ gauss(0, 1)", 10, "unknown distribution 'gauss'; distributions: normal");
  expect_error("logits ~ normall(0, 1)", 10, "(did you mean 'normal'?)");
  expect_error("logits ~ normal(0 1)", 19, "expected ',' or ')', found '1'");
  expect_error("logits ~ 3", 10, "expected a distribution");
}

TEST(DomainErrors, EachNameTakesTheRightKindOfItem) {
  // A vector input may take a box, which needs its length after the box.
  expect_error("logits in [0, 1]", 17, "'logits' is a vector input: give a distribution");
  expect_error("logits = 1", 8, "'logits' is a vector input: give a distribution");
  expect_error("logits = 1", 8, "'logits' is a vector input");
  expect_error("T ~ normal(0, 1)", 3, "'T' is a scalar parameter: give a range");
  expect_error("alpha_max in [0, 1]", 1,
               "'alpha_max' is a quantity computed from each instance and cannot be set");
  expect_error("pi = 3", 1, "'pi' is a constant and cannot be set");
}

TEST(DomainErrors, UnknownNamesSuggest) {
  expect_error("logit ~ normal(0, 1)", 1, "unknown name 'logit' (did you mean 'logits'?)");
  expect_error("zeta in [0, 1]", 1, "unknown name 'zeta'; known names: K, L, N, T, X, d, logits, m, q");
}

TEST(DomainErrors, Syntax) {
  expect_error("L in [2, 64", 12, "expected ']' to close the range, found end of input");
  expect_error("L in [2 64]", 9, "expected ',' between the bounds, found '64'");
  expect_error("L in 2, 64", 6, "expected '[' to open the range, found '2'");
  expect_error("L [2, 64]", 3, "expected 'in', '=' or '~' after 'L', found '['");
  expect_error("L == 3", 3, "found '=='");
  expect_error("L in [2, 64] lin", 14, "expected 'log', ',' or end of input, found 'lin'");
  expect_error("L in [2, 64] T = 1", 14, "found 'T'");
  expect_error("L in [2, 64],", 14, "expected a parameter name, found end of input");
  expect_error("L in [2, 64],, T = 1", 14, "expected a parameter name, found ','");
  expect_error("L in [2, 64] ; T = 1", 14, "expected ',' or end of input, found ';'");
  expect_error("L = 1e", 5, "an exponent needs digits");
  expect_error("L = x", 5, "expected a value, found 'x'");
  expect_error("L in [-, 2]", 8, "expected a number after the sign, found ','");
  expect_error(std::string(kMaxInputLength + 5, ' '), kMaxInputLength + 1,
               "expected at most 10000 characters");
}

// A range is the decimals written, so its double bounds round inward: the double nearest 0.3 is
// below 0.3 and must not be in [0.3, 1]; the double nearest 0.1 is above 0.1 and must not be in
// [0, 0.1]. The old parser kept the nearest doubles, admitting both.
TEST(DomainBounds, RangesAndUniformSupportsRoundInward) {
  const Domain d = parse_domain("T in [0.3, 0.1e1], X ~ uniform(-0.3, 0.1)");
  const auto& t = std::get<DomainRange>(d.items[0].spec);
  EXPECT_EQ(t.lower, std::nextafter(0.3, 1.0));  // 0.3 (nearest) < 0.3 (decimal)
  EXPECT_EQ(t.upper, 1.0);                       // exact bounds stay
  const auto& u = std::get<UniformLaw>(d.items[1].spec);
  EXPECT_EQ(u.lower, -0.3);                      // nearest to -0.3 is above it: already inward
  EXPECT_EQ(u.upper, std::nextafter(0.1, 0.0));  // 0.1 (nearest) > 0.1 (decimal)
  EXPECT_EQ(std::get<DomainRange>(parse_domain("T in [0.01, 10]").items[0].spec).lower, 0.01);
  // The canonical text reads back to the same doubles under the same rounding.
  EXPECT_EQ(parse_domain(to_string(d)), d);
  const Domain e = parse_domain("T in [0.7, 0.9], logits ~ uniform(0.7, 0.9)");
  EXPECT_EQ(parse_domain(to_string(e)), e) << to_string(e);
}

TEST(DomainBounds, ARangeHoldingNoDoubleIsAnError) {
  expect_error("T in [0.3, 0.3]", 7,
               "range [0.3, 0.3] for 'T' contains no double; write 'T = 0.3'");
  expect_error("logits ~ uniform(0.1, 0.1)", 18, "uniform(0.1, 0.1) contains no double");
}

SearchSpace logit_space() {
  return SearchSpace{{{"L", 1, 4, true, false, ""}, {"T", 0.5, 2, false, false, ""}},
                     {{"logits", "1", "L", Law::Normal, 0, 1, true, ""},
                      {"s", "1", "2", Law::Uniform, -1, 1, false, ""},
                      {"w", "L", "2", Law::Sphere, 2, 0, false, ""},
                      {"r", "1", "1", Law::Rademacher, 0, 1, false, ""}}};
}

Instance logit_instance() {
  Instance x;
  x.scalars = {{"L", 2}, {"T", 1}};
  x.arrays["logits"] = RowMatrix<double>{{0.5, -std::numeric_limits<double>::infinity()}};
  x.arrays["s"] = RowMatrix<double>{{-1, 1}};
  x.arrays["w"] = RowMatrix<double>{{0, 2}, {1.2, 1.6}};
  x.arrays["r"] = RowMatrix<double>{{-1}};
  return x;
}

void expect_outside(const SearchSpace& space, const Instance& x, const std::string& fragment) {
  try {
    space.check_contains(x);
    ADD_FAILURE() << "expected the instance to be refused (" << fragment << ")";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(SearchSpaceMembership, EveryKindOfFieldIsChecked) {
  const SearchSpace space = logit_space();
  space.validate();
  EXPECT_NO_THROW(space.check_contains(logit_instance()));
  struct Edit {
    void (*apply)(Instance&);
    const char* fragment;
  };
  const Edit edits[] = {
      {[](Instance& x) { x.scalars["T"] = 3; }, "T = 3 is outside its domain [0.5, 2]"},
      {[](Instance& x) { x.scalars["T"] = -1; }, "T = -1 is outside"},
      {[](Instance& x) { x.scalars["T"] = std::nextafter(0.5, 0.0); }, "T = 0.49999999999999994"},
      {[](Instance& x) { x.scalars["L"] = 1.5; }, "L = 1.5 is not an integer"},
      {[](Instance& x) { x.scalars.erase("T"); }, "scalar 'T' is missing"},
      {[](Instance& x) { x.scalars["N"] = 1; }, "scalar 'N' is not a parameter"},
      {[](Instance& x) { x.arrays["q"] = RowMatrix<double>{{1}}; }, "array 'q' is not an input"},
      {[](Instance& x) { x.arrays.erase("s"); }, "array 's' is missing"},
      {[](Instance& x) { x.scalars["L"] = 3; }, "array 'logits' is 1×2, but its shape 1×L is 1×3"},
      {[](Instance& x) { x.arrays["s"](0, 1) = 1.5; },
       "s[0, 1] = 1.5 is outside the support [-1, 1]"},
      {[](Instance& x) { x.arrays["s"](0, 0) = -std::numeric_limits<double>::infinity(); },
       "this input takes no masks"},
      {[](Instance& x) { x.arrays["logits"](0, 0) = std::numeric_limits<double>::infinity(); },
       "logits[0, 0] = inf is not finite"},
      {[](Instance& x) { x.arrays["logits"](0, 0) = -std::numeric_limits<double>::infinity(); },
       "logits row 0 is masked entirely"},
      {[](Instance& x) { x.arrays["w"](1, 1) = 1.7; }, "w row 1 has norm"},
      {[](Instance& x) { x.arrays["r"](0, 0) = 0.5; }, "r[0, 0] = 0.5 is not ±1"},
  };
  for (const Edit& edit : edits) {
    Instance x = logit_instance();
    edit.apply(x);
    expect_outside(space, x, edit.fragment);
  }
}

// d = 1e9 used to allocate (and take 47 s) before failing: the domain is refused by size.
TEST(SearchSpaceMembership, HugeArraysAreRefusedBeforeSampling) {
  SearchSpace space{{{"L", 1, 8, true, false, ""}, {"d", 1, 1e9, true, false, ""}},
                    {{"K", "L", "d", Law::Normal, 0, 1, false, ""}}};
  try {
    space.validate();
    ADD_FAILURE() << "a domain with up to 8e9 entries was accepted";
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("cap of 4194304"), std::string::npos) << msg;
    EXPECT_NE(msg.find("upper bound of d"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace attncert
