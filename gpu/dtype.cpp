#include "gpu/dtype.hpp"

namespace attncert::gpu {

std::optional<DType> parse_dtype(std::string_view text) {
  if (text == "fp32" || text == "f32" || text == "float32" || text == "float") return DType::f32;
  if (text == "fp16" || text == "f16" || text == "float16" || text == "half") return DType::f16;
  if (text == "bf16" || text == "bfloat16") return DType::bf16;
  return std::nullopt;
}

}  // namespace attncert::gpu
