// Feature maps of linear attention in every tier (see feature_maps.hpp for the formulas).
#include "numerics/feature_maps.hpp"

#include <flint/fmpq.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <optional>
#include <stdexcept>

#include "numerics/arb_handles.hpp"
#include "numerics/ball.hpp"
#include "numerics/mp.hpp"
#include "numerics/rng.hpp"
#include "numerics/scalar_traits.hpp"
#include "numerics/tier_scope.hpp"

namespace attncert {
namespace {

using Index = Eigen::Index;

// --- per-tier primitives ------------------------------------------------------------------

template <class T>
void require_finite(const ConstMatrixRef<T>& x, const char* what) {
  for (Index i = 0; i < x.rows(); ++i) {
    for (Index j = 0; j < x.cols(); ++j) {
      if (!ScalarTraits<T>::is_finite(x(i, j))) {
        throw std::domain_error(fmt::format(
            "{}: entry ({}, {}) is not finite (NaN or ±inf); inputs must be finite reals", what,
            i, j));
      }
    }
  }
}

long ball_precision_of(const ConstMatrixRef<Ball>& x) {
  long p = Ball::kExact;
  for (Index i = 0; i < x.rows(); ++i) {
    for (Index j = 0; j < x.cols(); ++j) p = std::max(p, x(i, j).precision());
  }
  return p;
}

// A constant in the tier, carrying the working precision of the inputs (Ball) so that √, ÷
// and exp of it are defined.
template <class T>
T constant(double v, const ConstMatrixRef<T>&) {
  return static_cast<T>(v);
}
template <>
Ball constant<Ball>(double v, const ConstMatrixRef<Ball>& x) {
  return Ball(v, ball_precision_of(x));
}

template <class T>
T relu_value(const T& x) {
  return x > T(0) ? x : T(0);
}
template <>
Ball relu_value<Ball>(const Ball& x) {
  return max(x, Ball(0));
}

template <class T>
T elu_plus_one_value(const T& x) {
  using std::exp;
  return x > T(0) ? T(x + T(1)) : T(exp(x));
}
// elu+1 is continuous and increasing, so [f(lower), f(upper)] encloses the image of a ball
// that straddles 0.
template <>
Ball elu_plus_one_value<Ball>(const Ball& x) {
  if (certainly(x > 0)) return x + Ball(1);
  if (certainly(x <= 0)) return exp(x);
  const long p = std::max(x.precision(), 64L);
  return hull(exp(Ball(x.lower(), p)), Ball(x.upper(), p) + Ball(1));
}

// (cos(π p / (2M)), sin(π p / (2M))) in the tier.
template <class T>
std::pair<T, T> cos_sin_quarter_turn(Index p, Index horizon, const ConstMatrixRef<T>&) {
  const double angle = std::numbers::pi * static_cast<double>(p) / (2.0 * static_cast<double>(horizon));
  return {static_cast<T>(std::cos(angle)), static_cast<T>(std::sin(angle))};
}
template <>
std::pair<Mp, Mp> cos_sin_quarter_turn<Mp>(Index p, Index horizon, const ConstMatrixRef<Mp>&) {
  Mp pi;
  mpfr_const_pi(pi.backend().data(), MPFR_RNDN);
  const Mp angle = pi * Mp(static_cast<long>(p)) / Mp(2 * static_cast<long>(horizon));
  return {cos(angle), sin(angle)};
}
template <>
std::pair<Ball, Ball> cos_sin_quarter_turn<Ball>(Index p, Index horizon,
                                                 const ConstMatrixRef<Ball>& x) {
  const long prec = ball_precision_of(x);
  if (prec == Ball::kExact) {
    throw std::domain_error(
        "cosFormer features: exact Ball inputs carry no working precision for cos/sin; give "
        "the inputs a precision (e.g. Ball(x, 128))");
  }
  Ball c = Ball(0, prec), s = Ball(0, prec);
  arb_handles::FmpqHandle ratio;
  fmpq_set_si(ratio, static_cast<slong>(p), static_cast<ulong>(2 * horizon));
  arb_sin_cos_pi_fmpq(s.arb(), c.arb(), ratio, prec);
  return {c, s};
}

// Orthonormalises the rows of g in place (modified Gram–Schmidt, applied twice for stability).
void gram_schmidt_rows(RowMatrix<double>& g) {
  for (Index i = 0; i < g.rows(); ++i) {
    for (int pass = 0; pass < 2; ++pass) {
      for (Index k = 0; k < i; ++k) g.row(i) -= g.row(i).dot(g.row(k)) * g.row(k);
    }
    const double n = g.row(i).norm();
    if (!(n > 0.0)) throw std::runtime_error("performer: degenerate Gaussian block");
    g.row(i) /= n;
  }
}

}  // namespace

std::string to_string(FeatureMapKind kind) {
  switch (kind) {
    case FeatureMapKind::Identity: return "identity";
    case FeatureMapKind::Relu: return "relu";
    case FeatureMapKind::EluPlusOne: return "elu+1";
    case FeatureMapKind::Taylor2: return "taylor2";
    case FeatureMapKind::Performer: return "performer";
    case FeatureMapKind::CosFormer: return "cosformer";
  }
  return "unknown";
}

RowMatrix<double> performer_directions(Index input_dim, Index num_features, std::uint64_t seed,
                                       bool orthogonal) {
  if (input_dim < 1) {
    throw std::invalid_argument(
        fmt::format("performer: input dimension d = {}, must be >= 1", input_dim));
  }
  if (num_features < 1) {
    throw std::invalid_argument(
        fmt::format("performer: number of random features m = {}, must be >= 1", num_features));
  }
  Rng rng(seed);
  RowMatrix<double> omega(num_features, input_dim);
  if (!orthogonal) {
    for (Index i = 0; i < num_features; ++i) {
      for (Index a = 0; a < input_dim; ++a) omega(i, a) = rng.normal();
    }
    return omega;
  }
  // Blocks of d orthogonal rows; each row gets the length of an independent N(0, I_d) draw.
  for (Index start = 0; start < num_features; start += input_dim) {
    RowMatrix<double> block(input_dim, input_dim);
    for (Index i = 0; i < input_dim; ++i) {
      for (Index a = 0; a < input_dim; ++a) block(i, a) = rng.normal();
    }
    gram_schmidt_rows(block);
    const Index rows = std::min(input_dim, num_features - start);
    for (Index i = 0; i < input_dim; ++i) {
      double sq = 0.0;
      for (Index a = 0; a < input_dim; ++a) {
        const double z = rng.normal();
        sq += z * z;
      }
      if (i < rows) omega.row(start + i) = std::sqrt(sq) * block.row(i);
    }
  }
  return omega;
}

FeatureMap FeatureMap::identity() { return FeatureMap(FeatureMapKind::Identity); }
FeatureMap FeatureMap::relu() { return FeatureMap(FeatureMapKind::Relu); }
FeatureMap FeatureMap::elu_plus_one() { return FeatureMap(FeatureMapKind::EluPlusOne); }
FeatureMap FeatureMap::taylor2() { return FeatureMap(FeatureMapKind::Taylor2); }

FeatureMap FeatureMap::performer(Index input_dim, Index num_features, std::uint64_t seed,
                                 bool orthogonal) {
  FeatureMap map(FeatureMapKind::Performer);
  map.omega_ = ::attncert::performer_directions(input_dim, num_features, seed, orthogonal);
  map.input_dim_ = input_dim;
  map.seed_ = seed;
  map.orthogonal_ = orthogonal;
  return map;
}

FeatureMap FeatureMap::cosformer(Index horizon) {
  if (horizon < 0) {
    throw std::invalid_argument(
        fmt::format("cosformer: horizon M = {}, must be >= 1 (or 0 for the call's length)",
                    horizon));
  }
  FeatureMap map(FeatureMapKind::CosFormer);
  map.horizon_ = horizon;
  return map;
}

FeatureMap FeatureMap::with_default_horizon(Index total_length) const {
  FeatureMap copy = *this;
  if (kind_ == FeatureMapKind::CosFormer && horizon_ == 0) copy.horizon_ = total_length;
  return copy;
}

std::string FeatureMap::name() const {
  switch (kind_) {
    case FeatureMapKind::Performer:
      return fmt::format("performer(m={}, seed={}{})", omega_.rows(), seed_,
                         orthogonal_ ? ", orthogonal" : "");
    case FeatureMapKind::CosFormer:
      return horizon_ == 0 ? std::string("cosformer(M=length)")
                           : fmt::format("cosformer(M={})", horizon_);
    default: return to_string(kind_);
  }
}

Index FeatureMap::feature_dim(Index d) const {
  switch (kind_) {
    case FeatureMapKind::Taylor2: return 1 + d + d * (d + 1) / 2;
    case FeatureMapKind::Performer: return omega_.rows();
    case FeatureMapKind::CosFormer: return 2 * d;
    default: return d;
  }
}

template <class T>
RowMatrix<T> FeatureMap::query_features(const ConstMatrixRef<T>& x, Index first_position) const {
  return features<T>(x, first_position, true);
}

template <class T>
RowMatrix<T> FeatureMap::key_features(const ConstMatrixRef<T>& x, Index first_position) const {
  return features<T>(x, first_position, false);
}

template <class T>
RowMatrix<T> FeatureMap::features(const ConstMatrixRef<T>& x, Index p0, bool is_query) const {
  const Index L = x.rows(), d = x.cols();
  if (d < 1) throw std::invalid_argument("feature map " + name() + ": input dimension is 0, must be >= 1");
  if (p0 < 0) {
    throw std::invalid_argument(
        fmt::format("feature map {}: first position {} must be >= 0", name(), p0));
  }
  if (kind_ == FeatureMapKind::Performer && d != input_dim_) {
    throw std::invalid_argument(fmt::format(
        "feature map {}: input dimension {} differs from the map's d = {}", name(), d, input_dim_));
  }
  if (kind_ == FeatureMapKind::CosFormer) {
    if (horizon_ == 0) {
      throw std::invalid_argument(
          "feature map cosformer: horizon M unresolved (0); give it explicitly or use "
          "with_default_horizon(total length)");
    }
    if (p0 + L > horizon_) {
      throw std::invalid_argument(fmt::format(
          "feature map {}: positions up to {} need horizon M >= {}", name(), p0 + L - 1, p0 + L));
    }
  }
  require_finite<T>(x, is_query ? "query features" : "key features");
  TierScope<T> scope(x);
  const Index m = feature_dim(d);
  RowMatrix<T> phi(L, m);
  switch (kind_) {
    case FeatureMapKind::Identity:
      for (Index i = 0; i < L; ++i)
        for (Index a = 0; a < d; ++a) phi(i, a) = x(i, a);
      break;
    case FeatureMapKind::Relu:
      for (Index i = 0; i < L; ++i)
        for (Index a = 0; a < d; ++a) phi(i, a) = relu_value(x(i, a));
      break;
    case FeatureMapKind::EluPlusOne:
      for (Index i = 0; i < L; ++i)
        for (Index a = 0; a < d; ++a) phi(i, a) = elu_plus_one_value(x(i, a));
      break;
    case FeatureMapKind::Taylor2: {
      // Query side carries the 1/2 of the squares, key side the cross terms' factor 1:
      // Σ_a q_a²k_a²/2 + Σ_{a<b} q_a q_b k_a k_b = s²/2. Multiplying by the exact 0.5 keeps
      // exact balls exact.
      const T half = T(0.5);
      for (Index i = 0; i < L; ++i) {
        Index c = 0;
        phi(i, c++) = T(1);
        for (Index a = 0; a < d; ++a) phi(i, c++) = x(i, a);
        for (Index a = 0; a < d; ++a) {
          const T sq = x(i, a) * x(i, a);
          phi(i, c++) = is_query ? T(sq * half) : sq;
        }
        for (Index a = 0; a < d; ++a)
          for (Index b = a + 1; b < d; ++b) phi(i, c++) = x(i, a) * x(i, b);
      }
      break;
    }
    case FeatureMapKind::Performer: {
      using std::exp;
      using std::sqrt;
      const T inv_sqrt_m = T(1) / sqrt(constant<T>(static_cast<double>(m), x));
      for (Index i = 0; i < L; ++i) {
        T half_norm2 = T(0);
        for (Index a = 0; a < d; ++a) half_norm2 += x(i, a) * x(i, a);
        half_norm2 = half_norm2 * T(0.5);
        for (Index r = 0; r < m; ++r) {
          T proj = T(0);
          for (Index a = 0; a < d; ++a) proj += T(omega_(r, a)) * x(i, a);
          // One exponent: e^{ωᵀx − ‖x‖²/2} does not overflow where the two factors would.
          phi(i, r) = inv_sqrt_m * exp(T(proj - half_norm2));
        }
      }
      break;
    }
    case FeatureMapKind::CosFormer:
      for (Index i = 0; i < L; ++i) {
        const auto [c, s] = cos_sin_quarter_turn<T>(p0 + i, horizon_, x);
        for (Index a = 0; a < d; ++a) {
          const T r = relu_value(x(i, a));
          phi(i, a) = r * c;
          phi(i, d + a) = r * s;
        }
      }
      break;
  }
  return phi;
}

#define ATTNCERT_INSTANTIATE_FEATURE_MAP(T)                                                    \
  template RowMatrix<T> FeatureMap::query_features<T>(const ConstMatrixRef<T>&, Index) const; \
  template RowMatrix<T> FeatureMap::key_features<T>(const ConstMatrixRef<T>&, Index) const;

ATTNCERT_INSTANTIATE_FEATURE_MAP(float)
ATTNCERT_INSTANTIATE_FEATURE_MAP(double)
ATTNCERT_INSTANTIATE_FEATURE_MAP(Mp)
ATTNCERT_INSTANTIATE_FEATURE_MAP(Ball)
#undef ATTNCERT_INSTANTIATE_FEATURE_MAP

}  // namespace attncert
