#include "theory/search_space.hpp"

#include <algorithm>

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace attncert {
namespace {

bool is_literal(const std::string& s) {
  return !s.empty() && std::isdigit(static_cast<unsigned char>(s[0]));
}

std::string law_text(const ArraySpec& a) {
  switch (a.law) {
    case Law::Normal: return fmt::format("normal({:g}, {:g})", a.a, a.b);
    case Law::Uniform: return fmt::format("uniform({:g}, {:g})", a.a, a.b);
    case Law::Rademacher: return "rademacher";
    case Law::Sphere: return fmt::format("rows on the sphere of radius {:g}", a.a);
    case Law::Positive: return fmt::format("positive in [{:g}, {:g}]", a.a, a.b);
  }
  return "?";
}

// Largest value a dimension can take in this space: the literal, or its parameter's upper bound.
double max_dimension(const SearchSpace& space, const std::string& dim) {
  if (is_literal(dim)) return static_cast<double>(std::stol(dim));
  const ScalarSpec* s = space.find_scalar(dim);
  return s ? std::floor(s->hi) : 0;
}

// Exact value of a dimension in an instance (checked to be an integer >= 1 by the scalar's spec).
Eigen::Index dimension_of(const std::string& dim, const Instance& x) {
  if (is_literal(dim)) return static_cast<Eigen::Index>(std::stol(dim));
  return static_cast<Eigen::Index>(x.scalar(dim));
}

[[noreturn]] void outside(const std::string& what) {
  throw std::invalid_argument("instance: " + what);
}

void check_scalar(const ScalarSpec& s, double v) {
  if (!std::isfinite(v)) outside(fmt::format("{} = {} is not finite", s.name, v));
  // lo and hi are doubles, so these comparisons decide membership exactly; 17 digits show
  // the doubles apart when a decimal bound was rounded inward (0.29999999999999999 < 0.3).
  if (v < s.lo || v > s.hi) {
    outside(fmt::format("{} = {:.17g} is outside its domain [{:.17g}, {:.17g}]", s.name, v, s.lo,
                        s.hi));
  }
  if (s.integer && v != std::floor(v)) outside(fmt::format("{} = {} is not an integer", s.name, v));
}

void check_entries(const ArraySpec& a, const RowMatrix<double>& m,
                   const SearchSpace::SetByClaim& set_by_claim) {
  const auto where = [&](Eigen::Index r, Eigen::Index c) {
    return fmt::format("{}[{}, {}] = {}", a.name, r, c, m(r, c));
  };
  for (Eigen::Index r = 0; r < m.rows(); ++r) {
    bool all_masked = true;
    for (Eigen::Index c = 0; c < m.cols(); ++c) {
      const double v = m(r, c);
      const bool masked = v == -std::numeric_limits<double>::infinity();
      all_masked = all_masked && masked;
      if (masked && a.allow_mask) continue;
      if (!std::isfinite(v)) {
        outside(where(r, c) +
                (masked ? " (masked) but this input takes no masks" : " is not finite"));
      }
      switch (a.law) {
        case Law::Normal:
          break;  // support: all of ℝ
        case Law::Uniform:
        case Law::Positive:
          if ((v < a.a || v > a.b) && !(set_by_claim && set_by_claim(a, r, c))) {
            outside(fmt::format("{} is outside the support [{}, {}] of {}", where(r, c), a.a, a.b,
                                a.name));
          }
          break;
        case Law::Rademacher:
          if (v != 1 && v != -1 && !(set_by_claim && set_by_claim(a, r, c))) {
            outside(where(r, c) + " is not ±1 (rademacher)");
          }
          break;
        case Law::Sphere:
          break;  // checked per row below
      }
    }
    if (a.allow_mask && all_masked) {
      outside(fmt::format("{} row {} is masked entirely (softmax of it is undefined)", a.name, r));
    }
    if (a.law == Law::Sphere) {
      const double norm = m.row(r).norm();
      if (!(std::abs(norm - a.a) <= kSphereTolerance * a.a)) {
        outside(
            fmt::format("{} row {} has norm {}, not the sphere radius {}", a.name, r, norm, a.a));
      }
    }
  }
}

}  // namespace

const ScalarSpec* SearchSpace::find_scalar(const std::string& name) const {
  for (const auto& s : scalars) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const ArraySpec* SearchSpace::find_array(const std::string& name) const {
  for (const auto& a : arrays) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

bool SearchSpace::from_source(const std::string& name) const {
  if (!source) return false;
  if (name == kSourceRowScalar) return true;
  const auto& a = source->array_names();
  const auto& s = source->scalar_names();
  return std::find(a.begin(), a.end(), name) != a.end() || std::find(s.begin(), s.end(), name) != s.end();
}

std::string SearchSpace::describe() const {
  std::string out;
  if (source) out = source->describe() + " (arrays and their shapes as the rows give them)";
  for (const auto& s : scalars) {
    if (from_source(s.name)) continue;
    if (!out.empty()) out += ", ";
    if (s.lo == s.hi) {
      out += fmt::format("{} = {:g}", s.name, s.lo);
    } else {
      out += fmt::format("{} ∈ [{:g}, {:g}]{}{}", s.name, s.lo, s.hi, s.integer ? " integer" : "",
                         s.log_scale ? " log" : "");
    }
  }
  for (const auto& a : arrays) {
    if (from_source(a.name)) continue;
    out += fmt::format("{}{}: {}×{} ~ {}{}", out.empty() ? "" : "; ", a.name, a.rows, a.cols,
                       law_text(a), a.allow_mask ? " (−inf masks)" : "");
  }
  return out;
}

void SearchSpace::validate() const {
  for (const auto& s : scalars) {
    if (!std::isfinite(s.lo) || !std::isfinite(s.hi) || s.lo > s.hi) {
      throw std::invalid_argument(
          fmt::format("domain: {} ∈ [{}, {}] is empty or not finite", s.name, s.lo, s.hi));
    }
    if (s.log_scale && s.lo <= 0) {
      throw std::invalid_argument(fmt::format("domain: {} is log-scaled but its range starts at {} "
                                              "(must be > 0)", s.name, s.lo));
    }
    if (s.integer && std::ceil(s.lo) > std::floor(s.hi)) {
      throw std::invalid_argument(
          fmt::format("domain: {} ∈ [{}, {}] contains no integer", s.name, s.lo, s.hi));
    }
  }
  for (const auto& a : arrays) {
    for (const std::string* dim : {&a.rows, &a.cols}) {
      if (is_literal(*dim)) {
        if (std::stol(*dim) < 1) {
          throw std::invalid_argument(fmt::format("domain: array {} has dimension {}", a.name, *dim));
        }
      } else {
        const ScalarSpec* s = find_scalar(*dim);
        if (s == nullptr || !s->integer || s->lo < 1) {
          throw std::invalid_argument(fmt::format(
              "domain: array {} has dimension '{}', which is not an integer parameter >= 1",
              a.name, *dim));
        }
      }
    }
    const double rows = max_dimension(*this, a.rows), cols = max_dimension(*this, a.cols);
    if (rows * cols > kMaxArrayEntries) {
      throw std::invalid_argument(fmt::format(
          "domain: {} ({}×{}) could have {:g}×{:g} entries, above the cap of {:.0f} (lower the "
          "upper "
          "bound of {})",
          a.name, a.rows, a.cols, rows, cols, kMaxArrayEntries, rows >= cols ? a.rows : a.cols));
    }
    if (a.law == Law::Normal && !(a.b > 0)) {
      throw std::invalid_argument(fmt::format("domain: {} ~ normal with sd {} (must be > 0)", a.name, a.b));
    }
    if ((a.law == Law::Uniform || a.law == Law::Positive) && !(a.a <= a.b)) {
      throw std::invalid_argument(fmt::format("domain: {} has an empty range [{}, {}]", a.name, a.a, a.b));
    }
    if (a.law == Law::Positive && !(a.a > 0)) {
      throw std::invalid_argument(fmt::format("domain: {} must be positive, range starts at {}", a.name, a.a));
    }
    if (a.law == Law::Sphere && !(a.a > 0)) {
      throw std::invalid_argument(fmt::format("domain: {} sphere radius {} (must be > 0)", a.name, a.a));
    }
  }
}

void SearchSpace::check_contains(const Instance& x, const SetByClaim& set_by_claim) const {
  if (source) {
    // A row of the source, exactly: which row, then every array and scalar it sets.
    if (!x.has_scalar(kSourceRowScalar)) outside(fmt::format("scalar '{}' is missing", kSourceRowScalar));
    const double k = x.scalar(kSourceRowScalar);
    if (!(k >= 0 && k < static_cast<double>(source->size()) && k == std::floor(k)))
      outside(fmt::format("{} = {} is not a row of {} rows", kSourceRowScalar, k, source->size()));
    const Instance row = source->row(static_cast<std::size_t>(k));
    for (const auto& [name, v] : row.scalars)
      if (!x.has_scalar(name) || x.scalar(name) != v)
        outside(fmt::format("scalar '{}' is not row {}'s ({})", name, k, v));
    for (const auto& [name, m] : row.arrays)
      if (!x.has_array(name) || x.array(name).rows() != m.rows() || x.array(name).cols() != m.cols() ||
          x.array(name) != m)
        outside(fmt::format("array '{}' is not row {}'s", name, k));
  }
  for (const auto& [name, v] : x.scalars) {
    if (!find_scalar(name))
      outside(fmt::format("scalar '{}' is not a parameter of this domain", name));
  }
  for (const auto& [name, m] : x.arrays) {
    if (!find_array(name)) outside(fmt::format("array '{}' is not an input of this domain", name));
  }
  for (const auto& s : scalars) {
    if (!x.has_scalar(s.name)) outside(fmt::format("scalar '{}' is missing", s.name));
    if (!from_source(s.name)) check_scalar(s, x.scalar(s.name));
  }
  for (const auto& a : arrays) {
    if (!x.has_array(a.name)) outside(fmt::format("array '{}' is missing", a.name));
    const RowMatrix<double>& m = x.array(a.name);
    const Eigen::Index rows = dimension_of(a.rows, x), cols = dimension_of(a.cols, x);
    if (m.rows() != rows || m.cols() != cols) {
      outside(fmt::format("array '{}' is {}×{}, but its shape {}×{} is {}×{} here", a.name,
                          m.rows(), m.cols(), a.rows, a.cols, rows, cols));
    }
  }
  for (const auto& a : arrays)
    if (!from_source(a.name)) check_entries(a, x.array(a.name), set_by_claim);
}

}  // namespace attncert
