"""attncert — certified truth for softmax attention, from Python.

Check anyone's attention kernel (FlashAttention, PyTorch SDPA, xFormers, your own Triton or
CUDA kernel) against the *exact* answer for the inputs it was given, with a stated error bound::

    import attncert
    result = attncert.check_attention(o, q, k, v, causal="bottom-right")
    print(result.table())            # per head: error, ratio to the bound, FA 2x rule, worst element
    assert result.passed

    # in a pytest test:
    attncert.assert_attention_close(o, q, k, v, causal="top-left")

Also: ``eval_attention`` (certified O and log-sum-exp as midpoint and radius arrays),
``softmax``/``lse``/``jacobian_norm`` (certified enclosures of a row of logits), and ``verify``
(search a conjecture's domain for counterexamples, as ``attncert verify --expr --over``).

Inputs
------
numpy arrays of float16, float32 or float64, and CPU torch tensors of float16, bfloat16,
float32 or float64 (torch is used only if it is already imported by the caller; it is never
required). Arrays are read in place (bfloat16 tensors as a zero-copy int16 view of their bit
patterns) and widened to double exactly in C++. Two documented refusals, each a ``ValueError``
naming the argument:

* a **non-contiguous** array or tensor (a transposed view, a slice with steps): pass
  ``numpy.ascontiguousarray(x)`` or ``x.contiguous()``; attncert never copies silently, because a
  copy of a 4096x4096x128 tensor is not free and a layout mix-up should be visible;
* a tensor on a **GPU** (``cuda:0`` …): call ``.cpu()`` first. The check runs on the CPU.

Layouts: ``"bhsd"`` (batch, heads, seqlen, head_dim) as PyTorch's ``scaled_dot_product_attention``
and ``"bshd"`` (batch, seqlen, heads, head_dim) as FlashAttention. K and V may have fewer heads
than Q (GQA/MQA) if their count divides Q's. ``causal="top-left"`` is PyTorch's ``is_causal``
(``tril(ones(Lq, Lk))``), ``causal="bottom-right"`` is FlashAttention's; they agree when
Lq == Lk. ``window=(left, right)`` is FlashAttention's ``window_size`` (``None`` or -1 for an
unbounded side).

Errors from the C++ core (bad shapes, NaN in Q/K/V, values not representable in the declared
dtype, …) are ``ValueError`` with the core's one-line message. Long computations release the GIL
and Ctrl-C interrupts them (``KeyboardInterrupt``).
"""

from __future__ import annotations

import json
import math
import numbers
import sys
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence, Tuple, Union

import numpy as np

from . import _core

__all__ = [
    "AttentionCheck",
    "AttentionElement",
    "AttentionEnclosure",
    "Enclosure",
    "HeadReport",
    "Verdict",
    "assert_attention_close",
    "bf16_bits",
    "check_attention",
    "eval_attention",
    "jacobian_norm",
    "load_tensors",
    "lse",
    "save_tensors",
    "softmax",
    "verify",
]

__version__ = "0.1.0"

_FLOAT_DTYPES = {np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)}


# ---- inputs --------------------------------------------------------------------------------


def _device_of(x: Any) -> Optional[str]:
    """The device an array-like object lives on, if it says so and it is not the CPU."""
    if hasattr(x, "__cuda_array_interface__"):
        return str(getattr(x, "device", "cuda"))
    device = getattr(x, "device", None)
    if device is None or isinstance(device, str) and device == "cpu":
        return None
    kind = getattr(device, "type", device)
    if isinstance(kind, str) and kind != "cpu":
        return str(device)
    return None


def _is_torch_tensor(x: Any) -> bool:
    # torch is never imported here: a tensor can only exist if the caller imported torch.
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


class bf16_bits:
    """Marks a contiguous int16/uint16 numpy array as bfloat16 bit patterns (for bf16 data
    without torch, e.g. saved with ``t.view(torch.int16).numpy()`` or from JAX/ml_dtypes):
    ``attncert.check_attention(attncert.bf16_bits(o_bits), …)``."""

    def __init__(self, bits):
        bits = np.asarray(bits)
        if bits.dtype not in (np.dtype(np.int16), np.dtype(np.uint16)):
            raise ValueError(f"bf16_bits: expected an int16 or uint16 array, got {bits.dtype}")
        self.bits = bits

    @property
    def shape(self):
        return self.bits.shape


def _as_buffer(x: Any, name: str, allow_sequences: bool = False) -> Tuple[Any, bool]:
    """(an object exposing the buffer protocol, whether it holds bfloat16 bit patterns)."""
    if isinstance(x, bf16_bits):
        if not x.bits.flags.c_contiguous:
            raise ValueError(f"{name} is not contiguous (shape {x.bits.shape}, strides {x.bits.strides}); "
                             "pass numpy.ascontiguousarray(x) — no silent copy is made")
        return x.bits, True
    device = _device_of(x)
    if device is not None:
        raise ValueError(f"{name} is on {device}; call .cpu() first (attncert checks on the CPU)")
    if _is_torch_tensor(x):
        import torch  # already imported by the caller (see _is_torch_tensor)

        t = x.detach()
        if t.is_sparse or t.layout != torch.strided:
            raise ValueError(f"{name}: a {t.layout} tensor is not supported; pass a dense tensor")
        if not t.is_contiguous():
            raise ValueError(
                f"{name} is not contiguous (shape {tuple(t.shape)}, strides {tuple(t.stride())}); "
                "pass tensor.contiguous() — no silent copy is made")
        if t.dtype == torch.bfloat16:
            return t.view(torch.int16).numpy(), True  # bit patterns, zero copy
        if t.dtype in (torch.float16, torch.float32, torch.float64):
            return t.numpy(), False
        raise ValueError(f"{name}: dtype {t.dtype} is not supported; give float16, bfloat16, "
                         "float32 or float64")
    if isinstance(x, np.ndarray):
        if x.dtype.name == "bfloat16":  # ml_dtypes' bfloat16 (e.g. from JAX)
            if not x.flags.c_contiguous:
                raise ValueError(f"{name} is not contiguous (shape {x.shape}, strides {x.strides}); "
                                 "pass numpy.ascontiguousarray(x) — no silent copy is made")
            return x.view(np.int16), True
        if x.dtype.byteorder == ">" and x.dtype.newbyteorder("=") in _FLOAT_DTYPES:
            raise ValueError(f"{name}: big-endian data is not supported; use x.astype(x.dtype.newbyteorder('='))")
        if x.dtype not in _FLOAT_DTYPES:
            raise ValueError(f"{name}: dtype {x.dtype} is not supported; give float16, float32 or "
                             "float64 (or a bfloat16 torch tensor)")
        if not x.flags.c_contiguous:
            raise ValueError(f"{name} is not contiguous (shape {x.shape}, strides {x.strides}); "
                             "pass numpy.ascontiguousarray(x) — no silent copy is made")
        return x, False
    if allow_sequences and isinstance(x, (list, tuple, int, float)):
        return np.asarray(x, dtype=np.float64), False
    try:
        memoryview(x)
    except TypeError:
        raise ValueError(f"{name}: expected a numpy array or a CPU torch tensor, got "
                         f"{type(x).__name__}") from None
    return x, False


def _array(buffer_object: Any) -> np.ndarray:
    """A numpy view of a C++ result array (no copy; the array keeps its owner alive)."""
    return np.asarray(buffer_object)


def _core_call(function, *args, **kwargs):
    """Calls into the core, turning its one-line errors into ValueError with the same text."""
    try:
        return function(*args, **kwargs)
    except (ValueError, KeyboardInterrupt):
        raise
    except (RuntimeError, IndexError, OverflowError) as e:
        raise ValueError(str(e)) from None


def _window(window) -> Tuple[Optional[int], Optional[int]]:
    if window is None:
        return None, None
    try:
        left, right = window
    except (TypeError, ValueError):
        raise ValueError(f"window {window!r}: expected (left, right); None or -1 for an "
                         "unbounded side") from None
    def side(x, which):
        if x is None or x == -1:
            return None
        if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < 0:
            raise ValueError(f"window {which} size {x!r}: expected an integer >= 0, or -1/None")
        return int(x)
    return side(left, "left"), side(right, "right")


def _seqlen(x, layout: str) -> int:
    shape = tuple(x.shape)
    return int(shape[-3] if layout == "bshd" and len(shape) >= 3 else shape[-2])


def _causal(causal, q=None, k=None, layout: str = "bhsd") -> Optional[str]:
    if causal is None or causal is False:
        return None
    if causal is True:
        # Both conventions give the same mask when Lq = Lk; otherwise the caller must say which.
        if q is not None and k is not None and _seqlen(q, layout) == _seqlen(k, layout):
            return "bottom-right"
        raise ValueError("causal=True is ambiguous when Lq != Lk: say causal='top-left' (PyTorch "
                         "is_causal) or causal='bottom-right' (FlashAttention)")
    return causal


def _layout(layout: str) -> str:
    if layout not in ("bhsd", "bshd"):
        raise ValueError(f"layout {layout!r}: expected 'bhsd' (PyTorch SDPA) or 'bshd' (FlashAttention)")
    return layout


def _optional_float(x, name):
    if x is None:
        return None
    try:
        return float(x)
    except (TypeError, ValueError):
        raise ValueError(f"{name} {x!r}: expected a number") from None


# ---- eval_attention ------------------------------------------------------------------------


@dataclass
class AttentionEnclosure:
    """Certified softmax attention: the exact O lies in ``[o_mid - o_rad, o_mid + o_rad]`` and
    the exact log-sum-exp in ``[lse_mid - lse_rad, lse_mid + lse_rad]``, element by element.

    ``o_mid``/``o_rad`` have the layout of the inputs (``bhsd`` or ``bshd``); ``lse_mid``/``lse_rad``
    are (batch, heads, seqlen_q) as FlashAttention's ``softmax_lse``. A row with no visible key
    (fully masked) has O = 0 and lse = -inf exactly. ``ball_rows``: rows the double pass could
    not enclose and that were recomputed in Arb ball arithmetic."""

    o_mid: np.ndarray
    o_rad: np.ndarray
    lse_mid: np.ndarray
    lse_rad: np.ndarray
    layout: str
    ball_rows: int = 0
    masked_rows: int = 0

    def contains(self, o, lse=None) -> bool:
        """Whether every element of ``o`` (and ``lse``) lies in the enclosure."""
        o = np.asarray(o, dtype=np.float64)
        if o.shape != self.o_mid.shape:
            raise ValueError(f"o has shape {o.shape}, the enclosure {self.o_mid.shape}")
        ok = bool(np.all(np.abs(o - self.o_mid) <= self.o_rad))
        if lse is not None:
            lse = np.asarray(lse, dtype=np.float64)
            if lse.shape != self.lse_mid.shape:
                raise ValueError(f"lse has shape {lse.shape}, the enclosure {self.lse_mid.shape}")
            masked = np.isneginf(self.lse_mid)
            ok = ok and bool(np.all(np.where(masked, np.isneginf(lse),
                                             np.abs(np.where(masked, 0, lse - self.lse_mid)) <= self.lse_rad)))
        return ok


def eval_attention(q, k, v, *, scale: Optional[float] = None, causal: Optional[str] = None,
                   window: Optional[Tuple[Optional[int], Optional[int]]] = None,
                   softcap: Optional[float] = None, layout: str = "bhsd") -> AttentionEnclosure:
    """Certified O = softmax(scale·QKᵀ)·V and its log-sum-exp for the exact values of q, k, v.

    Args:
        q: (B, H, Lq, d) for layout "bhsd", (B, Lq, H, d) for "bshd".
        k, v: (B, Hkv, Lk, d) / (B, Hkv, Lk, dv) (or the "bshd" order); Hkv divides H.
        scale: multiplies QKᵀ; default the exact 1/√d.
        causal: None, "top-left" (PyTorch is_causal) or "bottom-right" (FlashAttention).
        window: (left, right) sliding window, FlashAttention's window_size; None/-1 = unbounded.
        softcap: C > 0: logits ← C·tanh(logits/C) after scaling (FlashAttention / Gemma 2).
        layout: "bhsd" or "bshd".

    Returns:
        AttentionEnclosure with numpy arrays o_mid, o_rad, lse_mid, lse_rad.
    """
    layout = _layout(layout)
    (qb, qh), (kb, kh), (vb, vh) = _as_buffer(q, "q"), _as_buffer(k, "k"), _as_buffer(v, "v")
    left, right = _window(window)
    r = _core_call(_core.eval_attention, qb, kb, vb, [qh, kh, vh], layout,
                   _optional_float(scale, "scale"), _causal(causal, q, k, layout), left, right,
                   _optional_float(softcap, "softcap"))
    o_mid, o_rad = _array(r["o_mid"]), _array(r["o_rad"])
    if layout == "bshd":  # the core returns (B, H, L, dv)
        o_mid = np.ascontiguousarray(o_mid.transpose(0, 2, 1, 3))
        o_rad = np.ascontiguousarray(o_rad.transpose(0, 2, 1, 3))
    return AttentionEnclosure(o_mid, o_rad, _array(r["lse_mid"]), _array(r["lse_rad"]), layout,
                              int(r["ball_rows"]), int(r["masked_rows"]))


# ---- check_attention -----------------------------------------------------------------------


@dataclass
class AttentionElement:
    """One output element with the user's indices: ``o[batch, head, row, column]`` in logical
    (bhsd) terms; ``column`` is -1 for a log-sum-exp value. ``error`` = |value − truth_mid| +
    truth_rad is a certified upper bound on the true error (inf for NaN/inf values)."""

    batch: int
    head: int
    row: int
    column: int
    value: float
    truth_mid: float
    truth_rad: float
    error: float
    bound: float  # the class's guaranteed bound
    probabilistic_bound: float = 0.0  # the class's probabilistic bound

    def index(self, layout: str = "bhsd") -> Tuple[int, ...]:
        """The element's index in an array of ``layout`` (lse: (batch, head, row))."""
        if self.column < 0:
            return (self.batch, self.head, self.row)
        if layout == "bshd":
            return (self.batch, self.row, self.head, self.column)
        return (self.batch, self.head, self.row, self.column)

    @classmethod
    def _from_core(cls, e) -> "AttentionElement":
        return cls(int(e.batch), int(e.head), int(e.row), int(e.column), float(e.value),
                   float(e.truth_mid), float(e.truth_rad), float(e.error), float(e.bound),
                   float(e.probabilistic_bound))


@dataclass
class HeadReport:
    """The verdict on one (batch, head): max_error of O (certified), max_ratio = max error over
    the declared algorithm class's guaranteed bound, max_probabilistic_ratio = over its
    probabilistic bound, the naive same-precision reference's error and the rules' verdicts
    (the guaranteed bound, the probabilistic bound, FlashAttention's 2×naive + atol rule,
    no-worse-than-naive)."""

    batch: int
    head: int
    max_error: float
    max_ratio: float
    worst: AttentionElement
    naive_error: float
    atol: float
    fa_rule_pass: bool
    naive_rule_pass: bool
    bound_pass: bool
    passed: bool
    non_finite: int
    masked_rows: int
    refined_rows: int
    vacuous: bool
    vacuous_elements: int  # elements whose bound is infinite or trivial: the bound judges nothing there
    lse_max_error: Optional[float] = None
    lse_max_ratio: Optional[float] = None
    lse_worst: Optional[AttentionElement] = None
    seconds_truth: float = 0.0       # where the head's time went (on its worker)
    seconds_refinement: float = 0.0
    seconds_reference: float = 0.0
    seconds_bounds: float = 0.0
    max_probabilistic_ratio: float = 0.0
    probabilistic_worst: Optional[AttentionElement] = None
    probabilistic_pass: bool = False

    def rule_ratio(self, rule: str) -> float:
        """max error over the rule's threshold (≤ 1 passes): the guaranteed bound, the
        probabilistic bound, 2·naive + atol, naive + atol."""
        if rule in ("guaranteed", "bound"):
            return self.max_ratio
        if rule == "probabilistic":
            return self.max_probabilistic_ratio
        threshold = (2 * self.naive_error if rule == "flash" else self.naive_error) + self.atol
        if threshold > 0:
            return self.max_error / threshold
        return 0.0 if self.max_error == 0 else math.inf

    @classmethod
    def _from_core(cls, h) -> "HeadReport":
        return cls(int(h.batch), int(h.head), float(h.max_error), float(h.max_ratio),
                   AttentionElement._from_core(h.worst), float(h.naive_error), float(h.atol),
                   bool(h.fa_rule_pass), bool(h.naive_rule_pass), bool(h.bound_pass),
                   bool(h.passed), int(h.non_finite), int(h.masked_rows), int(h.refined_rows),
                   bool(h.vacuous), int(h.vacuous_elements),
                   None if h.lse_max_error is None else float(h.lse_max_error),
                   None if h.lse_max_ratio is None else float(h.lse_max_ratio),
                   None if h.lse_worst is None else AttentionElement._from_core(h.lse_worst),
                   float(h.seconds_truth), float(h.seconds_refinement), float(h.seconds_reference),
                   float(h.seconds_bounds), float(h.max_probabilistic_ratio),
                   AttentionElement._from_core(h.probabilistic_worst), bool(h.probabilistic_pass))


@dataclass
class AttentionCheck:
    """The result of check_attention: ``passed`` (every head passes ``rule``), per-head reports,
    the worst head and element, ``table()`` for people and ``to_dict()`` for JSON."""

    passed: bool
    heads: list
    rule: str
    algorithm: str
    dtype: str
    output_dtype: str
    layout: str
    seconds: float
    worst_head_index: int = 0
    false_alarm: float = 0.0  # δ: a correct kernel exceeds the probabilistic bound in this call
                              # with probability ≤ δ (independent mean-zero roundings)
    lambda_: float = 0.0      # its λ = √(2 ln(2m/δ)) over the m values checked

    def __bool__(self) -> bool:
        return self.passed

    @property
    def worst_head(self) -> HeadReport:
        """The head with the largest ratio to its threshold under ``rule`` (a failing head
        before any passing one)."""
        return self.heads[self.worst_head_index]

    @property
    def worst(self) -> AttentionElement:
        """The worst element of the worst head."""
        return self.worst_head.worst

    @property
    def failed_heads(self) -> list:
        return [h for h in self.heads if not h.passed]

    def describe_worst(self) -> str:
        """One line naming the worst element by ``rule``: index, value, truth, error and the
        bound that judges it (the guaranteed one — the worst log-sum-exp value instead when lse
        was given and is the worse of the two — or, under rule="probabilistic", the
        probabilistic one with its false-alarm probability)."""
        h = self.worst_head
        if self.rule == "probabilistic":
            e = h.probabilistic_worst
            array = "lse" if e.column < 0 else "o"
            index = ", ".join(str(i) for i in e.index(self.layout))
            return (f"{array}[{index}] = {e.value!r}, certified truth = {e.truth_mid!r} ± "
                    f"{e.truth_rad:.3g}, error = {e.error:.6g}, probabilistic bound = "
                    f"{e.probabilistic_bound:.6g} (ratio {_ratio_text(h.max_probabilistic_ratio)}; "
                    f"false-alarm probability <= {self.false_alarm:g} if the rounding errors are "
                    f"independent and mean-zero)")
        e, ratio, array = h.worst, h.max_ratio, "o"
        if h.lse_worst is not None and h.lse_max_ratio is not None and h.lse_max_ratio > h.max_ratio:
            e, ratio, array = h.lse_worst, h.lse_max_ratio, "lse"
        index = ", ".join(str(i) for i in e.index(self.layout))
        text = (f"{array}[{index}] = {e.value!r}, certified truth = {e.truth_mid!r} ± {e.truth_rad:.3g}, "
                f"error = {e.error:.6g}, guaranteed bound = {e.bound:.6g} (ratio {_ratio_text(ratio)})")
        if self.rule in ("guaranteed", "bound"):
            return text
        text += (f"; head max error {h.max_error:.6g} vs naive reference {h.naive_error:.6g} "
                 f"+ atol {h.atol:.3g} ({self.rule} rule ratio {_ratio_text(h.rule_ratio(self.rule))})")
        return text

    def table(self) -> str:
        """A per-head table (the same columns as `attncert check-attention`)."""
        with_lse = any(h.lse_max_ratio is not None for h in self.heads)
        rows = [("batch", "head", "max error", "g-ratio", "p-ratio", "naive error",
                 "FA 2x", "naive", "g-bound", "p-bound", "worst (row, col)")
                + (("lse ratio",) if with_lse else ()) + ("pass",)]
        for h in self.heads:
            lse_cell = (_ratio_text(h.lse_max_ratio) if h.lse_max_ratio is not None else "-",)
            rows.append((str(h.batch), str(h.head), f"{h.max_error:.3e}",
                         _ratio_text(h.max_ratio) + (" (vacuous)" if h.vacuous else ""),
                         _ratio_text(h.max_probabilistic_ratio),
                         f"{h.naive_error:.3e}", _yes(h.fa_rule_pass), _yes(h.naive_rule_pass),
                         _yes(h.bound_pass), _yes(h.probabilistic_pass),
                         f"({h.worst.row}, {h.worst.column})")
                        + (lse_cell if with_lse else ()) + ("PASS" if h.passed else "FAIL",))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
        failed = len(self.failed_heads)
        lines.append("")
        lines.append(f"{'PASS' if self.passed else 'FAIL'} by the {self.rule} rule: "
                     f"{len(self.heads) - failed}/{len(self.heads)} heads pass "
                     f"(dtype {self.dtype}, output {self.output_dtype}, {self.algorithm} class; "
                     f"{self.seconds:.2f} s)")
        lines.append("worst: " + self.describe_worst())
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def to_dict(self) -> dict:
        """Plain dict (JSON-serialisable; non-finite numbers as the strings 'inf'/'nan')."""
        def clean(x):
            if isinstance(x, float) and not math.isfinite(x):
                return str(x)
            if isinstance(x, dict):
                return {k: clean(v) for k, v in x.items()}
            if isinstance(x, list):
                return [clean(v) for v in x]
            return x

        def element(e):
            return None if e is None else dict(vars(e))

        heads = []
        for h in self.heads:
            d = dict(vars(h))
            d["worst"] = element(h.worst)
            d["lse_worst"] = element(h.lse_worst)
            d["probabilistic_worst"] = element(h.probabilistic_worst)
            heads.append(d)
        return clean({"passed": self.passed, "rule": self.rule, "algorithm": self.algorithm,
                      "dtype": self.dtype, "output_dtype": self.output_dtype,
                      "layout": self.layout, "seconds": self.seconds,
                      "false_alarm": self.false_alarm, "lambda": self.lambda_,
                      "worst": element(self.worst) if self.heads else None, "heads": heads})


def _ratio_text(x: float) -> str:
    return "inf" if math.isinf(x) else f"{x:.3g}"


def _yes(b: bool) -> str:
    return "pass" if b else "FAIL"


_DTYPE_NAMES = {"fp32": "fp32", "float32": "fp32", "f32": "fp32", "fp16": "fp16", "float16": "fp16",
                "f16": "fp16", "half": "fp16", "bf16": "bf16", "bfloat16": "bf16"}


def _dtype_name(x, name: str) -> Optional[str]:
    """'fp32'/'fp16'/'bf16' from a string, a numpy dtype or a torch dtype."""
    if x is None:
        return None
    text = str(x).replace("torch.", "")
    try:
        text = np.dtype(x).name if not isinstance(x, str) else text
    except TypeError:
        pass
    if text in _DTYPE_NAMES:
        return _DTYPE_NAMES[text]
    raise ValueError(f"{name} {x!r}: expected 'fp32', 'fp16' or 'bf16'")


def _inferred_dtype(buffer_object, is_bf16: bool) -> str:
    if is_bf16:
        return "bf16"
    name = np.asarray(buffer_object).dtype.name
    return {"float16": "fp16", "float32": "fp32"}.get(name, name)


def check_attention(o, q, k, v, *, lse=None, dtype=None, output_dtype=None,
                    algorithm: str = "flash", rule: str = "guaranteed",
                    false_alarm: float = 1e-6, block_k: int = 16,
                    scale: Optional[float] = None, causal: Optional[str] = None,
                    window=None, softcap: Optional[float] = None, layout: str = "bhsd",
                    jobs: int = 0) -> AttentionCheck:
    """Judge a kernel's output ``o`` (and optionally its log-sum-exp ``lse``) for inputs q, k, v.

    Per (batch, head): the certified error of ``o`` against the exact attention of the *given*
    inputs, its ratio to the a-priori error bound of a correct algorithm of the declared class,
    FlashAttention's rule (error ≤ 2 × a naive same-precision reference's error + atol) computed
    on the same inputs, and the worst element.

    Args:
        o: the kernel's output, same layout as q, (…, dv).
        q, k, v: the inputs exactly as the kernel read them (values must be representable in
            ``dtype``: a value that is not is a ValueError, not a silent rounding).
        lse: optional (batch, heads, seqlen_q) log-sum-exp (natural log, FlashAttention's
            softmax_lse).
        dtype: what the kernel read Q, K, V in: "fp32", "fp16", "bf16" (default: q's dtype;
            float64 q needs it said).
        output_dtype: what o was stored in (default: o's dtype when fp16/bf16; for a float32 or
            float64 o, the coarsest of bf16, fp16, fp32 that holds every value of o — a 16-bit
            kernel's output upcast; say it when you know it). A float64 o must hold fp32 values (else a ValueError).
        algorithm: "flash" (online softmax over key tiles, fp32 accumulation: FlashAttention 2/3,
            PyTorch's CPU flash kernel) or "three-pass" (S, softmax, P·V each stored in the
            input dtype: PyTorch's math path).
        rule: which test decides ``passed``: "guaranteed" (error ≤ the class's guaranteed bound;
            a certain verdict; "bound" is accepted for it), "probabilistic" (error ≤ the
            probabilistic bound: above it is a defect unless the rounding errors are
            correlated), "flash" (FlashAttention's 2× rule), "naive" (no worse than the naive
            reference). Every rule's verdict is in the result.
        false_alarm: δ in (0, 1): a correct kernel exceeds the probabilistic bound anywhere in
            the call with probability ≤ δ, if its rounding errors are independent and mean-zero.
        block_k: keys per tile of the flash class (smaller covers more kernels).
        scale, causal, window, softcap, layout: the problem, as eval_attention.
        jobs: heads checked in parallel (0: all cores).

    Returns:
        AttentionCheck (truthy when it passes); ``print(result.table())``.
    """
    layout = _layout(layout)
    if algorithm not in ("flash", "three-pass"):
        raise ValueError(f"algorithm {algorithm!r}: expected 'flash' or 'three-pass'")
    if rule not in ("guaranteed", "bound", "probabilistic", "flash", "naive"):
        raise ValueError(f"rule {rule!r}: expected 'guaranteed', 'probabilistic', 'flash' or "
                         f"'naive'")
    if rule == "bound":
        rule = "guaranteed"
    if isinstance(false_alarm, bool) or not isinstance(false_alarm, numbers.Real):
        raise ValueError(f"false_alarm {false_alarm!r}: expected a probability in (0, 1)")
    (ob, oh), (qb, qh), (kb, kh), (vb, vh) = (_as_buffer(o, "o"), _as_buffer(q, "q"),
                                              _as_buffer(k, "k"), _as_buffer(v, "v"))
    lb, lh = _as_buffer(lse, "lse") if lse is not None else (None, False)
    dtype = _dtype_name(dtype, "dtype")
    output_dtype = _dtype_name(output_dtype, "output_dtype")
    left, right = _window(window)
    r = _core_call(_core.check_attention, qb, kb, vb, ob, lb, [qh, kh, vh, oh, lh], layout,
                   _optional_float(scale, "scale"), _causal(causal, q, k, layout), left, right,
                   _optional_float(softcap, "softcap"), dtype, output_dtype, algorithm, rule,
                   float(false_alarm), int(block_k), int(jobs))
    return AttentionCheck(bool(r.passed), [HeadReport._from_core(h) for h in r.heads], rule,
                          algorithm, dtype or _inferred_dtype(qb, qh),
                          r.output_dtype, layout, float(r.seconds),
                          int(r.worst_head_index or 0), float(r.false_alarm), float(r.lambda_))


def assert_attention_close(o, q, k, v, **kwargs) -> AttentionCheck:
    """check_attention, raising AssertionError naming the worst element when it fails (for
    pytest: ``attncert.assert_attention_close(out, q, k, v, causal="top-left")``). Returns the
    result when it passes. Keyword arguments as check_attention."""
    result = check_attention(o, q, k, v, **kwargs)
    if not result.passed:
        failed = result.failed_heads
        raise AssertionError(
            f"attention output fails the {result.rule} rule in {len(failed)} of "
            f"{len(result.heads)} heads; worst: {result.describe_worst()}")
    return result


# ---- row functions -------------------------------------------------------------------------


@dataclass
class Enclosure:
    """Certified values: the exact value of each entry lies in [lower, upper] (outward-rounded
    doubles). ``mid`` is their midpoint, for display."""

    lower: np.ndarray
    upper: np.ndarray

    @property
    def mid(self) -> np.ndarray:
        return self.lower + (self.upper - self.lower) / 2

    @property
    def width(self) -> np.ndarray:
        return self.upper - self.lower

    def contains(self, x) -> bool:
        """Whether every entry of x lies in its interval."""
        x = np.asarray(x, dtype=np.float64)
        return bool(np.all((self.lower <= x) & (x <= self.upper)))


def _row_function(what: str, logits, T, precision: int) -> Enclosure:
    buffer_object, is_bf16 = _as_buffer(logits, "logits", allow_sequences=True)
    if isinstance(T, bool) or not isinstance(T, (int, float, str, np.floating, np.integer)):
        raise ValueError(f"T {T!r}: expected a number (or a decimal string such as '0.1', meant exactly)")
    T = T if isinstance(T, str) else float(T)
    r = _core_call(_core.row_function, what, buffer_object, is_bf16, T, int(precision))
    return Enclosure(_array(r["lower"]), _array(r["upper"]))


def softmax(logits, T: Union[float, str] = 1, *, precision: int = 128) -> Enclosure:
    """Certified softmax(logits / T) of a row (1-D) or of each row (2-D). -inf masks an entry.
    T may be a decimal string ("0.1" is exactly 1/10); a float is its exact binary value."""
    return _row_function("softmax", logits, T, precision)


def lse(logits, T: Union[float, str] = 1, *, precision: int = 128) -> Enclosure:
    """Certified log-sum-exp log Σ_j exp(l_j / T) of a row, or of each row (no factor T in
    front; as `attncert eval log_sum_exp`). -inf masks an entry."""
    return _row_function("lse", logits, T, precision)


def jacobian_norm(logits, T: Union[float, str] = 1, *, precision: int = 128) -> Enclosure:
    """Certified spectral norm of the Jacobian of softmax(l/T) with respect to l, per row."""
    return _row_function("jacobian_norm", logits, T, precision)


# ---- tensor files --------------------------------------------------------------------------


def _from_file(values: np.ndarray, type_name: str):
    """An array in the dtype the file stored (exact: the values are that dtype's)."""
    if type_name in ("float32", "float16"):
        return values.astype(type_name)
    if type_name == "bfloat16":  # no numpy bfloat16: its bit patterns, marked (bf16_bits)
        return bf16_bits((values.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16))
    return np.array(values)  # float64, and integers (exact in double: the reader checks)


def load_tensors(path: str) -> dict:
    """The tensors of a .safetensors file (or the one array of a .npy file) as
    {name: array}, each in the dtype the file stored: float64/32/16 numpy arrays, bfloat16 as
    ``bf16_bits`` (which check_attention reads as bf16). Integer tensors come as float64.
    The header is not trusted (sizes, offsets, overlaps are checked before reading)."""
    out = {}
    is_npy = False
    with open(path, "rb") as f:
        is_npy = f.read(6) == b"\x93NUMPY"
    entries = _core_call(_core.load_tensors, str(path), not is_npy)
    for name, type_name, values in entries:
        out[name] = _from_file(_array(values), type_name)
    return out


def save_tensors(path: str, tensors: dict) -> None:
    """Write {name: array} to a .safetensors file in each array's own dtype (numpy
    float16/32/64, torch fp16/bf16/fp32/fp64 on the CPU, ``bf16_bits``): e.g. a kernel's q, k,
    v, o captured inside a model, for `attncert check-attention --q FILE:q …` or load_tensors.
    The file is written atomically."""
    names, buffers, flags = [], [], []
    for name, x in tensors.items():
        b, is_bf16 = _as_buffer(x, str(name))
        names.append(str(name))
        buffers.append(b)
        flags.append(is_bf16)
    _core_call(_core.save_tensors, str(path), names, buffers, flags)


# ---- verify --------------------------------------------------------------------------------


@dataclass
class Verdict:
    """The verdict on one claim: ``verdict`` is "survived", "refuted", "inconclusive" or
    "proved" (as `attncert verify`); ``record`` is its full JSON record (results.jsonl)."""

    claim: str
    verdict: str
    record: dict = field(repr=False)

    @property
    def counterexample(self) -> Optional[dict]:
        return self.record.get("counterexample")

    def __bool__(self) -> bool:
        return self.verdict.lower() in ("survived", "proved")


def verify(expr: str, over: str, *, instances: Optional[int] = None,
           seconds: Optional[float] = None, seed: int = 1, jobs: int = 0,
           max_precision: int = 4096, prove: bool = False,
           prove_seconds: float = 20) -> list:
    """Search a conjecture's domain for counterexamples and certify the verdict, as
    ``attncert verify --expr EXPR --over DOMAIN`` (same grammar, same pipeline, same seed →
    same result). Budget: ``instances`` (default 8000) or ``seconds``. ``prove=True`` also tries
    to prove it over a bounded domain. Returns a list of Verdict (one for a conjecture).

    Ctrl-C: verify has no cancellation hook; an interrupt takes effect when it returns."""
    if instances is not None and seconds is not None:
        raise ValueError("give instances or seconds, not both")
    if not isinstance(expr, str) or not isinstance(over, str):
        raise ValueError("expr and over must be strings")
    try:
        records = _core_call(_core.verify, expr, over, instances, seconds, int(seed), int(jobs),
                             int(max_precision), bool(prove), float(prove_seconds))
    except ValueError as e:  # the CLI's option names → the arguments' names
        text = str(e)
        for flag, arg in (("--expr:", "expr:"), ("--over:", "over:")):
            if text.startswith(flag):
                text = arg + text[len(flag):]
        raise ValueError(text) from None
    out = []
    for line in records:
        record = json.loads(line)
        out.append(Verdict(record.get("claim", ""), record.get("verdict", ""), record))
    return out
