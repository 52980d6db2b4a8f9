#include "proofs_checks/counterexample_shrinker.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "numerics/rng.hpp"
#include "proofs_checks/verifier.hpp"

namespace attncert {
namespace {

// Double evaluations spent searching for a violation at a smaller dimension (see
// refutes_or_repaired): the local search's budget per start at the default options.
constexpr long kRepairSteps = 75;
constexpr std::uint64_t kRepairSeed = 0x5348524b;  // "SHRK"

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

// Removes indices [from, from + count) along every array dimension tied to `param` and lowers
// it by `count`.
Instance drop_block(const SearchSpace& space, const Instance& x, const std::string& param,
                    Eigen::Index from, Eigen::Index count) {
  Instance y = x;
  y.scalars[param] = x.scalar(param) - static_cast<double>(count);
  const auto kept = [&](Eigen::Index i) { return i < from || i >= from + count; };
  for (const auto& u : uses_of(space, param)) {
    const RowMatrix<double>& src = x.array(u.array);
    RowMatrix<double>& a = y.arrays[u.array];
    if (u.rows) {
      RowMatrix<double> b(src.rows() - count, src.cols());
      for (Eigen::Index r = 0, o = 0; r < src.rows(); ++r) {
        if (kept(r)) b.row(o++) = src.row(r);
      }
      a = std::move(b);
    } else {
      RowMatrix<double> b(src.rows(), src.cols() - count);
      for (Eigen::Index c = 0, o = 0; c < src.cols(); ++c) {
        if (kept(c)) b.col(o++) = src.col(c);
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
  // A row of data is the counterexample as found: shrinking would leave the data.
  if (space.source) return x;
  long used = 0;
  // Certifications are what `attempts` counts; an instance outside the domain costs none.
  auto in_domain = [&](Instance& y) {
    claim.project(y);
    return claim.is_in_domain(y, options.start_precision);
  };
  auto still_refutes = [&](Instance& y) {
    if (used >= attempts || !in_domain(y)) return false;
    ++used;
    return certify_instance(claim, y, options).status == InstanceStatus::Refuted;
  };
  // A smaller dimension that no longer refutes with the values it kept may refute with others
  // (fewer tokens need another temperature): search in double from it with the engine's local
  // search, and certify what the double evaluation says violates. Seeded by the attempt
  // count, so the shrinker stays deterministic.
  auto refutes_or_repaired = [&](Instance& y) {
    if (!in_domain(y)) return false;  // the repair moves real values only, never integers
    if (still_refutes(y)) return true;
    if (used >= attempts) return false;
    Rng rng(kRepairSeed + static_cast<std::uint64_t>(used));
    const DoubleEvaluation at_y = evaluate_in_double(claim, y);
    long evaluations = 0;
    SearchPoint end = climb_in_double(claim, {std::move(y), at_y.score, at_y.vacuous && at_y.score <= 0},
                                      rng, kRepairSteps, 0, evaluations);
    y = std::move(end.x);
    return end.score > 0 && still_refutes(y);
  };
  // Delta debugging along one array dimension: remove blocks of n/2, then n/4, … then single
  // indices, never below the dimension's lower end; after a removal, retry one level coarser.
  // Single-index drops alone spend one certification per index (98 tokens exhausted the budget).
  auto remove_blocks = [&](const std::string& param, long lo) {
    bool removed_any = false;
    long parts = 2;
    while (used < attempts) {
      const long n = static_cast<long>(x.scalar(param));
      const long removable = n - lo;
      if (removable <= 0) break;
      const long block = (n + parts - 1) / parts;
      bool removed = false;
      for (long from = 0; from < n && used < attempts; from += block) {
        const long count = std::min({block, n - from, removable});
        Instance y = drop_block(space, x, param, from, count);
        if (refutes_or_repaired(y)) {
          x = std::move(y);
          removed = removed_any = true;
          break;
        }
      }
      if (removed) {
        parts = std::max(parts - 1, 2L);
      } else if (block == 1) {
        break;
      } else {
        parts = std::min(2 * parts, n);
      }
    }
    return removed_any;
  };
  // An integer that sizes no array (N ≤ L, a count of selected tokens): the lower end, then
  // halfway back towards the current value, …, then one below it.
  auto lower_value = [&](const std::string& param, long lo) {
    const long n = static_cast<long>(x.scalar(param));
    for (long target = lo; target < n && used < attempts; target += std::max(1L, (n - target) / 2)) {
      Instance y = x;
      y.scalars[param] = static_cast<double>(target);
      if (refutes_or_repaired(y)) {
        x = std::move(y);
        return true;
      }
    }
    return false;
  };
  // 1. Smaller dimensions first, every integer parameter in turn until none gets smaller (lowering
  // one may let another go down: N ≤ L). Seeds ("mc_seed", "seed": by convention named so) are
  // integers but no size: another seed is another instance, not a smaller one.
  const auto is_seed = [](const std::string& name) {
    return name.size() >= 4 && name.compare(name.size() - 4, 4, "seed") == 0;
  };
  bool progress = true;
  while (progress && used < attempts) {
    progress = false;
    for (const auto& s : space.scalars) {
      if (!s.integer || is_seed(s.name) || !x.has_scalar(s.name)) continue;
      const long lo = static_cast<long>(std::ceil(s.lo));
      const bool sizes_arrays = !uses_of(space, s.name).empty();
      if (sizes_arrays ? remove_blocks(s.name, lo) : lower_value(s.name, lo)) progress = true;
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
