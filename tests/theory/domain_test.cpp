// Domains of user conjectures: every item form, the canonical round trip, and every error with
// its column.
#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "theory/domain.hpp"

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
  expect_error("logits in [0, 1]", 8, "'logits' is a vector input: give a distribution");
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

}  // namespace
}  // namespace attncert
