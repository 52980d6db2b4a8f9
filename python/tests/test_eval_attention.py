"""eval_attention: the enclosure contains the exact attention; conventions (layouts, both causal
alignments, windows, GQA, fully masked rows) agree with a numpy reference written here."""

import unittest

import numpy as np

import attncert
from support import numpy_attention, seeded_rng


def reference_error_allowance(q, k, v, o_ref):
    """How far numpy's float64 attention may be from the exact one: scores carry d·eps·|q||k|
    relative error, exp/sum/divide a few eps, P·V an Lk·eps·max|v| term; 64·(d + Lk)·eps·max|v|
    covers them with a wide margin for these small, O(1) inputs."""
    d, Lk = q.shape[-1], k.shape[-2]
    return 64 * (d + Lk) * np.finfo(float).eps * max(1.0, float(np.abs(v).max()))


class EvalAttention(unittest.TestCase):
    def assert_encloses(self, enc, o_ref, lse_ref, allowance):
        gap = np.abs(o_ref - enc.o_mid) - enc.o_rad
        self.assertLessEqual(float(gap.max()), allowance)
        masked = np.isneginf(lse_ref)
        np.testing.assert_array_equal(np.isneginf(enc.lse_mid), masked)
        lgap = np.abs(np.where(masked, 0, lse_ref - np.where(masked, 0, enc.lse_mid))) - enc.lse_rad
        self.assertLessEqual(float(lgap.max()), allowance)

    def test_contains_numpys_float64_attention(self):
        rng = seeded_rng(self)
        q = rng.normal(size=(2, 3, 5, 8))
        k = rng.normal(size=(2, 3, 7, 8))
        v = rng.normal(size=(2, 3, 7, 4))
        enc = attncert.eval_attention(q, k, v)
        o_ref, lse_ref = numpy_attention(q, k, v)
        self.assertEqual(enc.o_mid.shape, (2, 3, 5, 4))
        self.assertEqual(enc.lse_mid.shape, (2, 3, 5))
        self.assert_encloses(enc, o_ref, lse_ref, reference_error_allowance(q, k, v, o_ref))
        # The radius is tiny (the fast tier: ~1e-13 relative at most) but not zero.
        self.assertTrue(np.all(enc.o_rad > 0) and float(enc.o_rad.max()) < 1e-12)
        # A deliberately wrong value is outside.
        wrong = o_ref.copy()
        wrong[1, 2, 4, 3] += 1e-9
        self.assertTrue(enc.contains(enc.o_mid))
        self.assertFalse(enc.contains(wrong))

    def test_known_value_uniform_weights(self):
        # Identical keys: every weight is 1/Lk, O is the mean of V's rows, lse = log Lk + s.
        q = np.ones((1, 1, 2, 4))
        k = np.ones((1, 1, 3, 4))
        v = np.arange(6, dtype=np.float64).reshape(1, 1, 3, 2)  # rows (0,1), (2,3), (4,5)
        enc = attncert.eval_attention(q, k, v, scale=0.5)
        self.assertTrue(enc.contains(np.array([[[[2.0, 3.0], [2.0, 3.0]]]])))
        self.assertTrue(np.all(np.abs(enc.lse_mid - (np.log(3) + 2.0)) <= enc.lse_rad + 4e-16))

    def test_causal_alignments_windows_and_layouts(self):
        rng = seeded_rng(self)
        Lq, Lk = 4, 7  # Lq != Lk: the two alignments differ
        q = rng.normal(size=(1, 2, Lq, 8)).astype(np.float32)
        k = rng.normal(size=(1, 2, Lk, 8)).astype(np.float32)
        v = rng.normal(size=(1, 2, Lk, 8)).astype(np.float32)
        cases = [("top-left", None), ("bottom-right", None), (None, (2, 0)), ("bottom-right", (1, None)),
                 (None, (0, 1))]
        for causal, window in cases:
            with self.subTest(causal=causal, window=window):
                enc = attncert.eval_attention(q, k, v, causal=causal, window=window)
                o_ref, lse_ref = numpy_attention(q, k, v, causal=causal, window=window)
                self.assert_encloses(enc, o_ref, lse_ref, reference_error_allowance(q, k, v, o_ref))
                # bshd: the same problem transposed gives the same numbers transposed.
                t = lambda x: np.ascontiguousarray(x.transpose(0, 2, 1, 3))
                enc2 = attncert.eval_attention(t(q), t(k), t(v), causal=causal, window=window, layout="bshd")
                np.testing.assert_array_equal(enc2.o_mid, t(enc.o_mid))
                np.testing.assert_array_equal(enc2.lse_mid, enc.lse_mid)
        top = attncert.eval_attention(q, k, v, causal="top-left")
        bottom = attncert.eval_attention(q, k, v, causal="bottom-right")
        self.assertFalse(np.allclose(top.o_mid, bottom.o_mid))

    def test_softcap(self):
        rng = seeded_rng(self)
        q = rng.normal(size=(1, 2, 6, 8)) * 3  # logits of a few units: the cap matters
        k = rng.normal(size=(1, 2, 6, 8)) * 3
        v = rng.normal(size=(1, 2, 6, 8))
        for cap in (0.5, 5.0, 1e30):
            with self.subTest(softcap=cap):
                enc = attncert.eval_attention(q, k, v, softcap=cap, causal="bottom-right")
                o_ref, lse_ref = numpy_attention(q, k, v, softcap=cap, causal="bottom-right")
                self.assert_encloses(enc, o_ref, lse_ref, reference_error_allowance(q, k, v, o_ref))
        # A cap of 1e30 is no cap; a cap of 0.5 is not.
        none = attncert.eval_attention(q, k, v)
        huge = attncert.eval_attention(q, k, v, softcap=1e30)
        self.assertLessEqual(float(np.abs(huge.o_mid - none.o_mid).max()), 1e-13)
        self.assertFalse(np.allclose(none.o_mid, attncert.eval_attention(q, k, v, softcap=0.5).o_mid))
        with self.assertRaisesRegex(ValueError, "softcap"):
            attncert.eval_attention(q, k, v, softcap=0.0)

    def test_fully_masked_rows_are_zero_with_lse_minus_inf(self):
        rng = seeded_rng(self)
        q = rng.normal(size=(1, 1, 5, 4))
        k = rng.normal(size=(1, 1, 3, 4))
        v = rng.normal(size=(1, 1, 3, 4))
        # bottom-right with Lq = 5 > Lk = 3: rows 0 and 1 see no key.
        enc = attncert.eval_attention(q, k, v, causal="bottom-right")
        np.testing.assert_array_equal(enc.o_mid[0, 0, :2], 0)
        np.testing.assert_array_equal(enc.o_rad[0, 0, :2], 0)
        self.assertTrue(np.all(np.isneginf(enc.lse_mid[0, 0, :2])))
        self.assertTrue(np.all(np.isfinite(enc.lse_mid[0, 0, 2:])))
        self.assertEqual(enc.masked_rows, 2)

    def test_gqa(self):
        rng = seeded_rng(self)
        q = rng.normal(size=(1, 4, 3, 8))
        k = rng.normal(size=(1, 2, 5, 8))
        v = rng.normal(size=(1, 2, 5, 8))
        enc = attncert.eval_attention(q, k, v)
        o_ref, lse_ref = numpy_attention(q, k, v)
        self.assert_encloses(enc, o_ref, lse_ref, reference_error_allowance(q, k, v, o_ref))

    def test_bad_input(self):
        z = np.zeros((1, 2, 3, 4))
        cases = [
            (dict(q=np.zeros((1, 2, 3, 5)), k=z, v=z), "head_dim"),
            (dict(q=z, k=np.zeros((1, 3, 3, 4)), v=np.zeros((1, 3, 3, 4))), "divide"),
            (dict(q=z, k=z, v=np.zeros((1, 2, 4, 4))), "keys"),
            (dict(q=np.zeros((2, 3, 4)), k=z, v=z), "dimensions"),
            (dict(q=np.zeros((2, 2, 3, 4)), k=z, v=z), "batch"),
        ]
        for kw, words in cases:
            with self.subTest(words=words):
                with self.assertRaisesRegex(ValueError, words):
                    attncert.eval_attention(**kw)
        nan = z.copy()
        nan[0, 1, 2, 3] = np.nan
        with self.assertRaisesRegex(ValueError, "NaN"):
            attncert.eval_attention(nan, z, z)
        with self.assertRaisesRegex(ValueError, "layout"):
            attncert.eval_attention(z, z, z, layout="sbhd")
        with self.assertRaisesRegex(ValueError, "ambiguous"):  # Lq = 2 ≠ Lk = 3
            attncert.eval_attention(np.ascontiguousarray(z[:, :, :2]), z, z, causal=True)
        with self.assertRaisesRegex(ValueError, "causal"):
            attncert.eval_attention(z, z, z, causal="diagonal")
        with self.assertRaisesRegex(ValueError, "window"):
            attncert.eval_attention(z, z, z, window=(-2, 0))
        with self.assertRaisesRegex(ValueError, "scale"):
            attncert.eval_attention(z, z, z, scale=float("inf"))


if __name__ == "__main__":
    unittest.main()
