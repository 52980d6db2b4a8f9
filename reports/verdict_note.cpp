#include "reports/verdict_note.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <vector>

namespace attncert {

std::string verdict_label(const Claim& claim, const ClaimResult& r) {
  const bool statistical = claim.info().kind == ClaimKind::Statistical;
  switch (r.verdict) {
    case DomainVerdict::Refuted: return statistical ? "rejected" : "refuted";
    case DomainVerdict::Survived: return statistical ? "not rejected" : "survived";
    case DomainVerdict::Inconclusive: return "inconclusive";
    case DomainVerdict::Proved: return "PROVED";
  }
  return "?";
}

std::string provenance_label(const ClaimInfo& info) {
  std::string label(to_string(info.provenance));
  if (info.provenance == Provenance::Printed && !info.adapted.empty()) label += "*";
  return label;
}

std::string proof_note(const ClaimProof& p) {
  switch (p.status) {
    case ProofStatus::Proved:
      return p.covers_domain ? fmt::format("proved over the whole domain ({} boxes)", p.boxes)
                             : fmt::format("PROVED for {} ({}; {} boxes)", p.scope, p.reduction, p.boxes);
    case ProofStatus::ProvedWithSlack:
      return fmt::format("PROVED with slack {} (the bound + {}) for {} ({}; {} boxes)", p.slack,
                         p.slack, p.scope, p.reduction, p.boxes);
    case ProofStatus::NotProved: return fmt::format("not proved for {}: {}", p.scope, p.reason);
    case ProofStatus::NoPlan: return fmt::format("survived only: {}", p.reason);
  }
  return "?";
}

std::string verdict_note(const Claim& claim, const ClaimResult& r) {
  const ClaimInfo& info = claim.info();
  std::vector<std::string> parts;
  if (r.counterexample) {
    parts.push_back(fmt::format("counterexample (side '{}'): {}",
                                r.counterexample_certificate->violated, r.counterexample->describe(8)));
  }
  if (info.kind == ClaimKind::Statistical) {
    std::string s = fmt::format("statistical: {} at confidence {}",
                                r.verdict == DomainVerdict::Inconclusive ? "tested" : verdict_label(claim, r),
                                info.confidence);
    if (!info.interval_method.empty()) s += fmt::format(" ({} intervals)", info.interval_method);
    parts.push_back(std::move(s));
  }
  if (info.kind == ClaimKind::Derived && !info.derivation.empty()) {
    parts.push_back(fmt::format("derived from {}", info.derivation));
  }
  if (r.proof) parts.push_back(proof_note(*r.proof));
  if (!info.adapted.empty()) parts.push_back(fmt::format("adapted: {}", info.adapted));
  // Every family's tightness with the number of instances it rests on, and the instances on
  // which the family's bound constrained nothing: a tightness over 3 of 100 instances, or a side
  // vacuous on most of them, says so here.
  if (!r.side_tightness.empty()) {
    std::vector<std::string> families;
    for (const SideTightness& s : r.side_tightness) {
      std::string text = fmt::format("{} {} over {}", s.family,
                                     std::isnan(s.tightness) ? "—" : fmt::format("{:.6f}", s.tightness),
                                     s.informative);
      if (s.vacuous > 0) text += fmt::format(" ({} vacuous)", s.vacuous);
      families.push_back(std::move(text));
    }
    parts.push_back(fmt::format("tightness per side (over informative instances): {}", fmt::join(families, ", ")));
  }
  if (r.degenerate > 0) {
    parts.push_back(fmt::format(
        "{} degenerate{}", r.degenerate,
        std::isnan(r.degenerate_tightness)
            ? std::string()
            : fmt::format(" (tightness {:.6f}, not counted above)", r.degenerate_tightness)));
  }
  if (r.vacuous > 0) parts.push_back(fmt::format("{} vacuous (the bound constrains nothing)", r.vacuous));
  if (r.consistent > 0) {
    parts.push_back(fmt::format(
        "{} consistent (identity: the enclosures of both sides overlap, within the relative width threshold)", r.consistent));
  }
  if (r.inconclusive > 0) {
    parts.push_back(fmt::format("{} undecided at {} bits", r.inconclusive, r.max_precision_used));
  }
  if (r.unconfirmed > 0) {
    parts.push_back(
        fmt::format("{} chance exceedance(s) not confirmed by fresh seeds", r.unconfirmed));
  }
  return fmt::format("{}", fmt::join(parts, "; "));
}

}  // namespace attncert
