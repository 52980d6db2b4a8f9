// The device tests' one rule for a missing device: skip with the probe's reason, or fail with it
// when ATTNCERT_REQUIRE_DEVICE=1 (so a GPU machine cannot pass them by skipping). A bad
// ATTNCERT_REQUIRE_DEVICE value fails the test even when a device is present.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "gpu/device.hpp"

// A macro, not a function: GTEST_SKIP and FAIL return from the test body that uses them.
#define ATTNCERT_SKIP_OR_FAIL_WITHOUT_DEVICE()                                             \
  do {                                                                                     \
    const std::string attncert_missing_ = ::attncert::gpu::required_device_missing();      \
    if (!attncert_missing_.empty()) FAIL() << attncert_missing_;                           \
    const ::attncert::gpu::DeviceReport attncert_report_ = ::attncert::gpu::query_devices(); \
    if (attncert_report_.device_count == 0) GTEST_SKIP() << attncert_report_.message;      \
  } while (false)
