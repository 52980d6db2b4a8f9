"""How arrays get in: dtypes, contiguity, devices, torch tensors (bf16 as bit patterns)."""

import os
import sys
import tempfile
import unittest

import numpy as np

import attncert
from support import seeded_rng, torch_or_none


class FakeDevice:
    type = "cuda"

    def __str__(self):
        return "cuda:0"


class FakeCudaTensor:
    """Looks like a GPU tensor (a .device of type cuda), as torch/cupy objects do."""
    device = FakeDevice()
    shape = (1, 1, 2, 2)


class Inputs(unittest.TestCase):
    def test_non_contiguous_is_refused_by_name(self):
        z = np.zeros((1, 2, 3, 4))
        t = np.zeros((1, 3, 2, 4)).transpose(0, 2, 1, 3)  # a strided view
        with self.assertRaisesRegex(ValueError, r"^k is not contiguous"):
            attncert.eval_attention(z, t, z)
        with self.assertRaisesRegex(ValueError, r"^logits is not contiguous"):
            attncert.softmax(np.zeros((4, 4))[:, ::2])

    def test_absurd_sizes_are_refused_before_allocating(self):
        # A contiguous 2^28 + 1 float16 array mapped from a sparse file (no memory used): refused
        # by size before the 2 GiB widening to double is attempted (the tensor files' cap).
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "sparse.bin")
            with open(path, "wb") as f:
                f.truncate(2 * ((1 << 28) + 1))
            huge = np.memmap(path, dtype=np.float16, mode="r", shape=(1, (1 << 28) + 1))
            with self.assertRaisesRegex(ValueError, "more than 2\\^28 elements"):
                attncert.softmax(huge)
            del huge

    def test_cuda_like_object_is_refused(self):
        z = np.zeros((1, 1, 2, 2))
        with self.assertRaisesRegex(ValueError, r"^v is on cuda:0; call \.cpu\(\) first"):
            attncert.eval_attention(z, z, FakeCudaTensor())

    def test_unsupported_dtypes_and_objects(self):
        z = np.zeros((1, 1, 2, 2))
        with self.assertRaisesRegex(ValueError, "q: dtype int32"):
            attncert.eval_attention(z.astype(np.int32), z, z)
        with self.assertRaisesRegex(ValueError, "q: dtype complex128"):
            attncert.eval_attention(z.astype(np.complex128), z, z)
        with self.assertRaisesRegex(ValueError, "q: expected a numpy array"):
            attncert.eval_attention(object(), z, z)
        with self.assertRaisesRegex(ValueError, "big-endian"):
            attncert.eval_attention(z.astype(">f8"), z, z)

    def test_float16_and_float32_inputs_are_exact(self):
        rng = seeded_rng(self)
        x = rng.normal(size=(1, 1, 3, 4))
        for dt in (np.float16, np.float32):
            with self.subTest(dtype=dt):
                a = attncert.eval_attention(x.astype(dt), x.astype(dt), x.astype(dt))
                b = attncert.eval_attention(*(x.astype(dt).astype(np.float64),) * 3)
                np.testing.assert_array_equal(a.o_mid, b.o_mid)

    def test_bf16_bit_patterns_without_torch(self):
        # 0x3f80 = 1.0, 0x4000 = 2.0, 0xbf80 = -1.0, 0x3f81 = 1 + 2^-7 in bfloat16.
        bits = np.array([0x3F80, 0x4000, 0xBF80, 0x3F81], dtype=np.uint16)
        e = attncert.softmax(attncert.bf16_bits(bits))
        x = np.array([1.0, 2.0, -1.0, 1 + 2.0**-7])
        ref = np.exp(x - x.max()) / np.exp(x - x.max()).sum()
        self.assertTrue(np.all(np.abs(ref - e.mid) <= 8 * np.spacing(ref)))
        with self.assertRaisesRegex(ValueError, "int16 or uint16"):
            attncert.bf16_bits(np.zeros(3, np.float32))
        with self.assertRaisesRegex(ValueError, "^logits is not contiguous"):
            attncert.softmax(attncert.bf16_bits(np.zeros((4, 4), np.int16)[:, ::2]))

    def test_readonly_arrays_are_fine(self):
        z = np.ones((1, 1, 2, 2))
        z.setflags(write=False)
        self.assertTrue(attncert.eval_attention(z, z, z).contains(z))

    def test_torch_is_not_imported_by_attncert(self):
        if "torch" in sys.modules:
            self.skipTest("torch was imported by another test in this process")
        attncert.softmax([0.0, 1.0])
        self.assertNotIn("torch", sys.modules)


@unittest.skipIf(torch_or_none() is None, "torch is not installed (CI): torch inputs untested here")
class TorchInputs(unittest.TestCase):
    def test_bf16_fp16_fp32_tensors_match_numpy(self):
        import torch
        rng = seeded_rng(self)
        x = rng.normal(size=(1, 2, 3, 4)).astype(np.float32)
        for dt in (torch.bfloat16, torch.float16, torch.float32):
            with self.subTest(dtype=dt):
                t = torch.from_numpy(x).to(dt)
                exact = t.to(torch.float64).numpy()  # widening is exact
                a = attncert.eval_attention(t, t, t)
                b = attncert.eval_attention(exact, exact, exact)
                np.testing.assert_array_equal(a.o_mid, b.o_mid)

    def test_bf16_tensor_saved_and_loaded_bit_exactly(self):
        import os
        import tempfile
        import torch
        t = torch.randn(2, 3, 4).to(torch.bfloat16)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "t.safetensors")
            attncert.save_tensors(path, {"t": t})
            back = attncert.load_tensors(path)["t"]
        self.assertIsInstance(back, attncert.bf16_bits)
        np.testing.assert_array_equal(back.bits.view(np.int16), t.view(torch.int16).numpy())

    def test_requires_grad_non_contiguous_and_cuda(self):
        import torch
        t = torch.zeros(1, 2, 3, 4, requires_grad=True)
        attncert.eval_attention(t, t, t)  # detached, no copy
        with self.assertRaisesRegex(ValueError, r"^q is not contiguous.*contiguous\(\)"):
            attncert.eval_attention(t.transpose(1, 2), t, t)
        with self.assertRaisesRegex(ValueError, "dtype torch.int64"):
            attncert.eval_attention(torch.zeros(1, 1, 2, 2, dtype=torch.int64), t, t)
        if torch.cuda.is_available():
            with self.assertRaisesRegex(ValueError, r"^q is on cuda:0; call \.cpu\(\) first"):
                attncert.eval_attention(t.cuda(), t, t)
        meta = torch.zeros(1, 1, 2, 2, device="meta")
        with self.assertRaisesRegex(ValueError, r"^q is on meta; call \.cpu\(\) first"):
            attncert.eval_attention(meta, t, t)


if __name__ == "__main__":
    unittest.main()
