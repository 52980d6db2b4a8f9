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
  // Appended field by field through fmt: `std::string + const char*` chains trip GCC 12's
  // -Wrestrict false positive (GCC bug 105329) and build needless temporaries.
  std::string out;
  auto field = [&out](const std::string& text, bool last = false) {
    out.append(text);
    out.append(last ? "\r\n" : ",");
  };
  for (const std::string& p : table.parameter_names) field(csv_quote(p));
  out.append("series,statistic,value,");
  for (const std::string& b : table.bound_names) field(csv_quote(b));
  out.append("ci_low,ci_high,seed\r\n");
  for (const SweepRow& row : table.rows) {
    if (row.parameters.size() != table.parameter_names.size() ||
        row.bounds.size() != table.bound_names.size())
      throw std::logic_error(fmt::format("sweep_csv: row of {} does not match the table's columns",
                                         table.experiment));
    for (double p : row.parameters) field(number_text(p));
    field(csv_quote(row.series));
    field(csv_quote(row.statistic));
    field(number_text(row.value));
    for (const auto& b : row.bounds) field(optional_text(b));
    field(optional_text(row.ci_low));
    field(optional_text(row.ci_high));
    field(std::to_string(table.seed), true);
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
