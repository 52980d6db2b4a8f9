#include "reports/result_records.hpp"

#include "theory/expression_claim.hpp"

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

nlohmann::json result_json(const Claim& claim, const ClaimResult& r) {
  const ClaimInfo& info = claim.info();
  nlohmann::json j = {{"claim", info.id},
                      {"provenance", std::string(to_string(info.provenance))},
                      {"source", info.source},
                      {"statement", info.statement_text},
                      {"domain", claim.space().describe()},
                      {"verdict", std::string(to_string(r.verdict))},
                      {"kind", std::string(to_string(info.kind))},
                      {"certified_instances", r.certified},
                      {"consistent_instances", r.consistent},
                      {"inconclusive_instances", r.inconclusive},
                      {"unconfirmed_statistical_refutations", r.unconfirmed},
                      {"evaluated_instances", r.evaluated},
                      {"max_precision_bits", r.max_precision_used},
                      {"seed", r.seed}};
  j["tightness"] = std::isnan(r.tightness) ? nlohmann::json(nullptr) : nlohmann::json(r.tightness);
  if (r.tightest) j["tightest_instance"] = to_json(*r.tightest);
  if (info.kind == ClaimKind::Statistical) j["confidence"] = info.confidence;
  if (r.counterexample) {
    j["counterexample"] = to_json(*r.counterexample);
    j["counterexample_certificate"] = certificate_json(*r.counterexample_certificate);
  }
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
         "inconclusive_instances,evaluated_instances,tightness,max_precision_bits,seed,"
         "counterexample\r\n";
}

std::string result_csv_row(const Claim& claim, const ClaimResult& r) {
  const std::string tight = std::isnan(r.tightness) ? "" : fmt::format("{:.9g}", r.tightness);
  const std::string cx = r.counterexample ? r.counterexample->describe(24) : "";
  return fmt::format("{},{},{},{},{},{},{},{},{},{},{},{}\r\n", csv_quote(claim.info().id),
                     to_string(claim.info().provenance), to_string(claim.info().kind),
                     to_string(r.verdict), r.certified, r.consistent, r.inconclusive, r.evaluated,
                     tight, r.max_precision_used, r.seed, csv_quote(cx));
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
  nlohmann::json j = {{"format", "attncert-counterexample-1"},
                      {"claim", claim.info().id},
                      {"statement", claim.info().statement_text},
                      {"seed", r.seed},
                      {"instance", to_json(*r.counterexample)},
                      {"certificate", certificate_json(*r.counterexample_certificate)}};
  if (const ExpressionSource* src = expression_source(claim)) {
    j["expression"] = src->inequality;
    j["domain"] = src->domain;
  }
  return j;
}

}  // namespace attncert
