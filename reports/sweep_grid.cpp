#include "reports/sweep_grid.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <stdexcept>

namespace attncert::sweeps {
namespace {

std::string_view trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

std::invalid_argument axis_error(std::string_view axis, std::string_view what) {
  return std::invalid_argument(fmt::format("--grid axis '{}': {}", axis, what));
}

// Splits at commas outside braces. An unbalanced brace is reported by the caller's item parser.
std::vector<std::string_view> split_top_level(std::string_view text) {
  std::vector<std::string_view> parts;
  int depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '{') ++depth;
    if (text[i] == '}') --depth;
    if (text[i] == ',' && depth == 0) {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(text.substr(start));
  return parts;
}

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  const auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(name.front())) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return alpha(c) || (c >= '0' && c <= '9'); });
}

double parse_number(std::string_view axis, std::string_view token) {
  token = trim(token);
  std::string_view digits = token;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  double v = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
    if (ec == std::errc::result_out_of_range) {
      throw axis_error(axis, fmt::format("'{}' is out of the range of a double", token));
    }
    throw axis_error(axis, fmt::format("'{}' is not a number", token));
  }
  if (!std::isfinite(v)) throw axis_error(axis, fmt::format("'{}' is not finite", token));
  return v;
}

// A generated value rounded to 15 significant digits (hides the last-bit noise of A + k·S).
// fmt and from_chars are locale-independent (strtod would read "1.5" as 1 under a decimal comma).
double clean(double v) {
  const std::string text = fmt::format("{:.15g}", v);
  double out = v;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || end != text.data() + text.size()) return v;  // cannot happen for finite v
  return out;
}

// A point count as digits while it is readable, else as 1e+300 (a step like +1e-300 gives a
// count with hundreds of digits).
std::string count_text(double count) {
  return count < 1e15 ? fmt::format("{:.0f}", count) : fmt::format("{:.3g}", count);
}

void check_count(std::string_view axis, double count) {
  if (!(count <= static_cast<double>(kMaxAxisPoints))) {
    throw axis_error(axis, fmt::format("{} points, more than the cap of {}", count_text(count), kMaxAxisPoints));
  }
}

long parse_count(std::string_view axis, std::string_view step, std::string_view digits) {
  const double k = parse_number(axis, digits);
  if (k != std::floor(k) || k < 1) {
    throw axis_error(axis, fmt::format("step ':{}' needs a whole number of points >= 1", step));
  }
  check_count(axis, k);
  return static_cast<long>(k);
}

std::vector<double> parse_range(std::string_view axis, std::string_view spec, std::size_t dots) {
  const std::string_view left = spec.substr(0, dots);
  std::string_view right = spec.substr(dots + 2);
  std::string_view step = "+1";
  if (const std::size_t colon = right.find(':'); colon != std::string_view::npos) {
    step = trim(right.substr(colon + 1));
    right = right.substr(0, colon);
  }
  const double a = parse_number(axis, left);
  const double b = parse_number(axis, right);
  if (a > b) throw axis_error(axis, fmt::format("empty range {}..{} (start above end)", trim(left), trim(right)));
  constexpr double kSlack = 1e-9;  // B counts as on the progression within this relative slack
  std::vector<double> values;
  const auto need_positive = [&] {
    if (!(a > 0)) throw axis_error(axis, fmt::format("geometric step ':{}' needs a start > 0", step));
  };
  if (step.size() > 1 && step.front() == '+') {
    const double s = parse_number(axis, step.substr(1));
    if (!(s > 0)) throw axis_error(axis, fmt::format("step ':{}' must be > 0", step));
    const double count = std::floor((b - a) / s + kSlack) + 1;
    check_count(axis, count);
    for (long k = 0; k < static_cast<long>(count); ++k) values.push_back(clean(a + static_cast<double>(k) * s));
  } else if ((step.size() > 1 && step.front() == 'x') || step.substr(0, 3) == "log") {
    const double f = parse_number(axis, step.substr(step.front() == 'x' ? 1 : 3));
    if (!(f > 1)) throw axis_error(axis, fmt::format("step ':{}' needs a factor > 1", step));
    need_positive();
    const double count = std::floor(std::log(b / a) / std::log(f) + kSlack) + 1;
    check_count(axis, count);
    for (long k = 0; k < static_cast<long>(count); ++k) {
      values.push_back(clean(a * std::pow(f, static_cast<double>(k))));
    }
  } else if (step.substr(0, 3) == "lin" || (step.size() > 1 && step.front() == 'n')) {
    const bool linear = step.front() == 'l';
    const long k = parse_count(axis, step, step.substr(linear ? 3 : 1));
    if (!linear) need_positive();
    if (k == 1 && a != b) throw axis_error(axis, fmt::format("step ':{}' gives one point but {} != {}", step, a, b));
    for (long i = 0; i < k; ++i) {
      const double t = k == 1 ? 0.0 : static_cast<double>(i) / static_cast<double>(k - 1);
      values.push_back(i == 0 ? a : i == k - 1 ? b
                                  : clean(linear ? a + t * (b - a) : a * std::pow(b / a, t)));
    }
  } else {
    throw axis_error(axis, fmt::format("unknown step ':{}' (use +S, xF, logF, nK or linK)", step));
  }
  // Geometric and linear spacings can collapse distinct points onto one value (e.g. 1..1:n3).
  for (std::size_t i = 1; i < values.size(); ++i) {
    if (values[i] == values[i - 1]) {
      throw axis_error(axis, fmt::format("range {} gives the value {} twice", spec, values[i]));
    }
  }
  return values;
}

std::vector<double> parse_values(std::string_view axis, std::string_view spec) {
  if (spec.empty()) throw axis_error(axis, "no value after '='");
  if (spec.front() == '{' || spec.back() == '}') {
    if (spec.front() != '{' || spec.back() != '}' || spec.size() < 2) {
      throw axis_error(axis, fmt::format("'{}' is not a list {{a,b,...}}", spec));
    }
    const std::string_view inner = trim(spec.substr(1, spec.size() - 2));
    if (inner.empty()) throw axis_error(axis, "empty list {}");
    if (inner.find_first_of("{}") != std::string_view::npos) {
      throw axis_error(axis, "nested braces in a list");
    }
    std::vector<double> values;
    for (std::string_view item : split_top_level(inner)) {
      if (trim(item).empty()) throw axis_error(axis, "empty entry in a list");
      const double v = parse_number(axis, item);
      if (std::find(values.begin(), values.end(), v) != values.end()) {
        throw axis_error(axis, fmt::format("the list repeats the value {}", v));
      }
      values.push_back(v);
      check_count(axis, static_cast<double>(values.size()));
    }
    return values;
  }
  if (const std::size_t dots = spec.find(".."); dots != std::string_view::npos) {
    return parse_range(axis, spec, dots);
  }
  return {parse_number(axis, spec)};
}

std::string_view declared_values(const AxisSpec& axis, bool quick) {
  return quick && !axis.quick_values.empty() ? axis.quick_values : axis.values;
}

// The first problem of `values` for `axis` ("" when they are admissible).
std::string value_problem(const AxisSpec& axis, const std::vector<double>& values) {
  if (values.empty()) return "no values";
  if (axis.single && values.size() != 1) return fmt::format("takes one value, got {}", values.size());
  for (double v : values) {
    if (!(v >= axis.min && v <= axis.max)) return fmt::format("{} is outside [{}, {}]", v, axis.min, axis.max);
    if (axis.integer && v != std::floor(v)) return fmt::format("{} is not a whole number", v);
  }
  return "";
}

}  // namespace

Grid parse_grid(std::string_view text) {
  Grid grid;
  text = trim(text);
  if (text.empty()) return grid;
  int depth = 0;
  for (char c : text) {
    depth += c == '{' ? 1 : c == '}' ? -1 : 0;
    if (depth < 0 || depth > 1) break;
  }
  if (depth != 0) throw std::invalid_argument(fmt::format("--grid '{}': unbalanced or nested braces", text));
  for (std::string_view item : split_top_level(text)) {
    item = trim(item);
    if (item.empty()) throw std::invalid_argument(fmt::format("--grid '{}': an empty axis (stray ',')", text));
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      throw std::invalid_argument(fmt::format("--grid '{}': expected NAME=VALUES", item));
    }
    const std::string_view name = trim(item.substr(0, eq));
    if (!valid_name(name)) {
      throw std::invalid_argument(fmt::format("--grid '{}': '{}' is not an axis name (letters, digits, _)", item, name));
    }
    if (grid.find(name)) throw axis_error(name, "given twice in one --grid");
    grid.axes.push_back({std::string(name), parse_values(name, trim(item.substr(eq + 1)))});
  }
  return grid;
}

std::string grid_text(const Grid& grid) {
  std::vector<std::string> axes;
  for (const GridAxis& axis : grid.axes) axes.push_back(fmt::format("{}={{{}}}", axis.name, fmt::join(axis.values, ",")));
  return fmt::format("{}", fmt::join(axes, ", "));
}

Grid merge_grids(const Grid& base, const Grid& later) {
  Grid out = base;
  for (const GridAxis& axis : later.axes) {
    auto it = std::find_if(out.axes.begin(), out.axes.end(),
                           [&](const GridAxis& a) { return a.name == axis.name; });
    if (it != out.axes.end()) {
      it->values = axis.values;
    } else {
      out.axes.push_back(axis);
    }
  }
  return out;
}

Grid declared_grid(const std::vector<AxisSpec>& axes, bool quick) {
  Grid grid;
  for (const AxisSpec& axis : axes) {
    const std::string text = fmt::format("{}={}", axis.name, declared_values(axis, quick));
    grid.axes.push_back(parse_grid(text).axes.at(0));
  }
  return grid;
}

std::string declared_grid_text(const std::vector<AxisSpec>& axes, bool quick) {
  std::vector<std::string> parts;
  for (const AxisSpec& axis : axes) parts.push_back(fmt::format("{}={}", axis.name, declared_values(axis, quick)));
  return fmt::format("{}", fmt::join(parts, ", "));
}

Grid complete_grid(const Grid& given, const std::vector<AxisSpec>& axes, std::string_view experiment, bool quick) {
  for (const GridAxis& axis : given.axes) {
    if (std::none_of(axes.begin(), axes.end(), [&](const AxisSpec& a) { return a.name == axis.name; })) {
      std::vector<std::string_view> known;
      for (const AxisSpec& a : axes) known.push_back(a.name);
      throw std::invalid_argument(fmt::format("--grid axis '{}': sweep {} has no such axis (its axes: {})",
                                              axis.name, experiment, fmt::join(known, ", ")));
    }
  }
  Grid grid;
  double points = 1;
  for (const AxisSpec& spec : axes) {
    const GridAxis* named = given.find(spec.name);
    GridAxis axis = named ? *named : declared_grid({spec}, quick).axes.at(0);
    if (const std::string problem = value_problem(spec, axis.values); !problem.empty()) {
      if (!named) {
        throw std::logic_error(fmt::format("sweep {} declares axis '{}' with values it refuses: {}", experiment,
                                           spec.name, problem));
      }
      throw axis_error(spec.name, fmt::format("{} ({})", problem, spec.meaning));
    }
    points *= static_cast<double>(axis.values.size());
    grid.axes.push_back(std::move(axis));
  }
  if (points > kMaxGridPoints) {
    throw std::invalid_argument(fmt::format("--grid: {} has {} grid points, more than the cap of {}",
                                            experiment, count_text(points), count_text(kMaxGridPoints)));
  }
  return grid;
}

double grid_work(const Experiment& experiment, const Grid& grid) {
  if (!experiment.work) return 0;
  // Odometer over the axes (the point cap keeps this at most kMaxGridPoints evaluations).
  std::vector<std::size_t> at(grid.axes.size(), 0);
  for (const GridAxis& axis : grid.axes) {
    if (axis.values.empty()) return 0;
  }
  double total = 0;
  std::map<std::string, double> point;
  while (true) {
    for (std::size_t a = 0; a < grid.axes.size(); ++a) point[grid.axes[a].name] = grid.axes[a].values[at[a]];
    total += experiment.work(point);
    std::size_t a = 0;
    while (a < at.size() && ++at[a] == grid.axes[a].values.size()) at[a++] = 0;
    if (a == at.size()) return total;
  }
}

Grid resolve_grid(const Experiment& experiment, bool quick, const std::vector<std::string>& grid_texts) {
  Grid given;
  for (const std::string& text : grid_texts) given = merge_grids(given, parse_grid(text));
  const Grid grid = complete_grid(given, experiment.axes, experiment.name, quick);
  const double work = grid_work(experiment, grid);
  if (work > kMaxWorkUnits) {
    throw std::invalid_argument(fmt::format(
        "--grid: sweep {} would need about {:.3g} work units (sum over the grid points of {}), more than the cap "
        "of {:.3g}; reduce those axes",
        experiment.name, work, experiment.work_formula, kMaxWorkUnits));
  }
  return grid;
}

const std::vector<double>& axis_values(const Grid& grid, std::string_view name) {
  const GridAxis* axis = grid.find(name);
  if (!axis || axis->values.empty()) {
    throw std::invalid_argument(fmt::format("the grid has no values for axis '{}'", name));
  }
  return axis->values;
}

}  // namespace attncert::sweeps
