// Rng: reference vectors of the core generators, pinned golden values of every distribution,
// determinism, substreams, statistical sanity, deterministic_log accuracy, argument checks.
//
// Statistical checks use 5 standard errors: for a correct generator the normalised deviation
// is ≈ N(0, 1) (central limit theorem), so |Z| > 5 has probability 5.7e-7 — with a fixed seed
// the test is deterministic and essentially never a false alarm, yet a systematic error of
// 5 SE (≈ 0.011 relative for N = 2·10^5) is caught.
#include "numerics/rng.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "numerics/scalar_traits.hpp"

namespace attncert {
namespace {

constexpr std::uint64_t kSeed = 20240521;  // the seed of every randomised test below
constexpr double kStandardErrors = 5.0;

// Prints the seed with every failure and records it in the XML report.
#define ATTNCERT_TRACE_SEED(seed)                          \
  SCOPED_TRACE("seed = " + std::to_string(seed));          \
  ::testing::Test::RecordProperty("seed", std::to_string(seed))

double unit_roundoff() { return ScalarTraits<double>::unit_roundoff(); }

// Distance in units in the last place: doubles mapped to a monotone integer line.
std::uint64_t ulp_distance(double a, double b) {
  auto ordered = [](double x) {
    const auto i = std::bit_cast<std::int64_t>(x);
    return i < 0 ? std::numeric_limits<std::int64_t>::min() - i : i;
  };
  std::int64_t ia = ordered(a), ib = ordered(b);
  if (ia < ib) std::swap(ia, ib);
  return static_cast<std::uint64_t>(ia) - static_cast<std::uint64_t>(ib);
}

template <class F>
void expect_throw_mentioning(F&& f, const std::string& fragment) {
  try {
    f();
    ADD_FAILURE() << "expected an exception mentioning \"" << fragment << "\"";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
        << "message \"" << e.what() << "\" does not mention \"" << fragment << "\"";
  }
}

// --- reference vectors of the core generators ------------------------------------------------

TEST(Rng, SplitMix64MatchesReferenceImplementation) {
  // Produced by Vigna's splitmix64.c; published as the `reference` test of rand_xoshiro's
  // SplitMix64 (github.com/rust-random/rngs, rand_xoshiro/src/splitmix64.rs).
  SplitMix64 g(1477776061723855037ULL);
  const std::uint64_t expected[] = {1985237415132408290ULL, 2979275885539914483ULL,
                                    13511426838097143398ULL, 8488337342461049707ULL,
                                    15141737807933549159ULL, 17093170987380407015ULL,
                                    16389528042912955399ULL, 13177319091862933652ULL,
                                    10841969400225389492ULL, 17094824097954834098ULL};
  for (const auto e : expected) EXPECT_EQ(g.next(), e);
}

TEST(Rng, Xoshiro256StarStarMatchesReferenceImplementation) {
  // State {1, 2, 3, 4}; produced by Blackman & Vigna's xoshiro256starstar.c, published as the
  // `reference` test of rand_xoshiro (rand_xoshiro/src/xoshiro256starstar.rs).
  Rng rng = Rng::from_state({1, 2, 3, 4});
  const std::uint64_t expected[] = {11520ULL,
                                    0ULL,
                                    1509978240ULL,
                                    1215971899390074240ULL,
                                    1216172134540287360ULL,
                                    607988272756665600ULL,
                                    16172922978634559625ULL,
                                    8476171486693032832ULL,
                                    10595114339597558777ULL,
                                    2904607092377533576ULL};
  for (const auto e : expected) EXPECT_EQ(rng.next_u64(), e);
}

TEST(Rng, SplitMixSeedingAndJumpsMatchPhpReferenceVector) {
  // php-src ext/random/tests/02_engine/xoshiro256starstar_value.phpt: Xoshiro256StarStar(1234)
  // seeds with four splitmix64 outputs (as we do), draws 10000, jump(), jumpLong(), and then
  // prints the next output as little-endian hex "1f197e9ca7969123".
  Rng rng(1234);
  for (int i = 0; i < 10000; ++i) rng.next_u64();
  rng.jump();
  rng.long_jump();
  EXPECT_EQ(rng.next_u64(), 0x239196a79c7e191fULL);
}

// --- pinned golden values of the distributions ------------------------------------------------

TEST(Rng, GoldenValuesForFixedSeedArePinned) {
  // Bit-exact first outputs for kSeed, cross-checked against an independent Python
  // re-implementation (integer splitmix64/xoshiro256**, Lemire, polar method with math.log).
  // Any change here breaks the replay of every saved counterexample: do not re-pin lightly.
  const std::uint64_t raw[] = {0x6f08dea0d0a5a4caULL, 0x0bbc14ba8b6f69b7ULL,
                               0xa50ff8eaf973aacbULL, 0xfd4b1ef20eb8b16fULL};
  Rng g(kSeed);
  for (const auto e : raw) EXPECT_EQ(g.next_u64(), e);

  const double uniforms[] = {0x1.bc237a8342968p-2, 0x1.778297516dedp-5, 0x1.4a1ff1d5f2e75p-1,
                             0x1.fa963de41d716p-1};
  Rng u(kSeed);
  for (const double e : uniforms) EXPECT_EQ(u.uniform(), e);

  const double normals[] = {-0x1.5a1cf10a6bcd1p-4, -0x1.287e58e0180b9p-1, 0x1.610c4f681530cp-4,
                            -0x1.4408f8d9d9799p-4, 0x1.338de11a27da6p-1,  0x1.31a596002f3a6p+0};
  Rng n(kSeed);
  for (const double e : normals) EXPECT_EQ(n.normal(), e);

  const std::int64_t ints[] = {-1, -10, 3, 10, 8, -7};
  Rng i(kSeed);
  for (const auto e : ints) EXPECT_EQ(i.uniform_int(-10, 10), e);

  // n = 3·2^62 exercises Lemire's rejection (2^64 mod n = 2^62 is large).
  const std::uint64_t belows[] = {6000667140225252247ULL, 634180216105963337ULL,
                                  8920499121749934104ULL, 13688786954870228243ULL};
  Rng b(kSeed);
  for (const auto e : belows) EXPECT_EQ(b.below(0xC000000000000000ULL), e);

  Rng child = Rng(kSeed).substream(7);
  EXPECT_EQ(child.seed(), 0x1ca1b52e9d9b18dfULL);
  EXPECT_EQ(child.next_u64(), 0x2d7246e33a38abb1ULL);
  EXPECT_EQ(child.next_u64(), 0x43db25dfa1132560ULL);

  const std::vector<double> sphere = {-0x1.248e16551a931p-3, -0x1.f53a387b049b1p-1,
                                      0x1.2a6abb9872f1bp-3};
  EXPECT_EQ(Rng(kSeed).unit_sphere(3), sphere);
}

// FNV-1a over the bit patterns: one word that changes if any bit of any value changes.
std::uint64_t fingerprint(const std::vector<double>& xs) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const double x : xs) h = (h ^ std::bit_cast<std::uint64_t>(x)) * 0x100000001b3ULL;
  return h;
}

TEST(Rng, LongStreamFingerprintsArePinned) {
  // The first few golden values above happen to survive FMA contraction; these 20000-value
  // streams do not: compiling rng.cpp with -ffp-contract=fast (GCC 12) or =on (Clang) and
  // FMA enabled changes at least three of the four fingerprints (measured). Pinned from a
  // -ffp-contract=off build; identical under GCC -O0/-O3 and Clang -O1/-O3 -march=native.
  ATTNCERT_TRACE_SEED(kSeed);
  const Rng root(kSeed);
  EXPECT_EQ(fingerprint(Rng(kSeed).normal_vector(20000, 1.0, 3.0)), 0x9b6a5e3e04c21209ULL);
  EXPECT_EQ(fingerprint(root.substream(0).uniform_vector(20000, -3.0, 7.5)), 0xa79c1c08b554c495ULL);
  std::vector<double> logs;
  Rng q = root.substream(1);
  for (int i = 0; i < 20000; ++i) logs.push_back(deterministic_log(q.uniform(0x1p-60, 16.0)));
  EXPECT_EQ(fingerprint(logs), 0x071375830f6f1563ULL);
  std::vector<double> sphere;
  Rng s = root.substream(2);
  for (int i = 0; i < 2000; ++i) {
    for (const double x : s.unit_sphere(10)) sphere.push_back(x);
  }
  EXPECT_EQ(fingerprint(sphere), 0xe6f0c53d2736df56ULL);
}

// --- determinism and substreams --------------------------------------------------------------

// A mixed workload touching every entry point, so a hidden state dependence would show.
std::vector<double> mixed_draws(Rng& rng) {
  std::vector<double> out;
  for (int round = 0; round < 50; ++round) {
    out.push_back(static_cast<double>(rng.next_u64() >> 11));
    out.push_back(rng.uniform());
    out.push_back(rng.uniform(-3.0, 7.5));
    out.push_back(static_cast<double>(rng.uniform_int(-1000, 1000)));
    out.push_back(rng.normal());  // odd count of normals: exercises the cached second value
    out.push_back(rng.normal(2.0, 0.5));
    out.push_back(rng.normal());
    out.push_back(rng.rademacher());
    for (const double x : rng.unit_sphere(4)) out.push_back(x);
  }
  return out;
}

TEST(Rng, SameSeedGivesIdenticalStreams) {
  ATTNCERT_TRACE_SEED(kSeed);
  Rng a(kSeed), b(kSeed), other(kSeed + 1);
  const auto da = mixed_draws(a);
  const auto db = mixed_draws(b);
  ASSERT_EQ(da.size(), db.size());
  for (std::size_t k = 0; k < da.size(); ++k) {
    ASSERT_EQ(std::bit_cast<std::uint64_t>(da[k]), std::bit_cast<std::uint64_t>(db[k])) << k;
  }
  EXPECT_NE(mixed_draws(other), da);
  // Copies continue the same stream (state, including a cached normal, is value-semantic).
  Rng c(kSeed);
  c.normal();
  Rng d = c;
  EXPECT_EQ(c.normal(), d.normal());
  EXPECT_EQ(c.next_u64(), d.next_u64());
}

TEST(Rng, SubstreamDependsOnlyOnSeedAndIndex) {
  ATTNCERT_TRACE_SEED(kSeed);
  Rng parent(kSeed);
  for (int k = 0; k < 1000; ++k) parent.next_u64();  // consuming the parent must not matter
  parent.normal();
  for (const std::uint64_t index : {0ULL, 1ULL, 41ULL, 0xffffffffffffffffULL}) {
    Rng from_used = parent.substream(index);
    Rng from_fresh = Rng(kSeed).substream(index);
    EXPECT_EQ(from_used.seed(), from_fresh.seed());
    EXPECT_EQ(from_used.state(), from_fresh.state());
    EXPECT_EQ(mixed_draws(from_used), mixed_draws(from_fresh));
  }
  // Nested substreams are reproducible too (e.g. job j, instance k).
  EXPECT_EQ(Rng(kSeed).substream(3).substream(5).state(),
            Rng(kSeed).substream(3).substream(5).state());
  EXPECT_NE(Rng(kSeed).substream(3).substream(5).state(),
            Rng(kSeed).substream(5).substream(3).state());
}

TEST(Rng, SubstreamsAreDistinctAndUncorrelated) {
  ATTNCERT_TRACE_SEED(kSeed);
  const Rng root(kSeed);
  std::set<std::uint64_t> first_outputs;
  std::set<std::uint64_t> seeds;
  for (std::uint64_t index = 0; index < 4096; ++index) {
    Rng s = root.substream(index);
    seeds.insert(s.seed());
    first_outputs.insert(s.next_u64());
  }
  EXPECT_EQ(seeds.size(), 4096u);  // the index → seed map is a bijection
  // 4096 draws from 2^64 values collide with probability ~2^-41: any collision is a bug.
  EXPECT_EQ(first_outputs.size(), 4096u);
  Rng copy = root;
  EXPECT_NE(copy.next_u64(), root.substream(0).next_u64());

  // Neighbouring substreams: the Pearson correlation of N paired uniforms has standard error
  // ≈ 1/√N under independence.
  constexpr int kPairs = 100000;
  for (const std::uint64_t index : {0ULL, 1ULL, 2ULL}) {
    Rng x = root.substream(index), y = root.substream(index + 1);
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    for (int k = 0; k < kPairs; ++k) {
      const double a = x.uniform(), b = y.uniform();
      sx += a, sy += b, sxx += a * a, syy += b * b, sxy += a * b;
    }
    const double n = kPairs;
    const double cov = sxy / n - (sx / n) * (sy / n);
    const double r = cov / std::sqrt((sxx / n - (sx / n) * (sx / n)) * (syy / n - (sy / n) * (sy / n)));
    EXPECT_LT(std::abs(r), kStandardErrors / std::sqrt(n)) << "substreams " << index << ", " << index + 1;
  }
}

TEST(Rng, JumpMovesToADifferentStreamAndDropsCachedNormal) {
  ATTNCERT_TRACE_SEED(kSeed);
  Rng a(kSeed), b(kSeed);
  b.jump();
  EXPECT_NE(a.state(), b.state());
  Rng c(kSeed);
  c.normal();  // caches the pair's second value
  Rng d = c;
  c.jump();
  d.jump();
  Rng e(kSeed);
  e.jump();
  // After a jump the cache is gone, so c continues exactly like a fresh jumped generator.
  EXPECT_EQ(c.state(), d.state());
  EXPECT_EQ(c.normal(), d.normal());
  EXPECT_NE(c.state(), e.state());  // c drew two uniforms before the jump
}

// --- statistical sanity ---------------------------------------------------------------------

TEST(Rng, UniformHasMeanOneHalfAndStaysInRange) {
  ATTNCERT_TRACE_SEED(kSeed);
  Rng rng(kSeed);
  constexpr int kN = 200000;
  double sum = 0;
  for (int k = 0; k < kN; ++k) {
    const double x = rng.uniform();
    ASSERT_GE(x, 0.0);
    ASSERT_LT(x, 1.0);
    ASSERT_EQ(std::ldexp(x, 53), std::floor(std::ldexp(x, 53)));  // a multiple of 2^-53
    sum += x;
  }
  const double se = std::sqrt(1.0 / 12.0 / kN);  // Var U(0,1) = 1/12
  EXPECT_NEAR(sum / kN, 0.5, kStandardErrors * se);

  for (const auto& [a, b] : std::vector<std::pair<double, double>>{
           {-3.0, 7.5}, {1e-300, 2e-300}, {-1e300, 1e300}, {5.0, 5.0 + 1e-12}}) {
    for (int k = 0; k < 1000; ++k) {
      const double x = rng.uniform(a, b);
      ASSERT_GE(x, a);
      ASSERT_LT(x, b);
    }
  }
  // [1, next double after 1): a + (b − a)·U rounds to b for half of all U; the nudge keeps [a, b).
  const double b = std::nextafter(1.0, 2.0);
  for (int k = 0; k < 1000; ++k) ASSERT_EQ(rng.uniform(1.0, b), 1.0);
}

TEST(Rng, NormalMomentsAndTailsMatchTheNormalDistribution) {
  ATTNCERT_TRACE_SEED(kSeed);
  Rng rng(kSeed);
  constexpr int kN = 200000;
  constexpr double kMean = 3.0, kSd = 2.0;
  double sum = 0, sum_sq = 0;
  int beyond_two_sd = 0;
  for (const double x : rng.normal_vector(kN, kMean, kSd)) {
    sum += x;
    sum_sq += (x - kMean) * (x - kMean);
    beyond_two_sd += std::abs(x - kMean) > 2.0 * kSd;
  }
  const double n = kN;
  // SE of the mean is sd/√N; of the variance (known mean) σ²·√(2/N) since Var χ²₁ = 2;
  // of a proportion p it is √(p(1−p)/N), with p = P(|Z| > 2) = erfc(√2).
  EXPECT_NEAR(sum / n, kMean, kStandardErrors * kSd / std::sqrt(n));
  EXPECT_NEAR(sum_sq / n, kSd * kSd, kStandardErrors * kSd * kSd * std::sqrt(2.0 / n));
  const double p = std::erfc(std::sqrt(2.0));
  EXPECT_NEAR(beyond_two_sd / n, p, kStandardErrors * std::sqrt(p * (1 - p) / n));
  // sd = 0 is a point mass.
  EXPECT_EQ(rng.normal(-1.5, 0.0), -1.5);
}

TEST(Rng, UniformIntStaysInRangeAndIsUnbiased) {
  ATTNCERT_TRACE_SEED(kSeed);
  Rng rng(kSeed);
  constexpr int kN = 140000;
  constexpr int kLo = -3, kHi = 3, kBins = kHi - kLo + 1;
  std::vector<int> counts(kBins, 0);
  for (int k = 0; k < kN; ++k) {
    const auto v = rng.uniform_int(kLo, kHi);
    ASSERT_GE(v, kLo);
    ASSERT_LE(v, kHi);
    ++counts[static_cast<std::size_t>(v - kLo)];
  }
  const double expected = static_cast<double>(kN) / kBins;
  double chi2 = 0;
  for (const int c : counts) chi2 += (c - expected) * (c - expected) / expected;
  // χ² with 6 degrees of freedom: mean 6, sd √12; P(χ²₆ > 6 + 8√12 ≈ 33.7) ≈ 8e-6.
  EXPECT_LT(chi2, (kBins - 1) + 8.0 * std::sqrt(2.0 * (kBins - 1)));

  // n = 3·2^62: reducing a 64-bit word modulo n would put half of all draws below 2^62; the
  // unbiased answer is one third.
  constexpr std::uint64_t kN3 = 0xC000000000000000ULL;
  constexpr int kDraws = 100000;
  int below_quarter = 0;
  for (int k = 0; k < kDraws; ++k) {
    const std::uint64_t v = rng.below(kN3);
    ASSERT_LT(v, kN3);
    below_quarter += v < (std::uint64_t{1} << 62);
  }
  EXPECT_NEAR(below_quarter / double(kDraws), 1.0 / 3.0,
              kStandardErrors * std::sqrt((1.0 / 3.0) * (2.0 / 3.0) / kDraws));

  // Degenerate and extreme ranges.
  EXPECT_EQ(rng.uniform_int(42, 42), 42);
  EXPECT_EQ(rng.below(1), 0u);
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  bool saw_negative = false, saw_positive = false;
  for (int k = 0; k < 64; ++k) {
    const auto v = rng.uniform_int(kMin, kMax);
    saw_negative |= v < 0;
    saw_positive |= v > 0;
  }
  EXPECT_TRUE(saw_negative && saw_positive);  // all 64 of one sign: probability 2^-63
  for (int k = 0; k < 100; ++k) {
    const auto v = rng.uniform_int(kMax - 1, kMax);
    EXPECT_TRUE(v == kMax - 1 || v == kMax);
  }
}

TEST(Rng, RademacherIsBalancedPlusOrMinusOne) {
  ATTNCERT_TRACE_SEED(kSeed);
  Rng rng(kSeed);
  constexpr int kN = 200000;
  double sum = 0;
  for (const double x : rng.rademacher_vector(kN)) {
    ASSERT_TRUE(x == 1.0 || x == -1.0) << x;
    sum += x;
  }
  EXPECT_NEAR(sum / kN, 0.0, kStandardErrors / std::sqrt(double(kN)));  // Var = 1
}

TEST(Rng, UnitSphereVectorsHaveUnitNormAndUniformMarginals) {
  ATTNCERT_TRACE_SEED(kSeed);
  Rng rng(kSeed);
  const double u = unit_roundoff();
  for (const std::size_t d : {1u, 2u, 3u, 10u, 1000u}) {
    // Generation: Σx² has relative error ≤ γ_d, sqrt and the d divisions add ≤ γ_d/2 + 2u to
    // the true norm of the output; re-measuring it here adds ≤ γ_d/2 + u. Total ≤ γ_{d+4}
    // with room for second-order terms.
    const double tolerance = higham_gamma(static_cast<long>(d) + 4, u);
    for (int k = 0; k < 200; ++k) {
      const auto x = rng.unit_sphere(d);
      ASSERT_EQ(x.size(), d);
      double sum_sq = 0;
      for (const double xi : x) sum_sq += xi * xi;
      ASSERT_NEAR(std::sqrt(sum_sq), 1.0, tolerance) << "d = " << d;
    }
  }
  // d = 1: the sphere is {−1, +1}.
  for (int k = 0; k < 20; ++k) {
    const double x = rng.unit_sphere(1)[0];
    EXPECT_TRUE(x == 1.0 || x == -1.0) << x;
  }
  // d = 3 (Archimedes): each coordinate is uniform on [−1, 1], so E x² = 1/3 with
  // Var x² = 1/5 − 1/9 = 4/45, and P(x < 1/2) = 3/4.
  constexpr int kN = 100000;
  double sum_sq = 0;
  int below_half = 0;
  for (int k = 0; k < kN; ++k) {
    const double x = rng.unit_sphere(3)[2];
    sum_sq += x * x;
    below_half += x < 0.5;
  }
  EXPECT_NEAR(sum_sq / kN, 1.0 / 3.0, kStandardErrors * std::sqrt(4.0 / 45.0 / kN));
  EXPECT_NEAR(below_half / double(kN), 0.75, kStandardErrors * std::sqrt(0.75 * 0.25 / kN));
}

TEST(Rng, FillHelpersEqualRepeatedScalarDraws) {
  ATTNCERT_TRACE_SEED(kSeed);
  Rng a(kSeed), b(kSeed);
  const auto normals = a.normal_vector(7, 1.0, 3.0);  // odd: leaves a cached value behind
  for (const double x : normals) EXPECT_EQ(x, b.normal(1.0, 3.0));
  const auto uniforms = a.uniform_vector(5, -2.0, 2.0);
  for (const double x : uniforms) EXPECT_EQ(x, b.uniform(-2.0, 2.0));
  const auto signs = a.rademacher_vector(9);
  for (const double x : signs) EXPECT_EQ(x, b.rademacher());
  EXPECT_TRUE(a.normal_vector(0).empty());
  EXPECT_EQ(a.next_u64(), b.next_u64());  // n = 0 drew nothing
}

// --- deterministic_log ----------------------------------------------------------------------

TEST(Rng, DeterministicLogIsWithinOneUlpOfStdLog) {
  ATTNCERT_TRACE_SEED(kSeed);
  // Both fdlibm's algorithm (< 1 ulp) and glibc's log (< 0.52 ulp) are faithful: each returns
  // one of the two doubles bracketing the exact log, so they differ by at most 1 ulp.
  constexpr std::uint64_t kTolerance = 1;
  std::vector<double> xs = {1.0,
                            std::nextafter(1.0, 0.0),
                            std::nextafter(1.0, 2.0),
                            1.0 + 0x1p-20,
                            1.0 - 0x1p-20,
                            1.0 + 0x1p-19,
                            std::numbers::sqrt2,
                            std::numbers::sqrt2 / 2,
                            std::nextafter(std::numbers::sqrt2 / 2, 0.0),
                            std::nextafter(std::numbers::sqrt2, 2.0),
                            std::numbers::e,
                            10.0,
                            DBL_MIN,
                            std::nextafter(DBL_MIN, 0.0),
                            std::nextafter(DBL_MIN, 1.0),
                            std::numeric_limits<double>::denorm_min(),
                            3 * std::numeric_limits<double>::denorm_min(),
                            DBL_MAX};
  for (int e = -1074; e <= 1023; ++e) {  // every power of two, subnormal to the largest
    const double p = std::ldexp(1.0, e);
    xs.push_back(p);
    if (e > -1074) xs.push_back(std::nextafter(p, 0.0));  // below 2^-1074 is 0
    xs.push_back(std::nextafter(p, DBL_MAX));
  }
  Rng rng(kSeed);
  for (int k = 0; k < 200000; ++k) {
    // Random positive finite bit patterns: uniform over exponents, subnormals included.
    const std::uint64_t bits = rng.next_u64() >> 1;
    const double x = std::bit_cast<double>(bits);
    if (std::isfinite(x) && x > 0) xs.push_back(x);
    xs.push_back(rng.uniform(0x1p-53, 1.0));  // the polar method's range
    xs.push_back(rng.uniform(0.9999, 1.0001));  // cancellation near 1
  }
  std::uint64_t worst = 0;
  double worst_x = 1.0;
  for (const double x : xs) {
    const auto d = ulp_distance(deterministic_log(x), std::log(x));
    if (d > worst) worst = d, worst_x = x;
  }
  EXPECT_LE(worst, kTolerance) << "worst at x = " << std::hexfloat << worst_x;
  EXPECT_EQ(deterministic_log(1.0), 0.0);  // exact where the answer is representable
}

TEST(Rng, DeterministicLogRejectsArgumentsOutsideItsDomain) {
  for (const double x : {0.0, -0.0, -1.0, -std::numeric_limits<double>::denorm_min(),
                         std::numeric_limits<double>::infinity(),
                         std::numeric_limits<double>::quiet_NaN()}) {
    EXPECT_THROW(deterministic_log(x), std::domain_error) << x;
  }
  expect_throw_mentioning([] { deterministic_log(-2.0); }, "finite x > 0");
}

// --- argument validation --------------------------------------------------------------------

// sample_indices is the partial Fisher–Yates shuffle its comment states: entry i swapped with
// i + below(n − i), so a second generator from the same seed replaying those draws by hand
// gives the same indices; k distinct values in [0, n); k = n is a permutation; k > n refused.
TEST(Rng, SampleIndicesIsAPartialFisherYatesShuffle) {
  for (std::size_t n : {1u, 2u, 7u, 100u}) {
    for (std::size_t k : {std::size_t{0}, std::size_t{1}, n / 2, n}) {
      Rng a(99), b(99);
      const std::vector<std::size_t> got = a.sample_indices(n, k);
      std::vector<std::size_t> pool(n);
      for (std::size_t i = 0; i < n; ++i) pool[i] = i;
      for (std::size_t i = 0; i < k; ++i) std::swap(pool[i], pool[i + b.below(n - i)]);
      EXPECT_EQ(got, std::vector<std::size_t>(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(k)));
      EXPECT_EQ(std::set<std::size_t>(got.begin(), got.end()).size(), k);
      for (std::size_t x : got) EXPECT_LT(x, n);
      EXPECT_EQ(a.next_u64(), b.next_u64());  // exactly k draws
    }
  }
  Rng r(1);
  EXPECT_THROW(r.sample_indices(3, 4), std::invalid_argument);
}

TEST(Rng, BadArgumentsThrowWithMessagesNamingTheAdmissibleRange) {
  Rng rng(kSeed);
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();

  EXPECT_THROW(rng.uniform(2.0, 1.0), std::invalid_argument);
  EXPECT_THROW(rng.uniform(1.0, 1.0), std::invalid_argument);
  expect_throw_mentioning([&] { rng.uniform(2.0, 1.0); }, "a < b");
  expect_throw_mentioning([&] { rng.uniform(-DBL_MAX, DBL_MAX); }, "b - a overflows");
  EXPECT_THROW(rng.uniform(nan, 1.0), std::domain_error);
  EXPECT_THROW(rng.uniform(0.0, inf), std::domain_error);
  expect_throw_mentioning([&] { rng.uniform(0.0, inf); }, "b = inf is not finite");

  EXPECT_THROW(rng.normal(0.0, -1.0), std::invalid_argument);
  expect_throw_mentioning([&] { rng.normal(0.0, -1.0); }, "sd >= 0");
  EXPECT_THROW(rng.normal(nan, 1.0), std::domain_error);
  expect_throw_mentioning([&] { rng.normal(0.0, inf); }, "sd = inf is not finite");

  EXPECT_THROW(rng.uniform_int(1, 0), std::invalid_argument);
  expect_throw_mentioning([&] { rng.uniform_int(1, 0); }, "lo <= hi");
  EXPECT_THROW(rng.below(0), std::invalid_argument);
  expect_throw_mentioning([&] { rng.below(0); }, "n >= 1");
  EXPECT_THROW(rng.unit_sphere(0), std::invalid_argument);
  expect_throw_mentioning([&] { rng.unit_sphere(0); }, "d >= 1");
  EXPECT_THROW(Rng::from_state({0, 0, 0, 0}), std::invalid_argument);
  expect_throw_mentioning([] { Rng::from_state({0, 0, 0, 0}); }, "non-zero word");

  // Fill helpers validate before drawing, even for n = 0, and a failed call consumes nothing.
  EXPECT_THROW(rng.normal_vector(0, 0.0, -1.0), std::invalid_argument);
  EXPECT_THROW(rng.uniform_vector(0, 1.0, 0.0), std::invalid_argument);
  Rng fresh(kSeed);
  EXPECT_EQ(rng.next_u64(), fresh.next_u64());
}

}  // namespace
}  // namespace attncert
