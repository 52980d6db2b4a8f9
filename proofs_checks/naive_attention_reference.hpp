// The naive same-precision attention reference, FlashAttention's `attention_ref` without
// upcast: the baseline of the flash-attention test rule (error ≤ 2 × its error + atol) in
// check-attention and in the check of our own kernel (flash_attention_check). One
// implementation for both, so the rule means the same thing everywhere.
#pragma once

#include <optional>
#include <vector>

#include "gpu/dtype.hpp"
#include "numerics/key_visibility.hpp"
#include "numerics/tensor_view.hpp"

namespace attncert {

/// One head. q (Lq×d), k (Lk×d), v (Lk×dv) are read as the kernel reads them (double → float →
/// dtype; exact for values already in the dtype). q·scale rounded to the dtype, scores summed
/// over c in order in fp32 and rounded to the dtype (softcap: C·tanh(s/C), each step rounded),
/// softmax in fp32 (portable_expf) with P rounded to the dtype, P·V summed over keys in order in
/// fp32 and rounded to the dtype. Returns Lq×dv row-major; rows without a visible key are 0.
std::vector<float> naive_attention_reference(const ConstMatrixView<double>& q,
                                             const ConstMatrixView<double>& k,
                                             const ConstMatrixView<double>& v, gpu::DType dtype,
                                             float scale, const KeyVisibility& keys,
                                             std::optional<float> softcap = std::nullopt);

/// FA3's absolute term of the rule for one reference value: twice how far its dtype rounding
/// moves under + 0.3 − 0.3 in the dtype.
double flash_rule_absolute_term(gpu::DType dtype, double reference);

}  // namespace attncert
