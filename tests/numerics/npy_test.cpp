// .npy reading: the dtypes and layouts PyTorch/NumPy users produce, and every malformed file
// gets a one-line error naming the file and the problem.
#include "numerics/npy.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <unistd.h>
#include <stdexcept>
#include <string>
#include <vector>

namespace attncert {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("attncert_npy_test_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

// Writes a v1.0 .npy with the given header dict and raw payload (header padded as NumPy does).
std::string write_raw(const std::string& name, std::string dict, const std::string& payload,
                      const std::string& magic = "\x93NUMPY") {
  const std::string path = temp_path(name);
  const std::size_t total = 10 + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict.push_back('\n');
  std::ofstream out(path, std::ios::binary);
  out << magic << '\x01' << '\x00' << static_cast<char>(dict.size() & 0xff)
      << static_cast<char>(dict.size() >> 8) << dict << payload;
  return path;
}

template <class T>
std::string bytes_of(const std::vector<T>& v, bool big_endian = false) {
  std::string s(v.size() * sizeof(T), '\0');
  std::memcpy(s.data(), v.data(), s.size());
  if (big_endian) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      std::reverse(s.begin() + i * sizeof(T), s.begin() + (i + 1) * sizeof(T));
    }
  }
  return s;
}

void expect_error(const std::string& path, const std::string& fragment) {
  try {
    read_npy(path);
    FAIL() << "expected an error for " << path;
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(fragment), std::string::npos) << msg;
    EXPECT_NE(msg.find(path), std::string::npos) << "message must name the file: " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
  }
}

TEST(Npy, RoundTripsFloat64Matrix) {
  const std::string path = temp_path("roundtrip.npy");
  const std::vector<double> data = {0.1, -2.5, 1e-300, 7.0, -0.0, 3.25};
  std::ofstream(path, std::ios::binary) << npy_bytes({2, 3}, data);
  const NpyArray a = read_npy(path);
  EXPECT_EQ(a.shape, (std::vector<std::size_t>{2, 3}));
  EXPECT_EQ(a.data, data);
  EXPECT_EQ(a.source_dtype, "<f8");
  std::ofstream(path, std::ios::binary) << npy_bytes({6}, data);
  EXPECT_EQ(read_npy(path).shape, (std::vector<std::size_t>{6}));
}

TEST(Npy, ReadsFloat32AndFloat16Exactly) {
  const std::vector<float> f = {0.1f, -3.0f, 1e-40f};
  const NpyArray a = read_npy(
      write_raw("f4.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", bytes_of(f)));
  ASSERT_EQ(a.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(a.data[i], static_cast<double>(f[i]));
  // float16: 1.0 = 0x3c00, -2.0 = 0xc000, smallest subnormal 2^-24 = 0x0001, 65504 = 0x7bff
  const std::vector<std::uint16_t> h = {0x3c00, 0xc000, 0x0001, 0x7bff};
  const NpyArray b = read_npy(
      write_raw("f2.npy", "{'descr': '<f2', 'fortran_order': False, 'shape': (4,), }", bytes_of(h)));
  EXPECT_EQ(b.data, (std::vector<double>{1.0, -2.0, std::ldexp(1.0, -24), 65504.0}));
}

TEST(Npy, ReadsBigEndianIntegersAndFortranOrder) {
  const std::vector<std::int32_t> v = {1, -2, 300000};
  const NpyArray a = read_npy(write_raw(
      "be.npy", "{'descr': '>i4', 'fortran_order': False, 'shape': (3,), }", bytes_of(v, true)));
  EXPECT_EQ(a.data, (std::vector<double>{1, -2, 300000}));
  // Fortran order: the 2×3 matrix [[1,2,3],[4,5,6]] is stored column by column.
  const std::vector<double> col = {1, 4, 2, 5, 3, 6};
  const NpyArray f = read_npy(write_raw(
      "fortran.npy", "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", bytes_of(col)));
  EXPECT_EQ(f.data, (std::vector<double>{1, 2, 3, 4, 5, 6}));
}

TEST(NpyBadInput, EveryMalformedFileIsNamed) {
  expect_error(temp_path("missing.npy"), "cannot open");
  expect_error(write_raw("magic.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }",
                         bytes_of(std::vector<double>{1}), "\x93NUMPZ"),
               "magic");
  expect_error(write_raw("dtype.npy", "{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }",
                         std::string(16, '\0')),
               "descr");
  expect_error(write_raw("obj.npy", "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", ""),
               "descr");
  expect_error(write_raw("trunc.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }",
                         bytes_of(std::vector<double>{1, 2})),
               "truncated data");
  expect_error(write_raw("shape.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (2, x), }",
                         bytes_of(std::vector<double>{1, 2})),
               "shape");
  expect_error(write_raw("order.npy", "{'descr': '<f8', 'shape': (1,), }",
                         bytes_of(std::vector<double>{1})),
               "fortran_order");
  const std::string empty = temp_path("empty.npy");
  std::ofstream(empty).close();
  expect_error(empty, "magic");
}

}  // namespace
}  // namespace attncert
