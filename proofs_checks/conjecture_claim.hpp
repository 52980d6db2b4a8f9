// A user conjecture (`--expr` + `--over`) as a Claim, shared by `verify` and `replay`.
#pragma once

#include <memory>
#include <string>

#include "theory/claim.hpp"

namespace attncert::cli {

/// Parses the conjecture and checks on one sampled instance that the domain feeds every
/// quantity it names. Parse errors say whether --expr or --over is at fault.
std::unique_ptr<Claim> conjecture_claim(const std::string& expr, const std::string& over);

}  // namespace attncert::cli
