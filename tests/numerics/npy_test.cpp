// .npy reading: the dtypes and layouts PyTorch/NumPy users produce, and every malformed file
// gets a one-line error naming the file and the problem.
#include "numerics/npy.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
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

// The dict NumPy writes for a 1-D float64 array of n entries, padded, with its 10-byte preamble.
std::string npy_header(const std::string& shape) {
  std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (" + shape + "), }";
  const std::size_t total = 10 + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict.push_back('\n');
  return std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(dict.size() & 0xff) +
         static_cast<char>(dict.size() >> 8) + dict;
}

TEST(NpyBadInput, SizesTheHeaderDoesNotDeclareAreRefused) {
  // Padding after the declared data: refused from the file size, before reading the data.
  expect_error(write_raw("padded.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }",
                         bytes_of(std::vector<double>{1, 2}) + std::string(1 << 20, '\0')),
               "longer than its header says");
  // A 26-digit dimension is a one-line error naming the field, not std::stoull's out_of_range.
  expect_error(
      write_raw(
          "huge_dim.npy",
          "{'descr': '<f8', 'fortran_order': False, 'shape': (12345678901234567890123456,), }", ""),
      "'shape' entry 12345678901234567890123456 is too large");
  // Absurd declared sizes are refused before any allocation, even when each dimension fits.
  expect_error(
      write_raw("absurd.npy",
                "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
                ""),
      "cap of 268435456 elements");
  expect_error(write_raw("absurd1d.npy",
                         "{'descr': '<u1', 'fortran_order': False, 'shape': (1000000000000,), }",
                         std::string(8, '\0')),
               "cap of 268435456 elements");
}

TEST(NpyBadInput, ADirectoryIsNamedAsOne) {
  const std::string dir = temp_path("a_directory.npy");
  std::filesystem::create_directories(dir);
  expect_error(dir, "is a directory");
  std::filesystem::remove(dir);
}

// An endless stream (what `--input /dev/zero` gives) through a FIFO in a private directory: the
// writer counts what it managed to write before the reader gave up. The old reader slurped the
// whole stream before looking at the magic, so the writer's cap (256 MiB) would be reached.
std::size_t bytes_written_to_endless_fifo(const std::string& name, const std::string& prefix) {
  std::signal(SIGPIPE, SIG_IGN);  // the reader closing early must end the writer with EPIPE
  const std::string fifo = temp_path(name);
  std::filesystem::remove(fifo);
  if (::mkfifo(fifo.c_str(), 0600) != 0) {
    ADD_FAILURE() << "mkfifo " << fifo << ": " << std::strerror(errno);
    return 0;
  }
  std::atomic<std::size_t> written{0};
  std::thread writer([&] {
    const int fd = ::open(fifo.c_str(), O_WRONLY);
    if (fd < 0) return;
    std::string chunk = prefix + std::string(1 << 16, '\0');
    constexpr std::size_t kCap = std::size_t{256} << 20;
    while (written < kCap) {
      const ssize_t n = ::write(fd, chunk.data(), chunk.size());
      if (n <= 0) break;  // EPIPE: the reader is gone
      written += static_cast<std::size_t>(n);
      chunk.assign(1 << 16, '\0');
    }
    ::close(fd);
  });
  try {
    read_npy(fifo);
    ADD_FAILURE() << "expected an error for an endless stream";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(fifo), std::string::npos) << e.what();
  }
  writer.join();
  std::filesystem::remove(fifo);
  return written;
}

TEST(NpyBadInput, EndlessStreamsFailAfterTheHeaderOrTheDeclaredData) {
  // Zeros: no magic, so the reader must stop after 10 bytes (the writer gets at most what fits
  // in the pipe buffer and one more chunk: a few hundred KiB).
  EXPECT_LT(bytes_written_to_endless_fifo("zeros.fifo", ""), std::size_t{4} << 20);
  // A valid header for 2 doubles, then zeros forever: never more than declared is read.
  EXPECT_LT(bytes_written_to_endless_fifo("valid_then_zeros.fifo", npy_header("2,")),
            std::size_t{4} << 20);
}

}  // namespace
}  // namespace attncert
