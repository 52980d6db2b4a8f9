// The claims catalog: every claim of ../shared/THEORY.md, in catalog order. Adding a claim is
// adding one file under theory/claims/ that defines its factory, and one line in
// theory/claims/claim_list.def.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "theory/claim.hpp"

namespace attncert {

#define ATTNCERT_CLAIM(factory) std::unique_ptr<Claim> factory();
#include "theory/claims/claim_list.def"
#undef ATTNCERT_CLAIM

/// All catalog claims, in catalog order (built once; claims are immutable).
const std::vector<std::unique_ptr<Claim>>& catalog();

/// The claim with this id, or nullptr.
const Claim* find_claim(std::string_view id);
/// The claim with this id; throws std::invalid_argument naming an id not in the catalog.
const Claim& catalog_claim(std::string_view id);

}  // namespace attncert
