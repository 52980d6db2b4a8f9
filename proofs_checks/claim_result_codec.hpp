// A ClaimResult, and the parts of a claim's search, as bytes, for the units that cross
// processes (MPI ranks, checkpoints): every field, exactly — doubles by bit pattern, balls
// through Arb's exact text, a proof certificate through its JSON (exact decimals) — so that a
// result decoded on rank 0 writes the same bytes as the one computed there. Wall times travel
// too; no output file prints them.
#pragma once

#include <string>
#include <string_view>

#include "proofs_checks/claim_search.hpp"
#include "proofs_checks/verifier.hpp"

namespace attncert {

std::string encode_claim_result(const ClaimResult& result);
/// Throws std::invalid_argument naming the field for truncated or malformed bytes.
ClaimResult decode_claim_result(std::string_view bytes);

/// The parts of a claim's search that units compute (claim_search.hpp), the same way; decoding
/// throws std::invalid_argument like decode_claim_result.
std::string encode_sampling_part(const SamplingPart& part);
SamplingPart decode_sampling_part(std::string_view bytes);
std::string encode_climb_part(const ClimbPart& part);
ClimbPart decode_climb_part(std::string_view bytes);
std::string encode_certification_part(const CertificationPart& part);
CertificationPart decode_certification_part(std::string_view bytes);

}  // namespace attncert
