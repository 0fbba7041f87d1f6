"""torch_timing.py — the timing and result-writing helpers that bench/torch_ops.py and
bench/torch_attention.py share: CUDA events around back-to-back calls after warm-up (median of
several runs), and a JSON file rewritten atomically after every row so that a run killed at its
cap keeps what it measured."""
import json
import os
import statistics


def time_us(fn, reps, warmup=1, runs=3):
    """Microseconds per call of fn: `warmup` untimed calls, then the median over `runs` runs of
    `reps` back-to-back calls, each run timed by CUDA events."""
    import torch
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(runs):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(reps):
            fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) * 1000.0 / reps)
    return statistics.median(times)


def save(results, path):
    """Rewrites the JSON atomically and prints the newest row: called after every row."""
    with open(path + ".tmp", "w") as fh:
        json.dump(results, fh, indent=1)
    os.replace(path + ".tmp", path)
    if results["rows"]:
        print(results["rows"][-1], flush=True)
