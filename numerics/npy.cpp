#include "numerics/npy.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <regex>
#include <stdexcept>
#include <utility>

#include "numerics/tensor_file.hpp"

namespace attncert {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error(fmt::format("{}: {}", path, what));
}

// IEEE half -> double, exact.
double half_to_double(std::uint16_t h) {
  const int sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  double v;
  if (exp == 0) {
    v = std::ldexp(static_cast<double>(mant), -24);
  } else if (exp == 31) {
    v = mant ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  } else {
    v = std::ldexp(static_cast<double>(mant | 0x400), exp - 25);
  }
  return sign ? -v : v;
}

template <class U>
U reverse_bytes(U u) {  // std::byteswap is C++23
  unsigned char b[sizeof(U)];
  std::memcpy(b, &u, sizeof(U));
  for (std::size_t i = 0; i < sizeof(U) / 2; ++i) std::swap(b[i], b[sizeof(U) - 1 - i]);
  std::memcpy(&u, b, sizeof(U));
  return u;
}

template <class U>
U load(const unsigned char* p, bool swap) {
  U u;
  std::memcpy(&u, p, sizeof(U));
  if (swap) u = reverse_bytes(u);
  return u;
}

// Declared sizes beyond these are refused before anything is allocated: no attention input
// attncert certifies comes near them, and a lying header must not cost memory.
constexpr std::size_t kMaxHeaderBytes = 1 << 20;
constexpr std::size_t kMaxElements = kMaxTensorElements;  // one cap for .npy and safetensors

// Reads exactly n bytes (fewer only at end of file) in bounded chunks, so that a FIFO or a
// lying header makes the buffer grow only with data that actually arrives.
std::vector<unsigned char> read_bytes(std::ifstream& in, std::size_t n) {
  constexpr std::size_t kChunk = 1 << 20;
  std::vector<unsigned char> bytes;
  while (bytes.size() < n && in) {
    const std::size_t old = bytes.size();
    bytes.resize(old + std::min(kChunk, n - old));
    in.read(reinterpret_cast<char*>(bytes.data() + old),
            static_cast<std::streamsize>(bytes.size() - old));
    bytes.resize(old + static_cast<std::size_t>(in.gcount()));
  }
  return bytes;
}

}  // namespace

NpyArray read_npy(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) fail(path, "is a directory, not a .npy file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open for reading");
  // Magic and header first, then exactly the declared data: never read an endless stream
  // (a FIFO, /dev/zero) before knowing it is a .npy file.
  std::vector<unsigned char> bytes = read_bytes(in, 10);
  static const unsigned char kMagic[] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (bytes.size() < 10 || std::memcmp(bytes.data(), kMagic, 6) != 0) {
    fail(path, "not a .npy file (missing \\x93NUMPY magic)");
  }
  const int major = bytes[6];
  std::size_t header_len, offset;
  if (major == 1) {
    header_len = bytes[8] | (bytes[9] << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    const std::vector<unsigned char> more = read_bytes(in, 2);
    bytes.insert(bytes.end(), more.begin(), more.end());
    if (bytes.size() < 12) fail(path, "truncated .npy header");
    header_len = bytes[8] | (bytes[9] << 8) | (bytes[10] << 16) |
                 (static_cast<std::size_t>(bytes[11]) << 24);
    offset = 12;
  } else {
    fail(path, fmt::format("unsupported .npy format version {}", major));
  }
  if (header_len > kMaxHeaderBytes) {
    fail(path,
         fmt::format("header length {} exceeds the cap of {} bytes", header_len, kMaxHeaderBytes));
  }
  const std::vector<unsigned char> header_bytes = read_bytes(in, header_len);
  if (header_bytes.size() < header_len) fail(path, "truncated .npy header");
  const std::string header(header_bytes.begin(), header_bytes.end());

  std::smatch m;
  static const std::regex descr_re(R"('descr'\s*:\s*'([<>|=])([fiub])(\d+)')");
  static const std::regex order_re(R"('fortran_order'\s*:\s*(True|False))");
  static const std::regex shape_re(R"('shape'\s*:\s*\(([^)]*)\))");
  if (!std::regex_search(header, m, descr_re)) {
    fail(path, "header has no supported 'descr' (need a numeric dtype such as '<f8')");
  }
  const char endian = m[1].str()[0];
  const char kind = m[2].str()[0];
  const int width = std::stoi(m[3].str());
  NpyArray a;
  a.source_dtype = m[1].str() + m[2].str() + m[3].str();
  const bool big = endian == '>' || (endian == '=' && std::endian::native == std::endian::big);
  const bool swap = width > 1 && (big != (std::endian::native == std::endian::big));
  const bool ok_width = (kind == 'f' && (width == 2 || width == 4 || width == 8)) ||
                        ((kind == 'i' || kind == 'u') &&
                         (width == 1 || width == 2 || width == 4 || width == 8)) ||
                        (kind == 'b' && width == 1);
  if (!ok_width) fail(path, fmt::format("unsupported dtype '{}'", a.source_dtype));
  if (!std::regex_search(header, m, order_re)) fail(path, "header has no 'fortran_order'");
  const bool fortran = m[1] == "True";
  if (!std::regex_search(header, m, shape_re)) fail(path, "header has no 'shape'");
  {
    const std::string dims = m[1].str();
    static const std::regex dim_re(R"(\s*(\d+)\s*(,|$))");
    std::size_t pos = 0;
    for (std::sregex_iterator it(dims.begin(), dims.end(), dim_re), end; it != end; ++it) {
      if (static_cast<std::size_t>(it->position()) != pos) fail(path, "malformed 'shape'");
      const std::string digits = (*it)[1].str();
      std::size_t dim = 0;
      const auto [last, err] = std::from_chars(digits.data(), digits.data() + digits.size(), dim);
      if (err != std::errc() || last != digits.data() + digits.size()) {
        fail(path, fmt::format("'shape' entry {} is too large", digits));
      }
      a.shape.push_back(dim);
      pos = it->position() + it->length();
    }
    if (dims.find_first_not_of(" \t,", pos) != std::string::npos) fail(path, "malformed 'shape'");
  }
  // Element count, saturating: any product beyond the cap is refused the same way.
  std::size_t count = 1;
  for (std::size_t d : a.shape) {
    count = d != 0 && count > kMaxElements / d ? kMaxElements + 1 : count * d;
  }
  if (count > kMaxElements) {
    fail(path, fmt::format("'shape' ({}) declares more than the cap of {} elements",
                           fmt::join(a.shape, ", "), kMaxElements));
  }
  const std::size_t data_bytes = count * static_cast<std::size_t>(width);
  // A regular file's size must match the header before its data is read: shorter is truncated,
  // longer means the header lies about what the file holds.
  const std::size_t declared = offset + header_len + data_bytes;
  const auto file_size = std::filesystem::is_regular_file(path, ec)
                             ? std::filesystem::file_size(path, ec)
                             : static_cast<std::uintmax_t>(-1);
  if (!ec && file_size != static_cast<std::uintmax_t>(-1) && file_size != declared) {
    fail(path, fmt::format("{}: file has {} bytes, its header declares {} (shape ({}) of {})",
                           file_size < declared ? "truncated data" : "longer than its header says",
                           file_size, declared, fmt::join(a.shape, ", "), a.source_dtype));
  }
  bytes = read_bytes(in, data_bytes);
  if (bytes.size() < data_bytes) {
    fail(path, fmt::format("truncated data: shape needs {} elements of {} bytes, file has {} bytes",
                           count, width, bytes.size()));
  }
  if (in.peek() != std::ifstream::traits_type::eof()) {  // a stream: more data than declared
    fail(path, fmt::format("more data than its header declares (shape ({}) of {})",
                           fmt::join(a.shape, ", "), a.source_dtype));
  }
  std::vector<double> flat(count);
  const unsigned char* p = bytes.data();
  for (std::size_t i = 0; i < count; ++i, p += width) {
    double v = 0;
    if (kind == 'f') {
      if (width == 8) v = std::bit_cast<double>(load<std::uint64_t>(p, swap));
      else if (width == 4) v = std::bit_cast<float>(load<std::uint32_t>(p, swap));
      else v = half_to_double(load<std::uint16_t>(p, swap));
    } else if (kind == 'i') {
      if (width == 1) v = static_cast<std::int8_t>(*p);
      else if (width == 2) v = static_cast<std::int16_t>(load<std::uint16_t>(p, swap));
      else if (width == 4) v = static_cast<std::int32_t>(load<std::uint32_t>(p, swap));
      else v = static_cast<double>(static_cast<std::int64_t>(load<std::uint64_t>(p, swap)));
    } else {
      if (width == 1) v = *p;
      else if (width == 2) v = load<std::uint16_t>(p, swap);
      else if (width == 4) v = load<std::uint32_t>(p, swap);
      else v = static_cast<double>(load<std::uint64_t>(p, swap));
    }
    flat[i] = v;
  }
  if (fortran && a.shape.size() > 1) {
    // Column-major -> row-major.
    a.data.resize(count);
    const std::size_t r = a.shape.size();
    std::vector<std::size_t> idx(r, 0);
    for (std::size_t f = 0; f < count; ++f) {
      std::size_t c = 0;
      for (std::size_t k = 0; k < r; ++k) c = c * a.shape[k] + idx[k];
      a.data[c] = flat[f];
      for (std::size_t k = 0; k < r; ++k) {  // Fortran order: first index fastest
        if (++idx[k] < a.shape[k]) break;
        idx[k] = 0;
      }
    }
  } else {
    a.data = std::move(flat);
  }
  return a;
}

std::string npy_bytes(const std::vector<std::size_t>& shape, const std::vector<double>& data) {
  std::size_t count = 1;
  for (std::size_t d : shape) count *= d;
  if (count != data.size()) {
    throw std::invalid_argument(
        fmt::format("npy_bytes: shape holds {} elements but data has {}", count, data.size()));
  }
  std::string dims = fmt::format("{}", fmt::join(shape, ", "));
  if (shape.size() == 1) dims += ",";  // Python's one-tuple: (3,)
  std::string header =
      fmt::format("{{'descr': '<f8', 'fortran_order': False, 'shape': ({}), }}", dims);
  const std::size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  const unsigned char pre[] = {0x93,
                               'N',
                               'U',
                               'M',
                               'P',
                               'Y',
                               1,
                               0,
                               static_cast<unsigned char>(header.size() & 0xff),
                               static_cast<unsigned char>(header.size() >> 8)};
  std::string bytes(reinterpret_cast<const char*>(pre), sizeof pre);
  bytes += header;
  bytes.reserve(bytes.size() + 8 * data.size());
  for (double v : data) {
    std::uint64_t u = std::bit_cast<std::uint64_t>(v);
    if constexpr (std::endian::native == std::endian::big) u = reverse_bytes(u);
    bytes.append(reinterpret_cast<const char*>(&u), 8);
  }
  return bytes;
}

}  // namespace attncert
