#!/usr/bin/env python3
# make_random_checkpoint.py — writes a random GPT-2-layout model folder of a chosen size (default ~1.2B
# parameters: n_embd 2048, 22 layers, the size of Llama-3.2-1B) in BF16, sharded like transformers
# saves it (model-0000k-of-0000n.safetensors + model.safetensors.index.json) — the folder that
# `t4j info --model DIR --dtype bf16` measures the load of (bench/results/load-1b-cpu.md).
# Needs numpy only; writes tensor by tensor, so its own memory stays at one tensor.
#
#   python3 bench/make_random_checkpoint.py /tmp/t4j-1b [--embd 2048 --layers 22 --heads 16 --shards 5]
import argparse
import json
import os
import struct

import numpy as np


def bf16_bits(x):
    """float32 array → uint16 bf16 bits, round to nearest even (as torch.Tensor.to(torch.bfloat16))."""
    b = x.astype(np.float32).view(np.uint32)
    return ((b + 0x7FFF + ((b >> 16) & 1)) >> 16).astype(np.uint16)


def tensors(embd, layers, vocab, positions):
    """(name, shape, std) in GPT-2's own names and Conv1D [in, out] layouts."""
    yield "wte.weight", (vocab, embd), 0.02
    yield "wpe.weight", (positions, embd), 0.01
    for i in range(layers):
        h = f"h.{i}."
        yield h + "ln_1.weight", (embd,), 0.1
        yield h + "ln_1.bias", (embd,), 0.02
        yield h + "attn.c_attn.weight", (embd, 3 * embd), 0.02
        yield h + "attn.c_attn.bias", (3 * embd,), 0.02
        yield h + "attn.c_proj.weight", (embd, embd), 0.02
        yield h + "attn.c_proj.bias", (embd,), 0.02
        yield h + "ln_2.weight", (embd,), 0.1
        yield h + "ln_2.bias", (embd,), 0.02
        yield h + "mlp.c_fc.weight", (embd, 4 * embd), 0.02
        yield h + "mlp.c_fc.bias", (4 * embd,), 0.02
        yield h + "mlp.c_proj.weight", (4 * embd, embd), 0.02
        yield h + "mlp.c_proj.bias", (embd,), 0.02
    yield "ln_f.weight", (embd,), 0.1
    yield "ln_f.bias", (embd,), 0.02


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--embd", type=int, default=2048)
    ap.add_argument("--layers", type=int, default=22)
    ap.add_argument("--heads", type=int, default=16)
    ap.add_argument("--vocab", type=int, default=50257)
    ap.add_argument("--positions", type=int, default=1024)
    ap.add_argument("--shards", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    specs = list(tensors(a.embd, a.layers, a.vocab, a.positions))
    total = sum(2 * int(np.prod(s)) for _, s, _ in specs)
    per_shard = total / a.shards
    # group tensors into shards of about equal bytes, in order
    shards, cur, cur_bytes = [], [], 0
    for spec in specs:
        cur.append(spec)
        cur_bytes += 2 * int(np.prod(spec[1]))
        if cur_bytes >= per_shard and len(shards) < a.shards - 1:
            shards.append(cur)
            cur, cur_bytes = [], 0
    if cur:
        shards.append(cur)
    weight_map = {}
    n = len(shards)
    params = 0
    for k, group in enumerate(shards):
        name = f"model-{k + 1:05d}-of-{n:05d}.safetensors"
        header, off = {"__metadata__": {"format": "pt"}}, 0
        for t, shape, _ in group:
            size = 2 * int(np.prod(shape))
            header[t] = {"dtype": "BF16", "shape": list(shape), "data_offsets": [off, off + size]}
            off += size
            weight_map[t] = name
        hb = json.dumps(header, separators=(",", ":")).encode()
        hb += b" " * ((8 - len(hb) % 8) % 8)
        with open(os.path.join(a.dir, name), "wb") as f:
            f.write(struct.pack("<Q", len(hb)))
            f.write(hb)
            for t, shape, std in group:
                x = rng.standard_normal(shape, dtype=np.float32) * np.float32(std)
                if t.endswith("ln_1.weight") or t.endswith("ln_2.weight") or t == "ln_f.weight":
                    x += np.float32(1)
                f.write(bf16_bits(x).tobytes())
                params += int(np.prod(shape))
        print(f"{name}: {off:,} bytes", flush=True)
    with open(os.path.join(a.dir, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f)
    with open(os.path.join(a.dir, "config.json"), "w") as f:
        json.dump({"model_type": "gpt2", "n_embd": a.embd, "n_layer": a.layers, "n_head": a.heads,
                   "n_positions": a.positions, "vocab_size": a.vocab, "n_inner": 4 * a.embd,
                   "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new", "torch_dtype": "bfloat16"}, f)
    print(f"{a.dir}: {params:,} parameters, {total:,} bytes in {n} shards")


if __name__ == "__main__":
    main()
