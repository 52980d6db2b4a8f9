#include "proofs_checks/naive_attention_reference.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

#include "gpu/portable_exp.hpp"

namespace attncert {

namespace {
float round_to(gpu::DType t, float x) { return gpu::round_through(t, x); }
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
  std::vector<float> scores(static_cast<std::size_t>(Lk)), qs(static_cast<std::size_t>(d));
  for (std::ptrdiff_t i = 0; i < Lq; ++i) {
    const KeyRange range = keys.range(i, Lq, Lk);
    if (range.empty()) continue;
    const std::ptrdiff_t b = range.begin, n = range.size();
    for (std::ptrdiff_t c = 0; c < d; ++c) qs[c] = round_to(t, kernel_value(q(i, c)) * scale);
    std::fill(scores.begin(), scores.begin() + n, 0.0f);
    for (std::ptrdiff_t c = 0; c < d; ++c) {
      const float* column = kT.data() + c * Lk + b;
      for (std::ptrdiff_t j = 0; j < n; ++j) scores[j] += qs[c] * column[j];
    }
    float m = -std::numeric_limits<float>::infinity();
    for (std::ptrdiff_t j = 0; j < n; ++j) {
      float s = round_to(t, scores[j]);
      if (softcap) {
        s = round_to(t, s / *softcap);
        s = round_to(t, std::tanh(s));
        s = round_to(t, s * *softcap);
      }
      scores[j] = s;
      m = std::max(m, s);
    }
    float sum = 0.0f;
    for (std::ptrdiff_t j = 0; j < n; ++j) sum += (scores[j] = gpu::portable_expf(scores[j] - m));
    for (std::ptrdiff_t j = 0; j < n; ++j) scores[j] = round_to(t, scores[j] / sum);
    float* o = out.data() + i * dv;
    for (std::ptrdiff_t j = 0; j < n; ++j) {
      const float* vj = vr.data() + (b + j) * dv;
      for (std::ptrdiff_t c = 0; c < dv; ++c) o[c] += scores[j] * vj[c];
    }
    for (std::ptrdiff_t c = 0; c < dv; ++c) o[c] = round_to(t, o[c]);
  }
  return out;
}

double flash_rule_absolute_term(gpu::DType t, double reference) {
  const float r = round_to(t, static_cast<float>(reference));
  const float shifted = round_to(t, round_to(t, r + 0.3f) - 0.3f);
  return 2.0 * std::abs(static_cast<double>(shifted) - r);
}

}  // namespace attncert
