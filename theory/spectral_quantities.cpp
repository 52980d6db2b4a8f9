#include "theory/spectral_quantities.hpp"

#include <cmath>
#include <stdexcept>

#include "numerics/certified_spectrum.hpp"
#include "numerics/rank_measures.hpp"
#include "numerics/softmax_attention.hpp"
#include "numerics/spectral.hpp"
#include "theory/quantities.hpp"

namespace attncert {
namespace {

bool is_spectral(std::string_view n) {
  return n == "sigma_min" || n == "rank" || n == "effective_rank" || n == "stable_rank" ||
         n == "spectral_gap";
}

template <class T>
RowMatrix<T> attention_matrix(const Instance& x, const TierContext<T>& ctx) {
  const char* which = x.has_array("X") ? "X" : x.has_array("K") ? "K" : nullptr;
  if (!which) throw std::invalid_argument("spectral quantities need tokens X (or keys K) in the instance");
  const RowMatrix<double>& z = x.array(which);
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
std::optional<double> spectral_quantity<double>(std::string_view name, const Instance& x,
                                                const TierContext<double>& ctx) {
  if (!is_spectral(name)) return std::nullopt;
  const RowMatrix<double> P = attention_matrix(x, ctx);
  if (name == "spectral_gap") return spectral_gap(P);
  const std::vector<double> s = singular_values(P);
  if (name == "sigma_min") return s.back();
  if (name == "rank") {
    return static_cast<double>(numerical_rank(s, default_rank_tolerance(P.rows(), P.cols(), s.front())));
  }
  if (name == "effective_rank") return effective_rank(s);
  return stable_rank(s);
}

template <>
std::optional<Ball> spectral_quantity<Ball>(std::string_view name, const Instance& x,
                                            const TierContext<Ball>& ctx) {
  if (!is_spectral(name)) return std::nullopt;
  const RowMatrix<Ball> P = attention_matrix(x, ctx);
  if (name == "spectral_gap") {
    const CertifiedSpectralGap g = certified_spectral_gap(P, ctx.precision);
    if (g.status != SpectralGapStatus::Certified) {
      return Ball::interval(0, 2, ctx.precision);  // every possible gap: nothing certified
    }
    return g.gap;
  }
  const CertifiedSingularValues cs = certified_singular_values(P, ctx.precision);
  if (name == "sigma_min") return cs.singular_values.back();
  if (name == "rank") {
    const auto lo = static_cast<double>(certified_rank_lower_bound(cs.singular_values));
    return Ball::interval(lo, static_cast<double>(P.rows()), ctx.precision);
  }
  if (name == "effective_rank") return certified_effective_rank(cs);
  return certified_stable_rank(P, cs);
}

template <>
std::optional<Mp> spectral_quantity<Mp>(std::string_view name, const Instance& x,
                                        const TierContext<Mp>& ctx) {
  if (!is_spectral(name)) return std::nullopt;
  if (name != "sigma_min") {
    throw std::invalid_argument("Mp reference: only sigma_min among the spectral quantities");
  }
  const std::vector<Mp> s = mp_singular_values(attention_matrix(x, ctx), ctx.precision);
  return s.back();
}

}  // namespace attncert
