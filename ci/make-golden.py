#!/usr/bin/env python3
"""make-golden.py — golden files from Hugging Face transformers, made on the GPU machine (it has PyTorch and
transformers; this repository's machines do not). Creates small random GPT-2, BERT (and, issue 14, BertForPreTraining,
BertForSequenceClassification, RoBERTa and DistilBERT with padded batches), T5 v1.0 and T5 v1.1 models (and, under
transformers 5.x, the tied v1.1 5.x writes), and the RoPE decoders Llama (llama3 rope scaling), Mistral, Qwen2
(sliding windows), Qwen3, Phi-3 and Gemma
(2 layers, C=64, 2 heads of size 32 — the attention kernels' smallest head size — narrow MLPs and a vocabulary of 128:
random models need no real tokenizer, and the folders must stay small, see MAX_BYTES; later families, each optional, are
listed in build_all: GPT-OSS, for one, with its sinks, yarn, biased router and clamped experts, unquantized, at hidden
32), saves each as a Hugging Face folder
(config.json + model.safetensors) with golden.safetensors beside it: fixed input ids (I32) and the reference
outputs in fp32, computed on the CPU in float32 so that the fixtures do not depend on the GPU.

Every parameter is redrawn (module by module, see randomize) so that each part of a model moves its outputs:
Hugging Face's own initialisation leaves norms at exactly 1 and 0 and GPT-2/BERT's matrices at std 0.02, under
which a wrong norm bias or GELU variant would change the logits by less than GoldenFilesTest's tolerance.

Nothing is written unless every check of the required folders passes (the script exits non-zero and says what is
wrong): each folder is reloaded with from_pretrained and must reproduce its golden outputs exactly (so save_pretrained
dropped only tied copies), its config.json must hold what model/.../Pretrained.java reads (with its defaults for absent
fields), weights must be float32 and tying must be as intended. The four REQUIRED folders must pass; every other family
is optional: a failure, the deadline or its size leaves that one folder out with a WARNING line, never the others.

Sizes (see MAX_BYTES, FOLDER_MAX_BYTES, COMMIT_BYTES and PRIORITY): a run writes at most MAX_BYTES (what golden.tgz
brings back from the GPU machine); past it the lowest-priority optional folders are left out. Of what it wrote, the
folders that fit under COMMIT_BYTES, in PRIORITY order, are listed in DIR/commit.txt: the travel budget (working tree +
bundle under 62 MiB, ci/make-bundle) holds only that much more, so only those are for committing.

Usage: python3 ci/make-golden.py --out DIR
Then commit the folders DIR/commit.txt names under model/src/test/resources/golden/ (GoldenFilesTest reads them);
ci/make-bundle says whether the tree still travels."""
import argparse
import inspect
import json
import os
import shutil
import sys
import time

import torch
import transformers
from safetensors import safe_open
from safetensors.torch import save_file

VOCAB = 128                    # 1000 until 2026-12-06: the logits and embeddings were half of every folder
SEED = 20261128
# Sizes, all fp32 (4 bytes a parameter or output value). Estimated by hand from the configs below (2026-12-06, no torch
# at hand): about 27.4 MB in 32 folders at vocabulary 1000 and the earlier MLP widths, which the old 11.3 MB cap refused
# whole; about 11.7 MB now (a RoPE decoder 0.26 MB, T5 0.58 to 0.68 MB, DeBERTa 1.0 MB, gpt-oss 0.29 MB).
# MAX_BYTES: what one run writes, all of which GoldenFilesTest and ModelGpuTest check in that run and golden.tgz brings
# back: under the 16 MiB a file may have coming back from the GPU machine (random fp32 hardly compresses), with room
# for the estimate's error. Past it optional folders are left out, never the run: each folder in PRIORITY order is kept
# while it still fits (choose()), each one left out says so in a WARNING line.
MAX_BYTES = 14_000_000
# FOLDER_MAX_BYTES: one folder's share; an optional folder over it is left out alone (a required one fails the run).
FOLDER_MAX_BYTES = 1_500_000
# COMMIT_BYTES: what may be committed under model/src/test/resources/golden/. The working tree and the bundle travel
# under ci/make-bundle's 62 MiB: 60.8 MiB on a fresh clone at 0603c53 (2026-12-05), then 3.3 MB less once the chat
# fixtures' tokenizer.json went from gzip to xz, so about 4.3 MiB are left; lib.txz grows with the code (0.3 MB in a
# day) and later fixtures need room too, so 2.5 MB: the four required folders (about 1.9 MB) and a few more. The run
# lists in DIR/commit.txt the written folders that fit, in PRIORITY order (a folder that does not fit is passed over
# for smaller ones after it). More needs room made elsewhere first.
COMMIT_BYTES = 2_500_000
# The folders in the order they are kept: the four required ones (any failure fails the run), then the most used
# architectures and issue 14's heads, then rarer features, then variants of a family already above; the 5.x-only tied
# T5 layout last. A folder missing here goes after them all (with a WARNING: add it).
REQUIRED = ("gpt2", "bert", "t5-v1_0", "t5-v1_1")
PRIORITY = REQUIRED + ("torch-save",) + (
    "llama", "qwen2", "mistral", "qwen3", "gemma",
    "bert-pretraining", "bert-seqcls", "roberta", "distilbert",
    "phi3", "gemma2", "gemma3-text", "mixtral", "qwen3-moe", "qwen2-moe", "olmoe", "gpt-oss",
    "modernbert-mlm", "mpnet", "embeddinggemma", "electra-seqcls", "deberta-v3-seqcls",
    "olmo2", "olmo", "smollm3", "granite", "qwen2-yarn", "phi3-longrope", "gpt-neox", "phi", "stablelm", "starcoder2", "opt", "gptj", "gpt-bigcode", "falcon",
    "bloom", "mpt", "falcon-rw", "gpt-neo", "albert", "albert-mlm", "cohere", "cohere2", "deepseek-v3", "deepseek-v2", "glm4-moe", "nemotron",
    "t5-v1_1-tied")
MISSING = object()


class GoldenError(Exception):
    pass


def fail(msg):
    raise GoldenError(msg)


def ids(rows, cols, gen):
    return torch.randint(0, VOCAB, (rows, cols), generator=gen, dtype=torch.int64)


@torch.no_grad()
def randomize(model, gen):
    """Redraws every parameter: embeddings N(0, 1), matrices N(0, 1/fan_in) (nn.Linear stores [out, in],
    GPT-2's Conv1D [in, out]), biases N(0, 0.1²), norm weights 1 + N(0, 0.2²) and norm biases N(0, 0.2²).
    A tied parameter is drawn once (where it is first met); a module of a kind not listed here is an error."""
    done = set()

    def draw(p, mean, std):
        if id(p) not in done:
            p.copy_(mean + std * torch.randn(p.shape, generator=gen, dtype=torch.float32))
            done.add(id(p))

    for name, mod in model.named_modules():
        own = dict(mod.named_parameters(recurse=False))
        if not own:
            continue
        kind = type(mod).__name__
        if isinstance(mod, torch.nn.Embedding):
            draw(mod.weight, 0.0, 1.0)
        elif isinstance(mod, torch.nn.Linear) or kind == "Conv1D":
            fan_in = mod.weight.shape[1] if isinstance(mod, torch.nn.Linear) else mod.weight.shape[0]
            draw(mod.weight, 0.0, fan_in ** -0.5)
            if getattr(mod, "bias", None) is not None:
                draw(mod.bias, 0.0, 0.1)
        elif own and all(n in ("gate_up_proj", "down_proj") and p.dim() == 3 for n, p in own.items()):
            for p in own.values():                                            # 5.x's stacked experts (E, out, in)
                draw(p, 0.0, p.shape[-1] ** -0.5)
        elif set(own) == {"weight"} and own["weight"].dim() == 2 and "router" in kind.lower():   # 5.x's TopKRouter (E, C)
            draw(own["weight"], 0.0, own["weight"].shape[1] ** -0.5)
        elif set(own) == {"weight", "bias"} and own["weight"].dim() == 2 and "router" in kind.lower():   # GptOssTopKRouter
            draw(own["weight"], 0.0, own["weight"].shape[1] ** -0.5)
            draw(own["bias"], 0.0, 0.1)
        elif set(own) == {"sinks"} and own["sinks"].dim() == 1:                # GptOssAttention's per-head sink logits
            draw(own["sinks"], 0.0, GPT_OSS_SINK_STD)
        elif set(own) == {"gate_up_proj", "gate_up_proj_bias", "down_proj", "down_proj_bias"}:   # GptOssExperts
            # (E, in, out) as modeling_gpt_oss stores them (x @ w), or (E, out, in): fan_in is the side the bias is not
            for pname, gain in GPT_OSS_EXPERT_GAINS.items():
                w, b = own[pname], own[pname + "_bias"]
                fan_in = w.shape[1] if w.shape[2] == b.shape[-1] else w.shape[2]
                draw(w, 0.0, gain * fan_in ** -0.5)
                draw(b, 0.0, 0.1)
        elif set(own) == {"bias"} and own["bias"].dim() == 1:                  # BertLMPredictionHead.bias (the decoder's)
            draw(own["bias"], 0.0, 0.1)
        elif set(own) <= {"weight", "bias"} and all(p.dim() == 1 for p in own.values()):   # LayerNorm, T5LayerNorm
            draw(own["weight"], 1.0, 0.2)
            if "bias" in own:
                draw(own["bias"], 0.0, 0.2)
        else:
            fail(f"{name}: a {kind} with parameters {sorted(own)}; randomize does not know how to draw it")
    left = [n for n, p in model.named_parameters() if id(p) not in done]
    if left:
        fail(f"parameters not redrawn: {left}")
    bad = [n for n, p in model.named_parameters() if p.dtype != torch.float32]
    if bad:
        fail(f"parameters not float32: {bad}")


ROUTING_GAP = 0.005
# GPT-OSS: its router ranks logits, so the gap is between logits: 0.025 is about what 0.005 is between probabilities near 0.3
GPT_OSS_ROUTING_GAP = 0.025
GPT_OSS_VOCAB = VOCAB
GPT_OSS_SINK_STD = 1.5
# the experts' matrices drawn N(0, (gain / sqrt(fan_in))²): gate / up values of std ≈ 4 pass the swiglu clamps at ±7 (a few
# percent of them), the down projection small enough that the MoE output stays near the residual stream's size
GPT_OSS_EXPERT_GAINS = {"gate_up_proj": 4.0, "down_proj": 0.35}


@torch.no_grad()
def routing_gap(model, x, k):
    """The smallest gap between a token's k-th and (k+1)-th routing probability over the sparse layers (the routers'
    logits as transformers returns them with output_router_logits)."""
    model.eval()
    out = model(input_ids=x, output_router_logits=True)
    logits = getattr(out, "router_logits", None)
    if not logits:
        raise GoldenError("the model returned no router_logits: the routing margin cannot be checked")
    gap = float("inf")
    for r in logits:
        p = torch.softmax(r.float().reshape(-1, r.shape[-1]), dim=-1).sort(dim=-1, descending=True).values
        gap = min(gap, (p[:, k - 1] - p[:, k]).min().item())
    return gap


@torch.no_grad()
def deepseek_gap(model, x, k):
    """DeepSeek's routing margin, recomputed from each sparse layer's input as transformers' routers score it (fp32 logits
    of the fp32 input; V2 softmax, V3 sigmoid + e_score_correction_bias for the choice; groups kept by their max (V2's
    group_limited_greedy) or the sum of their two best (V3), every other expert's score 0.0): the smallest gap between a
    token's k-th and (k+1)-th choice and, with groups, between its topk_group-th and next group. DeepSeek's models return
    no router_logits, so the sparse blocks' inputs are caught with forward pre-hooks."""
    model.eval()
    cfg = model.config
    v3 = cfg.model_type in ("deepseek_v3", "glm4_moe")                                   # GLM-4.5's router is V3's
    seen, hooks = [], []
    for layer in model.model.layers:
        if hasattr(layer.mlp, "experts"):
            hooks.append(layer.mlp.register_forward_pre_hook(lambda mod, args: seen.append((mod, args[0].detach()))))
    try:
        model(input_ids=x)
    finally:
        for h in hooks:
            h.remove()
    if not seen:
        raise GoldenError("no sparse layer ran: the routing margin cannot be checked")
    gap = float("inf")
    for mod, h in seen:
        logits = h.reshape(-1, h.shape[-1]).float() @ mod.gate.weight.float().T
        scores = logits.sigmoid() + mod.gate.e_score_correction_bias.float() if v3 else logits.softmax(dim=-1)
        groups = getattr(cfg, "n_group", None) or 1
        if v3 or getattr(cfg, "topk_method", "greedy") == "group_limited_greedy":
            g = scores.view(scores.shape[0], groups, -1)
            gs = g.topk(2, dim=-1).values.sum(dim=-1) if v3 else g.max(dim=-1).values
            kept = cfg.topk_group
            if kept < groups:
                ordered = gs.sort(dim=-1, descending=True).values
                gap = min(gap, (ordered[:, kept - 1] - ordered[:, kept]).min().item())
            idx = gs.topk(kept, dim=-1).indices
            mask = torch.zeros_like(gs).scatter_(1, idx, 1).bool().unsqueeze(-1).expand_as(g).reshape(scores.shape)
            scores = scores.masked_fill(~mask, 0.0)
        ordered = scores.sort(dim=-1, descending=True).values
        gap = min(gap, (ordered[:, k - 1] - ordered[:, k]).min().item())
    return gap


@torch.no_grad()
def deepseek_bias(model, gen):
    """DeepSeek-V3's e_score_correction_bias (a buffer randomize leaves alone) drawn N(0, 0.1²), so that it changes choices."""
    for layer in model.model.layers:
        gate = getattr(layer.mlp, "gate", None)
        if gate is not None and hasattr(gate, "e_score_correction_bias"):
            b = gate.e_score_correction_bias
            b.copy_(0.1 * torch.randn(b.shape, generator=gen, dtype=torch.float32))


@torch.no_grad()
def gpt_oss_probe(model, x):
    """GPT-OSS: (the smallest gap between a token's k-th and (k+1)-th router LOGIT over every layer (GptOssTopKRouter takes
    torch.topk of x Wᵀ + b), [gate elements above swiglu_limit, up above it, up below -swiglu_limit] over the chosen
    (token, expert) pairs), from each router's input, which is also the experts' (caught by a forward pre-hook), and the
    experts' parameters: gate_up = x @ gate_up_proj[e] + gate_up_proj_bias[e], gate = [..., ::2], up = [..., 1::2]."""
    model.eval()
    seen = []

    def catch(mod, args, kwargs):
        seen.append((mod, args[0] if args else next(iter(kwargs.values()))))
    layers = model.model.layers
    hooks = [layer.mlp.router.register_forward_pre_hook(catch, with_kwargs=True) for layer in layers]
    try:
        model(input_ids=x)
    finally:
        for h in hooks:
            h.remove()
    if len(seen) != len(layers):
        raise GoldenError(f"caught {len(seen)} router calls for {len(layers)} layers")
    k = model.config.num_experts_per_tok
    limit = float(getattr(model.config, "swiglu_limit", None) or 7.0)
    gap, hits = float("inf"), [0, 0, 0]
    for (router, hidden), layer in zip(seen, layers):
        hidden = hidden.reshape(-1, hidden.shape[-1]).float()
        logits = torch.nn.functional.linear(hidden, router.weight.float(), router.bias.float())
        top = logits.sort(dim=-1, descending=True)
        gap = min(gap, (top.values[:, k - 1] - top.values[:, k]).min().item())
        ex = layer.mlp.experts
        two_i = ex.gate_up_proj_bias.shape[-1]
        for e in range(ex.gate_up_proj.shape[0]):
            rows = (top.indices[:, :k] == e).any(dim=-1)
            w = ex.gate_up_proj[e].float()
            w = w if w.shape[-1] == two_i else w.t()
            gu = hidden[rows] @ w + ex.gate_up_proj_bias[e].float()
            gate, up = gu[..., ::2], gu[..., 1::2]
            hits[0] += int((gate > limit).sum())
            hits[1] += int((up > limit).sum())
            hits[2] += int((up < -limit).sum())
    return gap, hits


def check_tied(what, a, b, tied):
    if (a.data_ptr() == b.data_ptr()) != tied:
        fail(f"{what}: expected {'tied' if tied else 'separate'} weights, got the opposite "
             "(this transformers version changed a default; set it explicitly)")


def check_config(path, want, java_defaults):
    """config.json must give Pretrained.java the values the model was built with (absent or null fields take
    Pretrained.java's defaults), and every token id in it must lie inside the vocabulary."""
    with open(os.path.join(path, "config.json")) as fh:
        cfg = json.load(fh)
    problems = []
    for key, value in want.items():
        got = cfg.get(key)
        if got is None:
            got = java_defaults.get(key, MISSING)
        if got is MISSING or got != value:
            problems.append(f"{key}: config.json gives {cfg.get(key, '(absent)')!r}, Pretrained.java would read "
                            f"{'nothing' if got is MISSING else repr(got)}, the model has {value!r}")
    for key, value in cfg.items():
        if key.endswith("_token_id") and value is not None:
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < VOCAB:
                problems.append(f"{key} = {value!r} is not a token id in [0, {VOCAB})")
    if problems:
        fail(f"{path}/config.json: " + "; ".join(problems))


def check_weights(path):
    """One unsharded model.safetensors, every tensor float32."""
    files = sorted(os.listdir(path))
    if "model.safetensors" not in files or any(f.endswith(".bin") or f.endswith(".index.json") for f in files):
        fail(f"{path}: expected one model.safetensors (no .bin, no shards), found {files}")
    with safe_open(os.path.join(path, "model.safetensors"), framework="pt") as f:
        keys = list(f.keys())
        bad = [k for k in keys if f.get_tensor(k).dtype != torch.float32]
    if not keys or bad:
        fail(f"{path}/model.safetensors: {len(keys)} tensors, not float32: {bad}")
    return keys


def check_outputs(name, outputs, shapes):
    for key, shape in shapes.items():
        t = outputs[key]
        if tuple(t.shape) != shape:
            fail(f"{name}: {key} has shape {tuple(t.shape)}, expected {shape}")
        if t.is_floating_point():
            if t.dtype != torch.float32 or not torch.isfinite(t).all():
                fail(f"{name}: {key} is {t.dtype} or not finite")
            if t.std() < 0.1:
                fail(f"{name}: {key} barely varies (std {t.std():.3g}): a degenerate reference")
        elif t.dtype != torch.int32:
            fail(f"{name}: {key} is {t.dtype}, expected int32")


def save_pretrained(model, path):
    kwargs = {"safe_serialization": True} if "safe_serialization" in inspect.signature(model.save_pretrained).parameters else {}
    model.save_pretrained(path, **kwargs)


@torch.no_grad()
def make(stage, name, model, run, inputs, shapes, want, java_defaults, info, reload_config=None):
    """Saves model and its golden outputs into stage/name and checks them; run(model) → dict of outputs."""
    model.eval()                                                             # dropout off
    outputs = run(model)
    tensors = dict(inputs, **{k: v.float() for k, v in outputs.items()})
    tensors = {k: (v.int() if not v.is_floating_point() else v).contiguous() for k, v in tensors.items()}
    check_outputs(name, tensors, shapes)
    path = os.path.join(stage, name)
    save_pretrained(model, path)
    save_file(tensors, os.path.join(path, "golden.safetensors"))
    with open(os.path.join(path, "golden.json"), "w") as fh:
        json.dump(dict(info, seed=SEED, init="randomize() in ci/make-golden.py", transformers=transformers.__version__,
                       torch=torch.__version__), fh, indent=1)
    check_config(path, want, java_defaults)
    keys = check_weights(path)
    # the saved folder alone must give the same outputs: nothing but tied copies was dropped
    extra = {"config": reload_config(path)} if reload_config else {}
    loaded, loading = type(model).from_pretrained(path, output_loading_info=True, **extra)
    loaded.eval()
    again = run(loaded)
    for k, v in outputs.items():
        diff = (again[k].float() - v.float()).abs().max().item()
        if diff > 1e-6 * v.abs().max().item():
            fail(f"{name}: reloading the saved folder changes {k} by {diff} (loading info: {loading}; keys: {keys})")
    print(name, {k: tuple(v.shape) for k, v in tensors.items()}, f"{len(keys)} weight tensors", flush=True)


def torch_save_folder(stage):
    """torch-save/ (a few KB): a state dict PyTorch itself saves, in both formats — zip.bin (torch.save) and legacy.bin
    (_use_new_zipfile_serialization=False) — and expected.safetensors, its tensors made contiguous and written by
    safetensors.torch, without the tied copy (expected.json: "dropped"). The cases ci/reference/torch_save.py imitates
    for the Java reader (TorchCheckpoint): a tied parameter (one storage, two names), q / k / v split from one fused
    tensor (one storage, offsets 0, 12, 24), a transposed view, a 0-d scalar, an empty tensor, float16, bfloat16, int64,
    bool, an nn.Parameter. GoldenFilesTest converts both files and compares the bytes."""
    import collections
    d = os.path.join(stage, "torch-save")
    os.makedirs(d)
    g = torch.Generator().manual_seed(SEED + 90)
    emb, fused, base = torch.randn(6, 4, generator=g), torch.randn(9, 4, generator=g), torch.randn(3, 5, generator=g)
    q, k, v = fused.split(3)
    sd = collections.OrderedDict([
        ("model.embed_tokens.weight", emb), ("lm_head.weight", emb), ("attn.q.weight", q), ("attn.k.weight", k),
        ("attn.v.weight", v), ("proj.weight_t", base.t()), ("scale", torch.tensor(0.5)), ("empty", torch.zeros(0, 4)),
        ("half", torch.randn(2, 3, generator=g).half()), ("bf16", torch.randn(4, generator=g).bfloat16()),
        ("ids", torch.arange(-3, 5).reshape(2, 4)), ("mask", torch.ones(3, 3, dtype=torch.bool).tril()),
        ("param", torch.nn.Parameter(torch.randn(2, 2, generator=g)))])
    if sd["proj.weight_t"].is_contiguous() or sd["attn.k.weight"].storage_offset() != 12:
        raise GoldenError("torch-save: the views are not the views this folder is for")
    torch.save(sd, os.path.join(d, "zip.bin"))
    torch.save(sd, os.path.join(d, "legacy.bin"), _use_new_zipfile_serialization=False)
    save_file({n: t.detach().contiguous().clone() for n, t in sd.items() if n != "lm_head.weight"},
              os.path.join(d, "expected.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(d, "expected.json"), "w") as fh:
        json.dump({"dropped": ["lm_head.weight"], "torch": torch.__version__}, fh, indent=1)
        fh.write("\n")


def build_all(stage):
    torch.set_default_dtype(torch.float32)
    gen = torch.Generator().manual_seed(SEED)                               # the input ids
    try:                                                                     # optional: never sinks the model folders
        torch_save_folder(stage)
    except Exception as e:                                                   # noqa: BLE001
        shutil.rmtree(os.path.join(stage, "torch-save"), ignore_errors=True)
        print(f"make-golden.py: WARNING: torch-save left out: {type(e).__name__}: {e}", flush=True)

    # GPT-2: pre-LN, gelu_new (tanh), learned positions, lm_head tied to wte. GPT2Config's bos/eos default to
    # 50256, outside this vocabulary (TransformerConfig rejects them): the last id plays <|endoftext|> here.
    gpt2 = transformers.GPT2LMHeadModel(transformers.GPT2Config(
        vocab_size=VOCAB, n_positions=32, n_embd=64, n_layer=2, n_head=2, n_inner=128,
        activation_function="gelu_new", layer_norm_epsilon=1e-5, bos_token_id=VOCAB - 1, eos_token_id=VOCAB - 1))
    randomize(gpt2, torch.Generator().manual_seed(SEED + 1))
    check_tied("gpt2 lm_head", gpt2.lm_head.weight, gpt2.transformer.wte.weight, True)
    x = ids(2, 12, gen)
    make(stage, "gpt2", gpt2, lambda m: {"logits": m(input_ids=x).logits},
         {"input_ids": x}, {"input_ids": (2, 12), "logits": (2, 12, VOCAB)},
         {"model_type": "gpt2", "vocab_size": VOCAB, "n_embd": 64, "n_layer": 2, "n_head": 2, "n_inner": 128,
          "n_positions": 32, "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5, "tie_word_embeddings": True,
          "bos_token_id": VOCAB - 1, "eos_token_id": VOCAB - 1},
         {"activation_function": "gelu_new", "layer_norm_epsilon": 1e-5, "n_positions": 1024, "n_inner": 256,
          "tie_word_embeddings": True, "bos_token_id": VOCAB - 1, "eos_token_id": VOCAB - 1},
         {"model": "GPT2LMHeadModel", "compare": ["logits"]})

    # BERT: post-LN, exact gelu, token type 0 (HF's default when token_type_ids is not given), no attention mask.
    bert = transformers.BertModel(transformers.BertConfig(
        vocab_size=VOCAB, hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128,
        max_position_embeddings=32, type_vocab_size=2, hidden_act="gelu", layer_norm_eps=1e-12, pad_token_id=0))
    randomize(bert, torch.Generator().manual_seed(SEED + 2))
    x = ids(2, 11, gen)
    make(stage, "bert", bert, lambda m: {"last_hidden_state": m(input_ids=x).last_hidden_state},
         {"input_ids": x}, {"input_ids": (2, 11), "last_hidden_state": (2, 11, 64)},
         {"model_type": "bert", "vocab_size": VOCAB, "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
          "intermediate_size": 128, "max_position_embeddings": 32, "type_vocab_size": 2, "hidden_act": "gelu",
          "layer_norm_eps": 1e-12, "pad_token_id": 0},
         {"hidden_act": "gelu", "layer_norm_eps": 1e-12, "max_position_embeddings": 512, "type_vocab_size": 2,
          "pad_token_id": 0},
         {"model": "BertModel", "compare": ["last_hidden_state"]})

    encoders(stage, gen)

    # T5 v1.0 (relu, lm_head tied to shared, logits scaled by d_model^-0.5) and v1.1 (gated-gelu, which HF runs
    # as gelu_new, untied lm_head, unscaled). Attention scale 1, RMSNorm, relative buckets in block 0 of each stack.
    # The decoder input is given as is (no shift): GoldenFilesTest feeds decoder_input_ids to logits(input, target).
    #
    # transformers 4.x reads tie_word_embeddings for both the tie and the scaling. 5.x's T5Config turns
    # tie_word_embeddings=False into scale_decoder_outputs=False and forces tie_word_embeddings=True, so a v1.1 built
    # from the config alone gets its lm_head tied to shared. Published v1.1 checkpoints (and 4.x) carry an untied
    # lm_head with tie_word_embeddings false: t5-v1_1 is made in that layout under both versions (under 5.x the head
    # is untied by hand and config.tie_word_embeddings set back to false, and the reload check passes that config
    # explicitly, since 5.x's from_pretrained would re-tie it). Under 5.x a fourth folder, t5-v1_1-tied, holds what
    # 5.x itself writes for a v1.1 model (tie_word_embeddings true, scale_decoder_outputs false, no lm_head.weight).
    v5 = hasattr(transformers.T5Config(), "scale_decoder_outputs")
    variants = [("t5-v1_0", "relu", True, True), ("t5-v1_1", "gated-gelu", False, False)]
    if v5:
        variants.append(("t5-v1_1-tied", "gated-gelu", True, False))
    for k, (name, proj, tied, scaled) in enumerate(variants):
        t5 = transformers.T5ForConditionalGeneration(transformers.T5Config(
            vocab_size=VOCAB, d_model=64, d_kv=32, d_ff=64, num_layers=2, num_decoder_layers=2, num_heads=2,
            relative_attention_num_buckets=32, relative_attention_max_distance=128, feed_forward_proj=proj,
            layer_norm_epsilon=1e-6, tie_word_embeddings=scaled, decoder_start_token_id=0, pad_token_id=0, eos_token_id=1))
        if not tied and t5.lm_head.weight.data_ptr() == t5.shared.weight.data_ptr():     # 5.x tied it: untie
            t5.lm_head.weight = torch.nn.Parameter(torch.empty_like(t5.shared.weight))
        t5.config.tie_word_embeddings = tied
        if v5 and bool(getattr(t5.config, "scale_decoder_outputs", None)) != scaled:
            fail(f"{name}: T5Config.scale_decoder_outputs is {t5.config.scale_decoder_outputs!r}, expected {scaled}")
        randomize(t5, torch.Generator().manual_seed(SEED + 3 + k))
        check_tied(f"{name} lm_head", t5.lm_head.weight, t5.shared.weight, tied)
        check_tied(f"{name} encoder.embed_tokens", t5.encoder.embed_tokens.weight, t5.shared.weight, True)
        check_tied(f"{name} decoder.embed_tokens", t5.decoder.embed_tokens.weight, t5.shared.weight, True)
        x = ids(2, 10, gen)
        y = ids(2, 7, gen)

        def run(m, x=x, y=y):
            out = m(input_ids=x, decoder_input_ids=y)
            return {"logits": out.logits, "encoder_last_hidden_state": out.encoder_last_hidden_state}

        want = {"model_type": "t5", "vocab_size": VOCAB, "d_model": 64, "d_kv": 32, "d_ff": 64, "num_layers": 2,
                "num_decoder_layers": 2, "num_heads": 2, "relative_attention_num_buckets": 32,
                "relative_attention_max_distance": 128, "feed_forward_proj": proj, "layer_norm_epsilon": 1e-6,
                "tie_word_embeddings": tied, "decoder_start_token_id": 0, "pad_token_id": 0, "eos_token_id": 1}
        if v5:
            want["scale_decoder_outputs"] = scaled
        try:
            t5_make(stage, name, t5, run, x, y, proj, tied, scaled, want, v5)
        except GoldenError as e:
            if name != "t5-v1_1-tied":
                raise
            # the extra 5.x layout only: the four standard folders still stand; say so loudly
            shutil.rmtree(os.path.join(stage, name), ignore_errors=True)
            print(f"make-golden.py: WARNING: {name} left out: {e}", flush=True)


    # The RoPE decoders (issue 15/16), eager attention, 2 layers, C=64, 2 heads of 32 over 1 KV head (the attention
    # kernels' smallest head size, so the GPU check can hold them to the BF16 rule too), MLP width 64 (128 until
    # 2026-12-06; the mixtures' experts 32 or 64 wide), 24-token inputs: past the sliding windows (7, 6); tied heads
    # but Llama's, OLMo 2's and OLMoE's (the folders' size: about 0.26 MB each, 0.3 to 0.6 MB for the mixtures). Written without torch at hand (2026-12-04): each
    # family that fails here is left out with a warning, never taking the other folders with it.
    common = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                  num_key_value_heads=1, max_position_embeddings=128, rms_norm_eps=1e-6, bos_token_id=1, eos_token_id=2,
                  pad_token_id=0, tie_word_embeddings=True)
    decoders = [
        ("llama", "LlamaForCausalLM", "LlamaConfig", dict(attention_bias=True, tie_word_embeddings=False, rope_theta=10000.0, rope_scaling={
            "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
            "original_max_position_embeddings": 32})),
        ("mistral", "MistralForCausalLM", "MistralConfig", dict(sliding_window=7, head_dim=32)),
        ("qwen2", "Qwen2ForCausalLM", "Qwen2Config", dict(use_sliding_window=True, sliding_window=6, max_window_layers=1)),
        ("qwen3", "Qwen3ForCausalLM", "Qwen3Config", dict(head_dim=32)),
        ("phi3", "Phi3ForCausalLM", "Phi3Config", dict(partial_rotary_factor=0.5, original_max_position_embeddings=128)),
        ("gemma", "GemmaForCausalLM", "GemmaConfig", dict(head_dim=32, hidden_activation="gelu_pytorch_tanh")),
        # Gemma 2 (2026-12-05): soft-capped attention (5) and logits (3) so that both bend the outputs, query_pre_attn_scalar
        # 24 (not head_dim 32), the extra norms, layer 0 sliding (window 6), layer 1 full; eager attention (the cap lives there)
        ("gemma2", "Gemma2ForCausalLM", "Gemma2Config", dict(head_dim=32, hidden_activation="gelu_pytorch_tanh",
                                                          query_pre_attn_scalar=24, attn_logit_softcapping=5.0,
                                                          final_logit_softcapping=3.0, sliding_window=6)),
        # Gemma 3 text (2026-12-05): q/k norms, RoPE per layer type (layers 0 and 2 slide with the local base, layer 1 is
        # full with rope_theta and linear scaling 8)
        ("gemma3-text", "Gemma3ForCausalLM", "Gemma3TextConfig", dict(num_hidden_layers=3, head_dim=32, query_pre_attn_scalar=24,
                                                                    sliding_window=6, rope_theta=1e6, rope_local_base_freq=10000.0,
                                                                    rope_scaling={"rope_type": "linear", "factor": 8.0},
                                                                    layer_types=["sliding_attention", "full_attention",
                                                                                 "sliding_attention"])),
        # OLMo 2 (2026-12-05): no input norms, output norms, q/k norms over the whole projections
        ("olmo2", "Olmo2ForCausalLM", "Olmo2Config", dict(tie_word_embeddings=False, rope_theta=500000.0)),
        # OLMo (2026-12-07, written without torch at hand): weightless LayerNorms, clip_qkv 1.5 (q, k, v are about N(0, 1)
        # under randomize's N(0, 1/fan_in) matrices, so the clamp bites), untied as OLMo-7B-0424-hf
        ("olmo", "OlmoForCausalLM", "OlmoConfig", dict(tie_word_embeddings=False, clip_qkv=1.5)),
        # SmolLM3 (2026-12-05): layer 1 without RoPE (no_rope_layer_interval 2)
        ("smollm3", "SmolLM3ForCausalLM", "SmolLM3Config", dict(no_rope_layer_interval=2, rope_theta=5000000.0)),
        # Granite (2026-12-05): its four multipliers at Granite 3.x sizes (attention 0.09 for head_dim 32)
        ("granite", "GraniteForCausalLM", "GraniteConfig", dict(embedding_multiplier=12.0, attention_multiplier=0.09,
                                                             residual_multiplier=0.22, logits_scaling=8.0)),
        # rope scaling with an attention factor (2026-12-05): yarn as Qwen2.5 publishes it (factor 4, original 32: the
        # ramp runs over pairs 1..3 of 16), LongRoPE as Phi-3-128k does (original max at the top level, 24 > 16 tokens:
        # the long factors, 12 per head for rotary 24 of 32)
        ("qwen2-yarn", "Qwen2ForCausalLM", "Qwen2Config", dict(rope_scaling={"rope_type": "yarn", "factor": 4.0,
                                                                              "original_max_position_embeddings": 32})),
        ("phi3-longrope", "Phi3ForCausalLM", "Phi3Config", dict(partial_rotary_factor=0.75, original_max_position_embeddings=16,
                                                                rope_scaling={"rope_type": "longrope",
                                                                              "short_factor": [1.0 + 0.05 * i for i in range(12)],
                                                                              "long_factor": [1.0 + 1.5 * i for i in range(12)]})),
        # mixtures of experts (2026-12-05): 4 experts, top 2; Mixtral renormalizes always, Qwen3-MoE by norm_topk_prob,
        # Qwen2-MoE and OLMoE not; Qwen2-MoE's shared expert with its sigmoid gate and a dense layer 1 (mlp_only_layers)
        ("mixtral", "MixtralForCausalLM", "MixtralConfig", dict(num_local_experts=4, num_experts_per_tok=2, rope_theta=1e6)),
        ("qwen2-moe", "Qwen2MoeForCausalLM", "Qwen2MoeConfig", dict(num_experts=4, num_experts_per_tok=2, moe_intermediate_size=32,
                                                                 shared_expert_intermediate_size=48, mlp_only_layers=[1])),
        ("qwen3-moe", "Qwen3MoeForCausalLM", "Qwen3MoeConfig", dict(num_experts=4, num_experts_per_tok=2, moe_intermediate_size=32,
                                                                 norm_topk_prob=True, head_dim=32)),
        ("olmoe", "OlmoeForCausalLM", "OlmoeConfig", dict(num_experts=4, num_experts_per_tok=2, tie_word_embeddings=False)),
        # the parallel-residual decoders (2026-12-06): GPT-NeoX as Pythia (parallel residual, rotary_pct 0.5: 16 of 32 dims,
        # exact gelu, untied embed_out, per-head interleaved query_key_value), Phi as phi-2 (one norm feeding attention and
        # MLP, partial_rotary_factor 0.4: int(32 · 0.4) = 12 dims, gelu_new, lm_head with a bias; GQA 2 over 1); LayerNorms
        # (layer_norm_eps), so the RMSNorm field is not passed, nor GPT-NeoX's (absent) num_key_value_heads
        ("gpt-neox", "GPTNeoXForCausalLM", "GPTNeoXConfig", dict(rotary_pct=0.5, use_parallel_residual=True, hidden_act="gelu",
                                                              tie_word_embeddings=False, layer_norm_eps=1e-5)),
        ("phi", "PhiForCausalLM", "PhiConfig", dict(partial_rotary_factor=0.4, hidden_act="gelu_new", tie_word_embeddings=False,
                                                   layer_norm_eps=1e-5)),
        # LayerNorm decoders with Llama's names (2026-12-06): StableLM as stablelm-2-1_6b (q/k/v bias, a quarter of each head
        # rotated), Starcoder2 as starcoder2-3b (biases everywhere, c_fc / c_proj, every layer sliding, window 6 < 24)
        ("stablelm", "StableLmForCausalLM", "StableLmConfig", dict(partial_rotary_factor=0.25, use_qkv_bias=True, layer_norm_eps=1e-5,
                                                                tie_word_embeddings=False)),
        ("starcoder2", "Starcoder2ForCausalLM", "Starcoder2Config", dict(norm_epsilon=1e-5, sliding_window=6, use_bias=True,
                                                                      hidden_act="gelu_pytorch_tanh")),
        # OPT as opt-125m (pre-LN, relu, biases, learned positions read at +2, tied output)
        ("opt", "OPTForCausalLM", "OPTConfig", dict(ffn_dim=64, do_layer_norm_before=True, word_embed_proj_dim=64,
                                                   activation_function="relu", enable_bias=True)),
        # GPT-J as gpt-j-6b (rotate_every_two over rotary_dim 16 of head 32, one ln_1 feeding both, lm_head bias)
        ("gptj", "GPTJForCausalLM", "GPTJConfig", dict(n_embd=64, n_head=2, n_layer=2, n_inner=64, n_positions=128, rotary_dim=16,
                                                      activation_function="gelu_new", tie_word_embeddings=False)),
        # GPT-BigCode as StarCoder / tiny_starcoder_py (multi-query c_attn [q | k | v], learned positions, tied output)
        ("gpt-bigcode", "GPTBigCodeForCausalLM", "GPTBigCodeConfig", dict(n_embd=64, n_head=2, n_layer=2, n_inner=64, n_positions=128,
                                                                       multi_query=True, activation_function="gelu_pytorch_tanh")),
        # Falcon as falcon-40b (new_decoder_architecture: query_key_value per key/value group, ln_attn and ln_mlp)
        ("falcon", "FalconForCausalLM", "FalconConfig", dict(new_decoder_architecture=True, num_kv_heads=1, multi_query=False,
                                                          parallel_attn=True, bias=False, layer_norm_epsilon=1e-5, alibi=False)),
        # the ALiBi decoders (2026-12-07), 3 heads of 16 over hidden 48 (not a power of two: build_alibi_tensor's extra
        # slope, MPT's [1::2] + [::2] reorder), so each folder stays near 0.25 MB: BLOOM as bloom-560m (n_layer / n_head,
        # word_embeddings_layernorm, per-head [q_h | k_h | v_h] query_key_value, bloom_gelu 4 · hidden MLP, tied), MPT as
        # mpt-7b (bias-free, [q | k | v] Wqkv, alibi_bias_max 8 — MptModel does not read it — max_seq_len 128 > 24 tokens),
        # Falcon-RW as falcon-rw-1b (alibi, multi_query false: per-head [q | k | v], sequential layers, biases, ffn 4 · hidden)
        ("bloom", "BloomForCausalLM", "BloomConfig", dict(hidden_size=48, n_layer=2, n_head=3, layer_norm_epsilon=1e-5,
                                                        apply_residual_connection_post_layernorm=False, pretraining_tp=1,
                                                        slow_but_exact=False)),
        ("mpt", "MptForCausalLM", "MptConfig", dict(d_model=48, n_heads=3, n_layers=2, expansion_ratio=4, max_seq_len=128,
                                                 no_bias=True, layer_norm_epsilon=1e-5,
                                                 attn_config={"attn_type": "multihead_attention", "alibi": True,
                                                              "alibi_bias_max": 8, "clip_qkv": None, "qk_ln": False,
                                                              "softmax_scale": None})),
        ("falcon-rw", "FalconForCausalLM", "FalconConfig", dict(hidden_size=48, num_attention_heads=3, alibi=True, multi_query=False,
                                                             parallel_attn=False, bias=True, new_decoder_architecture=False,
                                                             layer_norm_epsilon=1e-5)),
        # GPT-Neo as gpt-neo-125m: num_layers / num_heads (GPTNeoConfig's attribute_map), attention_types [[[global, local], 1]]
        # (layer 1 local with window_size 6 < 24 tokens, so its window cuts), bias-free q / k / v, out_proj with bias, UNSCALED
        # q·kᵀ, learned positions, c_fc / gelu_new / c_proj 64 wide, tied; current transformers saves no attn.attention.bias /
        # masked_bias buffers (persistent=False), so model.safetensors holds float32 weights only
        ("gpt-neo", "GPTNeoForCausalLM", "GPTNeoConfig", dict(num_layers=2, num_heads=2, attention_types=[[["global", "local"], 1]],
                                                           window_size=6, activation_function="gelu_new", layer_norm_epsilon=1e-5)),
        # Cohere (2026-12-08) as aya-expanse-8b (one CohereLayerNorm, mean-centred and bias-free, feeding attention and MLP in
        # parallel; the pairwise rotary of repeat_interleave'd cos/sin; logits * logit_scale 0.125; tied), Cohere 2 as
        # command-r7b (sliding_window_pattern 2: layer 0 slides with window 6 < 24 tokens and rotary, layer 1 is full and
        # NoPE; logit_scale 0.25; layer_types too, which 4.53+ and 5.x read first and 4.4x keeps as an unread attribute);
        # LayerNorms (layer_norm_eps), so the RMSNorm field is not passed
        ("cohere", "CohereForCausalLM", "CohereConfig", dict(layer_norm_eps=1e-5, logit_scale=0.125, rope_theta=10000.0,
                                                          use_qk_norm=False, attention_bias=False)),
        ("cohere2", "Cohere2ForCausalLM", "Cohere2Config", dict(layer_norm_eps=1e-5, logit_scale=0.25, rope_theta=50000.0,
                                                             sliding_window=6, sliding_window_pattern=2, attention_bias=False,
                                                             layer_types=["sliding_attention", "full_attention"])),
        # DeepSeek (2026-12-07, written without torch at hand): multi-head latent attention, 2 heads of qk 24 + 8 (32, the
        # kernels' smallest instance) with v 32, latent 32; layer 0 dense, layer 1 a mixture of 8 experts of 32 with one
        # shared expert; yarn (factor 4 over 32) with mscale = mscale_all_dim, so that only the softmax scale's mscale²
        # moves. V2 as DeepSeek-V2-Lite (q_proj, greedy softmax top-2, no renormalization); V3 as DeepSeek-V3 (q through
        # the low rank 32, sigmoid with e_score_correction_bias drawn N(0, 0.1²), 4 groups of 2 keep 2, top-3, renormalized,
        # × 2.5, rope_interleave by default). Their routing margins are deepseek_gap's (no router_logits come back).
        ("deepseek-v2", "DeepseekV2ForCausalLM", "DeepseekV2Config", dict(
            num_key_value_heads=2, tie_word_embeddings=False, q_lora_rank=None, kv_lora_rank=32, qk_nope_head_dim=24,
            qk_rope_head_dim=8, v_head_dim=32, n_routed_experts=8, num_experts_per_tok=2, n_shared_experts=1,
            moe_intermediate_size=32, first_k_dense_replace=1, topk_method="greedy", routed_scaling_factor=1.0,
            rope_parameters={"rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0, "original_max_position_embeddings": 32,
                             "mscale": 0.707, "mscale_all_dim": 0.707, "beta_fast": 32.0, "beta_slow": 1.0})),
        ("deepseek-v3", "DeepseekV3ForCausalLM", "DeepseekV3Config", dict(
            num_key_value_heads=2, tie_word_embeddings=False, q_lora_rank=32, kv_lora_rank=32, qk_nope_head_dim=24,
            qk_rope_head_dim=8, v_head_dim=32, n_routed_experts=8, num_experts_per_tok=3, n_group=4, topk_group=2,
            n_shared_experts=1, moe_intermediate_size=32, first_k_dense_replace=1, norm_topk_prob=True, routed_scaling_factor=2.5,
            rope_parameters={"rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0, "original_max_position_embeddings": 32,
                             "mscale": 1.0, "mscale_all_dim": 1.0, "beta_fast": 32.0, "beta_slow": 1.0})),
        # GLM-4.5 (2026-12-07, written without torch at hand) as GLM-4.5-Air scaled down: q/k/v biases, per-head q/k norms
        # (use_qk_norm), rotate_half over the first half of each head (partial_rotary_factor's default 0.5), DeepSeek-V3's
        # router (sigmoid, e_score_correction_bias drawn N(0, 0.1²), one group), 8 experts of 32 top-2, renormalized, × 2.5,
        # one shared expert, layer 0 dense
        ("glm4-moe", "Glm4MoeForCausalLM", "Glm4MoeConfig", dict(
            head_dim=32, attention_bias=True, use_qk_norm=True, n_routed_experts=8, num_experts_per_tok=2, n_shared_experts=1,
            moe_intermediate_size=32, first_k_dense_replace=1, n_group=1, topk_group=1, norm_topk_prob=True,
            routed_scaling_factor=2.5, tie_word_embeddings=False)),
        # NVIDIA Nemotron (2026-12-07, written without torch at hand) as Nemotron-Mini-4B: LayerNorm1P (weight + 1, with
        # bias), relu² MLP (up, down; not gated), rotate_half over half of each head, untied; LayerNorms (norm_eps), so the
        # RMSNorm field is not passed
        ("nemotron", "NemotronForCausalLM", "NemotronConfig", dict(head_dim=32, hidden_act="relu2", partial_rotary_factor=0.5,
                                                                norm_eps=1e-5, tie_word_embeddings=False)),
    ]
    # fields of `common` a family's config class does not have (LayerNorm families; GPT-NeoX is multi-head only)
    dropped = {"gpt-neox": ("rms_norm_eps", "num_key_value_heads"), "phi": ("rms_norm_eps",), "stablelm": ("rms_norm_eps",),
               "starcoder2": ("rms_norm_eps",), "opt": ("rms_norm_eps", "num_key_value_heads", "intermediate_size"),
               "gptj": ("rms_norm_eps", "num_key_value_heads", "intermediate_size", "hidden_size", "num_hidden_layers",
                        "num_attention_heads", "max_position_embeddings"),
               "gpt-bigcode": ("rms_norm_eps", "num_key_value_heads", "intermediate_size", "hidden_size", "num_hidden_layers",
                               "num_attention_heads", "max_position_embeddings"),
               "falcon": ("rms_norm_eps", "num_key_value_heads", "intermediate_size"),
               "bloom": ("rms_norm_eps", "num_key_value_heads", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                         "max_position_embeddings"),
               "mpt": ("rms_norm_eps", "num_key_value_heads", "intermediate_size", "hidden_size", "num_hidden_layers",
                       "num_attention_heads", "max_position_embeddings"),
               "falcon-rw": ("rms_norm_eps", "num_key_value_heads", "intermediate_size"),
               "gpt-neo": ("rms_norm_eps", "num_key_value_heads", "num_hidden_layers", "num_attention_heads"),
               "cohere": ("rms_norm_eps",), "cohere2": ("rms_norm_eps",), "olmo": ("rms_norm_eps",), "nemotron": ("rms_norm_eps",)}
    # what the ALiBi, GPT-Neo and Cohere folders' config.json must say beyond the common fields (their own names for them)
    also_want = {"bloom": {"n_layer": 2, "n_head": 3}, "mpt": {"d_model": 48, "n_heads": 3, "n_layers": 2},
                 "falcon-rw": {"alibi": True, "multi_query": False, "parallel_attn": False, "bias": True},
                 "gpt-neo": {"num_layers": 2, "num_heads": 2, "window_size": 6, "attention_types": [[["global", "local"], 1]]},
                 "cohere": {"logit_scale": 0.125}, "cohere2": {"logit_scale": 0.25, "sliding_window": 6}}
    # eager attention everywhere but Falcon-RW: FalconModel folds alibi / sqrt(head_dim) into the attention mask for every
    # implementation, and FalconAttention's eager alibi branch adds alibi to the scores once more (alibi twice since the
    # 4.4x mask rework); its SDPA path, transformers' default for Falcon and what from_pretrained reloads with, adds it once
    attn_impl = {"falcon-rw": "sdpa"}
    # T4J_GOLDEN_DEADLINE (epoch seconds; ci/gpu-check sets it a few seconds inside this script's cap): the decoder
    # folders are optional, so a slow machine leaves the last ones out and says so, instead of running into the cap
    # and losing every folder (a killed run writes nothing)
    deadline = float(os.environ.get("T4J_GOLDEN_DEADLINE", "inf"))
    for k, (name, model_cls, config_cls, extra) in enumerate(decoders):
        if time.time() > deadline:
            print(f"make-golden.py: WARNING: {name} left out: out of time (T4J_GOLDEN_DEADLINE)", flush=True)
            continue
        try:
            if not hasattr(transformers, model_cls):
                raise GoldenError(f"transformers {transformers.__version__} has no {model_cls}")
            kwargs = dict(common, **extra)
            for key in dropped.get(name, ()):
                kwargs.pop(key)
            config = getattr(transformers, config_cls)(**kwargs)
            config._attn_implementation = attn_impl.get(name, "eager")
            model = getattr(transformers, model_cls)(config)
            x = ids(2, 24, gen)
            top_k = getattr(config, "num_experts_per_tok", 0)
            for attempt in range(40 if top_k else 1):
                randomize(model, torch.Generator().manual_seed(SEED + 20 + k + 1000 * attempt))
                deepseek = name.startswith("deepseek") or name == "glm4-moe"                 # DeepSeek's routers (GLM-4.5: V3's)
                if deepseek:
                    deepseek_bias(model, torch.Generator().manual_seed(SEED + 40 + k + 1000 * attempt))
                # a MoE folder must route the same in BF16: redraw until every token's k-th and (k+1)-th expert
                # probabilities are at least ROUTING_GAP apart in every sparse layer
                gap = (deepseek_gap if deepseek else routing_gap)(model, x, top_k) if top_k else float("inf")
                if gap >= ROUTING_GAP:
                    break
            else:
                raise GoldenError(f"no draw in 40 kept every routing gap above {ROUTING_GAP} (last {gap:.3g})")
            want = {key: kwargs[key] for key in ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                                                 "num_attention_heads", "num_key_value_heads") if key in kwargs}
            want["model_type"] = {"gemma3-text": "gemma3_text", "qwen2-moe": "qwen2_moe", "qwen3-moe": "qwen3_moe", "gpt-neox": "gpt_neox", "gpt-bigcode": "gpt_bigcode",
                                 "gpt-neo": "gpt_neo", "deepseek-v2": "deepseek_v2", "deepseek-v3": "deepseek_v3", "glm4-moe": "glm4_moe"}.get(
                name, name.split("-")[0])                                                   # qwen2-yarn holds a qwen2 model
            want.update(also_want.get(name, {}))
            make(stage, name, model, lambda m, x=x: {"logits": m(input_ids=x).logits},
                 {"input_ids": x}, {"input_ids": (2, 24), "logits": (2, 24, VOCAB)}, want, {},
                 {"model": model_cls, "compare": ["logits"], "attn_implementation": attn_impl.get(name, "eager")})
        except Exception as e:                                   # noqa: BLE001 — one family never sinks the others
            shutil.rmtree(os.path.join(stage, name), ignore_errors=True)
            print(f"make-golden.py: WARNING: {name} left out: {type(e).__name__}: {e}", flush=True)

    # GPT-OSS (2026-12-06), unquantized in float32 as transformers 5.x builds and saves it (gate_up_proj / down_proj with
    # their biases; no MXFP4: that is the float64 harness's gpt-oss fixture): attention with bias and per-head sinks
    # (drawn N(0, 1.5²)), layers 0 and 2 sliding (window 6 < 24 tokens), layer 1 full, yarn rope as published (theta
    # 150000, factor 32 over 4096, betas 32 / 1, truncate false), 4 experts of 32, top 2 by the biased router's logits,
    # the clamped swiglu's clamps hit (redrawn until they are and every logit gap is >= GPT_OSS_ROUTING_GAP); hidden 32
    # under 4 heads of 16 (q 64 wide), vocabulary 128, so that the folder stays near 0.3 MB. Eager attention (the sinks
    # live there), also on the reload. Optional: a failure or the deadline leaves it out.
    name = "gpt-oss"
    try:
        if time.time() > deadline:
            raise GoldenError("out of time (T4J_GOLDEN_DEADLINE)")
        if not hasattr(transformers, "GptOssForCausalLM"):
            raise GoldenError(f"transformers {transformers.__version__} has no GptOssForCausalLM")
        okw = dict(vocab_size=GPT_OSS_VOCAB, hidden_size=32, intermediate_size=32, num_hidden_layers=3, num_attention_heads=4,
                   num_key_value_heads=2, head_dim=16, num_local_experts=4, num_experts_per_tok=2, sliding_window=6,
                   max_position_embeddings=131072, rms_norm_eps=1e-5, attention_bias=True, tie_word_embeddings=False,
                   rope_parameters={"rope_type": "yarn", "rope_theta": 150000.0, "factor": 32.0, "beta_fast": 32.0,
                                    "beta_slow": 1.0, "truncate": False, "original_max_position_embeddings": 4096},
                   pad_token_id=1, eos_token_id=2)
        ocfg = transformers.GptOssConfig(**okw)
        ocfg._attn_implementation = "eager"
        if list(ocfg.layer_types) != ["sliding_attention", "full_attention", "sliding_attention"]:
            raise GoldenError(f"GptOssConfig's default layer_types are {ocfg.layer_types}, expected even layers sliding")
        om = transformers.GptOssForCausalLM(ocfg)
        ox = torch.randint(3, GPT_OSS_VOCAB, (2, 24), generator=torch.Generator().manual_seed(SEED + 61), dtype=torch.int64)
        for attempt in range(40):
            randomize(om, torch.Generator().manual_seed(SEED + 60 + 1000 * attempt))
            gap, hits = gpt_oss_probe(om, ox)
            if gap >= GPT_OSS_ROUTING_GAP and min(hits) > 0:
                break
        else:
            raise GoldenError(f"no draw in 40 kept every router logit gap above {GPT_OSS_ROUTING_GAP} with every clamp hit "
                              f"(last {gap:.3g}, {hits})")

        def eager_config(path):
            cfg = transformers.GptOssConfig.from_pretrained(path)
            cfg._attn_implementation = "eager"
            return cfg
        want = {key: okw[key] for key in ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                                          "num_attention_heads", "num_key_value_heads", "head_dim", "num_local_experts",
                                          "num_experts_per_tok", "sliding_window")}
        want["model_type"] = "gpt_oss"
        make(stage, name, om, lambda m: {"logits": m(input_ids=ox).logits},
             {"input_ids": ox}, {"input_ids": (2, 24), "logits": (2, 24, GPT_OSS_VOCAB)}, want, {},
             {"model": "GptOssForCausalLM", "compare": ["logits"], "attn_implementation": "eager",
              "router_logit_gap": gap, "clamp_hits": {"gate_above_limit": hits[0], "up_above_limit": hits[1],
                                                      "up_below_minus_limit": hits[2]}},
             reload_config=eager_config)
    except Exception as e:                                       # noqa: BLE001 — one family never sinks the others
        shutil.rmtree(os.path.join(stage, name), ignore_errors=True)
        print(f"make-golden.py: WARNING: {name} left out: {type(e).__name__}: {e}", flush=True)


def pairs(gen, pad, rows=2, cols=14):
    """[CLS] a [SEP] b [SEP] rows (ids 101/102, types 0/1) of different lengths, the shorter padded with pad and
    attention_mask 0 (issue 14: token types and padded batches)."""
    x = ids(rows, cols, gen)
    types = torch.zeros(rows, cols, dtype=torch.int64)
    mask = torch.ones(rows, cols, dtype=torch.int64)
    for r, (la, lb) in enumerate([(5, 6), (3, 4)][:rows]):
        x[r, 0] = 101
        x[r, 1 + la] = 102
        x[r, 2 + la + lb] = 102
        types[r, 2 + la:3 + la + lb] = 1
        x[r, 3 + la + lb:] = pad
        mask[r, 3 + la + lb:] = 0
    return x, types, mask


def encoders(stage, gen):
    """The encoder folders of issue 14 as transformers saves them, with their heads and HF-style padded batches:
    BertForPreTraining (masked-LM + next-sentence), BertForSequenceClassification (pairs, id2label), RobertaModel
    (positions after padding_idx), DistilBertModel; GoldenFilesTest runs each output the folder holds."""
    bert_cfg = dict(vocab_size=VOCAB, hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                    max_position_embeddings=32, type_vocab_size=2, hidden_act="gelu", layer_norm_eps=1e-12, pad_token_id=0)
    want = {"model_type": "bert", "vocab_size": VOCAB, "hidden_size": 64, "num_attention_heads": 2}
    x, types, mask = pairs(gen, 0)
    ins = {"input_ids": x, "token_type_ids": types, "attention_mask": mask}
    shapes = {"input_ids": (2, 14), "token_type_ids": (2, 14), "attention_mask": (2, 14)}

    pre = transformers.BertForPreTraining(transformers.BertConfig(**bert_cfg))
    randomize(pre, torch.Generator().manual_seed(SEED + 20))
    make(stage, "bert-pretraining", pre,
         lambda m: {k: getattr(m(**ins), k) for k in ("prediction_logits", "seq_relationship_logits")},
         ins, dict(shapes, prediction_logits=(2, 14, VOCAB), seq_relationship_logits=(2, 2)), want, {},
         {"model": "BertForPreTraining", "compare": ["prediction_logits", "seq_relationship_logits"]})

    labels = {0: "contradiction", 1: "entailment", 2: "neutral"}
    cls = transformers.BertForSequenceClassification(transformers.BertConfig(
        **bert_cfg, id2label=labels, label2id={v: k for k, v in labels.items()}))
    randomize(cls, torch.Generator().manual_seed(SEED + 21))
    make(stage, "bert-seqcls", cls, lambda m: {"logits": m(**ins).logits}, ins, dict(shapes, logits=(2, 3)), want, {},
         {"model": "BertForSequenceClassification", "compare": ["logits"]})

    rob = transformers.RobertaModel(transformers.RobertaConfig(
        vocab_size=VOCAB, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
        max_position_embeddings=40, type_vocab_size=1, hidden_act="gelu", layer_norm_eps=1e-5, pad_token_id=1,
        bos_token_id=0, eos_token_id=2), add_pooling_layer=False)
    randomize(rob, torch.Generator().manual_seed(SEED + 22))
    rx = ids(2, 12, gen).clamp(min=3)
    rmask = torch.ones(2, 12, dtype=torch.int64)
    rx[1, 8:] = 1
    rmask[1, 8:] = 0
    rins = {"input_ids": rx, "attention_mask": rmask}
    make(stage, "roberta", rob, lambda m: {"last_hidden_state": m(**rins).last_hidden_state}, rins,
         {"input_ids": (2, 12), "attention_mask": (2, 12), "last_hidden_state": (2, 12, 64)},
         {"model_type": "roberta", "vocab_size": VOCAB, "hidden_size": 64, "pad_token_id": 1}, {},
         {"model": "RobertaModel", "compare": ["last_hidden_state"]})

    dis = transformers.DistilBertModel(transformers.DistilBertConfig(
        vocab_size=VOCAB, dim=64, n_layers=2, n_heads=2, hidden_dim=64, max_position_embeddings=32, activation="gelu",
        pad_token_id=0, sinusoidal_pos_embds=False))
    randomize(dis, torch.Generator().manual_seed(SEED + 23))
    dx = ids(2, 12, gen)
    dmask = torch.ones(2, 12, dtype=torch.int64)
    dx[1, 7:] = 0
    dmask[1, 7:] = 0
    dins = {"input_ids": dx, "attention_mask": dmask}
    make(stage, "distilbert", dis, lambda m: {"last_hidden_state": m(**dins).last_hidden_state}, dins,
         {"input_ids": (2, 12), "attention_mask": (2, 12), "last_hidden_state": (2, 12, 64)},
         {"model_type": "distilbert", "vocab_size": VOCAB, "dim": 64, "n_heads": 2}, {},
         {"model": "DistilBertModel", "compare": ["last_hidden_state"]})

    # ModernBERT (2026-12-05): RoPE with two thetas, layer 1 local (±4 keys), GeGLU, no attention norm in layer 0; unpadded
    # rows (transformers' attention implementations disagree at padding positions). Optional: a failure leaves it out.
    try:
        if not hasattr(transformers, "ModernBertForMaskedLM"):
            raise GoldenError(f"transformers {transformers.__version__} has no ModernBertForMaskedLM")
        mcfg = transformers.ModernBertConfig(vocab_size=VOCAB, hidden_size=64, intermediate_size=48, num_hidden_layers=3,
                                             num_attention_heads=2, global_attn_every_n_layers=2, local_attention=8,
                                             max_position_embeddings=64, pad_token_id=0, bos_token_id=1, eos_token_id=2,
                                             cls_token_id=1, sep_token_id=2)
        mcfg._attn_implementation = "eager"
        mb = transformers.ModernBertForMaskedLM(mcfg)
        randomize(mb, torch.Generator().manual_seed(SEED + 24))
        mx = ids(2, 20, gen)
        make(stage, "modernbert-mlm", mb, lambda m: {"prediction_logits": m(input_ids=mx).logits}, {"input_ids": mx},
             {"input_ids": (2, 20), "prediction_logits": (2, 20, VOCAB)},
             {"model_type": "modernbert", "vocab_size": VOCAB, "hidden_size": 64, "local_attention": 8}, {},
             {"model": "ModernBertForMaskedLM", "compare": ["prediction_logits"], "attn_implementation": "eager"})
    except Exception as e:                                       # noqa: BLE001 — one family never sinks the others
        shutil.rmtree(os.path.join(stage, "modernbert-mlm"), ignore_errors=True)
        print(f"make-golden.py: WARNING: modernbert-mlm left out: {type(e).__name__}: {e}", flush=True)

    # MPNet (2026-12-05): learned positions after padding_idx 1 and the relative bias (T5's bidirectional buckets, 32 up to
    # distance 128) shared by every layer; rows of 132 tokens, so that distances pass 128. Unpadded rows (the padded
    # positions are where this library, which runs padded rows packed, leaves zeros). Optional: a failure leaves it out.
    try:
        if not hasattr(transformers, "MPNetModel"):
            raise GoldenError(f"transformers {transformers.__version__} has no MPNetModel")
        mp = transformers.MPNetModel(transformers.MPNetConfig(
            vocab_size=VOCAB, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
            max_position_embeddings=160, hidden_act="gelu", layer_norm_eps=1e-5, relative_attention_num_buckets=32,
            pad_token_id=1, bos_token_id=0, eos_token_id=2))
        randomize(mp, torch.Generator().manual_seed(SEED + 25))
        px = ids(2, 132, gen).clamp(min=3)
        px[:, 0] = 0
        px[:, -1] = 2
        make(stage, "mpnet", mp, lambda m: {"last_hidden_state": m(input_ids=px).last_hidden_state}, {"input_ids": px},
             {"input_ids": (2, 132), "last_hidden_state": (2, 132, 64)},
             {"model_type": "mpnet", "vocab_size": VOCAB, "hidden_size": 64, "relative_attention_num_buckets": 32,
              "pad_token_id": 1}, {},
             {"model": "MPNetModel", "compare": ["last_hidden_state"]})
    except Exception as e:                                       # noqa: BLE001 — one family never sinks the others
        shutil.rmtree(os.path.join(stage, "mpnet"), ignore_errors=True)
        print(f"make-golden.py: WARNING: mpnet left out: {type(e).__name__}: {e}", flush=True)

    # ELECTRA (2026-12-05): embedding_size 32 projected to hidden_size 64 (embeddings_project), token types, a padded row;
    # ElectraClassificationHead (dense, gelu, out_proj). Optional: a failure leaves it out.
    try:
        labels = {0: "negative", 1: "neutral", 2: "positive"}
        el = transformers.ElectraForSequenceClassification(transformers.ElectraConfig(
            vocab_size=VOCAB, embedding_size=32, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
            intermediate_size=64, max_position_embeddings=32, type_vocab_size=2, hidden_act="gelu", pad_token_id=0,
            id2label=labels, label2id={v: k for k, v in labels.items()}))
        randomize(el, torch.Generator().manual_seed(SEED + 26))
        ex = ids(2, 14, gen).clamp(min=3)
        etypes = torch.zeros(2, 14, dtype=torch.int64)
        etypes[:, 7:] = 1
        emask = torch.ones(2, 14, dtype=torch.int64)
        ex[1, 10:] = 0
        etypes[1, 10:] = 0
        emask[1, 10:] = 0
        eins = {"input_ids": ex, "token_type_ids": etypes, "attention_mask": emask}
        make(stage, "electra-seqcls", el, lambda m: {"logits": m(**eins).logits}, eins,
             {"input_ids": (2, 14), "token_type_ids": (2, 14), "attention_mask": (2, 14), "logits": (2, 3)},
             {"model_type": "electra", "vocab_size": VOCAB, "embedding_size": 32, "hidden_size": 64}, {},
             {"model": "ElectraForSequenceClassification", "compare": ["logits"]})
    except Exception as e:                                       # noqa: BLE001 — one family never sinks the others
        shutil.rmtree(os.path.join(stage, "electra-seqcls"), ignore_errors=True)
        print(f"make-golden.py: WARNING: electra-seqcls left out: {type(e).__name__}: {e}", flush=True)

    # EmbeddingGemma (2026-12-05): Gemma3TextModel with use_bidirectional_attention (full layers see every key, sliding ones
    # |i - j| < sliding_window on both sides), saved as the base model (no prefix, no head). Optional: a failure leaves it out.
    try:
        gcfg = transformers.Gemma3TextConfig(
            vocab_size=VOCAB, hidden_size=64, intermediate_size=64, num_hidden_layers=3, num_attention_heads=4,
            num_key_value_heads=2, head_dim=16, query_pre_attn_scalar=16, sliding_window=6,
            layer_types=["sliding_attention", "sliding_attention", "full_attention"], max_position_embeddings=64,
            use_bidirectional_attention=True, pad_token_id=0, bos_token_id=2, eos_token_id=1)
        gcfg._attn_implementation = "eager"
        eg = transformers.Gemma3TextModel(gcfg)
        randomize(eg, torch.Generator().manual_seed(SEED + 27))
        gx = ids(2, 20, gen).clamp(min=3)
        make(stage, "embeddinggemma", eg, lambda m: {"last_hidden_state": m(input_ids=gx).last_hidden_state}, {"input_ids": gx},
             {"input_ids": (2, 20), "last_hidden_state": (2, 20, 64)},
             {"model_type": "gemma3_text", "vocab_size": VOCAB, "use_bidirectional_attention": True, "sliding_window": 6}, {},
             {"model": "Gemma3TextModel", "compare": ["last_hidden_state"], "attn_implementation": "eager"})
    except Exception as e:                                       # noqa: BLE001 — one family never sinks the others
        shutil.rmtree(os.path.join(stage, "embeddinggemma"), ignore_errors=True)
        print(f"make-golden.py: WARNING: embeddinggemma left out: {type(e).__name__}: {e}", flush=True)

    # DeBERTa-v3 (2026-12-05): microsoft/deberta-v3-base's attention (relative_attention, log position buckets over 512
    # positions, share_att_key, norm_rel_ebd layer_norm, pos_att_type p2c|c2p, no absolute positions, no token types)
    # with 64 buckets, not its 256 (2026-12-06: the 512 x 128 relative table alone took 0.26 MB; ci/reference's fixtures
    # use 16): rows of 150 tokens, so that distances pass 32 (and 128) and take log buckets up to about 50 of 64; one row
    # padded after 100; the ContextPooler (dense, gelu) and a 3-label classifier; head size 64, as every published
    # DeBERTa-v2/v3 has (so hidden 128, the largest folder, about 1.0 MB). Optional: a failure leaves it out.
    try:
        labels = {0: "entailment", 1: "neutral", 2: "contradiction"}
        db = transformers.DebertaV2ForSequenceClassification(transformers.DebertaV2Config(
            vocab_size=VOCAB, hidden_size=128, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128,
            max_position_embeddings=512, type_vocab_size=0, hidden_act="gelu", layer_norm_eps=1e-7, relative_attention=True,
            max_relative_positions=-1, position_buckets=64, norm_rel_ebd="layer_norm", share_att_key=True,
            pos_att_type="p2c|c2p", position_biased_input=False, pad_token_id=0, pooler_hidden_act="gelu",
            id2label=labels, label2id={v: k for k, v in labels.items()}))
        randomize(db, torch.Generator().manual_seed(SEED + 28))
        dx = ids(2, 150, gen).clamp(min=3)
        dx[:, 0] = 1
        dx[:, -1] = 2
        dmask = torch.ones(2, 150, dtype=torch.int64)
        dx[1, 100:] = 0
        dx[1, 99] = 2
        dmask[1, 100:] = 0
        dins = {"input_ids": dx, "attention_mask": dmask}
        make(stage, "deberta-v3-seqcls", db, lambda m: {"logits": m(**dins).logits}, dins,
             {"input_ids": (2, 150), "attention_mask": (2, 150), "logits": (2, 3)},
             {"model_type": "deberta-v2", "vocab_size": VOCAB, "hidden_size": 128, "position_buckets": 64,
              "relative_attention": True, "share_att_key": True}, {},
             {"model": "DebertaV2ForSequenceClassification", "compare": ["logits"]})
    except Exception as e:                                       # noqa: BLE001 — one family never sinks the others
        shutil.rmtree(os.path.join(stage, "deberta-v3-seqcls"), ignore_errors=True)
        print(f"make-golden.py: WARNING: deberta-v3-seqcls left out: {type(e).__name__}: {e}", flush=True)

    # ALBERT (2026-12-07): the embeddings at embedding_size 32, mapped to hidden 64 by encoder.embedding_hidden_mapping_in;
    # parameters shared across layers. "albert": AlbertModel with 4 layers over 2 groups of 2 inner layers (layer i applies
    # albert_layer_groups[int(i / (4 / 2))], each group both its inner layers: 8 AlbertLayer calls over 4 parameter sets);
    # "albert-mlm": AlbertForMaskedLM as albert-base-v2 is shaped (one group of one inner layer, applied by all 3 layers;
    # AlbertMLMHead: dense to embedding_size, gelu_new, LayerNorm, decoder tied to the word embeddings, its bias
    # predictions.bias). gelu_new, token types; unpadded rows (the padded positions are where this library, which runs
    # padded rows packed, leaves zeros; ci/reference's albert fixtures pad). Optional: a failure leaves each one out.
    acfg = dict(vocab_size=VOCAB, embedding_size=32, hidden_size=64, num_attention_heads=2, intermediate_size=32,
                max_position_embeddings=32, type_vocab_size=2, hidden_act="gelu_new", layer_norm_eps=1e-12,
                hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, pad_token_id=0, bos_token_id=2, eos_token_id=3)
    awant = {"model_type": "albert", "vocab_size": VOCAB, "embedding_size": 32, "hidden_size": 64, "num_attention_heads": 2,
             "intermediate_size": 32, "hidden_act": "gelu_new"}
    # their own generator: a draw from gen here would move the input ids of every folder made after encoders()
    ax = ids(2, 14, torch.Generator().manual_seed(SEED + 31)).clamp(min=5)   # [CLS] 2, [SEP] 3, [MASK] 4 as albert-base-v2's
    ax[:, 0] = 2
    ax[:, 6] = 3
    ax[:, 13] = 3
    atypes = torch.zeros(2, 14, dtype=torch.int64)
    atypes[:, 7:] = 1
    ains = {"input_ids": ax, "token_type_ids": atypes}
    ashapes = {"input_ids": (2, 14), "token_type_ids": (2, 14)}
    try:
        if not hasattr(transformers, "AlbertModel"):
            raise GoldenError(f"transformers {transformers.__version__} has no AlbertModel")
        al = transformers.AlbertModel(transformers.AlbertConfig(**acfg, num_hidden_layers=4, num_hidden_groups=2,
                                                                inner_group_num=2))
        if [len(g.albert_layers) for g in al.encoder.albert_layer_groups] != [2, 2]:
            raise GoldenError("albert: expected 2 groups of 2 inner layers")
        randomize(al, torch.Generator().manual_seed(SEED + 29))
        make(stage, "albert", al, lambda m: {"last_hidden_state": m(**ains).last_hidden_state}, ains,
             dict(ashapes, last_hidden_state=(2, 14, 64)),
             dict(awant, num_hidden_layers=4, num_hidden_groups=2, inner_group_num=2), {},
             {"model": "AlbertModel", "compare": ["last_hidden_state"]})
    except Exception as e:                                       # noqa: BLE001 — one family never sinks the others
        shutil.rmtree(os.path.join(stage, "albert"), ignore_errors=True)
        print(f"make-golden.py: WARNING: albert left out: {type(e).__name__}: {e}", flush=True)
    try:
        if not hasattr(transformers, "AlbertForMaskedLM"):
            raise GoldenError(f"transformers {transformers.__version__} has no AlbertForMaskedLM")
        am = transformers.AlbertForMaskedLM(transformers.AlbertConfig(**acfg, num_hidden_layers=3, num_hidden_groups=1,
                                                                      inner_group_num=1))
        randomize(am, torch.Generator().manual_seed(SEED + 30))
        check_tied("albert-mlm decoder", am.predictions.decoder.weight, am.albert.embeddings.word_embeddings.weight, True)
        check_tied("albert-mlm decoder bias", am.predictions.decoder.bias, am.predictions.bias, True)
        mx = ax.clone()
        mx[0, 3] = 4
        mx[1, 9] = 4
        mins = {"input_ids": mx, "token_type_ids": atypes}
        make(stage, "albert-mlm", am, lambda m: {"prediction_logits": m(**mins).logits}, mins,
             dict(ashapes, prediction_logits=(2, 14, VOCAB)),
             dict(awant, num_hidden_layers=3, num_hidden_groups=1, inner_group_num=1), {},
             {"model": "AlbertForMaskedLM", "compare": ["prediction_logits"]})
    except Exception as e:                                       # noqa: BLE001 — one family never sinks the others
        shutil.rmtree(os.path.join(stage, "albert-mlm"), ignore_errors=True)
        print(f"make-golden.py: WARNING: albert-mlm left out: {type(e).__name__}: {e}", flush=True)


def t5_make(stage, name, t5, run, x, y, proj, tied, scaled, want, v5):
    make(stage, name, t5, run, {"input_ids": x, "decoder_input_ids": y},
         {"input_ids": (2, 10), "decoder_input_ids": (2, 7), "logits": (2, 7, VOCAB),
          "encoder_last_hidden_state": (2, 10, 64)},
         want,
         {"feed_forward_proj": "relu", "tie_word_embeddings": True, "num_decoder_layers": 2,
          "layer_norm_epsilon": 1e-6, "relative_attention_num_buckets": 32, "relative_attention_max_distance": 128,
          "pad_token_id": 0, "eos_token_id": 1, "decoder_start_token_id": 0},
         {"model": "T5ForConditionalGeneration", "compare": ["logits", "encoder_last_hidden_state"],
          "tied_lm_head": tied, "scaled_decoder_outputs": scaled},
         reload_config=(lambda path, tied=tied: t5_config_as_saved(path, tied)) if v5 else None)
    keys = check_weights(os.path.join(stage, name))
    if not tied and "lm_head.weight" not in keys:
        fail(f"{name}: model.safetensors lacks lm_head.weight, the head being untied")


def t5_config_as_saved(path, tied):
    """transformers 5.x: the folder's T5Config with tie_word_embeddings as config.json says (5.x forces it to true
    when it reads the file, which would tie an untied head to shared on load)."""
    cfg = transformers.T5Config.from_pretrained(path)
    cfg.tie_word_embeddings = tied
    return cfg


def folder_bytes(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def choose(sizes):
    """sizes: {folder: bytes} of the folders build_all made → (kept, left_out, commit): the folders kept, in PRIORITY order
    (each kept while it still fits under MAX_BYTES, none over FOLDER_MAX_BYTES), {folder: why} for those left out, and the
    kept ones that fit under COMMIT_BYTES, again in PRIORITY order. A required folder missing, over FOLDER_MAX_BYTES or
    past MAX_BYTES fails the run (GoldenError): never a success without the four."""
    missing = [n for n in REQUIRED if n not in sizes]
    if missing:
        fail(f"required folders missing: {missing}")
    unranked = sorted(n for n in sizes if n not in PRIORITY)
    for n in unranked:
        print(f"make-golden.py: WARNING: {n} is not in PRIORITY: ranked last (add it there)", flush=True)
    kept, left_out, total = [], {}, 0
    for n in [n for n in PRIORITY if n in sizes] + unranked:
        b = sizes[n]
        if b > FOLDER_MAX_BYTES:
            why = f"{b} bytes, more than one folder's FOLDER_MAX_BYTES ({FOLDER_MAX_BYTES}): shrink its config"
        elif total + b > MAX_BYTES:
            why = f"{b} bytes would take the fixtures to {total + b}, more than MAX_BYTES ({MAX_BYTES})"
        else:
            kept.append(n)
            total += b
            continue
        if n in REQUIRED:
            fail(f"{n} (required): {why}")
        left_out[n] = why
    commit, c = [], 0
    for n in kept:
        if c + sizes[n] <= COMMIT_BYTES:
            commit.append(n)
            c += sizes[n]
    return kept, left_out, commit


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="folder to put gpt2/, bert/, t5-v1_0/, t5-v1_1/ (and the optional "
                                                 "families' folders, and commit.txt) in")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    stage = os.path.join(args.out, ".make-golden-partial")
    shutil.rmtree(stage, ignore_errors=True)
    os.makedirs(stage)
    try:
        build_all(stage)
        sizes = {n: folder_bytes(os.path.join(stage, n)) for n in os.listdir(stage)}
        kept, left_out, commit = choose(sizes)
    except GoldenError as e:
        shutil.rmtree(stage, ignore_errors=True)
        print(f"make-golden.py: {e}; nothing written", file=sys.stderr)
        sys.exit(1)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    for name, why in left_out.items():
        shutil.rmtree(os.path.join(stage, name), ignore_errors=True)
        print(f"make-golden.py: WARNING: {name} left out: {why}", flush=True)
    for name in kept:                                                        # all checked: move into place
        dest = os.path.join(args.out, name)
        shutil.rmtree(dest, ignore_errors=True)
        os.replace(os.path.join(stage, name), dest)
    os.rmdir(stage)
    with open(os.path.join(args.out, "commit.txt"), "w") as fh:
        fh.writelines(n + "\n" for n in commit)
    for name in kept:
        print(f"  {name:20s} {sizes[name]:9d} bytes{'  (commit.txt)' if name in commit else ''}")
    total, committed = sum(sizes[n] for n in kept), sum(sizes[n] for n in commit)
    print(f"golden files in {args.out} ({len(kept)} folders, {total} bytes; {len(left_out)} left out for size; "
          f"{len(commit)} for committing, {committed} bytes under COMMIT_BYTES {COMMIT_BYTES}, named in commit.txt)")


if __name__ == "__main__":
    main()
