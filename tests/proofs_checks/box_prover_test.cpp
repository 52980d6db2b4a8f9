// The box prover on goals whose truth is known by hand: true goals prove, false goals give a
// Candidate and never Proved, attained bounds are proved only with a slack. Every returned tree
// is re-checked by a walker local to this test: it re-derives the cover (split points strictly
// inside, faces at the right end) and re-evaluates every leaf with enclose_over_box and its own
// forward-mode gradients over Ball — a self-check; the independent check is the MPFI checker's.
#include "proofs_checks/box_prover.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>

#include "numerics/ball.hpp"
#include "proofs_checks/proof_certificate.hpp"
#include "proofs_checks/proof_checker.hpp"

namespace attncert {
namespace {

using Op = ElementaryOp;

ProofGoal make_goal(ElementaryProgram program, std::uint32_t lhs, Relation rel, std::uint32_t rhs,
                    std::vector<double> lo, std::vector<double> hi, std::string slack = "0") {
  ProofGoal g;
  g.name = "test";
  g.program = std::move(program);
  g.lhs = lhs;
  g.rhs = rhs;
  g.relation = rel;
  g.box = {std::move(lo), std::move(hi)};
  g.slack = std::move(slack);
  return g;
}

std::vector<std::string> names(int n, const char* stem = "x") {
  std::vector<std::string> v;
  for (int i = 1; i <= n; ++i) v.push_back(std::string(stem).append(std::to_string(i)));
  return v;
}

// log(exp(x1)+…+exp(xn)) <= max(x1,…,xn) + log(n) + margin over [-1,1]^n: true for margin >= 0
// (lse <= max + log n), attained on the diagonal x1 = … = xn when margin = 0.
ProofGoal lse_goal(int n, const std::string& margin, double half_width = 1) {
  ElementaryProgram p(names(n));
  std::uint32_t sum = 0, mx = 0;
  for (int i = 0; i < n; ++i) {
    const std::uint32_t x = p.variable(static_cast<std::uint32_t>(i));
    const std::uint32_t e = p.unary(Op::Exp, x);
    sum = i == 0 ? e : p.binary(Op::Add, sum, e);
    mx = i == 0 ? x : p.binary(Op::Max, mx, x);
  }
  const std::uint32_t lhs = p.unary(Op::Log, sum);
  std::uint32_t rhs = p.binary(Op::Add, mx, p.unary(Op::Log, p.constant(std::to_string(n))));
  if (margin != "0") rhs = p.binary(Op::Add, rhs, p.constant(margin));
  return make_goal(std::move(p), lhs, Relation::LessEqual, rhs, std::vector<double>(n, -half_width),
                   std::vector<double>(n, half_width));
}

// ---- the test-local walker --------------------------------------------------------------

// Endpoint-tight products and quotients (the prover encloses wide products from endpoints, as
// MPFI does; Arb's midpoint-radius product of two wide balls is up to ~50% wider), written here
// with Ball's own operations on the endpoints so that the walker shares no code with the prover.
Ball endpoint(const Ball& x, bool upper) {
  Ball e;
  e.set_precision(std::max(x.precision(), 53L));
  arf_t t;
  arf_init(t);
  if (upper) arb_get_ubound_arf(t, x.arb(), e.precision()); else arb_get_lbound_arf(t, x.arb(), e.precision());
  arb_set_arf(e.arb(), t);
  arf_clear(t);
  return e;
}
// The hull of two balls as a ball whose end nearer 0 is exact (when the hull has one sign):
// a centered ball's radius, rounded up to 30 bits, would reach across 0 for a hull such as
// [2e-1, 2e17], and every later sign test would fail. (A second implementation of the
// prover's anchoring, on Ball.)
Ball anchored_hull(const Ball& a, const Ball& b) {
  Ball h = hull(a, b);
  if (!h.is_finite()) return h;
  arf_t lo, hi, half;
  arf_init(lo);
  arf_init(hi);
  arf_init(half);
  arb_get_lbound_arf(lo, h.arb(), h.precision());
  arb_get_ubound_arf(hi, h.arb(), h.precision());
  if (arf_sgn(lo) >= 0 || arf_sgn(hi) <= 0) {
    arf_sub(half, hi, lo, ARF_PREC_EXACT, ARF_RND_DOWN);
    arf_mul_2exp_si(half, half, -1);
    arf_get_mag(arb_radref(h.arb()), half);
    arf_set_mag(half, arb_radref(h.arb()));
    if (arf_sgn(lo) >= 0) {
      arf_add(arb_midref(h.arb()), lo, half, ARF_PREC_EXACT, ARF_RND_DOWN);
    } else {
      arf_sub(arb_midref(h.arb()), hi, half, ARF_PREC_EXACT, ARF_RND_DOWN);
    }
  }
  arf_clear(lo);
  arf_clear(hi);
  arf_clear(half);
  return h;
}

Ball tight_mul(const Ball& a, const Ball& b) {
  if (a.is_exact() || b.is_exact() || !a.is_finite() || !b.is_finite()) return a * b;
  const Ball al = endpoint(a, false), ah = endpoint(a, true), bl = endpoint(b, false), bh = endpoint(b, true);
  return anchored_hull(anchored_hull(al * bl, al * bh), anchored_hull(ah * bl, ah * bh));
}
Ball tight_div(const Ball& a, const Ball& b) {
  if (b.is_exact() || !a.is_finite() || !b.is_finite() || b.contains(0.0)) return a / b;
  const Ball al = endpoint(a, false), ah = endpoint(a, true), bl = endpoint(b, false), bh = endpoint(b, true);
  return anchored_hull(anchored_hull(al / bl, al / bh), anchored_hull(ah / bl, ah / bh));
}

// Endpoint sums: a ball spanning many orders of magnitude loses its lower end in Arb's sum
// (the radius is rounded up to 30 bits), so the prover adds wide balls from their endpoints.
Ball tight_add(const Ball& a, const Ball& b, bool add) {
  if (!a.is_finite() || !b.is_finite()) return add ? a + b : a - b;
  const Ball al = endpoint(a, false), ah = endpoint(a, true), bl = endpoint(b, false), bh = endpoint(b, true);
  return add ? anchored_hull(al + bl, ah + bh) : anchored_hull(al - bh, ah - bl);
}

struct Walker {
  explicit Walker(const ProofGoal& g) : goal(g) {}
  const ProofGoal& goal;
  long precision_floor = 53;
  std::string failure;  // first failing node, empty when the tree checks
  long leaves = 0;

  int sign() const { return goal.relation == Relation::LessEqual || goal.relation == Relation::Less ? 1 : -1; }
  bool strict() const { return goal.relation == Relation::Less || goal.relation == Relation::Greater; }
  bool ok(const Ball& f) const { return strict() ? certainly(f < Ball(0)) : certainly(f <= Ball(0)); }

  Ball slack(long prec) const {
    ElementaryProgram p(std::vector<std::string>{});
    p.constant(goal.slack);
    return enclose_over_box(p, ProofBox{}, prec)[0];
  }
  Ball f_of(const std::vector<Ball>& v, const std::vector<Ball>& /*unused*/, long prec) const {
    const Ball d = v[goal.lhs] - v[goal.rhs];
    return (sign() > 0 ? d : -d) - slack(prec);
  }

  // Forward-mode gradient of f over the box: a second implementation of the prover's rules.
  std::vector<Ball> gradient(const ProofBox& box, long prec) const {
    const auto& code = goal.program.code();
    const std::size_t nv = box.dimension();
    const std::vector<Ball> v = enclose_over_box(goal.program, box, prec);
    std::vector<std::vector<Ball>> g(code.size(), std::vector<Ball>(nv, Ball(0)));
    for (std::size_t k = 0; k < code.size(); ++k) {
      const auto& ins = code[k];
      for (std::size_t i = 0; i < nv; ++i) {
        const Ball ga = arity(ins.op) >= 1 ? g[ins.a][i] : Ball(0);
        const Ball gb = arity(ins.op) >= 2 ? g[ins.b][i] : Ball(0);
        Ball& out = g[k][i];
        switch (ins.op) {
          case Op::Variable: out = Ball(ins.variable == i ? 1 : 0); break;
          case Op::Constant:
          case Op::Pi: out = Ball(0); break;
          case Op::Negate: out = -ga; break;
          case Op::Add: out = tight_add(ga, gb, true); break;
          case Op::Subtract: out = tight_add(ga, gb, false); break;
          case Op::Multiply: out = tight_add(tight_mul(ga, v[ins.b]), tight_mul(v[ins.a], gb), true); break;
          case Op::Divide: out = tight_div(tight_add(ga, tight_mul(v[k], gb), false), v[ins.b]); break;  // (a/b)' = (a' − (a/b)·b') / b
          case Op::Power:
            out = ins.exponent == 0 ? Ball(0)
                                    : tight_mul(Ball(static_cast<double>(ins.exponent), prec) *
                                                    (ins.exponent - 1 >= 0 ? pow(v[ins.a], static_cast<long>(ins.exponent - 1))
                                                                           : tight_div(Ball(1.0, prec), pow(v[ins.a], static_cast<long>(1 - ins.exponent)))),
                                                ga);
            break;
          case Op::Exp: out = tight_mul(v[k], ga); break;
          case Op::Log: out = tight_div(ga, v[ins.a]); break;
          case Op::Sqrt: out = tight_div(ga, Ball(2.0, prec) * v[k]); break;
          case Op::Abs:
            out = certainly(v[ins.a] > Ball(0))   ? ga
                  : certainly(v[ins.a] < Ball(0)) ? -ga
                                                  : tight_mul(Ball::interval(-1, 1, prec), ga);
            break;
          case Op::Min:
          case Op::Max: {
            const bool mx = ins.op == Op::Max;
            const bool a_wins = certainly(mx ? v[ins.a] >= v[ins.b] : v[ins.a] <= v[ins.b]);
            const bool b_wins = certainly(mx ? v[ins.b] >= v[ins.a] : v[ins.b] <= v[ins.a]);
            out = a_wins ? ga : b_wins ? gb : hull(ga, gb);
            break;
          }
        }
      }
    }
    std::vector<Ball> gf(nv);
    for (std::size_t i = 0; i < nv; ++i) {
      const Ball d = tight_add(g[goal.lhs][i], g[goal.rhs][i], false);
      gf[i] = sign() > 0 ? d : -d;
    }
    return gf;
  }

  bool fail(const std::string& where, const std::string& why) {
    if (failure.empty()) failure = where + ": " + why;
    return false;
  }

  bool check(const ProofNode& node, ProofBox box, const std::string& where) {
    const std::size_t nv = box.dimension();
    if (node.is_split) {
      const std::size_t v = node.variable;
      if (v >= nv) return fail(where, "split variable out of range");
      if (!(box.lower[v] < node.at && node.at < box.upper[v])) return fail(where, "split point not strictly inside");
      if (!node.below || !node.above) return fail(where, "split without two children");
      ProofBox below = box, above = box;
      below.upper[v] = node.at;
      above.lower[v] = node.at;
      return check(*node.below, below, where + ".below") && check(*node.above, above, where + ".above");
    }
    const long prec = std::max(node.precision, precision_floor);
    switch (node.method) {
      case LeafMethod::Naive: {
        ++leaves;
        const std::vector<Ball> v = enclose_over_box(goal.program, box, prec);
        return ok(f_of(v, {}, prec)) ? true : fail(where, "naive enclosure does not decide");
      }
      case LeafMethod::MeanValue: {
        ++leaves;
        if (node.center.size() != nv) return fail(where, "center of the wrong dimension");
        for (std::size_t i = 0; i < nv; ++i) {
          if (!(box.lower[i] <= node.center[i] && node.center[i] <= box.upper[i])) return fail(where, "center outside the box");
        }
        const ProofBox point{node.center, node.center};
        Ball bound = f_of(enclose_over_box(goal.program, point, prec), {}, prec);
        const std::vector<Ball> g = gradient(box, prec);
        for (std::size_t i = 0; i < nv; ++i) {
          bound += tight_mul(g[i], Ball::interval(box.lower[i], box.upper[i], prec) - Ball(node.center[i], prec));
        }
        return ok(bound) ? true : fail(where, "mean-value bound does not decide");
      }
      case LeafMethod::Monotone: {
        const std::size_t v = node.variable;
        if (v >= nv || !node.face) return fail(where, "monotone leaf without a face or with a bad variable");
        const Ball d = gradient(box, prec)[v];
        if (!(node.increasing ? certainly(d >= Ball(0)) : certainly(d <= Ball(0)))) {
          return fail(where, "partial derivative has no certain sign: " + d.str() + " variable " + std::to_string(v) + (node.increasing ? " inc" : " dec"));
        }
        ProofBox face = box;
        if (node.increasing) face.lower[v] = face.upper[v]; else face.upper[v] = face.lower[v];
        return check(*node.face, face, where + ".face");
      }
      case LeafMethod::SecondOrder: return fail(where, "second-order leaves are not produced by this prover");
    }
    return fail(where, "unknown leaf");
  }
};

// Re-checks the tree of a proved attempt against the goal with the slack it claims.
void expect_tree_checks(const ProofGoal& goal, const ProofAttempt& a) {
  ASSERT_TRUE(a.tree.has_value());
  ProofGoal proved = goal;
  proved.slack = a.slack;
  Walker w(proved);
  EXPECT_TRUE(w.check(*a.tree, goal.box, "root")) << w.failure;
  EXPECT_EQ(a.tree->leaf_count(), a.leaves);
}

ProverOptions no_ladder() {
  ProverOptions o;
  o.slack_ladder.clear();
  o.max_boxes = 200'000;
  return o;
}

// ---- true goals prove --------------------------------------------------------------------

TEST(BoxProver, SquareBoundedByOneOnTheUnitInterval) {
  ElementaryProgram p({"x"});
  const auto sq = p.power(p.variable(0u), 2);
  const auto one = p.constant("1");
  const ProofGoal goal = make_goal(p, sq, Relation::LessEqual, one, {-1}, {1});
  const ProofAttempt a = prove_goal(goal, no_ladder());
  ASSERT_EQ(a.outcome, ProofOutcome::Proved) << a.reason;
  EXPECT_EQ(a.slack, "0");
  expect_tree_checks(goal, a);
}

TEST(BoxProver, LogSumExpBoundForTwoToFourVariables) {
  for (int n = 2; n <= 4; ++n) {
    const ProofGoal goal = lse_goal(n, "0.01");
    long progress_calls = 0, last_left = -1;
    const ProofAttempt a = prove_goal(goal, no_ladder(), [&](long, long left) {
      ++progress_calls;
      last_left = left;
    });
    ASSERT_EQ(a.outcome, ProofOutcome::Proved) << "n = " << n << ": " << a.reason;
    // Each of these trees reaches the frontier (depth 10): progress once per subtree, ending
    // with none left.
    EXPECT_GT(progress_calls, 0);
    EXPECT_EQ(last_left, 0);
    EXPECT_EQ(a.slack, "0");
    expect_tree_checks(goal, a);
    std::cout << "lse n = " << n << ": " << a.boxes << " boxes, " << a.leaves << " leaves, " << a.seconds << " s\n";
  }
}

// The units a proof is cut into (subtrees, and rounds of what is left when a unit reaches its
// box cutoff) change how the search is shared out, never the tree: a cutoff of 300 boxes (many
// rounds) and one of 10^9 (one unit per subtree) give the same certificate tree, box count and
// leaves, alone or on 3 threads.
TEST(BoxProver, TreeDoesNotDependOnHowTheSearchIsCutIntoUnits) {
  const ProofGoal goal = lse_goal(4, "0.01");
  ProverOptions whole = no_ladder();
  whole.unit_boxes = 1'000'000'000;
  const ProofAttempt reference = prove_goal(goal, whole);
  ASSERT_EQ(reference.outcome, ProofOutcome::Proved) << reference.reason;
  for (const int jobs : {1, 3}) {
    ProverOptions cut = no_ladder();
    cut.unit_boxes = 300;
    cut.jobs = jobs;
    const ProofAttempt a = prove_goal(goal, cut);
    ASSERT_EQ(a.outcome, ProofOutcome::Proved) << a.reason;
    EXPECT_EQ(a.boxes, reference.boxes) << jobs;
    EXPECT_EQ(a.leaves, reference.leaves) << jobs;
    EXPECT_EQ(to_json(*a.tree).dump(), to_json(*reference.tree).dump()) << jobs;
  }
}

// The certificate file rendered in units (subtrees of at most 2,000 leaves, on 1 or 3 threads)
// is to_json(certificate).dump(), byte for byte.
TEST(BoxProver, CertificateTextRenderedInUnitsIsTheWholeDump) {
  const ProofGoal goal = lse_goal(4, "0.01");
  ProofAttempt a = prove_goal(goal, no_ladder());
  ASSERT_EQ(a.outcome, ProofOutcome::Proved) << a.reason;
  ASSERT_GT(a.leaves, 2 * 2000) << "too small a tree to be cut into units";
  ProofCertificate certificate{"test", "lse bound", "[-1, 1]^4", "n = 4", {}};
  certificate.goals.push_back({goal, std::move(*a.tree)});
  certificate.goals.push_back(certificate.goals.front());  // two goals: marks of both
  const std::string whole = to_json(certificate).dump();
  for (const int jobs : {1, 3}) EXPECT_EQ(certificate_json_text(certificate, jobs), whole) << jobs;
}

// The same goal as a >= statement (rhs − lhs − slack is the f then): the sign convention.
TEST(BoxProver, GreaterEqualFormProvesToo) {
  ProofGoal goal = lse_goal(3, "0.01");
  std::swap(goal.lhs, goal.rhs);
  goal.relation = Relation::GreaterEqual;
  const ProofAttempt a = prove_goal(goal, no_ladder());
  ASSERT_EQ(a.outcome, ProofOutcome::Proved) << a.reason;
  expect_tree_checks(goal, a);
}

// Binary digits after the point of a double (its exact decimal has as many decimal digits).
int fractional_bits(double x) {
  int bits = 0;
  while (x != std::floor(x)) {
    x *= 2;
    ++bits;
  }
  return bits;
}

// Split points and mean-value centers are short dyadics: a certificate writes each as an exact
// decimal, and an arbitrary double in [-1, 1] has ~53 digits (~700 when tiny). A split at depth
// d (any variable) of [-1, 1] has width >= 2·0.4375^d and the split is a multiple of 2^k with
// 2^k ~ width/256, so <= 1.2·d + 9 bits; a center at w/1024 has <= 2 bits more.
TEST(BoxProver, SplitPointsAndCentersAreShortDyadics) {
  const ProofGoal goal = lse_goal(3, "0.01");
  const ProofAttempt a = prove_goal(goal, no_ladder());
  ASSERT_EQ(a.outcome, ProofOutcome::Proved) << a.reason;
  long points = 0, total_bits = 0;
  std::string failure;
  auto walk = [&](auto&& self, const ProofNode& n, int depth) -> void {
    const int allowed = static_cast<int>(1.2 * depth) + 12;
    if (n.is_split) {
      const int b = fractional_bits(n.at);
      if (b > allowed && failure.empty()) failure = "split " + std::to_string(n.at) + " at depth " + std::to_string(depth);
      ++points;
      total_bits += b;
      self(self, *n.below, depth + 1);
      self(self, *n.above, depth + 1);
      return;
    }
    for (double c : n.center) {
      const int b = fractional_bits(c);
      if (b > allowed && failure.empty()) failure = "center " + std::to_string(c) + " at depth " + std::to_string(depth);
      ++points;
      total_bits += b;
    }
    if (n.face) self(self, *n.face, depth);
  };
  walk(walk, *a.tree, 0);
  EXPECT_TRUE(failure.empty()) << failure;
  ASSERT_GT(points, 100);
  const double mean_bits = static_cast<double>(total_bits) / static_cast<double>(points);
  std::cout << points << " split points and center coordinates, " << mean_bits << " fractional bits on average\n";
  EXPECT_LT(mean_bits, 30) << "arbitrary doubles in [-1, 1] have ~53";
}

// x − x²/4 <= 3/4 on [0, 1]: attained at x = 1, increasing (derivative >= 1/2). Naive and
// mean-value enclosures overestimate on every box touching x = 1, so only the monotone face
// x = 1 (a point, where f = 0 exactly) decides it.
TEST(BoxProver, MonotoneOnlyGoalCollapsesToItsFace) {
  ElementaryProgram p({"x"});
  const auto x = p.variable(0u);
  const auto lhs = p.binary(Op::Subtract, x, p.binary(Op::Divide, p.power(x, 2), p.constant("4")));
  const auto rhs = p.constant("0.75");
  const ProofGoal goal = make_goal(p, lhs, Relation::LessEqual, rhs, {0}, {1});
  const ProofAttempt a = prove_goal(goal, no_ladder());
  ASSERT_EQ(a.outcome, ProofOutcome::Proved) << a.reason;
  ASSERT_FALSE(a.tree->is_split);
  EXPECT_EQ(a.tree->method, LeafMethod::Monotone);
  EXPECT_TRUE(a.tree->increasing);
  expect_tree_checks(goal, a);

  ProverOptions off = no_ladder();
  off.monotonicity = false;
  off.max_boxes = 20'000;
  const ProofAttempt b = prove_goal(goal, off);
  EXPECT_EQ(b.outcome, ProofOutcome::Undecided) << "without monotonicity the attained end never closes";
}

// sqrt(x) <= 1 on [0, 1]: the box touches the edge of sqrt's domain. A ball centered on
// [0, w] sticks out below 0 (Arb's radius has a 30-bit mantissa), where sqrt is undefined;
// the prover's balls for intervals that do not straddle 0 keep the end at 0 exact.
TEST(BoxProver, SquareRootAtTheEdgeOfItsDomainProves) {
  ElementaryProgram p({"x"});
  const auto lhs = p.unary(Op::Sqrt, p.variable(0u));
  const ProofGoal goal = make_goal(p, lhs, Relation::LessEqual, p.constant("1"), {0}, {1});
  const ProofAttempt a = prove_goal(goal, no_ladder());
  ASSERT_EQ(a.outcome, ProofOutcome::Proved) << a.reason;
  expect_tree_checks(goal, a);
  EXPECT_TRUE(enclose_over_box(p, goal.box, 53)[lhs].is_finite());
}

// sqrt(max(x·x − x·x, 0)) <= 1/2 on [1/4, 1/2]: the max is 0 everywhere, but its enclosure over
// the box is [0, 3/16] at best (dependency). arb_max's ball for it is centered and reaches
// below 0 by rounding, where sqrt is NaN: the prover must cut the max at 0 (it is >= 0 by
// construction) and decide the box naively, sqrt(3/16) = 0.433 < 1/2.
TEST(BoxProver, SquareRootOfAMaxWithZeroIsDefined) {
  ElementaryProgram p({"x"});
  const auto x = p.variable(0u);
  const auto d = p.binary(Op::Subtract, p.binary(Op::Multiply, x, x), p.binary(Op::Multiply, x, x));
  const auto lhs = p.unary(Op::Sqrt, p.binary(Op::Max, d, p.constant("0")));
  const ProofGoal goal = make_goal(p, lhs, Relation::LessEqual, p.constant("0.5"), {0.25}, {0.5});
  const ProofAttempt a = prove_goal(goal, no_ladder());
  ASSERT_EQ(a.outcome, ProofOutcome::Proved) << a.reason;
  expect_tree_checks(goal, a);
  EXPECT_TRUE(enclose_over_box(p, goal.box, 53)[lhs].is_finite());
}

// ‖J‖₂ of softmax for L = 3 at T = 1 is e₂ + sqrt(D), D = ½Σ_j (p_j(p_i − p_k))² (a sum of
// squares, 0 on the tie l₁ = l₂ = l₃), and <= 1/2 (attained only as one logit → −∞); over
// [-1, 1]³ its maximum is 0.468 (at l = (1, 1, −1)), so 0.49 holds with margin. Near the tie D's enclosure is [0, O(w²)] only when the
// sum of narrow squares is cut at 0 (their Arb sum reaches below 0 by rounding).
TEST(BoxProver, SoftmaxJacobianNormForThreeLogitsProves) {
  ElementaryProgram p(names(3, "l"));
  std::uint32_t w[3];
  for (std::uint32_t i = 0; i < 3; ++i) {
    std::uint32_t s = p.constant("1");
    for (std::uint32_t j = 0; j < 3; ++j) {
      if (j != i) s = p.binary(Op::Add, s, p.unary(Op::Exp, p.binary(Op::Subtract, p.variable(j), p.variable(i))));
    }
    w[i] = p.binary(Op::Divide, p.constant("1"), s);
  }
  auto mul = [&](std::uint32_t a, std::uint32_t b) { return p.binary(Op::Multiply, a, b); };
  auto add = [&](std::uint32_t a, std::uint32_t b) { return p.binary(Op::Add, a, b); };
  auto sub = [&](std::uint32_t a, std::uint32_t b) { return p.binary(Op::Subtract, a, b); };
  const auto e2 = add(add(mul(w[0], w[1]), mul(w[0], w[2])), mul(w[1], w[2]));
  const auto squares = add(add(p.power(mul(w[1], sub(w[0], w[2])), 2), p.power(mul(w[0], sub(w[1], w[2])), 2)),
                           p.power(mul(w[2], sub(w[0], w[1])), 2));
  const auto lhs = add(e2, p.unary(Op::Sqrt, mul(p.constant("0.5"), squares)));
  const ProofGoal goal = make_goal(p, lhs, Relation::LessEqual, p.constant("0.49"), {-1, -1, -1}, {1, 1, 1});
  const ProofAttempt a = prove_goal(goal, no_ladder());
  ASSERT_EQ(a.outcome, ProofOutcome::Proved) << a.reason;
  expect_tree_checks(goal, a);
  // The same bound at 1/3 − 1e-3 is false on the tie (‖J‖ = 1/3 there).
  const ProofGoal below = make_goal(p, lhs, Relation::LessEqual, p.constant("0.3323"), {-1, -1, -1}, {1, 1, 1});
  EXPECT_EQ(prove_goal(below, no_ladder()).outcome, ProofOutcome::Candidate);
}

// 1/(2 + exp(x)) <= 1 on [40, 63]: exp(x) spans [2e17, 2e27], and Arb's sum 2 + exp(x) rounds
// its radius up to 30 bits (7e17), so the ball contains 0 and the quotient is undefined;
// endpoint sums keep the lower end 2e17 and the box is decided at once.
TEST(BoxProver, SumOfAWideRangeKeepsItsLowerEnd) {
  ElementaryProgram p({"x"});
  const auto denom = p.binary(Op::Add, p.constant("2"), p.unary(Op::Exp, p.variable(0u)));
  const auto lhs = p.binary(Op::Divide, p.constant("1"), denom);
  const ProofGoal goal = make_goal(p, lhs, Relation::LessEqual, p.constant("1"), {40}, {63});
  const ProofAttempt a = prove_goal(goal, no_ladder());
  ASSERT_EQ(a.outcome, ProofOutcome::Proved) << a.reason;
  EXPECT_EQ(a.boxes, 1);
  expect_tree_checks(goal, a);
}

// 2/(T·(2 + e^x + e^−x)) <= 0.51/T with x = (l₂ − l₁)/T, the L = 2 Jacobian bound, over
// l ∈ [−2, 2]², T ∈ [0.1, 1] (true: the lhs is <= 1/(2T)): a goal with the temperature as a
// variable (split at its geometric mean), whose tree the MPFI checker must accept. (The split
// rule's floor on relative widths matters on the full [−20, 20]², T ∈ [0.05, 5], where the
// search stalled at a corner without it; that case takes ~25 s, too long for this test.)
TEST(BoxProver, JacobianBoundWithTemperatureAsAVariable) {
  ElementaryProgram p({"l1", "l2", "T"});
  const auto T = p.variable(2u);
  const auto x = p.binary(Op::Divide, p.binary(Op::Subtract, p.variable(1u), p.variable(0u)), T);
  const auto denom = p.binary(Op::Add, p.binary(Op::Add, p.constant("2"), p.unary(Op::Exp, x)),
                              p.unary(Op::Exp, p.unary(Op::Negate, x)));
  const auto lhs = p.binary(Op::Divide, p.constant("2"), p.binary(Op::Multiply, T, denom));
  const auto rhs = p.binary(Op::Divide, p.constant("0.51"), T);
  const ProofGoal goal = make_goal(p, lhs, Relation::LessEqual, rhs, {-2, -2, 0.1}, {2, 2, 1});
  const ProofAttempt a = prove_goal(goal, no_ladder());
  ASSERT_EQ(a.outcome, ProofOutcome::Proved) << a.reason;
  // Re-checked by the MPFI checker, not by this file's walker: the walker's Ball gradients do
  // not certify the sign of one Monotone leaf of this tree (∂f/∂l₂ comes out as ±2.6e4 where
  // the prover and MPFI both find it <= 0; not yet explained, see STATUS_prover2.md).
  ProofCertificate certificate{"test", "jacobian L = 2", "l in [-2, 2]^2, T in [0.1, 1]", "", {}};
  certificate.goals.push_back(ProvedGoal{goal, *a.tree});
  const ProofCheckReport report = check_proof_certificate(certificate);
  EXPECT_TRUE(report.valid) << report.failure;
  EXPECT_EQ(report.leaves_checked, a.leaves);
  std::cout << "L = 2 Jacobian, T in [0.1, 1]: " << a.boxes << " boxes, " << a.seconds << " s\n";
}

// x·(2 − x) − x <= x − x² + 1/100 on [0, 3]: both sides are x − x² (+ 1/100); the
// dependency problem makes naive enclosures of the difference wide on every box, while the
// mean-value form sees f ≡ −1/100 with a gradient enclosure of width O(box).
TEST(BoxProver, MeanValueGoalProvesInFarFewerBoxesThanNaive) {
  ElementaryProgram p({"x"});
  const auto x = p.variable(0u);
  const auto lhs = p.binary(Op::Subtract, p.binary(Op::Multiply, x, p.binary(Op::Subtract, p.constant("2"), x)), x);
  const auto rhs = p.binary(Op::Add, p.binary(Op::Subtract, x, p.power(x, 2)), p.constant("0.01"));
  const ProofGoal goal = make_goal(p, lhs, Relation::LessEqual, rhs, {0}, {3});
  ProverOptions mv = no_ladder();
  mv.monotonicity = false;
  const ProofAttempt a = prove_goal(goal, mv);
  ASSERT_EQ(a.outcome, ProofOutcome::Proved) << a.reason;
  expect_tree_checks(goal, a);
  ProverOptions naive = mv;
  naive.mean_value = false;
  const ProofAttempt b = prove_goal(goal, naive);
  ASSERT_EQ(b.outcome, ProofOutcome::Proved) << b.reason;
  expect_tree_checks(goal, b);
  std::cout << "mean-value " << a.boxes << " boxes, naive " << b.boxes << " boxes\n";
  EXPECT_LT(a.boxes * 10, b.boxes);
}

// x − x <= 0: no box of positive width has a naive enclosure <= 0, the mean-value form has
// f(c) = 0 and gradient exactly 0.
TEST(BoxProver, IdentityNeedsTheMeanValueForm) {
  ElementaryProgram p({"x"});
  const auto x = p.variable(0u);
  const auto lhs = p.binary(Op::Subtract, x, x);
  const ProofGoal goal = make_goal(p, lhs, Relation::LessEqual, p.constant("0"), {0}, {1});
  ProverOptions mv = no_ladder();
  mv.monotonicity = false;
  const ProofAttempt a = prove_goal(goal, mv);
  ASSERT_EQ(a.outcome, ProofOutcome::Proved) << a.reason;
  EXPECT_EQ(a.tree->method, LeafMethod::MeanValue);
  expect_tree_checks(goal, a);
  mv.mean_value = false;
  EXPECT_EQ(prove_goal(goal, mv).outcome, ProofOutcome::Undecided);
}

// (1 + x·10^-20) − 1 <= 10^-19 on [0, 1]: f = x·10^-20 − 10^-19 <= −9·10^-20, but at 53 bits
// 1 + x·10^-20 already carries a rounding radius ~10^-16, so no split decides it; only more
// precision does.
TEST(BoxProver, RoundingDominatedGoalEscalatesPrecision) {
  ElementaryProgram p({"x"});
  const auto one = p.constant("1");
  const auto lhs = p.binary(Op::Subtract, p.binary(Op::Add, one, p.binary(Op::Multiply, p.variable(0u), p.constant("1e-20"))), one);
  const ProofGoal goal = make_goal(p, lhs, Relation::LessEqual, p.constant("1e-19"), {0}, {1});
  const ProofAttempt a = prove_goal(goal, no_ladder());
  ASSERT_EQ(a.outcome, ProofOutcome::Proved) << a.reason;
  EXPECT_GT(a.max_precision_used, 53);
  EXPECT_LT(a.boxes, 100);
  expect_tree_checks(goal, a);
  ProverOptions capped = no_ladder();
  capped.max_precision = 53;
  EXPECT_EQ(prove_goal(goal, capped).outcome, ProofOutcome::Undecided);
}

// ---- false goals never prove ----------------------------------------------------------------

TEST(BoxProver, FalseGoalGivesACandidateInsideTheBox) {
  ElementaryProgram p({"x"});
  const auto lhs = p.unary(Op::Exp, p.variable(0u));
  const ProofGoal goal = make_goal(p, lhs, Relation::LessEqual, p.constant("2"), {0}, {1});
  const ProofAttempt a = prove_goal(goal);  // with the slack ladder: still never proved
  ASSERT_EQ(a.outcome, ProofOutcome::Candidate);
  ASSERT_EQ(a.candidate.size(), 1u);
  EXPECT_GE(a.candidate[0], 0.0);
  EXPECT_LE(a.candidate[0], 1.0);
  EXPECT_GT(std::exp(a.candidate[0]), 2.0);
  EXPECT_FALSE(a.tree.has_value());
}

// (x − 0.123456)² >= 1e-12 on [0, 1] is false only for |x − 0.123456| < 1e-6, which random
// points miss; the search must find it (a certified violation at a box's center), not prove.
TEST(BoxProver, NarrowViolationIsFoundBySearchNotProved) {
  ElementaryProgram p({"x"});
  const auto lhs = p.power(p.binary(Op::Subtract, p.variable(0u), p.constant("0.123456")), 2);
  const ProofGoal goal = make_goal(p, lhs, Relation::GreaterEqual, p.constant("1e-12"), {0}, {1});
  const ProofAttempt a = prove_goal(goal);
  ASSERT_EQ(a.outcome, ProofOutcome::Candidate) << to_string(a.outcome) << " " << a.reason;
  EXPECT_LT(std::abs(a.candidate[0] - 0.123456), 1e-6);
}

// x <= 1 − 10^-13 on [0, 1] is false by 10^-13 at x = 1, far below the search's stall width:
// the pre-screen's corner must catch it (certified at the point), so that the slack ladder
// never "proves" it with slack 10^-9.
TEST(BoxProver, TinyViolationIsACandidateNotProvedWithSlack) {
  ElementaryProgram p({"x"});
  const ProofGoal goal = make_goal(p, p.variable(0u), Relation::LessEqual, p.constant("0.9999999999999"), {0}, {1});
  const ProofAttempt a = prove_goal(goal);
  ASSERT_EQ(a.outcome, ProofOutcome::Candidate) << to_string(a.outcome) << " slack " << a.slack;
  EXPECT_EQ(a.candidate[0], 1.0);
}

TEST(BoxProver, StrictGoalTouchedAtACornerIsACandidate) {
  ElementaryProgram p({"x"});
  const auto sq = p.power(p.variable(0u), 2);
  const ProofGoal goal = make_goal(p, sq, Relation::Less, p.constant("1"), {-1}, {1});
  const ProofAttempt a = prove_goal(goal);
  EXPECT_EQ(a.outcome, ProofOutcome::Candidate);
  EXPECT_EQ(std::abs(a.candidate[0]), 1.0);
}

// Separable quadratics Σ a_i x_i² + b_i x_i over [-1,1]^3 against their exact maximum ± 0.05:
// the + side must prove, the − side must never prove (a candidate). Randomised; seed printed.
TEST(BoxProver, RandomSeparableQuadraticsAgainstTheirMaximum) {
  const std::uint64_t seed = 20261203;
  std::cout << "seed " << seed << "\n";
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> coef(-1, 1);
  for (int trial = 0; trial < 12; ++trial) {
    ElementaryProgram p(names(3));
    double max_total = 0;
    std::uint32_t sum = 0;
    for (std::uint32_t i = 0; i < 3; ++i) {
      // Coefficients with few bits so that the decimals below are exact.
      const double a = std::round(coef(rng) * 64) / 64, b = std::round(coef(rng) * 64) / 64;
      double m = std::max(a + b, a - b);
      if (a < 0 && std::abs(b / (2 * a)) <= 1) m = std::max(m, -b * b / (4 * a));
      max_total += m;
      const auto x = p.variable(i);
      const auto term = p.binary(Op::Add, p.binary(Op::Multiply, p.constant(exact_decimal(a)), p.power(x, 2)),
                                 p.binary(Op::Multiply, p.constant(exact_decimal(b)), x));
      sum = i == 0 ? term : p.binary(Op::Add, sum, term);
    }
    for (const double margin : {0.05, -0.05}) {
      const auto bound = p.constant(exact_decimal(max_total + margin));
      const ProofGoal goal = make_goal(p, sum, Relation::LessEqual, bound, {-1, -1, -1}, {1, 1, 1});
      const ProofAttempt a = prove_goal(goal, no_ladder());
      if (margin > 0) {
        ASSERT_EQ(a.outcome, ProofOutcome::Proved) << "trial " << trial << ": " << a.reason;
        expect_tree_checks(goal, a);
      } else {
        EXPECT_EQ(a.outcome, ProofOutcome::Candidate) << "trial " << trial;
      }
    }
  }
}

// ---- attained bounds ----------------------------------------------------------------------

// 2·p1·p2 <= 1/2 with p = softmax(l1, l2): equality on the whole line l1 = l2, so no finite
// cover proves slack 0; the prover must say "with slack", never plain Proved.
TEST(BoxProver, AttainedBoundIsProvedOnlyWithSlack) {
  ElementaryProgram p({"l1", "l2"});
  const auto e1 = p.unary(Op::Exp, p.variable(0u)), e2 = p.unary(Op::Exp, p.variable(1u));
  const auto s = p.binary(Op::Add, e1, e2);
  const auto p1 = p.binary(Op::Divide, e1, s), p2 = p.binary(Op::Divide, e2, s);
  const auto lhs = p.binary(Op::Multiply, p.constant("2"), p.binary(Op::Multiply, p1, p2));
  const ProofGoal goal = make_goal(p, lhs, Relation::LessEqual, p.constant("0.5"), {-2, -2}, {2, 2});
  ProverOptions o;
  o.max_boxes = 30'000;  // per slack: 1e-9 and 1e-6 exhaust it along the tie line, 1e-3 proves
  const ProofAttempt a = prove_goal(goal, o);
  ASSERT_EQ(a.outcome, ProofOutcome::ProvedWithSlack) << to_string(a.outcome) << " " << a.reason;
  EXPECT_NE(a.slack, "0");
  expect_tree_checks(goal, a);
  std::cout << "attained softmax bound: slack " << a.slack << ", " << a.boxes << " boxes\n";
}

TEST(BoxProver, LogSumExpWithoutMarginIsAttainedOnTheDiagonal) {
  const ProofGoal goal = lse_goal(2, "0");
  ProverOptions o;
  o.max_boxes = 30'000;
  const ProofAttempt a = prove_goal(goal, o);
  ASSERT_EQ(a.outcome, ProofOutcome::ProvedWithSlack) << to_string(a.outcome) << " " << a.reason;
  expect_tree_checks(goal, a);
  ProverOptions none = o;
  none.slack_ladder.clear();
  EXPECT_EQ(prove_goal(goal, none).outcome, ProofOutcome::Undecided);
}

// 1/x <= 10^9 on [-1, 1] is undefined at 0: never proved, and the slack ladder is not tried
// (a slack does not make the program defined).
TEST(BoxProver, UndefinedProgramIsUndecidedWithoutTheLadder) {
  ElementaryProgram p({"x"});
  const auto lhs = p.binary(Op::Divide, p.constant("1"), p.variable(0u));
  const ProofGoal goal = make_goal(p, lhs, Relation::LessEqual, p.constant("1e9"), {-1}, {1});
  const ProofAttempt a = prove_goal(goal);
  ASSERT_EQ(a.outcome, ProofOutcome::Undecided);
  EXPECT_NE(a.reason.find("undefined"), std::string::npos) << a.reason;
  EXPECT_EQ(a.reason.find("slack 1e-9"), std::string::npos) << a.reason;
}

// ---- the walker itself can fail ---------------------------------------------------------------

TEST(BoxProver, WalkerRejectsTamperedTrees) {
  const ProofGoal goal = lse_goal(2, "0.01");
  const ProofAttempt a = prove_goal(goal, no_ladder());
  ASSERT_EQ(a.outcome, ProofOutcome::Proved);
  ASSERT_TRUE(a.tree->is_split);
  {  // a split point moved outside its range
    ProofNode t = a.tree->clone();
    t.at = goal.box.upper[t.variable] + 1;
    Walker w(goal);
    EXPECT_FALSE(w.check(t, goal.box, "root"));
  }
  {  // a subtree replaced by a naive leaf that cannot decide the whole box
    ProofNode t = a.tree->clone();
    t.is_split = false;
    t.method = LeafMethod::Naive;
    Walker w(goal);
    EXPECT_FALSE(w.check(t, goal.box, "root"));
  }
  {  // the bound edited: margin 0.01 -> 0 is attained, the tree no longer proves it
    const ProofGoal tighter = lse_goal(2, "0");
    Walker w(tighter);
    EXPECT_FALSE(w.check(*a.tree, goal.box, "root"));
  }
}

// ---- invalid goals ----------------------------------------------------------------------------

TEST(BoxProver, InvalidGoalsThrow) {
  ElementaryProgram p({"x"});
  const auto x = p.variable(0u);
  const auto one = p.constant("1");
  const ProofGoal good = make_goal(p, x, Relation::LessEqual, one, {0}, {1});
  auto with = [&](auto edit) {
    ProofGoal g = good;
    edit(g);
    return g;
  };
  EXPECT_THROW(prove_goal(with([](ProofGoal& g) { g.relation = Relation::Equal; })), std::invalid_argument);
  EXPECT_THROW(prove_goal(with([](ProofGoal& g) { g.box.upper[0] = NAN; })), std::invalid_argument);
  EXPECT_THROW(prove_goal(with([](ProofGoal& g) { g.box.upper[0] = INFINITY; })), std::invalid_argument);
  EXPECT_THROW(prove_goal(with([](ProofGoal& g) { g.box.lower[0] = 2; })), std::invalid_argument);  // empty
  EXPECT_THROW(prove_goal(with([](ProofGoal& g) { g.box = {{0, 0}, {1, 1}}; })), std::invalid_argument);
  EXPECT_THROW(prove_goal(with([](ProofGoal& g) { g.rhs = 7; })), std::invalid_argument);
  EXPECT_THROW(prove_goal(with([](ProofGoal& g) { g.slack = "-0.1"; })), std::invalid_argument);
  EXPECT_THROW(prove_goal(with([](ProofGoal& g) { g.slack = "tiny"; })), std::invalid_argument);
  EXPECT_EQ(prove_goal(good).outcome, ProofOutcome::Proved);
}

}  // namespace
}  // namespace attncert
