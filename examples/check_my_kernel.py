#!/usr/bin/env python3
"""Check an attention kernel's output against certified truth with attncert.

Copy this file and replace `my_kernel` with your kernel (FlashAttention, xFormers, a Triton or
CUDA kernel, a model's attention layer). attncert computes the exact attention of the inputs
your kernel was given and tells you, per head, how far the output is from it, compared with
the error a correct fp32/fp16/bf16 kernel of that kind may make, and with FlashAttention's own
test rule (error ≤ 2 × the error of a naive same-precision reference).

    PYTHONPATH=build/python python3 examples/check_my_kernel.py            # demo tensors
    python3 examples/check_my_kernel.py --load captured.npz                # tensors you saved
    python3 examples/check_my_kernel.py --small                            # a quick run

Without torch it uses a numpy attention as the "kernel". To capture tensors inside a model,
call save_for_attncert("captured.npz", q, k, v, o) next to the attention call (GPU tensors are
moved to the CPU; bf16 is stored as its bit patterns, which .npz cannot hold otherwise).
Exit status: 0 when every head passes, 1 otherwise (usable in CI).
"""

import argparse
import sys

import numpy as np

import attncert

try:  # torch is optional: the demo falls back to numpy
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = None


def save_for_attncert(path, q, k, v, o, lse=None, causal=None, layout="bhsd"):
    """Save a kernel's inputs and output (torch tensors or numpy arrays) to an .npz file."""
    arrays, dtype = {}, None
    for name, x in (("q", q), ("k", k), ("v", v), ("o", o), ("lse", lse)):
        if x is None:
            continue
        if torch is not None and isinstance(x, torch.Tensor):
            x = x.detach().cpu().contiguous()
            if x.dtype == torch.bfloat16:
                arrays[name + "_bf16_bits"] = x.view(torch.int16).numpy()
                continue
            x = x.numpy()
        arrays[name] = np.ascontiguousarray(x)
    np.savez(path, causal=str(causal), layout=layout, **arrays)


def load_for_attncert(path):
    """({name: array}, causal, layout) from save_for_attncert's file (bf16 as bit patterns
    wrapped in attncert.bf16_bits: no torch needed to check them)."""
    f = np.load(path)
    out = {}
    for name in ("q", "k", "v", "o", "lse"):
        if name in f:
            out[name] = f[name]
        elif name + "_bf16_bits" in f:  # bfloat16: its bit patterns, marked as such
            out[name] = attncert.bf16_bits(f[name + "_bf16_bits"])
    causal = str(f["causal"])
    return out, (None if causal == "None" else causal), str(f["layout"])


def my_kernel(q, k, v, causal):
    """The kernel under test. Replace this with yours (it must return O for q, k, v)."""
    if torch is not None:
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal is not None)
    # numpy fallback: the obvious float32 attention (causal: top-left, as PyTorch's is_causal)
    scores = (q @ np.swapaxes(k, -1, -2)) * np.float32(1 / np.sqrt(q.shape[-1]))
    if causal is not None:
        Lq, Lk = scores.shape[-2:]
        scores = np.where(np.tril(np.ones((Lq, Lk), dtype=bool)), scores, np.float32(-np.inf))
    p = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return ((p / p.sum(axis=-1, keepdims=True)) @ v).astype(q.dtype)


def demo_tensors(batch, heads, seqlen, head_dim, seed=0):
    rng = np.random.default_rng(seed)
    q, k, v = (rng.normal(size=(batch, heads, seqlen, head_dim)).astype(np.float32) for _ in range(3))
    if torch is not None:  # what a model would hand its kernel: bf16 tensors
        return [torch.from_numpy(x).to(torch.bfloat16) for x in (q, k, v)]
    return [q, k, v]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load", help="an .npz written by save_for_attncert")
    parser.add_argument("--small", action="store_true", help="a small demo problem (seconds)")
    parser.add_argument("--causal", choices=["top-left", "bottom-right"], default="top-left")
    parser.add_argument("--rule", choices=["bound", "flash", "naive"], default="bound")
    parser.add_argument("--algorithm", choices=["flash", "three-pass"], default="flash")
    args = parser.parse_args()

    if args.load:
        t, causal, layout = load_for_attncert(args.load)
        q, k, v, o, lse = t["q"], t["k"], t["v"], t["o"], t.get("lse")
    else:
        size = (1, 2, 64, 32) if args.small else (1, 8, 1024, 64)
        q, k, v = demo_tensors(*size)
        causal, layout, lse = args.causal, "bhsd", None
        o = my_kernel(q, k, v, causal)
        print(f"kernel: {'torch ' + torch.__version__ + ' SDPA (CPU)' if torch else 'numpy fp32'}; "
              f"q {tuple(q.shape)} {q.dtype}, causal {causal}")

    result = attncert.check_attention(o, q, k, v, lse=lse, causal=causal, layout=layout,
                                      rule=args.rule, algorithm=args.algorithm)
    print(result.table())
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
