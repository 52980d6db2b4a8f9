"""softmax / lse / jacobian_norm: enclosures with known truth."""

import math
import unittest

import numpy as np

import attncert
from support import seeded_rng


def near(e, x, ulps=4):
    """x, a double computed by libm/numpy (a few ulp off the exact value), lies in the enclosure
    widened by `ulps` ulp of x: a 128-bit enclosure is far narrower than a double's error."""
    x = np.asarray(x, dtype=np.float64)
    slack = ulps * np.spacing(np.abs(x))
    return bool(np.all((e.lower - slack <= x) & (x <= e.upper + slack)))


class RowFunctions(unittest.TestCase):
    def test_softmax_of_two_zeros_is_exactly_one_half(self):
        e = attncert.softmax([0.0, 0.0])
        self.assertEqual(e.lower.shape, (2,))
        # 1/2 is exact: the enclosure is the point, or contains it with a width of ~2^-128.
        self.assertTrue(np.all(e.lower <= 0.5) and np.all(0.5 <= e.upper))
        self.assertTrue(np.all(e.width <= 2.0**-100))

    def test_lse_and_jacobian_norm_of_two_zeros(self):
        # log(e^0 + e^0) = log 2; J = diag(p) - p pᵀ with p = (1/2, 1/2) has norm 2·p1·p2 = 1/2.
        self.assertTrue(near(attncert.lse([0.0, 0.0]), math.log(2)))
        self.assertFalse(near(attncert.lse([0.0, 0.0]), math.log(2) * (1 + 1e-12)))
        self.assertTrue(attncert.jacobian_norm([0.0, 0.0]).contains(0.5))
        self.assertTrue(attncert.jacobian_norm([0.0, 0.0], T=0.5).contains(1.0))

    def test_temperature_as_exact_decimal(self):
        # T = "0.1" is 1/10 exactly, so (l2 − l1)/T = 50/(1/10) = 500 and p1 = 1/(1 + e^500),
        # = e^-500 to double precision. The double T = 0.1 exceeds 1/10 by 5.6e-18, which moves
        # the exponent by 2.8e-14 and p1 by that relative amount: ~250 ulp, so the enclosure
        # for the binary T is disjoint from the one for the decimal.
        exact = attncert.softmax([0.0, 50.0], T="0.1")
        self.assertTrue(near(exact, [math.exp(-500), 1.0]))
        binary = attncert.softmax([0.0, 50.0], T=0.1)
        self.assertTrue(binary.upper[0] < exact.lower[0] or binary.lower[0] > exact.upper[0])

    def test_masked_entry_gets_probability_zero(self):
        e = attncert.softmax(np.array([1.0, -np.inf, 1.0]))
        self.assertEqual(float(e.lower[1]), 0.0)
        self.assertEqual(float(e.upper[1]), 0.0)
        self.assertTrue(e.contains([0.5, 0.0, 0.5]))

    def test_enclosures_contain_numpys_float64_answer(self):
        rng = seeded_rng(self)
        logits = rng.normal(0, 4, size=(5, 17))
        T = 0.7
        s = attncert.softmax(logits, T)
        ref = np.exp(logits / T - (logits / T).max(axis=1, keepdims=True))
        ref /= ref.sum(axis=1, keepdims=True)
        # numpy's own error: exp and a sum of L terms, each a few ulp relative: ≤ 4·L·eps·p.
        tol = 4 * 17 * np.finfo(float).eps * ref
        self.assertTrue(np.all(s.lower - tol <= ref) and np.all(ref <= s.upper + tol))
        # 128-bit balls printed as outward-rounded doubles: a couple of ulp wide at most.
        self.assertTrue(np.all(s.width <= 2 * np.spacing(s.upper)))
        l = attncert.lse(logits, T)
        self.assertEqual(l.lower.shape, (5,))
        ref_lse = np.log(np.exp(logits / T).sum(axis=1))
        self.assertTrue(np.all(np.abs(ref_lse - l.mid) <= 1e-12 * np.abs(ref_lse) + l.width))

    def test_precision_changes_the_width(self):
        a = attncert.softmax([0.3, 1.1, -2.0], precision=64)
        b = attncert.softmax([0.3, 1.1, -2.0], precision=256)
        self.assertTrue(np.all(b.width <= a.width))
        self.assertTrue(np.all(a.width > 0))

    def test_float16_and_float32_input_are_read_exactly(self):
        x16 = np.array([0.1, 0.2], dtype=np.float16)
        e = attncert.softmax(x16)
        d = float(x16[1]) - float(x16[0])
        self.assertTrue(near(e, [1 / (1 + math.exp(d)), 1 / (1 + math.exp(-d))]))

    def test_bad_input(self):
        for bad, words in [([0.0, float("nan")], "NaN"), ([0.0, float("inf")], r"\+inf"),
                           ([-np.inf, -np.inf], "masked"), ([], "empty"),
                           (np.zeros((2, 2, 2)), "dimensions"), (np.array([1, 2]), "int64")]:
            with self.subTest(bad=bad):
                with self.assertRaisesRegex(ValueError, words):
                    attncert.softmax(bad)
        for T in (0, -1, float("inf"), "abc", None):
            with self.subTest(T=T):
                with self.assertRaises(ValueError):
                    attncert.lse([0.0, 1.0], T=T)
        with self.assertRaisesRegex(ValueError, "precision"):
            attncert.softmax([0.0], precision=1)


if __name__ == "__main__":
    unittest.main()
