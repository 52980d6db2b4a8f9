// Real attention rows as a domain (`verify … --over model:minilm`): the rows of every head of a
// pretrained model reading a text, as an InstanceSource (theory/search_space.hpp), and a catalog
// claim or user conjecture restricted to them.
//
// Windows of L = 8, 16, …, 512 tokens (as the model allows) are cut from the text
// (models/text_windows.hpp) and run through the model once; of each window, `rows_per_window`
// seeded query rows of every head become rows of the source. A row sets
//   logits 1×L  the head's scaled logits q·k/√d_head as the forward pass computed them (T = 1),
//   q 1×d, K L×d  the query scaled by 1/√d_head and the keys, so that qᵀk_j is that logit up to
//                 rounding (claims that read q and K compute their own logits from them exactly),
//   X L×d       the head's value vectors (the tokens x_j the head averages),
//   L, d        the keys the query sees (causal: t + 1) and d_head,
//   layer, head, window_length, query  where the row comes from.
// A claim over the rows gets only the arrays its own domain declares (logits, or q and K, and X)
// and keeps its own ranges for every other parameter (T, N, …). Its ranges of L and d bound
// where it searches, not where its statement holds, so every row is taken (L up to 512); a row
// its evaluators cannot handle is inadmissible, not evidence. Rows are data: never perturbed or
// shrunk, and no proof plan applies (the verdict over rows is at most "survived": each
// certified row is one instance).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "theory/claim.hpp"
#include "theory/search_space.hpp"

namespace attncert {

struct ModelRowsOptions {
  std::string model;  // as the domain names it: "minilm" or a directory (model_domain_directory)
  std::filesystem::path text_path = "/usr/share/common-licenses/GPL-3";
  std::size_t rows_per_window = 8;
  std::uint64_t seed = 1;
  /// Set (from a recipe): the text must still have these bytes, or the rows would differ.
  std::string expected_text_sha256;
};

/// Loads the model, reads the text and runs the windows. Throws std::invalid_argument /
/// std::runtime_error with one line naming the problem (model directory, tokenizer, text).
std::shared_ptr<const InstanceSource> model_rows(const ModelRowsOptions& options);

/// The options recorded by the rows' recipe (InstanceSource::recipe). Throws
/// std::invalid_argument naming a missing or malformed field.
ModelRowsOptions model_rows_options_from_recipe(const nlohmann::json& recipe);

/// The claim claim_over_rows wrapped (or `claim` itself when it is not over rows).
const Claim& claim_beneath_rows(const Claim& claim);

/// The model directory a `model:NAME` domain names: `minilm` is the all-MiniLM-L6-v2 of
/// scripts/get-model (an error saying how to fetch it when absent); anything else a directory.
std::filesystem::path model_domain_directory(const std::string& name);

/// Empty when `claim` can be checked on the rows, else why not (one line: an array its domain
/// declares that rows do not set, or none of logits, q and K).
std::string model_rows_unsuitable(const Claim& claim, const std::shared_ptr<const InstanceSource>& rows);

/// `claim` over the rows (see above). Throws std::invalid_argument with
/// model_rows_unsuitable's line when it does not apply.
std::unique_ptr<Claim> claim_over_rows(const Claim& claim, std::shared_ptr<const InstanceSource> rows);

}  // namespace attncert
