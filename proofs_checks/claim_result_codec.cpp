#include "proofs_checks/claim_result_codec.hpp"

#include <arb.h>
#include <flint/flint.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "proofs_checks/byte_codec.hpp"
#include "proofs_checks/claim_search.hpp"
#include "proofs_checks/proof_certificate.hpp"

namespace attncert {
namespace {

constexpr std::uint64_t kFormat = 0x61746e6372310002;  // "atncr1" + version 2: balls keep precision

template <class E>
E enum_value(ByteReader& r, const char* what, int count) {
  const std::uint8_t v = r.u8(what);
  if (v >= count) throw std::invalid_argument(std::string("malformed unit result: ") + what + " out of range");
  return static_cast<E>(v);
}

void put(ByteWriter& w, const Instance& x) {
  w.u64(x.scalars.size());
  for (const auto& [name, v] : x.scalars) {
    w.text(name);
    w.f64(v);
  }
  w.u64(x.arrays.size());
  for (const auto& [name, a] : x.arrays) {
    w.text(name);
    w.u64(static_cast<std::uint64_t>(a.rows()));
    w.u64(static_cast<std::uint64_t>(a.cols()));
    for (Eigen::Index i = 0; i < a.size(); ++i) w.f64(a.data()[i]);
  }
}

Instance get_instance(ByteReader& r) {
  Instance x;
  for (std::size_t n = r.count("instance scalars", 16); n > 0; --n) {
    std::string name = r.text("scalar name");
    x.scalars[std::move(name)] = r.f64("scalar");
  }
  for (std::size_t n = r.count("instance arrays", 24); n > 0; --n) {
    std::string name = r.text("array name");
    const std::uint64_t rows = r.u64("array rows");
    const std::uint64_t cols = r.u64("array columns");
    if (rows != 0 && cols > r.remaining() / 8 / rows) {
      throw std::invalid_argument("malformed unit result: array larger than its bytes");
    }
    RowMatrix<double> a(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
    for (Eigen::Index i = 0; i < a.size(); ++i) a.data()[i] = r.f64("array entry");
    x.arrays[std::move(name)] = std::move(a);
  }
  return x;
}

void put(ByteWriter& w, const std::optional<Instance>& x) {
  w.boolean(x.has_value());
  if (x) put(w, *x);
}

std::optional<Instance> get_optional_instance(ByteReader& r) {
  if (!r.boolean("instance present")) return std::nullopt;
  return get_instance(r);
}

// Arb's own exact text (arb_dump_str: midpoint and radius as exact mantissa/exponent), and the
// ball's working precision: arithmetic on a decoded ball (a tightness's lhs − origin) must round
// as it would have on the computed one.
void put(ByteWriter& w, const Ball& b) {
  char* s = arb_dump_str(b.arb());
  w.text(s);
  flint_free(s);
  w.i64(b.precision());
}

Ball get_ball(ByteReader& r) {
  const std::string s = r.text("ball");
  Ball b;
  if (arb_load_str(b.arb(), s.c_str()) != 0) throw std::invalid_argument("malformed unit result: ball");
  const long precision = r.i64("ball precision");
  if (precision != Ball::kExact) {
    try {
      b.set_precision(precision);
    } catch (const std::invalid_argument&) {
      throw std::invalid_argument("malformed unit result: ball precision out of range");
    }
  }
  return b;
}

void put(ByteWriter& w, const std::optional<Ball>& b) {
  w.boolean(b.has_value());
  if (b) put(w, *b);
}

std::optional<Ball> get_optional_ball(ByteReader& r) {
  if (!r.boolean("ball present")) return std::nullopt;
  return get_ball(r);
}

void put(ByteWriter& w, const InstanceCertificate& c) {
  w.u8(static_cast<std::uint8_t>(c.status));
  w.i64(c.precision);
  w.u64(c.sides.size());
  for (const SideEnclosure& s : c.sides) {
    w.text(s.name);
    w.text(s.family);
    put(w, s.lhs);
    put(w, s.rhs);
    w.u8(static_cast<std::uint8_t>(s.rel));
    w.u8(static_cast<std::uint8_t>(s.holds.value()));
    put(w, s.gap_origin);
    put(w, s.a_priori);
  }
  w.text(c.violated);
  w.text(c.detail);
}

InstanceCertificate get_certificate(ByteReader& r) {
  InstanceCertificate c;
  c.status = enum_value<InstanceStatus>(r, "certificate status", 5);
  c.precision = r.i64("certificate precision");
  for (std::size_t n = r.count("certificate sides", 40); n > 0; --n) {
    SideEnclosure s;
    s.name = r.text("side name");
    s.family = r.text("side family");
    s.lhs = get_ball(r);
    s.rhs = get_ball(r);
    s.rel = enum_value<Relation>(r, "side relation", 5);
    s.holds = Tri(enum_value<Tri::Value>(r, "side holds", 3));
    s.gap_origin = get_optional_ball(r);
    s.a_priori = get_optional_ball(r);
    c.sides.push_back(std::move(s));
  }
  c.violated = r.text("certificate violated");
  c.detail = r.text("certificate detail");
  return c;
}

void put(ByteWriter& w, const ClaimProof& p) {
  w.u8(static_cast<std::uint8_t>(p.status));
  w.text(p.scope);
  w.text(p.reduction);
  w.text(p.slack);
  w.boolean(p.covers_domain);
  w.u64(p.goals.size());
  for (const GoalReport& g : p.goals) {
    w.text(g.name);
    w.u8(static_cast<std::uint8_t>(g.outcome));
    w.text(g.slack);
    w.i64(g.boxes);
    w.i64(g.leaves);
    w.i64(g.max_precision);
    w.f64(g.seconds);
    w.text(g.reason);
  }
  w.boolean(p.certificate.has_value());
  if (p.certificate) w.text(p.certificate_json.empty() ? to_json(*p.certificate).dump() : p.certificate_json);
  put(w, p.candidate);
  w.text(p.reason);
  w.i64(p.boxes);
  w.f64(p.seconds);
}

ClaimProof get_proof(ByteReader& r) {
  ClaimProof p;
  p.status = enum_value<ProofStatus>(r, "proof status", 4);
  p.scope = r.text("proof scope");
  p.reduction = r.text("proof reduction");
  p.slack = r.text("proof slack");
  p.covers_domain = r.boolean("proof covers_domain");
  for (std::size_t n = r.count("proof goals", 60); n > 0; --n) {
    GoalReport g;
    g.name = r.text("goal name");
    g.outcome = enum_value<ProofOutcome>(r, "goal outcome", 4);
    g.slack = r.text("goal slack");
    g.boxes = r.i64("goal boxes");
    g.leaves = r.i64("goal leaves");
    g.max_precision = r.i64("goal max_precision");
    g.seconds = r.f64("goal seconds");
    g.reason = r.text("goal reason");
    p.goals.push_back(std::move(g));
  }
  if (r.boolean("proof certificate present")) {
    p.certificate_json = r.text("proof certificate");
    p.certificate = proof_certificate_from_json(nlohmann::json::parse(p.certificate_json));
  }
  p.candidate = get_optional_instance(r);
  p.reason = r.text("proof reason");
  p.boxes = r.i64("proof boxes");
  p.seconds = r.f64("proof seconds");
  return p;
}

void put(ByteWriter& w, const SearchCandidate& c) {
  w.f64(c.score);
  w.i64(c.index);
  put(w, c.x);
  w.boolean(c.vacuous);
}

SearchCandidate get_candidate(ByteReader& r) {
  SearchCandidate c;
  c.score = r.f64("candidate score");
  c.index = r.i64("candidate index");
  c.x = get_instance(r);
  c.vacuous = r.boolean("candidate vacuous");
  return c;
}

void put(ByteWriter& w, const std::vector<SearchCandidate>& list) {
  w.u64(list.size());
  for (const SearchCandidate& c : list) put(w, c);
}

std::vector<SearchCandidate> get_candidates(ByteReader& r) {
  std::vector<SearchCandidate> list;
  for (std::size_t n = r.count("candidates", 33); n > 0; --n) list.push_back(get_candidate(r));
  return list;
}

}  // namespace

std::string encode_sampling_part(const SamplingPart& x) {
  ByteWriter w;
  put(w, x.best);
  put(w, x.spread);
  for (long v : {x.evaluated, x.first_draws, x.vacuous_first_draws}) w.i64(v);
  w.boolean(x.declares_a_priori);
  return std::move(w).bytes();
}

SamplingPart decode_sampling_part(std::string_view bytes) {
  ByteReader r(bytes);
  SamplingPart x;
  x.best = get_candidates(r);
  x.spread = get_candidates(r);
  for (long* v : {&x.evaluated, &x.first_draws, &x.vacuous_first_draws}) *v = r.i64("sampling counts");
  x.declares_a_priori = r.boolean("declares a priori");
  r.finish("sampling part");
  return x;
}

std::string encode_climb_part(const ClimbPart& x) {
  ByteWriter w;
  put(w, x.end);
  w.i64(x.evaluated);
  return std::move(w).bytes();
}

ClimbPart decode_climb_part(std::string_view bytes) {
  ByteReader r(bytes);
  ClimbPart x;
  x.end = get_candidate(r);
  x.evaluated = r.i64("climb evaluations");
  r.finish("climb part");
  return x;
}

std::string encode_certification_part(const CertificationPart& x) {
  ByteWriter w;
  w.boolean(x.in_domain);
  if (x.in_domain) put(w, x.certificate);
  w.boolean(x.confirmed);
  return std::move(w).bytes();
}

CertificationPart decode_certification_part(std::string_view bytes) {
  ByteReader r(bytes);
  CertificationPart x;
  x.in_domain = r.boolean("in domain");
  if (x.in_domain) x.certificate = get_certificate(r);
  x.confirmed = r.boolean("confirmed");
  r.finish("certification part");
  return x;
}

std::string encode_claim_result(const ClaimResult& x) {
  ByteWriter w;
  w.u64(kFormat);
  w.text(x.claim_id);
  w.u8(static_cast<std::uint8_t>(x.verdict));
  for (long v : {x.evaluated, x.certified, x.consistent, x.inconclusive, x.inadmissible, x.unconfirmed}) w.i64(v);
  w.f64(x.tightness);
  put(w, x.tightest);
  w.u64(x.side_tightness.size());
  for (const SideTightness& s : x.side_tightness) {
    w.text(s.family);
    w.f64(s.tightness);
    put(w, s.tightest);
    w.i64(s.informative);
    w.i64(s.vacuous);
  }
  w.i64(x.degenerate);
  w.f64(x.degenerate_tightness);
  w.i64(x.vacuous);
  w.f64(x.vacuity);
  w.f64(x.best_score);
  w.i64(x.max_precision_used);
  put(w, x.counterexample);
  w.boolean(x.counterexample_certificate.has_value());
  if (x.counterexample_certificate) put(w, *x.counterexample_certificate);
  w.u64(x.seed);
  w.f64(x.seconds);
  w.boolean(x.proof.has_value());
  if (x.proof) put(w, *x.proof);
  return std::move(w).bytes();
}

ClaimResult decode_claim_result(std::string_view bytes) {
  ByteReader r(bytes);
  if (r.u64("format") != kFormat) throw std::invalid_argument("malformed unit result: not a claim result of this version");
  ClaimResult x;
  x.claim_id = r.text("claim id");
  x.verdict = enum_value<DomainVerdict>(r, "verdict", 4);
  for (long* v : {&x.evaluated, &x.certified, &x.consistent, &x.inconclusive, &x.inadmissible, &x.unconfirmed}) {
    *v = r.i64("counts");
  }
  x.tightness = r.f64("tightness");
  x.tightest = get_optional_instance(r);
  for (std::size_t n = r.count("side tightness", 40); n > 0; --n) {
    SideTightness s;
    s.family = r.text("side family");
    s.tightness = r.f64("side tightness");
    s.tightest = get_optional_instance(r);
    s.informative = r.i64("side informative");
    s.vacuous = r.i64("side vacuous");
    x.side_tightness.push_back(std::move(s));
  }
  x.degenerate = r.i64("degenerate");
  x.degenerate_tightness = r.f64("degenerate tightness");
  x.vacuous = r.i64("vacuous");
  x.vacuity = r.f64("vacuity");
  x.best_score = r.f64("best score");
  x.max_precision_used = r.i64("max precision used");
  x.counterexample = get_optional_instance(r);
  if (r.boolean("counterexample certificate present")) x.counterexample_certificate = get_certificate(r);
  x.seed = r.u64("seed");
  x.seconds = r.f64("seconds");
  if (r.boolean("proof present")) x.proof = get_proof(r);
  r.finish("claim result");
  return x;
}

}  // namespace attncert
