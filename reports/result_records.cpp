#include "reports/result_records.hpp"

#include "reports/verdict_note.hpp"
#include "theory/expression_claim.hpp"
#include "theory/model_rows.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace attncert {

std::string ball_text(const Ball& b) { return b.str(12); }

nlohmann::json certificate_json(const InstanceCertificate& cert) {
  nlohmann::json sides = nlohmann::json::array();
  for (const auto& s : cert.sides) {
    sides.push_back({{"side", s.name},
                     {"lhs", ball_text(s.lhs)},
                     {"relation", std::string(to_string(s.rel))},
                     {"rhs", ball_text(s.rhs)},
                     {"holds", std::string(to_string(s.holds))}});
  }
  nlohmann::json j = {{"status", std::string(to_string(cert.status))},
                      {"precision_bits", cert.precision},
                      {"sides", sides}};
  if (!cert.violated.empty()) j["violated_side"] = cert.violated;
  return j;
}

namespace {

nlohmann::json number_or_null(double v) { return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v); }

// The family whose tightness is the claim's (the largest), or "" when none is recorded.
std::string tightest_family(const ClaimResult& r) {
  for (const SideTightness& s : r.side_tightness) {
    if (!std::isnan(s.tightness) && s.tightness == r.tightness) return s.family;
  }
  return {};
}

// What names the claim in a file `attncert replay` reads: its id and statement, and for a
// conjecture its expression and domain (from which replay rebuilds it).
nlohmann::json replayable_claim_json(const Claim& claim, const ClaimResult& r, const char* format) {
  nlohmann::json j = {{"format", format},
                      {"claim", claim.info().id},
                      {"statement", claim.info().statement_text},
                      {"seed", r.seed}};
  if (const ExpressionSource* src = expression_source(claim_beneath_rows(claim))) {
    j["expression"] = src->inequality;
    j["domain"] = src->domain;
  }
  // Rows of data (`--over model:…`): how to rebuild them, so replay checks the row is one.
  if (claim.space().source) j["rows"] = claim.space().source->recipe();
  return j;
}

}  // namespace

nlohmann::json result_json(const Claim& claim, const ClaimResult& r) {
  const ClaimInfo& info = claim.info();
  nlohmann::json j = {{"claim", info.id},
                      {"provenance", std::string(to_string(info.provenance))},
                      {"source", info.source},
                      {"statement", info.statement_text},
                      {"domain", claim.space().describe()},
                      {"verdict", std::string(to_string(r.verdict))},
                      {"verdict_label", verdict_label(claim, r)},
                      {"kind", std::string(to_string(info.kind))},
                      {"certified_instances", r.certified},
                      {"consistent_instances", r.consistent},
                      {"inconclusive_instances", r.inconclusive},
                      {"unconfirmed_statistical_refutations", r.unconfirmed},
                      {"evaluated_instances", r.evaluated},
                      {"degenerate_instances", r.degenerate},
                      {"vacuous_instances", r.vacuous},
                      {"max_precision_bits", r.max_precision_used},
                      {"seed", r.seed}};
  if (!info.adapted.empty()) j["adapted"] = info.adapted;
  if (!info.derivation.empty()) j["derivation"] = info.derivation;
  j["tightness"] = number_or_null(r.tightness);
  if (const std::string family = tightest_family(r); !family.empty()) j["tightest_family"] = family;
  if (r.tightest) j["tightest_instance"] = to_json(*r.tightest);
  nlohmann::json sides = nlohmann::json::array();
  for (const SideTightness& s : r.side_tightness) {
    nlohmann::json e = {{"family", s.family},
                        {"tightness", number_or_null(s.tightness)},
                        {"informative_instances", s.informative},
                        {"vacuous_instances", s.vacuous}};
    if (s.tightest) e["tightest_instance"] = to_json(*s.tightest);
    sides.push_back(std::move(e));
  }
  j["side_tightness"] = std::move(sides);
  j["degenerate_tightness"] = number_or_null(r.degenerate_tightness);
  j["vacuity"] = number_or_null(r.vacuity);
  if (info.kind == ClaimKind::Statistical) {
    j["confidence"] = info.confidence;
    if (!info.interval_method.empty()) j["interval_method"] = info.interval_method;
  }
  if (r.counterexample) {
    j["counterexample"] = to_json(*r.counterexample);
    j["counterexample_certificate"] = certificate_json(*r.counterexample_certificate);
  }
  if (r.proof) j["proof"] = proof_json(*r.proof);
  return j;
}

nlohmann::json proof_json(const ClaimProof& p) {
  nlohmann::json goals = nlohmann::json::array();
  for (const GoalReport& g : p.goals) {
    nlohmann::json e = {{"goal", g.name},           {"outcome", std::string(to_string(g.outcome))},
                        {"slack", g.slack},         {"boxes", g.boxes},
                        {"leaves", g.leaves},       {"max_precision_bits", g.max_precision}};
    if (!g.reason.empty()) e["reason"] = g.reason;
    goals.push_back(std::move(e));
  }
  nlohmann::json j = {{"status", std::string(to_string(p.status))},
                      {"covers_domain", p.covers_domain},
                      {"scope", p.scope},
                      {"reduction", p.reduction},
                      {"slack", p.slack},
                      {"boxes", p.boxes},
                      {"goals", std::move(goals)}};
  if (!p.reason.empty()) j["reason"] = p.reason;
  return j;
}

std::string csv_quote(const std::string& field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string results_csv_header() {
  return "claim,provenance,kind,verdict,certified_instances,consistent_instances,"
         "inconclusive_instances,evaluated_instances,tightness,vacuity,degenerate_instances,"
         "vacuous_instances,max_precision_bits,seed,counterexample,proof,proof_slack,proof_scope\r\n";
}

std::string result_csv_row(const Claim& claim, const ClaimResult& r) {
  const auto number = [](double v) { return std::isnan(v) ? std::string() : fmt::format("{:.9g}", v); };
  const std::string cx = r.counterexample ? r.counterexample->describe(24) : "";
  return fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\r\n", csv_quote(claim.info().id),
                     to_string(claim.info().provenance), to_string(claim.info().kind),
                     to_string(r.verdict), r.certified, r.consistent, r.inconclusive, r.evaluated,
                     number(r.tightness), number(r.vacuity), r.degenerate, r.vacuous,
                     r.max_precision_used, r.seed, csv_quote(cx),
                     r.proof ? csv_quote(std::string(to_string(r.proof->status))) : "",
                     r.proof && r.proof->status == ProofStatus::ProvedWithSlack ? r.proof->slack : "",
                     r.proof ? csv_quote(r.proof->scope) : "");
}

std::string results_jsonl(const std::vector<const Claim*>& claims, const std::vector<ClaimResult>& results) {
  std::string jsonl;
  for (std::size_t i = 0; i < claims.size(); ++i) jsonl += result_json(*claims[i], results.at(i)).dump() + "\n";
  return jsonl;
}

std::string results_csv(const std::vector<const Claim*>& claims, const std::vector<ClaimResult>& results) {
  std::string csv = results_csv_header();
  for (std::size_t i = 0; i < claims.size(); ++i) csv += result_csv_row(*claims[i], results.at(i));
  return csv;
}

nlohmann::json counterexample_json(const Claim& claim, const ClaimResult& r) {
  if (!r.counterexample) throw std::logic_error("counterexample_json: result has no counterexample");
  nlohmann::json j = replayable_claim_json(claim, r, kCounterexampleFormat);
  j["instance"] = to_json(*r.counterexample);
  j["certificate"] = certificate_json(*r.counterexample_certificate);
  return j;
}

nlohmann::json tightest_json(const Claim& claim, const ClaimResult& r) {
  if (!r.tightest) throw std::logic_error("tightest_json: result has no tightest instance");
  nlohmann::json j = replayable_claim_json(claim, r, kTightestFormat);
  const std::string family = tightest_family(r);
  j["family"] = family.empty() ? nlohmann::json(nullptr) : nlohmann::json(family);
  j["tightness"] = number_or_null(r.tightness);
  j["instance"] = to_json(*r.tightest);
  return j;
}

}  // namespace attncert
