#include "theory/elementary_forms.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace attncert {
namespace {

using Op = ElementaryOp;

// A builder over one program: the small vocabulary the forms below are written in.
class FormBuilder {
 public:
  FormBuilder(const ElementaryOperands& operands, ElementaryProgram& program)
      : operands_(operands), p_(program) {}

  std::uint32_t constant(std::string_view decimal) { return p_.constant(decimal); }
  std::uint32_t add(std::uint32_t a, std::uint32_t b) { return p_.binary(Op::Add, a, b); }
  std::uint32_t sub(std::uint32_t a, std::uint32_t b) { return p_.binary(Op::Subtract, a, b); }
  std::uint32_t mul(std::uint32_t a, std::uint32_t b) { return p_.binary(Op::Multiply, a, b); }
  std::uint32_t div(std::uint32_t a, std::uint32_t b) { return p_.binary(Op::Divide, a, b); }
  std::uint32_t max(std::uint32_t a, std::uint32_t b) { return p_.binary(Op::Max, a, b); }
  std::uint32_t min(std::uint32_t a, std::uint32_t b) { return p_.binary(Op::Min, a, b); }
  std::uint32_t negate(std::uint32_t a) { return p_.unary(Op::Negate, a); }
  std::uint32_t exp(std::uint32_t a) { return p_.unary(Op::Exp, a); }
  std::uint32_t log(std::uint32_t a) { return p_.unary(Op::Log, a); }
  std::uint32_t sqrt(std::uint32_t a) { return p_.unary(Op::Sqrt, a); }
  std::uint32_t square(std::uint32_t a) { return p_.power(a, 2); }

  std::uint32_t sum(const std::vector<std::uint32_t>& terms) {
    std::uint32_t s = terms.front();
    for (std::size_t i = 1; i < terms.size(); ++i) s = add(s, terms[i]);
    return s;
  }
  std::uint32_t fold(const std::vector<std::uint32_t>& terms, bool want_max) {
    std::uint32_t r = terms.front();
    for (std::size_t i = 1; i < terms.size(); ++i) r = want_max ? max(r, terms[i]) : min(r, terms[i]);
    return r;
  }

  // T when the domain has it, else 1 (theory/quantities.cpp's instance_temperature).
  std::uint32_t temperature() {
    if (const auto it = operands_.scalars.find("T"); it != operands_.scalars.end()) return it->second;
    return constant("1");
  }

  std::uint32_t scalar(std::string_view name, std::string_view meaning) {
    if (const auto it = operands_.scalars.find(name); it != operands_.scalars.end()) return it->second;
    throw std::invalid_argument(fmt::format("quantity '{}' needs the scalar '{}' ({})", name, name, meaning));
  }

  const std::vector<std::uint32_t>& array(std::string_view name, std::string_view quantity) {
    const auto it = operands_.arrays.find(name);
    if (it == operands_.arrays.end() || it->second.empty()) {
      throw std::invalid_argument(fmt::format("{} needs the array '{}' in the domain", quantity, name));
    }
    return it->second;
  }
  std::pair<int, int> shape(std::string_view name, std::string_view quantity) {
    const auto& a = array(name, quantity);
    if (const auto it = operands_.shapes.find(name); it != operands_.shapes.end()) return it->second;
    return {1, static_cast<int>(a.size())};
  }

  // The logits: the array itself, or l_j = Σ_i q_i K_ji (quantities.cpp's instance_logits).
  std::vector<std::uint32_t> logits(std::string_view quantity) {
    if (operands_.arrays.contains("logits")) return array("logits", quantity);
    if (!operands_.arrays.contains("q") || !operands_.arrays.contains("K")) {
      throw std::invalid_argument(
          fmt::format("{} needs the array 'logits' or the arrays 'q' and 'K' in the domain", quantity));
    }
    const auto& q = array("q", quantity);
    const auto& K = array("K", quantity);
    const auto [rows, cols] = shape("K", quantity);
    if (static_cast<std::size_t>(cols) != q.size() || static_cast<std::size_t>(rows) * cols != K.size()) {
      throw std::invalid_argument(fmt::format("{}: q has {} entries but K is {}x{} with {} entries",
                                              quantity, q.size(), rows, cols, K.size()));
    }
    std::vector<std::uint32_t> l;
    for (int j = 0; j < rows; ++j) {
      std::vector<std::uint32_t> products;
      for (int c = 0; c < cols; ++c) products.push_back(mul(q[c], K[static_cast<std::size_t>(j) * cols + c]));
      l.push_back(sum(products));
    }
    return l;
  }

  // S_i = Σ_j exp((l_j − l_i)/T) with the j = i term the exact 1, so p_i = 1/S_i. Each logit
  // appears only as a difference: less interval dependency than exp(l_i/T)/Σ_j exp(l_j/T), and
  // in double an overflowing term gives S_i = inf, p_i = 0, the right limit.
  std::vector<std::uint32_t> normalisers(const std::vector<std::uint32_t>& l, std::uint32_t temp) {
    std::vector<std::uint32_t> S;
    for (std::size_t i = 0; i < l.size(); ++i) {
      std::vector<std::uint32_t> terms{constant("1")};
      for (std::size_t j = 0; j < l.size(); ++j) {
        if (j != i) terms.push_back(exp(div(sub(l[j], l[i]), temp)));
      }
      S.push_back(sum(terms));
    }
    return S;
  }
  std::vector<std::uint32_t> weights(const std::vector<std::uint32_t>& l, std::uint32_t temp) {
    std::vector<std::uint32_t> p;
    const std::uint32_t one = constant("1");
    for (const std::uint32_t s : normalisers(l, temp)) p.push_back(div(one, s));
    return p;
  }

 private:
  const ElementaryOperands& operands_;
  ElementaryProgram& p_;
};

// ‖J‖₂ of J = (diag p − ppᵀ)/T, the Jacobian of softmax(l/T) w.r.t. l (numerics/softmax_jacobian.hpp).
std::uint32_t jacobian_norm(FormBuilder& b, const std::vector<std::uint32_t>& l, std::uint32_t temp) {
  const std::size_t L = l.size();
  if (L == 1) return b.constant("0");  // p = (1): J = 0
  if (L == 2) {
    // 2·p₁p₂/T, with p₁p₂ = 1/(2 + e^x + e^{−x}), x = (l₂ − l₁)/T: one variable difference, no
    // product of two dependent weights.
    const std::uint32_t x = b.div(b.sub(l[1], l[0]), temp);
    const std::uint32_t denom =
        b.add(b.add(b.constant("2"), b.exp(x)), b.exp(b.negate(x)));
    return b.div(b.constant("2"), b.mul(temp, denom));
  }
  if (L == 3) {
    // diag p − ppᵀ has the eigenvalue 0 (eigenvector 1) and the roots of λ² − s₁λ + s₂ with
    // s₁ = trace = 1 − Σp_i² = 2e₂ and s₂ = Σ of the 2×2 principal minors, each
    // p_ip_j(1 − p_i − p_j) = p₁p₂p₃, so s₂ = 3e₃ (e_k: elementary symmetric polynomials of p).
    // The larger root is e₂ + sqrt(e₂² − 3e₃). With Σp = 1 the discriminant equals
    // ½((p₂(p₁ − p₃))² + (p₁(p₂ − p₃))² + (p₃(p₁ − p₂))²): written so, it is a sum of squares,
    // >= 0 on every box without a max(·, 0), and its enclosures are far tighter near ties
    // (the prover needed 3,071 boxes instead of 138,435 for ‖J‖ <= 0.51 over [-1, 1]³).
    const auto p = b.weights(l, temp);
    const std::uint32_t e2 = b.add(b.add(b.mul(p[0], p[1]), b.mul(p[0], p[2])), b.mul(p[1], p[2]));
    const auto term = [&](int i, int j, int k) { return b.square(b.mul(p[i], b.sub(p[j], p[k]))); };
    const std::uint32_t disc =
        b.mul(b.constant("0.5"), b.add(b.add(term(1, 0, 2), term(0, 1, 2)), term(2, 0, 1)));
    const std::uint32_t lambda = b.add(e2, b.sqrt(disc));
    return b.div(lambda, temp);
  }
  throw std::invalid_argument(fmt::format(
      "jacobian_norm has no elementary form for L = {}: closed forms exist for L <= 3", L));
}

}  // namespace

std::uint32_t lower_quantity(std::string_view name, const ElementaryOperands& operands,
                             ElementaryProgram& program) {
  FormBuilder b(operands, program);
  if (name == "T") return b.temperature();
  if (name == "L") {
    if (operands.scalars.contains("L")) return operands.scalars.find("L")->second;
    return b.constant(fmt::format("{}", b.logits("L").size()));
  }
  if (name == "d") return b.scalar("d", "head dimension");
  if (name == "N") return b.scalar("N", "size of the selected set");
  if (name == "m") return b.scalar("m", "feature dimension");
  if (name == "pi") return program.pi();
  if (name == "e") return b.exp(b.constant("1"));
  if (name == "logit_max" || name == "logit_min") return b.fold(b.logits(name), name == "logit_max");
  if (name == "logit_range") {
    const auto l = b.logits(name);
    return b.sub(b.fold(l, true), b.fold(l, false));
  }
  if (name == "alpha_max" || name == "alpha_min") {
    const auto l = b.logits(name);
    return b.fold(b.weights(l, b.temperature()), name == "alpha_max");
  }
  if (name == "lse") {
    // log Σ_j exp(l_j/T): no shift by the largest logit — Ball exponents do not overflow, and
    // a shift by max_j l_j would make every term depend on every logit. (In double it
    // overflows beyond l_j/T ≈ 709; the double evaluation is only a pre-screen.)
    const auto l = b.logits(name);
    const std::uint32_t temp = b.temperature();
    std::vector<std::uint32_t> terms;
    for (const std::uint32_t lj : l) terms.push_back(b.exp(b.div(lj, temp)));
    return b.log(b.sum(terms));
  }
  if (name == "entropy") {
    // −Σ p_i log p_i = Σ_i log(S_i)/S_i with p_i = 1/S_i and S_i >= 1: every operation defined
    // on every box (no log of a weight that may enclose 0).
    const auto l = b.logits(name);
    std::vector<std::uint32_t> terms;
    for (const std::uint32_t s : b.normalisers(l, b.temperature())) terms.push_back(b.div(b.log(s), s));
    return b.sum(terms);
  }
  if (name == "jacobian_norm") {
    const auto l = b.logits(name);
    return jacobian_norm(b, l, b.temperature());
  }
  if (name == "Delta") {
    // sqrt(‖q‖² · max_j ‖k_j‖²), as quantities.cpp's instance_delta.
    const auto& q = b.array("q", "Delta");
    const auto& K = b.array("K", "Delta");
    const auto [rows, cols] = b.shape("K", "Delta");
    if (static_cast<std::size_t>(cols) != q.size() || static_cast<std::size_t>(rows) * cols != K.size()) {
      throw std::invalid_argument(
          fmt::format("Delta: q has {} entries but K is {}x{} with {} entries", q.size(), rows, cols, K.size()));
    }
    std::vector<std::uint32_t> qq;
    for (const std::uint32_t qi : q) qq.push_back(b.square(qi));
    std::vector<std::uint32_t> kk;
    for (int j = 0; j < rows; ++j) {
      std::vector<std::uint32_t> row;
      for (int c = 0; c < cols; ++c) row.push_back(b.square(K[static_cast<std::size_t>(j) * cols + c]));
      kk.push_back(b.sum(row));
    }
    return b.sqrt(b.mul(b.sum(qq), b.fold(kk, true)));
  }
  throw std::invalid_argument(fmt::format(
      "'{}' has no elementary form (forms exist for alpha_max, alpha_min, lse, entropy, logit_max, "
      "logit_min, logit_range, Delta, jacobian_norm for L <= 3, and the parameters L, T, d, N, m)",
      name));
}

std::string proof_variable_name(std::string_view array, int row, int col, int rows) {
  // row and col are 0-based indices; the name is 1-based.
  if (row < 0 || col < 0 || row >= rows) {
    throw std::invalid_argument(
        fmt::format("proof_variable_name: entry ({}, {}) of '{}' is outside its {} rows", row, col, array, rows));
  }
  if (rows == 1) return fmt::format("{}_{}", array, col + 1);
  return fmt::format("{}_{}_{}", array, row + 1, col + 1);
}

}  // namespace attncert
