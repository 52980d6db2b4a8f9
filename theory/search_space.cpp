#include "theory/search_space.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
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

std::string SearchSpace::describe() const {
  std::string out;
  for (const auto& s : scalars) {
    if (!out.empty()) out += ", ";
    if (s.lo == s.hi) {
      out += fmt::format("{} = {:g}", s.name, s.lo);
    } else {
      out += fmt::format("{} ∈ [{:g}, {:g}]{}{}", s.name, s.lo, s.hi, s.integer ? " integer" : "",
                         s.log_scale ? " log" : "");
    }
  }
  for (const auto& a : arrays) {
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

}  // namespace attncert
