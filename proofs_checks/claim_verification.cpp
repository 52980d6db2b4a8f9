#include "proofs_checks/claim_verification.hpp"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <stdexcept>
#include <utility>

#include "proofs_checks/byte_codec.hpp"
#include "proofs_checks/claim_result_codec.hpp"
#include "proofs_checks/claim_search.hpp"
#include "proofs_checks/distributed_map.hpp"

namespace attncert {
namespace {

std::string cause_text(const std::exception_ptr& cause) {
  try {
    if (cause) std::rethrow_exception(cause);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
  }
  return "unknown exception";
}

using Clock = std::chrono::steady_clock;

// Instances per sampling unit: at 0.1–20 ms per instance, units of a fraction of a second to
// a few seconds, many more of them than ranks at budgets from 10^4 up; past 256 chunks a claim's
// chunks grow instead, so the candidates the chunks keep (8 each, all held until the section
// ends) stay bounded whatever the budget. Depends on the budget alone, never on ranks.
constexpr long kSamplingChunk = 1000;
constexpr long kMaxChunksPerClaim = 256;
long sampling_chunk(long instances) {
  return std::max(kSamplingChunk, (instances + kMaxChunksPerClaim - 1) / kMaxChunksPerClaim);
}
// Certifications per unit: one can take 0.1 s and more (exact rank, high precision), and a
// unit's hand-out costs a few hundred microseconds.
constexpr std::size_t kCertificationBatch = 4;

// A unit's part and the time it took (ClaimResult::seconds sums them).
template <class Part>
struct Timed {
  Part part;
  double seconds = 0;
};

template <class Part>
std::string encode_timed(const Timed<Part>& t, std::string (*encode)(const Part&)) {
  ByteWriter w;
  w.text(encode(t.part));
  w.f64(t.seconds);
  return std::move(w).bytes();
}

template <class Part>
Timed<Part> decode_timed(std::string_view bytes, Part (*decode)(std::string_view)) {
  ByteReader r(bytes);
  Timed<Part> t;
  t.part = decode(r.text("unit part"));
  t.seconds = r.f64("unit seconds");
  r.finish("timed unit");
  return t;
}

// A claim's piece of a phase: queue (or instance) positions [begin, end) of claim `claim`.
struct ClaimRange {
  std::size_t claim;
  long begin, end;
};

// Cuts every claim's [begin, end) = span(i) into ranges of at most `step` (an empty span: none).
std::vector<ClaimRange> cut(std::size_t claims, const std::function<std::pair<long, long>(std::size_t)>& span,
                            long step) {
  std::vector<ClaimRange> ranges;
  for (std::size_t i = 0; i < claims; ++i) {
    const auto [begin, end] = span(i);
    for (long b = begin; b < end; b += step) ranges.push_back({i, b, std::min(end, b + step)});
  }
  return ranges;
}

// One queued instance's certification as a unit computed it: its part, or what it threw. A
// certification past the one that ends the claim's certification is never read, so a throw is
// kept and raised only when the verdict reads it — as verify_claim would meet it, or not.
struct Certification {
  enum class Thrown : std::uint8_t { Nothing, InvalidArgument, DomainError, RuntimeError, BadAlloc, Other };
  CertificationPart part;
  Thrown thrown = Thrown::Nothing;
  std::string what;

  static Certification of(const std::function<CertificationPart()>& certify) {
    Certification c;
    try {
      c.part = certify();
    } catch (const std::invalid_argument& e) {
      c.caught(Thrown::InvalidArgument, e);
    } catch (const std::domain_error& e) {
      c.caught(Thrown::DomainError, e);
    } catch (const std::runtime_error& e) {
      c.caught(Thrown::RuntimeError, e);
    } catch (const std::bad_alloc& e) {
      c.caught(Thrown::BadAlloc, e);
    } catch (const std::exception& e) {
      c.caught(Thrown::Other, e);
    }
    return c;
  }
  // Raises what was caught, of the kind that decides the exit code (cli/exit_codes.cpp).
  const CertificationPart& get() const {
    switch (thrown) {
      case Thrown::Nothing: return part;
      case Thrown::InvalidArgument: throw std::invalid_argument(what);
      case Thrown::DomainError: throw std::domain_error(what);
      case Thrown::RuntimeError: throw std::runtime_error(what);
      case Thrown::BadAlloc: throw std::bad_alloc();
      case Thrown::Other: break;
    }
    throw std::logic_error(what);
  }
  // Whether the claim's certification ends here (a confirmed refutation, or a throw).
  bool ends() const { return thrown != Thrown::Nothing || part.confirmed; }

 private:
  void caught(Thrown kind, const std::exception& e) {
    thrown = kind;
    what = e.what();
  }
};

std::string encode_certifications(const std::vector<Certification>& batch) {
  ByteWriter w;
  w.u64(batch.size());
  for (const Certification& c : batch) {
    w.u8(static_cast<std::uint8_t>(c.thrown));
    if (c.thrown == Certification::Thrown::Nothing) {
      w.text(encode_certification_part(c.part));
    } else {
      w.text(c.what);
    }
  }
  return std::move(w).bytes();
}

std::vector<Certification> decode_certifications(std::string_view bytes) {
  ByteReader r(bytes);
  std::vector<Certification> batch;
  for (std::size_t n = r.count("certifications", 9); n > 0; --n) {
    Certification c;
    const std::uint8_t thrown = r.u8("certification thrown");
    if (thrown > static_cast<std::uint8_t>(Certification::Thrown::Other)) {
      throw std::invalid_argument("malformed unit result: certification thrown out of range");
    }
    c.thrown = static_cast<Certification::Thrown>(thrown);
    if (c.thrown == Certification::Thrown::Nothing) {
      c.part = decode_certification_part(r.text("certification"));
    } else {
      c.what = r.text("certification error");
    }
    batch.push_back(std::move(c));
  }
  r.finish("certification batch");
  return batch;
}

// Runs `compute` for each claim range as a unit, timed; a throw names the claim.
template <class Part>
std::vector<Timed<Part>> range_units(const std::vector<const Claim*>& claims, const std::vector<ClaimRange>& ranges,
                                     int jobs, const std::function<Part(const ClaimRange&)>& compute,
                                     std::string (*encode)(const Part&), Part (*decode)(std::string_view),
                                     const TaskProgress& progress) {
  return distributed_map<Timed<Part>>(
      ranges.size(), jobs,
      [&](std::size_t u) {
        const auto start = Clock::now();
        try {
          Timed<Part> t{compute(ranges[u]), 0};
          t.seconds = std::chrono::duration<double>(Clock::now() - start).count();
          return t;
        } catch (...) {
          throw ClaimVerificationError(claims[ranges[u].claim]->info().id, std::current_exception());
        }
      },
      [&](const Timed<Part>& t) { return encode_timed(t, encode); },
      [&](std::string_view b) { return decode_timed(b, decode); }, progress);
}

// Claims as units: claim(i, its phase progress) for each, under a throw's claim name, with
// progress of the claim running and of the claims finished.
std::vector<ClaimResult> claim_units(const std::vector<const Claim*>& claims, int jobs, const ClaimsProgress& progress,
                                     const std::function<ClaimResult(std::size_t, const ProgressFn&)>& claim) {
  std::mutex mutex;  // serialises progress calls from the phases of concurrent claims
  std::size_t done = 0;
  const std::size_t total = claims.size();
  return distributed_map<ClaimResult>(
      total, jobs,
      [&](std::size_t i) {
        const std::string& id = claims[i]->info().id;
        ProgressFn phase_progress;
        if (progress) {
          phase_progress = [&](std::string_view phase, long step, long steps) {
            const std::lock_guard<std::mutex> lock(mutex);
            progress(done, total, id, phase, step, steps);
          };
        }
        try {
          return claim(i, phase_progress);
        } catch (...) {
          throw ClaimVerificationError(id, std::current_exception());
        }
      },
      encode_claim_result, decode_claim_result,
      [&](std::size_t finished, std::size_t) {  // parallel_for calls this under its own lock
        const std::lock_guard<std::mutex> lock(mutex);
        done = finished;
        if (progress) progress(done, total, {}, {}, 0, 0);
      });
}

}  // namespace

ClaimVerificationError::ClaimVerificationError(std::string claim_id, std::exception_ptr cause)
    : claim_id_(std::move(claim_id)),
      cause_(std::move(cause)),
      message_("verifying " + claim_id_ + ": " + cause_text(cause_)) {}

std::vector<ClaimResult> verify_claims(const std::vector<const Claim*>& claims,
                                       const VerifyOptions& options, int jobs,
                                       const ClaimsProgress& progress) {
  const std::size_t n = claims.size();
  std::vector<VerifyOptions> os(n, options);
  for (std::size_t i = 0; i < n; ++i) os[i].seed = claim_seed(options.seed, claims[i]->info().id);
  if (options.seconds > 0) {
    // Under a time budget each claim's phases must share one clock: the claim is the unit.
    return claim_units(claims, jobs, progress, [&](std::size_t i, const ProgressFn& phase_progress) {
      return verify_claim(*claims[i], os[i], phase_progress);
    });
  }

  // Phase by phase over all claims at once (claim_search.hpp), each phase a section of units.
  auto phase_progress = [&](std::string_view phase) -> TaskProgress {
    if (!progress) return {};
    return [&, phase](std::size_t done, std::size_t units) {  // called under parallel_for's lock
      progress(0, n, {}, phase, static_cast<long>(done), static_cast<long>(units));
    };
  };
  std::vector<double> seconds(n, 0.0);

  // 1. Sampling, in chunks of instances.
  const std::vector<ClaimRange> chunks =
      cut(n, [&](std::size_t i) { return std::pair{0L, os[i].instances}; }, sampling_chunk(options.instances));
  std::vector<Timed<SamplingPart>> sampled = range_units<SamplingPart>(
      claims, chunks, jobs,
      [&](const ClaimRange& r) { return sample_instances(*claims[r.claim], os[r.claim], r.begin, r.end); },
      encode_sampling_part, decode_sampling_part, phase_progress("sampling"));
  std::vector<SamplingPart> sampling(n);
  for (std::size_t u = 0; u < chunks.size(); ++u) {
    merge_sampling(sampling[chunks[u].claim], std::move(sampled[u].part));
    seconds[chunks[u].claim] += sampled[u].seconds;
  }
  sampled.clear();

  // 2. Local search, one unit per start.
  const std::vector<ClaimRange> starts =
      cut(n, [&](std::size_t i) { return std::pair{0L, static_cast<long>(sampling[i].best.size())}; }, 1);
  std::vector<Timed<ClimbPart>> climbed = range_units<ClimbPart>(
      claims, starts, jobs,
      [&](const ClaimRange& r) {
        const SamplingPart& s = sampling[r.claim];
        const auto start = static_cast<std::size_t>(r.begin);
        return climb_from(*claims[r.claim], os[r.claim], start, s.best[start],
                          climb_steps(os[r.claim], s.best.size()));
      },
      encode_climb_part, decode_climb_part, phase_progress("local search"));
  std::vector<std::vector<ClimbPart>> climbs(n);
  for (std::size_t u = 0; u < starts.size(); ++u) {
    climbs[starts[u].claim].push_back(std::move(climbed[u].part));
    seconds[starts[u].claim] += climbed[u].seconds;
  }
  climbed.clear();
  std::vector<SearchOutcome> searches(n);
  for (std::size_t i = 0; i < n; ++i) searches[i] = conclude_search(std::move(sampling[i]), std::move(climbs[i]));
  sampling.clear();

  // 3. Certification in queue order, in two sections: each claim's first batch (its best
  // candidates: a claim usually falls to one of them), then the rest of its queue only for the
  // claims whose certification did not end there. A batch stops where the claim's
  // certification ends (a confirmed refutation, or a throw), as verify_claim's loop does.
  std::vector<std::vector<std::optional<Certification>>> certified(n);  // by queue position
  std::vector<long> counts(n);
  for (std::size_t i = 0; i < n; ++i) {
    counts[i] = static_cast<long>(certification_count(os[i], searches[i]));
    certified[i].resize(static_cast<std::size_t>(counts[i]));
  }
  auto certify_ranges = [&](const std::vector<ClaimRange>& ranges, std::string_view phase) {
    std::vector<Timed<std::vector<Certification>>> batches = range_units<std::vector<Certification>>(
        claims, ranges, jobs,
        [&](const ClaimRange& r) {
          std::vector<Certification> batch;
          for (long q = r.begin; q < r.end && (batch.empty() || !batch.back().ends()); ++q) {
            batch.push_back(Certification::of([&] {
              return certify_candidate(*claims[r.claim], os[r.claim],
                                       searches[r.claim].queue[static_cast<std::size_t>(q)].x);
            }));
          }
          return batch;
        },
        encode_certifications, decode_certifications, phase_progress(phase));
    for (std::size_t u = 0; u < ranges.size(); ++u) {
      auto at = certified[ranges[u].claim].begin() + ranges[u].begin;
      for (Certification& c : batches[u].part) *at++ = std::move(c);
      seconds[ranges[u].claim] += batches[u].seconds;
    }
  };
  const long batch = static_cast<long>(kCertificationBatch);
  certify_ranges(cut(n, [&](std::size_t i) { return std::pair{0L, std::min(counts[i], batch)}; }, batch),
                 "certifying");
  const auto rest = [&](std::size_t i) {
    const bool ended = std::any_of(certified[i].begin(), certified[i].end(), [](const auto& c) { return c && c->ends(); });
    return ended ? std::pair{0L, 0L} : std::pair{batch, counts[i]};
  };
  certify_ranges(cut(n, rest, batch), "certifying the rest");

  // 4. Each claim's verdict (shrinking a counterexample, proving) as a unit; a single claim
  // runs on every rank, so its proof's sections are shared (distributed_map.hpp).
  return claim_units(claims, jobs, progress, [&](std::size_t i, const ProgressFn& claim_progress) {
    const auto start = Clock::now();
    ClaimResult r = conclude_claim(
        *claims[i], os[i], searches[i],
        [&](std::size_t q, const ClaimResult&) -> std::optional<CertificationPart> {
          // every certification the verdict reads was computed above: batches stop, and the
          // rest was left out, only where the certification ends
          if (q >= certified[i].size() || !certified[i][q]) {
            throw std::logic_error("certification " + std::to_string(q) + " missing");
          }
          return certified[i][q]->get();
        },
        claim_progress);
    r.seconds = seconds[i] + std::chrono::duration<double>(Clock::now() - start).count();
    return r;
  });
}

}  // namespace attncert
