// One RapidCheck property suite per catalog claim (ctest: claim_properties/<id>, label
// "claims"). The properties are about the claim's *evaluators*, never about its verdict (the
// verdict is the engine's business):
//  1. enclosures at two precisions overlap (each contains the exact value, so they must);
//  2. the higher precision is at least as sharp (within a small slack for Arb's own rounding);
//  3. certification never flips between Proved and Refuted when the cap is raised;
//  4. the Mp reference at 4× precision agrees with the Ball enclosure (to 2^-200 relative).
// Instances come from the claim's SearchSpace through the engine's sampler, driven by an
// integer RapidCheck generates (RapidCheck's own double generators have no range control).
//
// Reproduce: the seed is printed at start; RC_PARAMS="seed=N" ./claim_properties_test
// --gtest_filter='*A_cor1*'. ctest sets RC_PARAMS="max_success=25 seed=20261123" so CI is reproducible; run the binary
// directly (without RC_PARAMS) to explore fresh seeds.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <string>

#include "numerics/tier_conversions.hpp"
#include "proofs_checks/certificate.hpp"
#include "proofs_checks/instance_sampler.hpp"
#include "theory/catalog.hpp"

namespace attncert {
namespace {

class PrintRapidCheckSeed : public ::testing::Environment {
 public:
  void SetUp() override {
    const auto seed = rc::detail::configuration().testParams.seed;
    std::cout << "[ seed ] RapidCheck seed " << seed << " (reproduce with RC_PARAMS=\"seed=" << seed
              << "\")" << std::endl;
  }
};
[[maybe_unused]] const ::testing::Environment* const kSeedPrinter =
    ::testing::AddGlobalTestEnvironment(new PrintRapidCheckSeed);

Instance generated_instance(const Claim& claim, int stream, bool edge) {
  Rng rng = Rng(0xC1A1Dull).substream(static_cast<std::uint64_t>(stream));
  Instance x = sample_instance(claim.space(), rng, edge ? SampleMode::Edge : SampleMode::Plain);
  claim.project(x);
  return x;
}

class ClaimProperties : public ::testing::TestWithParam<const Claim*> {};

TEST_P(ClaimProperties, EvaluatorsAreConsistentAcrossTiersAndPrecisions) {
  const Claim& claim = *GetParam();
  const bool ok = rc::check(claim.info().id + " evaluators", [&claim] {
    const int stream = *rc::gen::inRange(0, 1 << 30);
    const bool edge = *rc::gen::arbitrary<bool>();
    const Instance x = generated_instance(claim, stream, edge);
    RC_TAG(edge ? "edge" : "plain");
    std::vector<Inequality<Ball>> lo, hi;
    try {
      if (claim.admissible(x, 256) != Tri::True) RC_DISCARD("not certainly admissible");
      lo = claim.evaluate_ball(x, 64);
      hi = claim.evaluate_ball(x, 256);
    } catch (const std::exception& e) {
      RC_DISCARD(e.what());  // e.g. a normaliser not certifiably positive at this precision
    }
    RC_ASSERT(lo.size() == hi.size());
    for (std::size_t i = 0; i < lo.size(); ++i) {
      RC_ASSERT(lo[i].name == hi[i].name);
      RC_ASSERT(lo[i].lhs.overlaps(hi[i].lhs));
      RC_ASSERT(lo[i].rhs.overlaps(hi[i].rhs));
      // 256 bits should be no wider than 64 bits, up to Arb's bookkeeping of tiny radii.
      if (lo[i].lhs.is_finite() && hi[i].lhs.is_finite()) {
        RC_ASSERT(hi[i].lhs.radius() <= 2 * lo[i].lhs.radius() + 1e-300);
      }
    }
    // Verdicts never flip between proved and refuted.
    const InstanceCertificate a = certify_instance(claim, x, CertifyOptions{64, 128});
    const InstanceCertificate b = certify_instance(claim, x, CertifyOptions{64, 1024});
    const bool a_true = a.status == InstanceStatus::Proved, b_true = b.status == InstanceStatus::Proved;
    const bool a_false = a.status == InstanceStatus::Refuted, b_false = b.status == InstanceStatus::Refuted;
    RC_ASSERT(!(a_true && b_false) && !(a_false && b_true));
    // The Mp reference (round-to-nearest at 1024 bits) agrees with the 256-bit enclosure. The
    // reference's accuracy is its algorithm's, not 2^-1024: iterative references (secular
    // equation, SVD) stop at their own tolerances, so it is widened by 2^-200 relative — still
    // far below any double-level disagreement a broken evaluator would show.
    std::vector<Inequality<Mp>> ref;
    try {
      ref = claim.evaluate_mp(x, 1024);
    } catch (const std::exception&) {
      return;  // Mp has a narrower exponent range than Arb (e.g. exp(−1e9) underflows)
    }
    MpPrecision scope(1024);
    for (const auto& side : ref) {
      const auto match = std::find_if(hi.begin(), hi.end(), [&](const auto& h) { return h.name == side.name; });
      if (match == hi.end()) continue;  // a side only the reference tier reports
      for (auto [mp, ball] : {std::pair{&side.lhs, &match->lhs}, std::pair{&side.rhs, &match->rhs}}) {
        if (!ball->is_finite() || boost::multiprecision::isinf(*mp) || boost::multiprecision::isnan(*mp)) continue;
        Ball r = to_ball(*mp, 1024);
        Ball slack = abs(r) * Ball(std::ldexp(1.0, -200), 1024);
        arb_add_error(r.arb(), slack.arb());
        RC_ASSERT(ball->overlaps(r));
      }
    }
  });
  EXPECT_TRUE(ok);
}

std::string test_name(const ::testing::TestParamInfo<const Claim*>& info) {
  std::string s = info.param->info().id;
  for (char& c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return s;
}

std::vector<const Claim*> all_claims() {
  std::vector<const Claim*> v;
  for (const auto& c : catalog()) v.push_back(c.get());
  return v;
}

INSTANTIATE_TEST_SUITE_P(Catalog, ClaimProperties, ::testing::ValuesIn(all_claims()), test_name);

}  // namespace
}  // namespace attncert
