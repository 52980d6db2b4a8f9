// safetensors reading and writing (numerics/tensor_file.hpp). The reader trusts nothing in the
// header: every size it declares is checked against the bytes that are really there before
// anything is allocated, and data is read in bounded chunks, so a lying header costs at most
// the file's own size.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "numerics/tensor_file.hpp"

namespace attncert {
namespace {

using json = nlohmann::json;

[[noreturn]] void fail(const std::string& source, const std::string& what) {
  throw std::runtime_error(fmt::format("{}: {}", source, what));
}

// A name from the file, quoted as a JSON string: control characters and quotes escaped, so an
// error message stays one line whatever the file holds.
std::string quoted(const std::string& name) {
  return json(name).dump(-1, ' ', false, json::error_handler_t::replace);
}

// ---- element types --------------------------------------------------------------------------

struct TypeInfo {
  ElementType type;
  std::string_view safetensors_name, user_name;
  std::size_t size;
};

constexpr TypeInfo kTypes[] = {
    {ElementType::f64, "F64", "float64", 8},   {ElementType::f32, "F32", "float32", 4},
    {ElementType::f16, "F16", "float16", 2},   {ElementType::bf16, "BF16", "bfloat16", 2},
    {ElementType::i64, "I64", "int64", 8},     {ElementType::i32, "I32", "int32", 4},
    {ElementType::i16, "I16", "int16", 2},     {ElementType::i8, "I8", "int8", 1},
    {ElementType::u8, "U8", "uint8", 1},       {ElementType::boolean, "BOOL", "bool", 1},
};

const TypeInfo& info(ElementType t) {
  for (const TypeInfo& i : kTypes) {
    if (i.type == t) return i;
  }
  throw std::invalid_argument(
      fmt::format("unknown ElementType {}", static_cast<int>(static_cast<std::uint8_t>(t))));
}

// ---- exact conversions ----------------------------------------------------------------------

double half_to_double(std::uint16_t h) {
  const int exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  double v;
  if (exp == 0) {
    v = std::ldexp(static_cast<double>(mant), -24);  // zero and subnormals
  } else if (exp == 31) {
    v = mant ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  } else {
    v = std::ldexp(static_cast<double>(mant | 0x400), exp - 25);
  }
  return (h >> 15) ? -v : v;
}

double bf16_to_double(std::uint16_t b) {  // bf16 is the top half of a float32
  return static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16));
}

// The fp16 bits holding exactly v, or false when none does (no rounding, ever).
bool double_to_half(double v, std::uint16_t& out) {
  const std::uint16_t sign = std::signbit(v) ? 0x8000 : 0;
  if (std::isnan(v)) return out = 0x7e00, true;
  if (std::isinf(v)) return out = sign | 0x7c00, true;
  const double a = std::fabs(v);
  if (a == 0) return out = sign, true;
  int e;
  std::frexp(a, &e);  // a = m·2^e, m in [0.5, 1)
  const int exponent = std::max(e - 1, -14);  // subnormals share the exponent of 2^-14
  if (exponent > 15) return false;
  const double mant = std::ldexp(a, 10 - exponent);  // exact: a power-of-two scaling
  if (mant != std::floor(mant) || mant >= 2048) return false;
  const auto m = static_cast<std::uint16_t>(mant);
  out = m >= 1024 ? static_cast<std::uint16_t>(sign | ((exponent + 15) << 10) | (m - 1024))
                  : static_cast<std::uint16_t>(sign | m);
  return half_to_double(out) == v;
}

bool double_to_bf16(double v, std::uint16_t& out) {
  if (std::isnan(v)) return out = 0x7fc0, true;
  const auto f = static_cast<float>(v);
  if (static_cast<double>(f) != v) return false;
  const auto bits = std::bit_cast<std::uint32_t>(f);
  if (bits & 0xffff) return false;
  out = static_cast<std::uint16_t>(bits >> 16);
  return true;
}

std::uint64_t load_le(const unsigned char* p, std::size_t n) {
  std::uint64_t u = 0;
  for (std::size_t i = n; i-- > 0;) u = (u << 8) | p[i];
  return u;
}

void store_le(std::string& out, std::uint64_t u, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out.push_back(static_cast<char>((u >> (8 * i)) & 0xff));
}

// ---- where the bytes come from --------------------------------------------------------------

// The file or the memory the reader reads from; size() is known before anything is parsed, and
// read() delivers exactly n bytes or throws.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual std::uint64_t size() const = 0;
  virtual void read(std::uint64_t offset, std::size_t n, unsigned char* out) = 0;
};

class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(std::string_view bytes) : bytes_(bytes) {}
  std::uint64_t size() const override { return bytes_.size(); }
  void read(std::uint64_t offset, std::size_t n, unsigned char* out) override {
    std::memcpy(out, bytes_.data() + offset, n);  // the parser checked offset + n ≤ size()
  }

 private:
  std::string_view bytes_;
};

class FileSource final : public ByteSource {
 public:
  explicit FileSource(const std::string& path) : path_(path) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(status)) fail(path, "no such file");
    if (std::filesystem::is_directory(status)) fail(path, "is a directory, not a tensor file");
    if (!std::filesystem::is_regular_file(status)) fail(path, "is not a regular file");
    size_ = std::filesystem::file_size(path, ec);
    if (ec) fail(path, fmt::format("cannot read its size ({})", ec.message()));
    in_.open(path, std::ios::binary);
    if (!in_) fail(path, "cannot open for reading");
  }
  std::uint64_t size() const override { return size_; }
  void read(std::uint64_t offset, std::size_t n, unsigned char* out) override {
    in_.seekg(static_cast<std::streamoff>(offset));
    in_.read(reinterpret_cast<char*>(out), static_cast<std::streamsize>(n));
    if (!in_ || static_cast<std::size_t>(in_.gcount()) != n) {
      fail(path_, fmt::format("file shrank while being read (bytes {}..{} missing)", offset,
                              offset + n));
    }
  }

 private:
  std::string path_;
  std::uint64_t size_ = 0;
  std::ifstream in_;
};

// ---- the header -----------------------------------------------------------------------------

struct Entry {
  std::string name;
  ElementType type;
  std::vector<std::size_t> shape;
  std::size_t count;         // elements
  std::uint64_t begin, end;  // within the data buffer
};

std::string known_dtypes() {
  std::vector<std::string_view> names;
  for (const TypeInfo& i : kTypes) names.push_back(i.safetensors_name);
  return fmt::format("{}", fmt::join(names, ", "));
}

// Parses the JSON with nlohmann, refusing duplicate keys (nlohmann would silently keep one) and
// nesting deeper than a valid header has (an object of objects of arrays).
json parse_header_json(const std::string& text, const std::string& source) {
  std::vector<std::set<std::string>> keys_per_object;
  std::vector<std::size_t> entries_per_list;  // of the lists being parsed, innermost last
  const json::parser_callback_t callback = [&](int depth, json::parse_event_t event,
                                               json& parsed) {
    if (depth > 3) fail(source, "safetensors header nests deeper than name → entry → list");
    switch (event) {
      case json::parse_event_t::object_start: keys_per_object.emplace_back(); break;
      case json::parse_event_t::object_end: keys_per_object.pop_back(); break;
      case json::parse_event_t::array_start: entries_per_list.push_back(0); break;
      case json::parse_event_t::array_end: entries_per_list.pop_back(); break;
      case json::parse_event_t::value:
        // Lists hold only values here (deeper nesting is refused above).
        if (!entries_per_list.empty() && ++entries_per_list.back() > kMaxSafetensorsListEntries)
          fail(source, fmt::format("safetensors header has a list of more than {} entries (a "
                                   "shape of such a rank)", kMaxSafetensorsListEntries));
        break;
      case json::parse_event_t::key:
        if (!keys_per_object.back().insert(parsed.get<std::string>()).second) {
          fail(source, fmt::format("safetensors header has the key {} twice",
                                   quoted(parsed.get<std::string>())));
        }
        break;
      default: break;
    }
    return true;
  };
  try {
    return json::parse(text, callback);
  } catch (const json::exception& e) {
    std::string what = e.what();
    std::replace_if(what.begin(), what.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
    fail(source, fmt::format("safetensors header is not valid JSON ({})", what));
  }
}

Entry parse_entry(const std::string& name, const json& j, const std::string& source) {
  const auto bad = [&](const std::string& what) -> void {
    fail(source, fmt::format("tensor {}: {}", quoted(name), what));
  };
  // The writer refuses empty names too, and PATH: could not select one.
  if (name.empty()) bad("a tensor's name is empty");
  if (!j.is_object()) bad("entry is not an object with dtype, shape and data_offsets");
  for (const auto& [key, value] : j.items()) {
    if (key != "dtype" && key != "shape" && key != "data_offsets") {
      bad(fmt::format("unexpected key {} (an entry has exactly dtype, shape and data_offsets)",
                      quoted(key)));
    }
  }
  for (const char* key : {"dtype", "shape", "data_offsets"}) {
    if (!j.contains(key)) bad(fmt::format("entry has no \"{}\"", key));
  }
  Entry e{name, ElementType::f64, {}, 1, 0, 0};
  const json& dtype = j["dtype"];
  if (!dtype.is_string()) bad("\"dtype\" is not a string");
  const std::string& dtype_name = dtype.get_ref<const std::string&>();
  const TypeInfo* type = nullptr;
  for (const TypeInfo& i : kTypes) {
    if (i.safetensors_name == dtype_name) type = &i;
  }
  if (type == nullptr) {
    bad(fmt::format("unsupported dtype {} (attncert reads {})", quoted(dtype_name),
                    known_dtypes()));
  }
  e.type = type->type;

  const json& shape = j["shape"];
  if (!shape.is_array()) bad("\"shape\" is not a list");
  for (const json& d : shape) {
    if (!d.is_number_unsigned()) {
      bad(fmt::format("\"shape\" {} has an entry that is not a non-negative integer",
                      shape.dump()));
    }
    e.shape.push_back(d.get<std::uint64_t>());
  }
  // The element count, saturating just past the cap (a zero dimension makes it 0 however
  // large the others are), so no product can overflow.
  if (std::find(e.shape.begin(), e.shape.end(), 0) != e.shape.end()) e.count = 0;
  for (std::size_t dim : e.shape) {
    e.count = e.count != 0 && e.count > kMaxTensorElements / dim ? kMaxTensorElements + 1
                                                                 : e.count * dim;
  }
  if (e.count > kMaxTensorElements) {
    bad(fmt::format("shape [{}] declares more than the cap of {} elements",
                    fmt::join(e.shape, ", "), kMaxTensorElements));
  }

  const json& offsets = j["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned()) {
    bad("\"data_offsets\" is not a list [begin, end] of two non-negative integers");
  }
  e.begin = offsets[0].get<std::uint64_t>();
  e.end = offsets[1].get<std::uint64_t>();
  if (e.end < e.begin) bad(fmt::format("data_offsets [{}, {}] end before they begin", e.begin, e.end));
  // count ≤ 2^28 and size ≤ 8: no overflow.
  const std::uint64_t need = static_cast<std::uint64_t>(e.count) * type->size;
  if (need != e.end - e.begin) {
    bad(fmt::format("shape [{}] of {} needs {} bytes but data_offsets [{}, {}] span {}",
                    fmt::join(e.shape, ", "), type->safetensors_name, need, e.begin, e.end,
                    e.end - e.begin));
  }
  return e;
}

void check_metadata(const json& j, const std::string& source) {
  if (!j.is_object()) fail(source, "\"__metadata__\" is not an object mapping strings to strings");
  for (const auto& [key, value] : j.items()) {
    if (!value.is_string()) {
      fail(source, fmt::format("\"__metadata__\" maps {} to a {}, not a string", quoted(key),
                               value.type_name()));
    }
  }
}

// Reads the header and checks every entry against the data buffer: the entries come back
// sorted by their offsets, covering the buffer exactly.
std::vector<Entry> read_header(ByteSource& src, const std::string& source,
                               std::uint64_t& buffer_start) {
  const std::uint64_t file_size = src.size();
  if (file_size < 8) {
    fail(source, fmt::format("too short for a safetensors file ({} bytes; the 8-byte header "
                             "length alone needs 8)",
                             file_size));
  }
  unsigned char prefix[8];
  src.read(0, 8, prefix);
  const std::uint64_t header_len = load_le(prefix, 8);
  if (header_len > kMaxSafetensorsHeaderBytes) {
    fail(source, fmt::format("safetensors header length {} exceeds the cap of {} bytes",
                             header_len, kMaxSafetensorsHeaderBytes));
  }
  if (header_len > file_size - 8) {
    fail(source, fmt::format("truncated: safetensors header length {} runs past the end of the "
                             "file ({} bytes)",
                             header_len, file_size));
  }
  std::string text(header_len, '\0');
  src.read(8, header_len, reinterpret_cast<unsigned char*>(text.data()));
  buffer_start = 8 + header_len;
  const std::uint64_t buffer_size = file_size - buffer_start;

  const json header = parse_header_json(text, source);
  if (!header.is_object()) fail(source, "safetensors header is not a JSON object");
  std::vector<Entry> entries;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") {
      check_metadata(value, source);
    } else {
      entries.push_back(parse_entry(name, value, source));
    }
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  // The reference implementation's rule: each tensor starts where the previous one ended, and
  // the last one ends at the end of the file.
  std::uint64_t at = 0;
  const Entry* previous = nullptr;
  for (const Entry& e : entries) {
    if (e.end > buffer_size) {
      fail(source, fmt::format("tensor {}: data_offsets [{}, {}] run past the data buffer ({} "
                               "bytes; file truncated or header lying)",
                               quoted(e.name), e.begin, e.end, buffer_size));
    }
    if (e.begin < at) {
      fail(source, fmt::format("tensors {} and {} overlap (data_offsets [{}, {}] and [{}, {}])",
                               quoted(previous->name), quoted(e.name), previous->begin,
                               previous->end, e.begin, e.end));
    }
    if (e.begin > at) {
      fail(source, fmt::format("bytes [{}, {}) of the data buffer belong to no tensor (a hole "
                               "before tensor {})",
                               at, e.begin, quoted(e.name)));
    }
    at = e.end;
    previous = &e;
  }
  if (at != buffer_size) {
    fail(source, fmt::format("file is longer than its tensors: {} bytes after the last tensor's "
                             "data (data buffer {} bytes, tensors cover {})",
                             buffer_size - at, buffer_size, at));
  }
  return entries;
}

// Reads one tensor's bytes in bounded chunks and widens them exactly.
Tensor read_entry(ByteSource& src, const std::string& source, std::uint64_t buffer_start,
                  const Entry& e) {
  Tensor t;
  t.name = e.name;
  t.type = e.type;
  t.shape = e.shape;
  t.data.resize(e.count);  // ≤ kMaxTensorElements, and backed by e.count·size bytes of the file
  const std::size_t size = element_size(e.type);
  constexpr std::size_t kChunkElements = std::size_t{1} << 16;
  std::vector<unsigned char> chunk(std::min(e.count, kChunkElements) * size);
  for (std::size_t first = 0; first < e.count; first += kChunkElements) {
    const std::size_t n = std::min(kChunkElements, e.count - first);
    src.read(buffer_start + e.begin + first * size, n * size, chunk.data());
    for (std::size_t i = 0; i < n; ++i) {
      const unsigned char* p = chunk.data() + i * size;
      const std::uint64_t u = load_le(p, size);
      double v = 0;
      switch (e.type) {
        case ElementType::f64: v = std::bit_cast<double>(u); break;
        case ElementType::f32: v = std::bit_cast<float>(static_cast<std::uint32_t>(u)); break;
        case ElementType::f16: v = half_to_double(static_cast<std::uint16_t>(u)); break;
        case ElementType::bf16: v = bf16_to_double(static_cast<std::uint16_t>(u)); break;
        case ElementType::i64: {
          const auto s = static_cast<std::int64_t>(u);
          constexpr std::int64_t kExact = std::int64_t{1} << 53;
          if (s > kExact || s < -kExact) {
            fail(source, fmt::format("tensor {}: element {} ({}) of I64 is beyond 2^53, where a "
                                     "double cannot hold every integer",
                                     quoted(e.name), first + i, s));
          }
          v = static_cast<double>(s);
          break;
        }
        case ElementType::i32: v = static_cast<std::int32_t>(u); break;
        case ElementType::i16: v = static_cast<std::int16_t>(u); break;
        case ElementType::i8: v = static_cast<std::int8_t>(u); break;
        case ElementType::u8: v = static_cast<double>(u); break;
        case ElementType::boolean:
          if (u > 1) {
            fail(source, fmt::format("tensor {}: element {} of BOOL is the byte {}, not 0 or 1",
                                     quoted(e.name), first + i, u));
          }
          v = static_cast<double>(u);
          break;
      }
      t.data[first + i] = v;
    }
  }
  return t;
}

std::vector<Tensor> read_all(ByteSource& src, const std::string& source) {
  std::uint64_t buffer_start = 0;
  const std::vector<Entry> entries = read_header(src, source, buffer_start);
  std::vector<Tensor> tensors;
  tensors.reserve(entries.size());
  for (const Entry& e : entries) tensors.push_back(read_entry(src, source, buffer_start, e));
  return tensors;
}

}  // namespace

std::string_view safetensors_dtype_name(ElementType t) { return info(t).safetensors_name; }
std::string_view element_type_name(ElementType t) { return info(t).user_name; }
std::size_t element_size(ElementType t) { return info(t).size; }
bool is_floating(ElementType t) {
  return t == ElementType::f64 || t == ElementType::f32 || t == ElementType::f16 ||
         t == ElementType::bf16;
}

std::vector<Tensor> read_safetensors(const std::string& path) {
  FileSource src(path);
  return read_all(src, path);
}

std::vector<Tensor> parse_safetensors(std::string_view bytes, const std::string& source) {
  MemorySource src(bytes);
  return read_all(src, source);
}

Tensor read_safetensors_tensor(const std::string& path, const std::optional<std::string>& name) {
  FileSource src(path);
  std::uint64_t buffer_start = 0;
  const std::vector<Entry> entries = read_header(src, path, buffer_start);
  std::vector<std::string> names;
  for (const Entry& e : entries) names.push_back(quoted(e.name));
  std::sort(names.begin(), names.end());
  constexpr std::size_t kListed = 20;  // keeps the one line readable for a whole model file
  const std::size_t more = names.size() > kListed ? names.size() - kListed : 0;
  names.resize(names.size() - more);
  std::string listed = fmt::format("{}", fmt::join(names, ", "));
  if (more > 0) listed += fmt::format(", … and {} more", more);
  if (!name) {
    if (entries.size() == 1) return read_entry(src, path, buffer_start, entries.front());
    if (entries.empty()) fail(path, "holds no tensors");
    fail(path, fmt::format("holds {} tensors ({}); name one as {}:NAME", entries.size(), listed,
                           path));
  }
  for (const Entry& e : entries) {
    if (e.name == *name) return read_entry(src, path, buffer_start, e);
  }
  fail(path, fmt::format("has no tensor {} (it holds {})", quoted(*name),
                         entries.empty() ? std::string("none") : listed));
}

namespace {

// A string as JSON, or invalid_argument saying what it is when it is not UTF-8.
std::string json_string(const std::string& s, std::string_view what) {
  try {
    return json(s).dump();
  } catch (const json::exception&) {
    throw std::invalid_argument(fmt::format("safetensors_bytes: {} is not valid UTF-8", what));
  }
}

}  // namespace

std::string safetensors_bytes(const std::vector<TensorToWrite>& tensors,
                              const std::vector<std::pair<std::string, std::string>>& metadata) {
  std::string header = "{";
  if (!metadata.empty()) {
    // First, as the reference writer puts it.
    std::set<std::string> keys;
    header += "\"__metadata__\":{";
    for (const auto& [key, value] : metadata) {
      const std::string key_json = json_string(key, "a metadata key");
      if (!keys.insert(key).second) {
        throw std::invalid_argument(
            fmt::format("safetensors_bytes: metadata key {} appears twice", key_json));
      }
      if (header.back() != '{') header += ',';
      header += key_json + ":" + json_string(value, "a metadata value");
    }
    header += '}';
  }
  std::string data;
  std::set<std::string> names;
  for (const TensorToWrite& t : tensors) {
    if (t.name.empty()) throw std::invalid_argument("safetensors_bytes: a tensor has no name");
    if (t.name == "__metadata__") {
      throw std::invalid_argument("safetensors_bytes: \"__metadata__\" is not a tensor name");
    }
    const std::string name_json = json_string(t.name, "a tensor name");
    if (!names.insert(t.name).second) {
      throw std::invalid_argument(
          fmt::format("safetensors_bytes: tensor {} appears twice", name_json));
    }
    if (!is_floating(t.type)) {
      throw std::invalid_argument(fmt::format(
          "safetensors_bytes: tensor {}: writes F64, F32, F16 or BF16, not {}", name_json,
          safetensors_dtype_name(t.type)));
    }
    if (t.data == nullptr) {
      throw std::invalid_argument(fmt::format("safetensors_bytes: tensor {} has no data", name_json));
    }
    std::size_t count = 1;
    for (std::size_t d : t.shape) {
      if (d != 0 && count > std::numeric_limits<std::size_t>::max() / d) {
        throw std::invalid_argument(
            fmt::format("safetensors_bytes: tensor {}: shape overflows", name_json));
      }
      count *= d;
    }
    if (count != t.data->size()) {
      throw std::invalid_argument(
          fmt::format("safetensors_bytes: tensor {}: shape [{}] holds {} elements but data has {}",
                      name_json, fmt::join(t.shape, ", "), count, t.data->size()));
    }
    const std::size_t begin = data.size();
    const std::size_t size = element_size(t.type);
    data.reserve(begin + count * size);
    for (std::size_t i = 0; i < count; ++i) {
      const double v = (*t.data)[i];
      bool exact = true;
      std::uint64_t bits = 0;
      switch (t.type) {
        case ElementType::f64: bits = std::bit_cast<std::uint64_t>(v); break;
        case ElementType::f32: {
          const auto f = static_cast<float>(v);
          exact = std::isnan(v) || static_cast<double>(f) == v;
          bits = std::bit_cast<std::uint32_t>(f);
          break;
        }
        case ElementType::f16: {
          std::uint16_t h = 0;
          exact = double_to_half(v, h);
          bits = h;
          break;
        }
        default: {  // bf16
          std::uint16_t b = 0;
          exact = double_to_bf16(v, b);
          bits = b;
          break;
        }
      }
      if (!exact) {
        throw std::invalid_argument(fmt::format(
            "safetensors_bytes: tensor {}: element {} ({}) is not exactly representable in {}",
            name_json, i, v, safetensors_dtype_name(t.type)));
      }
      store_le(data, bits, size);
    }
    if (header.back() != '{') header += ',';
    // Field order as the reference writer (serde, struct order): dtype, shape, data_offsets.
    header += fmt::format("{}:{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{},{}]}}",
                          name_json, safetensors_dtype_name(t.type), fmt::join(t.shape, ","),
                          begin, data.size());
  }
  header += '}';
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string bytes;
  bytes.reserve(8 + header.size() + data.size());
  store_le(bytes, header.size(), 8);
  bytes += header;
  bytes += data;
  return bytes;
}

}  // namespace attncert
