"""Shared helpers of the Python tests: reference attention in numpy, seeds, skips."""

import os
import random
import unittest

import numpy as np

import attncert


def seeded_rng(test: unittest.TestCase, default: int = 12) -> np.random.Generator:
    """A generator whose seed is printed (ATTNCERT_TEST_SEED overrides it to reproduce)."""
    seed = int(os.environ.get("ATTNCERT_TEST_SEED", default))
    print(f"\n{test.id()}: seed {seed} (reproduce with ATTNCERT_TEST_SEED={seed})")
    random.seed(seed)
    return np.random.default_rng(seed)


def visible(Lq: int, Lk: int, causal=None, window=None) -> np.ndarray:
    """Boolean Lq×Lk: which keys each query sees (key_visibility.hpp's rule, written again)."""
    i = np.arange(Lq)[:, None]
    j = np.arange(Lk)[None, :]
    diagonal = i + (Lk - Lq if causal != "top-left" else 0)
    ok = np.ones((Lq, Lk), dtype=bool)
    if causal is not None:
        ok &= j <= diagonal
    if window is not None:
        left, right = window
        if left is not None and left >= 0:
            ok &= j >= diagonal - left
        if right is not None and right >= 0:
            ok &= j <= diagonal + right
    return ok


def numpy_attention(q, k, v, *, scale=None, causal=None, window=None, softcap=None,
                    dtype=np.float64):
    """softmax(scale·QKᵀ)·V computed the obvious way in `dtype`, (B, H, L, d) layout, GQA.
    Returns (O, lse) in `dtype` (lse in float64 from the same scores)."""
    q, k, v = (np.asarray(x, dtype=dtype) for x in (q, k, v))
    B, H, Lq, d = q.shape
    Hkv, Lk = k.shape[1], k.shape[2]
    group = H // Hkv
    k = np.repeat(k, group, axis=1)
    v = np.repeat(v, group, axis=1)
    s = dtype(scale if scale is not None else 1 / np.sqrt(d))
    scores = (q @ np.swapaxes(k, -1, -2)) * s
    if softcap is not None:
        scores = dtype(softcap) * np.tanh(scores / dtype(softcap))
    mask = visible(Lq, Lk, causal, window)
    scores = np.where(mask, scores, dtype(-np.inf))
    m = scores.max(axis=-1, keepdims=True)
    m = np.where(np.isfinite(m), m, dtype(0))
    p = np.exp(scores - m)
    total = p.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        o = np.where(total > 0, (p / np.where(total > 0, total, 1)) @ v, dtype(0))
        lse = np.where(total[..., 0] > 0, np.log(total[..., 0].astype(np.float64)) + m[..., 0], -np.inf)
    return o.astype(dtype), lse


def torch_or_none():
    try:
        import torch  # noqa: F401
    except Exception:  # not installed, or broken
        return None
    return torch
