// Certified singular values of a 128×128 softmax attention matrix at 128 bits.
//
// Reported, all from the same run:
//  - BM_CertifiedSingularValues: the whole certified_singular_values (Mp BDCSVD of the
//    midpoints + Ball residual bound), with counters for the Mp SVD alone (mp_svd_s), the
//    certification step alone (certify_s), both in thread CPU seconds, and the ratio
//    total / Mp SVD — the price of the certificate on top of the reference decomposition;
//  - the largest enclosure radius, absolute and relative to σ₁, and the certified rank;
//  - BM_CertifiedSpectralGap: certified eigenvalues of P and its gap 1 − |λ₂|;
//  - BM_DoubleSvd: Eigen BDCSVD in double on the midpoints, for scale.
// P = softmax(QKᵀ/√d) with Q, K 128×32 standard normal (seeded), enclosed by
// softmax_attention<Ball> at 128 bits; the enclosure of P is not part of the timing.
// Single-threaded (FLINT's default of one thread).
#include <benchmark/benchmark.h>

#include <time.h>

#include "numerics/certified_spectrum.hpp"
#include "numerics/rank_measures.hpp"
#include "numerics/rng.hpp"
#include "numerics/softmax_attention.hpp"
#include "numerics/spectral.hpp"
#include "numerics/tier_conversions.hpp"

namespace attncert {
namespace {

using Index = Eigen::Index;
constexpr Index kN = 128, kD = 32;
constexpr long kBits = 128;
constexpr std::uint64_t kSeed = 2024;

const RowMatrix<Ball>& attention_matrix() {
  static const RowMatrix<Ball> P = [] {
    Rng rng(kSeed);
    RowMatrix<Ball> Q(kN, kD), K(kN, kD), V(kN, 1);
    for (Index i = 0; i < kN; ++i)
      for (Index j = 0; j < kD; ++j) Q(i, j) = Ball(rng.normal());
    for (Index i = 0; i < kN; ++i)
      for (Index j = 0; j < kD; ++j) K(i, j) = Ball(rng.normal());
    for (Index i = 0; i < kN; ++i) V(i, 0) = Ball(0);
    SoftmaxAttentionOptions<Ball> options;
    options.return_probabilities = true;
    options.precision_bits = kBits;
    return softmax_attention<Ball>(Q, K, V, options).probabilities;
  }();
  return P;
}

// Thread CPU time: the machine may be shared (CI: 2 cores), and CPU time of this single-threaded
// computation is what the ratio should compare.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

void BM_CertifiedSingularValues(benchmark::State& state) {
  const RowMatrix<Ball>& P = attention_matrix();
  RowMatrix<Mp> mid(kN, kN);
  for (Index i = 0; i < kN; ++i)
    for (Index j = 0; j < kN; ++j) mid(i, j) = midpoint_mp(P(i, j));
  double mp_total = 0, certify_total = 0, max_radius = 0, sigma1 = 0, sigma_min = 0;
  Index rank = 0;
  for (auto _ : state) {
    // Exactly what certified_singular_values does, with a timer between the two steps.
    const double t0 = thread_cpu_seconds();
    const MpSvd svd = mp_svd(mid, kBits);
    const double t1 = thread_cpu_seconds();
    const CertifiedSingularValues cs = certify_singular_values(P, svd, kBits);
    const double t2 = thread_cpu_seconds();
    mp_total += t1 - t0;
    certify_total += t2 - t1;
    benchmark::DoNotOptimize(cs.singular_values.data());
    max_radius = cs.max_radius();
    sigma1 = cs.singular_values.front().mid();
    sigma_min = cs.singular_values.back().mid();
    rank = certified_rank_lower_bound(cs.singular_values);
  }
  const double it = static_cast<double>(state.iterations());
  state.counters["mp_svd_s"] = mp_total / it;
  state.counters["certify_s"] = certify_total / it;
  state.counters["total_over_mp_svd"] = (mp_total + certify_total) / mp_total;
  state.counters["max_radius"] = max_radius;
  state.counters["max_radius_over_sigma1"] = max_radius / sigma1;
  state.counters["sigma_min"] = sigma_min;
  state.counters["certified_rank"] = static_cast<double>(rank);
}
BENCHMARK(BM_CertifiedSingularValues)->Unit(benchmark::kSecond)->Iterations(2)->MeasureProcessCPUTime();

// Certified eigenvalues and spectral gap of the same P (acb_mat_approx_eig_qr + eig_simple).
void BM_CertifiedSpectralGap(benchmark::State& state) {
  const RowMatrix<Ball>& P = attention_matrix();
  double gap = 0, gap_radius = 0, certified = 0;
  for (auto _ : state) {
    const CertifiedSpectralGap g = certified_spectral_gap(P, kBits);
    certified = g.status == SpectralGapStatus::Certified ? 1.0 : 0.0;
    gap = g.gap.mid();
    gap_radius = g.gap.radius();
  }
  state.counters["gap_certified"] = certified;
  state.counters["gap"] = gap;
  state.counters["gap_radius"] = gap_radius;
}
BENCHMARK(BM_CertifiedSpectralGap)->Unit(benchmark::kSecond)->Iterations(1)->MeasureProcessCPUTime();

void BM_DoubleSvd(benchmark::State& state) {
  const RowMatrix<Ball>& P = attention_matrix();
  RowMatrix<double> mid(kN, kN);
  for (Index i = 0; i < kN; ++i)
    for (Index j = 0; j < kN; ++j) mid(i, j) = P(i, j).mid();
  for (auto _ : state) benchmark::DoNotOptimize(singular_values(mid).data());
}
BENCHMARK(BM_DoubleSvd)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace attncert

BENCHMARK_MAIN();
