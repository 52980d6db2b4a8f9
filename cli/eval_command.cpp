#include "cli/eval_command.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/exit_codes.hpp"
#include "numerics/ball.hpp"
#include "numerics/npy.hpp"
#include "numerics/precision.hpp"
#include "numerics/softmax.hpp"
#include "theory/quantities.hpp"

namespace attncert::cli {
namespace {

struct EvalOptions {
  std::string quantity;
  std::string logits;
  std::string input;
  std::vector<std::string> arrays;  // NAME=FILE.npy
  std::vector<std::string> sets;    // NAME=VALUE
  double temperature = 1.0;
  long precision = 128;
  bool json = false;
};

std::string interval_text(const Ball& b);
nlohmann::json ball_json(const Ball& b);

bool is_row_quantity(const std::string& q) {
  return q == "softmax" || q == "log_softmax" || q == "log_sum_exp" || q == "entropy" ||
         q == "alpha_max" || q == "alpha_min";
}

std::pair<std::string, std::string> split_assignment(const std::string& text, const char* option) {
  const std::size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
    throw std::invalid_argument(fmt::format("{} '{}': expected NAME=VALUE", option, text));
  }
  return {text.substr(0, eq), text.substr(eq + 1)};
}

// `eval QUANTITY --array q=q.npy --array K=K.npy --set N=3`: any named quantity of the catalog,
// certified, on arrays a user exported (e.g. from PyTorch with numpy.save).
int run_eval_quantity(const EvalOptions& o) {
  Instance x;
  for (const std::string& a : o.arrays) {
    const auto [name, path] = split_assignment(a, "--array");
    if (name != "logits" && name != "q" && name != "K" && name != "X") {
      throw std::invalid_argument(fmt::format("--array {}: unknown array (logits, q, K or X)", name));
    }
    const NpyArray npy = read_npy(path);
    if (npy.rank() < 1 || npy.rank() > 2 || npy.size() == 0) {
      throw std::invalid_argument(fmt::format("{}: expected a non-empty 1-D or 2-D array, got rank {} with {} entries",
                                              path, npy.rank(), npy.size()));
    }
    const auto rows = npy.rank() == 1 ? std::size_t{1} : npy.shape[0];
    const auto cols = npy.rank() == 1 ? npy.shape[0] : npy.shape[1];
    RowMatrix<double> m(rows, cols);
    for (std::size_t i = 0; i < npy.size(); ++i) {
      const double v = npy.data[i];
      const bool masked_logit = name == "logits" && v == -INFINITY;
      if (std::isnan(v) || (std::isinf(v) && !masked_logit)) {
        throw std::domain_error(fmt::format("{}: entry [{}, {}] is {}", path, i / cols, i % cols,
                                            std::isnan(v) ? "NaN" : "infinite"));
      }
      m.data()[i] = v;
    }
    x.arrays[name] = std::move(m);
  }
  for (const std::string& a : o.sets) {
    const auto [name, value] = split_assignment(a, "--set");
    std::size_t used = 0;
    double v = 0;
    try {
      v = std::stod(value, &used);
    } catch (...) {
      used = 0;
    }
    if (used != value.size() || !std::isfinite(v)) {
      throw std::invalid_argument(fmt::format("--set {}: '{}' is not a finite number", name, value));
    }
    x.scalars[name] = v;
  }
  x.scalars["T"] = o.temperature;
  const Ball value = quantity<Ball>(o.quantity, x, TierContext<Ball>{o.precision});
  if (o.json) {
    nlohmann::json doc = {{"quantity", o.quantity},
                          {"precision_bits", o.precision},
                          {"tier", "enclosure (Arb balls): the interval contains the exact value"},
                          {"value", ball_json(value)}};
    fmt::print("{}\n", doc.dump(2));
  } else {
    fmt::print("{:<16} {}  ∈ {}\n", o.quantity, value.str(20), interval_text(value));
  }
  return kAllHold;
}

// Parses "1.5,-inf,2" with one error line naming the offending item.
std::vector<double> parse_list(const std::string& text) {
  std::vector<double> out;
  std::size_t start = 0;
  int index = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, end - start);
    const char* begin = item.c_str();
    char* stop = nullptr;
    errno = 0;
    const double v = std::strtod(begin, &stop);
    if (item.empty() || stop == begin || *stop != '\0' || errno == ERANGE) {
      throw std::invalid_argument(
          fmt::format("--logits: item {} ('{}', column {}) is not a number", index, item, start + 1));
    }
    out.push_back(v);
    start = end + 1;
    ++index;
  }
  return out;
}

struct Rows {
  std::vector<std::vector<double>> rows;
  std::string origin;
};

Rows load_rows(const EvalOptions& o) {
  Rows r;
  if (!o.logits.empty()) {
    r.rows.push_back(parse_list(o.logits));
    r.origin = "--logits";
  } else {
    const NpyArray a = read_npy(o.input);
    r.origin = o.input;
    if (a.rank() == 1) {
      r.rows.emplace_back(a.data.begin(), a.data.end());
    } else if (a.rank() == 2) {
      for (std::size_t i = 0; i < a.shape[0]; ++i) {
        r.rows.emplace_back(a.data.begin() + i * a.shape[1], a.data.begin() + (i + 1) * a.shape[1]);
      }
    } else {
      throw std::invalid_argument(fmt::format(
          "{}: expected a 1-D logit row or a 2-D array of rows, got rank {}", o.input, a.rank()));
    }
  }
  if (r.rows.empty() || r.rows.front().empty()) {
    throw std::invalid_argument(fmt::format("{}: no logits (empty input)", r.origin));
  }
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    for (std::size_t j = 0; j < r.rows[i].size(); ++j) {
      const double v = r.rows[i][j];
      if (std::isnan(v) || v == INFINITY) {
        throw std::domain_error(fmt::format("{}: logit [{}, {}] is {} (only finite values and "
                                            "-inf for a masked entry are allowed)",
                                            r.origin, i, j, std::isnan(v) ? "NaN" : "+inf"));
      }
    }
  }
  return r;
}

std::string interval_text(const Ball& b) {
  return fmt::format("[{:.17g}, {:.17g}]", b.lower(), b.upper());
}

nlohmann::json ball_json(const Ball& b) {
  return {{"mid", b.str(40)}, {"lower", b.lower()}, {"upper", b.upper()},
          {"radius", b.radius()}};
}

int run_eval(const EvalOptions& o) {
  require_precision(o.precision, "--precision");
  if (!(o.temperature > 0) || !std::isfinite(o.temperature)) {
    throw std::invalid_argument(
        fmt::format("--temperature must be finite and > 0, got {}", o.temperature));
  }
  if (!o.arrays.empty()) return run_eval_quantity(o);
  if (!is_row_quantity(o.quantity)) {
    throw std::invalid_argument(fmt::format(
        "{} needs named inputs: give --array NAME=FILE.npy (logits, q, K, X) instead of "
        "--logits/--input", o.quantity));
  }
  const Rows rows = load_rows(o);
  const Ball T(o.temperature, o.precision);
  nlohmann::json all = nlohmann::json::array();
  for (std::size_t r = 0; r < rows.rows.size(); ++r) {
    std::vector<Ball> l;
    l.reserve(rows.rows[r].size());
    for (double v : rows.rows[r]) l.emplace_back(v, o.precision);
    std::vector<Ball> values;
    if (o.quantity == "softmax") {
      values = softmax<Ball>(l, T);
    } else if (o.quantity == "log_softmax") {
      values = log_softmax<Ball>(l, T);
    } else if (o.quantity == "log_sum_exp") {
      values = {log_sum_exp<Ball>(l, T)};
    } else if (o.quantity == "entropy") {
      values = {entropy<Ball>(l, T)};
    } else if (o.quantity == "alpha_max" || o.quantity == "alpha_min") {
      const std::vector<Ball> a = softmax<Ball>(l, T);
      Ball m = a.front();
      for (const Ball& x : a) m = o.quantity == "alpha_max" ? max(m, x) : min(m, x);
      values = {m};
    }
    nlohmann::json row = nlohmann::json::array();
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (o.json) {
        row.push_back(ball_json(values[i]));
      } else {
        const std::string label =
            values.size() == 1 ? o.quantity : fmt::format("{}[{}]", o.quantity, i);
        fmt::print("{}{:<16} {}  ∈ {}\n", rows.rows.size() > 1 ? fmt::format("row {} ", r) : "",
                   label, values[i].str(20), interval_text(values[i]));
      }
    }
    all.push_back(row);
  }
  if (o.json) {
    nlohmann::json doc = {{"quantity", o.quantity},
                          {"temperature", o.temperature},
                          {"precision_bits", o.precision},
                          {"tier", "enclosure (Arb balls): every interval contains the exact value"},
                          {"rows", all}};
    fmt::print("{}\n", doc.dump(2));
  }
  return kAllHold;
}

}  // namespace

void add_eval_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<EvalOptions>();
  CLI::App* cmd = app.add_subcommand(
      "eval", "Certified value of a quantity on given logits (every printed interval contains "
              "the exact value)");
  cmd->add_option("quantity", opts->quantity,
                  "softmax, log_softmax (vectors), or any named quantity: log_sum_exp, entropy, "
                  "alpha_max, alpha_min, lse, jacobian_norm, Delta, sigma_min, rank, "
                  "effective_rank, stable_rank, spectral_gap, dtilde_A/B/C, …")
      ->required()
      ->check([](const std::string& q) -> std::string {
        if (is_row_quantity(q)) return "";
        for (const auto& k : known_quantities()) {
          if (k.name == q) return "";
        }
        return "unknown quantity '" + q + "' (see `attncert eval --help`)";
      });
  auto* src = cmd->add_option_group("source", "where the logits come from");
  src->add_option("--logits", opts->logits, "comma-separated logits, -inf masks an entry");
  src->add_option("--input", opts->input, ".npy file: one row (1-D) or one row per line (2-D)");
  src->add_option("--array", opts->arrays,
                  "NAME=FILE.npy for NAME in logits (1×L), q (1×d), K, X (L×d); repeatable");
  src->require_option(1);
  cmd->add_option("-T,--temperature", opts->temperature, "temperature T > 0 (α = softmax(l/T))")
      ->capture_default_str();
  cmd->add_option("-p,--precision", opts->precision, "working precision in bits [2, 1000000]")
      ->capture_default_str();
  cmd->add_option("--set", opts->sets, "NAME=VALUE for a scalar such as N (top-N size); repeatable");
  cmd->add_flag("--json", opts->json, "print JSON instead of text");
  cmd->callback([opts, &exit_code] { exit_code = run_eval(*opts); });
}

}  // namespace attncert::cli
