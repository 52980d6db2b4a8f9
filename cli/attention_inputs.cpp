#include "cli/attention_inputs.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <stdexcept>

#include "theory/decimal_literal.hpp"
#include "theory/expression_scanner.hpp"

namespace attncert::cli {
namespace {

using Index = std::ptrdiff_t;

AttentionLayout parse_layout(const std::string& text) {
  if (text == "bhsd") return AttentionLayout::bhsd;
  if (text == "bshd") return AttentionLayout::bshd;
  throw CLI::ValidationError("--layout", "'" + text + "': expected bshd (FlashAttention: batch, "
                                         "seqlen, heads, dim) or bhsd (PyTorch SDPA)");
}

// A number given as text, as the double nearest the decimal it spells.
double option_double(const std::string& text, const char* option) {
  try {
    return parse_decimal(text).value;
  } catch (const ParseError& e) {
    throw CLI::ValidationError(option, fmt::format("'{}' is not a number ({})", text, e.detail()));
  }
}

std::ptrdiff_t window_size(const std::string& text) {
  std::size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty() || v < -1 || v > (1LL << 40))
    throw CLI::ValidationError("--window", fmt::format("'{}': expected a key count ≥ 0, or -1 "
                                                       "for unbounded", text));
  return static_cast<std::ptrdiff_t>(v);
}

}  // namespace

std::string element_index_text(AttentionLayout layout, std::size_t rank, Index b, Index h,
                               Index s, Index d) {
  if (rank == 2) return fmt::format("({}, {})", s, d);
  if (layout == AttentionLayout::bshd)
    return rank == 3 ? fmt::format("({}, {}, {})", s, h, d)
                     : fmt::format("({}, {}, {}, {})", b, s, h, d);
  return rank == 3 ? fmt::format("({}, {}, {})", h, s, d)
                   : fmt::format("({}, {}, {}, {})", b, h, s, d);
}

namespace {

AttentionTensor read_input(const std::string& spec, AttentionLayout layout, const char* what) {
  AttentionTensor t;
  t.spec = spec;
  t.tensor = read_tensor(spec);
  const auto& s = t.tensor.shape;
  const auto n = [&](std::size_t i) { return static_cast<Index>(s[i]); };
  switch (s.size()) {
    case 4:
      t.batch = n(0);
      t.heads = layout == AttentionLayout::bshd ? n(2) : n(1);
      t.seqlen = layout == AttentionLayout::bshd ? n(1) : n(2);
      t.dim = n(3);
      break;
    case 3:
      t.heads = layout == AttentionLayout::bshd ? n(1) : n(0);
      t.seqlen = layout == AttentionLayout::bshd ? n(0) : n(1);
      t.dim = n(2);
      break;
    case 2:
      t.seqlen = n(0);
      t.dim = n(1);
      break;
    default:
      throw std::invalid_argument(fmt::format(
          "{} {}: rank {} (shape [{}]); expected 4 ({}), 3 (no batch) or 2 (one head: seqlen, "
          "dim)", what, spec, s.size(), fmt::join(s, ", "),
          layout == AttentionLayout::bshd ? "batch, seqlen, heads, dim"
                                          : "batch, heads, seqlen, dim"));
  }
  if (t.batch < 1 || t.heads < 1 || t.seqlen < 1 || t.dim < 1)
    throw std::invalid_argument(fmt::format("{} {}: empty (shape [{}])", what, spec,
                                            fmt::join(s, ", ")));
  if (!is_floating(t.tensor.type))
    throw std::invalid_argument(fmt::format("{} {}: {} values; attention inputs must be "
                                            "float64, float32, float16 or bfloat16",
                                            what, spec, element_type_name(t.tensor.type)));
  return t;
}

void require_finite(const AttentionTensor& t, AttentionLayout layout, const char* what) {
  for (std::size_t flat = 0; flat < t.tensor.data.size(); ++flat) {
    const double x = t.tensor.data[flat];
    if (std::isfinite(x)) continue;
    // Back from the flat file index to logical (b, h, s, d).
    Index rest = static_cast<Index>(flat);
    const Index d = rest % t.dim;
    rest /= t.dim;
    Index b, h, s;
    if (layout == AttentionLayout::bshd) {
      h = rest % t.heads, rest /= t.heads, s = rest % t.seqlen, b = rest / t.seqlen;
    } else {
      s = rest % t.seqlen, rest /= t.seqlen, h = rest % t.heads, b = rest / t.heads;
    }
    throw std::invalid_argument(fmt::format("{} {}: entry {} is {}", what, t.spec,
                                            element_index_text(layout, t.tensor.rank(), b, h, s, d),
                                            std::isnan(x) ? "NaN" : x > 0 ? "+inf" : "-inf"));
  }
}

std::string sizes(const AttentionTensor& t) {
  return fmt::format("batch {}, heads {}, seqlen {}, dim {}", t.batch, t.heads, t.seqlen, t.dim);
}

}  // namespace

const char* layout_name(AttentionLayout layout) {
  return layout == AttentionLayout::bshd ? "bshd" : "bhsd";
}

void add_attention_options(CLI::App* cmd, AttentionArgs& a) {
  cmd->add_option("--q", a.q, "Q: .npy or .safetensors file (FILE.safetensors:NAME for one of "
                              "several tensors)")
      ->required();
  cmd->add_option("--k", a.k, "K (GQA/MQA: fewer heads than Q, dividing them)")->required();
  cmd->add_option("--v", a.v, "V (same heads and seqlen as K)")->required();
  cmd->add_option("--layout", a.layout,
                  "bhsd (PyTorch SDPA: batch, heads, seqlen, dim) or bshd (FlashAttention: "
                  "batch, seqlen, heads, dim); rank 3 drops batch, rank 2 is one head (seqlen, "
                  "dim)")
      ->capture_default_str();
  cmd->add_option("--scale", a.scale, "multiplies QKᵀ (the double nearest the decimal); default "
                                      "the exact 1/√d");
  cmd->add_option("--causal", a.causal,
                  "causal mask: top-left (PyTorch is_causal: key j ≤ query i) or bottom-right "
                  "(FlashAttention: j ≤ i + Lk − Lq); without a value only when Lq = Lk")
      ->expected(0, 1);
  cmd->add_option("--window", a.window,
                  "sliding window LEFT[,RIGHT]: key j visible iff i+δ−LEFT ≤ j ≤ i+δ+RIGHT (δ "
                  "the diagonal offset of --causal's alignment, else bottom-right as "
                  "FlashAttention's window_size); -1 or omitted RIGHT: unbounded");
  cmd->add_option("--softcap", a.softcap, "logit soft cap C > 0: logits ← C·tanh(logits/C) "
                                          "after scaling (FlashAttention's softcap, Gemma 2)");
}

AttentionInputs read_attention_inputs(const AttentionArgs& a) {
  AttentionInputs in;
  in.layout = parse_layout(a.layout);
  // Options first: a typo fails before large files are read.
  if (!a.scale.empty()) {
    const double s = option_double(a.scale, "--scale");
    if (!std::isfinite(s) || s == 0)
      throw CLI::ValidationError("--scale", fmt::format("'{}' must be finite and non-zero", a.scale));
    in.problem.scale = s;
  }
  if (!a.softcap.empty()) {
    const double c = option_double(a.softcap, "--softcap");
    if (!(c > 0) || !std::isfinite(c))
      throw CLI::ValidationError("--softcap", fmt::format("'{}' must be finite and > 0", a.softcap));
    in.problem.softcap = c;
  }
  KeyVisibility& keys = in.problem.keys;
  bool alignment_needed = false;
  if (a.causal) {
    keys.causal = true;
    if (*a.causal == "top-left") keys.alignment = DiagonalAlignment::top_left;
    else if (*a.causal == "bottom-right") keys.alignment = DiagonalAlignment::bottom_right;
    else if (a.causal->empty()) alignment_needed = true;
    else
      throw CLI::ValidationError("--causal", "'" + *a.causal +
                                                 "': expected top-left or bottom-right");
  }
  if (!a.window.empty()) {
    const std::size_t comma = a.window.find(',');
    const std::ptrdiff_t left = window_size(a.window.substr(0, comma));
    if (left >= 0) keys.window_left = left;
    if (comma != std::string::npos) {
      const std::ptrdiff_t right = window_size(a.window.substr(comma + 1));
      if (right >= 0) keys.window_right = right;
    }
  }

  in.q = read_input(a.q, in.layout, "--q");
  in.k = read_input(a.k, in.layout, "--k");
  in.v = read_input(a.v, in.layout, "--v");
  const AttentionTensor &q = in.q, &k = in.k, &v = in.v;
  if (q.tensor.rank() != k.tensor.rank() || q.tensor.rank() != v.tensor.rank())
    throw std::invalid_argument(fmt::format("--q, --k, --v have ranks {}, {}, {}; they must agree",
                                            q.tensor.rank(), k.tensor.rank(), v.tensor.rank()));
  if (k.batch != q.batch || v.batch != q.batch)
    throw std::invalid_argument(fmt::format("batch sizes differ: Q {}, K {}, V {}", q.batch,
                                            k.batch, v.batch));
  if (k.dim != q.dim)
    throw std::invalid_argument(fmt::format("head dims differ: Q ({}) and K ({}); QKᵀ needs "
                                            "them equal", sizes(q), sizes(k)));
  if (v.heads != k.heads || v.seqlen != k.seqlen)
    throw std::invalid_argument(fmt::format("K ({}) and V ({}) must have the same heads and "
                                            "seqlen", sizes(k), sizes(v)));
  if (q.heads % k.heads != 0)
    throw std::invalid_argument(fmt::format("Q has {} heads, K and V {}: for GQA/MQA the K/V "
                                            "heads must divide the Q heads", q.heads, k.heads));
  if (alignment_needed) {
    if (q.seqlen != k.seqlen)
      throw CLI::ValidationError(
          "--causal", fmt::format("Lq = {} ≠ Lk = {}, where the two causal conventions differ: "
                                  "say top-left (PyTorch is_causal) or bottom-right "
                                  "(FlashAttention)", q.seqlen, k.seqlen));
    keys.alignment = DiagonalAlignment::bottom_right;  // the same mask for Lq = Lk
  }
  require_finite(q, in.layout, "--q");
  require_finite(k, in.layout, "--k");
  require_finite(v, in.layout, "--v");
  return in;
}

AttentionTensor read_output_tensor(const std::string& spec, const AttentionInputs& in,
                                   bool is_lse, const char* what) {
  AttentionTensor t;
  t.spec = spec;
  t.tensor = read_tensor(spec);
  // O has Q's rank in the layout; lse is (batch, heads, seqlen_q) with as many leading sizes
  // dropped as Q's rank drops (rank 3: no batch; rank 2: seqlen_q only).
  std::vector<std::size_t> expected;
  if (is_lse) {
    expected = {static_cast<std::size_t>(in.batch()), static_cast<std::size_t>(in.heads()),
                static_cast<std::size_t>(in.seqlen_q())};
    expected.erase(expected.begin(),
                   expected.begin() + static_cast<std::ptrdiff_t>(4 - in.q.tensor.rank()));
  } else {
    expected = layout_shape(in.layout, in.q.tensor.rank(), in.batch(), in.heads(), in.seqlen_q(),
                            in.value_dim());
  }
  if (t.tensor.shape != expected)
    throw std::invalid_argument(fmt::format(
        "{} {}: shape [{}], expected [{}] ({}{})", what, spec, fmt::join(t.tensor.shape, ", "),
        fmt::join(expected, ", "),
        is_lse ? "batch, heads, seqlen_q — FlashAttention's and PyTorch's lse layout"
               : std::string(layout_name(in.layout)) + " with Q's batch, heads and seqlen and "
                 "V's dim",
        is_lse ? "" : ", as --layout says"));
  if (!is_floating(t.tensor.type))
    throw std::invalid_argument(fmt::format("{} {}: {} values; expected floating point", what,
                                            spec, element_type_name(t.tensor.type)));
  t.batch = in.batch();
  t.heads = in.heads();
  t.seqlen = in.seqlen_q();
  t.dim = is_lse ? 1 : in.value_dim();
  return t;
}

std::vector<std::size_t> layout_shape(AttentionLayout layout, std::size_t rank, Index batch,
                                      Index heads, Index length, Index dim) {
  const auto u = [](Index x) { return static_cast<std::size_t>(x); };
  std::vector<std::size_t> shape =
      layout == AttentionLayout::bshd
          ? std::vector<std::size_t>{u(batch), u(length), u(heads), u(dim)}
          : std::vector<std::size_t>{u(batch), u(heads), u(length), u(dim)};
  if (rank == 3) shape.erase(shape.begin());
  if (rank == 2) shape = {u(length), u(dim)};
  return shape;
}

std::vector<double> to_layout(const std::vector<double>& bhld, AttentionLayout layout,
                              Index batch, Index heads, Index length, Index dim) {
  if (layout == AttentionLayout::bhsd) return bhld;
  std::vector<double> out(bhld.size());
  for (Index b = 0; b < batch; ++b)
    for (Index h = 0; h < heads; ++h)
      for (Index i = 0; i < length; ++i)
        for (Index c = 0; c < dim; ++c)
          out[static_cast<std::size_t>(((b * length + i) * heads + h) * dim + c)] =
              bhld[static_cast<std::size_t>(((b * heads + h) * length + i) * dim + c)];
  return out;
}

}  // namespace attncert::cli
