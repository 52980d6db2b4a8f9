// The phases of verify_claim (verifier.hpp) as functions of their own inputs, so that a list of
// claims can be verified phase by phase with every claim's work cut into units — sampling
// chunks, local-search starts, certification batches (claim_verification.cpp) — and still give
// exactly verify_claim's result: the parts of a phase merge in a fixed order and ties are broken
// by sampling index, never by timing. verify_claim itself is these phases run one after the
// other, so there is one search, driven two ways.
#pragma once

#include <cstddef>
#include <functional>
#include <limits>
#include <optional>
#include <vector>

#include "proofs_checks/certificate.hpp"
#include "proofs_checks/verifier.hpp"
#include "theory/claim.hpp"
#include "theory/instance.hpp"

namespace attncert {

/// A point of the double search, with its place in the sampling order.
struct SearchCandidate {
  double score = -std::numeric_limits<double>::infinity();
  long index = 0;  // sampling order: ties are broken by it, so results do not depend on timing
  Instance x;
  bool vacuous = false;  // vacuous in double and not violating (see DoubleEvaluation)
};

/// What the sampling of instances [begin, end) found. Parts of consecutive ranges merge
/// (merge_sampling) into exactly what one pass over their union finds.
struct SamplingPart {
  std::vector<SearchCandidate> best;    // the 8 best (the starts of the local search), by score
                                        // (desc), then index (asc)
  std::vector<SearchCandidate> spread;  // evenly spaced ordinary instances, in sampling order
  long evaluated = 0;                   // double evaluations, redraws included
  long first_draws = 0;                 // first draws that evaluated
  long vacuous_first_draws = 0;         // … and were vacuous in double
  bool declares_a_priori = false;
};

/// Sampling instances [begin, end) of the claim's search (instance k from substream k of
/// o.seed). Stops before an instance when `stop()` says so (a time budget).
SamplingPart sample_instances(const Claim& claim, const VerifyOptions& o, long begin, long end,
                              const std::function<bool()>& stop = {}, const ProgressFn& progress = {});
/// Folds `part`, of the instances right after those already merged into `into`, into `into`.
void merge_sampling(SamplingPart& into, SamplingPart&& part);

/// The local search from start `start` of the sampling's best list, `steps` perturbations.
struct ClimbPart {
  SearchCandidate end;
  long evaluated = 0;
};
ClimbPart climb_from(const Claim& claim, const VerifyOptions& o, std::size_t start, SearchCandidate from,
                     long steps, const std::function<bool()>& stop = {});
/// Perturbations per start: the local-search budget shared by `starts` starts.
long climb_steps(const VerifyOptions& o, std::size_t starts);

/// The search's outcome in double, and the certification queue it leaves: the best candidates
/// (after the climbs) first, then the spread.
struct SearchOutcome {
  std::vector<SearchCandidate> queue;
  long evaluated = 0;
  double vacuity = std::numeric_limits<double>::quiet_NaN();
  double best_score = -std::numeric_limits<double>::infinity();
};
/// `climbs` in start order, one per sampling.best entry.
SearchOutcome conclude_search(SamplingPart&& sampling, std::vector<ClimbPart>&& climbs);
/// How many of the queue the certification phase takes (VerifyOptions::certify at most).
std::size_t certification_count(const VerifyOptions& o, const SearchOutcome& search);

/// One queued instance's certification: in the domain or not, its certificate, and for a
/// refuting certificate whether fresh Monte Carlo seeds confirm it (statistical claims).
struct CertificationPart {
  bool in_domain = false;
  InstanceCertificate certificate;  // when in_domain
  bool confirmed = false;           // certificate refutes, and the refutation is confirmed
};
CertificationPart certify_candidate(const Claim& claim, const VerifyOptions& o, const Instance& x);

/// The certification queue's i-th certification, or nullopt to stop certifying (a time budget
/// that has run out; `so_far` holds the counts up to i).
using CertificationSource = std::function<std::optional<CertificationPart>(std::size_t i, const ClaimResult& so_far)>;

/// The claim's verdict from its search and its certifications in queue order: the first
/// confirmed refutation is shrunk and ends certification; otherwise tightness over what was
/// certified, and the proof step when o.prove is set. ClaimResult::seconds is left to the caller.
ClaimResult conclude_claim(const Claim& claim, const VerifyOptions& o, const SearchOutcome& search,
                           const CertificationSource& certification, const ProgressFn& progress = {});

}  // namespace attncert
