#!/usr/bin/env python3
"""numpy_sgemm.py — times numpy's fp32 matmul (OpenBLAS sgemm) at square n x n x n, the shapes of
CpuGemmBenchmark, and says which OpenBLAS kernel (core type) and how many threads run it.

    python3 bench/numpy_sgemm.py [--sizes 512,1024,2048] [--repeats 3] [--seconds 2]

Each size: `repeats` rounds of about `seconds` each, best-of-round average per call; prints one line
per round (like JMH's forks) and the median. Run it through bench/cpu-gemm-vs-numpy.sh, which
unsets OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE for this command only (see that script).
"""
import argparse
import ctypes
import os
import statistics
import sys
import time

import numpy as np


def openblas_info():
    """(library path, core name, threads) of the OpenBLAS numpy loaded, read from the library itself."""
    lib = None
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if "openblas" in os.path.basename(path) and path.endswith(tuple([".so"] + [".so." + str(i) for i in range(10)])) or ("openblas" in path and ".so" in path):
                lib = path
                break
    if lib is None:
        return None, "unknown", "unknown"
    so = ctypes.CDLL(lib)
    core, threads = "unknown", "unknown"
    for prefix in ("scipy_openblas_", "openblas_", ""):
        for suffix in ("64_", ""):
            try:
                f = getattr(so, prefix + "get_corename" + suffix if prefix else "openblas_get_corename" + suffix)
                f.restype = ctypes.c_char_p
                core = f().decode()
                g = getattr(so, prefix + "get_num_threads" + suffix if prefix else "openblas_get_num_threads" + suffix)
                threads = g()
                return lib, core, threads
            except AttributeError:
                continue
    return lib, core, threads


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="512,1024,2048")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--cpu-time", action="store_true",
                   help="GFLOP per CPU-second of the process, best of 5 (run with OPENBLAS_NUM_THREADS=1), like GemmCpuSeconds")
    args = p.parse_args()
    rng = np.random.default_rng(3)
    np.ones((64, 64), np.float32) @ np.ones((64, 64), np.float32)   # loads OpenBLAS
    lib, core, threads = openblas_info()
    print(f"numpy {np.__version__}; OpenBLAS {lib}; core {core}; threads {threads}; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')} "
          f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE', '(unset)')}")
    if args.cpu_time:
        for n in (int(s) for s in args.sizes.split(",")):
            a = rng.uniform(-1, 1, (n, n)).astype(np.float32)
            b = rng.uniform(-1, 1, (n, n)).astype(np.float32)
            c = np.empty((n, n), np.float32)
            reps = max(2, int(4e9 / (2 * n ** 3)))
            best = float("inf")
            for r in range(6):
                t0 = time.process_time()
                for _ in range(reps):
                    np.matmul(a, b, out=c)
                if r > 0:
                    best = min(best, (time.process_time() - t0) / reps)
            print(f"numpy sgemm n={n}: {2 * n ** 3 / best / 1e9:.1f} GFLOP per CPU-second (threads {threads}, best of 5)")
        return
    for n in (int(s) for s in args.sizes.split(",")):
        a = rng.uniform(-1, 1, (n, n)).astype(np.float32)
        b = rng.uniform(-1, 1, (n, n)).astype(np.float32)
        c = np.empty((n, n), np.float32)
        np.matmul(a, b, out=c)
        rounds = []
        for _ in range(args.repeats):
            calls, t0 = 0, time.perf_counter()
            while True:
                np.matmul(a, b, out=c)
                calls += 1
                t = time.perf_counter() - t0
                if t >= args.seconds:
                    break
            rounds.append(t / calls)
        for r, s in enumerate(rounds):
            print(f"numpy sgemm n={n} round {r}: {s * 1e3:.3f} ms = {2 * n ** 3 / s / 1e9:.1f} GFLOP/s")
        med = statistics.median(rounds)
        print(f"numpy sgemm n={n} median: {med * 1e3:.3f} ms = {2 * n ** 3 / med / 1e9:.1f} GFLOP/s")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
