#include "proofs_checks/naive_attention_reference.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

#include "gpu/portable_exp.hpp"
#include "numerics/cpu_dispatch.hpp"

namespace attncert {

namespace {
float round_to(gpu::DType t, float x) { return gpu::round_through(t, x); }

/// The reference's rows, in blocks of kRows over the union of their key ranges, so each key
/// column and value row is read once per block rather than once per row; every row still sums
/// its scores over c in order and its outputs over keys in order (the same roundings as row by
/// row). Compiled per CPU level (cpu_dispatch.hpp) with -ffp-contract=off (CMake), so every
/// clone rounds alike: wider vectors and a hardware fma (portable_expf's explicit fmas) only.
ATTNCERT_CPU_CLONES void rows_in_blocks(const ConstMatrixView<double>& q, const float* kT,
                                        const float* vr, float* out_data, std::ptrdiff_t Lk,
                                        std::ptrdiff_t dv, gpu::DType t, float scale,
                                        const KeyVisibility& keys, std::optional<float> softcap) {
  const auto Lq = static_cast<std::ptrdiff_t>(q.rows()), d = static_cast<std::ptrdiff_t>(q.cols());
  auto kernel_value = [&](double x) { return round_to(t, static_cast<float>(x)); };
  float* out = out_data;
  constexpr std::ptrdiff_t kRows = 8;
  std::vector<float> scores(static_cast<std::size_t>(kRows * Lk)),
      qs(static_cast<std::size_t>(kRows * d));
  for (std::ptrdiff_t i0 = 0; i0 < Lq; i0 += kRows) {
    const std::ptrdiff_t rows = std::min(kRows, Lq - i0);
    KeyRange range[kRows];
    std::ptrdiff_t B = Lk, E = 0;
    for (std::ptrdiff_t r = 0; r < rows; ++r) {
      range[r] = keys.range(i0 + r, Lq, Lk);
      if (!range[r].empty()) B = std::min(B, range[r].begin), E = std::max(E, range[r].end);
    }
    if (E <= B) continue;  // every row of the block masked: outputs stay 0
    const std::ptrdiff_t n = E - B;
    for (std::ptrdiff_t r = 0; r < rows; ++r)
      for (std::ptrdiff_t c = 0; c < d; ++c)
        qs[r * d + c] = round_to(t, kernel_value(q(i0 + r, c)) * scale);
    std::fill(scores.begin(), scores.begin() + rows * n, 0.0f);
    for (std::ptrdiff_t c = 0; c < d; ++c) {
      const float* column = kT + c * Lk + B;
      for (std::ptrdiff_t r = 0; r < rows; ++r) {
        const float qc = qs[r * d + c];
        float* sr = scores.data() + r * n;
        for (std::ptrdiff_t j = 0; j < n; ++j) sr[j] += qc * column[j];
      }
    }
    for (std::ptrdiff_t r = 0; r < rows; ++r) {
      if (range[r].empty()) continue;
      float* sr = scores.data() + r * n + (range[r].begin - B);
      const std::ptrdiff_t nr = range[r].size();
      float m = -std::numeric_limits<float>::infinity();
      for (std::ptrdiff_t j = 0; j < nr; ++j) {
        float x = round_to(t, sr[j]);
        if (softcap) {
          x = round_to(t, x / *softcap);
          x = round_to(t, std::tanh(x));
          x = round_to(t, x * *softcap);
        }
        sr[j] = x;
        m = std::max(m, x);
      }
      float sum = 0.0f;
      for (std::ptrdiff_t j = 0; j < nr; ++j) sum += (sr[j] = gpu::portable_expf(sr[j] - m));
      for (std::ptrdiff_t j = 0; j < nr; ++j) sr[j] = round_to(t, sr[j] / sum);
    }
    for (std::ptrdiff_t j = B; j < E; ++j) {
      const float* vj = vr + j * dv;
      for (std::ptrdiff_t r = 0; r < rows; ++r) {
        if (!range[r].contains(j)) continue;
        const float p = scores[r * n + (j - B)];
        float* o = out + (i0 + r) * dv;
        for (std::ptrdiff_t c = 0; c < dv; ++c) o[c] += p * vj[c];
      }
    }
    for (std::ptrdiff_t r = 0; r < rows; ++r)
      if (!range[r].empty())
        for (std::ptrdiff_t c = 0; c < dv; ++c)
          out[(i0 + r) * dv + c] = round_to(t, out[(i0 + r) * dv + c]);
  }
}

}  // namespace

std::vector<float> naive_attention_reference(const ConstMatrixView<double>& q,
                                             const ConstMatrixView<double>& k,
                                             const ConstMatrixView<double>& v, gpu::DType t,
                                             float scale, const KeyVisibility& keys,
                                             std::optional<float> softcap) {
  const auto Lq = static_cast<std::ptrdiff_t>(q.rows()), Lk = static_cast<std::ptrdiff_t>(k.rows());
  const auto d = static_cast<std::ptrdiff_t>(q.cols()), dv = static_cast<std::ptrdiff_t>(v.cols());
  std::vector<float> out(static_cast<std::size_t>(Lq * dv), 0.0f);
  auto kernel_value = [&](double x) { return round_to(t, static_cast<float>(x)); };
  // Keys transposed (d×Lk) and values (Lk×dv) as the kernel reads them: each score still sums
  // over c in order, but the loop over keys is innermost and vectorises.
  std::vector<float> kT(static_cast<std::size_t>(d * Lk)), vr(static_cast<std::size_t>(Lk * dv));
  for (std::ptrdiff_t j = 0; j < Lk; ++j) {
    for (std::ptrdiff_t c = 0; c < d; ++c) kT[c * Lk + j] = kernel_value(k(j, c));
    for (std::ptrdiff_t c = 0; c < dv; ++c) vr[j * dv + c] = kernel_value(v(j, c));
  }
  rows_in_blocks(q, kT.data(), vr.data(), out.data(), Lk, dv, t, scale, keys, softcap);
  return out;
}

double flash_rule_absolute_term(gpu::DType t, double reference) {
  const float r = round_to(t, static_cast<float>(reference));
  const float shifted = round_to(t, round_to(t, r + 0.3f) - 0.3f);
  return 2.0 * std::abs(static_cast<double>(shifted) - r);
}

}  // namespace attncert
