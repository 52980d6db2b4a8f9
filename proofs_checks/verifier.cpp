#include "proofs_checks/verifier.hpp"

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

struct Candidate {
  double score;
  long index;  // sampling order: ties broken by it, so results do not depend on timing
  Instance x;
  bool vacuous = false;  // vacuous in double and not violating (see DoubleEvaluation)
};

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
void keep_best(std::vector<Candidate>& best, Candidate c, std::size_t capacity) {
  auto better = [](const Candidate& a, const Candidate& b) {
    return a.score > b.score || (a.score == b.score && a.index < b.index);
  };
  auto pos = std::lower_bound(best.begin(), best.end(), c, better);
  if (static_cast<std::size_t>(pos - best.begin()) >= capacity) return;
  best.insert(pos, std::move(c));
  if (best.size() > capacity) best.pop_back();
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

ClaimResult verify_claim(const Claim& claim, const VerifyOptions& o, const ProgressFn& progress) {
  ClaimResult result;
  result.claim_id = claim.info().id;
  result.seed = o.seed;
  const Deadline deadline(o.seconds);
  const SearchSpace& space = claim.space();
  const Rng base(o.seed);
  auto report = [&](std::string_view phase, long done, long total) {
    if (progress) progress(phase, done, total);
  };

  // 1. Sampling. Substream k gives instance k (even k: plain, odd k: edge-biased). A first draw
  // that is vacuous in double (and not violating) is redrawn from substreams of substream k, so
  // instance k stays reproducible on its own; the last redraw is kept even if vacuous (then the
  // domain may be vacuous throughout, and the certified instances say so).
  const std::size_t keep = 8;
  std::vector<Candidate> best;
  std::vector<Candidate> spread;  // evenly spaced ordinary instances, certified too
  const long spread_every = std::max<long>(1, o.instances / std::max<long>(1, o.certify / 2));
  long first_draws = 0, vacuous_first_draws = 0;
  bool declares_a_priori = false;
  for (long k = 0; k < o.instances; ++k) {
    if (deadline.passed()) break;
    const Rng stream = base.substream(static_cast<std::uint64_t>(k));
    const SampleMode mode = k % 2 ? SampleMode::Edge : SampleMode::Plain;
    Instance x;
    DoubleEvaluation e;
    for (std::uint64_t redraw = 0; redraw <= kVacuousRedraws; ++redraw) {
      Rng rng = redraw == 0 ? stream : stream.substream(redraw);
      x = sample_instance(space, rng, mode);
      claim.project(x);
      e = evaluate_in_double(claim, x);
      ++result.evaluated;
      declares_a_priori = declares_a_priori || e.declares_a_priori;
      if (redraw == 0 && e.evaluated) {
        ++first_draws;
        if (e.vacuous) ++vacuous_first_draws;
      }
      if (!e.vacuous || e.score > 0) break;
    }
    const bool vacuous = e.vacuous && e.score <= 0;
    if (k % spread_every == 0) spread.push_back({e.score, k, x, vacuous});
    keep_best(best, {e.score, k, std::move(x), vacuous}, keep);
    if (k % 64 == 0) report("sampling", k, o.instances);
  }
  if (declares_a_priori && first_draws > 0) {
    result.vacuity = static_cast<double>(vacuous_first_draws) / static_cast<double>(first_draws);
  }

  // 2. Local search from the best candidates, in double.
  const long per_start = best.empty() ? 0 : o.local_steps / static_cast<long>(best.size());
  std::vector<Candidate> improved;
  for (std::size_t s = 0; s < best.size(); ++s) {
    Candidate cur = best[s];
    Rng rng = base.substream(0x9e3779b97f4a7c15ULL + s);
    SearchPoint end = climb_in_double(claim, {std::move(cur.x), cur.score, cur.vacuous}, rng, per_start,
                                      std::numeric_limits<double>::infinity(), result.evaluated,
                                      [&] { return deadline.passed(); });
    cur.x = std::move(end.x);
    cur.score = end.score;
    cur.vacuous = end.vacuous;
    improved.push_back(std::move(cur));
    report("local search", static_cast<long>(s + 1), static_cast<long>(best.size()));
  }
  for (auto& c : improved) keep_best(best, std::move(c), 2 * keep);
  if (!best.empty()) result.best_score = best.front().score;

  // 3. Certification: the most violating candidates first, then the spread.
  std::vector<Candidate*> queue;
  for (auto& c : best) queue.push_back(&c);
  for (auto& c : spread) queue.push_back(&c);
  const long to_certify = std::min<long>(o.certify, static_cast<long>(queue.size()));
  for (long i = 0; i < to_certify; ++i) {
    if (deadline.passed() && result.certified > 0) break;
    const Instance& x = queue[static_cast<std::size_t>(i)]->x;
    if (!claim.is_in_domain(x, o.certify_options.start_precision)) continue;
    InstanceCertificate cert = certify_instance(claim, x, o.certify_options);
    result.max_precision_used = std::max(result.max_precision_used, cert.precision);
    report("certifying", i + 1, to_certify);
    switch (cert.status) {
      case InstanceStatus::Refuted: {
        if (!confirmed(claim, x, o.certify_options, base)) {
          ++result.unconfirmed;  // a chance exceedance at the chosen seed, not a refutation
          break;
        }
        report("shrinking", 0, 1);
        Instance small = shrink_counterexample(claim, x, o.certify_options, o.shrink_attempts);
        InstanceCertificate small_cert = certify_instance(claim, small, o.certify_options);
        result.verdict = DomainVerdict::Refuted;
        if (small_cert.status == InstanceStatus::Refuted && confirmed(claim, small, o.certify_options, base)) {
          result.counterexample = std::move(small);
          result.counterexample_certificate = std::move(small_cert);
        } else {  // cannot happen unless the claim is non-deterministic; keep the original
          result.counterexample = x;
          result.counterexample_certificate = std::move(cert);
        }
        result.max_precision_used =
            std::max(result.max_precision_used, result.counterexample_certificate->precision);
        result.seconds = deadline.elapsed();
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
