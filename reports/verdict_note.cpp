#include "reports/verdict_note.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <vector>

namespace attncert {

std::string verdict_note(const Claim& claim, const ClaimResult& r) {
  std::vector<std::string> parts;
  if (r.counterexample) {
    parts.push_back(fmt::format("counterexample (side '{}'): {}",
                                r.counterexample_certificate->violated, r.counterexample->describe(8)));
  }
  if (r.consistent > 0) {
    parts.push_back(fmt::format("{} consistent (enclosures of both sides agree)", r.consistent));
  }
  if (r.inconclusive > 0) {
    parts.push_back(fmt::format("{} undecided at {} bits", r.inconclusive, r.max_precision_used));
  }
  if (r.unconfirmed > 0) {
    parts.push_back(
        fmt::format("{} chance exceedance(s) not confirmed by fresh seeds", r.unconfirmed));
  }
  if (claim.info().kind == ClaimKind::Statistical) {
    parts.push_back(fmt::format("statistical, confidence {}", claim.info().confidence));
  }
  return fmt::format("{}", fmt::join(parts, "; "));
}

}  // namespace attncert
