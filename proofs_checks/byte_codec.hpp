// Bytes for a result that crosses a process boundary (an MPI rank's unit, a checkpoint file):
// fixed-width little-endian integers, doubles by their bit pattern (NaN payloads, -0 and ±inf
// kept), length-prefixed strings. A reader that runs out of bytes or finds a value out of range
// throws std::invalid_argument naming what it was reading, never reads past the end.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

namespace attncert {

class ByteWriter {
 public:
  void u8(std::uint8_t v) { bytes_.push_back(static_cast<char>(v)); }
  void u64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) bytes_.push_back(static_cast<char>((v >> (8 * i)) & 0xffu));
  }
  void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
  void f64(double v) { u64(std::bit_cast<std::uint64_t>(v)); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  void text(std::string_view s) {
    u64(s.size());
    bytes_.append(s);
  }
  const std::string& bytes() const& noexcept { return bytes_; }
  std::string bytes() && noexcept { return std::move(bytes_); }

 private:
  std::string bytes_;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : bytes_(bytes) {}
  std::uint8_t u8(const char* what) {
    need(1, what);
    return static_cast<std::uint8_t>(bytes_[pos_++]);
  }
  std::uint64_t u64(const char* what) {
    need(8, what);
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= std::uint64_t{static_cast<unsigned char>(bytes_[pos_ + i])} << (8 * i);
    pos_ += 8;
    return v;
  }
  std::int64_t i64(const char* what) { return static_cast<std::int64_t>(u64(what)); }
  double f64(const char* what) { return std::bit_cast<double>(u64(what)); }
  bool boolean(const char* what) {
    const std::uint8_t v = u8(what);
    if (v > 1) throw std::invalid_argument(std::string("malformed unit result: ") + what + " is not a boolean");
    return v == 1;
  }
  std::string text(const char* what) {
    const std::uint64_t n = u64(what);
    need(n, what);
    std::string s(bytes_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  /// A count of items, each at least `min_item_bytes` long: refused before anything is
  /// allocated when the remaining bytes cannot hold that many.
  std::size_t count(const char* what, std::size_t min_item_bytes) {
    const std::uint64_t n = u64(what);
    if (min_item_bytes > 0 && n > (bytes_.size() - pos_) / min_item_bytes) {
      throw std::invalid_argument(std::string("malformed unit result: ") + what + " claims more items than it holds");
    }
    return static_cast<std::size_t>(n);
  }
  std::size_t remaining() const noexcept { return bytes_.size() - pos_; }
  /// Every byte was read: trailing bytes mean the writer and the reader disagree.
  void finish(const char* what) const {
    if (pos_ != bytes_.size()) {
      throw std::invalid_argument(std::string("malformed unit result: ") + what + " has trailing bytes");
    }
  }

 private:
  void need(std::uint64_t n, const char* what) const {
    if (n > bytes_.size() - pos_) {
      throw std::invalid_argument(std::string("malformed unit result: truncated in ") + what);
    }
  }
  std::string_view bytes_;
  std::size_t pos_ = 0;
};

}  // namespace attncert
