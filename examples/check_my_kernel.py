#!/usr/bin/env python3
"""Check an attention kernel's output against certified truth with attncert.

Copy this file and replace `my_kernel` with your kernel (FlashAttention, xFormers, a Triton or
CUDA kernel, a model's attention layer). attncert computes the exact attention of the inputs
your kernel was given and tells you, per head, how far the output is from it, compared with
the error a correct fp32/fp16/bf16 kernel of that kind may make, and with FlashAttention's own
test rule (error ≤ 2 × the error of a naive same-precision reference).

    PYTHONPATH=build/python python3 examples/check_my_kernel.py            # demo tensors
    python3 examples/check_my_kernel.py --small --save capture.safetensors # quick, and keep them
    python3 examples/check_my_kernel.py --load capture.safetensors --causal top-left

Without torch it uses a numpy attention as the "kernel". To capture tensors inside a model,
call save_for_attncert("capture.safetensors", q, k, v, o) next to the attention call (GPU
tensors are moved to the CPU; bf16 stays bf16). The same file works with the CLI:
`attncert check-attention --q capture.safetensors:q --k …:k --v …:v --o …:o`.
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


def save_for_attncert(path, q, k, v, o, lse=None):
    """Save a kernel's inputs and output (torch tensors on any device, or numpy arrays) to a
    .safetensors file, each in its own dtype (bf16 included)."""
    tensors = {"q": q, "k": k, "v": v, "o": o}
    if lse is not None:
        tensors["lse"] = lse
    for name, x in tensors.items():
        if torch is not None and isinstance(x, torch.Tensor):
            tensors[name] = x.detach().cpu().contiguous()
    attncert.save_tensors(path, tensors)


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
    parser.add_argument("--load", help="a .safetensors file with q, k, v, o (and lse), e.g. "
                        "from save_for_attncert")
    parser.add_argument("--save", help="also save the demo's tensors to this .safetensors file")
    parser.add_argument("--small", action="store_true", help="a small demo problem (seconds)")
    parser.add_argument("--causal", choices=["none", "top-left", "bottom-right"], default="top-left")
    parser.add_argument("--layout", choices=["bhsd", "bshd"], default="bhsd")
    parser.add_argument("--rule", choices=["guaranteed", "probabilistic", "flash", "naive"],
                        default="guaranteed")
    parser.add_argument("--algorithm", choices=["flash", "three-pass"], default="flash")
    args = parser.parse_args()
    causal = None if args.causal == "none" else args.causal

    if args.load:
        t = attncert.load_tensors(args.load)
        missing = [n for n in ("q", "k", "v", "o") if n not in t]
        if missing:
            sys.exit(f"{args.load}: no tensor named {', '.join(missing)} (it has {', '.join(t)})")
        q, k, v, o, lse = t["q"], t["k"], t["v"], t["o"], t.get("lse")
    else:
        size = (1, 2, 64, 32) if args.small else (1, 8, 1024, 64)
        q, k, v = demo_tensors(*size)
        lse = None
        o = my_kernel(q, k, v, causal)
        print(f"kernel: {'torch ' + torch.__version__ + ' SDPA (CPU)' if torch else 'numpy fp32'}; "
              f"q {tuple(q.shape)} {q.dtype}, causal {causal}")
        if args.save:
            save_for_attncert(args.save, q, k, v, o)

    result = attncert.check_attention(o, q, k, v, lse=lse, causal=causal, layout=args.layout,
                                      rule=args.rule, algorithm=args.algorithm)
    print(result.table())
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
