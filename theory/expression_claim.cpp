#include "theory/expression_claim.hpp"

#include <fmt/format.h>

#include <stdexcept>
#include <variant>

#include "theory/quantities.hpp"

namespace attncert {
namespace {

constexpr ArrayInputShape kArrayShapes[] = {
    {"logits", "1", "L"}, {"q", "1", "d"}, {"K", "L", "d"}, {"X", "L", "d"}};

}  // namespace

const ArrayInputShape* array_input_shape(std::string_view name) noexcept {
  for (const auto& s : kArrayShapes) {
    if (name == s.name) return &s;
  }
  return nullptr;
}

std::span<const ArrayInputShape> array_input_shapes() noexcept { return kArrayShapes; }

namespace {

SearchSpace space_from_domain(const Domain& domain) {
  SearchSpace space;
  for (const DomainItem& item : domain.items) {
    if (const auto* r = std::get_if<DomainRange>(&item.spec)) {
      space.scalars.push_back({item.name, r->lower, r->upper, r->integer, r->log_scale, ""});
    } else if (const auto* f = std::get_if<DomainFixed>(&item.spec)) {
      const Quantity* q = default_quantities().find(item.name);
      const bool integer = q && q->kind == QuantityKind::IntegerParameter;
      space.scalars.push_back({item.name, f->value, f->value, integer, false, ""});
    }
  }
  for (const DomainItem& item : domain.items) {
    const ArrayInputShape* shape = array_input_shape(item.name);
    if (!shape) continue;
    ArraySpec a{item.name, shape->rows, shape->cols, Law::Normal, 0, 1, false, ""};
    if (const auto* n = std::get_if<NormalLaw>(&item.spec)) {
      a.law = Law::Normal, a.a = n->mean, a.b = n->sigma;
    } else if (const auto* u = std::get_if<UniformLaw>(&item.spec)) {
      a.law = Law::Uniform, a.a = u->lower, a.b = u->upper;
    } else if (std::holds_alternative<RademacherLaw>(item.spec)) {
      a.law = Law::Rademacher;
    } else if (const auto* s = std::get_if<SphereLaw>(&item.spec)) {
      a.law = Law::Sphere, a.a = s->radius;
    } else if (const auto* b = std::get_if<ArrayBox>(&item.spec)) {
      // Sampled uniformly; its support is the box (what --prove covers).
      a.law = Law::Uniform, a.a = b->lower, a.b = b->upper;
      const std::string expected = shape->rows == std::string("1")
                                       ? std::string(shape->cols)
                                       : std::string(shape->rows) + "," + shape->cols;
      if (b->shape != expected) {
        throw std::invalid_argument(fmt::format(
            "domain: {} has shape {}, so its box is written '^{}', not '^{}'", item.name,
            expected.find(',') != std::string::npos ? "(" + expected + ")" : expected,
            expected.find(',') != std::string::npos ? "(" + expected + ")" : expected, b->shape));
      }
    } else {
      continue;
    }
    for (const char* dim : {shape->rows, shape->cols}) {
      if (dim[0] != '1' && !space.find_scalar(dim)) {
        throw std::invalid_argument(fmt::format(
            "domain: {} needs the size {} (add e.g. '{} in [1, 16]')", item.name, dim, dim));
      }
    }
    space.arrays.push_back(a);
  }
  space.validate();
  return space;
}

class ExpressionClaim final : public Claim {
 public:
  ExpressionClaim(InequalityExpression ineq, Domain domain, ExpressionSource source)
      : ineq_(std::move(ineq)), domain_(std::move(domain)), source_(std::move(source)) {
    info_.id = kConjectureClaimId;
    info_.source = "user conjecture";
    info_.provenance = Provenance::Conjecture;
    info_.statement_text = ineq_.text + " over " + to_string(domain_);
    info_.statement_latex = ineq_.text;
    space_ = space_from_domain(domain_);
  }
  const ClaimInfo& info() const override { return info_; }
  const SearchSpace& space() const override { return space_; }
  const ExpressionSource& source() const { return source_; }

  std::vector<Inequality<double>> evaluate_double(const Instance& x) const override {
    const TierContext<double> ctx{53};
    const Lookup<double> env = [&](std::string_view n) { return quantity<double>(n, x, ctx); };
    return {{"conjecture", ineq_.lhs.evaluate(env), ineq_.relation, ineq_.rhs.evaluate(env)}};
  }
  std::vector<Inequality<Mp>> evaluate_mp(const Instance&, long) const override {
    throw std::logic_error("user conjectures have no Mp reference evaluator (double and Ball only)");
  }
  std::vector<Inequality<Ball>> evaluate_ball(const Instance& x, long prec) const override {
    const TierContext<Ball> ctx{prec};
    const Lookup<Ball> env = [&](std::string_view n) { return quantity<Ball>(n, x, ctx); };
    return {{"conjecture", ineq_.lhs.evaluate(env, prec), ineq_.relation, ineq_.rhs.evaluate(env, prec)}};
  }

 private:
  InequalityExpression ineq_;
  Domain domain_;
  ExpressionSource source_;
  ClaimInfo info_;
  SearchSpace space_;
};

}  // namespace

std::unique_ptr<Claim> make_expression_claim(const std::string& inequality, const std::string& domain_text) {
  InequalityExpression ineq = parse_inequality(inequality);
  Domain domain = parse_domain(domain_text);
  for (const std::string& name : ineq.names_used()) {
    const Quantity* q = default_quantities().find(name);
    const bool is_param =
        q && (q->kind == QuantityKind::RealParameter || q->kind == QuantityKind::IntegerParameter);
    // L is also the length of the logits/keys; T defaults to 1 — every other parameter must be set.
    if (is_param && !domain.find(name) && name != "L" && name != "T") {
      throw std::invalid_argument(fmt::format(
          "domain: the conjecture uses {} but the domain does not set it (add e.g. '{} in [a, b]')",
          name, name));
    }
  }
  return std::make_unique<ExpressionClaim>(std::move(ineq), std::move(domain),
                                           ExpressionSource{inequality, domain_text});
}

const ExpressionSource* expression_source(const Claim& claim) {
  const auto* e = dynamic_cast<const ExpressionClaim*>(&claim);
  return e ? &e->source() : nullptr;
}

}  // namespace attncert
