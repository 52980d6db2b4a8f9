// The Coq back end (see coq_proof.hpp). What the emitted file looks like, per goal g:
//
//   Definition g_claim (x1 ... xn : R) : Prop := LHS <= RHS + SLACK.
//   Lemma g_n7 : forall x1 ... xn : R, lo1 <= x1 <= hi1 -> ... -> g_claim x1 ... xn.   (a leaf)
//   Proof. intros ...; unfold g_claim; apply Rminus_le; <max/min rewrite>; first [interval ...]. Qed.
//   Lemma g_n3 : ... (a split of x2 at s, from its children)
//   Proof. intros ... H1 H2. destruct (Rle_or_lt x2 s) as [Hs|Hs].
//          - exact (g_n4 x1 x2 H1 (conj (proj1 H2) Hs)).
//          - exact (g_n5 x1 x2 H1 (conj (Rlt_le _ _ Hs) (proj2 H2))). Qed.
//   Theorem goal_g : forall x1 ... xn : R, <box> -> LHS <= RHS + SLACK.   Proof. exact g_n0. Qed.
//
// One lemma per tree node keeps each proof term small, and the splits are recombined by exact
// terms (no lra over long decimals): each child's box hypothesis is the parent's with one bound
// replaced by the split point, written with the same literal text.
//
// Why the pieces are what they are (CoqInterval 4.6.1, Coq 8.16.1, measured):
//  - `interval` only proves `e <= c` / `c <= e` with a constant side, so a goal is first moved
//    to `LHS - (RHS + SLACK) <= 0` (Rminus_le / Rminus_lt; Rle_ge / Rlt_gt for >= and >).
//  - It has no Rmax/Rmin: they are rewritten by the identities max(a,b) = (a+b+|a−b|)/2 and
//    min(a,b) = (a+b−|a−b|)/2, proved once at the top of the file (Rabs is supported).
//  - Decimal literals in R_scope (51e-2, 0.05000000000000000277…) are exact rationals; a
//    negative one is written (- c).
//  - Its default precision is 30 bits: leaves use i_prec max(53, the leaf's precision).
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

// Beyond this many leaves a Coq file is neither small nor fast to check (each leaf is one
// `interval` call, ~10–50 ms in coqc): attncert's own certificate stands alone.
constexpr long kMaxCoqLeaves = 5000;
// Rendered expressions are inlined (the program is a DAG); refuse a blow-up past this size.
constexpr std::size_t kMaxTermChars = 200'000;

// A Coq R literal with exactly the decimal's value.
std::string coq_real(std::string_view decimal) {
  const DecimalLiteral d = parse_decimal(decimal);
  std::string text = d.mantissa;
  if (d.exponent10 != 0 && d.mantissa != "0") text += fmt::format("e{}", d.exponent10);
  return d.negative && d.mantissa != "0" ? "(- " + text + ")" : text;
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

// Leaves as Coq sees them: a monotone leaf is replayed through its face's leaves.
long coq_leaf_count(const ProofNode& node) {
  if (node.is_split) {
    return (node.below ? coq_leaf_count(*node.below) : 0) + (node.above ? coq_leaf_count(*node.above) : 0);
  }
  if (node.method == LeafMethod::Monotone && node.face) return coq_leaf_count(*node.face);
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
  if (const long leaves = coq_leaf_count(tree); leaves > kMaxCoqLeaves) {
    return where(fmt::format("{} leaves, more than the {} a Coq replay is written for", leaves,
                             kMaxCoqLeaves));
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
    prepare_ = fmt::format("unfold {}_claim; {}", prefix_, statement_.to_sign_form);
    if (uses_min_max(goal.program)) prepare_ += "; rewrite ?attncert_Rmax_abs, ?attncert_Rmin_abs";
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
  std::string node(const ProofNode& tree, std::vector<std::uint32_t>& hints) {
    if (tree.is_split) return split(tree, hints);
    if (tree.method == LeafMethod::Monotone && tree.face) {
      // Replay the face's tree over the whole box, the monotone variable hinted to interval.
      hints.push_back(tree.variable);
      std::string name = node(*tree.face, hints);
      hints.pop_back();
      return name;
    }
    return leaf(tree, hints);
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
    const long precision = std::max(53L, tree.precision);
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
    const std::string p = fmt::format("i_prec {}", precision);
    const bool naive_first = tree.method == LeafMethod::Naive;
    if (naive_first) tactics.push_back(fmt::format("interval with ({})", p));
    for (std::uint32_t i : diff) tactics.push_back(fmt::format("interval with ({}, i_autodiff x{})", p, i + 1));
    if (!naive_first) tactics.push_back(fmt::format("interval with ({})", p));
    if (!diff.empty()) {
      // Last resort: bisect the widest variables (interval's own search inside the leaf).
      std::string bisect;
      for (std::size_t k = 0; k < std::min<std::size_t>(order.size(), 3); ++k) bisect += fmt::format(", i_bisect x{}", order[k] + 1);
      tactics.push_back(fmt::format("interval with ({}{}, i_autodiff x{}, i_depth 8)", p, bisect, diff.front() + 1));
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
};

constexpr const char* kPreamble = R"(From Coq Require Import Reals Lra.
From Interval Require Import Tactic.
Open Scope R_scope.

(* CoqInterval has no Rmax/Rmin: goals are rewritten with these exact identities first. *)
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

  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) throw std::runtime_error("cannot create a pipe for coqc");
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("cannot fork coqc");
  if (pid == 0) {
    ::setpgid(0, 0);  // its own process group, so a timeout ends coqc and anything it started
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    ::dup2(pipe_fds[1], STDERR_FILENO);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    if (::chdir(dir.c_str()) != 0) ::_exit(127);
    const std::string name = copy.filename().string();
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
