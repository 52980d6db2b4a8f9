// Shrinking a certified counterexample to one a reader can check by hand.
#pragma once

#include "proofs_checks/certificate.hpp"
#include "theory/claim.hpp"

namespace attncert {

/// Shrinks a certified counterexample: first every integer parameter (array dimensions by
/// removing blocks of rows/columns, halves first, then quarters, … then single indices; other
/// integers by lowering their value towards the range's lower end), then rounder numbers,
/// keeping every step certifiably refuted (and in the claim's domain). Returns the smallest
/// found within `attempts` certifications.
Instance shrink_counterexample(const Claim& claim, Instance x, const CertifyOptions& options,
                               long attempts);

}  // namespace attncert
