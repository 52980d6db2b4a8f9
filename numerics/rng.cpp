// Portability contract: every floating-point result below is a composition of correctly
// rounded IEEE-754 binary64 + − × ÷ sqrt, evaluated in source order. That holds when
//  - no FMA contraction (CMake compiles this file with -ffp-contract=off), and
//  - no excess precision (x87): checked by the static_assert on FLT_EVAL_METHOD,
//  - no -ffast-math (it would license reassociation; never set it for this file).
#include "numerics/rng.hpp"

#include <fmt/format.h>

#include <bit>
#include <cfloat>
#include <cmath>
#include <numeric>
#include <limits>
#include <stdexcept>

static_assert(std::numeric_limits<double>::is_iec559, "Rng needs IEEE-754 binary64 doubles");
#if defined(FLT_EVAL_METHOD)
static_assert(FLT_EVAL_METHOD == 0,
              "Rng needs double arithmetic evaluated in double (no x87 excess precision); "
              "compile with -msse2 -mfpmath=sse");
#endif

namespace attncert {

namespace {

constexpr Rng::State kJump = {0x180ec6d33cfd0abaULL, 0xd5a61266f0c9392cULL,
                              0xa9582618e03fc9aaULL, 0x39abdc4529b1661cULL};
constexpr Rng::State kLongJump = {0x76e15d3efefdcbbfULL, 0xc5004e441c522fb3ULL,
                                  0x77710069854ee241ULL, 0x39109bb02acbe635ULL};
// Separates substream hashing from plain seeding (hex digits of pi; any odd constant works).
constexpr std::uint64_t kSubstreamSalt = 0x243f6a8885a308d3ULL;

// 64×64 → 128-bit product from four 32×32 products (portable; no __int128 needed).
void multiply_64x64(std::uint64_t a, std::uint64_t b, std::uint64_t& hi, std::uint64_t& lo) {
  const std::uint64_t a_lo = a & 0xffffffffULL, a_hi = a >> 32;
  const std::uint64_t b_lo = b & 0xffffffffULL, b_hi = b >> 32;
  const std::uint64_t p0 = a_lo * b_lo, p1 = a_lo * b_hi, p2 = a_hi * b_lo, p3 = a_hi * b_hi;
  const std::uint64_t mid = (p0 >> 32) + (p1 & 0xffffffffULL) + (p2 & 0xffffffffULL);
  hi = p3 + (p1 >> 32) + (p2 >> 32) + (mid >> 32);
  lo = (mid << 32) | (p0 & 0xffffffffULL);
}

void require_finite(double x, const char* function, const char* name) {
  if (!std::isfinite(x)) {
    throw std::domain_error(
        fmt::format("{}: {} = {} is not finite (admissible: a finite double)", function, name, x));
  }
}

// Validates [a, b) and returns b − a (checked before any draw, so a bad call consumes nothing).
double checked_width(double a, double b) {
  require_finite(a, "Rng::uniform", "a");
  require_finite(b, "Rng::uniform", "b");
  if (!(a < b)) {
    throw std::invalid_argument(
        fmt::format("Rng::uniform: empty interval [a, b) = [{}, {}) (admissible: a < b)", a, b));
  }
  const double width = b - a;
  if (!std::isfinite(width)) {
    throw std::invalid_argument(fmt::format(
        "Rng::uniform: b - a overflows for [{}, {}) (admissible: b - a <= {})", a, b,
        std::numeric_limits<double>::max()));
  }
  return width;
}

double uniform_in(double a, double b, double width, double unit) {
  const double r = a + width * unit;
  // Rounding can land on b when unit is close to 1; the largest double below b keeps [a, b).
  return r < b ? r : std::nextafter(b, a);
}

void check_normal_arguments(double mean, double sd) {
  require_finite(mean, "Rng::normal", "mean");
  require_finite(sd, "Rng::normal", "sd");
  if (sd < 0.0) {
    throw std::invalid_argument(
        fmt::format("Rng::normal: sd = {} is negative (admissible: sd >= 0)", sd));
  }
}

// fdlibm e_log.c (Sun Microsystems, 1993), restated for 64-bit words. Coefficients are
// written as hex literals so they are exact: Lg1..Lg7 approximate the series of
// (log(1+f) − 2s)/s with s = f/(2+f), |s| ≤ 0.1716, error < 2^-58.45; ln2 is split so that
// k·ln2_hi is exact for |k| < 2^11.
double log_positive_finite(double x) {
  constexpr double ln2_hi = 0x1.62e42feep-1;
  constexpr double ln2_lo = 0x1.a39ef35793c76p-33;
  constexpr double Lg1 = 0x1.5555555555593p-1, Lg2 = 0x1.999999997fa04p-2,
                   Lg3 = 0x1.2492494229359p-2, Lg4 = 0x1.c71c51d8e78afp-3,
                   Lg5 = 0x1.7466496cb03dep-3, Lg6 = 0x1.39a09d078c69fp-3,
                   Lg7 = 0x1.2f112df3e5244p-3;
  std::uint64_t bits = std::bit_cast<std::uint64_t>(x);
  std::int32_t k = 0;
  if (bits < 0x0010000000000000ULL) {  // subnormal: scale into the normal range (exact)
    x *= 0x1p54;
    bits = std::bit_cast<std::uint64_t>(x);
    k = -54;
  }
  std::int32_t hx = static_cast<std::int32_t>(bits >> 32);
  k += (hx >> 20) - 1023;
  hx &= 0x000fffff;
  // Choose the exponent of the reduced argument so that it lies in [√2/2, √2).
  const std::int32_t i = (hx + 0x95f64) & 0x100000;
  const std::uint64_t high = static_cast<std::uint32_t>(hx | (i ^ 0x3ff00000));
  x = std::bit_cast<double>((high << 32) | (bits & 0xffffffffULL));
  k += i >> 20;
  const double f = x - 1.0;
  const double dk = static_cast<double>(k);
  if ((0x000fffff & (2 + hx)) < 3) {  // −2^-20 ≤ f < 2^-20: a short series suffices
    if (f == 0.0) return k == 0 ? 0.0 : dk * ln2_hi + dk * ln2_lo;
    const double r = f * f * (0.5 - 0x1.5555555555555p-2 * f);
    return k == 0 ? f - r : dk * ln2_hi - ((r - dk * ln2_lo) - f);
  }
  const double s = f / (2.0 + f);
  const double z = s * s;
  const double w = z * z;
  const double t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
  const double t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
  const double r = t2 + t1;
  if (((hx - 0x6147a) | (0x6b851 - hx)) > 0) {  // 1+f far from 1: subtract f²/2 explicitly
    const double hfsq = 0.5 * f * f;
    return k == 0 ? f - (hfsq - s * (hfsq + r))
                  : dk * ln2_hi - ((hfsq - (s * (hfsq + r) + dk * ln2_lo)) - f);
  }
  return k == 0 ? f - s * (f - r) : dk * ln2_hi - ((s * (f - r) - dk * ln2_lo) - f);
}

}  // namespace

double deterministic_log(double x) {
  if (!(x > 0.0) || x == std::numeric_limits<double>::infinity()) {
    throw std::domain_error(fmt::format(
        "deterministic_log: x = {} is outside the domain (admissible: finite x > 0)", x));
  }
  return log_positive_finite(x);
}

Rng::Rng(std::uint64_t seed) noexcept : seed_(seed) {
  SplitMix64 expander(seed);
  for (auto& word : s_) word = expander.next();
}

Rng Rng::from_state(const State& state) {
  if (state[0] == 0 && state[1] == 0 && state[2] == 0 && state[3] == 0) {
    throw std::invalid_argument(
        "Rng::from_state: the all-zero state is xoshiro256**'s fixed point (admissible: any "
        "state with at least one non-zero word)");
  }
  Rng rng;
  rng.s_ = state;
  rng.seed_ = SplitMix64::mix(
      state[0] ^ SplitMix64::mix(state[1] ^ SplitMix64::mix(state[2] ^ SplitMix64::mix(state[3]))));
  return rng;
}

Rng Rng::substream(std::uint64_t index) const noexcept {
  return Rng(SplitMix64::mix(seed_ ^ SplitMix64::mix(index + kSubstreamSalt)));
}

void Rng::apply_jump(const State& polynomial) noexcept {
  State acc{};
  for (const std::uint64_t word : polynomial) {
    for (int b = 0; b < 64; ++b) {
      if (word & (std::uint64_t{1} << b)) {
        for (int w = 0; w < 4; ++w) acc[w] ^= s_[w];
      }
      next_u64();
    }
  }
  s_ = acc;
  has_cached_normal_ = false;
}

void Rng::jump() noexcept { apply_jump(kJump); }
void Rng::long_jump() noexcept { apply_jump(kLongJump); }

double Rng::uniform() noexcept {
  return static_cast<double>(next_u64() >> 11) * 0x1p-53;  // both steps exact
}

double Rng::uniform(double a, double b) {
  const double width = checked_width(a, b);
  return uniform_in(a, b, width, uniform());
}

std::uint64_t Rng::below(std::uint64_t n) {
  if (n == 0) {
    throw std::invalid_argument("Rng::below: n = 0 gives an empty range [0, n) (admissible: n >= 1)");
  }
  // Lemire (2019), "Fast random integer generation in an interval": the high word of x·n is
  // uniform on [0, n) once the low words below 2^64 mod n are rejected.
  std::uint64_t hi = 0, lo = 0;
  multiply_64x64(next_u64(), n, hi, lo);
  if (lo < n) {
    const std::uint64_t threshold = (0 - n) % n;  // 2^64 mod n
    while (lo < threshold) multiply_64x64(next_u64(), n, hi, lo);
  }
  return hi;
}

std::vector<std::size_t> Rng::sample_indices(std::size_t n, std::size_t k) {
  if (k > n) {
    throw std::invalid_argument(
        fmt::format("Rng::sample_indices: {} distinct indices asked of [0, {})", k, n));
  }
  std::vector<std::size_t> pool(n);
  std::iota(pool.begin(), pool.end(), std::size_t{0});
  for (std::size_t i = 0; i < k; ++i) std::swap(pool[i], pool[i + below(n - i)]);
  pool.resize(k);
  return pool;
}

std::int64_t Rng::uniform_int(std::int64_t lo, std::int64_t hi) {
  if (lo > hi) {
    throw std::invalid_argument(fmt::format(
        "Rng::uniform_int: empty range [lo, hi] = [{}, {}] (admissible: lo <= hi)", lo, hi));
  }
  const std::uint64_t span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
  const std::uint64_t offset = span == std::numeric_limits<std::uint64_t>::max() ? next_u64()
                                                                                 : below(span + 1);
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) + offset);  // modular, C++20
}

double Rng::normal() noexcept {
  if (has_cached_normal_) {
    has_cached_normal_ = false;
    return cached_normal_;
  }
  for (;;) {
    // 2U − 1 is exact: U is a multiple of 2^-53 in [0, 1).
    const double u = 2.0 * uniform() - 1.0;
    const double v = 2.0 * uniform() - 1.0;
    const double s = u * u + v * v;
    if (s >= 1.0 || s == 0.0) continue;  // accept only the open unit disc minus the origin
    const double factor = std::sqrt(-2.0 * log_positive_finite(s) / s);
    cached_normal_ = v * factor;
    has_cached_normal_ = true;
    return u * factor;
  }
}

double Rng::normal(double mean, double sd) {
  check_normal_arguments(mean, sd);
  return mean + sd * normal();
}

double Rng::rademacher() noexcept { return (next_u64() >> 63) != 0 ? 1.0 : -1.0; }

std::vector<double> Rng::unit_sphere(std::size_t d) {
  if (d == 0) {
    throw std::invalid_argument(
        "Rng::unit_sphere: dimension d = 0 has no unit sphere (admissible: d >= 1)");
  }
  std::vector<double> x(d);
  for (;;) {
    double sum_squares = 0.0;
    for (auto& xi : x) {
      xi = normal();
      sum_squares += xi * xi;
    }
    // Zero only if every normal is exactly 0 (probability ~2^-52 per coordinate). A non-zero
    // normal has magnitude > 2^-80 (|u| ≥ 2^-52, factor > 2^-27), so squares cannot underflow.
    if (sum_squares > 0.0) {
      const double norm = std::sqrt(sum_squares);
      for (auto& xi : x) xi /= norm;
      return x;
    }
  }
}

std::vector<double> Rng::uniform_vector(std::size_t n, double a, double b) {
  const double width = checked_width(a, b);
  std::vector<double> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.push_back(uniform_in(a, b, width, uniform()));
  return out;
}

std::vector<double> Rng::normal_vector(std::size_t n, double mean, double sd) {
  check_normal_arguments(mean, sd);
  std::vector<double> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.push_back(mean + sd * normal());
  return out;
}

std::vector<double> Rng::rademacher_vector(std::size_t n) {
  std::vector<double> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.push_back(rademacher());
  return out;
}

}  // namespace attncert
