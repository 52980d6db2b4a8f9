#!/usr/bin/env python3
"""Double softmax attention against numpy + OpenBLAS, one thread, ratios within one run.

    python3 bench/attention_vs_numpy.py [build/bench/softmax_attention_bench] [--rounds R]

Runs, interleaved R times (default 3): the C++ bench binary (JSON through --benchmark_out) (softmax_attention<double> at
n = 4096, d in {64, 128}; BLIS dgemm 2048^3 in the same process; bounded_exp against Eigen's
exp and std::exp) and a numpy child process (the same attention the obvious way:
S = Q @ K.T * scale, S -= rowmax, exp, rowsum, P @ V, divide; and numpy's dgemm 2048^3).
numpy runs with OPENBLAS_CORETYPE=SkylakeX (Debian's and some wheels' OpenBLAS misdetect newer
CPUs and fall back to a generic kernel) and one OpenBLAS thread, set for the child only.
Times are CPU seconds of the measuring process (robust against other processes sharing the
machine), best of each round's repetitions; the ratios compare numbers of the same round.
Without numpy the script says so and prints the C++ figures alone.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

N = 4096
DIMS = (64, 128)
SQUARE = 2048

NUMPY_CHILD = r"""
import json, sys, time
import numpy as np
n, dims, square, reps = %d, %r, %d, %d
def cpu_best(f):
    best = float("inf")
    for _ in range(reps):
        t0 = time.process_time(); f(); best = min(best, time.process_time() - t0)
    return best
rng = np.random.default_rng(1)
out = {"numpy": np.__version__}
for d in dims:
    Q, K, V = (rng.standard_normal((n, d)) for _ in range(3))
    scale = 1.0 / np.sqrt(d)
    def attention():
        S = Q @ K.T * scale
        S -= S.max(axis=1, keepdims=True)
        np.exp(S, out=S)
        s = S.sum(axis=1, keepdims=True)
        return (S @ V) / s
    attention()
    out["attention_%%d" %% d] = cpu_best(attention)
A = rng.standard_normal((square, square)); B = rng.standard_normal((square, square))
A @ B
out["dgemm"] = cpu_best(lambda: A @ B)
try:
    from threadpoolctl import threadpool_info
    out["blas"] = ["%%s %%s %%s" %% (i.get("internal_api"), i.get("version"), i.get("architecture"))
                   for i in threadpool_info()]
except Exception:
    pass
print(json.dumps(out))
"""


def run_cpp(binary):
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cmd = [binary, "--benchmark_filter=DoubleSoftmaxAttention|BlasSquareGemm|BM_(Bounded|Eigen|Std)Exp",
               "--benchmark_min_time=1", "--benchmark_out=" + out.name,
               "--benchmark_out_format=json"]
        subprocess.run(cmd, capture_output=True, text=True, check=True)
        report = json.load(open(out.name))
    seconds = {}
    for b in report["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        name = b["name"].split("/min_time")[0]
        unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
        seconds[name] = b["cpu_time"] * unit
    return seconds


def run_numpy(reps):
    env = dict(os.environ, OPENBLAS_CORETYPE="SkylakeX", OPENBLAS_NUM_THREADS="1",
               OMP_NUM_THREADS="1")
    code = NUMPY_CHILD % (N, DIMS, SQUARE, reps)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        return None, done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"
    return json.loads(done.stdout.strip().splitlines()[-1]), None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("binary", nargs="?",
                        default=os.path.join(here, "..", "build", "bench",
                                             "softmax_attention_bench"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--numpy-reps", type=int, default=3)
    args = parser.parse_args()

    flops = {d: 4.0 * N * N * d for d in DIMS}
    square_flops = 2.0 * SQUARE ** 3
    rows = []
    numpy_missing = None
    for r in range(args.rounds):
        cpp = run_cpp(args.binary)
        npy = None
        if numpy_missing is None:
            npy, numpy_missing = run_numpy(args.numpy_reps)
        rows.append((cpp, npy))
        print("round %d done" % (r + 1), file=sys.stderr)

    if numpy_missing:
        print("numpy not available (%s): C++ figures only" % numpy_missing)
    elif rows[0][1].get("blas"):
        print("numpy %s, BLAS: %s" % (rows[0][1]["numpy"], "; ".join(rows[0][1]["blas"])))

    print("\nn = %d, one thread, CPU seconds; per round: ours, numpy, numpy/ours, our GFLOP/s "
          "(4n^2d/time), BLIS dgemm %d^3 GFLOP/s, ours/BLIS dgemm, numpy dgemm GFLOP/s"
          % (N, SQUARE))
    for d in DIMS:
        key = "BM_DoubleSoftmaxAttention/%d" % d
        speedups, fractions = [], []
        for r, (cpp, npy) in enumerate(rows):
            ours = cpp[key]
            blis = square_flops / cpp["BM_BlasSquareGemm"] * 1e-9
            rate = flops[d] / ours * 1e-9
            fractions.append(rate / blis)
            line = "d=%3d round %d: ours %.4f s" % (d, r + 1, ours)
            if npy:
                theirs = npy["attention_%d" % d]
                speedups.append(theirs / ours)
                line += ", numpy %.4f s, numpy/ours %.2fx" % (theirs, theirs / ours)
            line += ", %.1f GFLOP/s, BLIS dgemm %.1f GFLOP/s, ours/dgemm %.0f%%" % (
                rate, blis, 100 * rate / blis)
            if npy:
                line += ", numpy dgemm %.1f GFLOP/s" % (square_flops / npy["dgemm"] * 1e-9)
            print(line)
        summary = "d=%3d median: ours/dgemm %.0f%% (target >= 50%%)" % (
            d, 100 * statistics.median(fractions))
        if speedups:
            summary += ", numpy/ours %.2fx (target >= 1.5x)" % statistics.median(speedups)
        print(summary)

    exp_rows = [cpp for cpp, _ in rows if "BM_BoundedExp" in cpp]
    if exp_rows:
        count = 1 << 16
        print("\nexp of %d doubles in [-30, 0], ns per element (median of rounds):" % count)
        for name in ("BM_BoundedExp", "BM_EigenExp", "BM_StdExp"):
            if all(name in c for c in exp_rows):
                per = statistics.median(c[name] for c in exp_rows) * 1e9 / count
                ratio = statistics.median(c[name] / c["BM_BoundedExp"] for c in exp_rows)
                print("  %-14s %.3f ns (%.2fx bounded_exp's time)" % (name[3:], per, ratio))


if __name__ == "__main__":
    main()
