#include "reports/sweep.hpp"

#include <fmt/format.h>

#include "reports/result_records.hpp"
#include "reports/sweeps/experiment_factories.hpp"

namespace attncert::sweeps {

const GridAxis* Grid::find(std::string_view name) const {
  for (const GridAxis& a : axes)
    if (a.name == name) return &a;
  return nullptr;
}

namespace {

// Shortest text that reads back to the same double ("{}" in fmt is round-trip exact and
// locale-independent), so equal tables give byte-identical CSV.
std::string number_text(double x) { return fmt::format("{}", x); }

std::string optional_text(const std::optional<double>& x) {
  return x ? number_text(*x) : std::string();
}

}  // namespace

std::string sweep_csv(const SweepTable& table) {
  std::string out;
  for (const std::string& p : table.parameter_names) out += csv_quote(p) + ",";
  out += "series,statistic,value";
  for (const std::string& b : table.bound_names) out += "," + csv_quote(b);
  out += ",ci_low,ci_high,seed\r\n";
  for (const SweepRow& row : table.rows) {
    if (row.parameters.size() != table.parameter_names.size() ||
        row.bounds.size() != table.bound_names.size())
      throw std::logic_error("sweep_csv: row of " + table.experiment +
                             " does not match the table's columns");
    for (double p : row.parameters) out += number_text(p) + ",";
    out += csv_quote(row.series) + "," + csv_quote(row.statistic) + "," + number_text(row.value);
    for (const auto& b : row.bounds) out += "," + optional_text(b);
    out += "," + optional_text(row.ci_low) + "," + optional_text(row.ci_high) + "," +
           std::to_string(table.seed) + "\r\n";
  }
  return out;
}

const std::vector<Experiment>& experiments() {
  // Report order. Each factory lives in reports/sweeps/<experiment>.cpp.
  static const std::vector<Experiment> all = {
#define ATTNCERT_EXPERIMENT(factory) factory(),
#include "reports/sweeps/experiment_list.def"
#undef ATTNCERT_EXPERIMENT
  };
  return all;
}

const Experiment* find_experiment(std::string_view name) {
  for (const Experiment& e : experiments())
    if (e.name == name) return &e;
  return nullptr;
}

}  // namespace attncert::sweeps
