#include "proofs_checks/proof_certificate.hpp"

#include <fmt/format.h>
#include <mpfr.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <unordered_map>

#include "proofs_checks/distributed_map.hpp"

namespace attncert {
namespace {

using nlohmann::json;

// A tree deeper than this is not one the prover writes (bisection from a width-40 range reaches
// a double's resolution after ~60 levels per variable, 12 variables at most); the limit keeps
// the recursive reader and checker far from the stack's end on hostile input.
constexpr int kMaxTreeDepth = 4000;
// Working precisions the checker accepts in a leaf (bits); the prover stops at 256 by default.
constexpr long kMinLeafPrecision = 2;
constexpr long kMaxLeafPrecision = 16384;
// A double's exact decimal has at most ~770 significant digits; longer text is not one.
constexpr std::size_t kMaxDecimalChars = 2000;
// The prover takes at most 12 variables per goal (kMaxProofVariables); far more would make the
// checker's n² Hessian workspace the attack surface of a hostile file.
constexpr std::size_t kMaxCertificateVariables = 64;
// Certificates of a few million leaves are a few hundred MiB; larger files are not ours.
constexpr std::uintmax_t kMaxCertificateBytes = 1024ull << 20;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::invalid_argument(fmt::format("{}: {}", path, what));
}

const json& field(const json& j, const std::string& path, const char* key) {
  if (!j.is_object()) fail(path, "expected an object");
  const auto it = j.find(key);
  if (it == j.end()) fail(path, fmt::format("missing field '{}'", key));
  return *it;
}

// Objects in the tree and the boxes are closed: an unknown key there is a tampered or foreign
// node, not an extension (top-level and goal objects may carry extra, unread fields).
void only_keys(const json& j, const std::string& path, std::initializer_list<const char*> keys) {
  for (const auto& [key, value] : j.items()) {
    bool known = false;
    for (const char* k : keys) known = known || key == k;
    if (!known) fail(path, fmt::format("unexpected field '{}'", key));
  }
}

std::string string_field(const json& j, const std::string& path, const char* key) {
  const json& v = field(j, path, key);
  if (!v.is_string()) fail(path + "." + key, "expected a string");
  return v.get<std::string>();
}

std::uint64_t index_value(const json& v, const std::string& path, std::uint64_t bound, const char* what) {
  if (!v.is_number_integer()) fail(path, "expected a non-negative integer");
  if (v.is_number_unsigned() ? false : v.get<std::int64_t>() < 0) fail(path, "expected a non-negative integer");
  const std::uint64_t i = v.get<std::uint64_t>();
  if (i >= bound) fail(path, fmt::format("{} {} is out of range (there are {})", what, i, bound));
  return i;
}

// ±digits[.digits][e±digits]: the decimals the format writes; no "inf", "nan", hex or spaces.
bool is_decimal_text(const std::string& s) {
  if (s.empty() || s.size() > kMaxDecimalChars) return false;
  std::size_t i = 0;
  if (s[i] == '+' || s[i] == '-') ++i;
  std::size_t digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    std::size_t exp_digits = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

// The double a decimal string spells exactly. A box bound, split point or center that is not
// exactly a double would be read differently by the checker and the prover, so it is rejected.
double exact_double(const json& v, const std::string& path) {
  if (!v.is_string()) fail(path, "expected an exact decimal string");
  const std::string& s = v.get_ref<const std::string&>();
  if (!is_decimal_text(s)) fail(path, fmt::format("'{}' is not a decimal number", s.substr(0, 40)));
  mpfr_t x;
  mpfr_init2(x, 53);
  char* end = nullptr;
  const int ternary = mpfr_strtofr(x, s.c_str(), &end, 10, MPFR_RNDN);
  const double d = mpfr_get_d(x, MPFR_RNDN);
  const bool exact = ternary == 0 && *end == '\0' && std::isfinite(d) && mpfr_cmp_d(x, d) == 0;
  mpfr_clear(x);
  if (!exact) fail(path, fmt::format("'{}' is not exactly a double", s.substr(0, 40)));
  return d == 0 ? 0.0 : d;  // -0 and 0 are one bound
}

std::string to_string_relation(Relation r) { return std::string(to_string(r)); }

Relation relation_from(const json& v, const std::string& path) {
  if (!v.is_string()) fail(path, "expected a string");
  const std::string s = v.get<std::string>();
  for (Relation r : {Relation::LessEqual, Relation::Less, Relation::GreaterEqual, Relation::Greater}) {
    if (s == to_string(r)) return r;
  }
  fail(path, fmt::format("'{}' is not one of <=, <, >=, >", s.substr(0, 40)));
}

json box_to_json(const ProofBox& box) {
  json out = json::array();
  for (std::size_t i = 0; i < box.dimension(); ++i) {
    out.push_back({{"lower", exact_decimal(box.lower[i])}, {"upper", exact_decimal(box.upper[i])}});
  }
  return out;
}

ProofBox box_from_json(const json& j, const std::string& path, std::size_t variables) {
  if (!j.is_array()) fail(path, "expected an array of {lower, upper}");
  if (j.size() != variables) {
    fail(path, fmt::format("{} ranges for {} program variables", j.size(), variables));
  }
  ProofBox box;
  for (std::size_t i = 0; i < j.size(); ++i) {
    const std::string p = fmt::format("{}[{}]", path, i);
    only_keys(j[i], p, {"lower", "upper"});
    const double lo = exact_double(field(j[i], p, "lower"), p + ".lower");
    const double hi = exact_double(field(j[i], p, "upper"), p + ".upper");
    if (lo > hi) fail(p, fmt::format("lower {} > upper {}", lo, hi));
    box.lower.push_back(lo);
    box.upper.push_back(hi);
  }
  return box;
}

std::vector<double> point_from_json(const json& j, const std::string& path, std::size_t variables) {
  if (!j.is_array()) fail(path, "expected an array of exact decimals");
  if (j.size() != variables) fail(path, fmt::format("{} coordinates for {} program variables", j.size(), variables));
  std::vector<double> point;
  for (std::size_t i = 0; i < j.size(); ++i) point.push_back(exact_double(j[i], fmt::format("{}[{}]", path, i)));
  return point;
}

std::optional<LeafMethod> method_from(const std::string& s) {
  for (LeafMethod m : {LeafMethod::Naive, LeafMethod::MeanValue, LeafMethod::Monotone, LeafMethod::SecondOrder}) {
    if (s == to_string(m)) return m;
  }
  return std::nullopt;
}

ProofNode node_from_json(const json& j, const std::string& path, std::size_t variables, int depth) {
  if (depth > kMaxTreeDepth) fail(path, fmt::format("the tree is deeper than {} levels", kMaxTreeDepth));
  if (!j.is_object()) fail(path, "expected a node (an object with 'split' or 'leaf')");
  ProofNode node;
  if (j.contains("split")) {
    only_keys(j, path, {"split"});
    const std::string p = path + ".split";
    const json& s = j["split"];
    if (!s.is_object()) fail(p, "expected an object");
    only_keys(s, p, {"variable", "at", "below", "above"});
    node.is_split = true;
    node.variable = static_cast<std::uint32_t>(
        index_value(field(s, p, "variable"), p + ".variable", variables, "variable"));
    node.at = exact_double(field(s, p, "at"), p + ".at");
    node.below = std::make_unique<ProofNode>(node_from_json(field(s, p, "below"), p + ".below", variables, depth + 1));
    node.above = std::make_unique<ProofNode>(node_from_json(field(s, p, "above"), p + ".above", variables, depth + 1));
    return node;
  }
  if (!j.contains("leaf")) fail(path, "expected a node (an object with 'split' or 'leaf')");
  const json& m = j["leaf"];
  if (!m.is_string()) fail(path + ".leaf", "expected a method name");
  const std::optional<LeafMethod> method = method_from(m.get<std::string>());
  if (!method) fail(path + ".leaf", fmt::format("unknown method '{}'", m.get<std::string>().substr(0, 40)));
  node.method = *method;
  const json& prec = field(j, path, "precision");
  if (!prec.is_number_integer() || prec.get<std::int64_t>() < kMinLeafPrecision ||
      prec.get<std::int64_t>() > kMaxLeafPrecision) {
    fail(path + ".precision", fmt::format("expected an integer number of bits in [{}, {}]", kMinLeafPrecision,
                                          kMaxLeafPrecision));
  }
  node.precision = prec.get<long>();
  switch (node.method) {
    case LeafMethod::Naive:
      only_keys(j, path, {"leaf", "precision"});
      break;
    case LeafMethod::MeanValue:
    case LeafMethod::SecondOrder:
      only_keys(j, path, {"leaf", "precision", "center"});
      node.center = point_from_json(field(j, path, "center"), path + ".center", variables);
      break;
    case LeafMethod::Monotone: {
      only_keys(j, path, {"leaf", "precision", "variable", "direction", "face"});
      node.variable = static_cast<std::uint32_t>(
          index_value(field(j, path, "variable"), path + ".variable", variables, "variable"));
      const std::string direction = string_field(j, path, "direction");
      if (direction != "increasing" && direction != "decreasing") {
        fail(path + ".direction", fmt::format("'{}' is neither 'increasing' nor 'decreasing'", direction.substr(0, 40)));
      }
      node.increasing = direction == "increasing";
      node.face = std::make_unique<ProofNode>(node_from_json(field(j, path, "face"), path + ".face", variables, depth + 1));
      break;
    }
  }
  return node;
}

std::vector<std::string> decimal_array(const std::vector<double>& xs) {
  std::vector<std::string> out;
  for (double x : xs) out.push_back(exact_decimal(x));
  return out;
}

}  // namespace

namespace {

// Stands for a subtree rendered apart (certificate_json_text): a string no certificate holds
// (U+0001 is refused in every text field's source), numbered in depth-first order.
using Holes = std::unordered_map<const ProofNode*, std::size_t>;
constexpr char kHoleMark = '\x01';

json node_json(const ProofNode& node, const Holes* holes);

json tree_json(const ProofNode& node, const Holes* holes) {
  if (holes) {
    if (const auto it = holes->find(&node); it != holes->end()) {
      return std::string(1, kHoleMark) + std::to_string(it->second);
    }
  }
  return node_json(node, holes);
}

json node_json(const ProofNode& node, const Holes* holes) {
  if (node.is_split) {
    if (!node.below || !node.above) throw std::logic_error("to_json: a split node without both children");
    return {{"split",
             {{"variable", node.variable}, {"at", exact_decimal(node.at)}, {"below", tree_json(*node.below, holes)},
              {"above", tree_json(*node.above, holes)}}}};
  }
  json out = {{"leaf", std::string(to_string(node.method))}, {"precision", node.precision}};
  switch (node.method) {
    case LeafMethod::Naive:
      break;
    case LeafMethod::MeanValue:
    case LeafMethod::SecondOrder:
      out["center"] = decimal_array(node.center);
      break;
    case LeafMethod::Monotone:
      if (!node.face) throw std::logic_error("to_json: a monotone leaf without its face subtree");
      out["variable"] = node.variable;
      out["direction"] = node.increasing ? "increasing" : "decreasing";
      out["face"] = tree_json(*node.face, holes);
      break;
  }
  return out;
}

json certificate_json(const ProofCertificate& certificate, const Holes* holes) {
  json goals = json::array();
  for (const ProvedGoal& g : certificate.goals) {
    goals.push_back({{"name", g.goal.name},
                     {"program", to_json(g.goal.program)},
                     {"lhs", g.goal.lhs},
                     {"relation", to_string_relation(g.goal.relation)},
                     {"rhs", g.goal.rhs},
                     {"slack", g.goal.slack},
                     {"box", box_to_json(g.goal.box)},
                     {"tree", tree_json(g.tree, holes)}});
  }
  return {{"format", kProofFormat},          {"version", kProofFormatVersion},
          {"claim", certificate.claim_id},   {"statement", certificate.statement},
          {"domain", certificate.domain},    {"scope", certificate.scope},
          {"goals", std::move(goals)}};
}

// Subtrees of at most this many leaves are rendered as units of their own.
constexpr long kRenderUnitLeaves = 20000;

}  // namespace

json to_json(const ProofNode& node) { return node_json(node, nullptr); }

json to_json(const ProofCertificate& certificate) { return certificate_json(certificate, nullptr); }

std::string certificate_json_text(const ProofCertificate& certificate, int jobs) {
  // The subtrees' texts as units, then the rest with a mark in each subtree's place, then the
  // marks replaced in order: compact JSON of an object is the concatenation of its members'.
  std::vector<const ProofNode*> units;
  for (const ProvedGoal& g : certificate.goals) {
    const std::vector<const ProofNode*> part = unit_subtrees(g.tree, leaf_counts(g.tree), kRenderUnitLeaves);
    units.insert(units.end(), part.begin(), part.end());
  }
  Holes holes;
  for (std::size_t i = 0; i < units.size(); ++i) holes.emplace(units[i], i);
  const std::vector<std::string> texts = distributed_map<std::string>(
      units.size(), jobs, [&](std::size_t i) { return to_json(*units[i]).dump(); },
      [](const std::string& t) { return t; }, [](std::string_view t) { return std::string(t); });
  const std::string skeleton = certificate_json(certificate, &holes).dump();
  const std::string mark = "\"\\u0001";  // how dump() writes a string starting with U+0001
  std::string out;
  std::size_t total = skeleton.size();
  for (const std::string& t : texts) total += t.size();
  out.reserve(total);
  // dump() writes an object's members in key order ("above" before "below"), so the marks come
  // in another order than the units: each names its unit, and each is used exactly once.
  std::vector<bool> used(texts.size(), false);
  std::size_t at = 0;
  for (std::size_t found = skeleton.find(mark); found != std::string::npos; found = skeleton.find(mark, at)) {
    const std::size_t close = skeleton.find('"', found + mark.size());
    std::size_t unit = texts.size();
    if (close != std::string::npos) {
      const std::string digits = skeleton.substr(found + mark.size(), close - found - mark.size());
      if (!digits.empty() && digits.size() < 10 && digits.find_first_not_of("0123456789") == std::string::npos) {
        unit = std::stoul(digits);
      }
    }
    if (unit >= texts.size() || used[unit]) throw std::logic_error("certificate_json_text: a malformed subtree mark");
    used[unit] = true;
    out.append(skeleton, at, found - at);
    out.append(texts[unit]);
    at = close + 1;
  }
  for (bool u : used) {
    if (!u) throw std::logic_error("certificate_json_text: a subtree mark is missing");
  }
  out.append(skeleton, at, std::string::npos);
  return out;
}

ProofCertificate proof_certificate_from_json(const json& j) {
  if (!j.is_object()) fail("certificate", "expected a JSON object");
  const json& format = field(j, "certificate", "format");
  if (!format.is_string() || format.get<std::string>() != kProofFormat) {
    fail("format", fmt::format("expected '{}', got {}", kProofFormat, format.dump().substr(0, 40)));
  }
  const json& version = field(j, "certificate", "version");
  if (!version.is_number_integer() || version.get<std::int64_t>() != kProofFormatVersion) {
    fail("version", fmt::format("expected {}, got {} (unsupported version)", kProofFormatVersion,
                                version.dump().substr(0, 40)));
  }
  ProofCertificate c;
  c.claim_id = string_field(j, "certificate", "claim");
  c.statement = string_field(j, "certificate", "statement");
  c.domain = string_field(j, "certificate", "domain");
  c.scope = string_field(j, "certificate", "scope");
  const json& goals = field(j, "certificate", "goals");
  if (!goals.is_array()) fail("goals", "expected an array");
  if (goals.empty()) fail("goals", "empty: a certificate proves at least one goal");
  for (std::size_t k = 0; k < goals.size(); ++k) {
    const std::string p = fmt::format("goals[{}]", k);
    const json& g = goals[k];
    ProvedGoal proved;
    ProofGoal& goal = proved.goal;
    goal.name = string_field(g, p, "name");
    try {
      goal.program = elementary_program_from_json(field(g, p, "program"));
    } catch (const std::invalid_argument& e) {
      // The program's own messages start with its path ("program.code[3]: unknown op 'x'").
      const std::string what = e.what();
      if (what.rfind("program", 0) == 0) throw std::invalid_argument(p + "." + what);
      fail(p + ".program", what);
    }
    const std::size_t n = goal.program.variables().size();
    if (n > kMaxCertificateVariables) {
      fail(p + ".program.variables", fmt::format("{} variables, more than the {} a certificate may have", n,
                                                 kMaxCertificateVariables));
    }
    goal.lhs = static_cast<std::uint32_t>(index_value(field(g, p, "lhs"), p + ".lhs", goal.program.size(), "instruction"));
    goal.rhs = static_cast<std::uint32_t>(index_value(field(g, p, "rhs"), p + ".rhs", goal.program.size(), "instruction"));
    goal.relation = relation_from(field(g, p, "relation"), p + ".relation");
    goal.slack = string_field(g, p, "slack");
    // A negative slack would claim more than the statement; "-0" is zero and harmless.
    const std::string mantissa = goal.slack.substr(0, goal.slack.find_first_of("eE"));
    const bool zero = mantissa.find_first_of("123456789") == std::string::npos;
    if (!is_decimal_text(goal.slack) || (goal.slack[0] == '-' && !zero)) {
      fail(p + ".slack", fmt::format("'{}' is not a decimal >= 0", goal.slack.substr(0, 40)));
    }
    goal.box = box_from_json(field(g, p, "box"), p + ".box", n);
    proved.tree = node_from_json(field(g, p, "tree"), p + ".tree", n, 0);
    c.goals.push_back(std::move(proved));
  }
  return c;
}

ProofCertificate read_proof_certificate(const std::string& path) {
  std::error_code ec;
  const std::filesystem::file_status st = std::filesystem::status(path, ec);
  if (ec) throw std::invalid_argument(fmt::format("{}: cannot open for reading: {}", path, ec.message()));
  if (std::filesystem::is_directory(st)) {
    throw std::invalid_argument(fmt::format("{}: is a directory, not a proof certificate", path));
  }
  if (!std::filesystem::is_regular_file(st)) {
    throw std::invalid_argument(fmt::format("{}: is not a regular file, not a proof certificate", path));
  }
  const std::uintmax_t bytes = std::filesystem::file_size(path, ec);
  if (!ec && bytes > kMaxCertificateBytes) {
    throw std::invalid_argument(fmt::format("{}: {} bytes is more than a proof certificate holds (at most {} MiB)",
                                            path, bytes, kMaxCertificateBytes >> 20));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument(fmt::format("{}: cannot open for reading", path));
  json j;
  try {
    j = json::parse(in);  // strict: trailing garbage and truncation are parse errors
  } catch (const json::parse_error& e) {
    throw std::invalid_argument(fmt::format("{}: not valid JSON (byte {}; truncated or not a certificate)", path, e.byte));
  } catch (const json::exception& e) {
    throw std::invalid_argument(fmt::format("{}: not valid JSON ({})", path, e.what()));
  }
  try {
    return proof_certificate_from_json(j);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(fmt::format("{}: not a valid proof certificate: {}", path, e.what()));
  }
}

}  // namespace attncert
