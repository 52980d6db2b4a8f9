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

namespace attncert::cli {
namespace {

struct EvalOptions {
  std::string quantity;
  std::string logits;
  std::string input;
  double temperature = 1.0;
  long precision = 128;
  bool json = false;
};

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
  cmd->add_option("quantity", opts->quantity, "softmax, log_softmax, log_sum_exp, entropy, "
                                              "alpha_max, alpha_min")
      ->required()
      ->check(CLI::IsMember(
          {"softmax", "log_softmax", "log_sum_exp", "entropy", "alpha_max", "alpha_min"}));
  auto* src = cmd->add_option_group("source", "where the logits come from");
  src->add_option("--logits", opts->logits, "comma-separated logits, -inf masks an entry");
  src->add_option("--input", opts->input, ".npy file: one row (1-D) or one row per line (2-D)");
  src->require_option(1);
  cmd->add_option("-T,--temperature", opts->temperature, "temperature T > 0 (α = softmax(l/T))")
      ->capture_default_str();
  cmd->add_option("-p,--precision", opts->precision, "working precision in bits [2, 1000000]")
      ->capture_default_str();
  cmd->add_flag("--json", opts->json, "print JSON instead of text");
  cmd->callback([opts, &exit_code] { exit_code = run_eval(*opts); });
}

}  // namespace attncert::cli
