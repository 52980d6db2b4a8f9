#include "proofs_checks/proof_goals.hpp"

#include <fmt/format.h>

#include <map>
#include <stdexcept>
#include <variant>

#include "theory/domain.hpp"
#include "theory/elementary_forms.hpp"
#include "theory/expression.hpp"
#include "theory/expression_claim.hpp"

namespace attncert {
namespace {

// Integer parameters fixed or ranging over a few values, enumerated in the domain's order.
using IntegerChoice = std::map<std::string, long, std::less<>>;

std::vector<IntegerChoice> enumerate_integers(const Domain& domain) {
  std::vector<IntegerChoice> choices{{}};
  for (const DomainItem& item : domain.items) {
    const auto* r = std::get_if<DomainRange>(&item.spec);
    const Quantity* q = default_quantities().find(item.name);
    const bool integer = q && q->kind == QuantityKind::IntegerParameter;
    if (!integer) continue;
    std::vector<long> values;
    if (r) {
      if (r->upper - r->lower + 1 > kMaxProofGoals) {
        throw std::invalid_argument(fmt::format(
            "--prove: '{}' takes {} values, more than the {} goals a proof may have; narrow it "
            "(e.g. '{} in [2, 4]')",
            item.name, r->upper - r->lower + 1, kMaxProofGoals, item.name));
      }
      for (double v = r->lower; v <= r->upper; ++v) values.push_back(static_cast<long>(v));
    } else if (const auto* f = std::get_if<DomainFixed>(&item.spec)) {
      values.push_back(static_cast<long>(f->value));
    }
    std::vector<IntegerChoice> next;
    for (const auto& c : choices) {
      for (long v : values) {
        auto d = c;
        d[item.name] = v;
        next.push_back(std::move(d));
      }
    }
    if (next.size() > static_cast<std::size_t>(kMaxProofGoals)) {
      throw std::invalid_argument(fmt::format(
          "--prove: the domain's integer parameters give more than {} goals; narrow them",
          kMaxProofGoals));
    }
    choices = std::move(next);
  }
  return choices;
}

long size_of(std::string_view dimension, const IntegerChoice& integers, std::string_view array) {
  if (dimension == "1") return 1;
  const auto it = integers.find(dimension);
  if (it == integers.end()) {
    throw std::invalid_argument(fmt::format(
        "--prove: '{}' needs a fixed size {} (add e.g. '{} in [2, 4]' to the domain)", array,
        dimension, dimension));
  }
  return it->second;
}

std::string scope_text(const Domain& domain) {
  std::string r;
  for (const DomainItem& item : domain.items) {
    if (!r.empty()) r += ", ";
    const auto* range = std::get_if<DomainRange>(&item.spec);
    if (range && range->integer) {
      std::string set;
      for (double v = range->lower; v <= range->upper; ++v) {
        set += (set.empty() ? "" : ", ") + fmt::format("{}", static_cast<long>(v));
      }
      r += fmt::format("{} in {{{}}}", item.name, set);
    } else {
      r += to_string(item);
    }
  }
  return r;
}

}  // namespace

PlannedGoals goals_for_plan(const ProofPlan& plan) {
  const InequalityExpression ineq = parse_inequality(plan.inequality);
  const Domain domain = parse_domain(plan.domain);
  if (ineq.relation == Relation::Equal) {
    throw std::invalid_argument("--prove: an identity cannot be proved by enclosures");
  }
  for (const DomainItem& item : domain.items) {
    const bool law = std::holds_alternative<NormalLaw>(item.spec) ||
                     std::holds_alternative<UniformLaw>(item.spec) ||
                     std::holds_alternative<RademacherLaw>(item.spec) ||
                     std::holds_alternative<SphereLaw>(item.spec);
    if (law) {
      throw std::invalid_argument(fmt::format(
          "--prove: '{}' is drawn from a law, not bounded; give a box instead, e.g. '{} in [-20, 20]^{}'",
          to_string(item), item.name, array_input_shape(item.name) && array_input_shape(item.name)->rows != std::string("1")
                                          ? "(L, d)" : (item.name == "q" ? "d" : "L")));
    }
  }
  PlannedGoals planned;
  planned.scope = scope_text(domain);
  for (const IntegerChoice& integers : enumerate_integers(domain)) {
    // Variables: real parameters, then every entry of every array box, in the domain's order.
    std::vector<std::string> names;
    ProofBox box;
    for (const DomainItem& item : domain.items) {
      const Quantity* q = default_quantities().find(item.name);
      if (q && q->kind == QuantityKind::RealParameter) {
        names.push_back(item.name);
        if (const auto* r = std::get_if<DomainRange>(&item.spec)) {
          box.lower.push_back(r->outer_lower);
          box.upper.push_back(r->outer_upper);
        } else {
          // The written decimal, not its nearest double: T = 0.1 covers one tenth.
          const auto& fixed = std::get<DomainFixed>(item.spec);
          box.lower.push_back(fixed.outer_lower);
          box.upper.push_back(fixed.outer_upper);
        }
      } else if (const auto* b = std::get_if<ArrayBox>(&item.spec)) {
        const ArrayInputShape* shape = array_input_shape(item.name);
        const long rows = size_of(shape->rows, integers, item.name);
        const long cols = size_of(shape->cols, integers, item.name);
        for (long i = 0; i < rows; ++i) {
          for (long j = 0; j < cols; ++j) {
            names.push_back(proof_variable_name(item.name, static_cast<int>(i), static_cast<int>(j),
                                                static_cast<int>(rows)));
            box.lower.push_back(b->outer_lower);
            box.upper.push_back(b->outer_upper);
          }
        }
      }
    }
    std::string shape_text;
    for (const auto& [name, value] : integers) {
      shape_text += (shape_text.empty() ? "" : ", ") + fmt::format("{} = {}", name, value);
    }
    if (static_cast<int>(names.size()) > kMaxProofVariables) {
      throw std::invalid_argument(fmt::format(
          "--prove: {} gives {} variables, more than the {} a proof may have; narrow the domain",
          shape_text.empty() ? "the domain" : shape_text, names.size(), kMaxProofVariables));
    }
    ProofGoal goal;
    goal.program = ElementaryProgram(names);
    ElementaryOperands operands;
    std::size_t k = 0;
    for (const DomainItem& item : domain.items) {
      const Quantity* q = default_quantities().find(item.name);
      if (q && q->kind == QuantityKind::RealParameter) {
        operands.scalars[item.name] = goal.program.variable(static_cast<std::uint32_t>(k++));
      } else if (std::holds_alternative<ArrayBox>(item.spec)) {
        const ArrayInputShape* shape = array_input_shape(item.name);
        const long rows = size_of(shape->rows, integers, item.name);
        const long cols = size_of(shape->cols, integers, item.name);
        auto& entries = operands.arrays[item.name];
        for (long e = 0; e < rows * cols; ++e) {
          entries.push_back(goal.program.variable(static_cast<std::uint32_t>(k++)));
        }
        operands.shapes[item.name] = {static_cast<int>(rows), static_cast<int>(cols)};
      }
    }
    for (const auto& [name, value] : integers) {
      operands.scalars[name] = goal.program.constant(fmt::format("{}", value));
    }
    // T is 1 when the domain does not give it, as in quantity().
    if (!operands.scalars.contains("T")) operands.scalars["T"] = goal.program.constant("1");
    std::map<std::string, std::uint32_t, std::less<>> lowered;
    const auto name = [&](std::string_view n) -> std::uint32_t {
      if (const auto it = lowered.find(n); it != lowered.end()) return it->second;
      std::uint32_t at = 0;
      if (const auto it = operands.scalars.find(n); it != operands.scalars.end()) {
        at = it->second;
      } else {
        at = lower_quantity(n, operands, goal.program);
      }
      lowered.emplace(std::string(n), at);
      return at;
    };
    goal.lhs = ineq.lhs.lower(goal.program, name);
    goal.rhs = ineq.rhs.lower(goal.program, name);
    goal.relation = ineq.relation;
    goal.box = std::move(box);
    goal.name = plan.side.empty() ? shape_text
                : shape_text.empty() ? plan.side
                                     : plan.side + ", " + shape_text;
    if (goal.name.empty()) goal.name = "statement";
    planned.goals.push_back(std::move(goal));
    planned.integers.push_back(integers);
  }
  return planned;
}

Instance instance_at(const PlannedGoals& planned, std::size_t index, std::span<const double> point) {
  const ProofGoal& goal = planned.goals.at(index);
  const auto& names = goal.program.variables();
  if (point.size() != names.size()) throw std::invalid_argument("instance_at: wrong number of values");
  Instance x;
  const auto& integers = planned.integers.at(index);
  for (const auto& [name, value] : integers) x.scalars[name] = static_cast<double>(value);
  std::map<std::string, long, std::less<>> filled;  // entries set so far, per array
  for (std::size_t k = 0; k < names.size(); ++k) {
    const ArrayInputShape* shape = nullptr;
    for (const auto& a : array_input_shapes()) {
      if (names[k].starts_with(std::string(a.name) + "_")) shape = &a;
    }
    if (!shape) {
      x.scalars[names[k]] = point[k];
      continue;
    }
    auto& a = x.arrays[shape->name];
    if (a.size() == 0) {
      a = RowMatrix<double>::Zero(size_of(shape->rows, integers, shape->name),
                                  size_of(shape->cols, integers, shape->name));
    }
    // An array's variables are consecutive and row-major (goals_for_plan's order).
    a.data()[filled[shape->name]++] = point[k];
  }
  return x;
}

}  // namespace attncert
