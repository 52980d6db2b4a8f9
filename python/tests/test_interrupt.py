"""Ctrl-C: a long call releases the GIL, notices SIGINT within ~50 ms, stops its worker through
the cancellation token and raises KeyboardInterrupt."""

import os
import signal
import subprocess
import sys
import time
import unittest


# ~30 s of work if not interrupted (MQA, 1024 query heads of 64 rows against 8192 keys).
EVAL = """
import numpy as np, attncert, sys, time
rng = np.random.default_rng(1)
q = rng.normal(size=(1, 1024, 64, 64)).astype(np.float32)
k = rng.normal(size=(1, 1, 8192, 64)).astype(np.float32)
v = rng.normal(size=(1, 1, 8192, 64)).astype(np.float32)
print("started", flush=True)
t = time.monotonic()
attncert.eval_attention(q, k, v)
print("finished in", time.monotonic() - t, flush=True)
"""

# check_attention of (1, 64, 2048, 2048, 64) on one job: minutes if not interrupted.
CHECK = """
import numpy as np, attncert, sys, time
rng = np.random.default_rng(1)
q, k, v = (rng.normal(size=(1, 64, 2048, 64)).astype(np.float32) for _ in range(3))
o = np.zeros_like(q)
print("started", flush=True)
attncert.check_attention(o, q, k, v, jobs=1)
print("finished", flush=True)
"""


class Interrupt(unittest.TestCase):
    def interrupt(self, script):
        env = dict(os.environ)
        child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, env=env)
        try:
            line = child.stdout.readline()
            self.assertEqual(line.strip(), "started", child.stderr.read() if not line else line)
            time.sleep(1.0)  # well inside the long call
            sent = time.monotonic()
            child.send_signal(signal.SIGINT)
            _, err = child.communicate(timeout=20)
            elapsed = time.monotonic() - sent
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        print(f"\nKeyboardInterrupt {elapsed:.2f} s after SIGINT")
        self.assertIn("KeyboardInterrupt", err)
        self.assertNotEqual(child.returncode, 0)
        # Within a few seconds: one head of work at most, plus interpreter teardown.
        self.assertLess(elapsed, 5.0)

    def test_eval_attention_is_interruptible(self):
        self.interrupt(EVAL)

    def test_check_attention_is_interruptible(self):
        self.interrupt(CHECK)


if __name__ == "__main__":
    unittest.main()
