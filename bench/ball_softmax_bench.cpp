// Ball softmax (L = 4096, 256 bits) against a hand-written loop of raw Arb calls doing the same
// arithmetic (shift by the largest midpoint, x = (l − m)·(1/T) with guard bits, exp, arb_dot
// sum, division), measured in the same run. Target: ratio Ball / raw <= 1.3.
// Also Mp softmax vs Ball softmax at the same precision (reported only).
//
// The `ratio` counters come from BM_BallOverRawArb / BM_MpOverBall, which time both
// implementations alternately inside one benchmark loop (same cache and frequency state),
// in thread CPU time.
// Run: build/bench/ball_softmax_bench [--benchmark_repetitions=5]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <ctime>
#include <cmath>
#include <random>
#include <vector>

#include "numerics/ball.hpp"
#include "numerics/mp.hpp"
#include "numerics/softmax.hpp"

namespace {

using attncert::Ball;
using attncert::Mp;

constexpr std::size_t kLength = 4096;
constexpr long kPrec = 256;
constexpr double kTemperature = 0.7;

std::vector<double> make_logits() {
  std::mt19937_64 rng(12345);  // fixed: the same input every run
  std::uniform_real_distribution<double> dist(-8.0, 8.0);
  std::vector<double> v(kLength);
  for (double& x : v) x = dist(rng);
  return v;
}

/// The same algorithm as softmax<Ball>, written directly against Arb with arb_t arrays.
class RawArbSoftmax {
 public:
  explicit RawArbSoftmax(const std::vector<double>& logits)
      : n_(static_cast<slong>(logits.size())), logits_(_arb_vec_init(n_)) {
    for (slong i = 0; i < n_; ++i) arb_set_d(logits_ + i, logits[static_cast<std::size_t>(i)]);
    arb_init(t_);
    arb_set_d(t_, kTemperature);
    arb_init(inv_t_);
    arb_init(sum_);
    arb_init(one_);
    arb_one(one_);
  }
  ~RawArbSoftmax() {
    _arb_vec_clear(logits_, n_);
    arb_clear(t_);
    arb_clear(inv_t_);
    arb_clear(sum_);
    arb_clear(one_);
  }
  RawArbSoftmax(const RawArbSoftmax&) = delete;
  RawArbSoftmax& operator=(const RawArbSoftmax&) = delete;

  /// Returns a freshly allocated result (as softmax<Ball> does); the caller clears it.
  arb_ptr run() {
    const arf_struct* m = arb_midref(logits_);
    const arf_struct* lo = m;
    for (slong i = 1; i < n_; ++i) {
      if (arf_cmp(arb_midref(logits_ + i), m) > 0) m = arb_midref(logits_ + i);
      if (arf_cmp(arb_midref(logits_ + i), lo) < 0) lo = arb_midref(logits_ + i);
    }
    const double ratio = (arf_get_d(m, ARF_RND_UP) - arf_get_d(lo, ARF_RND_DOWN)) /
                         arf_get_d(arb_midref(t_), ARF_RND_DOWN);
    const long guard = ratio > 1.0 ? static_cast<long>(std::ceil(std::log2(ratio))) + 2 : 2;
    const long arg_prec = kPrec + guard;
    arb_ptr e = _arb_vec_init(n_);
    arb_inv(inv_t_, t_, arg_prec);
    for (slong i = 0; i < n_; ++i) {
      arb_sub_arf(e + i, logits_ + i, m, arg_prec);
      arb_mul(e + i, e + i, inv_t_, arg_prec);
      arb_exp(e + i, e + i, kPrec);
    }
    arb_dot(sum_, nullptr, 0, e, 1, one_, 0, n_, kPrec);
    for (slong i = 0; i < n_; ++i) arb_div(e + i, e + i, sum_, kPrec);
    return e;
  }
  slong size() const { return n_; }

 private:
  slong n_;
  arb_ptr logits_;
  arb_t t_, inv_t_, sum_, one_;
};

struct Inputs {
  std::vector<double> doubles = make_logits();
  std::vector<Ball> balls;
  std::vector<Mp> mps;
  Ball t{kTemperature, kPrec};
  Mp t_mp = attncert::mp_from_double(kTemperature, kPrec);
  Inputs() {
    for (double x : doubles) {
      balls.emplace_back(x, kPrec);
      mps.push_back(attncert::mp_from_double(x, kPrec));
    }
  }
};

const Inputs& inputs() {
  static const Inputs in;
  return in;
}

void BM_BallSoftmax(benchmark::State& state) {
  const Inputs& in = inputs();
  for (auto _ : state) {
    std::vector<Ball> a = attncert::softmax<Ball>(in.balls, in.t);
    benchmark::DoNotOptimize(a.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kLength));
}

void BM_RawArbSoftmax(benchmark::State& state) {
  RawArbSoftmax raw(inputs().doubles);
  for (auto _ : state) {
    arb_ptr a = raw.run();
    benchmark::DoNotOptimize(a);
    _arb_vec_clear(a, raw.size());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kLength));
}

void BM_MpSoftmax(benchmark::State& state) {
  const Inputs& in = inputs();
  for (auto _ : state) {
    std::vector<Mp> a = attncert::softmax<Mp>(in.mps, in.t_mp);
    benchmark::DoNotOptimize(a.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kLength));
}

/// Thread CPU seconds of fn(): robust to other processes sharing the machine (wall time is
/// not, on a loaded 2-core box).
template <class Fn>
double seconds(Fn&& fn) {
  timespec a{}, b{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
  fn();
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
  return static_cast<double>(b.tv_sec - a.tv_sec) + 1e-9 * static_cast<double>(b.tv_nsec - a.tv_nsec);
}

/// Times Ball and raw Arb alternately; counter `ratio` = Ball time / raw time.
void BM_BallOverRawArb(benchmark::State& state) {
  const Inputs& in = inputs();
  RawArbSoftmax raw(in.doubles);
  double ball_s = 0, raw_s = 0;
  for (auto _ : state) {
    ball_s += seconds([&] {
      std::vector<Ball> a = attncert::softmax<Ball>(in.balls, in.t);
      benchmark::DoNotOptimize(a.data());
    });
    raw_s += seconds([&] {
      arb_ptr a = raw.run();
      benchmark::DoNotOptimize(a);
      _arb_vec_clear(a, raw.size());
    });
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["ball_us"] = 1e6 * ball_s / n;
  state.counters["raw_arb_us"] = 1e6 * raw_s / n;
  state.counters["ratio"] = ball_s / raw_s;
}

/// Times Mp and Ball alternately at the same precision; counter `ratio` = Mp time / Ball time.
void BM_MpOverBall(benchmark::State& state) {
  const Inputs& in = inputs();
  double mp_s = 0, ball_s = 0;
  for (auto _ : state) {
    mp_s += seconds([&] {
      std::vector<Mp> a = attncert::softmax<Mp>(in.mps, in.t_mp);
      benchmark::DoNotOptimize(a.data());
    });
    ball_s += seconds([&] {
      std::vector<Ball> a = attncert::softmax<Ball>(in.balls, in.t);
      benchmark::DoNotOptimize(a.data());
    });
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["mp_us"] = 1e6 * mp_s / n;
  state.counters["ball_us"] = 1e6 * ball_s / n;
  state.counters["ratio"] = mp_s / ball_s;
}

BENCHMARK(BM_BallSoftmax)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RawArbSoftmax)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MpSoftmax)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_BallOverRawArb)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MpOverBall)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
