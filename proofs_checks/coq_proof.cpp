// The Coq back end (see coq_proof.hpp). What the emitted file looks like, per goal g:
//
//   Definition g_claim (x1 ... xn : R) : Prop := LHS <= RHS + SLACK.
//   Lemma g_n7 : forall x1 ... xn : R, lo1 <= x1 <= hi1 -> ... -> g_claim x1 ... xn.   (a leaf)
//   Proof. intros ...; unfold g_claim; attncert_minmax; apply Rminus_le; first [interval ...]. Qed.
//   Lemma g_n3 : ... (a split of x2 at s, from its children)
//   Proof. intros ... H1 H2. destruct (Rle_or_lt x2 s) as [Hs|Hs].
//          - exact (g_n4 x1 x2 H1 (conj (proj1 H2) Hs)).
//          - exact (g_n5 x1 x2 H1 (conj (Rlt_le _ _ Hs) (proj2 H2))). Qed.
//   Theorem goal_g : forall x1 ... xn : R, <box> -> LHS <= RHS + SLACK.   Proof. exact g_n0. Qed.
//
// One lemma per tree node keeps each proof term small, and the splits are recombined by exact
// terms (no lra over long decimals): each child's box hypothesis is the parent's with one bound
// replaced by the split point, written with the same literal text. A subtree of depth <=
// kChunkDepth is not replayed: it is one lemma proved by interval's own bisection (i_bisect on
// the variables the subtree splits), because each interval call costs >= 0.1 s in coqc.
//
// Why the pieces are what they are (CoqInterval 4.6.1, Coq 8.16.1, measured):
//  - `interval` only proves `e <= c` / `c <= e` with a constant side, so a goal is first moved
//    to `LHS - (RHS + SLACK) <= 0` (Rminus_le / Rminus_lt; Rle_ge / Rlt_gt for >= and >).
//  - It has no Rmax/Rmin: the file's attncert_minmax replaces each by its winner where that is
//    decided on the box (lra on the bounds, else interval; nested ones through Rmax_lub etc.),
//    the rest by the identities max(a,b) = (a+b+|a−b|)/2, min(a,b) = (a+b−|a−b|)/2, proved once
//    at the top of the file (Rabs is supported, but the identity is loose in intervals).
//  - Decimal literals in R_scope (0.51, 0.05000000000000000277…) are exact rationals; a
//    negative one is written (- c). Positional notation only: see coq_real.
//  - Its default precision (53 bits) runs on machine floats, ~20x faster than an explicit
//    i_prec 53 (emulated floats, measured): i_prec is written only for leaves that needed more.
//  - A naive leaf is tried with plain interval; mean-value and monotone leaves (and naive ones
//    where Coq's enclosure is looser than Arb's, e.g. through the max rewrite) fall back to
//    i_autodiff on the leaf's widest variables, then to i_bisect. Coq checks every step, so the
//    choice only affects whether and how fast coqc accepts, never soundness.
//  - Monotone leaves: Coq cannot take attncert's face argument, so the face's subtree is replayed
//    over the whole leaf box (the monotone variable keeps its full range) and its leaves are
//    discharged with i_autodiff on the monotone variable first.
//  - SecondOrder leaves (bounds attained with zero slack) are not supported: interval cannot close
//    a bound that is touched.
#include "proofs_checks/coq_proof.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "theory/decimal_literal.hpp"

#ifndef ATTNCERT_COQC
#define ATTNCERT_COQC ""
#endif

namespace attncert {
namespace {

// Beyond this many lemmas a Coq file is neither small nor fast to check (each leaf or chunk is
// one `interval` call, >= 0.1 s in coqc): attncert's own certificate stands alone.
constexpr long kMaxCoqLemmas = 5000;
// A subtree at most this deep is one lemma discharged by interval's own bisection, not replayed
// node by node: one interval call costs ~0.1 s in coqc however little it does, and its internal
// boxes are cheap (lse, n = 2, 328 prover leaves: 45 s one lemma per leaf, ~1 s as one call).
constexpr int kChunkDepth = 18;
// Extra bisection depth per bisected variable over the prover's own depth: Coq's enclosures are
// looser than Arb's (max through |·|, round-robin instead of chosen bisection). interval's
// bisection is adaptive and stops at the first box it cannot close, so a generous cap costs
// little on true goals and on false ones. 2 was too little for lse (n = 2), 6 suffices to n = 3.
constexpr int kChunkExtraDepth = 6;
// Rendered expressions are inlined (the program is a DAG); refuse a blow-up past this size.
constexpr std::size_t kMaxTermChars = 200'000;

// A Coq R literal with exactly the decimal's value, in positional notation ("0.0295…",
// "1.72", "20"): interval mishandles the scientific form with a large negative exponent
// ("295…e-51" as a box bound made a provable leaf fail, and costs ~20x more when it works).
std::string coq_real(std::string_view decimal) {
  const DecimalLiteral d = parse_decimal(decimal);
  if (d.mantissa == "0") return "0";
  std::string text = d.mantissa;
  if (d.exponent10 >= 0) {
    text.append(static_cast<std::size_t>(d.exponent10), '0');
  } else {
    const auto fraction = static_cast<std::size_t>(-d.exponent10);
    if (text.size() <= fraction) text.insert(0, fraction - text.size() + 1, '0');
    text.insert(text.size() - fraction, ".");
  }
  return d.negative ? "(- " + text + ")" : text;
}

std::string coq_real(double x) { return coq_real(exact_decimal(x)); }

// Text that is safe inside a Coq comment (comments nest in Coq, and end at "*)").
std::string comment_safe(std::string text) {
  for (std::size_t p; (p = text.find("(*")) != std::string::npos;) text.replace(p, 2, "( *");
  for (std::size_t p; (p = text.find("*)")) != std::string::npos;) text.replace(p, 2, "* )");
  for (char& c : text) {
    if (c == '\n') c = ' ';
  }
  return text;
}

bool uses_min_max(const ElementaryProgram& program) {
  return std::any_of(program.code().begin(), program.code().end(), [](const ElementaryInstruction& i) {
    return i.op == ElementaryOp::Min || i.op == ElementaryOp::Max;
  });
}

// Every instruction of `program` as a fully parenthesised Coq term over x1 … xn.
std::vector<std::string> coq_terms(const ElementaryProgram& program) {
  std::vector<std::string> term;
  term.reserve(program.size());
  for (const ElementaryInstruction& in : program.code()) {
    const std::string a = arity(in.op) >= 1 ? term.at(in.a) : std::string();
    const std::string b = arity(in.op) >= 2 ? term.at(in.b) : std::string();
    std::string t;
    switch (in.op) {
      case ElementaryOp::Variable: t = fmt::format("x{}", in.variable + 1); break;
      case ElementaryOp::Constant: t = coq_real(in.constant); break;
      case ElementaryOp::Pi: t = "PI"; break;
      case ElementaryOp::Negate: t = "(- " + a + ")"; break;
      case ElementaryOp::Add: t = "(" + a + " + " + b + ")"; break;
      case ElementaryOp::Subtract: t = "(" + a + " - " + b + ")"; break;
      case ElementaryOp::Multiply: t = "(" + a + " * " + b + ")"; break;
      case ElementaryOp::Divide: t = "(" + a + " / " + b + ")"; break;
      case ElementaryOp::Power:
        // pow takes a nat; a negative exponent is the inverse of the positive power.
        t = in.exponent >= 0 ? fmt::format("({} ^ {})", a, in.exponent)
                             : fmt::format("(/ ({} ^ {}))", a, -static_cast<long>(in.exponent));
        break;
      case ElementaryOp::Exp: t = "(exp " + a + ")"; break;
      case ElementaryOp::Log: t = "(ln " + a + ")"; break;
      case ElementaryOp::Sqrt: t = "(sqrt " + a + ")"; break;
      case ElementaryOp::Abs: t = "(Rabs " + a + ")"; break;
      case ElementaryOp::Min: t = "(Rmin " + a + " " + b + ")"; break;
      case ElementaryOp::Max: t = "(Rmax " + a + " " + b + ")"; break;
    }
    if (t.size() > kMaxTermChars) {
      throw std::invalid_argument(fmt::format(
          "the expression is too large for a Coq term ({}+ characters once shared subterms are "
          "inlined; at most {})", t.size(), kMaxTermChars));
    }
    term.push_back(std::move(t));
  }
  return term;
}

// The statement of a goal as a Coq proposition, and the tactic that moves it to `e <= 0` or
// `e < 0` (the only shapes interval proves besides constant bounds).
struct CoqStatement {
  std::string proposition;
  std::string to_sign_form;
};

CoqStatement coq_statement(const ProofGoal& goal, const std::vector<std::string>& term) {
  const std::string& lhs = term.at(goal.lhs);
  const std::string& rhs = term.at(goal.rhs);
  const bool no_slack = parse_decimal(goal.slack).mantissa == "0";
  const std::string slack = coq_real(goal.slack);
  switch (goal.relation) {
    case Relation::LessEqual:
      return {lhs + " <= " + (no_slack ? rhs : rhs + " + " + slack), "apply Rminus_le"};
    case Relation::Less:
      return {lhs + " < " + (no_slack ? rhs : rhs + " + " + slack), "apply Rminus_lt"};
    case Relation::GreaterEqual:
      return {lhs + " >= " + (no_slack ? rhs : rhs + " - " + slack), "apply Rle_ge, Rminus_le"};
    case Relation::Greater:
      return {lhs + " > " + (no_slack ? rhs : rhs + " - " + slack), "apply Rlt_gt, Rminus_lt"};
    case Relation::Equal: break;
  }
  throw std::invalid_argument("an equality goal has no Coq interval proof");
}

// How deep a tree splits (through monotone faces), and how many lemmas the Coq writer emits
// for it: one per replayed split and one per leaf or chunk (a subtree of depth <= kChunkDepth).
int split_depth(const ProofNode& node) {
  if (node.is_split) {
    return 1 + std::max(node.below ? split_depth(*node.below) : 0, node.above ? split_depth(*node.above) : 0);
  }
  if (node.method == LeafMethod::Monotone && node.face) return split_depth(*node.face);
  return 0;
}

long coq_lemma_count(const ProofNode& node) {
  if (node.is_split) {
    if (split_depth(node) <= kChunkDepth) return 1;
    return 1 + (node.below ? coq_lemma_count(*node.below) : 0) + (node.above ? coq_lemma_count(*node.above) : 0);
  }
  if (node.method == LeafMethod::Monotone && node.face) return coq_lemma_count(*node.face);
  return 1;
}

std::optional<std::string> goal_unsupported_reason(const ProofGoal& goal, const ProofNode& tree,
                                                   std::size_t index) {
  const auto where = [&](const std::string& why) {
    return fmt::format("goal {} ('{}'): {}", index + 1, goal.name, why);
  };
  if (goal.relation == Relation::Equal) return where("an equality has no Coq interval proof");
  const std::size_t n = goal.program.variables().size();
  if (goal.box.lower.size() != n || goal.box.upper.size() != n) {
    return where(fmt::format("the box has {} ranges for {} variables", goal.box.lower.size(), n));
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(goal.box.lower[i]) || !std::isfinite(goal.box.upper[i])) {
      return where(fmt::format("variable {} has an unbounded range", goal.program.variables()[i]));
    }
  }
  if (goal.lhs >= goal.program.size() || goal.rhs >= goal.program.size()) {
    return where("lhs or rhs is not an instruction of the program");
  }
  if (const long lemmas = coq_lemma_count(tree); lemmas > kMaxCoqLemmas) {
    return where(fmt::format("its tree needs {} Coq lemmas, more than the {} a Coq replay is written for",
                             lemmas, kMaxCoqLemmas));
  }
  // Walk the tree for leaves Coq cannot take and splits on variables that do not exist.
  std::vector<const ProofNode*> stack{&tree};
  while (!stack.empty()) {
    const ProofNode* node = stack.back();
    stack.pop_back();
    if (node->is_split) {
      if (node->variable >= n) return where(fmt::format("a split on variable {} of {}", node->variable, n));
      if (!node->below || !node->above) return where("a split with a missing child");
      if (!std::isfinite(node->at)) return where("a split at a non-finite point");
      stack.push_back(node->below.get());
      stack.push_back(node->above.get());
    } else if (node->method == LeafMethod::SecondOrder) {
      return where(
          "a second_order leaf (a bound attained with zero slack): CoqInterval's interval tactic "
          "cannot close a bound that is touched; prove it with a slack for Coq");
    } else if (node->method == LeafMethod::Monotone) {
      if (node->variable >= n) return where(fmt::format("a monotone leaf on variable {} of {}", node->variable, n));
      if (node->face) stack.push_back(node->face.get());
    }
  }
  return std::nullopt;
}

// Writes one goal's lemmas (post-order: children before parents) and its theorem.
class GoalWriter {
 public:
  GoalWriter(std::ostream& out, const ProofGoal& goal, std::string prefix)
      : out_(out), goal_(goal), prefix_(std::move(prefix)), n_(goal.program.variables().size()) {
    for (std::size_t i = 0; i < n_; ++i) {
      vars_ += (i ? " " : "") + fmt::format("x{}", i + 1);
      hyps_ += (i ? " " : "") + fmt::format("H{}", i + 1);
    }
    const std::vector<std::string> term = coq_terms(goal.program);
    statement_ = coq_statement(goal, term);
    prepare_ = fmt::format("unfold {}_claim; ", prefix_);
    if (uses_min_max(goal.program)) prepare_ += "attncert_minmax; ";
    prepare_ += statement_.to_sign_form;
  }

  void write() {
    const ProofGoal& g = goal_;
    out_ << fmt::format("(* Goal '{}'", comment_safe(g.name));
    for (std::size_t i = 0; i < n_; ++i) out_ << fmt::format("{} x{} = {}", i ? "," : ":", i + 1, comment_safe(g.program.variables()[i]));
    out_ << fmt::format(".\n   attncert: {} {} {}{} *)\n", comment_safe(g.program.render(g.lhs)),
                        to_string(g.relation), comment_safe(g.program.render(g.rhs)),
                        parse_decimal(g.slack).mantissa == "0" ? "" : fmt::format(" (slack {})", g.slack));
    out_ << fmt::format("Definition {}_claim{} : Prop :=\n  {}.\n\n", prefix_,
                        n_ ? " (" + vars_ + " : R)" : "", statement_.proposition);
    lower_ = g.box.lower;
    upper_ = g.box.upper;
    std::vector<std::uint32_t> hints;
    const std::string root = node(/*tree=*/*tree_, hints);
    out_ << fmt::format("Theorem {} : {}{}.\nProof. exact {}. Qed.\n\n", prefix_, binder_box(),
                        statement_.proposition, root);
  }

  void set_tree(const ProofNode& tree) { tree_ = &tree; }

 private:
  // "forall x1 x2 : R, lo1 <= x1 <= hi1 -> lo2 <= x2 <= hi2 -> " for the current box.
  std::string binder_box() const {
    if (n_ == 0) return "";
    std::string s = "forall " + vars_ + " : R, ";
    for (std::size_t i = 0; i < n_; ++i) {
      s += fmt::format("{} <= x{} <= {} -> ", literal(lower_[i]), i + 1, literal(upper_[i]));
    }
    return s;
  }

  // The same literal text every time a bound is written: the split lemmas rely on it.
  const std::string& literal(double x) const {
    auto it = literals_.find(x);
    if (it == literals_.end()) it = literals_.emplace(x, coq_real(x)).first;
    return it->second;
  }

  std::string claim_applied() const { return prefix_ + "_claim" + (n_ ? " " + vars_ : ""); }
  std::string intros() const { return n_ ? "intros " + vars_ + " " + hyps_ + ". " : ""; }

  // Emits the lemma for `node` over the current box and returns its name.
  // How deep a subtree splits, and on which variables (through monotone faces).
  struct SubtreeShape {
    int depth = 0;
    std::vector<int> splits;  // per variable: how many splits on it along the deepest path
    std::vector<std::uint32_t> monotone;
    long precision = 53;  // the largest a leaf used
    bool mean_value = false;  // some leaf is a mean-value leaf
  };
  SubtreeShape shape(const ProofNode& tree) const {
    SubtreeShape s;
    s.splits.assign(n_, 0);
    if (tree.is_split) {
      SubtreeShape b = shape(*tree.below), a = shape(*tree.above);
      s = b.depth >= a.depth ? b : a;
      for (std::uint32_t m : (b.depth >= a.depth ? a : b).monotone) s.monotone.push_back(m);
      for (std::size_t i = 0; i < n_; ++i) s.splits[i] = std::max(a.splits[i], b.splits[i]);
      s.precision = std::max(a.precision, b.precision);
      s.mean_value = a.mean_value || b.mean_value;
      s.depth += 1;
      s.splits[tree.variable] += 1;
    } else if (tree.method == LeafMethod::Monotone && tree.face) {
      s = shape(*tree.face);
      s.monotone.push_back(tree.variable);
    }
    s.precision = std::max(s.precision, tree.precision);
    if (!tree.is_split && tree.method == LeafMethod::MeanValue) s.mean_value = true;
    return s;
  }

  std::string node(const ProofNode& tree, std::vector<std::uint32_t>& hints) {
    if (tree.is_split) {
      const SubtreeShape sub = shape(tree);
      if (sub.depth <= chunk_depth_) return chunk(sub, hints);
      return split(tree, hints);
    }
    if (tree.method == LeafMethod::Monotone && tree.face) {
      // Replay the face's tree over the whole box, the monotone variable hinted to interval.
      hints.push_back(tree.variable);
      std::string name = node(*tree.face, hints);
      hints.pop_back();
      return name;
    }
    return leaf(tree, hints);
  }

  // A subtree small enough for interval's own bisection: one lemma over the subtree's box,
  // bisecting the variables the subtree splits (one interval call costs ~0.1 s in coqc whatever
  // it does inside, so a few deep calls beat many shallow ones).
  std::string chunk(const SubtreeShape& sub, const std::vector<std::uint32_t>& hints) {
    const std::string name = fmt::format("{}_n{}", prefix_, next_id_++);
    std::string bisect;
    int split_vars = 0;
    for (std::size_t i = 0; i < n_; ++i) {
      if (sub.splits[i] > 0) {
        bisect += fmt::format(", i_bisect x{}", i + 1);
        ++split_vars;
      }
    }
    std::string diff;
    for (std::uint32_t m : hints) diff = fmt::format(", i_autodiff x{}", m + 1);
    for (std::uint32_t m : sub.monotone) diff = fmt::format(", i_autodiff x{}", m + 1);
    const int depth = sub.depth + chunk_extra_depth_ * split_vars;
    const std::string prec = sub.precision > 53 ? fmt::format("i_prec {}, ", sub.precision) : "";
    std::vector<std::string> tactics{fmt::format("interval with ({}{}{}, i_depth {})", prec, bisect.substr(2), diff, depth)};
    // Mean-value leaves: interval's first-order form (i_autodiff) on the most split variable.
    if (diff.empty() && sub.mean_value) {
      const auto most = std::max_element(sub.splits.begin(), sub.splits.end()) - sub.splits.begin();
      tactics.push_back(fmt::format("interval with ({}{}, i_autodiff x{}, i_depth {})", prec, bisect.substr(2), most + 1, depth));
    }
    // Last: bisect every variable with a range (monotone ones too: interval's derivative of a
    // max rewritten through |·| has no sign), deeper.
    std::string all;
    int ranged = 0;
    for (std::size_t i = 0; i < n_; ++i) {
      if (upper_[i] > lower_[i]) {
        all += fmt::format(", i_bisect x{}", i + 1);
        ++ranged;
      }
    }
    if (ranged > split_vars) {
      tactics.push_back(fmt::format("interval with ({}{}, i_depth {})", prec, all.substr(2), sub.depth + chunk_extra_depth_ * ranged));
    }
    std::string first = tactics.front();
    if (tactics.size() > 1) {
      first = "first [ " + tactics.front();
      for (std::size_t k = 1; k < tactics.size(); ++k) first += "\n      | " + tactics[k];
      first += " ]";
    }
    out_ << fmt::format("Lemma {} : {}{}.\nProof. {}{}.\n{}.\nQed.\n", name, binder_box(), claim_applied(),
                        intros(), prepare_, first);
    return name;
  }

  std::string split(const ProofNode& tree, std::vector<std::uint32_t>& hints) {
    const std::uint32_t v = tree.variable;
    const double lo = lower_[v], hi = upper_[v];
    upper_[v] = tree.at;
    const std::string below = node(*tree.below, hints);
    upper_[v] = hi;
    lower_[v] = tree.at;
    const std::string above = node(*tree.above, hints);
    lower_[v] = lo;
    const std::string name = fmt::format("{}_n{}", prefix_, next_id_++);
    const auto child_args = [&](const std::string& narrowed) {
      std::string s = vars_;
      for (std::size_t i = 0; i < n_; ++i) s += i == v ? " " + narrowed : fmt::format(" H{}", i + 1);
      return s;
    };
    out_ << fmt::format("Lemma {} : {}{}.\nProof. {}destruct (Rle_or_lt x{} {}) as [Hs|Hs].\n", name,
                        binder_box(), claim_applied(), intros(), v + 1, literal(tree.at));
    out_ << fmt::format("- exact ({} {}).\n", below, child_args(fmt::format("(conj (proj1 H{}) Hs)", v + 1)));
    out_ << fmt::format("- exact ({} {}).\nQed.\n", above,
                        child_args(fmt::format("(conj (Rlt_le _ _ Hs) (proj2 H{}))", v + 1)));
    return name;
  }

  std::string leaf(const ProofNode& tree, const std::vector<std::uint32_t>& hints) {
    const std::string name = fmt::format("{}_n{}", prefix_, next_id_++);
    // interval's default (53-bit, machine floats) is ~20x faster than an explicit i_prec 53,
    // which switches to emulated floats: name a precision only where the leaf needed more.
    const std::string p = tree.precision > 53 ? fmt::format("i_prec {}, ", tree.precision) : "";
    // Variables with a range, widest first; hinted (monotone) variables before all.
    std::vector<std::uint32_t> order(n_);
    std::iota(order.begin(), order.end(), 0U);
    std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
      return upper_[a] - lower_[a] > upper_[b] - lower_[b];
    });
    std::erase_if(order, [&](std::uint32_t i) { return !(upper_[i] > lower_[i]); });
    std::vector<std::uint32_t> diff;
    for (auto it = hints.rbegin(); it != hints.rend(); ++it) {
      if (upper_[*it] > lower_[*it] && std::find(diff.begin(), diff.end(), *it) == diff.end()) diff.push_back(*it);
    }
    for (std::uint32_t i : order) {
      if (diff.size() >= 3) break;
      if (std::find(diff.begin(), diff.end(), i) == diff.end()) diff.push_back(i);
    }
    std::vector<std::string> tactics;
    const bool naive_first = tree.method == LeafMethod::Naive;
    if (naive_first) tactics.push_back(p.empty() ? "interval" : fmt::format("interval with ({})", p.substr(0, p.size() - 2)));
    for (std::uint32_t i : diff) tactics.push_back(fmt::format("interval with ({}i_autodiff x{})", p, i + 1));
    if (!naive_first) tactics.push_back(p.empty() ? "interval" : fmt::format("interval with ({})", p.substr(0, p.size() - 2)));
    if (!diff.empty()) {
      // Last resort: interval's own search inside the leaf, every ranged variable bisected
      // (a mean-value leaf in several variables has no one-variable form in interval), as
      // deep as a chunk's allowance.
      std::string bisect;
      for (std::uint32_t i : order) bisect += fmt::format(", i_bisect x{}", i + 1);
      tactics.push_back(fmt::format("interval with ({}{}, i_autodiff x{}, i_depth {})", p, bisect.substr(2), diff.front() + 1,
                                    std::max<std::size_t>(8, kChunkExtraDepth * order.size())));
    }
    out_ << fmt::format("Lemma {} : {}{}.\nProof. {}{}.\n", name, binder_box(), claim_applied(), intros(), prepare_);
    if (tactics.size() == 1) {
      out_ << tactics.front() << ".\nQed.\n";
    } else {
      out_ << "first [ " << tactics.front();
      for (std::size_t k = 1; k < tactics.size(); ++k) out_ << "\n      | " << tactics[k];
      out_ << " ].\nQed.\n";
    }
    return name;
  }

  std::ostream& out_;
  const ProofGoal& goal_;
  const ProofNode* tree_ = nullptr;
  std::string prefix_;
  std::size_t n_;
  std::string vars_, hyps_;
  CoqStatement statement_;
  std::string prepare_;
  std::vector<double> lower_, upper_;
  mutable std::map<double, std::string> literals_;
  long next_id_ = 0;
  int chunk_depth_ = kChunkDepth;
  int chunk_extra_depth_ = kChunkExtraDepth;
};

constexpr const char* kPreamble = R"(From Coq Require Import Reals Lra.
From Interval Require Import Tactic.
Open Scope R_scope.

(* CoqInterval has no Rmax/Rmin. attncert_minmax removes them: first, wherever it can decide on
   the current box which argument is larger, by that argument (Rmax_left/right, Rmin_left/right:
   exact and tight; a nested max is compared through Rmax_lub / Rmax_l / Rmax_r, so
   max(max(x1, x2), x3) = x3 is found without deciding x1 against x2); the rest by the exact
   identities below (|a−b| is looser under interval arithmetic, so the box must be smaller). *)
Lemma attncert_Rmax_abs : forall a b : R, Rmax a b = (a + b + Rabs (a - b)) / 2.
Proof.
  intros a b. unfold Rmax. destruct (Rle_dec a b).
  - rewrite Rabs_left1 by lra. lra.
  - rewrite Rabs_right by lra. lra.
Qed.
Lemma attncert_Rmin_abs : forall a b : R, Rmin a b = (a + b - Rabs (a - b)) / 2.
Proof.
  intros a b. unfold Rmin. destruct (Rle_dec a b).
  - rewrite Rabs_left1 by lra. lra.
  - rewrite Rabs_right by lra. lra.
Qed.
Ltac attncert_flat t := lazymatch t with
  | context [Rmax _ _] => fail
  | context [Rmin _ _] => fail
  | _ => idtac
  end.
(* Proves x <= y on the current box, looking through max/min at the top of either side. *)
Ltac attncert_le :=
  lazymatch goal with
  | |- Rmax ?a ?b <= ?c => apply Rmax_lub; attncert_le
  | |- ?c <= Rmin ?a ?b => apply Rmin_glb; attncert_le
  | |- ?c <= Rmax ?a ?b =>
      first [ apply (Rle_trans c a (Rmax a b)); [attncert_le | apply Rmax_l]
            | apply (Rle_trans c b (Rmax a b)); [attncert_le | apply Rmax_r] ]
  | |- Rmin ?a ?b <= ?c =>
      first [ apply (Rle_trans (Rmin a b) a c); [apply Rmin_l | attncert_le]
            | apply (Rle_trans (Rmin a b) b c); [apply Rmin_r | attncert_le] ]
  | |- ?x <= ?y => attncert_flat x; attncert_flat y;
      (* lra where the box bounds alone decide (x3 <= 1/2 <= x4: interval cannot close a
         difference whose bound is exactly 0), interval elsewhere *)
      first [ lra | apply Rminus_le; interval ]
  end.
Ltac attncert_minmax :=
  repeat match goal with
  | |- context [Rmax ?a ?b] =>
      first [ rewrite (Rmax_right a b) by attncert_le | rewrite (Rmax_left a b) by attncert_le ]
  | |- context [Rmin ?a ?b] =>
      first [ rewrite (Rmin_left a b) by attncert_le | rewrite (Rmin_right a b) by attncert_le ]
  end;
  rewrite ?attncert_Rmax_abs, ?attncert_Rmin_abs.

)";

}  // namespace

std::optional<std::string> coq_unsupported_reason(const ProofCertificate& certificate) {
  if (certificate.goals.empty()) return "the certificate has no goals";
  for (std::size_t k = 0; k < certificate.goals.size(); ++k) {
    const ProvedGoal& g = certificate.goals[k];
    if (auto why = goal_unsupported_reason(g.goal, g.tree, k)) return why;
    try {
      coq_terms(g.goal.program);
    } catch (const std::invalid_argument& e) {
      return fmt::format("goal {} ('{}'): {}", k + 1, g.goal.name, e.what());
    }
  }
  return std::nullopt;
}

std::string coq_proof_script(const ProofCertificate& certificate) {
  if (auto why = coq_unsupported_reason(certificate)) {
    throw std::invalid_argument("no Coq proof for " + certificate.claim_id + ": " + *why);
  }
  std::ostringstream out;
  out << "(* attncert proof of " << comment_safe(certificate.claim_id) << ", checked by coqc with CoqInterval.\n"
      << "   Statement: " << comment_safe(certificate.statement) << "\n"
      << "   Domain: " << comment_safe(certificate.domain) << "\n"
      << "   Scope: " << comment_safe(certificate.scope) << "\n"
      << "   Each goal is a Theorem over its box; its proof replays attncert's search tree, one\n"
      << "   Lemma per node: a split is a case analysis (Rle_or_lt), a leaf a call of interval. *)\n";
  out << kPreamble;
  for (std::size_t k = 0; k < certificate.goals.size(); ++k) {
    GoalWriter writer(out, certificate.goals[k].goal, fmt::format("goal_{}", k + 1));
    writer.set_tree(certificate.goals[k].tree);
    writer.write();
  }
  return out.str();
}

std::string find_coqc() {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (const std::string configured = ATTNCERT_COQC; !configured.empty() && fs::exists(configured, ec)) {
    return configured;
  }
  const char* path = std::getenv("PATH");
  if (!path) return {};
  std::stringstream dirs(path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) continue;
    const fs::path candidate = fs::path(dir) / "coqc";
    if (fs::exists(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return {};
}

CoqRun run_coqc(const std::string& file, double timeout_seconds) {
  namespace fs = std::filesystem;
  const std::string coqc = find_coqc();
  if (coqc.empty()) throw std::runtime_error("coqc not found: install the Debian packages coq and libcoq-interval");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::invalid_argument("cannot read Coq file '" + file + "'");
  // coqc needs the file's base name to be a Coq identifier ("A.lemma1.v" is not) and writes
  // .vo/.glob beside it: compile a copy in a private directory instead.
  std::string dir_template = (fs::temp_directory_path() / "attncert-coq-XXXXXX").string();
  if (!::mkdtemp(dir_template.data())) throw std::runtime_error("cannot create a temporary directory for coqc");
  const fs::path dir = dir_template;
  std::string stem = fs::path(file).stem().string();
  for (char& c : stem) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  }
  if (stem.empty() || std::isdigit(static_cast<unsigned char>(stem.front()))) stem = "attncert_" + stem;
  const fs::path copy = dir / (stem + ".v");
  {
    std::ofstream out(copy, std::ios::binary);
    out << in.rdbuf();
  }

  // Everything the child needs is computed before fork: between fork and exec only
  // async-signal-safe calls (the caller may have threads, e.g. the prover's pool).
  const std::string name = copy.filename().string();
  const std::string dir_text = dir.string();
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) throw std::runtime_error("cannot create a pipe for coqc");
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    std::error_code ignored;
    fs::remove_all(dir, ignored);
    throw std::runtime_error("cannot fork coqc");
  }
  if (pid == 0) {
    ::setpgid(0, 0);  // its own process group, so a timeout ends coqc and anything it started
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    ::dup2(pipe_fds[1], STDERR_FILENO);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    if (::chdir(dir_text.c_str()) != 0) ::_exit(127);
    ::execl(coqc.c_str(), coqc.c_str(), "-q", name.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  ::close(pipe_fds[1]);
  CoqRun run;
  bool timed_out = false;
  char buffer[4096];
  for (;;) {
    int wait_ms = -1;
    if (timeout_seconds > 0) {
      const double left = timeout_seconds - std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (left <= 0) {
        timed_out = true;
        ::kill(-pid, SIGKILL);
        break;
      }
      wait_ms = static_cast<int>(std::ceil(left * 1000));
    }
    pollfd pfd{pipe_fds[0], POLLIN, 0};
    const int ready = ::poll(&pfd, 1, wait_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) continue;  // re-check the deadline
    const ssize_t got = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    run.output.append(buffer, static_cast<std::size_t>(got));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.accepted = !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (timed_out) run.output += fmt::format("\n(coqc stopped after the {:.0f} s timeout)\n", timeout_seconds);
  std::error_code ignored;
  fs::remove_all(dir, ignored);
  return run;
}

}  // namespace attncert
