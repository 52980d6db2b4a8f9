#include "reports/verdict_table.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "reports/verdict_note.hpp"

namespace attncert {

std::string tightness_text(double tightness, const std::string& missing) {
  return std::isnan(tightness) ? missing : fmt::format("{:.6f}", tightness);
}

std::string vacuity_text(double vacuity, const std::string& missing) {
  return std::isnan(vacuity) ? missing : fmt::format("{:.3f}", vacuity);
}

namespace {

constexpr const char* kRowFormat = "{:<22} {:<14} {:<11} {:<12} {:>9} {:>10} {:>7} {:>6}  {}\n";

std::string header() {
  return fmt::format(kRowFormat, "claim", "provenance", "kind", "verdict", "certified",
                     "tightness", "vacuity", "bits", "note");
}

std::string row(const Claim& claim, const ClaimResult& r) {
  std::string verdict = verdict_label(claim, r);
  // A refutation stands out in capitals.
  if (r.verdict == DomainVerdict::Refuted) {
    std::transform(verdict.begin(), verdict.end(), verdict.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  }
  return fmt::format(kRowFormat, claim.info().id, provenance_label(claim.info()),
                     to_string(claim.info().kind), verdict, r.certified,
                     tightness_text(r.tightness, "—"), vacuity_text(r.vacuity, "—"),
                     r.max_precision_used, verdict_note(claim, r));
}

}  // namespace

std::string verdict_table_text(const std::vector<const Claim*>& claims,
                               const std::vector<ClaimResult>& results) {
  std::string findings, derived;
  for (std::size_t i = 0; i < claims.size(); ++i) {
    (claims[i]->info().kind == ClaimKind::Derived ? derived : findings) +=
        row(*claims[i], results.at(i));
  }
  std::string s = header() + findings;
  if (!derived.empty()) {
    s += "\nderived steps (follow from an elementary inequality: they cannot fail for a correct "
         "implementation, so they test our code, not the paper):\n" +
         header() + derived;
  }
  s += "\nprovenance: printed* = the paper's statement, adapted as the note says; reading = an "
       "alternative reading of an ambiguous statement (refuting it rejects the reading, not the "
       "paper)\n"
       "tightness: how close the bound comes to failing (lhs/bound, or the gaps to a limit both "
       "sides approach), largest over the informative certified instances, per side family "
       "(identities, degenerate and vacuous instances excluded); vacuity: fraction of sampled "
       "instances on which every bound constrains nothing; statistical claims are \"not rejected\" "
       "or \"rejected\" at their confidence\n";
  return s;
}

}  // namespace attncert
