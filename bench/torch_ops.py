#!/usr/bin/env python3
"""torch_ops.py — times, with PyTorch on the same GPU and in the same run, the shapes that
transformer4j's JMH benchmarks (GemmBenchmark, NormBenchmark, LinearBenchmark, VocabBenchmark) time:
the baseline our numbers are compared with. GEMM: torch.matmul (cuBLAS). Norms: the unfused
residual add followed by F.layer_norm / F.rms_norm (what eager PyTorch runs), and torch.compile of
the pair where it works. MLP: F.linear + activation + F.linear + residual, eager (unfused) and
torch.compile'd (while the time budget lasts: compiling costs seconds per shape). Vocabulary:
embedding gather, argmax / top-k + top-p sampling of one row, log_softmax and F.cross_entropy.
Timing: CUDA events around 16 back-to-back calls after warm-up, median of 5 runs. Writes JSON."""
import argparse
import json
import statistics
import time

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
    ap.add_argument("--compile-budget-s", type=float, default=25.0,
                    help="stop adding torch.compile rows after this many seconds of MLP timing")
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
    mlp_and_vocab(results, dev, time.monotonic() + args.compile_budget_s)
    with open(args.out, "w") as fh:
        json.dump(results, fh, indent=1)
    for row in results["rows"]:
        print(row)


# LinearBenchmark's shapes: (model, C, F, activation, gated); BERT-base and T5-base v1.0 share GPT-2's.
MLPS = [("gpt2", 768, 3072, "GELU_TANH", False), ("gpt2-medium", 1024, 4096, "GELU_TANH", False),
        ("t5-small", 512, 2048, "RELU", False), ("flan-t5-base", 768, 2048, "GELU_TANH", True)]
ACTS = {"GELU": lambda h: F.gelu(h), "GELU_TANH": lambda h: F.gelu(h, approximate="tanh"),
        "RELU": F.relu, "SILU": F.silu}


def mlp_and_vocab(results, dev, compile_deadline):
    dt = torch.bfloat16
    for model, c, f, act_name, gated in MLPS:
        act = ACTS[act_name]
        w1 = torch.randn(f, c, device=dev, dtype=dt) / c ** 0.5
        w1g = torch.randn(f, c, device=dev, dtype=dt) / c ** 0.5
        b1 = torch.randn(f, device=dev, dtype=dt)
        w2 = torch.randn(c, f, device=dev, dtype=dt) / f ** 0.5
        b2 = torch.randn(c, device=dev, dtype=dt)

        def eager(x, act=act, w1=w1, w1g=w1g, b1=b1, w2=w2, b2=b2, gated=gated):
            h = act(F.linear(x, w1, b1))
            if gated:
                h = h * F.linear(x, w1g)
            return F.linear(h, w2, b2) + x

        compiled = None
        for tokens in (1, 128, 2048):
            x = torch.randn(tokens, c, device=dev, dtype=dt)
            flops = 2 * tokens * c * f * (3 if gated else 2)
            impls = [("eager F.linear+act", lambda x=x: eager(x))]
            if time.monotonic() < compile_deadline:
                try:
                    if compiled is None:
                        compiled = torch.compile(eager, dynamic=False)
                    compiled(x)
                    impls.append(("torch.compile mlp", lambda x=x: compiled(x)))
                except Exception as e:  # noqa: BLE001 - record and go on
                    results.setdefault("notes", []).append(f"torch.compile mlp failed: {e!r}"[:300])
            else:
                results.setdefault("notes", []).append(f"torch.compile skipped for {model} T={tokens}: time budget spent")
            for impl, fn in impls:
                us = time_us(fn)
                results["rows"].append({"op": "mlp", "model": model, "dtype": "BF16", "tokens": tokens,
                                        "widths": f"{c},{f}", "activation": act_name, "gated": gated,
                                        "impl": impl, "us": us, "tflops": flops / us / 1e6})
    v, c = 50257, 768
    wte = torch.randn(v, c, device=dev, dtype=dt)
    wpe = torch.randn(1024, c, device=dev, dtype=dt)
    ids = torch.randint(0, v, (8, 128), device=dev)
    pos = torch.arange(128, device=dev)
    one = torch.randn(1, v, device=dev, dtype=dt)
    rows = torch.randn(128, v, device=dev, dtype=dt)
    targets = torch.randint(0, v, (128,), device=dev)
    gen = torch.Generator(device=dev)
    gen.manual_seed(7)

    def top_k_top_p(logits, k=50, p=0.9, temperature=0.8):
        vals, idx = torch.topk(logits.float() / temperature, k)
        probs = torch.softmax(vals, -1)
        cum = probs.cumsum(-1)
        probs = probs.masked_fill(cum - probs > p, 0)
        choice = torch.multinomial(probs, 1, generator=gen)
        return idx.gather(-1, choice)

    ops = {"embedding": lambda: wte[ids] + wpe[pos],
           "sample_greedy": lambda: torch.argmax(one, -1),
           "sample_topk_topp": lambda: top_k_top_p(one),
           "log_softmax": lambda: F.log_softmax(rows, -1),
           "cross_entropy": lambda: F.cross_entropy(rows, targets)}
    for name, fn in ops.items():
        results["rows"].append({"op": "vocab", "kind": name, "dtype": "BF16", "vocab": v, "impl": "torch eager",
                                "us": time_us(fn)})


if __name__ == "__main__":
    main()
