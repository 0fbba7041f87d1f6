#!/usr/bin/env python3
"""make_fixtures.py — regenerates every reference fixture, deterministically:

    python3 ci/reference/make_fixtures.py [--out DIR] [--only NAME ...]

For each fixture: a tiny random checkpoint in the exact Hugging Face folder layout (config.json in the 4.x
layout most published folders carry, or the 5.x one where named "-v5"; model.safetensors with the
state_dict names of the class named in its "architectures", tied copies omitted as save_pretrained omits
them), the float64 outputs of this harness's forward pass (reference.safetensors, rounded once to F32: half an ulp,
6e-8 relative, far inside every test's tolerance, at half the bytes) and reference.json
(the inputs, the output names and shapes, the greedy continuation with each step's top-2 margin, and which
transformers code the reference follows). With --out the folders are written into DIR as they are; without, into
the committed archives (model/src/test/reference/NAME.tar.xz, archives.py): every archive is unpacked into a temporary
folder, the fixtures made there, and the archives whose files changed rewritten (the model module's build unpacks them
into target/test-classes/reference/). A fixture taken out of FIXTURES keeps its archive until it is removed by hand.

Parameters are drawn from a fixed seed per fixture, as make-golden.py draws them: embeddings N(0, 1) (a token
table tied to the output: N(0, 0.3²), see TIED_STD),
matrices N(0, 1/fan_in), biases N(0, 0.1²), norm weights 1 + N(0, 0.2²) (Gemma's, stored as w in 1 + w,
N(0, 0.2²)), norm biases N(0, 0.2²), so that no norm is exactly 1/0 and every part moves the outputs; they
are rounded to float32 for the file (to bfloat16, stored BF16, outside F32_FIXTURES) and the reference computes from
the rounded values in float64."""
import argparse
import json
import os
import shutil
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bart  # noqa: E402
import beam  # noqa: E402
import bert  # noqa: E402
import albert  # noqa: E402
import alibi  # noqa: E402
import arcee  # noqa: E402
import archives  # noqa: E402
import bigcode  # noqa: E402
import bloom  # noqa: E402
import cohere  # noqa: E402
import deberta  # noqa: E402
import falcon  # noqa: E402
import decoders  # noqa: E402
import deepseek  # noqa: E402
import dots1  # noqa: E402
import glm4_moe  # noqa: E402
import ernie4_5  # noqa: E402
import ernie4_5_moe  # noqa: E402
import exaone4  # noqa: E402
import glm  # noqa: E402
import gpt2  # noqa: E402
import gpt_neo  # noqa: E402
import fp8  # noqa: E402
import gpt_oss  # noqa: E402
import granitemoe  # noqa: E402
import intq  # noqa: E402
import m2m100  # noqa: E402
import modernbert  # noqa: E402
import mpnet  # noqa: E402
import mpt  # noqa: E402
import nemotron  # noqa: E402
import neox  # noqa: E402
import opt  # noqa: E402
import rope  # noqa: E402
import safetensors_np  # noqa: E402
import t5  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
MAX_FOLDER_BYTES = 1_200_000
MAX_TOTAL_BYTES = 22_610_979   # 22.61 MB with arcee and dots1 (145,237 bytes, added to the limit exactly); 22.47 MB with granitemoe and granitemoeshared (211,217 bytes, added to the limit exactly); 22.25 MB with ernie4_5-moe (192,231 bytes, added to the limit exactly); 22.06 MB with nemotron (94,604 bytes, added to the limit exactly); 21.97 MB with glm4-moe (208,410 bytes, added to the limit exactly); 21.76 MB with deepseek-v2-lite, deepseek-v2 and deepseek-v3 (554,601 bytes, added to the limit exactly); 21.20 MB with seed-oss (125,179 bytes, added to the limit exactly); 21.08 MB with ernie4_5 (91,902 bytes, added to the limit exactly); 20.99 MB with exaone4 (146,520 bytes, added to the limit exactly); 20.84 MB with glm and glm4 (325,911 bytes, added to the limit exactly); 20.52 MB with olmo3 (150,735 bytes, added to the limit); 20.36 MB with codegen (166,825 bytes, added to the limit); 20.20 MB with opt-350m (73,527 bytes, added to the limit); 20.12 MB with olmo (84,722 bytes, added to the limit); 20.04 MB once reference.safetensors stored the float64 outputs rounded to F32 (2026-12-07, 4.45 MB less; 1,656 bytes of room kept); 24.48 MB with cohere and cohere2 (881,050 bytes, added to the limit exactly); 23.60 MB with gpt-neo and gpt-neo-local-first (471,530 bytes, added to the limit exactly); 23.13 MB with albert, albert-groups, albert-mlm and albert-seqcls (296,634 bytes, added to the limit exactly); 22.83 MB with bloom, mpt and falcon-rw (873,384 bytes, added to the limit exactly); 21.96 MB with falcon and falcon-new (480,522 bytes); 21.48 MB with gpt-bigcode (245,499 bytes); 21.23 MB with gptj (277,575 bytes); 20.95 MB with opt (272,018 bytes); 20.68 MB with stablelm, stablelm-parallel and starcoder2 (695,061 bytes); 19.99 MB with gpt-neox, gpt-neox-sequential-v5 and phi (805,117 bytes, 2026-12-06); 19.18 MB with gemma3-fp8-dynamic (218,840 bytes); 18.96 MB with qwen2-awq, llama-gptq and qwen2-gptq-int8 (434,786 bytes); 18.53 MB with llama-fp8-dynamic and mistral-fp8-static (293,479 bytes); 18.24 MB with qwen3-fp8 (365,527 bytes); 17.87 MB on 2026-12-06 once most folders stored BF16 (F32_FIXTURES); before that: 15 MB before issue 14 added bert-crossencoder, roberta-mlm, distilbert-seqcls; 17 MB before yarn and LongRoPE; 18 MB before OLMo 2; 19 MB before the four ModernBERT folders (1.73 MB) and the MoE fixtures (mixtral, mixtral-v5, qwen2-moe, qwen3-moe, olmoe: 2.0 MB), 22.28 MB in all on 2026-12-05, 22.80 MB with the four MPNet folders (0.52 MB), 23.11 MB with the three ELECTRA folders (0.31 MB), 23.31 MB with embeddinggemma (0.2 MB), 23.42 MB with camembert-seqcls, 23.78 MB with the three DeBERTa folders (0.36 MB), 24.31 MB with gpt-oss and gpt-oss-v5 (523,560 bytes, added to the limit exactly), 25.41 MB with bart, bart-seqcls, mbart, marian and pegasus (1,093,241 bytes, added to the limit exactly), 25.62 MB with m2m100 (214,070 bytes, added to the limit exactly), 25.63 MB with the beam runs of bart, marian and m2m100 (7,977 bytes of reference.json, added to the limit exactly) (the tree travels to the GPU machine with the bundle, which make-bundle keeps under 62 MiB together)
GREEDY_STEPS = 16
# A token table that is also the output matrix is drawn with std 0.3, not 1: with N(0, 1) the residual stream
# keeps the input token's own row, and a random tied model predicts the token it has just read forever (every
# greedy continuation one repeated token: a useless check).
TIED_STD = 0.3

FIXTURES = {}
# How a fixture's model.safetensors stores its floating-point weights. Most folders store BF16, as most published
# decoders (Llama, Qwen, Gemma, Mistral, …) do: their values are drawn, rounded to bfloat16, and the reference computes
# from the rounded values, so a float32 implementation must still match to the fp32 tolerance; the file is half the
# size (the tree travels to the GPU machine within 62 MiB with the bundle: this took it from 60.7 to about 53 MiB).
# These keep F32, as their families are published: the F32 path (CPU tensors that are views of the mapped file, no
# conversion), Pegasus's stored sinusoid table (bit-identical to the computed one) and the MXFP4 pair; albert as
# albert-base-v2 is published (float32), so that a shared-layer model takes the F32 path too.
F32_FIXTURES = {"gpt2", "bert", "albert", "t5-v1_0", "t5-v1_1", "bart", "bart-seqcls", "mbart", "marian", "pegasus", "m2m100",
                "gpt-oss", "gpt-oss-v5"}
# These store F16, as the AWQ and GPTQ folders they imitate (float16 models, float16 scales) are published.
# gpt-neox and phi: Pythia and phi-2 are published in float16 as well; bloom: bigscience/bloom-560m's files are float16.
F16_FIXTURES = {"qwen2-awq", "llama-gptq", "qwen2-gptq-int8", "gpt-neox", "phi", "gptj", "bloom", "opt-350m", "codegen"}
STORE = "F32"   # the fixture being made: set by the registry's wrapper, read by Draw and save


def fixture(name):
    def register(fn):
        def make(out):
            global STORE
            STORE = "F32" if name in F32_FIXTURES else "F16" if name in F16_FIXTURES else "BF16"
            try:
                return fn(out)
            finally:
                STORE = "F32"
        FIXTURES[name] = make
        return fn
    return register


class Draw:
    """Draws a checkpoint's parameters in the order they are declared; keeps them as float32, rounded to bfloat16
    first where the fixture stores BF16 (STORE)."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.params = {}
        self.store = STORE

    def _put(self, name, a):
        if name in self.params:
            raise ValueError(f"{name} drawn twice")
        a = a.astype(np.float32)
        self.params[name] = (safetensors_np.bf16_round(a) if self.store == "BF16"
                             else a.astype(np.float16).astype(np.float32) if self.store == "F16" else a)

    def raw(self, name, a):
        """A tensor stored as it is drawn (GPT-OSS's MXFP4 blocks and scales, uint8), not rounded to float32."""
        if name in self.params:
            raise ValueError(f"{name} drawn twice")
        self.params[name] = np.asarray(a)

    def emb(self, name, n, c, std=1.0):
        self._put(name, self.rng.standard_normal((n, c)) * std)

    def mat(self, name, out, inp):
        """nn.Linear weight [out, in]."""
        self._put(name, self.rng.standard_normal((out, inp)) * inp ** -0.5)

    def conv(self, name, inp, out):
        """GPT-2 Conv1D weight [in, out]."""
        self._put(name, self.rng.standard_normal((inp, out)) * inp ** -0.5)

    def bias(self, name, n):
        self._put(name, self.rng.standard_normal(n) * 0.1)

    def linear(self, prefix, inp, out, bias=True):
        self.mat(prefix + ".weight", out, inp)
        if bias:
            self.bias(prefix + ".bias", out)

    def norm(self, prefix, n, bias=True, names=("weight", "bias"), one_plus=False):
        self._put(f"{prefix}.{names[0]}", (0.0 if one_plus else 1.0) + 0.2 * self.rng.standard_normal(n))
        if bias:
            self._put(f"{prefix}.{names[1]}", 0.2 * self.rng.standard_normal(n))

    def table(self, name, rows, cols):
        """T5's relative-attention bias table (an nn.Embedding of buckets × heads): N(0, 1)."""
        self._put(name, self.rng.standard_normal((rows, cols)))

    def ids(self, rows, cols, vocab, low=0):
        return self.rng.integers(low, vocab, size=(rows, cols)).astype(np.int64)

    def f64(self, prefix=""):
        """The parameters as float64, with `prefix` removed from the names that carry it."""
        return {(k[len(prefix):] if prefix and k.startswith(prefix) else k): v.astype(np.float64) for k, v in self.params.items()}


def greedy(step, prompt, n=GREEDY_STEPS):
    """Greedy continuation by full recomputation: step(tokens) -> logits of the last position (V,).
    Returns (new tokens, top-1 minus top-2 logit at each step)."""
    toks, new, margins = list(prompt), [], []
    for _ in range(n):
        logits = step(toks)
        order = np.argsort(-logits, kind="stable")
        new.append(int(order[0]))
        margins.append(float(logits[order[0]] - logits[order[1]]))
        toks.append(int(order[0]))
    return new, margins


def greedy_penalized(step, prompt, repetition=1.0, presence=0.0, frequency=0.0, n=GREEDY_STEPS):
    """Greedy continuation by full recomputation under the sampling penalties, in float64. First transformers'
    RepetitionPenaltyLogitsProcessor (generation/logits_process.py; generate's _get_logits_processor adds it whenever
    repetition_penalty != 1, greedy search included): every id of the sequence so far — for a decoder-only model
    generate's input_ids, the prompt and the new tokens — has its score multiplied by the penalty where the score is
    < 0 and divided by it otherwise. Then vLLM's frequency and presence penalties (model_executor/layers/utils.py
    apply_penalties, OpenAI's definition): each id's score minus frequency times its count among the new tokens,
    minus presence where that count is > 0; the prompt does not count. Returns the run as reference.json keeps it:
    the penalties, the new tokens and the top-1 minus top-2 penalized score at each step."""
    toks, new, margins = list(prompt), [], []
    for _ in range(n):
        s = np.array(step(toks), dtype=np.float64)
        seen = np.zeros(s.shape[0], dtype=bool)
        seen[toks] = True
        s = np.where(seen, np.where(s < 0, s * repetition, s / repetition), s)
        counts = np.bincount(np.array(new, dtype=np.int64), minlength=s.shape[0]).astype(np.float64)
        s = s - frequency * counts - presence * (counts > 0)
        order = np.argsort(-s, kind="stable")
        new.append(int(order[0]))
        margins.append(float(s[order[0]] - s[order[1]]))
        toks.append(int(order[0]))
    return {"repetition_penalty": repetition, "presence_penalty": presence, "frequency_penalty": frequency,
            "tokens": new, "margins": margins}


BEAM_KEYS = ("num_beams", "max_new_tokens", "eos_token_id", "length_penalty", "early_stopping", "num_return_sequences",
             "no_repeat_ngram_size", "min_new_tokens", "min_length", "repetition_penalty", "bad_words_ids", "forced_bos_token_id",
             "forced_eos_token_id", "suppress_tokens", "begin_suppress_tokens", "renormalize_logits")


def beam_runs(step, prompts_or_inputs, runs, encoder_decoder, bound, start=0):
    """transformers' beam search (beam.py) for each run (a dict of generate's options, BEAM_KEYS) over a batch: for a
    decoder-only model `prompts_or_inputs` are the prompts, step(b, ids) -> logits; for an encoder-decoder the encoder
    inputs, the decoder starting from [start] each (the config's decoder_start_token_id: T5's 0, BART's 2, Marian's pad).
    Returns them as reference.json keeps them. Refuses a run whose decisive
    gap (beam.py's min_gap) is below `bound` (the greedy check's 20 x 2e-5 x max|logits|): a float32 implementation
    could then order two candidates otherwise and the exact-token check would be luck."""
    out = []
    for run in runs:
        kw = {k: run[k] for k in BEAM_KEYS if k in run and k not in ("num_beams", "max_new_tokens", "eos_token_id")}
        prompts = [[start] for _ in prompts_or_inputs] if encoder_decoder else [list(p) for p in prompts_or_inputs]
        r = beam.beam_search(step, prompts, run["num_beams"], run["max_new_tokens"], run["eos_token_id"], **kw)
        if not r["min_gap"] > bound:
            raise SystemExit(f"beam run {run}: decisive gap {r['min_gap']:.3g} below {bound:.3g}")
        rec = dict(run)
        rec["input_ids" if encoder_decoder else "prompts"] = [list(map(int, p)) for p in prompts_or_inputs]
        rec.update({"sequences": r["sequences"], "sequences_scores": r["scores"], "steps": r["steps"], "min_gap": r["min_gap"]})
        out.append(rec)
    return out


def save(out, name, config, draw, outputs, inputs, follows, greedy_run=None, rename=None, extra=None, convert=None):
    d = os.path.join(out, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    if draw.store != "F32":                          # what save_pretrained records for a bfloat16 / float16 model (4.x / 5.x key)
        name16 = {"BF16": "bfloat16", "F16": "float16"}[draw.store]
        config = {k: (name16 if k in ("torch_dtype", "dtype") and v == "float32" else v) for k, v in config.items()}
    with open(os.path.join(d, "config.json"), "w") as fh:
        json.dump(config, fh, indent=2, sort_keys=True)
        fh.write("\n")
    params = draw.params if rename is None else {rename(k): v for k, v in draw.params.items()}
    if convert is not None:                          # a layout that merges tensors (5.x's fused MoE experts)
        params = convert(params)
    if draw.store == "BF16":                         # bfloat16-exact float32 values (Draw rounded them), stored as BF16
        # FP8 block scales stay float32, as the FP8 checkpoints store them; so does GPT-Neo's saved masked_bias buffer
        # (-1e9, not bfloat16-exact), as gpt-neo-125m's file stores it, and DeepSeek-V3's router bias, as deepseek-ai's
        # files store mlp.gate.e_score_correction_bias (ERNIE 4.5's mlp.moe_statics.e_score_correction_bias likewise)
        params = {k: safetensors_np.BF16(v) if getattr(v, "dtype", None) == np.float32
                  and not k.endswith((".weight_scale_inv", ".attn.attention.masked_bias", ".gate.e_score_correction_bias",
                                      ".moe_statics.e_score_correction_bias"))
                  else v for k, v in params.items()}
    if draw.store == "F16":                          # float16-exact float32 values (Draw rounded them), stored as F16
        with np.errstate(over="ignore"):             # GPT-NeoX's masked_bias -1e9 becomes -inf, as in Pythia's float16 files
            params = {k: v.astype(np.float16) if getattr(v, "dtype", None) == np.float32 else v for k, v in params.items()}
    safetensors_np.write(os.path.join(d, "model.safetensors"), params)
    safetensors_np.write(os.path.join(d, "reference.safetensors"),
                         {k: np.asarray(v, dtype=np.float64).astype(np.float32) for k, v in outputs.items()})
    ref = {"fixture": name, "generator": "ci/reference/make_fixtures.py", "follows": follows,
           "inputs": {k: np.asarray(v).tolist() for k, v in inputs.items()},
           "outputs": {k: list(np.shape(v)) for k, v in outputs.items()},
           "max_abs": {k: float(np.max(np.abs(v))) for k, v in outputs.items()},
           "tolerance": "fp32: max |got - ref| <= 2e-5 * max|ref| per output"}
    if greedy_run is not None:
        ref["greedy"] = greedy_run
    if extra:
        ref.update(extra)
    with open(os.path.join(d, "reference.json"), "w") as fh:
        json.dump(ref, fh, indent=1)
        fh.write("\n")
    for k, v in outputs.items():
        a = np.asarray(v)
        if not np.all(np.isfinite(a)) or a.std() < 0.1:
            raise SystemExit(f"{name}: output {k} is not finite or barely varies (std {a.std():.3g}): a degenerate reference")
    size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
    if size > MAX_FOLDER_BYTES:
        raise SystemExit(f"{name}: {size} bytes, more than {MAX_FOLDER_BYTES}")
    return size


# ---- GPT-2 ------------------------------------------------------------------------------------------

@fixture("gpt2")
def make_gpt2(out):
    cfg = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "activation_function": "gelu_new",
           "n_embd": 64, "n_head": 2, "n_layer": 2, "n_positions": 64, "n_ctx": 64, "n_inner": None, "vocab_size": 512,
           "layer_norm_epsilon": 1e-5, "bos_token_id": 511, "eos_token_id": 511, "tie_word_embeddings": True,
           "scale_attn_weights": True, "scale_attn_by_inverse_layer_idx": False, "reorder_and_upcast_attn": False,
           "attn_pdrop": 0.1, "embd_pdrop": 0.1, "resid_pdrop": 0.1, "initializer_range": 0.02, "torch_dtype": "float32"}
    d = Draw(1301)
    c, f, v = 64, 256, 512
    d.emb("transformer.wte.weight", v, c, TIED_STD)
    d.emb("transformer.wpe.weight", 64, c)
    for i in range(2):
        p = f"transformer.h.{i}."
        d.norm(p + "ln_1", c)
        d.conv(p + "attn.c_attn.weight", c, 3 * c); d.bias(p + "attn.c_attn.bias", 3 * c)
        d.conv(p + "attn.c_proj.weight", c, c); d.bias(p + "attn.c_proj.bias", c)
        d.norm(p + "ln_2", c)
        d.conv(p + "mlp.c_fc.weight", c, f); d.bias(p + "mlp.c_fc.bias", f)
        d.conv(p + "mlp.c_proj.weight", f, c); d.bias(p + "mlp.c_proj.bias", c)
    d.norm("transformer.ln_f", c)
    ids = d.ids(2, 12, v)
    P = d.f64("transformer.")
    h, logits = gpt2.forward(cfg, P, ids)
    g = greedy(lambda t: gpt2.forward(cfg, P, [t])[1][0, -1], ids[0, :8].tolist())
    return save(out, "gpt2", cfg, d, {"last_hidden_state": h, "logits": logits}, {"input_ids": ids},
                "modeling_gpt2.py: GPT2LMHeadModel.forward (GPT2Model, GPT2Block, GPT2Attention, GPT2MLP)",
                {"prompt": ids[0, :8].tolist(), "tokens": g[0], "margins": g[1]})


# ---- BERT family ------------------------------------------------------------------------------------

def bert_config(c=64, nh=2, f=128, v=512, layers=2, arch="BertModel", extra=None):
    cfg = {"architectures": [arch], "model_type": "bert", "hidden_size": c, "num_attention_heads": nh,
           "num_hidden_layers": layers, "intermediate_size": f, "vocab_size": v, "max_position_embeddings": 64,
           "type_vocab_size": 2, "hidden_act": "gelu", "layer_norm_eps": 1e-12, "pad_token_id": 0,
           "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "initializer_range": 0.02,
           "position_embedding_type": "absolute", "torch_dtype": "float32"}
    cfg.update(extra or {})
    return cfg


def draw_bert_encoder(d, cfg, prefix="", pooler=True, norm_names=("weight", "bias")):
    c, f, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    d.emb(prefix + "embeddings.word_embeddings.weight", v, c)
    d.emb(prefix + "embeddings.position_embeddings.weight", cfg["max_position_embeddings"], c)
    d.emb(prefix + "embeddings.token_type_embeddings.weight", cfg["type_vocab_size"], c)
    d.norm(prefix + "embeddings.LayerNorm", c, names=norm_names)
    for i in range(cfg["num_hidden_layers"]):
        p = f"{prefix}encoder.layer.{i}."
        for n in ("query", "key", "value"):
            d.linear(p + "attention.self." + n, c, c)
        d.linear(p + "attention.output.dense", c, c)
        d.norm(p + "attention.output.LayerNorm", c, names=norm_names)
        d.linear(p + "intermediate.dense", c, f)
        d.linear(p + "output.dense", f, c)
        d.norm(p + "output.LayerNorm", c, names=norm_names)
    if pooler:
        d.linear(prefix + "pooler.dense", c, c)


def draw_mlm_head(d, cfg, norm_names=("weight", "bias")):
    c = cfg["hidden_size"]
    d.linear("cls.predictions.transform.dense", c, c)
    d.norm("cls.predictions.transform.LayerNorm", c, names=norm_names)
    d.bias("cls.predictions.bias", cfg["vocab_size"])


BERT_FOLLOWS = "modeling_bert.py: BertModel.forward (BertEmbeddings, BertLayer, BertPooler)"


@fixture("bert")
def make_bert(out):
    cfg = bert_config()
    d = Draw(1302)
    draw_bert_encoder(d, cfg)
    ids = d.ids(2, 12, cfg["vocab_size"], low=1)
    P = d.f64()
    h = bert.encode(cfg, P, ids)
    return save(out, "bert", cfg, d, {"last_hidden_state": h, "pooler_output": bert.pooler(P, h)}, {"input_ids": ids},
                BERT_FOLLOWS)


def pair_inputs(d, v, t=14):
    """Two sentence pairs [CLS] a [SEP] b [SEP] (ids 101/102 stand for CLS/SEP) with token types 0/1; the
    second row padded (pad id 0, attention_mask 0) after its pair."""
    ids = d.ids(2, t, v, low=103)
    types = np.zeros((2, t), dtype=np.int64)
    mask = np.ones((2, t), dtype=np.int64)
    for r, (la, lb, total) in enumerate([(5, 6, t), (4, 4, 11)]):
        ids[r, 0] = 101
        ids[r, 1 + la] = 102
        ids[r, 2 + la + lb] = 102
        types[r, 2 + la:3 + la + lb] = 1
        ids[r, total:] = 0
        mask[r, total:] = 0
    return ids, types, mask


@fixture("bert-mlm")
def make_bert_mlm(out):
    cfg = bert_config(v=256, arch="BertForMaskedLM")
    d = Draw(1303)
    draw_bert_encoder(d, cfg, prefix="bert.", pooler=False)
    draw_mlm_head(d, cfg)
    ids, types, mask = pair_inputs(d, cfg["vocab_size"])
    ids[0, 3] = ids[1, 5] = 103                                   # [MASK] stands at 103
    P = d.f64("bert.")
    h = bert.encode(cfg, P, ids, types, mask)
    return save(out, "bert-mlm", cfg, d, {"last_hidden_state": h, "logits": bert.mlm_logits(cfg, P, h)},
                {"input_ids": ids, "token_type_ids": types, "attention_mask": mask},
                "modeling_bert.py: BertForMaskedLM.forward (BertModel without pooler, BertOnlyMLMHead; "
                "cls.predictions.decoder.weight tied to bert.embeddings.word_embeddings.weight, its bias is cls.predictions.bias)")


@fixture("bert-pretraining")
def make_bert_pretraining(out):
    cfg = bert_config(v=256, arch="BertForPreTraining")
    d = Draw(1304)
    draw_bert_encoder(d, cfg, prefix="bert.", pooler=True)
    draw_mlm_head(d, cfg)
    d.linear("cls.seq_relationship", cfg["hidden_size"], 2)
    ids, types, mask = pair_inputs(d, cfg["vocab_size"])
    P = d.f64("bert.")
    h = bert.encode(cfg, P, ids, types, mask)
    pooled = bert.pooler(P, h)
    return save(out, "bert-pretraining", cfg, d,
                {"last_hidden_state": h, "pooler_output": pooled, "prediction_logits": bert.mlm_logits(cfg, P, h),
                 "seq_relationship_logits": bert.nsp_logits(P, pooled)},
                {"input_ids": ids, "token_type_ids": types, "attention_mask": mask},
                "modeling_bert.py: BertForPreTraining.forward (BertModel with pooler, BertPreTrainingHeads)")


@fixture("bert-seqcls")
def make_bert_seqcls(out):
    labels = {0: "contradiction", 1: "entailment", 2: "neutral"}
    cfg = bert_config(v=256, arch="BertForSequenceClassification",
                      extra={"id2label": {str(k): v for k, v in labels.items()}, "label2id": {v: k for k, v in labels.items()}})
    d = Draw(1305)
    draw_bert_encoder(d, cfg, prefix="bert.", pooler=True)
    d.linear("classifier", cfg["hidden_size"], 3)
    ids, types, mask = pair_inputs(d, cfg["vocab_size"])
    P = d.f64("bert.")
    h = bert.encode(cfg, P, ids, types, mask)
    logits = np.asarray(P["classifier.weight"] @ bert.pooler(P, h).T).T + P["classifier.bias"]
    return save(out, "bert-seqcls", cfg, d, {"last_hidden_state": h, "logits": logits},
                {"input_ids": ids, "token_type_ids": types, "attention_mask": mask},
                "modeling_bert.py: BertForSequenceClassification.forward (classifier on the pooled output; id2label in config.json)")


@fixture("bert-crossencoder")
def make_bert_crossencoder(out):
    """A cross-encoder reranker (ms-marco MiniLM style): BertForSequenceClassification with one label, scoring one
    query paired with four passages of different lengths, padded into one batch with an attention mask."""
    cfg = bert_config(v=256, arch="BertForSequenceClassification",
                      extra={"id2label": {"0": "LABEL_0"}, "label2id": {"LABEL_0": 0}})
    d = Draw(1312)
    draw_bert_encoder(d, cfg, prefix="bert.", pooler=True)
    d.linear("classifier", cfg["hidden_size"], 1)
    query = d.ids(1, 4, cfg["vocab_size"], low=103)[0]
    passages = [d.ids(1, n, cfg["vocab_size"], low=103)[0] for n in (6, 3, 9, 5)]
    t = 2 + len(query) + 1 + max(len(p) for p in passages)
    ids = np.zeros((len(passages), t), dtype=np.int64)
    types = np.zeros_like(ids)
    mask = np.zeros_like(ids)
    for r, p in enumerate(passages):
        row = [101, *query, 102, *p, 102]
        ids[r, :len(row)] = row
        types[r, 2 + len(query):len(row)] = 1
        mask[r, :len(row)] = 1
    P = d.f64("bert.")
    h = bert.encode(cfg, P, ids, types, mask)
    logits = np.asarray(P["classifier.weight"] @ bert.pooler(P, h).T).T + P["classifier.bias"]
    return save(out, "bert-crossencoder", cfg, d, {"last_hidden_state": h, "logits": logits},
                {"input_ids": ids, "token_type_ids": types, "attention_mask": mask},
                "modeling_bert.py: BertForSequenceClassification.forward with num_labels 1 (a cross-encoder's relevance "
                "logit on the pooled output of [CLS] query [SEP] passage [SEP])")


@fixture("bert-tokcls")
def make_bert_tokcls(out):
    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    cfg = bert_config(v=256, arch="BertForTokenClassification",
                      extra={"id2label": {str(i): l for i, l in enumerate(labels)}, "label2id": {l: i for i, l in enumerate(labels)}})
    d = Draw(1306)
    draw_bert_encoder(d, cfg, prefix="bert.", pooler=False)
    d.linear("classifier", cfg["hidden_size"], len(labels))
    ids = d.ids(2, 12, cfg["vocab_size"], low=1)
    mask = np.ones_like(ids)
    ids[1, 9:] = 0
    mask[1, 9:] = 0
    P = d.f64("bert.")
    h = bert.encode(cfg, P, ids, None, mask)
    logits = h @ P["classifier.weight"].T + P["classifier.bias"]
    return save(out, "bert-tokcls", cfg, d, {"last_hidden_state": h, "logits": logits},
                {"input_ids": ids, "attention_mask": mask},
                "modeling_bert.py: BertForTokenClassification.forward (BertModel without pooler, classifier on every row)")


@fixture("bert-gamma-beta")
def make_bert_gamma_beta(out):
    cfg = bert_config(v=256, arch="BertForPreTraining")
    d = Draw(1307)
    gb = ("gamma", "beta")
    draw_bert_encoder(d, cfg, prefix="bert.", pooler=True, norm_names=gb)
    draw_mlm_head(d, cfg, norm_names=gb)
    d.linear("cls.seq_relationship", cfg["hidden_size"], 2)
    ids = d.ids(2, 10, cfg["vocab_size"], low=1)
    P = {k.replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias"): v for k, v in d.f64("bert.").items()}
    h = bert.encode(cfg, P, ids)
    pooled = bert.pooler(P, h)
    return save(out, "bert-gamma-beta", cfg, d,
                {"last_hidden_state": h, "pooler_output": pooled, "prediction_logits": bert.mlm_logits(cfg, P, h),
                 "seq_relationship_logits": bert.nsp_logits(P, pooled)}, {"input_ids": ids},
                "modeling_bert.py: BertForPreTraining.forward, in the TF-era layout of the original BERT checkpoints: "
                "every LayerNorm's parameters named gamma/beta, which transformers' loader renames to weight/bias "
                "(modeling_utils: _fix_state_dict_key_on_load)")


@fixture("bert-hs16")
def make_bert_hs16(out):
    cfg = bert_config(c=64, nh=4, f=128, v=256)
    d = Draw(1308)
    draw_bert_encoder(d, cfg)
    ids = d.ids(2, 12, cfg["vocab_size"], low=1)
    P = d.f64()
    h = bert.encode(cfg, P, ids)
    return save(out, "bert-hs16", cfg, d, {"last_hidden_state": h, "pooler_output": bert.pooler(P, h)}, {"input_ids": ids},
                BERT_FOLLOWS + "; head size 16")


@fixture("bert-hs80")
def make_bert_hs80(out):
    cfg = bert_config(c=80, nh=1, f=128, v=256)
    d = Draw(1309)
    draw_bert_encoder(d, cfg)
    ids = d.ids(2, 12, cfg["vocab_size"], low=1)
    P = d.f64()
    h = bert.encode(cfg, P, ids)
    return save(out, "bert-hs80", cfg, d, {"last_hidden_state": h, "pooler_output": bert.pooler(P, h)}, {"input_ids": ids},
                BERT_FOLLOWS + "; head size 80 (one head over hidden 80)")


def roberta_config(model_type, arch, extra=None):
    cfg = bert_config(v=256, arch=arch, extra={"model_type": model_type, "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2,
                                        "max_position_embeddings": 40, "type_vocab_size": 1, "layer_norm_eps": 1e-5})
    cfg.update(extra or {})
    return cfg


def roberta_inputs(d, v):
    """<s> … </s> rows (ids 0 / 2), the second right-padded with pad id 1 (attention_mask 0)."""
    ids = d.ids(2, 14, v, low=3)
    ids[:, 0] = 0
    ids[0, 13] = 2
    ids[1, 9] = 2
    ids[1, 10:] = 1
    mask = (ids != 1).astype(np.int64)
    return ids, mask


@fixture("roberta")
def make_roberta(out):
    cfg = roberta_config("roberta", "RobertaModel")
    d = Draw(1310)
    draw_bert_encoder(d, cfg)
    ids, mask = roberta_inputs(d, cfg["vocab_size"])
    P = d.f64()
    h = bert.encode(cfg, P, ids, None, mask)
    return save(out, "roberta", cfg, d, {"last_hidden_state": h, "pooler_output": bert.pooler(P, h)},
                {"input_ids": ids, "attention_mask": mask, "position_ids": bert.create_position_ids_from_input_ids(ids, 1)},
                "modeling_roberta.py: RobertaModel.forward (RobertaEmbeddings with create_position_ids_from_input_ids: "
                "positions from padding_idx + 1, padding tokens at padding_idx; BERT's layers and pooler)")


@fixture("xlm-roberta-seqcls")
def make_xlmr(out):
    labels = {0: "negative", 1: "positive"}
    cfg = roberta_config("xlm-roberta", "XLMRobertaForSequenceClassification",
                         {"id2label": {str(k): v for k, v in labels.items()}, "label2id": {v: k for k, v in labels.items()}})
    d = Draw(1311)
    draw_bert_encoder(d, cfg, prefix="roberta.", pooler=False)
    c = cfg["hidden_size"]
    d.linear("classifier.dense", c, c)
    d.linear("classifier.out_proj", c, 2)
    ids, mask = roberta_inputs(d, cfg["vocab_size"])
    P = d.f64("roberta.")
    h = bert.encode(cfg, P, ids, None, mask)
    return save(out, "xlm-roberta-seqcls", cfg, d, {"last_hidden_state": h, "logits": bert.roberta_classification(P, h)},
                {"input_ids": ids, "attention_mask": mask, "position_ids": bert.create_position_ids_from_input_ids(ids, 1)},
                "modeling_xlm_roberta.py: XLMRobertaForSequenceClassification.forward (XLMRobertaModel without pooler, "
                "XLMRobertaClassificationHead: dense, tanh, out_proj on h[:, 0])")


@fixture("camembert-seqcls")
def make_camembert_seqcls(out):
    """CamembertForSequenceClassification as camembert-base's fine-tunes are saved: model_type camembert (RoBERTa's model
    under roberta., positions after pad_token_id 1, bos 5 / eos 6 as camembert-base has them), the classification head."""
    labels = {0: "négatif", 1: "positif"}
    cfg = roberta_config("camembert", "CamembertForSequenceClassification",
                         {"hidden_size": 32, "intermediate_size": 64, "vocab_size": 128, "bos_token_id": 5, "eos_token_id": 6,
                          "id2label": {str(k): v for k, v in labels.items()}, "label2id": {v: k for k, v in labels.items()}})
    d = Draw(1398)
    draw_bert_encoder(d, cfg, prefix="roberta.", pooler=False)
    c = cfg["hidden_size"]
    d.linear("classifier.dense", c, c)
    d.linear("classifier.out_proj", c, 2)
    ids, mask = roberta_inputs(d, cfg["vocab_size"])
    ids[:, 0] = 5
    ids[0, 13] = ids[1, 9] = 6
    P = d.f64("roberta.")
    h = bert.encode(cfg, P, ids, None, mask)
    return save(out, "camembert-seqcls", cfg, d, {"last_hidden_state": h, "logits": bert.roberta_classification(P, h)},
                {"input_ids": ids, "attention_mask": mask, "position_ids": bert.create_position_ids_from_input_ids(ids, 1)},
                "modeling_camembert.py: CamembertForSequenceClassification.forward (CamembertModel = RobertaModel's layers "
                "and positions, without pooler; CamembertClassificationHead: dense, tanh, out_proj on h[:, 0])")


@fixture("roberta-mlm")
def make_roberta_mlm(out):
    cfg = roberta_config("roberta", "RobertaForMaskedLM")
    d = Draw(1313)
    draw_bert_encoder(d, cfg, prefix="roberta.", pooler=False)
    c = cfg["hidden_size"]
    d.linear("lm_head.dense", c, c)
    d.norm("lm_head.layer_norm", c)
    d.bias("lm_head.bias", cfg["vocab_size"])
    ids, mask = roberta_inputs(d, cfg["vocab_size"])
    ids[0, 4] = ids[1, 6] = 3                                        # <mask> stands at id 3 here
    P = d.f64("roberta.")
    h = bert.encode(cfg, P, ids, None, mask)
    return save(out, "roberta-mlm", cfg, d, {"last_hidden_state": h, "logits": bert.roberta_mlm_logits(cfg, P, h)},
                {"input_ids": ids, "attention_mask": mask, "position_ids": bert.create_position_ids_from_input_ids(ids, 1)},
                "modeling_roberta.py: RobertaForMaskedLM.forward (RobertaModel without pooler, RobertaLMHead: dense, gelu, "
                "layer_norm, decoder tied to roberta.embeddings.word_embeddings.weight, its bias lm_head.bias)")


@fixture("distilbert-seqcls")
def make_distilbert_seqcls(out):
    labels = {0: "negative", 1: "neutral", 2: "positive"}
    cfg = distilbert_config("DistilBertForSequenceClassification", {"id2label": {str(k): v for k, v in labels.items()},
                                                                    "label2id": {v: k for k, v in labels.items()}})
    d = Draw(1314)
    draw_distilbert_encoder(d, cfg, "distilbert.")
    c = cfg["dim"]
    d.linear("pre_classifier", c, c)
    d.linear("classifier", c, 3)
    ids, mask = distilbert_inputs(d, cfg["vocab_size"])
    P = d.f64("distilbert.")
    h = bert.distilbert_encode(cfg, P, ids, mask)
    return save(out, "distilbert-seqcls", cfg, d, {"last_hidden_state": h, "logits": bert.distilbert_classification(P, h)},
                {"input_ids": ids, "attention_mask": mask},
                "modeling_distilbert.py: DistilBertForSequenceClassification.forward (DistilBertModel, pre_classifier, "
                "ReLU, classifier on h[:, 0]; id2label in config.json)")


def distilbert_config(arch, extra=None):
    cfg = {"architectures": [arch], "model_type": "distilbert", "dim": 64, "n_heads": 2, "n_layers": 2,
           "hidden_dim": 128, "vocab_size": 256, "max_position_embeddings": 64, "activation": "gelu",
           "sinusoidal_pos_embds": False, "pad_token_id": 0, "dropout": 0.1, "attention_dropout": 0.1,
           "qa_dropout": 0.1, "seq_classif_dropout": 0.2, "tie_weights_": True, "initializer_range": 0.02,
           "torch_dtype": "float32"}
    cfg.update(extra or {})
    return cfg


def draw_distilbert_encoder(d, cfg, prefix):
    c, f, v = cfg["dim"], cfg["hidden_dim"], cfg["vocab_size"]
    d.emb(prefix + "embeddings.word_embeddings.weight", v, c)
    d.emb(prefix + "embeddings.position_embeddings.weight", cfg["max_position_embeddings"], c)
    d.norm(prefix + "embeddings.LayerNorm", c)
    for i in range(cfg["n_layers"]):
        p = f"{prefix}transformer.layer.{i}."
        for n in ("q_lin", "k_lin", "v_lin", "out_lin"):
            d.linear(p + "attention." + n, c, c)
        d.norm(p + "sa_layer_norm", c)
        d.linear(p + "ffn.lin1", c, f)
        d.linear(p + "ffn.lin2", f, c)
        d.norm(p + "output_layer_norm", c)


def distilbert_inputs(d, v):
    ids = d.ids(2, 12, v, low=1)
    mask = np.ones_like(ids)
    ids[1, 8:] = 0
    mask[1, 8:] = 0
    return ids, mask


@fixture("distilbert-mlm")
def make_distilbert_mlm(out):
    cfg = distilbert_config("DistilBertForMaskedLM", SMALL_DISTILBERT)
    d = Draw(1315)
    draw_distilbert_encoder(d, cfg, "distilbert.")
    c = cfg["dim"]
    d.linear("vocab_transform", c, c)
    d.norm("vocab_layer_norm", c)
    d.bias("vocab_projector.bias", cfg["vocab_size"])
    ids, mask = distilbert_inputs(d, cfg["vocab_size"])
    ids[0, 3] = ids[1, 5] = 103 % cfg["vocab_size"]                  # a [MASK]-like id in each row
    P = d.f64("distilbert.")
    h = bert.distilbert_encode(cfg, P, ids, mask)
    return save(out, "distilbert-mlm", cfg, d, {"last_hidden_state": h, "logits": bert.distilbert_mlm_logits(cfg, P, h)},
                {"input_ids": ids, "attention_mask": mask},
                "modeling_distilbert.py: DistilBertForMaskedLM.forward (DistilBertModel, vocab_transform, the config's "
                "activation (gelu), vocab_layer_norm eps 1e-12, vocab_projector tied to the word embeddings (not saved, "
                "as save_pretrained drops tied weights) + vocab_projector.bias)")


@fixture("distilbert-mlm-untied")
def make_distilbert_mlm_untied(out):
    # one layer and 16 positions: the encoder is distilbert-mlm's; this folder is here for the output matrix
    cfg = distilbert_config("DistilBertForMaskedLM", dict(SMALL_DISTILBERT, n_layers=1, max_position_embeddings=16,
                                                          tie_word_embeddings=False))
    d = Draw(1318)
    draw_distilbert_encoder(d, cfg, "distilbert.")
    c = cfg["dim"]
    d.linear("vocab_transform", c, c)
    d.norm("vocab_layer_norm", c)
    d.linear("vocab_projector", c, cfg["vocab_size"])                   # its own matrix, saved: not the word embeddings
    ids, mask = distilbert_inputs(d, cfg["vocab_size"])
    ids[0, 3] = ids[1, 5] = 103 % cfg["vocab_size"]
    P = d.f64("distilbert.")
    h = bert.distilbert_encode(cfg, P, ids, mask)
    return save(out, "distilbert-mlm-untied", cfg, d,
                {"last_hidden_state": h, "logits": bert.distilbert_mlm_logits(cfg, P, h)},
                {"input_ids": ids, "attention_mask": mask},
                "modeling_distilbert.py: DistilBertForMaskedLM.forward as distilbert-mlm, with tie_word_embeddings false: "
                "modeling_utils.PreTrainedModel.tie_weights leaves vocab_projector untied, so its stored weight (not the "
                "word embeddings) + vocab_projector.bias makes the logits")


TOKEN_LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
SMALL_DISTILBERT = {"dim": 32, "hidden_dim": 64, "vocab_size": 128}   # the fixtures' total stays under MAX_TOTAL_BYTES


@fixture("distilbert-tokcls")
def make_distilbert_tokcls(out):
    cfg = distilbert_config("DistilBertForTokenClassification", dict(SMALL_DISTILBERT, id2label={str(i): l for i, l in enumerate(TOKEN_LABELS)},
                                                                     label2id={l: i for i, l in enumerate(TOKEN_LABELS)}))
    d = Draw(1316)
    draw_distilbert_encoder(d, cfg, "distilbert.")
    d.linear("classifier", cfg["dim"], len(TOKEN_LABELS))
    ids, mask = distilbert_inputs(d, cfg["vocab_size"])
    P = d.f64("distilbert.")
    h = bert.distilbert_encode(cfg, P, ids, mask)
    return save(out, "distilbert-tokcls", cfg, d, {"last_hidden_state": h, "logits": bert.token_classification(P, h)},
                {"input_ids": ids, "attention_mask": mask},
                "modeling_distilbert.py: DistilBertForTokenClassification.forward (DistilBertModel, dropout (identity at "
                "eval), classifier on every row; id2label in config.json)")


@fixture("roberta-tokcls")
def make_roberta_tokcls(out):
    cfg = roberta_config("roberta", "RobertaForTokenClassification", {"id2label": {str(i): l for i, l in enumerate(TOKEN_LABELS)},
                                                                       "label2id": {l: i for i, l in enumerate(TOKEN_LABELS)},
                                                                       "hidden_size": 32, "intermediate_size": 64, "vocab_size": 128})
    d = Draw(1317)
    draw_bert_encoder(d, cfg, prefix="roberta.", pooler=False)
    d.linear("classifier", cfg["hidden_size"], len(TOKEN_LABELS))
    ids, mask = roberta_inputs(d, cfg["vocab_size"])
    P = d.f64("roberta.")
    h = bert.encode(cfg, P, ids, None, mask)
    return save(out, "roberta-tokcls", cfg, d, {"last_hidden_state": h, "logits": bert.token_classification(P, h)},
                {"input_ids": ids, "attention_mask": mask, "position_ids": bert.create_position_ids_from_input_ids(ids, 1)},
                "modeling_roberta.py: RobertaForTokenClassification.forward (RobertaModel without pooler, dropout (identity "
                "at eval), classifier on every row, rows padded at padding_idx; id2label in config.json)")


@fixture("distilbert")
def make_distilbert(out):
    cfg = distilbert_config("DistilBertModel")
    d = Draw(1312)
    draw_distilbert_encoder(d, cfg, "")
    ids, mask = distilbert_inputs(d, cfg["vocab_size"])
    h = bert.distilbert_encode(cfg, d.f64(), ids, mask)
    return save(out, "distilbert", cfg, d, {"last_hidden_state": h}, {"input_ids": ids, "attention_mask": mask},
                "modeling_distilbert.py: DistilBertModel.forward (Embeddings, TransformerBlock, MultiHeadSelfAttention, FFN)")


# ---- ModernBERT ------------------------------------------------------------------------------------

def modernbert_config(arch, extra=None):
    """ModernBertConfig as 4.x (4.48-4.57) saves it: every field of its __init__ except reference_compile (to_dict
    drops it), the tiny sizes here; layers 0 and 2 global (global_rope_theta 160000), layer 1 local
    (local_rope_theta 10000, local_attention 8: keys within ±4)."""
    cfg = {"architectures": [arch], "model_type": "modernbert", "vocab_size": 256, "hidden_size": 64,
           "intermediate_size": 48, "num_hidden_layers": 3, "num_attention_heads": 4, "hidden_activation": "gelu",
           "max_position_embeddings": 128, "initializer_range": 0.02, "initializer_cutoff_factor": 2.0,
           "norm_eps": 1e-5, "norm_bias": False, "pad_token_id": 0, "eos_token_id": 2, "bos_token_id": 1,
           "cls_token_id": 1, "sep_token_id": 2, "global_rope_theta": 160000.0, "attention_bias": False,
           "attention_dropout": 0.0, "global_attn_every_n_layers": 2, "local_attention": 8,
           "local_rope_theta": 10000.0, "embedding_dropout": 0.0, "mlp_bias": False, "mlp_dropout": 0.0,
           "decoder_bias": True, "classifier_pooling": "cls", "classifier_dropout": 0.0, "classifier_bias": False,
           "classifier_activation": "gelu", "deterministic_flash_attn": False, "sparse_prediction": False,
           "sparse_pred_ignore_index": -100, "repad_logits_with_grad": False, "torch_dtype": "float32"}
    cfg.update(extra or {})
    return cfg


def modernbert_to_v5(cfg):
    """What 5.x's ModernBertConfig saves for the same model: global_rope_theta / local_rope_theta folded into
    rope_parameters per layer kind (convert_rope_params_to_dict), layer_types written out (from
    global_attn_every_n_layers, which is kept), repad_logits_with_grad gone, tie_word_embeddings written,
    torch_dtype renamed dtype. local_attention stays (sliding_window is a property: local_attention // 2)."""
    cfg = dict(cfg)
    g, loc = cfg.pop("global_rope_theta"), cfg.pop("local_rope_theta")
    cfg.pop("repad_logits_with_grad")
    cfg["rope_parameters"] = {"full_attention": {"rope_theta": g, "rope_type": "default"},
                              "sliding_attention": {"rope_theta": loc, "rope_type": "default"}}
    cfg["layer_types"] = modernbert.layer_types(cfg)
    cfg["tie_word_embeddings"] = True
    cfg["dtype"] = cfg.pop("torch_dtype")
    return cfg


def draw_modernbert(d, cfg, prefix):
    """ModernBertModel's parameters in declaration order (embeddings, layers: attn_norm from layer 1 on, attn, mlp_norm,
    mlp; final_norm); biases only where the config asks for them."""
    c, f, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    nb, ab, mb = cfg["norm_bias"], cfg["attention_bias"], cfg["mlp_bias"]
    d.emb(prefix + "embeddings.tok_embeddings.weight", v, c)
    d.norm(prefix + "embeddings.norm", c, bias=nb)
    for i in range(cfg["num_hidden_layers"]):
        p = f"{prefix}layers.{i}."
        if i > 0:
            d.norm(p + "attn_norm", c, bias=nb)
        d.linear(p + "attn.Wqkv", c, 3 * c, bias=ab)
        d.linear(p + "attn.Wo", c, c, bias=ab)
        d.norm(p + "mlp_norm", c, bias=nb)
        d.linear(p + "mlp.Wi", c, 2 * f, bias=mb)
        d.linear(p + "mlp.Wo", f, c, bias=mb)
    d.norm(prefix + "final_norm", c, bias=nb)


def draw_modernbert_head(d, cfg):
    c = cfg["hidden_size"]
    d.linear("head.dense", c, c, bias=cfg["classifier_bias"])
    d.norm("head.norm", c, bias=cfg["norm_bias"])


def modernbert_inputs(d, v, t=22, pad=4):
    """[CLS] … [SEP] rows (ids 1 / 2, the rest from 4 up; 3 stands for [MASK]), T = 22 (past the local layer's ±4
    window), the second right-padded by 4 (pad id 0, attention_mask 0): no more than the half window, so that
    every padded query still has an unpadded key in its window (a fully masked row is where eager, sdpa and
    flash attention disagree)."""
    ids = d.ids(2, t, v, low=4)
    ids[:, 0] = 1
    ids[0, t - 1] = 2
    ids[1, t - pad - 1] = 2
    ids[1, t - pad:] = 0
    mask = (np.arange(t)[None, :] < np.array([[t], [t - pad]])).astype(np.int64)
    return ids, mask


MODERNBERT_FOLLOWS = ("models/modernbert/modeling_modernbert.py: ModernBertModel.forward (ModernBertEmbeddings: "
                      "tok_embeddings + norm; ModernBertEncoderLayer pre-LN, attn_norm identity on layer 0; "
                      "ModernBertAttention: Wqkv [q | k | v], rotate_half RoPE with the global / local theta, "
                      "head_dim**-0.5, local layers see |i - j| <= local_attention // 2; ModernBertMLP: Wi chunked "
                      "[input | gate], Wo(act(input) * gate); final_norm), eager path, position_ids arange(T)")


def make_modernbert_base(out, name, cfg, note):
    d = Draw(1371)
    draw_modernbert(d, cfg, "")
    ids, mask = modernbert_inputs(d, cfg["vocab_size"])
    h = modernbert.encode(cfg, d.f64(), ids, mask)
    return save(out, name, cfg, d, {"last_hidden_state": h}, {"input_ids": ids, "attention_mask": mask},
                MODERNBERT_FOLLOWS, extra={"layer_types": modernbert.layer_types(cfg), "note": note})


@fixture("modernbert")
def make_modernbert(out):
    return make_modernbert_base(out, "modernbert", modernbert_config("ModernBertModel"),
                                "4.x layout (global_rope_theta 160000 on layers 0 and 2, local_rope_theta 10000 and the "
                                "±4 window on layer 1); ModernBertModel's own names, no prefix; padded rows (attention_mask "
                                "0) as the eager / sdpa path computes them (flash attention leaves zeros there)")


@fixture("modernbert-v5")
def make_modernbert_v5(out):
    return make_modernbert_base(out, "modernbert-v5", modernbert_to_v5(modernbert_config("ModernBertModel")),
                                "the modernbert folder's model and inputs (same seed, same weights, same outputs) with "
                                "5.x's config.json: rope_parameters per layer kind, explicit layer_types")


@fixture("modernbert-mlm")
def make_modernbert_mlm(out):
    cfg = modernbert_config("ModernBertForMaskedLM")
    d = Draw(1372)
    draw_modernbert(d, cfg, "model.")
    draw_modernbert_head(d, cfg)
    d.bias("decoder.bias", cfg["vocab_size"])
    ids, mask = modernbert_inputs(d, cfg["vocab_size"])
    ids[0, 5] = ids[0, 17] = ids[1, 9] = 3                          # [MASK]
    P = d.f64("model.")
    h = modernbert.encode(cfg, P, ids, mask)
    return save(out, "modernbert-mlm", cfg, d, {"last_hidden_state": h, "logits": modernbert.mlm_logits(cfg, P, h)},
                {"input_ids": ids, "attention_mask": mask},
                "models/modernbert/modeling_modernbert.py: ModernBertForMaskedLM.forward (ModernBertModel as in the "
                "modernbert fixture under model.; ModernBertPredictionHead: dense without bias (classifier_bias false), "
                "gelu (classifier_activation), norm; decoder tied to model.embeddings.tok_embeddings.weight and not "
                "saved, its bias decoder.bias (decoder_bias)); logits on every row, padded ones included")


@fixture("modernbert-seqcls")
def make_modernbert_seqcls(out):
    labels = {0: "negative", 1: "neutral", 2: "positive"}
    cfg = modernbert_config("ModernBertForSequenceClassification",
                            {"classifier_pooling": "mean", "id2label": {str(k): v for k, v in labels.items()},
                             "label2id": {v: k for k, v in labels.items()}})
    d = Draw(1373)
    draw_modernbert(d, cfg, "model.")
    draw_modernbert_head(d, cfg)
    d.linear("classifier", cfg["hidden_size"], 3)
    ids, mask = modernbert_inputs(d, cfg["vocab_size"])
    P = d.f64("model.")
    h = modernbert.encode(cfg, P, ids, mask)
    return save(out, "modernbert-seqcls", cfg, d,
                {"last_hidden_state": h, "logits": modernbert.classification_logits(cfg, P, h, mask)},
                {"input_ids": ids, "attention_mask": mask},
                "models/modernbert/modeling_modernbert.py: ModernBertForSequenceClassification.forward "
                "(classifier_pooling mean: sum(last_hidden_state * attention_mask) / attention_mask.sum over the "
                "final_norm output; then ModernBertPredictionHead (dense, gelu, norm), then classifier Linear(C, 3) "
                "with its bias; id2label in config.json)")


# ---- MPNet ------------------------------------------------------------------------------------------

def mpnet_config(arch, extra=None):
    """MPNetConfig as all-mpnet-base-v2's config.json has it (layer_norm_eps 1e-5, pad 1 / bos 0 / eos 2, 32 relative
    buckets), the tiny sizes here."""
    cfg = {"architectures": [arch], "model_type": "mpnet", "vocab_size": 128, "hidden_size": 32, "num_hidden_layers": 2,
           "num_attention_heads": 2, "intermediate_size": 64, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
           "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 24, "initializer_range": 0.02,
           "layer_norm_eps": 1e-5, "relative_attention_num_buckets": 32, "pad_token_id": 1, "bos_token_id": 0,
           "eos_token_id": 2, "torch_dtype": "float32"}
    cfg.update(extra or {})
    return cfg


def draw_mpnet(d, cfg, prefix, pooler):
    """MPNetModel's parameters in declaration order (embeddings; layers: attn q/k/v/o, attention LayerNorm,
    intermediate, output; the relative-attention table; pooler)."""
    c, f, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    d.emb(prefix + "embeddings.word_embeddings.weight", v, c)
    d.emb(prefix + "embeddings.position_embeddings.weight", cfg["max_position_embeddings"], c)
    d.norm(prefix + "embeddings.LayerNorm", c)
    for i in range(cfg["num_hidden_layers"]):
        p = f"{prefix}encoder.layer.{i}."
        for n in ("q", "k", "v", "o"):
            d.linear(p + "attention.attn." + n, c, c)
        d.norm(p + "attention.LayerNorm", c)
        d.linear(p + "intermediate.dense", c, f)
        d.linear(p + "output.dense", f, c)
        d.norm(p + "output.LayerNorm", c)
    d.table(prefix + "encoder.relative_attention_bias.weight", cfg["relative_attention_num_buckets"], cfg["num_attention_heads"])
    if pooler:
        d.linear(prefix + "pooler.dense", c, c)


def mpnet_inputs(d, v, t, visible):
    """<s> … </s> rows (ids 0 / 2, the rest from 4 up; 3 stands for <mask>), row r right-padded with pad id 1 after
    visible[r] tokens (attention_mask 0 there)."""
    ids = d.ids(len(visible), t, v, low=4)
    ids[:, 0] = 0
    for r, n in enumerate(visible):
        ids[r, n - 1] = 2
        ids[r, n:] = 1
    mask = (ids != 1).astype(np.int64)
    return ids, mask


MPNET_FOLLOWS = ("models/mpnet/modeling_mpnet.py: MPNetModel.forward (MPNetEmbeddings: word + position embeddings, "
                 "create_position_ids_from_input_ids with padding_idx 1, LayerNorm; MPNetEncoder.compute_position_bias: "
                 "relative_position_bucket of arange(T)[None] - arange(T)[:, None] with 32 buckets and max_distance 128, "
                 "shared by every layer; MPNetSelfAttention: q kT / sqrt(head_size) + position_bias + the extended mask; "
                 "MPNetAttention / MPNetOutput post-LN, MPNetIntermediate hidden_act)")


@fixture("mpnet")
def make_mpnet(out):
    """As sentence-transformers saves all-mpnet-base-v2: MPNetModel's own names without a prefix, the pooler, and
    architectures MPNetForMaskedLM (no head tensors). Row 0 is 136 tokens long, so that its distances pass
    max_distance 128 (every bucket is reached); row 1 is right-padded after 100."""
    cfg = mpnet_config("MPNetForMaskedLM", {"max_position_embeddings": 140})
    d = Draw(1390)
    draw_mpnet(d, cfg, "", pooler=True)
    ids, mask = mpnet_inputs(d, cfg["vocab_size"], 136, [136, 100])
    P = d.f64()
    h = mpnet.encode(cfg, P, ids, mask)
    return save(out, "mpnet", cfg, d, {"last_hidden_state": h, "pooler_output": mpnet.pooler(P, h)},
                {"input_ids": ids, "attention_mask": mask, "position_ids": mpnet.create_position_ids_from_input_ids(ids)},
                MPNET_FOLLOWS + "; MPNetPooler (tanh(dense(h[:, 0])))",
                extra={"note": "all-mpnet-base-v2's layout: no prefix, pooler, no head tensors; padded positions as the "
                               "eager path computes them (compare at the tokens)"})


@fixture("mpnet-mlm")
def make_mpnet_mlm(out):
    """MPNetForMaskedLM under mpnet. (no pooler: add_pooling_layer=False), hidden_act gelu_new in the layers while
    MPNetLMHead calls the exact gelu."""
    cfg = mpnet_config("MPNetForMaskedLM", {"hidden_act": "gelu_new"})
    d = Draw(1391)
    draw_mpnet(d, cfg, "mpnet.", pooler=False)
    c = cfg["hidden_size"]
    d.linear("lm_head.dense", c, c)
    d.norm("lm_head.layer_norm", c)
    d.bias("lm_head.bias", cfg["vocab_size"])
    ids, mask = mpnet_inputs(d, cfg["vocab_size"], 18, [18, 13])
    ids[0, 4] = ids[0, 11] = ids[1, 6] = 3                           # <mask>
    P = d.f64("mpnet.")
    h = mpnet.encode(cfg, P, ids, mask)
    return save(out, "mpnet-mlm", cfg, d, {"last_hidden_state": h, "logits": mpnet.mlm_logits(cfg, P, h)},
                {"input_ids": ids, "attention_mask": mask, "position_ids": mpnet.create_position_ids_from_input_ids(ids)},
                MPNET_FOLLOWS + "; MPNetForMaskedLM.forward (MPNetModel without pooler, MPNetLMHead: dense, the exact "
                "gelu whatever hidden_act says, layer_norm, decoder tied to mpnet.embeddings.word_embeddings.weight and "
                "not saved, its bias lm_head.bias)")


@fixture("mpnet-seqcls")
def make_mpnet_seqcls(out):
    """MPNetForSequenceClassification; relative_attention_num_buckets 40: the table has 40 rows, and
    compute_position_bias still buckets into the first 32 (it passes no num_buckets)."""
    labels = {0: "negative", 1: "neutral", 2: "positive"}
    cfg = mpnet_config("MPNetForSequenceClassification", {"relative_attention_num_buckets": 40,
                                                          "id2label": {str(k): v for k, v in labels.items()},
                                                          "label2id": {v: k for k, v in labels.items()}})
    d = Draw(1392)
    draw_mpnet(d, cfg, "mpnet.", pooler=False)
    c = cfg["hidden_size"]
    d.linear("classifier.dense", c, c)
    d.linear("classifier.out_proj", c, 3)
    ids, mask = mpnet_inputs(d, cfg["vocab_size"], 20, [20, 15, 9])
    P = d.f64("mpnet.")
    h = mpnet.encode(cfg, P, ids, mask)
    return save(out, "mpnet-seqcls", cfg, d, {"last_hidden_state": h, "logits": mpnet.classification(P, h)},
                {"input_ids": ids, "attention_mask": mask, "position_ids": mpnet.create_position_ids_from_input_ids(ids)},
                MPNET_FOLLOWS + "; MPNetForSequenceClassification.forward (MPNetModel without pooler, "
                "MPNetClassificationHead: dense, tanh, out_proj on h[:, 0]); 40 table rows, 32 buckets used")


@fixture("mpnet-tokcls")
def make_mpnet_tokcls(out):
    cfg = mpnet_config("MPNetForTokenClassification", {"num_hidden_layers": 1,
                                                       "id2label": {str(i): l for i, l in enumerate(TOKEN_LABELS)},
                                                       "label2id": {l: i for i, l in enumerate(TOKEN_LABELS)}})
    d = Draw(1393)
    draw_mpnet(d, cfg, "mpnet.", pooler=False)
    d.linear("classifier", cfg["hidden_size"], len(TOKEN_LABELS))
    ids, mask = mpnet_inputs(d, cfg["vocab_size"], 16, [16, 11])
    P = d.f64("mpnet.")
    h = mpnet.encode(cfg, P, ids, mask)
    return save(out, "mpnet-tokcls", cfg, d, {"last_hidden_state": h, "logits": mpnet.token_classification(P, h)},
                {"input_ids": ids, "attention_mask": mask, "position_ids": mpnet.create_position_ids_from_input_ids(ids)},
                MPNET_FOLLOWS + "; MPNetForTokenClassification.forward (MPNetModel without pooler, classifier on every row)")


# ---- ELECTRA ----------------------------------------------------------------------------------------

def electra_config(arch, extra=None):
    """ElectraConfig as google/electra-small-discriminator's config.json has it (hidden_act gelu, layer_norm_eps 1e-12,
    type_vocab_size 2, absolute positions), the tiny sizes here: embedding_size 16 projected to hidden_size 32."""
    cfg = {"architectures": [arch], "model_type": "electra", "vocab_size": 128, "embedding_size": 16, "hidden_size": 32,
           "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64, "hidden_act": "gelu",
           "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 24,
           "type_vocab_size": 2, "initializer_range": 0.02, "layer_norm_eps": 1e-12, "pad_token_id": 0,
           "position_embedding_type": "absolute", "summary_type": "first", "summary_use_proj": True,
           "summary_activation": "gelu", "summary_last_dropout": 0.1, "torch_dtype": "float32"}
    cfg.update(extra or {})
    return cfg


def draw_electra(d, cfg, prefix):
    """ElectraModel's parameters in declaration order: embeddings (at embedding_size), embeddings_project when the sizes
    differ, BERT's layers; no pooler."""
    e, c, f, v = cfg["embedding_size"], cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    d.emb(prefix + "embeddings.word_embeddings.weight", v, e)
    d.emb(prefix + "embeddings.position_embeddings.weight", cfg["max_position_embeddings"], e)
    d.emb(prefix + "embeddings.token_type_embeddings.weight", cfg["type_vocab_size"], e)
    d.norm(prefix + "embeddings.LayerNorm", e)
    if e != c:
        d.linear(prefix + "embeddings_project", e, c)
    for i in range(cfg["num_hidden_layers"]):
        p = f"{prefix}encoder.layer.{i}."
        for n in ("query", "key", "value"):
            d.linear(p + "attention.self." + n, c, c)
        d.linear(p + "attention.output.dense", c, c)
        d.norm(p + "attention.output.LayerNorm", c)
        d.linear(p + "intermediate.dense", c, f)
        d.linear(p + "output.dense", f, c)
        d.norm(p + "output.LayerNorm", c)


def electra_inputs(d, v, t, visible, pair_at=None):
    """[CLS] … [SEP] rows (ids 101 / 102 are outside this vocabulary: 1 / 2 here, the rest from 4 up), row r right-padded
    with 0 after visible[r] tokens; token types 1 from pair_at[r] on (a sentence pair), else 0."""
    ids = d.ids(len(visible), t, v, low=4)
    ids[:, 0] = 1
    types = np.zeros_like(ids)
    for r, n in enumerate(visible):
        ids[r, n - 1] = 2
        ids[r, n:] = 0
        if pair_at is not None:
            ids[r, pair_at[r] - 1] = 2
            types[r, pair_at[r]:n] = 1
    mask = (np.arange(t)[None, :] < np.array(visible)[:, None]).astype(np.int64)
    return ids, types, mask


ELECTRA_FOLLOWS = ("models/electra/modeling_electra.py: ElectraModel.forward (ElectraEmbeddings: word + token_type + "
                   "position at embedding_size, LayerNorm; embeddings_project Linear(embedding_size, hidden_size) when they "
                   "differ; ElectraEncoder = BERT's post-LN layers; no pooler); get_extended_attention_mask")


@fixture("electra")
def make_electra(out):
    """As google/electra-small-discriminator is saved (ElectraForPreTraining under electra., embedding_size < hidden_size):
    the discriminator's head is stored but not served; the reference is the model's last hidden state."""
    cfg = electra_config("ElectraForPreTraining")
    d = Draw(1394)
    draw_electra(d, cfg, "electra.")
    c = cfg["hidden_size"]
    d.linear("discriminator_predictions.dense", c, c)
    d.linear("discriminator_predictions.dense_prediction", c, 1)
    ids, types, mask = electra_inputs(d, cfg["vocab_size"], 18, [18, 12], pair_at=[7, 5])
    P = d.f64("electra.")
    h = bert.electra_encode(cfg, P, ids, types, mask)
    return save(out, "electra", cfg, d, {"last_hidden_state": h},
                {"input_ids": ids, "token_type_ids": types, "attention_mask": mask},
                ELECTRA_FOLLOWS + "; embedding_size 16 projected to hidden_size 32; sentence pairs (token types 1), the second "
                "row right-padded")


@fixture("electra-seqcls")
def make_electra_seqcls(out):
    """As ms-marco-electra-base is laid out (ElectraForSequenceClassification, embedding_size = hidden_size: no projection),
    one label (a cross-encoder), sentence pairs."""
    cfg = electra_config("ElectraForSequenceClassification", {"embedding_size": 32, "id2label": {"0": "LABEL_0"},
                                                              "label2id": {"LABEL_0": 0}})
    d = Draw(1395)
    draw_electra(d, cfg, "electra.")
    c = cfg["hidden_size"]
    d.linear("classifier.dense", c, c)
    d.linear("classifier.out_proj", c, 1)
    ids, types, mask = electra_inputs(d, cfg["vocab_size"], 20, [20, 14, 9], pair_at=[8, 6, 4])
    P = d.f64("electra.")
    h = bert.electra_encode(cfg, P, ids, types, mask)
    return save(out, "electra-seqcls", cfg, d, {"last_hidden_state": h, "logits": bert.electra_classification(P, h)},
                {"input_ids": ids, "token_type_ids": types, "attention_mask": mask},
                ELECTRA_FOLLOWS + "; ElectraForSequenceClassification.forward (ElectraClassificationHead: dense, gelu "
                "(get_activation(\"gelu\"): the exact gelu), out_proj on h[:, 0]); embedding_size = hidden_size: no projection")


@fixture("electra-tokcls")
def make_electra_tokcls(out):
    cfg = electra_config("ElectraForTokenClassification", {"id2label": {str(i): l for i, l in enumerate(TOKEN_LABELS)},
                                                           "label2id": {l: i for i, l in enumerate(TOKEN_LABELS)}})
    d = Draw(1396)
    draw_electra(d, cfg, "electra.")
    d.linear("classifier", cfg["hidden_size"], len(TOKEN_LABELS))
    ids, types, mask = electra_inputs(d, cfg["vocab_size"], 16, [16, 10])
    P = d.f64("electra.")
    h = bert.electra_encode(cfg, P, ids, types, mask)
    return save(out, "electra-tokcls", cfg, d, {"last_hidden_state": h, "logits": bert.token_classification(P, h)},
                {"input_ids": ids, "token_type_ids": types, "attention_mask": mask},
                ELECTRA_FOLLOWS + "; ElectraForTokenClassification.forward (classifier on every row); embedding_size 16 "
                "projected to 32")


# ---- ALBERT -----------------------------------------------------------------------------------------

def albert_config(arch, extra=None):
    """AlbertConfig as albert-base-v2's config.json has it (hidden_act gelu_new, layer_norm_eps 1e-12, dropouts 0,
    classifier_dropout_prob 0.1, pad 0 / bos 2 / eos 3, one group of one inner layer, and the TF-era keys transformers
    ignores: down_scale_factor, gap_size, net_structure_type, num_memory_blocks; no position_embedding_type: absolute),
    the tiny sizes here: embedding_size 16 projected to hidden_size 32, 2 heads, intermediate 64, 3 layers."""
    cfg = {"architectures": [arch], "model_type": "albert", "vocab_size": 128, "embedding_size": 16, "hidden_size": 32,
           "num_hidden_layers": 3, "num_hidden_groups": 1, "inner_group_num": 1, "num_attention_heads": 2,
           "intermediate_size": 64, "hidden_act": "gelu_new", "hidden_dropout_prob": 0, "attention_probs_dropout_prob": 0,
           "max_position_embeddings": 24, "type_vocab_size": 2, "initializer_range": 0.02, "layer_norm_eps": 1e-12,
           "classifier_dropout_prob": 0.1, "pad_token_id": 0, "bos_token_id": 2, "eos_token_id": 3, "down_scale_factor": 1,
           "gap_size": 0, "net_structure_type": 0, "num_memory_blocks": 0, "torch_dtype": "float32"}
    cfg.update(extra or {})
    return cfg


def draw_albert(d, cfg, prefix, pooler=True):
    """AlbertModel's parameters in declaration order: embeddings (at embedding_size), encoder.embedding_hidden_mapping_in
    (always, whatever the sizes), one AlbertLayer per (group, inner layer) — num_hidden_groups x inner_group_num sets,
    however many layers apply them — and the pooler (a bare Linear: pooler.weight / pooler.bias)."""
    e, c, f, v = cfg["embedding_size"], cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    d.emb(prefix + "embeddings.word_embeddings.weight", v, e)
    d.emb(prefix + "embeddings.position_embeddings.weight", cfg["max_position_embeddings"], e)
    d.emb(prefix + "embeddings.token_type_embeddings.weight", cfg["type_vocab_size"], e)
    d.norm(prefix + "embeddings.LayerNorm", e)
    d.linear(prefix + "encoder.embedding_hidden_mapping_in", e, c)
    for g in range(cfg["num_hidden_groups"]):
        for j in range(cfg["inner_group_num"]):
            p = f"{prefix}encoder.albert_layer_groups.{g}.albert_layers.{j}."
            d.norm(p + "full_layer_layer_norm", c)
            for n in ("query", "key", "value", "dense"):
                d.linear(p + "attention." + n, c, c)
            d.norm(p + "attention.LayerNorm", c)
            d.linear(p + "ffn", c, f)
            d.linear(p + "ffn_output", f, c)
    if pooler:
        d.linear(prefix + "pooler", c, c)


def albert_inputs(d, v, t, visible, pair_at=None):
    """[CLS] a [SEP] (b [SEP]) rows with albert-base-v2's special ids ([CLS] 2, [SEP] 3, <pad> 0; [MASK] is 4, the
    rest drawn from 5 up), row r right-padded with 0 after visible[r] tokens; token types 1 from pair_at[r] on."""
    ids = d.ids(len(visible), t, v, low=5)
    ids[:, 0] = 2
    types = np.zeros_like(ids)
    for r, n in enumerate(visible):
        ids[r, n - 1] = 3
        ids[r, n:] = 0
        if pair_at is not None:
            ids[r, pair_at[r] - 1] = 3
            types[r, pair_at[r]:n] = 1
    mask = (np.arange(t)[None, :] < np.array(visible)[:, None]).astype(np.int64)
    return ids, types, mask


ALBERT_FOLLOWS = ("models/albert/modeling_albert.py: AlbertModel.forward (AlbertEmbeddings: word + token_type + position at "
                  "embedding_size, LayerNorm; AlbertTransformer: embedding_hidden_mapping_in Linear(embedding_size, "
                  "hidden_size), then layer i applies albert_layer_groups[int(i / (num_hidden_layers / num_hidden_groups))], "
                  "each group all its inner_group_num AlbertLayers in order, parameters shared; AlbertLayer: AlbertAttention "
                  "(post-LN: attention.LayerNorm(x + dense(ctx))), ffn, ACT2FN[hidden_act], ffn_output, "
                  "full_layer_layer_norm(ffn_output + attention_output); pooler tanh(Linear(h[:, 0]))); masked keys get the "
                  "dtype's minimum")


@fixture("albert")
def make_albert(out):
    """AlbertModel as albert-base-v2 is shaped (one group of one inner layer, applied by every layer: 3 here, 12 there;
    embedding_size < hidden_size), saved as AlbertModel.save_pretrained writes it (no albert. prefix, float32 as
    albert-base-v2 is published); sentence pairs with token types, the second row right-padded."""
    cfg = albert_config("AlbertModel")
    d = Draw(1421)
    draw_albert(d, cfg, "")
    ids, types, mask = albert_inputs(d, cfg["vocab_size"], 18, [18, 12], pair_at=[7, 5])
    P = d.f64()
    h = albert.encode(cfg, P, ids, types, mask)
    return save(out, "albert", cfg, d, {"last_hidden_state": h, "pooler_output": albert.pooler(P, h)},
                {"input_ids": ids, "token_type_ids": types, "attention_mask": mask},
                ALBERT_FOLLOWS + "; one parameter set (albert_layer_groups.0.albert_layers.0) applied by all 3 layers; "
                "embedding_size 16 projected to hidden_size 32; sentence pairs (token types 1), the second row right-padded")


@fixture("albert-groups")
def make_albert_groups(out):
    """AlbertModel with num_hidden_groups 2 and inner_group_num 2 over 4 layers: layers 0, 1 apply group 0 and layers 2, 3
    group 1, each application both inner layers (8 AlbertLayer calls over 4 parameter sets); embedding_size = hidden_size
    (32), where embedding_hidden_mapping_in is still applied (ELECTRA would have no projection)."""
    cfg = albert_config("AlbertModel", {"embedding_size": 32, "num_hidden_layers": 4, "num_hidden_groups": 2,
                                        "inner_group_num": 2})
    d = Draw(1422)
    draw_albert(d, cfg, "")
    ids, types, mask = albert_inputs(d, cfg["vocab_size"], 16, [16, 11], pair_at=[6, 5])
    P = d.f64()
    h = albert.encode(cfg, P, ids, types, mask)
    return save(out, "albert-groups", cfg, d, {"last_hidden_state": h, "pooler_output": albert.pooler(P, h)},
                {"input_ids": ids, "token_type_ids": types, "attention_mask": mask},
                ALBERT_FOLLOWS + "; num_hidden_layers 4, num_hidden_groups 2, inner_group_num 2: the AlbertLayer calls are "
                "groups 0.0, 0.1, 0.0, 0.1, 1.0, 1.1, 1.0, 1.1 (group.inner); embedding_size = hidden_size = 32 with "
                "embedding_hidden_mapping_in still applied")


@fixture("albert-mlm")
def make_albert_mlm(out):
    """AlbertForMaskedLM as albert-base-v2's published folder is laid out (architectures AlbertForMaskedLM, albert.
    prefix, the MLM head under predictions.; the pooler the checkpoint carries, albert.pooler.*, stored but not used:
    AlbertForMaskedLM has add_pooling_layer=False and _keys_to_ignore_on_load_unexpected ["pooler"]). The decoder is
    tied: save_pretrained drops predictions.decoder.weight (= albert.embeddings.word_embeddings.weight) and
    predictions.decoder.bias (the same Parameter as predictions.bias), both matching _tied_weights_keys."""
    cfg = albert_config("AlbertForMaskedLM")
    d = Draw(1423)
    draw_albert(d, cfg, "albert.")
    e, c = cfg["embedding_size"], cfg["hidden_size"]
    d.norm("predictions.LayerNorm", e)                           # AlbertMLMHead's declaration order: LayerNorm, bias, dense
    d.bias("predictions.bias", cfg["vocab_size"])
    d.linear("predictions.dense", c, e)
    ids, types, mask = albert_inputs(d, cfg["vocab_size"], 18, [18, 13], pair_at=[8, 6])
    ids[0, 3] = ids[1, 8] = 4                                    # [MASK]
    P = d.f64("albert.")
    h = albert.encode(cfg, P, ids, types, mask)
    return save(out, "albert-mlm", cfg, d, {"last_hidden_state": h, "logits": albert.mlm_logits(cfg, P, h)},
                {"input_ids": ids, "token_type_ids": types, "attention_mask": mask},
                ALBERT_FOLLOWS + "; AlbertForMaskedLM.forward (AlbertModel without pooler, AlbertMLMHead: dense "
                "hidden -> embedding_size, gelu_new, LayerNorm(embedding_size, eps=layer_norm_eps), decoder tied to "
                "albert.embeddings.word_embeddings.weight, its bias predictions.bias); albert.pooler.* stored, unused")


@fixture("albert-seqcls")
def make_albert_seqcls(out):
    """AlbertForSequenceClassification as textattack/albert-base-v2-* classifiers are (albert-base-v2's config, 3 labels
    LABEL_0..2 in id2label): the classifier on the pooled output; sentence pairs, one row padded."""
    labels = {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}
    cfg = albert_config("AlbertForSequenceClassification",
                        {"id2label": {str(k): v for k, v in labels.items()}, "label2id": {v: k for k, v in labels.items()}})
    d = Draw(1424)
    draw_albert(d, cfg, "albert.")
    d.linear("classifier", cfg["hidden_size"], len(labels))
    ids, types, mask = albert_inputs(d, cfg["vocab_size"], 20, [20, 14, 9], pair_at=[8, 6, 4])
    P = d.f64("albert.")
    h = albert.encode(cfg, P, ids, types, mask)
    return save(out, "albert-seqcls", cfg, d, {"last_hidden_state": h, "logits": albert.classification(P, albert.pooler(P, h))},
                {"input_ids": ids, "token_type_ids": types, "attention_mask": mask},
                ALBERT_FOLLOWS + "; AlbertForSequenceClassification.forward (classifier on the pooled output, no extra "
                "dense layer; id2label in config.json)")


# ---- DeBERTa-v2 / v3 ---------------------------------------------------------------------------------

def deberta_config(arch, extra=None):
    """DebertaV2Config as microsoft/deberta-v3-base's config.json has it (relative_attention, position_buckets,
    norm_rel_ebd layer_norm, share_att_key, pos_att_type "p2c|c2p", no absolute positions, no token types, layer_norm_eps
    1e-7, max_relative_positions -1), the tiny sizes here: 16 position buckets (mid 8) and max_position_embeddings 64,
    so that distances past 8 take log buckets."""
    cfg = {"architectures": [arch], "model_type": "deberta-v2", "vocab_size": 128, "hidden_size": 32, "num_hidden_layers": 2,
           "num_attention_heads": 2, "intermediate_size": 64, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
           "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 64, "initializer_range": 0.02,
           "layer_norm_eps": 1e-7, "relative_attention": True, "max_relative_positions": -1, "position_buckets": 16,
           "norm_rel_ebd": "layer_norm", "share_att_key": True, "pos_att_type": "p2c|c2p", "position_biased_input": False,
           "type_vocab_size": 0, "pad_token_id": 0, "torch_dtype": "float32"}
    cfg.update(extra or {})
    return cfg


def draw_deberta(d, cfg, prefix):
    """DebertaV2Model's parameters in declaration order (embeddings; layers: query/key/value_proj, pos_key/pos_query_proj
    without share_att_key, attention output dense + LayerNorm, intermediate, output; rel_embeddings, encoder.LayerNorm)."""
    c, f, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    d.emb(prefix + "embeddings.word_embeddings.weight", v, c)
    if cfg.get("position_biased_input", True):
        d.emb(prefix + "embeddings.position_embeddings.weight", cfg["max_position_embeddings"], c)
    if cfg.get("type_vocab_size", 0) > 0:
        d.emb(prefix + "embeddings.token_type_embeddings.weight", cfg["type_vocab_size"], c)
    d.norm(prefix + "embeddings.LayerNorm", c)
    kinds = deberta.pos_att_types(cfg)
    for i in range(cfg["num_hidden_layers"]):
        p = f"{prefix}encoder.layer.{i}."
        for n in ("query_proj", "key_proj", "value_proj"):
            d.linear(p + "attention.self." + n, c, c)
        if not cfg.get("share_att_key", False):
            if "c2p" in kinds:
                d.linear(p + "attention.self.pos_key_proj", c, c)
            if "p2c" in kinds:
                d.linear(p + "attention.self.pos_query_proj", c, c)
        d.linear(p + "attention.output.dense", c, c)
        d.norm(p + "attention.output.LayerNorm", c)
        d.linear(p + "intermediate.dense", c, f)
        d.linear(p + "output.dense", f, c)
        d.norm(p + "output.LayerNorm", c)
    span = deberta.spans(cfg)[0]
    d.emb(prefix + "encoder.rel_embeddings.weight", 2 * span, c)
    if "layer_norm" in str(cfg.get("norm_rel_ebd", "none")):
        d.norm(prefix + "encoder.LayerNorm", c)


DEBERTA_FOLLOWS = ("models/deberta_v2/modeling_deberta_v2.py: DebertaV2Model.forward (DebertaV2Embeddings: word [+ position "
                   "when position_biased_input] [+ token type] embeddings, LayerNorm, times the mask; DebertaV2Encoder: "
                   "rel_embeddings through encoder.LayerNorm under norm_rel_ebd layer_norm, build_relative_position with "
                   "make_log_bucket_position; DisentangledSelfAttention: q kT / sqrt(d * (1 + #pos_att_type)) + c2p + p2c "
                   "gathered at clamp(rel + span) and clamp(-rel + span); post-LN layers); compare at the tokens")


@fixture("deberta-v3")
def make_deberta_v3(out):
    """DebertaV2Model as save_pretrained writes it (no prefix), microsoft/deberta-v3-base's config with
    max_position_embeddings 40: row 0 has 40 tokens, so that distances reach 39 = max_relative_positions − 1 (log buckets
    past 8, up to the table's last column); row 1 is right-padded after 23."""
    cfg = deberta_config("DebertaV2Model", {"max_position_embeddings": 40})
    d = Draw(1400)
    draw_deberta(d, cfg, "")
    ids, _, mask = electra_inputs(d, cfg["vocab_size"], 40, [40, 23])
    P = d.f64()
    h = deberta.encode(cfg, P, ids, mask)
    return save(out, "deberta-v3", cfg, d, {"last_hidden_state": h}, {"input_ids": ids, "attention_mask": mask},
                DEBERTA_FOLLOWS + "; share_att_key, position_buckets 16, max_relative_positions -1 (40)")


@fixture("deberta-v3-seqcls")
def make_deberta_v3_seqcls(out):
    """DebertaV2ForSequenceClassification under deberta. as the NLI classifiers are (3 labels), pos_att_type saved as a
    list (as 5.x writes it), sentence pairs ([CLS] A [SEP] B [SEP]; no token types: type_vocab_size 0)."""
    labels = {0: "entailment", 1: "neutral", 2: "contradiction"}
    cfg = deberta_config("DebertaV2ForSequenceClassification", {"pos_att_type": ["p2c", "c2p"],
                                                                "id2label": {str(k): v for k, v in labels.items()},
                                                                "label2id": {v: k for k, v in labels.items()}})
    d = Draw(1401)
    draw_deberta(d, cfg, "deberta.")
    c = cfg["hidden_size"]
    d.linear("pooler.dense", c, c)
    d.linear("classifier", c, 3)
    ids, _, mask = electra_inputs(d, cfg["vocab_size"], 20, [20, 14, 9], pair_at=[8, 6, 4])
    P = d.f64("deberta.")
    h = deberta.encode(cfg, P, ids, mask)
    return save(out, "deberta-v3-seqcls", cfg, d, {"last_hidden_state": h, "logits": deberta.classification(cfg, P, h)},
                {"input_ids": ids, "attention_mask": mask},
                DEBERTA_FOLLOWS + "; DebertaV2ForSequenceClassification.forward (ContextPooler: dense on h[:, 0], "
                "ACT2FN[pooler_hidden_act] = gelu; classifier)")


@fixture("deberta-v2-tokcls")
def make_deberta_v2_tokcls(out):
    """DebertaV2ForTokenClassification in the older v2 shape: pos_key_proj / pos_query_proj (no share_att_key), no
    position buckets (distances clamped to ±max_relative_positions 6), absolute positions added at the input
    (position_biased_input), two token types, no rel-embedding norm, pos_att_type "c2p|p2c"."""
    cfg = deberta_config("DebertaV2ForTokenClassification", {
        "position_buckets": -1, "max_relative_positions": 6, "share_att_key": False, "norm_rel_ebd": "none",
        "position_biased_input": True, "type_vocab_size": 2, "pos_att_type": "c2p|p2c", "max_position_embeddings": 24,
        "id2label": {str(i): l for i, l in enumerate(TOKEN_LABELS)}, "label2id": {l: i for i, l in enumerate(TOKEN_LABELS)}})
    d = Draw(1402)
    draw_deberta(d, cfg, "deberta.")
    d.linear("classifier", cfg["hidden_size"], len(TOKEN_LABELS))
    ids, types, mask = electra_inputs(d, cfg["vocab_size"], 18, [18, 11], pair_at=[7, 5])
    P = d.f64("deberta.")
    h = deberta.encode(cfg, P, ids, mask, types)
    return save(out, "deberta-v2-tokcls", cfg, d, {"last_hidden_state": h, "logits": deberta.token_classification(P, h)},
                {"input_ids": ids, "token_type_ids": types, "attention_mask": mask},
                DEBERTA_FOLLOWS + "; no share_att_key (pos_key_proj, pos_query_proj), unbucketed distances clamped to "
                "±6, position embeddings, token types; DebertaV2ForTokenClassification.forward (classifier on every row)")


# ---- T5 ---------------------------------------------------------------------------------------------

# Encoder inputs of the t5-v1_0 beam runs: the 27th of 40 row pairs drawn with default_rng(7) (12 ids in [2, 384)),
# scanned 2026-12-06 for one whose decisive gap (beam.py) is at least twice the bound beam_runs enforces.
T5_BEAM_INPUTS = [[372, 211, 9, 277, 296, 147, 14, 319, 98, 353, 140, 149], [305, 54, 13, 292, 355, 381, 51, 58, 131, 274, 350, 317]]
T5_BEAM_RUNS = (
    # a summarization-style setup (T5's published task_specific_params use these options)
    {"num_beams": 4, "max_new_tokens": 8, "eos_token_id": [1], "length_penalty": 2.0, "early_stopping": True,
     "num_return_sequences": 2, "no_repeat_ngram_size": 3},
    # an EOS the tiny model picks often (190): hypotheses end early, the second prompt's before the first's
    {"num_beams": 4, "max_new_tokens": 8, "eos_token_id": [190], "length_penalty": 1.0, "early_stopping": True,
     "num_return_sequences": 3},
    # no length normalization (length_penalty 0): a one-token hypothesis wins
    {"num_beams": 4, "max_new_tokens": 8, "eos_token_id": [340], "length_penalty": 0.0, "early_stopping": False,
     "num_return_sequences": 3},
    # BART summarization's processors (facebook/bart-large-cnn: forced_bos_token_id, forced_eos_token_id,
    # no_repeat_ngram_size 3, min_length): the first token forced (scored 0), the last forced to the EOS
    {"num_beams": 3, "max_new_tokens": 7, "eos_token_id": [1], "length_penalty": 2.0, "early_stopping": True,
     "num_return_sequences": 2, "no_repeat_ngram_size": 3, "forced_bos_token_id": 71, "forced_eos_token_id": [1], "min_length": 5},
    # bad_words_ids (one-id words, a two-id word matched over the decoder start and the new tokens, and [eos], which
    # transformers drops), suppress_tokens, begin_suppress_tokens (the first new token only: EOS 190 and 97 held back)
    {"num_beams": 4, "max_new_tokens": 8, "eos_token_id": [190], "length_penalty": 1.0, "early_stopping": True,
     "num_return_sequences": 3, "bad_words_ids": [[136, 136], [340], [190], [369, 369]], "suppress_tokens": [71],
     "begin_suppress_tokens": [97, 190]},
)


def make_t5(out, name, seed, gated, beams=()):
    c, kv, nh, f, v = 64, 32, 2, 96, 384
    cfg = {"architectures": ["T5ForConditionalGeneration"], "model_type": "t5", "d_model": c, "d_kv": kv, "num_heads": nh,
           "d_ff": f, "num_layers": 2, "num_decoder_layers": 2, "vocab_size": v, "relative_attention_num_buckets": 32,
           "relative_attention_max_distance": 128 if gated else 20, "layer_norm_epsilon": 1e-6,
           "feed_forward_proj": "gated-gelu" if gated else "relu", "tie_word_embeddings": not gated,
           "is_encoder_decoder": True, "pad_token_id": 0, "eos_token_id": 1, "decoder_start_token_id": 0,
           "dropout_rate": 0.1, "initializer_factor": 1.0, "use_cache": True, "torch_dtype": "float32"}
    if not gated:
        cfg["relative_attention_max_distance"] = 20
    d = Draw(seed)
    d.emb("shared.weight", v, c, 1.0 if gated else TIED_STD)
    for stack in ("encoder", "decoder"):
        for i in range(2):
            p = f"{stack}.block.{i}.layer."
            for n in "qkvo":
                d.mat(p + f"0.SelfAttention.{n}.weight", c if n == "o" else nh * kv, nh * kv if n == "o" else c)
            if i == 0:
                d.table(p + "0.SelfAttention.relative_attention_bias.weight", 32, nh)
            d.norm(p + "0.layer_norm", c, bias=False)
            ff = "1."
            if stack == "decoder":
                for n in "qkvo":
                    d.mat(p + f"1.EncDecAttention.{n}.weight", c if n == "o" else nh * kv, nh * kv if n == "o" else c)
                d.norm(p + "1.layer_norm", c, bias=False)
                ff = "2."
            if gated:
                d.mat(p + ff + "DenseReluDense.wi_0.weight", f, c)
                d.mat(p + ff + "DenseReluDense.wi_1.weight", f, c)
            else:
                d.mat(p + ff + "DenseReluDense.wi.weight", f, c)
            d.mat(p + ff + "DenseReluDense.wo.weight", c, f)
            d.norm(p + ff + "layer_norm", c, bias=False)
        d.norm(f"{stack}.final_layer_norm", c, bias=False)
    if gated:
        d.mat("lm_head.weight", v, c)
    ids = d.ids(2, 20, v, low=2)
    dec = d.ids(2, 9, v, low=2)
    dec[:, 0] = 0                                                        # decoder_start_token_id
    P = d.f64()
    enc = t5.encode(cfg, P, ids)
    dh, logits = t5.decode(cfg, P, enc, dec)
    enc0 = t5.encode(cfg, P, ids[:1])
    g = greedy(lambda toks: t5.decode(cfg, P, enc0, [toks])[1][0, -1], [0])
    extra = None
    if beams:
        encs = [t5.encode(cfg, P, np.array([row])) for row in T5_BEAM_INPUTS]
        extra = {"beam": beam_runs(lambda b, toks: t5.decode(cfg, P, encs[b], [toks])[1][0, -1], T5_BEAM_INPUTS, beams, True,
                                   20 * 2e-5 * np.abs(logits).max())}
    return save(out, name, cfg, d, {"encoder_last_hidden_state": enc, "last_hidden_state": dh, "logits": logits},
                {"input_ids": ids, "decoder_input_ids": dec},
                "modeling_t5.py: T5ForConditionalGeneration.forward (T5Stack, T5Block, T5Attention with compute_bias / "
                "_relative_position_bucket, T5LayerNorm, " + ("T5DenseGatedActDense with gelu_new, untied lm_head)"
                                                             if gated else "T5DenseActDense with relu, tied head scaled by d_model**-0.5)"),
                {"prompt": [0], "input_ids": ids[0].tolist(), "tokens": g[0], "margins": g[1],
                 "note": "decoder tokens after decoder_start_token_id, encoder input input_ids[0]"}, extra=extra)


@fixture("t5-v1_0")
def make_t5_v10(out):
    return make_t5(out, "t5-v1_0", 1320, gated=False, beams=T5_BEAM_RUNS)


@fixture("t5-v1_1")
def make_t5_v11(out):
    return make_t5(out, "t5-v1_1", 1321, gated=True)


# ---- the BART family (BART, mBART, Marian, Pegasus) -------------------------------------------------

# Beam runs of the BART family as their published folders generate (generation_config.json's options, max_length read
# as max_new_tokens = max_length - 1: the decoder starts from decoder_start_token_id alone). The encoder inputs were
# scanned 2026-12-06 (rows drawn with default_rng, lengths 6..16, each row alone, then pairs) for runs whose decisive gap
# (beam.py's min_gap) clears the bound beam_runs enforces: bart 1.72, 1.69, 15.5 times it; marian 5.8, 4.0; m2m100 18.9, 18.3.
BART_BEAM_INPUTS = [[0, 71, 125, 123, 120, 33, 31, 87, 2], [0, 102, 74, 60, 123, 34, 60, 122, 2]]
BART_BEAM_RUNS = (
    # facebook/bart-large-cnn's generation config (num_beams 4, length_penalty 2.0, no_repeat_ngram_size 3, min_length
    # 56, max_length 142, early_stopping true, forced_bos_token_id 0, forced_eos_token_id 2) scaled down: min_length 4,
    # max_length 7; the tiny model never ranks EOS 2 high, so every hypothesis ends with the forced EOS at max_length
    {"num_beams": 4, "max_new_tokens": 6, "eos_token_id": [2], "length_penalty": 2.0, "early_stopping": True,
     "num_return_sequences": 2, "no_repeat_ngram_size": 3, "min_length": 4, "forced_bos_token_id": 0, "forced_eos_token_id": [2]},
    # the same processors with an EOS the tiny model picks (32, generate's eos_token_id=32): min_length 5 holds it back
    # (without it the hypotheses differ), hypotheses end before max_length
    {"num_beams": 4, "max_new_tokens": 8, "eos_token_id": [32], "length_penalty": 2.0, "early_stopping": True,
     "num_return_sequences": 2, "no_repeat_ngram_size": 3, "min_length": 5, "forced_bos_token_id": 0, "forced_eos_token_id": [32]},
    # early_stopping false (the heuristic stop), length_penalty 1, the forced BOS
    {"num_beams": 4, "max_new_tokens": 8, "eos_token_id": [32], "length_penalty": 1.0, "early_stopping": False,
     "num_return_sequences": 2, "no_repeat_ngram_size": 3, "forced_bos_token_id": 0},
)
# Helsinki-NLP/opus-mt-*: num_beams 4 (some folders 6), bad_words_ids [[pad]], forced_eos_token_id 0 (config.json),
# max_length (512) scaled to 9; length_penalty 1 and early_stopping false (generate's defaults); decoder start = pad 127
# (the first run also renormalize_logits true, as opus-mt's generation_config.json sets it: the pad ban's share given back)
MARIAN_BEAM_INPUTS = [[25, 51, 26, 57, 51, 117, 64, 9, 29, 20, 80, 123, 27, 0], [71, 98, 97, 45, 37, 28, 60, 0]]
MARIAN_BEAM_RUNS = (
    {"num_beams": 4, "max_new_tokens": 8, "eos_token_id": [0], "length_penalty": 1.0, "early_stopping": False,
     "num_return_sequences": 2, "bad_words_ids": [[127]], "forced_eos_token_id": [0], "renormalize_logits": True},
    {"num_beams": 6, "max_new_tokens": 8, "eos_token_id": [0], "length_penalty": 1.0, "early_stopping": False,
     "num_return_sequences": 3, "bad_words_ids": [[127]], "forced_eos_token_id": [0]},
)
# NLLB as used (generate(forced_bos_token_id=<target language code>, num_beams=4, max_length=...)): the target code 126
# forced first, EOS 2, no forced EOS (M2M100Config has none), length_penalty 1 and early_stopping false (the defaults);
# no beam ever holds the pad (make_m2m100 refuses one: a full recomputation numbers positions after a pad otherwise
# than a cached decoder)
M2M100_BEAM_INPUTS = [[125, 52, 118, 100, 52, 64, 123, 99, 23, 42, 42, 83, 70, 11, 2], [125, 37, 5, 118, 89, 120, 104, 81, 2]]
M2M100_BEAM_RUNS = (
    {"num_beams": 4, "max_new_tokens": 8, "eos_token_id": [2], "length_penalty": 1.0, "early_stopping": False,
     "num_return_sequences": 2, "forced_bos_token_id": 126},
    {"num_beams": 4, "max_new_tokens": 6, "eos_token_id": [2], "length_penalty": 1.0, "early_stopping": False,
     "num_return_sequences": 4, "forced_bos_token_id": 126},
)


BART_FOLLOWS = {
    "bart": "models/bart/modeling_bart.py: BartForConditionalGeneration.forward (BartModel; BartEncoder / BartDecoder: "
            "embed_tokens (scale_embedding false: x 1.0) + BartLearnedPositionalEmbedding (arange + offset 2), "
            "layernorm_embedding; post-LN BartEncoderLayer / BartDecoderLayer; BartAttention q * head_dim**-0.5; exact gelu; "
            "lm_head tied to model.shared + final_logits_bias)",
    "mbart": "models/mbart/modeling_mbart.py: MBartForConditionalGeneration.forward (MBartScaledWordEmbedding x sqrt(d_model) "
             "+ MBartLearnedPositionalEmbedding (arange + offset 2), layernorm_embedding; pre-LN MBartEncoderLayer / "
             "MBartDecoderLayer; a final layer_norm per stack; exact gelu; lm_head tied + final_logits_bias)",
    "marian": "models/marian/modeling_marian.py: MarianMTModel.forward (embed_tokens x sqrt(d_model) + "
              "MarianSinusoidalPositionalEmbedding (sin half then cos half, no offset; not in model.safetensors: "
              "_keys_to_ignore_on_save), no layernorm_embedding, no final norm; post-LN layers; swish = SiLU; "
              "lm_head tied + final_logits_bias)",
    "pegasus": "models/pegasus/modeling_pegasus.py: PegasusForConditionalGeneration.forward (embed_tokens x sqrt(d_model) + "
               "PegasusSinusoidalPositionalEmbedding (Marian's table, stored as model.{encoder,decoder}.embed_positions.weight), "
               "no layernorm_embedding; pre-LN layers (MBart's); a final layer_norm per stack; relu; lm_head tied + "
               "final_logits_bias)",
}
BART_V = 128
# from a scan of seeds 1340..1559 (2026-12-06) for greedy runs of several distinct tokens whose smallest top-2 margin is
# at least 1% of max|logits| (random tiny models with sinusoidal positions, Marian and Pegasus, repeat most)
BART_SEEDS = {"bart": 1396, "mbart": 1364, "marian": 1458, "pegasus": 1519}
BART_LABELS = {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}     # PretrainedConfig's default for BartConfig's num_labels=3


def bart_config(model_type, arch, v, pad, eos, start, act, scale, mpe, c=32, nh=4, f=48, layers=2, labels=None, extra=None):
    """config.json as the published folders carry it: the fields BartConfig / MBartConfig / MarianConfig / PegasusConfig
    write, the token ids generate reads (forced_bos_token_id, forced_eos_token_id, Marian's bad_words_ids) and the legacy
    flags those folders still hold (normalize_before, add_final_layer_norm, ...: the modeling files ignore them, the
    class decides); the beam-search options (num_beams, min_length, max_length, length_penalty, no_repeat_ngram_size,
    task_specific_params) left out, as the other fixtures leave them."""
    labels = labels or BART_LABELS
    cfg = {"architectures": [arch], "model_type": model_type, "vocab_size": v, "d_model": c,
           "encoder_layers": layers, "decoder_layers": layers, "num_hidden_layers": layers,
           "encoder_attention_heads": nh, "decoder_attention_heads": nh, "encoder_ffn_dim": f, "decoder_ffn_dim": f,
           "max_position_embeddings": mpe, "activation_function": act, "scale_embedding": scale,
           "pad_token_id": pad, "eos_token_id": eos, "decoder_start_token_id": start, "forced_eos_token_id": eos,
           "is_encoder_decoder": True, "tie_word_embeddings": True, "dropout": 0.1, "attention_dropout": 0.0,
           "activation_dropout": 0.0, "encoder_layerdrop": 0.0, "decoder_layerdrop": 0.0, "init_std": 0.02,
           "use_cache": True, "torch_dtype": "float32",
           "id2label": {str(k): n for k, n in labels.items()}, "label2id": {n: k for k, n in labels.items()}}
    cfg.update(extra or {})
    return cfg


def draw_bart(d, cfg, head="lm", token_std=TIED_STD):
    """Every parameter under its state_dict name. A model that scales its embeddings by sqrt(d_model) has its token table
    drawn with token_std / sqrt(d_model), so that what the stacks read is N(0, token_std²) as in BART (with the scale on
    a 0.3 table the tied model predicts the token it has just read, as README's TIED_STD note says)."""
    mt, c, f, v = cfg["model_type"], cfg["d_model"], cfg["encoder_ffn_dim"], cfg["vocab_size"]
    kind, mpe = bart.KINDS[mt], cfg["max_position_embeddings"]
    if cfg.get("scale_embedding", False):
        token_std /= c ** 0.5
    d.emb("model.shared.weight", v, c, token_std)          # encoder/decoder embed_tokens and lm_head: tied copies, omitted
    for stack in ("encoder", "decoder"):
        if not kind["sinusoidal"]:
            d.emb(f"model.{stack}.embed_positions.weight", mpe + bart.LEARNED_OFFSET, c)
        elif mt == "pegasus":                               # a parameter save_pretrained writes (Marian's is ignored on save)
            d._put(f"model.{stack}.embed_positions.weight", bart.sinusoidal_table(mpe, c))
        if kind["ln_embedding"]:
            d.norm(f"model.{stack}.layernorm_embedding", c)
        for i in range(cfg[f"{stack}_layers"]):
            p = f"model.{stack}.layers.{i}."
            for a in ("self_attn", "encoder_attn") if stack == "decoder" else ("self_attn",):
                for n in ("q_proj", "k_proj", "v_proj", "out_proj"):
                    d.linear(f"{p}{a}.{n}", c, c)
                d.norm(f"{p}{a}_layer_norm", c)
            d.linear(p + "fc1", c, f)
            d.linear(p + "fc2", f, c)
            d.norm(p + "final_layer_norm", c)
        if kind["final_norm"]:
            d.norm(f"model.{stack}.layer_norm", c)
    if head == "lm":
        if kind["logits_bias"]:                             # a buffer, saved; N(0, 0.1^2) so that a loader must add it
            d._put("final_logits_bias", d.rng.standard_normal((1, v)) * 0.1)
    else:
        d.linear("classification_head.dense", c, c)
        d.linear("classification_head.out_proj", c, len(cfg["id2label"]))


def bart_rows(d, low, high, t, visible, pad, head=(), tail=()):
    """Two rows of t ids: head + random ids in [low, high) + tail; the second right-padded after `visible` ids."""
    ids = d.ids(2, t, high, low=low)
    for r, n in ((0, t), (1, visible)):
        ids[r, :len(head)] = head
        ids[r, n - len(tail):n] = tail
    ids[1, visible:] = pad
    mask = np.ones_like(ids)
    mask[1, visible:] = 0
    return ids, mask


def bart_beams(cfg, P, logits, inputs, runs):
    """The beam runs (beam_runs) of a BART-family model over encoder inputs, each row encoded alone, the decoder from
    decoder_start_token_id; refuses a run in which a beam holds the pad token after the start (M2M100 numbers positions
    by counting non-pad tokens: a full recomputation and a cached decoder would then disagree)."""
    encs = [bart.encode(cfg, P, np.array([row])) for row in inputs]
    pad, start = cfg["pad_token_id"], cfg["decoder_start_token_id"]

    def step(b, toks):
        if pad in toks[1:]:
            raise SystemExit(f"{cfg['model_type']} beam run: a beam holds the pad token {pad}: {toks}")
        return bart.lm_logits(P, bart.decode(cfg, P, encs[b], [toks]))[0, -1]
    return beam_runs(step, inputs, runs, True, 20 * 2e-5 * np.abs(logits).max(), start=start)


def make_bart_lm(out, name, cfg, seed, head, tail, dec_head, low, high, prompt, note, beams=None):
    """A generating model: encoder_last_hidden_state, the decoder's last hidden state and logits for explicit
    decoder_input_ids over the two rows (the second padded: its keys masked in the encoder and in cross-attention),
    and a greedy continuation over input_ids[0]."""
    d = Draw(seed)
    draw_bart(d, cfg)
    ids, mask = bart_rows(d, low, high, 12, 8, cfg["pad_token_id"], head, tail)
    dec = d.ids(2, 9, high, low=low)
    dec[:, :len(dec_head)] = dec_head
    P = d.f64()
    enc, h, logits = bart.forward(cfg, P, ids, mask, dec)
    enc0 = bart.encode(cfg, P, ids[:1])
    g = greedy(lambda toks: bart.lm_logits(P, bart.decode(cfg, P, enc0, [toks]))[0, -1], prompt)
    extra = {"beam": bart_beams(cfg, P, logits, *beams)} if beams else None
    return save(out, name, cfg, d, {"encoder_last_hidden_state": enc, "last_hidden_state": h, "logits": logits},
                {"input_ids": ids, "attention_mask": mask, "decoder_input_ids": dec}, BART_FOLLOWS[cfg["model_type"]],
                {"prompt": prompt, "input_ids": ids[0].tolist(), "tokens": g[0], "margins": g[1],
                 "note": "plain argmax of the logits (final_logits_bias included) after the decoder prompt, encoder input "
                         "input_ids[0], every step recomputed in full; " + note}, extra=extra)


@fixture("bart")
def make_bart(out):
    """facebook/bart-large-cnn's layout: <s> x </s> rows, decoder_input_ids [2, 0, ...] (decoder_start, then the BOS
    that forced_bos_token_id makes generate emit first)."""
    cfg = bart_config("bart", "BartForConditionalGeneration", BART_V, 1, 2, 2, "gelu", False, 32,
                      extra={"bos_token_id": 0, "forced_bos_token_id": 0, "classifier_dropout": 0.0,
                             "add_final_layer_norm": False, "normalize_before": False})
    return make_bart_lm(out, "bart", cfg, BART_SEEDS["bart"], [0], [2], [2, 0], 3, BART_V, [2, 0],
                        "the prompt holds decoder_start_token_id 2 and the BOS 0 that forced_bos_token_id forces at the first step",
                        beams=(BART_BEAM_INPUTS, BART_BEAM_RUNS))


@fixture("mbart")
def make_mbart(out):
    """facebook/mbart-large-50's layout: src_lang x </s> rows (MBart50Tokenizer's prefix; language codes at the top of the vocabulary: 125 the
    source's, 126 the target's), decoder_input_ids [2, 126, ...] (decoder_start, then the target language that
    generate's forced_bos_token_id would force)."""
    cfg = bart_config("mbart", "MBartForConditionalGeneration", BART_V, 1, 2, 2, "gelu", True, 32,
                      extra={"bos_token_id": 0, "classifier_dropout": 0.0, "add_final_layer_norm": True,
                             "normalize_before": True, "normalize_embedding": True, "static_position_embeddings": False,
                             "tokenizer_class": "MBart50Tokenizer"})
    return make_bart_lm(out, "mbart", cfg, BART_SEEDS["mbart"], [125], [2], [2, 126], 3, 125, [2, 126],
                        "the prompt holds decoder_start_token_id 2 and the target language code 126")


@fixture("marian")
def make_marian(out):
    """Helsinki-NLP/opus-mt-*'s layout: pad = decoder_start = vocab_size - 1, eos 0, x </s> rows."""
    v = BART_V
    cfg = bart_config("marian", "MarianMTModel", v, v - 1, 0, v - 1, "swish", True, 32,
                      extra={"bos_token_id": 0, "decoder_vocab_size": v, "share_encoder_decoder_embeddings": True,
                             "bad_words_ids": [[v - 1]], "classifier_dropout": 0.0, "add_bias_logits": False,
                             "add_final_layer_norm": False, "normalize_before": False, "normalize_embedding": False,
                             "static_position_embeddings": True})
    return make_bart_lm(out, "marian", cfg, BART_SEEDS["marian"], [], [0], [v - 1], 1, v - 1, [v - 1],
                        "the prompt is decoder_start_token_id = pad_token_id 127; the pad token (bad_words_ids) never wins a step",
                        beams=(MARIAN_BEAM_INPUTS, MARIAN_BEAM_RUNS))


@fixture("pegasus")
def make_pegasus(out):
    """google/pegasus-xsum's layout: pad = decoder_start = 0, eos 1, x </s> rows."""
    cfg = bart_config("pegasus", "PegasusForConditionalGeneration", BART_V, 0, 1, 0, "relu", True, 32,
                      extra={"add_bias_logits": False, "add_final_layer_norm": True, "normalize_before": True,
                             "normalize_embedding": False, "static_position_embeddings": True})
    return make_bart_lm(out, "pegasus", cfg, BART_SEEDS["pegasus"], [], [1], [0], 2, BART_V, [0],
                        "the prompt is decoder_start_token_id = pad_token_id 0")


@fixture("bart-seqcls")
def make_bart_seqcls(out):
    """facebook/bart-large-mnli's layout: <s> premise </s></s> hypothesis </s> rows with three eos each, the second
    right-padded; the decoder reads shift_tokens_right(input_ids, 1, 2), the head the last eos's state."""
    labels = {0: "contradiction", 1: "neutral", 2: "entailment"}
    cfg = bart_config("bart", "BartForSequenceClassification", BART_V, 1, 2, 2, "gelu", False, 32, labels=labels,
                      extra={"bos_token_id": 0, "forced_bos_token_id": 0, "classifier_dropout": 0.0,
                             "add_final_layer_norm": False, "normalize_before": False})
    d = Draw(1344)
    draw_bart(d, cfg, head="cls", token_std=1.0)
    ids = d.ids(2, 12, BART_V, low=3)
    ids[0] = [0] + ids[0, 1:5].tolist() + [2, 2] + ids[0, 7:11].tolist() + [2]        # premise 4, hypothesis 4
    ids[1] = [0] + ids[1, 1:4].tolist() + [2, 2] + ids[1, 6:8].tolist() + [2, 1, 1, 1]  # premise 3, hypothesis 2, 3 pads
    mask = (np.arange(12)[None, :] < np.array([[12], [9]])).astype(np.int64)
    P = d.f64()
    enc, h, logits = bart.forward(cfg, P, ids, mask)
    shifted = bart.shift_tokens_right(ids, cfg["pad_token_id"], cfg["decoder_start_token_id"])
    return save(out, "bart-seqcls", cfg, d, {"encoder_last_hidden_state": enc, "last_hidden_state": h, "logits": logits},
                {"input_ids": ids, "attention_mask": mask},
                "models/bart/modeling_bart.py: BartForSequenceClassification.forward (BartModel with decoder_input_ids = "
                "shift_tokens_right(input_ids, pad_token_id, decoder_start_token_id), no decoder_attention_mask; "
                "hidden_states[eos_mask].view(B, -1, C)[:, -1, :]; BartClassificationHead: out_proj(tanh(dense(x))); "
                "id2label in config.json)",
                extra={"decoder_input_ids_shifted": shifted.tolist(), "eos_positions": [11, 8]})


# ---- M2M100 / NLLB ------------------------------------------------------------------------------------

M2M100_FOLLOWS = ("models/m2m_100/modeling_m2m_100.py: M2M100ForConditionalGeneration.forward (M2M100Model; "
                  "M2M100ScaledWordEmbedding x sqrt(d_model) + M2M100SinusoidalPositionalEmbedding: get_embedding's table of "
                  "max_position_embeddings + 2 rows in float32 steps (exp(i * float32(-ln(10000) / (half - 1))), float32 "
                  "position x frequency, [sin | cos] halves), row pad_token_id zeroed, not in model.safetensors, read at "
                  "create_position_ids_from_input_ids (pad_token_id + cumsum of non-pad tokens, pads at pad_token_id); no "
                  "layernorm_embedding; pre-LN M2M100EncoderLayer / M2M100DecoderLayer (MBart's); a final layer_norm per "
                  "stack; relu; lm_head (no bias) tied to model.shared, no final_logits_bias)")
M2M100_SEED = 1748      # from a scan of seeds 1600..1999 (2026-12-06): the best greedy run without the pad, 3 distinct tokens (none had 4 with margins >= 1% of max|logits|), margins >= 1.9%


def m2m100_config(v=BART_V, c=32, nh=4, f=48, layers=2, mpe=32):
    """config.json as facebook/nllb-200-distilled-600M carries it (M2M100Config's fields; NLLB's pad 1, bos 0, eos 2,
    decoder_start 2, relu, scale_embedding true, layerdrop 0, tokenizer_class NllbTokenizer; no tie_word_embeddings key:
    PretrainedConfig's default true ties the head); generate's max_length 200 left out as the other fixtures leave the
    generation options out."""
    return {"architectures": ["M2M100ForConditionalGeneration"], "model_type": "m2m_100", "vocab_size": v, "d_model": c,
            "encoder_layers": layers, "decoder_layers": layers, "num_hidden_layers": layers,
            "encoder_attention_heads": nh, "decoder_attention_heads": nh, "encoder_ffn_dim": f, "decoder_ffn_dim": f,
            "max_position_embeddings": mpe, "activation_function": "relu", "scale_embedding": True,
            "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2, "decoder_start_token_id": 2,
            "is_encoder_decoder": True, "dropout": 0.1, "attention_dropout": 0.1, "activation_dropout": 0.0,
            "encoder_layerdrop": 0, "decoder_layerdrop": 0, "init_std": 0.02, "use_cache": True,
            "tokenizer_class": "NllbTokenizer", "torch_dtype": "float32"}


def m2m100_case(seed):
    """The m2m100 fixture's draw for a seed: (cfg, draw, P, ids, mask, dec)."""
    cfg = m2m100_config()
    d = Draw(seed)
    draw_bart(d, cfg)
    ids, mask = bart_rows(d, 3, 125, 12, 8, cfg["pad_token_id"], [125], [2])
    dec = d.ids(2, 9, 125, low=3)
    dec[:, :2] = [2, 126]
    dec[1, 5:] = [2, 1, 1, 1]           # shift_tokens_right of labels [126, y, y, y, 2, -100 ...]: pads read row 1 (zeros)
    return cfg, d, d.f64(), ids, mask, dec


@fixture("m2m100")
def make_m2m100(out):
    """facebook/nllb-200-distilled-600M's layout: NllbTokenizer's [src_lang_code] x </s> rows (language codes at the top of
    the vocabulary: 125 the source's, 126 the target's), the second right-padded with pad 1 (its real tokens at the
    unpadded positions 2, 3, ..., its pads at position 1, the zero row); decoder_input_ids [2, 126, ...] (decoder
    start, then the target language that generate's forced_bos_token_id forces), the second row as shifted padded
    labels [2, 126, y, y, y, 2, 1, 1, 1] (no decoder_attention_mask: causal only; its pads read position row 1 too).
    The seed gives a greedy run of several distinct tokens without the pad (a generated pad would be numbered
    differently by a cached decoder, which counts one token at a time, than by a full recomputation) whose margins
    are at least 1% of max|logits|."""
    cfg, d, P, ids, mask, dec = m2m100_case(M2M100_SEED)
    enc, h, logits = bart.forward(cfg, P, ids, mask, dec)
    enc0 = bart.encode(cfg, P, ids[:1])
    prompt = [2, 126]
    g = greedy(lambda toks: bart.lm_logits(P, bart.decode(cfg, P, enc0, [toks]))[0, -1], prompt)
    if cfg["pad_token_id"] in g[0]:
        raise SystemExit("m2m100: the greedy run generates the pad token")
    return save(out, "m2m100", cfg, d, {"encoder_last_hidden_state": enc, "last_hidden_state": h, "logits": logits},
                {"input_ids": ids, "attention_mask": mask, "decoder_input_ids": dec}, M2M100_FOLLOWS,
                {"prompt": prompt, "input_ids": ids[0].tolist(), "tokens": g[0], "margins": g[1],
                 "note": "plain argmax of the logits (no final_logits_bias) after the decoder prompt, encoder input "
                         "input_ids[0], every step recomputed in full (decoder positions 2, 3, ...: no pad generated); "
                         "the prompt holds decoder_start_token_id 2 and the target language code 126 that "
                         "forced_bos_token_id forces"},
                extra={"position_ids": m2m100.position_ids(ids, cfg["pad_token_id"]).tolist(),
                       "decoder_position_ids": m2m100.position_ids(dec, cfg["pad_token_id"]).tolist(),
                       "beam": bart_beams(cfg, P, logits, M2M100_BEAM_INPUTS, M2M100_BEAM_RUNS)})


# ---- decoder-only LLMs ------------------------------------------------------------------------------

def llm_config(model_type, arch, c=64, nh=4, nkv=2, f=96, v=256, layers=2, mpe=128, tie=False, **extra):
    cfg = {"architectures": [arch], "model_type": model_type, "hidden_size": c, "num_attention_heads": nh,
           "num_key_value_heads": nkv, "intermediate_size": f, "vocab_size": v, "num_hidden_layers": layers,
           "max_position_embeddings": mpe, "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "rope_scaling": None,
           "hidden_act": "silu", "tie_word_embeddings": tie, "bos_token_id": 1, "eos_token_id": 2,
           "attention_dropout": 0.0, "initializer_range": 0.02, "use_cache": True, "torch_dtype": "float32"}
    cfg.update(extra)
    return cfg


def to_v5(cfg):
    """The 5.x layout: rope_theta and rope_scaling folded into rope_parameters, torch_dtype renamed dtype."""
    cfg = dict(cfg)
    rp = dict(cfg.pop("rope_scaling", None) or {})
    if "type" in rp:
        rp["rope_type"] = rp.pop("type")
    rp.setdefault("rope_type", "default")
    rp["rope_theta"] = cfg.pop("rope_theta")
    cfg["rope_parameters"] = rp
    cfg["dtype"] = cfg.pop("torch_dtype")
    return cfg


def draw_llm(d, cfg):
    mt = cfg["model_type"]
    c, nh, f, v = cfg["hidden_size"], cfg["num_attention_heads"], cfg["intermediate_size"], cfg["vocab_size"]
    nkv = cfg["num_key_value_heads"]
    hd = cfg.get("head_dim") or c // nh
    gemma = mt in decoders.GEMMAS
    qkv_bias = {"qwen2": True, "qwen2_moe": True, "stablelm": bool(cfg.get("use_qkv_bias")),
                "starcoder2": cfg.get("use_bias", True), "seed_oss": cfg.get("attention_bias", True)}.get(mt, bool(cfg.get("attention_bias")))
    o_bias = bool(cfg.get("attention_bias")) and mt in ("llama",) or mt == "starcoder2" and cfg.get("use_bias", True) \
        or mt == "seed_oss" and bool(cfg.get("attention_out_bias", False))
    mlp_bias = bool(cfg.get("mlp_bias")) or mt == "starcoder2" and cfg.get("use_bias", True)
    ln = mt in decoders.LAYERNORMS                                   # nn.LayerNorm: weight and bias
    parallel = mt == "stablelm" and cfg.get("use_parallel_residual", False)
    std = 1.0 if not cfg["tie_word_embeddings"] else TIED_STD / c ** 0.5 if gemma else TIED_STD   # Gemma scales it by sqrt(c)
    d.emb("model.embed_tokens.weight", v, c, std)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        if mt not in ("olmo", "olmo2", "olmo3"):                     # OLMo 2 / 3 have no input norms, OLMo's have no parameters
            d.norm(p + "input_layernorm", c, bias=ln, one_plus=gemma)
        a = p + "self_attn."
        if mt == "phi3":
            d.mat(a + "qkv_proj.weight", nh * hd + 2 * nkv * hd, c)
        else:
            d.linear(a + "q_proj", c, nh * hd, qkv_bias)
            d.linear(a + "k_proj", c, nkv * hd, qkv_bias)
            d.linear(a + "v_proj", c, nkv * hd, qkv_bias)
        d.linear(a + "o_proj", nh * hd, c, o_bias)
        if mt in ("qwen3", "qwen3_moe", "gemma3_text"):
            d.norm(a + "q_norm", hd, bias=False, one_plus=gemma)
            d.norm(a + "k_norm", hd, bias=False, one_plus=gemma)
        if mt in ("olmo2", "olmo3", "olmoe"):                        # over the whole projections
            d.norm(a + "q_norm", nh * hd, bias=False)
            d.norm(a + "k_norm", nkv * hd, bias=False)
        if not parallel and mt != "olmo":                            # StableLM's parallel layer has one norm
            d.norm(p + "post_attention_layernorm", c, bias=ln, one_plus=gemma)
        if mt in ("gemma2", "gemma3_text"):
            d.norm(p + "pre_feedforward_layernorm", c, bias=False, one_plus=True)
            d.norm(p + "post_feedforward_layernorm", c, bias=False, one_plus=True)
        if mt in ("olmo2", "olmo3"):
            d.norm(p + "post_feedforward_layernorm", c, bias=False)
        m = p + "mlp."
        if decoders.sparse_layers(cfg)[i]:
            draw_moe(d, cfg, p)
            continue
        if mt == "starcoder2":
            d.linear(m + "c_fc", c, f, mlp_bias)
            d.linear(m + "c_proj", f, c, mlp_bias)
            continue
        if mt == "phi3":
            d.mat(m + "gate_up_proj.weight", 2 * f, c)
        else:
            d.linear(m + "gate_proj", c, f, mlp_bias)
            d.linear(m + "up_proj", c, f, mlp_bias)
        d.linear(m + "down_proj", f, c, mlp_bias)
    if mt != "olmo":
        d.norm("model.norm", c, bias=ln, one_plus=gemma)
    if not cfg["tie_word_embeddings"]:
        d.mat("lm_head.weight", v, c)


def draw_moe(d, cfg, p):
    """A sparse layer's MLP in the 4.x per-expert layout, in declaration order: the router gate (E, C), each
    expert's projections (Mixtral: block_sparse_moe.experts.{e}.w1, w2, w3; the others:
    mlp.experts.{e}.gate_proj, up_proj, down_proj), Qwen2-MoE's shared_expert and shared_expert_gate (1, C)."""
    mt, c, n = cfg["model_type"], cfg["hidden_size"], decoders.num_experts(cfg)
    if mt == "mixtral":
        m, f = p + "block_sparse_moe.", cfg["intermediate_size"]
        d.mat(m + "gate.weight", n, c)
        for e in range(n):
            d.mat(f"{m}experts.{e}.w1.weight", f, c)
            d.mat(f"{m}experts.{e}.w2.weight", c, f)
            d.mat(f"{m}experts.{e}.w3.weight", f, c)
        return
    m = p + "mlp."
    f = cfg["moe_intermediate_size"] if mt in ("qwen2_moe", "qwen3_moe") else cfg["intermediate_size"]   # OLMoE: intermediate_size
    d.mat(m + "gate.weight", n, c)
    for e in range(n):
        d.mat(f"{m}experts.{e}.gate_proj.weight", f, c)
        d.mat(f"{m}experts.{e}.up_proj.weight", f, c)
        d.mat(f"{m}experts.{e}.down_proj.weight", c, f)
    if mt == "qwen2_moe":
        fs = cfg["shared_expert_intermediate_size"]
        d.mat(m + "shared_expert.gate_proj.weight", fs, c)
        d.mat(m + "shared_expert.up_proj.weight", fs, c)
        d.mat(m + "shared_expert.down_proj.weight", c, fs)
        d.mat(m + "shared_expert_gate.weight", 1, c)


def fuse_experts(params):
    """transformers 5.x's conversion_mapping.py applied to a 4.x state dict: Mixtral's block_sparse_moe.gate →
    mlp.gate; per layer, the experts' gate (w1 / gate_proj) and up (w3 / up_proj) stacked over experts and
    concatenated along dim 1 into mlp.experts.gate_up_proj (E, 2F, C), the downs (w2 / down_proj) stacked into
    mlp.experts.down_proj (E, C, F); no .weight suffix on either."""
    out, groups = {}, {}
    for k, v in params.items():
        k = k.replace(".block_sparse_moe.gate.", ".mlp.gate.")
        if ".experts." not in k:
            out[k] = v
            continue
        head, rest = k.split(".experts.", 1)
        e, kind, _ = rest.split(".")
        role = {"w1": 0, "gate_proj": 0, "w3": 1, "up_proj": 1, "w2": 2, "down_proj": 2}[kind]
        groups.setdefault(head.replace(".block_sparse_moe", ".mlp"), {}).setdefault(role, {})[int(e)] = v
    for m, g in groups.items():
        n = len(g[0])
        out[m + ".experts.gate_up_proj"] = np.stack([np.concatenate([g[0][e], g[1][e]], axis=0) for e in range(n)])
        out[m + ".experts.down_proj"] = np.stack([g[2][e] for e in range(n)])
    return out


LLM_FOLLOWS = {
    "llama": "modeling_llama.py: LlamaForCausalLM.forward (LlamaModel, LlamaDecoderLayer, LlamaAttention, LlamaMLP, LlamaRMSNorm, LlamaRotaryEmbedding)",
    "mistral": "modeling_mistral.py: MistralForCausalLM.forward (Llama's blocks; every layer sliding_window via masking_utils.create_sliding_window_causal_mask)",
    "qwen2": "modeling_qwen2.py: Qwen2ForCausalLM.forward (bias on q/k/v only; layers >= max_window_layers slide when use_sliding_window)",
    "qwen3": "modeling_qwen3.py: Qwen3ForCausalLM.forward (q_norm / k_norm RMSNorm per head before RoPE)",
    "phi3": "modeling_phi3.py: Phi3ForCausalLM.forward (fused qkv_proj split [q|k|v], gate_up_proj chunked [gate|up], partial rotary)",
    "gemma2": "modeling_gemma2.py: Gemma2ForCausalLM.forward (Gemma's norms and embedding scale, query_pre_attn_scalar, attention and final logit soft-capping, post-attention / pre- and post-feedforward norms, even layers sliding)",
    "granite": "models/granite/modeling_granite.py: GraniteForCausalLM.forward (embeddings × embedding_multiplier, scaling attention_multiplier, sublayer outputs × residual_multiplier, logits ÷ logits_scaling)",
    "olmo": "models/olmo/modular_olmo.py (modeling_olmo.py): OlmoForCausalLM.forward (Llama's blocks; OlmoLayerNorm without weight or bias, eps 1e-5, for input_layernorm, post_attention_layernorm and the final norm; OlmoMLP without biases; OlmoAttention clamps q, k, v to ±clip_qkv after their projections, before RoPE); configuration_olmo.py",
    "olmo2": "models/olmo2/modeling_olmo2.py: Olmo2ForCausalLM.forward (no input norms; post_attention_layernorm and post_feedforward_layernorm on the sublayer outputs before their residual adds; q_norm / k_norm over the whole q and k projections)",
    "olmo3": "models/olmo3/modular_olmo3.py (modeling_olmo3.py, configuration_olmo3.py): Olmo3ForCausalLM.forward (OLMo 2's layers; Olmo3Attention slides over sliding_window keys on the layers layer_types marks sliding_attention, by default all but every fourth; Olmo3RotaryEmbedding per layer type as Olmo3Config.convert_rope_params_to_dict sets it: default rope at theta 500000 on sliding layers, rope_theta with rope_scaling on full ones)",
    "smollm3": "models/smollm3/modular_smollm3.py: SmolLM3ForCausalLM.forward (Llama's blocks; SmolLM3Attention applies RoPE only where no_rope_layers[layer] is 1)",
    "gemma3_text": "models/gemma3/modeling_gemma3.py: Gemma3ForCausalLM.forward (Gemma 2's norms, embedding scale and query_pre_attn_scalar; q_norm / k_norm (1 + w) before RoPE; Gemma3RotaryEmbedding per layer type: local base for sliding layers, rope_theta + rope_scaling for full ones; no attention soft-capping)",
    "gemma": "modeling_gemma.py: GemmaForCausalLM.forward (GemmaRMSNorm 1 + weight, embeddings * float32(sqrt(hidden)), gelu_pytorch_tanh, tied head)",
    "mixtral": "models/mixtral/modeling_mixtral.py: MixtralForCausalLM.forward (Mistral's attention; MixtralSparseMoeBlock: router softmax over all experts, top-k, always renormalized; experts w2(silu(w1 x) * w3 x))",
    "qwen2_moe": "models/qwen2_moe/modeling_qwen2_moe.py: Qwen2MoeForCausalLM.forward (Qwen2's attention with q/k/v bias; Qwen2MoeSparseMoeBlock: softmax, top-k, renormalized only with norm_topk_prob, + sigmoid(shared_expert_gate) * shared_expert; Qwen2MoeDecoderLayer: dense Qwen2MoeMLP on mlp_only_layers and off the decoder_sparse_step)",
    "qwen3_moe": "models/qwen3_moe/modular_qwen3_moe.py: Qwen3MoeForCausalLM.forward (Qwen3's attention with per-head q_norm / k_norm; Qwen3MoeSparseMoeBlock without shared expert; Qwen2-MoE's choice of sparse layers)",
    "stablelm": "models/stablelm/modeling_stablelm.py: StableLmForCausalLM.forward (Llama's names, nn.LayerNorm norms with bias, q/k/v bias by use_qkv_bias, partial rotary, StableLmDecoderLayer's parallel residual with one norm when use_parallel_residual)",
    "starcoder2": "models/starcoder2/modeling_starcoder2.py: Starcoder2ForCausalLM.forward (Llama's attention names with biases (use_bias), Starcoder2MLP c_fc / c_proj, nn.LayerNorm norms (norm_epsilon), every layer sliding when sliding_window is set)",
    "seed_oss": "models/seed_oss/modular_seed_oss.py (modeling_seed_oss.py, configuration_seed_oss.py): SeedOssForCausalLM.forward (Llama's layers; SeedOssAttention: q/k/v biases by attention_bias, o_proj's by attention_out_bias, head_dim as given, scaling head_dim ** -0.5; SeedOssMLP: biases by mlp_bias; dropouts training-only)",
    "olmoe": "models/olmoe/modular_olmoe.py: OlmoeForCausalLM.forward (Llama's pre-norm layers; OlmoeAttention's q_norm / k_norm over the whole q and k projections, clip_qkv; OlmoeSparseMoeBlock of intermediate_size experts, renormalized only with norm_topk_prob)",
}


# Prompts of the qwen2 beam runs: the 4th and 5th of 30 drawn with default_rng(11) (10 ids in [3, 256)), scanned
# 2026-12-06 for decisive gaps (beam.py) well above the bound beam_runs enforces.
QWEN2_BEAM_PROMPTS = [[90, 202, 65, 172, 119, 132, 241, 209, 215, 141], [251, 251, 37, 54, 81, 143, 211, 125, 251, 92]]
QWEN2_BEAM_RUNS = (
    # one prompt, no EOS (K = 2 num_beams), the heuristic early stopping
    {"prompt_rows": [1], "num_beams": 3, "max_new_tokens": 8, "eos_token_id": [], "length_penalty": 1.0, "early_stopping": False,
     "num_return_sequences": 2},
    # two prompts; an EOS the tiny model picks often (252) ends hypotheses early; "never" with a negative length penalty
    # (the heuristic then divides by the current length); min_new_tokens; repetition_penalty on log-probabilities
    {"prompt_rows": [0, 1], "num_beams": 3, "max_new_tokens": 8, "eos_token_id": [252], "length_penalty": -0.5,
     "early_stopping": "never", "num_return_sequences": 2, "min_new_tokens": 2, "repetition_penalty": 1.3},
    # two EOS ids (K = 3 num_beams); no_repeat_ngram_size over the prompt and the new tokens; "never" with length_penalty > 0
    {"prompt_rows": [0, 1], "num_beams": 3, "max_new_tokens": 8, "eos_token_id": [91, 126], "length_penalty": 1.0,
     "early_stopping": "never", "num_return_sequences": 2, "no_repeat_ngram_size": 2, "min_new_tokens": 2, "repetition_penalty": 1.3},
    # an EOS among the first num_beams candidates: with K = num_beams instead of 2 num_beams a beam would be lost here
    # and the returned hypotheses differ (checked with beam.py so mutated, 2026-12-06)
    {"prompt_rows": [1], "num_beams": 3, "max_new_tokens": 10, "eos_token_id": [252], "length_penalty": 1.0,
     "early_stopping": "never", "num_return_sequences": 2},
)


def make_llm(out, name, cfg, seed, t=40, note=None, penalties=(), beams=(), quantize=None):
    d = Draw(seed)
    draw_llm(d, cfg)
    ids = d.ids(2, t, cfg["vocab_size"], low=3)
    P = quantize(d) if quantize else d.f64()
    h, logits = decoders.forward(cfg, P, ids)
    prompt = ids[0, :24].tolist()
    g = greedy(lambda toks: decoders.forward(cfg, P, [toks])[1][0, -1], prompt)
    follows = LLM_FOLLOWS[cfg["model_type"]] + "; modeling_rope_utils.py" + (f"; {note}" if note else "")
    extra = {"sliding_layers": decoders.sliding_layers(cfg)}
    if penalties:   # greedy runs from the same prompt under the sampling penalties (greedy_penalized)
        extra["greedy_penalized"] = [greedy_penalized(lambda toks: decoders.forward(cfg, P, [toks])[1][0, -1], prompt, **p)
                                     for p in penalties]
    if beams:
        step = lambda b, toks: decoders.forward(cfg, P, [toks])[1][0, -1]
        extra["beam"] = []
        for run in beams:
            rows = run["prompt_rows"]
            r = beam_runs(step, [QWEN2_BEAM_PROMPTS[i] for i in rows], [{k: v for k, v in run.items() if k != "prompt_rows"}], False,
                          20 * 2e-5 * np.abs(logits).max())
            extra["beam"] += r
    return save(out, name, cfg, d, {"last_hidden_state": h, "logits": logits}, {"input_ids": ids}, follows,
                {"prompt": prompt, "tokens": g[0], "margins": g[1],
                 "note": "each step recomputes the whole sequence (for dynamic NTK: the frequencies of its current length)"},
                extra=extra)


@fixture("llama")
def make_llama(out):
    return make_llm(out, "llama", llm_config("llama", "LlamaForCausalLM", tie=True, attention_bias=False, mlp_bias=False), 1330,
                    note="GQA 4 query heads over 2 kv heads, tied head, rope default")


@fixture("llama-head-dim")
def make_llama_head_dim(out):
    return make_llm(out, "llama-head-dim", llm_config("llama", "LlamaForCausalLM", nh=2, nkv=1, head_dim=48, attention_bias=True,
                                                      mlp_bias=False), 1331,
                    note="head_dim 48 given in config.json (not hidden/heads = 32), attention_bias on q/k/v/o, untied head")


@fixture("llama-rope-linear")
def make_llama_linear(out):
    return make_llm(out, "llama-rope-linear", llm_config("llama", "LlamaForCausalLM", rope_scaling={"type": "linear", "factor": 4.0}),
                    1332, note="rope_scaling linear (old 'type' key), factor 4")


@fixture("llama-rope-dynamic")
def make_llama_dynamic(out):
    return make_llm(out, "llama-rope-dynamic", llm_config("llama", "LlamaForCausalLM", mpe=16, rope_scaling={"type": "dynamic", "factor": 2.0}),
                    1333, note="rope_scaling dynamic NTK, factor 2, max_position_embeddings 16 < 40 tokens")


LLAMA3_ROPE = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
               "original_max_position_embeddings": 32}


@fixture("llama-rope-llama3")
def make_llama_llama3(out):
    return make_llm(out, "llama-rope-llama3", llm_config("llama", "LlamaForCausalLM", rope_theta=10000.0, rope_scaling=dict(LLAMA3_ROPE)),
                    1334, note="rope_scaling llama3 (factor 8, low 1, high 4, original 32: head_dim 16 gives high, medium and low frequencies)")


@fixture("llama-rope-llama3-v5")
def make_llama_llama3_v5(out):
    return make_llm(out, "llama-rope-llama3-v5", to_v5(llm_config("llama", "LlamaForCausalLM", rope_scaling=dict(LLAMA3_ROPE))),
                    1334, note="the same model as llama-rope-llama3 (same seed) in the 5.x config layout (rope_parameters, dtype)")


# ByteDance-Seed/Seed-OSS-36B-Instruct's config.json scaled down: 4.x layout with rope_scaling {"rope_type": "default"} and
# rope_theta 1e7 as published, head_dim 16 given (not hidden / heads = 8), GQA 4 over 2, untied head, pad 1 / bos 0 / eos 2;
# all three bias flags on (the 36B has attention_out_bias and mlp_bias false) so that each bias is drawn and read.
@fixture("seed-oss")
def make_seed_oss(out):
    cfg = llm_config("seed_oss", "SeedOssForCausalLM", c=32, nh=4, nkv=2, f=64, v=128, head_dim=16, rope_theta=10000000.0,
                     rope_scaling={"rope_type": "default"}, attention_bias=True, attention_out_bias=True, mlp_bias=True,
                     residual_dropout=0.1, attention_dropout=0.1, pad_token_id=1, bos_token_id=0, eos_token_id=2)
    d = Draw(1351)
    draw_llm(d, cfg)
    P = d.f64()
    ids = d.ids(2, 40, cfg["vocab_size"], low=3)
    logits = decoders.forward(cfg, P, ids)[1]
    big = np.abs(logits).max()
    for flag in ("attention_bias", "attention_out_bias", "mlp_bias"):
        assert np.abs(decoders.forward(dict(cfg, **{flag: False}), P, ids)[1] - logits).max() > 1e-2 * big, f"seed-oss: {flag} must matter"
    assert np.abs(decoders.forward(cfg, P, ids[:1, :20])[1] - logits[:1, :20]).max() <= 1e-12 * big, "seed-oss: prefix = first rows"
    return make_llm(out, "seed-oss", cfg, 1351, note="head_dim 16 given (4 heads over hidden 32), q/k/v, o_proj and MLP biases "
                    "(attention_bias, attention_out_bias, mlp_bias), rope_theta 1e7 with rope_type default, untied head")


@fixture("qwen2-yarn")
def make_qwen2_yarn(out):
    return make_llm(out, "qwen2-yarn", llm_config("qwen2", "Qwen2ForCausalLM", c=32, nh=2, nkv=1, f=64, v=128, mpe=4096,
                                                  rope_scaling={"type": "yarn", "factor": 4.0,
                                                                "original_max_position_embeddings": 1024}), 1341,
                    note="rope_scaling yarn as Qwen2.5 publishes it (4.x layout, factor 4, original 1024; betas 32/1 "
                         "and truncation by default: the ramp runs over pairs 1..5 of 8), attention factor 0.1 ln 4 + 1")


@fixture("llama-rope-yarn-v5")
def make_llama_yarn_v5(out):
    rp = {"rope_type": "yarn", "factor": 8.0, "original_max_position_embeddings": 512, "beta_fast": 16, "beta_slow": 2,
          "mscale": 1.0, "mscale_all_dim": 0.5, "truncate": False}
    return make_llm(out, "llama-rope-yarn-v5", to_v5(llm_config("llama", "LlamaForCausalLM", c=32, nh=2, nkv=1, f=64, v=128,
                                                                mpe=4096, rope_scaling=rp)), 1342,
                    note="yarn in the 5.x layout with beta_fast 16, beta_slow 2, truncate false (ramp 1.41..3.22) and "
                         "mscale 1 / mscale_all_dim 0.5 (attention factor (0.1 ln 8 + 1) / (0.05 ln 8 + 1))")


@fixture("phi3-longrope")
def make_phi3_longrope(out):
    cfg = llm_config("phi3", "Phi3ForCausalLM", c=32, nh=2, nkv=1, f=64, v=128, mpe=64, partial_rotary_factor=0.75,
                     sliding_window=None, original_max_position_embeddings=16, pad_token_id=0, resid_pdrop=0.0,
                     embd_pdrop=0.0,
                     rope_scaling={"type": "longrope", "short_factor": [1.0, 1.05, 1.2, 1.5, 1.9, 2.4],
                                   "long_factor": [1.0, 2.5, 6.0, 11.0, 17.5, 25.0]})
    d = Draw(1343)
    draw_llm(d, cfg)
    ids = d.ids(2, 40, cfg["vocab_size"], low=3)
    P = d.f64()
    h, logits = decoders.forward(cfg, P, ids)
    short_ids = ids[:, :12]
    _, short_logits = decoders.forward(cfg, P, short_ids)
    # transformers' generate: a 10-token prompt in one call (seq_len 10: short factors), then one token a call
    # (seq_len = position + 1: long from position 16 on), the cache keeping each key as its call rotated it
    lens = [10] * 10 + list(range(11, 25))
    _, cached_logits = decoders.forward(cfg, P, ids[:1, :24], rope_lens=lens)
    prompt = ids[0, :24].tolist()
    g = greedy(lambda toks: decoders.forward(cfg, P, [toks])[1][0, -1], prompt)
    follows = (LLM_FOLLOWS["phi3"] + "; modeling_rope_utils.py (_compute_longrope_parameters, longrope_frequency_update, "
               "standardize_rope_params)")
    return save(out, "phi3-longrope", cfg, d, {"last_hidden_state": h, "logits": logits, "short_logits": short_logits,
                                               "cached_logits": cached_logits},
                {"input_ids": ids, "short_input_ids": short_ids, "cached_prompt": 10, "cached_tokens": 24}, follows,
                {"prompt": prompt, "tokens": g[0], "margins": g[1],
                 "note": "each step recomputes the whole sequence; the prompt (24) is already past the original 16"},
                extra={"sliding_layers": decoders.sliding_layers(cfg),
                       "note": "LongRoPE as Phi-3-mini-128k / Phi-3.5 publish it: original_max_position_embeddings 16 at the "
                               "top level, max 64 (factor 4, attention factor sqrt(1 + ln 4 / ln 16)), partial rotary 12 of "
                               "16; input_ids (40 > 16 positions) take the long factors, short_input_ids (12) the short ones; cached_logits: "
                               "input_ids[0, :24] as generate runs it through the cache, a 10-token prompt then one token "
                               "a call, keys 0..14 rotated with the short factors and 15..23 with the long ones"})


@fixture("mistral")
def make_mistral(out):
    return make_llm(out, "mistral", llm_config("mistral", "MistralForCausalLM", sliding_window=7, head_dim=None), 1335,
                    note="sliding_window 7 < 40 tokens")


@fixture("qwen2")
def make_qwen2(out):
    return make_llm(out, "qwen2", llm_config("qwen2", "Qwen2ForCausalLM", use_sliding_window=True, sliding_window=6,
                                             max_window_layers=1, tie=True, rope_theta=1000000.0), 1336,
                    note="use_sliding_window, sliding_window 6, max_window_layers 1: layer 0 full, layer 1 sliding; tied head",
                    # Qwen2.5-Instruct's repetition_penalty (1.05: the tokens leave plain greedy's at step 8), a strong one,
                    # and one with vLLM's presence and frequency penalties beside it
                    penalties=({"repetition": 1.05}, {"repetition": 2.0}, {"repetition": 1.3, "presence": 0.4, "frequency": 0.3}),
                    beams=QWEN2_BEAM_RUNS)


@fixture("qwen2-v5")
def make_qwen2_v5(out):
    cfg = llm_config("qwen2", "Qwen2ForCausalLM", use_sliding_window=True, sliding_window=6, max_window_layers=1, tie=True,
                     rope_theta=1000000.0)
    cfg["layer_types"] = ["full_attention", "sliding_attention"]
    return make_llm(out, "qwen2-v5", to_v5(cfg), 1336,
                    note="the same model as qwen2 (same seed) in the 5.x layout: rope_parameters and explicit layer_types")


@fixture("qwen3")
def make_qwen3(out):
    return make_llm(out, "qwen3", llm_config("qwen3", "Qwen3ForCausalLM", head_dim=32, attention_bias=False,
                                             use_sliding_window=False, sliding_window=None, max_window_layers=2, rope_theta=1000000.0),
                    1337, note="head_dim 32 given (4 heads over hidden 64: q_proj 128 wide), q_norm/k_norm")


FP8_PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
# Not square, so that a loader that swaps the block's rows and columns reads the wrong scales (Qwen3-FP8: [128, 128])
FP8_BLOCK = [16, 32]


def fp8_params(d, block):
    """transformers' fine-grained FP8 layout over d's decoder projections (fp8.quantize, in place): each weight becomes its
    e4m3 codes (stored F8_E4M3) beside its block scales weight_scale_inv (float32); the embeddings, norms and head stay as
    drawn (replace_with_fp8_linear leaves lm_head alone). Returns the parameters the model computes with, in float64:
    the projections as Fp8Dequantize gives them (code · scale in float32), the rest as stored."""
    P = {}
    for k in list(d.params):
        v = d.params[k]
        if k.endswith(".weight") and k.split(".")[-2] in FP8_PROJECTIONS:
            codes, inv = fp8.quantize(v, block)
            d.params[k] = safetensors_np.F8E4M3(codes)
            d.params[k[:-len("weight")] + "weight_scale_inv"] = inv
            P[k] = fp8.dequantize(codes, inv, block).astype(np.float64)
        else:
            P[k] = v.astype(np.float64)
    return P


def fp8_ct_params(d, strategy, input_scales):
    """compressed-tensors' float-quantized FP8 over d's decoder projections (fp8.quantize_ct, in place, llm-compressor's
    min-max observer): each weight becomes its e4m3 codes (F8_E4M3) beside weight_scale (BF16, the model dtype: per row for
    "channel", one for "tensor"), and with input_scales a static input_scale (1,) per projection (drawn: what calibration
    would store; the dequantized model does not read it). Returns the parameters the model computes with, in float64: the
    projections as compressed_tensors' dequantize gives them (code · scale rounded to BF16), the rest as stored."""
    P = {}
    for k in list(d.params):
        v = d.params[k]
        if k.endswith(".weight") and k.split(".")[-2] in FP8_PROJECTIONS:
            codes, scale = fp8.quantize_ct(v, strategy, safetensors_np.bf16_round)
            d.params[k] = safetensors_np.F8E4M3(codes)
            d.params[k + "_scale"] = scale
            if input_scales:
                d.params[k[:-len("weight")] + "input_scale"] = safetensors_np.bf16_round(
                    np.float32(0.5 + d.rng.random()).reshape(1) / np.float32(fp8.MAX))
            P[k] = fp8.dequantize_ct(codes, scale, safetensors_np.bf16_round).astype(np.float64)
        else:
            P[k] = v.astype(np.float64)
    return P


def ct_config(strategy, activations):
    """compressed-tensors' quantization_config as llm-compressor writes it for FP8 weights (one group over Linear, lm_head ignored)."""
    weights = {"num_bits": 8, "type": "float", "strategy": strategy, "symmetric": True, "dynamic": False, "group_size": None,
               "block_structure": None, "actorder": None, "observer": "minmax", "observer_kwargs": {}}
    return {"quant_method": "compressed-tensors", "format": "float-quantized", "quantization_status": "compressed",
            "config_groups": {"group_0": {"targets": ["Linear"], "weights": weights, "input_activations": activations,
                                          "output_activations": None}},
            "ignore": ["lm_head"], "kv_cache_scheme": None, "global_compression_ratio": None, "sparsity_config": {}}


@fixture("llama-fp8-dynamic")
def make_llama_fp8_dynamic(out):
    act = {"num_bits": 8, "type": "float", "strategy": "token", "symmetric": True, "dynamic": True, "group_size": None,
           "block_structure": None, "actorder": None, "observer": None, "observer_kwargs": {}}
    cfg = llm_config("llama", "LlamaForCausalLM", c=32, nh=4, nkv=2, f=64, v=128, attention_bias=False, mlp_bias=False,
                     quantization_config=ct_config("channel", act))
    return make_llm(out, "llama-fp8-dynamic", cfg, 1382, quantize=lambda d: fp8_ct_params(d, "channel", False),
                    note="Llama as RedHatAI's *-FP8-dynamic folders are published (llm-compressor, compressed-tensors "
                         "float-quantized): every q/k/v/o/gate/up/down_proj weight F8_E4M3 with a BF16 weight_scale per "
                         "output row, dynamic per-token input activations (nothing stored); the reference computes with "
                         "compressed_tensors' dequantized weights, code · scale rounded to BF16")


@fixture("mistral-fp8-static")
def make_mistral_fp8_static(out):
    act = {"num_bits": 8, "type": "float", "strategy": "tensor", "symmetric": True, "dynamic": False, "group_size": None,
           "block_structure": None, "actorder": None, "observer": "minmax", "observer_kwargs": {}}
    cfg = llm_config("mistral", "MistralForCausalLM", c=32, nh=4, nkv=2, f=64, v=128, sliding_window=None,
                     quantization_config=ct_config("tensor", act))
    return make_llm(out, "mistral-fp8-static", cfg, 1427, quantize=lambda d: fp8_ct_params(d, "tensor", True),
                    note="Mistral as the per-tensor FP8 folders are published (compressed-tensors float-quantized): one BF16 "
                         "weight_scale (1,) per projection and a static input_scale (1,) beside it, which the dequantized "
                         "model does not read (vLLM's W8A8 GEMM would quantize the activations with it)")


def intq_params(d, scheme, group, bits=4, desc_act=False):
    """AWQ's or GPTQ's layout over d's decoder projections (intq.py, in place): each `X.weight` is replaced by `X.qweight`,
    `X.qzeros` (int32), `X.scales` (float16) and for GPTQ `X.g_idx` (int32); biases, embeddings, norms and head stay float16.
    Returns the parameters the model computes with, in float64: the projections as the formats dequantize them (in float16),
    the rest as stored."""
    P = {}
    rng = np.random.default_rng(7)
    for k in list(d.params):
        v = d.params[k]
        if k.endswith(".weight") and k.split(".")[-2] in FP8_PROJECTIONS:
            base = k[:-len("weight")]
            del d.params[k]
            if scheme == "awq":
                qw, qz, sc = intq.awq_quantize(v, group)
                P[k] = intq.awq_dequantize(qw, qz, sc, group).astype(np.float64)
            else:
                qw, qz, sc, g = intq.gptq_quantize(v, group, bits, rng, desc_act)
                d.params[base + "g_idx"] = g
                P[k] = intq.gptq_dequantize(qw, qz, sc, g, bits).astype(np.float64)
            d.params[base + "qweight"], d.params[base + "qzeros"], d.params[base + "scales"] = qw, qz, sc
        else:
            P[k] = v.astype(np.float64)
    return P


@fixture("qwen2-awq")
def make_qwen2_awq(out):
    cfg = llm_config("qwen2", "Qwen2ForCausalLM", c=32, nh=4, nkv=2, f=64, v=128, use_sliding_window=False, sliding_window=None,
                     max_window_layers=2, rope_theta=1000000.0,
                     quantization_config={"bits": 4, "group_size": 16, "modules_to_not_convert": None, "quant_method": "awq",
                                          "version": "gemm", "zero_point": True})
    return make_llm(out, "qwen2-awq", cfg, 1441, quantize=lambda d: intq_params(d, "awq", 16),
                    note="Qwen2 as Qwen/Qwen2.5-*-AWQ is published (AutoAWQ, version gemm, 4 bits, zero points; group 16 here, "
                         "128 there): q/k/v/o/gate/up/down_proj as qweight / qzeros (int32, AWQ's nibble order) and float16 "
                         "scales, their biases float16; the reference computes with AutoAWQ's dequantized weights, "
                         "(q − z) · s in float16")


@fixture("llama-gptq")
def make_llama_gptq(out):
    cfg = llm_config("llama", "LlamaForCausalLM", c=32, nh=4, nkv=2, f=64, v=128, attention_bias=False, mlp_bias=False,
                     quantization_config={"bits": 4, "group_size": 16, "damp_percent": 0.01, "desc_act": True,
                                          "static_groups": False, "sym": True, "true_sequential": True,
                                          "model_name_or_path": None, "model_file_base_name": "model",
                                          "quant_method": "gptq", "checkpoint_format": "gptq"})
    return make_llm(out, "llama-gptq", cfg, 1446, quantize=lambda d: intq_params(d, "gptq", 16, 4, desc_act=True),
                    note="Llama as AutoGPTQ / GPTQModel write 4-bit act-order folders (checkpoint_format gptq, v1: zeros "
                         "stored minus one; desc_act true: g_idx a permutation's groups; group 16 here, 128 published)")


@fixture("qwen2-gptq-int8")
def make_qwen2_gptq_int8(out):
    cfg = llm_config("qwen2", "Qwen2ForCausalLM", c=32, nh=4, nkv=2, f=64, v=128, use_sliding_window=False, sliding_window=None,
                     max_window_layers=2, rope_theta=1000000.0,
                     quantization_config={"bits": 8, "group_size": 32, "damp_percent": 0.01, "desc_act": False,
                                          "static_groups": False, "sym": True, "true_sequential": True,
                                          "model_name_or_path": None, "model_file_base_name": "model",
                                          "quant_method": "gptq"})
    return make_llm(out, "qwen2-gptq-int8", cfg, 1443, quantize=lambda d: intq_params(d, "gptq", 32, 8),
                    note="Qwen2 as Qwen/Qwen2.5-*-GPTQ-Int8 is published (8 bits, four codes per int32, desc_act false, no "
                         "checkpoint_format key: v1)")


@fixture("qwen3-fp8")
def make_qwen3_fp8(out):
    cfg = llm_config("qwen3", "Qwen3ForCausalLM", head_dim=32, attention_bias=False, use_sliding_window=False, sliding_window=None,
                     max_window_layers=2, rope_theta=1000000.0,
                     quantization_config={"activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8",
                                          "weight_block_size": FP8_BLOCK})
    return make_llm(out, "qwen3-fp8", cfg, 1370, quantize=lambda d: fp8_params(d, FP8_BLOCK),
                    note="qwen3's shapes as Qwen/Qwen3-*-FP8 publish them: quantization_config quant_method fp8, fmt e4m3, "
                         "dynamic activations, every q/k/v/o/gate/up/down_proj weight F8_E4M3 with float32 weight_scale_inv "
                         "per [16, 32] block (integrations/finegrained_fp8.py Fp8Quantize; the reference computes with "
                         "Fp8Dequantize's weights, code · scale in float32, as transformers runs such a folder on a CPU or "
                         "with dequantize=True)")


@fixture("phi3")
def make_phi3(out):
    return make_llm(out, "phi3", llm_config("phi3", "Phi3ForCausalLM", partial_rotary_factor=0.5, sliding_window=None,
                                            original_max_position_embeddings=128, pad_token_id=0, resid_pdrop=0.0,
                                            embd_pdrop=0.0), 1338,
                    note="partial_rotary_factor 0.5: rotary on the first 8 of 16 dimensions per head")


@fixture("gemma")
def make_gemma(out):
    return make_llm(out, "gemma", llm_config("gemma", "GemmaForCausalLM", c=32, nh=2, nkv=1, f=64, head_dim=256, tie=True,
                                             hidden_act="gelu_pytorch_tanh", hidden_activation="gelu_pytorch_tanh",
                                             pad_token_id=0, attention_bias=False), 1339,
                    t=32, note="head_dim 256, 2 query heads over 1 kv head, tied head")


@fixture("gemma2")
def make_gemma2(out):
    return make_llm(out, "gemma2", llm_config("gemma2", "Gemma2ForCausalLM", c=32, nh=2, nkv=1, f=64, head_dim=64, tie=True,
                                              hidden_act="gelu_pytorch_tanh", hidden_activation="gelu_pytorch_tanh",
                                              pad_token_id=0, attention_bias=False, query_pre_attn_scalar=48,
                                              attn_logit_softcapping=5.0, final_logit_softcapping=3.0, sliding_window=6,
                                              cache_implementation="hybrid"), 1340,
                    t=32, note="query_pre_attn_scalar 48 (not head_dim 64), soft-capping 5 (attention) and 3 (logits) so "
                               "that both bend the outputs, sliding_window 6 on layer 0, full layer 1")


@fixture("granite")
def make_granite(out):
    return make_llm(out, "granite", llm_config("granite", "GraniteForCausalLM", c=32, nh=4, nkv=2, f=64, v=128, tie=False,
                                               embedding_multiplier=12.0, attention_multiplier=0.09, residual_multiplier=0.22,
                                               logits_scaling=0.8, attention_bias=False, mlp_bias=False), 1346,
                    note="Granite 3.x's multipliers at their published sizes (embedding 12, residual 0.22; attention 0.09 "
                         "for head_dim 8 in place of 1/sqrt(8)), logits_scaling 0.8 (÷), untied head")


# OLMo-7B-0424-hf / 0724-hf's shape scaled down (clip_qkv 8 there; q, k, v here are about N(0, 1) after the weightless norm, so
# 1.5 clamps some of them: make_olmo asserts it and records how many), MHA as published, untied head, no rms_norm_eps
# (OlmoConfig has none), bos null, pad 1 and eos 2 in place of 1 and 50279 (ids below the vocabulary of 64). Vocabulary 64,
# hidden 32, (2, 40) positions as the other RoPE decoders: about 0.11 MB.
OLMO_CLIP = 1.5


@fixture("olmo")
def make_olmo(out):
    cfg = llm_config("olmo", "OlmoForCausalLM", c=32, nh=4, nkv=4, f=64, v=64, mpe=128, attention_bias=False,
                     clip_qkv=OLMO_CLIP, pad_token_id=1, bos_token_id=None, eos_token_id=2)
    del cfg["rms_norm_eps"]
    clipped = {}
    d = Draw(1349)
    draw_llm(d, cfg)
    ids = d.ids(2, OLMO_T, cfg["vocab_size"], low=3)
    P = d.f64()
    h, logits = decoders.forward(cfg, P, ids, clipped=clipped)
    assert all(clipped[n] > 0 for n in "qkv"), f"olmo: clip_qkv {OLMO_CLIP} must change some q, k and v elements: {clipped}"
    _, unclipped = decoders.forward(dict(cfg, clip_qkv=None), P, ids)
    assert np.abs(unclipped - logits).max() > 1e-3 * np.abs(logits).max(), "olmo: clip_qkv must move the logits"
    prompt = ids[0, :OLMO_PROMPT].tolist()
    g = greedy(lambda toks: decoders.forward(cfg, P, [toks])[1][0, -1], prompt)
    return save(out, "olmo", cfg, d, {"last_hidden_state": h, "logits": logits}, {"input_ids": ids},
                LLM_FOLLOWS["olmo"] + "; modeling_rope_utils.py",
                {"prompt": prompt, "tokens": g[0], "margins": g[1]},
                extra={"sliding_layers": decoders.sliding_layers(cfg),
                       "clip_qkv": {"limit": OLMO_CLIP, "clamped_q": clipped["q"], "clamped_k": clipped["k"],
                                    "clamped_v": clipped["v"], "elements": clipped["all"],
                                    "note": "elements of q, k, v (both rows of input_ids, both layers) with |x| > clip_qkv, "
                                            "which the clamp changes; without the clamp the logits move by more than 1e-3 of "
                                            "their maximum"}})


OLMO_T, OLMO_PROMPT = 40, 24


@fixture("olmo2")
def make_olmo2(out):
    return make_llm(out, "olmo2", llm_config("olmo2", "Olmo2ForCausalLM", c=32, nh=4, nkv=2, f=64, v=128, rms_norm_eps=1e-6,
                                             rope_theta=500000.0, attention_bias=False), 1348,
                    note="GQA 4 over 2 (q_norm 32 wide, k_norm 16 wide), rope_theta 5e5 as OLMo 2 publishes it, untied head")


# OLMo 3's long-context releases (Olmo-3-1025-7B, Olmo-3-7B-Instruct, Olmo-3-32B-Think) publish yarn of factor 8 over 8192
# original positions with attention_factor 1.2079441541679836 (0.1 ln 8 + 1) and the default betas; scaled down here to 16
# original positions, so that with head_dim 16 pair 0 keeps its frequency and pairs 1..7 are divided by 8
OLMO3_YARN = {"rope_type": "yarn", "factor": 8.0, "original_max_position_embeddings": 16, "attention_factor": 1.2079441541679836,
              "beta_fast": 32.0, "beta_slow": 1.0}


@fixture("olmo3")
def make_olmo3(out):
    cfg = llm_config("olmo3", "Olmo3ForCausalLM", c=32, nh=2, nkv=1, f=64, v=128, layers=4, mpe=128, rope_theta=500000.0,
                     rope_scaling=dict(OLMO3_YARN), sliding_window=6, attention_bias=False, pad_token_id=1,
                     bos_token_id=None, eos_token_id=2)
    del cfg["rms_norm_eps"]                                      # Olmo3Config's 1e-5
    return make_llm(out, "olmo3", cfg, 1399,
                    note="no layer_types: Olmo3Config's pattern, layers 0-2 sliding (window 6 of 40 tokens) with default rope "
                         "at theta 5e5, layer 3 full with yarn (factor 8 over 16 original positions, attention factor "
                         "1.2079); head_dim 16, GQA 2 over 1 (q_norm 32 wide, k_norm 16 wide), rms_norm_eps absent (1e-5)")


@fixture("smollm3")
def make_smollm3(out):
    return make_llm(out, "smollm3", llm_config("smollm3", "SmolLM3ForCausalLM", c=32, nh=4, nkv=2, f=64, v=128, layers=4, tie=True,
                                               rope_theta=5000000.0, no_rope_layer_interval=2, use_sliding_window=False,
                                               sliding_window=None, attention_bias=False, mlp_bias=False), 1347,
                    note="no_rope_layer_interval 2 with no no_rope_layers list: layers 1 and 3 without RoPE (NoPE), 0 and 2 with it; "
                         "rope_theta 5e6 as SmolLM3-3B publishes it; tied head")


GEMMA3 = dict(c=32, nh=2, nkv=1, f=64, head_dim=32, tie=True, hidden_act="gelu_pytorch_tanh", hidden_activation="gelu_pytorch_tanh",
              pad_token_id=0, attention_bias=False, query_pre_attn_scalar=48, sliding_window=6, layers=3, rope_theta=1000000.0,
              final_logit_softcapping=None, attn_logit_softcapping=None, cache_implementation="hybrid")


@fixture("gemma3-text")
def make_gemma3_text(out):
    cfg = llm_config("gemma3_text", "Gemma3ForCausalLM", rope_local_base_freq=10000.0, sliding_window_pattern=3,
                     rope_scaling={"rope_type": "linear", "factor": 8.0}, **GEMMA3)
    return make_llm(out, "gemma3-text", cfg, 1344, t=32,
                    note="4.x layout: sliding_window_pattern 3 (layers 0, 1 slide with window 6 and rope_local_base_freq "
                         "10000; layer 2 full with rope_theta 1e6 and linear scaling 8), query_pre_attn_scalar 48 (head_dim 32), "
                         "q/k norms")


@fixture("embeddinggemma")
def make_embeddinggemma(out):
    """As sentence-transformers saves google/embeddinggemma-300m's Transformer module: Gemma3TextModel (no model. prefix, no
    lm_head), use_bidirectional_attention true: the sliding layers see |i - j| < sliding_window on both sides, the full
    layer every key. Rows of 20 tokens (past the window of 6 on either side)."""
    cfg = llm_config("gemma3_text", "Gemma3TextModel", rope_local_base_freq=10000.0, sliding_window_pattern=3,
                     use_bidirectional_attention=True, **GEMMA3)
    cfg["rope_scaling"] = None
    d = Draw(1397)
    draw_llm(d, cfg)
    ids = d.ids(2, 20, cfg["vocab_size"], low=3)
    P = d.f64()
    h, _ = decoders.forward(cfg, P, ids)
    return save(out, "embeddinggemma", cfg, d, {"last_hidden_state": h}, {"input_ids": ids},
                LLM_FOLLOWS["gemma3_text"] + "; Gemma3TextModel.forward with use_bidirectional_attention (full layers: every "
                "key; sliding layers: _bidirectional_window_overlay, |q - kv| < sliding_window)",
                rename=lambda k: k[len("model."):] if k.startswith("model.") else k,
                extra={"sliding_layers": decoders.sliding_layers(cfg),
                       "note": "the base model's layout (embed_tokens.weight, layers.…, norm.weight) as sentence-transformers "
                               "saves it; no head"})


@fixture("gemma3-multimodal")
def make_gemma3_multimodal(out):
    return make_gemma3_mm(out, "gemma3-multimodal", 1349)


@fixture("gemma3-fp8-dynamic")
def make_gemma3_fp8_dynamic(out):
    """google/gemma-3-*-it as RedHatAI's gemma-3-*-it-FP8-dynamic folders are published: the multimodal folder with the
    language model's projections float-quantized by llm-compressor (compressed-tensors, channel strategy, BF16 scales,
    dynamic per-token activations), the vision tower, projector and head left alone (its ignore list)."""
    act = {"num_bits": 8, "type": "float", "strategy": "token", "symmetric": True, "dynamic": True, "group_size": None,
           "block_structure": None, "actorder": None, "observer": None, "observer_kwargs": {}}
    q = dict(ct_config("channel", act), ignore=["re:.*lm_head", "re:vision_tower.*", "re:multi_modal_projector.*"])
    return make_gemma3_mm(out, "gemma3-fp8-dynamic", 1395, quantize=lambda d: fp8_ct_params(d, "channel", False), qcfg=q)


def make_gemma3_mm(out, name, seed, quantize=None, qcfg=None):
    """A Gemma3ForConditionalGeneration folder as google/gemma-3-4b-it publishes it: config.json with text_config
    (model_type gemma3_text, only the fields that differ from Gemma3TextConfig's defaults plus this tiny model's
    sizes) and vision_config; the text model's tensors under language_model. (language_model.model.…, the head
    tied), the vision tower's and projector's beside them. Text-only input runs the text model alone."""
    text = llm_config("gemma3_text", "Gemma3ForCausalLM", rope_local_base_freq=10000.0, sliding_window_pattern=3,
                      rope_scaling={"rope_type": "linear", "factor": 8.0}, **GEMMA3)
    for k in ("architectures", "torch_dtype", "tie_word_embeddings", "use_cache", "initializer_range", "attention_dropout",
              "bos_token_id", "eos_token_id", "pad_token_id", "hidden_act", "rms_norm_eps", "cache_implementation",
              "attn_logit_softcapping", "final_logit_softcapping", "attention_bias"):
        text.pop(k, None)                                            # left to Gemma3TextConfig's defaults
    cfg = {"architectures": ["Gemma3ForConditionalGeneration"], "model_type": "gemma3", "text_config": text,
           "vision_config": {"model_type": "siglip_vision_model", "hidden_size": 16, "image_size": 32, "patch_size": 16,
                             "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 32},
           "mm_tokens_per_image": 4, "boi_token_index": 100, "eoi_token_index": 101, "image_token_index": 102,
           "torch_dtype": "float32"}
    if qcfg is not None:
        cfg["quantization_config"] = qcfg
    full = dict(text, tie_word_embeddings=True, rms_norm_eps=1e-6)    # what the defaults make of it
    d = Draw(seed)
    draw_llm(d, full)
    d.mat("vision_tower.vision_model.embeddings.patch_embedding.weight", 16, 48)
    d.mat("multi_modal_projector.mm_input_projection_weight", 16, 32)
    ids = d.ids(2, 32, full["vocab_size"], low=3)
    P = quantize(d) if quantize else d.f64()
    h, logits = decoders.forward(full, P, ids)
    prompt = ids[0, :24].tolist()
    g = greedy(lambda toks: decoders.forward(full, P, [toks])[1][0, -1], prompt)
    return save(out, name, cfg, d, {"last_hidden_state": h, "logits": logits}, {"input_ids": ids},
                LLM_FOLLOWS["gemma3_text"] + "; models/gemma3/modeling_gemma3.py Gemma3ForConditionalGeneration on text-only "
                "input (the language model alone, its head tied to the token table)",
                {"prompt": prompt, "tokens": g[0], "margins": g[1], "note": "each step recomputes the whole sequence"},
                rename=lambda k: k if k.startswith(("vision_tower.", "multi_modal_projector.")) else "language_model." + k,
                extra={"sliding_layers": decoders.sliding_layers(full),
                       "note": "the gemma3-text model inside a multimodal folder: text_config, language_model. prefix, "
                               "vision tensors to be left alone"})


@fixture("gemma3-text-v5")
def make_gemma3_text_v5(out):
    cfg = llm_config("gemma3_text", "Gemma3ForCausalLM", **dict(GEMMA3, final_logit_softcapping=3.0))
    cfg.pop("rope_theta")
    cfg.pop("rope_scaling")
    cfg["rope_parameters"] = {"sliding_attention": {"rope_type": "default", "rope_theta": 10000.0},
                              "full_attention": {"rope_type": "default", "rope_theta": 1000000.0}}
    cfg["layer_types"] = ["sliding_attention", "full_attention", "sliding_attention"]
    cfg["dtype"] = cfg.pop("torch_dtype")
    return make_llm(out, "gemma3-text-v5", cfg, 1345, t=32,
                    note="5.x layout: rope_parameters per layer type and explicit layer_types (sliding, full, sliding), "
                         "final_logit_softcapping 3")


# ---- mixture-of-experts decoders ---------------------------------------------------------------------

MIN_ROUTING_GAP = 1e-3   # float32 / bf16 routing must pick the reference's experts: the k-th and (k+1)-th
                         # probabilities of every token of input_ids, in every sparse layer, at least this far apart


def routing_summary(routing):
    """(min gap over every token and sparse layer, the top-k ids of each row's last position per sparse layer)."""
    gap = min(float(r["gap"].min()) for r in routing)
    return gap, [r["ids"] for r in routing]


def make_moe(out, name, cfg, seed, t=32, note=None, convert=None):
    """As make_llm, and reference.json's "routing": the sparse layers, the smallest gap between the k-th and
    (k+1)-th routing probability over input_ids (both rows) and over the greedy run (every position of every
    recomputation), and the chosen experts of each row's last position. The seeds were picked from a scan of
    1350..1949 (2026-12-05) among those whose gap is at least MIN_ROUTING_GAP over input_ids and over the greedy
    run and whose greedy margins are all at least 0.01; most seeds fail (some token lands within 1e-3)."""
    d = Draw(seed)
    draw_llm(d, cfg)
    ids = d.ids(2, t, cfg["vocab_size"], low=3)
    P = d.f64()
    routing = []
    h, logits = decoders.forward(cfg, P, ids, routing=routing)
    gap, chosen = routing_summary(routing)
    if gap < MIN_ROUTING_GAP:
        raise SystemExit(f"{name}: routing gap {gap:.3g} over input_ids, less than {MIN_ROUTING_GAP}: choose another seed")
    prompt = ids[0, :24].tolist()
    steps = []

    def step(toks):
        r = []
        lg = decoders.forward(cfg, P, [toks], routing=r)[1][0, -1]
        steps.append(routing_summary(r)[0])
        return lg
    g = greedy(step, prompt)
    sparse = decoders.sparse_layers(cfg)
    layers = [i for i in range(cfg["num_hidden_layers"]) if sparse[i]]
    follows = LLM_FOLLOWS[cfg["model_type"]] + "; modeling_rope_utils.py" + (f"; {note}" if note else "")
    extra = {"sliding_layers": decoders.sliding_layers(cfg),
             "routing": {"sparse_layers": sparse, "top_k": cfg["num_experts_per_tok"],
                         "min_routing_gap": {"input_ids": gap, "greedy": min(steps)},
                         "last_position_experts": {str(i): c.reshape(2, t, -1)[:, -1].tolist() for i, c in zip(layers, chosen)},
                         "note": "min_routing_gap: the smallest difference between the k-th and (k+1)-th largest softmax "
                                 "routing probability over every token and sparse layer, of input_ids (both rows) and of the "
                                 "greedy run (every position of each recomputation); last_position_experts: per sparse layer, "
                                 "the top-k expert ids (descending probability) of each row's last input position"}}
    return save(out, name, cfg, d, {"last_hidden_state": h, "logits": logits}, {"input_ids": ids}, follows,
                {"prompt": prompt, "tokens": g[0], "margins": g[1], "note": "each step recomputes the whole sequence"},
                extra=extra, convert=convert)


def mixtral_config():
    return llm_config("mixtral", "MixtralForCausalLM", c=32, nh=4, nkv=2, f=48, v=128, rope_theta=1000000.0, sliding_window=None,
                      num_local_experts=8, num_experts_per_tok=2, router_aux_loss_coef=0.02, output_router_logits=False,
                      router_jitter_noise=0.0, rms_norm_eps=1e-5)


MIXTRAL_SEED = 1618


@fixture("mixtral")
def make_mixtral(out):
    return make_moe(out, "mixtral", mixtral_config(), MIXTRAL_SEED,
                    note="8 experts, top-2 renormalized, intermediate 48, sliding_window null as Mixtral-8x7B publishes it, "
                         "GQA 4 over 2, untied head; 4.x per-expert layout (block_sparse_moe.experts.{e}.w1/w2/w3)")


@fixture("mixtral-v5")
def make_mixtral_v5(out):
    return make_moe(out, "mixtral-v5", to_v5(mixtral_config()), MIXTRAL_SEED, convert=fuse_experts,
                    note="the same model as mixtral (same seed) in transformers 5.x's layout: rope_parameters / dtype, "
                         "mlp.gate, experts fused into mlp.experts.gate_up_proj (E, 2F, C) = [w1 ; w3] per expert and "
                         "mlp.experts.down_proj (E, C, F) from the w2")


@fixture("qwen2-moe")
def make_qwen2_moe(out):
    cfg = llm_config("qwen2_moe", "Qwen2MoeForCausalLM", c=32, nh=4, nkv=2, f=64, v=128, layers=3, rope_theta=1000000.0,
                     num_experts=8, num_experts_per_tok=4, moe_intermediate_size=24, shared_expert_intermediate_size=48,
                     norm_topk_prob=False, decoder_sparse_step=1, mlp_only_layers=[1], use_sliding_window=False,
                     sliding_window=32768, max_window_layers=3, router_aux_loss_coef=0.001, output_router_logits=False)
    return make_moe(out, "qwen2-moe", cfg, 1853,
                    note="8 experts, top-4 not renormalized (norm_topk_prob false, as Qwen1.5-MoE publishes it), "
                         "moe_intermediate 24, shared expert 48 gated by sigmoid(shared_expert_gate); mlp_only_layers [1]: "
                         "layer 1 a dense MLP of intermediate_size 64, layers 0 and 2 sparse; q/k/v bias")


@fixture("qwen3-moe")
def make_qwen3_moe(out):
    cfg = llm_config("qwen3_moe", "Qwen3MoeForCausalLM", c=32, nh=4, nkv=2, f=64, v=128, layers=4, head_dim=16,
                     rope_theta=1000000.0, attention_bias=False, num_experts=8, num_experts_per_tok=2,
                     moe_intermediate_size=24, norm_topk_prob=True, decoder_sparse_step=2, mlp_only_layers=[],
                     use_sliding_window=False, sliding_window=None, max_window_layers=4, router_aux_loss_coef=0.001,
                     output_router_logits=False)
    # 1457 until the weights were stored BF16 (2026-12-06): rounded, its gap fell to 0.00098; 1393 is the first of a new scan
    # from 1350 with the gap ≥ 0.001 (0.0028) and greedy margins ≥ 0.01 (0.026)
    return make_moe(out, "qwen3-moe", cfg, 1393,
                    note="8 experts, top-2 renormalized (norm_topk_prob true, as Qwen3-30B-A3B publishes it), "
                         "moe_intermediate 24; decoder_sparse_step 2: layers 1 and 3 sparse, 0 and 2 dense MLPs of "
                         "intermediate_size 64; head_dim 16 given (q_proj 64 wide over hidden 32), per-head q/k norms")


@fixture("olmoe")
def make_olmoe(out):
    cfg = llm_config("olmoe", "OlmoeForCausalLM", c=32, nh=4, nkv=2, f=24, v=128, rms_norm_eps=1e-5, num_experts=8,
                     num_experts_per_tok=3, norm_topk_prob=False, clip_qkv=None, attention_bias=False,
                     router_aux_loss_coef=0.01, output_router_logits=False, pad_token_id=1)
    return make_moe(out, "olmoe", cfg, 1709,
                    note="8 experts of intermediate_size 24, top-3 not renormalized (norm_topk_prob false, as "
                         "OLMoE-1B-7B publishes it), clip_qkv null; GQA 4 over 2: q_norm 32 wide, k_norm 16 wide; untied head")



# ---- parallel-residual decoders: GPT-NeoX (Pythia), Phi (phi-2) ----------------------------------------------

def neox_config(**extra):
    """GPTNeoXConfig as EleutherAI/pythia-*'s config.json has it (4.x: rotary_emb_base, rotary_pct, use_parallel_residual,
    hidden_act gelu, untied embed_out), scaled down."""
    cfg = {"architectures": ["GPTNeoXForCausalLM"], "model_type": "gpt_neox", "hidden_size": 64, "num_attention_heads": 2,
           "intermediate_size": 128, "vocab_size": 128, "num_hidden_layers": 2, "max_position_embeddings": 64,
           "layer_norm_eps": 1e-5, "rotary_emb_base": 10000, "rotary_pct": 0.25, "hidden_act": "gelu",
           "use_parallel_residual": True, "tie_word_embeddings": False, "bos_token_id": 0, "eos_token_id": 0,
           "initializer_range": 0.02, "use_cache": True, "torch_dtype": "float32"}
    cfg.update(extra)
    return cfg


def draw_neox(d, cfg, legacy):
    """GPTNeoXForCausalLM's parameters in declaration order; with legacy, the buffers transformers 4.2x saved with them
    (attention.bias, the causal mask as bool (1, 1, P, P); attention.masked_bias, -1e9, -inf once the model is float16;
    attention.rotary_emb.inv_freq), which the published Pythia files carry and GPTNeoXPreTrainedModel ignores."""
    c, f, v, nh = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"], cfg["num_attention_heads"]
    hd = c // nh
    d.emb("gpt_neox.embed_in.weight", v, c)
    for i in range(cfg["num_hidden_layers"]):
        p = f"gpt_neox.layers.{i}."
        d.norm(p + "input_layernorm", c)
        d.norm(p + "post_attention_layernorm", c)
        if legacy:
            mpe = cfg["max_position_embeddings"]
            d.raw(p + "attention.bias", np.tril(np.ones((mpe, mpe), dtype=bool))[None, None])
            d.raw(p + "attention.masked_bias", np.asarray(-1e9, dtype=np.float32))
            rot = int(hd * cfg["rotary_pct"])
            d.raw(p + "attention.rotary_emb.inv_freq", (1.0 / 10000 ** (np.arange(0, rot, 2) / rot)).astype(np.float32))
        d.linear(p + "attention.query_key_value", c, 3 * c)
        d.linear(p + "attention.dense", c, c)
        d.linear(p + "mlp.dense_h_to_4h", c, f)
        d.linear(p + "mlp.dense_4h_to_h", f, c)
    d.norm("gpt_neox.final_layer_norm", c)
    d.mat("embed_out.weight", v, c)


def phi_config(**extra):
    """PhiConfig as microsoft/phi-2's config.json has it (4.37 layout: partial_rotary_factor, qk_layernorm false,
    hidden_act gelu_new, untied lm_head with a bias, bos = eos), scaled down."""
    cfg = {"architectures": ["PhiForCausalLM"], "model_type": "phi", "hidden_size": 64, "num_attention_heads": 4,
           "num_key_value_heads": 2, "intermediate_size": 128, "vocab_size": 128, "num_hidden_layers": 2,
           "max_position_embeddings": 64, "layer_norm_eps": 1e-5, "partial_rotary_factor": 0.4, "rope_theta": 10000.0,
           "rope_scaling": None, "qk_layernorm": False, "hidden_act": "gelu_new", "tie_word_embeddings": False,
           "bos_token_id": 127, "eos_token_id": 127, "resid_pdrop": 0.1, "embd_pdrop": 0.0, "attention_dropout": 0.0,
           "initializer_range": 0.02, "use_cache": True, "torch_dtype": "float32"}
    cfg.update(extra)
    return cfg


def draw_phi(d, cfg):
    c, f, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    nh, nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = c // nh
    d.emb("model.embed_tokens.weight", v, c)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        a = p + "self_attn."
        d.linear(a + "q_proj", c, nh * hd)
        d.linear(a + "k_proj", c, nkv * hd)
        d.linear(a + "v_proj", c, nkv * hd)
        d.linear(a + "dense", nh * hd, c)
        d.linear(p + "mlp.fc1", c, f)
        d.linear(p + "mlp.fc2", f, c)
        d.norm(p + "input_layernorm", c)
    d.norm("model.final_layernorm", c)
    d.linear("lm_head", c, v)


def draw_gptj(d, cfg):
    """GPTJForCausalLM's parameters in declaration order, with the buffers older transformers saved (attn.bias, the causal
    mask as bool (1, 1, P, P); attn.masked_bias -1e9), which the published gpt-j-6b files carry."""
    c, f, v = cfg["n_embd"], cfg["n_inner"], cfg["vocab_size"]
    d.emb("transformer.wte.weight", v, c)
    for i in range(cfg["n_layer"]):
        p = f"transformer.h.{i}."
        d.norm(p + "ln_1", c)
        mpe = cfg["n_positions"]
        d.raw(p + "attn.bias", np.tril(np.ones((mpe, mpe), dtype=bool))[None, None])
        d.raw(p + "attn.masked_bias", np.asarray(-1e9, dtype=np.float32))
        for proj in ("k_proj", "v_proj", "q_proj", "out_proj"):
            d.mat(p + "attn." + proj + ".weight", c, c)
        d.linear(p + "mlp.fc_in", c, f)
        d.linear(p + "mlp.fc_out", f, c)
    d.norm("transformer.ln_f", c)
    d.linear("lm_head", c, v)


NEOX_FOLLOWS = {
    "codegen": "models/codegen/modeling_codegen.py: CodeGenForCausalLM.forward (CodeGenModel, CodeGenBlock: one ln_1 feeding "
               "attention and MLP in parallel, CodeGenAttention's bias-free qkv_proj read as mp_num = 4 groups of query | value | "
               "key and _split_heads, rotate_every_two rotary over rotary_dim, CodeGenMLP, lm_head with a bias)",
    "gptj": "models/gptj/modeling_gptj.py: GPTJForCausalLM.forward (GPTJModel, GPTJBlock: one ln_1 feeding attention and MLP in "
            "parallel, GPTJAttention's bias-free projections and rotate_every_two rotary over rotary_dim, GPTJMLP, lm_head with a bias)",
    "gpt_neox": "models/gpt_neox/modeling_gpt_neox.py: GPTNeoXForCausalLM.forward (GPTNeoXModel, GPTNeoXLayer's parallel or "
                "sequential residual, GPTNeoXAttention's per-head interleaved query_key_value and partial rotary, GPTNeoXMLP)",
    "phi": "models/phi/modeling_phi.py: PhiForCausalLM.forward (PhiModel, PhiDecoderLayer: one input_layernorm feeding attention "
           "and MLP in parallel, PhiAttention with biases and partial rotary, PhiMLP fc1/fc2, lm_head with a bias)",
}


def finish_decoder(out, name, cfg, d, forward, follows):
    """A decoder fixture whose parameters d holds: two rows of 32 ids drawn after them, the outputs of forward, the greedy
    run from the first row's 24 tokens."""
    ids = d.ids(2, 32, cfg["vocab_size"], low=3)
    P = d.f64()
    h, logits = forward(cfg, P, ids)
    prompt = ids[0, :24].tolist()
    g = greedy(lambda toks: forward(cfg, P, [toks])[1][0, -1], prompt)
    return save(out, name, cfg, d, {"last_hidden_state": h, "logits": logits}, {"input_ids": ids}, follows,
                {"prompt": prompt, "tokens": g[0], "margins": g[1]})


def make_parallel(out, name, cfg, seed, draw, note):
    d = Draw(seed)
    draw(d)
    return finish_decoder(out, name, cfg, d, neox.forward, NEOX_FOLLOWS[cfg["model_type"]] + "; modeling_rope_utils.py; " + note)


@fixture("gpt-bigcode")
def make_gpt_bigcode(out):
    """As bigcode/tiny_starcoder_py and the StarCoder models publish it (GPTBigCodeForCausalLM, multi_query: one key / value
    head, c_attn [q (n_embd) | k (head_dim) | v (head_dim)] as an nn.Linear, learned positions, gelu_pytorch_tanh, tied
    output), scaled down."""
    cfg = {"architectures": ["GPTBigCodeForCausalLM"], "model_type": "gpt_bigcode", "n_embd": 64, "n_head": 4, "n_layer": 2,
           "n_inner": 128, "n_positions": 128, "vocab_size": 128, "multi_query": True, "activation_function": "gelu_pytorch_tanh",
           "layer_norm_epsilon": 1e-5, "scale_attn_weights": True, "attention_softmax_in_fp32": True,
           "scale_attention_softmax_in_fp32": True, "bos_token_id": 0, "eos_token_id": 0, "attn_pdrop": 0.1, "embd_pdrop": 0.1,
           "resid_pdrop": 0.1, "initializer_range": 0.02, "use_cache": True, "torch_dtype": "float32"}
    d = Draw(1841)
    c, f, v, hd = 64, 128, 128, 16
    d.emb("transformer.wte.weight", v, c, TIED_STD)
    d.emb("transformer.wpe.weight", cfg["n_positions"], c)
    for i in range(cfg["n_layer"]):
        p = f"transformer.h.{i}."
        d.norm(p + "ln_1", c)
        d.linear(p + "attn.c_attn", c, c + 2 * hd)
        d.linear(p + "attn.c_proj", c, c)
        d.norm(p + "ln_2", c)
        d.linear(p + "mlp.c_fc", c, f)
        d.linear(p + "mlp.c_proj", f, c)
    d.norm("transformer.ln_f", c)
    return finish_decoder(out, "gpt-bigcode", cfg, d, bigcode.forward,
                          "models/gpt_bigcode/modeling_gpt_bigcode.py: GPTBigCodeForCausalLM.forward (GPTBigCodeModel, GPTBigCodeBlock, "
                          "multi-query GPTBigCodeAttention, GPTBigCodeMLP, tied lm_head)")


def falcon_config(**extra):
    """FalconConfig as tiiuae/falcon-7b's config.json has it (multi_query, parallel_attn, no biases, tied, rope_theta 10000,
    activation gelu), scaled down."""
    cfg = {"architectures": ["FalconForCausalLM"], "model_type": "falcon", "hidden_size": 64, "num_attention_heads": 4, "ffn_hidden_size": 128,
           "num_hidden_layers": 2, "vocab_size": 128, "max_position_embeddings": 128, "layer_norm_epsilon": 1e-5,
           "multi_query": True, "parallel_attn": True, "new_decoder_architecture": False, "alibi": False, "bias": False,
           "rope_theta": 10000.0, "rope_scaling": None, "activation": "gelu", "tie_word_embeddings": True,
           "bos_token_id": 11, "eos_token_id": 11, "hidden_dropout": 0.0, "attention_dropout": 0.0, "torch_dtype": "float32"}
    cfg.update(extra)
    return cfg


def draw_falcon(d, cfg):
    c, nh, v = cfg["hidden_size"], cfg["num_attention_heads"], cfg["vocab_size"]
    hd, f = c // nh, cfg.get("ffn_hidden_size") or 4 * cfg["hidden_size"]
    new = cfg["new_decoder_architecture"]
    nkv = (cfg.get("num_kv_heads") or nh) if new else 1 if cfg["multi_query"] else nh
    tied = cfg["tie_word_embeddings"]
    d.emb("transformer.word_embeddings.weight", v, c, TIED_STD if tied else 1.0)
    for i in range(cfg["num_hidden_layers"]):
        p = f"transformer.h.{i}."
        if new and (cfg.get("num_ln_in_parallel_attn") or 2) == 2:
            d.norm(p + "ln_attn", c)
            d.norm(p + "ln_mlp", c)
        else:
            d.norm(p + "input_layernorm", c)
            if not new and not cfg["parallel_attn"]:
                d.norm(p + "post_attention_layernorm", c)
        d.linear(p + "self_attention.query_key_value", c, (nh + 2 * nkv) * hd, cfg["bias"])
        d.linear(p + "self_attention.dense", c, c, cfg["bias"])
        d.linear(p + "mlp.dense_h_to_4h", c, f, cfg["bias"])
        d.linear(p + "mlp.dense_4h_to_h", f, c, cfg["bias"])
    d.norm("transformer.ln_f", c)
    if not tied:
        d.mat("lm_head.weight", v, c)


def make_falcon_fixture(out, name, cfg, seed, note):
    d = Draw(seed)
    draw_falcon(d, cfg)
    return finish_decoder(out, name, cfg, d, falcon.forward,
                          "models/falcon/modeling_falcon.py: FalconForCausalLM.forward (FalconModel, FalconDecoderLayer, FalconAttention's "
                          "_split_heads, FalconMLP, FalconRotaryEmbedding); " + note)


@fixture("falcon")
def make_falcon(out):
    return make_falcon_fixture(out, "falcon", falcon_config(), 1853,
                               "falcon-7b's layout: multi-query [q | k | v], one input_layernorm feeding attention and MLP, no biases, tied")


@fixture("falcon-new")
def make_falcon_new(out):
    return make_falcon_fixture(out, "falcon-new", falcon_config(new_decoder_architecture=True, num_kv_heads=2, multi_query=False,
                                                                tie_word_embeddings=False, bias=True), 1852,
                               "falcon-40b's new_decoder_architecture: query_key_value per key/value group [q_1 q_2 | k | v], "
                               "ln_attn and ln_mlp, GQA 4 over 2; biases (as Falcon2 configs may set); untied head")


# ---- ALiBi decoders: BLOOM, MPT, Falcon-RW ----------------------------------------------------------------------------
# input_ids (2, 72): the cached run covers 72 positions (a prompt of 8, then 64 steps one token a call: a CUDA-graph
# capture of 64 decode steps has its reference); vocabulary 64 and hidden 48 keep each folder near 0.29 MB (F64 outputs
# are most of it). A non-power-of-two head count everywhere, so that build_alibi_tensor's extra slopes and MPT's reorder
# are in play.
# Seeds from a scan of 1871..1910 (2026-12-07): random tied ALiBi models soon repeat one token; these give the greedy
# runs with the most distinct tokens (2, 3, 3) and top-2 margins at least 17x the check's bound.
ALIBI_T, ALIBI_PROMPT = 72, 8
ALIBI_BIAS = {
    "bloom": "alibi + q·k / sqrt(head_dim), alibi = slope · j (j the key's position: (cumsum(attention_mask) - 1) · mask), "
             "the same for every query; softmax-equal to slope · (j - i)",
    "mpt": "q·k · softmax_scale + slope · (j - (L - 1)) (L the call's key count: relative to the last key); softmax-equal to "
           "slope · (j - i); alibi_bias_max not read by transformers (8)",
    "falcon": "(q·k + alibi) / sqrt(head_dim), alibi = bf16(bf16(slope) · bf16(j)) (exact here: power-of-two slopes, j < 256): "
              "the slope is divided by sqrt(head_dim); softmax-equal to (slope / sqrt(head_dim)) · (j - i)",
}


def finish_alibi(out, name, cfg, d, forward, slopes, follows, note):
    """An ALiBi decoder fixture whose parameters d holds: two rows of ALIBI_T ids drawn after them, the full pass's outputs,
    cached_logits (input_ids[0] run as generate runs it through the cache: a prompt of ALIBI_PROMPT in one call, then one
    token a call, each call's bias built as transformers builds it for its keys), the greedy run from the first row's 24
    tokens (full recomputation)."""
    ids = d.ids(2, ALIBI_T, cfg["vocab_size"], low=3)
    P = d.f64()
    h, logits = forward(cfg, P, ids)
    _, cached = forward(cfg, P, ids[:1], calls=[ALIBI_PROMPT] + [1] * (ALIBI_T - ALIBI_PROMPT))
    prompt = ids[0, :24].tolist()
    g = greedy(lambda toks: forward(cfg, P, [toks])[1][0, -1], prompt)
    return save(out, name, cfg, d, {"last_hidden_state": h, "logits": logits, "cached_logits": cached},
                {"input_ids": ids, "cached_prompt": ALIBI_PROMPT, "cached_tokens": ALIBI_T}, follows,
                {"prompt": prompt, "tokens": g[0], "margins": g[1]},
                extra={"alibi_slopes": [float(x) for x in slopes], "alibi_bias": ALIBI_BIAS[cfg["model_type"]],
                       "note": note + "; cached_logits: input_ids[0] through the cache (prompt of cached_prompt, then one "
                               "token a call up to cached_tokens), equal to logits[0] (ALiBi keeps no state but the keys)"})


@fixture("bloom")
def make_bloom(out):
    """As bigscience/bloom-560m's config.json and model.safetensors have them (BloomForCausalLM; n_layer / n_head; the base
    model's tensor names, no transformer. prefix, no lm_head.weight: tied; apply_residual_connection_post_layernorm false,
    pretraining_tp 1, slow_but_exact false; the Megatron fields transformers does not read: n_inner, offset_alibi,
    skip_bias_add, …), scaled down: 6 heads of 8 (not a power of two: slopes 2^-2, 2^-4, 2^-6, 2^-8 then 2^-1, 2^-3)."""
    cfg = {"architectures": ["BloomForCausalLM"], "model_type": "bloom", "hidden_size": 48, "n_head": 6, "n_layer": 2,
           "vocab_size": 64, "layer_norm_epsilon": 1e-5, "apply_residual_connection_post_layernorm": False,
           "attention_dropout": 0.0, "hidden_dropout": 0.0, "attention_softmax_in_fp32": True, "bias_dropout_fusion": True,
           "masked_softmax_fusion": True, "n_inner": None, "offset_alibi": 100, "pretraining_tp": 1, "skip_bias_add": True,
           "skip_bias_add_qkv": False, "slow_but_exact": False, "initializer_range": 0.02, "unk_token_id": 0, "bos_token_id": 1,
           "eos_token_id": 2, "pad_token_id": 3, "use_cache": True, "torch_dtype": "float32"}
    d = Draw(1891)
    c, v = cfg["hidden_size"], cfg["vocab_size"]
    d.emb("word_embeddings.weight", v, c, TIED_STD)
    d.norm("word_embeddings_layernorm", c)
    for i in range(cfg["n_layer"]):
        p = f"h.{i}."
        d.norm(p + "input_layernorm", c)
        d.linear(p + "self_attention.query_key_value", c, 3 * c)
        d.linear(p + "self_attention.dense", c, c)
        d.norm(p + "post_attention_layernorm", c)
        d.linear(p + "mlp.dense_h_to_4h", c, 4 * c)
        d.linear(p + "mlp.dense_4h_to_h", 4 * c, c)
    d.norm("ln_f", c)
    return finish_alibi(out, "bloom", cfg, d, bloom.forward, alibi.bloom_slopes(cfg["n_head"]),
                        "models/bloom/modeling_bloom.py: BloomForCausalLM.forward (BloomModel: word_embeddings_layernorm, "
                        "build_alibi_tensor, BloomBlock, BloomAttention's per-head [q_h | k_h | v_h] query_key_value and "
                        "alibi.baddbmm(q, kᵀ, beta=1, alpha=1/sqrt(head_dim)), BloomMLP with bloom_gelu, tied lm_head)",
                        "bloom-560m's layout (the base model's names), float16 as published")


@fixture("mpt")
def make_mpt(out):
    """As mosaicml/mpt-7b's config.json has it (d_model / n_heads / n_layers, expansion_ratio 4, no_bias, attn_config with
    alibi, alibi_bias_max 8, clip_qkv and softmax_scale null, qk_ln false; learned_pos_emb true, which transformers does not
    read), scaled down: 6 heads of 8 (not a power of two: gen_slopes over 8 reordered [1::2] + [::2], the first 6),
    max_seq_len 128 (the bias is built for max_seq_len keys and sliced; longer sequences fail in transformers). The
    architectures entry is transformers' class (mpt-7b's own config.json names the remote-code MPTForCausalLM)."""
    cfg = {"architectures": ["MptForCausalLM"], "model_type": "mpt", "d_model": 48, "n_heads": 6, "n_layers": 2,
           "expansion_ratio": 4, "max_seq_len": 128, "vocab_size": 64, "layer_norm_epsilon": 1e-5, "no_bias": True,
           "learned_pos_emb": True, "logit_scale": None, "norm_type": "low_precision_layernorm", "emb_pdrop": 0.0,
           "resid_pdrop": 0.0, "embedding_fraction": 1.0, "init_device": "cpu", "verbose": 0, "use_cache": False,
           "attn_config": {"alibi": True, "alibi_bias_max": 8, "attn_impl": "torch", "attn_pdrop": 0.0,
                           "attn_type": "multihead_attention", "attn_uses_sequence_id": False, "clip_qkv": None,
                           "prefix_lm": False, "qk_ln": False, "softmax_scale": None},
           "initializer_range": 0.02, "torch_dtype": "float32"}
    d = Draw(1876)
    c, v = cfg["d_model"], cfg["vocab_size"]
    d.emb("transformer.wte.weight", v, c, TIED_STD)
    for i in range(cfg["n_layers"]):
        p = f"transformer.blocks.{i}."
        d.norm(p + "norm_1", c, bias=False)
        d.mat(p + "attn.Wqkv.weight", 3 * c, c)
        d.mat(p + "attn.out_proj.weight", c, c)
        d.norm(p + "norm_2", c, bias=False)
        d.mat(p + "ffn.up_proj.weight", 4 * c, c)
        d.mat(p + "ffn.down_proj.weight", c, 4 * c)
    d.norm("transformer.norm_f", c, bias=False)
    return finish_alibi(out, "mpt", cfg, d, mpt.forward, alibi.mpt_slopes(cfg["n_heads"]),
                        "models/mpt/modeling_mpt.py: MptForCausalLM.forward (MptModel: build_mpt_alibi_tensor over max_seq_len "
                        "with alibi_bias_max 8, bias-free LayerNorms and linears, MptAttention's [q | k | v] Wqkv chunks and "
                        "softmax_scale 1/sqrt(head_dim), the bias's last key_length columns, MptMLP with exact GELU, tied lm_head)",
                        "mpt-7b's layout, bfloat16 as published")


@fixture("falcon-rw")
def make_falcon_rw(out):
    """As tiiuae/falcon-rw-1b's config.json has it (model_type falcon, alibi true, multi_query false: per-head [q | k | v],
    parallel_attn false: input_layernorm then post_attention_layernorm, bias true, no ffn_hidden_size: 4 · hidden_size, no
    activation: gelu, apply_residual_connection_post_layernorm false, which FalconDecoderLayer does not read; tied), scaled
    down: 3 heads of 16 (not a power of two: slopes 2^-4, 2^-8 then 2^-2, each divided by sqrt(16) in the scores)."""
    cfg = {"architectures": ["FalconForCausalLM"], "model_type": "falcon", "hidden_size": 48, "num_attention_heads": 3,
           "num_hidden_layers": 2, "vocab_size": 64, "layer_norm_epsilon": 1e-5, "alibi": True, "multi_query": False,
           "parallel_attn": False, "bias": True, "new_decoder_architecture": False,
           "apply_residual_connection_post_layernorm": False, "attention_dropout": 0.0, "hidden_dropout": 0.0,
           "initializer_range": 0.02, "bos_token_id": 1, "eos_token_id": 2, "use_cache": True, "torch_dtype": "float32"}
    cfg_draw = dict(cfg, tie_word_embeddings=True)
    d = Draw(1907)
    draw_falcon(d, cfg_draw)
    return finish_alibi(out, "falcon-rw", cfg, d, falcon.forward, alibi.bloom_slopes(cfg["num_attention_heads"]),
                        "models/falcon/modeling_falcon.py: FalconForCausalLM.forward (FalconModel: build_alibi_tensor with its "
                        "bfloat16 product, alibi / sqrt(head_dim) in the attention mask, FalconAttention's SDPA path, per-head "
                        "[q | k | v] _split_heads, sequential FalconDecoderLayer, FalconMLP with gelu, tied lm_head)",
                        "falcon-rw-1b's layout, bfloat16 as published")


def draw_opt_layers(d, cfg, c, f):
    """OPTDecoderLayer's parameters of every layer, in declaration order."""
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.decoder.layers.{i}."
        for proj in ("k_proj", "v_proj", "q_proj", "out_proj"):
            d.linear(p + "self_attn." + proj, c, c)
        d.norm(p + "self_attn_layer_norm", c)
        d.linear(p + "fc1", c, f)
        d.linear(p + "fc2", f, c)
        d.norm(p + "final_layer_norm", c)


@fixture("opt")
def make_opt(out):
    """As facebook/opt-125m's config.json has it (OPTForCausalLM: do_layer_norm_before, relu, enable_bias, tied output,
    word_embed_proj_dim = hidden_size, pad 1 / bos 2 / eos 2), scaled down; embed_positions has max_position_embeddings + 2
    rows (OPTLearnedPositionalEmbedding's offset)."""
    cfg = {"architectures": ["OPTForCausalLM"], "model_type": "opt", "hidden_size": 64, "num_attention_heads": 4, "ffn_dim": 128,
           "num_hidden_layers": 2, "vocab_size": 128, "max_position_embeddings": 128, "word_embed_proj_dim": 64,
           "do_layer_norm_before": True, "activation_function": "relu", "enable_bias": True, "layer_norm_elementwise_affine": True,
           "_remove_final_layer_norm": False, "tie_word_embeddings": True, "pad_token_id": 1, "bos_token_id": 2, "eos_token_id": 2,
           "dropout": 0.1, "attention_dropout": 0.0, "layerdrop": 0.0, "init_std": 0.02, "use_cache": True, "torch_dtype": "float32"}
    d = Draw(1826)
    c, f, v = 64, 128, 128
    dd = "model.decoder."
    d.emb(dd + "embed_tokens.weight", v, c, TIED_STD)
    d.emb(dd + "embed_positions.weight", cfg["max_position_embeddings"] + opt.OFFSET, c)
    draw_opt_layers(d, cfg, c, f)
    d.norm(dd + "final_layer_norm", c)
    return finish_decoder(out, "opt", cfg, d, opt.forward,
                          "models/opt/modeling_opt.py: OPTForCausalLM.forward (OPTDecoder, OPTLearnedPositionalEmbedding's offset 2, "
                          "pre-LN OPTDecoderLayer, OPTAttention with q scaled by head_dim**-0.5, relu fc1 / fc2, tied lm_head)")


@fixture("opt-350m")
def make_opt_350m(out):
    """As facebook/opt-350m's config.json has it — the one published OPT with do_layer_norm_before false (post-LN layers,
    no final_layer_norm) and word_embed_proj_dim (512) below hidden_size (1024): embed_tokens (V, E), project_in
    (C, E) and project_out (E, C) without biases, the tied lm_head (V, E); float16 as published — scaled down."""
    cfg = {"architectures": ["OPTForCausalLM"], "model_type": "opt", "hidden_size": 32, "num_attention_heads": 4, "ffn_dim": 64,
           "num_hidden_layers": 2, "vocab_size": 64, "max_position_embeddings": 128, "word_embed_proj_dim": 16,
           "do_layer_norm_before": False, "activation_function": "relu", "enable_bias": True, "layer_norm_elementwise_affine": True,
           "_remove_final_layer_norm": False, "tie_word_embeddings": True, "pad_token_id": 1, "bos_token_id": 2, "eos_token_id": 2,
           "dropout": 0.1, "attention_dropout": 0.0, "layerdrop": 0.0, "init_std": 0.02, "use_cache": True, "torch_dtype": "float16"}
    d = Draw(1827)
    c, f, v, e = 32, 64, 64, 16
    dd = "model.decoder."
    d.emb(dd + "embed_tokens.weight", v, e, TIED_STD)
    d.emb(dd + "embed_positions.weight", cfg["max_position_embeddings"] + opt.OFFSET, c)
    d.linear(dd + "project_out", c, e, bias=False)
    d.linear(dd + "project_in", e, c, bias=False)
    draw_opt_layers(d, cfg, c, f)
    return finish_decoder(out, "opt-350m", cfg, d, opt.forward,
                          "models/opt/modeling_opt.py: OPTForCausalLM.forward (OPTDecoder with project_in / project_out, "
                          "post-LN OPTDecoderLayer (do_layer_norm_before false), no final_layer_norm, tied lm_head over "
                          "word_embed_proj_dim)")


@fixture("stablelm")
def make_stablelm(out):
    """As stabilityai/stablelm-2-1_6b's config.json has it (4.x: use_qkv_bias true, partial_rotary_factor 0.25,
    layer_norm_eps 1e-5, sequential layers, untied), scaled down."""
    cfg = llm_config("stablelm", "StableLmForCausalLM", v=128, f=64, nkv=4, use_qkv_bias=True, qk_layernorm=False, use_parallel_residual=False,
                     partial_rotary_factor=0.25, layer_norm_eps=1e-5, bos_token_id=100, eos_token_id=100, hidden_dropout=0.0)
    cfg.pop("rms_norm_eps")
    return make_llm(out, "stablelm", cfg, 1811, t=32, note="LayerNorms with bias, q/k/v bias, 4 of 16 rotary dims, MHA")


@fixture("stablelm-parallel")
def make_stablelm_parallel(out):
    """use_parallel_residual (as stablelm-2-12b; without its qk_layernorm, which this loader refuses): one norm feeds attention
    and MLP, no post_attention_layernorm; GQA 4 over 2, no q/k/v bias."""
    cfg = llm_config("stablelm", "StableLmForCausalLM", v=128, f=64, use_qkv_bias=False, qk_layernorm=False, use_parallel_residual=True,
                     partial_rotary_factor=0.5, layer_norm_eps=1e-5, bos_token_id=100, eos_token_id=100)
    cfg.pop("rms_norm_eps")
    return make_llm(out, "stablelm-parallel", cfg, 1812, t=32, note="parallel residual with one LayerNorm, 8 of 16 rotary dims, GQA")


@fixture("starcoder2")
def make_starcoder2(out):
    """As bigcode/starcoder2-3b's config.json has it (use_bias, gelu_pytorch_tanh, norm_epsilon, GQA, sliding_window on every
    layer, rope_theta near 1e6, tied embeddings), scaled down: window 9 < the 32 positions."""
    cfg = llm_config("starcoder2", "Starcoder2ForCausalLM", v=128, f=64, hidden_act="gelu_pytorch_tanh", use_bias=True, norm_epsilon=1e-5,
                     sliding_window=9, rope_theta=999999.4420358813, tie=True, bos_token_id=0, eos_token_id=0,
                     residual_dropout=0.1, embedding_dropout=0.1)
    cfg.pop("rms_norm_eps")
    return make_llm(out, "starcoder2", cfg, 1816, t=32, note="LayerNorms with bias, biases on every projection, plain GELU-tanh MLP, "
                                                      "every layer sliding (window 9), tied head")


@fixture("gpt-neox")
def make_gpt_neox(out):
    cfg = neox_config()
    return make_parallel(out, "gpt-neox", cfg, 1801, lambda d: draw_neox(d, cfg, True),
                         "Pythia's layout: parallel residual, rotary_pct 0.25 (8 of 32 dims), float16, with the legacy buffers")


@fixture("gpt-neox-sequential-v5")
def make_gpt_neox_sequential_v5(out):
    cfg = neox_config(use_parallel_residual=False, num_attention_heads=4, rotary_pct=0.5)
    cfg.pop("rotary_emb_base")
    cfg.pop("rotary_pct")
    cfg["rope_parameters"] = {"rope_type": "default", "rope_theta": 5000.0, "partial_rotary_factor": 0.5}
    cfg["dtype"] = cfg.pop("torch_dtype")
    return make_parallel(out, "gpt-neox-sequential-v5", cfg, 1802, lambda d: draw_neox(d, cfg, False),
                         "use_parallel_residual false; the 5.x layout (rope_parameters with rope_theta 5000 and "
                         "partial_rotary_factor 0.5: 8 of 16 dims; dtype)")


@fixture("gptj")
def make_gptj(out):
    """As EleutherAI/gpt-j-6b's config.json has it (rotary_dim 64 of head 256 → here 8 of 16, gelu_new, untied lm_head with a
    bias, bos = eos), scaled down, float16 with the legacy buffers."""
    cfg = {"architectures": ["GPTJForCausalLM"], "model_type": "gptj", "n_embd": 64, "n_head": 4, "n_layer": 2, "n_inner": 128,
           "n_positions": 64, "rotary_dim": 8, "vocab_size": 128, "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5,
           "tie_word_embeddings": False, "bos_token_id": 127, "eos_token_id": 127, "attn_pdrop": 0.0, "embd_pdrop": 0.0,
           "resid_pdrop": 0.0, "initializer_range": 0.02, "use_cache": True, "torch_dtype": "float32"}
    return make_parallel(out, "gptj", cfg, 1831, lambda d: draw_gptj(d, cfg),
                         "gpt-j-6b's layout: rotate_every_two over the first 8 of 16 dims, parallel block with one ln_1, float16")


def draw_codegen(d, cfg):
    """CodeGenForCausalLM's parameters in declaration order, with the buffers transformers 4.2x saved (attn.causal_mask as
    bool (1, 1, P, P), attn.masked_bias -1e9), which the published Salesforce/codegen files carry."""
    c, f, v = cfg["n_embd"], cfg["n_inner"], cfg["vocab_size"]
    d.emb("transformer.wte.weight", v, c)
    for i in range(cfg["n_layer"]):
        p = f"transformer.h.{i}."
        d.norm(p + "ln_1", c)
        mpe = cfg["n_positions"]
        d.raw(p + "attn.causal_mask", np.tril(np.ones((mpe, mpe), dtype=bool))[None, None])
        d.raw(p + "attn.masked_bias", np.asarray(-1e9, dtype=np.float32))
        d.mat(p + "attn.qkv_proj.weight", 3 * c, c)
        d.mat(p + "attn.out_proj.weight", c, c)
        d.linear(p + "mlp.fc_in", c, f)
        d.linear(p + "mlp.fc_out", f, c)
    d.norm("transformer.ln_f", c)
    d.linear("lm_head", c, v)


@fixture("codegen")
def make_codegen(out):
    """As Salesforce/codegen-350M-mono's config.json has it (n_head 16 in mp_num 4 groups, rotary_dim 32 of head 64; here
    8 heads, 2 per group, rotary_dim 4 of 8; gelu_new, untied lm_head with a bias, bos = eos), scaled down, float16 with
    the legacy buffers."""
    cfg = {"architectures": ["CodeGenForCausalLM"], "model_type": "codegen", "n_embd": 64, "n_head": 8, "n_layer": 2, "n_inner": 64,
           "n_positions": 80, "n_ctx": 80, "rotary_dim": 4, "vocab_size": 64, "activation_function": "gelu_new",
           "layer_norm_epsilon": 1e-5, "tie_word_embeddings": False, "bos_token_id": 63, "eos_token_id": 63, "attn_pdrop": 0.0,
           "embd_pdrop": 0.0, "resid_pdrop": 0.0, "initializer_range": 0.02, "use_cache": True, "torch_dtype": "float16"}
    return make_parallel(out, "codegen", cfg, 1851, lambda d: draw_codegen(d, cfg),
                         "codegen-350M-mono's layout: qkv_proj split as mp_num = 4 groups of query | value | key, "
                         "rotate_every_two over the first 4 of 8 dims, parallel block with one ln_1, float16")


@fixture("phi")
def make_phi(out):
    cfg = phi_config()
    return make_parallel(out, "phi", cfg, 1803, lambda d: draw_phi(d, cfg),
                         "phi-2's layout: partial_rotary_factor 0.4 (int(16 · 0.4) = 6 of 16 dims), GQA 4 over 2, "
                         "lm_head bias, float16")


# ---- Cohere, Cohere 2 ---------------------------------------------------------------------------------------------
# input_ids (2, COHERE_T) and a cached run over COHERE_T positions (a prompt of COHERE_PROMPT, then one token a call: 64
# steps, what a CUDA-graph capture of 64 decode steps replays), as the ALiBi folders have them; hidden 64, 4 query heads
# over 2 key/value heads of 16, intermediate 96, vocabulary 128, 2 layers, BF16. F64 outputs are most of each folder.
COHERE_T, COHERE_PROMPT = 72, 8
# Seeds from a scan of 1920..1949 (2026-12-08): the greedy runs with the most distinct tokens whose top-2 margins stay well
# above the check's bound (20 x 2e-5 x max|logits|): cohere 5 distinct, at least 44x; cohere2 9 distinct, at least 12x.
COHERE_SEED, COHERE2_SEED = 1921, 1923


def cohere_config(model_type, **extra):
    """CohereConfig / Cohere2Config fields as the published config.json files carry them (4.x layout: rope_theta, no
    rope_scaling; no tie_word_embeddings key: both classes default to True, unlike Llama), scaled down."""
    arch = {"cohere": "CohereForCausalLM", "cohere2": "Cohere2ForCausalLM"}[model_type]
    cfg = {"architectures": [arch], "model_type": model_type, "hidden_size": 64, "num_attention_heads": 4,
           "num_key_value_heads": 2, "intermediate_size": 96, "vocab_size": 128, "num_hidden_layers": 2,
           "max_position_embeddings": 128, "layer_norm_eps": 1e-5, "hidden_act": "silu", "attention_bias": False,
           "attention_dropout": 0.0, "initializer_range": 0.02, "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0,
           "use_cache": True, "torch_dtype": "float32"}
    cfg.update(extra)
    return cfg


def draw_cohere(d, cfg):
    """CohereForCausalLM's / Cohere2ForCausalLM's parameters in declaration order (CohereAttention's q, k, v, o_proj, then
    q_norm / k_norm with use_qk_norm; CohereMLP; the one input_layernorm); no lm_head.weight when tied."""
    c, f, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    nh, nkv, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], cohere.head_dim(cfg)
    bias = bool(cfg.get("attention_bias"))
    tied = cfg.get("tie_word_embeddings", True)
    d.emb("model.embed_tokens.weight", v, c, TIED_STD if tied else 1.0)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        a = p + "self_attn."
        d.linear(a + "q_proj", c, nh * hd, bias)
        d.linear(a + "k_proj", c, nkv * hd, bias)
        d.linear(a + "v_proj", c, nkv * hd, bias)
        d.linear(a + "o_proj", nh * hd, c, bias)
        if cfg["model_type"] == "cohere" and cfg.get("use_qk_norm"):
            d._put(a + "q_norm.weight", 1.0 + 0.2 * d.rng.standard_normal((nh, hd)))
            d._put(a + "k_norm.weight", 1.0 + 0.2 * d.rng.standard_normal((nkv, hd)))
        m = p + "mlp."
        d.mat(m + "gate_proj.weight", f, c)
        d.mat(m + "up_proj.weight", f, c)
        d.mat(m + "down_proj.weight", c, f)
        d.norm(p + "input_layernorm", c, bias=False)
    d.norm("model.norm", c, bias=False)
    if not tied:
        d.mat("lm_head.weight", v, c)


COHERE_FOLLOWS = {
    "cohere": "models/cohere/modeling_cohere.py: CohereForCausalLM.forward (CohereModel; CohereDecoderLayer: one input_layernorm "
              "feeding attention and MLP in parallel, x + attn + mlp; CohereLayerNorm mean-centred with a weight and no bias; "
              "CohereRotaryEmbedding's repeat_interleave cos/sin and Cohere's rotate_half on the pairs (2i, 2i + 1); "
              "CohereAttention without biases, GQA; CohereMLP down(silu(gate) * up); tied lm_head; logits * logit_scale)",
    "cohere2": "models/cohere2/modular_cohere2.py: Cohere2ForCausalLM.forward (Cohere's layer, norm, MLP, rotary and logit_scale; "
               "layer_types from sliding_window_pattern: (i + 1) % pattern slides; Cohere2Attention rotates q and k on sliding "
               "layers only (full layers NoPE), sliding layers see sliding_window keys, the query included)",
}


def finish_cohere(out, name, cfg, d, note):
    """A Cohere / Cohere 2 fixture whose parameters d holds: two rows of COHERE_T ids drawn after them, the full pass's
    outputs, cached_logits (input_ids[0] through the cache: a prompt of COHERE_PROMPT in one call, then one token a call),
    the greedy run from the first row's 24 tokens (full recomputation)."""
    ids = d.ids(2, COHERE_T, cfg["vocab_size"], low=3)
    P = d.f64()
    h, logits = cohere.forward(cfg, P, ids)
    _, cached = cohere.forward(cfg, P, ids[:1], calls=[COHERE_PROMPT] + [1] * (COHERE_T - COHERE_PROMPT))
    prompt = ids[0, :24].tolist()
    g = greedy(lambda toks: cohere.forward(cfg, P, [toks])[1][0, -1], prompt)
    return save(out, name, cfg, d, {"last_hidden_state": h, "logits": logits, "cached_logits": cached},
                {"input_ids": ids, "cached_prompt": COHERE_PROMPT, "cached_tokens": COHERE_T},
                COHERE_FOLLOWS[cfg["model_type"]] + "; modeling_rope_utils.py",
                {"prompt": prompt, "tokens": g[0], "margins": g[1]},
                extra={"layer_types": cohere.layer_types(cfg), "rotary_layers": cohere.rotary_layers(cfg),
                       "note": note + "; cached_logits: input_ids[0] through the cache (prompt of cached_prompt, then one "
                               "token a call up to cached_tokens), equal to logits[0]"})


@fixture("cohere")
def make_cohere(out):
    """As CohereForAI/aya-expanse-8b's config.json has it (CohereForCausalLM: GQA, logit_scale 0.125, rope_theta 10000,
    use_qk_norm false, no attention biases, tied), scaled down."""
    cfg = cohere_config("cohere", logit_scale=0.125, rope_theta=10000.0, use_qk_norm=False)
    d = Draw(COHERE_SEED)
    draw_cohere(d, cfg)
    return finish_cohere(out, "cohere", cfg, d, "aya-expanse-8b's layout: GQA 4 over 2, logit_scale 0.125, tied, interleaved "
                                                "rotary over all 16 dims of each head")


@fixture("cohere2")
def make_cohere2(out):
    """As CohereForAI/c4ai-command-r7b-12-2024's config.json has it (Cohere2ForCausalLM, 4.x layout: sliding_window,
    sliding_window_pattern, rope_theta 50000, logit_scale 0.25, GQA, tied), scaled down: sliding_window_pattern 2 (published
    4) so that 2 layers hold a sliding layer (0, rotary) and a full one (1, NoPE); sliding_window 8 (published 4096) below
    the 72 positions."""
    cfg = cohere_config("cohere2", logit_scale=0.25, rope_theta=50000.0, sliding_window=8, sliding_window_pattern=2,
                        cache_implementation="hybrid")
    d = Draw(COHERE2_SEED)
    draw_cohere(d, cfg)
    return finish_cohere(out, "cohere2", cfg, d, "command-r7b's layout: layer 0 sliding (window 8) with the interleaved rotary, "
                                                 "layer 1 full attention without rotary (NoPE), GQA 4 over 2, logit_scale 0.25")


# ---- GLM, GLM-4 ----------------------------------------------------------------------------------------

# Hidden 64 in 4 query heads over 2 key/value heads of head_dim 16 (given: GlmConfig's default is 128), rotary over the first
# 8 dims of each head (partial_rotary_factor 0.5), intermediate 64, vocabulary 64, 2 layers, BF16, (2, GLM_T) positions,
# untied head (GlmConfig's default); about 0.16 MB each. Pad 0 and eos [1, 2] stand for 151329 and [151329, 151336, 151338]
# (below the vocabulary of 64).
GLM_T, GLM_PROMPT = 40, 8
GLM_SEED, GLM4_SEED = 1961, 1962


def glm_config(model_type, **extra):
    """GlmConfig / Glm4Config fields as THUDM/glm-4-9b-chat-hf's and GLM-4-9B-0414's config.json carry them, scaled down."""
    arch = {"glm": "GlmForCausalLM", "glm4": "Glm4ForCausalLM"}[model_type]
    cfg = {"architectures": [arch], "model_type": model_type, "hidden_size": 64, "num_attention_heads": 4,
           "num_key_value_heads": 2, "head_dim": 16, "intermediate_size": 64, "vocab_size": 64, "num_hidden_layers": 2,
           "max_position_embeddings": 128, "hidden_act": "silu", "attention_bias": True, "attention_dropout": 0.0,
           "initializer_range": 0.02, "pad_token_id": 0, "eos_token_id": [1, 2], "tie_word_embeddings": False,
           "use_cache": True, "torch_dtype": "float32"}
    cfg.update(extra)
    return cfg


def draw_glm(d, cfg):
    """GlmForCausalLM's / Glm4ForCausalLM's parameters in declaration order (GlmAttention's q, k, v (biased by
    attention_bias), o_proj (never biased); GlmMLP's gate_up_proj and down_proj; the layer's norms: input_layernorm,
    post_attention_layernorm, and GLM-4's post_self_attn_layernorm, post_mlp_layernorm); lm_head.weight when untied."""
    c, f, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    nh, nkv, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], glm.head_dim(cfg)
    bias = cfg.get("attention_bias", True)
    tied = cfg.get("tie_word_embeddings", False)
    d.emb("model.embed_tokens.weight", v, c, TIED_STD if tied else 1.0)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        a = p + "self_attn."
        d.linear(a + "q_proj", c, nh * hd, bias)
        d.linear(a + "k_proj", c, nkv * hd, bias)
        d.linear(a + "v_proj", c, nkv * hd, bias)
        d.linear(a + "o_proj", nh * hd, c, False)
        d.mat(p + "mlp.gate_up_proj.weight", 2 * f, c)
        d.mat(p + "mlp.down_proj.weight", c, f)
        d.norm(p + "input_layernorm", c, bias=False)
        d.norm(p + "post_attention_layernorm", c, bias=False)
        if cfg["model_type"] == "glm4":
            d.norm(p + "post_self_attn_layernorm", c, bias=False)
            d.norm(p + "post_mlp_layernorm", c, bias=False)
    d.norm("model.norm", c, bias=False)
    if not tied:
        d.mat("lm_head.weight", v, c)


GLM_FOLLOWS = {
    "glm": "models/glm/modular_glm.py (modeling_glm.py): GlmForCausalLM.forward (Llama's pre-norm layers with GlmRMSNorm; "
           "GlmAttention: q/k/v biased by attention_bias, o_proj unbiased, head_dim from the config; GlmRotaryEmbedding over "
           "int(head_dim * partial_rotary_factor) dims, apply_rotary_pos_emb with cos/sin repeat_interleave'd and the "
           "interleaved rotate_half (pairs 2i, 2i + 1) on the first rotary dims; GlmMLP: gate_up_proj chunked [gate | up], "
           "down(up * silu(gate)); untied lm_head); configuration_glm.py",
    "glm4": "models/glm4/modular_glm4.py (modeling_glm4.py): Glm4ForCausalLM.forward (GLM's attention, rotary and MLP; "
            "Glm4DecoderLayer: h + post_self_attn_layernorm(attn(input_layernorm(h))), then h + "
            "post_mlp_layernorm(mlp(post_attention_layernorm(h)))); configuration_glm4.py",
}


def finish_glm(out, name, cfg, d, note):
    """A GLM / GLM-4 fixture whose parameters d holds: two rows of GLM_T ids, the full pass's outputs, the greedy run from
    the first row's 24 tokens (full recomputation); the reference's cached run (a prompt of GLM_PROMPT, then one token a
    call) must equal the full pass (asserted, not stored: DecoderCacheTest checks the Java cache against recomputation)."""
    ids = d.ids(2, GLM_T, cfg["vocab_size"], low=3)
    P = d.f64()
    h, logits = glm.forward(cfg, P, ids)
    _, cached = glm.forward(cfg, P, ids[:1], calls=[GLM_PROMPT] + [1] * (GLM_T - GLM_PROMPT))
    assert np.abs(cached - logits[:1]).max() <= 1e-9 * np.abs(logits).max(), f"{name}: cached run differs from the full pass"
    _, halves = glm.forward(cfg, P, ids, rotation="halves")
    assert np.abs(halves - logits).max() > 1e-2 * np.abs(logits).max(), f"{name}: the interleaved rotary must matter"
    if cfg["model_type"] == "glm4":
        _, plain = glm.forward(cfg, P, ids, sandwich=False)
        assert np.abs(plain - logits).max() > 1e-2 * np.abs(logits).max(), f"{name}: the post norms must matter"
    prompt = ids[0, :24].tolist()
    g = greedy(lambda toks: glm.forward(cfg, P, [toks])[1][0, -1], prompt)
    return save(out, name, cfg, d, {"last_hidden_state": h, "logits": logits}, {"input_ids": ids},
                GLM_FOLLOWS[cfg["model_type"]] + "; modeling_rope_utils.py",
                {"prompt": prompt, "tokens": g[0], "margins": g[1]},
                extra={"rotary_dim": glm.rotary_dim(cfg), "head_dim": glm.head_dim(cfg), "note": note})


@fixture("glm")
def make_glm(out):
    """As THUDM/glm-4-9b-chat-hf's config.json has it (GlmForCausalLM, 4.x layout: rope_theta 10000, attention_bias true,
    GQA, untied), scaled down, without partial_rotary_factor and rms_norm_eps: GlmConfig's defaults (0.5, 1.5625e-07) apply."""
    cfg = glm_config("glm", rope_theta=10000.0)
    d = Draw(GLM_SEED)
    draw_glm(d, cfg)
    return finish_glm(out, "glm", cfg, d, "glm-4-9b-chat-hf's layout: GQA 4 over 2, q/k/v biases, untied head; no "
                                          "partial_rotary_factor or rms_norm_eps key: GlmConfig's 0.5 and 1.5625e-07")


@fixture("glm4")
def make_glm4(out):
    """As THUDM/GLM-4-9B-0414's config.json has it (Glm4ForCausalLM: partial_rotary_factor 0.5, rms_norm_eps 1e-5,
    attention_bias true, GQA, untied), scaled down and in transformers 5.x's layout (rope_parameters holding rope_theta,
    rope_type and partial_rotary_factor; dtype)."""
    cfg = glm_config("glm4", rms_norm_eps=1e-5,
                     rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": 0.5})
    cfg["dtype"] = cfg.pop("torch_dtype")
    d = Draw(GLM4_SEED)
    draw_glm(d, cfg)
    return finish_glm(out, "glm4", cfg, d, "GLM-4-9B-0414's layout in 5.x's config: post_self_attn_layernorm and "
                                           "post_mlp_layernorm on the sublayers' outputs, GQA 4 over 2, q/k/v biases, untied head")


# ---- NVIDIA Nemotron -------------------------------------------------------------------------------------

# nvidia/Nemotron-Mini-4B-Instruct's config.json layout (4.x: rope_theta, rope_scaling null, torch_dtype bfloat16; norm_eps,
# partial_rotary_factor 0.5, hidden_act relu2, attention_bias and mlp_bias false as the Minitron / Nemotron-Mini folders
# have them, untied head, bos 2 / eos 3) scaled down: hidden 32, 4 heads of head_dim 16 (given, not hidden / heads = 8)
# over 2 key/value heads, rotary over the first 8 dims of each head, intermediate 96, vocabulary 64, 2 layers, BF16,
# (2, NEMOTRON_T) positions. LayerNorm1P weights w ~ N(0, 0.2²) (applied as 1 + w) and biases N(0, 0.2²).
NEMOTRON_T, NEMOTRON_PROMPT, NEMOTRON_SEED = 40, 8, 2024

NEMOTRON_FOLLOWS = ("models/nemotron/modeling_nemotron.py: NemotronForCausalLM.forward (NemotronModel; NemotronDecoderLayer: "
                    "pre-norm, input_layernorm and post_attention_layernorm; NemotronLayerNorm1P: F.layer_norm with weight + 1 "
                    "and the bias; NemotronAttention: q/k/v/o biased by attention_bias, head_dim from the config, scaling "
                    "head_dim**-0.5; NemotronRotaryEmbedding over int(head_dim * partial_rotary_factor) dims, "
                    "apply_rotary_pos_emb: Llama's rotate_half on the first rot_dim dims, the rest passed; NemotronMLP: "
                    "down_proj(relu2(up_proj(x))), not gated, biased by mlp_bias; ACT2FN['relu2'] = square(relu(x)); untied "
                    "lm_head); configuration_nemotron.py; modeling_rope_utils.py")


def draw_plain_mlp(d, cfg, hd, **norm):
    """The parameters of Llama's layers with a plain up_proj / down_proj MLP (Nemotron's, Arcee's) in declaration order: embed_tokens;
    per layer q/k/v/o_proj (no biases), up_proj, down_proj, the two norms (d.norm's keywords: norm); norm; lm_head."""
    c, f, v, nh, nkv = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    d.emb("model.embed_tokens.weight", v, c)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        a = p + "self_attn."
        d.linear(a + "q_proj", c, nh * hd, False)
        d.linear(a + "k_proj", c, nkv * hd, False)
        d.linear(a + "v_proj", c, nkv * hd, False)
        d.linear(a + "o_proj", nh * hd, c, False)
        d.linear(p + "mlp.up_proj", c, f, False)
        d.linear(p + "mlp.down_proj", f, c, False)
        d.norm(p + "input_layernorm", c, **norm)
        d.norm(p + "post_attention_layernorm", c, **norm)
    d.norm("model.norm", c, **norm)
    d.mat("lm_head.weight", v, c)


def plain_mlp_run(name, forward, cfg, P, ids, prompt_len, wrongs):
    """forward's outputs over ids, checked: the first row run as a cache runs it (a prompt_len call, then one token per call)
    equals the full pass, and each of wrongs ((what, forward's keywords)) moves the logits by more than 1e-2 of their
    maximum; then the greedy run from ids[0, :24]. Returns (h, logits, prompt, greedy)."""
    t = ids.shape[1]
    h, logits = forward(cfg, P, ids)
    _, cached = forward(cfg, P, ids[:1], calls=[prompt_len] + [1] * (t - prompt_len))
    assert np.abs(cached - logits[:1]).max() <= 1e-9 * np.abs(logits).max(), f"{name}: cached run differs from the full pass"
    for what, kw in wrongs:
        _, wrong = forward(cfg, P, ids, **kw)
        assert np.abs(wrong - logits).max() > 1e-2 * np.abs(logits).max(), f"{name}: {what} must matter"
    prompt = ids[0, :24].tolist()
    return h, logits, prompt, greedy(lambda toks: forward(cfg, P, [toks])[1][0, -1], prompt)


@fixture("nemotron")
def make_nemotron(out):
    """NemotronForCausalLM as Nemotron-Mini-4B-Instruct's / Minitron's config.json carry it, scaled down (see above)."""
    cfg = {"architectures": ["NemotronForCausalLM"], "model_type": "nemotron", "attention_bias": False,
           "attention_dropout": 0.0, "bos_token_id": 2, "eos_token_id": 3, "head_dim": 16, "hidden_act": "relu2",
           "hidden_size": 32, "initializer_range": 0.0134, "intermediate_size": 96, "max_position_embeddings": 128,
           "mlp_bias": False, "norm_eps": 1e-5, "num_attention_heads": 4, "num_hidden_layers": 2, "num_key_value_heads": 2,
           "partial_rotary_factor": 0.5, "rope_scaling": None, "rope_theta": 10000.0, "tie_word_embeddings": False,
           "use_cache": True, "vocab_size": 64, "torch_dtype": "float32"}
    d = Draw(NEMOTRON_SEED)
    draw_plain_mlp(d, cfg, nemotron.head_dim(cfg), one_plus=True)
    ids = d.ids(2, NEMOTRON_T, cfg["vocab_size"], low=4)
    h, logits, prompt, g = plain_mlp_run("nemotron", nemotron.forward, cfg, d.f64(), ids, NEMOTRON_PROMPT,
                                         (("the + 1 of LayerNorm1P", {"one_plus": False}), ("relu² (not ReLU)", {"activation": "relu"}),
                                          ("the partial rotary", {"rotary": "whole"})))
    return save(out, "nemotron", cfg, d, {"last_hidden_state": h, "logits": logits}, {"input_ids": ids}, NEMOTRON_FOLLOWS,
                {"prompt": prompt, "tokens": g[0], "margins": g[1]},
                extra={"rotary_dim": nemotron.rotary_dim(cfg), "head_dim": nemotron.head_dim(cfg),
                       "note": "Nemotron-Mini-4B-Instruct's layout: LayerNorm1P (1 + w, with bias), relu² MLP (up, down; no "
                               "gate), partial NeoX rotary 0.5, head_dim 16 given, GQA 4 over 2, no projection biases, "
                               "untied head"})


# ---- EXAONE 4.0 ---------------------------------------------------------------------------------------

# LGAI-EXAONE/EXAONE-4.0-32B's config.json scaled down: sliding_window 4096 → 6 of 40 positions, layer_types with its
# "LLLG" sliding_window_pattern beside it, llama3 rope scaling (factor 16, low 1, high 4) over 8192 → 64 original positions
# (so that with head_dim 16 at theta 1e6 pair 0 keeps its frequency, pair 1 is smoothed and pairs 2..7 are divided by 16),
# head_dim 16 given (not hidden / heads = 8), GQA 4 over 2, untied head; bos 1, pad 0 as published, eos 2 for 361.
EXAONE4_T, EXAONE4_PROMPT, EXAONE4_SEED = 40, 8, 1971
EXAONE4_LLAMA3 = {"rope_type": "llama3", "factor": 16.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                  "original_max_position_embeddings": 64}


def exaone4_config(**extra):
    cfg = {"architectures": ["Exaone4ForCausalLM"], "model_type": "exaone4", "hidden_size": 32, "num_attention_heads": 4,
           "num_key_value_heads": 2, "head_dim": 16, "intermediate_size": 64, "vocab_size": 64, "num_hidden_layers": 4,
           "max_position_embeddings": 128, "hidden_act": "silu", "rms_norm_eps": 1e-5, "attention_dropout": 0.0,
           "initializer_range": 0.02, "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0, "tie_word_embeddings": False,
           "rope_theta": 1000000.0, "rope_scaling": dict(EXAONE4_LLAMA3), "sliding_window": 6, "sliding_window_pattern": "LLLG",
           "layer_types": ["sliding_attention"] * 3 + ["full_attention"], "use_cache": True, "torch_dtype": "float32"}
    cfg.update(extra)
    return cfg


def draw_exaone4(d, cfg):
    """Exaone4ForCausalLM's parameters in declaration order: embed_tokens; per layer Exaone4Attention's q, k, v, o_proj (no
    biases), q_norm and k_norm (head_dim wide), Exaone4MLP's gate, up, down_proj, post_attention_layernorm,
    post_feedforward_layernorm (no input_layernorm); the final norm; lm_head.weight when untied."""
    c, f, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    nh, nkv, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], exaone4.head_dim(cfg)
    tied = cfg.get("tie_word_embeddings", False)
    d.emb("model.embed_tokens.weight", v, c, TIED_STD if tied else 1.0)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        a = p + "self_attn."
        d.linear(a + "q_proj", c, nh * hd, False)
        d.linear(a + "k_proj", c, nkv * hd, False)
        d.linear(a + "v_proj", c, nkv * hd, False)
        d.linear(a + "o_proj", nh * hd, c, False)
        d.norm(a + "q_norm", hd, bias=False)
        d.norm(a + "k_norm", hd, bias=False)
        d.mat(p + "mlp.gate_proj.weight", f, c)
        d.mat(p + "mlp.up_proj.weight", f, c)
        d.mat(p + "mlp.down_proj.weight", c, f)
        d.norm(p + "post_attention_layernorm", c, bias=False)
        d.norm(p + "post_feedforward_layernorm", c, bias=False)
    d.norm("model.norm", c, bias=False)
    if not tied:
        d.mat("lm_head.weight", v, c)


EXAONE4_FOLLOWS = ("models/exaone4/modular_exaone4.py (modeling_exaone4.py, configuration_exaone4.py): Exaone4ForCausalLM.forward "
                   "(Olmo2DecoderLayer: no input norm, post_attention_layernorm and post_feedforward_layernorm on the sublayer "
                   "outputs before their residual adds; Exaone4Attention: per-head q_norm / k_norm after the projections, RoPE "
                   "only on sliding layers when sliding_window is set (global NoPE), every layer when it is null, sliding layers "
                   "over sliding_window keys; Gemma2RotaryEmbedding with the config's rope kind); modeling_rope_utils.py")


@fixture("exaone4")
def make_exaone4(out):
    cfg = exaone4_config()
    d = Draw(EXAONE4_SEED)
    draw_exaone4(d, cfg)
    ids = d.ids(2, EXAONE4_T, cfg["vocab_size"], low=3)
    P = d.f64()
    h, logits = exaone4.forward(cfg, P, ids)
    big = np.abs(logits).max()
    _, cached = exaone4.forward(cfg, P, ids[:1], calls=[EXAONE4_PROMPT] + [1] * (EXAONE4_T - EXAONE4_PROMPT))
    assert np.abs(cached - logits[:1]).max() <= 1e-9 * big, "exaone4: cached run differs from the full pass"
    for kw, what in (({"rope_on_full": True}, "NoPE on the full layer"), ({"input_norms": True}, "the post-sublayer norms"),
                     ({"sliding": 40}, "the window")):
        _, wrong = exaone4.forward(cfg, P, ids, **kw)
        assert np.abs(wrong - logits).max() > 1e-2 * big, f"exaone4: {what} must matter"
    prompt = ids[0, :24].tolist()
    g = greedy(lambda toks: exaone4.forward(cfg, P, [toks])[1][0, -1], prompt)
    return save(out, "exaone4", cfg, d, {"last_hidden_state": h, "logits": logits}, {"input_ids": ids}, EXAONE4_FOLLOWS,
                {"prompt": prompt, "tokens": g[0], "margins": g[1]},
                extra={"head_dim": 16, "note": "EXAONE-4.0-32B's layout: layer_types LLLG (sliding_window_pattern \"LLLG\" beside "
                                               "it), window 6 of 40 positions, layer 3 full without RoPE, llama3 scaling over 64 "
                                               "original positions, head_dim 16 given, GQA 4 over 2, untied head"})


# ---- ERNIE 4.5 (dense) --------------------------------------------------------------------------------

# baidu/ERNIE-4.5-0.3B-PT's config.json scaled down (4.x layout: rope_theta 500000 at the top level, head_dim given, tied
# embeddings), with use_bias true (the published models have false) so that all seven projections' biases are exercised:
# hidden 32, 4 heads over 2 of head_dim 16 (not hidden / heads = 8), intermediate 64, vocabulary 64, 2 layers, BF16.
ERNIE45_T, ERNIE45_PROMPT, ERNIE45_SEED = 40, 8, 1981


@fixture("ernie4_5")
def make_ernie4_5(out):
    cfg = {"architectures": ["Ernie4_5ForCausalLM"], "model_type": "ernie4_5", "hidden_size": 32, "num_attention_heads": 4,
           "num_key_value_heads": 2, "head_dim": 16, "intermediate_size": 64, "vocab_size": 64, "num_hidden_layers": 2,
           "max_position_embeddings": 128, "hidden_act": "silu", "rms_norm_eps": 1e-05, "rope_theta": 500000.0,
           "use_bias": True, "tie_word_embeddings": True, "pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2,
           "use_cache": True, "torch_dtype": "float32"}
    d = Draw(ERNIE45_SEED)
    c, f, v, nh, nkv, hd = 32, 64, 64, 4, 2, 16
    d.emb("model.embed_tokens.weight", v, c, TIED_STD)
    for i in range(cfg["num_hidden_layers"]):     # Ernie4_5DecoderLayer's declaration order
        a, m = f"model.layers.{i}.self_attn.", f"model.layers.{i}.mlp."
        d.linear(a + "q_proj", c, nh * hd)
        d.linear(a + "k_proj", c, nkv * hd)
        d.linear(a + "v_proj", c, nkv * hd)
        d.linear(a + "o_proj", nh * hd, c)
        d.linear(m + "gate_proj", c, f)
        d.linear(m + "up_proj", c, f)
        d.linear(m + "down_proj", f, c)
        d.norm(f"model.layers.{i}.input_layernorm", c, bias=False)
        d.norm(f"model.layers.{i}.post_attention_layernorm", c, bias=False)
    d.norm("model.norm", c, bias=False)
    ids = d.ids(2, ERNIE45_T, v, low=3)
    P = d.f64()
    h, logits = ernie4_5.forward(cfg, P, ids)
    big = np.abs(logits).max()
    _, cached = ernie4_5.forward(cfg, P, ids[:1], calls=[ERNIE45_PROMPT] + [1] * (ERNIE45_T - ERNIE45_PROMPT))
    assert np.abs(cached - logits[:1]).max() <= 1e-9 * big, "ernie4_5: cached run differs from the full pass"
    _, halves = ernie4_5.forward(cfg, P, ids, rotation="halves")
    assert np.abs(halves - logits).max() > 1e-2 * big, "ernie4_5: the interleaved rotary must matter"
    nob = {k: w for k, w in P.items() if not k.endswith(".bias")}
    assert np.abs(ernie4_5.forward(cfg, nob, ids)[1] - logits).max() > 1e-2 * big, "ernie4_5: the biases must matter"
    prompt = ids[0, :24].tolist()
    g = greedy(lambda toks: ernie4_5.forward(cfg, P, [toks])[1][0, -1], prompt)
    return save(out, "ernie4_5", cfg, d, {"last_hidden_state": h, "logits": logits}, {"input_ids": ids},
                "models/ernie4_5/modular_ernie4_5.py (modeling_ernie4_5.py): Ernie4_5ForCausalLM.forward (Llama's pre-norm "
                "layers; q/k/v/o_proj and gate/up/down_proj biased by use_bias; GLM's interleaved rotate_half over the whole "
                "head with cos/sin repeat_interleave'd; tied lm_head); configuration_ernie4_5.py; modeling_rope_utils.py",
                {"prompt": prompt, "tokens": g[0], "margins": g[1]},
                extra={"head_dim": hd, "note": "ERNIE-4.5-0.3B-PT's layout (tied, GQA 4 over 2, head_dim given, rope_theta "
                                               "500000) with use_bias true: biases on all seven projections"})


# ---- what the router-recording MoE fixtures share (deepseek-v2-lite, deepseek-v2, deepseek-v3, glm4-moe, ernie4_5-moe) ----

def moe_drawn(seed, draw, cfg, t):
    """Draw(seed) after draw(d, cfg), and the input_ids (2, t) drawn next from it (tokens from 3 on)."""
    d = Draw(seed)
    draw(d, cfg)
    return d, d.ids(2, t, cfg["vocab_size"], low=3)


def min_gap(routing):
    """The smallest k-th − (k+1)-th choosing-score gap over every token and sparse layer of a list of route() dicts."""
    return min(float(r["gap"].min()) for r in routing)


def moe_run(forward, cfg, P, ids, summarize):
    """forward(cfg, P, ids, routing=[...])'s outputs, the routing over input_ids, the prompt (input_ids[0, :24]), its greedy
    run by full recomputation, and summarize(routing) of each step's recomputation, in step order."""
    routing = []
    h, logits = forward(cfg, P, ids, routing=routing)
    prompt = ids[0, :24].tolist()
    steps = []

    def step(toks):
        r = []
        lg = forward(cfg, P, [toks], routing=r)[1][0, -1]
        steps.append(summarize(r))
        return lg
    g = greedy(step, prompt)
    return h, logits, routing, prompt, g, steps


def seed_scan(cfg, seeds, draw, passes, t=32):
    """The seeds whose model (moe_drawn) passes: passes(cfg, P, ids) -> (the family's routing check, the greedy run), with
    greedy margins all >= 0.01 (how the MoE fixtures' seeds were chosen), the weights rounded to bfloat16 as the folders
    store them."""
    global STORE
    good, STORE = [], "BF16"
    for seed in seeds:
        d, ids = moe_drawn(seed, draw, cfg, t)
        ok, g = passes(cfg, d.f64(), ids)
        if ok and min(g[1]) >= 0.01:
            good.append(seed)
    STORE = "F32"
    return good


def moe_routing_record(sparse, top_k, routing, ids, gaps, note, first=(), then=()):
    """reference.json's routing record, its keys in this order: sparse_layers, top_k, min_routing_gap (gaps: over input_ids,
    over the greedy run), the family's first items, last_position_experts / last_position_weights (per sparse layer, the
    top-k expert ids and their weights at each row's last input position), the family's then items, the note."""
    b, t = ids.shape
    layers = [i for i, sp in enumerate(sparse) if sp]
    rec = {"sparse_layers": sparse, "top_k": top_k, "min_routing_gap": {"input_ids": gaps[0], "greedy": gaps[1]}}
    rec.update(first)
    rec["last_position_experts"] = {str(i): r["ids"].reshape(b, t, -1)[:, -1].tolist() for i, r in zip(layers, routing)}
    rec["last_position_weights"] = {str(i): r["weights"].reshape(b, t, -1)[:, -1].tolist() for i, r in zip(layers, routing)}
    rec.update(then)
    rec["note"] = note
    return rec


def recomputed(prompt, g):
    """The greedy record of a run by full recomputation."""
    return {"prompt": prompt, "tokens": g[0], "margins": g[1], "note": "each step recomputes the whole sequence"}


# ---- DeepSeek-V2 / DeepSeek-V3 (MLA + DeepSeek MoE) ----------------------------------------------------------

def deepseek_config(model_type, **extra):
    """The config.json fields deepseek-ai/DeepSeek-V2-Lite, DeepSeek-V2 and DeepSeek-V3 publish (4.x layout: rope_theta +
    rope_scaling, torch_dtype; ints where they write ints), scaled down; no auto_map (the remote code), quantization_config
    or num_nextn_predict_layers (V3's multi-token-prediction layer, which transformers does not load)."""
    v3 = model_type == "deepseek_v3"
    cfg = {"architectures": ["DeepseekV3ForCausalLM" if v3 else "DeepseekV2ForCausalLM"], "model_type": model_type,
           "attention_bias": False, "attention_dropout": 0.0, "aux_loss_alpha": 0.001, "bos_token_id": 0, "eos_token_id": 1,
           "first_k_dense_replace": 1, "hidden_act": "silu", "hidden_size": 32, "initializer_range": 0.02,
           "intermediate_size": 48, "kv_lora_rank": 16, "max_position_embeddings": 163840, "moe_intermediate_size": 16,
           "moe_layer_freq": 1, "n_routed_experts": 8, "num_attention_heads": 4, "num_hidden_layers": 3,
           "num_key_value_heads": 4, "pretraining_tp": 1, "qk_nope_head_dim": 16, "qk_rope_head_dim": 8,
           "rms_norm_eps": 1e-06, "rope_theta": 10000, "seq_aux": True, "tie_word_embeddings": False,
           "torch_dtype": "float32", "use_cache": True, "v_head_dim": 16, "vocab_size": 64}
    if v3:
        cfg["ep_size"] = 1
    cfg.update(extra)
    return dict(sorted(cfg.items()))


def draw_deepseek(d, cfg):
    """DeepseekV{2,3}ForCausalLM's parameters in declaration order (embed_tokens; per layer self_attn, mlp, the two norms;
    norm; lm_head), the MoE in the 4.x per-expert layout: experts.{e}.gate_proj / up_proj / down_proj, gate.weight (and V3's
    gate.e_score_correction_bias N(0, 0.1²), kept float32 as the published files keep it), shared_experts.*."""
    c, v, nh = cfg["hidden_size"], cfg["vocab_size"], cfg["num_attention_heads"]
    dn, dr, dv, kvr, qr = cfg["qk_nope_head_dim"], cfg["qk_rope_head_dim"], cfg["v_head_dim"], cfg["kv_lora_rank"], cfg["q_lora_rank"]
    ab = bool(cfg["attention_bias"])
    d.emb("model.embed_tokens.weight", v, c)
    for i, sp in enumerate(deepseek.sparse_layers(cfg)):
        p = f"model.layers.{i}."
        a, m = p + "self_attn.", p + "mlp."
        if qr is None:
            d.mat(a + "q_proj.weight", nh * (dn + dr), c)
        else:
            d.linear(a + "q_a_proj", c, qr, ab)
            d.norm(a + "q_a_layernorm", qr, bias=False)
            d.mat(a + "q_b_proj.weight", nh * (dn + dr), qr)
        d.linear(a + "kv_a_proj_with_mqa", c, kvr + dr, ab)
        d.norm(a + "kv_a_layernorm", kvr, bias=False)
        d.mat(a + "kv_b_proj.weight", nh * (dn + dv), kvr)
        d.linear(a + "o_proj", nh * dv, c, ab)
        draw_deepseek_mlp(d, m, cfg, sp, cfg["model_type"] == "deepseek_v3")
        d.norm(p + "input_layernorm", c, bias=False)
        d.norm(p + "post_attention_layernorm", c, bias=False)
    d.norm("model.norm", c, bias=False)
    if not cfg["tie_word_embeddings"]:
        d.mat("lm_head.weight", v, c)


def draw_deepseek_mlp(d, m, cfg, sparse, bias):
    """One layer's mlp under m in declaration order: DeepseekV{2,3}MoE's (Glm4MoeMoE's the same) when sparse:
    experts.{e}.gate_proj / up_proj / down_proj, gate.weight, with bias gate.e_score_correction_bias N(0, 0.1²) kept float32,
    shared_experts.* of moe_intermediate_size x n_shared_experts; else the dense MLP of intermediate_size."""
    c, n, fm, f = cfg["hidden_size"], cfg["n_routed_experts"], cfg["moe_intermediate_size"], cfg["intermediate_size"]
    if sparse:
        for e in range(n):
            d.mat(f"{m}experts.{e}.gate_proj.weight", fm, c)
            d.mat(f"{m}experts.{e}.up_proj.weight", fm, c)
            d.mat(f"{m}experts.{e}.down_proj.weight", c, fm)
        d.mat(m + "gate.weight", n, c)
        if bias:
            d.raw(m + "gate.e_score_correction_bias", (0.1 * d.rng.standard_normal(n)).astype(np.float32))
        fs = fm * cfg["n_shared_experts"]
        d.mat(m + "shared_experts.gate_proj.weight", fs, c)
        d.mat(m + "shared_experts.up_proj.weight", fs, c)
        d.mat(m + "shared_experts.down_proj.weight", c, fs)
    else:
        d.mat(m + "gate_proj.weight", f, c)
        d.mat(m + "up_proj.weight", f, c)
        d.mat(m + "down_proj.weight", c, f)


DEEPSEEK_FOLLOWS = {
    "deepseek_v2": "models/deepseek_v2/modeling_deepseek_v2.py (modular_deepseek_v2.py, configuration_deepseek_v2.py): "
                   "DeepseekV2ForCausalLM.forward (DeepseekV2DecoderLayer: DeepseekV2Moe from first_k_dense_replace on, else "
                   "DeepseekV2MLP; DeepseekV2Attention (MLA: q_proj or q_a_proj / q_a_layernorm / q_b_proj, kv_a_proj_with_mqa "
                   "[c | k_pe], kv_a_layernorm, kv_b_proj [k_nope | v] per head, apply_rotary_emb on complex pairs (2i, 2i+1) "
                   "with freqs_cis over qk_rope_head_dim, k_pe shared by the heads; scaling qk_head_dim**-0.5 x mscale^2 as "
                   "fixed by transformers PR #47435); DeepseekV2Moe.route_tokens_to_experts (softmax, greedy or "
                   "group_limited_greedy, x routed_scaling_factor, no renormalization) + shared_experts)",
    "deepseek_v3": "models/deepseek_v3/modeling_deepseek_v3.py (modular_deepseek_v3.py, configuration_deepseek_v3.py): "
                   "DeepseekV3ForCausalLM.forward (DeepseekV3DecoderLayer: DeepseekV3MoE from first_k_dense_replace on; "
                   "DeepseekV3Attention (MLA as V2's; apply_rotary_pos_emb_interleave when rope_interleave (default true); "
                   "scaling qk_head_dim**-0.5 x yarn_get_mscale(factor, mscale_all_dim)^2); DeepseekV3TopkRouter (sigmoid, "
                   "+ e_score_correction_bias for the choice, group score = sum of each group's top-2, topk_group groups, "
                   "weights = unbiased scores, / (sum + 1e-20) when norm_topk_prob, x routed_scaling_factor) + shared_experts)",
}


def deepseek_routing(routing):
    """(min k-th − (k+1)-th choosing-score gap, min topk_group-th − next group-score gap (inf without groups), min k-th
    choosing score) over every token and sparse layer."""
    gap = min_gap(routing)
    ggap = min(float(r["group_gap"].min()) if r["group_gap"] is not None else np.inf for r in routing)
    kth = min(float(r["kth"].min()) for r in routing)
    return gap, ggap, kth


def deepseek_run(cfg, P, ids, forward=deepseek.forward):
    """The outputs, the routing over input_ids and the greedy run with its routing summaries: each of deepseek_routing's
    three minima over every step (make_deepseek, make_glm4_moe with glm4_moe.forward, the scans)."""
    h, logits, routing, prompt, g, steps = moe_run(forward, cfg, P, ids, deepseek_routing)
    return h, logits, routing, prompt, g, [min(s[j] for s in steps) for j in range(3)]


def deepseek_ok(name, cfg, routing, greedy_routing, quiet=False):
    """MIN_ROUTING_GAP between the k-th and (k+1)-th choosing score and between the topk_group-th and next group score (inf
    without groups), over input_ids and the greedy run; V3's router (deepseek_v3, glm4_moe: every kind but deepseek_v2, as
    deepseek.route reads it): the k-th chosen biased score above MIN_ROUTING_GAP too, so that masking the dropped groups
    with 0.0 (these transformers versions) or -inf (later ones, vLLM) chooses alike."""
    gap, ggap, kth = deepseek_routing(routing)
    ok = min(gap, ggap, greedy_routing[0], greedy_routing[1]) >= MIN_ROUTING_GAP
    if cfg["model_type"] != "deepseek_v2":
        ok = ok and min(kth, greedy_routing[2]) >= MIN_ROUTING_GAP
    if not ok and not quiet:
        raise SystemExit(f"{name}: routing gaps {gap:.3g} / groups {ggap:.3g} / k-th score {kth:.3g} over input_ids, "
                         f"{greedy_routing} over the greedy run: one below {MIN_ROUTING_GAP}: choose another seed")
    return ok


def scan_deepseek(cfg, seeds, t=32, draw=draw_deepseek, forward=deepseek.forward):
    """The seeds whose routing passes deepseek_ok and whose greedy margins are all >= 0.01 (how the seeds were chosen), with
    the weights rounded to bfloat16 as the folders store them (seed_scan); draw / forward: the family's (scan_glm4_moe)."""
    def passes(cfg, P, ids):
        _, _, routing, _, g, gr = deepseek_run(cfg, P, ids, forward)
        return deepseek_ok("scan", cfg, routing, gr, quiet=True), g
    return seed_scan(cfg, seeds, draw, passes, t)


def make_deepseek(out, name, cfg, seed, note, t=32):
    d, ids = moe_drawn(seed, draw_deepseek, cfg, t)
    P = d.f64()
    h, logits, routing, prompt, g, gr = deepseek_run(cfg, P, ids)
    deepseek_ok(name, cfg, routing, gr)
    gap, ggap, kth = deepseek_routing(routing)
    grouped = cfg["model_type"] == "deepseek_v3" or cfg.get("topk_method") == "group_limited_greedy"
    rc = deepseek.rope_cfg(cfg)
    then = {}
    if grouped:
        then["min_group_gap"] = {"input_ids": ggap, "greedy": gr[1]}
    if cfg["model_type"] == "deepseek_v3":
        then["min_kth_choice_score"] = {"input_ids": kth, "greedy": gr[2]}
    why = ("min_routing_gap: the smallest difference between the k-th and (k+1)-th largest choosing score over every "
           "token and sparse layer, of input_ids (both rows) and of the greedy run (every position of each "
           "recomputation); the choosing score is the softmax probability (V2; group_limited_greedy: with the "
           "dropped groups' probabilities 0.0) or sigmoid + e_score_correction_bias with the dropped groups' 0.0 "
           "(V3); min_group_gap: the same between the topk_group-th and next group score (V2: each group's max "
           "probability; V3: the sum of each group's two largest biased scores); min_kth_choice_score (V3): the "
           "smallest k-th chosen biased score (> 0: 0.0 or -inf masking choose alike); last_position_experts / "
           "_weights: per sparse layer, the top-k expert ids (descending choosing score) of each row's last input "
           "position and their weights (x routed_scaling_factor, V3 normalized first)")
    rec = moe_routing_record(deepseek.sparse_layers(cfg), cfg["num_experts_per_tok"], routing, ids, (gap, gr[0]), why, then=then)
    extra = {"sliding_layers": [False] * cfg["num_hidden_layers"], "routing": rec,
             "softmax_scale": deepseek.softmax_scale(cfg),
             "rope": {"dim": cfg["qk_rope_head_dim"], "inv_freq": rope.inv_freq(rc, t).tolist(),
                      "attention_scaling": rope.attention_factor(rc),
                      "layout": "complex pairs (2i, 2i+1)" if cfg["model_type"] == "deepseek_v2" else
                      "interleave: [x0, x2, ... | x1, x3, ...] then rotate_half" if cfg.get("rope_interleave", True) else "halves"}}
    return save(out, name, cfg, d, {"last_hidden_state": h, "logits": logits}, {"input_ids": ids},
                DEEPSEEK_FOLLOWS[cfg["model_type"]] + "; modeling_rope_utils.py; " + note, recomputed(prompt, g), extra=extra)


def deepseek_v2_lite_config():
    return deepseek_config("deepseek_v2", n_group=1, n_shared_experts=2, norm_topk_prob=False, num_experts_per_tok=2,
                           q_lora_rank=None, routed_scaling_factor=1.0, scoring_func="softmax", topk_group=1,
                           topk_method="greedy",
                           rope_scaling={"beta_fast": 32, "beta_slow": 1, "factor": 40, "mscale": 0.707, "mscale_all_dim": 0.707,
                                         "original_max_position_embeddings": 4096, "type": "yarn"})


def deepseek_v2_config():
    return deepseek_config("deepseek_v2", max_position_embeddings=4096, n_group=4, n_shared_experts=2, norm_topk_prob=False,
                           num_experts_per_tok=3, q_lora_rank=24, routed_scaling_factor=16.0, scoring_func="softmax",
                           topk_group=2, topk_method="group_limited_greedy", rope_scaling=None)


def deepseek_v3_config():
    return deepseek_config("deepseek_v3", max_position_embeddings=128, n_group=4, n_routed_experts=16, n_shared_experts=1,
                           norm_topk_prob=True, num_experts_per_tok=3, q_lora_rank=24, routed_scaling_factor=2.5,
                           scoring_func="sigmoid", topk_group=2, topk_method="noaux_tc",
                           rope_scaling={"beta_fast": 32, "beta_slow": 1, "factor": 8, "mscale": 1.0, "mscale_all_dim": 1.0,
                                         "original_max_position_embeddings": 16, "type": "yarn"})


@fixture("deepseek-v2-lite")
def make_deepseek_v2_lite(out):
    return make_deepseek(out, "deepseek-v2-lite", deepseek_v2_lite_config(), DEEPSEEK_SEEDS["deepseek-v2-lite"],
                         "DeepSeek-V2-Lite's layout scaled down: q_lora_rank null (q_proj), 8 routed experts top-2 greedy "
                         "softmax, norm_topk_prob false, routed_scaling_factor 1.0, 2 shared experts (one MLP of 2 x 16), "
                         "first_k_dense_replace 1 (layer 0 a dense MLP of 48); yarn factor 40 over 4096 (max_position_"
                         "embeddings 163840 = 40 x 4096, as published) with mscale = mscale_all_dim = 0.707: cos/sin x 1, "
                         "softmax scale 24**-0.5 x (0.0707 ln 40 + 1)^2")


@fixture("deepseek-v2")
def make_deepseek_v2(out):
    return make_deepseek(out, "deepseek-v2", deepseek_v2_config(), DEEPSEEK_SEEDS["deepseek-v2"],
                         "DeepSeek-V2's layout scaled down: q_lora_rank 24 (q_a_proj, q_a_layernorm, q_b_proj), "
                         "group_limited_greedy over n_group 4 (groups of 2 experts), topk_group 2, top-3 of 8, "
                         "routed_scaling_factor 16.0, 2 shared experts, first_k_dense_replace 1; rope_scaling null (plain "
                         "rope, softmax scale 24**-0.5)")


@fixture("deepseek-v3")
def make_deepseek_v3(out):
    return make_deepseek(out, "deepseek-v3", deepseek_v3_config(), DEEPSEEK_SEEDS["deepseek-v3"],
                         "DeepSeek-V3's layout scaled down (bf16 weights, not the published FP8): q_lora_rank 24, 16 routed "
                         "experts in n_group 4 groups of 4, topk_group 2, top-3, sigmoid noaux_tc with "
                         "e_score_correction_bias N(0, 0.1^2) stored F32, norm_topk_prob true, routed_scaling_factor 2.5, one "
                         "shared expert, first_k_dense_replace 1; rope_interleave absent (default true) as published; yarn "
                         "factor 8 over 16 original positions (max_position_embeddings 128) with mscale = mscale_all_dim = 1: "
                         "cos/sin x 1, softmax scale 24**-0.5 x (0.1 ln 8 + 1)^2")


# the first seeds of a scan of 2000..2599 (scan_deepseek, 2026-12-08) passing deepseek_ok with greedy margins >= 0.01
DEEPSEEK_SEEDS = {"deepseek-v2-lite": 2026, "deepseek-v2": 2060, "deepseek-v3": 2066}


# ---- GLM-4.5 / GLM-4.6 (glm4_moe: GQA attention with q/k norms, partial NeoX rotary; DeepSeek-V3's router) ----------

def glm4_moe_config(**extra):
    """The config.json fields zai-org/GLM-4.5 and GLM-4.6 publish (4.x layout: rope_theta at the top level, partial_rotary_factor,
    torch_dtype; GLM-4.5-Air's differ in use_qk_norm false and routed_scaling_factor 1.0), scaled down: head_dim given and
    heads × head_dim wider than hidden_size as in the published folders (96 × 128 over 4096 / 5120), num_nextn_predict_layers 1
    as published (its layer is not stored here: transformers never runs it; the Java tests add one)."""
    cfg = {"architectures": ["Glm4MoeForCausalLM"], "model_type": "glm4_moe", "attention_bias": True, "attention_dropout": 0.0,
           "eos_token_id": [1, 2], "first_k_dense_replace": 1, "head_dim": 16, "hidden_act": "silu", "hidden_size": 32,
           "initializer_range": 0.02, "intermediate_size": 48, "max_position_embeddings": 128, "moe_intermediate_size": 16,
           "n_group": 1, "n_routed_experts": 16, "n_shared_experts": 1, "norm_topk_prob": True, "num_attention_heads": 4,
           "num_experts_per_tok": 3, "num_hidden_layers": 3, "num_key_value_heads": 2, "num_nextn_predict_layers": 1,
           "pad_token_id": 0, "partial_rotary_factor": 0.5, "rms_norm_eps": 1e-05, "rope_scaling": None, "rope_theta": 1000000,
           "routed_scaling_factor": 2.5, "tie_word_embeddings": False, "topk_group": 1, "torch_dtype": "float32",
           "transformers_version": "4.54.0", "use_cache": True, "use_qk_norm": True, "vocab_size": 64}
    cfg.update(extra)
    return dict(sorted(cfg.items()))


def draw_glm4_moe(d, cfg):
    """Glm4MoeForCausalLM's parameters in declaration order (embed_tokens; per layer self_attn (q/k/v_proj with biases, o_proj,
    q_norm, k_norm), mlp, the two norms; norm; lm_head), the MoE in the 4.x per-expert layout the published folders carry:
    experts.{e}.gate_proj / up_proj / down_proj, gate.weight, gate.e_score_correction_bias N(0, 0.1²) kept float32 (as
    zai-org's files keep it), shared_experts.*."""
    c, v, nh, nkv, hd = cfg["hidden_size"], cfg["vocab_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    ab = bool(cfg["attention_bias"])
    d.emb("model.embed_tokens.weight", v, c)
    for i, sp in enumerate(glm4_moe.sparse_layers(cfg)):
        p = f"model.layers.{i}."
        a, m = p + "self_attn.", p + "mlp."
        d.linear(a + "q_proj", c, nh * hd, ab)
        d.linear(a + "k_proj", c, nkv * hd, ab)
        d.linear(a + "v_proj", c, nkv * hd, ab)
        d.mat(a + "o_proj.weight", c, nh * hd)
        if cfg["use_qk_norm"]:
            d.norm(a + "q_norm", hd, bias=False)
            d.norm(a + "k_norm", hd, bias=False)
        draw_deepseek_mlp(d, m, cfg, sp, True)
        d.norm(p + "input_layernorm", c, bias=False)
        d.norm(p + "post_attention_layernorm", c, bias=False)
    d.norm("model.norm", c, bias=False)
    if not cfg["tie_word_embeddings"]:
        d.mat("lm_head.weight", v, c)


GLM4_MOE_FOLLOWS = ("models/glm4_moe/modular_glm4_moe.py (the @strict 5.x Glm4MoeConfig; modeling_glm4_moe.py, "
                    "configuration_glm4_moe.py): Glm4MoeForCausalLM = DeepseekV3ForCausalLM (Glm4MoeDecoderLayer: Glm4MoeMoE "
                    "from first_k_dense_replace on, else Glm4MoeMLP); Glm4MoeAttention (q/k/v_proj biased by attention_bias, "
                    "o_proj not; q_norm / k_norm per head over head_dim before the rotary when use_qk_norm; gpt_neox's "
                    "apply_rotary_pos_emb: rotate_half over the first int(head_dim x partial_rotary_factor) dims, the rest "
                    "passed; scaling head_dim**-0.5); Glm4MoeTopkRouter / DeepseekV3MoE.route_tokens_to_experts (sigmoid, + "
                    "e_score_correction_bias for the choice, groups by their top-2 sum, weights = unbiased scores / (sum + "
                    "1e-20) when norm_topk_prob, x routed_scaling_factor) + shared_experts; vLLM's glm4_moe.py agrees (get_rope "
                    "NeoX style, partial_rotary_factor 0.5)")


# reference.json's routing note of the folders with DeepSeek-V3's router in one group (glm4-moe, dots1)
V3_ONE_GROUP_ROUTING = ("min_routing_gap: the smallest difference between the k-th and (k+1)-th largest choosing score (sigmoid + "
                        "e_score_correction_bias; n_group 1 drops no group) over every token and sparse layer, of input_ids (both "
                        "rows) and of the greedy run (every position of each recomputation); min_kth_choice_score: the smallest "
                        "k-th chosen biased score; last_position_experts / _weights: per sparse layer, the top-k expert ids "
                        "(descending choosing score) of each row's last input position and their weights (normalized, x "
                        "routed_scaling_factor)")


def scan_glm4_moe(cfg, seeds, t=32):
    """The seeds whose routing passes deepseek_ok (V3's router, n_group 1) and whose greedy margins are all >= 0.01 (how the
    seed was chosen), with the weights rounded to bfloat16 as the folder stores them."""
    return scan_deepseek(cfg, seeds, t, draw_glm4_moe, glm4_moe.forward)


@fixture("glm4-moe")
def make_glm4_moe(out, t=32):
    cfg = glm4_moe_config()
    d, ids = moe_drawn(GLM4_MOE_SEED, draw_glm4_moe, cfg, t)
    P = d.f64()
    h, logits, routing, prompt, g, gr = deepseek_run(cfg, P, ids, glm4_moe.forward)
    deepseek_ok("glm4-moe", cfg, routing, gr)
    gap, ggap, kth = deepseek_routing(routing)
    rc = glm4_moe.rope_cfg(cfg)
    rec = moe_routing_record(
        glm4_moe.sparse_layers(cfg), cfg["num_experts_per_tok"], routing, ids, (gap, gr[0]),
        V3_ONE_GROUP_ROUTING,
        first={"min_kth_choice_score": {"input_ids": kth, "greedy": gr[2]}})
    extra = {"sliding_layers": [False] * cfg["num_hidden_layers"], "routing": rec,
             "rope": {"dim": glm4_moe.rotary_dim(cfg), "inv_freq": rope.inv_freq(rc, t).tolist(),
                      "layout": "halves: rotate_half over the first int(head_dim x partial_rotary_factor) dims of each head (NeoX)"}}
    return save(out, "glm4-moe", cfg, d, {"last_hidden_state": h, "logits": logits}, {"input_ids": ids},
                GLM4_MOE_FOLLOWS + "; modeling_rope_utils.py; GLM-4.5's layout scaled down (bf16 weights): hidden 32, 4 heads "
                "of head_dim 16 over 2 K/V heads (q 64 wide), q/k/v biases, use_qk_norm true, partial_rotary_factor 0.5 (8 of "
                "16 dims turned), rope_theta 1e6, 16 routed experts top-3 of 16, n_group 1, sigmoid router with "
                "e_score_correction_bias N(0, 0.1^2) stored F32, norm_topk_prob true, routed_scaling_factor 2.5, one shared "
                "expert, first_k_dense_replace 1 (layer 0 a dense MLP of 48)", recomputed(prompt, g), extra=extra)


# the first seed of a scan of 2100..2139 (scan_glm4_moe, 2026-12-08) passing deepseek_ok (V3's router) with greedy margins
# >= 0.01
GLM4_MOE_SEED = 2104


# ---- ERNIE 4.5 MoE (ernie4_5_moe: dense ERNIE's attention and pairwise rotary; softmax router biased for the choice) ---

def ernie4_5_moe_config(**extra):
    """baidu/ERNIE-4.5-21B-A3B-PT's config.json fields (4.x layout: rope_theta at the top level, no head_dim, so hidden //
    heads; moe_layer_end_index given as num_hidden_layers - 1; tied; use_bias false), scaled down: hidden 32, 4 heads over
    2 K/V heads (head_dim 8), intermediate 64 for the dense layer 0 (moe_layer_start_index 1 as published), 16 routed experts
    (published 64) top-4 (published 6) of moe_intermediate_size 16, 2 shared experts as published (one MLP of 32), 3 layers,
    vocabulary 64. No mtp_* tensors (transformers ignores them; the Java tests add some)."""
    cfg = {"architectures": ["Ernie4_5_MoeForCausalLM"], "model_type": "ernie4_5_moe", "bos_token_id": 1, "eos_token_id": 2,
           "hidden_act": "silu", "hidden_size": 32, "intermediate_size": 64, "max_position_embeddings": 128,
           "moe_intermediate_size": 16, "moe_k": 4, "moe_layer_end_index": 2, "moe_layer_interval": 1, "moe_layer_start_index": 1,
           "moe_num_experts": 16, "moe_num_shared_experts": 2, "num_attention_heads": 4, "num_hidden_layers": 3,
           "num_key_value_heads": 2, "pad_token_id": 0, "rms_norm_eps": 1e-05, "rope_theta": 500000.0, "tie_word_embeddings": True,
           "torch_dtype": "float32", "use_bias": False, "use_cache": True, "vocab_size": 64}
    cfg.update(extra)
    return dict(sorted(cfg.items()))


def draw_ernie4_5_moe(d, cfg):
    """Ernie4_5_MoeForCausalLM's parameters in declaration order (embed_tokens; per layer self_attn q/k/v/o_proj; mlp: the
    sparse block's moe_statics.e_score_correction_bias (1, E) N(0, ERNIE45_MOE_BIAS_STD^2) kept float32, gate.weight (x
    ERNIE45_MOE_GATE_SCALE), experts.{e}.gate_proj /
    up_proj / down_proj, shared_experts.*; or the dense MLP; the two norms; norm), the 4.x per-expert layout published."""
    c, v, nh, nkv = cfg["hidden_size"], cfg["vocab_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd, n, fm = ernie4_5_moe.head_dim(cfg), cfg["moe_num_experts"], cfg["moe_intermediate_size"]
    d.emb("model.embed_tokens.weight", v, c, TIED_STD)
    for i, sp in enumerate(ernie4_5_moe.sparse_layers(cfg)):
        p = f"model.layers.{i}."
        a, m = p + "self_attn.", p + "mlp."
        d.mat(a + "q_proj.weight", nh * hd, c)
        d.mat(a + "k_proj.weight", nkv * hd, c)
        d.mat(a + "v_proj.weight", nkv * hd, c)
        d.mat(a + "o_proj.weight", c, nh * hd)
        mlps = [(m, cfg["intermediate_size"])]
        if sp:
            d.raw(m + "moe_statics.e_score_correction_bias", (ERNIE45_MOE_BIAS_STD * d.rng.standard_normal((1, n))).astype(np.float32))
            d.mat(m + "gate.weight", n, c)
            d.params[m + "gate.weight"] *= ERNIE45_MOE_GATE_SCALE   # a power of two: still bfloat16-exact
            mlps = [(f"{m}experts.{e}.", fm) for e in range(n)] + [(m + "shared_experts.", fm * cfg["moe_num_shared_experts"])]
        for pre, w in mlps:
            d.mat(pre + "gate_proj.weight", w, c)
            d.mat(pre + "up_proj.weight", w, c)
            d.mat(pre + "down_proj.weight", c, w)
        d.norm(p + "input_layernorm", c, bias=False)
        d.norm(p + "post_attention_layernorm", c, bias=False)
    d.norm("model.norm", c, bias=False)


ERNIE45_MOE_FOLLOWS = ("models/ernie4_5_moe/modular_ernie4_5_moe.py (modeling_ernie4_5_moe.py, configuration_ernie4_5_moe.py): "
                       "Ernie4_5_MoeForCausalLM.forward (Ernie4_5_MoeDecoderLayer: the sparse block iff (i + 1) % "
                       "moe_layer_interval == 0 and moe_layer_start_index <= i <= moe_layer_end_index, else Ernie4_5_MoeMLP; "
                       "Ernie4_5_MoeAttention with dense ERNIE's interleaved rotary over the whole head; the router in float32: "
                       "softmax, top-k of softmax + moe_statics.e_score_correction_bias, weights = the unbiased softmax at the "
                       "picks / clamp(sum, min=moe_norm_min); + shared_experts of moe_intermediate_size x "
                       "moe_num_shared_experts; tied lm_head); vLLM's ernie45_moe.py agrees (FusedMoE renormalize with "
                       "e_score_correction_bias, get_rope is_neox_style False)")


def moved_by_the_bias(routing):
    """Token-layer pairs whose chosen set differs from the plain softmax top-k (ernie4_5_moe.route's unbiased_ids)."""
    return sum(int((np.sort(r["ids"], -1) != np.sort(r["unbiased_ids"], -1)).any(-1).sum()) for r in routing)


def ernie4_5_moe_run(cfg, P, ids):
    """The outputs, the routing over input_ids and the smallest biased gap over the greedy run."""
    h, logits, routing, prompt, g, steps = moe_run(ernie4_5_moe.forward, cfg, P, ids, min_gap)
    return h, logits, routing, prompt, g, min(steps)


def scan_ernie4_5_moe(cfg, seeds, t=32):
    """The seeds whose biased routing gaps are >= MIN_ROUTING_GAP over input_ids and the greedy run, whose bias moves some
    token's experts, and whose greedy margins are >= 0.01 (how the seed was chosen), with BF16-rounded weights."""
    def passes(cfg, P, ids):
        _, _, routing, _, g, gg = ernie4_5_moe_run(cfg, P, ids)
        return min(min_gap(routing), gg) >= MIN_ROUTING_GAP and moved_by_the_bias(routing) > 0, g
    return seed_scan(cfg, seeds, draw_ernie4_5_moe, passes, t)


@fixture("ernie4_5-moe")
def make_ernie4_5_moe(out, t=32):
    cfg = ernie4_5_moe_config()
    d, ids = moe_drawn(ERNIE45_MOE_SEED, draw_ernie4_5_moe, cfg, t)
    P = d.f64()
    h, logits, routing, prompt, g, gg = ernie4_5_moe_run(cfg, P, ids)
    gap = min_gap(routing)
    if min(gap, gg) < MIN_ROUTING_GAP:
        raise SystemExit(f"ernie4_5-moe: routing gaps {gap:.3g} / {gg:.3g} below {MIN_ROUTING_GAP}: choose another seed")
    moved = moved_by_the_bias(routing)
    big = np.abs(logits).max()
    assert moved > 0, "ernie4_5-moe: the correction bias must change some token's experts"
    assert np.abs(ernie4_5_moe.forward(cfg, P, ids, bias=False)[1] - logits).max() > 1e-2 * big, "the bias must matter"
    assert np.abs(ernie4_5_moe.forward(cfg, P, ids, shared=False)[1] - logits).max() > 1e-2 * big, "shared experts must matter"
    rc = ernie4_5_moe.rope_cfg(cfg)
    rec = moe_routing_record(
        ernie4_5_moe.sparse_layers(cfg), cfg["moe_k"], routing, ids, (gap, gg),
        "min_routing_gap: the smallest difference between the k-th and (k+1)-th choosing score (softmax + "
        "e_score_correction_bias) over every token and sparse layer, of input_ids (both rows) and of the greedy "
        "run (every position of each recomputation); tokens_moved_by_the_bias: token-layer pairs of input_ids "
        "whose chosen set differs from the plain softmax top-k; last_position_experts / _weights: per sparse "
        "layer, the top-k expert ids (descending choosing score) of each row's last input position and their "
        "weights (the unbiased softmax, renormalized)",
        first={"tokens_moved_by_the_bias": moved})
    extra = {"sliding_layers": [False] * cfg["num_hidden_layers"], "routing": rec,
             "rope": {"dim": ernie4_5_moe.head_dim(cfg), "inv_freq": rope.inv_freq(rc, t).tolist(),
                      "layout": "pairs: (2i, 2i + 1) of the whole head turn by inv_freq[i] (GLM's interleaved rotate_half)"}}
    return save(out, "ernie4_5-moe", cfg, d, {"last_hidden_state": h, "logits": logits}, {"input_ids": ids},
                ERNIE45_MOE_FOLLOWS + "; modeling_rope_utils.py; ERNIE-4.5-21B-A3B-PT's layout scaled down (bf16 weights): "
                "hidden 32, 4 heads of head_dim 8 (hidden / heads, no head_dim given) over 2 K/V heads, rope_theta 500000, "
                "16 routed experts top-4, e_score_correction_bias (1, 16) N(0, 0.1^2) stored F32, router weights x 4, 2 shared experts, "
                "moe_layer_start_index 1 (layer 0 a dense MLP of 64), tied embeddings", recomputed(prompt, g), extra=extra)


# the only seed of a scan of 2140..2151 (scan_ernie4_5_moe, 16 experts top-4, bias N(0, 0.1^2), router x 4) passing
# its check; the router weights are scaled by 4 (softmax gaps wide enough for MIN_ROUTING_GAP over every route)
ERNIE45_MOE_SEED = 2147
ERNIE45_MOE_BIAS_STD, ERNIE45_MOE_GATE_SCALE = 0.1, 4.0


# ---- IBM Granite MoE (granitemoe, granitemoeshared: Granite's four multipliers; JetMoE's top-k-of-logits router) ----

def granitemoe_config(model_type, **extra):
    """The config.json fields ibm-granite/granite-3.0-1b-a400m-base publishes (4.x layout: rope_theta at the top level,
    torch_dtype; tied; attention_multiplier 1 / 64 = 1 / head_dim, embedding_multiplier 12, residual_multiplier 0.22,
    logits_scaling 6; 32 experts top-8 of 512; bos = eos = pad = 0), scaled down: hidden 32, 4 heads of head_dim 8
    (hidden // heads; attention_multiplier 1 / 8) over 2 K/V heads, 8 experts top-2 of intermediate 16, 2 layers,
    vocabulary 64. granitemoeshared adds shared_intermediate_size (GraniteMoeSharedConfig; ibm-research's shared-expert
    folders)."""
    arch = {"granitemoe": "GraniteMoeForCausalLM", "granitemoeshared": "GraniteMoeSharedForCausalLM"}[model_type]
    cfg = {"architectures": [arch], "model_type": model_type, "attention_bias": False, "attention_dropout": 0.0,
           "attention_multiplier": 0.125, "bos_token_id": 0, "embedding_multiplier": 12.0, "eos_token_id": 0,
           "hidden_act": "silu", "hidden_size": 32, "initializer_range": 0.02, "intermediate_size": 16,
           "logits_scaling": 6.0, "max_position_embeddings": 4096, "num_attention_heads": 4, "num_experts_per_tok": 2,
           "num_hidden_layers": 2, "num_key_value_heads": 2, "num_local_experts": 8, "output_router_logits": False,
           "pad_token_id": 0, "residual_multiplier": 0.22, "rms_norm_eps": 1e-06, "rope_scaling": None, "rope_theta": 10000.0,
           "router_aux_loss_coef": 0.001, "tie_word_embeddings": True, "torch_dtype": "float32", "use_cache": True,
           "vocab_size": 64}
    cfg.update(extra)
    return dict(sorted(cfg.items()))


def draw_granitemoe(d, cfg):
    """GraniteMoe(Shared)ForCausalLM's parameters in declaration order (embed_tokens; per layer self_attn q/k/v/o_proj,
    block_sparse_moe input_linear (E, 2F, C), output_linear (E, C, F), router.layer (E, C), shared_mlp input_linear (2S, C)
    and output_linear (C, S) when shared, the two norms; norm; lm_head when untied). The token table std TIED_STD when tied."""
    c, v, nh, nkv = cfg["hidden_size"], cfg["vocab_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd, e, f, s = granitemoe.head_dim(cfg), cfg["num_local_experts"], cfg["intermediate_size"], granitemoe.shared_width(cfg)
    tied = cfg["tie_word_embeddings"]
    d.emb("model.embed_tokens.weight", v, c, TIED_STD if tied else 1.0)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        a, m = p + "self_attn.", p + "block_sparse_moe."
        d.mat(a + "q_proj.weight", nh * hd, c)
        d.mat(a + "k_proj.weight", nkv * hd, c)
        d.mat(a + "v_proj.weight", nkv * hd, c)
        d.mat(a + "o_proj.weight", c, nh * hd)
        d._put(m + "input_linear.weight", d.rng.standard_normal((e, 2 * f, c)) * c ** -0.5)
        d._put(m + "output_linear.weight", d.rng.standard_normal((e, c, f)) * f ** -0.5)
        d.mat(m + "router.layer.weight", e, c)
        if s > 0:
            d.mat(p + "shared_mlp.input_linear.weight", 2 * s, c)
            d.mat(p + "shared_mlp.output_linear.weight", c, s)
        d.norm(p + "input_layernorm", c, bias=False)
        d.norm(p + "post_attention_layernorm", c, bias=False)
    d.norm("model.norm", c, bias=False)
    if not tied:
        d.mat("lm_head.weight", v, c)


GRANITEMOE_FOLLOWS = ("models/granitemoe/modeling_granitemoe.py (modular_granitemoe.py, configuration_granitemoe.py; 4.x and "
                      "5.x): GraniteMoeForCausalLM.forward (GraniteMoeModel: embed_tokens x embedding_multiplier; "
                      "GraniteMoeDecoderLayer: residual + attn(input_layernorm(h)) x residual_multiplier, residual + "
                      "block_sparse_moe(post_attention_layernorm(h)) x residual_multiplier; GraniteMoeAttention: scaling "
                      "attention_multiplier, head_dim hidden // heads, rotate_half rotary; GraniteMoeTopKGating: top-k of "
                      "router.layer(x), softmax over those k; GraniteMoeMoE: input_linear (E, 2F, C) chunked in two, "
                      "silu(first) * second, output_linear (E, C, F); lm_head / logits_scaling)")
GRANITEMOESHARED_FOLLOWS = ("models/granitemoeshared/modular_granitemoeshared.py (configuration_granitemoeshared.py): "
                            "GraniteMoeSharedDecoderLayer = GraniteMoe's with residual + (block_sparse_moe(x) + shared_mlp(x)) "
                            "x residual_multiplier; GraniteMoeSharedMLP: input_linear (2S, C) chunked in two, silu(first) * "
                            "second, output_linear (C, S), no biases; the rest GraniteMoe's: ")


def granitemoe_run(cfg, P, ids):
    """The outputs, the routing over input_ids and the smallest logit gap over the greedy run."""
    h, logits, routing, prompt, g, steps = moe_run(granitemoe.forward, cfg, P, ids, min_gap)
    return h, logits, routing, prompt, g, min(steps)


def scan_granitemoe(cfg, seeds, t=32):
    """The seeds whose k-th − (k+1)-th router-logit gaps are >= MIN_ROUTING_GAP over input_ids and the greedy run and whose
    greedy margins are >= 0.01 (how the seeds were chosen), with BF16-rounded weights."""
    def passes(cfg, P, ids):
        _, _, routing, _, g, gg = granitemoe_run(cfg, P, ids)
        return min(min_gap(routing), gg) >= MIN_ROUTING_GAP, g
    return seed_scan(cfg, seeds, draw_granitemoe, passes, t)


def make_granitemoe(out, name, cfg, seed, note, t=32):
    d, ids = moe_drawn(seed, draw_granitemoe, cfg, t)
    P = d.f64()
    h, logits, routing, prompt, g, gg = granitemoe_run(cfg, P, ids)
    gap = min_gap(routing)
    if min(gap, gg) < MIN_ROUTING_GAP:
        raise SystemExit(f"{name}: routing gaps {gap:.3g} / {gg:.3g} below {MIN_ROUTING_GAP}: choose another seed")
    big = np.abs(logits).max()
    _, cached = granitemoe.forward(cfg, P, ids[:1], calls=[8] + [1] * (t - 8))
    assert np.abs(cached - logits[:1]).max() <= 1e-9 * big, f"{name}: cached run differs from the full pass"
    wrong = [("residual_multiplier", {"scale_residual": False}), ("the activated half (the first)", {"halves": "swapped"}),
             ("the softmax over the k logits (not over all E)", {"rule": "softmax-all-no-renorm"})]
    if granitemoe.shared_width(cfg) > 0:
        wrong.append(("the shared MLP", {"shared": False}))
    for what, kw in wrong:
        # by 1e-3 of the logits' maximum: embedding_multiplier 12 against residual_multiplier 0.22 keeps each sublayer's
        # share of the residual stream small, as in the published models
        assert np.abs(granitemoe.forward(cfg, P, ids, **kw)[1] - logits).max() > 1e-3 * big, f"{name}: {what} must matter"
    rec = moe_routing_record(
        [True] * cfg["num_hidden_layers"], cfg["num_experts_per_tok"], routing, ids, (gap, gg),
        "min_routing_gap: the smallest difference between the k-th and (k+1)-th router logit (GraniteMoeTopKGating chooses "
        "by the logits) over every token and layer, of input_ids (both rows) and of the greedy run (every position of each "
        "recomputation); last_position_experts / _weights: per layer, the top-k expert ids (descending logit) of each row's "
        "last input position and their weights (the softmax over the k logits)")
    rc = granitemoe.rope_cfg(cfg)
    extra = {"sliding_layers": [False] * cfg["num_hidden_layers"], "routing": rec, "head_dim": granitemoe.head_dim(cfg),
             "rope": {"dim": granitemoe.head_dim(cfg), "inv_freq": rope.inv_freq(rc, t).tolist(), "layout": "halves (rotate_half)"}}
    follows = (GRANITEMOESHARED_FOLLOWS if cfg["model_type"] == "granitemoeshared" else "") + GRANITEMOE_FOLLOWS
    return save(out, name, cfg, d, {"last_hidden_state": h, "logits": logits}, {"input_ids": ids},
                follows + "; modeling_rope_utils.py; " + note, recomputed(prompt, g), extra=extra)


@fixture("granitemoe")
def make_granitemoe_folder(out):
    return make_granitemoe(out, "granitemoe", granitemoe_config("granitemoe"), GRANITEMOE_SEEDS["granitemoe"],
                           "granite-3.0-1b-a400m's layout scaled down (bf16 weights): hidden 32, 4 heads of head_dim 8 over 2 "
                           "K/V heads, attention_multiplier 0.125, embedding_multiplier 12, residual_multiplier 0.22, "
                           "logits_scaling 6, 8 experts top-2 of 16, rope_theta 10000, tied embeddings, bos = eos = pad = 0")


@fixture("granitemoeshared")
def make_granitemoeshared_folder(out):
    cfg = granitemoe_config("granitemoeshared", shared_intermediate_size=24, tie_word_embeddings=False,
                            rope_parameters={"rope_type": "default", "rope_theta": 10000.0})
    del cfg["rope_theta"], cfg["rope_scaling"]
    cfg["dtype"] = cfg.pop("torch_dtype")
    return make_granitemoe(out, "granitemoeshared", dict(sorted(cfg.items())), GRANITEMOE_SEEDS["granitemoeshared"],
                           "as granitemoe, plus a shared MLP of shared_intermediate_size 24 and an untied lm_head, in "
                           "transformers 5.x's config layout (rope_parameters, dtype)")


# the first seeds of a scan of 2200..2211 (scan_granitemoe, 2026-12-08) passing its check
GRANITEMOE_SEEDS = {"granitemoe": 2200, "granitemoeshared": 2205}


# ---- Arcee AFM (arcee: Llama's attention, relu² MLP without a gate) ----------------------------------------------

# arcee-ai/AFM-4.5B's layout as the ArceeConfig fields describe it (4.x: rope_theta + rope_scaling, torch_dtype; no stored
# copy of the published config.json was found, see HfArceeTest): hidden 32, 4 heads over 2 key/value heads (GQA, as AFM's
# grouped query attention), head_dim 8 = hidden / heads, intermediate 64, vocabulary 64, 2 layers, no projection biases,
# untied head, bos 128000 / eos 128001 absent (the vocabulary is 64), yarn rope scaling (the kind ArceeConfig documents beside
# default) factor 4 over 16 original positions (max_position_embeddings 64 = 4 x 16), BF16, (2, 32) positions.
ARCEE_T, ARCEE_PROMPT, ARCEE_SEED = 32, 8, 2301

ARCEE_FOLLOWS = ("models/arcee/modular_arcee.py (modeling_arcee.py, configuration_arcee.py; 4.x ArceeConfig(LlamaConfig) and "
                 "5.x's @strict ArceeConfig): ArceeForCausalLM = LlamaForCausalLM (ArceeDecoderLayer: pre-norm RMSNorm; "
                 "ArceeAttention = LlamaAttention: q/k/v/o biased by attention_bias, scaling head_dim**-0.5, rotate_half over "
                 "whole heads; ArceeRotaryEmbedding with the yarn inv_freq and attention factor; ArceeMLP = NemotronMLP: "
                 "down_proj(relu2(up_proj(x))), no gate, biased by mlp_bias; ACT2FN['relu2'] = square(relu(x)); untied lm_head)")


@fixture("arcee")
def make_arcee(out):
    """ArceeForCausalLM as AFM-4.5B's config fields describe it, scaled down (see above)."""
    cfg = {"architectures": ["ArceeForCausalLM"], "model_type": "arcee", "attention_bias": False, "attention_dropout": 0.0,
           "hidden_act": "relu2", "hidden_size": 32, "initializer_range": 0.02, "intermediate_size": 64,
           "max_position_embeddings": 64, "mlp_bias": False, "num_attention_heads": 4, "num_hidden_layers": 2,
           "num_key_value_heads": 2, "rms_norm_eps": 1e-05,
           "rope_scaling": {"beta_fast": 32.0, "beta_slow": 1.0, "factor": 4.0, "original_max_position_embeddings": 16,
                            "rope_type": "yarn"},
           "rope_theta": 10000.0, "tie_word_embeddings": False, "torch_dtype": "float32", "use_cache": True, "vocab_size": 64}
    d = Draw(ARCEE_SEED)
    draw_plain_mlp(d, cfg, arcee.head_dim(cfg), bias=False)
    ids = d.ids(2, ARCEE_T, cfg["vocab_size"], low=3)
    h, logits, prompt, g = plain_mlp_run("arcee", arcee.forward, cfg, d.f64(), ids, ARCEE_PROMPT,
                                         (("relu² (not ReLU)", {"activation": "relu"}), ("the yarn scaling", {"scaling": False})))
    rc = arcee.rope_cfg(cfg)
    return save(out, "arcee", cfg, d, {"last_hidden_state": h, "logits": logits}, {"input_ids": ids},
                ARCEE_FOLLOWS + "; modeling_rope_utils.py (_compute_yarn_parameters)", recomputed(prompt, g),
                extra={"head_dim": arcee.head_dim(cfg),
                       "rope": {"dim": arcee.head_dim(cfg), "inv_freq": rope.inv_freq(rc, ARCEE_T).tolist(),
                                "attention_scaling": rope.attention_factor(rc), "layout": "halves (rotate_half)"},
                       "note": "AFM-4.5B's layout: RMSNorm, relu² MLP (up, down; no gate), GQA 4 over 2, yarn factor 4 over "
                               "16 original positions (cos / sin x 0.1 ln 4 + 1), no projection biases, untied head"})


# ---- dots.llm1 (dots1: Qwen3's attention with q/k norms; DeepSeek-V3's mixture of experts) ----------------------------

def dots1_config(**extra):
    """rednote-hilab/dots.llm1.inst's config.json fields (4.x layout: rope_theta at the top level, torch_dtype; no head_dim,
    so hidden / heads; sigmoid noaux_tc router with routed_scaling_factor 2.5, norm_topk_prob true, 2 shared experts,
    first_k_dense_replace 1; no stored copy of the file was found, see HfDots1Test), scaled down: hidden 32, 4 heads over 2
    key/value heads (head_dim 8; published 32 over 32), dense layer 0 of intermediate 32, 8 routed experts (published 128)
    top-2 (published 6) of moe_intermediate_size 8, n_group = topk_group = 1, 2 layers, vocabulary 64; sliding_window 8 with
    max_window_layers 1 (published: as many as the layers, none slides) so that layer 1 slides as Dots1Config's rule makes
    it."""
    cfg = {"architectures": ["Dots1ForCausalLM"], "model_type": "dots1", "attention_bias": False, "attention_dropout": 0.0,
           "first_k_dense_replace": 1, "hidden_act": "silu", "hidden_size": 32, "initializer_range": 0.02,
           "intermediate_size": 32, "max_position_embeddings": 128, "max_window_layers": 1, "moe_intermediate_size": 8,
           "n_group": 1, "n_routed_experts": 8, "n_shared_experts": 2, "norm_topk_prob": True, "num_attention_heads": 4,
           "num_experts_per_tok": 2, "num_hidden_layers": 2, "num_key_value_heads": 2, "rms_norm_eps": 1e-05,
           "rope_scaling": None, "rope_theta": 10000000, "routed_scaling_factor": 2.5, "sliding_window": 8,
           "tie_word_embeddings": False, "topk_group": 1, "torch_dtype": "float32", "use_cache": True, "vocab_size": 64}
    cfg.update(extra)
    return dict(sorted(cfg.items()))


def draw_dots1(d, cfg):
    """Dots1ForCausalLM's parameters in declaration order (embed_tokens; per layer self_attn (q/k/v/o_proj, q_norm, k_norm),
    mlp, the two norms; norm; lm_head), the MoE in the 4.x per-expert layout with gate.e_score_correction_bias N(0, 0.1²)
    kept float32."""
    c, v, nh, nkv, hd = cfg["hidden_size"], cfg["vocab_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], dots1.head_dim(cfg)
    d.emb("model.embed_tokens.weight", v, c)
    for i, sp in enumerate(dots1.sparse_layers(cfg)):
        p = f"model.layers.{i}."
        a, m = p + "self_attn.", p + "mlp."
        d.linear(a + "q_proj", c, nh * hd, False)
        d.linear(a + "k_proj", c, nkv * hd, False)
        d.linear(a + "v_proj", c, nkv * hd, False)
        d.linear(a + "o_proj", nh * hd, c, False)
        d.norm(a + "q_norm", hd, bias=False)
        d.norm(a + "k_norm", hd, bias=False)
        draw_deepseek_mlp(d, m, cfg, sp, True)
        d.norm(p + "input_layernorm", c, bias=False)
        d.norm(p + "post_attention_layernorm", c, bias=False)
    d.norm("model.norm", c, bias=False)
    d.mat("lm_head.weight", v, c)


DOTS1_FOLLOWS = ("models/dots1/modular_dots1.py (modeling_dots1.py, configuration_dots1.py; 4.x and 5.x): Dots1ForCausalLM = "
                 "Qwen3ForCausalLM over Dots1Model = Qwen3Model (full and sliding masks by layer_types; Dots1Config: sliding "
                 "from max_window_layers on when sliding_window is set); Dots1DecoderLayer = DeepseekV3DecoderLayer (Dots1MoE "
                 "from first_k_dense_replace on, else Dots1MLP); Dots1Attention = Qwen3Attention (q_norm / k_norm per head "
                 "before the rotary, rotate_half over whole heads, scaling head_dim**-0.5, sliding_window on sliding layers); "
                 "Dots1TopkRouter / DeepseekV3MoE (float32 logits, sigmoid, + e_score_correction_bias for the choice, groups "
                 "by their top-2 sum, weights = unbiased scores / (sum + 1e-20) when norm_topk_prob, x routed_scaling_factor) "
                 "+ shared_experts")


def scan_dots1(cfg, seeds, t=32):
    """The seeds whose routing passes deepseek_ok (V3's router) and whose greedy margins are all >= 0.01 (how the seed was
    chosen), with the weights rounded to bfloat16 as the folder stores them."""
    return scan_deepseek(cfg, seeds, t, draw_dots1, dots1.forward)


@fixture("dots1")
def make_dots1(out, t=32):
    cfg = dots1_config()
    d, ids = moe_drawn(DOTS1_SEED, draw_dots1, cfg, t)
    P = d.f64()
    h, logits, routing, prompt, g, gr = deepseek_run(cfg, P, ids, dots1.forward)
    deepseek_ok("dots1", cfg, routing, gr)
    gap, ggap, kth = deepseek_routing(routing)
    _, cached = dots1.forward(cfg, P, ids[:1], calls=[8] + [1] * (t - 8))
    assert np.abs(cached - logits[:1]).max() <= 1e-9 * np.abs(logits).max(), "dots1: cached run differs from the full pass"
    for what, c2, kw in (("the q/k norms", cfg, {"qk_norm": False}), ("the sliding window", dict(cfg, sliding_window=None), {})):
        assert np.abs(dots1.forward(c2, P, ids, **kw)[1] - logits).max() > 1e-2 * np.abs(logits).max(), f"dots1: {what} must matter"
    rec = moe_routing_record(
        dots1.sparse_layers(cfg), cfg["num_experts_per_tok"], routing, ids, (gap, gr[0]),
        V3_ONE_GROUP_ROUTING,
        first={"min_kth_choice_score": {"input_ids": kth, "greedy": gr[2]}})
    extra = {"sliding_layers": [k == "sliding_attention" for k in dots1.layer_types(cfg)], "routing": rec,
             "head_dim": dots1.head_dim(cfg),
             "rope": {"dim": dots1.head_dim(cfg), "inv_freq": rope.inv_freq(dict(cfg, head_dim=dots1.head_dim(cfg)), t).tolist(),
                      "layout": "halves (rotate_half)"}}
    return save(out, "dots1", cfg, d, {"last_hidden_state": h, "logits": logits}, {"input_ids": ids},
                DOTS1_FOLLOWS + "; modeling_rope_utils.py; dots.llm1's layout scaled down (bf16 weights): hidden 32, 4 heads of "
                "head_dim 8 (hidden / heads) over 2 K/V heads, q/k norms, rope_theta 1e7, layer 0 dense (intermediate 32), "
                "layer 1 a MoE of 8 routed experts top-2 of 8 with e_score_correction_bias N(0, 0.1^2) stored F32, "
                "norm_topk_prob true, routed_scaling_factor 2.5, 2 shared experts (one MLP of 16), and sliding (window 8 of "
                "32 positions: max_window_layers 1)", recomputed(prompt, g), extra=extra)


# the first seed of a scan of 2400..2439 (scan_dots1, 2026-12-08) passing deepseek_ok (V3's router) with greedy margins >= 0.01
DOTS1_SEED = 2408


# ---- GPT-OSS ------------------------------------------------------------------------------------------

def gpt_oss_config():
    """openai/gpt-oss-20b's config.json as published (transformers 4.x layout: rope_theta + rope_scaling yarn,
    quantization_config mxfp4, experts_per_token and initial_context_length beside num_experts_per_tok; no
    layer_types, so the default rule applies: even layers slide), scaled down: hidden 32 with 4 query heads of
    head_dim 16 (q_proj 64 wide, wider than hidden, as the real 64 × 64 over 2880), 2 kv heads, 3 layers (sliding,
    full, sliding), 4 experts of intermediate 32 (C and I multiples of the MXFP4 block of 32), top-2, vocab 128,
    sliding_window 5 instead of 128; rope exactly as published (theta 150000, yarn factor 32 over 4096 original
    positions, betas 32 / 1, truncate false, max_position_embeddings 131072 = 32 × 4096); swiglu_limit 7.0 as
    published (no swiglu_alpha: 1.702)."""
    return {"architectures": ["GptOssForCausalLM"], "model_type": "gpt_oss", "attention_bias": True, "attention_dropout": 0.0,
            "eos_token_id": 2, "pad_token_id": 1, "experts_per_token": 2, "head_dim": 16, "hidden_act": "silu",
            "hidden_size": 32, "initial_context_length": 4096, "initializer_range": 0.02, "intermediate_size": 32,
            "max_position_embeddings": 131072, "num_attention_heads": 4, "num_experts_per_tok": 2, "num_hidden_layers": 3,
            "num_key_value_heads": 2, "num_local_experts": 4, "output_router_logits": False,
            "quantization_config": {"modules_to_not_convert": ["model.layers.*.self_attn", "model.layers.*.mlp.router",
                                                               "model.embed_tokens", "lm_head"], "quant_method": "mxfp4"},
            "rms_norm_eps": 1e-5, "rope_scaling": {"beta_fast": 32.0, "beta_slow": 1.0, "factor": 32.0,
                                                   "original_max_position_embeddings": 4096, "rope_type": "yarn",
                                                   "truncate": False},
            "rope_theta": 150000.0, "router_aux_loss_coef": 0.9, "sliding_window": 5, "swiglu_limit": 7.0,
            "tie_word_embeddings": False, "torch_dtype": "float32", "use_cache": True, "vocab_size": 128}


def gpt_oss_v5_config(cfg):
    """What transformers 5.x writes for the same model once dequantized: rope_parameters (with rope_theta) and dtype
    (to_v5), no quantization_config, layer_types and swiglu_alpha / swiglu_limit spelled out."""
    cfg = to_v5(cfg)
    cfg.pop("quantization_config")
    cfg["layer_types"] = gpt_oss.layer_types(cfg)
    cfg["swiglu_alpha"] = 1.702
    return cfg


GPT_OSS_SEED = 2074   # from a scan of 2000..2099 (2026-12-06): routing gap >= MIN_ROUTING_GAP in logits over input_ids and the greedy
                      # run, greedy margins >= 0.01, every clamp hit, some sink weight > 0.5; chosen for its wide gaps (0.0125, 0.035)
# FP4 exponents (scale − 127) drawn uniformly from these ranges: gate_up values up to 6 · 2^-1 (rms ≈ 0.73 at
# scale 126), so that x · gate_up (32 terms) passes the clamps at ±7; down values up to 6 · 2^-5
GPT_OSS_SCALES = {"gate_up_proj": (124, 126), "down_proj": (120, 122)}
SINK_STD = 1.5


def draw_gpt_oss(d, cfg):
    """GptOssForCausalLM's parameters, as published: attention, router, norms, embeddings and lm_head float32; the
    experts' matrices MXFP4 (random FP4 nibbles and scales, stored as U8 blocks and scales; the reference computes
    from their exact dequantized values), their biases float32 (N(0, 0.1²)); sinks N(0, SINK_STD²)."""
    c, nh, nkv, hd = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    f, v, n = cfg["intermediate_size"], cfg["vocab_size"], cfg["num_local_experts"]
    d.emb("model.embed_tokens.weight", v, c)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        a = p + "self_attn."
        d.linear(a + "q_proj", c, nh * hd)
        d.linear(a + "k_proj", c, nkv * hd)
        d.linear(a + "v_proj", c, nkv * hd)
        d.linear(a + "o_proj", nh * hd, c)
        d._put(a + "sinks", d.rng.standard_normal(nh) * SINK_STD)
        m = p + "mlp."
        d.linear(m + "router", c, n)                                 # router.weight (E, C), router.bias (E)
        for proj, rows, cols in (("gate_up_proj", 2 * f, c), ("down_proj", c, f)):
            lo, hi = GPT_OSS_SCALES[proj]
            nibbles = d.rng.integers(0, 16, size=(n, rows, cols))
            scales = d.rng.integers(lo, hi + 1, size=(n, rows, cols // 32))
            blocks, scales = gpt_oss.quantize(nibbles, scales)
            d.raw(f"{m}experts.{proj}_blocks", blocks)               # (E, rows, cols / 32, 16)
            d.raw(f"{m}experts.{proj}_scales", scales)               # (E, rows, cols / 32)
            d.bias(f"{m}experts.{proj}_bias", (n, rows))
        d.norm(p + "input_layernorm", c, bias=False)
        d.norm(p + "post_attention_layernorm", c, bias=False)
    d.norm("model.norm", c, bias=False)
    d.mat("lm_head.weight", v, c)


def dequantize_experts(params):
    """transformers' MXFP4 dequantization applied to the state dict (what a dequantized model's save_pretrained
    holds): each *_blocks / *_scales pair becomes the float32 tensor of the name without the suffix
    (gate_up_proj (E, C, 2I), down_proj (E, I, C)); FP4 values times powers of two are exact in float32."""
    out = {}
    for k, v in params.items():
        if k.endswith("_scales"):
            continue
        if k.endswith("_blocks"):
            base = k[:-len("_blocks")]
            w = gpt_oss.dequantize(v, params[base + "_scales"])
            out[base] = w.astype(np.float32)
            if not np.array_equal(out[base].astype(np.float64), w):
                raise SystemExit(f"{base}: dequantized values not exact in float32")
        else:
            out[k] = v
    return out


def gpt_oss_run(cfg, P, ids):
    """The outputs and the statistics reference.json records: routing (gap in logits), clamp counts, sink weights."""
    routing, clamps, sinks = [], [], []
    h, logits = gpt_oss.forward(cfg, P, ids, routing, clamps, sinks)
    return h, logits, routing, clamps, sinks


def make_gpt_oss(out, name, v5):
    cfg = gpt_oss_config()
    d = Draw(GPT_OSS_SEED)
    draw_gpt_oss(d, cfg)
    t = 20                                                           # 4 windows of 5; the greedy run reaches 32 positions
    ids = d.ids(2, t, cfg["vocab_size"], low=3)
    P = d.f64()
    h, logits, routing, clamps, sinks = gpt_oss_run(cfg, P, ids)
    gap = min(float(r["gap"].min()) for r in routing)
    if gap < MIN_ROUTING_GAP:
        raise SystemExit(f"{name}: routing gap {gap:.3g} over input_ids, less than {MIN_ROUTING_GAP}: choose another seed")
    limit = cfg["swiglu_limit"]
    hits = {key: sum(c[key] for c in clamps) for key in ("gate_above", "up_above", "up_below", "elements")}
    if min(hits["gate_above"], hits["up_above"], hits["up_below"]) == 0:
        raise SystemExit(f"{name}: the swiglu clamps are not all hit ({hits}): change GPT_OSS_SCALES or the seed")
    sw = np.stack(sinks)                                             # (layers, B, H, T)
    over = int((sw > 0.5).sum())
    if over == 0:
        raise SystemExit(f"{name}: no row where the sink takes more than half the weight: change SINK_STD or the seed")
    prompt = ids[0, :16].tolist()
    steps = []

    def step(toks):
        r = []
        lg = gpt_oss.forward(cfg, P, [toks], routing=r)[1][0, -1]
        steps.append(min(float(x["gap"].min()) for x in r))
        return lg
    g = greedy(step, prompt)
    layers = list(range(cfg["num_hidden_layers"]))
    extra = {"sliding_layers": gpt_oss.sliding_layers(cfg),
             "routing": {"sparse_layers": [True] * len(layers), "top_k": cfg["num_experts_per_tok"],
                         "min_routing_gap": {"input_ids": gap, "greedy": min(steps)},
                         "last_position_experts": {str(i): r["ids"].reshape(2, t, -1)[:, -1].tolist() for i, r in zip(layers, routing)},
                         "note": "GptOssTopKRouter: torch.topk of the router LOGITS (x Wᵀ + b), then softmax over the k chosen "
                                 "logits; min_routing_gap: the smallest difference between the k-th and (k+1)-th largest "
                                 "router logit (not probability) over every token and layer, of input_ids (both rows) and of "
                                 "the greedy run (every position of each recomputation); last_position_experts: per layer, the "
                                 "top-k expert ids (descending logit) of each row's last input position"},
             "swiglu_clamp": {"limit": limit, "alpha": cfg.get("swiglu_alpha", 1.702),
                              "gate_above_limit": hits["gate_above"], "up_above_limit": hits["up_above"],
                              "up_below_minus_limit": hits["up_below"], "elements": hits["elements"],
                              "per_layer": [{"gate_above_limit": c["gate_above"], "up_above_limit": c["up_above"],
                                             "up_below_minus_limit": c["up_below"], "elements": c["elements"]} for c in clamps],
                              "note": "over input_ids (both rows), counted over the chosen (token, expert) pairs only: how many "
                                      "gate elements exceed limit (clamped to it: gate = min(gate, limit)), how many up elements "
                                      "lie above limit or below -limit (clamped), out of elements = tokens · top_k · "
                                      "intermediate_size gate (and as many up) elements"},
             "sinks": {"max_weight": float(sw.max()), "min_weight": float(sw.min()), "rows_over_half": over,
                       "rows": int(sw.size),
                       "note": "the softmax weight of the sink column of each (layer, row, head, query position) of input_ids: "
                               "1 minus the sum of the weights the keys keep; rows_over_half: how many exceed 0.5"}}
    if v5:
        extra["note"] = ("the gpt-oss model (same seed, same weights, inputs and outputs) as transformers 5.x writes it after "
                         "dequantizing: config rope_parameters / dtype / layer_types / swiglu_alpha, no quantization_config; "
                         "experts as float32 mlp.experts.gate_up_proj (E, C, 2I) and down_proj (E, I, C), GptOssExperts' "
                         "parameter names and shapes")
    else:
        extra["note"] = ("openai/gpt-oss-20b's published layout, scaled down: MXFP4 experts (mlp.experts.gate_up_proj_blocks "
                         "(E, 2I, C/32, 16) and _scales (E, 2I, C/32), down_proj_blocks (E, C, I/32, 16) and _scales (E, C, I/32), "
                         "U8), everything else float32")
    follows = ("models/gpt_oss/modeling_gpt_oss.py: GptOssForCausalLM.forward (GptOssModel, GptOssDecoderLayer, GptOssRMSNorm, "
               "GptOssAttention with bias and sinks in eager_attention_forward, GptOssRotaryEmbedding, GptOssMLP: "
               "GptOssTopKRouter top-k of the logits then softmax, GptOssExperts interleaved gate/up with the clamped "
               "swiglu (up + 1) * gate * sigmoid(alpha * gate)); configuration_gpt_oss.py (layer_types: even layers slide); "
               "modeling_rope_utils.py _compute_yarn_parameters (truncate false); integrations/mxfp4.py "
               "convert_moe_packed_tensors")
    if v5:
        cfg = gpt_oss_v5_config(cfg)
    return save(out, name, cfg, d, {"last_hidden_state": h, "logits": logits}, {"input_ids": ids}, follows,
                {"prompt": prompt, "tokens": g[0], "margins": g[1], "note": "each step recomputes the whole sequence"},
                extra=extra, convert=dequantize_experts if v5 else None)


@fixture("gpt-oss")
def make_gpt_oss_mxfp4(out):
    return make_gpt_oss(out, "gpt-oss", v5=False)


@fixture("gpt-oss-v5")
def make_gpt_oss_v5(out):
    return make_gpt_oss(out, "gpt-oss-v5", v5=True)


# ---- GPT-Neo ----------------------------------------------------------------------------------------------------------
GPT_NEO_FOLLOWS = ("models/gpt_neo/modeling_gpt_neo.py: GPTNeoForCausalLM.forward (GPTNeoModel: wte + wpe, GPTNeoBlock, "
                   "GPTNeoSelfAttention's bias-free q_proj / k_proj / v_proj, UNSCALED q·kᵀ, the causal `bias` buffer and for "
                   "local layers bias ^ tril(bias, -window_size), out_proj with bias; GPTNeoMLP c_fc / gelu_new / c_proj; "
                   "ln_f; lm_head tied to wte); configuration_gpt_neo.py: expand_attention_types_params")
GPT_NEO_T, GPT_NEO_PROMPT = 72, 8
# Seeds 1931 (gpt-neo) and 1937 (gpt-neo-local-first) are first draws, not a scan: greedy runs of 9 and 8 distinct tokens
# whose top-2 margins are at least 23x and 58x the check's bound (20 x 2e-5 x max|logits|).


def gpt_neo_config(**extra):
    """GPTNeoConfig as EleutherAI/gpt-neo-125m's config.json has it (num_layers / num_heads, attention_types and its
    expansion attention_layers, which 4.x writes too, window_size, intermediate_size null: 4 · hidden_size, gelu_new,
    bos = eos = the last id, the summary_* fields GPTNeoForCausalLM does not read), scaled down."""
    cfg = {"architectures": ["GPTNeoForCausalLM"], "model_type": "gpt_neo", "hidden_size": 32, "num_heads": 4, "num_layers": 2,
           "attention_types": [[["global", "local"], 1]], "window_size": 8, "intermediate_size": None, "vocab_size": 64,
           "max_position_embeddings": 80, "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5,
           "attention_dropout": 0, "embed_dropout": 0, "resid_dropout": 0, "bos_token_id": 63, "eos_token_id": 63,
           "gradient_checkpointing": False, "initializer_range": 0.02, "summary_activation": None,
           "summary_first_dropout": 0.1, "summary_proj_to_labels": True, "summary_type": "cls_index", "summary_use_proj": True,
           "use_cache": True, "torch_dtype": "float32"}
    cfg.update(extra)
    cfg["attention_layers"] = gpt_neo.expand(cfg["attention_types"])
    return cfg


def draw_gpt_neo(d, cfg):
    """GPTNeoForCausalLM's parameters in declaration order (k_proj, v_proj, q_proj, out_proj), with the buffers the
    published EleutherAI files carry (transformers 4.5 saved them): attn.attention.bias, the global causal mask as uint8
    (1, 1, P, P), in the global layers only (4.5's GPTNeoLocalSelfAttention had none), and attn.attention.masked_bias,
    float32 -1e9, in every layer; no lm_head.weight (tied)."""
    c, v, mpe = cfg["hidden_size"], cfg["vocab_size"], cfg["max_position_embeddings"]
    f = cfg["intermediate_size"] or 4 * c
    d.emb("transformer.wte.weight", v, c, TIED_STD)
    d.emb("transformer.wpe.weight", mpe, c)
    for i, kind in enumerate(gpt_neo.attention_layers(cfg)):
        p = f"transformer.h.{i}."
        a = p + "attn.attention."
        d.norm(p + "ln_1", c)
        if kind == "global":
            d.raw(a + "bias", gpt_neo.mask("global", mpe, cfg["window_size"]).astype(np.uint8)[None, None])
        d.raw(a + "masked_bias", np.asarray(-1e9, dtype=np.float32))
        for proj in ("k_proj", "v_proj", "q_proj"):
            d.mat(a + proj + ".weight", c, c)
        d.linear(a + "out_proj", c, c)
        d.norm(p + "ln_2", c)
        d.linear(p + "mlp.c_fc", c, f)
        d.linear(p + "mlp.c_proj", f, c)
    d.norm("transformer.ln_f", c)


@fixture("gpt-neo")
def make_gpt_neo(out):
    """As gpt-neo-125m is laid out, scaled down: layer 0 global, layer 1 local with window_size 8 over 72 positions (the
    window matters from position 8 on), intermediate_size null (4 · hidden_size = 128), 4 heads of 8, vocabulary 64 and
    hidden 32 so that the folder with its (2, 72) F64 outputs and a 72-position cached run stays near 0.22 MB. The outputs
    of the full pass, cached_logits (input_ids[0] through the cache: a prompt of GPT_NEO_PROMPT, then one token a call,
    each call's queries masked by the buffer's rows past .. past + n - 1) and the greedy run from the first row's 24
    tokens (full recomputation)."""
    cfg = gpt_neo_config()
    d = Draw(1931)
    draw_gpt_neo(d, cfg)
    ids = d.ids(2, GPT_NEO_T, cfg["vocab_size"], low=3)
    P = d.f64()
    h, logits = gpt_neo.forward(cfg, P, ids)
    _, cached = gpt_neo.forward(cfg, P, ids[:1], calls=[GPT_NEO_PROMPT] + [1] * (GPT_NEO_T - GPT_NEO_PROMPT))
    prompt = ids[0, :24].tolist()
    g = greedy(lambda toks: gpt_neo.forward(cfg, P, [toks])[1][0, -1], prompt)
    return save(out, "gpt-neo", cfg, d, {"last_hidden_state": h, "logits": logits, "cached_logits": cached},
                {"input_ids": ids, "cached_prompt": GPT_NEO_PROMPT, "cached_tokens": GPT_NEO_T}, GPT_NEO_FOLLOWS,
                {"prompt": prompt, "tokens": g[0], "margins": g[1]},
                extra={"attention_layers": gpt_neo.attention_layers(cfg),
                       "window": "query i sees key j iff 0 <= i - j <= window_size - 1 in a local layer, j <= i in a global one",
                       "note": "gpt-neo-125m's layout: BF16 weights; the saved buffers as the published files hold them (U8 bias "
                               "in the global layers only, F32 masked_bias in every layer), read by no model; cached_logits: "
                               "input_ids[0] through the cache (prompt of cached_prompt, then one token a call up to "
                               "cached_tokens), equal to logits[0]"})


@fixture("gpt-neo-local-first")
def make_gpt_neo_local_first(out):
    """GPT-Neo with the layer types the other way round (layer 0 local, window_size 5; layer 1 global) and an explicit
    intermediate_size 96 (not 4 · hidden_size = 256), hidden 64 with 4 heads of 16, vocabulary 128; two rows of 32 ids."""
    cfg = gpt_neo_config(hidden_size=64, vocab_size=128, max_position_embeddings=64, bos_token_id=127, eos_token_id=127,
                         attention_types=[[["local", "global"], 1]], window_size=5, intermediate_size=96)
    d = Draw(1937)
    draw_gpt_neo(d, cfg)
    return finish_decoder(out, "gpt-neo-local-first", cfg, d, gpt_neo.forward,
                          GPT_NEO_FOLLOWS + "; attention_types [[[local, global], 1]]: layer 0 local (window 5), layer 1 global; "
                          "intermediate_size 96 (c_fc 96 x 64)")

def make(out, names, everything):
    os.makedirs(out, exist_ok=True)
    total = 0
    for n in names:
        size = FIXTURES[n](out)
        total += size
        print(f"{n:24s} {size:>9,d} bytes")
    print(f"{'total':24s} {total:>9,d} bytes")
    if everything and total > MAX_TOTAL_BYTES:
        raise SystemExit(f"fixtures total {total} bytes, more than {MAX_TOTAL_BYTES}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help=f"write plain folders into OUT (default: the archives in {archives.ARCHIVES})")
    ap.add_argument("--only", nargs="*", help="fixture names (default: all): " + ", ".join(FIXTURES))
    args = ap.parse_args()
    names = args.only or list(FIXTURES)
    unknown = [n for n in names if n not in FIXTURES]
    if unknown:
        raise SystemExit(f"unknown fixtures {unknown}; known: {list(FIXTURES)}")
    if args.out:
        make(args.out, names, not args.only)
        return
    with tempfile.TemporaryDirectory() as staging:   # the committed folders, the new ones made over them, packed again
        archives.unpack(staging)
        make(staging, names, not args.only)
        archives.pack(staging)


if __name__ == "__main__":
    main()
