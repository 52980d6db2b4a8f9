"""`attncert eval attention` and `attncert check-attention` end to end, with known truth.

Run by ctest: python3 attention_cli_test.py ATTNCERT_EXE. Inputs are written with numpy
(.npy) and by hand (.safetensors, independently of attncert's writer). Random inputs use
numpy's generator with the seed printed in each test.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest

import numpy as np

EXE = None
SEED = 20261203


def run(*args):
    p = subprocess.run([EXE, *map(str, args)], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def bf16_bits(x):
    """float32 values that are bf16 values, as their bf16 bit patterns (exact: low half zero)."""
    b = np.asarray(x, dtype=np.float32).view(np.uint32)
    assert np.all(b & 0xFFFF == 0), "not bf16 values"
    return (b >> 16).astype(np.uint16)


def to_bf16(x):
    """Round float32 to the nearest bf16 (ties to even), returned as float32."""
    b = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    b = (b + 0x7FFF + ((b >> 16) & 1)) & 0xFFFF0000
    return b.astype(np.uint32).view(np.float32)


def write_safetensors(path, tensors):
    """tensors: {name: (dtype string, shape, raw bytes)} — the format written by hand."""
    header, offset, blobs = {}, 0, []
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def attention(q, k, v, scale, visible=None, dtype=np.float64):
    """Plain attention in `dtype` on (B, H, L, d) arrays; visible(i, j) masks keys."""
    q, k, v = (np.asarray(a, dtype=dtype) for a in (q, k, v))
    rep = q.shape[1] // k.shape[1]
    k, v = np.repeat(k, rep, axis=1), np.repeat(v, rep, axis=1)
    s = (q @ np.swapaxes(k, -1, -2)) * dtype(scale)
    if visible is not None:
        lq, lk = s.shape[-2:]
        mask = np.array([[visible(i, j) for j in range(lk)] for i in range(lq)])
        s = np.where(mask, s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    p = np.exp(s - m)
    return (p @ v) / p.sum(axis=-1, keepdims=True)


class EvalAttention(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.d = self.dir.name

    def tearDown(self):
        self.dir.cleanup()

    def save(self, name, a):
        path = os.path.join(self.d, name)
        np.save(path, a)
        return path

    def test_equal_keys_give_the_mean_of_v_exactly_inside_the_enclosure(self):
        # Identical keys: every weight is 1/Lk, so O is the mean of V's rows — exact for dyadic V.
        rng = np.random.default_rng(SEED)
        print("seed", SEED)
        q = rng.standard_normal((1, 2, 3, 8))
        k = np.tile(rng.standard_normal((1, 2, 1, 8)), (1, 1, 4, 1))
        v = rng.integers(-64, 64, (1, 2, 4, 8)) / 8.0
        code, out, err = run("eval", "attention", "--q", self.save("q.npy", q), "--k",
                             self.save("k.npy", k), "--v", self.save("v.npy", v), "--json")
        self.assertEqual(code, 0, err)
        doc = json.loads(out)
        mid = np.array(doc["o"]["mid"]).reshape(doc["o"]["shape"])
        rad = np.array(doc["o"]["rad"]).reshape(doc["o"]["shape"])
        exact = np.broadcast_to(v.mean(axis=2, keepdims=True), mid.shape)  # exact: /4 of dyadics
        self.assertTrue(np.all(np.abs(mid - exact) <= rad), (mid - exact, rad))
        self.assertLess(rad.max(), 1e-12)

    def test_gqa_matches_numpy_float64_within_radius_plus_numpy_error(self):
        rng = np.random.default_rng(SEED + 1)
        print("seed", SEED + 1)
        q = rng.standard_normal((2, 4, 5, 16))
        k = rng.standard_normal((2, 2, 7, 16))
        v = rng.standard_normal((2, 2, 7, 16))
        code, out, err = run("eval", "attention", "--q", self.save("q.npy", q), "--k",
                             self.save("k.npy", k), "--v", self.save("v.npy", v), "--json")
        self.assertEqual(code, 0, err)
        doc = json.loads(out)
        mid = np.array(doc["o"]["mid"]).reshape(doc["o"]["shape"])
        rad = np.array(doc["o"]["rad"]).reshape(doc["o"]["shape"])
        ref = attention(q, k, v, 1 / np.sqrt(16))
        # numpy's float64 result errs by at most ~(d + Lk + 10)·u·max|v| ≈ 1e-14 here.
        self.assertTrue(np.all(np.abs(mid - ref) <= rad + 1e-13), np.abs(mid - ref).max())

    def test_causal_alignments_and_windows(self):
        rng = np.random.default_rng(SEED + 2)
        print("seed", SEED + 2)
        q = rng.standard_normal((3, 4))
        k = rng.standard_normal((5, 4))
        v = rng.standard_normal((5, 4))
        files = ["--q", self.save("q.npy", q), "--k", self.save("k.npy", k), "--v",
                 self.save("v.npy", v)]
        # Lq ≠ Lk: the conventions differ, so a bare --causal is refused (usage error 3).
        code, out, err = run("eval", "attention", *files, "--causal")
        self.assertEqual(code, 3, err)
        self.assertIn("top-left", err)
        for alignment, offset in (("top-left", 0), ("bottom-right", 2)):
            code, out, err = run("eval", "attention", *files, "--causal", alignment, "--json")
            self.assertEqual(code, 0, err)
            doc = json.loads(out)
            mid = np.array(doc["o"]["mid"]).reshape(3, 4)
            rad = np.array(doc["o"]["rad"]).reshape(3, 4)
            ref = attention(q[None, None], k[None, None], v[None, None], 0.5,
                            lambda i, j: j <= i + offset)[0, 0]
            self.assertTrue(np.all(np.abs(mid - ref) <= rad + 1e-14), alignment)
        # A window of 0 keys left of a causal diagonal: each query sees one key, O = that V row.
        code, out, err = run("eval", "attention", *files, "--causal", "top-left", "--window", "0",
                             "--json")
        self.assertEqual(code, 0, err)
        mid = np.array(json.loads(out)["o"]["mid"]).reshape(3, 4)
        rad = np.array(json.loads(out)["o"]["rad"]).reshape(3, 4)
        self.assertTrue(np.all(np.abs(mid - v[:3]) <= rad))

    def test_save_safetensors_and_npy(self):
        rng = np.random.default_rng(SEED + 3)
        print("seed", SEED + 3)
        q, k, v = (rng.standard_normal((1, 6, 2, 8)) for _ in range(3))  # bshd
        files = ["--layout", "bshd", "--q", self.save("q.npy", q), "--k", self.save("k.npy", k),
                 "--v", self.save("v.npy", v)]
        out_npy = os.path.join(self.d, "o.npy")
        code, out, err = run("eval", "attention", *files, "--save", out_npy)
        self.assertEqual(code, 0, err)
        mid, rad = np.load(out_npy), np.load(os.path.join(self.d, "o.rad.npy"))
        self.assertEqual(mid.shape, (1, 6, 2, 8))
        ref = attention(q.transpose(0, 2, 1, 3), k.transpose(0, 2, 1, 3),
                        v.transpose(0, 2, 1, 3), 1 / np.sqrt(8)).transpose(0, 2, 1, 3)
        self.assertTrue(np.all(np.abs(mid - ref) <= rad + 1e-13))
        self.assertEqual(np.load(os.path.join(self.d, "o.lse.npy")).shape, (1, 2, 6))
        out_st = os.path.join(self.d, "o.safetensors")
        code, out, err = run("eval", "attention", *files, "--save", out_st)
        self.assertEqual(code, 0, err)
        with open(out_st, "rb") as f:
            raw = f.read()
        n = struct.unpack("<Q", raw[:8])[0]
        header = json.loads(raw[8:8 + n])
        self.assertEqual(header["o_mid"]["shape"], [1, 6, 2, 8])
        b, e = header["o_mid"]["data_offsets"]
        st_mid = np.frombuffer(raw[8 + n + b:8 + n + e], dtype="<f8").reshape(1, 6, 2, 8)
        self.assertTrue(np.array_equal(st_mid, mid))

    def test_bad_input_is_one_line_with_the_documented_code(self):
        q = np.ones((1, 2, 3, 4))
        k = np.ones((1, 2, 5, 4))
        v = np.ones((1, 2, 5, 4))
        bad_k = np.ones((1, 2, 5, 3))
        nan_q = q.copy()
        nan_q[0, 1, 0, 2] = np.nan
        base = {"q": self.save("q.npy", q), "k": self.save("k.npy", k), "v": self.save("v.npy", v)}
        cases = [
            (dict(base, k=self.save("bk.npy", bad_k)), [], 4, "head dims differ"),
            (dict(base, q=self.save("nq.npy", nan_q)), [], 4, r"entry \(0, 1, 0, 2\) is NaN"),
            (base, ["--layout", "bsdh"], 3, "layout"),
            (base, ["--softcap", "-1"], 3, "softcap"),
            (base, ["--window", "x"], 3, "window"),
            (dict(base, q=os.path.join(self.d, "missing.npy")), [], 4, "missing.npy"),
        ]
        lying = os.path.join(self.d, "lying.safetensors")
        write_safetensors(lying, {"q": ("F64", [1, 2, 3, 4], b"\0" * 8)})  # declares 24 values
        cases.append((dict(base, q=lying), [], 4, "lying.safetensors"))
        for files, extra, want, pattern in cases:
            code, out, err = run("eval", "attention", "--q", files["q"], "--k", files["k"], "--v",
                                 files["v"], *extra)
            self.assertEqual(code, want, (extra, err))
            self.assertEqual(len(err.strip().splitlines()), 1, err)
            self.assertRegex(err, pattern)


class CheckAttention(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.d = self.dir.name
        rng = np.random.default_rng(SEED + 10)
        print("seed", SEED + 10)
        # bshd fp32 inputs, causal (Lq = Lk), 2 heads.
        self.q = rng.standard_normal((1, 40, 2, 32)).astype(np.float32)
        self.k = rng.standard_normal((1, 40, 2, 32)).astype(np.float32)
        self.v = rng.standard_normal((1, 40, 2, 32)).astype(np.float32)
        t = lambda a: a.transpose(0, 2, 1, 3)
        o = attention(t(self.q), t(self.k), t(self.v), np.float32(1 / np.sqrt(32)),
                      lambda i, j: j <= i, dtype=np.float32)
        self.o = t(o).astype(np.float32)
        self.files = ["--layout", "bshd", "--causal", "--q", self.save("q.npy", self.q), "--k",
                      self.save("k.npy", self.k), "--v", self.save("v.npy", self.v)]

    def tearDown(self):
        self.dir.cleanup()

    def save(self, name, a):
        path = os.path.join(self.d, name)
        np.save(path, a)
        return path

    def test_numpy_float32_attention_is_within_the_three_pass_bound(self):
        code, out, err = run("check-attention", *self.files, "--o", self.save("o.npy", self.o),
                             "--algorithm", "three-pass")
        self.assertEqual(code, 0, out + err)
        self.assertIn("verdict (--rule guaranteed): PASS", out)
        # Both verdicts are named, with the probabilistic model's assumption and δ.
        self.assertIn("exceeds the guaranteed bound: 0 head(s)", out)
        self.assertRegex(out, r"exceeds the probabilistic bound: 0 head\(s\).*probability <= 1e-06"
                              r".*independent and mean-zero")
        code, out, err = run("check-attention", *self.files, "--o", self.save("o.npy", self.o),
                             "--algorithm", "three-pass", "--rule", "probabilistic",
                             "--false-alarm", "0.01")
        self.assertEqual(code, 0, out + err)
        self.assertIn("verdict (--rule probabilistic): PASS", out)
        self.assertIn("probability <= 0.01", out)

    def test_a_perturbed_element_is_caught_and_named(self):
        o = self.o.copy()
        o[0, 17, 1, 5] += 1e-3
        csv = os.path.join(self.d, "heads.csv")
        code, out, err = run("check-attention", *self.files, "--o", self.save("o.npy", o), "--csv",
                             csv)
        self.assertEqual(code, 1, out + err)
        self.assertIn("(0, 17, 1, 5)", out)  # the worst element, in the user's bshd order
        self.assertIn("worst against the probabilistic bound: (0, 17, 1, 5)", out)
        with open(csv) as f:
            rows = f.read().splitlines()
        self.assertEqual(len(rows), 3)
        self.assertIn("(0, 17, 1, 5)", rows[2])

    def test_nan_in_o_is_a_violation_with_its_index(self):
        o = self.o.copy()
        o[0, 3, 0, 7] = np.nan
        code, out, err = run("check-attention", *self.files, "--o", self.save("o.npy", o))
        self.assertEqual(code, 1, out + err)
        self.assertIn("(0, 3, 0, 7)", out)
        self.assertIn("NaN", out)

    def test_bf16_inputs_from_safetensors(self):
        # bf16 Q, K, V written by hand; O computed in float32 from them and rounded to bf16.
        q, k, v = (to_bf16(a) for a in (self.q, self.k, self.v))
        path = os.path.join(self.d, "qkv.safetensors")
        write_safetensors(path, {name: ("BF16", a.shape, bf16_bits(a).tobytes())
                                 for name, a in (("q", q), ("k", k), ("v", v))})
        t = lambda a: a.transpose(0, 2, 1, 3)
        o = to_bf16(t(attention(t(q), t(k), t(v), np.float32(1 / np.sqrt(32)),
                                lambda i, j: j <= i, dtype=np.float32)))
        opath = os.path.join(self.d, "o.safetensors")
        write_safetensors(opath, {"o": ("BF16", o.shape, bf16_bits(o).tobytes())})
        code, out, err = run("check-attention", "--layout", "bshd", "--causal", "--q",
                             path + ":q", "--k", path + ":k", "--v", path + ":v", "--o", opath,
                             "--algorithm", "three-pass")
        self.assertEqual(code, 0, out + err)
        self.assertIn("inputs: bf16", out)

    def test_bf16_output_saved_as_float32_is_judged_as_bf16(self):
        # numpy cannot hold bf16, so a bf16 kernel's O often arrives as float32 values that are
        # bf16 values: judged with the bf16 store rounding, not as an fp32 output.
        q, k, v = (to_bf16(a) for a in (self.q, self.k, self.v))
        t = lambda a: a.transpose(0, 2, 1, 3)
        o = to_bf16(t(attention(t(q), t(k), t(v), np.float32(1 / np.sqrt(32)),
                                lambda i, j: j <= i, dtype=np.float32)))
        files = ["--layout", "bshd", "--causal", "--dtype", "bf16", "--q", self.save("q.npy", q),
                 "--k", self.save("k.npy", k), "--v", self.save("v.npy", v)]
        code, out, err = run("check-attention", *files, "--o", self.save("o32.npy", o))
        self.assertEqual(code, 0, out + err)
        self.assertIn("O stored as bf16", out)

    def test_one_head_rank_two_in_either_layout(self):
        # (seqlen, dim) files: O has the same rank whatever --layout says.
        q, k, v = (a[0, :, 0, :] for a in (self.q, self.k, self.v))
        o = self.o[0, :, 0, :]
        for layout in ("bshd", "bhsd"):
            code, out, err = run("check-attention", "--layout", layout, "--causal", "--q",
                                 self.save("q2.npy", q), "--k", self.save("k2.npy", k), "--v",
                                 self.save("v2.npy", v), "--o", self.save("o2.npy", o))
            self.assertEqual(code, 0, (layout, out, err))
            code, out, err = run("check-attention", "--layout", layout, "--causal", "--q",
                                 self.save("q2.npy", q), "--k", self.save("k2.npy", k), "--v",
                                 self.save("v2.npy", v), "--o", self.save("o1.npy", o[:1]))
            self.assertEqual(code, 4, (layout, out, err))
            self.assertIn("shape [1, 32], expected [40, 32]", err)

    def test_a_wrong_problem_gets_a_hint_and_json_has_numbers(self):
        # O of the non-causal problem judged as causal: every head far off, with the hint.
        t = lambda a: a.transpose(0, 2, 1, 3)
        o = t(attention(t(self.q), t(self.k), t(self.v), np.float32(1 / np.sqrt(32)),
                        dtype=np.float32)).astype(np.float32)
        code, out, err = run("check-attention", *self.files, "--o", self.save("nc.npy", o))
        self.assertEqual(code, 1, out + err)
        self.assertIn("hint: every head is off by far more than rounding", out)
        code, out, err = run("check-attention", *self.files, "--o", self.save("o.npy", self.o),
                             "--json")
        self.assertEqual(code, 0, out + err)
        head = json.loads(out)["heads"][0]
        self.assertIsInstance(head["max_error"], float)
        self.assertIsInstance(head["worst"]["bound"], float)
        self.assertIsInstance(head["probabilistic_ratio"], float)
        self.assertIsInstance(head["probabilistic_worst"]["probabilistic_bound"], float)
        self.assertLessEqual(head["probabilistic_ratio"], 1.0)

    def test_a_torch_save_file_is_named_as_such(self):
        path = os.path.join(self.d, "q.pt")
        with open(path, "wb") as f:
            f.write(b"PK\x03\x04" + b"\0" * 60)
        code, out, err = run("check-attention", "--q", path, "--k", path, "--v", path, "--o", path)
        self.assertEqual(code, 4, err)
        self.assertIn("torch.save", err)

    def test_bad_options_and_inputs(self):
        o = self.save("o.npy", self.o)
        cases = [
            (["--accum", "bf16"], 3, "fp32"),
            (["--rule", "strict"], 3, "rule"),
            (["--false-alarm", "0"], 3, r"false-alarm probability 0 is not in \(0, 1\)"),
            (["--false-alarm", "1.5"], 3, "false-alarm"),
            (["--dtype", "fp16"], 4, "fp16"),  # fp32 values not representable in fp16
        ]
        for extra, want, pattern in cases:
            code, out, err = run("check-attention", *self.files, "--o", o, *extra)
            self.assertEqual(code, want, (extra, out, err))
            self.assertEqual(len(err.strip().splitlines()), 1, err)
            self.assertRegex(err, pattern)
        # An input beyond the declared dtype's range is refused with one line saying it
        # overflows (issue 18: overflow in fp16/bf16 inputs is reported, not hidden).
        big = self.q.astype(np.float16).astype(np.float32)
        big[0, 3, 1, 5] = 70000.0
        files = list(self.files)
        files[files.index("--q") + 1] = self.save("big_q.npy", big)
        code, out, err = run("check-attention", *files, "--o", o, "--dtype", "fp16")
        self.assertEqual(code, 4, err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertIn("q at batch 0, head 1, row 3, column 5 = 70000 exceeds fp16's largest finite "
                      "value 65504", err)
        wrong = self.save("wrong.npy", self.o.transpose(0, 2, 1, 3))  # bhsd O with --layout bshd
        code, out, err = run("check-attention", *self.files, "--o", wrong)
        self.assertEqual(code, 4, err)
        self.assertIn("shape", err)


if __name__ == "__main__":
    EXE = sys.argv.pop(1)
    unittest.main(verbosity=2)
