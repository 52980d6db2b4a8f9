#include "reports/kernel_check_records.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "reports/result_records.hpp"

namespace attncert {
namespace {

// Round-trip text: equal rows give equal bytes.
std::string number_text(double x) { return fmt::format("{}", x); }

}  // namespace

std::string kernel_check_csv(const std::vector<KernelCheckRow>& rows) {
  std::string out =
      "kernel,shape,dtype,variant,executed_on,max_abs_error,bound,ratio,probabilistic_bound,"
      "probabilistic_ratio,false_alarm,input_quantization_low,input_quantization_high,"
      "ground_truth_radius,naive_error,fa_rule_threshold,fa_rule_pass,deterministic,pass,"
      "probabilistic_pass,vacuous,note\r\n";
  const auto yes = [](bool b) { return b ? "true" : "false"; };
  for (const KernelCheckRow& r : rows) {
    out += fmt::format(
        "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\r\n", csv_quote(r.kernel),
        csv_quote(r.shape), csv_quote(r.dtype), csv_quote(r.variant), csv_quote(r.executed_on),
        number_text(r.max_abs_error), number_text(r.bound), number_text(r.ratio),
        number_text(r.probabilistic_bound), number_text(r.probabilistic_ratio),
        number_text(r.false_alarm), number_text(r.input_quantization_low),
        number_text(r.input_quantization_high), number_text(r.ground_truth_radius),
        number_text(r.naive_error), number_text(r.fa_rule_threshold), yes(r.fa_rule_pass),
        yes(r.deterministic), yes(r.pass), yes(r.probabilistic_pass), yes(r.vacuous),
        csv_quote(r.note));
  }
  return out;
}

std::string kernel_check_table(const std::vector<KernelCheckRow>& rows) {
  std::size_t shape_w = 5, variant_w = 7;
  for (const KernelCheckRow& r : rows) {
    shape_w = std::max(shape_w, r.shape.size());
    variant_w = std::max(variant_w, r.variant.size());
  }
  std::string out =
      fmt::format("{:<17} {:<{}} {:<5} {:<{}} {:>10} {:>10} {:>9} {:>9} {:>9} {:>8} {:>5} {:>7} {:>7}\n",
                  "kernel", "shape", shape_w, "dtype", "variant", variant_w, "max error",
                  "max bound", "g-ratio", "p-ratio", "quantiz.", "FA-rule", "det.", "g-pass",
                  "p-pass");
  for (const KernelCheckRow& r : rows) {
    // "vacuous": the bound is infinite or trivial, so the row validates nothing about accuracy.
    out += fmt::format(
        "{:<17} {:<{}} {:<5} {:<{}} {:>10.3e} {:>10.3e} {:>9.2e} {:>9.2e} {:>9.2e} {:>8} {:>5} "
        "{:>7} {:>7}\n",
        r.kernel, r.shape, shape_w, r.dtype, r.variant, variant_w, r.max_abs_error, r.bound,
        r.ratio, r.probabilistic_ratio, r.input_quantization_high,
        r.fa_rule_pass ? "pass" : "FAIL", r.deterministic ? "yes" : "NO",
        !r.pass ? "NO" : r.vacuous ? "vacuous" : "yes", r.probabilistic_pass ? "yes" : "NO");
  }
  return out;
}

}  // namespace attncert
