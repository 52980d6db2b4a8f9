#include "cli/eval_command.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/eval_attention_command.hpp"
#include "cli/exit_codes.hpp"
#include "numerics/ball.hpp"
#include "numerics/npy.hpp"
#include "numerics/precision.hpp"
#include "numerics/softmax.hpp"
#include "theory/decimal_literal.hpp"
#include "theory/expression.hpp"
#include "theory/quantities.hpp"

namespace attncert::cli {
namespace {

struct EvalOptions {
  std::string quantity;
  std::string logits;
  std::string input;
  std::vector<std::string> arrays;  // NAME=FILE.npy
  std::vector<std::string> sets;    // NAME=VALUE
  std::string temperature = "1";    // text: the exact decimal is meant
  long precision = 128;
  bool json = false;
};

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

// A number given as text on the command line, as the exact decimal it spells.
DecimalLiteral option_number(const std::string& text, const std::string& option) {
  try {
    return parse_decimal(text);
  } catch (const ParseError& e) {
    throw std::invalid_argument(fmt::format("{} '{}': not a number ({})", option, text, e.detail()));
  }
}

// A .npy file's entries as the exact values the file holds. Floats widen to double exactly;
// 64-bit integers beyond 2^53 in magnitude were rounded when read (the reader widens to
// double), so they are refused rather than silently changed.
NpyArray read_exact_npy(const std::string& path) {
  NpyArray a = read_npy(path);
  const bool wide_integer = a.source_dtype.size() >= 3 && a.source_dtype[1] != 'f' &&
                            a.source_dtype.substr(2) == "8";
  if (wide_integer) {
    constexpr double kExactLimit = 9007199254740992.0;  // 2^53: above it, not every integer is a double
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (std::fabs(a.data[i]) >= kExactLimit) {
        throw std::invalid_argument(fmt::format(
            "{}: entry {} ({}) of a {} array is not below 2^53 in magnitude and cannot be read "
            "exactly (the reader widens to double); give such logits as text (--logits)",
            path, i, a.data[i], a.source_dtype));
      }
    }
  }
  return a;
}

// Every printed value must be a finite enclosure: a NaN, an infinity or an infinite-radius
// ball (an undefined or undecided value) is an error, never a result. The one exception is a
// masked entry's log probability, exactly -inf (log 0).
void require_enclosure(const Ball& b, const std::string& label, long precision,
                       bool masked_log_probability) {
  if (b.is_finite() || (masked_log_probability && b.is_exact() && b.mid() == -INFINITY)) return;
  throw std::domain_error(fmt::format(
      "{}: no finite enclosure at {} bits (the value is undefined at this input, or not "
      "decidable at this precision; try a larger -p)",
      label, precision));
}

std::string interval_text(const Ball& b) {
  return fmt::format("[{:.17g}, {:.17g}]", b.lower(), b.upper());
}

nlohmann::json ball_json(const Ball& b) {
  return {{"mid", b.mid_str()}, {"lower", b.lower()}, {"upper", b.upper()},
          {"radius", b.radius()}};
}

// The arrays of the --array form, checked against each other: the sizes L (logits, rows of K
// and X) and d (q, columns of K) are derived from them.
struct ArrayInputs {
  Instance instance;
  std::map<std::string, std::pair<long, std::string>> derived;  // L, d -> value, which array says so
};

void derive_size(ArrayInputs& in, const std::string& size, long value, const std::string& array) {
  const auto [it, fresh] = in.derived.try_emplace(size, value, array);
  if (!fresh && it->second.first != value) {
    throw std::invalid_argument(fmt::format("shape mismatch: {} gives {} = {} but {} gives {} = {}",
                                            it->second.second, size, it->second.first, array,
                                            size, value));
  }
}

ArrayInputs read_arrays(const EvalOptions& o) {
  ArrayInputs in;
  for (const std::string& a : o.arrays) {
    const auto [name, path] = split_assignment(a, "--array");
    const Quantity* row = default_quantities().find(name);
    if (row == nullptr || row->kind != QuantityKind::VectorInput) {
      throw std::invalid_argument(fmt::format(
          "--array {}: unknown array ({})", name,
          fmt::join(default_quantities().names({QuantityKind::VectorInput}), ", ")));
    }
    if (in.instance.has_array(name)) {
      throw std::invalid_argument(fmt::format("--array {}: given twice", name));
    }
    const NpyArray npy = read_exact_npy(path);
    if (npy.rank() < 1 || npy.rank() > 2 || npy.size() == 0) {
      throw std::invalid_argument(fmt::format("{}: expected a non-empty 1-D or 2-D array, got rank {} with {} entries",
                                              path, npy.rank(), npy.size()));
    }
    const auto rows = npy.rank() == 1 ? std::size_t{1} : npy.shape[0];
    const auto cols = npy.rank() == 1 ? npy.shape[0] : npy.shape[1];
    const bool vector = name == "logits" || name == "q";
    if (vector && rows != 1) {
      throw std::invalid_argument(fmt::format("--array {}: {} is {}x{}, expected one row (1-D)",
                                              name, path, rows, cols));
    }
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
    const auto r = static_cast<long>(rows), c = static_cast<long>(cols);
    const std::string from = "--array " + name;
    if (name == "logits") derive_size(in, "L", c, from);
    if (name == "q") derive_size(in, "d", c, from);
    if (name == "K") derive_size(in, "L", r, from), derive_size(in, "d", c, from);
    if (name == "X") derive_size(in, "L", r, from);
    in.instance.arrays[name] = std::move(m);
  }
  return in;
}

// --set NAME=VALUE: a parameter of the registry other than T (given by -T). A size the arrays
// already fix (L, d) must agree with them.
void apply_sets(const EvalOptions& o, ArrayInputs& in) {
  for (const std::string& a : o.sets) {
    const auto [name, text] = split_assignment(a, "--set");
    const Quantity* q = default_quantities().find(name);
    const bool parameter = q && (q->kind == QuantityKind::IntegerParameter ||
                                 q->kind == QuantityKind::RealParameter);
    if (name == "T") throw std::invalid_argument("--set T: give the temperature with -T");
    if (!parameter) {
      throw std::invalid_argument(fmt::format(
          "--set {}: not a parameter (parameters: {})", name,
          fmt::join(default_quantities().names({QuantityKind::IntegerParameter}), ", ")));
    }
    if (in.instance.has_scalar(name)) throw std::invalid_argument(fmt::format("--set {}: given twice", name));
    const double v = option_number(text, "--set " + name).value;
    const bool integer = q->kind == QuantityKind::IntegerParameter;
    if (!std::isfinite(v) || (integer && v != std::floor(v)) || v < q->minimum ||
        (q->minimum_is_open && v == q->minimum) || (integer && v > 1e15)) {
      throw std::invalid_argument(fmt::format("--set {}: '{}' is not {} >= {}", name, text,
                                              integer ? "an integer" : "a number", q->minimum));
    }
    if (const auto it = in.derived.find(name); it != in.derived.end() && it->second.first != v) {
      throw std::invalid_argument(fmt::format("--set {}={} disagrees with the arrays ({} gives {} = {})",
                                              name, text, it->second.second, name, it->second.first));
    }
    in.instance.scalars[name] = v;
  }
}

// `eval QUANTITY --array q=q.npy --array K=K.npy --set N=3`: any named quantity of the catalog,
// certified, on arrays a user exported (e.g. from PyTorch with numpy.save). The instance holds
// doubles, so here -T is the double nearest the text (stated in --help and README).
int run_eval_quantity(const EvalOptions& o, double temperature) {
  ArrayInputs in = read_arrays(o);
  apply_sets(o, in);
  in.instance.scalars["T"] = temperature;
  const Ball value = quantity<Ball>(o.quantity, in.instance, TierContext<Ball>{o.precision});
  require_enclosure(value, o.quantity, o.precision, false);
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

// One item of --logits: the exact decimal, or -inf for a masked entry.
Ball logit_ball(const std::string& item, std::size_t index, std::size_t column, long prec) {
  std::string lower = item;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "-inf" || lower == "-infinity") return Ball(-INFINITY, prec);
  if (lower == "nan" || lower == "+nan" || lower == "-nan" || lower == "inf" || lower == "+inf" ||
      lower == "infinity" || lower == "+infinity") {
    throw std::domain_error(fmt::format("--logits: logit [0, {}] is {} (only finite values and "
                                        "-inf for a masked entry are allowed)",
                                        index, lower.find("nan") != std::string::npos ? "NaN" : "+inf"));
  }
  try {
    return decimal_ball(parse_decimal(item), prec);
  } catch (const ParseError&) {
    throw std::invalid_argument(
        fmt::format("--logits: item {} ('{}', column {}) is not a number", index, item, column));
  }
}

// Rows of logits as balls: --logits text as exact decimals, .npy entries as the exact values
// the file holds.
struct Rows {
  std::vector<std::vector<Ball>> rows;
  std::string origin;
};

Rows load_rows(const EvalOptions& o) {
  Rows r;
  if (!o.logits.empty()) {
    r.origin = "--logits";
    std::vector<Ball> row;
    for (std::size_t start = 0; start <= o.logits.size();) {
      const std::size_t end = std::min(o.logits.find(',', start), o.logits.size());
      row.push_back(logit_ball(o.logits.substr(start, end - start), row.size(), start + 1, o.precision));
      start = end + 1;
    }
    require_unmasked_logit(row, r.origin);
    r.rows.push_back(std::move(row));
    return r;
  }
  const NpyArray a = read_exact_npy(o.input);
  r.origin = o.input;
  if (a.rank() != 1 && a.rank() != 2) {
    throw std::invalid_argument(fmt::format(
        "{}: expected a 1-D logit row or a 2-D array of rows, got rank {}", o.input, a.rank()));
  }
  const std::size_t cols = a.rank() == 1 ? a.size() : a.shape[1];
  if (a.size() == 0 || cols == 0) throw std::invalid_argument(fmt::format("{}: no logits (empty input)", r.origin));
  for (std::size_t i = 0; i * cols < a.size(); ++i) {
    std::vector<Ball> row;
    for (std::size_t j = 0; j < cols; ++j) {
      const double v = a.data[i * cols + j];
      if (std::isnan(v) || v == INFINITY) {
        throw std::domain_error(fmt::format("{}: logit [{}, {}] is {} (only finite values and "
                                            "-inf for a masked entry are allowed)",
                                            r.origin, i, j, std::isnan(v) ? "NaN" : "+inf"));
      }
      row.emplace_back(v, o.precision);
    }
    require_unmasked_logit(row, a.rank() == 2 ? fmt::format("{} row {}", r.origin, i) : r.origin);
    r.rows.push_back(std::move(row));
  }
  return r;
}

int run_eval(const EvalOptions& o) {
  require_precision(o.precision, "--precision");
  const DecimalLiteral temperature = option_number(o.temperature, "--temperature");
  if (!(temperature.value > 0) || temperature.negative || !std::isfinite(temperature.value)) {
    throw std::invalid_argument(
        fmt::format("--temperature must be finite and > 0, got {}", o.temperature));
  }
  if (!o.arrays.empty()) return run_eval_quantity(o, temperature.value);
  if (!o.sets.empty()) throw std::invalid_argument("--set applies to the --array form only");
  if (!is_row_quantity(o.quantity)) {
    throw std::invalid_argument(fmt::format(
        "{} needs named inputs: give --array NAME=FILE.npy (logits, q, K, X) instead of "
        "--logits/--input", o.quantity));
  }
  const Rows rows = load_rows(o);
  const Ball T = decimal_ball(temperature, o.precision);
  nlohmann::json all = nlohmann::json::array();
  std::string text;  // printed once every value is checked: an error leaves no partial output
  for (std::size_t r = 0; r < rows.rows.size(); ++r) {
    const std::vector<Ball>& l = rows.rows[r];
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
      const std::string label =
          values.size() == 1 ? o.quantity : fmt::format("{}[{}]", o.quantity, i);
      const bool masked_entry = o.quantity == "log_softmax" && l[i].mid() == -INFINITY;
      require_enclosure(values[i], label, o.precision, masked_entry);
      if (o.json) {
        row.push_back(ball_json(values[i]));
      } else {
        fmt::format_to(std::back_inserter(text), "{}{:<16} {}  ∈ {}\n",
                       rows.rows.size() > 1 ? fmt::format("row {} ", r) : "", label,
                       values[i].str(20), interval_text(values[i]));
      }
    }
    all.push_back(row);
  }
  if (o.json) {
    nlohmann::json doc = {{"quantity", o.quantity},
                          {"temperature", temperature.value},
                          {"precision_bits", o.precision},
                          {"tier", "enclosure (Arb balls): every interval contains the exact value"},
                          {"rows", all}};
    fmt::print("{}\n", doc.dump(2));
  } else {
    fmt::print("{}", text);
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
                  fmt::format("with --logits/--input: softmax, log_softmax (vectors), log_sum_exp, "
                              "entropy, alpha_max, alpha_min; with --array: {}",
                              fmt::join(computable_quantities(), ", ")))
      ->check([](const std::string& q) -> std::string {
        const std::vector<std::string> known = computable_quantities();
        if (is_row_quantity(q) || std::find(known.begin(), known.end(), q) != known.end()) return "";
        return "unknown quantity '" + q + "' (see `attncert eval --help`)";
      });
  auto* src = cmd->add_option_group("source", "where the logits come from");
  src->add_option("--logits", opts->logits,
                  "comma-separated logits, each the exact decimal written (0.1 is 1/10); -inf "
                  "masks an entry");
  src->add_option("--input", opts->input,
                  ".npy file: one row (1-D) or one row per line (2-D); entries are the exact "
                  "binary values stored (64-bit integers of magnitude >= 2^53 are refused)");
  src->add_option("--array", opts->arrays,
                  "NAME=FILE.npy for NAME in logits (1×L), q (1×d), K, X (L×d); once per name");
  // `eval attention` is a subcommand with its own inputs; every other form needs one source.
  src->require_option(0, 1);
  cmd->add_option("-T,--temperature", opts->temperature, "temperature T > 0 (α = softmax(l/T)), the exact decimal; with --array, the "
                  "nearest double")
      ->capture_default_str();
  cmd->add_option("-p,--precision", opts->precision, "working precision in bits [2, 1000000]")
      ->capture_default_str();
  cmd->add_option("--set", opts->sets, "NAME=VALUE for a parameter such as N (top-N size); L and d must agree with "
                  "the arrays; once per name");
  cmd->add_flag("--json", opts->json, "print JSON instead of text");
  add_eval_attention_command(*cmd, exit_code);
  cmd->callback([cmd, opts, &exit_code] {
    if (cmd->got_subcommand("attention")) return;
    if (opts->quantity.empty())
      throw CLI::RequiredError("quantity (or the subcommand `attention`)");
    if (opts->logits.empty() && opts->input.empty() && opts->arrays.empty())
      throw CLI::RequiredError("one of --logits, --input, --array");
    exit_code = run_eval(*opts);
  });
}

}  // namespace attncert::cli
