#include "reports/sweeps/point_rows.hpp"

#include <optional>
#include <stdexcept>

#include "proofs_checks/byte_codec.hpp"
#include "proofs_checks/distributed_map.hpp"

namespace attncert::sweeps {
namespace {

constexpr std::uint64_t kFormat = 0x61746e7377310001;  // "atnsw1" + version 1

// Every field once, in one order, for both directions (as in kernel_rows_codec.cpp): a field
// added to SweepRow and to one direction only cannot compile into a codec that drops it.
template <class Io>
void fields(Io& io, auto& row) {
  io.reals(row.parameters);
  io.text(row.series);
  io.text(row.statistic);
  io.real(row.value);
  io.optional_reals(row.bounds);
  io.optional_real(row.ci_low);
  io.optional_real(row.ci_high);
}

struct Out {
  ByteWriter w;
  void text(const std::string& s) { w.text(s); }
  void real(double v) { w.f64(v); }
  void optional_real(const std::optional<double>& v) {
    w.boolean(v.has_value());
    if (v) w.f64(*v);
  }
  void reals(const std::vector<double>& v) {
    w.u64(v.size());
    for (double x : v) real(x);
  }
  void optional_reals(const std::vector<std::optional<double>>& v) {
    w.u64(v.size());
    for (const std::optional<double>& x : v) optional_real(x);
  }
};

struct In {
  ByteReader r;
  void text(std::string& s) { s = r.text("sweep row text"); }
  void real(double& v) { v = r.f64("sweep row number"); }
  void optional_real(std::optional<double>& v) {
    v.reset();
    if (r.boolean("sweep row optional")) v = r.f64("sweep row optional number");
  }
  void reals(std::vector<double>& v) {
    v.resize(r.count("sweep row parameters", 8));
    for (double& x : v) real(x);
  }
  void optional_reals(std::vector<std::optional<double>>& v) {
    v.resize(r.count("sweep row bounds", 1));
    for (std::optional<double>& x : v) optional_real(x);
  }
};

// The fewest bytes a row takes: two counts, two string lengths, the value, two flags.
constexpr std::size_t kMinRowBytes = 8 + 8 + 8 + 8 + 8 + 1 + 1;

}  // namespace

std::string encode_sweep_rows(const std::vector<SweepRow>& rows) {
  Out out;
  out.w.u64(kFormat);
  out.w.u64(rows.size());
  for (const SweepRow& row : rows) fields(out, row);
  return std::move(out.w).bytes();
}

std::vector<SweepRow> decode_sweep_rows(std::string_view bytes) {
  In in{ByteReader(bytes)};
  if (in.r.u64("format") != kFormat) {
    throw std::invalid_argument("malformed unit result: not sweep rows of this version");
  }
  std::vector<SweepRow> rows(in.r.count("sweep rows", kMinRowBytes));
  for (SweepRow& row : rows) fields(in, row);
  in.r.finish("sweep rows");
  return rows;
}

std::vector<SweepRow> rows_over_points(std::size_t n, int jobs,
                                       const std::function<std::vector<SweepRow>(std::size_t)>& point_rows,
                                       const ProgressCallback& progress) {
  const std::vector<std::vector<SweepRow>> per_point = distributed_map<std::vector<SweepRow>>(
      n, jobs, point_rows, encode_sweep_rows, decode_sweep_rows, progress);
  std::vector<SweepRow> rows;
  for (const std::vector<SweepRow>& r : per_point) rows.insert(rows.end(), r.begin(), r.end());
  return rows;
}

}  // namespace attncert::sweeps
