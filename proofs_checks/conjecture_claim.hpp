// A user conjecture (`--expr` + `--over`) as a Claim, shared by `verify`, `replay` and the
// Python module's attncert.verify.
#pragma once

#include <memory>
#include <string>

#include "theory/claim.hpp"

namespace attncert {

/// Parses the conjecture and checks on one sampled instance that the domain feeds every
/// quantity it names. Parse errors say whether --expr or --over is at fault.
std::unique_ptr<Claim> conjecture_claim(const std::string& expr, const std::string& over);

}  // namespace attncert
