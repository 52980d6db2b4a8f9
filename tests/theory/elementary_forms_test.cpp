// The elementary forms (theory/elementary_forms.hpp) against the registry's own evaluators
// (theory/quantities.hpp): the same quantity at the same point, computed two different ways.
#include "theory/elementary_forms.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "numerics/rng.hpp"
#include "theory/claim.hpp"
#include "theory/quantities.hpp"

namespace attncert {
namespace {

constexpr std::uint64_t kSeed = 20261203;

// One fixed shape: logits given directly (d == 0) or as l_j = qᵀk_j (q ∈ ℝ^d, K ∈ ℝ^{L×d}).
struct Shape {
  int L = 1;
  int d = 0;
};

// A point of the shape, as an Instance (the registry's input) and as a program whose variables
// are that instance's entries (the elementary form's input).
struct FormPoint {
  Instance instance;
  ElementaryProgram program;
  ElementaryOperands operands;
  std::vector<double> point;
};

FormPoint make_setup(const Shape& shape, const std::vector<double>& logits, const std::vector<double>& q,
                 const std::vector<double>& K, double T, bool with_T = true) {
  FormPoint s;
  std::vector<std::string> names;
  if (shape.d == 0) {
    for (int j = 0; j < shape.L; ++j) {
      names.push_back(proof_variable_name("logits", 0, j, 1));
      s.point.push_back(logits[static_cast<std::size_t>(j)]);
    }
  } else {
    for (int c = 0; c < shape.d; ++c) {
      names.push_back(proof_variable_name("q", 0, c, 1));
      s.point.push_back(q[static_cast<std::size_t>(c)]);
    }
    for (int j = 0; j < shape.L; ++j) {
      for (int c = 0; c < shape.d; ++c) {
        names.push_back(proof_variable_name("K", j, c, shape.L));
        s.point.push_back(K[static_cast<std::size_t>(j * shape.d + c)]);
      }
    }
  }
  if (with_T) {
    names.push_back("T");
    s.point.push_back(T);
  }
  s.program = ElementaryProgram(names);
  std::uint32_t next = 0;
  auto take = [&](int n) {
    std::vector<std::uint32_t> v;
    for (int i = 0; i < n; ++i) v.push_back(s.program.variable(next++));
    return v;
  };
  if (shape.d == 0) {
    s.operands.arrays["logits"] = take(shape.L);
    s.operands.shapes["logits"] = {1, shape.L};
    s.instance.arrays["logits"] = RowMatrix<double>(1, shape.L);
    for (int j = 0; j < shape.L; ++j) s.instance.arrays["logits"](0, j) = logits[static_cast<std::size_t>(j)];
  } else {
    s.operands.arrays["q"] = take(shape.d);
    s.operands.shapes["q"] = {1, shape.d};
    s.operands.arrays["K"] = take(shape.L * shape.d);
    s.operands.shapes["K"] = {shape.L, shape.d};
    s.instance.arrays["q"] = RowMatrix<double>(1, shape.d);
    s.instance.arrays["K"] = RowMatrix<double>(shape.L, shape.d);
    for (int c = 0; c < shape.d; ++c) s.instance.arrays["q"](0, c) = q[static_cast<std::size_t>(c)];
    for (int j = 0; j < shape.L; ++j) {
      for (int c = 0; c < shape.d; ++c) s.instance.arrays["K"](j, c) = K[static_cast<std::size_t>(j * shape.d + c)];
    }
    s.operands.scalars["d"] = s.program.constant(std::to_string(shape.d));
    s.instance.scalars["d"] = shape.d;
  }
  if (with_T) {
    s.operands.scalars["T"] = s.program.variable(next++);
    s.instance.scalars["T"] = T;
  }
  s.operands.scalars["L"] = s.program.constant(std::to_string(shape.L));
  s.instance.scalars["L"] = shape.L;
  return s;
}

// Tolerances, relative to max(1, |reference|, scale) with scale = max |l_j − l_i|/T (the size of
// the exponents): both sides are double computations of the same number by different formulas.
// Each exp of an argument x rounded with relative error u = 2⁻⁵³ carries an error |x|·u, and the
// sums, quotients and logs add a few u per operation (≤ ~3L² + 10 of them), so
// u·(scale + 3L² + 10) ≲ 2.2e-16·(50 + 60) ≈ 2.4e-14 over the sampled ranges; 1e-11 leaves a
// margin of 400 and still fails for any different quantity (which differs by far more than
// 1e-11 at random points). jacobian_norm at L = 3 is the exception: its form takes
// sqrt(e₂² − 3e₃), and near uniform weights the discriminant is a difference of nearly equal
// numbers, its absolute error ~10u·e₂²; the root then errs by up to sqrt(10u)·e₂ ≈ 4.7e-8·e₂ and
// the norm is >= e₂/T, so the relative error is <= ~5e-8: tolerance 1e-7.
double tolerance_for(const std::string& name, int L) {
  return name == "jacobian_norm" && L == 3 ? 1e-7 : 1e-11;
}

const std::vector<std::string> kLogitQuantities = {
    "alpha_max", "alpha_min", "lse", "entropy", "logit_max", "logit_min", "logit_range", "L", "T"};

void expect_form_matches(const FormPoint& s, const std::string& name, int L, double scale) {
  ElementaryProgram program = s.program;
  const std::uint32_t k = lower_quantity(name, s.operands, program);
  const double form = evaluate_in_double(program, s.point).at(k);
  const double reference = quantity<double>(name, s.instance, TierContext<double>{53});
  const double tol = tolerance_for(name, L) * std::max({1.0, std::abs(reference), scale});
  EXPECT_NEAR(form, reference, tol) << name << " at " << s.instance.describe();
}

double exponent_scale(const std::vector<double>& l, double T) {
  const auto [lo, hi] = std::minmax_element(l.begin(), l.end());
  return (*hi - *lo) / T;
}

TEST(ElementaryForms, LogitQuantitiesMatchTheRegistryAtRandomPoints) {
  std::cout << "seed " << kSeed << "\n";
  Rng rng(kSeed);
  for (int L = 1; L <= 5; ++L) {
    for (int trial = 0; trial < 200; ++trial) {
      // Logits in [-5, 5], T log-uniform in [0.2, 5]: exponents |l_j − l_i|/T <= 50, far from
      // double overflow (the forms are not shifted by the largest logit; see lse's comment).
      const std::vector<double> l = rng.uniform_vector(static_cast<std::size_t>(L), -5.0, 5.0);
      const double T = std::exp(rng.uniform(std::log(0.2), std::log(5.0)));
      const FormPoint s = make_setup({L, 0}, l, {}, {}, T);
      std::vector<std::string> names = kLogitQuantities;
      if (L <= 3) names.push_back("jacobian_norm");
      for (const std::string& name : names) expect_form_matches(s, name, L, exponent_scale(l, T));
    }
  }
}

TEST(ElementaryForms, QueryKeyQuantitiesMatchTheRegistryAtRandomPoints) {
  std::cout << "seed " << kSeed + 1 << "\n";
  Rng rng(kSeed + 1);
  for (int L = 1; L <= 3; ++L) {
    for (int d = 1; d <= 3; ++d) {
      for (int trial = 0; trial < 60; ++trial) {
        const std::vector<double> q = rng.normal_vector(static_cast<std::size_t>(d));
        const std::vector<double> K = rng.normal_vector(static_cast<std::size_t>(L * d));
        const double T = std::exp(rng.uniform(std::log(0.2), std::log(5.0)));
        const FormPoint s = make_setup({L, d}, {}, q, K, T);
        std::vector<double> l;
        for (int j = 0; j < L; ++j) {
          double v = 0;
          for (int c = 0; c < d; ++c) v += q[static_cast<std::size_t>(c)] * K[static_cast<std::size_t>(j * d + c)];
          l.push_back(v);
        }
        std::vector<std::string> names = kLogitQuantities;
        names.insert(names.end(), {"Delta", "d", "jacobian_norm"});
        for (const std::string& name : names) expect_form_matches(s, name, L, exponent_scale(l, T));
      }
    }
  }
}

// Ties are where the forms are most delicate: p uniform, the L = 3 discriminant exactly 0, and
// the attained bounds of the catalog (‖J‖ = 1/(2T) at L = 2).
TEST(ElementaryForms, TiesAndAPointMassMatchTheRegistry) {
  for (int L = 1; L <= 4; ++L) {
    for (const double c : {0.0, 1.5, -7.25}) {
      const std::vector<double> l(static_cast<std::size_t>(L), c);
      const FormPoint s = make_setup({L, 0}, l, {}, {}, 0.5);
      std::vector<std::string> names = kLogitQuantities;
      if (L <= 3) names.push_back("jacobian_norm");
      for (const std::string& name : names) expect_form_matches(s, name, L, 0.0);
    }
  }
  // Known values: uniform weights 1/3, entropy log 3, and the L = 3 norm λ = 1/3 at T = 0.5.
  const FormPoint s = make_setup({3, 0}, {2, 2, 2}, {}, {}, 0.5);
  ElementaryProgram program = s.program;
  const std::uint32_t norm = lower_quantity("jacobian_norm", s.operands, program);
  const std::uint32_t entropy = lower_quantity("entropy", s.operands, program);
  const std::vector<double> v = evaluate_in_double(program, s.point);
  EXPECT_NEAR(v[norm], (1.0 / 3) / 0.5, 1e-7);  // sqrt of a rounding-sized discriminant: ~1e-8
  EXPECT_NEAR(v[entropy], std::log(3.0), 1e-15);
  // One logit far above the others (exponents up to 60): weights near a point mass.
  const FormPoint spike = make_setup({3, 0}, {10, -2, -1}, {}, {}, 0.2);
  for (const std::string& name : {"alpha_max", "alpha_min", "entropy", "jacobian_norm", "lse"}) {
    expect_form_matches(spike, name, 3, 60.0);
  }
}

TEST(ElementaryForms, TemperatureDefaultsToOneLikeTheRegistry) {
  const FormPoint s = make_setup({2, 0}, {0.3, -1.1}, {}, {}, 1.0, /*with_T=*/false);
  for (const std::string& name : {"alpha_max", "lse", "entropy", "jacobian_norm", "T"}) {
    expect_form_matches(s, name, 2, 1.4);
  }
}

// A form of a different quantity would not pass: the comparison above is not vacuous.
TEST(ElementaryForms, TheComparisonSeparatesDifferentQuantities) {
  const FormPoint s = make_setup({3, 0}, {0.4, -0.9, 1.7}, {}, {}, 0.7);
  ElementaryProgram program = s.program;
  const std::uint32_t k = lower_quantity("alpha_min", s.operands, program);
  const double form = evaluate_in_double(program, s.point).at(k);
  EXPECT_GT(std::abs(form - quantity<double>("alpha_max", s.instance, TierContext<double>{53})), 1e-3);
  EXPECT_GT(std::abs(form - quantity<double>("entropy", s.instance, TierContext<double>{53})), 1e-3);
}

void expect_one_line_error(const std::string& name, const ElementaryOperands& operands,
                           ElementaryProgram program, const std::string& fragment) {
  try {
    lower_quantity(name, operands, program);
    ADD_FAILURE() << name << ": expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    EXPECT_NE(what.find(fragment), std::string::npos) << what;
  }
}

TEST(ElementaryForms, MissingFormsAndInputsThrowOneLineErrors) {
  const FormPoint four = make_setup({4, 0}, {1, 2, 3, 4}, {}, {}, 1.0);
  expect_one_line_error("jacobian_norm", four.operands, four.program, "L = 4");
  const FormPoint three = make_setup({3, 0}, {1, 2, 3}, {}, {}, 1.0);
  for (const std::string& name : {"rank", "sigma_min", "dtilde_A", "spectral_gap", "no_such_name"}) {
    expect_one_line_error(name, three.operands, three.program, "no elementary form");
  }
  expect_one_line_error("Delta", three.operands, three.program, "'q'");  // logits only: no q, K
  expect_one_line_error("N", three.operands, three.program, "'N'");
  expect_one_line_error("alpha_max", ElementaryOperands{}, ElementaryProgram({"T"}), "logits");
}

TEST(ElementaryForms, ProofVariableNamesAreOneBased) {
  EXPECT_EQ(proof_variable_name("logits", 0, 1, 1), "logits_2");
  EXPECT_EQ(proof_variable_name("q", 0, 0, 1), "q_1");
  EXPECT_EQ(proof_variable_name("K", 1, 2, 3), "K_2_3");
  EXPECT_THROW(proof_variable_name("K", 3, 0, 3), std::invalid_argument);
  EXPECT_THROW(proof_variable_name("K", 0, -1, 3), std::invalid_argument);
}

}  // namespace
}  // namespace attncert
