// The inputs shared by `attncert eval attention` and `attncert check-attention`: Q, K, V (and
// O, lse) read from .npy / .safetensors files, their layout (bshd as FlashAttention, bhsd as
// PyTorch SDPA), and the problem options (scale, causal alignment, sliding window, softcap).
#pragma once

#include <CLI/CLI.hpp>

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "numerics/tensor_file.hpp"
#include "numerics/tensor_view.hpp"
#include "proofs_checks/attention_check.hpp"

namespace attncert::cli {

/// The command-line text of the problem options, before parsing.
struct AttentionArgs {
  std::string q, k, v;       // tensor specs: PATH or PATH.safetensors:NAME
  std::string layout = "bhsd";
  std::string scale;         // decimal; empty = 1/√d
  std::optional<std::string> causal;  // given without a value: "" (needs Lq = Lk)
  std::string window;        // LEFT[,RIGHT]
  std::string softcap;       // decimal C > 0
};

/// Adds --q --k --v --layout --scale --causal --window --softcap to `cmd`.
void add_attention_options(CLI::App* cmd, AttentionArgs& args);

/// A tensor read from a file, with its logical (batch, heads, seqlen, dim) sizes.
struct AttentionTensor {
  std::string spec;                   // as given
  Tensor tensor;                      // values (exact doubles) and the stored element type
  std::ptrdiff_t batch = 1, heads = 1, seqlen = 1, dim = 1;
};

/// Q, K, V read and checked against each other, viewed as (B, H, L, d).
struct AttentionInputs {
  AttentionLayout layout = AttentionLayout::bhsd;
  AttentionTensor q, k, v;
  AttentionProblem problem;

  /// (B, H, L, d) views of the tensors' data (valid while this object lives, unmoved).
  Tensor4View<const double> view(const AttentionTensor& t) const {
    // The sizes come from the shape checks; a view never reaches past the data it was read with.
    if (t.tensor.data.size() != static_cast<std::size_t>(t.batch * t.heads * t.seqlen * t.dim))
      throw std::logic_error(t.spec + ": sizes disagree with the data read");
    return attention_view(t.tensor.data.data(), layout, t.batch, t.heads, t.seqlen, t.dim);
  }

  std::ptrdiff_t batch() const { return q.batch; }
  std::ptrdiff_t heads() const { return q.heads; }
  std::ptrdiff_t seqlen_q() const { return q.seqlen; }
  std::ptrdiff_t seqlen_k() const { return k.seqlen; }
  std::ptrdiff_t head_dim() const { return q.dim; }
  std::ptrdiff_t value_dim() const { return v.dim; }
};

/// Reads and checks everything (one-line std::invalid_argument / runtime_error on bad input:
/// unreadable files, ranks, mismatched sizes, NaN/inf, GQA heads not dividing, bad options).
AttentionInputs read_attention_inputs(const AttentionArgs& args);

/// The layout's name ("bshd" or "bhsd") and the order its four indices are written in.
const char* layout_name(AttentionLayout layout);

/// Reads an output-shaped tensor (O: dim = dv, or lse: no dim) and checks its sizes against the
/// inputs. `what` names it in errors ("--o", "--lse").
AttentionTensor read_output_tensor(const std::string& spec, const AttentionInputs& in,
                                   bool is_lse, const char* what);

/// "(b, s, h, d)" (bshd) or "(b, h, s, d)" (bhsd) for the logical element (b, h, s, d), with as
/// many indices as a file of rank `rank` has (3: no batch, 2: seqlen and dim only).
std::string element_index_text(AttentionLayout layout, std::size_t rank, std::ptrdiff_t b,
                               std::ptrdiff_t h, std::ptrdiff_t s, std::ptrdiff_t d);

/// Row-major (in `layout`) data of a (B, H, L, D) array given in (b, h, i, c) order, for
/// writing in the user's layout.
std::vector<double> to_layout(const std::vector<double>& bhld, AttentionLayout layout,
                              std::ptrdiff_t batch, std::ptrdiff_t heads, std::ptrdiff_t length,
                              std::ptrdiff_t dim);

/// The file shape of such an array in `layout` with the rank of `like` (4: batch and heads,
/// 3: no batch, 2: one head).
std::vector<std::size_t> layout_shape(AttentionLayout layout, std::size_t rank,
                                      std::ptrdiff_t batch, std::ptrdiff_t heads,
                                      std::ptrdiff_t length, std::ptrdiff_t dim);

}  // namespace attncert::cli
