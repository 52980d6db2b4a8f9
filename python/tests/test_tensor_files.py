"""load_tensors / save_tensors: safetensors round trips in every float dtype (bf16 as bit
patterns), .npy reading, and lying files refused with one line."""

import os
import struct
import tempfile
import unittest

import numpy as np

import attncert
from support import seeded_rng


class TensorFiles(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def path(self, name):
        return os.path.join(self.dir.name, name)

    def test_round_trip_every_dtype(self):
        rng = seeded_rng(self)
        x = rng.normal(size=(2, 3, 4))
        bf16 = attncert.bf16_bits((x.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16))
        tensors = {"f64": x, "f32": x.astype(np.float32), "f16": x.astype(np.float16), "bf16": bf16}
        attncert.save_tensors(self.path("t.safetensors"), tensors)
        back = attncert.load_tensors(self.path("t.safetensors"))
        self.assertEqual(sorted(back), sorted(tensors))
        for name in ("f64", "f32", "f16"):
            with self.subTest(name=name):
                self.assertEqual(back[name].dtype, tensors[name].dtype)
                np.testing.assert_array_equal(back[name], tensors[name])
        self.assertIsInstance(back["bf16"], attncert.bf16_bits)
        np.testing.assert_array_equal(back["bf16"].bits, bf16.bits)
        # A loaded bf16 tensor is read by the checks as bf16.
        e1 = attncert.softmax(attncert.bf16_bits(back["bf16"].bits[0, 0].copy()))
        exact = (bf16.bits[0, 0].astype(np.uint32) << 16).view(np.float32).astype(np.float64)
        e2 = attncert.softmax(exact)
        np.testing.assert_array_equal(e1.lower, e2.lower)

    def test_npy(self):
        a = np.arange(6, dtype=np.float32).reshape(2, 3)
        np.save(self.path("a.npy"), a)
        back = attncert.load_tensors(self.path("a.npy"))
        self.assertEqual(len(back), 1)
        (only,) = back.values()
        self.assertEqual(only.dtype, np.float32)
        np.testing.assert_array_equal(only, a)

    def test_lying_header_is_refused(self):
        header = b'{"x": {"dtype": "F32", "shape": [1000000], "data_offsets": [0, 4000000]}}'
        with open(self.path("bad.safetensors"), "wb") as f:
            f.write(struct.pack("<Q", len(header)) + header + b"\0" * 16)
        with self.assertRaisesRegex(ValueError, "bad.safetensors"):
            attncert.load_tensors(self.path("bad.safetensors"))
        with self.assertRaises((ValueError, OSError)):
            attncert.load_tensors(self.path("missing.safetensors"))

    def test_bad_names_and_arrays(self):
        with self.assertRaisesRegex(ValueError, "x is not contiguous"):
            attncert.save_tensors(self.path("t.safetensors"), {"x": np.zeros((4, 4))[:, ::2]})
        with self.assertRaises(ValueError):
            attncert.save_tensors(self.path("t.safetensors"), {"": np.zeros(3)})


if __name__ == "__main__":
    unittest.main()
