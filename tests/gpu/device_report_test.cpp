// The host-side pure parts of the device check (issue 18, item 4): version and architecture
// strings, the refusal messages the launch code returns, and the peak table behind the benches'
// fraction of peak, against NVIDIA's published A100 and H100 SXM figures.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gpu/device.hpp"
#include "gpu/device_memory.hpp"
#include "gpu/device_peak.hpp"

namespace attncert::gpu {
namespace {

TEST(DeviceReport, CudaVersionsReadAsMajorDotMinor) {
  EXPECT_EQ(cuda_version_string(12040), "12.4");
  EXPECT_EQ(cuda_version_string(13000), "13.0");
  EXPECT_EQ(cuda_version_string(0), "unknown");  // no driver installed
}

TEST(DeviceReport, ArchitecturesParseFromCMakeLists) {
  EXPECT_EQ(parse_cuda_architectures("80,90"), (std::vector<int>{80, 90}));
  EXPECT_EQ(parse_cuda_architectures("80/90"), (std::vector<int>{80, 90}));  // as device.cu gets it
  EXPECT_EQ(parse_cuda_architectures("80;90"), (std::vector<int>{80, 90}));
  EXPECT_EQ(parse_cuda_architectures("80-real;90a-virtual"), (std::vector<int>{80, 90}));
  EXPECT_EQ(parse_cuda_architectures("native"), std::vector<int>{});
  EXPECT_EQ(parse_cuda_architectures(""), std::vector<int>{});
  EXPECT_EQ(cuda_architecture_list({80, 90}), "sm_80, sm_90");
  EXPECT_EQ(cuda_architecture_list({}), "none");
}

TEST(DeviceReport, MissingImageNamesTheDeviceAndTheBinary) {
  EXPECT_EQ(missing_kernel_image_message("flash_attention", 75, {80, 90}),
            "flash_attention: this binary carries no code for the device's architecture sm_75 "
            "(built for sm_80, sm_90; rebuild with CMAKE_CUDA_ARCHITECTURES including 75)");
}

TEST(DeviceReport, TooLittleMemoryNamesShapeAndBytes) {
  EXPECT_EQ(insufficient_device_memory_message("jacobian_norm", "rows=4 L=8", 4096,
                                               device_bytes_with_headroom(4096), 1024),
            "jacobian_norm: shape rows=4 L=8 needs 4096 bytes of device buffers (33558528 with "
            "allocation rounding and the runtime's reserve); 1024 bytes are free");
  EXPECT_EQ(device_bytes_with_headroom(4096), 4096u + 8u * (2u << 20) + (16u << 20));
}

// The bytes a host-pointer call allocates, counted by hand for small shapes.
TEST(DeviceMemory, FlashAttentionCountsInputsOutputAndLse) {
  FlashAttentionArgs a;
  a.batch_heads = 2, a.seqlen_q = 3, a.seqlen_k = 5, a.head_dim = 4;
  a.q_dtype = a.k_dtype = a.v_dtype = DType::bf16;
  // Q 2·3·4·2 = 48, K and V 2·(2·5·4·2) = 160, O 2·3·4·4 = 96, LSE 2·3·4 = 24.
  EXPECT_EQ(flash_attention_device_bytes(a), 48u + 160u + 96u + 24u);
}

TEST(DeviceMemory, JacobianNormCountsLogitsAndNorms) {
  JacobianNormArgs a;
  a.dtype = DType::f16, a.rows = 3, a.length = 7, a.num_temperatures = 2;
  EXPECT_EQ(jacobian_norm_device_bytes(a), 3u * 7u * 2u + 3u * 2u * 4u);
}

TEST(DeviceMemory, LinearAttentionCountsOptionalBuffersOnlyWhenAskedFor) {
  LinearAttentionArgs a;
  a.batch_heads = 2, a.seqlen = 64, a.head_dim = 8;
  a.q_dtype = a.k_dtype = a.v_dtype = DType::f32;
  const std::size_t base = 4u * 2u * 64u * 8u * 4u +  // q, k, v, out
                           static_cast<std::size_t>(linear_attention_workspace_bytes(a));
  EXPECT_EQ(linear_attention_device_bytes(a), base);
  float state = 0.0f, normaliser = 0.0f;
  a.final_state = &state;
  a.initial_state = &state;
  a.normaliser = &normaliser;
  const std::size_t state_bytes =
      2u * static_cast<std::size_t>(linear_state_elements(a.feature, a.head_dim)) * 4u;
  EXPECT_EQ(linear_attention_device_bytes(a), base + 2 * state_bytes + 2u * 64u * 4u);
}

// Tolerance: half a unit in the last digit NVIDIA publishes (e.g. 0.05 for "19.5"), since the
// published figures are the table's products rounded to that digit.
TEST(DevicePeak, TableReproducesThePublishedA100Figures) {
  const int sms = 108;
  const double mhz = 1410;  // A100 SXM4 boost clock
  EXPECT_NEAR(*fp32_cuda_core_peak_tflops(80, sms, mhz), 19.5, 0.05);
  EXPECT_NEAR(*tensor_dense_peak_tflops(80, DType::f16, sms, mhz), 312, 0.5);
  EXPECT_NEAR(*tensor_dense_peak_tflops(80, DType::bf16, sms, mhz), 312, 0.5);
  EXPECT_NEAR(*tensor_dense_peak_tflops(80, DType::f32, sms, mhz), 156, 0.5);  // TF32
}

TEST(DevicePeak, TableReproducesThePublishedH100SxmFigures) {
  const int sms = 132;
  EXPECT_NEAR(*fp32_cuda_core_peak_tflops(90, sms, 1980), 66.9, 0.05);  // max boost clock
  // The tensor figures are published at 1830 MHz (see gpu/device_peak.hpp).
  EXPECT_NEAR(*tensor_dense_peak_tflops(90, DType::bf16, sms, 1830), 989.4, 0.05);
  EXPECT_NEAR(*tensor_dense_peak_tflops(90, DType::f32, sms, 1830), 494.7, 0.05);
}

TEST(DevicePeak, UnknownDeviceHasNoPeakRatherThanAGuess) {
  EXPECT_FALSE(fp32_cuda_core_peak_tflops(70, 80, 1530).has_value());
  EXPECT_FALSE(tensor_dense_peak_tflops(90, DType::f16, 0, 1980).has_value());
  EXPECT_FALSE(fp32_cuda_core_peak_tflops(80, 108, 0).has_value());
}

}  // namespace
}  // namespace attncert::gpu
