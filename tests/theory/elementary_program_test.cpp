// ElementaryProgram: builders, exact decimals, JSON round trip and strictness, lowering of
// expressions, array boxes in domains — each against values known exactly.
#include "theory/elementary_program.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "theory/domain.hpp"
#include "theory/expression.hpp"
#include "theory/expression_claim.hpp"

namespace attncert {
namespace {

TEST(ExactDecimal, ExpandsDyadicsExactly) {
  EXPECT_EQ(exact_decimal(0.0), "0");
  EXPECT_EQ(exact_decimal(1.0), "1");
  EXPECT_EQ(exact_decimal(-2.5), "-2.5");
  EXPECT_EQ(exact_decimal(0.1), "0.1000000000000000055511151231257827021181583404541015625");
  EXPECT_EQ(exact_decimal(std::ldexp(1.0, 60)), "1152921504606846976");
  EXPECT_EQ(exact_decimal(std::ldexp(1.0, -3)), "0.125");
  // The smallest subnormal has 1074 fractional digits; its expansion reads back exactly.
  const double tiny = std::numeric_limits<double>::denorm_min();
  EXPECT_EQ(std::strtod(exact_decimal(tiny).c_str(), nullptr), tiny);
  EXPECT_THROW(exact_decimal(std::numeric_limits<double>::infinity()), std::invalid_argument);
}

TEST(ElementaryProgram, EvaluatesAndRoundTripsThroughJson) {
  ElementaryProgram p({"x", "y"});
  const auto x = p.variable("x");
  const auto y = p.variable(1);
  const auto s = p.binary(ElementaryOp::Add, p.power(x, 2), p.unary(ElementaryOp::Exp, y));
  const auto r = p.binary(ElementaryOp::Max, s, p.constant("0.5"));
  const double point[] = {3.0, 0.0};
  EXPECT_EQ(evaluate_in_double(p, point)[r], 10.0);  // 3^2 + e^0, exact in double
  EXPECT_EQ(p.render(r), "max(((x ^ 2) + exp(y)), 0.5)");
  EXPECT_EQ(elementary_program_from_json(to_json(p)), p);
}

TEST(ElementaryProgram, RefusesBadInstructions) {
  ElementaryProgram p({"x"});
  EXPECT_THROW(p.binary(ElementaryOp::Add, 0, 0), std::invalid_argument);  // no instruction yet
  EXPECT_THROW(p.constant("1.2.3"), std::invalid_argument);
  EXPECT_THROW(p.variable("z"), std::invalid_argument);
  auto j = to_json([] {
    ElementaryProgram q({"x"});
    q.unary(ElementaryOp::Exp, q.variable(0));
    return q;
  }());
  j["code"][1]["args"][0] = 1;  // reads itself: a forward reference
  EXPECT_THROW(elementary_program_from_json(j), std::invalid_argument);
  j["code"][1] = {{"op", "magic"}, {"args", {0}}};
  try {
    elementary_program_from_json(j);
    FAIL() << "unknown op accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "program.code[1]: unknown op 'magic'");
  }
}

TEST(ExpressionLowering, AgreesWithTheExpressionEvaluator) {
  const QuantityRegistry registry{{"x", QuantityKind::RealParameter}, {"y", QuantityKind::RealParameter}};
  const Expression e = parse_expression("-x^2 + max(y, 2, x) / exp(1) + sqrt(abs(y))^3 + x^-1 + 2^x", registry);
  ElementaryProgram p({"x", "y"});
  const auto r = e.lower(p, [&](std::string_view n) { return p.variable(n); });
  for (const auto& [x, y] : {std::pair{1.5, -4.0}, {-0.25, 3.0}, {7.0, 0.5}}) {
    const double point[] = {x, y};
    const double expected = e.evaluate(std::span<const double>(point));
    // Same operations in a different association at most: a few ulps of the largest term.
    EXPECT_NEAR(evaluate_in_double(p, point)[r], expected, 1e-13 * (1 + std::abs(expected)));
  }
  // An exponent is an integer only when its decimal is: 2.00000000000000001 (whose nearest
  // double is 2) and 2e-20 are not, 2.0, 20e-1 and 1e1 are.
  for (const auto& [text, integer] : {std::pair{"2.00000000000000001", false}, {"2e-20", false},
                                      {"2.0", true}, {"20e-1", true}, {"1e1", true}, {"65", false}}) {
    const Expression power = parse_expression(std::string("x^") + text, registry);
    ElementaryProgram q({"x", "y"});
    power.lower(q, [&](std::string_view n) { return q.variable(n); });
    EXPECT_EQ(q.code().back().op == ElementaryOp::Power, integer) << text;
  }
  // x^-1 is an integer power (defined for negative x), 2^x goes through exp(x·log 2).
  bool has_power = false;
  for (const auto& i : p.code()) has_power |= i.op == ElementaryOp::Power && i.exponent == -1;
  EXPECT_TRUE(has_power);
}

TEST(DomainArrayBox, ParsesPrintsAndBoundsOutward) {
  const Domain d = parse_domain("L in [2, 4], logits in [-20, 0.1]^L, T in [0.05, 5]");
  const auto* box = std::get_if<ArrayBox>(&d.find("logits")->spec);
  ASSERT_NE(box, nullptr);
  EXPECT_EQ(box->shape, "L");
  EXPECT_LT(box->outer_upper, box->upper + 1e-15);
  EXPECT_LE(box->upper, 0.1);          // inward: a double in the box is in the written box
  EXPECT_GE(box->outer_upper, 0.1);    // outward: the written box is inside the proof's box
  EXPECT_LT(box->upper, box->outer_upper);
  const auto* t = std::get_if<DomainRange>(&d.find("T")->spec);
  // 0.05 is not a double: the nearest (the C++ literal) lies above it, so the inward bound is
  // that double and the outward one the double just below.
  EXPECT_EQ(t->lower, 0.05);
  EXPECT_EQ(t->outer_lower, std::nextafter(0.05, 0.0));
  EXPECT_EQ(t->outer_upper, 5.0);
  EXPECT_EQ(parse_domain(to_string(d)), d);
  EXPECT_EQ(to_string(parse_domain("K in [-1, 1]^(L, d)")), "K in [-1, 1]^(L,d)");
  EXPECT_THROW(parse_domain("logits in [1, -1]^L"), ParseError);
  EXPECT_THROW(parse_domain("logits in [-1, 1]"), ParseError);
  EXPECT_THROW(parse_domain("logits = 1"), ParseError);
  // The shape must be the input's own.
  EXPECT_THROW(make_expression_claim("alpha_max <= 1", "L in [2, 3], logits in [-1, 1]^d, d = 2"),
               std::invalid_argument);
  EXPECT_NO_THROW(make_expression_claim("alpha_max <= 1", "L in [2, 3], logits in [-1, 1]^L"));
}

}  // namespace
}  // namespace attncert
