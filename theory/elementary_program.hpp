// ElementaryProgram: a function of a few real variables as a straight-line program of
// elementary operations (+ − × ÷, integer powers, exp, log, sqrt, |·|, min, max, π).
//
// It is what the prover (proofs_checks/box_prover.hpp) encloses over boxes, what a proof
// certificate (proofs_checks/proof_certificate.hpp) records as the statement proved, what the
// independent checker (proofs_checks/proof_checker.hpp, MPFI) re-evaluates and what the Coq back
// end (proofs_checks/coq_proof.hpp) writes as a Coq term. A user conjecture's expression is
// lowered into one (Expression::lower), its derived quantities (alpha_max, lse, …) expanded for a
// fixed L by theory/elementary_forms.hpp.
//
// Instruction k may only read instructions < k, so the code is evaluated in one forward pass.
// Constants are exact decimals ("0.51", "-3e-2", "0.05000000000000000277555756156289135105907917022705078125"):
// every consumer reads the decimal itself, never a double rounded from it.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace attncert {

enum class ElementaryOp : std::uint8_t {
  Variable,  // variables[variable]
  Constant,  // the exact decimal `constant`
  Pi,        // π
  Negate,    // −a
  Add,       // a + b
  Subtract,  // a − b
  Multiply,  // a · b
  Divide,    // a / b (undefined where b = 0)
  Power,     // a^exponent, exponent an integer (a ≠ 0 when exponent < 0)
  Exp,       // exp(a)
  Log,       // log(a), natural (undefined where a <= 0)
  Sqrt,      // sqrt(a) (undefined where a < 0)
  Abs,       // |a|
  Min,       // min(a, b)
  Max,       // max(a, b)
};

/// Lower-case name used in JSON and messages: "var", "const", "pi", "neg", "add", "sub", "mul",
/// "div", "pow", "exp", "log", "sqrt", "abs", "min", "max".
std::string_view to_string(ElementaryOp op) noexcept;
/// Number of operands (0, 1 or 2).
int arity(ElementaryOp op) noexcept;

struct ElementaryInstruction {
  ElementaryOp op = ElementaryOp::Constant;
  std::uint32_t a = 0;         // first operand (an earlier instruction's index)
  std::uint32_t b = 0;         // second operand
  std::uint32_t variable = 0;  // Variable: index into ElementaryProgram::variables
  int exponent = 0;            // Power
  std::string constant;        // Constant: exact decimal text
  friend bool operator==(const ElementaryInstruction&, const ElementaryInstruction&) = default;
};

class ElementaryProgram {
 public:
  ElementaryProgram() = default;
  explicit ElementaryProgram(std::vector<std::string> variables);

  const std::vector<std::string>& variables() const noexcept { return variables_; }
  const std::vector<ElementaryInstruction>& code() const noexcept { return code_; }
  std::size_t size() const noexcept { return code_.size(); }

  // Builders: each appends one instruction and returns its index. Operands must be earlier
  // indices; a constant must be a decimal number (theory/decimal_literal.hpp's grammar).
  // Throws std::invalid_argument otherwise.
  std::uint32_t variable(std::uint32_t index);
  std::uint32_t variable(std::string_view name);  // by name; throws when unknown
  std::uint32_t constant(std::string_view decimal);
  std::uint32_t pi();
  std::uint32_t unary(ElementaryOp op, std::uint32_t a);  // Negate, Exp, Log, Sqrt, Abs
  std::uint32_t binary(ElementaryOp op, std::uint32_t a, std::uint32_t b);  // Add … Max
  std::uint32_t power(std::uint32_t a, int exponent);

  /// Infix text of instruction `index` with its operands inlined, e.g. "exp((x1 - x2) / T)".
  std::string render(std::uint32_t index) const;

  friend bool operator==(const ElementaryProgram&, const ElementaryProgram&) = default;

 private:
  void require_operand(std::uint32_t operand) const;
  std::vector<std::string> variables_;
  std::vector<ElementaryInstruction> code_;
};

/// Every instruction's value at a point in double (the prover's pre-screen and tests; no
/// guarantee). `point[i]` is variable i. NaN where undefined.
std::vector<double> evaluate_in_double(const ElementaryProgram& program, std::span<const double> point);

/// {"variables": [...], "code": [{"op": "add", "args": [0, 1]}, {"op": "var", "index": 0},
///  {"op": "const", "value": "0.51"}, {"op": "pow", "args": [3], "exponent": 2}, ...]}
nlohmann::json to_json(const ElementaryProgram& program);
/// Strict inverse of to_json: throws std::invalid_argument naming the offending instruction on
/// an unknown op, a forward or out-of-range operand, a bad constant, a missing field.
ElementaryProgram elementary_program_from_json(const nlohmann::json& j);

/// The exact decimal expansion of a finite double (every double is a dyadic rational, so the
/// expansion terminates): 0.1 → "0.1000000000000000055511151231257827021181583404541015625".
/// Throws std::invalid_argument for NaN or ±inf.
std::string exact_decimal(double x);

}  // namespace attncert
