#include "cli/eval_attention_command.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/attention_inputs.hpp"
#include "cli/exit_codes.hpp"
#include "numerics/midpoint_radius_attention.hpp"
#include "numerics/npy.hpp"
#include "numerics/tensor_file.hpp"
#include "reports/output_file.hpp"
#include "reports/temporary_path.hpp"

namespace attncert::cli {
namespace {

// --json prints every element; beyond this many, --save is the way.
constexpr std::size_t kMaxJsonElements = 4096;

struct EvalAttentionArgs {
  AttentionArgs attention;
  std::string save;
  bool json = false;
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The files --save writes: one .safetensors, or four .npy files named after PATH.npy.
std::vector<std::string> save_targets(const std::string& save) {
  if (ends_with(save, ".safetensors")) return {save};
  if (!ends_with(save, ".npy"))
    throw CLI::ValidationError("--save", "'" + save + "': expected a name ending in .npy (writes "
                                         "NAME.npy, NAME.rad.npy, NAME.lse.npy, NAME.lse.rad.npy) "
                                         "or .safetensors");
  const std::string stem = save.substr(0, save.size() - 4);
  return {save, stem + ".rad.npy", stem + ".lse.npy", stem + ".lse.rad.npy"};
}

nlohmann::json number(double x) {
  if (std::isfinite(x)) return x;  // nlohmann prints the shortest text that reads back exactly
  return std::isnan(x) ? "nan" : x > 0 ? "inf" : "-inf";
}

nlohmann::json array_json(const std::vector<double>& v) {
  nlohmann::json a = nlohmann::json::array();
  for (double x : v) a.push_back(number(x));
  return a;
}

double max_of(const std::vector<double>& v) {
  double m = 0;
  for (double x : v)
    if (std::isfinite(x)) m = std::max(m, x);
  return m;
}

void run_eval_attention(const EvalAttentionArgs& a, int& exit_code) {
  std::vector<std::string> targets;
  if (!a.save.empty()) {
    targets = save_targets(a.save);
    install_interrupt_cleanup();
    for (const std::string& t : targets) check_output_file_writable(t, "--save");
  }
  const AttentionInputs in = read_attention_inputs(a.attention);
  const std::size_t o_elements = static_cast<std::size_t>(in.batch() * in.heads() *
                                                          in.seqlen_q() * in.value_dim());
  if (a.json && o_elements > kMaxJsonElements)
    throw CLI::ValidationError("--json", fmt::format("O has {} elements; --json prints at most "
                                                     "{} (use --save for large outputs)",
                                                     o_elements, kMaxJsonElements));
  MidpointRadiusOptions options;
  options.scale = in.problem.scale;
  options.keys = in.problem.keys;
  options.softcap = in.problem.softcap;
  const AttentionEnclosure e =
      midpoint_radius_attention(in.view(in.q), in.view(in.k), in.view(in.v), options);

  const std::size_t rank = in.q.tensor.rank();
  const auto o_shape = layout_shape(in.layout, rank, in.batch(), in.heads(), in.seqlen_q(),
                                    in.value_dim());
  std::vector<std::size_t> lse_shape = {static_cast<std::size_t>(in.batch()),
                                        static_cast<std::size_t>(in.heads()),
                                        static_cast<std::size_t>(in.seqlen_q())};
  lse_shape.erase(lse_shape.begin(), lse_shape.begin() + static_cast<std::ptrdiff_t>(4 - rank));
  const auto user = [&](const std::vector<double>& bhld) {
    return to_layout(bhld, in.layout, in.batch(), in.heads(), in.seqlen_q(), in.value_dim());
  };
  const std::vector<double> o_mid = user(e.output_mid), o_rad = user(e.output_rad);

  if (!targets.empty()) {
    if (targets.size() == 1) {
      write_file_atomically(targets[0],
                            safetensors_bytes({{"o_mid", ElementType::f64, o_shape, &o_mid},
                                               {"o_rad", ElementType::f64, o_shape, &o_rad},
                                               {"lse_mid", ElementType::f64, lse_shape, &e.lse_mid},
                                               {"lse_rad", ElementType::f64, lse_shape, &e.lse_rad}}));
    } else {
      write_file_atomically(targets[0], npy_bytes(o_shape, o_mid));
      write_file_atomically(targets[1], npy_bytes(o_shape, o_rad));
      write_file_atomically(targets[2], npy_bytes(lse_shape, e.lse_mid));
      write_file_atomically(targets[3], npy_bytes(lse_shape, e.lse_rad));
    }
  }
  const std::size_t in_double = e.count(RowTier::Double), masked = e.count(RowTier::Masked),
                    in_arb = e.count(RowTier::BallOutOfRange) + e.count(RowTier::BallRefined);
  if (a.json) {
    nlohmann::json doc = {
        {"tier", "enclosure: every exact O and lse lies in [mid - rad, mid + rad]"},
        {"layout", layout_name(in.layout)},
        {"o", {{"shape", o_shape}, {"mid", array_json(o_mid)}, {"rad", array_json(o_rad)}}},
        {"lse", {{"shape", lse_shape}, {"mid", array_json(e.lse_mid)}, {"rad", array_json(e.lse_rad)}}},
        {"rows", {{"double", in_double}, {"masked", masked}, {"arb", in_arb}}}};
    if (!targets.empty()) doc["saved"] = targets;
    fmt::print("{}\n", doc.dump(2));
  } else {
    fmt::print("O [{}] ({}): every exact entry lies in mid ± rad; largest rad {:.3g} (relative "
               "to max|O| {:.3g})\n",
               fmt::join(o_shape, ", "), layout_name(in.layout), max_of(e.output_rad),
               e.largest_relative_radius());
    fmt::print("lse [{}]: largest rad {:.3g}\n", fmt::join(lse_shape, ", "), max_of(e.lse_rad));
    fmt::print("rows: {} by the double enclosure, {} in Arb balls, {} without a visible key "
               "(O = 0, lse = -inf exactly)\n", in_double, in_arb, masked);
    if (!targets.empty()) fmt::print("saved: {}\n", fmt::join(targets, ", "));
  }
  exit_code = kAllHold;
}

}  // namespace

void add_eval_attention_command(CLI::App& eval, int& exit_code) {
  auto args = std::make_shared<EvalAttentionArgs>();
  CLI::App* cmd = eval.add_subcommand(
      "attention", "Certified softmax attention O and log-sum-exp for given Q, K, V: every "
                   "printed or saved mid ± rad contains the exact value");
  add_attention_options(cmd, args->attention);
  cmd->add_option("--save", args->save,
                  "NAME.safetensors (tensors o_mid, o_rad in the input layout, lse_mid, lse_rad "
                  "as (batch, heads, seqlen_q); float64) or NAME.npy (NAME.npy, NAME.rad.npy, "
                  "NAME.lse.npy, NAME.lse.rad.npy)");
  cmd->add_flag("--json", args->json,
                fmt::format("print every midpoint and radius as JSON (at most {} O elements; "
                            "numbers read back to the exact doubles)", kMaxJsonElements));
  cmd->callback([args, &exit_code] { run_eval_attention(*args, exit_code); });
}

}  // namespace attncert::cli
