// The fast enclosure tier (midpoint_radius_attention) against the paths it sits between.
// A plain executable: every ratio is of two timings taken in the same run, interleaved
// (A, B, A, B, …), best of the repeats, one thread, inputs N(0,1), one head.
//
//  (1) vs double: midpoint_radius_attention against softmax_attention<double> at
//      (Lq, Lk, d) = (4096, 4096, 128). Target: ratio ≤ 4. Also largest radius / max |O|
//      (target ≤ 1e-12).
//  (2) vs Arb: softmax_attention<Ball> at 256 bits (the certified truth check-kernel used)
//      at (512, 512, 128) against the enclosure at the same shape, and the Ball time scaled
//      by n²d to (4096, 4096, 128) against the enclosure measured there (the Ball path at
//      4096 takes minutes). Target: ≥ 50×.
//  (3) --scaling: seqlen 1024 → 32768 at d = dv = 128, causal and not: time per head and
//      the peak resident memory added by the call (getrusage ru_maxrss, which only grows;
//      sizes run in increasing order, inputs allocated before the measurement). No Lq × Lk
//      matrix is held: an n × n double matrix at 32768 would be 8 GiB.
//
// Usage: midpoint_radius_attention_bench [--scaling] [--repeats N]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "numerics/midpoint_radius_attention.hpp"
#include "numerics/rng.hpp"
#include "numerics/softmax_attention.hpp"

namespace attncert {
namespace {

using Index = std::ptrdiff_t;
using Clock = std::chrono::steady_clock;

RowMatrix<double> random_matrix(std::uint64_t seed, Index rows, Index cols) {
  Rng rng(seed);
  RowMatrix<double> m(rows, cols);
  for (Index i = 0; i < rows; ++i)
    for (Index j = 0; j < cols; ++j) m(i, j) = rng.normal();
  return m;
}

struct Inputs {
  RowMatrix<double> Q, K, V;
  Inputs(Index n, Index d) : Q(random_matrix(1, n, d)), K(random_matrix(2, n, d)), V(random_matrix(3, n, d)) {}
};

template <class F>
double seconds(F&& f) {
  const auto t0 = Clock::now();
  f();
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

long max_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

RowMatrix<Ball> to_ball(const RowMatrix<double>& m) {
  RowMatrix<Ball> r(m.rows(), m.cols());
  for (Index i = 0; i < m.rows(); ++i)
    for (Index j = 0; j < m.cols(); ++j) r(i, j) = Ball(m(i, j));
  return r;
}

void versus_double(int repeats) {
  const Index n = 4096, d = 128;
  const Inputs in(n, d);
  double best_enc = 1e300, best_dbl = 1e300, rel = 0;
  for (int r = 0; r < repeats; ++r) {
    best_enc = std::min(best_enc, seconds([&] {
      rel = midpoint_radius_attention(in.Q, in.K, in.V).largest_relative_radius();
    }));
    best_dbl = std::min(best_dbl, seconds([&] { softmax_attention<double>(in.Q, in.K, in.V); }));
  }
  std::printf("(1) (Lq, Lk, d) = (%td, %td, %td): enclosure %.3f s, double %.3f s, ratio %.2f "
              "(target <= 4); largest radius / max|O| = %.3g (target <= 1e-12)\n",
              n, n, d, best_enc, best_dbl, best_enc / best_dbl, rel);
}

void versus_ball(int repeats) {
  const Index small = 512, big = 4096, d = 128;
  const Inputs s(small, d), b(big, d);
  const RowMatrix<Ball> Qb = to_ball(s.Q), Kb = to_ball(s.K), Vb = to_ball(s.V);
  SoftmaxAttentionOptions<Ball> o;
  o.precision_bits = 256;
  double best_ball = 1e300, best_enc_small = 1e300, best_enc_big = 1e300;
  for (int r = 0; r < std::max(1, repeats / 2); ++r) {
    best_ball = std::min(best_ball, seconds([&] { softmax_attention<Ball>(Qb, Kb, Vb, o); }));
    best_enc_small =
        std::min(best_enc_small, seconds([&] { midpoint_radius_attention(s.Q, s.K, s.V); }));
    best_enc_big =
        std::min(best_enc_big, seconds([&] { midpoint_radius_attention(b.Q, b.K, b.V); }));
  }
  const double scale = static_cast<double>(big) * big / (static_cast<double>(small) * small);
  std::printf("(2) Ball 256 bits at (%td, %td, %td): %.3f s; enclosure there %.4f s: %.0fx faster\n"
              "    Ball scaled by n^2 d to (%td, %td, %td): %.1f s; enclosure measured there "
              "%.3f s: %.0fx faster (target >= 50)\n",
              small, small, d, best_ball, best_enc_small, best_ball / best_enc_small, big, big, d,
              best_ball * scale, best_enc_big, best_ball * scale / best_enc_big);
}

void scaling() {
  const Index d = 128;
  std::printf("(3) scaling at d = dv = 128, one head (time, peak RSS added by the call):\n");
  for (Index n = 1024; n <= 32768; n *= 2) {
    const Inputs in(n, d);
    for (bool causal : {false, true}) {
      MidpointRadiusOptions o;
      o.causal = causal;
      const long before = max_rss_kib();
      double rel = 0;
      const double t =
          seconds([&] { rel = midpoint_radius_attention(in.Q, in.K, in.V, o).largest_relative_radius(); });
      const long after = max_rss_kib();
      std::printf("    n = %5td %-10s %8.3f s  peak +%7.1f MiB  (n x n doubles: %8.1f MiB)  "
                  "rad/max|O| %.2g\n",
                  n, causal ? "causal" : "non-causal", t, (after - before) / 1024.0,
                  static_cast<double>(n) * n * 8 / (1 << 20), rel);
      std::fflush(stdout);
    }
  }
}

}  // namespace
}  // namespace attncert

int main(int argc, char** argv) {
  bool run_scaling = false;
  int repeats = 3;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--scaling") == 0) {
      run_scaling = true;
    } else if (std::strcmp(argv[i], "--repeats") == 0 && i + 1 < argc) {
      repeats = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: %s [--scaling] [--repeats N]\n", argv[0]);
      return 2;
    }
  }
  if (run_scaling) {
    attncert::scaling();
    return 0;
  }
  attncert::versus_double(repeats);
  attncert::versus_ball(repeats);
  return 0;
}
