#include "theory/elementary_program.hpp"

#include <fmt/format.h>
#include <gmp.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <numbers>
#include <stdexcept>

#include "theory/decimal_literal.hpp"

namespace attncert {
namespace {

struct OpName {
  ElementaryOp op;
  std::string_view name;
  int arity;
};
constexpr OpName kOps[] = {
    {ElementaryOp::Variable, "var", 0}, {ElementaryOp::Constant, "const", 0},
    {ElementaryOp::Pi, "pi", 0},        {ElementaryOp::Negate, "neg", 1},
    {ElementaryOp::Add, "add", 2},      {ElementaryOp::Subtract, "sub", 2},
    {ElementaryOp::Multiply, "mul", 2}, {ElementaryOp::Divide, "div", 2},
    {ElementaryOp::Power, "pow", 1},    {ElementaryOp::Exp, "exp", 1},
    {ElementaryOp::Log, "log", 1},      {ElementaryOp::Sqrt, "sqrt", 1},
    {ElementaryOp::Abs, "abs", 1},      {ElementaryOp::Min, "min", 2},
    {ElementaryOp::Max, "max", 2},
};

// A decimal constant must be a number of the expression language's grammar (optionally signed):
// every consumer reads it with its own exact decimal reader.
void require_decimal(std::string_view text) {
  try {
    (void)parse_decimal(text);
  } catch (const std::invalid_argument&) {
    throw std::invalid_argument(fmt::format("'{}' is not a decimal number", text));
  }
}

}  // namespace

std::string_view to_string(ElementaryOp op) noexcept {
  for (const auto& e : kOps) {
    if (e.op == op) return e.name;
  }
  return "?";
}

int arity(ElementaryOp op) noexcept {
  for (const auto& e : kOps) {
    if (e.op == op) return e.arity;
  }
  return 0;
}

ElementaryProgram::ElementaryProgram(std::vector<std::string> variables)
    : variables_(std::move(variables)) {}

void ElementaryProgram::require_operand(std::uint32_t operand) const {
  if (operand >= code_.size()) {
    throw std::invalid_argument(fmt::format(
        "elementary program: operand {} is not an earlier instruction (there are {})", operand,
        code_.size()));
  }
}

std::uint32_t ElementaryProgram::variable(std::uint32_t index) {
  if (index >= variables_.size()) {
    throw std::invalid_argument(fmt::format("elementary program: variable {} of {}", index,
                                            variables_.size()));
  }
  ElementaryInstruction i;
  i.op = ElementaryOp::Variable;
  i.variable = index;
  code_.push_back(std::move(i));
  return static_cast<std::uint32_t>(code_.size() - 1);
}

std::uint32_t ElementaryProgram::variable(std::string_view name) {
  for (std::size_t k = 0; k < variables_.size(); ++k) {
    if (variables_[k] == name) return variable(static_cast<std::uint32_t>(k));
  }
  throw std::invalid_argument(fmt::format("elementary program: no variable '{}'", name));
}

std::uint32_t ElementaryProgram::constant(std::string_view decimal) {
  require_decimal(decimal);
  ElementaryInstruction i;
  i.op = ElementaryOp::Constant;
  i.constant = std::string(decimal);
  code_.push_back(std::move(i));
  return static_cast<std::uint32_t>(code_.size() - 1);
}

std::uint32_t ElementaryProgram::pi() {
  ElementaryInstruction i;
  i.op = ElementaryOp::Pi;
  code_.push_back(std::move(i));
  return static_cast<std::uint32_t>(code_.size() - 1);
}

std::uint32_t ElementaryProgram::unary(ElementaryOp op, std::uint32_t a) {
  if (arity(op) != 1 || op == ElementaryOp::Power) {
    throw std::invalid_argument(fmt::format("elementary program: '{}' is not a unary function", to_string(op)));
  }
  require_operand(a);
  ElementaryInstruction i;
  i.op = op;
  i.a = a;
  code_.push_back(std::move(i));
  return static_cast<std::uint32_t>(code_.size() - 1);
}

std::uint32_t ElementaryProgram::binary(ElementaryOp op, std::uint32_t a, std::uint32_t b) {
  if (arity(op) != 2) {
    throw std::invalid_argument(fmt::format("elementary program: '{}' is not a binary operation", to_string(op)));
  }
  require_operand(a);
  require_operand(b);
  ElementaryInstruction i;
  i.op = op;
  i.a = a;
  i.b = b;
  code_.push_back(std::move(i));
  return static_cast<std::uint32_t>(code_.size() - 1);
}

std::uint32_t ElementaryProgram::power(std::uint32_t a, int exponent) {
  require_operand(a);
  ElementaryInstruction i;
  i.op = ElementaryOp::Power;
  i.a = a;
  i.exponent = exponent;
  code_.push_back(std::move(i));
  return static_cast<std::uint32_t>(code_.size() - 1);
}

std::string ElementaryProgram::render(std::uint32_t index) const {
  if (index >= code_.size()) throw std::invalid_argument("elementary program: render past the end");
  const ElementaryInstruction& i = code_[index];
  switch (i.op) {
    case ElementaryOp::Variable: return variables_[i.variable];
    case ElementaryOp::Constant: return i.constant;
    case ElementaryOp::Pi: return "pi";
    case ElementaryOp::Negate: return "(-" + render(i.a) + ")";
    case ElementaryOp::Add: return "(" + render(i.a) + " + " + render(i.b) + ")";
    case ElementaryOp::Subtract: return "(" + render(i.a) + " - " + render(i.b) + ")";
    case ElementaryOp::Multiply: return "(" + render(i.a) + " * " + render(i.b) + ")";
    case ElementaryOp::Divide: return "(" + render(i.a) + " / " + render(i.b) + ")";
    case ElementaryOp::Power: return fmt::format("({} ^ {})", render(i.a), i.exponent);
    case ElementaryOp::Min:
    case ElementaryOp::Max:
      return fmt::format("{}({}, {})", to_string(i.op), render(i.a), render(i.b));
    default: return fmt::format("{}({})", to_string(i.op), render(i.a));
  }
}

std::vector<double> evaluate_in_double(const ElementaryProgram& program, std::span<const double> point) {
  if (point.size() != program.variables().size()) {
    throw std::invalid_argument(fmt::format("elementary program: {} variables, {} values",
                                            program.variables().size(), point.size()));
  }
  const auto& code = program.code();
  std::vector<double> v(code.size());
  for (std::size_t k = 0; k < code.size(); ++k) {
    const ElementaryInstruction& i = code[k];
    const double a = arity(i.op) >= 1 ? v[i.a] : 0;
    const double b = arity(i.op) == 2 ? v[i.b] : 0;
    switch (i.op) {
      case ElementaryOp::Variable: v[k] = point[i.variable]; break;
      case ElementaryOp::Constant: v[k] = parse_decimal(i.constant).value; break;  // signed, nearest double
      case ElementaryOp::Pi: v[k] = std::numbers::pi; break;
      case ElementaryOp::Negate: v[k] = -a; break;
      case ElementaryOp::Add: v[k] = a + b; break;
      case ElementaryOp::Subtract: v[k] = a - b; break;
      case ElementaryOp::Multiply: v[k] = a * b; break;
      case ElementaryOp::Divide: v[k] = b == 0 ? std::numeric_limits<double>::quiet_NaN() : a / b; break;
      case ElementaryOp::Power: v[k] = std::pow(a, i.exponent); break;
      case ElementaryOp::Exp: v[k] = std::exp(a); break;
      case ElementaryOp::Log: v[k] = a > 0 ? std::log(a) : std::numeric_limits<double>::quiet_NaN(); break;
      case ElementaryOp::Sqrt: v[k] = std::sqrt(a); break;
      case ElementaryOp::Abs: v[k] = std::abs(a); break;
      case ElementaryOp::Min: v[k] = std::isnan(a) || std::isnan(b) ? std::numeric_limits<double>::quiet_NaN() : std::min(a, b); break;
      case ElementaryOp::Max: v[k] = std::isnan(a) || std::isnan(b) ? std::numeric_limits<double>::quiet_NaN() : std::max(a, b); break;
    }
  }
  return v;
}

nlohmann::json to_json(const ElementaryProgram& program) {
  nlohmann::json code = nlohmann::json::array();
  for (const ElementaryInstruction& i : program.code()) {
    nlohmann::json j{{"op", to_string(i.op)}};
    switch (arity(i.op)) {
      case 1: j["args"] = {i.a}; break;
      case 2: j["args"] = {i.a, i.b}; break;
      default: break;
    }
    if (i.op == ElementaryOp::Variable) j["index"] = i.variable;
    if (i.op == ElementaryOp::Constant) j["value"] = i.constant;
    if (i.op == ElementaryOp::Power) j["exponent"] = i.exponent;
    code.push_back(std::move(j));
  }
  return {{"variables", program.variables()}, {"code", std::move(code)}};
}

ElementaryProgram elementary_program_from_json(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("variables") || !j["variables"].is_array() ||
      !j.contains("code") || !j["code"].is_array()) {
    throw std::invalid_argument("program: expected an object with arrays 'variables' and 'code'");
  }
  std::vector<std::string> variables;
  for (const auto& v : j["variables"]) {
    if (!v.is_string() || v.get<std::string>().empty()) {
      throw std::invalid_argument("program.variables: every variable must be a non-empty string");
    }
    variables.push_back(v.get<std::string>());
  }
  ElementaryProgram p(std::move(variables));
  std::size_t k = 0;
  for (const auto& ij : j["code"]) {
    const std::string where = fmt::format("program.code[{}]", k++);
    try {
      if (!ij.is_object() || !ij.contains("op") || !ij["op"].is_string()) {
        throw std::invalid_argument("expected an object with a string 'op'");
      }
      const std::string name = ij["op"].get<std::string>();
      const OpName* entry = nullptr;
      for (const auto& e : kOps) {
        if (e.name == name) entry = &e;
      }
      if (!entry) throw std::invalid_argument(fmt::format("unknown op '{}'", name));
      auto index_field = [&](const char* field) -> std::uint32_t {
        if (!ij.contains(field) || !ij[field].is_number_unsigned()) {
          throw std::invalid_argument(fmt::format("'{}' needs a non-negative integer '{}'", name, field));
        }
        return ij[field].get<std::uint32_t>();
      };
      std::vector<std::uint32_t> args;
      if (entry->arity > 0) {
        if (!ij.contains("args") || !ij["args"].is_array() ||
            ij["args"].size() != static_cast<std::size_t>(entry->arity)) {
          throw std::invalid_argument(fmt::format("'{}' needs 'args' with {} operand(s)", name, entry->arity));
        }
        for (const auto& a : ij["args"]) {
          if (!a.is_number_unsigned()) throw std::invalid_argument("operands must be instruction indices");
          args.push_back(a.get<std::uint32_t>());
        }
      }
      switch (entry->op) {
        case ElementaryOp::Variable: p.variable(index_field("index")); break;
        case ElementaryOp::Constant:
          if (!ij.contains("value") || !ij["value"].is_string()) {
            throw std::invalid_argument("'const' needs a decimal string 'value'");
          }
          p.constant(ij["value"].get<std::string>());
          break;
        case ElementaryOp::Pi: p.pi(); break;
        case ElementaryOp::Power:
          if (!ij.contains("exponent") || !ij["exponent"].is_number_integer()) {
            throw std::invalid_argument("'pow' needs an integer 'exponent'");
          }
          p.power(args[0], ij["exponent"].get<int>());
          break;
        default:
          if (entry->arity == 1) p.unary(entry->op, args[0]);
          else p.binary(entry->op, args[0], args[1]);
      }
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(where + ": " + e.what());
    } catch (const nlohmann::json::exception& e) {
      throw std::invalid_argument(where + ": " + e.what());
    }
  }
  if (p.size() == 0) throw std::invalid_argument("program.code: empty");
  return p;
}

std::string exact_decimal(double x) {
  if (!std::isfinite(x)) throw std::invalid_argument("exact_decimal: not a finite number");
  if (x == 0) return "0";
  int e2 = 0;
  const double m = std::frexp(std::abs(x), &e2);  // |x| = m·2^e2, m in [0.5, 1)
  // |x| = M·2^e with M = m·2^53 an integer.
  const auto M = static_cast<unsigned long>(std::ldexp(m, 53));
  long e = e2 - 53;
  mpz_t n;
  mpz_init_set_ui(n, M);
  std::string digits;
  long decimals = 0;  // number of digits after the point
  if (e >= 0) {
    mpz_mul_2exp(n, n, static_cast<unsigned long>(e));
  } else {
    // M / 2^k = M·5^k / 10^k.
    mpz_t five;
    mpz_init(five);
    mpz_ui_pow_ui(five, 5, static_cast<unsigned long>(-e));
    mpz_mul(n, n, five);
    mpz_clear(five);
    decimals = -e;
  }
  char* s = mpz_get_str(nullptr, 10, n);
  digits = s;
  void (*free_fn)(void*, size_t);
  mp_get_memory_functions(nullptr, nullptr, &free_fn);
  free_fn(s, std::char_traits<char>::length(s) + 1);
  mpz_clear(n);
  if (decimals > 0) {
    const auto frac = static_cast<std::size_t>(decimals);
    const std::string padded =
        digits.size() > frac ? digits : std::string(frac + 1 - digits.size(), '0') + digits;
    std::string fraction = padded.substr(padded.size() - frac);
    while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
    digits = padded.substr(0, padded.size() - frac);
    if (!fraction.empty()) digits += "." + fraction;
  }
  return (x < 0 ? "-" : "") + digits;
}

}  // namespace attncert
