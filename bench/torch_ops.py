#!/usr/bin/env python3
"""torch_ops.py — times, with PyTorch on the same GPU and in the same run, the shapes that
transformer4j's JMH benchmarks (GemmBenchmark, NormBenchmark) time: the baseline our numbers are
compared with. GEMM: torch.matmul (cuBLAS). Norms: the unfused residual add followed by
F.layer_norm / F.rms_norm (what eager PyTorch runs), and torch.compile of the pair where it works.
Timing: CUDA events around 16 back-to-back calls after warm-up, median of 5 runs. Writes JSON."""
import argparse
import json
import statistics

import torch
import torch.nn.functional as F

REPS = 16


def time_us(fn):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    runs = []
    for _ in range(5):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(REPS):
            fn()
        end.record()
        torch.cuda.synchronize()
        runs.append(start.elapsed_time(end) * 1000.0 / REPS)
    return statistics.median(runs)


def rms_norm(h, w, eps):
    if hasattr(F, "rms_norm"):
        return F.rms_norm(h, (h.shape[-1],), w, eps)
    return h * torch.rsqrt(h.float().pow(2).mean(-1, keepdim=True) + eps).to(h.dtype) * w


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False  # our fp32 GEMM is true fp32
    dev = torch.device("cuda")
    results = {"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__, "cuda": torch.version.cuda,
               "rows": []}
    dtypes = {"F32": torch.float32, "BF16": torch.bfloat16}
    for dt_name, dt in dtypes.items():
        for tokens in (128, 2048):
            c, f = 768, 3072
            x = torch.randn(tokens, c, device=dev, dtype=dt)
            w = torch.randn(c, f, device=dev, dtype=dt)
            us = time_us(lambda: torch.matmul(x, w))
            results["rows"].append({"op": "gemm", "dtype": dt_name, "tokens": tokens, "widths": f"{c},{f}",
                                    "impl": "torch.matmul", "us": us, "tflops": 2 * tokens * c * f / us / 1e6})
        for rows in (128, 16384):
            for cols in (768, 4096):
                x = torch.randn(rows, cols, device=dev, dtype=dt)
                r = torch.randn(rows, cols, device=dev, dtype=dt)
                w = torch.randn(cols, device=dev, dtype=dt)
                b = torch.randn(cols, device=dev, dtype=dt)
                for kind in ("LAYER", "RMS"):
                    def eager(kind=kind, x=x, r=r, w=w, b=b, cols=cols):
                        h = x + r
                        return h, (F.layer_norm(h, (cols,), w, b, 1e-5) if kind == "LAYER" else rms_norm(h, w, 1e-6))
                    impls = [("eager add+norm", eager)]
                    try:
                        compiled = torch.compile(eager)
                        compiled()
                        impls.append(("torch.compile add+norm", compiled))
                    except Exception as e:  # noqa: BLE001 - record and go on
                        results.setdefault("notes", []).append(f"torch.compile failed: {e!r}"[:300])
                    for impl, fn in impls:
                        us = time_us(fn)
                        gbs = 4 * rows * cols * x.element_size() / us / 1e3
                        results["rows"].append({"op": "norm", "kind": kind, "dtype": dt_name, "rows": rows,
                                                "cols": cols, "impl": impl, "us": us, "gbs": gbs})
    with open(args.out, "w") as fh:
        json.dump(results, fh, indent=1)
    for row in results["rows"]:
        print(row)


if __name__ == "__main__":
    main()
