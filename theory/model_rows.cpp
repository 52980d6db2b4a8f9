#include "theory/model_rows.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <functional>
#include <iterator>
#include <cmath>
#include <fstream>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "models/forward_pass.hpp"
#include "models/model_cache.hpp"
#include "models/text_windows.hpp"
#include "models/tokenizer.hpp"
#include "models/transformer_model.hpp"
#include "numerics/rng.hpp"

namespace attncert {
namespace {

namespace fs = std::filesystem;

// The arrays and scalars a row sets, in one place.
const std::vector<std::string> kRowArrays = {"logits", "q", "K", "X"};
const std::vector<std::string> kRowScalars = {"L", "d", "layer", "head", "window_length", "query"};

// One head of one window: the matrices its rows share (held once, copied into each instance).
struct HeadWindow {
  std::size_t layer = 0, head = 0, window_length = 0;
  RowMatrix<double> logits, q_scaled, K, V;
};

struct RowRef {
  std::size_t head_window = 0, query = 0, keys = 0;
};

class ModelRows final : public InstanceSource {
 public:
  ModelRows(std::vector<HeadWindow> windows, std::vector<RowRef> rows, std::string description,
            ModelRowsOptions options, std::string text_sha256)
      : windows_(std::move(windows)), rows_(std::move(rows)), description_(std::move(description)),
        options_(std::move(options)), text_sha256_(std::move(text_sha256)) {}
  nlohmann::json recipe() const override {
    return {{"model", options_.model},
            {"text", options_.text_path.string()},
            {"text_sha256", text_sha256_},
            {"rows_per_window", options_.rows_per_window},
            {"seed", options_.seed}};
  }

  std::size_t size() const override { return rows_.size(); }
  /// Smallest and largest L, and d (one per model).
  std::pair<std::size_t, std::size_t> key_range() const {
    std::size_t lo = SIZE_MAX, hi = 0;
    for (const RowRef& r : rows_) lo = std::min(lo, r.keys), hi = std::max(hi, r.keys);
    return {lo, hi};
  }
  std::size_t head_dim() const { return static_cast<std::size_t>(windows_.front().K.cols()); }
  const std::vector<std::string>& array_names() const override { return kRowArrays; }
  const std::vector<std::string>& scalar_names() const override { return kRowScalars; }
  std::string describe() const override { return description_; }

  Instance row(std::size_t k) const override {
    const RowRef& r = rows_.at(k);
    const HeadWindow& w = windows_[r.head_window];
    const auto t = static_cast<Eigen::Index>(r.query), n = static_cast<Eigen::Index>(r.keys);
    Instance x;
    x.arrays["logits"] = w.logits.row(t).head(n);
    x.arrays["q"] = w.q_scaled.row(t);
    x.arrays["K"] = w.K.topRows(n);
    x.arrays["X"] = w.V.topRows(n);
    x.scalars = {{"L", static_cast<double>(r.keys)},
                 {"d", static_cast<double>(w.K.cols())},
                 {"layer", static_cast<double>(w.layer)},
                 {"head", static_cast<double>(w.head)},
                 {"window_length", static_cast<double>(w.window_length)},
                 {"query", static_cast<double>(r.query)}};
    return x;
  }

 private:
  std::vector<HeadWindow> windows_;
  std::vector<RowRef> rows_;
  std::string description_;
  ModelRowsOptions options_;
  std::string text_sha256_;
};

}  // namespace

fs::path model_domain_directory(const std::string& name) {
  try {
    return models::model_directory_for(name);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("model:") + e.what());
  }
}

std::shared_ptr<const InstanceSource> model_rows(const ModelRowsOptions& o) {
  if (o.rows_per_window == 0) throw std::invalid_argument("model rows: rows per window must be >= 1");
  const fs::path model_dir = model_domain_directory(o.model);
  const models::TransformerModel model = models::load_model(model_dir);
  const fs::path tokenizer_path = model_dir / "tokenizer.json";
  std::error_code ec;
  if (!fs::is_regular_file(tokenizer_path, ec))
    throw std::invalid_argument(fmt::format("{}: missing (the rows come from the model reading a text)",
                                            tokenizer_path.string()));
  const auto tokenizer = models::load_tokenizer(tokenizer_path);
  const models::ModelConfig& c = model.config;
  const models::ModelText text = models::read_model_text(o.text_path, *tokenizer, c);
  if (!o.expected_text_sha256.empty() && text.sha256 != o.expected_text_sha256)
    throw std::invalid_argument(fmt::format("{}: the text has changed since the rows were drawn (SHA-256 {}, was {})",
                                            o.text_path.string(), text.sha256, o.expected_text_sha256));
  const std::vector<models::TokenId>& ids = text.ids;
  const bool causal = c.family == models::ModelFamily::gpt2;
  const double scale = 1 / std::sqrt(static_cast<double>(c.head_dim()));

  std::vector<HeadWindow> windows;
  std::vector<RowRef> rows;
  const Rng root(o.seed);
  std::size_t index = 0;
  const std::size_t specials = tokenizer->single_template().prefix.size() + tokenizer->single_template().suffix.size();
  for (std::size_t L = 8; L <= std::min<std::size_t>(512, c.max_positions); L *= 2, ++index) {
    if (L <= specials || ids.size() < L - specials) break;
    const auto cut = models::text_windows(ids, tokenizer->single_template(), L, c.max_positions, 1);
    const models::ModelTrace trace = models::run_forward(model, cut.front().ids);
    // The same query rows for every head of a window; all rows when the window is short.
    Rng rng = root.substream(index);
    std::vector<std::size_t> queries = rng.sample_indices(L, std::min(o.rows_per_window, L));
    std::sort(queries.begin(), queries.end());
    for (const models::HeadTrace& h : trace.heads) {
      HeadWindow w{h.where.layer, h.where.head, L, h.logits, h.query * scale, h.key, h.value};
      windows.push_back(std::move(w));
      for (std::size_t t : queries) rows.push_back({windows.size() - 1, t, causal ? t + 1 : L});
    }
  }
  if (rows.empty())
    throw std::invalid_argument(fmt::format("{}: the text has {} tokens, fewer than a window of 8",
                                            o.text_path.string(), ids.size()));
  const std::string name = fs::absolute(model_dir).lexically_normal().filename().string();
  const std::string description =
      fmt::format("{} attention rows of {} ({} layers × {} heads{}, windows of 8 to {} tokens of {}, SHA-256 {}; "
                  "{} query rows per window and head, seed {})",
                  rows.size(), name, c.layers, c.heads, causal ? ", causal" : "", windows.back().window_length,
                  o.text_path.filename().string(), text.sha256.substr(0, 16), o.rows_per_window, o.seed);
  return std::make_shared<ModelRows>(std::move(windows), std::move(rows), description, o, text.sha256);
}

ModelRowsOptions model_rows_options_from_recipe(const nlohmann::json& r) {
  const auto field = [&](const char* name) -> const nlohmann::json& {
    if (!r.is_object() || !r.contains(name))
      throw std::invalid_argument(fmt::format("rows: field '{}' is missing", name));
    return r[name];
  };
  ModelRowsOptions o;
  if (!field("model").is_string() || !field("text").is_string() || !field("rows_per_window").is_number_unsigned() ||
      !field("seed").is_number_unsigned())
    throw std::invalid_argument("rows: expected strings 'model' and 'text' and unsigned integers 'rows_per_window' and 'seed'");
  o.model = r["model"].get<std::string>();
  o.text_path = r["text"].get<std::string>();
  o.rows_per_window = r["rows_per_window"].get<std::size_t>();
  if (o.rows_per_window == 0 || o.rows_per_window > 4096)
    throw std::invalid_argument(fmt::format("rows: rows_per_window {} is outside [1, 4096]", o.rows_per_window));
  o.seed = r["seed"].get<std::uint64_t>();
  if (r.contains("text_sha256")) {
    if (!r["text_sha256"].is_string()) throw std::invalid_argument("rows: 'text_sha256' must be a string");
    o.expected_text_sha256 = r["text_sha256"].get<std::string>();
  }
  return o;
}

namespace {

// The delegate of claim_over_rows: the claim itself, with a space whose rows are the source's.
class ClaimOverRows final : public Claim {
 public:
  ClaimOverRows(const Claim& inner, SearchSpace space) : inner_(inner), space_(std::move(space)) {
    info_ = inner.info();
    info_.hypotheses = fmt::format("{} — over real rows: {}", info_.hypotheses, space_.source->describe());
  }
  const ClaimInfo& info() const override { return info_; }
  const SearchSpace& space() const override { return space_; }
  void project(Instance& x) const override { inner_.project(x); }
  Tri admissible(const Instance& x, long precision) const override { return inner_.admissible(x, precision); }
  std::string degenerate_reason(const Instance& x) const override { return inner_.degenerate_reason(x); }
  // No proof plan covers data: each row is one certified instance.
  std::vector<ProofPlan> proof_plans() const override { return {}; }
  std::vector<Inequality<double>> evaluate_double(const Instance& x) const override {
    return inner_.evaluate_double(x);
  }
  std::vector<Inequality<Mp>> evaluate_mp(const Instance& x, long bits) const override {
    return inner_.evaluate_mp(x, bits);
  }
  std::vector<Inequality<Ball>> evaluate_ball(const Instance& x, long precision) const override {
    return inner_.evaluate_ball(x, precision);
  }
  const Claim& inner() const { return inner_; }

 private:
  const Claim& inner_;
  ClaimInfo info_;
  SearchSpace space_;
};

// The rows with only the arrays one claim declares (a claim that reads logits must not also be
// handed q and K whose product differs from them by rounding).
class ArraySubset final : public InstanceSource {
 public:
  ArraySubset(std::shared_ptr<const InstanceSource> rows, std::vector<std::string> arrays)
      : rows_(std::move(rows)), arrays_(std::move(arrays)) {}
  std::size_t size() const override { return rows_->size(); }
  const std::vector<std::string>& array_names() const override { return arrays_; }
  const std::vector<std::string>& scalar_names() const override { return rows_->scalar_names(); }
  std::string describe() const override { return rows_->describe(); }
  nlohmann::json recipe() const override { return rows_->recipe(); }
  Instance row(std::size_t k) const override {
    Instance x = rows_->row(k);
    for (auto it = x.arrays.begin(); it != x.arrays.end();)
      it = std::find(arrays_.begin(), arrays_.end(), it->first) == arrays_.end() ? x.arrays.erase(it) : std::next(it);
    return x;
  }

 private:
  std::shared_ptr<const InstanceSource> rows_;
  std::vector<std::string> arrays_;
};

struct RowsPlan {
  std::string unsuitable;
  SearchSpace space;
};

RowsPlan plan(const Claim& claim, const std::shared_ptr<const InstanceSource>& rows) {
  RowsPlan p;
  const SearchSpace& own = claim.space();
  const auto* model = dynamic_cast<const ModelRows*>(rows.get());
  if (model == nullptr) throw std::logic_error("claim_over_rows: the rows are not model rows");
  if (own.source) {
    p.unsuitable = "its domain already comes from data";
    return p;
  }
  bool has_logits = false, has_qk = false;
  for (const ArraySpec& a : own.arrays) {
    if (a.name == "logits") has_logits = true;
    else if (a.name == "q" || a.name == "K") has_qk = true;
    else if (a.name != "X") {
      p.unsuitable = fmt::format("its domain draws array '{}', which attention rows do not give", a.name);
      return p;
    }
  }
  if (has_logits && has_qk) {
    p.unsuitable = "its domain draws both logits and q, K (rows give one or the other)";
    return p;
  }
  if (!has_logits && !has_qk) {
    p.unsuitable = "its domain draws no logits, q or K (it is not about an attention row)";
    return p;
  }
  // The claim's ranges of L and d bound where it searches, not where its statement holds: every
  // row is taken, and a row its evaluators cannot handle counts as inadmissible, not as evidence.
  const std::shared_ptr<const InstanceSource>& kept = rows;
  // Rows give only the arrays the claim declares; the other row arrays are dropped per instance.
  std::vector<std::string> arrays;
  for (const ArraySpec& a : own.arrays) arrays.push_back(a.name);
  p.space = own;
  p.space.source = std::make_shared<ArraySubset>(kept, arrays);
  // The row scalars: L and d (the claim's own, now set by the row), provenance, which row.
  const auto [lo_keys, hi_keys] = model->key_range();
  const std::size_t lo_d = model->head_dim(), hi_d = lo_d;
  const auto set_scalar = [&](const std::string& name, double lo, double hi, const std::string& what) {
    auto it = std::find_if(p.space.scalars.begin(), p.space.scalars.end(),
                           [&](const ScalarSpec& s) { return s.name == name; });
    if (it == p.space.scalars.end()) {
      p.space.scalars.push_back({name, lo, hi, true, false, what});
    } else {
      it->lo = lo;
      it->hi = hi;
      it->log_scale = false;
    }
  };
  set_scalar("L", static_cast<double>(lo_keys), static_cast<double>(hi_keys), "keys the query sees");
  set_scalar("d", static_cast<double>(lo_d), static_cast<double>(hi_d), "head dimension");
  set_scalar("layer", 0, 1e6, "the row's layer");
  set_scalar("head", 0, 1e6, "the row's head");
  set_scalar("window_length", 1, 1e6, "the window the row comes from");
  set_scalar("query", 0, 1e6, "the row's query position");
  set_scalar(kSourceRowScalar, 0, static_cast<double>(kept->size() - 1), "which row of the source");
  return p;
}

}  // namespace

const Claim& claim_beneath_rows(const Claim& claim) {
  const auto* over = dynamic_cast<const ClaimOverRows*>(&claim);
  return over ? over->inner() : claim;
}

std::string model_rows_unsuitable(const Claim& claim, const std::shared_ptr<const InstanceSource>& rows) {
  return plan(claim, rows).unsuitable;
}

std::unique_ptr<Claim> claim_over_rows(const Claim& claim, std::shared_ptr<const InstanceSource> rows) {
  RowsPlan p = plan(claim, rows);
  if (!p.unsuitable.empty())
    throw std::invalid_argument(fmt::format("{} cannot be checked on attention rows: {}", claim.info().id, p.unsuitable));
  p.space.validate();
  return std::make_unique<ClaimOverRows>(claim, std::move(p.space));
}

}  // namespace attncert
