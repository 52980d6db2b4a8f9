#include "theory/instance.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace attncert {
namespace {

nlohmann::json number_json(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

double number_from_json(const nlohmann::json& j, const std::string& where) {
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
    if (s == "inf") return std::numeric_limits<double>::infinity();
  }
  throw std::invalid_argument(fmt::format("instance: {} is not a number", where));
}

std::string short_number(double v) { return fmt::format("{:.6g}", v); }

}  // namespace

double Instance::scalar(const std::string& name) const {
  auto it = scalars.find(name);
  if (it == scalars.end()) throw std::out_of_range("instance has no scalar '" + name + "'");
  return it->second;
}

const RowMatrix<double>& Instance::array(const std::string& name) const {
  auto it = arrays.find(name);
  if (it == arrays.end()) throw std::out_of_range("instance has no array '" + name + "'");
  return it->second;
}

std::string Instance::describe(std::size_t max_entries) const {
  std::string out;
  for (const auto& [k, v] : scalars) {
    out += fmt::format("{}{}={}", out.empty() ? "" : ", ", k, short_number(v));
  }
  for (const auto& [k, a] : arrays) {
    out += fmt::format("{}{}", out.empty() ? "" : ", ", k);
    if (a.rows() > 1) out += fmt::format("({}×{})", a.rows(), a.cols());
    out += "=[";
    const std::size_t n = static_cast<std::size_t>(a.size());
    for (std::size_t i = 0; i < std::min(n, max_entries); ++i) {
      if (i) out += (a.cols() > 0 && i % a.cols() == 0) ? "; " : ", ";
      out += short_number(a.data()[i]);
    }
    if (n > max_entries) out += ", …";
    out += "]";
  }
  return out;
}

nlohmann::json to_json(const Instance& x) {
  nlohmann::json j;
  j["scalars"] = nlohmann::json::object();
  for (const auto& [k, v] : x.scalars) j["scalars"][k] = number_json(v);
  j["arrays"] = nlohmann::json::object();
  for (const auto& [k, a] : x.arrays) {
    nlohmann::json rows = nlohmann::json::array();
    for (Eigen::Index r = 0; r < a.rows(); ++r) {
      nlohmann::json row = nlohmann::json::array();
      for (Eigen::Index c = 0; c < a.cols(); ++c) row.push_back(number_json(a(r, c)));
      rows.push_back(row);
    }
    j["arrays"][k] = rows;
  }
  return j;
}

Instance instance_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("instance: expected a JSON object");
  Instance x;
  if (j.contains("scalars")) {
    if (!j["scalars"].is_object()) throw std::invalid_argument("instance: 'scalars' is not an object");
    for (const auto& [k, v] : j["scalars"].items()) {
      x.scalars[k] = number_from_json(v, "scalar '" + k + "'");
    }
  }
  if (j.contains("arrays")) {
    if (!j["arrays"].is_object()) throw std::invalid_argument("instance: 'arrays' is not an object");
    for (const auto& [k, rows] : j["arrays"].items()) {
      if (!rows.is_array() || rows.empty() || !rows[0].is_array() || rows[0].empty()) {
        throw std::invalid_argument("instance: array '" + k + "' must be a non-empty list of rows");
      }
      const std::size_t nr = rows.size(), nc = rows[0].size();
      RowMatrix<double> a(nr, nc);
      for (std::size_t r = 0; r < nr; ++r) {
        if (!rows[r].is_array() || rows[r].size() != nc) {
          throw std::invalid_argument(fmt::format(
              "instance: array '{}' row {} has {} entries, expected {}", k, r,
              rows[r].is_array() ? rows[r].size() : 0, nc));
        }
        for (std::size_t c = 0; c < nc; ++c) {
          a(r, c) = number_from_json(rows[r][c], fmt::format("array '{}' entry [{}, {}]", k, r, c));
        }
      }
      x.arrays[k] = std::move(a);
    }
  }
  return x;
}

Instance logit_instance(std::span<const double> logits, double T) {
  Instance x;
  x.scalars["L"] = static_cast<double>(logits.size());
  x.scalars["T"] = T;
  x.arrays["logits"] =
      Eigen::Map<const RowMatrix<double>>(logits.data(), 1, static_cast<Eigen::Index>(logits.size()));
  return x;
}

}  // namespace attncert
