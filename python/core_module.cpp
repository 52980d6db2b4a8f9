// attncert._core: the compiled half of the Python module. Thin: arrays in through the buffer
// protocol (buffer_input.hpp), long work on a worker thread with the GIL released and Ctrl-C
// honoured (gil_wait.hpp), results out as buffer-exposing arrays and plain records. The
// user-facing API, its argument checking and docs live in python/attncert/__init__.py.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "numerics/ball.hpp"
#include "numerics/midpoint_radius_attention.hpp"
#include "numerics/precision.hpp"
#include "numerics/softmax.hpp"
#include "numerics/softmax_jacobian.hpp"
#include "numerics/tensor_file.hpp"
#include "proofs_checks/attention_check.hpp"
#include "proofs_checks/claim_verification.hpp"
#include "proofs_checks/conjecture_claim.hpp"
#include "python/buffer_input.hpp"
#include "python/gil_wait.hpp"
#include "reports/output_file.hpp"
#include "reports/result_records.hpp"
#include "theory/decimal_literal.hpp"
#include "theory/expression.hpp"
#include "theory/quantities.hpp"

namespace py = pybind11;

namespace attncert::python {
namespace {

using Index = std::ptrdiff_t;

// ---- problem parameters shared by eval_attention and check_attention ----------------------

AttentionLayout parse_layout(const std::string& layout) {
  if (layout == "bhsd") return AttentionLayout::bhsd;
  if (layout == "bshd") return AttentionLayout::bshd;
  throw std::invalid_argument(
      fmt::format("layout '{}': expected 'bhsd' (PyTorch SDPA) or 'bshd' "
                  "(FlashAttention)",
                  layout));
}

AttentionProblem make_problem(std::optional<double> scale, std::optional<std::string> causal,
                              std::optional<Index> window_left, std::optional<Index> window_right,
                              std::optional<double> softcap) {
  AttentionProblem p;
  if (scale && !std::isfinite(*scale)) {
    throw std::invalid_argument(fmt::format("scale {} is not finite", *scale));
  }
  p.scale = scale;
  if (causal) {
    p.keys.causal = true;
    if (*causal == "bottom-right")
      p.keys.alignment = DiagonalAlignment::bottom_right;
    else if (*causal == "top-left")
      p.keys.alignment = DiagonalAlignment::top_left;
    else
      throw std::invalid_argument(
          fmt::format("causal '{}': expected None, 'top-left' (PyTorch "
                      "is_causal) or 'bottom-right' (FlashAttention)",
                      *causal));
  }
  p.keys.window_left = window_left;
  p.keys.window_right = window_right;
  p.keys.validate();
  if (softcap && !(*softcap > 0 && std::isfinite(*softcap))) {
    throw std::invalid_argument(fmt::format("softcap {} must be finite and > 0", *softcap));
  }
  p.softcap = softcap;
  return p;
}

// A 4-D user tensor as (B, H, L, d) with its layout's strides (no copy).
struct Dims {
  Index batch = 0, heads = 0, length = 0, dim = 0;
};

Dims dims_of(const InputArray& a, AttentionLayout layout) {
  if (a.shape.size() != 4) {
    throw std::invalid_argument(fmt::format(
        "{} has {} dimensions; expected 4: {}", a.name, a.shape.size(),
        layout == AttentionLayout::bhsd ? "(batch, heads, seqlen, head_dim) for layout 'bhsd'"
                                        : "(batch, seqlen, heads, head_dim) for layout 'bshd'"));
  }
  for (std::size_t i = 0; i < 4; ++i) {
    if (a.shape[i] == 0)
      throw std::invalid_argument(fmt::format("{} has an empty dimension {}", a.name, i));
  }
  if (layout == AttentionLayout::bhsd) return {a.shape[0], a.shape[1], a.shape[2], a.shape[3]};
  return {a.shape[0], a.shape[2], a.shape[1], a.shape[3]};
}

Tensor4View<const double> view_of(const InputArray& a, AttentionLayout layout) {
  const Dims d = dims_of(a, layout);
  return attention_view(a.data.data(), layout, d.batch, d.heads, d.length, d.dim);
}

void require_finite(const InputArray& a) {
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(a.data[i])) {
      throw std::invalid_argument(fmt::format("{}: entry {} (flat index) is {}", a.name, i,
                                              std::isnan(a.data[i]) ? "NaN" : "infinite"));
    }
  }
}

struct QKV {
  InputArray q, k, v;
  Dims dq, dk, dv;
};

QKV read_qkv(const py::buffer& q, const py::buffer& k, const py::buffer& v,
             const std::vector<bool>& bf16, AttentionLayout layout) {
  QKV t{read_array(q, "q", bf16.at(0)),
        read_array(k, "k", bf16.at(1)),
        read_array(v, "v", bf16.at(2)),
        {},
        {},
        {}};
  t.dq = dims_of(t.q, layout);
  t.dk = dims_of(t.k, layout);
  t.dv = dims_of(t.v, layout);
  if (t.dk.batch != t.dq.batch || t.dv.batch != t.dq.batch) {
    throw std::invalid_argument(
        fmt::format("batch sizes differ: q {}, k {}, v {}", t.dq.batch, t.dk.batch, t.dv.batch));
  }
  if (t.dk.heads != t.dv.heads) {
    throw std::invalid_argument(fmt::format("k has {} heads but v has {}", t.dk.heads, t.dv.heads));
  }
  if (t.dq.heads % t.dk.heads != 0) {
    throw std::invalid_argument(
        fmt::format("k/v heads ({}) must divide q heads ({}) (GQA/MQA)", t.dk.heads, t.dq.heads));
  }
  if (t.dk.length != t.dv.length) {
    throw std::invalid_argument(
        fmt::format("k has {} keys but v has {}", t.dk.length, t.dv.length));
  }
  if (t.dk.dim != t.dq.dim) {
    throw std::invalid_argument(
        fmt::format("head_dim of q ({}) and k ({}) differ", t.dq.dim, t.dk.dim));
  }
  return t;
}

// ---- eval_attention ------------------------------------------------------------------------

py::dict eval_attention(const py::buffer& q, const py::buffer& k, const py::buffer& v,
                        const std::vector<bool>& bf16, const std::string& layout_name,
                        std::optional<double> scale, std::optional<std::string> causal,
                        std::optional<Index> window_left, std::optional<Index> window_right,
                        std::optional<double> softcap) {
  const AttentionLayout layout = parse_layout(layout_name);
  const AttentionProblem problem = make_problem(scale, causal, window_left, window_right, softcap);
  const QKV t = read_qkv(q, k, v, bf16, layout);
  require_finite(t.q), require_finite(t.k), require_finite(t.v);
  const Tensor4View<const double> Q = view_of(t.q, layout), K = view_of(t.k, layout),
                                  V = view_of(t.v, layout);
  const Index B = t.dq.batch, H = t.dq.heads, Lq = t.dq.length, Lk = t.dk.length, dv = t.dv.dim;
  const Index group = H / t.dk.heads;

  MidpointRadiusOptions options;
  options.scale = problem.scale;
  options.keys = problem.keys;
  options.softcap = problem.softcap;

  auto o_mid = std::make_shared<DoubleArray>(), o_rad = std::make_shared<DoubleArray>();
  auto lse_mid = std::make_shared<DoubleArray>(), lse_rad = std::make_shared<DoubleArray>();
  o_mid->shape = o_rad->shape = {B, H, Lq, dv};
  lse_mid->shape = lse_rad->shape = {B, H, Lq};
  const std::size_t head_out = static_cast<std::size_t>(Lq * dv);
  o_mid->data.resize(static_cast<std::size_t>(B * H) * head_out);
  o_rad->data.resize(o_mid->data.size());
  lse_mid->data.resize(static_cast<std::size_t>(B * H * Lq));
  lse_rad->data.resize(lse_mid->data.size());
  std::size_t ball_rows = 0, masked_rows = 0;

  // Head by head, so that Ctrl-C is honoured between heads (the tier has no cancel hook).
  const auto slice = [](const Tensor4View<const double>& X, Index b, Index h) {
    const auto& s = X.strides();
    return Tensor4View<const double>(X.const_head(b, h).data(), {1, 1, X.length(), X.dim()},
                                     {s[0], s[1], s[2], s[3]});
  };
  run_interruptible([&](const Cancellation& cancel) {
    for (Index b = 0; b < B; ++b) {
      for (Index h = 0; h < H; ++h) {
        cancel.throw_if_requested();
        const AttentionEnclosure e = midpoint_radius_attention(
            slice(Q, b, h), slice(K, b, h / group), slice(V, b, h / group), options);
        const std::size_t head = static_cast<std::size_t>(b * H + h);
        std::copy(e.output_mid.begin(), e.output_mid.end(), o_mid->data.begin() + head * head_out);
        std::copy(e.output_rad.begin(), e.output_rad.end(), o_rad->data.begin() + head * head_out);
        std::copy(e.lse_mid.begin(), e.lse_mid.end(), lse_mid->data.begin() + head * Lq);
        std::copy(e.lse_rad.begin(), e.lse_rad.end(), lse_rad->data.begin() + head * Lq);
        ball_rows += e.count(RowTier::BallOutOfRange) + e.count(RowTier::BallRefined);
        masked_rows += e.count(RowTier::Masked);
      }
    }
  });
  py::dict out;
  out["o_mid"] = o_mid;
  out["o_rad"] = o_rad;
  out["lse_mid"] = lse_mid;
  out["lse_rad"] = lse_rad;
  out["ball_rows"] = ball_rows;
  out["masked_rows"] = masked_rows;
  return out;
}

// ---- check_attention -----------------------------------------------------------------------

gpu::DType dtype_from_name(const std::string& text, const char* what) {
  if (const auto t = gpu::parse_dtype(text)) return *t;
  throw std::invalid_argument(
      fmt::format("{} '{}': expected 'fp32', 'fp16' or 'bf16'", what, text));
}

AttentionCheckResult check_attention_binding(
    const py::buffer& q, const py::buffer& k, const py::buffer& v, const py::buffer& o,
    const std::optional<py::buffer>& lse, const std::vector<bool>& bf16,
    const std::string& layout_name, std::optional<double> scale, std::optional<std::string> causal,
    std::optional<Index> window_left, std::optional<Index> window_right,
    std::optional<double> softcap, std::optional<std::string> dtype,
    std::optional<std::string> output_dtype, const std::string& algorithm, const std::string& rule,
    double false_alarm, int block_k, int jobs) {
  const AttentionLayout layout = parse_layout(layout_name);
  const AttentionProblem problem = make_problem(scale, causal, window_left, window_right, softcap);
  const QKV t = read_qkv(q, k, v, bf16, layout);
  const InputArray O = read_array(o, "o", bf16.at(3));
  AttentionCheckOptions options;
  // The declared dtypes default to the arrays' own: Q's for the inputs, O's for the output.
  if (dtype) {
    options.dtype = dtype_from_name(*dtype, "dtype");
  } else if (t.k.type != t.q.type || t.v.type != t.q.type) {
    throw std::invalid_argument(fmt::format(
        "q, k, v are {}, {}, {}: pass dtype='fp32'|'fp16'|'bf16', the precision the kernel read "
        "them in",
        array_type_name(t.q.type), array_type_name(t.k.type), array_type_name(t.v.type)));
  } else if (const auto d = kernel_dtype(t.q.type)) {
    options.dtype = *d;
  } else {
    throw std::invalid_argument(
        "q is float64: pass dtype='fp32'|'fp16'|'bf16', the precision "
        "the kernel read Q, K, V in");
  }
  if (output_dtype) {
    options.output_dtype = dtype_from_name(*output_dtype, "output_dtype");
  } else if (O.type == ArrayType::f16 || O.type == ArrayType::bf16) {
    options.output_dtype = kernel_dtype(O.type);
  }  // else (float32/float64 O): the coarsest 16-bit type O's values fit, else fp32 (the core)
  if (algorithm == "flash")
    options.algorithm = AttentionAlgorithm::flash;
  else if (algorithm == "three-pass")
    options.algorithm = AttentionAlgorithm::three_pass;
  else
    throw std::invalid_argument(
        fmt::format("algorithm '{}': expected 'flash' or 'three-pass'", algorithm));
  if (const auto r = attention_rule_from_name(rule))
    options.rule = *r;
  else
    throw std::invalid_argument(fmt::format(
        "rule '{}': expected 'guaranteed', 'probabilistic', 'flash' or 'naive'", rule));
  require_false_alarm(false_alarm);
  options.false_alarm = false_alarm;
  if (block_k < 1) throw std::invalid_argument(fmt::format("block_k {} must be >= 1", block_k));
  if (jobs < 0)
    throw std::invalid_argument(fmt::format("jobs {} must be >= 0 (0: all cores)", jobs));
  options.block_k = block_k;
  options.jobs = jobs;

  const Dims d_o = dims_of(O, layout);
  if (d_o.batch != t.dq.batch || d_o.heads != t.dq.heads || d_o.length != t.dq.length ||
      d_o.dim != t.dv.dim) {
    throw std::invalid_argument(fmt::format(
        "o has shape ({}, {}, {}, {}) in layout '{}', expected (batch {}, heads {}, seqlen {}, "
        "head_dim {}) from q and v",
        O.shape[0], O.shape[1], O.shape[2], O.shape[3], layout_name, t.dq.batch, t.dq.heads,
        t.dq.length, t.dv.dim));
  }
  std::optional<InputArray> L;
  if (lse) {
    L = read_array(*lse, "lse", bf16.at(4));
    const std::vector<Index> want{t.dq.batch, t.dq.heads, t.dq.length};
    if (L->shape != want) {
      throw std::invalid_argument(
          fmt::format("lse has shape ({}), expected (batch, heads, seqlen) = ({})",
                      fmt::join(L->shape, ", "), fmt::join(want, ", ")));
    }
  }
  const Tensor4View<const double> Q = view_of(t.q, layout), K = view_of(t.k, layout),
                                  V = view_of(t.v, layout), Ov = view_of(O, layout);
  const AttentionTensors inputs{&Q, &K, &V};
  AttentionCheckResult result;
  run_interruptible([&](const Cancellation& cancel) {
    AttentionCheckOptions o = options;
    o.cancel = &cancel;
    result = attncert::check_attention(inputs, Ov, L ? L->data.data() : nullptr, problem, o);
  });
  return result;
}

// ---- softmax / lse / jacobian_norm enclosures ----------------------------------------------

// The temperature as given: a decimal string meant exactly, or a double.
struct Temperature {
  std::optional<std::string> text;
  double value = 1;
};

// Python objects are read here, with the GIL held (the Ball is built on the worker).
Temperature temperature_of(const py::object& T) {
  if (py::isinstance<py::str>(T)) return {T.cast<std::string>(), 0};
  return {std::nullopt, T.cast<double>()};
}

Ball temperature_ball(const Temperature& T, long prec) {
  if (T.text) {
    DecimalLiteral d;
    try {
      d = parse_decimal(*T.text);
    } catch (const ParseError& e) {
      throw std::invalid_argument(fmt::format("T '{}': not a number ({})", *T.text, e.detail()));
    }
    if (d.negative || !(d.value > 0) || !std::isfinite(d.value)) {
      throw std::invalid_argument(fmt::format("T '{}' must be finite and > 0", *T.text));
    }
    return decimal_ball(d, prec);
  }
  if (!(T.value > 0) || !std::isfinite(T.value)) {
    throw std::invalid_argument(fmt::format("T {} must be finite and > 0", T.value));
  }
  return Ball(T.value, prec);
}

// Rows of logits (1-D: one row; 2-D: one per row) as exact balls; −inf masks an entry.
std::vector<std::vector<Ball>> logit_rows(const InputArray& a, long prec) {
  if (a.shape.size() != 1 && a.shape.size() != 2) {
    throw std::invalid_argument(
        fmt::format("logits has {} dimensions; expected 1 (one row) or 2 (rows)", a.shape.size()));
  }
  const Index cols = a.shape.back();
  if (cols == 0 || a.size() == 0) throw std::invalid_argument("logits is empty");
  std::vector<std::vector<Ball>> rows;
  for (std::size_t r = 0; r * cols < a.size(); ++r) {
    std::vector<Ball> row;
    for (Index j = 0; j < cols; ++j) {
      const double x = a.data[r * cols + j];
      if (std::isnan(x) || x == INFINITY) {
        throw std::invalid_argument(
            fmt::format("logits[{}, {}] is {} (only finite values and -inf "
                        "for a masked entry are allowed)",
                        r, j, std::isnan(x) ? "NaN" : "+inf"));
      }
      row.emplace_back(x, prec);
    }
    require_unmasked_logit(row, a.shape.size() == 2 ? fmt::format("logits row {}", r) : "logits");
    rows.push_back(std::move(row));
  }
  return rows;
}

// Lower and upper ends (outward-rounded doubles) of each value; an enclosure that is not finite
// is an error (the value is undefined or not decidable at this precision), never a result.
py::dict enclosure_arrays(const std::vector<Ball>& values, std::vector<Index> shape, long prec,
                          const std::string& what, bool masked_minus_inf_ok) {
  auto lower = std::make_shared<DoubleArray>(), upper = std::make_shared<DoubleArray>();
  lower->shape = upper->shape = std::move(shape);
  for (const Ball& b : values) {
    const bool exact_minus_inf = masked_minus_inf_ok && b.is_exact() && b.mid() == -INFINITY;
    if (!b.is_finite() && !exact_minus_inf) {
      throw std::domain_error(
          fmt::format("{}: no finite enclosure at {} bits (try a larger precision)", what, prec));
    }
    lower->data.push_back(exact_minus_inf ? -INFINITY : b.lower());
    upper->data.push_back(exact_minus_inf ? -INFINITY : b.upper());
  }
  py::dict d;
  d["lower"] = lower;
  d["upper"] = upper;
  return d;
}

py::dict row_function(const std::string& what, const py::buffer& logits, bool bf16,
                      const py::object& T, long precision) {
  if (what != "softmax" && what != "lse" && what != "jacobian_norm") {
    throw std::invalid_argument(fmt::format("unknown row function '{}'", what));
  }
  require_precision(precision, "precision");
  const InputArray a = read_array(logits, "logits", bf16);
  const Temperature temperature = temperature_of(T);
  std::vector<Ball> values;
  std::vector<Index> shape;
  run_interruptible([&](const Cancellation&) {
    const Ball t = temperature_ball(temperature, precision);
    const auto rows = logit_rows(a, precision);
    for (const auto& row : rows) {
      if (what == "softmax") {
        for (Ball& x : softmax<Ball>(row, t)) values.push_back(std::move(x));
      } else if (what == "lse") {
        values.push_back(log_sum_exp<Ball>(row, t));
      } else {
        values.push_back(softmax_jacobian_norm<Ball>(row, t));
      }
    }
  });
  if (what == "softmax")
    shape = a.shape;
  else if (a.shape.size() == 2)
    shape = {a.shape[0]};
  return enclosure_arrays(values, shape, precision, what, false);
}

// ---- verify --------------------------------------------------------------------------------

std::vector<std::string> verify(const std::string& expr, const std::string& over,
                                std::optional<long> instances, std::optional<double> seconds,
                                std::uint64_t seed, int jobs, long max_precision, bool prove,
                                double prove_seconds) {
  require_precision(max_precision, "max_precision");
  if (max_precision < 64) {
    throw std::invalid_argument(
        fmt::format("max_precision {} is below the 64-bit starting precision", max_precision));
  }
  VerifyOptions options;
  if (seconds) {
    if (!(*seconds > 0) || *seconds > 7 * 24 * 3600) {
      throw std::invalid_argument(
          fmt::format("seconds {}: expected a positive number, at most one week", *seconds));
    }
    // As `verify --budget Ns`.
    options.certify_options.max_precision = max_precision;
    options.certify_options.start_precision = 64;
    options.seconds = *seconds;
    options.instances = 1'000'000'000;
    options.local_steps = 100'000;
    options.certify = 200;
  } else {
    const long n = instances.value_or(8000);
    if (n < 1 || n > 1'000'000'000) {
      throw std::invalid_argument(fmt::format("instances {}: expected 1 to 1e9", n));
    }
    options = options_for_instance_budget(n, max_precision);
  }
  options.seed = seed;
  if (jobs < 0)
    throw std::invalid_argument(fmt::format("jobs {} must be >= 0 (0: all cores)", jobs));
  if (prove) {
    if (!(prove_seconds > 0) || prove_seconds > 7 * 24 * 3600) {
      throw std::invalid_argument(fmt::format(
          "prove_seconds {}: expected a positive number, at most one week", prove_seconds));
    }
    ProverOptions prover;
    prover.seconds = prove_seconds;
    prover.seed = seed;
    options.prove = prover;
  }
  std::vector<std::string> records;
  // verify_claims has no cancellation hook: Ctrl-C takes effect when it returns.
  run_interruptible([&](const Cancellation&) {
    const std::unique_ptr<Claim> claim = conjecture_claim(expr, over);
    const std::vector<const Claim*> claims{claim.get()};
    std::vector<ClaimResult> results;
    try {
      results = verify_claims(claims, options, jobs);
    } catch (const ClaimVerificationError& e) {
      std::rethrow_exception(e.cause());
    }
    for (std::size_t i = 0; i < claims.size(); ++i)
      records.push_back(result_json(*claims[i], results[i]).dump());
  });
  return records;
}

// ---- tensor files (.npy, safetensors) -------------------------------------------------------

// Each tensor as (name, element type name, values widened exactly to double with its shape).
py::list load_tensors(const std::string& spec, bool all) {
  std::vector<Tensor> tensors;
  {
    py::gil_scoped_release release;  // file I/O and parsing: no Python objects touched
    if (all)
      tensors = read_safetensors(spec);
    else
      tensors.push_back(read_tensor(spec));
  }
  py::list out;
  for (Tensor& t : tensors) {
    auto a = std::make_shared<DoubleArray>();
    a->shape.assign(t.shape.begin(), t.shape.end());
    a->data = std::move(t.data);
    out.append(py::make_tuple(t.name, std::string(element_type_name(t.type)), a));
  }
  return out;
}

// Writes a safetensors file of the given arrays in their own dtypes (float64/32/16, bfloat16).
void save_tensors(const std::string& path, const std::vector<std::string>& names,
                  const std::vector<py::buffer>& arrays, const std::vector<bool>& bf16) {
  if (names.size() != arrays.size() || bf16.size() != arrays.size()) {
    throw std::invalid_argument("save_tensors: names, arrays and bf16 flags differ in number");
  }
  std::vector<InputArray> inputs;
  for (std::size_t i = 0; i < arrays.size(); ++i)
    inputs.push_back(read_array(arrays[i], names[i], bf16[i]));
  py::gil_scoped_release release;
  std::vector<std::vector<std::size_t>> shapes(inputs.size());
  std::vector<TensorToWrite> tensors;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    shapes[i].assign(inputs[i].shape.begin(), inputs[i].shape.end());
    const ElementType type = inputs[i].type == ArrayType::f16    ? ElementType::f16
                             : inputs[i].type == ArrayType::bf16 ? ElementType::bf16
                             : inputs[i].type == ArrayType::f32  ? ElementType::f32
                                                                 : ElementType::f64;
    tensors.push_back({names[i], type, shapes[i], &inputs[i].data});
  }
  write_file_atomically(path, safetensors_bytes(tensors));
}

}  // namespace
}  // namespace attncert::python

PYBIND11_MODULE(_core, m) {
  using namespace attncert;
  using namespace attncert::python;
  m.doc() = "attncert's compiled core; use the attncert package, not this module";

  // attncert::Cancelled: the worker stopped because Python asked it to (Ctrl-C without a
  // pending Python exception, e.g. a signal handler that did not raise).
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Cancelled&) {
      PyErr_SetString(PyExc_KeyboardInterrupt, "interrupted");
    }
  });

  py::class_<DoubleArray, std::shared_ptr<DoubleArray>>(m, "DoubleArray", py::buffer_protocol())
      .def_buffer([](DoubleArray& a) {
        std::vector<py::ssize_t> shape(a.shape.begin(), a.shape.end()), strides(a.shape.size());
        py::ssize_t s = sizeof(double);
        for (std::size_t i = a.shape.size(); i-- > 0;) {
          strides[i] = s;
          s *= shape[i];
        }
        return py::buffer_info(
            a.data.data(), sizeof(double), py::format_descriptor<double>::format(),
            static_cast<py::ssize_t>(shape.size()), shape, strides, /*readonly=*/true);
      });

  py::class_<AttentionElement>(m, "AttentionElement")
      .def_readonly("batch", &AttentionElement::batch)
      .def_readonly("head", &AttentionElement::head)
      .def_readonly("row", &AttentionElement::row)
      .def_readonly("column", &AttentionElement::column)
      .def_readonly("value", &AttentionElement::value)
      .def_readonly("truth_mid", &AttentionElement::truth_mid)
      .def_readonly("truth_rad", &AttentionElement::truth_rad)
      .def_readonly("error", &AttentionElement::error)
      .def_readonly("bound", &AttentionElement::bound)
      .def_readonly("probabilistic_bound", &AttentionElement::probabilistic_bound);

  py::class_<AttentionHeadReport>(m, "AttentionHeadReport")
      .def_readonly("batch", &AttentionHeadReport::batch)
      .def_readonly("head", &AttentionHeadReport::head)
      .def_readonly("max_error", &AttentionHeadReport::max_error)
      .def_readonly("max_ratio", &AttentionHeadReport::max_ratio)
      .def_readonly("worst", &AttentionHeadReport::worst)
      .def_readonly("lse_max_error", &AttentionHeadReport::lse_max_error)
      .def_readonly("lse_max_ratio", &AttentionHeadReport::lse_max_ratio)
      .def_readonly("lse_worst", &AttentionHeadReport::lse_worst)
      .def_readonly("max_probabilistic_ratio", &AttentionHeadReport::max_probabilistic_ratio)
      .def_readonly("probabilistic_worst", &AttentionHeadReport::probabilistic_worst)
      .def_readonly("probabilistic_pass", &AttentionHeadReport::probabilistic_pass)
      .def_readonly("naive_error", &AttentionHeadReport::naive_error)
      .def_readonly("atol", &AttentionHeadReport::atol)
      .def_readonly("fa_rule_pass", &AttentionHeadReport::fa_rule_pass)
      .def_readonly("naive_rule_pass", &AttentionHeadReport::naive_rule_pass)
      .def_readonly("bound_pass", &AttentionHeadReport::bound_pass)
      .def_readonly("non_finite", &AttentionHeadReport::non_finite)
      .def_readonly("masked_rows", &AttentionHeadReport::masked_rows)
      .def_readonly("refined_rows", &AttentionHeadReport::refined_rows)
      .def_readonly("vacuous", &AttentionHeadReport::vacuous)
      .def_readonly("vacuous_elements", &AttentionHeadReport::vacuous_elements)
      .def_readonly("passed", &AttentionHeadReport::pass)
      .def_readonly("seconds_truth", &AttentionHeadReport::seconds_truth)
      .def_readonly("seconds_refinement", &AttentionHeadReport::seconds_refinement)
      .def_readonly("seconds_reference", &AttentionHeadReport::seconds_reference)
      .def_readonly("seconds_bounds", &AttentionHeadReport::seconds_bounds);

  py::class_<AttentionCheckResult>(m, "AttentionCheckResult")
      .def_readonly("heads", &AttentionCheckResult::heads)
      .def_readonly("passed", &AttentionCheckResult::pass)
      .def_readonly("seconds", &AttentionCheckResult::seconds)
      .def_readonly("false_alarm", &AttentionCheckResult::false_alarm)
      .def_readonly("lambda_", &AttentionCheckResult::lambda)
      .def_property_readonly("output_dtype", [](const AttentionCheckResult& r) {
        return std::string(gpu::dtype_name(r.output_dtype));
      })
      // The one definition of "worst head" (attention_check.cpp), as an index into heads.
      .def_property_readonly("worst_head_index", [](const AttentionCheckResult& r) -> py::object {
        if (r.heads.empty()) return py::none();
        return py::int_(&r.worst_head() - r.heads.data());
      });

  m.def("eval_attention", &eval_attention, py::arg("q"), py::arg("k"), py::arg("v"),
        py::arg("bf16"), py::arg("layout"), py::arg("scale"), py::arg("causal"),
        py::arg("window_left"), py::arg("window_right"), py::arg("softcap"));
  m.def("check_attention", &check_attention_binding, py::arg("q"), py::arg("k"), py::arg("v"),
        py::arg("o"), py::arg("lse"), py::arg("bf16"), py::arg("layout"), py::arg("scale"),
        py::arg("causal"), py::arg("window_left"), py::arg("window_right"), py::arg("softcap"),
        py::arg("dtype"), py::arg("output_dtype"), py::arg("algorithm"), py::arg("rule"),
        py::arg("false_alarm"), py::arg("block_k"), py::arg("jobs"));
  m.def("row_function", &row_function, py::arg("what"), py::arg("logits"), py::arg("bf16"),
        py::arg("T"), py::arg("precision"));
  m.def("load_tensors", &load_tensors, py::arg("spec"), py::arg("all"));
  m.def("save_tensors", &save_tensors, py::arg("path"), py::arg("names"), py::arg("arrays"),
        py::arg("bf16"));
  m.def("verify", &verify, py::arg("expr"), py::arg("over"), py::arg("instances"),
        py::arg("seconds"), py::arg("seed"), py::arg("jobs"), py::arg("max_precision"),
        py::arg("prove"), py::arg("prove_seconds"));
}
