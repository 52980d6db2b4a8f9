#include "cli/check_attention_command.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/attention_inputs.hpp"
#include "cli/exit_codes.hpp"
#include "cli/jobs_option.hpp"
#include "cli/progress_line.hpp"
#include "proofs_checks/attention_check.hpp"
#include "reports/output_file.hpp"
#include "reports/temporary_path.hpp"

namespace attncert::cli {
namespace {

// The probabilistic bound's assumption, printed wherever its verdict is.
constexpr const char* kProbabilisticModel =
    "rounding errors independent and mean-zero (round-to-nearest on data without exact "
    "structure; error_budget.hpp)";

// Heads listed one per line; beyond this many, the worst ones (the CSV has all).
constexpr std::size_t kMaxListedHeads = 32;

struct CheckAttentionArgs {
  AttentionArgs attention;
  std::string o, lse;
  std::string dtype, out_dtype;
  std::string accum = "fp32";
  std::string rule = "guaranteed";
  double false_alarm = kDefaultFalseAlarm;
  std::string algorithm = "flash";
  int block_k = 16;
  int jobs = 0;
  bool json = false;
  std::string csv;
};

gpu::DType dtype_option(const std::string& text, const char* option) {
  const std::optional<gpu::DType> t = gpu::parse_dtype(text);
  if (!t) throw CLI::ValidationError(option, "'" + text + "' is not one of fp32, fp16, bf16");
  return *t;
}

std::optional<gpu::DType> stored_dtype(ElementType t) {
  switch (t) {
    case ElementType::f32: return gpu::DType::f32;
    case ElementType::f16: return gpu::DType::f16;
    case ElementType::bf16: return gpu::DType::bf16;
    default: return std::nullopt;
  }
}

// The dtype the kernel read: --dtype, else the one the files store (all three alike).
gpu::DType input_dtype(const CheckAttentionArgs& a, const AttentionInputs& in) {
  if (!a.dtype.empty()) return dtype_option(a.dtype, "--dtype");
  const ElementType t = in.q.tensor.type;
  if (in.k.tensor.type != t || in.v.tensor.type != t)
    throw std::invalid_argument(fmt::format("Q, K, V are stored as {}, {}, {}: say which "
                                                      "dtype the kernel read (--dtype fp32|fp16|bf16)",
                                                      element_type_name(t),
                                                      element_type_name(in.k.tensor.type),
                                                      element_type_name(in.v.tensor.type)));
  if (const auto d = stored_dtype(t)) return *d;
  throw std::invalid_argument(fmt::format("Q, K, V are stored as {}: say which dtype the "
                                                    "kernel read (--dtype fp32|fp16|bf16)",
                                                    element_type_name(t)));
}

std::string truth_text(const AttentionElement& e) {
  return fmt::format("{:.9g} ± {:.2g}", e.truth_mid, e.truth_rad);
}

std::string ratio_text(double r) {
  return std::isfinite(r) ? fmt::format("{:.3g}", r) : std::string("inf");
}

// JSON: a number when finite (reads back exactly), else the string "inf", "-inf" or "nan".
nlohmann::json json_number(double x) {
  if (std::isfinite(x)) return x;
  return std::isnan(x) ? "nan" : x > 0 ? "inf" : "-inf";
}

std::string csv_number(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  return fmt::format("{:.17g}", x);
}

void run_check_attention(const CheckAttentionArgs& a, int& exit_code) {
  if (a.accum != "fp32")
    throw CLI::ValidationError("--accum", "'" + a.accum + "': only fp32 accumulation is "
                                          "modelled (every class here accumulates in fp32)");
  AttentionCheckOptions options;
  if (const auto rule = attention_rule_from_name(a.rule)) options.rule = *rule;
  else
    throw CLI::ValidationError("--rule", "'" + a.rule + "': expected guaranteed, probabilistic, "
                                         "flash or naive");
  try {
    require_false_alarm(a.false_alarm);
  } catch (const std::invalid_argument& e) {
    throw CLI::ValidationError("--false-alarm", e.what());
  }
  options.false_alarm = a.false_alarm;
  if (a.algorithm == "flash") options.algorithm = AttentionAlgorithm::flash;
  else if (a.algorithm == "three-pass") options.algorithm = AttentionAlgorithm::three_pass;
  else throw CLI::ValidationError("--algorithm", "'" + a.algorithm + "': expected flash or three-pass");
  options.block_k = a.block_k;
  options.jobs = a.jobs;
  if (!a.csv.empty()) {
    install_interrupt_cleanup();
    check_output_file_writable(a.csv, "--csv");
  }

  const AttentionInputs in = read_attention_inputs(a.attention);
  const AttentionTensor o = read_output_tensor(a.o, in, false, "--o");
  std::optional<AttentionTensor> lse;
  if (!a.lse.empty()) lse = read_output_tensor(a.lse, in, true, "--lse");
  options.dtype = input_dtype(a, in);
  if (!a.out_dtype.empty()) {
    options.output_dtype = dtype_option(a.out_dtype, "--out-dtype");
  } else if (o.tensor.type == ElementType::f16 || o.tensor.type == ElementType::bf16) {
    options.output_dtype = stored_dtype(o.tensor.type);
  }  // else (float32/float64 file): the coarsest 16-bit type O's values fit, else fp32 (the core)

  ProgressLine progress;
  options.progress = [&](std::size_t done, std::size_t total) {
    progress.update(fmt::format("check-attention: head {}/{}", done, total));
  };
  const Tensor4View<const double> q = in.view(in.q), k = in.view(in.k), v = in.view(in.v);
  const AttentionTensors tensors{&q, &k, &v};
  const AttentionCheckResult result =
      check_attention(tensors, in.view(o), lse ? lse->tensor.data.data() : nullptr, in.problem,
                      options);
  progress.clear();

  const std::size_t rank = in.q.tensor.rank();
  const auto where = [&](const AttentionElement& e) {
    if (e.column < 0)  // an lse value: (batch, heads, seqlen_q)
      return rank == 4 ? fmt::format("lse({}, {}, {})", e.batch, e.head, e.row)
             : rank == 3 ? fmt::format("lse({}, {})", e.head, e.row)
                         : fmt::format("lse({})", e.row);
    return element_index_text(in.layout, rank, e.batch, e.head, e.row, e.column);
  };
  const std::string class_name = options.algorithm == AttentionAlgorithm::flash
                                     ? fmt::format("flash (online softmax, key tiles ≥ {}, fp32 "
                                                   "accumulation)", options.block_k)
                                     : std::string("three-pass (S and P stored in the input "
                                                   "dtype, fp32 accumulation)");
  std::size_t bound_fail = 0, probabilistic_fail = 0, fa_fail = 0, naive_fail = 0, vacuous = 0,
              non_finite = 0, vacuous_elements = 0;
  for (const AttentionHeadReport& h : result.heads) {
    bound_fail += h.bound_pass ? 0 : 1;
    probabilistic_fail += h.probabilistic_pass ? 0 : 1;
    fa_fail += h.fa_rule_pass ? 0 : 1;
    naive_fail += h.naive_rule_pass ? 0 : 1;
    vacuous += h.vacuous ? 1 : 0;
    vacuous_elements += h.vacuous_elements;
    non_finite += h.non_finite;
  }

  if (a.json) {
    nlohmann::json heads = nlohmann::json::array();
    const auto element = [&](const AttentionElement& e) {
      return nlohmann::json{{"index", where(e)}, {"value", json_number(e.value)},
                            {"truth_mid", json_number(e.truth_mid)}, {"truth_rad", e.truth_rad},
                            {"error", json_number(e.error)}, {"bound", json_number(e.bound)},
                            {"probabilistic_bound", json_number(e.probabilistic_bound)}};
    };
    for (const AttentionHeadReport& h : result.heads) {
      nlohmann::json j = {{"batch", h.batch}, {"head", h.head},
                          {"max_error", json_number(h.max_error)},
                          {"bound_ratio", json_number(h.max_ratio)}, {"worst", element(h.worst)},
                          {"probabilistic_ratio", json_number(h.max_probabilistic_ratio)},
                          {"probabilistic_worst", element(h.probabilistic_worst)},
                          {"probabilistic_pass", h.probabilistic_pass},
                          {"naive_error", json_number(h.naive_error)}, {"atol", h.atol},
                          {"bound_pass", h.bound_pass}, {"fa_rule_pass", h.fa_rule_pass},
                          {"naive_rule_pass", h.naive_rule_pass}, {"non_finite", h.non_finite},
                          {"masked_rows", h.masked_rows}, {"refined_rows", h.refined_rows},
                          {"vacuous", h.vacuous}, {"vacuous_elements", h.vacuous_elements},
                          {"pass", h.pass}};
      if (h.lse_max_error) {
        j["lse_max_error"] = json_number(*h.lse_max_error);
        j["lse_bound_ratio"] = json_number(*h.lse_max_ratio);
        if (h.lse_worst) j["lse_worst"] = element(*h.lse_worst);
      }
      heads.push_back(j);
    }
    const nlohmann::json doc = {{"dtype", gpu::dtype_name(options.dtype)},
                                {"output_dtype", gpu::dtype_name(result.output_dtype)},
                                {"class", class_name}, {"rule", attention_rule_name(options.rule)},
                                {"false_alarm", result.false_alarm}, {"lambda", result.lambda},
                                {"probabilistic_model", kProbabilisticModel},
                                {"layout", layout_name(in.layout)}, {"heads", heads},
                                {"pass", result.pass}, {"seconds", result.seconds}};
    fmt::print("{}\n", doc.dump(2));
  } else {
    fmt::print("inputs: {} {}, Q ({} batch, {} heads, Lq {}, d {}), K/V ({} heads, Lk {}, dv {})\n",
               gpu::dtype_name(options.dtype), layout_name(in.layout), in.batch(), in.heads(),
               in.seqlen_q(), in.head_dim(), in.k.heads, in.seqlen_k(), in.value_dim());
    fmt::print("class: {}; O stored as {}; truth: certified enclosure of the exact attention of "
               "the given inputs\n", class_name, gpu::dtype_name(result.output_dtype));
    // g-ratio, p-ratio: the largest per-element error / guaranteed (probabilistic) bound.
    fmt::print("{:<10} {:>10} {:>8} {:>8} {:>10} {:>7} {:>7}  {:<22} {:>14} {:>22}\n", "head",
               "max error", "g-ratio", "p-ratio", "naive err", "FA 2x", "rule", "worst element",
               "value", "truth");
    fmt::print("{:<10} {:>10} {:>8} {:>8} {:>10} {:>7} {:>7}  {:<22}\n", "", "", "", "", "", "",
               "", "(largest error/g-bound)");
    std::vector<const AttentionHeadReport*> listed;
    for (const AttentionHeadReport& h : result.heads) listed.push_back(&h);
    if (listed.size() > kMaxListedHeads) {
      std::partial_sort(listed.begin(), listed.begin() + kMaxListedHeads, listed.end(),
                        [](const AttentionHeadReport* x, const AttentionHeadReport* y) {
                          return x->max_ratio > y->max_ratio;
                        });
      listed.resize(kMaxListedHeads);
    }
    for (const AttentionHeadReport* h : listed) {
      fmt::print("{:<10} {:>10.3g} {:>8} {:>8} {:>10.3g} {:>7} {:>7}  {:<22} {:>14.9g} {:>22}{}\n",
                 rank == 4 ? fmt::format("b{} h{}", h->batch, h->head) : fmt::format("h{}", h->head),
                 h->max_error, ratio_text(h->max_ratio), ratio_text(h->max_probabilistic_ratio),
                 h->naive_error,
                 h->fa_rule_pass ? "pass" : "FAIL", h->pass ? "pass" : "FAIL", where(h->worst),
                 h->worst.value, truth_text(h->worst),
                 h->non_finite ? fmt::format("  ({} NaN/inf in O)", h->non_finite)
                 : h->vacuous  ? std::string("  (vacuous bound)")
                 : h->vacuous_elements
                     ? fmt::format("  ({} elements with a vacuous bound)", h->vacuous_elements)
                     : std::string());
      if (h->lse_max_ratio && h->lse_worst)
        fmt::print("{:<10} {:>10.3g} {:>8} {:>8} {:>10} {:>7} {:>7}  {:<22} {:>14.9g} {:>22}\n",
                   "  lse", *h->lse_max_error, ratio_text(*h->lse_max_ratio), "", "", "", "",
                   where(*h->lse_worst), h->lse_worst->value, truth_text(*h->lse_worst));
    }
    if (listed.size() < result.heads.size())
      fmt::print("({} more heads, all with smaller ratios{})\n", result.heads.size() - listed.size(),
                 a.csv.empty() ? "; --csv FILE lists every head" : "; every head is in " + a.csv);
    const AttentionHeadReport& worst = result.worst_head();
    fmt::print("{} head(s) in {:.1f} s ({:.2f} s per head); failing: {} FlashAttention's rule, "
               "{} the naive rule (no worse than the naive reference){}{}\n",
               result.heads.size(), result.seconds,
               result.seconds / static_cast<double>(std::max<std::size_t>(1, result.heads.size())),
               fa_fail, naive_fail,
               vacuous_elements
                   ? fmt::format(", {} head(s) and {} element(s) with a vacuous bound (infinite, "
                                 "or no smaller than a trivial one: not judged by it)",
                                 vacuous, vacuous_elements)
                   : std::string(),
               non_finite ? fmt::format(", {} NaN/inf value(s) in O", non_finite) : std::string());
    fmt::print("exceeds the guaranteed bound: {} head(s) (certain: not a correct kernel of the "
               "class)\n", bound_fail);
    fmt::print("exceeds the probabilistic bound: {} head(s) (a defect unless the rounding errors "
               "are correlated; a correct kernel exceeds it anywhere in this call with "
               "probability <= {:g}, lambda {:.3g}; model: {})\n",
               probabilistic_fail, result.false_alarm, result.lambda, kProbabilisticModel);
    if (probabilistic_fail > 0) {
      const AttentionHeadReport* p = &result.heads.front();
      for (const AttentionHeadReport& h : result.heads)
        if (h.max_probabilistic_ratio > p->max_probabilistic_ratio) p = &h;
      fmt::print("  worst against the probabilistic bound: {} value {:.9g}, truth {}, error "
                 "{:.3g}, probabilistic bound {:.3g} (ratio {})\n",
                 where(p->probabilistic_worst), p->probabilistic_worst.value,
                 truth_text(p->probabilistic_worst), p->probabilistic_worst.error,
                 p->probabilistic_worst.probabilistic_bound,
                 ratio_text(p->max_probabilistic_ratio));
    }
    // The worst element by the rule in effect (the FA and naive rules judge the head's maximum
    // error; their worst is the guaranteed bound's worst element).
    const bool by_probabilistic = options.rule == AttentionRule::probabilistic;
    const AttentionElement& w = by_probabilistic ? worst.probabilistic_worst : worst.worst;
    fmt::print("verdict (--rule {}): {}; worst: {} value {:.9g}, truth {}, error {:.3g}, {} bound "
               "{:.3g}\n", attention_rule_name(options.rule), result.pass ? "PASS" : "FAIL",
               where(w), w.value, truth_text(w), w.error,
               by_probabilistic ? "probabilistic" : "guaranteed",
               by_probabilistic ? w.probabilistic_bound : w.bound);
    if (options.rule == AttentionRule::bound && bound_fail == 0 && probabilistic_fail > 0)
      fmt::print("note: {} head(s) are within the guaranteed bound but exceed the probabilistic "
                 "one. The guaranteed bound is a worst case over every rounding (it grows like "
                 "n·u); an error above the probabilistic bound is a defect unless the rounding "
                 "errors are correlated (--rule probabilistic decides by it)\n",
                 probabilistic_fail);
    const bool all_far = std::all_of(result.heads.begin(), result.heads.end(), [](const auto& h) {
      return !h.bound_pass && h.max_error > 10 * (2 * h.naive_error + h.atol);
    });
    if (all_far)
      fmt::print("hint: every head is off by far more than rounding, which usually means another "
                 "problem than the kernel computed: check --layout (bshd/bhsd), --causal and its "
                 "alignment, --scale, --window, --softcap\n");
  }
  if (!a.csv.empty()) {
    std::string csv =
        "batch,head,max_error,bound_ratio,worst_index,worst_value,worst_truth_mid,worst_truth_rad,"
        "worst_error,worst_bound,probabilistic_ratio,probabilistic_worst_index,"
        "probabilistic_worst_bound,false_alarm,naive_error,atol,bound_pass,probabilistic_pass,"
        "fa_rule_pass,naive_rule_pass,lse_max_error,lse_bound_ratio,non_finite,masked_rows,"
        "refined_rows,vacuous,vacuous_elements,pass\n";
    for (const AttentionHeadReport& h : result.heads) {
      csv += fmt::format("{},{},{},{},\"{}\",{},{},{},{},{},{},\"{}\",{},{},{},{},{},{},{},{},{},{},"
                         "{},{},{},{},{},{}\n",
                         h.batch, h.head, csv_number(h.max_error), csv_number(h.max_ratio),
                         where(h.worst), csv_number(h.worst.value), csv_number(h.worst.truth_mid),
                         csv_number(h.worst.truth_rad), csv_number(h.worst.error),
                         csv_number(h.worst.bound), csv_number(h.max_probabilistic_ratio),
                         where(h.probabilistic_worst),
                         csv_number(h.probabilistic_worst.probabilistic_bound),
                         csv_number(result.false_alarm), csv_number(h.naive_error),
                         csv_number(h.atol), h.bound_pass, h.probabilistic_pass, h.fa_rule_pass,
                         h.naive_rule_pass,
                         h.lse_max_error ? csv_number(*h.lse_max_error) : "",
                         h.lse_max_ratio ? csv_number(*h.lse_max_ratio) : "", h.non_finite,
                         h.masked_rows, h.refined_rows, h.vacuous, h.vacuous_elements, h.pass);
    }
    write_file_atomically(a.csv, csv);
  }
  exit_code = result.pass ? kAllHold : kRefuted;
}

}  // namespace

void add_check_attention_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<CheckAttentionArgs>();
  CLI::App* cmd = app.add_subcommand(
      "check-attention",
      "Judge a kernel's attention output O (and lse) on given Q, K, V against the certified "
      "truth, per head: the error, its ratios to the guaranteed and the probabilistic a-priori "
      "bounds of a correct kernel of the declared class, FlashAttention's 2×-naive rule, the "
      "worst element. Exit 1 on a violation of --rule.");
  add_attention_options(cmd, args->attention);
  cmd->add_option("--o", args->o, "the kernel's output O, in --layout")->required();
  cmd->add_option("--lse", args->lse, "the kernel's log-sum-exp, (batch, heads, seqlen_q)");
  cmd->add_option("--dtype", args->dtype,
                  "the type the kernel read Q, K, V in: fp32, fp16, bf16 (default: as stored "
                  "in the files; values must be representable in it)");
  cmd->add_option("--out-dtype", args->out_dtype,
                  "the type O was stored in (default: O's file type when fp16/bf16; for a float32 "
                  "or float64 file the coarsest of bf16, fp16, fp32 holding every value of O)");
  cmd->add_option("--accum", args->accum, "accumulation type of the class (fp32 only)")
      ->capture_default_str();
  cmd->add_option("--algorithm", args->algorithm,
                  "the class whose bound judges O: flash (online softmax over key tiles, P "
                  "rounded to the input dtype) or three-pass (S, P stored in the input dtype)")
      ->capture_default_str();
  cmd->add_option("--block-k", args->block_k,
                  "smallest key tile the flash class allows (more tiles, larger bound)")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--rule", args->rule,
                  "what decides the exit code: guaranteed (error ≤ the class's guaranteed bound: "
                  "a certain verdict; 'bound' is accepted for it), probabilistic (error ≤ the "
                  "probabilistic bound: above it is a defect unless the rounding errors are "
                  "correlated), flash (FlashAttention's rule: error ≤ 2·naive error + atol) or "
                  "naive (error ≤ naive error + atol); all are always reported")
      ->capture_default_str();
  cmd->add_option("--false-alarm", args->false_alarm,
                  "probability, in (0, 1), that a correct kernel exceeds the probabilistic bound "
                  "anywhere in the call (independent mean-zero roundings)")
      ->capture_default_str();
  add_jobs_option(cmd, args->jobs, "Heads checked in parallel (the output does not depend on it)");
  cmd->add_flag("--json", args->json, "print the per-head reports as JSON");
  cmd->add_option("--csv", args->csv, "also write one CSV row per head to this file");
  cmd->callback([args, &exit_code] { run_check_attention(*args, exit_code); });
}

}  // namespace attncert::cli
