"""verify: the same pipeline as `attncert verify --expr --over`."""

import json
import os
import subprocess
import tempfile
import unittest

import attncert


class Verify(unittest.TestCase):
    def test_true_bound_survives_and_false_one_is_refuted(self):
        # ‖J‖ ≤ 1/(2T) holds for softmax with equality at equal logits (which can leave 0.5/T
        # inconclusive at the boundary): 0.6/T survives, 0.1/T is refuted.
        good = attncert.verify("jacobian_norm <= 0.6/T", "L in [2, 6], T in [0.5, 2], logits ~ normal(0, 3)",
                               instances=200, seed=3, jobs=1)
        self.assertEqual(len(good), 1)
        self.assertIn(good[0].verdict.lower(), ("survived", "proved"))
        self.assertTrue(good[0])
        bad = attncert.verify("jacobian_norm <= 0.1/T", "L in [2, 6], T in [0.5, 2], logits ~ normal(0, 3)",
                              instances=200, seed=3, jobs=1)
        self.assertEqual(bad[0].verdict.lower(), "refuted")
        self.assertFalse(bad[0])
        self.assertIn("claim", bad[0].record)

    def test_same_seed_same_record(self):
        kw = dict(instances=100, seed=7, jobs=1)
        a = attncert.verify("alpha_max <= 1", "L in [2, 4], logits ~ normal(0, 1)", **kw)
        b = attncert.verify("alpha_max <= 1", "L in [2, 4], logits ~ normal(0, 1)", **kw)
        self.assertEqual(a[0].record, b[0].record)

    @unittest.skipUnless(os.path.isfile(os.environ.get("ATTNCERT_CLI", "")),
                         "the attncert executable is not built (ATTNCERT_CLI)")
    def test_same_record_as_the_cli(self):
        expr, over = "jacobian_norm <= 0.1/T", "L in [2, 6], T in [0.5, 2], logits ~ normal(0, 3)"
        with tempfile.TemporaryDirectory() as out:
            cli = subprocess.run([os.environ["ATTNCERT_CLI"], "verify", "--expr", expr, "--over", over,
                                  "--budget", "200", "--seed", "3", "--jobs", "1", "--json", "--out", out],
                                 capture_output=True, text=True)
        self.assertIn(cli.returncode, (0, 1), cli.stderr)  # 1: a refuted claim
        cli_record = json.loads(cli.stdout.splitlines()[0])
        py = attncert.verify(expr, over, instances=200, seed=3, jobs=1)[0]
        self.assertEqual(py.record, cli_record)
        self.assertEqual(py.verdict, "refuted")

    def test_errors_name_the_argument(self):
        with self.assertRaisesRegex(ValueError, "^expr:"):
            attncert.verify("jacobian_norm <= ", "L in [2, 4]")
        with self.assertRaisesRegex(ValueError, "^over:"):
            attncert.verify("jacobian_norm <= 1", "L in [4, 2")
        with self.assertRaisesRegex(ValueError, "instances or seconds"):
            attncert.verify("alpha_max <= 1", "L in [2, 4]", instances=5, seconds=1)


if __name__ == "__main__":
    unittest.main()
