// The verification engine: searches a claim's domain for violations and certifies what it
// finds. Generic — it sees only the Claim interface, never a particular claim.
//
//  1. sampling: seeded random and edge-biased instances (instance k comes from substream k of
//     the seed, so any instance is reproducible on its own), scored in double by how close
//     they come to violating (score > 0: the double evaluation says violated); a draw on which
//     every bound is vacuous is counted (vacuity) and redrawn;
//  2. adversarial local search in double from the best-scoring instances (random-direction
//     hill climbing with shrinking steps, never into vacuous instances) to push the score up;
//  3. certification in Ball, with precision escalation, of the best candidates first and of a
//     spread of ordinary instances;
//  4. a certified violation is shrunk (smaller dimensions first, then rounder numbers) while it
//     still certifiably violates, and certified again.
// Verdict over the domain: Refuted (certified counterexample), Survived (N certified
// instances, none violating; tightness per side family reported, degenerate instances apart)
// or Inconclusive (nothing certified).
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "numerics/rng.hpp"
#include "proofs_checks/certificate.hpp"
#include "proofs_checks/claim_proof.hpp"
#include "theory/claim.hpp"

namespace attncert {

/// Proved: a complete certified cover of the claim's whole stated domain (a bounded domain; see
/// claim_proof.hpp). A claim proved only on part of its domain stays Survived, its proof beside.
enum class DomainVerdict { Survived, Refuted, Inconclusive, Proved };
std::string_view to_string(DomainVerdict v);

struct VerifyOptions {
  std::uint64_t seed = 1;
  long instances = 2000;        // double evaluations in the sampling phase
  long local_steps = 600;       // double evaluations in the local search
  long certify = 60;            // instances certified in Ball (best candidates + a spread)
  double seconds = 0;           // > 0: also stop each phase when this much time has passed
  CertifyOptions certify_options;
  long shrink_attempts = 200;   // certifications spent on shrinking a counterexample
  /// Set: after a search that does not refute, prove the claim's plans (prove_claim). A
  /// conjecture's pre-screen candidate is certified like any searched instance.
  std::optional<ProverOptions> prove;
};

/// Tightness of one side family (Inequality::family) over the informative certified instances:
/// neither degenerate (Claim::degenerate_reason) nor vacuous for this family.
struct SideTightness {
  std::string family;
  double tightness = std::numeric_limits<double>::quiet_NaN();  // max over informative instances
  std::optional<Instance> tightest;  // the instance attaining it
  long informative = 0;  // certified instances that gave this family a tightness
  long vacuous = 0;      // certified instances on which this family was vacuous
};

struct ClaimResult {
  std::string claim_id;
  DomainVerdict verdict = DomainVerdict::Inconclusive;
  long evaluated = 0;            // double evaluations (sampling + local search)
  long certified = 0;            // instances proved in Ball
  long consistent = 0;           // identity claims: instances whose sides' enclosures agree
  long inconclusive = 0;         // instances left undecided at the precision cap
  long inadmissible = 0;         // candidates outside the hypotheses (not counted)
  long unconfirmed = 0;          // statistical refutations that fresh Monte Carlo seeds did not confirm
  // The largest SideTightness::tightness and its instance: degenerate and vacuous instances and
  // identity sides excluded.
  double tightness = std::numeric_limits<double>::quiet_NaN();
  std::optional<Instance> tightest;
  std::vector<SideTightness> side_tightness;  // per family, in order of first appearance
  long degenerate = 0;           // certified instances that are degenerate (see Claim)
  double degenerate_tightness = std::numeric_limits<double>::quiet_NaN();  // shown apart
  long vacuous = 0;              // certified instances on which every bound side was vacuous
  // Fraction of the sampling phase's first draws on which every bound side was vacuous (decided
  // in double): how much of the domain, under the sampling law, tests nothing. NaN when no
  // side declares an a-priori bound. The search redraws vacuous instances, so `vacuous` is
  // usually much smaller.
  double vacuity = std::numeric_limits<double>::quiet_NaN();
  double best_score = -std::numeric_limits<double>::infinity();  // double search's best
  long max_precision_used = 0;
  std::optional<Instance> counterexample;  // shrunk
  std::optional<InstanceCertificate> counterexample_certificate;
  std::uint64_t seed = 0;
  double seconds = 0;            // wall time (not part of reproducible output)
  std::optional<ClaimProof> proof;  // VerifyOptions::prove was set and the search did not refute
};

/// Progress: phase name, done, total.
using ProgressFn = std::function<void(std::string_view, long, long)>;

/// One double evaluation of a claim's sides, as the search sees it.
struct DoubleEvaluation {
  bool evaluated = false;          // evaluate_double returned (did not throw)
  /// Scale-free closeness to violation: for each side, (lhs − rhs)/(|lhs| + |rhs|) for <=, <
  /// (sign flipped for >=, >), maximised over sides; in [−1, 1], > 0 means the double
  /// evaluation violates. −inf when evaluation fails.
  double score = -std::numeric_limits<double>::infinity();
  /// Every side that is not an identity has an a-priori bound and its rhs is at or beyond it
  /// (there is at least one such side): in double, the instance tests nothing.
  bool vacuous = false;
  bool declares_a_priori = false;  // some side carries an a-priori bound
};
DoubleEvaluation evaluate_in_double(const Claim& claim, const Instance& x);

/// A point of the double search. `vacuous`: vacuous in double and not violating (score <= 0).
struct SearchPoint {
  Instance x;
  double score = -std::numeric_limits<double>::infinity();
  bool vacuous = false;
};

/// The engine's local search: random-direction hill climbing in double from `from`, up to
/// `steps` perturbations (perturb_instance, relative step 0.3 halved after every 20th step that
/// does not improve), each counted in `evaluations`. A move is taken when it raises the score;
/// a move into a vacuous instance is refused (a vacuous side cannot fail for a correct lhs, so
/// climbing there tests nothing) and a move out of one is taken whatever its score. Stops once
/// the score exceeds `stop_above` or `stop()` says so.
SearchPoint climb_in_double(const Claim& claim, SearchPoint from, Rng& rng, long steps,
                            double stop_above, long& evaluations,
                            const std::function<bool()>& stop = {});

ClaimResult verify_claim(const Claim& claim, const VerifyOptions& options,
                         const ProgressFn& progress = {});

/// Per-claim seed: a hash of (seed, id), so adding a claim never changes another's instances.
/// `attncert verify --seed S` and `attncert report --seed S` give a claim the same instances.
std::uint64_t claim_seed(std::uint64_t seed, std::string_view claim_id);

/// Options for a budget of `instances` double evaluations in the sampling phase: a local search
/// of a third of that (at least 50) and 1/30 of it certified (10 to 200), certification from
/// 64 bits up to `max_precision`.
VerifyOptions options_for_instance_budget(long instances, long max_precision);

}  // namespace attncert
