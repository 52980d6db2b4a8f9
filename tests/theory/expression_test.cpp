// The conjecture language: grammar (precedence, associativity, numbers), every function in
// double and Ball, certified containment, tri-state verdicts at ties, and every error with
// its column.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "numerics/ball.hpp"
#include "numerics/scalar_traits.hpp"
#include "theory/claim.hpp"  // Relation
#include "theory/decimal_literal.hpp"
#include "theory/expression.hpp"

namespace attncert {
namespace {

constexpr long kPrec = 128;

// A registry of its own, so the tests do not depend on the catalog's names.
const QuantityRegistry& test_registry() {
  static const QuantityRegistry r{
      {"x", QuantityKind::RealParameter, "x"},
      {"y", QuantityKind::RealParameter, "y"},
      {"z", QuantityKind::RealParameter, "z"},
      {"n", QuantityKind::IntegerParameter, "n", 1},
      {"der", QuantityKind::Derived, "a derived quantity"},
      {"v", QuantityKind::VectorInput, "a vector"},
      {"pi", QuantityKind::Constant, "pi"},
      {"e", QuantityKind::Constant, "e"},
  };
  return r;
}

Expression parse(std::string_view text) { return parse_expression(text, test_registry()); }

Lookup<double> env(std::map<std::string, double, std::less<>> values) {
  return [values = std::move(values)](std::string_view name) { return values.find(name)->second; };
}
Lookup<Ball> ball_env(std::map<std::string, double, std::less<>> values) {
  return [values = std::move(values)](std::string_view name) {
    return Ball(values.find(name)->second);  // the double's exact value
  };
}

double eval(std::string_view text, std::map<std::string, double, std::less<>> values = {}) {
  return parse(text).evaluate(env(std::move(values)));
}
Ball eval_ball(std::string_view text, std::map<std::string, double, std::less<>> values = {}) {
  return parse(text).evaluate(ball_env(std::move(values)), kPrec);
}

// --- grammar ------------------------------------------------------------------------------

TEST(ExpressionGrammar, PrecedenceFollowsTheGrammar) {
  EXPECT_EQ(parse("x + y * z").to_string(), "(x + (y * z))");
  EXPECT_EQ(parse("(x + y) * z").to_string(), "((x + y) * z)");
  EXPECT_EQ(parse("x * y ^ z").to_string(), "(x * (y ^ z))");
  EXPECT_EQ(parse("x / y + z").to_string(), "((x / y) + z)");
  EXPECT_EQ(parse("x * -y").to_string(), "(x * (-y))");
  EXPECT_EQ(parse("+x").to_string(), "x");
  EXPECT_EQ(parse("exp(x + 1) ^ 2").to_string(), "(exp((x + 1)) ^ 2)");
}

TEST(ExpressionGrammar, PowerBindsTighterThanUnaryMinus) {
  EXPECT_EQ(parse("-x^2").to_string(), "(-(x ^ 2))");
  EXPECT_EQ(eval("-2^2"), -4.0);
  EXPECT_EQ(eval("-x^2", {{"x", 3}}), -9.0);
  // A signed exponent is allowed: 2^-1, and 2^-x^2 = 2^(-(x^2)).
  EXPECT_EQ(parse("2^-x^2").to_string(), "(2 ^ (-(x ^ 2)))");
  EXPECT_EQ(eval("2^-1"), 0.5);
}

TEST(ExpressionGrammar, PowerIsRightAssociative) {
  EXPECT_EQ(parse("x^y^z").to_string(), "(x ^ (y ^ z))");
  EXPECT_EQ(eval("2^3^2"), 512.0);  // (2^3)^2 would be 64
}

TEST(ExpressionGrammar, SumsAndProductsAreLeftAssociative) {
  EXPECT_EQ(parse("x - y + z").to_string(), "(x - y + z)");
  EXPECT_EQ(eval("2 - 3 - 4"), -5.0);  // 2 - (3 - 4) would be 3
  EXPECT_EQ(eval("8 / 4 / 2"), 1.0);   // 8 / (4 / 2) would be 4
  EXPECT_EQ(eval("2 - 3 + 4"), 3.0);
  EXPECT_EQ(eval("8 / 4 * 2"), 4.0);
}

TEST(ExpressionGrammar, NumberLiteralsOfEveryForm) {
  EXPECT_EQ(eval("2"), 2.0);
  EXPECT_EQ(eval("0.5"), 0.5);
  EXPECT_EQ(eval(".5"), 0.5);
  EXPECT_EQ(eval("1."), 1.0);
  EXPECT_EQ(eval("1e-3"), 1e-3);
  EXPECT_EQ(eval("1.e5"), 1e5);
  EXPECT_EQ(eval("6.02E+23"), 6.02e23);
  EXPECT_EQ(eval("00012.500"), 12.5);
  EXPECT_EQ(eval("0e999999"), 0.0);  // zero needs no exponent
  EXPECT_EQ(eval("4.9e-324"), 4.9e-324);  // subnormal, still in double range
  EXPECT_EQ(parse("0.0012").to_string(), "0.0012");
  EXPECT_EQ(parse("1e300").to_string(), "1e300");
}

TEST(ExpressionGrammar, WhitespaceAnywhereBetweenTokens) {
  EXPECT_EQ(eval(" \tx\n+\r\n y ", {{"x", 1}, {"y", 2}}), 3.0);
}

TEST(ExpressionGrammar, CanonicalFormParsesBackToItself) {
  for (const char* text : {"-x^2 + 2^-1^2 * (n - 1) / max(x, y, z)", "exp(log(x)) - sqrt(abs(-y))",
                           "min(x, 1) ^ (y / 2) - -z", "pi * e - 0.001 * x"}) {
    const std::string canonical = parse(text).to_string();
    EXPECT_EQ(parse(canonical).to_string(), canonical) << text;
  }
}

TEST(ExpressionGrammar, LongFlatChainsDoNotCountAsNesting) {
  std::string sum = "1";
  for (int i = 1; i < 4000; ++i) sum += "+1";
  EXPECT_EQ(eval(sum), 4000.0);
  EXPECT_EQ(eval_ball(sum).mid(), 4000.0);
}

TEST(ExpressionGrammar, NamesUsedAreSortedUniqueAndExcludeConstants) {
  const Expression e = parse("z + x*y - x + pi*e");
  EXPECT_EQ(e.names_used(), (std::vector<std::string>{"x", "y", "z"}));
  EXPECT_TRUE(parse("pi + e + 1").names_used().empty());
  const InequalityExpression c = parse_inequality("x + der <= y + x", test_registry());
  EXPECT_EQ(c.names_used(), (std::vector<std::string>{"der", "x", "y"}));
  EXPECT_EQ(c.lhs.text(), "x + der");
  EXPECT_EQ(c.rhs.text(), "y + x");
}

TEST(ExpressionGrammar, DefaultRegistryKnowsTheCatalogNames) {
  const InequalityExpression c = parse_inequality("alpha_max <= exp(2*Delta/T)/L");
  EXPECT_EQ(c.names_used(), (std::vector<std::string>{"Delta", "L", "T", "alpha_max"}));
  for (const char* name : {"alpha_max", "alpha_min", "jacobian_norm", "Delta", "L", "T", "N",
                           "d", "m", "dtilde_A", "dtilde_B", "dtilde_C", "rank", "sigma_min",
                           "effective_rank", "stable_rank", "lse", "entropy", "pi", "e"}) {
    EXPECT_NO_THROW(parse_expression(name)) << name;
  }
  EXPECT_EQ(default_quantities().find("L")->kind, QuantityKind::IntegerParameter);
  EXPECT_EQ(default_quantities().find("pi")->kind, QuantityKind::Constant);
}

// --- evaluation -----------------------------------------------------------------------------

TEST(ExpressionEvaluation, EveryFunctionInDoubleAndBall) {
  struct Case {
    const char* text;
    double exact;  // representable, so the Ball must contain it
  };
  for (const Case& c : {Case{"exp(0)", 1.0}, Case{"log(1)", 0.0}, Case{"sqrt(6.25)", 2.5},
                        Case{"abs(-3)", 3.0}, Case{"abs(3)", 3.0}, Case{"min(3, 1, 2)", 1.0},
                        Case{"max(3, 1, 2)", 3.0}, Case{"min(-1, 4)", -1.0},
                        Case{"max(-1, -4)", -1.0}, Case{"2^10", 1024.0}, Case{"(-2)^3", -8.0},
                        Case{"4^0.5", 2.0}}) {
    EXPECT_EQ(eval(c.text), c.exact) << c.text;  // libm is exact on these
    const Ball b = eval_ball(c.text);
    EXPECT_TRUE(b.contains(c.exact)) << c.text << " -> " << b;
    EXPECT_LT(b.radius(), 1e-30) << c.text;  // 128 bits leave a tiny radius
  }
  EXPECT_EQ(eval("exp(1)"), std::exp(1.0));
  EXPECT_EQ(eval("log(10)"), std::log(10.0));
  EXPECT_EQ(eval("sqrt(2)"), std::sqrt(2.0));
}

TEST(ExpressionEvaluation, BallEnclosesTheExactDecimalValue) {
  // 0.1*3 - 0.3 is exactly 0 over the reals; in double it is 5.55e-17.
  EXPECT_NE(eval("0.1*3 - 0.3"), 0.0);
  const Ball b = eval_ball("0.1*3 - 0.3");
  EXPECT_TRUE(b.contains(0.0)) << b;
  EXPECT_FALSE(b.is_exact());
  EXPECT_TRUE(eval_ball("1/3*3 - 1").contains(0.0));
  EXPECT_TRUE(eval_ball("e - exp(1)").contains(0.0));
  EXPECT_TRUE(eval_ball("log(e)").contains(1.0));
  // pi lies within one ulp of M_PI and the ball is far narrower than that.
  const Ball pi = eval_ball("pi");
  constexpr double kPi = std::numbers::pi;
  EXPECT_LE(std::fabs(pi.mid() - kPi), std::nextafter(kPi, 4.0) - kPi);
  EXPECT_LT(pi.radius(), 1e-30);
}

TEST(ExpressionEvaluation, BallContainsExactIdentitiesOnRandomInputs) {
  const std::uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> positive(0.01, 20.0);
  std::uniform_real_distribution<double> any(-20.0, 20.0);
  for (int trial = 0; trial < 200; ++trial) {
    const double x = positive(rng), y = any(rng), z = any(rng);
    const std::map<std::string, double, std::less<>> values{{"x", x}, {"y", y}, {"z", z}};
    // Each is 0 over the reals for every such x > 0, y, z.
    for (const char* identity :
         {"log(exp(y)) - y", "sqrt(x)^2 - x", "exp(log(x)) - x", "(y^2)^0.5 - abs(y)",
          "max(y, z) + min(y, z) - y - z", "x^(y/10) * x^(z/10) - x^((y + z)/10)",
          "log(x*x) - 2*log(x)", "(y + z)^2 - y^2 - 2*y*z - z^2", "y / x * x - y"}) {
      const Ball b = eval_ball(identity, values);
      ASSERT_TRUE(b.is_finite()) << identity;
      EXPECT_TRUE(b.contains(0.0)) << identity << " at x=" << x << " y=" << y << " z=" << z
                                   << ": " << b;
    }
  }
}

TEST(ExpressionEvaluation, DoubleAgreesWithBallWithinRoundingBound) {
  const std::uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> input(0.5, 2.0);
  struct Case {
    const char* text;
    long operations;  // roundings: operations, function calls, inexact literals and constants
  };
  const double u = ScalarTraits<double>::unit_roundoff();
  for (int trial = 0; trial < 200; ++trial) {
    const std::map<std::string, double, std::less<>> values{
        {"x", input(rng)}, {"y", input(rng)}, {"z", input(rng)}};
    for (const Case& c : {Case{"exp(x/y)/z", 3}, Case{"x*y + z/x", 3},
                          Case{"sqrt(x^2 + y^2)", 4}, Case{"max(x, y, z) * min(x, y)", 3},
                          Case{"log(1 + x) / (1 + y)", 4}, Case{"(x + y)^(z/2)", 3},
                          Case{"abs(-x) * pi + e / y", 5}, Case{"0.1 * x + 1e-3 * y", 5}}) {
      const double d = eval(c.text, values);
      const Ball b = eval_ball(c.text, values);
      // Inputs in [0.5, 2] keep every intermediate positive (no cancellation) and keep the
      // conditioning of exp, log and pow on their arguments below 4; each operation rounds
      // by at most 2u (libm within one ulp), so the double result is within
      // gamma(8 * operations) relatively of the exact value, which the ball encloses.
      const double tolerance = higham_gamma(8 * c.operations, u) * std::fabs(b.mid()) + b.radius();
      EXPECT_NEAR(d, b.mid(), tolerance) << c.text;
    }
  }
}

// Certainly undefined (log(-1), 1/0, …): an input error naming the sub-expression, not an
// undecided comparison. (These evaluated to non-finite balls before, read as "inconclusive".)
TEST(ExpressionEvaluation, CertainlyUndefinedOperationsAreDomainErrorsNamingTheSubExpression) {
  const auto message = [](std::string_view text, std::map<std::string, double, std::less<>> values) {
    try {
      (void)eval_ball(text, std::move(values));
    } catch (const ExpressionDomainError& e) {
      return std::string(e.what());
    }
    return std::string("no ExpressionDomainError");
  };
  EXPECT_EQ(message("log(-1)", {}), "log((-1)) is undefined: its argument lies in [-1, -1], which is <= 0");
  EXPECT_EQ(message("1 + log(x - 1)", {{"x", 1}}),
            "log((x - 1)) is undefined: its argument lies in [0, 0], which is <= 0");
  EXPECT_EQ(message("sqrt(x)", {{"x", -1}}), "sqrt(x) is undefined: its argument lies in [-1, -1], which is < 0");
  EXPECT_EQ(message("2 * 1/0", {}), "division by 0, which is 0, is undefined");
  EXPECT_EQ(message("y/(x - x)", {{"x", 3}, {"y", 1}}), "division by (x - x), which is 0, is undefined");
  EXPECT_EQ(message("x^(-1)", {{"x", 0}}), "x ^ (-1) is undefined: 0 to the power [-1, -1]");
  EXPECT_EQ(message("x^0.5", {{"x", -4}}),
            "x ^ 0.5 is undefined: a negative base ([-4, -4]) to the non-integer power 0.5");
  // A ParseError is also an std::invalid_argument; so is this: both are input errors (exit 4).
  EXPECT_THROW((void)eval_ball("log(0)"), std::invalid_argument);
  // Defined edge cases stay values: (-8)^3, sqrt(0).
  EXPECT_TRUE(eval_ball("x^3", {{"x", -8}}).contains(-512.0));
  EXPECT_TRUE(eval_ball("sqrt(x)", {{"x", 0}}).contains(0.0));
}

// Only maybe undefined (the ball straddles the boundary): non-finite, read as Unknown — a
// higher precision may decide it. The double tier gives NaN or ±inf.
TEST(ExpressionEvaluation, PossiblyUndefinedOperationsGiveNonFiniteBallsAndNanOrInfDoubles) {
  const Ball straddling = Ball::interval(-1e-30, 1e-30, kPrec);
  const auto at = [&](std::string_view text) {
    return parse(text).evaluate([&](std::string_view) { return straddling; }, kPrec);
  };
  EXPECT_FALSE(at("log(x)").is_finite());
  EXPECT_FALSE(at("sqrt(x)").is_finite());
  EXPECT_FALSE(at("1/x").is_finite());
  EXPECT_FALSE(at("x^(-1)").is_finite());
  EXPECT_TRUE(std::isnan(eval("log(x)", {{"x", -1}})));
  EXPECT_TRUE(std::isnan(eval("sqrt(x)", {{"x", -1}})));
  EXPECT_TRUE(std::isinf(eval("1/x", {{"x", 0}})));
  // NaN propagates through min and max (std::fmin would silently drop it).
  EXPECT_TRUE(std::isnan(eval("min(sqrt(x), 1)", {{"x", -1}})));
  EXPECT_TRUE(std::isnan(eval("max(1, sqrt(x))", {{"x", -1}})));
}

// eval's --logits and the expression language read a decimal the same way: its exact value.
TEST(ExpressionEvaluation, DecimalLiteralsAreTheSameExactValueInEvalAndExpressions) {
  const Ball from_expression = eval_ball("0.1");
  const Ball from_text = decimal_ball(parse_decimal("0.1"), kPrec);
  EXPECT_TRUE(arb_equal(from_expression.arb(), from_text.arb()));
  EXPECT_FALSE(from_text.contains(0.1));  // the double nearest 0.1 is not one tenth
  const Ball big = decimal_ball(parse_decimal("9007199254740993"), 64);  // 2^53 + 1
  EXPECT_TRUE(big.is_exact());
  EXPECT_FALSE(big.contains(9007199254740992.0));
  EXPECT_TRUE(decimal_ball(parse_decimal("-2.5e-1"), kPrec).contains(-0.25));
  EXPECT_THROW(parse_decimal("0.1x"), ParseError);
  EXPECT_THROW(parse_decimal("1,2"), ParseError);
  EXPECT_THROW(parse_decimal(""), ParseError);
}

TEST(ExpressionEvaluation, SpanAndLookupFormsAgree) {
  const Expression e = parse("x * y - z");
  const std::vector<double> values{2, 3, 4};  // in names_used() order: x, y, z
  EXPECT_EQ(e.evaluate(values), 2.0);
  EXPECT_EQ(e.evaluate(env({{"x", 2}, {"y", 3}, {"z", 4}})), 2.0);
  const std::vector<Ball> balls{Ball(2), Ball(3), Ball(4)};
  EXPECT_TRUE(e.evaluate(balls, kPrec).contains(2.0));
}

TEST(ExpressionEvaluation, BadArgumentsThrowInvalidArgument) {
  const Expression e = parse("x * y");
  EXPECT_THROW(e.evaluate(std::vector<double>{1.0}), std::invalid_argument);
  EXPECT_THROW(e.evaluate(std::vector<Ball>{Ball(1), Ball(2)}, 1), std::invalid_argument);
  EXPECT_THROW(Expression().evaluate(std::vector<double>{}), std::invalid_argument);
}

TEST(ExpressionEvaluation, HigherPrecisionInputsKeepTheirPrecision) {
  const Expression e = parse("x / 3");
  const Ball b = e.evaluate(std::vector<Ball>{Ball(1.0, 256)}, 64);
  EXPECT_EQ(b.precision(), 256);
  EXPECT_LT(b.radius(), 1e-70);
}

// --- inequalities -----------------------------------------------------------------------------

InequalityExpression claim(std::string_view text) { return parse_inequality(text, test_registry()); }

TEST(InequalityEvaluation, ExactTiesAreDecided) {
  const auto at = ball_env({{"x", 1.5}});
  EXPECT_EQ(claim("x <= x").holds(at, kPrec), Tri::True);
  EXPECT_EQ(claim("x >= x").holds(at, kPrec), Tri::True);
  EXPECT_EQ(claim("x < x").holds(at, kPrec), Tri::False);
  EXPECT_EQ(claim("x > x").holds(at, kPrec), Tri::False);
  EXPECT_EQ(claim("1/2 <= 0.5").holds(at, kPrec), Tri::True);  // both exact at any precision
  EXPECT_EQ(claim("1/2 < 0.5").holds(at, kPrec), Tri::False);
}

TEST(InequalityEvaluation, InexactTiesAreUnknown) {
  // 0.1 + 0.2 = 0.3 exactly, but neither side is an exact ball.
  const auto none = ball_env({});
  EXPECT_EQ(claim("0.1 + 0.2 <= 0.3").holds(none, kPrec), Tri::Unknown);
  EXPECT_EQ(claim("0.1 + 0.2 >= 0.3").holds(none, kPrec), Tri::Unknown);
  // In double the same tie looks like a violation of <= by 5.55e-17.
  const InequalityExpression c = claim("0.1 + 0.2 <= 0.3");
  EXPECT_GT(c.violation_margin(env({})), 0.0);
}

TEST(InequalityEvaluation, NonFiniteSidesAreUnknown) {
  const Lookup<Ball> straddling = [](std::string_view) { return Ball::interval(-1e-30, 1e-30, kPrec); };
  EXPECT_EQ(claim("log(x) <= 1").holds(straddling, kPrec), Tri::Unknown);
  EXPECT_EQ(claim("sqrt(x) >= -1").holds(straddling, kPrec), Tri::Unknown);
  EXPECT_EQ(claim("1 <= 1/x").holds(straddling, kPrec), Tri::Unknown);
}

TEST(InequalityEvaluation, CertainlyUndefinedSidesAreDomainErrors) {
  EXPECT_THROW(claim("log(x) <= 1").holds(ball_env({{"x", 0}}), kPrec), ExpressionDomainError);
  EXPECT_THROW(claim("sqrt(x) >= -1").holds(ball_env({{"x", -1}}), kPrec), ExpressionDomainError);
  EXPECT_THROW(claim("1 <= 1/x").holds(ball_env({{"x", 0}}), kPrec), ExpressionDomainError);
}

TEST(InequalityEvaluation, ProvedAndRefutedAwayFromTies) {
  EXPECT_EQ(claim("x <= 1").holds(ball_env({{"x", 0.5}}), kPrec), Tri::True);
  EXPECT_EQ(claim("x <= 1").holds(ball_env({{"x", 2}}), kPrec), Tri::False);
  EXPECT_EQ(claim("x > y").holds(ball_env({{"x", 2}, {"y", 1}}), kPrec), Tri::True);
  EXPECT_EQ(claim("x >= y").holds(ball_env({{"x", 1}, {"y", 2}}), kPrec), Tri::False);
}

TEST(InequalityEvaluation, MarginIsPositiveExactlyWhenViolated) {
  const InequalityExpression le = claim("x <= 1");
  EXPECT_EQ(le.relation, Relation::LessEqual);
  EXPECT_EQ(le.violation_margin(env({{"x", 3}})), 2.0);
  EXPECT_EQ(le.violation_margin(env({{"x", 0}})), -1.0);
  EXPECT_TRUE(le.violates(2.0));
  EXPECT_FALSE(le.violates(0.0));  // a tie satisfies <=
  const InequalityExpression ge = claim("x >= 1");
  EXPECT_EQ(ge.relation, Relation::GreaterEqual);
  EXPECT_EQ(ge.violation_margin(env({{"x", 0}})), 1.0);
  EXPECT_EQ(ge.violation_margin(env({{"x", 3}})), -2.0);
  const InequalityExpression lt = claim("x < 1");
  EXPECT_EQ(lt.relation, Relation::Less);
  EXPECT_EQ(lt.violation_margin(env({{"x", 1}})), 0.0);
  EXPECT_TRUE(lt.violates(0.0));  // a tie violates <
  EXPECT_FALSE(lt.violates(-1e-300));
  const InequalityExpression gt = claim("x > 1");
  EXPECT_EQ(gt.relation, Relation::Greater);
  EXPECT_EQ(gt.violation_margin(env({{"x", 0.5}})), 0.5);
  EXPECT_TRUE(gt.violates(0.0));
}

// --- errors -------------------------------------------------------------------------------

// Parses and returns the error; fails the test if there is none.
ParseError error_of(std::string_view text, bool inequality = false,
                    const QuantityRegistry& registry = test_registry()) {
  try {
    if (inequality) {
      parse_inequality(text, registry);
    } else {
      parse_expression(text, registry);
    }
  } catch (const ParseError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << "not one line: " << what;
    EXPECT_TRUE(what.starts_with("column " + std::to_string(e.column()) + ": ")) << what;
    return e;
  }
  ADD_FAILURE() << "no ParseError for '" << text << "'";
  return ParseError(text, 0, "none");
}

void expect_error(std::string_view text, std::size_t column, std::string_view detail_part,
                  bool inequality = false, const QuantityRegistry& registry = test_registry()) {
  const ParseError e = error_of(text, inequality, registry);
  EXPECT_EQ(e.column(), column) << text << " -> " << e.what();
  EXPECT_NE(e.detail().find(detail_part), std::string::npos)
      << text << " -> " << e.what() << "\n  wanted: " << detail_part;
}

TEST(ExpressionErrors, UnbalancedParentheses) {
  expect_error("(x + 1", 7, "expected an operator or ')', found end of input");
  expect_error("x + 1)", 6, "found ')' (no matching '(')");
  expect_error("((x)", 5, "expected an operator or ')', found end of input");
  expect_error("()", 2, "expected a number, a name or '(', found ')'");
  expect_error("x <= 1)", 7, "no matching '('", true);
}

TEST(ExpressionErrors, TrailingGarbage) {
  expect_error("x + 1 @", 7, "expected an operator or end of input, found '@'");
  expect_error("x y", 3, "expected an operator or end of input, found 'y'");
  expect_error("x <= 1 y", 8, "expected an operator or end of input, found 'y'", true);
}

TEST(ExpressionErrors, EmptyInput) {
  expect_error("", 1, "expected an expression, found end of input");
  expect_error("   ", 4, "expected an expression, found end of input");
  expect_error("", 1, "expected an inequality", true);
  expect_error("x + ", 5, "expected a number, a name or '(', found end of input");
}

TEST(ExpressionErrors, RelationsInTheWrongPlace) {
  expect_error("x < y < z", 7, "found '<' (an inequality has exactly one relation", true);
  expect_error("x <= y >= z", 8, "found '>='", true);
  expect_error("x + y", 6, "expected a relation (<=, <, >=, >), found end of input", true);
  expect_error("x = y", 3, "found '=' (an equality is not checkable", true);
  expect_error("x == y", 3, "found '=='", true);
  expect_error("x <= ", 6, "expected an expression after the relation, found end of input", true);
  expect_error("<= x", 1, "expected a number, a name or '(', found '<='", true);
  expect_error("x < y", 3, "found '<' (a relation belongs in an inequality");
}

TEST(ExpressionErrors, UnknownAndMisusedFunctions) {
  expect_error("1 + sin(x)", 5, "unknown function 'sin' (functions: abs, exp, log, max, min, sqrt)");
  expect_error("x(2)", 1, "'x' is a quantity, not a function");
  expect_error("exp + 1", 5, "expected '(' after function 'exp', found '+'");
}

TEST(ExpressionErrors, WrongArity) {
  expect_error("2 * exp(x, y)", 5, "function 'exp' takes 1 argument, found 2");
  expect_error("sqrt(1, 2, 3)", 1, "function 'sqrt' takes 1 argument, found 3");
  expect_error("min(x)", 1, "function 'min' takes 2 or more arguments, found 1");
  expect_error("max(x)", 1, "function 'max' takes 2 or more arguments, found 1");
  expect_error("exp()", 5, "expected a number, a name or '(', found ')'");
  expect_error("max(x,)", 7, "found ')'");
}

TEST(ExpressionErrors, UnknownNamesListTheKnownOnesAndSuggest) {
  expect_error("x + w", 5, "unknown name 'w'; known names: der, e, n, pi, x, y, z");
  expect_error("alpah_max <= 1", 1, "unknown name 'alpah_max' (did you mean 'alpha_max'?)", true,
               default_quantities());
  expect_error("jacobian <= 1", 1, "(did you mean 'jacobian_norm'?)", true, default_quantities());
  expect_error("delta", 1, "(did you mean 'Delta'?)", false, default_quantities());
  // A short name is only matched up to case, never to an unrelated one-letter name.
  const ParseError e = error_of("w", false, default_quantities());
  EXPECT_EQ(e.detail().find("did you mean"), std::string::npos) << e.what();
  expect_error("2 * v", 5, "'v' is a vector input, not a number");
}

TEST(ExpressionErrors, BadNumbers) {
  expect_error("1e", 1, "expected a number, found '1e' (an exponent needs digits");
  expect_error("x + 1e+", 5, "found '1e+'");
  expect_error("x + 1.2.3", 5, "expected a number, found '1.2.3' (a number has one decimal point)");
  expect_error("2x", 1, "found '2x' (a number cannot run into a name");
  expect_error("1e400", 1, "expected a number within double range");
  expect_error("1e-400", 1, "expected a number within double range");
  expect_error(".", 1, "expected a number, a name or '(', found '.'");
}

TEST(ExpressionErrors, StrayCharacters) {
  expect_error("x # y", 3, "found '#'");
  expect_error("x \x01", 3, "found '\\x01'");
  expect_error("x \xff", 3, "found '\\xff'");
  expect_error("x \u2264 1", 3, "found '\u2264' (write <=)", true);
  expect_error("x \u2212 1", 3, "(write - for minus)");
  expect_error("x ** 2", 4, "(write x^2 for a power)");
}

TEST(ExpressionErrors, LengthAndNestingLimits) {
  expect_error(std::string(kMaxInputLength + 1, '1'), kMaxInputLength + 1,
               "expected at most 10000 characters, found 10001");
  std::string longest = "1";
  while (longest.size() + 2 <= kMaxInputLength) longest += "+1";
  longest.resize(kMaxInputLength, ' ');
  EXPECT_EQ(eval(longest), static_cast<double>((kMaxInputLength + 1) / 2));
  const auto nested = [](int depth) {
    return std::string(static_cast<std::size_t>(depth), '(') + "x" +
           std::string(static_cast<std::size_t>(depth), ')');
  };
  // The top level is one level, so 199 parentheses are the deepest accepted.
  EXPECT_NO_THROW(parse(nested(kMaxNestingDepth - 1)));
  expect_error(nested(kMaxNestingDepth), kMaxNestingDepth + 1, "nesting deeper than 200 levels");
  expect_error(std::string(5000, '-') + "x", kMaxNestingDepth + 1, "nesting deeper than 200 levels");
  std::string tower = "x";
  for (int i = 0; i < 1000; ++i) tower += "^x";
  EXPECT_NE(error_of(tower).detail().find("nesting deeper"), std::string::npos);
  std::string calls;
  for (int i = 0; i < 1000; ++i) calls += "exp(";
  EXPECT_NE(error_of(calls).detail().find("nesting deeper"), std::string::npos);
}

TEST(ExpressionErrors, CaretLinePointsAtTheColumn) {
  const ParseError e = error_of("(x + 1");
  EXPECT_EQ(e.caret_line(), "(x + 1\n      ^");
  // A long input shows a window around the column, the caret under the offending character.
  std::string text = "x";
  for (int i = 0; i < 1500; ++i) text += "+x";
  text += " @" + std::string(2000, ' ') + "1";
  const ParseError far = error_of(text);
  const std::string caret = far.caret_line();
  const std::size_t newline = caret.find('\n');
  ASSERT_NE(newline, std::string::npos);
  const std::string line = caret.substr(0, newline);
  const std::size_t column = caret.size() - newline - 2;  // index of the ^ on line 2
  ASSERT_LT(column, line.size());
  EXPECT_EQ(line[column], '@') << caret;
  EXPECT_TRUE(line.starts_with("...")) << caret;
  EXPECT_LE(line.size(), 72u + 6u);
  // Control characters are shown as spaces so the rendering stays on two lines.
  EXPECT_EQ(caret_line("a\nb", 3), "a b\n  ^");
  EXPECT_EQ(caret_line("x \xe2\x89\xa4 1", 3), "x \xe2\x89\xa4 1\n  ^");
}

// --- registry -----------------------------------------------------------------------------

TEST(QuantityRegistryTest, RejectsBadNames) {
  QuantityRegistry r;
  EXPECT_THROW(r.add({"1x", QuantityKind::Derived, ""}), std::invalid_argument);
  EXPECT_THROW(r.add({"", QuantityKind::Derived, ""}), std::invalid_argument);
  EXPECT_THROW(r.add({"a-b", QuantityKind::Derived, ""}), std::invalid_argument);
  EXPECT_THROW(r.add({"exp", QuantityKind::Derived, ""}), std::invalid_argument);
  EXPECT_THROW(r.add({"tau", QuantityKind::Constant, ""}), std::invalid_argument);
  r.add({"a", QuantityKind::Derived, ""});
  EXPECT_THROW(r.add({"a", QuantityKind::RealParameter, ""}), std::invalid_argument);
  EXPECT_EQ(r.names(), std::vector<std::string>{"a"});
}

TEST(QuantityRegistryTest, ClosestSuggestsPlausibleTyposOnly) {
  const std::vector<std::string> names{"alpha_max", "alpha_min", "Delta", "L", "T"};
  EXPECT_EQ(QuantityRegistry::closest("alpha_mx", names), "alpha_max");
  EXPECT_EQ(QuantityRegistry::closest("aplha_min", names), "alpha_min");  // transposition
  EXPECT_EQ(QuantityRegistry::closest("DELTA", names), "Delta");
  EXPECT_EQ(QuantityRegistry::closest("l", names), "L");
  EXPECT_EQ(QuantityRegistry::closest("x", names), std::nullopt);
  EXPECT_EQ(QuantityRegistry::closest("entropy", names), std::nullopt);
}

}  // namespace
}  // namespace attncert
