// Shared by the tests of verdict records and tables: a claim with the ClaimInfo a test chooses
// (provenance, kind, adapted, derivation, interval method) around a real expression claim, and
// results built by hand — the rendering of the engine's fields is tested without running it,
// and with claims the catalog may not have.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "proofs_checks/verifier.hpp"
#include "theory/expression_claim.hpp"

namespace attncert::test {

inline constexpr const char* kToyDomain = "L in [1,4], logits ~ normal(0,1)";

class ToyClaim final : public Claim {
 public:
  explicit ToyClaim(ClaimInfo info)
      : base_(make_expression_claim("alpha_max <= 1", kToyDomain)), info_(std::move(info)) {}
  const ClaimInfo& info() const override { return info_; }
  const SearchSpace& space() const override { return base_->space(); }
  std::vector<Inequality<double>> evaluate_double(const Instance& x) const override {
    return base_->evaluate_double(x);
  }
  std::vector<Inequality<Mp>> evaluate_mp(const Instance& x, long bits) const override {
    return base_->evaluate_mp(x, bits);
  }
  std::vector<Inequality<Ball>> evaluate_ball(const Instance& x, long prec) const override {
    return base_->evaluate_ball(x, prec);
  }

 private:
  std::unique_ptr<Claim> base_;
  ClaimInfo info_;
};

inline ClaimInfo toy_info(std::string id, Provenance provenance, ClaimKind kind) {
  ClaimInfo i;
  i.id = std::move(id);
  i.provenance = provenance;
  i.kind = kind;
  i.statement_text = "alpha_max <= 1";
  i.source = "toy";
  return i;
}

/// An instance of kToyDomain: L = 2, logits (0.5, -1).
inline Instance toy_instance() {
  Instance x;
  x.scalars["L"] = 2;
  x.arrays["logits"] = RowMatrix<double>(1, 2);
  x.arrays["logits"] << 0.5, -1;
  return x;
}

inline ClaimResult toy_result(DomainVerdict verdict, long certified, long bits) {
  ClaimResult r;
  r.claim_id = "toy";
  r.verdict = verdict;
  r.evaluated = 500;
  r.certified = certified;
  r.max_precision_used = bits;
  r.seed = 7;
  return r;
}

/// A survived result with two side families, degenerate and vacuous instances and a vacuity.
inline ClaimResult toy_survived() {
  ClaimResult r = toy_result(DomainVerdict::Survived, 40, 64);
  r.tightness = 0.75;
  r.tightest = toy_instance();
  r.side_tightness = {SideTightness{"lower", 0.25, toy_instance(), 30, 0},
                      SideTightness{"upper", 0.75, toy_instance(), 28, 3}};
  r.degenerate = 5;
  r.degenerate_tightness = 1;
  r.vacuous = 3;
  r.vacuity = 0.125;
  return r;
}

/// A refuted result whose counterexample violates side "upper".
inline ClaimResult toy_refuted() {
  ClaimResult r = toy_result(DomainVerdict::Refuted, 10, 128);
  r.counterexample = toy_instance();
  InstanceCertificate cert;
  cert.status = InstanceStatus::Refuted;
  cert.precision = 128;
  cert.violated = "upper";
  r.counterexample_certificate = cert;
  return r;
}

}  // namespace attncert::test
