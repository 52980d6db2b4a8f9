// safetensors: exact widening of every fp16/bf16 bit pattern, the writer's bytes against a
// hand-computed golden file, round trips, and every lie a header can tell refused with a
// one-line error naming the problem (numerics/tensor_file.hpp).
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "numerics/tensor_file.hpp"

namespace attncert {
namespace {

std::string le64(std::uint64_t n) {
  std::string s;
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  return s;
}

// A safetensors file from a header text and a data buffer (the length prefix is computed).
std::string file_of(const std::string& header, const std::string& data = "") {
  return le64(header.size()) + header + data;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("attncert_safetensors_test_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

std::string write_temp(const std::string& name, const std::string& bytes) {
  const std::string path = temp_path(name);
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

// The bytes are refused with a one-line runtime_error naming the source and `fragment`.
void expect_refused(const std::string& bytes, const std::string& fragment) {
  std::string what;
  try {
    parse_safetensors(bytes, "in.safetensors");
    what = "(no error)";
  } catch (const std::runtime_error& e) {
    what = e.what();
  }
  EXPECT_NE(what.find(fragment), std::string::npos) << "wanted '" << fragment << "' in: " << what;
  EXPECT_EQ(what.rfind("in.safetensors: ", 0), 0u) << what;
  EXPECT_EQ(what.find('\n'), std::string::npos) << what;
}

// ---- the writer -----------------------------------------------------------------------------

TEST(SafetensorsWrite, OneBf16TensorIsTheReferenceWritersBytes) {
  // What `safetensors.numpy/torch.save_file({"x": bf16 [1, -2]})` writes: compact JSON with
  // the fields in struct order, padded with spaces to a multiple of 8, then the data.
  const std::vector<double> x = {1.0, -2.0};
  const std::string header = R"({"x":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}})";
  ASSERT_EQ(header.size(), 55u);  // so one space of padding makes 56
  const std::string expected = std::string("\x38\0\0\0\0\0\0\0", 8) + header + " " +
                               std::string("\x80\x3f\x00\xc0", 4);  // bf16 0x3f80, 0xc000
  EXPECT_EQ(safetensors_bytes({{"x", ElementType::bf16, {2}, &x}}), expected);
}

TEST(SafetensorsWrite, HeaderKeepsTheGivenOrderAndPadsToEight) {
  const std::vector<double> b = {0.5}, a = {1, 2, 3, 4};
  const std::string bytes = safetensors_bytes(
      {{"b", ElementType::f64, {}, &b}, {"a", ElementType::f16, {2, 2}, &a}});
  const std::string header =
      R"({"b":{"dtype":"F64","shape":[],"data_offsets":[0,8]},)"
      R"("a":{"dtype":"F16","shape":[2,2],"data_offsets":[8,16]}})";
  const std::size_t padded = (header.size() + 7) / 8 * 8;
  ASSERT_GE(bytes.size(), 8 + padded);
  EXPECT_EQ(bytes.substr(0, 8), le64(padded));
  EXPECT_EQ(bytes.substr(8, padded), header + std::string(padded - header.size(), ' '));
  EXPECT_EQ(bytes.size(), 8 + padded + 16);
}

TEST(SafetensorsWrite, MetadataComesFirstAndIsReadBack) {
  const std::vector<double> x = {3};
  const std::string bytes = safetensors_bytes({{"x", ElementType::f32, {1}, &x}},
                                              {{"format", "pt"}, {"what", "mid\"point"}});
  const std::string header =
      R"({"__metadata__":{"format":"pt","what":"mid\"point"},)"
      R"("x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  EXPECT_EQ(bytes.substr(8, header.size()), header);
  EXPECT_EQ(parse_safetensors(bytes, "meta").at(0).data, x);
  EXPECT_THROW(safetensors_bytes({}, {{"a", "1"}, {"a", "2"}}), std::invalid_argument);
  EXPECT_THROW(safetensors_bytes({}, {{"a", "\xff"}}), std::invalid_argument);
  EXPECT_THROW(safetensors_bytes({{"\xff", ElementType::f32, {1}, &x}}), std::invalid_argument);
}

TEST(SafetensorsWrite, RefusesValuesTheTypeCannotHoldExactly) {
  const auto refused = [](ElementType t, double v, const std::string& fragment) {
    const std::vector<double> data = {0.0, v};
    const std::string what = error_of([&] { safetensors_bytes({{"t", t, {2}, &data}}); });
    EXPECT_NE(what.find(fragment), std::string::npos) << v << ": " << what;
  };
  const std::string inexact = "tensor \"t\": element 1";
  refused(ElementType::f32, 0.1, inexact);                        // needs 53 bits
  refused(ElementType::f32, 1e39, inexact);                       // beyond float's range
  refused(ElementType::f16, 65520, inexact);                      // rounds to inf in fp16
  refused(ElementType::f16, 0x1p-25, inexact);                    // half the least subnormal
  refused(ElementType::f16, 1 + 0x1p-11, inexact);                // needs 11 fraction bits
  refused(ElementType::f16, 0x1p-24 * 3 + 0x1p-25, inexact);      // between subnormals
  refused(ElementType::bf16, 1 + 0x1p-8, inexact);                // needs 8 fraction bits
  refused(ElementType::bf16, 1e39, inexact);
  EXPECT_NE(error_of([] {
              const std::vector<double> d = {1};
              safetensors_bytes({{"t", ElementType::f16, {2}, &d}});
            }).find("shape [2] holds 2 elements but data has 1"),
            std::string::npos);
  const std::vector<double> one = {1};
  EXPECT_NE(error_of([&] { safetensors_bytes({{"t", ElementType::i32, {1}, &one}}); })
                .find("writes F64, F32, F16 or BF16, not I32"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              safetensors_bytes({{"t", ElementType::f32, {1}, &one}, {"t", ElementType::f32, {1}, &one}});
            }).find("appears twice"),
            std::string::npos);
  EXPECT_NE(error_of([&] { safetensors_bytes({{"", ElementType::f32, {1}, &one}}); })
                .find("has no name"),
            std::string::npos);
  EXPECT_NE(error_of([&] { safetensors_bytes({{"t", ElementType::f32, {1}, nullptr}}); })
                .find("has no data"),
            std::string::npos);
  // invalid_argument, the type the header promises for a bad call.
  const std::vector<double> tenth = {0.1};
  EXPECT_THROW(safetensors_bytes({{"t", ElementType::f16, {1}, &tenth}}), std::invalid_argument);
}

// Every fp16 and bf16 bit pattern widens exactly and writes back to the same bits (NaN to the
// canonical quiet NaN). Truth: bf16 is the top half of a float32; fp16 is compared against the
// compiler's _Float16 where it has one, and at named points always.
TEST(SafetensorsWidening, EveryHalfAndBfloatPatternIsExactBothWays) {
  for (const ElementType type : {ElementType::f16, ElementType::bf16}) {
    std::string data;
    for (std::uint32_t bits = 0; bits < 65536; ++bits) {
      data.push_back(static_cast<char>(bits & 0xff));
      data.push_back(static_cast<char>(bits >> 8));
    }
    const std::string name = type == ElementType::f16 ? "F16" : "BF16";
    const std::string header =
        R"({"all":{"dtype":")" + name + R"(","shape":[65536],"data_offsets":[0,131072]}})";
    const std::vector<Tensor> read = parse_safetensors(file_of(header, data), "all");
    ASSERT_EQ(read.size(), 1u);
    ASSERT_EQ(read[0].type, type);
    const std::vector<double>& v = read[0].data;
    for (std::uint32_t bits = 0; bits < 65536; ++bits) {
      double truth;
      if (type == ElementType::bf16) {
        truth = std::bit_cast<float>(bits << 16);
      } else {
#ifdef __FLT16_MAX__
        truth = static_cast<double>(std::bit_cast<_Float16>(static_cast<std::uint16_t>(bits)));
#else
        truth = v[bits];  // checked at the named points below
#endif
      }
      if (std::isnan(truth)) {
        ASSERT_TRUE(std::isnan(v[bits])) << name << " bits " << bits;
      } else {
        ASSERT_EQ(v[bits], truth) << name << " bits " << bits;
        ASSERT_EQ(std::signbit(v[bits]), std::signbit(truth)) << name << " bits " << bits;
      }
    }
    const std::string written = safetensors_bytes({{"all", type, {65536}, &v}});
    const std::string back = written.substr(written.size() - 131072);
    for (std::uint32_t bits = 0; bits < 65536; ++bits) {
      const std::uint32_t got = static_cast<unsigned char>(back[2 * bits]) |
                                static_cast<unsigned char>(back[2 * bits + 1]) << 8;
      if (std::isnan(v[bits])) {
        ASSERT_EQ(got, type == ElementType::f16 ? 0x7e00u : 0x7fc0u) << bits;
      } else {
        ASSERT_EQ(got, bits) << name << " bits " << bits;
      }
    }
    if (type == ElementType::f16) {
      EXPECT_EQ(v[0x0001], 0x1p-24);               // least subnormal
      EXPECT_EQ(v[0x03ff], 1023 * 0x1p-24);        // largest subnormal
      EXPECT_EQ(v[0x0400], 0x1p-14);               // least normal
      EXPECT_EQ(v[0x3c00], 1.0);
      EXPECT_EQ(v[0x3c01], 1 + 0x1p-10);
      EXPECT_EQ(v[0x7bff], 65504.0);               // largest finite
      EXPECT_EQ(v[0x7c00], std::numeric_limits<double>::infinity());
      EXPECT_EQ(v[0xfc00], -std::numeric_limits<double>::infinity());
      EXPECT_TRUE(std::isnan(v[0x7e00]));
      EXPECT_TRUE(std::signbit(v[0x8000]) && v[0x8000] == 0);
      EXPECT_EQ(v[0xc000], -2.0);
    } else {
      EXPECT_EQ(v[0x3f80], 1.0);
      EXPECT_EQ(v[0x0001], 0x1p-133);              // least bf16 subnormal
      EXPECT_EQ(v[0x7f7f], 0x1.fep127);            // largest finite
    }
  }
}

TEST(SafetensorsRoundTrip, RandomTensorsOfEveryFloatTypeComeBackUnchanged) {
  const std::uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed) + " (to reproduce, put it in place of random_device{}())");
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  // Random bit patterns of each type (so subnormals and extremes occur), NaN excluded since
  // NaN != NaN; the values are exactly representable by construction.
  const auto random_value = [&](ElementType t) {
    for (;;) {
      const std::uint64_t bits = rng();
      double v;
      switch (t) {
        case ElementType::f64: v = std::bit_cast<double>(bits); break;
        case ElementType::f32: v = std::bit_cast<float>(static_cast<std::uint32_t>(bits)); break;
        case ElementType::bf16:
          v = std::bit_cast<float>(static_cast<std::uint32_t>(bits & 0xffff) << 16);
          break;
        default: {
          const std::string one = file_of(R"({"v":{"dtype":"F16","shape":[],"data_offsets":[0,2]}})",
                                          std::string{static_cast<char>(bits & 0xff),
                                                      static_cast<char>((bits >> 8) & 0xff)});
          v = parse_safetensors(one, "one")[0].data[0];
        }
      }
      if (!std::isnan(v)) return v;
    }
  };
  const std::vector<std::vector<std::size_t>> shapes = {{}, {1}, {7}, {2, 3}, {0, 5}, {2, 1, 3, 2}};
  for (int round = 0; round < 20; ++round) {
    std::vector<std::vector<double>> values;
    std::vector<TensorToWrite> tensors;
    const std::size_t n = 1 + rng() % 4;
    values.reserve(n);
    for (std::size_t k = 0; k < n; ++k) {
      const ElementType type =
          std::vector{ElementType::f64, ElementType::f32, ElementType::f16, ElementType::bf16}[rng() % 4];
      const std::vector<std::size_t>& shape = shapes[rng() % shapes.size()];
      std::size_t count = 1;
      for (std::size_t d : shape) count *= d;
      values.emplace_back();
      for (std::size_t i = 0; i < count; ++i) values.back().push_back(random_value(type));
      tensors.push_back({"t" + std::to_string(k) + "\xce\xbb\n", type, shape, &values.back()});
    }
    const std::vector<Tensor> read = parse_safetensors(safetensors_bytes(tensors), "round trip");
    ASSERT_EQ(read.size(), n);
    for (std::size_t k = 0; k < n; ++k) {
      // Zero-size tensors share an offset: they come back sorted by name among themselves.
      const auto it = std::find_if(read.begin(), read.end(),
                                   [&](const Tensor& t) { return t.name == tensors[k].name; });
      ASSERT_NE(it, read.end()) << tensors[k].name;
      EXPECT_EQ(it->type, tensors[k].type);
      EXPECT_EQ(it->shape, tensors[k].shape);
      ASSERT_EQ(it->data.size(), values[k].size());
      for (std::size_t i = 0; i < values[k].size(); ++i) {
        EXPECT_EQ(std::bit_cast<std::uint64_t>(it->data[i]), std::bit_cast<std::uint64_t>(values[k][i]))
            << "tensor " << k << " element " << i;
      }
    }
  }
}

// ---- the reader: valid files ----------------------------------------------------------------

TEST(SafetensorsRead, TensorsComeInOffsetOrderWithMetadataAndPaddingAccepted) {
  // Entries listed out of offset order, a zero-size tensor, a scalar, metadata, and the
  // header's space padding: all valid.
  const std::string header =
      R"({"__metadata__":{"format":"pt"},"late":{"dtype":"I8","shape":[2],"data_offsets":[4,6]},)"
      R"("empty":{"dtype":"F32","shape":[0,1099511627776],"data_offsets":[4,4]},)"
      R"("early":{"dtype":"F32","shape":[],"data_offsets":[0,4]},)"
      R"("flag":{"dtype":"BOOL","shape":[1],"data_offsets":[6,7]}}   )";
  const float early = -1.5f;
  std::string data(reinterpret_cast<const char*>(&early), 4);
  data += "\xfe\x7f\x01";
  const std::vector<Tensor> t = parse_safetensors(file_of(header, data), "valid");
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[0].name, "early");
  EXPECT_EQ(t[0].rank(), 0u);
  EXPECT_EQ(t[0].data, std::vector<double>{-1.5});
  EXPECT_EQ(t[1].name, "empty");
  EXPECT_EQ(t[1].size(), 0u);
  EXPECT_EQ(t[2].name, "late");
  EXPECT_EQ(t[2].data, (std::vector<double>{-2, 127}));
  EXPECT_EQ(t[3].type, ElementType::boolean);
  EXPECT_EQ(t[3].data, std::vector<double>{1});
  EXPECT_TRUE(parse_safetensors(file_of("{}"), "empty").empty());
  EXPECT_TRUE(parse_safetensors(file_of("{\"__metadata__\":{}}   "), "empty").empty());
}

TEST(SafetensorsRead, IntegerTypesWidenExactly) {
  std::string data;
  const std::int64_t i64 = -(std::int64_t{1} << 53);
  const std::int32_t i32 = -2147483647 - 1;
  const std::int16_t i16 = -32768;
  data.append(reinterpret_cast<const char*>(&i64), 8);
  data.append(reinterpret_cast<const char*>(&i32), 4);
  data.append(reinterpret_cast<const char*>(&i16), 2);
  data += "\x80\xff";
  const std::string header =
      R"({"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},)"
      R"("b":{"dtype":"I32","shape":[1],"data_offsets":[8,12]},)"
      R"("c":{"dtype":"I16","shape":[1],"data_offsets":[12,14]},)"
      R"("d":{"dtype":"I8","shape":[1],"data_offsets":[14,15]},)"
      R"("e":{"dtype":"U8","shape":[1],"data_offsets":[15,16]}})";
  const std::vector<Tensor> t = parse_safetensors(file_of(header, data), "ints");
  ASSERT_EQ(t.size(), 5u);
  EXPECT_EQ(t[0].data[0], -0x1p53);
  EXPECT_EQ(t[1].data[0], -2147483648.0);
  EXPECT_EQ(t[2].data[0], -32768.0);
  EXPECT_EQ(t[3].data[0], -128.0);
  EXPECT_EQ(t[4].data[0], 255.0);
  EXPECT_EQ(element_type_name(t[0].type), "int64");
  EXPECT_EQ(safetensors_dtype_name(ElementType::bf16), "BF16");
  EXPECT_EQ(element_size(ElementType::bf16), 2u);
  EXPECT_TRUE(is_floating(ElementType::f16));
  EXPECT_FALSE(is_floating(ElementType::i64));
}

// ---- the reader: every lie refused ----------------------------------------------------------

std::string one_f32(const std::string& entry, const std::string& data = std::string(4, '\0')) {
  return file_of("{\"t\":" + entry + "}", data);
}

TEST(SafetensorsBadInput, SizesAndFramingAreCheckedBeforeAnyAllocation) {
  expect_refused("", "too short for a safetensors file (0 bytes");
  expect_refused(std::string("\x02\0\0\0", 4), "too short");
  expect_refused(le64(kMaxSafetensorsHeaderBytes + 1) + "{}",
                 fmt::format("header length {} exceeds the cap of {}",
                             kMaxSafetensorsHeaderBytes + 1, kMaxSafetensorsHeaderBytes));
  expect_refused(le64(~std::uint64_t{0}) + "{}", "exceeds the cap");
  expect_refused(le64(3) + "{}", "truncated: safetensors header length 3 runs past the end");
  expect_refused(file_of("{\"t\""), "not valid JSON");
  expect_refused(file_of("{} x"), "not valid JSON");
  expect_refused(file_of("{\"\xff\":1}"), "not valid JSON");  // not UTF-8
  expect_refused(file_of("[]"), "safetensors header is not a JSON object");
  expect_refused(file_of(R"({"t":{"dtype":"F32","shape":[[[1]]],"data_offsets":[0,4]}})"),
                 "nests deeper");
  expect_refused(file_of(std::string(100000, '[') + std::string(100000, ']')), "nests deeper");
  // A shape of huge rank (a header of zeros can hold millions) is refused while parsing; rank 64
  // (entries of all 1) is still read.
  std::string zeros = "0";
  for (int i = 1; i < 65; ++i) zeros += ",0";
  expect_refused(file_of(R"({"t":{"dtype":"F32","shape":[)" + zeros + R"(],"data_offsets":[0,0]}})"),
                 "list of more than 64 entries");
  std::string ones = "1";
  for (int i = 1; i < 64; ++i) ones += ",1";
  EXPECT_EQ(parse_safetensors(file_of(R"({"t":{"dtype":"F32","shape":[)" + ones +
                                      R"(],"data_offsets":[0,4]}})", std::string(4, '\0')),
                              "rank64")
                .front()
                .rank(),
            64u);
}

TEST(SafetensorsBadInput, EntriesMustBeExactlyDtypeShapeAndOffsets) {
  const std::string ok_offsets = R"("data_offsets":[0,4])";
  expect_refused(one_f32("[1]"), "tensor \"t\": entry is not an object");
  expect_refused(file_of(R"({"":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", "abcd"),
                 "tensor \"\": a tensor's name is empty");
  expect_refused(one_f32(R"({"dtype":"F32",)" + ok_offsets + "}"), "entry has no \"shape\"");
  expect_refused(one_f32(R"({"shape":[1],)" + ok_offsets + "}"), "entry has no \"dtype\"");
  expect_refused(one_f32(R"({"dtype":"F32","shape":[1]})"), "entry has no \"data_offsets\"");
  expect_refused(one_f32(R"({"dtype":"F32","shape":[1],"extra":0,)" + ok_offsets + "}"),
                 "unexpected key \"extra\"");
  expect_refused(one_f32(R"({"dtype":"F8_E4M3","shape":[1],)" + ok_offsets + "}"),
                 "unsupported dtype \"F8_E4M3\" (attncert reads F64, F32, F16, BF16");
  expect_refused(one_f32(R"({"dtype":7,"shape":[1],)" + ok_offsets + "}"),
                 "\"dtype\" is not a string");
  expect_refused(one_f32(R"({"dtype":"F32","shape":[-1],)" + ok_offsets + "}"),
                 "not a non-negative integer");
  expect_refused(one_f32(R"({"dtype":"F32","shape":[1.0],)" + ok_offsets + "}"),
                 "not a non-negative integer");
  expect_refused(one_f32(R"({"dtype":"F32","shape":[1e30],)" + ok_offsets + "}"),
                 "not a non-negative integer");
  expect_refused(one_f32(R"({"dtype":"F32","shape":1,)" + ok_offsets + "}"),
                 "\"shape\" is not a list");
  expect_refused(one_f32(R"({"dtype":"F32","shape":[1],"data_offsets":[0,4,8]})"),
                 "\"data_offsets\" is not a list [begin, end]");
  expect_refused(one_f32(R"({"dtype":"F32","shape":[1],"data_offsets":[0,-4]})"),
                 "\"data_offsets\" is not a list [begin, end]");
  // Duplicate keys: nlohmann would keep one silently; at every level they are refused.
  expect_refused(file_of(R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                         R"("t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                         std::string(8, '\0')),
                 "the key \"t\" twice");
  expect_refused(one_f32(R"({"dtype":"F32","dtype":"F64","shape":[1],)" + ok_offsets + "}"),
                 "the key \"dtype\" twice");
  expect_refused(file_of(R"({"__metadata__":{"a":"1","a":"2"}})"), "the key \"a\" twice");
  expect_refused(file_of(R"({"__metadata__":{"a":1}})"), "\"__metadata__\" maps \"a\" to a number");
  expect_refused(file_of(R"({"__metadata__":"x"})"), "\"__metadata__\" is not an object");
  // A name with a newline is quoted with escapes, keeping the error on one line.
  expect_refused(file_of(R"({"a\nb":{"dtype":"Q","shape":[1],"data_offsets":[0,4]}})"),
                 "tensor \"a\\nb\": unsupported dtype \"Q\"");
}

TEST(SafetensorsBadInput, ShapesOffsetsAndCoverageMustAgree) {
  // A shape whose product overflows 64 bits is refused by the cap, not wrapped around.
  expect_refused(one_f32(R"({"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]})", ""),
                 "shape [4294967296, 4294967296] declares more than the cap of 268435456 elements");
  expect_refused(one_f32(R"({"dtype":"U8","shape":[268435457],"data_offsets":[0,268435457]})", ""),
                 "cap of 268435456 elements");
  expect_refused(one_f32(R"({"dtype":"F32","shape":[2],"data_offsets":[0,4]})"),
                 "shape [2] of F32 needs 8 bytes but data_offsets [0, 4] span 4");
  expect_refused(one_f32(R"({"dtype":"F32","shape":[0],"data_offsets":[8,4]})"),
                 "data_offsets [8, 4] end before they begin");
  expect_refused(one_f32(R"({"dtype":"F32","shape":[1],"data_offsets":[4,8]})"),
                 "data_offsets [4, 8] run past the data buffer (4 bytes");
  // A header claiming 2^28 f64 elements over an 8-byte buffer: refused, nothing allocated.
  expect_refused(one_f32(R"({"dtype":"F64","shape":[268435456],"data_offsets":[0,2147483648]})",
                         std::string(8, '\0')),
                 "run past the data buffer (8 bytes");
  const std::string two = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)";
  expect_refused(file_of(two + R"("b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}})",
                         std::string(6, '\0')),
                 "tensors \"a\" and \"b\" overlap");
  expect_refused(file_of(two + R"("b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                         std::string(4, '\0')),
                 "overlap");
  expect_refused(file_of(two + R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                         std::string(12, '\0')),
                 "bytes [4, 8) of the data buffer belong to no tensor (a hole before tensor \"b\")");
  expect_refused(file_of(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                         std::string(8, '\0')),
                 "bytes [0, 4) of the data buffer belong to no tensor");
  expect_refused(one_f32(R"({"dtype":"F32","shape":[1],"data_offsets":[0,4]})", std::string(5, '\0')),
                 "file is longer than its tensors: 1 bytes after the last tensor's data");
  expect_refused(file_of("{}", "x"), "file is longer than its tensors");
  // Values the element type cannot give exactly as a double, or that are not of the type.
  expect_refused(one_f32(R"({"dtype":"I64","shape":[1],"data_offsets":[0,8]})",
                         le64((std::uint64_t{1} << 53) + 1)),
                 "tensor \"t\": element 0 (9007199254740993) of I64 is beyond 2^53");
  expect_refused(one_f32(R"({"dtype":"BOOL","shape":[2],"data_offsets":[0,2]})", "\x01\x02"),
                 "element 1 of BOOL is the byte 2, not 0 or 1");
}

// A valid file cut at every length is refused cleanly, in memory and from a file.
TEST(SafetensorsBadInput, EveryTruncationOfAValidFileIsAOneLineError) {
  const std::vector<double> a = {1, -0.5, 65504}, b = {0.25, 3};
  const std::string bytes = safetensors_bytes(
      {{"a", ElementType::f16, {3}, &a}, {"b", ElementType::f32, {2, 1}, &b}});
  ASSERT_EQ(parse_safetensors(bytes, "whole").size(), 2u);
  const std::string path = temp_path("cut.safetensors");
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    const std::string cut = bytes.substr(0, n);
    std::string what = error_of([&] { parse_safetensors(cut, "cut"); });
    EXPECT_EQ(what.rfind("cut: ", 0), 0u) << n << ": " << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    std::ofstream(path, std::ios::binary | std::ios::trunc) << cut;
    what = error_of([&] { read_safetensors(path); });
    EXPECT_EQ(what.rfind(path + ": ", 0), 0u) << n << ": " << what;
  }
  std::filesystem::remove(path);
}

TEST(SafetensorsFiles, ReadsFilesAndRefusesWhatIsNotOne) {
  const std::vector<double> v = {2, 4};
  const std::string path = write_temp("ok.safetensors",
                                      safetensors_bytes({{"v", ElementType::bf16, {1, 2}, &v}}));
  const std::vector<Tensor> t = read_safetensors(path);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].shape, (std::vector<std::size_t>{1, 2}));
  EXPECT_EQ(t[0].data, v);
  std::filesystem::remove(path);
  EXPECT_NE(error_of([&] { read_safetensors(path); }).find(path + ": no such file"),
            std::string::npos);
  const std::string dir = temp_path("dir.safetensors");
  std::filesystem::create_directories(dir);
  EXPECT_NE(error_of([&] { read_safetensors(dir); }).find("is a directory"), std::string::npos);
  std::filesystem::remove(dir);
  const std::string fifo = temp_path("fifo.safetensors");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_NE(error_of([&] { read_safetensors(fifo); }).find("is not a regular file"),
            std::string::npos);
  std::filesystem::remove(fifo);
}

}  // namespace
}  // namespace attncert
