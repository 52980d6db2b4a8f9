#include "reports/verdict_counts.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace attncert {

VerdictCounts count_verdicts(const std::vector<const Claim*>& claims,
                             const std::vector<ClaimResult>& results) {
  VerdictCounts c;
  for (std::size_t i = 0; i < claims.size(); ++i) {
    const ClaimResult& r = results.at(i);
    c.survived += r.verdict == DomainVerdict::Survived;
    c.proved += r.verdict == DomainVerdict::Proved;
    c.inconclusive += r.verdict == DomainVerdict::Inconclusive;
    if (r.verdict != DomainVerdict::Refuted) continue;
    ++c.refuted;
    const std::string& id = claims[i]->info().id;
    switch (claims[i]->info().provenance) {
      case Provenance::Printed:
        (claims[i]->info().adapted.empty() ? c.printed : c.printed_adapted).push_back(id);
        break;
      case Provenance::Reconstructed: c.reconstructed.push_back(id); break;
      case Provenance::Classical: c.classical.push_back(id); break;
      case Provenance::Reading: c.readings.push_back(id); break;
      case Provenance::Conjecture: c.conjectures.push_back(id); break;
      case Provenance::Experiment: c.experiments.push_back(id); break;
    }
  }
  return c;
}

namespace {
// "2 printed (A.x, A.y)", "0 printed"; without `what`: "2 (A.x, A.y)", "0".
std::string counted(const std::vector<std::string>& ids, const std::string& what = "") {
  std::string s = std::to_string(ids.size()) + (what.empty() ? "" : " " + what);
  return ids.empty() ? s : fmt::format("{} ({})", s, fmt::join(ids, ", "));
}
}  // namespace

std::string refutation_breakdown(const VerdictCounts& c) {
  std::string s = fmt::format("refuted: {}", counted(c.printed, "printed"));
  if (!c.printed_adapted.empty()) s += ", " + counted(c.printed_adapted, "printed* (adapted)");
  s += fmt::format(", {}, {}", counted(c.reconstructed, "reconstructed"), counted(c.classical, "classical"));
  if (!c.experiments.empty()) s += ", " + counted(c.experiments, "experiment");
  s += "; rejected readings: " + counted(c.readings);
  if (!c.conjectures.empty()) s += "; refuted conjectures: " + counted(c.conjectures);
  return s;
}

}  // namespace attncert
