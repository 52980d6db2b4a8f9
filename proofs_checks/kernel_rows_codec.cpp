#include "proofs_checks/kernel_rows_codec.hpp"

#include "proofs_checks/byte_codec.hpp"

namespace attncert {
namespace {

constexpr std::uint64_t kFormat = 0x61746e6b72310001;  // "atnkr1" + version 1

// Every field once, in one order, for both directions: a field added to the row and to one
// direction only cannot compile into a codec that silently drops it.
template <class Io>
void fields(Io& io, auto& row) {
  io.text(row.kernel);
  io.text(row.shape);
  io.text(row.dtype);
  io.text(row.variant);
  io.text(row.executed_on);
  io.real(row.max_abs_error);
  io.real(row.bound);
  io.real(row.ratio);
  io.real(row.ground_truth_radius);
  io.real(row.naive_error);
  io.real(row.fa_rule_threshold);
  io.flag(row.fa_rule_pass);
  io.flag(row.deterministic);
  io.flag(row.pass);
  io.text(row.note);
  io.flag(row.could_not_run);
  io.flag(row.vacuous);
  io.real(row.probabilistic_bound);
  io.real(row.probabilistic_ratio);
  io.real(row.false_alarm);
  io.flag(row.probabilistic_pass);
  io.real(row.input_quantization_low);
  io.real(row.input_quantization_high);
}

struct Out {
  ByteWriter w;
  void text(const std::string& s) { w.text(s); }
  void real(double v) { w.f64(v); }
  void flag(bool v) { w.boolean(v); }
};

struct In {
  ByteReader r;
  void text(std::string& s) { s = r.text("kernel row text"); }
  void real(double& v) { v = r.f64("kernel row number"); }
  void flag(bool& v) { v = r.boolean("kernel row flag"); }
};

}  // namespace

std::string encode_kernel_rows(const std::vector<KernelCheckRow>& rows) {
  Out out;
  out.w.u64(kFormat);
  out.w.u64(rows.size());
  for (const KernelCheckRow& row : rows) fields(out, row);
  return std::move(out.w).bytes();
}

std::vector<KernelCheckRow> decode_kernel_rows(std::string_view bytes) {
  In in{ByteReader(bytes)};
  if (in.r.u64("format") != kFormat) {
    throw std::invalid_argument("malformed unit result: not kernel-check rows of this version");
  }
  std::vector<KernelCheckRow> rows(in.r.count("kernel rows", 100));
  for (KernelCheckRow& row : rows) fields(in, row);
  in.r.finish("kernel rows");
  return rows;
}

}  // namespace attncert
