// check-attention (attention_check.hpp): per head, the certified truth of the given inputs
// (fast enclosure tier, undecided rows refined in Arb by the same selection as the check of our
// own kernel, flash_attention_rows_to_refine, for both bounds), the class's guaranteed and
// probabilistic bounds per element (attention_error_bound.hpp; λ over every value of the call),
// the naive same-precision reference and the FA rule.
#include "proofs_checks/attention_check.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "numerics/midpoint_radius_attention.hpp"
#include "proofs_checks/attention_error_bound.hpp"
#include "proofs_checks/flash_attention_check.hpp"
#include "proofs_checks/naive_attention_reference.hpp"
#include "proofs_checks/parallel_for.hpp"

namespace attncert {
namespace {

using Index = std::ptrdiff_t;
using gpu::DType;
constexpr double kInf = std::numeric_limits<double>::infinity();
// Arb precision of refined rows (as the check of our own kernel).
constexpr long kGroundTruthBits = 96;

std::string shape_text(const Tensor4View<const double>& t) {
  const auto& s = t.shape();
  return fmt::format("({}, {}, {}, {})", s[0], s[1], s[2], s[3]);
}

/// A finite x is a value of `t`: what a kernel reading or storing `t` can have had.
bool is_value_of(double x, DType t) {
  const float f = static_cast<float>(x);
  return static_cast<double>(f) == x && gpu::round_through(t, f) == f;
}

/// Q, K, V must be finite and exactly what a kernel reading `dtype` sees.
void require_in_dtype(const Tensor4View<const double>& t, const char* name, DType dtype,
                      const Cancellation* cancel) {
  for (Index b = 0; b < t.batch(); ++b)
    for (Index h = 0; h < t.heads(); ++h) {
      throw_if_cancelled(cancel);
      const auto m = t.const_head(b, h);
      for (Index i = 0; i < m.rows(); ++i)
        for (Index c = 0; c < m.cols(); ++c) {
          const double x = m(i, c);
          if (!std::isfinite(x))
            throw std::invalid_argument(
                fmt::format("{} at batch {}, head {}, row {}, column {} is {} (inputs must be "
                            "finite)",
                            name, b, h, i, c, x));
          if (gpu::narrowing_overflows(dtype, x))
            throw std::invalid_argument(fmt::format(
                "{} at batch {}, head {}, row {}, column {} = {:.17g} exceeds {}'s largest finite "
                "value {:g} (it overflows to inf: the kernel cannot have read it)",
                name, b, h, i, c, x, gpu::dtype_name(dtype), gpu::dtype_max_finite(dtype)));
          if (!is_value_of(x, dtype))
            throw std::invalid_argument(fmt::format(
                "{} at batch {}, head {}, row {}, column {} = {:.17g} is not representable in {} "
                "(the kernel cannot have read it)",
                name, b, h, i, c, x, gpu::dtype_name(dtype)));
        }
    }
}

/// The coarsest store that holds every finite value of O: bf16, else fp16, else fp32. A store
/// coarser than the kernel's only loosens the bound; a finer one would deny a correct kernel its
/// final rounding — and bf16 values are nearly all fp16 values too, so "the input dtype when O
/// fits it" judged an fp16-input kernel storing O in bf16 as an fp16 store (a false failure).
DType inferred_output_dtype(const Tensor4View<const double>& o) {
  bool bf16 = true, fp16 = true;
  for (Index b = 0; b < o.batch() && (bf16 || fp16); ++b)
    for (Index h = 0; h < o.heads(); ++h) {
      const auto m = o.const_head(b, h);
      for (Index i = 0; i < m.rows(); ++i)
        for (Index c = 0; c < m.cols(); ++c) {
          const double x = m(i, c);
          if (!std::isfinite(x)) continue;
          bf16 = bf16 && is_value_of(x, DType::bf16);
          fp16 = fp16 && is_value_of(x, DType::f16);
        }
    }
  return bf16 ? DType::bf16 : fp16 ? DType::f16 : DType::f32;
}

/// One head as a (1, 1, L, d) view into the same memory.
Tensor4View<const double> head_view(const Tensor4View<const double>& t, Index b, Index h) {
  const auto& s = t.strides();
  return Tensor4View<const double>(t.const_head(b, h).data(), {1, 1, t.length(), t.dim()}, s);
}

void validate(const AttentionTensors& in, const Tensor4View<const double>& o,
              const AttentionProblem& problem, const AttentionCheckOptions& options) {
  if (in.q == nullptr || in.k == nullptr || in.v == nullptr)
    throw std::invalid_argument("check_attention: q, k and v must all be given");
  const auto &q = *in.q, &k = *in.k, &v = *in.v;
  if (k.batch() != q.batch() || v.batch() != q.batch() || o.batch() != q.batch())
    throw std::invalid_argument(fmt::format("batch sizes differ: q {}, k {}, v {}, o {}",
                                            shape_text(q), shape_text(k), shape_text(v),
                                            shape_text(o)));
  if (k.dim() != q.dim())
    throw std::invalid_argument(
        fmt::format("head dims differ: q {} and k {}", shape_text(q), shape_text(k)));
  if (k.heads() != v.heads() || k.length() != v.length())
    throw std::invalid_argument(
        fmt::format("k {} and v {} differ in heads or length", shape_text(k), shape_text(v)));
  if (q.heads() % k.heads() != 0)
    throw std::invalid_argument(
        fmt::format("{} key/value heads do not divide {} query heads (GQA needs Hkv | H)",
                    k.heads(), q.heads()));
  if (o.heads() != q.heads() || o.length() != q.length() || o.dim() != v.dim())
    throw std::invalid_argument(fmt::format(
        "o {} must be (batch, heads, seqlen_q, value dim) = ({}, {}, {}, {}) (wrong layout?)",
        shape_text(o), q.batch(), q.heads(), q.length(), v.dim()));
  if (!gpu::dtype_is_valid(options.dtype) ||
      (options.output_dtype && !gpu::dtype_is_valid(*options.output_dtype)))
    throw std::invalid_argument("check_attention: invalid dtype");
  if (options.block_k < 1)
    throw std::invalid_argument(fmt::format("block_k {} must be >= 1", options.block_k));
  if (problem.scale && !(std::isfinite(*problem.scale) && *problem.scale > 0))
    throw std::invalid_argument(fmt::format("scale {} must be finite and > 0", *problem.scale));
  if (problem.softcap && !(std::isfinite(*problem.softcap) && *problem.softcap > 0))
    throw std::invalid_argument(fmt::format("softcap {} must be finite and > 0", *problem.softcap));
  problem.keys.validate();
  require_false_alarm(options.false_alarm);
}

/// The truth's options: the problem's scale, visibility and softcap, as the kernel was asked.
MidpointRadiusOptions truth_options(const AttentionProblem& problem) {
  MidpointRadiusOptions o;
  o.scale = problem.scale;
  o.keys = problem.keys;
  o.softcap = problem.softcap;
  o.fallback_precision_bits = kGroundTruthBits;
  return o;
}

struct HeadBounds {
  // per element (Lq × dv) and per row; 0 for masked rows
  std::vector<double> output, output_probabilistic, lse, lse_probabilistic;
  std::size_t visible_elements = 0, vacuous_elements = 0;
};

/// The class the options declare (output dtype resolved by the caller).
AttentionClass declared_class(const AttentionCheckOptions& options) {
  AttentionClass cls;
  cls.input = options.dtype, cls.output = options.output_dtype.value();
  cls.online_softmax = options.algorithm == AttentionAlgorithm::flash;
  cls.block_k = options.block_k;
  cls.scores_rounded_to_input = options.algorithm == AttentionAlgorithm::three_pass;
  return cls;
}

/// Both bounds of every element of one head, row by row from the row's actual data
/// (attention_row_budgets: O(Lk·(d + dv)) per row).
HeadBounds head_bounds(const ConstMatrixView<double>& Q, const ConstMatrixView<double>& K,
                       const ConstMatrixView<double>& V, const AttentionProblem& problem,
                       const AttentionClass& cls, double scale, double lambda,
                       const Cancellation* cancel) {
  const Index Lq = Q.rows(), dv = V.cols(), Lk = K.rows();
  HeadBounds hb;
  hb.output.assign(static_cast<std::size_t>(Lq * dv), 0.0);
  hb.output_probabilistic.assign(static_cast<std::size_t>(Lq * dv), 0.0);
  hb.lse.assign(static_cast<std::size_t>(Lq), 0.0);
  hb.lse_probabilistic.assign(static_cast<std::size_t>(Lq), 0.0);
  AttentionRowInputs row;
  row.q = &Q, row.k = &K, row.v = &V;
  row.scale = scale;
  row.softcap = problem.softcap;
  for (Index i = 0; i < Lq; ++i) {
    if (i % 64 == 0) throw_if_cancelled(cancel);
    row.row = i;
    row.keys = problem.keys.range(i, Lq, Lk);
    if (row.keys.empty()) continue;  // exact: O = 0, lse = −inf
    const AttentionRowBudgets b = attention_row_budgets(cls, row);
    for (Index c = 0; c < dv; ++c) {
      const ErrorBudget& e = b.output[static_cast<std::size_t>(c)];
      hb.output[i * dv + c] = e.guaranteed();
      hb.output_probabilistic[i * dv + c] = e.probabilistic(lambda);
      ++hb.visible_elements;
      if (bound_is_vacuous(e.guaranteed(), b.v_max_abs[static_cast<std::size_t>(c)]))
        ++hb.vacuous_elements;
    }
    hb.lse[i] = b.log_sum_exp.guaranteed();
    hb.lse_probabilistic[i] = b.log_sum_exp.probabilistic(lambda);
  }
  return hb;
}

/// error / bound; an error where the bound is 0, or a non-finite error, is a violation (inf).
double element_ratio(double error, double bound) {
  if (error == 0.0) return 0.0;
  if (!std::isfinite(error) || !(bound > 0.0)) return kInf;
  return error / bound;
}

AttentionHeadReport check_head(const AttentionTensors& in, const Tensor4View<const double>& o,
                               const double* lse, const AttentionProblem& problem,
                               const AttentionCheckOptions& options, double lambda, Index b,
                               Index h) {
  const Cancellation* cancel = options.cancel;
  const Index H = in.q->heads(), group = H / in.k->heads(), hk = h / group;
  const Index Lq = in.q->length(), d = in.q->dim(), dv = in.v->dim();
  const Tensor4View<const double> Qh = head_view(*in.q, b, h), Kh = head_view(*in.k, b, hk),
                                  Vh = head_view(*in.v, b, hk);
  const auto Q = in.q->const_head(b, h);
  const auto K = in.k->const_head(b, hk);
  const auto V = in.v->const_head(b, hk);
  const auto O = o.const_head(b, h);
  const double scale = problem.scale.value_or(1.0 / std::sqrt(static_cast<double>(d)));

  AttentionHeadReport rep;
  rep.batch = b, rep.head = h;

  // The comparison the refinement selection reads: the user's O (and lse), the naive
  // reference, the class bounds.
  const AttentionClass cls = declared_class(options);
  using Clock = std::chrono::steady_clock;
  const auto since = [](Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
  };
  // The truth first: a problem it refuses is refused before other work.
  const MidpointRadiusOptions mro = truth_options(problem);
  auto t0 = Clock::now();
  AttentionEnclosure truth = midpoint_radius_attention(Qh, Kh, Vh, mro);
  rep.seconds_truth = since(t0);
  throw_if_cancelled(cancel);

  t0 = Clock::now();
  const HeadBounds hb = head_bounds(Q, K, V, problem, cls, scale, lambda, cancel);
  rep.seconds_bounds = since(t0);
  throw_if_cancelled(cancel);
  rep.vacuous = hb.visible_elements > 0 && hb.vacuous_elements == hb.visible_elements;
  rep.vacuous_elements = hb.vacuous_elements;

  FlashAttentionComparison cmp;
  cmp.dtype = options.dtype;
  cmp.out.resize(static_cast<std::size_t>(Lq * dv));
  for (Index i = 0; i < Lq; ++i)
    for (Index c = 0; c < dv; ++c) {
      const double x = O(i, c);
      const float f = static_cast<float>(x);
      if (std::isfinite(x) && static_cast<double>(f) != x)
        throw std::invalid_argument(fmt::format(
            "o at batch {}, head {}, row {}, column {} = {:.17g} is not an fp32/fp16/bf16 value "
            "(check-attention judges "
            "kernel outputs stored in those)",
            b, h, i, c, x));
      cmp.out[i * dv + c] = f;
    }
  t0 = Clock::now();
  cmp.naive = naive_attention_reference(
      Q, K, V, options.dtype, static_cast<float>(scale), problem.keys,
      problem.softcap ? std::optional<float>(static_cast<float>(*problem.softcap)) : std::nullopt);
  rep.seconds_reference = since(t0);
  throw_if_cancelled(cancel);
  cmp.out_bound = hb.output;
  cmp.out_probabilistic_bound = hb.output_probabilistic;

  const double* user_lse = lse != nullptr ? lse + (b * H + h) * Lq : nullptr;
  cmp.lse.resize(static_cast<std::size_t>(Lq));
  cmp.lse_bound = hb.lse;
  cmp.lse_probabilistic_bound = hb.lse_probabilistic;
  for (Index i = 0; i < Lq; ++i) {
    if (user_lse != nullptr) {
      const double x = user_lse[i];
      const float f = static_cast<float>(x);
      if (std::isfinite(x) && static_cast<double>(f) != x)
        throw std::invalid_argument(fmt::format(
            "lse at batch {}, head {}, row {} = {:.17g} is not an fp32 value", b, h, i, x));
      cmp.lse[i] = f;
    } else {  // no lse: a comparison that is always decided (bound inf)
      cmp.lse[i] = static_cast<float>(truth.lse_mid[i]);
      cmp.lse_bound[i] = cmp.lse_probabilistic_bound[i] = kInf;
    }
  }
  const std::vector<std::size_t> rows =
      flash_attention_rows_to_refine(truth, std::span<const FlashAttentionComparison>(&cmp, 1));
  t0 = Clock::now();
  if (!rows.empty()) refine_rows_in_balls(Qh, Kh, Vh, mro, rows, truth);
  rep.seconds_refinement = since(t0);
  throw_if_cancelled(cancel);
  rep.refined_rows = truth.count(RowTier::BallRefined);
  rep.masked_rows = truth.count(RowTier::Masked);

  // Verdicts.
  double naive_error = 0, atol = 0;
  rep.max_ratio = -1;
  rep.max_probabilistic_ratio = -1;
  for (Index i = 0; i < Lq; ++i) {
    const bool masked = truth.row_tier[i] == RowTier::Masked;
    for (Index c = 0; c < dv; ++c) {
      const std::size_t e = i * dv + c;
      const double x = O(i, c), mid = truth.output_mid[e], rad = truth.output_rad[e];
      const double bound = masked ? 0.0 : hb.output[e];
      const double pbound = masked ? 0.0 : hb.output_probabilistic[e];
      const double err = std::isfinite(x) ? std::abs(x - mid) + rad : kInf;
      if (!std::isfinite(x)) ++rep.non_finite;
      const double ratio = element_ratio(err, bound), pratio = element_ratio(err, pbound);
      rep.max_error = std::max(rep.max_error, err);
      const AttentionElement element{b, h, i, c, x, mid, rad, err, bound, pbound};
      if (ratio > rep.max_ratio) rep.max_ratio = ratio, rep.worst = element;
      if (pratio > rep.max_probabilistic_ratio)
        rep.max_probabilistic_ratio = pratio, rep.probabilistic_worst = element;
      const double ne = std::abs(static_cast<double>(cmp.naive[e]) - mid) + rad;
      naive_error = std::isfinite(ne) ? std::max(naive_error, ne) : kInf;
      atol = std::max(atol, flash_rule_absolute_term(options.dtype, mid));
    }
  }
  if (user_lse != nullptr) {
    double lse_err = 0, lse_ratio = -1;
    for (Index i = 0; i < Lq; ++i) {
      const double x = user_lse[i], mid = truth.lse_mid[i], rad = truth.lse_rad[i];
      double err, bound = hb.lse[i], pbound = hb.lse_probabilistic[i];
      if (mid == -kInf) {
        // No visible key: log 0 = −inf; FlashAttention 2/3 write +inf and PyTorch's CPU flash
        // kernel 0 there — conventions for "no value", accepted as such; anything else fails.
        err = x == -kInf || x == kInf || x == 0.0 ? 0.0 : kInf;
        bound = pbound = 0;
      } else {
        err = std::isfinite(x) ? std::abs(x - mid) + rad : kInf;
      }
      const double ratio = element_ratio(err, bound), pratio = element_ratio(err, pbound);
      lse_err = std::max(lse_err, err);
      const AttentionElement element{b, h, i, -1, x, mid, rad, err, bound, pbound};
      if (ratio > lse_ratio) lse_ratio = ratio, rep.lse_worst = element;
      if (pratio > rep.max_probabilistic_ratio)
        rep.max_probabilistic_ratio = pratio, rep.probabilistic_worst = element;
    }
    rep.lse_max_error = lse_err, rep.lse_max_ratio = lse_ratio;
  }
  rep.naive_error = naive_error;
  rep.atol = atol;
  const bool lse_ok = !rep.lse_max_ratio || *rep.lse_max_ratio <= 1.0;
  rep.bound_pass = rep.max_ratio <= 1.0 && lse_ok && rep.non_finite == 0;
  rep.probabilistic_pass = rep.max_probabilistic_ratio <= 1.0 && rep.non_finite == 0;
  // A naive reference that overflowed (inf/NaN error) cannot judge anything: the rules fail
  // rather than pass every finite O.
  const bool naive_finite = std::isfinite(naive_error);
  rep.fa_rule_pass = rep.non_finite == 0 && naive_finite && rep.max_error <= 2 * naive_error + atol;
  rep.naive_rule_pass = rep.non_finite == 0 && naive_finite && rep.max_error <= naive_error + atol;
  switch (options.rule) {
    case AttentionRule::bound:
      rep.pass = rep.bound_pass;
      break;
    case AttentionRule::flash:
      rep.pass = rep.fa_rule_pass;
      break;
    case AttentionRule::naive:
      rep.pass = rep.naive_rule_pass;
      break;
    case AttentionRule::probabilistic:
      rep.pass = rep.probabilistic_pass;
      break;
  }
  return rep;
}

/// The ratio the rule decides by (for worst_head).
double rule_ratio(const AttentionHeadReport& r, AttentionRule rule) {
  if (rule == AttentionRule::bound) return std::max(r.max_ratio, r.lse_max_ratio.value_or(0.0));
  if (rule == AttentionRule::probabilistic) return r.max_probabilistic_ratio;
  const double factor = rule == AttentionRule::flash ? 2.0 : 1.0;
  return element_ratio(r.max_error, factor * r.naive_error + r.atol);
}

}  // namespace

Tensor4View<const double> attention_view(const double* data, AttentionLayout layout,
                                         std::ptrdiff_t batch, std::ptrdiff_t heads,
                                         std::ptrdiff_t seqlen, std::ptrdiff_t dim) {
  if (layout == AttentionLayout::bhsd)
    return Tensor4View<const double>(data, batch, heads, seqlen, dim);
  return Tensor4View<const double>(data, {batch, heads, seqlen, dim},
                                   {seqlen * heads * dim, dim, heads * dim, 1});
}

const AttentionHeadReport& AttentionCheckResult::worst_head() const {
  if (heads.empty()) throw std::logic_error("AttentionCheckResult::worst_head: no heads");
  const auto key = [&](const AttentionHeadReport& r) {
    return std::make_pair(!r.pass, rule_ratio(r, rule));
  };
  std::size_t worst = 0;
  for (std::size_t i = 1; i < heads.size(); ++i)
    if (key(heads[i]) > key(heads[worst])) worst = i;
  return heads[worst];
}

AttentionCheckResult check_attention(const AttentionTensors& inputs,
                                     const Tensor4View<const double>& o, const double* lse,
                                     const AttentionProblem& problem,
                                     const AttentionCheckOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  validate(inputs, o, problem, options);
  require_in_dtype(*inputs.q, "q", options.dtype, options.cancel);
  require_in_dtype(*inputs.k, "k", options.dtype, options.cancel);
  require_in_dtype(*inputs.v, "v", options.dtype, options.cancel);
  const Index B = inputs.q->batch(), H = inputs.q->heads();
  const auto n = static_cast<std::size_t>(B * H);
  AttentionCheckOptions resolved = options;
  if (!resolved.output_dtype) resolved.output_dtype = inferred_output_dtype(o);
  require_accumulation_covered(declared_class(resolved), inputs.k->length(), inputs.q->dim());
  // The probabilistic bounds' λ: a false alarm anywhere among all values checked in the call.
  const double values_checked = static_cast<double>(B * H * inputs.q->length()) *
                                static_cast<double>(inputs.v->dim() + (lse != nullptr ? 1 : 0));
  AttentionCheckResult result;
  result.rule = options.rule;
  result.output_dtype = *resolved.output_dtype;
  result.false_alarm = options.false_alarm;
  result.lambda = probabilistic_lambda(options.false_alarm, std::max(values_checked, 1.0));
  const double lambda = result.lambda;
  result.heads = parallel_map<AttentionHeadReport>(
      n, options.jobs,
      [&](std::size_t task) {
        throw_if_cancelled(options.cancel);
        return check_head(inputs, o, lse, problem, resolved, lambda, static_cast<Index>(task) / H,
                          static_cast<Index>(task) % H);
      },
      options.progress);
  result.pass = std::all_of(result.heads.begin(), result.heads.end(),
                            [](const AttentionHeadReport& r) { return r.pass; });
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

std::string_view attention_rule_name(AttentionRule rule) {
  switch (rule) {
    case AttentionRule::bound: return "guaranteed";
    case AttentionRule::probabilistic: return "probabilistic";
    case AttentionRule::flash: return "flash";
    case AttentionRule::naive: return "naive";
  }
  return "?";
}

std::optional<AttentionRule> attention_rule_from_name(std::string_view name) {
  if (name == "guaranteed" || name == "bound") return AttentionRule::bound;
  if (name == "probabilistic") return AttentionRule::probabilistic;
  if (name == "flash") return AttentionRule::flash;
  if (name == "naive") return AttentionRule::naive;
  return std::nullopt;
}

}  // namespace attncert
