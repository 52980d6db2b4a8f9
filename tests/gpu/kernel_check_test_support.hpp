// Shared by the kernel tests: a kernel's validation rows must not depend on how many worker
// threads ran its cases (each case draws from its own Rng substream).
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "proofs_checks/kernel_check.hpp"

namespace attncert {

template <class CheckFunction>
void expect_rows_independent_of_jobs(CheckFunction check, gpu::DType dtype, std::uint64_t seed) {
  SCOPED_TRACE("seed = " + std::to_string(seed));
  KernelCheckRequest request;
  request.quick = true;
  request.dtype = dtype;
  request.seed = seed;
  request.jobs = 1;
  const std::vector<KernelCheckRow> one = check(request, {});
  request.jobs = 3;
  const std::vector<KernelCheckRow> three = check(request, {});
  ASSERT_EQ(one.size(), three.size());
  ASSERT_FALSE(one.empty());
  for (std::size_t i = 0; i < one.size(); ++i) {
    EXPECT_EQ(one[i].shape, three[i].shape) << i;
    EXPECT_EQ(one[i].variant, three[i].variant) << i;
    // Bit for bit: the same arithmetic in the same order, whichever thread ran it.
    EXPECT_EQ(std::memcmp(&one[i].max_abs_error, &three[i].max_abs_error, sizeof(double)), 0) << i;
    EXPECT_EQ(std::memcmp(&one[i].bound, &three[i].bound, sizeof(double)), 0) << i;
  }
}

}  // namespace attncert
