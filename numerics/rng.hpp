// Rng: a deterministic, portable random number generator. The same seed gives the same
// stream bit for bit on every platform and compiler, so a counterexample or a sweep found on
// one machine replays on another from its seed alone.
//
// Why not <random>: the engines are portable but the distributions are not (the standard
// leaves their algorithms unspecified, and libstdc++, libc++ and MSVC differ), and std::log /
// std::cos may differ in the last bit between libms. Here the core generator is xoshiro256**
// (Blackman & Vigna, https://prng.di.unimi.it/xoshiro256starstar.c) seeded by splitmix64
// (https://prng.di.unimi.it/splitmix64.c), and every distribution is built from integer ops
// and correctly rounded IEEE-754 + − × ÷ sqrt only (rng.cpp is compiled with
// -ffp-contract=off so no FMA contraction changes a bit).
//
// Not thread safe: one Rng per thread / job; use substream(k) or jump() to give each its own.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace attncert {

/// splitmix64 (Vigna): a 64-bit counter-based generator, used here to expand a 64-bit seed
/// into xoshiro's 256-bit state and to hash (seed, index) into a substream seed.
struct SplitMix64 {
  std::uint64_t state;
  explicit constexpr SplitMix64(std::uint64_t seed) noexcept : state(seed) {}
  constexpr std::uint64_t next() noexcept {
    state += 0x9e3779b97f4a7c15ULL;
    return mix(state);
  }
  /// The splitmix64 output function: a bijection on 64-bit words with full avalanche.
  static constexpr std::uint64_t mix(std::uint64_t z) noexcept {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
};

class Rng {
 public:
  using State = std::array<std::uint64_t, 4>;

  /// xoshiro256** with its state filled by four splitmix64 outputs from `seed` (Vigna's
  /// recommended seeding; four consecutive splitmix64 outputs are distinct, so the state is
  /// never all zero). Every 64-bit seed is admissible.
  explicit Rng(std::uint64_t seed) noexcept;

  /// A generator with an explicit 256-bit state (reference vectors, checkpoints).
  /// Throws std::invalid_argument if the state is all zero (xoshiro's one fixed point).
  static Rng from_state(const State& state);

  /// The seed this generator was constructed from (for from_state: a hash of that state).
  std::uint64_t seed() const noexcept { return seed_; }
  const State& state() const noexcept { return s_; }

  /// An independent, reproducible stream number `index`: a fresh Rng seeded with
  /// splitmix64-mix(seed ^ splitmix64-mix(index + salt)). It depends only on (seed(), index),
  /// never on how many numbers this generator has drawn, so instance k of a search is
  /// rebuilt from (seed, k) without generating instances 0..k-1. Distinct indices give
  /// distinct child seeds (the map is a bijection); substreams nest (substream(i).substream(j)).
  Rng substream(std::uint64_t index) const noexcept;

  /// Advance by 2^128 draws (2^64 non-overlapping blocks, for parallel jobs) and by 2^192
  /// draws; the polynomials are those of the reference implementation. Drops a cached normal.
  void jump() noexcept;
  void long_jump() noexcept;

  /// Raw 64-bit output of xoshiro256**.
  std::uint64_t next_u64() noexcept {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// Uniform on [0, 1): the top 53 bits times 2^-53 (exact; every multiple of 2^-53 equally likely).
  double uniform() noexcept;
  /// Uniform on [a, b) as a + (b − a)·U, nudged below b if rounding lands on it.
  /// Throws std::domain_error for non-finite a or b, std::invalid_argument unless a < b and
  /// b − a is finite.
  double uniform(double a, double b);
  /// Uniform integer in [0, n) by Lemire's multiply-and-reject (no modulo bias).
  /// Throws std::invalid_argument if n == 0.
  std::uint64_t below(std::uint64_t n);
  /// Uniform integer in [lo, hi] (both ends included; the full int64 range is allowed).
  /// Throws std::invalid_argument if lo > hi.
  std::int64_t uniform_int(std::int64_t lo, std::int64_t hi);
  /// Standard normal by the Marsaglia polar method with deterministic_log; the second value
  /// of each pair is cached and returned by the next call.
  double normal() noexcept;
  /// mean + sd·normal(). Throws std::domain_error for non-finite mean or sd,
  /// std::invalid_argument if sd < 0 (sd == 0 returns mean).
  double normal(double mean, double sd);
  /// +1.0 or −1.0 with probability 1/2 each (the top bit of one draw).
  double rademacher() noexcept;
  /// Uniform on the unit sphere S^{d−1} ⊂ R^d: d standard normals divided by their norm.
  /// Throws std::invalid_argument if d == 0.
  std::vector<double> unit_sphere(std::size_t d);

  /// k distinct indices of [0, n), uniform among the C(n, k) subsets: the first k entries of a
  /// partial Fisher–Yates shuffle of 0..n−1 (entry i swapped with i + below(n − i)), in that
  /// order (k draws). Throws std::invalid_argument if k > n.
  std::vector<std::size_t> sample_indices(std::size_t n, std::size_t k);

  /// Fill helpers: n draws of the corresponding distribution, in order (same argument checks).
  std::vector<double> uniform_vector(std::size_t n, double a = 0.0, double b = 1.0);
  std::vector<double> normal_vector(std::size_t n, double mean = 0.0, double sd = 1.0);
  std::vector<double> rademacher_vector(std::size_t n);

 private:
  Rng() = default;
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept {
    return (x << k) | (x >> (64 - k));
  }
  void apply_jump(const State& polynomial) noexcept;

  State s_{};
  std::uint64_t seed_ = 0;
  double cached_normal_ = 0.0;
  bool has_cached_normal_ = false;
};

/// Natural logarithm of a finite x > 0 (normal or subnormal) using only integer bit
/// manipulation and correctly rounded + − × ÷ (fdlibm's e_log.c algorithm: reduce to
/// 2^k·(1+f) with 1+f in [√2/2, √2), then log(1+f) = 2·atanh(f/(2+f)) by a minimax polynomial;
/// error < 1 ulp). Bit-identical on every IEEE-754 platform, unlike std::log.
/// Throws std::domain_error for x ≤ 0, NaN or +inf.
double deterministic_log(double x);

}  // namespace attncert
