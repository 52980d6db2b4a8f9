// The unit mechanism behind MPI ranks and checkpoints (proofs_checks/distributed_map.hpp), on a
// single process: the codecs round-trip real results exactly (what rank 0 writes from a decoded
// result equals what it writes from the computed one), damaged bytes are refused, and a unit
// store is consulted before any unit is recomputed. The ranks themselves: tests/mpi.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <atomic>
#include <bit>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <nlohmann/json.hpp>

#include "proofs_checks/claim_result_codec.hpp"
#include "proofs_checks/claim_search.hpp"
#include "proofs_checks/claim_verification.hpp"
#include "proofs_checks/conjecture_claim.hpp"
#include "proofs_checks/distributed_map.hpp"
#include "proofs_checks/kernel_checks.hpp"
#include "proofs_checks/kernel_rows_codec.hpp"
#include "numerics/rng.hpp"
#include "reports/checkpoint.hpp"
#include "reports/kernel_check_records.hpp"
#include "reports/result_records.hpp"
#include "reports/sweep.hpp"
#include "reports/sweeps/point_rows.hpp"
#include "theory/catalog.hpp"

namespace attncert {
namespace {

namespace fs = std::filesystem;

// Everything rank 0 writes about a result, as text.
std::string written(const Claim& claim, const ClaimResult& r) {
  std::string s = result_json(claim, r).dump() + "\n" + result_csv_row(claim, r);
  if (r.counterexample) s += counterexample_json(claim, r).dump();
  if (r.tightest) s += tightest_json(claim, r).dump();
  if (r.proof) s += proof_json(*r.proof).dump();
  if (r.proof && r.proof->certificate) s += to_json(*r.proof->certificate).dump();
  return s;
}

void expect_round_trip(const Claim& claim, const ClaimResult& r) {
  const std::string bytes = encode_claim_result(r);
  const ClaimResult back = decode_claim_result(bytes);
  EXPECT_EQ(encode_claim_result(back), bytes) << claim.info().id;
  EXPECT_EQ(written(claim, back), written(claim, r)) << claim.info().id;
  // Every strict prefix is refused with an exception, never read past its end.
  for (std::size_t cut = 0; cut < bytes.size(); cut += 1 + bytes.size() / 97) {
    EXPECT_THROW(decode_claim_result(std::string_view(bytes).substr(0, cut)), std::invalid_argument) << cut;
  }
  EXPECT_THROW(decode_claim_result(bytes + "x"), std::invalid_argument);
}

VerifyOptions small_budget() {
  VerifyOptions o = options_for_instance_budget(300, 256);
  o.seed = 7;
  return o;
}

TEST(ClaimResultCodec, CatalogResultsRoundTripExactly) {
  // A refuted, a survived and a statistical claim of the catalog, whatever their verdicts: the
  // codec must carry each field the writers read.
  std::vector<const Claim*> claims;
  for (const auto& c : catalog()) claims.push_back(c.get());
  ASSERT_GE(claims.size(), 6u);
  claims.resize(6);
  const std::vector<ClaimResult> results = verify_claims(claims, small_budget(), 2);
  for (std::size_t i = 0; i < claims.size(); ++i) expect_round_trip(*claims[i], results[i]);
}

TEST(ClaimResultCodec, RefutationAndProofRoundTripExactly) {
  // Known truth: alpha_max <= 0.6 fails for L = 2 (a row can put all weight on one entry);
  // alpha_max <= 1 holds and has a proof over a bounded domain.
  const auto refuted = conjecture_claim("alpha_max <= 0.6", "L = 2, T in [0.5, 2], logits in [-4, 4]^L");
  ClaimResult r = verify_claim(*refuted, small_budget());
  ASSERT_EQ(r.verdict, DomainVerdict::Refuted);
  ASSERT_TRUE(r.counterexample_certificate.has_value());
  expect_round_trip(*refuted, r);

  const auto proved = conjecture_claim("alpha_max <= 1", "L = 2, T in [0.5, 2], logits in [-4, 4]^L");
  VerifyOptions o = small_budget();
  o.prove = ProverOptions{};
  ClaimResult p = verify_claim(*proved, o);
  ASSERT_TRUE(p.proof.has_value());
  ASSERT_TRUE(p.proof->certificate.has_value());
  expect_round_trip(*proved, p);
}

// A unit store in memory that counts what it was asked.
class MemoryStore final : public UnitStore {
 public:
  std::optional<std::string> load(std::uint64_t section, std::size_t unit) override {
    const auto it = units.find({section, unit});
    if (it == units.end()) return std::nullopt;
    return it->second;
  }
  void save(std::uint64_t section, std::size_t unit, const std::string& bytes) override {
    units[{section, unit}] = bytes;
  }
  std::map<std::pair<std::uint64_t, std::size_t>, std::string> units;
};

// A codec's every strict prefix (and a byte too many) is refused, never read past its end.
template <class Decode>
void expect_prefixes_refused(const std::string& bytes, const Decode& decode) {
  for (std::size_t cut = 0; cut < bytes.size(); cut += 1 + bytes.size() / 97) {
    EXPECT_THROW(decode(std::string_view(bytes).substr(0, cut)), std::invalid_argument) << cut;
  }
  EXPECT_THROW(decode(bytes + "x"), std::invalid_argument);
}

TEST(ClaimSearch, PhasesAsUnitsGiveVerifyClaimsResults) {
  // Known truth: the phased driver (sampling in chunks of 1000, a unit per start, batches of
  // certifications) computes what verify_claim computes claim by claim — over the whole
  // catalog (refuted, survived, statistical, identity claims), with 1,300 instances: two
  // chunks, the second short. Only the timing differs.
  const std::uint64_t seed = 11;
  SCOPED_TRACE("seed " + std::to_string(seed));
  VerifyOptions o = options_for_instance_budget(1300, 256);
  o.seed = seed;
  o.local_steps = 160;  // the starts' search is not what is tested; keep the test short
  o.certify = 24;
  std::vector<const Claim*> claims;
  for (const auto& c : catalog()) claims.push_back(c.get());
  // Every unit's part through its codec, as between ranks: a store makes them cross as bytes.
  MemoryStore store;
  install_unit_store(&store);
  const std::vector<ClaimResult> phased = verify_claims(claims, o, 2);
  install_unit_store(nullptr);
  EXPECT_GT(store.units.size(), 4 * claims.size());  // chunks, starts, batches, verdicts
  ASSERT_EQ(phased.size(), claims.size());
  int refuted = 0;
  for (std::size_t i = 0; i < claims.size(); ++i) {
    VerifyOptions own = o;
    own.seed = claim_seed(seed, claims[i]->info().id);
    ClaimResult alone = verify_claim(*claims[i], own);
    ClaimResult unit = phased[i];
    alone.seconds = unit.seconds = 0;
    EXPECT_EQ(encode_claim_result(unit), encode_claim_result(alone)) << claims[i]->info().id;
    refuted += unit.verdict == DomainVerdict::Refuted;
  }
  EXPECT_GT(refuted, 0);  // the refutation path (certification stops, shrinking) was exercised
}

TEST(ClaimResultCodec, BallsKeepTheirWorkingPrecision) {
  // A decoded ball must round later arithmetic as the computed one did: a tightness subtracts
  // its gap origin at the ball's precision, which a ball decoded as exact would not round.
  CertificationPart part;
  part.in_domain = true;
  part.certificate.status = InstanceStatus::Proved;
  part.certificate.precision = 64;
  SideEnclosure side;
  side.name = side.family = "s";
  side.lhs = Ball(0.3);
  side.lhs.set_precision(64);
  side.rhs = Ball(0.8);
  side.rhs.set_precision(64);
  side.rel = Relation::LessEqual;
  side.holds = Tri(Tri::Value::True);
  side.gap_origin = Ball(1.0);
  part.certificate.sides.push_back(side);
  const CertificationPart back = decode_certification_part(encode_certification_part(part));
  ASSERT_EQ(back.certificate.sides.size(), 1u);
  EXPECT_EQ(back.certificate.sides[0].lhs.precision(), 64);
  EXPECT_EQ(back.certificate.sides[0].rhs.precision(), 64);
  EXPECT_EQ(back.certificate.sides[0].gap_origin->precision(), Ball::kExact);
  EXPECT_EQ(std::bit_cast<std::uint64_t>(back.certificate.tightness()),
            std::bit_cast<std::uint64_t>(part.certificate.tightness()));
}

TEST(ClaimSearch, PartsRoundTripExactly) {
  // Known truth: alpha_max <= 0.6 fails for L = 2, so certification meets a refutation.
  const auto claim = conjecture_claim("alpha_max <= 0.6", "L = 2, T in [0.5, 2], logits in [-4, 4]^L");
  const VerifyOptions o = small_budget();
  const SamplingPart sampling = sample_instances(*claim, o, 100, 300);
  ASSERT_FALSE(sampling.best.empty());
  ASSERT_FALSE(sampling.spread.empty());
  const std::string s = encode_sampling_part(sampling);
  EXPECT_EQ(encode_sampling_part(decode_sampling_part(s)), s);
  expect_prefixes_refused(s, decode_sampling_part);

  const ClimbPart climb = climb_from(*claim, o, 0, sampling.best.front(), 40);
  const std::string c = encode_climb_part(climb);
  EXPECT_EQ(encode_climb_part(decode_climb_part(c)), c);
  expect_prefixes_refused(c, decode_climb_part);

  const CertificationPart cert = certify_candidate(*claim, o, climb.end.x);
  ASSERT_TRUE(cert.in_domain);
  EXPECT_EQ(cert.certificate.status, InstanceStatus::Refuted);
  EXPECT_TRUE(cert.confirmed);
  const std::string b = encode_certification_part(cert);
  EXPECT_EQ(encode_certification_part(decode_certification_part(b)), b);
  expect_prefixes_refused(b, decode_certification_part);
}

TEST(KernelRowsCodec, QuickCasesRoundTripExactly) {
  KernelCheckRequest request;
  request.quick = true;
  request.prefer_device = false;
  request.jobs = 2;
  request.dtype = gpu::DType::f16;
  const std::vector<KernelCheckRow> rows = kernel_checks().front().check(request, {});
  ASSERT_FALSE(rows.empty());
  const std::string bytes = encode_kernel_rows(rows);
  const std::vector<KernelCheckRow> back = decode_kernel_rows(bytes);
  EXPECT_EQ(encode_kernel_rows(back), bytes);
  EXPECT_EQ(kernel_check_csv(back), kernel_check_csv(rows));
  EXPECT_THROW(decode_kernel_rows(std::string_view(bytes).substr(0, bytes.size() - 1)), std::invalid_argument);
}

TEST(DistributedMap, StoredUnitsAreNotRecomputed) {
  const auto encode = [](long v) { return std::to_string(v); };
  const auto decode = [](std::string_view s) { return std::stol(std::string(s)); };
  MemoryStore store;
  install_unit_store(&store);
  std::atomic<int> calls{0};
  const auto square = [&](std::size_t i) {
    ++calls;
    return static_cast<long>(i * i);
  };
  const std::uint64_t first = next_section() + 1;  // the section the next map will use
  const std::vector<long> all = distributed_map<long>(10, 3, square, encode, decode);
  EXPECT_EQ(calls, 10);
  EXPECT_EQ(store.units.size(), 10u);
  // The same section again (as a resumed run numbers it): three units were lost in a kill.
  store.units.erase({first, 2});
  store.units.erase({first, 5});
  store.units.erase({first, 9});
  std::map<std::pair<std::uint64_t, std::size_t>, std::string> kept;
  for (auto& [k, v] : store.units) kept[{k.first - first, k.second}] = v;
  store.units.clear();
  const std::uint64_t second = next_section() + 1;
  for (auto& [k, v] : kept) store.units[{k.first + second, k.second}] = v;
  calls = 0;
  const std::vector<long> resumed = distributed_map<long>(10, 3, square, encode, decode);
  install_unit_store(nullptr);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(resumed, all);
  for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], static_cast<long>(i * i));
}

// Rows with what a codec can lose: NaN payloads, -0, ±inf, the smallest subnormal, absent
// optionals, empty strings and strings with NUL and non-ASCII bytes; varying column counts.
std::vector<sweeps::SweepRow> random_sweep_rows(std::uint64_t seed) {
  Rng rng(seed);
  const std::vector<double> special = {0.0, -0.0, INFINITY, -INFINITY, std::bit_cast<double>(0x7ff80000dead0001ULL),
                                       std::bit_cast<double>(0xfff00000000000ffULL), 0x1p-1074, 1e308};
  const auto number = [&] { return rng.below(3) == 0 ? special[rng.below(special.size())] : rng.normal(); };
  const auto maybe = [&]() -> std::optional<double> {
    if (rng.below(3) == 0) return std::nullopt;
    return number();
  };
  const std::vector<std::string> texts = {"", "Delta/T=2: random q, K", std::string("a\0b", 3), "\xe2\x80\x96J\xe2\x80\x96"};
  std::vector<sweeps::SweepRow> rows(rng.below(20));
  for (sweeps::SweepRow& row : rows) {
    row.parameters.resize(rng.below(7));
    for (double& p : row.parameters) p = number();
    row.series = texts[rng.below(texts.size())];
    row.statistic = texts[rng.below(texts.size())];
    row.value = number();
    row.bounds.resize(rng.below(4));
    for (std::optional<double>& b : row.bounds) b = maybe();
    row.ci_low = maybe();
    row.ci_high = maybe();
  }
  return rows;
}

TEST(SweepRowsCodec, RandomRowsRoundTripBitForBit) {
  const std::uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed) + " (to reproduce, put it in place of random_device{}())");
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  for (std::uint64_t k = 0; k < 200; ++k) {
    const std::vector<sweeps::SweepRow> rows = random_sweep_rows(seed + k);
    const std::string bytes = sweeps::encode_sweep_rows(rows);
    const std::vector<sweeps::SweepRow> back = sweeps::decode_sweep_rows(bytes);
    ASSERT_EQ(back.size(), rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      ASSERT_EQ(back[i].parameters.size(), rows[i].parameters.size());
      for (std::size_t j = 0; j < rows[i].parameters.size(); ++j)
        EXPECT_EQ(std::bit_cast<std::uint64_t>(back[i].parameters[j]), std::bit_cast<std::uint64_t>(rows[i].parameters[j]));
      EXPECT_EQ(back[i].series, rows[i].series);
      EXPECT_EQ(back[i].statistic, rows[i].statistic);
      EXPECT_EQ(std::bit_cast<std::uint64_t>(back[i].value), std::bit_cast<std::uint64_t>(rows[i].value));
      ASSERT_EQ(back[i].bounds.size(), rows[i].bounds.size());
      for (std::size_t j = 0; j < rows[i].bounds.size(); ++j) {
        ASSERT_EQ(back[i].bounds[j].has_value(), rows[i].bounds[j].has_value());
        if (rows[i].bounds[j])
          EXPECT_EQ(std::bit_cast<std::uint64_t>(*back[i].bounds[j]), std::bit_cast<std::uint64_t>(*rows[i].bounds[j]));
      }
      for (auto field : {&sweeps::SweepRow::ci_low, &sweeps::SweepRow::ci_high}) {
        ASSERT_EQ((back[i].*field).has_value(), (rows[i].*field).has_value());
        if (rows[i].*field)
          EXPECT_EQ(std::bit_cast<std::uint64_t>(*(back[i].*field)), std::bit_cast<std::uint64_t>(*(rows[i].*field)));
      }
    }
    EXPECT_EQ(sweeps::encode_sweep_rows(back), bytes);
    // Every strict prefix and any trailing byte are refused, never read past the end.
    for (std::size_t cut = 0; cut < bytes.size(); ++cut)
      EXPECT_THROW(sweeps::decode_sweep_rows(std::string_view(bytes).substr(0, cut)), std::invalid_argument) << cut;
    EXPECT_THROW(sweeps::decode_sweep_rows(bytes + "x"), std::invalid_argument);
  }
}

// Every experiment's points as units: with a unit store installed every point's rows go through
// the codec (as they do between MPI ranks), on 3 threads; the CSV must be the bytes of a plain
// run on one thread. A point that reads state left by another point would differ here.
TEST(SweepPointsAsUnits, EveryExperimentWritesTheSameBytesThroughTheCodecOnThreads) {
  const std::map<std::string, std::string> tiny = {
      {"vanishing-attention", "L={2,4,8}, Delta_over_T={0.5,2}, d=3, trials=3"},
      {"gradient-sensitivity", "T={0.05,1}, L={4,16}, rows=3"},
      // (L = 4, N = 5) has no rows: an empty unit between full ones.
      {"distance-collapse", "L={4,8}, N={1,5}, d=2, trials=3, mc_samples=5"},
      {"geometric-separability", "N={1,3}, L={4,6}, d=3, trials=3"},
      {"softmax-linear-separation", "n={4,16}, samples=20"},
      {"rank-spectra", "n={4,8}, d={2,3}, certify_max_n=4"},
      {"approximation-error", "m={1,4}, abs_s={0.5,2}, replicates=20"},
  };
  constexpr std::uint64_t kSeed = 11;
  RecordProperty("seed", std::to_string(kSeed));
  SCOPED_TRACE("seed " + std::to_string(kSeed));
  ASSERT_EQ(tiny.size(), sweeps::experiments().size()) << "give every experiment a tiny grid";
  for (const sweeps::Experiment& e : sweeps::experiments()) {
    SCOPED_TRACE(e.name);
    const sweeps::Grid grid = sweeps::parse_grid(tiny.at(e.name));
    const std::string plain = sweeps::sweep_csv(e.run(grid, kSeed, 1, {}));
    MemoryStore store;
    install_unit_store(&store);
    std::string through_units;
    std::size_t points = 0;
    try {
      through_units = sweeps::sweep_csv(e.run(grid, kSeed, 3, [&](std::size_t, std::size_t total) { points = total; }));
    } catch (...) {
      install_unit_store(nullptr);
      throw;
    }
    install_unit_store(nullptr);
    EXPECT_GE(points, 2u);  // one point would run inline, not as a unit
    EXPECT_EQ(store.units.size(), points) << "not every point went through the unit store";
    EXPECT_EQ(through_units, plain);
  }
}

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("attncert-checkpoint-test-" + std::to_string(::getpid()));
    fs::remove_all(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
  fs::path dir;
};

TEST_F(CheckpointTest, KeepsUnitsAcrossOpensOfTheSameJob) {
  {
    CheckpointDirectory c(dir, "1.0", {"verify", "--all"});
    EXPECT_EQ(c.units_found(), 0u);
    EXPECT_FALSE(c.load(0, 3).has_value());
    c.save(0, 3, std::string("a\0b", 3));
  }
  CheckpointDirectory c(dir, "1.0", {"verify", "--all"});
  EXPECT_EQ(c.units_found(), 1u);
  EXPECT_EQ(c.load(0, 3), std::string("a\0b", 3));
}

TEST_F(CheckpointTest, OpeningRemovesAKilledRunsPartialUnitsOnly) {
  // Units are saved without scanning the directory each time (quadratic over thousands of
  // units), so the partial unit files of a killed run are removed when the checkpoint opens —
  // those of a dead process only.
  {
    CheckpointDirectory c(dir, "1.0", {"verify", "--all"});
    c.save(0, 1, "kept");
  }
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  ::waitpid(child, nullptr, 0);  // a pid whose process is gone, as after a SIGKILL
  const fs::path dead = dir / "units" / fmt::format("0-2.unit.tmp-{}-0123456789abcdef", child);
  const fs::path alive = dir / "units" / fmt::format("0-3.unit.tmp-{}-0123456789abcdef", ::getppid());
  std::ofstream(dead) << "partial";
  std::ofstream(alive) << "being written";
  CheckpointDirectory c(dir, "1.0", {"verify", "--all"});
  EXPECT_EQ(c.units_found(), 1u);
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_TRUE(fs::exists(alive));
  EXPECT_EQ(c.load(0, 1), "kept");
}

TEST_F(CheckpointTest, RefusesOtherArgumentsVersionsAndDamage) {
  {
    CheckpointDirectory c(dir, "1.0", {"verify", "--all"});
    c.save(1, 0, "payload");
  }
  try {
    CheckpointDirectory c(dir, "1.0", {"verify", "--all", "--seed", "2"});
    FAIL() << "other arguments accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("other arguments"), std::string::npos) << e.what();
  }
  try {
    CheckpointDirectory c(dir, "1.1", {"verify", "--all"});
    FAIL() << "another version accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("written by attncert 1.0"), std::string::npos) << e.what();
  }
  {  // one payload byte changed
    const fs::path unit = dir / "units" / "1-0.unit";
    std::string text;
    {
      std::ifstream in(unit, std::ios::binary);
      text.assign(std::istreambuf_iterator<char>(in), {});
    }
    text.back() = 'X';
    std::ofstream(unit, std::ios::binary | std::ios::trunc) << text;
  }
  {
    CheckpointDirectory c(dir, "1.0", {"verify", "--all"});
    try {
      (void)c.load(1, 0);
      FAIL() << "damaged unit accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("damaged"), std::string::npos) << e.what();
    }
  }
  std::ofstream(dir / "job.json", std::ios::trunc) << "{\"format\": \"something-else\"}";
  EXPECT_THROW(CheckpointDirectory(dir, "1.0", {"verify", "--all"}), std::invalid_argument);
}

}  // namespace
}  // namespace attncert
