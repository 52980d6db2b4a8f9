"""A real client: third-party attention implementations checked through the module, with none
of attncert's code in the loop — numpy's attention computed the obvious way in float16/float32,
and (when torch is importable) PyTorch's CPU scaled_dot_product_attention in fp32/bf16/fp16,
causal and not. Prints which rules each passes; ATTNCERT_REAL_CLIENT_JSON=FILE saves the table.

What must hold (asserted): every correct implementation's output passes the a-priori bound of
its algorithm class (numpy: three-pass; PyTorch's CPU kernel: flash), and the same output under
the other causal alignment (a wrong-mask bug) fails."""

import json
import os
import unittest

import numpy as np

import attncert
from support import numpy_attention, seeded_rng, torch_or_none

B, H, LQ, LK, D = 1, 4, 96, 160, 64  # Lq != Lk: the causal alignments differ
RESULTS = []


def record(implementation, dtype, causal, algorithm, result):
    h = result.worst_head
    row = {"implementation": implementation, "dtype": dtype, "causal": causal or "none",
           "class": algorithm, "bound": all(x.bound_pass for x in result.heads),
           "fa_rule": all(x.fa_rule_pass for x in result.heads),
           "naive_rule": all(x.naive_rule_pass for x in result.heads),
           "max_ratio": max(x.max_ratio for x in result.heads),
           "max_error": max(x.max_error for x in result.heads),
           "naive_error": max(x.naive_error for x in result.heads),
           "seconds": result.seconds}
    RESULTS.append(row)
    return row


def print_table():
    if not RESULTS:
        return
    print("\nimplementation       dtype causal        class       bound FA-2x naive  max ratio  max error  naive error")
    for r in RESULTS:
        print(f"{r['implementation']:<20} {r['dtype']:<5} {r['causal']:<13} {r['class']:<11} "
              f"{'pass' if r['bound'] else 'FAIL':<5} {'pass' if r['fa_rule'] else 'FAIL':<5} "
              f"{'pass' if r['naive_rule'] else 'FAIL':<5}  {r['max_ratio']:9.3g}  {r['max_error']:9.3g}  "
              f"{r['naive_error']:9.3g}")
    path = os.environ.get("ATTNCERT_REAL_CLIENT_JSON")
    if path:
        with open(path, "w") as f:
            json.dump(RESULTS, f, indent=1)


def tearDownModule():
    print_table()


def numpy_attention_in(dtype, q, k, v, causal):
    """The obvious way, every step in `dtype` (what a user's numpy reference does)."""
    q, k, v = (x.astype(dtype) for x in (q, k, v))
    scores = (q @ np.swapaxes(k, -1, -2)) * dtype(1 / np.sqrt(q.shape[-1]))
    if causal is not None:
        i = np.arange(LQ)[:, None]
        j = np.arange(LK)[None, :]
        shift = LK - LQ if causal == "bottom-right" else 0
        scores = np.where(j <= i + shift, scores, dtype(-np.inf))
    scores = scores - scores.max(axis=-1, keepdims=True)
    p = np.exp(scores)
    p = p / p.sum(axis=-1, keepdims=True)
    return (p @ v).astype(dtype)


class NumpyClient(unittest.TestCase):
    def test_numpy_float32_and_float16(self):
        rng = seeded_rng(self)
        base = [rng.normal(size=s) for s in ((B, H, LQ, D), (B, H, LK, D), (B, H, LK, D))]
        for dtype, name in ((np.float32, "fp32"), (np.float16, "fp16")):
            q, k, v = (x.astype(dtype) for x in base)  # the inputs the "kernel" read
            for causal in (None, "top-left"):
                o = numpy_attention_in(dtype, q, k, v, causal)
                for algorithm in ("three-pass", "flash"):
                    r = attncert.check_attention(o, q, k, v, causal=causal, algorithm=algorithm)
                    row = record("numpy", name, causal, algorithm, r)
                    if algorithm == "three-pass":
                        with self.subTest(dtype=name, causal=causal):
                            self.assertTrue(row["bound"], r.table())
                if causal is not None:
                    wrong = attncert.check_attention(o, q, k, v, causal="bottom-right",
                                                     algorithm="three-pass")
                    self.assertFalse(wrong.passed, "a top-left mask judged as bottom-right must fail")


@unittest.skipIf(torch_or_none() is None, "torch is not installed (CI has no torch): PyTorch SDPA "
                 "is checked only where it is importable")
class TorchClient(unittest.TestCase):
    def test_pytorch_cpu_sdpa(self):
        import torch
        import torch.nn.functional as F
        rng = seeded_rng(self)
        torch.manual_seed(0)
        base = [torch.from_numpy(rng.normal(size=s).astype(np.float32))
                for s in ((B, H, LQ, D), (B, H, LK, D), (B, H, LK, D))]
        for dtype, name in ((torch.float32, "fp32"), (torch.bfloat16, "bf16"), (torch.float16, "fp16")):
            q, k, v = (x.to(dtype).contiguous() for x in base)
            for causal in (None, "top-left"):
                with torch.no_grad():
                    o = F.scaled_dot_product_attention(q, k, v, is_causal=causal is not None).contiguous()
                for algorithm in ("flash", "three-pass"):
                    r = attncert.check_attention(o, q, k, v, causal=causal, algorithm=algorithm)
                    row = record("torch-sdpa-cpu " + torch.__version__.split("+")[0], name, causal, algorithm, r)
                    if algorithm == "flash":
                        with self.subTest(dtype=name, causal=causal):
                            self.assertTrue(row["bound"], r.table())
                if causal is not None:
                    wrong = attncert.check_attention(o, q, k, v, causal="bottom-right")
                    self.assertFalse(wrong.passed)


if __name__ == "__main__":
    unittest.main()
