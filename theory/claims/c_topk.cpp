// C.topk (classical, exact identity): top-k truncation of softmax weights followed by
// renormalisation is at total-variation distance exactly the discarded mass.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <span>

#include "numerics/softmax.hpp"
#include "theory/catalog.hpp"
#include "theory/quantities.hpp"

namespace attncert {
namespace {

// The k largest logits (= largest α, softmax being increasing), ties broken toward the lower
// index. Decided on the instance's exact doubles so that every tier keeps the same set; the
// identity holds for any tie-break.
std::vector<bool> top_k_mask(const RowMatrix<double>& logits, std::size_t k) {
  std::vector<std::size_t> idx(static_cast<std::size_t>(logits.size()));
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
    return logits.data()[a] > logits.data()[b];
  });
  std::vector<bool> keep(idx.size(), false);
  for (std::size_t i = 0; i < std::min(k, idx.size()); ++i) keep[idx[i]] = true;
  return keep;
}

// α = softmax(l/T); β_i = α_i / Σ_{j∈top-k} α_j on the top-k set, 0 elsewhere.
//   TV(α, β) = ½ Σ_i |α_i − β_i|  =  Σ_{i∉top-k} α_i.
// Both sides are computed independently (the lhs from β, the rhs as a sum over the discarded
// entries, not as 1 − kept mass).
class TopK : public InequalityClaim<TopK> {
 public:
  using InequalityClaim::InequalityClaim;

  // 1 <= k <= L: a shrink that drops logits keeps k in range.
  void project(Instance& x) const override {
    if (x.has_scalar("k") && x.has_scalar("L")) x.scalars["k"] = std::min(x.scalar("k"), x.scalar("L"));
  }
  // Renormalisation needs kept mass > 0: some logit is not masked (the top-k set then holds
  // one). Decided exactly on the doubles.
  Tri admissible(const Instance& x, long) const override {
    const auto& l = x.array("logits");
    const bool any_finite = std::any_of(l.data(), l.data() + l.size(), [](double v) { return std::isfinite(v); });
    const double k = x.scalar("k");
    return Tri::from_bool(any_finite && k >= 1 && k <= static_cast<double>(l.size()));
  }

  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    using std::abs;
    const std::vector<T> l = instance_logits(x, ctx);
    const std::vector<T> alpha = softmax<T>(std::span<const T>(l), instance_temperature(x, ctx));
    const std::vector<bool> keep =
        top_k_mask(x.array("logits"), static_cast<std::size_t>(std::llround(x.scalar("k"))));
    T kept = ctx.from(0.0), discarded = ctx.from(0.0);
    for (std::size_t i = 0; i < alpha.size(); ++i) (keep[i] ? kept : discarded) += alpha[i];
    T l1 = ctx.from(0.0);
    for (std::size_t i = 0; i < alpha.size(); ++i) {
      const T beta = keep[i] ? T(alpha[i] / kept) : ctx.from(0.0);
      l1 += abs(T(alpha[i] - beta));
    }
    return {{"tv = discarded mass", T(l1 / ctx.from(2.0)), Relation::Equal, discarded}};
  }
};

}  // namespace

std::unique_ptr<Claim> make_c_topk() {
  ClaimInfo info;
  info.id = "C.topk";
  info.source = "classical (exact identity)";
  info.provenance = Provenance::Classical;
  info.statement_latex =
      R"(\mathrm{TV}(\alpha, \beta) = \tfrac12\sum_i|\alpha_i - \beta_i| = \sum_{i\notin S_k}\alpha_i,\quad )"
      R"(\beta_i = \frac{\alpha_i\,[i\in S_k]}{\sum_{j\in S_k}\alpha_j})";
  info.statement_text =
      "α = softmax(l/T), S_k = indices of the k largest weights, β = α restricted to S_k and renormalised: "
      "TV(α, β) = ½Σ|α_i − β_i| = Σ_{i∉S_k} α_i (the discarded mass)";
  info.hypotheses = "any logits (−inf = masked, not all masked), T > 0, 1 ≤ k ≤ L; ties at the k-th "
                    "place broken toward the lower index (the identity holds for any choice)";
  SearchSpace space{{{"L", 1, 64, true, false, "number of logits"},
                     {"k", 1, 64, true, false, "number of weights kept (clamped to L)"},
                     {"T", 0.01, 10, false, true, "temperature"}},
                    {{"logits", "1", "L", Law::Normal, 0, 3, true, "logits (−inf = masked)"}}};
  return std::make_unique<TopK>(std::move(info), std::move(space));
}

}  // namespace attncert
