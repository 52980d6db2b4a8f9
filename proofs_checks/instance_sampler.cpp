#include "proofs_checks/instance_sampler.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace attncert {
namespace {

double sample_scalar(const ScalarSpec& s, Rng& rng, SampleMode mode) {
  if (s.lo == s.hi) return s.lo;
  if (s.integer) {
    const auto lo = static_cast<std::int64_t>(std::ceil(s.lo));
    const auto hi = static_cast<std::int64_t>(std::floor(s.hi));
    if (mode == SampleMode::Edge) {
      const std::int64_t picks[] = {lo, std::min(lo + 1, hi), hi, std::min(lo + 2, hi)};
      return static_cast<double>(picks[rng.below(4)]);
    }
    // Half the draws log-uniform so that small sizes (where bounds are often tight) are common.
    if (rng.uniform() < 0.5 && lo >= 1) {
      const double u = rng.uniform(std::log(static_cast<double>(lo)), std::log(static_cast<double>(hi) + 1));
      return static_cast<double>(std::clamp<std::int64_t>(static_cast<std::int64_t>(std::exp(u)), lo, hi));
    }
    return static_cast<double>(rng.uniform_int(lo, hi));
  }
  if (mode == SampleMode::Edge && rng.uniform() < 0.6) {
    const double picks[] = {s.lo, s.hi, s.log_scale ? std::sqrt(s.lo * s.hi) : 0.5 * (s.lo + s.hi)};
    return picks[rng.below(3)];
  }
  if (s.log_scale) return std::clamp(std::exp(rng.uniform(std::log(s.lo), std::log(s.hi))), s.lo, s.hi);
  return std::clamp(rng.uniform(s.lo, s.hi), s.lo, s.hi);
}

void fill_rows_on_sphere(RowMatrix<double>& a, double radius, Rng& rng) {
  for (Eigen::Index r = 0; r < a.rows(); ++r) {
    const auto v = rng.unit_sphere(static_cast<std::size_t>(a.cols()));
    for (Eigen::Index c = 0; c < a.cols(); ++c) a(r, c) = radius * v[static_cast<std::size_t>(c)];
  }
}

double draw_entry(const ArraySpec& spec, Rng& rng) {
  switch (spec.law) {
    case Law::Normal: return rng.normal(spec.a, spec.b);
    case Law::Uniform: return spec.a == spec.b ? spec.a : rng.uniform(spec.a, spec.b);
    case Law::Rademacher: return rng.rademacher();
    case Law::Positive:
      return spec.a == spec.b ? spec.a
                              : std::clamp(std::exp(rng.uniform(std::log(spec.a), std::log(spec.b))),
                                           spec.a, spec.b);
    case Law::Sphere: return rng.normal();
  }
  return 0;
}

// Edge-case transforms that keep the law's support.
void apply_edge_case(const ArraySpec& spec, RowMatrix<double>& a, Rng& rng) {
  const Eigen::Index n = a.size();
  double* p = a.data();
  const bool unbounded = spec.law == Law::Normal;
  const std::uint64_t pick = rng.below(unbounded ? 7 : 4);
  switch (pick) {
    case 0:  // all tied
      std::fill(p, p + n, p[0]);
      break;
    case 1: {  // the two largest tied
      if (n >= 2) {
        auto mx = std::max_element(p, p + n);
        p[(mx - p + 1) % n] = *mx;
      }
      break;
    }
    case 2:  // range ends (bounded laws) / one dominant spike (normal)
      if (unbounded) {
        p[rng.below(static_cast<std::uint64_t>(n))] = spec.a + 12 * spec.b;
      } else if (spec.law == Law::Uniform || spec.law == Law::Positive) {
        for (Eigen::Index i = 0; i < n; ++i) p[i] = rng.uniform() < 0.5 ? spec.a : spec.b;
      }
      break;
    case 3:  // a single distinct entry, the rest tied
      if (n >= 2) {
        const double other = p[n - 1];
        std::fill(p, p + n, p[0]);
        p[rng.below(static_cast<std::uint64_t>(n))] = other;
      }
      break;
    case 4:  // huge magnitudes
      for (Eigen::Index i = 0; i < n; ++i) p[i] = spec.a + (p[i] - spec.a) * 1e3;
      break;
    case 5:  // tiny magnitudes
      for (Eigen::Index i = 0; i < n; ++i) p[i] = spec.a + (p[i] - spec.a) * 1e-6;
      break;
    case 6:  // exact zeros / small integers: round numbers expose exact ties
      for (Eigen::Index i = 0; i < n; ++i) p[i] = std::round(p[i] / spec.b);
      break;
  }
  if (spec.allow_mask && n >= 1 && rng.uniform() < 0.5) {
    const double inf = std::numeric_limits<double>::infinity();
    if (rng.uniform() < 0.2) {
      std::fill(p, p + n, -inf);  // fully masked
    } else {
      for (Eigen::Index i = 0; i < n; ++i) {
        if (rng.uniform() < 0.3) p[i] = -inf;
      }
    }
  }
}

}  // namespace

long resolve_dimension(const std::string& dim, const Instance& x) {
  if (!dim.empty() && std::isdigit(static_cast<unsigned char>(dim[0]))) return std::stol(dim);
  return static_cast<long>(std::llround(x.scalar(dim)));
}

Instance sample_instance(const SearchSpace& space, Rng& rng, SampleMode mode) {
  Instance x;
  if (space.source) {  // a uniformly drawn row sets its arrays and scalars; the rest is drawn below
    const auto k = static_cast<std::size_t>(
        rng.uniform_int(0, static_cast<std::int64_t>(space.source->size()) - 1));
    x = space.source->row(k);
    x.scalars[kSourceRowScalar] = static_cast<double>(k);
  }
  for (const auto& s : space.scalars) {
    if (space.from_source(s.name)) continue;
    // In Edge mode, only some parameters go to their edges, so edges combine with typical values.
    const SampleMode m = mode == SampleMode::Edge && rng.uniform() < 0.6 ? SampleMode::Edge : SampleMode::Plain;
    x.scalars[s.name] = sample_scalar(s, rng, m);
  }
  for (const auto& spec : space.arrays) {
    if (space.from_source(spec.name)) continue;
    RowMatrix<double> a(resolve_dimension(spec.rows, x), resolve_dimension(spec.cols, x));
    if (spec.law == Law::Sphere) {
      fill_rows_on_sphere(a, spec.a, rng);
    } else {
      for (Eigen::Index i = 0; i < a.size(); ++i) a.data()[i] = draw_entry(spec, rng);
      if (mode == SampleMode::Edge && rng.uniform() < 0.7) apply_edge_case(spec, a, rng);
    }
    x.arrays[spec.name] = std::move(a);
  }
  return x;
}

Instance perturb_instance(const SearchSpace& space, const Instance& x, Rng& rng, double step) {
  Instance y = x;
  for (const auto& s : space.scalars) {
    if (s.integer || s.lo == s.hi || space.from_source(s.name)) continue;
    double& v = y.scalars[s.name];
    if (rng.uniform() < 0.5) continue;  // move a random subset of coordinates
    if (s.log_scale) {
      v = std::clamp(v * std::exp(step * rng.normal()), s.lo, s.hi);
    } else {
      v = std::clamp(v + step * (s.hi - s.lo) * rng.normal(), s.lo, s.hi);
    }
  }
  for (const auto& spec : space.arrays) {
    if (space.from_source(spec.name)) continue;  // data, not a law's draw
    RowMatrix<double>& a = y.arrays[spec.name];
    for (Eigen::Index i = 0; i < a.size(); ++i) {
      double& v = a.data()[i];
      if (std::isinf(v) || rng.uniform() < 0.5) continue;
      switch (spec.law) {
        case Law::Normal: v += step * (std::abs(v) + spec.b) * rng.normal(); break;
        case Law::Uniform: v = std::clamp(v + step * (spec.b - spec.a) * rng.normal(), spec.a, spec.b); break;
        case Law::Positive: v = std::clamp(v * std::exp(step * rng.normal()), spec.a, spec.b); break;
        case Law::Rademacher: if (rng.uniform() < step) v = -v; break;
        case Law::Sphere: v += step * spec.a * rng.normal(); break;
      }
    }
    if (spec.law == Law::Sphere) {
      for (Eigen::Index r = 0; r < a.rows(); ++r) {
        const double norm = a.row(r).norm();
        if (norm > 0) a.row(r) *= spec.a / norm;
      }
    }
  }
  return y;
}

}  // namespace attncert
