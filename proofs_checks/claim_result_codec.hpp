// A ClaimResult as bytes, for the units that cross processes (MPI ranks, checkpoints): every
// field, exactly — doubles by bit pattern, balls through Arb's exact text, a proof certificate
// through its JSON (exact decimals) — so that a result decoded on rank 0 writes the same bytes
// as the one computed there. Wall times travel too; no output file prints them.
#pragma once

#include <string>
#include <string_view>

#include "proofs_checks/verifier.hpp"

namespace attncert {

std::string encode_claim_result(const ClaimResult& result);
/// Throws std::invalid_argument naming the field for truncated or malformed bytes.
ClaimResult decode_claim_result(std::string_view bytes);

}  // namespace attncert
