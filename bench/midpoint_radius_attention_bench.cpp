// The fast enclosure tier (midpoint_radius_attention) against the paths it sits between.
// A plain executable: every ratio is of two timings taken in the same run, interleaved
// (A, B, A, B, …), best of the repeats, one thread, inputs N(0,1), one head. Wall time and
// process CPU time are both printed: on a shared machine the CPU time is the steadier one.
//
//  (1) vs double: midpoint_radius_attention against softmax_attention<double> at
//      (Lq, Lk, d) = (4096, 4096, 128). Target: ratio ≤ 4. Also largest radius / max |O|
//      (target ≤ 1e-12).
//  (2) vs Arb: softmax_attention<Ball> at 256 bits (the certified truth check-kernel used)
//      at (512, 512, 128) and (1024, 1024, 128) against the enclosure at the same shape, and
//      the Ball time scaled by n²d to (4096, 4096, 128) against the enclosure measured there
//      (the Ball path at 4096 takes minutes). arb_mat_mul gets cheaper per entry as matrices
//      grow, so the scaling from 1024 is the more conservative figure. Target: ≥ 50×.
//  (3) --scaling: seqlen 1024 → 32768 at d = dv = 128, causal and not, a causal sliding window
//      of 256 keys, softcap 30: time per head and
//      the peak resident memory added by the call (getrusage ru_maxrss, which only grows;
//      sizes run in increasing order, inputs allocated before the measurement). No Lq × Lk
//      matrix is held: an n × n double matrix at 32768 would be 8 GiB.
//
// Usage: midpoint_radius_attention_bench [--scaling [--seqlen N]] [--repeats N]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "numerics/midpoint_radius_attention.hpp"
#include "numerics/rng.hpp"
#include "numerics/softmax_attention.hpp"

namespace attncert {
namespace {

using Index = std::ptrdiff_t;
using Clock = std::chrono::steady_clock;

/// Q, K, V of one head (n × d each), entries N(0,1) from one stream seeded by n.
struct Inputs {
  RowMatrix<double> Q, K, V;
  Inputs(Index n, Index d) : Q(n, d), K(n, d), V(n, d) {
    Rng rng(static_cast<std::uint64_t>(n));
    for (RowMatrix<double>* m : {&Q, &K, &V})
      for (double& x : std::span(m->data(), static_cast<std::size_t>(m->size()))) x = rng.normal();
  }
};

/// Process CPU time (user + system), which time-sharing with other processes does not inflate.
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

struct Timing {
  double wall = 1e300, cpu = 1e300;  // best of the repeats
};

template <class F>
void measure(Timing& t, F&& f) {
  const auto t0 = Clock::now();
  const double c0 = cpu_seconds();
  f();
  t.cpu = std::min(t.cpu, cpu_seconds() - c0);
  t.wall = std::min(t.wall, std::chrono::duration<double>(Clock::now() - t0).count());
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
  Timing enc, dbl;
  double rel = 0;
  for (int r = 0; r < repeats; ++r) {
    measure(enc,
            [&] { rel = midpoint_radius_attention(in.Q, in.K, in.V).largest_relative_radius(); });
    measure(dbl, [&] { softmax_attention<double>(in.Q, in.K, in.V); });
  }
  std::printf(
      "(1) (Lq, Lk, d) = (%td, %td, %td): enclosure %.3f s (cpu %.3f), double %.3f s "
      "(cpu %.3f): ratio %.2f (cpu %.2f; target <= 4); largest radius / max|O| = %.3g "
      "(target <= 1e-12)\n",
      n, n, d, enc.wall, enc.cpu, dbl.wall, dbl.cpu, enc.wall / dbl.wall, enc.cpu / dbl.cpu, rel);
}

void versus_ball(int repeats) {
  const Index big = 4096, d = 128;
  const Inputs b(big, d);
  for (Index small : {Index{512}, Index{1024}}) {
    const Inputs s(small, d);
    const RowMatrix<Ball> Qb = to_ball(s.Q), Kb = to_ball(s.K), Vb = to_ball(s.V);
    SoftmaxAttentionOptions<Ball> o;
    o.precision_bits = 256;
    Timing ball, enc_small, enc_big;
    for (int r = 0; r < std::max(1, repeats / 2); ++r) {
      measure(ball, [&] { softmax_attention<Ball>(Qb, Kb, Vb, o); });
      measure(enc_small, [&] { midpoint_radius_attention(s.Q, s.K, s.V); });
      measure(enc_big, [&] { midpoint_radius_attention(b.Q, b.K, b.V); });
    }
    const double scale = static_cast<double>(big) * big / (static_cast<double>(small) * small);
    std::printf(
        "(2) Ball 256 bits at (%td, %td, %td): %.3f s (cpu %.3f); enclosure there %.4f s "
        "(cpu %.4f): %.0fx faster (cpu %.0fx)\n"
        "    Ball scaled by n^2 d from there to (%td, %td, %td): %.1f s; enclosure measured "
        "there %.3f s: %.0fx faster (cpu %.0fx; target >= 50)\n",
        small, small, d, ball.wall, ball.cpu, enc_small.wall, enc_small.cpu,
        ball.wall / enc_small.wall, ball.cpu / enc_small.cpu, big, big, d, ball.wall * scale,
        enc_big.wall, ball.wall * scale / enc_big.wall, ball.cpu * scale / enc_big.cpu);
  }
}

void scaling(Index only_n) {
  const Index d = 128;
  std::printf("(3) scaling at d = dv = 128, one head (time, peak RSS added by the call):\n");
  for (Index n = 1024; n <= 32768; n *= 2) {
    if (only_n != 0 && n != only_n) continue;
    const Inputs in(n, d);
    for (const char* variant : {"non-causal", "causal", "window-256", "softcap-30"}) {
      const std::string v = variant;
      MidpointRadiusOptions o;
      if (v != "non-causal" && v != "softcap-30") o.keys = KeyVisibility::causal_mask();
      if (v == "window-256") o.keys.window_left = 255;  // causal, 256 keys per row (Mistral)
      if (v == "softcap-30") o.softcap = 30.0;          // Gemma 2's attention cap is 50
      const long before = max_rss_kib();
      double rel = 0;
      Timing t;
      measure(t, [&] {
        rel = midpoint_radius_attention(in.Q, in.K, in.V, o).largest_relative_radius();
      });
      const long after = max_rss_kib();
      std::printf(
          "    n = %5td %-10s %8.3f s (cpu %8.3f)  peak +%7.1f MiB  (n x n doubles: "
          "%8.1f MiB)  rad/max|O| %.2g\n",
          n, variant, t.wall, t.cpu, (after - before) / 1024.0,
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
  std::ptrdiff_t only_n = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--scaling") == 0) {
      run_scaling = true;
    } else if (std::strcmp(argv[i], "--seqlen") == 0 && i + 1 < argc) {
      only_n = std::atol(argv[++i]);
    } else if (std::strcmp(argv[i], "--repeats") == 0 && i + 1 < argc) {
      repeats = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: %s [--scaling [--seqlen N]] [--repeats N]\n", argv[0]);
      return 2;
    }
  }
  if (run_scaling) {
    attncert::scaling(only_n);
    return 0;
  }
  attncert::versus_double(repeats);
  attncert::versus_ball(repeats);
  return 0;
}
