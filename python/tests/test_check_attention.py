"""check_attention / assert_attention_close: a correct output passes, a wrong one fails and the
failure names the element."""

import json
import unittest

import numpy as np

import attncert
from support import numpy_attention, seeded_rng


def fp32_inputs(rng, shape_q, shape_kv):
    """Inputs exactly representable in fp32 (held as float32)."""
    q = rng.normal(size=shape_q).astype(np.float32)
    k = rng.normal(size=shape_kv).astype(np.float32)
    v = rng.normal(size=shape_kv).astype(np.float32)
    return q, k, v


class CheckAttention(unittest.TestCase):
    def test_numpys_float64_attention_passes(self):
        rng = seeded_rng(self)
        q, k, v = fp32_inputs(rng, (1, 2, 6, 8), (1, 2, 9, 8))
        for causal in (None, "top-left", "bottom-right"):
            with self.subTest(causal=causal):
                # numpy's float64 attention rounded once to fp32: error ≤ half an fp32 ulp plus
                # float64's, far inside the fp32 class bound.
                o, lse = numpy_attention(q, k, v, causal=causal)
                o, lse = o.astype(np.float32), lse.astype(np.float32)
                r = attncert.check_attention(o, q, k, v, lse=lse, causal=causal)
                self.assertTrue(r.passed, r.table())
                self.assertTrue(r)
                self.assertEqual(len(r.heads), 2)
                self.assertEqual(r.dtype, "fp32")
                self.assertEqual(r.output_dtype, "fp32")
                self.assertLess(r.worst_head.max_ratio, 1.0)
                self.assertIn("PASS", r.table())
                json.dumps(r.to_dict())
                attncert.assert_attention_close(o, q, k, v, causal=causal)

    def test_windows_gqa_softcap_scale_pass_and_a_wrong_window_fails(self):
        rng = seeded_rng(self)
        q, k, v = fp32_inputs(rng, (1, 4, 7, 8), (1, 2, 11, 8))  # GQA: 2 kv heads for 4
        for kw in (dict(window=(3, 0)), dict(window=(2, 2), causal="bottom-right"),
                   dict(softcap=2.0, causal="top-left"), dict(scale=0.25)):
            with self.subTest(**kw):
                o, lse = numpy_attention(q, k, v, **kw)
                o, lse = o.astype(np.float32), lse.astype(np.float32)
                r = attncert.check_attention(o, q, k, v, lse=lse, **kw)
                self.assertTrue(r.passed, r.table())
        o, _ = numpy_attention(q, k, v, window=(3, 0))
        self.assertFalse(attncert.check_attention(o.astype(np.float32), q, k, v, window=(4, 0)).passed)

    def test_probabilistic_rule_and_its_false_alarm_probability(self):
        # numpy's float64 attention rounded once to fp32 is far inside both bounds; an element
        # moved by 1e-2 (~10⁵ fp32 ulps of an O(1) value) exceeds both and is named.
        rng = seeded_rng(self)
        q, k, v = fp32_inputs(rng, (1, 2, 6, 8), (1, 2, 9, 8))
        o, _ = numpy_attention(q, k, v)
        o = o.astype(np.float32)
        r = attncert.check_attention(o, q, k, v, rule="probabilistic", false_alarm=1e-3)
        self.assertTrue(r.passed, r.table())
        self.assertEqual(r.rule, "probabilistic")
        self.assertEqual(r.false_alarm, 1e-3)
        self.assertGreater(r.lambda_, 0)
        for h in r.heads:
            self.assertTrue(h.probabilistic_pass)
            self.assertLessEqual(h.max_probabilistic_ratio, 1.0)
            # The probabilistic bound never exceeds the guaranteed one.
            self.assertLessEqual(h.probabilistic_worst.probabilistic_bound,
                                 h.probabilistic_worst.bound)
        self.assertEqual(attncert.check_attention(o, q, k, v, rule="bound").rule, "guaranteed")
        bad = o.copy()
        bad[0, 1, 4, 3] += 1e-2
        r = attncert.check_attention(bad, q, k, v, rule="probabilistic")
        self.assertFalse(r.passed)
        self.assertEqual(r.worst_head.probabilistic_worst.index(), (0, 1, 4, 3))
        self.assertIn("false-alarm probability", r.describe_worst())

    def test_wrong_element_fails_and_is_named(self):
        rng = seeded_rng(self)
        q, k, v = fp32_inputs(rng, (2, 3, 5, 8), (2, 3, 5, 8))
        o, _ = numpy_attention(q, k, v)
        o = o.astype(np.float32)
        truth = float(o[1, 2, 3, 4])
        o[1, 2, 3, 4] += 1e-2
        r = attncert.check_attention(o, q, k, v)
        self.assertFalse(r.passed)
        self.assertEqual([(h.batch, h.head) for h in r.failed_heads], [(1, 2)])
        w = r.worst
        self.assertEqual((w.batch, w.head, w.row, w.column), (1, 2, 3, 4))
        self.assertEqual(w.value, float(o[1, 2, 3, 4]))
        self.assertAlmostEqual(w.truth_mid, truth, delta=1e-6)
        self.assertGreater(w.error, w.bound)
        with self.assertRaisesRegex(AssertionError, r"worst: o\[1, 2, 3, 4\] = "):
            attncert.assert_attention_close(o, q, k, v)

    def test_wrong_lse_fails_and_is_named(self):
        rng = seeded_rng(self)
        q, k, v = fp32_inputs(rng, (1, 2, 5, 8), (1, 2, 5, 8))
        o, lse = numpy_attention(q, k, v)
        o, lse = o.astype(np.float32), lse.astype(np.float32)
        self.assertTrue(attncert.check_attention(o, q, k, v, lse=lse).passed)
        lse[0, 1, 3] += np.float32(0.01)  # O itself stays correct
        r = attncert.check_attention(o, q, k, v, lse=lse)
        self.assertFalse(r.passed)
        self.assertEqual((r.worst_head.batch, r.worst_head.head), (0, 1))
        self.assertEqual(r.worst_head.lse_worst.row, 3)
        with self.assertRaisesRegex(AssertionError, r"worst: lse\[0, 1, 3\] = "):
            attncert.assert_attention_close(o, q, k, v, lse=lse)

    def test_bshd_names_the_element_in_bshd_order(self):
        rng = seeded_rng(self)
        q, k, v = fp32_inputs(rng, (1, 4, 2, 8), (1, 4, 2, 8))  # (B, S, H, D)
        t = lambda x: np.ascontiguousarray(x.transpose(0, 2, 1, 3))
        o, _ = numpy_attention(t(q), t(k), t(v))
        o = t(o).astype(np.float32)  # back to bshd
        o[0, 3, 1, 5] = -o[0, 3, 1, 5] - 1
        with self.assertRaisesRegex(AssertionError, r"o\[0, 3, 1, 5\]"):
            attncert.assert_attention_close(o, q, k, v, layout="bshd")

    def test_nan_in_output_is_a_violation_with_its_index(self):
        rng = seeded_rng(self)
        q, k, v = fp32_inputs(rng, (1, 1, 4, 8), (1, 1, 4, 8))
        o, _ = numpy_attention(q, k, v)
        o = o.astype(np.float32)
        o[0, 0, 2, 6] = np.nan
        r = attncert.check_attention(o, q, k, v)
        self.assertFalse(r.passed)
        self.assertEqual(r.heads[0].non_finite, 1)
        self.assertEqual((r.worst.row, r.worst.column), (2, 6))

    def test_bad_input(self):
        rng = seeded_rng(self)
        q, k, v = fp32_inputs(rng, (1, 1, 4, 8), (1, 1, 4, 8))
        o = np.zeros_like(q)
        with self.assertRaisesRegex(ValueError, "^o has shape"):
            attncert.check_attention(np.zeros((1, 1, 4, 7), np.float32), q, k, v)
        with self.assertRaisesRegex(ValueError, "float64, float32, float32: pass dtype"):
            attncert.check_attention(o, q.astype(np.float64), k, v)
        with self.assertRaisesRegex(ValueError, "q is float64: pass dtype"):
            attncert.check_attention(o, *(x.astype(np.float64) for x in (q, k, v)))
        with self.assertRaisesRegex(ValueError, "rule"):
            attncert.check_attention(o, q, k, v, rule="3x")
        for delta in (0.0, 1.0, float("nan")):
            with self.assertRaisesRegex(ValueError, r"false-alarm probability .* is not in \(0, 1\)"):
                attncert.check_attention(o, q, k, v, false_alarm=delta)
        with self.assertRaisesRegex(ValueError, "algorithm"):
            attncert.check_attention(o, q, k, v, algorithm="two-pass")
        with self.assertRaisesRegex(ValueError, "dtype"):
            attncert.check_attention(o, q, k, v, dtype="fp8")
        with self.assertRaisesRegex(ValueError, "lse has shape"):
            attncert.check_attention(o, q, k, v, lse=np.zeros((1, 1, 5)))
        # fp32 values declared as fp16: not what an fp16 kernel could have read.
        with self.assertRaises(ValueError):
            attncert.check_attention(o, q, k, v, dtype="fp16")
        nan_q = q.copy()
        nan_q[0, 0, 1, 1] = np.nan
        with self.assertRaisesRegex(ValueError, r"q at batch 0, head 0, row 1, column 1 is nan"):
            attncert.check_attention(o, nan_q, k, v)


class Conventions(unittest.TestCase):
    """Python says what the CLI says: mixed input dtypes need dtype=, causal=True is fine when
    Lq = Lk (both conventions agree) and ambiguous otherwise."""

    def test_mixed_dtypes_need_a_declared_dtype(self):
        rng = np.random.default_rng(5)
        print("seed", 5)
        q = rng.standard_normal((1, 1, 8, 16)).astype(np.float32)
        k = q.astype(np.float16)
        with self.assertRaisesRegex(ValueError, "q, k, v are float32, float16, float32"):
            attncert.check_attention(q, q, k, q)

    def test_causal_true_needs_equal_lengths(self):
        rng = np.random.default_rng(6)
        print("seed", 6)
        q = rng.standard_normal((1, 1, 8, 16))
        o_mid = attncert.eval_attention(q, q, q, causal=True).o_mid
        o_tl = attncert.eval_attention(q, q, q, causal="top-left").o_mid
        self.assertTrue(np.array_equal(o_mid, o_tl))
        with self.assertRaisesRegex(ValueError, "ambiguous when Lq != Lk"):
            attncert.eval_attention(q[:, :, :5], q, q, causal=True)


if __name__ == "__main__":
    unittest.main()
