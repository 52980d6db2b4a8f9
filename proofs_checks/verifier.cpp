#include "proofs_checks/verifier.hpp"

#include "proofs_checks/claim_search.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <stdexcept>

#include "numerics/rng.hpp"
#include "proofs_checks/counterexample_shrinker.hpp"
#include "proofs_checks/instance_sampler.hpp"

namespace attncert {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kStatisticalConfirmations = 2;
// Redraws of a first draw that is vacuous in double: with a vacuous fraction v of the domain
// (under the sampling law), a draw stays vacuous with probability v^(1 + 4): 0.03 at v = 0.5.
constexpr std::uint64_t kVacuousRedraws = 4;

// Starts of the local search: the best candidates of the sampling phase.
constexpr std::size_t kSearchStarts = 8;

class Deadline {
 public:
  explicit Deadline(double seconds) : seconds_(seconds), start_(Clock::now()) {}
  bool passed() const {
    return seconds_ > 0 &&
           std::chrono::duration<double>(Clock::now() - start_).count() > seconds_;
  }
  double elapsed() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

 private:
  double seconds_;
  Clock::time_point start_;
};

// Keeps the `capacity` best candidates, sorted by score (desc), then index (asc).
void keep_best(std::vector<SearchCandidate>& best, SearchCandidate c, std::size_t capacity) {
  auto better = [](const SearchCandidate& a, const SearchCandidate& b) {
    return a.score > b.score || (a.score == b.score && a.index < b.index);
  };
  auto pos = std::lower_bound(best.begin(), best.end(), c, better);
  if (static_cast<std::size_t>(pos - best.begin()) >= capacity) return;
  best.insert(pos, std::move(c));
  if (best.size() > capacity) best.pop_back();
}

// Every how many sampled instances one joins the spread: half the certifications go to it.
long spread_every(const VerifyOptions& o) {
  return std::max<long>(1, o.instances / std::max<long>(1, o.certify / 2));
}

// A statistical claim's refutation at confidence 1 − γ is only valid for an instance whose Monte
// Carlo seed was not chosen by the search: the search maximises over thousands of instances,
// seeds included, and would find the γ-rare seeds. A refutation is therefore confirmed with
// fresh seeds drawn from the verification seed (the scalar "mc_seed", by convention), all of
// which must refute too. Claims of other kinds are certified exactly and need no confirmation.
bool confirmed(const Claim& claim, const Instance& x, const CertifyOptions& options, const Rng& base) {
  if (claim.info().kind != ClaimKind::Statistical) return true;
  const ScalarSpec* seed_spec = claim.space().find_scalar("mc_seed");
  if (seed_spec == nullptr) return true;
  for (std::uint64_t j = 0; j < kStatisticalConfirmations; ++j) {
    Rng rng = base.substream((1ULL << 40) + j);
    Instance y = x;
    y.scalars["mc_seed"] = static_cast<double>(rng.uniform_int(
        static_cast<std::int64_t>(std::ceil(seed_spec->lo)), static_cast<std::int64_t>(std::floor(seed_spec->hi))));
    claim.project(y);
    if (certify_instance(claim, y, options).status != InstanceStatus::Refuted) return false;
  }
  return true;
}

// Folds a certified (proved or consistent) instance into the tightness statistics: a degenerate
// instance only into degenerate / degenerate_tightness; otherwise each family of bound sides
// (identities have no tightness) gets the largest tightness of its non-vacuous sides, or counts
// as vacuous when all its sides are. Certification order is fixed, so ties go to the earlier
// instance and the result does not depend on timing or jobs.
void record_tightness(const Claim& claim, const Instance& x, const InstanceCertificate& cert,
                      ClaimResult& result) {
  if (cert.vacuous()) ++result.vacuous;
  if (!claim.degenerate_reason(x).empty()) {
    ++result.degenerate;
    const double t = cert.tightness();
    if (!std::isnan(t) && (std::isnan(result.degenerate_tightness) || t > result.degenerate_tightness)) {
      result.degenerate_tightness = t;
    }
    return;
  }
  std::vector<std::string> families;  // of bound sides, in order of appearance
  for (const SideEnclosure& side : cert.sides) {
    if (side.rel != Relation::Equal && std::find(families.begin(), families.end(), side.family) == families.end()) {
      families.push_back(side.family);
    }
  }
  for (const std::string& family : families) {
    auto it = std::find_if(result.side_tightness.begin(), result.side_tightness.end(),
                           [&](const SideTightness& f) { return f.family == family; });
    if (it == result.side_tightness.end()) {
      it = result.side_tightness.insert(result.side_tightness.end(), SideTightness{});
      it->family = family;
    }
    const bool all_vacuous = std::all_of(cert.sides.begin(), cert.sides.end(), [&](const SideEnclosure& s) {
      return s.family != family || s.rel == Relation::Equal || s.vacuous();
    });
    const double t = cert.family_tightness(family);
    if (all_vacuous) {
      ++it->vacuous;
    } else if (!std::isnan(t)) {
      ++it->informative;
      if (std::isnan(it->tightness) || t > it->tightness) {
        it->tightness = t;
        it->tightest = x;
      }
    }
  }
}

}  // namespace

std::string_view to_string(DomainVerdict v) {
  switch (v) {
    case DomainVerdict::Survived: return "survived";
    case DomainVerdict::Refuted: return "refuted";
    case DomainVerdict::Inconclusive: return "inconclusive";
    case DomainVerdict::Proved: return "PROVED";
  }
  return "?";
}

DoubleEvaluation evaluate_in_double(const Claim& claim, const Instance& x) {
  DoubleEvaluation out;
  std::vector<Inequality<double>> sides;
  try {
    sides = claim.evaluate_double(x);
  } catch (const std::exception&) {
    return out;
  }
  out.evaluated = true;
  bool all_vacuous = true;
  bool any_bound = false;
  for (const auto& s : sides) {
    const bool upper = s.rel == Relation::LessEqual || s.rel == Relation::Less;
    if (s.a_priori) out.declares_a_priori = true;
    if (s.rel != Relation::Equal) {
      any_bound = true;
      all_vacuous = all_vacuous && s.a_priori && (upper ? s.rhs >= *s.a_priori : s.rhs <= *s.a_priori);
    }
    const double diff = s.lhs - s.rhs;
    const double den = std::abs(s.lhs) + std::abs(s.rhs);
    double score;
    if (std::isnan(diff)) continue;
    if (den == 0) {
      score = 0;
    } else if (std::isinf(den)) {
      score = diff > 0 ? 1 : diff < 0 ? -1 : 0;
    } else {
      score = diff / den;
    }
    if (!upper && s.rel != Relation::Equal) score = -score;
    out.score = std::max(out.score, score);
  }
  out.vacuous = any_bound && all_vacuous;
  return out;
}

SearchPoint climb_in_double(const Claim& claim, SearchPoint from, Rng& rng, long steps,
                            double stop_above, long& evaluations, const std::function<bool()>& stop) {
  double step = 0.3;
  for (long it = 0; it < steps && from.score <= stop_above && !(stop && stop()); ++it) {
    Instance y = perturb_instance(claim.space(), from.x, rng, step);
    claim.project(y);
    const DoubleEvaluation e = evaluate_in_double(claim, y);
    ++evaluations;
    const bool y_vacuous = e.vacuous && e.score <= 0;
    if ((!y_vacuous || from.vacuous) && (e.score > from.score || (from.vacuous && !y_vacuous))) {
      from = {std::move(y), e.score, y_vacuous};
    } else if (it % 20 == 19) {
      step = std::max(step * 0.5, 1e-6);
    }
  }
  return from;
}

namespace {

// The proof step of verify_claim: prove the claim's plans; a conjecture's pre-screen candidate
// is certified and shrunk like a searched counterexample (the prover never decides one).
void prove_after_search(const Claim& claim, const VerifyOptions& o, ClaimResult& result,
                        const ProgressFn& report) {
  ClaimProof proof = prove_claim(claim, *o.prove, [&](long visited, long queued) {
    if (report) report("proving", visited, visited + queued);
  });
  if (proof.candidate && claim.is_in_domain(*proof.candidate, o.certify_options.start_precision)) {
    InstanceCertificate cert = certify_instance(claim, *proof.candidate, o.certify_options);
    if (cert.status == InstanceStatus::Refuted) {
      Instance small = shrink_counterexample(claim, *proof.candidate, o.certify_options, o.shrink_attempts);
      InstanceCertificate small_cert = certify_instance(claim, small, o.certify_options);
      const bool shrunk = small_cert.status == InstanceStatus::Refuted;
      result.verdict = DomainVerdict::Refuted;
      result.counterexample = shrunk ? std::move(small) : *proof.candidate;
      result.counterexample_certificate = shrunk ? std::move(small_cert) : std::move(cert);
      result.max_precision_used =
          std::max(result.max_precision_used, result.counterexample_certificate->precision);
    }
  }
  if (result.verdict != DomainVerdict::Refuted && proof.status == ProofStatus::Proved &&
      proof.covers_domain) {
    result.verdict = DomainVerdict::Proved;
  }
  result.proof = std::move(proof);
}

}  // namespace

SamplingPart sample_instances(const Claim& claim, const VerifyOptions& o, long begin, long end,
                              const std::function<bool()>& stop, const ProgressFn& progress) {
  // Substream k gives instance k (even k: plain, odd k: edge-biased). A first draw that is
  // vacuous in double (and not violating) is redrawn from substreams of substream k, so instance
  // k stays reproducible on its own; the last redraw is kept even if vacuous (then the domain may
  // be vacuous throughout, and the certified instances say so).
  SamplingPart part;
  const SearchSpace& space = claim.space();
  const Rng base(o.seed);
  const long every = spread_every(o);
  for (long k = begin; k < end; ++k) {
    if (stop && stop()) break;
    const Rng stream = base.substream(static_cast<std::uint64_t>(k));
    const SampleMode mode = k % 2 ? SampleMode::Edge : SampleMode::Plain;
    Instance x;
    DoubleEvaluation e;
    for (std::uint64_t redraw = 0; redraw <= kVacuousRedraws; ++redraw) {
      Rng rng = redraw == 0 ? stream : stream.substream(redraw);
      x = sample_instance(space, rng, mode);
      claim.project(x);
      e = evaluate_in_double(claim, x);
      ++part.evaluated;
      part.declares_a_priori = part.declares_a_priori || e.declares_a_priori;
      if (redraw == 0 && e.evaluated) {
        ++part.first_draws;
        if (e.vacuous) ++part.vacuous_first_draws;
      }
      if (!e.vacuous || e.score > 0) break;
    }
    const bool vacuous = e.vacuous && e.score <= 0;
    if (k % every == 0) part.spread.push_back({e.score, k, x, vacuous});
    keep_best(part.best, {e.score, k, std::move(x), vacuous}, kSearchStarts);
    if (progress && k % 64 == 0) progress("sampling", k, o.instances);
  }
  return part;
}

void merge_sampling(SamplingPart& into, SamplingPart&& part) {
  // keep_best orders by (score, index), a total order (scores are never NaN), so the best of
  // the union is the best of the parts' bests, whatever order they are folded in.
  for (SearchCandidate& c : part.best) keep_best(into.best, std::move(c), kSearchStarts);
  for (SearchCandidate& c : part.spread) into.spread.push_back(std::move(c));
  into.evaluated += part.evaluated;
  into.first_draws += part.first_draws;
  into.vacuous_first_draws += part.vacuous_first_draws;
  into.declares_a_priori = into.declares_a_priori || part.declares_a_priori;
}

long climb_steps(const VerifyOptions& o, std::size_t starts) {
  return starts == 0 ? 0 : o.local_steps / static_cast<long>(starts);
}

ClimbPart climb_from(const Claim& claim, const VerifyOptions& o, std::size_t start, SearchCandidate from,
                     long steps, const std::function<bool()>& stop) {
  ClimbPart part;
  Rng rng = Rng(o.seed).substream(0x9e3779b97f4a7c15ULL + start);
  SearchPoint end = climb_in_double(claim, {std::move(from.x), from.score, from.vacuous}, rng, steps,
                                    std::numeric_limits<double>::infinity(), part.evaluated, stop);
  part.end = {end.score, from.index, std::move(end.x), end.vacuous};
  return part;
}

SearchOutcome conclude_search(SamplingPart&& sampling, std::vector<ClimbPart>&& climbs) {
  SearchOutcome out;
  out.evaluated = sampling.evaluated;
  if (sampling.declares_a_priori && sampling.first_draws > 0) {
    out.vacuity = static_cast<double>(sampling.vacuous_first_draws) / static_cast<double>(sampling.first_draws);
  }
  std::vector<SearchCandidate> best = std::move(sampling.best);
  for (ClimbPart& c : climbs) {
    out.evaluated += c.evaluated;
    keep_best(best, std::move(c.end), 2 * kSearchStarts);
  }
  if (!best.empty()) out.best_score = best.front().score;
  out.queue = std::move(best);
  for (SearchCandidate& c : sampling.spread) out.queue.push_back(std::move(c));
  return out;
}

std::size_t certification_count(const VerifyOptions& o, const SearchOutcome& search) {
  return std::min(static_cast<std::size_t>(std::max<long>(0, o.certify)), search.queue.size());
}

CertificationPart certify_candidate(const Claim& claim, const VerifyOptions& o, const Instance& x) {
  CertificationPart part;
  part.in_domain = claim.is_in_domain(x, o.certify_options.start_precision);
  if (!part.in_domain) return part;
  part.certificate = certify_instance(claim, x, o.certify_options);
  part.confirmed = part.certificate.status == InstanceStatus::Refuted &&
                   confirmed(claim, x, o.certify_options, Rng(o.seed));
  return part;
}

ClaimResult conclude_claim(const Claim& claim, const VerifyOptions& o, const SearchOutcome& search,
                           const CertificationSource& certification, const ProgressFn& progress) {
  ClaimResult result;
  result.claim_id = claim.info().id;
  result.seed = o.seed;
  result.evaluated = search.evaluated;
  result.vacuity = search.vacuity;
  result.best_score = search.best_score;
  auto report = [&](std::string_view phase, long done, long total) {
    if (progress) progress(phase, done, total);
  };
  // The most violating candidates first, then the spread.
  const std::size_t to_certify = certification_count(o, search);
  for (std::size_t i = 0; i < to_certify; ++i) {
    std::optional<CertificationPart> part = certification(i, result);
    if (!part) break;
    if (!part->in_domain) continue;
    const Instance& x = search.queue[i].x;
    InstanceCertificate& cert = part->certificate;
    result.max_precision_used = std::max(result.max_precision_used, cert.precision);
    report("certifying", static_cast<long>(i + 1), static_cast<long>(to_certify));
    switch (cert.status) {
      case InstanceStatus::Refuted: {
        if (!part->confirmed) {
          ++result.unconfirmed;  // a chance exceedance at the chosen seed, not a refutation
          break;
        }
        report("shrinking", 0, 1);
        Instance small = shrink_counterexample(claim, x, o.certify_options, o.shrink_attempts);
        InstanceCertificate small_cert = certify_instance(claim, small, o.certify_options);
        result.verdict = DomainVerdict::Refuted;
        if (small_cert.status == InstanceStatus::Refuted &&
            confirmed(claim, small, o.certify_options, Rng(o.seed))) {
          result.counterexample = std::move(small);
          result.counterexample_certificate = std::move(small_cert);
        } else {  // cannot happen unless the claim is non-deterministic; keep the original
          result.counterexample = x;
          result.counterexample_certificate = std::move(cert);
        }
        result.max_precision_used =
            std::max(result.max_precision_used, result.counterexample_certificate->precision);
        return result;
      }
      case InstanceStatus::Proved:
        ++result.certified;
        record_tightness(claim, x, cert, result);
        break;
      case InstanceStatus::Consistent:
        ++result.consistent;
        record_tightness(claim, x, cert, result);
        break;
      case InstanceStatus::Inconclusive: ++result.inconclusive; break;
      case InstanceStatus::Inadmissible: ++result.inadmissible; break;
    }
  }
  for (const SideTightness& f : result.side_tightness) {
    if (!std::isnan(f.tightness) && (std::isnan(result.tightness) || f.tightness > result.tightness)) {
      result.tightness = f.tightness;
      result.tightest = f.tightest;
    }
  }
  result.verdict = result.certified + result.consistent > 0 ? DomainVerdict::Survived
                                                            : DomainVerdict::Inconclusive;
  if (o.prove) prove_after_search(claim, o, result, report);
  return result;
}

ClaimResult verify_claim(const Claim& claim, const VerifyOptions& o, const ProgressFn& progress) {
  // The phases one after the other (claim_search.hpp); a time budget stops each phase.
  const Deadline deadline(o.seconds);
  const std::function<bool()> passed = [&] { return deadline.passed(); };
  SamplingPart sampling = sample_instances(claim, o, 0, o.instances, passed, progress);
  const long steps = climb_steps(o, sampling.best.size());
  std::vector<ClimbPart> climbs;
  for (std::size_t s = 0; s < sampling.best.size(); ++s) {
    climbs.push_back(climb_from(claim, o, s, sampling.best[s], steps, passed));
    if (progress) progress("local search", static_cast<long>(s + 1), static_cast<long>(sampling.best.size()));
  }
  SearchOutcome search = conclude_search(std::move(sampling), std::move(climbs));
  ClaimResult result = conclude_claim(
      claim, o, search,
      [&](std::size_t i, const ClaimResult& so_far) -> std::optional<CertificationPart> {
        if (deadline.passed() && so_far.certified > 0) return std::nullopt;
        return certify_candidate(claim, o, search.queue[i].x);
      },
      progress);
  result.seconds = deadline.elapsed();
  return result;
}

std::uint64_t claim_seed(std::uint64_t seed, std::string_view claim_id) {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : claim_id) h = (h ^ c) * 1099511628211ULL;
  return SplitMix64::mix(seed ^ SplitMix64::mix(h));
}

VerifyOptions options_for_instance_budget(long instances, long max_precision) {
  VerifyOptions o;
  o.certify_options.max_precision = max_precision;
  o.certify_options.start_precision = std::min(64L, max_precision);
  o.instances = instances;
  o.local_steps = std::max<long>(50, instances / 3);
  o.certify = std::clamp<long>(instances / 30, 10, 200);
  return o;
}

}  // namespace attncert
