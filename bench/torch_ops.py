#!/usr/bin/env python3
"""torch_ops.py — times, with PyTorch on the same GPU and in the same run, the shapes that
transformer4j's JMH benchmarks (GemmBenchmark, NormBenchmark, LinearBenchmark, VocabBenchmark) time:
the baseline our numbers are compared with. GEMM: torch.matmul (cuBLAS). Norms: the unfused
residual add followed by F.layer_norm / F.rms_norm (what eager PyTorch runs), and torch.compile of
the pair where it works. MLP: F.linear + activation + F.linear + residual, eager (unfused) and
torch.compile'd (while the time budget lasts: compiling costs seconds per shape). Vocabulary:
embedding gather, argmax / top-k + top-p sampling of one row, log_softmax and F.cross_entropy.
Timing: CUDA events around 16 back-to-back calls after warm-up, median of 5 runs. Writes JSON, rewritten
after every row (a run killed at its cap keeps what it measured). --budget-s stops adding rows (the rest
are listed as skipped); --compile-budget-s bounds all torch.compile work, norms and MLPs together, and
every compile happens outside the timed region. Dynamo's recompile limit is raised so that the norm
closures (one code object, many shapes) stay compiled, and a "torch.compile" row whose compile made no
new graph is labelled as having fallen back to eager instead of being reported as compiled."""
import argparse
import time

import torch
import torch.nn.functional as F

from torch_timing import save, time_us

REPS = 16


def time_ops_us(fn):
    """torch_ops' timing: 3 warm-up calls, REPS back-to-back calls, median of 5 runs."""
    return time_us(fn, REPS, warmup=3, runs=5)


def raise_recompile_limits():
    # Dynamo keeps at most cache_size_limit (renamed recompile_limit in later releases) compiled graphs per
    # code object, then silently runs the frame eagerly: 16 norm shapes share one closure's code object.
    cfg = torch._dynamo.config
    for name in ("recompile_limit", "cache_size_limit"):
        if hasattr(cfg, name):
            setattr(cfg, name, 64)
    for name in ("accumulated_recompile_limit", "accumulated_cache_size_limit"):
        if hasattr(cfg, name):
            setattr(cfg, name, max(getattr(cfg, name), 512))


def graphs_compiled():
    try:
        from torch._dynamo.utils import counters
        return counters["stats"]["unique_graphs"]
    except Exception:  # noqa: BLE001 - an internal counter; without it the label check is off
        return None


def compile_once(fn, arg, results, what):
    """torch.compile(fn), called once outside any timing; the compiled callable, or None (with a note) where it
    failed or made no new graph (dynamo fell back to eager)."""
    before = graphs_compiled()
    try:
        compiled = torch.compile(fn, dynamic=False)
        compiled(*arg)
        torch.cuda.synchronize()
    except Exception as e:  # noqa: BLE001 - record and go on
        results.setdefault("notes", []).append(f"torch.compile {what} failed: {e!r}"[:300])
        return None
    after = graphs_compiled()
    if before is not None and after is not None and after <= before:
        results.setdefault("notes", []).append(f"torch.compile {what}: no new graph (ran eagerly); row left out")
        return None
    return compiled


def rms_norm(h, w, eps):
    if hasattr(F, "rms_norm"):
        return F.rms_norm(h, (h.shape[-1],), w, eps)
    return h * torch.rsqrt(h.float().pow(2).mean(-1, keepdim=True) + eps).to(h.dtype) * w


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--compile-budget-s", type=float, default=25.0,
                    help="seconds for all torch.compile work (norms and MLPs); later shapes get eager rows only")
    ap.add_argument("--budget-s", type=float, default=120.0, help="stop adding rows after this many seconds")
    args = ap.parse_args()
    t0 = time.monotonic()
    deadline, compile_deadline = t0 + args.budget_s, t0 + args.compile_budget_s
    torch.backends.cuda.matmul.allow_tf32 = False  # our fp32 GEMM is true fp32
    raise_recompile_limits()
    dev = torch.device("cuda")
    results = {"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__, "cuda": torch.version.cuda,
               "rows": [], "skipped": [], "notes": []}
    out = args.out
    # GemmBenchmark / NormBenchmark run BF16 at 16384 rows in ci/gpu-check: those shapes first.
    dtypes = {"BF16": torch.bfloat16, "F32": torch.float32}
    for dt_name, dt in dtypes.items():
        for tokens in (128, 2048):
            c, f = 768, 3072
            shape = {"op": "gemm", "dtype": dt_name, "tokens": tokens, "widths": f"{c},{f}", "impl": "torch.matmul"}
            if time.monotonic() > deadline:
                results["skipped"].append(shape)
                continue
            x = torch.randn(tokens, c, device=dev, dtype=dt)
            w = torch.randn(c, f, device=dev, dtype=dt)
            us = time_ops_us(lambda: torch.matmul(x, w))
            results["rows"].append({**shape, "us": us, "tflops": 2 * tokens * c * f / us / 1e6})
            save(results, out)
        for rows in (16384, 128):
            for cols in (768, 4096):
                x = torch.randn(rows, cols, device=dev, dtype=dt)
                r = torch.randn(rows, cols, device=dev, dtype=dt)
                w = torch.randn(cols, device=dev, dtype=dt)
                b = torch.randn(cols, device=dev, dtype=dt)
                for kind in ("LAYER", "RMS"):
                    shape = {"op": "norm", "kind": kind, "dtype": dt_name, "rows": rows, "cols": cols}
                    if time.monotonic() > deadline:
                        results["skipped"].append(shape)
                        continue

                    def eager(x, r, w, b, kind=kind, cols=cols):
                        h = x + r
                        return h, (F.layer_norm(h, (cols,), w, b, 1e-5) if kind == "LAYER" else rms_norm(h, w, 1e-6))
                    impls = [("eager add+norm", eager)]
                    if time.monotonic() < compile_deadline:
                        compiled = compile_once(eager, (x, r, w, b), results, f"norm {kind} {dt_name} {rows}x{cols}")
                        if compiled is not None:
                            impls.append(("torch.compile add+norm", compiled))
                    else:
                        results["notes"].append(f"torch.compile skipped for norm {kind} {dt_name} {rows}x{cols}: compile budget spent")
                    for impl, fn in impls:
                        us = time_ops_us(lambda fn=fn: fn(x, r, w, b))
                        gbs = 4 * rows * cols * x.element_size() / us / 1e3
                        results["rows"].append({**shape, "impl": impl, "us": us, "gbs": gbs})
                        save(results, out)
    mlp_and_vocab(results, dev, compile_deadline, deadline, out)
    save(results, out)
    print("rows", len(results["rows"]), "skipped", len(results["skipped"]), "notes", results["notes"])


# LinearBenchmark's shapes: (model, C, F, activation, gated); BERT-base and T5-base v1.0 share GPT-2's.
MLPS = [("gpt2", 768, 3072, "GELU_TANH", False), ("gpt2-medium", 1024, 4096, "GELU_TANH", False),
        ("t5-small", 512, 2048, "RELU", False), ("flan-t5-base", 768, 2048, "GELU_TANH", True)]
ACTS = {"GELU": lambda h: F.gelu(h), "GELU_TANH": lambda h: F.gelu(h, approximate="tanh"),
        "RELU": F.relu, "SILU": F.silu}


def mlp_and_vocab(results, dev, compile_deadline, deadline, out):
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

        for tokens in (128, 2048, 1):
            shape = {"op": "mlp", "model": model, "dtype": "BF16", "tokens": tokens, "widths": f"{c},{f}",
                     "activation": act_name, "gated": gated}
            if time.monotonic() > deadline:
                results["skipped"].append(shape)
                continue
            x = torch.randn(tokens, c, device=dev, dtype=dt)
            flops = 2 * tokens * c * f * (3 if gated else 2)
            impls = [("eager F.linear+act", lambda x=x: eager(x))]
            if time.monotonic() < compile_deadline:
                compiled = compile_once(eager, (x,), results, f"mlp {model} T={tokens}")
                if compiled is not None:
                    impls.append(("torch.compile mlp", lambda x=x, compiled=compiled: compiled(x)))
            else:
                results["notes"].append(f"torch.compile skipped for {model} T={tokens}: compile budget spent")
            for impl, fn in impls:
                us = time_ops_us(fn)
                results["rows"].append({**shape, "impl": impl, "us": us, "tflops": flops / us / 1e6})
                save(results, out)
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
        shape = {"op": "vocab", "kind": name, "dtype": "BF16", "vocab": v, "impl": "torch eager"}
        if time.monotonic() > deadline:
            results["skipped"].append(shape)
            continue
        results["rows"].append({**shape, "us": time_ops_us(fn)})
        save(results, out)


if __name__ == "__main__":
    main()
