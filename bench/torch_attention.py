#!/usr/bin/env python3
"""torch_attention.py — times, with PyTorch on the same GPU and in the same run, the attention shapes
that transformer4j's AttentionBenchmark and DecodeBenchmark time: the baseline our kernels chase.
Prefill: scaled_dot_product_attention under each SDPA backend (FLASH_ATTENTION, CUDNN_ATTENTION,
EFFICIENT_ATTENTION) at B·T = 16384 tokens, NH·HS = 2048, T in {512, 2048, 8192}, HS in {64, 128},
causal and not, BF16; TFLOP/s = 4·B·NH·T²·HS / time, halved when causal. Decode: one query per
sequence against a dense BF16 cache (NH 32, NKV 8, HS 128, GQA expanded by SDPA's enable_gqa where
available), cache lengths 1k..32k, batch 1 and 16; GB/s = K and V bytes read / time; plus the GPU's
device-to-device copy bandwidth, the reference for the decode target (75% of it).
Timing: CUDA events around back-to-back calls after warm-up, median of 3 runs. --budget caps the
whole script's wall time (shapes not reached are listed as skipped). The JSON is rewritten after every
row, so a run killed at its cap keeps what it measured; the shapes ci/gpu-check's JMH run covers
(T 2048 and 8192, HS 128) come first."""
import argparse
import time

import torch
import torch.nn.functional as F

from torch_timing import save, time_us

try:
    from torch.nn.attention import SDPBackend, sdpa_kernel
except ImportError:  # torch < 2.3
    SDPBackend = None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--budget", type=float, default=50.0, help="seconds")
    args = ap.parse_args()
    t0 = time.time()
    dev = torch.device("cuda")
    dt = torch.bfloat16
    results = {"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__, "cuda": torch.version.cuda,
               "rows": [], "skipped": [], "notes": []}

    # Copy bandwidth: read + write of a 1 GiB buffer.
    src = torch.empty(1 << 29, dtype=torch.bfloat16, device=dev)
    dst = torch.empty_like(src)
    us = time_us(lambda: dst.copy_(src), 5)
    results["copy_gbs"] = 2 * src.numel() * 2 / us / 1e3
    del src, dst
    save(results, args.out)

    backends = {}
    if SDPBackend is not None:
        for name in ("FLASH_ATTENTION", "CUDNN_ATTENTION", "EFFICIENT_ATTENTION"):
            if hasattr(SDPBackend, name):
                backends[name] = getattr(SDPBackend, name)
    else:
        results["notes"].append("torch.nn.attention.sdpa_kernel missing: default SDPA dispatch only")
        backends["DEFAULT"] = None

    tokens, width = 16384, 2048
    for t in (2048, 8192, 512):
        for hs in (128, 64):
            b, nh = tokens // t, width // hs
            q, k, v = (torch.randn(b, nh, t, hs, device=dev, dtype=dt) for _ in range(3))  # (B, NH, T, HS)
            for causal in (True, False):
                flops = 4 * b * nh * t * t * hs / (2 if causal else 1)
                for name, be in backends.items():
                    shape = {"op": "attention", "T": t, "HS": hs, "B": b, "NH": nh, "causal": causal, "impl": name}
                    if time.time() - t0 > args.budget:
                        results["skipped"].append(shape)
                        continue
                    def run(q=q, k=k, v=v, causal=causal):
                        return F.scaled_dot_product_attention(q, k, v, is_causal=causal)
                    try:
                        if be is None:
                            us = time_us(run, 4)
                        else:
                            with sdpa_kernel([be]):
                                us = time_us(run, 4)
                        results["rows"].append({**shape, "us": us, "tflops": flops / us / 1e6})
                    except Exception as e:  # noqa: BLE001 - a backend may not support a shape: record it
                        results["rows"].append({**shape, "error": repr(e)[:200]})
                    save(results, args.out)
            del q, k, v

    nh, nkv, hs = 32, 8, 128
    for length in (1024, 4096, 32768):
        for b in (1, 16):
            shape = {"op": "decode", "L": length, "B": b, "NH": nh, "NKV": nkv, "HS": hs, "impl": "sdpa dense cache"}
            if time.time() - t0 > args.budget:
                results["skipped"].append(shape)
                continue
            q = torch.randn(b, nh, 1, hs, device=dev, dtype=dt)
            k, v = (torch.randn(b, nkv, length, hs, device=dev, dtype=dt) for _ in range(2))
            try:
                try:
                    fn = lambda: F.scaled_dot_product_attention(q, k, v, enable_gqa=True)  # noqa: E731
                    fn()
                except TypeError:  # torch < 2.5: expand the KV heads (reads them NH/NKV times)
                    ke, ve = (x.repeat_interleave(nh // nkv, dim=1) for x in (k, v))
                    fn = lambda: F.scaled_dot_product_attention(q, ke, ve)  # noqa: E731
                    results["notes"].append("decode: enable_gqa unsupported, K/V heads expanded")
                us = time_us(fn, 8)
                results["rows"].append({**shape, "us": us, "gbs": 2 * b * length * nkv * hs * 2 / us / 1e3})
            except Exception as e:  # noqa: BLE001
                results["rows"].append({**shape, "error": repr(e)[:200]})
            save(results, args.out)
            del q, k, v

    save(results, args.out)
    print("copy GB/s", results["copy_gbs"], "skipped", len(results["skipped"]))


if __name__ == "__main__":
    main()
