#include "theory/spectral_quantities.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "numerics/certified_spectrum.hpp"
#include "numerics/rank_measures.hpp"
#include "numerics/softmax_attention.hpp"
#include "numerics/spectral.hpp"
#include "theory/quantities.hpp"

namespace attncert {
namespace {

template <class T>
RowMatrix<T> attention_matrix(const Instance& x, const TierContext<T>& ctx) {
  const char* which = x.has_array("X") ? "X" : x.has_array("K") ? "K" : nullptr;
  if (!which) throw std::invalid_argument("spectral quantities need tokens X (or keys K) in the instance");
  const RowMatrix<double>& z = x.array(which);
  if constexpr (!std::is_same_v<T, double>) {
    // Fitted to timings (see kMaxSpectralWork): the certified SVD grows about as L⁴ and the
    // p-bit arithmetic as p^1.25..1.4; the exponent 1.5 errs on the side of refusing.
    const double L = static_cast<double>(z.rows());
    const double work = L * L * L * L * std::pow(static_cast<double>(ctx.precision), 1.5);
    if (work > kMaxSpectralWork) {
      throw std::domain_error(fmt::format(
          "spectral quantities of a {}x{} attention matrix at {} bits: estimated work "
          "L^4*bits^1.5 = {:.2g} is above the cap {:.0e}; lower the precision or the length",
          z.rows(), z.rows(), ctx.precision, work, kMaxSpectralWork));
    }
  }
  const RowMatrix<T> Z = to_tier(z, ctx);
  SoftmaxAttentionOptions<T> o;
  using std::sqrt;
  o.scale = T(ctx.from(1.0) / sqrt(ctx.from(static_cast<double>(z.cols()))));
  o.temperature = instance_temperature(x, ctx);
  o.return_probabilities = true;
  if constexpr (!std::is_same_v<T, double>) o.precision_bits = ctx.precision;
  return softmax_attention<T>(Z, Z, Z, o).probabilities;
}

}  // namespace

template <>
double spectral_quantity<double>(SpectralQuantity which, const Instance& x,
                                 const TierContext<double>& ctx) {
  const RowMatrix<double> P = attention_matrix(x, ctx);
  if (which == SpectralQuantity::SpectralGap) return spectral_gap(P);
  const std::vector<double> s = singular_values(P);
  switch (which) {
    case SpectralQuantity::SigmaMin: return s.back();
    case SpectralQuantity::Rank:
      return static_cast<double>(numerical_rank(s, default_rank_tolerance(P.rows(), P.cols(), s.front())));
    case SpectralQuantity::EffectiveRank: return effective_rank(s);
    case SpectralQuantity::StableRank: return stable_rank(s);
    case SpectralQuantity::SpectralGap: break;
  }
  return spectral_gap(P);
}

template <>
Ball spectral_quantity<Ball>(SpectralQuantity which, const Instance& x, const TierContext<Ball>& ctx) {
  const RowMatrix<Ball> P = attention_matrix(x, ctx);
  if (which == SpectralQuantity::SpectralGap) {
    const CertifiedSpectralGap g = certified_spectral_gap(P, ctx.precision);
    if (g.status != SpectralGapStatus::Certified) {
      return Ball::interval(0, 2, ctx.precision);  // every possible gap: nothing certified
    }
    return g.gap;
  }
  const CertifiedSingularValues cs = certified_singular_values(P, ctx.precision);
  switch (which) {
    case SpectralQuantity::SigmaMin: return cs.singular_values.back();
    case SpectralQuantity::Rank: {
      const auto lo = static_cast<double>(certified_rank_lower_bound(cs.singular_values));
      return Ball::interval(lo, static_cast<double>(P.rows()), ctx.precision);
    }
    case SpectralQuantity::EffectiveRank: return certified_effective_rank(cs);
    case SpectralQuantity::StableRank:
    case SpectralQuantity::SpectralGap: break;
  }
  return certified_stable_rank(P, cs);
}

template <>
Mp spectral_quantity<Mp>(SpectralQuantity which, const Instance& x, const TierContext<Mp>& ctx) {
  if (which != SpectralQuantity::SigmaMin) {
    throw std::invalid_argument("Mp reference: only sigma_min among the spectral quantities");
  }
  const std::vector<Mp> s = mp_singular_values(attention_matrix(x, ctx), ctx.precision);
  return s.back();
}

}  // namespace attncert
