// Fuzz target for the expression language: arbitrary bytes go to parse_expression,
// parse_inequality and parse_domain. A ParseError is the only acceptable failure. What parses
// is also evaluated (double and Ball, every name = 1.5; Ball may refuse a certainly undefined
// sub-expression with ExpressionDomainError) and must survive a round trip through
// its canonical text; a broken round trip aborts like a crash does.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "numerics/ball.hpp"
#include "theory/domain.hpp"
#include "theory/elementary_program.hpp"
#include "theory/expression.hpp"

namespace {

[[noreturn]] void fail(std::string_view what, std::string_view input, std::string_view detail) {
  std::fprintf(stderr, "expression_fuzz: %.*s\n  input: %.*s\n  detail: %.*s\n",
               static_cast<int>(what.size()), what.data(), static_cast<int>(input.size()),
               input.data(), static_cast<int>(detail.size()), detail.data());
  std::abort();
}

// The canonical text is longer (added parentheses, spaces) and nests deeper than the input,
// so re-parsing it may legitimately hit the length or depth limit; nothing else.
bool is_limit_error(const attncert::ParseError& e) {
  const std::string& d = e.detail();
  return d.starts_with("nesting deeper than") || d.starts_with("expected at most");
}

void check_one_line(const attncert::ParseError& e, std::string_view input) {
  const std::string_view what = e.what();
  if (what.find('\n') != std::string_view::npos || e.column() == 0 ||
      e.column() > input.size() + 1) {
    fail("error message is not one line with a column inside the input", input, what);
  }
  if (e.caret_line().find('^') == std::string::npos) fail("caret line has no caret", input, what);
}

// Ball evaluation may refuse a sub-expression that is certainly undefined (log(0), 1/0): one
// line naming it, nothing else.
template <class F>
void ball_evaluation(std::string_view input, F&& evaluate) {
  try {
    evaluate();
  } catch (const attncert::ExpressionDomainError& err) {
    if (std::string_view(err.what()).find('\n') != std::string_view::npos) {
      fail("domain error message is not one line", input, err.what());
    }
  }
}

void expression(std::string_view input) {
  attncert::Expression e;
  try {
    e = attncert::parse_expression(input);
  } catch (const attncert::ParseError& err) {
    check_one_line(err, input);
    return;
  }
  const double x = e.evaluate([](std::string_view) { return 1.5; });
  (void)x;
  ball_evaluation(input, [&] { (void)e.evaluate([](std::string_view) { return attncert::Ball(1.5); }, 64).is_finite(); });
  // Whatever parses lowers to an elementary program (every name one variable) whose JSON
  // reads back to the same program: the prover's and the certificates' language.
  attncert::ElementaryProgram program({"v"});
  e.lower(program, [&](std::string_view) { return program.variable(0); });
  if (!(attncert::elementary_program_from_json(attncert::to_json(program)) == program)) {
    fail("elementary program does not round-trip through JSON", input, attncert::to_json(program).dump());
  }
  const std::string canonical = e.to_string();
  try {
    if (attncert::parse_expression(canonical).to_string() != canonical) {
      fail("canonical form does not round-trip", input, canonical);
    }
  } catch (const attncert::ParseError& err) {
    if (!is_limit_error(err)) fail("canonical form does not parse", input, err.what());
  }
}

void inequality(std::string_view input) {
  try {
    const auto c = attncert::parse_inequality(input);
    (void)c.violation_margin([](std::string_view) { return 0.5; });
    ball_evaluation(input, [&] { (void)c.holds([](std::string_view) { return attncert::Ball(0.5); }, 64); });
  } catch (const attncert::ParseError& err) {
    check_one_line(err, input);
  }
}

void domain(std::string_view input) {
  attncert::Domain d;
  try {
    d = attncert::parse_domain(input);
  } catch (const attncert::ParseError& err) {
    check_one_line(err, input);
    return;
  }
  const std::string canonical = attncert::to_string(d);
  try {
    if (!(attncert::parse_domain(canonical) == d)) fail("domain does not round-trip", input, canonical);
  } catch (const attncert::ParseError& err) {
    if (!is_limit_error(err)) fail("canonical domain does not parse", input, err.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  expression(input);
  inequality(input);
  domain(input);
  return 0;
}
