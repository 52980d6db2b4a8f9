#include "proofs_checks/counterexample_shrinker.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace attncert {
namespace {

// Which arrays span an integer parameter along rows or cols.
struct DimUse {
  std::string array;
  bool rows;
};

std::vector<DimUse> uses_of(const SearchSpace& space, const std::string& param) {
  std::vector<DimUse> out;
  for (const auto& a : space.arrays) {
    if (a.rows == param) out.push_back({a.name, true});
    if (a.cols == param) out.push_back({a.name, false});
  }
  return out;
}

// Removes index `k` along every array dimension tied to `param` and decrements it.
Instance drop_index(const SearchSpace& space, const Instance& x, const std::string& param, long k) {
  Instance y = x;
  y.scalars[param] = x.scalar(param) - 1;
  for (const auto& u : uses_of(space, param)) {
    RowMatrix<double>& a = y.arrays[u.array];
    const RowMatrix<double>& src = x.array(u.array);
    if (u.rows) {
      RowMatrix<double> b(src.rows() - 1, src.cols());
      for (Eigen::Index r = 0, o = 0; r < src.rows(); ++r) {
        if (r != k) b.row(o++) = src.row(r);
      }
      a = std::move(b);
    } else {
      RowMatrix<double> b(src.rows(), src.cols() - 1);
      for (Eigen::Index c = 0, o = 0; c < src.cols(); ++c) {
        if (c != k) b.col(o++) = src.col(c);
      }
      a = std::move(b);
    }
  }
  return y;
}

double round_significant(double v, int digits) {
  if (v == 0 || !std::isfinite(v)) return v;
  const double e = std::floor(std::log10(std::abs(v)));
  const double scale = std::pow(10.0, digits - 1 - e);
  const double r = std::round(v * scale) / scale;
  return std::isfinite(r) ? r : v;
}

}  // namespace

Instance shrink_counterexample(const Claim& claim, Instance x, const CertifyOptions& options,
                               long attempts) {
  const SearchSpace& space = claim.space();
  long used = 0;
  auto still_refutes = [&](Instance& y) {
    if (used >= attempts) return false;
    ++used;
    claim.project(y);
    return claim.is_in_domain(y, options.start_precision) &&
           certify_instance(claim, y, options).status == InstanceStatus::Refuted;
  };
  // 1. Fewer tokens: lower every integer dimension as far as the violation survives.
  bool progress = true;
  while (progress && used < attempts) {
    progress = false;
    for (const auto& s : space.scalars) {
      if (!s.integer || uses_of(space, s.name).empty()) continue;
      const long n = static_cast<long>(x.scalar(s.name));
      if (n - 1 < static_cast<long>(std::ceil(s.lo))) continue;
      for (long k = n - 1; k >= 0 && used < attempts; --k) {
        Instance y = drop_index(space, x, s.name, k);
        if (still_refutes(y)) {
          x = std::move(y);
          progress = true;
          break;
        }
      }
    }
  }
  // 2. Rounder numbers: the whole instance at 1, 2, 3 significant digits, then entry by entry.
  for (int digits = 1; digits <= 3 && used < attempts; ++digits) {
    Instance y = x;
    for (auto& [name, v] : y.scalars) {
      const ScalarSpec* s = space.find_scalar(name);
      if (s && !s->integer) v = std::clamp(round_significant(v, digits), s->lo, s->hi);
    }
    for (auto& [name, a] : y.arrays) {
      for (Eigen::Index i = 0; i < a.size(); ++i) a.data()[i] = round_significant(a.data()[i], digits);
    }
    if (still_refutes(y)) {
      x = std::move(y);
      break;
    }
  }
  // Entry by entry. x is replaced on success, so iterate over names and indices, never over
  // references into x.
  std::vector<std::string> names;
  for (const auto& [name, a] : x.arrays) names.push_back(name);
  for (const std::string& name : names) {
    for (Eigen::Index i = 0; i < x.array(name).size() && used < attempts; ++i) {
      for (int digits = 1; digits <= 3; ++digits) {
        const double v = x.array(name).data()[i];
        const double r = round_significant(v, digits);
        if (r == v) break;
        Instance y = x;
        y.arrays[name].data()[i] = r;
        if (still_refutes(y)) {
          x = std::move(y);
          break;
        }
      }
    }
  }
  return x;
}

}  // namespace attncert
