// Expression: the small language in which users state their own conjectures, e.g.
//   jacobian_norm <= 0.5/T          alpha_max <= exp(2*Delta/T)/L
// It is parsed into a tree of known operations and evaluated by us — never handed to an
// interpreter — and a malformed text gets a one-line error pointing at the offending column.
//
// Grammar (EBNF; whitespace — space, tab, CR, LF — may separate any two tokens):
//
//   inequality = expression relation expression ;      (* exactly one relation, top level *)
//   relation   = "<=" | "<" | ">=" | ">" ;
//   expression = term { ( "+" | "-" ) term } ;          (* left-associative *)
//   term       = unary { ( "*" | "/" ) unary } ;        (* left-associative *)
//   unary      = ( "-" | "+" ) unary | power ;          (* -x^2 = -(x^2) *)
//   power      = primary [ "^" unary ] ;                (* right-assoc: a^b^c = a^(b^c); 2^-1 ok *)
//   primary    = number | name | call | "(" expression ")" ;
//   call       = function "(" expression { "," expression } ")" ;
//   function   = "exp" | "log" | "sqrt" | "abs"         (* one argument *)
//              | "min" | "max" ;                        (* two or more arguments *)
//   name       = letter { letter | digit } ;            (* a quantity of the registry *)
//   letter     = "A".."Z" | "a".."z" | "_" ;
//   digit      = "0".."9" ;
//   number     = ( digits [ "." [ digits ] ] | "." digits ) [ ( "e" | "E" ) [ "+" | "-" ] digits ] ;
//   digits     = digit { digit } ;                      (* e.g. 2, 0.5, .5, 1e-3, 6.02E23 *)
//
// log is the natural logarithm. Names are not built in: the parser takes a QuantityRegistry
// (default_quantities() holds the catalog's names), so an unknown name is a parse error that
// lists the known ones. Limits: kMaxInputLength characters, kMaxNestingDepth nested levels
// (parentheses, calls, unary signs, exponents), number literals within double range.
//
// Evaluation, given values for the names used: in double (a working-tier search value) or in
// Ball (certified: every operation in Ball arithmetic, literals enclosed exactly as decimals,
// pi and e by Arb). Where an operation is certainly undefined — log of a ball certainly <= 0,
// sqrt of one certainly < 0, division by an exact 0, 0^y with y certainly < 0, x^y with x
// certainly < 0 and y an exact non-integer — Ball evaluation throws ExpressionDomainError
// naming the sub-expression (an input error). Where it only may be undefined (the ball
// straddles the boundary) the result is a non-finite ball, which the engine reads as Unknown:
// a higher precision may decide it. The double result is then NaN or ±inf.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "theory/expression_scanner.hpp"
#include "theory/quantity_registry.hpp"

namespace attncert {

class Ball;
class Tri;
class ElementaryProgram;

/// A sub-expression certainly outside its function's domain at the values given — log of a
/// number <= 0, sqrt of a negative one, division by exactly 0, 0 to a negative power, a
/// negative number to a non-integer power — so the statement is undefined there: an input
/// error, not an undecided comparison. One line, naming the sub-expression, e.g.
///   "log((x - 1)) is undefined: its argument lies in [-1, -1], which is <= 0"
class ExpressionDomainError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// --- expressions -----------------------------------------------------------------------

template <class T>
using Lookup = std::function<T(std::string_view name)>;

class Expression {
 public:
  /// The text it was parsed from.
  const std::string& text() const noexcept { return text_; }
  /// The names whose values evaluation needs: sorted, unique; constants (pi, e) excluded.
  const std::vector<std::string>& names_used() const noexcept { return names_; }
  /// Fully parenthesised canonical form, e.g. "-x^2 + 1" -> "((-(x ^ 2)) + 1)". Sums and
  /// products keep their chain flat: "a - b + c" -> "(a - b + c)".
  std::string to_string() const;

  /// Appends this expression to `program` (theory/elementary_program.hpp) and returns its
  /// instruction; `name` gives the instruction of each name used (a proof variable or a
  /// lowered quantity). Number literals keep their exact decimals; x^n with n an integer
  /// literal becomes Power, other powers exp(y·log x); min/max of k arguments a chain.
  std::uint32_t lower(ElementaryProgram& program,
                      const std::function<std::uint32_t(std::string_view name)>& name) const;

  /// `values[i]` is the value of names_used()[i]; throws std::invalid_argument on a size
  /// mismatch. Ball evaluation works at `prec` bits (operands with a higher precision keep
  /// it); throws std::invalid_argument when prec is outside [kMinPrecisionBits,
  /// kMaxPrecisionBits].
  double evaluate(std::span<const double> values) const;
  Ball evaluate(std::span<const Ball> values, long prec) const;
  /// Same, asking `env` once per name used.
  double evaluate(const Lookup<double>& env) const;
  Ball evaluate(const Lookup<Ball>& env, long prec) const;

 private:
  friend class ExpressionParser;
  // Tree nodes in post-order (every child before its parent, the root last), so evaluation
  // is a loop and nothing recurses on the input's size. 
  enum class NodeKind : std::uint8_t { Number, Name, Constant, Negate, Sum, Product, Power, Call };
  enum class Function : std::uint8_t { Exp, Log, Sqrt, Abs, Min, Max };
  enum class ConstantId : std::uint8_t { Pi, E };
  struct Node {
    NodeKind kind = NodeKind::Number;
    Function function = Function::Exp;  // Call
    ConstantId constant = ConstantId::Pi;
    std::uint32_t slot = 0;         // Name: index into names_used()
    std::uint32_t first_child = 0;  // into children_ / operators_
    std::uint32_t child_count = 0;
    double value = 0;             // Number: the literal correctly rounded to double
    std::string mantissa;         // Number: its decimal digits, value = mantissa * 10^exponent10
    long exponent10 = 0;
  };

  template <class T>
  T evaluate_nodes(std::span<const T> values, long prec) const;
  // Throw ExpressionDomainError when the operation is certainly undefined at these values.
  void require_argument_defined(Function f, std::uint32_t arg, const Ball& x) const;
  void require_power_defined(std::uint32_t base, const Ball& x, std::uint32_t exponent,
                             const Ball& y) const;
  std::string render(std::uint32_t node) const;

  std::string text_;
  std::vector<std::string> names_;
  std::vector<Node> nodes_;
  std::vector<std::uint32_t> children_;  // child node indices of Sum/Product/Power/Negate/Call
  std::vector<char> operators_;          // parallel to children_: '+', '-', '*', '/' for chains
};

/// Parses one expression (no relation). Throws ParseError.
Expression parse_expression(std::string_view text,
                            const QuantityRegistry& registry = default_quantities());

// --- inequalities (the statement of a user conjecture) ----------------------------------

// Relation (LessEqual, Less, GreaterEqual, Greater, Equal) and to_string(Relation) are defined
// in theory/claim.hpp, shared with the catalog's claims; this light header only names the
// type. The parser produces the four inequalities only; Equal is evaluated for code-built ones.
enum class Relation;

/// "lhs relation rhs" between two expressions: the statement of a user conjecture.
struct InequalityExpression {
  Expression lhs;
  Relation relation{};  // value-initialised: LessEqual
  Expression rhs;
  std::string text;

  /// Union of both sides' names, sorted, unique.
  std::vector<std::string> names_used() const;
  /// Certified truth of "lhs relation rhs" at `prec` bits: True when proved, False when
  /// refuted, Unknown when the enclosures overlap or either side is non-finite. Exactly equal
  /// sides give True for <= and >=, False for < and >. A side certainly undefined at these
  /// values throws ExpressionDomainError.
  Tri holds(const Lookup<Ball>& env, long prec) const;
  /// How far the double values violate the relation, the quantity a search maximises:
  /// lhs - rhs for <= and <, rhs - lhs for >= and >, |lhs - rhs| for Equal. Positive means
  /// violated; for < and > a margin of exactly 0 (a tie) violates too — see violates().
  /// NaN when a side is NaN (undefined at this point).
  double violation_margin(const Lookup<double>& env) const;
  /// Whether a margin from violation_margin() is a violation of this relation.
  bool violates(double margin) const noexcept;
};

/// Parses "lhs relation rhs" with exactly one relation at top level. Throws ParseError.
InequalityExpression parse_inequality(std::string_view text,
                            const QuantityRegistry& registry = default_quantities());


}  // namespace attncert
