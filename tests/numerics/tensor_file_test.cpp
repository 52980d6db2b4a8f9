// read_tensor: one entry point for .npy and safetensors, the format told by contents (not the
// extension), PATH:NAME with ':' allowed in both parts, and the element type the file stored
// (numerics/tensor_file.hpp).
#include "numerics/tensor_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace attncert {
namespace {

std::string temp_dir() {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("attncert_tensor_file_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir.string();
}

std::string write_file(const std::string& name, const std::string& bytes) {
  const std::string path = temp_dir() + "/" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

// A v1.0 .npy with the given descr and shape text, and the raw payload.
std::string npy_of(const std::string& descr, const std::string& shape, const std::string& payload) {
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  const std::size_t total = 10 + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict.push_back('\n');
  std::string bytes = "\x93NUMPY";
  bytes += '\x01';
  bytes += '\x00';
  bytes += static_cast<char>(dict.size() & 0xff);
  bytes += static_cast<char>(dict.size() >> 8);
  return bytes + dict + payload;
}

template <class T>
std::string raw(std::vector<T> v, bool big_endian = false) {
  std::string s(v.size() * sizeof(T), '\0');
  std::memcpy(s.data(), v.data(), s.size());
  if (big_endian) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      std::reverse(s.begin() + i * sizeof(T), s.begin() + (i + 1) * sizeof(T));
    }
  }
  return s;
}

std::string error_of(const std::string& spec) {
  try {
    read_tensor(spec);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no error)";
}

void expect_error(const std::string& spec, const std::string& fragment) {
  const std::string what = error_of(spec);
  EXPECT_NE(what.find(fragment), std::string::npos) << "wanted '" << fragment << "' in: " << what;
  EXPECT_EQ(what.find('\n'), std::string::npos) << what;
}

std::string two_tensor_file() {
  static const std::vector<double> q = {1, 2, 3, 4}, k = {-1, 0.5};
  return safetensors_bytes(
      {{"layer:q", ElementType::bf16, {2, 2}, &q}, {"k", ElementType::f32, {2}, &k}});
}

TEST(ReadTensor, NpyFilesKeepTheirElementType) {
  struct Case {
    std::string descr, payload;
    ElementType type;
  };
  const std::vector<Case> cases = {
      {"<f8", raw<double>({1.5, -2}), ElementType::f64},
      {"<f4", raw<float>({1.5f, -2}), ElementType::f32},
      {">f4", raw<float>({1.5f, -2}, true), ElementType::f32},
      {"<f2", std::string("\x00\x3e\x00\xc0", 4), ElementType::f16},  // 1.5, -2
      {">f2", std::string("\x3e\x00\xc0\x00", 4), ElementType::f16},
      {"<i8", raw<std::int64_t>({2, -2}), ElementType::i64},
      {"<i4", raw<std::int32_t>({2, -2}), ElementType::i32},
      {"|i1", std::string("\x02\xfe", 2), ElementType::i8},
      {"|u1", std::string("\x02\x03", 2), ElementType::u8},
  };
  for (const Case& c : cases) {
    // No "literal" + std::string here or below: GCC 12's false -Wrestrict (bug 105329).
    std::string name = std::to_string(&c - cases.data());
    name.append(".npy");
    const std::string path = write_file(name, npy_of(c.descr, "(2,)", c.payload));
    const Tensor t = read_tensor(path);
    EXPECT_EQ(t.type, c.type) << c.descr;
    EXPECT_EQ(t.name, path);
    EXPECT_EQ(t.shape, std::vector<std::size_t>{2});
    const double first = is_floating(c.type) ? 1.5 : 2;
    EXPECT_EQ(t.data, (std::vector<double>{first, c.type == ElementType::u8 ? 3.0 : -2.0}))
        << c.descr;
  }
  expect_error(write_file("u2.npy", npy_of("<u2", "(1,)", std::string(2, '\0'))),
               "numpy dtype '<u2' has no tensor element type");
  expect_error(write_file("big.npy", npy_of("<i8", "(1,)", raw<std::int64_t>({std::int64_t{1} << 53}))),
               "element 0 of int64 is at or beyond 2^53");
  expect_error(write_file("q.npy", npy_of("<f8", "(1,)", raw<double>({1}))) + ":q",
               "is a .npy file, which holds one unnamed array: drop ':q'");
}

TEST(ReadTensor, SafetensorsByNameOrAsTheOnlyTensor) {
  const std::string path = write_file("two.safetensors", two_tensor_file());
  const Tensor q = read_tensor(path + ":layer:q");  // NAME containing ':'
  EXPECT_EQ(q.name, "layer:q");
  EXPECT_EQ(q.type, ElementType::bf16);
  EXPECT_EQ(q.shape, (std::vector<std::size_t>{2, 2}));
  EXPECT_EQ(q.data, (std::vector<double>{1, 2, 3, 4}));
  const Tensor k = read_tensor(path + ":k");
  EXPECT_EQ(k.type, ElementType::f32);
  EXPECT_EQ(k.data, (std::vector<double>{-1, 0.5}));
  expect_error(path, "holds 2 tensors (\"k\", \"layer:q\"); name one as " + path + ":NAME");
  expect_error(path + ":v", "has no tensor \"v\" (it holds \"k\", \"layer:q\")");
  expect_error(path + ":", "has no tensor \"\"");

  const std::vector<double> only = {7};
  const std::string one =
      write_file("one.safetensors", safetensors_bytes({{"only", ElementType::f16, {}, &only}}));
  EXPECT_EQ(read_tensor(one).data, only);
  EXPECT_EQ(read_tensor(one).rank(), 0u);
  expect_error(write_file("none.safetensors", safetensors_bytes({})), "holds no tensors");

  // A whole model file: the list stays one readable line.
  std::vector<std::vector<double>> values(30, std::vector<double>{1});
  std::vector<TensorToWrite> many;
  for (int i = 0; i < 30; ++i) {
    std::string name = std::to_string(100 + i);
    name.insert(0, 1, 'w');
    many.push_back({name, ElementType::f32, {1}, &values[i]});
  }
  expect_error(write_file("many.safetensors", safetensors_bytes(many)),
               "\"w119\", … and 10 more); name one as");
}

TEST(ReadTensor, TheFormatComesFromTheContentsNotTheExtension) {
  const std::string st = write_file("really_safetensors.npy", two_tensor_file());
  EXPECT_EQ(read_tensor(st + ":k").type, ElementType::f32);
  const std::string npy = write_file("really_npy.safetensors", npy_of("<f4", "(1,)", raw<float>({3})));
  EXPECT_EQ(read_tensor(npy).type, ElementType::f32);
  // A file that is neither is refused as neither (OtherFormatsAreNamedAsNeither).
  expect_error(write_file("text.npy", "hello, not a tensor file"), "is neither a .npy file");
}

TEST(ReadTensor, PathsContainingColonsStillWork) {
  const std::string dir = temp_dir() + "/run:3";
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/a:b.safetensors";
  std::ofstream(path, std::ios::binary) << two_tensor_file();
  EXPECT_EQ(read_tensor(path + ":k").data, (std::vector<double>{-1, 0.5}));
  EXPECT_EQ(read_tensor(path + ":layer:q").size(), 4u);
  const std::string npy = dir + "/x:y.npy";
  std::ofstream(npy, std::ios::binary) << npy_of("<f8", "(1,)", raw<double>({9}));
  EXPECT_EQ(read_tensor(npy).data, std::vector<double>{9});  // the whole spec is the file
}

TEST(ReadTensor, MissingFilesAndNonFilesAreNamed) {
  const std::string missing = temp_dir() + "/missing.safetensors";
  expect_error(missing, missing + ": no such file");
  expect_error(missing + ":q", "nor is any part before a ':' a file");
  expect_error(temp_dir(), "is a directory");
  expect_error(temp_dir() + ":q", "is a directory");
  // The format is read from the first bytes, then the file is read again: a pipe cannot be.
  const std::string fifo = temp_dir() + "/fifo.npy";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  expect_error(fifo, "is not a regular file");
  std::filesystem::remove(fifo);
}

// Files of neither format are named for what they are (a torch.save zip, a pickle, anything
// else), not by a safetensors header length read from foreign bytes.
TEST(ReadTensor, OtherFormatsAreNamedAsNeither) {
  const auto file = write_file;
  expect_error(file("model.pt", std::string("PK\x03\x04", 4) + std::string(60, 'x')),
               "is a ZIP archive (a torch.save .pt or a numpy .npz file?)");
  expect_error(file("old.pt", "\x80\x02}q\x00(X\x01\x00\x00\x00q" + std::string(40, 'x')),
               "looks like a Python pickle");
  expect_error(file("text.npy", "hello, world, not a tensor"), "is neither a .npy file");
  expect_error(file("empty.npy", ""), "is neither a .npy file (no \\x93NUMPY magic) nor a "
                                       "safetensors file (0 bytes long)");
}

TEST(ReadTensor, OneCapForBothFormats) {
  EXPECT_EQ(kMaxTensorElements, std::size_t{1} << 28);
  expect_error(write_file("cap.npy", npy_of("|u1", "(268435457,)", "")),
               "cap of 268435456 elements");
  const std::string header =
      R"({"t":{"dtype":"U8","shape":[268435457],"data_offsets":[0,268435457]}})";
  std::string bytes(8, '\0');
  bytes[0] = static_cast<char>(header.size());
  expect_error(write_file("cap.safetensors", bytes + header), "cap of 268435456 elements");
}

}  // namespace
}  // namespace attncert
