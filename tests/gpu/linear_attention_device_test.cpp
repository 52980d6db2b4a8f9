// The linear attention kernel against its CPU twin, bit for bit (outputs, final states,
// normalisers, row counts; compared by value, gpu/output_equality.hpp: any NaN equals any NaN),
// and run-to-run determinism on the device. Skips without a
// device (fails when ATTNCERT_REQUIRE_DEVICE=1).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "gpu/device.hpp"
#include "gpu/linear_attention.hpp"
#include "gpu/output_equality.hpp"
#include "numerics/rng.hpp"
#include "proofs_checks/linear_attention_check.hpp"
#include "tests/gpu/device_requirement.hpp"

namespace attncert {
namespace {

using gpu::DType;
using gpu::LinearFeature;
using gpu::LinearReadout;

constexpr std::uint64_t kSeed = 20261123;

struct Outputs {
  std::vector<unsigned char> out;
  std::vector<float> state, normaliser;
  long long rows = -1;
};

// "" when equal by value (gpu/output_equality.hpp: all NaNs equal, else identical bits), else
// which buffer differs first and where.
std::string difference(const Outputs& a, const Outputs& b, DType t) {
  if (const auto d = gpu::first_output_difference(t, a.out, b.out)) return "output " + d->message();
  if (const auto d = gpu::first_output_difference(a.state, b.state)) return "state " + d->message();
  if (const auto d = gpu::first_output_difference(a.normaliser, b.normaliser))
    return "normaliser " + d->message();
  if (a.rows != b.rows)
    return "rows not normalised: " + std::to_string(a.rows) + " vs " + std::to_string(b.rows);
  return "";
}

TEST(LinearAttentionDevice, KernelMatchesTwinBitForBit) {
  const gpu::DeviceReport device = gpu::query_devices();
  ATTNCERT_SKIP_OR_FAIL_WITHOUT_DEVICE();
  SCOPED_TRACE("seed = " + std::to_string(kSeed));
  RecordProperty("seed", std::to_string(kSeed));
  RecordProperty("device", device.name);
  constexpr int kHeads = 2;
  std::uint64_t stream = 0;
  for (int T : {63, 500})
    for (LinearFeature f : {LinearFeature::identity, LinearFeature::relu,
                            LinearFeature::elu_plus_one, LinearFeature::taylor2})
      for (DType t : {DType::f32, DType::f16, DType::bf16})
        for (bool causal : {true, false})
          for (LinearReadout r : {LinearReadout::unnormalised, LinearReadout::normalised}) {
            const int d = f == LinearFeature::taylor2 ? 16 : 100;
            SCOPED_TRACE("T=" + std::to_string(T) + " d=" + std::to_string(d) + " " +
                         std::string(gpu::linear_feature_name(f)) + " " +
                         std::string(gpu::dtype_name(t)) + (causal ? " causal" : " non-causal"));
            Rng rng = Rng(kSeed).substream(stream++);
            const LinearAttentionProblem p = make_linear_attention_problem(T * kHeads, d, rng);
            const auto q = to_dtype_buffer(p.q, t), k = to_dtype_buffer(p.k, t), v = to_dtype_buffer(p.v, t);
            const long long state = kHeads * gpu::linear_state_elements(f, d);
            std::vector<float> initial(state);
            for (float& x : initial) x = static_cast<float>(rng.normal());  // resume from a state
            auto run = [&](bool on_device) {
              Outputs o;
              o.out.assign(q.size(), 0);
              o.state.assign(state, 0.0f);
              o.normaliser.assign(kHeads * T, 0.0f);
              gpu::LinearAttentionArgs a;
              a.batch_heads = kHeads;
              a.seqlen = T;
              a.head_dim = d;
              a.q_dtype = a.k_dtype = a.v_dtype = t;
              a.feature = f;
              a.readout = r;
              a.causal = causal;
              a.scale = p.scale;
              a.q = q.data();
              a.k = k.data();
              a.v = v.data();
              a.out = o.out.data();
              a.initial_state = initial.data();
              a.final_state = o.state.data();
              a.normaliser = o.normaliser.data();
              a.rows_not_normalised = &o.rows;
              const gpu::KernelStatus s = on_device ? gpu::run_linear_attention_on_device(a)
                                                    : gpu::linear_attention_twin(a);
              EXPECT_TRUE(s.ok()) << s.message;
              return o;
            };
            const Outputs twin = run(false), kernel = run(true), again = run(true);
            EXPECT_EQ(difference(kernel, twin, t), "");
            EXPECT_EQ(difference(again, kernel, t), "");
          }
}

}  // namespace
}  // namespace attncert
