#!/usr/bin/env python3
"""selfcheck.py — checks of the reference harness that need no torch (python3 ci/reference/selfcheck.py [DIR] [--fresh]):
DIR holds the fixture folders; by default the committed archives (model/src/test/reference/NAME.tar.xz, archives.py)
are unpacked into a temporary folder and checked there.

1. closed forms: GELU(1) = Φ(1), the tanh GELU at 1, LayerNorm and RMSNorm of small vectors, softmax;
2. T5's relative-position buckets at hand-derived boundaries (bidirectional and causal, 32 buckets,
   max_distance 128: the first distance of each log bucket is ceil(max_exact · (max_distance/max_exact)^(k/n)));
3. RoPE: a rotated q·k score depends only on the distance between positions (default, linear, llama3, yarn,
   longrope within one pass);
4. causality: a decoder's logits over a prefix equal the first rows of those over the whole sequence
   (every decoder fixture but dynamic NTK, whose frequencies depend on the length), and T5's decoder too;
5. sliding windows: with window W and 2 layers, changing token 0 leaves positions >= 2(W-1)+1 bit-identical
   and changes an earlier one; a Qwen2 folder whose layer 0 is full changes everywhere;
6. padding: the unpadded rows of a padded BERT / RoBERTa row equal the same sentence run alone;
6b. ModernBERT: the local window shows |i - j| <= local_attention // 2 (9 keys for 8 inside, 5 at the ends); a
   local layer whose window covers the sequence (local_attention >= 2T) equals a global layer with the local
   theta; the fixture's window and its two thetas each change the outputs (a loader that ignores the window or
   swaps the thetas fails); the padded row equals its sentence alone; the -v5 folder's config reads to the same
   layers and the same outputs as the 4.x one;
6c. mixture of experts: with top-k = E and renormalization the block is the softmax-weighted sum of all experts;
   a router whose probabilities are 0.4, 0.3, 0.2, 0.1 picks experts 0 and 1 with weights 4/7, 3/7 (renormalized)
   or 0.4, 0.3 (norm_topk_prob false); Qwen2-MoE adds sigmoid(shared_expert_gate x) · shared_expert(x); the
   5.x fused layout (mixtral-v5) holds exactly the mixtral folder's tensors fused, and both layouts give
   bit-identical outputs; each MoE folder's recorded routing (smallest k-th − (k+1)-th probability gap over
   input_ids, at least make_fixtures.MIN_ROUTING_GAP, and the last positions' experts) is what its files give;
6d. GPT-OSS: MXFP4 bytes dequantized by hand (low nibble first, the e2m1 table, 2^(scale - 127), (E, R, G, 16) ->
   (E, G·32, R)); the sink attention as softmax([scores, sink])[:-1] @ V; the router's top-k of the biased logits and the
   interleaved, clamped swiglu by hand; gpt-oss-v5 = gpt-oss dequantized, bit-identical outputs; the recorded routing,
   clamp and sink counts; the window, layer types, yarn truncate, clamps, alpha, sinks, router bias, nibble order and
   interleaving each move the logits;
6e. beam search (beam.py): the logits processors on log-probabilities by hand (repetition penalty, no_repeat_ngram_size,
   min_length counting the prompt, min_new_tokens not), runs over fixed log-probability tables whose winners and
   scores follow by hand (length_penalty 0, 1, 2; an EOS first; early_stopping False / True / "never"), and every
   recorded beam run recomputed from its folder's files (tokens exactly, sequences_scores within 1e-12 relative);
6f. ALiBi (bloom, mpt, falcon-rw): the slopes by hand for 8, 12, 6, 3, 1 and 32 heads, MPT's reorder at alibi_bias_max 8,
   16 and 4 (BLOOM's at 8), Falcon's bfloat16 bias; the query-relative bias slope · (j - i) gives each fixture's logits and
   cached calls within 1e-12; wrong slopes, layouts, GELUs, norms and residuals each move the logits (alibi_checks);
6g. ALBERT: the group of layer i, int(i / (L / G)), against hand-written lists (12/1, 4/2, 6/4, 5/2, 6/3, 2/4); the
   albert-groups folder's 8 AlbertLayer calls (0.0 0.1 0.0 0.1 1.0 1.1 1.0 1.1) by hand; each folder's encoder equal to BERT's
   post-LN layer (bert._layer under ALBERT's names) applied to the explicitly repeated parameter sets; the exact tensor
   names of every folder (one set per (group, inner layer), no predictions.decoder.*, the unused pooler in albert-mlm); the
   padded rows equal to their sentences alone; the MLM logits and the classifier by hand; i % G for the group, each set
   applied once, skipping embedding_hidden_mapping_in at equal sizes, the two LayerNorms swapped, a pre-LN layer, the
   second residual from the layer input, no token types and predictions.bias each move the outputs by more than 1e-3 of
   their maximum, the exact GELU for gelu_new by more than twice the fp32 rule (albert_checks);
6h. GPT-Neo (gpt-neo, gpt-neo-local-first): the local mask bias ^ tril(bias, -W) by hand (query i sees key j iff
   0 <= i - j <= W - 1), expand_attention_types_params by hand and its refusals, the exact tensor names with the saved
   buffers (U8 bias in the global layers only, F32 masked_bias everywhere) read by nothing; 1/sqrt(head_dim) scaling, a
   window of W - 1 or W + 1 keys, swapped or all-global layer types and the exact GELU each move the logits; cached calls
   give the full pass's logits (gpt_neo_checks);
6i. Cohere / Cohere 2 (cohere, cohere2): Cohere's rotate_half by hand ((1, 2, 3, 4) -> (-2, 1, -4, 3)), its cos/sin
   repeat_interleave'd (cos(p · theta^(-2i/D)) at dims 2i and 2i + 1), CohereLayerNorm of (1, 2, 3, 4) by hand (mean-centred,
   no bias); the interleaved rotation equals Llama's rotate_half on q_proj / k_proj rows permuted per head [0, 2, …, D - 2,
   1, 3, …, D - 1] (each folder's logits within 1e-12: the loader's permutation trick); the logits are h · E^T · logit_scale
   exactly; the cached run equals the full pass; a partial rotary factor is refused; the folders hold exactly CohereForCausalLM's
   names (one input_layernorm, no biases, no lm_head); Cohere2's layer types by hand (pattern 4 over 8 layers: 3 and 7
   full; pattern 2: [sliding, full]; layer_types wins), its head_dim hidden // heads whatever config.json says; rotate_half
   on unpermuted halves, a sequential block, RMSNorm for CohereLayerNorm, logit_scale 1, and for cohere2 the rotary on the
   full layer, no window, a window of 16, and the layer types swapped each move the logits by more than 1e-3 of their
   maximum (cohere_checks);
6j. GLM / GLM-4 (glm, glm4): GLM's rotate_half by hand ((1, 2, 3, 4) -> (-2, 1, -4, 3)) and its cos/sin (the first rotary_dim /
   2 frequencies repeat_interleave'd), the rotary on the first head_dim · partial_rotary_factor dims only (the rest passed
   through), head_dim 128 and partial 0.5 when the config omits them, the 5.x factor inside rope_parameters; the interleaved
   rotary equals Llama's rotate_half on q_proj / k_proj rows (and biases) permuted per head [0, 2, …, R - 2, 1, 3, …, R - 1,
   R, …, D - 1] (each folder's logits within 1e-12: the loader's permutation); the folders hold exactly GlmForCausalLM's /
   Glm4ForCausalLM's names; the cached run equals the full pass; rotate_half on unpermuted halves, a whole-head rotary, the
   q/k/v biases dropped, gate and up swapped, and glm4's post norms dropped or swapped each move the logits by more than 1e-3
   of their maximum (glm_checks);
6k. EXAONE 4.0 (exaone4): Exaone4Config's layer_types by hand (pattern 4 over 8 layers: 3 and 7 full; pattern 2; layer_types
   wins over a string pattern; a null sliding_window sets the pattern to 0, so without layer_types such a config and a string
   pattern both fail as in transformers), RoPE on sliding layers only when sliding_window is set and on every layer when it is
   null, head_dim as given and hidden // heads when absent; the folder holds exactly Exaone4ForCausalLM's names (no
   input_layernorm, head_dim-wide q_norm / k_norm); 5.x's rope_parameters = the 4.x fields; the cached run and one token a
   step equal the full pass; RoPE on the global layer, pre-norm layers, no window, window 12, the layer types swapped, no
   llama3 scaling, and a null sliding_window (all layers full with RoPE) each move the
   logits by more than 1e-3 of their maximum (exaone4_checks);
6l. ERNIE 4.5 (ernie4_5): Ernie4_5Config's head_dim (128 when absent, hidden // heads when null) and key/value heads
   (null: the heads), theta 500000 when absent, partial_rotary_factor ≠ 1 and model_type ernie4_5_moe refused; cos/sin
   with frequency i at dims 2i and 2i + 1 over the whole head; the interleaved rotary equals Llama's rotate_half on q_proj /
   k_proj rows (and biases) permuted per head [0, 2, …, D - 2, 1, 3, …, D - 1] (the loader's permutation, within 1e-12);
   the folder holds exactly Ernie4_5ForCausalLM's names (all seven projections biased, tied: no lm_head); the cached run
   equals the full pass; rotate_half on unpermuted halves, the attention biases or the MLP biases dropped, gate and up
   swapped, and o_proj's bias alone dropped each move the logits by more than
   1e-3 of their maximum (ernie4_5_checks);
6m. Seed-OSS (seed-oss): SeedOssConfig's head_dim 128 when absent; the folder holds exactly SeedOssForCausalLM's names with
   q/k/v, o_proj and MLP biases; a flagged bias missing from the tensors fails; 5.x's rope_parameters = the 4.x fields; the
   prefix and one token a step equal the full pass; each of attention_bias, attention_out_bias and mlp_bias set false, and
   rope_theta 10000 for 1e7, each move the logits by more than 1e-3 of their maximum (seed_oss_checks);
6n. DeepSeek-V2 / V3 (deepseek-v2-lite, deepseek-v2, deepseek-v3): MLA equal, within 1e-12, to a per-head formula with
   keys and values materialized token by token (2x2 rotations, math.exp softmax) and to the weight-absorbed latent form (q_nope
   W_UK against the normed latent, the latent mix through W_UV), q_a / kv_a / o_proj biases included; V2's complex rotary by
   hand, V3's interleave form = V2's regrouped [evens | odds] with the same q·k, rope_interleave false not; the softmax scale
   (qk_head_dim**-0.5 x mscale(factor, mscale_all_dim)^2 under yarn only); V2's greedy and group_limited_greedy routers and V3's
   noaux_tc router by hand (the bias chooses, the unbiased score weighs) and V3's against brute force over 300 tokens; each
   folder's exact tensor names and shapes, its recorded routing (gaps, group gaps, k-th scores, last positions' experts and
   weights); the shared experts, routed_scaling_factor, mscale^2, yarn's frequencies, the router bias, rope_interleave,
   norm_topk_prob, the group limit each move the logits by more than 1e-3 of their maximum (deepseek_checks);
6o. GLM-4.5 / 4.6 (glm4-moe): the NeoX rotary over the first int(head_dim x partial_rotary_factor) dims by hand, head_dim
   as given or hidden // heads (null refused); the folder's exact tensor names (router bias F32) and recorded routing;
   GLM-4's interleaved pairs, a whole-head rotary, no q/k norms, no q/k/v biases, the correction bias zeroed, no
   shared expert, routed_scaling_factor 1 and norm_topk_prob false each move the logits by more than 1e-3 of their
   maximum (glm4_moe_checks);
6p. NVIDIA Nemotron (nemotron): relu2 = square(relu) and LayerNorm1P (1 + w, bias) on small vectors by hand, the NeoX
   rotary over the first int(head_dim x partial_rotary_factor) dims by hand (0.5 by default), head_dim as given; the
   folder's exact tensor names; the stored weight without its + 1, ReLU for relu2 and a whole-head rotary each move the
   logits by more than 1e-2 of their maximum (nemotron_checks);
6q. ERNIE 4.5 MoE (ernie4_5-moe): the router by hand (the bias chooses, the unbiased softmax weighs, clamp(min=moe_norm_min)
   only below it) and against brute force; the sparse-layer rule (interval, start, end, -1); head_dim hidden // heads when
   absent (null refused); the folder's exact tensor names (moe_statics bias (1, E) F32) and recorded routing; the
   correction bias zeroed, no shared experts and Llama's halves for ERNIE's pairs each move
   the logits by more than 1e-3 of their maximum (ernie4_5_moe_checks);
6r. IBM Granite MoE (granitemoe, granitemoeshared): the router by hand (top-k of the logits, softmax over the k) and
   against the renormalized top-k of the full softmax over 300 tokens; the experts' chunk order (first half activated) by
   hand; head_dim hidden // heads (another refused); each folder's exact tensor names and recorded routing, the cached run
   equal to the full pass; residual_multiplier, the activated half, the softmax over the k, embedding_multiplier,
   attention_multiplier and the shared MLP each move the logits by more than 1e-3 of their maximum (granitemoe_checks);
6s. Arcee AFM (arcee): head_dim and num_key_value_heads from ArceeConfig's None rules; the folder's exact tensor names (no
   gate_proj, no biases); the cached run equal to the full pass; ReLU for relu² and dropping the yarn scaling each move
   the logits by more than 1e-2 of their maximum (arcee_checks);
6t. dots.llm1 (dots1): Dots1Config's layer types by hand (sliding from max_window_layers on whenever sliding_window is set,
   no use_sliding_window switch, layer_types first), its MoE defaults (norm_topk_prob false) and the None fields refused;
   the folder's exact tensor names and shapes (router bias F32) and recorded routing; the cached run equal to the full
   pass; the q/k norms, the sliding window, the correction bias, the shared experts, routed_scaling_factor and
   norm_topk_prob each move the logits by more than 1e-3 of their maximum (dots1_checks);
7. every fixture folder under DIR (default: the committed archives' folders) reloads from its files alone
   (config.json, model.safetensors and reference.json's inputs) to reference.safetensors' outputs exactly,
   and its safetensors files follow the format (8-byte little-endian header size, header padded to 8 bytes,
   offsets tiling the buffer, __metadata__ format pt);
8. with --fresh: the generator, run again into a temporary folder, makes these same fixtures (configs,
   weights and inputs byte for byte, outputs within 1e-12 relative: numpy's transcendental functions may
   differ in the last bit between machines).
Exits 1 on the first failure, naming it."""
import json
import math
import os
import shutil
import struct
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
import bigcode  # noqa: E402
import bloom  # noqa: E402
import cohere  # noqa: E402
import ernie4_5  # noqa: E402
import exaone4  # noqa: E402
import nemotron  # noqa: E402
import arcee  # noqa: E402
import archives  # noqa: E402
import dots1  # noqa: E402
import glm  # noqa: E402
import decoders  # noqa: E402
import deepseek  # noqa: E402
import glm4_moe  # noqa: E402
import ernie4_5_moe  # noqa: E402
import fp8  # noqa: E402
import gpt2  # noqa: E402
import gpt_neo  # noqa: E402
import intq  # noqa: E402
import gpt_oss  # noqa: E402
import granitemoe  # noqa: E402
import m2m100  # noqa: E402
import make_fixtures  # noqa: E402
import modernbert  # noqa: E402
import mpnet  # noqa: E402
import mpt  # noqa: E402
import neox  # noqa: E402
import opt  # noqa: E402
import deberta  # noqa: E402
import falcon  # noqa: E402
import nn  # noqa: E402
import rope  # noqa: E402
import safetensors_np  # noqa: E402
import t5  # noqa: E402

checks = 0
REL = 1e-12       # float64 results of the same code on another CPU or numpy build: last-bit differences only
STORED = 2.0 ** -24   # reference.safetensors holds the float64 outputs rounded to float32: half an ulp, relative


def check(ok, what):
    global checks
    checks += 1
    if not ok:
        raise SystemExit(f"selfcheck FAILED: {what}")


def closed_forms():
    check(abs(nn.gelu(np.array([1.0]))[0] - 0.8413447460685429) < 1e-15, "gelu(1) = Phi(1) = 0.8413447460685429")
    check(abs(nn.gelu_tanh(np.array([1.0]))[0] - 0.5 * (1 + math.tanh(math.sqrt(2 / math.pi) * 1.044715))) < 1e-15, "gelu_tanh(1)")
    ln = nn.layer_norm(np.array([1.0, 2.0, 3.0, 4.0]), 1.0, 0.0, 0.0)
    check(np.allclose(ln, np.array([-3, -1, 1, 3]) / math.sqrt(5), rtol=0, atol=1e-15), "layer_norm([1,2,3,4]) = [-3,-1,1,3]/sqrt(5)")
    check(np.allclose(nn.rms_norm(np.array([3.0, 4.0]), 1.0, 0.0), [3 / math.sqrt(12.5), 4 / math.sqrt(12.5)], atol=1e-15), "rms_norm([3,4])")
    check(np.allclose(nn.softmax(np.array([0.0, math.log(3.0)])), [0.25, 0.75], atol=1e-15), "softmax([0, ln 3]) = [1/4, 3/4]")
    # the penalties by hand: scores [2, -2, 1.5, 1.2], prompt [0, 1], repetition 2 -> [1, -4, 1.5, 1.2]: id 2; then id 2 is new
    # once (frequency 0.25, presence 0.5) and seen: 1.5 / 2 - 0.25 - 0.5 = 0, so id 3 (1.2) wins the second step
    run = make_fixtures.greedy_penalized(lambda toks: np.array([2.0, -2.0, 1.5, 1.2]), [0, 1], repetition=2.0, presence=0.5,
                                         frequency=0.25, n=2)
    check(run["tokens"] == [2, 3] and np.allclose(run["margins"], [0.3, 0.2], atol=1e-15), f"greedy_penalized by hand: {run}")
    m = nn.causal(6, window=3)
    check(m.sum(1).tolist() == [1, 2, 3, 3, 3, 3] and m[5, 3] and not m[5, 2], "a window of 3 shows each query 3 keys, itself included")


def buckets():
    bi = {0: 0, 1: 17, -1: 1, 7: 23, -7: 7, -8: 8, -11: 8, -12: 9, -15: 9, -16: 10, 16: 26, -127: 15, -1000: 15, 1000: 31}
    for rel, want in bi.items():
        got = int(t5.relative_position_bucket(np.array([rel]), True, 32, 128)[0])
        check(got == want, f"T5 bidirectional bucket of {rel}: {got}, expected {want}")
    uni = {5: 0, 0: 0, -1: 1, -15: 15, -16: 16, -18: 16, -19: 17, -127: 31, -128: 31, -5000: 31}
    for rel, want in uni.items():
        got = int(t5.relative_position_bucket(np.array([rel]), False, 32, 128)[0])
        check(got == want, f"T5 causal bucket of {rel}: {got}, expected {want}")


def rope_relative():
    rng = np.random.default_rng(5)
    longrope = {"type": "longrope", "short_factor": [1.0, 1.1, 1.3, 1.6, 2.0, 2.5, 3.1, 3.8],
                "long_factor": [1.0, 3.0, 7.0, 12.0, 20.0, 30.0, 45.0, 60.0]}
    for scaling in (None, {"type": "linear", "factor": 4.0}, dict(make_fixtures.LLAMA3_ROPE),
                    {"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 64}, longrope):
        cfg = make_fixtures.llm_config("llama", "LlamaForCausalLM", rope_scaling=scaling)
        if scaling is longrope:
            cfg["original_max_position_embeddings"] = 4       # every pair below is past it: one table (the long one)
        q, k = rng.standard_normal((1, 1, 1, 16)), rng.standard_normal((1, 1, 1, 16))

        def score(m, n):
            cos, sin = rope.cos_sin(cfg, np.array([m, n]))
            return float((rope.apply(q, cos[:1], sin[:1]) * rope.apply(k, cos[1:], sin[1:])).sum())
        check(abs(score(3, 10) - score(20, 27)) < 1e-12 and abs(score(3, 10) - score(3, 11)) > 1e-6,
              f"rope {scaling}: q·k depends on the distance only")


# the families whose causality check is only the prefix's logits = the first rows of the full pass's
PREFIX_FORWARDS = {kind: module.forward for module in (ernie4_5_moe, glm4_moe, deepseek, glm, cohere, granitemoe, arcee, dots1)
                   for kind in module.KINDS}
PREFIX_FORWARDS.update(ernie4_5=ernie4_5.forward, nemotron=nemotron.forward, exaone4=exaone4.forward)


def causality(out):
    for name in sorted(os.listdir(out)):
        d = os.path.join(out, name)
        cfg, P, ref = load(d)
        ids = np.array(ref["inputs"]["input_ids"])
        if cfg["model_type"] in ("llama", "mistral", "qwen2", "qwen3", "phi3", "gemma", "gemma2", "stablelm", "starcoder2", "olmo", "olmo3", "seed_oss") + decoders.MOES and rope.parameters(cfg)["rope_type"] != "dynamic":
            full = decoders.forward(cfg, P, ids)[1]
            part = decoders.forward(cfg, P, ids[:, :17])[1]
            check(np.array_equal(part, full[:, :17]) or np.abs(part - full[:, :17]).max() < 1e-12, f"{name}: prefix logits = first rows")
        elif cfg["model_type"] == "gpt_oss":
            full = gpt_oss.forward(cfg, P, ids)[1]
            part = gpt_oss.forward(cfg, P, ids[:, :11])[1]
            check(np.abs(part - full[:, :11]).max() < 1e-12, f"{name}: prefix logits = first rows")
        elif cfg["model_type"] == "falcon":
            full = falcon.forward(cfg, P, ids)[1]
            check(np.abs(falcon.forward(cfg, P, ids[:, :11])[1] - full[:, :11]).max() < 1e-12, f"{name}: prefix logits = first rows")
            if cfg.get("new_decoder_architecture"):          # the grouped layout matters: its rows regrouped [q (all) | k | v] move the logits
                nh, nkv = cfg["num_attention_heads"], cfg["num_kv_heads"]
                hd, g = cfg["hidden_size"] // nh, nh // nkv
                blocks = [(grp, j) for grp in range(nkv) for j in range(g + 2)]
                order = [blocks.index((grp, j)) for j in list(range(g)) + [g, g + 1] for grp in range(nkv)]
                rows = np.concatenate([np.arange(o * hd, (o + 1) * hd) for o in order])
                P2 = dict(P)
                for i in range(cfg["num_hidden_layers"]):
                    k = f"transformer.h.{i}.self_attention.query_key_value."
                    P2[k + "weight"], P2[k + "bias"] = P[k + "weight"][rows], P[k + "bias"][rows]
                check(np.abs(falcon.forward(cfg, P2, ids)[1] - full).max() > 1e-2 * np.abs(full).max(),
                      f"{name}: query_key_value read by group, not as [q | k | v] blocks")
        elif cfg["model_type"] in PREFIX_FORWARDS:   # forward(cfg, P, ids)[1]: the logits, no other input
            fwd = PREFIX_FORWARDS[cfg["model_type"]]
            full = fwd(cfg, P, ids)[1]
            check(np.abs(fwd(cfg, P, ids[:, :11])[1] - full[:, :11]).max() < 1e-12, f"{name}: prefix logits = first rows")
        elif cfg["model_type"] in ("bloom", "mpt"):
            fwd = bloom.forward if cfg["model_type"] == "bloom" else mpt.forward
            full = fwd(cfg, P, ids)[1]
            check(np.abs(fwd(cfg, P, ids[:, :11])[1] - full[:, :11]).max() < 1e-12, f"{name}: prefix logits = first rows")
        elif cfg["model_type"] == "gpt_bigcode":
            full = bigcode.forward(cfg, P, ids)[1]
            check(np.abs(bigcode.forward(cfg, P, ids[:, :11])[1] - full[:, :11]).max() < 1e-12, f"{name}: prefix logits = first rows")
        elif cfg["model_type"] == "gpt_neo":
            full = gpt_neo.forward(cfg, P, ids)[1]
            check(np.abs(gpt_neo.forward(cfg, P, ids[:, :11])[1] - full[:, :11]).max() < 1e-12, f"{name}: prefix logits = first rows")
        elif cfg["model_type"] == "opt":
            full = opt.forward(cfg, P, ids)[1]
            check(np.abs(opt.forward(cfg, P, ids[:, :11])[1] - full[:, :11]).max() < 1e-12, f"{name}: prefix logits = first rows")
            shifted = dict(P, **{"model.decoder.embed_positions.weight": np.roll(P["model.decoder.embed_positions.weight"], 2, axis=0)})
            check(np.abs(opt.forward(cfg, shifted, ids)[1] - full).max() > 1e-2 * np.abs(full).max(),
                  f"{name}: reading the positions without the offset of 2 moves the logits")
        elif cfg["model_type"] in neox.FAMILIES:
            full = neox.forward(cfg, P, ids)[1]
            check(np.abs(neox.forward(cfg, P, ids[:, :11])[1] - full[:, :11]).max() < 1e-12, f"{name}: prefix logits = first rows")
        elif cfg["model_type"] == "gpt2":
            full = gpt2.forward(cfg, P, ids)[1]
            check(np.abs(gpt2.forward(cfg, P, ids[:, :5])[1] - full[:, :5]).max() < 1e-12, f"{name}: prefix logits = first rows")
        elif cfg["model_type"] == "t5":
            enc = t5.encode(cfg, P, ids)
            dec = np.array(ref["inputs"]["decoder_input_ids"])
            full = t5.decode(cfg, P, enc, dec)[1]
            check(np.abs(t5.decode(cfg, P, enc, dec[:, :4])[1] - full[:, :4]).max() < 1e-12, f"{name}: decoder prefix logits = first rows")
        elif cfg["model_type"] in bart.KINDS and "decoder_input_ids" in ref["inputs"]:
            mask = np.array(ref["inputs"]["attention_mask"])
            enc = bart.encode(cfg, P, ids, mask)
            dec = np.array(ref["inputs"]["decoder_input_ids"])
            full = bart.lm_logits(P, bart.decode(cfg, P, enc, dec, mask))
            part = bart.lm_logits(P, bart.decode(cfg, P, enc, dec[:, :4], mask))
            check(np.abs(part - full[:, :4]).max() < 1e-12, f"{name}: decoder prefix logits = first rows")


def windows(out):
    for name, w in (("mistral", 7), ("qwen2", None)):
        cfg, P, ref = load(os.path.join(out, name))
        ids = np.array(ref["inputs"]["input_ids"])[:1]
        other = ids.copy()
        other[0, 0] = (ids[0, 0] + 1) % cfg["vocab_size"]
        a, b = decoders.forward(cfg, P, ids)[1], decoders.forward(cfg, P, other)[1]
        if w is not None:
            reach = 2 * (w - 1) + 1
            check(np.array_equal(a[:, reach:], b[:, reach:]), f"{name}: token 0 reaches past 2(W-1) through a window of {w}")
            check(not np.array_equal(a[:, reach - 1], b[:, reach - 1]), f"{name}: token 0 reaches position 2(W-1)")
        else:
            check(not np.array_equal(a[:, -1], b[:, -1]), f"{name}: its full layer 0 lets token 0 reach the last position")


def padding(out):
    for name in ("bert-mlm", "roberta", "distilbert"):
        cfg, P, ref = load(os.path.join(out, name))
        ins = {k: np.array(v) for k, v in ref["inputs"].items()}
        n = int(ins["attention_mask"][1].sum())
        if cfg["model_type"] == "distilbert":
            full = bert.distilbert_encode(cfg, P, ins["input_ids"][1:], ins["attention_mask"][1:])
            alone = bert.distilbert_encode(cfg, P, ins["input_ids"][1:, :n])
        else:
            tt = ins.get("token_type_ids")
            full = bert.encode(cfg, P, ins["input_ids"][1:], None if tt is None else tt[1:], ins["attention_mask"][1:])
            alone = bert.encode(cfg, P, ins["input_ids"][1:, :n], None if tt is None else tt[1:, :n])
        check(np.abs(full[:, :n] - alone).max() < 1e-12, f"{name}: padded row = the sentence alone")


def modernbert_checks(out):
    w = modernbert.window(20, 4)
    check(w.sum(1).tolist() == [5, 6, 7, 8] + [9] * 12 + [8, 7, 6, 5] and w[10, 14] and w[10, 6] and not w[10, 15],
          "modernbert: key j visible to query i iff |i - j| <= local_attention // 2")
    cfg, P, ref = load(os.path.join(out, "modernbert"))
    ins = {k: np.array(v) for k, v in ref["inputs"].items()}
    ids, mask = ins["input_ids"], ins["attention_mask"]
    t = ids.shape[1]
    h = modernbert.encode(cfg, P, ids, mask)
    wide = dict(cfg, local_attention=2 * t)
    as_global = [(None, rp) for _, rp in modernbert.plan(wide)]
    hw = modernbert.encode(wide, P, ids, mask)
    check(np.array_equal(hw, modernbert.encode(wide, P, ids, mask, layers=as_global)),
          "modernbert: a local layer with local_attention >= 2T is a global layer with the local theta")
    scale = np.abs(h).max()
    check(np.abs(hw - h).max() > 1e-3 * scale, "modernbert: the fixture's window changes the outputs")
    swapped = dict(cfg, global_rope_theta=cfg["local_rope_theta"], local_rope_theta=cfg["global_rope_theta"])
    check(np.abs(modernbert.encode(swapped, P, ids, mask) - h).max() > 1e-3 * scale, "modernbert: swapping the thetas changes the outputs")
    one = dict(cfg, local_rope_theta=cfg["global_rope_theta"])
    check(np.abs(modernbert.encode(one, P, ids, mask) - h).max() > 1e-3 * scale, "modernbert: the local theta changes the outputs")
    n = int(mask[1].sum())
    check(np.abs(h[1:, :n] - modernbert.encode(cfg, P, ids[1:, :n])).max() < 1e-12, "modernbert: padded row = the sentence alone")
    c5, P5, ref5 = load(os.path.join(out, "modernbert-v5"))
    check(modernbert.plan(c5) == modernbert.plan(cfg) and "global_rope_theta" not in c5 and "rope_parameters" in c5,
          "modernbert-v5: 5.x's rope_parameters and layer_types read to the 4.x folder's layers")
    check(np.array_equal(modernbert.encode(c5, P5, ids, mask), h), "modernbert-v5: the same outputs as modernbert")


def mpnet_checks(out):
    rel = np.arange(-3000, 3001)
    check(np.array_equal(mpnet.relative_position_bucket(rel), t5.relative_position_bucket(rel, True, 32, 128)),
          "mpnet: MPNet's relative_position_bucket is T5's bidirectional bucket (32, 128) for |distance| <= 3000")
    cfg, P, ref = load(os.path.join(out, "mpnet"))
    ids, mask = np.array(ref["inputs"]["input_ids"]), np.array(ref["inputs"]["attention_mask"])
    check(int(mpnet.relative_position_bucket(np.array([-(ids.shape[1] - 1)]))[0]) == 15
          and int(mpnet.relative_position_bucket(np.array([ids.shape[1] - 1]))[0]) == 31, "mpnet: the long row reaches the last buckets")
    h = mpnet.encode(cfg, P, ids, mask)
    n = int(mask[1].sum())
    check(np.abs(h[1:, :n] - mpnet.encode(cfg, P, ids[1:, :n])).max() < 1e-12, "mpnet: padded row = the sentence alone")
    flat = dict(P, **{"encoder.relative_attention_bias.weight": np.zeros_like(P["encoder.relative_attention_bias.weight"])})
    check(np.abs(mpnet.encode(cfg, flat, ids, mask) - h).max() > 1e-3 * np.abs(h).max(), "mpnet: the relative bias changes the outputs")
    c40, P40, _ = load(os.path.join(out, "mpnet-seqcls"))
    check(P40["encoder.relative_attention_bias.weight"].shape[0] == 40 and c40["relative_attention_num_buckets"] == 40,
          "mpnet-seqcls: a 40-row table (32 buckets used)")


def electra_checks(out):
    cfg, P, ref = load(os.path.join(out, "electra"))
    ins = {k: np.array(v) for k, v in ref["inputs"].items()}
    h = bert.electra_encode(cfg, P, ins["input_ids"], ins["token_type_ids"], ins["attention_mask"])
    n = int(ins["attention_mask"][1].sum())
    alone = bert.electra_encode(cfg, P, ins["input_ids"][1:, :n], ins["token_type_ids"][1:, :n])
    check(np.abs(h[1:, :n] - alone).max() < 1e-12, "electra: padded row = the sentence alone")
    check(P["embeddings.word_embeddings.weight"].shape[1] == 16 and P["embeddings_project.weight"].shape == (32, 16),
          "electra: embedding_size 16 projected to hidden_size 32")
    flat = dict(P, **{"embeddings.token_type_embeddings.weight": np.zeros_like(P["embeddings.token_type_embeddings.weight"])})
    check(np.abs(bert.electra_encode(cfg, flat, ins["input_ids"], ins["token_type_ids"], ins["attention_mask"]) - h).max() > 1e-3,
          "electra: the token types change the outputs")


ALBERT_NAMES = {"q": "attention.query", "k": "attention.key", "v": "attention.value", "o": "attention.dense",
                "ln1": "attention.LayerNorm", "up": "ffn", "down": "ffn_output", "ln2": "full_layer_layer_norm"}


def albert_checks(out):
    """ALBERT's layer sharing, group selection, names and norms (albert.py); see the module docstring, 6g."""
    for (n, g), want in {(12, 1): [0] * 12, (4, 2): [0, 0, 1, 1], (6, 4): [0, 0, 1, 2, 2, 3], (5, 2): [0, 0, 0, 1, 1],
                         (6, 3): [0, 0, 1, 1, 2, 2], (2, 4): [0, 2]}.items():
        got = [albert.group_index(n, g, i) for i in range(n)]
        check(got == want, f"albert: layers {n}, groups {g}: groups {got}, by hand {want}")
    for name in ("albert", "albert-groups", "albert-mlm", "albert-seqcls"):
        d = os.path.join(out, name)
        cfg, P, ref = load(d)
        raw, _ = safetensors_np.read(os.path.join(d, "model.safetensors"))
        ins = {k: np.array(v) for k, v in ref["inputs"].items()}
        ids, types, mask = ins["input_ids"], ins["token_type_ids"], ins["attention_mask"]
        arch = cfg["architectures"][0]
        pre = "" if arch == "AlbertModel" else "albert."
        sets = [f"encoder.albert_layer_groups.{g}.albert_layers.{j}." for g in range(cfg["num_hidden_groups"])
                for j in range(cfg["inner_group_num"])]
        names = ["embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
                 "embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias",
                 "encoder.embedding_hidden_mapping_in.weight", "encoder.embedding_hidden_mapping_in.bias",
                 "pooler.weight", "pooler.bias"]
        names += [s + t + x for s in sets for t in ("attention.query.", "attention.key.", "attention.value.", "attention.dense.",
                                                   "attention.LayerNorm.", "ffn.", "ffn_output.", "full_layer_layer_norm.")
                  for x in ("weight", "bias")]
        names = [pre + k for k in names]
        if arch == "AlbertForMaskedLM":
            names += ["predictions." + k for k in ("LayerNorm.weight", "LayerNorm.bias", "bias", "dense.weight", "dense.bias")]
        if arch == "AlbertForSequenceClassification":
            names += ["classifier.weight", "classifier.bias"]
        check(sorted(raw) == sorted(names), f"{name}: tensor names {sorted(set(raw) ^ set(names))} differ from ALBERT's")
        e, c = cfg["embedding_size"], cfg["hidden_size"]
        check(P["embeddings.word_embeddings.weight"].shape[1] == e and P["encoder.embedding_hidden_mapping_in.weight"].shape == (c, e),
              f"{name}: embeddings at embedding_size {e}, mapped to hidden_size {c}")
        h = albert.encode(cfg, P, ids, types, mask)
        big = np.abs(h).max()
        # the shared parameter sets applied explicitly, by BERT's layer under ALBERT's names
        if name == "albert-groups":
            calls = ["0.0", "0.1", "0.0", "0.1", "1.0", "1.1", "1.0", "1.1"]
        else:
            calls = ["0.0"] * cfg["num_hidden_layers"]
        layers = ["encoder.albert_layer_groups.{}.albert_layers.{}.".format(*x.split(".")) for x in calls]
        check(albert.plan(cfg) == layers, f"{name}: the AlbertLayer calls are {calls}")
        x = nn.linear(albert.embed(cfg, P, ids, types), P["encoder.embedding_hidden_mapping_in.weight"],
                      P["encoder.embedding_hidden_mapping_in.bias"])
        for p in layers:
            x = bert._layer(P, p, x, cfg["num_attention_heads"], cfg["layer_norm_eps"], nn.gelu_tanh, nn.padding(mask), ALBERT_NAMES)
        check(np.abs(x - h).max() < 1e-12 * big, f"{name}: the encoder = BERT's post-LN layer over the repeated parameter sets")
        for r in range(1, ids.shape[0]):
            n = int(mask[r].sum())
            alone = albert.encode(cfg, P, ids[r:r + 1, :n], types[r:r + 1, :n])
            check(n < ids.shape[1] and np.abs(h[r:r + 1, :n] - alone).max() < 1e-12 * big, f"{name}: padded row {r} = its sentence alone")

        def moved(what, got, want=h, by=1e-3):
            check(np.abs(got - want).max() > by * np.abs(want).max(), f"{name}: {what} moves the outputs")
        moved("no token types", albert.encode(cfg, P, ids, None, mask))
        moved("the exact GELU for gelu_new (past twice the fp32 rule)", albert.encode(dict(cfg, hidden_act="gelu"), P, ids, types, mask),
              by=4e-5)
        swapped = dict(P)
        for s in sets:
            for t in ("weight", "bias"):
                swapped[s + "attention.LayerNorm." + t] = P[s + "full_layer_layer_norm." + t]
                swapped[s + "full_layer_layer_norm." + t] = P[s + "attention.LayerNorm." + t]
        moved("swapping attention.LayerNorm and full_layer_layer_norm", albert.encode(cfg, swapped, ids, types, mask))
        eps = cfg["layer_norm_eps"]

        def variant(pre_ln=False, residual_from_input=False):
            y = nn.linear(albert.embed(cfg, P, ids, types), P["encoder.embedding_hidden_mapping_in.weight"],
                          P["encoder.embedding_hidden_mapping_in.bias"])
            nh = cfg["num_attention_heads"]
            hs = c // nh
            for p in layers:
                a = p + "attention."
                ln1 = lambda z: nn.layer_norm(z, P[a + "LayerNorm.weight"], P[a + "LayerNorm.bias"], eps)
                ln2 = lambda z: nn.layer_norm(z, P[p + "full_layer_layer_norm.weight"], P[p + "full_layer_layer_norm.bias"], eps)
                z = ln1(y) if pre_ln else y
                q, k, v = (nn.heads(nn.linear(z, P[a + w + ".weight"], P[a + w + ".bias"]), nh, hs) for w in ("query", "key", "value"))
                o = nn.linear(nn.merge(nn.attention(q, k, v, hs ** -0.5, nn.padding(mask))), P[a + "dense.weight"], P[a + "dense.bias"])
                att = y + o if pre_ln else ln1(y + o)
                z = ln2(att) if pre_ln else att
                f = nn.linear(nn.gelu_tanh(nn.linear(z, P[p + "ffn.weight"], P[p + "ffn.bias"])), P[p + "ffn_output.weight"], P[p + "ffn_output.bias"])
                y = att + f if pre_ln else ln2(f + (y if residual_from_input else att))
            return y
        check(np.abs(variant() - h).max() < 1e-12 * big, f"{name}: the written-out post-LN layer is albert.layer")
        moved("a pre-LN layer", variant(pre_ln=True))
        moved("the second residual from the layer input", variant(residual_from_input=True))
        if name == "albert-groups":
            moved("group i % G", albert.encode(cfg, P, ids, types, mask, layers=[
                f"encoder.albert_layer_groups.{i % 2}.albert_layers.{j}." for i in range(4) for j in range(2)]))
            moved("each parameter set applied once", albert.encode(cfg, P, ids, types, mask, layers=sets))
            check(e == c, "albert-groups: embedding_size = hidden_size")
            ident = dict(P, **{"encoder.embedding_hidden_mapping_in.weight": np.eye(c),
                               "encoder.embedding_hidden_mapping_in.bias": np.zeros(c)})
            moved("skipping embedding_hidden_mapping_in at equal sizes (ELECTRA's rule)", albert.encode(cfg, ident, ids, types, mask))
        if arch == "AlbertForMaskedLM":
            z = nn.gelu_tanh(h @ P["predictions.dense.weight"].T + P["predictions.dense.bias"])
            z = (z - z.mean(-1, keepdims=True)) / np.sqrt(z.var(-1, keepdims=True) + eps) * P["predictions.LayerNorm.weight"] \
                + P["predictions.LayerNorm.bias"]
            by_hand = z @ P["embeddings.word_embeddings.weight"].T + P["predictions.bias"]
            logits = albert.mlm_logits(cfg, P, h)
            check(np.abs(by_hand - logits).max() < 1e-12 * np.abs(logits).max(),
                  f"{name}: logits = LN(gelu_new(dense h)) · word_embeddingsᵀ + predictions.bias")
            moved("predictions.bias", albert.mlm_logits(cfg, dict(P, **{"predictions.bias": np.zeros(cfg["vocab_size"])}), h), logits)
            check("pooler.weight" in P, f"{name}: the pooler the published checkpoint carries is stored (and unused)")
        if arch == "AlbertForSequenceClassification":
            pooled = np.tanh(h[:, 0] @ P["pooler.weight"].T + P["pooler.bias"])
            logits = albert.classification(P, albert.pooler(P, h))
            check(np.abs(pooled @ P["classifier.weight"].T + P["classifier.bias"] - logits).max() < 1e-12 * np.abs(logits).max()
                  and logits.shape == (ids.shape[0], len(cfg["id2label"])), f"{name}: logits = classifier(tanh(pooler(h[:, 0])))")


def deberta_checks(out):
    # the float32 log bucket: every distance below max_position − 1 (the published shape, 256 buckets over 512 positions,
    # and the fixtures' 16 over 64) is at least 1e-3 away from a ceiling step in float64, so a last-bit difference in log
    # cannot move it, and equals the float64 formula there; from max_position − 1 on (log(x)/log(x) is exactly 1 there)
    # every bucket is ≥ position_buckets − 1: the table's last column (or first), whatever a ceiling does
    for buckets, max_pos in ((16, 64), (16, 40), (256, 512)):
        mid = buckets // 2
        rel = np.arange(mid + 1, max_pos - 1)
        v = np.log(rel / mid) / np.log((max_pos - 1) / mid) * (mid - 1)
        frac = v - np.floor(v)
        check(np.all((frac > 1e-3) & (frac < 1 - 1e-3)), f"deberta: no log bucket near a ceiling step ({buckets}, {max_pos})")
        want = np.ceil(v).astype(np.int64) + mid
        check(np.array_equal(deberta.make_log_bucket_position(rel, buckets, max_pos), want)
              and np.array_equal(deberta.make_log_bucket_position(-rel, buckets, max_pos), -want),
              f"deberta: make_log_bucket_position in float32 = the float64 formula ({buckets}, {max_pos})")
        far = np.arange(max_pos - 1, 5000)
        check(np.all(deberta.make_log_bucket_position(far, buckets, max_pos) >= buckets - 1)
              and np.all(deberta.make_log_bucket_position(-far, buckets, max_pos) <= 1 - buckets),
              f"deberta: distances from max_position - 1 on take the last column ({buckets}, {max_pos})")
    cfg, P, ref = load(os.path.join(out, "deberta-v3"))
    ids, mask = np.array(ref["inputs"]["input_ids"]), np.array(ref["inputs"]["attention_mask"])
    rel = deberta.build_relative_position(ids.shape[1], ids.shape[1], 16, cfg["max_position_embeddings"])
    check(rel.max() > 8 and np.clip(rel + 16, 0, 31).max() == 31, "deberta-v3: the long row takes log buckets and reaches the last column")
    h = deberta.encode(cfg, P, ids, mask)
    n = int(mask[1].sum())
    check(np.abs(h[1:, :n] - deberta.encode(cfg, P, ids[1:, :n])).max() < 1e-12, "deberta-v3: padded row = the sentence alone")
    # the disentangled terms by their definition, one (i, j) at a time: score = (q_i·k_j + q_i·Pk[c] + k_j·Pq[c']) / s
    t, hs, nh = 7, 16, 2
    x = deberta.nn.layer_norm(P["embeddings.word_embeddings.weight"][ids[:1, :t]], P["embeddings.LayerNorm.weight"],
                              P["embeddings.LayerNorm.bias"], 1e-7)
    a = "encoder.layer.0.attention.self."
    pe = deberta.rel_embeddings(cfg, P)[:32]
    q = x[0] @ P[a + "query_proj.weight"].T + P[a + "query_proj.bias"]
    k = x[0] @ P[a + "key_proj.weight"].T + P[a + "key_proj.bias"]
    pq = pe @ P[a + "query_proj.weight"].T + P[a + "query_proj.bias"]
    pk = pe @ P[a + "key_proj.weight"].T + P[a + "key_proj.bias"]
    worst = 0.0
    for hh in range(nh):
        sl = slice(hh * hs, (hh + 1) * hs)
        for i in range(t):
            for j in range(t):
                c = min(max(i - j + 16, 0), 31)                                    # |i − j| < 8: no bucketing
                want = (q[i, sl] @ k[j, sl] + q[i, sl] @ pk[c, sl] + k[j, sl] @ pq[c, sl]) / np.sqrt(hs * 3)
                qh = deberta.nn.heads(q[None], nh, hs)
                kh = deberta.nn.heads(k[None], nh, hs)
                got = (qh @ kh.transpose(0, 1, 3, 2))[0, hh, i, j] / np.sqrt(hs * 3) \
                    + (qh @ deberta.nn.heads(pk[None], nh, hs).transpose(0, 1, 3, 2))[0, hh, i, c] / np.sqrt(hs * 3) \
                    + (kh @ deberta.nn.heads(pq[None], nh, hs).transpose(0, 1, 3, 2))[0, hh, j, c] / np.sqrt(hs * 3)
                worst = max(worst, abs(want - got))
    check(worst < 1e-12, "deberta: the gathered c2p and p2c columns are the paper's q_i·Kr[δ(i,j)] and k_j·Qr[δ(i,j)]")
    flat = dict(P, **{"encoder.rel_embeddings.weight": np.zeros_like(P["encoder.rel_embeddings.weight"])})
    check(np.abs(deberta.encode(cfg, flat, ids, mask) - h).max() > 1e-3 * np.abs(h).max(), "deberta-v3: the relative terms change the outputs")
    c2, P2, _ = load(os.path.join(out, "deberta-v2-tokcls"))
    check("encoder.layer.0.attention.self.pos_key_proj.weight" in P2 and "embeddings.position_embeddings.weight" in P2
          and P2["encoder.rel_embeddings.weight"].shape[0] == 12, "deberta-v2-tokcls: own positional projections, absolute positions, span 6")


def embeddinggemma_checks(out):
    cfg, P, ref = load(os.path.join(out, "embeddinggemma"))
    P = {"model." + k: v for k, v in P.items()}
    ids = np.array(ref["inputs"]["input_ids"])
    h = decoders.forward(cfg, P, ids)[0]
    later = ids.copy()
    later[:, -1] = (later[:, -1] + 1) % cfg["vocab_size"]
    check(np.abs(decoders.forward(cfg, P, later)[0][:, 0] - h[:, 0]).max() > 1e-6, "embeddinggemma: the first token sees the last")
    causal = dict(cfg, use_bidirectional_attention=False)
    check(np.abs(decoders.forward(causal, P, ids)[0] - h).max() > 1e-3, "embeddinggemma: bidirectional differs from causal")


def moe(out):
    rng = np.random.default_rng(7)
    c, f, n = 8, 6, 4
    P = {"gate.weight": rng.standard_normal((n, c))}
    for e in range(n):
        P[f"experts.{e}.gate_proj.weight"] = rng.standard_normal((f, c))
        P[f"experts.{e}.up_proj.weight"] = rng.standard_normal((f, c))
        P[f"experts.{e}.down_proj.weight"] = rng.standard_normal((c, f))
    P["shared_expert.gate_proj.weight"] = rng.standard_normal((f, c))
    P["shared_expert.up_proj.weight"] = rng.standard_normal((f, c))
    P["shared_expert.down_proj.weight"] = rng.standard_normal((c, f))
    P["shared_expert_gate.weight"] = rng.standard_normal((1, c))
    x = rng.standard_normal((1, 3, c))

    def expert(e, v, pre="experts.%d."):
        p = pre % e if "%d" in pre else pre
        return nn.linear(nn.silu(nn.linear(v, P[p + "gate_proj.weight"])) * nn.linear(v, P[p + "up_proj.weight"]), P[p + "down_proj.weight"])
    cfg = {"model_type": "olmoe", "num_experts": n, "num_experts_per_tok": n, "norm_topk_prob": True}
    probs = nn.softmax(nn.linear(x, P["gate.weight"]))
    want = sum(probs[..., e:e + 1] * expert(e, x) for e in range(n))
    check(np.abs(decoders.moe_block(cfg, P, "", x, nn.silu) - want).max() < 1e-12, "MoE: top-k = E renormalized = the softmax-weighted sum of all experts")
    v = np.zeros((1, 1, c))
    v[..., 0] = 1.0
    Q = dict(P, **{"gate.weight": np.zeros((n, c))})
    Q["gate.weight"][:, 0] = np.log([4.0, 3.0, 2.0, 1.0])             # probabilities 0.4, 0.3, 0.2, 0.1
    P, keep = Q, P
    for norm, (w0, w1) in ((True, (4 / 7, 3 / 7)), (False, (0.4, 0.3))):
        cfg = {"model_type": "qwen3_moe", "num_experts": n, "num_experts_per_tok": 2, "norm_topk_prob": norm}
        got = decoders.moe_block(cfg, P, "", v, nn.silu)
        check(np.abs(got - (w0 * expert(0, v) + w1 * expert(1, v))).max() < 1e-12, f"MoE: top-2 of 0.4/0.3/0.2/0.1, norm_topk_prob {norm}")
    cfg = {"model_type": "qwen2_moe", "num_experts": n, "num_experts_per_tok": 2, "norm_topk_prob": False}
    shared = expert(0, v, "shared_expert.") / (1 + np.exp(-nn.linear(v, P["shared_expert_gate.weight"])))
    check(np.abs(decoders.moe_block(cfg, P, "", v, nn.silu) - (0.4 * expert(0, v) + 0.3 * expert(1, v) + shared)).max() < 1e-12,
          "MoE: Qwen2-MoE adds sigmoid(shared_expert_gate x) * shared_expert(x)")
    P = keep
    # the 5.x fused layout: the same tensors, the same outputs to the last bit
    a, b = os.path.join(out, "mixtral"), os.path.join(out, "mixtral-v5")
    pa, _ = safetensors_np.read(os.path.join(a, "model.safetensors"))
    pb, _ = safetensors_np.read(os.path.join(b, "model.safetensors"))
    fused = make_fixtures.fuse_experts(pa)
    check(sorted(fused) == sorted(pb) and all(np.array_equal(fused[k], pb[k]) for k in pb), "mixtral-v5 holds mixtral's tensors in 5.x's fused layout")
    cfg_a, Pa, ref = load(a)
    cfg_b, Pb, _ = load(b)
    ids = np.array(ref["inputs"]["input_ids"])
    ha, la = decoders.forward(cfg_a, Pa, ids)
    hb, lb = decoders.forward(cfg_b, Pb, ids)
    check(np.array_equal(ha, hb) and np.array_equal(la, lb), "mixtral and mixtral-v5: bit-identical outputs from the two layouts")
    for name in sorted(os.listdir(out)):
        cfg, P, ref = load(os.path.join(out, name))
        if cfg["model_type"] not in decoders.MOES:
            continue
        ids = np.array(ref["inputs"]["input_ids"])
        routing = []
        decoders.forward(cfg, P, ids, routing=routing)
        gap = min(float(r["gap"].min()) for r in routing)
        rec = ref["routing"]
        check(gap >= make_fixtures.MIN_ROUTING_GAP and abs(gap - rec["min_routing_gap"]["input_ids"]) <= 1e-12,
              f"{name}: routing gap {gap} vs recorded {rec['min_routing_gap']['input_ids']} (at least {make_fixtures.MIN_ROUTING_GAP})")
        layers = [i for i, sp in enumerate(rec["sparse_layers"]) if sp]
        check(rec["sparse_layers"] == decoders.sparse_layers(cfg) and len(layers) == len(routing), f"{name}: sparse layers")
        for i, r in zip(layers, routing):
            check(r["ids"].reshape(ids.shape[0], ids.shape[1], -1)[:, -1].tolist() == rec["last_position_experts"][str(i)],
                  f"{name}: layer {i}'s experts at the last positions")


def gpt_oss_checks(out):
    # MXFP4 (integrations/mxfp4.py convert_moe_packed_tensors): byte 0x21 is [+0.5 (low nibble 1), +1.0 (high nibble 2)]
    # at scale 127, doubled at 128, halved at 126; 0xF8 is [-0.0, -6.0]; blocks (E, R, G, 16) -> (E, G·32, R)
    one = np.zeros((1, 1, 1, 16), dtype=np.uint8)
    one[0, 0, 0, 0] = 0x21
    one[0, 0, 0, 1] = 0xF8
    for sc, mul in ((127, 1.0), (128, 2.0), (126, 0.5), (130, 8.0)):
        w = gpt_oss.dequantize(one, np.full((1, 1, 1), sc, dtype=np.uint8))
        check(w.shape == (1, 32, 1) and w[0, :4, 0].tolist() == [0.5 * mul, 1.0 * mul, -0.0, -6.0 * mul]
              and np.signbit(w[0, 2, 0]) and not np.any(w[0, 4:, 0]),
              f"gpt-oss: MXFP4 byte 0x21 -> [0.5, 1.0], 0xF8 -> [-0, -6], times 2^(scale - 127) (scale {sc})")
    check([gpt_oss.FP4_VALUES[i] for i in range(16)] == [0, .5, 1, 1.5, 2, 3, 4, 6, -0., -.5, -1, -1.5, -2, -3, -4, -6],
          "gpt-oss: the e2m1 table")
    rng = np.random.default_rng(11)
    nib = rng.integers(0, 16, size=(2, 3, 64))
    sc = rng.integers(120, 130, size=(2, 3, 2))
    w = gpt_oss.dequantize(*gpt_oss.quantize(nib, sc))
    want = np.array(gpt_oss.FP4_VALUES)[nib] * 2.0 ** (np.repeat(sc, 32, axis=-1) - 127)
    check(w.shape == (2, 64, 3) and np.array_equal(w, want.transpose(0, 2, 1)),
          "gpt-oss: blocks (E, R, G, 16) dequantize to (E, G·32, R), group g's scale on elements 32g..32g+31")
    # sinks: the weights are the softmax over [scores, sink] without its last column; one key: sigmoid(s - z)
    q = rng.standard_normal((1, 2, 3, 4))
    k = rng.standard_normal((1, 1, 3, 4))
    v = rng.standard_normal((1, 1, 3, 4))
    z = np.array([0.7, -1.3])
    got, sw = gpt_oss.sink_attention(q, k, v, 0.5, nn.causal(3), z)
    for hh in range(2):
        for i in range(3):
            sc_ = [float(q[0, hh, i] @ k[0, 0, j]) * 0.5 for j in range(i + 1)]
            e = np.exp(np.array(sc_ + [z[hh]]))
            p_ = e / e.sum()
            check(np.abs(got[0, hh, i] - p_[:-1] @ v[0, 0, :i + 1]).max() < 1e-14 and abs(sw[0, hh, i] - p_[-1]) < 1e-15,
                  "gpt-oss: sink attention = softmax([scores, sink])[:-1] @ V")
    s0 = float(q[0, 0, 0] @ k[0, 0, 0]) * 0.5
    check(abs(got[0, 0, 0] @ np.ones(4) - (v[0, 0, 0] @ np.ones(4)) / (1 + math.exp(z[0] - s0))) < 1e-14,
          "gpt-oss: the first query's weight is sigmoid(score - sink)")
    plain = nn.attention(q, k, v, 0.5, nn.causal(3))
    check(np.abs(gpt_oss.sink_attention(q, k, v, 0.5, nn.causal(3), np.full(2, -1e4))[0] - plain).max() < 1e-14,
          "gpt-oss: a sink of -1e4 is plain attention")
    # the router: top-k of the logits (with bias), softmax over the k values; the experts: interleaved gate/up, clamps
    cfg = {"num_experts_per_tok": 2, "swiglu_limit": 7.0}
    c, f, n = 4, 2, 3
    P = {"r.router.weight": np.zeros((n, c)), "r.router.bias": np.array([1.0, 3.0, 2.5]),
         "r.experts.gate_up_proj": np.zeros((n, c, 2 * f)), "r.experts.gate_up_proj_bias": np.zeros((n, 2 * f)),
         "r.experts.down_proj": np.zeros((n, f, c)), "r.experts.down_proj_bias": np.zeros((n, c))}
    P["r.experts.gate_up_proj"][:, 0, :] = [9.0, -9.0, 0.5, 8.0]          # x = e0: gate [9, 0.5], up [-9, 8] (interleaved)
    P["r.experts.down_proj"][:, :, :2] = np.eye(2)
    P["r.experts.down_proj_bias"][:, 3] = [10.0, 20.0, 30.0]
    x = np.zeros((1, 1, c))
    x[..., 0] = 1.0
    routing = []
    y = gpt_oss.moe(cfg, P, "r.", x, routing)
    w1, w2 = 1 / (1 + math.exp(-0.5)), 1 / (1 + math.exp(0.5))      # softmax([3, 2.5]): experts 1 then 2
    glu = np.array([7.0 / (1 + math.exp(-7.0 * 1.702)), 0.5 / (1 + math.exp(-0.5 * 1.702))])
    inner = (np.array([-7.0, 7.0]) + 1) * glu                          # gate min(9, 7) = 7; up clamped to -7 and 7
    check(routing[0]["ids"].tolist() == [[1, 2]] and abs(routing[0]["gap"][0] - 1.5) < 1e-15,
          "gpt-oss: the router takes the top-k of the biased logits [1, 3, 2.5] (experts 1, 2; gap 2.5 - 1)")
    check(np.abs(y[0, 0] - np.array([inner[0], inner[1], 0.0, w1 * 20 + w2 * 30])).max() < 1e-12,
          "gpt-oss: experts y = ((clamp(up) + 1) * min(gate, 7) * sigmoid(1.702 min(gate, 7))) @ down + bias, gate/up interleaved, "
          "weights softmax over the chosen logits")
    # the folders: layer types, the 5.x twin, what reference.json records
    a, b = os.path.join(out, "gpt-oss"), os.path.join(out, "gpt-oss-v5")
    ca, Pa, ref = load(a)
    cb, Pb, refb = load(b)
    check("layer_types" not in ca and gpt_oss.layer_types(ca) == cb["layer_types"] == ["sliding_attention", "full_attention", "sliding_attention"],
          "gpt-oss: the default layer_types (even layers slide) are gpt-oss-v5's explicit ones")
    check(rope.parameters(ca) == rope.parameters(cb) and "quantization_config" not in cb and ca["quantization_config"]["quant_method"] == "mxfp4",
          "gpt-oss-v5: rope_parameters read to gpt-oss's rope_theta + rope_scaling; no quantization_config")
    pa, _ = safetensors_np.read(os.path.join(a, "model.safetensors"))
    pb, _ = safetensors_np.read(os.path.join(b, "model.safetensors"))
    deq = make_fixtures.dequantize_experts(pa)
    check(sorted(deq) == sorted(pb) and all(np.array_equal(deq[k], pb[k]) for k in pb),
          "gpt-oss-v5 holds gpt-oss's tensors with the experts dequantized")
    ids = np.array(ref["inputs"]["input_ids"])
    check(refb["inputs"] == ref["inputs"], "gpt-oss-v5: gpt-oss's inputs")
    routing, clamps, sinks = [], [], []
    ha, la = gpt_oss.forward(ca, Pa, ids, routing, clamps, sinks)
    hb, lb = gpt_oss.forward(cb, Pb, ids)
    check(np.array_equal(ha, hb) and np.array_equal(la, lb), "gpt-oss and gpt-oss-v5: bit-identical outputs from the two layouts")
    for r_ in (ref, refb):
        rec = r_["routing"]
        gap = min(float(r["gap"].min()) for r in routing)
        check(gap >= make_fixtures.MIN_ROUTING_GAP and abs(gap - rec["min_routing_gap"]["input_ids"]) <= 1e-12,
              f"gpt-oss: routing gap in logits {gap} vs recorded {rec['min_routing_gap']['input_ids']}")
        for i, r in enumerate(routing):
            check(r["ids"].reshape(ids.shape[0], ids.shape[1], -1)[:, -1].tolist() == rec["last_position_experts"][str(i)],
                  f"gpt-oss: layer {i}'s experts at the last positions")
        cl = r_["swiglu_clamp"]
        got = [sum(x[key] for x in clamps) for key in ("gate_above", "up_above", "up_below", "elements")]
        check(got == [cl["gate_above_limit"], cl["up_above_limit"], cl["up_below_minus_limit"], cl["elements"]] and min(got) > 0,
              f"gpt-oss: every swiglu clamp is hit, as recorded ({got})")
        sw = np.stack(sinks)
        check(int((sw > 0.5).sum()) == r_["sinks"]["rows_over_half"] > 0, "gpt-oss: some rows' sink weight exceeds 0.5, as recorded")
    # each part the fixture exercises moves the logits (a loader that ignores it fails)
    scale = np.abs(la).max()

    def moved(c2=ca, P2=Pa):
        return np.abs(gpt_oss.forward(c2, P2, ids)[1] - la).max() > 1e-3 * scale
    check(moved(dict(ca, sliding_window=None)), "gpt-oss: the sliding window changes the logits")
    check(moved(dict(ca, layer_types=["full_attention", "sliding_attention", "full_attention"])), "gpt-oss: which layers slide matters")
    check(moved(dict(ca, rope_scaling=dict(ca["rope_scaling"], truncate=True))), "gpt-oss: yarn's truncate false matters")
    check(moved(dict(ca, rope_scaling=None)), "gpt-oss: yarn matters")
    check(moved(dict(ca, swiglu_limit=1e9)), "gpt-oss: the swiglu clamps change the logits")
    check(moved(dict(ca, swiglu_alpha=1.0)), "gpt-oss: swiglu_alpha matters")
    check(moved(P2=dict(Pa, **{f"model.layers.{i}.self_attn.sinks": np.full(4, -1e4) for i in range(3)})), "gpt-oss: the sinks change the logits")
    check(moved(P2=dict(Pa, **{f"model.layers.{i}.mlp.router.bias": np.zeros(4) for i in range(3)})), "gpt-oss: the router bias changes the logits")
    swapped = dict(Pa)
    for i in range(3):
        for pr in ("gate_up_proj", "down_proj"):
            key = f"model.layers.{i}.mlp.experts.{pr}_blocks"
            by = Pa[key]
            swapped[key] = ((by >> 4) | (by << 4)).astype(np.uint8)
    check(moved(P2=swapped), "gpt-oss: the nibble order changes the logits")
    halves = dict(Pb)
    for i in range(3):
        m = f"model.layers.{i}.mlp.experts."
        f2 = Pb[m + "gate_up_proj"].shape[-1]
        perm = np.concatenate([np.arange(0, f2, 2), np.arange(1, f2, 2)])   # read [gate | up] halves as if interleaved
        halves[m + "gate_up_proj"] = Pb[m + "gate_up_proj"][..., perm]
        halves[m + "gate_up_proj_bias"] = Pb[m + "gate_up_proj_bias"][..., perm]
    check(moved(cb, halves), "gpt-oss: gate/up interleaved, not halves")


def bart_checks(out):
    """The BART family: the sinusoidal table against its formula (sin half, then cos half), shift_tokens_right and
    the learned positions' offset by hand, what each folder holds, padding (encoder keys and cross-attention), the eos
    pooling by hand, and the parts a loader could get wrong (offset, embedding scale, pre/post-LN, the bias, the
    sinusoidal layout) each moving the logits."""
    tab = bart.sinusoidal_table(7, 8)
    pos, i = np.arange(7)[:, None], np.arange(4)[None, :]
    want = np.concatenate([np.sin(pos * 10000.0 ** (-2 * i / 8)), np.cos(pos * 10000.0 ** (-2 * i / 8))], axis=1)
    check(np.abs(tab - want).max() < 1e-7 and tab.dtype == np.float64 and np.array_equal(tab, tab.astype(np.float32)),
          "sinusoidal table = [sin(p w_i) | cos(p w_i)], w_i = 10000^(-2i/d), float32 values")
    check(np.array_equal(tab[0], [0, 0, 0, 0, 1, 1, 1, 1]), "sinusoidal row 0 = [0]*4 + [1]*4")
    check(bart.shift_tokens_right(np.array([[5, 6, 7, 8], [9, -100, 4, 3]]), 1, 2).tolist() == [[2, 5, 6, 7], [2, 9, 1, 4]],
          "shift_tokens_right by hand (start token first, -100 -> pad)")
    names = {}
    for name in ("bart", "mbart", "marian", "pegasus", "bart-seqcls"):
        cfg, P, ref = load(os.path.join(out, name))
        names[name] = set(P)
        check(not any(k.endswith("embed_tokens.weight") or k == "lm_head.weight" for k in P) and "model.shared.weight" in P,
              f"{name}: only model.shared.weight holds the token table (tied copies omitted)")
        ins = {k: np.array(v) for k, v in ref["inputs"].items()}
        ids, mask = ins["input_ids"], ins["attention_mask"]
        n = int(mask[1].sum())
        enc = bart.encode(cfg, P, ids, mask)
        alone = bart.encode(cfg, P, ids[1:, :n])
        check(np.abs(enc[1:, :n] - alone).max() < 1e-12, f"{name}: the padded encoder row = its sentence alone")
        if name == "bart-seqcls":
            shifted = bart.shift_tokens_right(ids, 1, 2)
            check(shifted.tolist() == ref["decoder_input_ids_shifted"], f"{name}: recorded shifted decoder ids")
            h = bart.decode(cfg, P, enc, shifted, mask)
            eos = [int(np.nonzero(r == 2)[0][-1]) for r in ids]
            check(eos == ref["eos_positions"] == [11, 8], f"{name}: the last eos of each row at {eos}")
            x = np.stack([h[b, e] for b, e in enumerate(eos)])
            head = nn.linear(np.tanh(nn.linear(x, P["classification_head.dense.weight"], P["classification_head.dense.bias"])),
                             P["classification_head.out_proj.weight"], P["classification_head.out_proj.bias"])
            check(np.abs(head - bart.forward(cfg, P, ids, mask)[2]).max() < 1e-12, f"{name}: logits = head(h at the last eos) by hand")
            one = bart.forward(cfg, P, ids[1:, :n])[2]
            check(np.abs(one - bart.forward(cfg, P, ids, mask)[2][1:]).max() < 1e-12, f"{name}: the padded row's logits = its pair alone")
            continue
        dec = ins["decoder_input_ids"]
        check(int(dec[0, 0]) == cfg["decoder_start_token_id"] == int(dec[1, 0]), f"{name}: decoder_input_ids start with decoder_start_token_id")
        full = bart.lm_logits(P, bart.decode(cfg, P, enc, dec, mask))
        lone = bart.lm_logits(P, bart.decode(cfg, P, alone, dec[1:]))
        check(np.abs(full[1:] - lone).max() < 1e-12, f"{name}: cross-attention masks the padded encoder keys")
        scale = np.abs(full).max()
        check(np.abs(P["final_logits_bias"]).max() > 0.05 and P["final_logits_bias"].shape == (1, cfg["vocab_size"]),
              f"{name}: final_logits_bias (1, V) nonzero")

        def moved(c2=cfg, P2=P, what=""):
            other = bart.lm_logits(P2, bart.decode(c2, P2, bart.encode(c2, P2, ids, mask), dec, mask))
            check(np.abs(other - full).max() > 1e-3 * scale, f"{name}: {what} moves the logits")
        P2 = dict(P)
        P2["final_logits_bias"] = 0 * P["final_logits_bias"]
        moved(P2=P2, what="final_logits_bias")
        moved(c2=dict(cfg, scale_embedding=not cfg["scale_embedding"]), what="scale_embedding")
        kinds = dict(bart.KINDS)
        try:
            bart.KINDS[cfg["model_type"]] = dict(kinds[cfg["model_type"]], pre_ln=not kinds[cfg["model_type"]]["pre_ln"])
            moved(what="pre- vs post-LN")
        finally:
            bart.KINDS.update(kinds)
        pe = "model.encoder.embed_positions.weight"
        if cfg["model_type"] in ("bart", "mbart"):
            check(P[pe].shape == (cfg["max_position_embeddings"] + 2, cfg["d_model"]), f"{name}: learned table (max_position_embeddings + 2, d)")
            check(np.array_equal(bart._positions(cfg, P, "encoder", 3), P[pe][2:5]), f"{name}: positions 0, 1, 2 read rows 2, 3, 4")
            P2 = dict(P)
            for st in ("encoder", "decoder"):
                P2[f"model.{st}.embed_positions.weight"] = np.concatenate([P[f"model.{st}.embed_positions.weight"][2:], P[f"model.{st}.embed_positions.weight"][:2]])
            moved(P2=P2, what="the position offset 2")
        else:
            table = bart.sinusoidal_table(cfg["max_position_embeddings"], cfg["d_model"])
            if cfg["model_type"] == "pegasus":
                check(all(np.array_equal(P[f"model.{st}.embed_positions.weight"], table) for st in ("encoder", "decoder")),
                      f"{name}: the stored embed_positions are the sinusoidal table")
            else:
                check(not any("embed_positions" in k for k in P), f"{name}: no embed_positions (MarianMTModel._keys_to_ignore_on_save)")
            P2 = dict(P)
            inter = np.empty_like(table)
            inter[:, 0::2], inter[:, 1::2] = table[:, :cfg["d_model"] // 2], table[:, cfg["d_model"] // 2:]
            for st in ("encoder", "decoder"):
                P2[f"model.{st}.embed_positions.weight"] = inter
            moved(P2=P2, what="the sinusoidal layout (halves, not interleaved)")
    check("model.encoder.layer_norm.weight" in names["mbart"] and "model.encoder.layer_norm.weight" in names["pegasus"]
          and not any(k.startswith("model.encoder.layer_norm.") for k in names["bart"] | names["marian"]), "final layer_norm only in mbart, pegasus")
    check(all(any("layernorm_embedding" in k for k in names[n]) == (n in ("bart", "mbart", "bart-seqcls")) for n in names),
          "layernorm_embedding only in bart, mbart")


def m2m100_checks(out):
    """M2M100 / NLLB: get_embedding's table against the formula written out directly (float64 within the float32 steps'
    error, float32 values, the padding row zero, the last frequency 1e-4), create_position_ids_from_input_ids by hand
    (padded rows, past_key_values_length one token at a time), what the folder holds, padding (encoder keys,
    cross-attention, the decoder's padded labels), and the parts a loader could get wrong (the position offset, the
    padding row's zeros, numbering pads like tokens, the frequencies, the embedding scale, pre/post-LN) each moving
    an output."""
    tab = m2m100.table(40, 8, 1)
    p, i = np.arange(40)[:, None], np.arange(4)[None, :]
    freq = np.exp(-i * math.log(10000) / 3)                   # half_dim - 1 = 3: frequencies 1, 10^-4/3, 10^-8/3, 1e-4
    want = np.concatenate([np.sin(p * freq), np.cos(p * freq)], axis=1)
    want[1] = 0
    check(np.abs(tab - want).max() < 1e-5 and np.array_equal(tab, tab.astype(np.float32)),
          "m2m100 table = [sin(p f_i) | cos(p f_i)], f_i = exp(-i ln(10000) / (d/2 - 1)), float32 values")
    check(np.array_equal(tab[0], [0, 0, 0, 0, 1, 1, 1, 1]) and not tab[1].any() and tab[2, 0] == np.float32(math.sin(2)),
          "m2m100 table: row 0 = [0]*4 + [1]*4, row padding_idx 1 zero, row 2 starts with float32(sin 2)")
    check(abs(tab[39, 3] - math.sin(39e-4)) < 1e-7, "m2m100 table: the last frequency is 1e-4 (not Marian's 10000^(-2i/d))")
    t64 = m2m100.table_float64(1026, 1024, 1)
    t32 = m2m100.table(1026, 1024, 1)
    err = np.abs(t32 - t64).max()
    check(1e-6 < err < 1e-3, f"m2m100 table at NLLB's size (1026 x 1024): the float32 steps move it by {err:.2g} (kept)")
    check(m2m100.position_ids(np.array([[125, 7, 9, 2, 1, 1], [125, 1, 9, 2, 6, 1]]), 1).tolist()
          == [[2, 3, 4, 5, 1, 1], [2, 1, 3, 4, 5, 1]], "create_position_ids_from_input_ids by hand (pads at 1, real tokens counted)")
    seq = np.array([[2, 126, 40, 41, 42]])
    check([int(m2m100.position_ids(seq[:, k:k + 1], 1, k)[0, 0]) for k in range(5)] == m2m100.position_ids(seq, 1)[0].tolist()
          == [2, 3, 4, 5, 6], "positions one token at a time with past_key_values_length = those of the whole sequence")
    cfg, P, ref = load(os.path.join(out, "m2m100"))
    check(not any("embed" in k or "lm_head" in k for k in P) and "model.shared.weight" in P and "final_logits_bias" not in P, "m2m100: only model.shared.weight (no embed_positions, tied copies, final_logits_bias)")
    check(all(f"model.{st}.layer_norm.weight" in P for st in ("encoder", "decoder")) and not any("layernorm_embedding" in k for k in P),
          "m2m100: a final layer_norm per stack, no layernorm_embedding")
    ins = {k: np.array(v) for k, v in ref["inputs"].items()}
    ids, mask, dec = ins["input_ids"], ins["attention_mask"], ins["decoder_input_ids"]
    n = int(mask[1].sum())
    pos = m2m100.position_ids(ids, 1)
    check(pos.tolist() == ref["position_ids"] and pos[1, :n].tolist() == pos[0, :n].tolist() == list(range(2, n + 2))
          and pos[1, n:].tolist() == [1] * (ids.shape[1] - n), "m2m100: the padded row's tokens at the unpadded positions, its pads at 1")
    dpos = m2m100.position_ids(dec, 1)
    check(dpos.tolist() == ref["decoder_position_ids"] and dpos[1].tolist() == [2, 3, 4, 5, 6, 7, 1, 1, 1],
          "m2m100: decoder positions (the padded labels' pads at 1)")
    check(ids[0, 0] == ids[1, 0] == 125 and ids[0, -1] == ids[1, n - 1] == 2 and dec[:, :2].tolist() == [[2, 126]] * 2,
          "m2m100: [src_lang] x </s> rows, decoder [2, tgt_lang, ...]")
    enc = bart.encode(cfg, P, ids, mask)
    alone = bart.encode(cfg, P, ids[1:, :n])
    check(np.abs(enc[1:, :n] - alone).max() < 1e-12, "m2m100: the padded encoder row = its sentence alone")
    full = bart.lm_logits(P, bart.decode(cfg, P, enc, dec, mask))
    lone = bart.lm_logits(P, bart.decode(cfg, P, alone, dec[1:, :6]))
    check(np.abs(full[1:, :6] - lone).max() < 1e-12, "m2m100: cross-attention masks the padded encoder keys; the decoder's pads come after")
    scale_e, scale = np.abs(enc).max(), np.abs(full).max()

    def outputs(c2=cfg, P2=P):
        e = bart.encode(c2, P2, ids, mask)
        return e, bart.lm_logits(P2, bart.decode(c2, P2, e, dec, mask))

    def moved(what, c2=cfg, P2=P, logits=True):
        e, lg = outputs(c2, P2)
        check((np.abs(lg - full).max() > 1e-3 * scale) if logits else (np.abs(e - enc).max() > 1e-3 * scale_e),
              f"m2m100: {what} moves the {'logits' if logits else 'encoder states'}")
        return e, lg
    real = m2m100.table
    try:
        m2m100.table = lambda n_, d_, pad=None: np.concatenate([real(n_, d_, pad)[2:], real(n_, d_, pad)[:2]])
        moved("the position offset (rows read 2 later)")
        m2m100.table = lambda n_, d_, pad=None: real(n_, d_, None)
        e, lg = moved("the padding row's zeros", logits=False)
        check(np.abs(lg - full)[0].max() < 1e-12 and np.abs(e - enc)[0].max() < 1e-12, "m2m100: the padding row reaches only the padded rows")
        moved("the padding row's zeros (the decoder's padded labels)")
        m2m100.table = lambda n_, d_, pad=None: np.where(np.arange(n_)[:, None] == pad, 0.0, bart.sinusoidal_table(n_, d_))
        moved("Marian's frequencies 10000^(-2i/d)")
    finally:
        m2m100.table = real
    real_ids = m2m100.position_ids
    try:
        m2m100.position_ids = lambda x, pad, past=0: np.broadcast_to(np.arange(np.shape(x)[1]) + past + pad + 1, np.shape(x))
        moved("numbering pads like tokens (arange + 2)", logits=False)
        moved("numbering pads like tokens (arange + 2) in the decoder's padded labels")
    finally:
        m2m100.position_ids = real_ids
    moved("scale_embedding", c2=dict(cfg, scale_embedding=False))
    kinds = dict(bart.KINDS)
    try:
        bart.KINDS["m2m_100"] = dict(kinds["m2m_100"], pre_ln=False)
        moved("pre- vs post-LN")
    finally:
        bart.KINDS.update(kinds)


def quantized(out, name):
    """A quantized folder as the moves checks read it: config, dequantized parameters, input_ids, their logits, the raw file."""
    d = os.path.join(out, name)
    cfg, P, ref = load(d)
    ids = np.array(ref["inputs"]["input_ids"])
    raw, _ = safetensors_np.read(os.path.join(d, "model.safetensors"))
    return cfg, P, ids, decoders.forward(cfg, P, ids)[1], raw


def moe_folders(out, module):
    """The fixture folders of module.KINDS (deepseek, glm4_moe, ernie4_5_moe), each checked for what these families record
    alike: exactly module.tensor_names(cfg) with their shapes, a router bias stored F32 where the folder has one, and the
    recorded routing recomputed by module.forward (the sparse layers; min_routing_gap over input_ids, and the recorded one
    over the greedy run, >= MIN_ROUTING_GAP; each sparse layer's experts and weights at the last positions). Yields
    (name, cfg, P, ids, logits, routing, rec) for the family's own checks."""
    for name in sorted(os.listdir(out)):
        d = os.path.join(out, name)
        cfg, P, ref = load(d)
        if cfg["model_type"] not in module.KINDS:
            continue
        params, _ = safetensors_np.read(os.path.join(d, "model.safetensors"))
        names = module.tensor_names(cfg)
        check(sorted(params) == sorted(names) and all(params[k].shape == names[k] for k in names), f"{name}: exact tensor names and shapes")
        router = [k for k in params if k.endswith("e_score_correction_bias")]
        if router:
            check(all(params[k].dtype == np.float32 for k in router), f"{name}: router bias stored F32")
        ids = np.array(ref["inputs"]["input_ids"])
        routing = []
        h, logits = module.forward(cfg, P, ids, routing=routing)
        gap = make_fixtures.min_gap(routing)
        rec = ref["routing"]
        check(gap >= make_fixtures.MIN_ROUTING_GAP and abs(gap - rec["min_routing_gap"]["input_ids"]) <= 1e-12,
              f"{name}: routing gap {gap} vs recorded {rec['min_routing_gap']['input_ids']}")
        check(rec["min_routing_gap"]["greedy"] >= make_fixtures.MIN_ROUTING_GAP, f"{name}: greedy routing gap")
        layers = [i for i, sp in enumerate(rec["sparse_layers"]) if sp]
        check(rec["sparse_layers"] == module.sparse_layers(cfg) and len(layers) == len(routing), f"{name}: sparse layers")
        for i, r in zip(layers, routing):
            b_, t_ = ids.shape
            check(r["ids"].reshape(b_, t_, -1)[:, -1].tolist() == rec["last_position_experts"][str(i)]
                  and np.allclose(r["weights"].reshape(b_, t_, -1)[:, -1], rec["last_position_weights"][str(i)], rtol=1e-12, atol=0),
                  f"{name}: layer {i}'s experts and weights at the last positions")
        yield name, cfg, P, ids, logits, routing, rec


def granitemoe_checks(out):
    """IBM Granite MoE (granitemoe.py): GraniteMoeTopKGating by hand and against the renormalized top-k of the full softmax
    (this library's router) over 300 tokens, the expert's chunk order by hand, head_dim, and per folder (granitemoe,
    granitemoeshared) the exact tensor names, the recorded routing, cached = full, and each multiplier and reading moving the
    logits."""
    cfg0 = {"num_experts_per_tok": 2}
    r = granitemoe.route(cfg0, np.array([[2.0, 1.0, 0.0, -1.0]]))
    check(r["ids"].tolist() == [[0, 1]] and np.allclose(r["weights"][0], [1 / (1 + math.exp(-1)), 1 / (1 + math.exp(1))], rtol=1e-14, atol=0)
          and abs(r["gap"][0] - 1.0) < 1e-15, "granitemoe: top-2 of the logits, softmax over those two")
    rng = np.random.default_rng(4096)
    lg = rng.standard_normal((300, 32)) * 2
    r = granitemoe.route({"num_experts_per_tok": 8}, lg)
    p = np.exp(lg - lg.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    ok = True
    for t in range(300):
        best = sorted(range(32), key=lambda e: -p[t, e])[:8]
        ok = ok and r["ids"][t].tolist() == best and np.allclose(r["weights"][t], p[t, best] / p[t, best].sum(), rtol=1e-12, atol=0)
    check(ok, "granitemoe: softmax over the top-k logits = the top-k of the full softmax, renormalized (300 tokens, 32 experts, k 8)")
    x = np.array([[1.0, 2.0]])
    w_in = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 0.0]])    # rows 0-1 activated (1, 2), rows 2-3 multiplied (3, 2)
    w_out = np.array([[1.0, 0.0], [0.0, 1.0]])
    check(np.allclose(granitemoe.glu(x, w_in, w_out), [[nn.silu(1.0) * 3.0, nn.silu(2.0) * 2.0]], rtol=1e-15, atol=0),
          "granitemoe: input_linear's first half is activated, the second multiplies (chunk(2, dim=-1))")
    check(granitemoe.head_dim({"hidden_size": 1024, "num_attention_heads": 16}) == 64, "granitemoe: head_dim hidden // heads")
    try:
        granitemoe.head_dim({"hidden_size": 1024, "num_attention_heads": 16, "head_dim": 128})
        check(False, "granitemoe: a head_dim other than hidden // heads is refused")
    except ValueError:
        pass
    seen = []
    for name, cfg, P, ids, logits, routing, rec in moe_folders(out, granitemoe):
        seen.append(cfg["model_type"])
        big = np.abs(logits).max()
        t = ids.shape[1]
        cached = granitemoe.forward(cfg, P, ids[:1], calls=[8] + [1] * (t - 8))[1]
        check(np.abs(cached - logits[:1]).max() < 1e-12 * big, f"{name}: the cached run equals the full pass")
        moved = mover(name, granitemoe.forward, ids, logits)
        moved(cfg, P, "residual_multiplier", scale_residual=False)
        moved(cfg, P, "the activated half (second instead of first)", halves="swapped")
        moved(cfg, P, "the softmax over the k logits (the full softmax unrenormalized instead)", rule="softmax-all-no-renorm")
        moved(dict(cfg, embedding_multiplier=1.0), P, "embedding_multiplier")
        moved(dict(cfg, attention_multiplier=granitemoe.head_dim(cfg) ** -0.5), P, "attention_multiplier (head_dim^-0.5 instead)")
        if granitemoe.shared_width(cfg) > 0:
            moved(cfg, P, "the shared MLP", shared=False)
    check(sorted(seen) == ["granitemoe", "granitemoeshared"], f"granitemoe: both folders checked ({seen})")


def mover(name, forward, ids, logits, by=1e-3):
    """moved(c2, P2, what, **kw): checks that forward(c2, P2, ids, **kw)'s logits differ from logits by more than by x
    max|logits| (a part that must matter moves the logits)."""
    big = np.abs(logits).max()

    def moved(c2, P2, what, **kw):
        check(np.abs(forward(c2, P2, ids, **kw)[1] - logits).max() > by * big, f"{name}: {what} moves the logits")
    return moved


def zeroed(P, test):
    """P with the tensors whose names pass test set to 0."""
    return {k: (0 * v if test(k) else v) for k, v in P.items()}


def deepseek_checks(out):
    """DeepSeek-V2 / V3 (deepseek.py): MLA against a per-head formula with materialized keys and values (and the weight-absorbed
    latent form), V2's complex rotary against V3's interleave form, both routers against brute force and by hand, the softmax
    scale, and per folder the exact tensor names, the recorded routing, and each part that must matter moving the logits."""
    rng = np.random.default_rng(47435)
    # the rotary: (1, 0) at angle θ is (cos θ, sin θ); V3's interleave output is V2's with the evens first, the odds after,
    # so q·k agrees to rounding; rope_interleave false (halves as stored) does not
    fr = np.array([[0.7, 0.2]])
    check(np.allclose(deepseek.rotate_v2(np.array([[1.0, 0.0, 0.0, 1.0]]), fr, 1.0), [[math.cos(.7), math.sin(.7), -math.sin(.2), math.cos(.2)]],
                      atol=1e-15), "DeepSeek-V2 rotary: pairs (2i, 2i+1) turned by pos · inv_freq[i]")
    x, y = rng.standard_normal((2, 3, 7, 8)), rng.standard_normal((2, 1, 7, 8))
    freqs = np.arange(7.0)[:, None] * np.array([1.0, 0.3, 0.05, 0.004])[None, :]
    for a in (1.0, 1.3):
        r2x, r2y = deepseek.rotate_v2(x, freqs, a), deepseek.rotate_v2(y, freqs, a)
        r3x, r3y = deepseek.rotate_v3(x, freqs, a), deepseek.rotate_v3(y, freqs, a)
        check(np.abs(np.concatenate([r2x[..., 0::2], r2x[..., 1::2]], -1) - r3x).max() < 1e-14,
              "DeepSeek-V3's apply_rotary_pos_emb_interleave = V2's complex rotary regrouped [evens | odds]")
        s2, s3 = r2x @ np.swapaxes(r2y, -1, -2), r3x @ np.swapaxes(r3y, -1, -2)
        check(np.abs(s2 - s3).max() < 1e-12, "V2's and V3's interleaved rotaries give the same q·k")
        halves = deepseek.rotate_v3(x, freqs, a, False) @ np.swapaxes(deepseek.rotate_v3(y, freqs, a, False), -1, -2)
        check(np.abs(halves - s3).max() > 1e-3, "rope_interleave false (rotate_half on the stored halves) gives other q·k")
    # the softmax scale: qk_head_dim**-0.5 x yarn_get_mscale(factor, mscale_all_dim)^2 with yarn, plain without
    v2l = make_fixtures.deepseek_v2_lite_config()
    check(abs(deepseek.softmax_scale(v2l) - 24 ** -0.5 * (0.1 * 0.707 * math.log(40) + 1) ** 2) < 1e-15
          and deepseek.softmax_scale(make_fixtures.deepseek_v2_config()) == 24 ** -0.5
          and abs(deepseek.softmax_scale(make_fixtures.deepseek_v3_config()) - 24 ** -0.5 * (0.1 * math.log(8) + 1) ** 2) < 1e-15
          and deepseek.softmax_scale(dict(v2l, rope_scaling=dict(v2l["rope_scaling"], mscale_all_dim=0))) == 24 ** -0.5,
          "DeepSeek softmax scale: mscale^2 from mscale_all_dim under yarn only")
    # MLA by hand: per head, keys and values materialized token by token, the rotary as 2x2 rotations, the softmax with
    # math.exp; and the absorbed form (q_nope W_UK against the normed latent, the latent mix through W_UV), which the
    # kernels may compute instead
    c, nh, dn, dr, dv, kvr, qr, t = 10, 3, 4, 4, 6, 5, 7, 6
    cfg = {"model_type": "deepseek_v2", "num_attention_heads": nh, "qk_nope_head_dim": dn, "qk_rope_head_dim": dr, "v_head_dim": dv,
           "kv_lora_rank": kvr, "q_lora_rank": qr, "rope_theta": 50.0, "rope_scaling": None, "hidden_size": c,
           "max_position_embeddings": 64}
    P = {"q_a_proj.weight": rng.standard_normal((qr, c)) / 3, "q_a_proj.bias": rng.standard_normal(qr) / 10,
         "q_a_layernorm.weight": 1 + rng.standard_normal(qr) / 5, "q_b_proj.weight": rng.standard_normal((nh * (dn + dr), qr)) / 3,
         "kv_a_proj_with_mqa.weight": rng.standard_normal((kvr + dr, c)) / 3, "kv_a_proj_with_mqa.bias": rng.standard_normal(kvr + dr) / 10,
         "kv_a_layernorm.weight": 1 + rng.standard_normal(kvr) / 5, "kv_b_proj.weight": rng.standard_normal((nh * (dn + dv), kvr)) / 3,
         "o_proj.weight": rng.standard_normal((c, nh * dv)) / 3, "o_proj.bias": rng.standard_normal(c) / 10}
    xs = rng.standard_normal((1, t, c))
    inv = 50.0 ** (-np.arange(0, dr, 2) / dr)
    rms = lambda v, w: v / math.sqrt(float((v * v).mean()) + 1e-6) * w

    def turn(v, pos):                                # V2's layout: pair (2i, 2i+1) rotated by pos · inv[i]
        o = v.copy()
        for i in range(dr // 2):
            a_, b_ = v[2 * i], v[2 * i + 1]
            o[2 * i], o[2 * i + 1] = a_ * math.cos(pos * inv[i]) - b_ * math.sin(pos * inv[i]), a_ * math.sin(pos * inv[i]) + b_ * math.cos(pos * inv[i])
        return o
    scale = (dn + dr) ** -0.5
    want, absorbed = np.zeros((t, nh * dv)), np.zeros((t, nh * dv))
    for i in range(t):
        qv = P["q_b_proj.weight"] @ rms(P["q_a_proj.weight"] @ xs[0, i] + P["q_a_proj.bias"], P["q_a_layernorm.weight"])
        for h in range(nh):
            qh = qv[h * (dn + dr):(h + 1) * (dn + dr)]
            wk = P["kv_b_proj.weight"][h * (dn + dv):h * (dn + dv) + dn]
            wv = P["kv_b_proj.weight"][h * (dn + dv) + dn:(h + 1) * (dn + dv)]
            keys, vals, lat, kpes = [], [], [], []
            for j in range(i + 1):
                comp = P["kv_a_proj_with_mqa.weight"] @ xs[0, j] + P["kv_a_proj_with_mqa.bias"]
                cj = rms(comp[:kvr], P["kv_a_layernorm.weight"])
                kpe = turn(comp[kvr:], j)
                keys.append(np.concatenate([wk @ cj, kpe]))
                vals.append(wv @ cj)
                lat.append(cj)
                kpes.append(kpe)
            qfull = np.concatenate([qh[:dn], turn(qh[dn:], i)])
            sc = [float(qfull @ k_) * scale for k_ in keys]
            e = [math.exp(v - max(sc)) for v in sc]
            p_ = [v / sum(e) for v in e]
            want[i, h * dv:(h + 1) * dv] = sum(pj * vj for pj, vj in zip(p_, vals))
            qa = qh[:dn] @ wk                        # absorbed: q_nope W_UK (kv_lora_rank wide) against each normed latent
            sa = [(float(qa @ cj) + float(qfull[dn:] @ kp)) * scale for cj, kp in zip(lat, kpes)]
            ea = [math.exp(v - max(sa)) for v in sa]
            mix = sum(v / sum(ea) * cj for v, cj in zip(ea, lat))
            absorbed[i, h * dv:(h + 1) * dv] = wv @ mix
    want = want @ P["o_proj.weight"].T + P["o_proj.bias"]
    absorbed = absorbed @ P["o_proj.weight"].T + P["o_proj.bias"]
    fq, af = deepseek.rotary_tables(cfg, t)
    got = deepseek.mla(cfg, P, "", xs, fq, af)[0]
    check(np.abs(got - want).max() < 1e-12 and np.abs(absorbed - want).max() < 1e-12,
          f"MLA = the per-head formula with materialized K/V and = the absorbed latent form ({np.abs(got - want).max():.3g})")
    got3 = deepseek.mla(dict(cfg, model_type="deepseek_v3"), P, "", xs, fq, af)[0]
    check(np.abs(got3 - want).max() < 1e-12, "MLA: V3's interleave rotary gives V2's attention output")
    check(np.abs(deepseek.mla(dict(cfg, model_type="deepseek_v3", rope_interleave=False), P, "", xs, fq, af)[0] - want).max() > 1e-6,
          "MLA: rope_interleave false gives another output")
    # V2's routers by hand: probabilities 0.30 0.02 | 0.22 0.06 | 0.21 0.19; greedy top-3 is 0, 2, 4; group_limited_greedy
    # (3 groups, keep 2 by their max 0.30, 0.22, 0.21) drops group 2: 0, 2, 3; weights x routed_scaling_factor 16
    pr = np.array([[0.30, 0.02, 0.22, 0.06, 0.21, 0.19]])
    v2c = {"model_type": "deepseek_v2", "num_experts_per_tok": 3, "routed_scaling_factor": 16.0, "n_group": 3, "topk_group": 2}
    r = deepseek.route(dict(v2c, topk_method="greedy"), np.log(pr))
    check(r["ids"].tolist() == [[0, 2, 4]] and np.allclose(r["weights"], [[4.8, 3.52, 3.36]], atol=1e-14), f"V2 greedy by hand: {r}")
    r = deepseek.route(dict(v2c, topk_method="group_limited_greedy"), np.log(pr))
    check(r["ids"].tolist() == [[0, 2, 3]] and np.allclose(r["weights"], [[4.8, 3.52, 0.96]], atol=1e-14)
          and abs(r["group_gap"][0] - 0.01) < 1e-14 and abs(r["gap"][0] - 0.04) < 1e-14, f"V2 group_limited_greedy by hand: {r}")
    # V3's router by hand: sigmoid scores 0.6 0.5 | 0.55 0.1, bias 0 0.2 | 0 0: biased 0.6 0.7 | 0.55 0.1, groups (top-2 sums)
    # 1.3 and 0.65, keep 1: experts 1 (0.7), 0 (0.6), weights the unbiased 0.5, 0.6 / 1.1 x 2.5
    sc = np.array([[0.6, 0.5, 0.55, 0.1]])
    v3c = {"model_type": "deepseek_v3", "num_experts_per_tok": 2, "routed_scaling_factor": 2.5, "n_group": 2, "topk_group": 1,
           "norm_topk_prob": True}
    r = deepseek.route(v3c, np.log(sc / (1 - sc)), np.array([0.0, 0.2, 0.0, 0.0]))
    check(r["ids"].tolist() == [[1, 0]] and np.allclose(r["weights"], [[0.5 / 1.1 * 2.5, 0.6 / 1.1 * 2.5]], atol=1e-14),
          f"V3 router by hand: {r}")
    r = deepseek.route(dict(v3c, norm_topk_prob=False, num_experts_per_tok=1), np.log(sc / (1 - sc)), np.array([0.0, 0.2, 0.0, 0.0]))
    check(r["ids"].tolist() == [[1]] and abs(r["weights"][0, 0] - 1.25) < 1e-14, f"V3 router: the bias chooses, the unbiased score weighs: {r}")
    # V3's router against brute force over 300 random tokens of 16 experts in 4 groups
    cfg3 = {"model_type": "deepseek_v3", "num_experts_per_tok": 3, "routed_scaling_factor": 2.5, "n_group": 4, "topk_group": 2,
            "norm_topk_prob": True}
    lg, bias = rng.standard_normal((300, 16)), 0.1 * rng.standard_normal(16)
    r = deepseek.route(cfg3, lg, bias)
    for n_ in range(300):
        s_ = [1 / (1 + math.exp(-v)) for v in lg[n_]]
        b_ = [v + bias[e] for e, v in enumerate(s_)]
        groups = sorted(range(4), key=lambda g: -sum(sorted(b_[4 * g:4 * g + 4])[-2:]))[:2]
        cand = [e for e in range(16) if e // 4 in groups]
        top = sorted(cand, key=lambda e: -b_[e])[:3]
        w = [s_[e] / (sum(s_[e2] for e2 in top) + 1e-20) * 2.5 for e in top]
        check(r["ids"][n_].tolist() == top and np.allclose(r["weights"][n_], w, rtol=1e-14, atol=0), f"V3 router vs brute force, token {n_}")
    for name, cfg, P, ids, logits, routing, rec in moe_folders(out, deepseek):
        gap, ggap, kth = make_fixtures.deepseek_routing(routing)
        if "min_group_gap" in rec:
            check(ggap >= make_fixtures.MIN_ROUTING_GAP and abs(ggap - rec["min_group_gap"]["input_ids"]) <= 1e-12, f"{name}: group gap {ggap}")
        if "min_kth_choice_score" in rec:
            check(kth >= make_fixtures.MIN_ROUTING_GAP and abs(kth - rec["min_kth_choice_score"]["input_ids"]) <= 1e-12, f"{name}: k-th score {kth}")
        moved = mover(name, deepseek.forward, ids, logits)
        moved(cfg, zeroed(P, lambda k: ".shared_experts.down_proj" in k), "the shared experts")
        moved(dict(cfg, routed_scaling_factor=1.0 if cfg["routed_scaling_factor"] != 1.0 else 2.0), P, "routed_scaling_factor")
        rp = rope.parameters(cfg)
        if rp["rope_type"] == "yarn":
            plain = deepseek.softmax_scale
            deepseek.softmax_scale = lambda c2: (c2["qk_nope_head_dim"] + c2["qk_rope_head_dim"]) ** -0.5
            try:
                moved(cfg, P, "the softmax scale's mscale^2")
            finally:
                deepseek.softmax_scale = plain
            moved(dict(cfg, rope_scaling=dict(cfg["rope_scaling"], factor=1.0)), P, "yarn's frequencies (factor 1, mscale 1)")
        if cfg["model_type"] == "deepseek_v3":
            moved(cfg, zeroed(P, lambda k: k.endswith("e_score_correction_bias")), "e_score_correction_bias")
            moved(dict(cfg, rope_interleave=False), P, "rope_interleave false")
            moved(dict(cfg, norm_topk_prob=False), P, "norm_topk_prob")
            moved(dict(cfg, n_group=1, topk_group=1), P, "the group limit")
            check("rope_interleave" not in cfg and cfg["scoring_func"] == "sigmoid" and cfg["topk_method"] == "noaux_tc",
                  f"{name}: rope_interleave absent (default true), sigmoid noaux_tc, as DeepSeek-V3 publishes it")
        elif cfg["topk_method"] == "group_limited_greedy":
            moved(dict(cfg, topk_method="greedy"), P, "the group limit (group_limited_greedy for greedy)")
        check(cfg["moe_layer_freq"] == 1 and cfg["norm_topk_prob"] == (cfg["model_type"] == "deepseek_v3"),
              f"{name}: moe_layer_freq 1 (transformers ignores it) and norm_topk_prob as published")


def p_tiny(x):
    """softmax([0, -x, -x])[1]."""
    return np.exp(-x) / (1 + 2 * np.exp(-x))


def ernie4_5_moe_checks(out):
    """ERNIE 4.5 MoE (ernie4_5_moe.py): the router by hand and by brute force, the layer rule, head_dim, the folder."""
    cfg0 = {"moe_k": 2, "moe_norm_min": 1e-12}
    logits = np.array([[2.0, 1.0, 0.0, -1.0]])
    r = ernie4_5_moe.route(cfg0, logits, np.array([[0.0, 0.0, 0.0, 1.0]]))
    p = np.exp(logits[0]) / np.exp(logits[0]).sum()
    check(r["ids"].tolist() == [[3, 0]] and np.allclose(r["weights"][0], [p[3], p[0]] / (p[3] + p[0]), rtol=1e-14, atol=0),
          "ernie4_5_moe: the bias chooses expert 3, the unbiased softmax weighs it")
    # the clamp: only a picked softmax mass below moe_norm_min (here 2 e^-40 ≈ 8.5e-18) is divided by moe_norm_min instead
    tiny = ernie4_5_moe.route(cfg0, np.array([[0.0, -40.0, -40.0]]), np.array([0.0, 5.0, 5.0]))
    plain = ernie4_5_moe.route(dict(cfg0, moe_norm_min=0.0), np.array([[0.0, -40.0, -40.0]]), np.array([0.0, 5.0, 5.0]))
    check(tiny["ids"].tolist() == [[1, 2]] and abs(tiny["weights"].sum() - 2 * p_tiny(40) / 1e-12) < 1e-18
          and abs(plain["weights"].sum() - 1.0) < 1e-12, "ernie4_5_moe: the clamp matters only below moe_norm_min")
    same = ernie4_5_moe.route(dict(cfg0, moe_norm_min=0.0), logits, np.array([[0.0, 0.0, 0.0, 1.0]]))
    check(np.array_equal(same["weights"], r["weights"]), "ernie4_5_moe: above moe_norm_min the clamp changes nothing")
    rng = np.random.default_rng(5)
    lg, b = rng.standard_normal((300, 16)), 0.1 * rng.standard_normal(16)
    r = ernie4_5_moe.route({"moe_k": 4}, lg, b)
    for t in range(300):
        pt = np.exp(lg[t] - lg[t].max())
        pt /= pt.sum()
        best = sorted(range(16), key=lambda e: -(pt[e] + b[e]))[:4]
        ok = r["ids"][t].tolist() == best and np.allclose(r["weights"][t], pt[best] / pt[best].sum(), rtol=1e-12, atol=0)
        if not ok:
            break
    check(ok, "ernie4_5_moe: the router equals brute force over 300 tokens")
    check(ernie4_5_moe.sparse_layers({"num_hidden_layers": 6}) == [False, True, True, True, True, True]
          and ernie4_5_moe.sparse_layers({"num_hidden_layers": 6, "moe_layer_interval": 2, "moe_layer_start_index": 0,
                                          "moe_layer_end_index": 4}) == [False, True, False, True, False, False],
          "ernie4_5_moe: sparse iff (i + 1) % interval == 0 and start <= i <= end (-1: the last layer)")
    check(ernie4_5_moe.head_dim({"hidden_size": 2560, "num_attention_heads": 20}) == 128, "ernie4_5_moe: head_dim hidden // heads")
    try:
        ernie4_5_moe.head_dim({"head_dim": None})
        check(False, "ernie4_5_moe: a null head_dim is refused")
    except ValueError:
        pass
    for name, cfg, P, ids, logits, routing, rec in moe_folders(out, ernie4_5_moe):
        moved_tokens = make_fixtures.moved_by_the_bias(routing)
        check(moved_tokens == rec["tokens_moved_by_the_bias"] > 0, f"{name}: the bias moves {moved_tokens} token choices")
        moved = mover(name, ernie4_5_moe.forward, ids, logits)
        moved(cfg, P, "the correction bias", bias=False)
        moved(cfg, P, "the shared experts", shared=False)
        hd = ernie4_5_moe.head_dim(cfg)
        swap = np.concatenate([np.arange(0, hd, 2), np.arange(1, hd, 2)])   # ERNIE's pairs read as Llama's halves
        P2 = dict(P)
        for i in range(cfg["num_hidden_layers"]):
            for x, n in (("q", cfg["num_attention_heads"]), ("k", cfg["num_key_value_heads"])):
                k = f"model.layers.{i}.self_attn.{x}_proj.weight"
                P2[k] = P[k].reshape(n, hd, -1)[:, np.argsort(swap)].reshape(n * hd, -1)
        moved(cfg, P2, "Llama's halves for ERNIE's pairs (rows permuted)")
        check(cfg["moe_layer_start_index"] == 1 and not ernie4_5_moe.sparse_layers(cfg)[0] and cfg["moe_num_shared_experts"] == 2
              and "head_dim" not in cfg and not cfg["use_bias"], f"{name}: ERNIE-4.5-21B-A3B's switches (layer 0 dense, 2 shared, no head_dim)")


def neox_half_rotary_error(rc):
    """max |rope.apply - by hand| for 1..16 at position 3 under rc (head_dim 16, rope_theta 100, half of it rotary): the pairs
    (j, j + 4) of the first 8 dims turn by 3 · inv[j], dims 8..15 pass (GPT-NeoX's partial rotary)."""
    cos, sin = rope.cos_sin(rc, np.array([3]))
    x = np.arange(1.0, 17.0)[None, None, None, :]
    got = rope.apply(x, cos, sin)[0, 0, 0]
    inv = 100.0 ** (-np.arange(0, 8, 2) / 8)
    want = x[0, 0, 0].copy()
    for j in range(4):
        a, b = x[0, 0, 0, j], x[0, 0, 0, j + 4]
        want[j], want[j + 4] = a * math.cos(3 * inv[j]) - b * math.sin(3 * inv[j]), b * math.cos(3 * inv[j]) + a * math.sin(3 * inv[j])
    return np.abs(got - want).max()


def glm4_moe_checks(out):
    """GLM-4.5 / 4.6 (glm4_moe.py): the NeoX rotary over the first int(head_dim x partial_rotary_factor) dims by hand; head_dim
    as given, hidden // heads when absent, null refused; the folder's exact tensor names and shapes and its recorded routing;
    GLM-4's interleaved pairs for the halves, a whole-head rotary, no q/k norms, no q/k/v biases, the correction bias zeroed,
    no shared expert, routed_scaling_factor 1 and norm_topk_prob false each move the logits by more than 1e-3
    of their maximum."""
    small = {"model_type": "glm4_moe", "head_dim": 16, "partial_rotary_factor": 0.5, "rope_theta": 100.0, "hidden_size": 32,
             "num_attention_heads": 4}
    check(neox_half_rotary_error(glm4_moe.rope_cfg(small)) < 1e-12 and glm4_moe.rotary_dim(small) == 8, "glm4_moe: NeoX halves over the first 8 of 16 dims")
    check(glm4_moe.head_dim({"hidden_size": 4096, "num_attention_heads": 96}) == 42 and glm4_moe.head_dim(small) == 16
          and glm4_moe.rotary_dim({"hidden_size": 64, "num_attention_heads": 4}) == 8,
          "glm4_moe: head_dim as given, else hidden // heads; partial 0.5 by default")
    try:
        glm4_moe.head_dim({"head_dim": None})
        check(False, "glm4_moe: a null head_dim is refused")
    except ValueError:
        pass
    for name, cfg, P, ids, logits, routing, rec in moe_folders(out, glm4_moe):
        gap, ggap, kth = make_fixtures.deepseek_routing(routing)
        check(kth >= make_fixtures.MIN_ROUTING_GAP and abs(kth - rec["min_kth_choice_score"]["input_ids"]) <= 1e-12, f"{name}: k-th score {kth}")
        moved = mover(name, glm4_moe.forward, ids, logits)
        moved(cfg, P, "GLM-4's interleaved pairs for the halves", rotation="pairs")
        moved(dict(cfg, partial_rotary_factor=1.0), P, "a whole-head rotary")
        moved(dict(cfg, use_qk_norm=False), P, "dropping the q/k norms")
        moved(cfg, {k: v for k, v in P.items() if not k.endswith(("q_proj.bias", "k_proj.bias", "v_proj.bias"))}, "dropping the q/k/v biases")
        moved(cfg, zeroed(P, lambda k: k.endswith("e_score_correction_bias")), "e_score_correction_bias")
        moved(cfg, zeroed(P, lambda k: ".shared_experts.down_proj" in k), "the shared expert")
        moved(dict(cfg, routed_scaling_factor=1.0), P, "routed_scaling_factor")
        moved(dict(cfg, norm_topk_prob=False), P, "norm_topk_prob")
        check(cfg["use_qk_norm"] and cfg["attention_bias"] and cfg["partial_rotary_factor"] == 0.5 and cfg["n_group"] == 1
              and cfg["num_nextn_predict_layers"] == 1, f"{name}: GLM-4.5's published switches (q/k norms, biases, partial 0.5, one group)")


def neox_checks(out):
    """GPT-NeoX and Phi: what each fixture's config and layout say moves its logits — a loader that reads the fused
    query_key_value as [q ; k ; v] blocks instead of per-head [q_h | k_h | v_h], that runs the layers sequentially, that
    rotates every dimension or drops Phi's lm_head bias, fails."""
    cfg, P, ref = load(os.path.join(out, "gpt-neox"))
    ids = np.array(ref["inputs"]["input_ids"])
    logits = neox.forward(cfg, P, ids)[1]
    c, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    hd = c // nh
    blocks = dict(P)
    for i in range(cfg["num_hidden_layers"]):
        k = f"gpt_neox.layers.{i}.attention.query_key_value."
        order = np.concatenate([np.arange(h * 3 * hd + j * hd, h * 3 * hd + (j + 1) * hd) for j in range(3) for h in range(nh)])
        check(sorted(order.tolist()) == list(range(3 * c)), "gpt-neox: the [q ; k ; v] order is a permutation of the rows")
        blocks[k + "weight"], blocks[k + "bias"] = P[k + "weight"][order], P[k + "bias"][order]
    check(np.abs(neox.forward(cfg, blocks, ids)[1] - logits).max() > 1e-2 * np.abs(logits).max(),
          "gpt-neox: reading query_key_value as [q ; k ; v] blocks moves the logits")
    check(np.abs(neox.forward(dict(cfg, use_parallel_residual=False), P, ids)[1] - logits).max() > 1e-2 * np.abs(logits).max(),
          "gpt-neox: the sequential residual moves the logits")
    check(np.abs(neox.forward(dict(cfg, rotary_pct=1.0), P, ids)[1] - logits).max() > 1e-2 * np.abs(logits).max(),
          "gpt-neox: rotary_pct moves the logits")
    check(np.abs(neox.forward(dict(cfg, rotary_emb_base=500), P, ids)[1] - logits).max() > 1e-3 * np.abs(logits).max(),
          "gpt-neox: rotary_emb_base moves the logits")
    cfg, P, ref = load(os.path.join(out, "gpt-neox-sequential-v5"))
    ids = np.array(ref["inputs"]["input_ids"])
    logits = neox.forward(cfg, P, ids)[1]
    check(neox.rope_cfg(cfg)["partial_rotary_factor"] == 0.5, "gpt-neox-sequential-v5: the partial factor is read from rope_parameters")
    check(np.abs(neox.forward(dict(cfg, use_parallel_residual=True), P, ids)[1] - logits).max() > 1e-2 * np.abs(logits).max(),
          "gpt-neox-sequential-v5: the parallel residual moves the logits")
    cfg, P, ref = load(os.path.join(out, "phi"))
    ids = np.array(ref["inputs"]["input_ids"])
    logits = neox.forward(cfg, P, ids)[1]
    check(int(16 * neox.rope_cfg(cfg)["partial_rotary_factor"]) == 6, "phi: 6 rotary dimensions")
    nobias = dict(P, **{"lm_head.bias": np.zeros_like(P["lm_head.bias"])})
    check(np.abs(neox.forward(cfg, nobias, ids)[1] - logits).max() > 1e-2, "phi: lm_head.bias moves the logits")
    check(np.abs(neox.forward(dict(cfg, partial_rotary_factor=1.0), P, ids)[1] - logits).max() > 1e-2 * np.abs(logits).max(),
          "phi: partial_rotary_factor moves the logits")


def gptj_checks(out):
    """GPT-J's rotation: rotate_every_two by hand on (1, 2, 3, 4) → (-2, 1, -4, 3); position 0 leaves q unchanged; the
    rotation of pairs (2i, 2i + 1) equals rotate_half's of (i, i + R/2) once the dims are permuted that way (the identity the
    Java loader relies on when it permutes q_proj and k_proj rows); rotate_half read without the permutation moves the
    fixture's logits."""
    check(np.array_equal(neox.rotate_every_two(np.array([1.0, 2.0, 3.0, 4.0])), np.array([-2.0, 1.0, -4.0, 3.0])), "rotate_every_two by hand")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 2, 5, 12))
    check(np.abs(neox.gptj_rotary(x, 1, 8) - x).max() < 1e-15, "GPT-J rotary at position 0 is the identity")
    perm = np.concatenate([np.arange(0, 8, 2), np.arange(1, 8, 2), np.arange(8, 12)])
    cfg = {"model_type": "llama", "hidden_size": 24, "num_attention_heads": 2, "partial_rotary_factor": 8 / 12, "rope_theta": 10000.0}
    cos, sin = rope.cos_sin(cfg, np.arange(5))
    check(np.abs(neox.gptj_rotary(x, 5, 8)[..., perm] - rope.apply(x[..., perm], cos, sin)).max() < 1e-12,
          "GPT-J's rotation = rotate_half's on the permuted dims")
    cfg, P, ref = load(os.path.join(out, "gptj"))
    ids = np.array(ref["inputs"]["input_ids"])
    logits = neox.forward(cfg, P, ids)[1]
    swapped = neox.forward(dict(cfg, rotary_dim=cfg["rotary_dim"] // 2), P, ids)[1]
    check(np.abs(swapped - logits).max() > 1e-2 * np.abs(logits).max(), "gptj: rotary_dim moves the logits")


def alibi_checks(out):
    """The ALiBi decoders (bloom, mpt, falcon-rw). (a) The slopes by hand: build_alibi_tensor's for 8 heads 2^-1 … 2^-8, for 12
    those and 2^-0.5, 2^-1.5, 2^-2.5, 2^-3.5, for 6 and 3 the closest power of two's then extra_base's odd powers; MPT's
    gen_slopes with its [1::2] + [::2] reorder for 6 heads at alibi_bias_max 8, 16 and 4, equal to BLOOM's for every head
    count at 8; Falcon's bfloat16 product by hand past 256; each call's bias as transformers builds it (MPT's relative to the
    call's last key). (b) Translation invariance: every fixture's logits with the bias written slope · (j - i) (a kernel's
    query-relative bias) equal transformers' form (slope · j; slope · (j - (L - 1)); Falcon's bf16 product) within 1e-12, and
    so do its cached calls; no bias, the slopes in another order, MPT's unreordered or alibi_bias_max-16 slopes and
    Falcon-RW's slopes without the 1/sqrt(head_dim) each move the logits. (c) The layouts: BLOOM's and Falcon-RW's per-head
    interleaved query_key_value read as [q | k | v] blocks, MPT's blocks read per head, BLOOM's word_embeddings_layernorm,
    bloom_gelu vs exact GELU (and MPT's exact vs tanh), apply_residual_connection_post_layernorm, MPT's softmax_scale and
    clip_qkv, Falcon-RW's sequential layer each move the logits; the folders hold the names transformers' state_dict
    (bloom: the base model's) has, no bias where MPT has none, no lm_head."""
    p2 = lambda *e: np.array([2.0 ** x for x in e])
    same = lambda a, b: np.array_equal(np.asarray(a), np.asarray(b))
    check(same(alibi.bloom_slopes(8), p2(*range(-1, -9, -1))), "BLOOM slopes, 8 heads: 2^-1 … 2^-8")
    close = lambda a, b: np.allclose(a, b, rtol=1e-14, atol=0)     # base^k against 2^-m: the last bits of float64 powers
    check(close(alibi.bloom_slopes(12), p2(*range(-1, -9, -1), -0.5, -1.5, -2.5, -3.5)),
          f"BLOOM slopes, 12 heads: 2^-1 … 2^-8, 2^-0.5 … 2^-3.5: {alibi.bloom_slopes(12)}")
    check(same(alibi.bloom_slopes(6), p2(-2, -4, -6, -8, -1, -3)), "BLOOM slopes, 6 heads: 2^-2, -4, -6, -8, then 2^-1, 2^-3")
    check(same(alibi.bloom_slopes(3), p2(-4, -8, -2)), "BLOOM slopes, 3 heads: 2^-4, 2^-8, then 2^-2")
    check(same(alibi.bloom_slopes(1), p2(-8)) and np.allclose(alibi.bloom_slopes(32), p2(*[-0.25 * k for k in range(1, 33)]), rtol=1e-14, atol=0),
          "BLOOM slopes, 1 head 2^-8, 32 heads 2^-k/4")
    check(same(alibi.mpt_slopes(8), p2(*range(-1, -9, -1))), "MPT slopes, 8 heads: 2^-1 … 2^-8")
    check(same(alibi.mpt_slopes(6), p2(-2, -4, -6, -8, -1, -3)), "MPT slopes, 6 heads: gen_slopes(8)[1::2] + [::2], the first 6")
    check(close(alibi.mpt_slopes(12), p2(*range(-1, -9, -1), -0.5, -1.5, -2.5, -3.5)), "MPT slopes, 12 heads")
    check(same(alibi.mpt_slopes(6, 16), p2(-4, -8, -12, -16, -2, -6)), "MPT slopes, 6 heads, alibi_bias_max 16")
    check(close(alibi.mpt_slopes(6, 4), p2(-1, -2, -3, -4, -0.5, -1.5)), "MPT slopes, 6 heads, alibi_bias_max 4")
    check(all(close(alibi.mpt_slopes(n), alibi.bloom_slopes(n)) for n in range(1, 65)),
          "MPT's slopes at alibi_bias_max 8 are BLOOM's for 1 … 64 heads")
    b = alibi.bias("falcon", [0.25, 2 ** -0.5], 299, 300)
    check(b[0, 0, 255] == 63.75 and b[0, 0, 257] == 64.0 and b[0, 0, 259] == 65.0 and b[1, 0, 1] == 0.70703125,
          "Falcon's bias by hand: bf16(257) = 256, bf16(259) = 260 (ties to even), bf16(2^-0.5) = 0.70703125")
    check(same(alibi.bias("mpt", [1.0], 3, 4)[0, 0], [-3, -2, -1, 0]) and same(alibi.bias("mpt", [1.0], 0, 4)[0, 3], [-3, -2, -1, 0])
          and same(alibi.bias("mpt", [1.0], 0, 4)[0, 0], [-3, -np.inf, -np.inf, -np.inf]),
          "MPT's bias: the max_seq_len table's last key_length columns, relative to the call's last key")
    check(same(alibi.bias("bloom", [0.5], 2, 4)[0], [[0, 0.5, 1, -np.inf], [0, 0.5, 1, 1.5]])
          and same(alibi.bias("bloom", [0.5], 2, 4, "relative")[0], [[-1, -0.5, 0, -np.inf], [-1.5, -1, -0.5, 0]]),
          "BLOOM's bias slope · j for every query; the relative form slope · (j - i)")
    fixtures = {"bloom": (bloom.forward, alibi.bloom_slopes, "n_head", "interleaved", "blocks"),
                "mpt": (mpt.forward, alibi.mpt_slopes, "n_heads", "blocks", "interleaved"),
                "falcon-rw": (falcon.forward, alibi.bloom_slopes, "num_attention_heads", None, "blocks")}
    for name, (fwd, slopes_of, heads, _, wrong_layout) in fixtures.items():
        cfg, P, ref = load(os.path.join(out, name))
        ids = np.array(ref["inputs"]["input_ids"])
        nh = cfg[heads]
        hd = (cfg.get("hidden_size") or cfg.get("d_model")) // nh
        slopes = slopes_of(nh)
        check(same(ref["alibi_slopes"], slopes), f"{name}: reference.json's slopes are the formula's")
        logits = fwd(cfg, P, ids)[1]
        big = np.abs(logits).max()
        check(np.abs(fwd(cfg, P, ids, form="relative")[1] - logits).max() < 1e-12 * big,
              f"{name}: slope · (j - i) gives transformers' logits (translation invariance)")
        n = int(ref["inputs"]["cached_prompt"])
        check(np.abs(fwd(cfg, P, ids[:1], calls=[n] + [1] * (ids.shape[1] - n), form="relative")[1] - logits[:1]).max() < 1e-12 * big,
              f"{name}: cached calls with slope · (j - i) give the full pass's logits")
        check(ids.shape[1] >= 72 and int(ref["inputs"]["cached_tokens"]) >= 72, f"{name}: the cached run covers 72 positions")

        def moved(what, by=1e-3, **kw):
            with np.errstate(over="ignore"):
                check(np.abs(fwd(cfg, P, ids, **kw)[1] - logits).max() > by * big, f"{name}: {what} moves the logits")
        moved("no ALiBi (zero slopes)", slopes=np.zeros(nh))
        moved("the slopes in reverse order", slopes=slopes[::-1])
        moved("the first heads' slopes without the reorder / extra slopes", slopes=p2(*[-8 * (k + 1) / (2 ** math.ceil(math.log2(nh))) for k in range(nh)]))
        moved("reading query_key_value in the wrong layout", by=1e-2, layout=wrong_layout)
        if name == "mpt":
            moved("alibi_bias_max 16's slopes (transformers reads 8)", slopes=alibi.mpt_slopes(nh, 16))
            sc = dict(cfg, attn_config=dict(cfg["attn_config"], softmax_scale=1 / math.sqrt(cfg["d_model"])))
            check(np.abs(mpt.forward(sc, P, ids)[1] - logits).max() > 1e-2 * big, "mpt: softmax_scale 1/sqrt(d_model) moves the logits")
            cl = dict(cfg, attn_config=dict(cfg["attn_config"], clip_qkv=0.5))
            check(np.abs(mpt.forward(cl, P, ids)[1] - logits).max() > 1e-2 * big, "mpt: clip_qkv 0.5 moves the logits")
            check(not any(k.endswith(".bias") for k in P) and "lm_head.weight" not in P and sorted(P)[0] == "transformer.blocks.0.attn.Wqkv.weight",
                  "mpt: no bias tensors (norms included), no lm_head, transformer. names")
            try:
                mpt.forward(dict(cfg, max_seq_len=16), P, ids)
                check(False, "mpt: a sequence past max_seq_len is refused")
            except ValueError:
                check(True, "mpt: a sequence past max_seq_len is refused")
            gelu = nn.gelu
            try:
                nn.gelu = nn.gelu_tanh
                check(np.abs(mpt.forward(cfg, P, ids)[1] - logits).max() > 4e-5 * big, "mpt: the tanh GELU instead of the exact one moves the logits past twice the fp32 rule")
            finally:
                nn.gelu = gelu
        if name == "bloom":
            check(not any(k.startswith(("transformer.", "lm_head")) for k in P) and "word_embeddings_layernorm.bias" in P,
                  "bloom: the base model's names (no transformer. prefix, no lm_head.weight), word_embeddings_layernorm with bias")
            flat = dict(P, **{"word_embeddings_layernorm.weight": np.ones_like(P["word_embeddings_layernorm.weight"]),
                              "word_embeddings_layernorm.bias": np.zeros_like(P["word_embeddings_layernorm.bias"])})
            check(np.abs(bloom.forward(cfg, flat, ids)[1] - logits).max() > 1e-2 * big, "bloom: word_embeddings_layernorm's weight and bias move the logits")
            check(np.abs(bloom.forward(dict(cfg, apply_residual_connection_post_layernorm=True), P, ids)[1] - logits).max() > 1e-2 * big,
                  "bloom: apply_residual_connection_post_layernorm moves the logits")
            prefixed = {"transformer." + k: v for k, v in P.items()}
            check(np.array_equal(bloom.forward(cfg, prefixed, ids)[1], logits), "bloom: BloomForCausalLM's transformer. names read alike")
            bg = bloom.bloom_gelu
            try:
                bloom.bloom_gelu = nn.gelu
                check(np.abs(bloom.forward(cfg, P, ids)[1] - logits).max() > 4e-5 * big, "bloom: exact GELU instead of bloom_gelu moves the logits past twice the fp32 rule")
            finally:
                bloom.bloom_gelu = bg
            try:
                bloom.forward(dict(cfg, pretraining_tp=2, slow_but_exact=True), P, ids)
                check(False, "bloom: pretraining_tp > 1 with slow_but_exact is refused")
            except ValueError:
                check(True, "bloom: pretraining_tp > 1 with slow_but_exact is refused")
        if name == "falcon-rw":
            moved("the slopes without 1/sqrt(head_dim) (BLOOM's scaling)", slopes=slopes * math.sqrt(hd))
            par = falcon.forward(dict(cfg, parallel_attn=True), P, ids)[1]
            check(np.abs(par - logits).max() > 1e-2 * big, "falcon-rw: the parallel layer (parallel_attn true) moves the logits")
            check("transformer.h.0.post_attention_layernorm.weight" in P and "transformer.h.0.self_attention.query_key_value.bias" in P
                  and "lm_head.weight" not in P, "falcon-rw: post_attention_layernorm, biases, tied head")


def gpt_neo_checks(out):
    """GPT-Neo (gpt-neo, gpt-neo-local-first). (a) The mask buffer by hand: a local layer's bias ^ tril(bias, -W) lets query
    i see key j iff 0 <= i - j <= W - 1 (W keys, itself included; W = 1 the diagonal alone; W >= P plain causal), the same
    as masking_utils' sliding window of W; a global layer's is tril. (b) expand_attention_types_params by hand, the default
    24 layers alternating from global, and the refusals (a count other than num_layers, a stored attention_layers that
    disagrees, a type other than global / local). (c) Each folder: exactly the tensor names GPTNeoForCausalLM's state_dict
    has plus the buffers the EleutherAI files carry (U8 bias, the global causal mask, in the global layers only; F32
    masked_bias -1e9 in every layer), no lm_head.weight, c_fc intermediate_size (or 4 · hidden_size) wide; the logits
    unchanged without the buffers or with them altered; the scores scaled by 1/sqrt(head_dim), a window of W - 1 or W + 1
    keys, the layer types swapped, all global and the exact GELU each move the logits; with both layers local, token 0
    reaches position 2(W - 1) and not past it; cached calls give the full pass's logits; a sequence past
    max_position_embeddings is refused."""
    i, j = np.meshgrid(np.arange(80), np.arange(80), indexing="ij")
    m = gpt_neo.mask("local", 6, 3)
    check(m.sum(1).tolist() == [1, 2, 3, 3, 3, 3] and m[5, 3] and m[5, 5] and not m[5, 2] and not m[2, 3],
          "GPT-Neo's local bias, window 3: 1, 2, 3, 3, 3, 3 keys; query 5 sees keys 3 … 5, not 2")
    check(all(np.array_equal(gpt_neo.mask("local", 80, w), (i - j >= 0) & (i - j <= w - 1)) for w in (1, 2, 5, 8, 79, 80, 256)),
          "GPT-Neo's local bias: key j visible from query i iff 0 <= i - j <= window_size - 1")
    check(np.array_equal(gpt_neo.mask("global", 80, 8), j <= i) and np.array_equal(gpt_neo.mask("local", 80, 8), nn.causal(80, window=8)),
          "GPT-Neo's global bias is tril; the local one masking_utils' sliding window of the same size")
    check(gpt_neo.expand([[["global", "local"], 6]]) == ["global", "local"] * 6
          and gpt_neo.expand([[["local", "global"], 1]]) == ["local", "global"]
          and gpt_neo.expand([[["global"], 2], [["local", "global"], 1]]) == ["global", "global", "local", "global"],
          "expand_attention_types_params by hand")
    check(gpt_neo.attention_layers({"num_layers": 24}) == ["global", "local"] * 12, "GPTNeoConfig's default attention_types: 24 layers from global")
    for bad, what in (({"num_layers": 3, "attention_types": [[["global", "local"], 1]]}, "2 types for 3 layers"),
                      ({"num_layers": 2, "attention_types": [[["global", "local"], 1]], "attention_layers": ["local", "global"]},
                       "a stored attention_layers that disagrees with attention_types"),
                      ({"num_layers": 1, "attention_types": [[["sparse"], 1]]}, "a type other than global / local")):
        try:
            gpt_neo.attention_layers(bad)
            check(False, f"GPT-Neo: {what} is refused")
        except ValueError:
            check(True, f"GPT-Neo: {what} is refused")
    for name in ("gpt-neo", "gpt-neo-local-first"):
        cfg, P, ref = load(os.path.join(out, name))
        ids = np.array(ref["inputs"]["input_ids"])
        types = gpt_neo.attention_layers(cfg)
        c, w = cfg["hidden_size"], cfg["window_size"]
        hd = c // cfg["num_heads"]
        f = cfg["intermediate_size"] or 4 * c
        check(cfg["attention_layers"] == types and "num_hidden_layers" not in cfg and "num_attention_heads" not in cfg,
              f"{name}: config.json as 4.x writes it (num_layers, num_heads, attention_types and its expansion attention_layers)")
        want = {"transformer.wte.weight", "transformer.wpe.weight", "transformer.ln_f.weight", "transformer.ln_f.bias"}
        for n, kind in enumerate(types):
            p = f"transformer.h.{n}."
            want |= {p + s for s in ("ln_1.weight", "ln_1.bias", "ln_2.weight", "ln_2.bias", "attn.attention.q_proj.weight",
                                     "attn.attention.k_proj.weight", "attn.attention.v_proj.weight", "attn.attention.out_proj.weight",
                                     "attn.attention.out_proj.bias", "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight",
                                     "mlp.c_proj.bias", "attn.attention.masked_bias")}
            if kind == "global":
                want.add(p + "attn.attention.bias")
            check(P[p + "mlp.c_fc.weight"].shape == (f, c) and P[p + "mlp.c_proj.weight"].shape == (c, f),
                  f"{name}: layer {n}'s MLP is intermediate_size (or 4 · hidden_size) = {f} wide")
            check(float(P[p + "attn.attention.masked_bias"]) == -1e9 and P[p + "attn.attention.masked_bias"].shape == (),
                  f"{name}: layer {n}'s masked_bias is the scalar -1e9")
            if kind == "global":
                check(np.array_equal(P[p + "attn.attention.bias"][0, 0], gpt_neo.mask("global", cfg["max_position_embeddings"], w)),
                      f"{name}: layer {n}'s stored bias is the global causal mask (1, 1, P, P)")
        check(set(P) == want, f"{name}: the tensor names are GPTNeoForCausalLM's and the saved buffers: {sorted(set(P) ^ want)}")
        if name == "gpt-neo":
            check(cfg["intermediate_size"] is None and f == 4 * c, f"{name}: intermediate_size null: 4 · hidden_size")
        else:
            check(cfg["intermediate_size"] is not None and f != 4 * c, f"{name}: an explicit intermediate_size other than 4 · hidden_size")
        logits = gpt_neo.forward(cfg, P, ids)[1]
        big = np.abs(logits).max()
        plain = {k: v for k, v in P.items() if not k.endswith((".attn.attention.bias", ".attn.attention.masked_bias"))}
        odd = dict(P, **{k: (np.zeros_like(v) if k.endswith(".bias") else np.float64(0.0)) for k, v in P.items()
                         if k.endswith((".attn.attention.bias", ".attn.attention.masked_bias"))})
        check(np.array_equal(gpt_neo.forward(cfg, plain, ids)[1], logits) and np.array_equal(gpt_neo.forward(cfg, odd, ids)[1], logits),
              f"{name}: the saved buffers are read by nothing (the logits without them, or with them zeroed, are bit-identical)")

        def moved(what, by=1e-3, **kw):
            check(np.abs(gpt_neo.forward(cfg, P, ids, **kw)[1] - logits).max() > by * big, f"{name}: {what} moves the logits")
        moved("scores scaled by 1/sqrt(head_dim) (GPT-Neo does not scale)", by=1e-2, scale=hd ** -0.5)
        moved(f"a window of window_size - 1 = {w - 1} keys", window=w - 1)
        moved(f"a window of window_size + 1 = {w + 1} keys", window=w + 1)
        moved(f"the layer types swapped ({types[::-1]})", by=1e-2, types=types[::-1])
        moved("every layer global (no window)", by=1e-2, types=["global"] * len(types))
        gelu = nn.ACT["gelu_new"]
        try:
            nn.ACT["gelu_new"] = nn.gelu
            moved("the exact GELU for gelu_new (past twice the fp32 rule)", by=4e-5)
        finally:
            nn.ACT["gelu_new"] = gelu
        other = ids[:1].copy()
        other[0, 0] = (ids[0, 0] + 1) % cfg["vocab_size"]
        local = ["local"] * len(types)
        a, b = gpt_neo.forward(cfg, P, ids[:1], types=local)[1], gpt_neo.forward(cfg, P, other, types=local)[1]
        reach = len(types) * (w - 1)
        check(np.array_equal(a[:, reach + 1:], b[:, reach + 1:]) and not np.array_equal(a[:, reach], b[:, reach]),
              f"{name}: with every layer local (window {w}), token 0 reaches position {reach} and not past it")
        t = ids.shape[1]
        for calls in ([int(ref["inputs"].get("cached_prompt", 8))] + [1] * (t - int(ref["inputs"].get("cached_prompt", 8))),
                      [w + 3, w, 1, 2] + [1] * (t - 2 * w - 6)):
            check(np.abs(gpt_neo.forward(cfg, P, ids[:1], calls=calls)[1] - logits[:1]).max() < 1e-12 * big,
                  f"{name}: cached calls {calls[:4]}… give the full pass's logits")
        if "cached_tokens" in ref["inputs"]:
            check(t >= 72 and int(ref["inputs"]["cached_tokens"]) >= 72, f"{name}: the cached run covers 72 positions")
        try:
            gpt_neo.forward(cfg, P, np.zeros((1, cfg["max_position_embeddings"] + 1), dtype=np.int64))
            check(False, f"{name}: a sequence past max_position_embeddings is refused")
        except ValueError:
            check(True, f"{name}: a sequence past max_position_embeddings is refused")


def cohere_checks(out):
    """Cohere and Cohere 2 (6h of the docstring): what a loader must do to match transformers, each shown to matter."""
    check(np.array_equal(cohere.rotate_half(np.array([1.0, 2.0, 3.0, 4.0])), np.array([-2.0, 1.0, -4.0, 3.0])),
          "Cohere's rotate_half by hand: pairs (2i, 2i + 1)")
    mu, var = 2.5, 1.25
    want = (np.array([1.0, 2.0, 3.0, 4.0]) - mu) / math.sqrt(var + 1e-5) * np.array([1.0, 2.0, 0.5, 1.0])
    check(np.abs(cohere.cohere_layer_norm(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 2.0, 0.5, 1.0]), 1e-5) - want).max() < 1e-15,
          "CohereLayerNorm of (1, 2, 3, 4) by hand: mean-centred, weight only")
    small = {"model_type": "cohere", "hidden_size": 32, "num_attention_heads": 2, "rope_theta": 50.0, "max_position_embeddings": 64}
    cos, sin = cohere.cos_sin(small, np.arange(5), 5)
    ang = np.arange(5.0)[:, None] * 50.0 ** (-np.arange(0, 16, 2) / 16.0)[None, :]
    check(np.abs(cos[:, 0::2] - np.cos(ang)).max() < 1e-15 and np.array_equal(cos[:, 0::2], cos[:, 1::2])
          and np.abs(sin[:, 1::2] - np.sin(ang)).max() < 1e-15 and np.array_equal(sin[:, 0::2], sin[:, 1::2]),
          "Cohere's cos/sin: each frequency at dims 2i and 2i + 1 (repeat_interleave)")
    try:
        cohere.cos_sin(dict(small, partial_rotary_factor=0.5), np.arange(5), 5)
        check(False, "Cohere: a partial rotary factor is refused")
    except ValueError:
        check(True, "Cohere: a partial rotary factor is refused")
    pattern = lambda n, p: cohere.layer_types({"model_type": "cohere2", "num_hidden_layers": n, **({} if p is None else {"sliding_window_pattern": p})})
    check([i for i, t in enumerate(pattern(8, None)) if t == "full_attention"] == [3, 7], "Cohere2: default pattern 4, layers 3 and 7 full")
    check(pattern(2, 2) == ["sliding_attention", "full_attention"], "Cohere2: pattern 2 over 2 layers: [sliding, full]")
    check(cohere.layer_types({"model_type": "cohere2", "num_hidden_layers": 2, "sliding_window_pattern": 2,
                              "layer_types": ["full_attention", "sliding_attention"]}) == ["full_attention", "sliding_attention"],
          "Cohere2: layer_types wins over sliding_window_pattern")
    check(cohere.head_dim({"model_type": "cohere2", "hidden_size": 64, "num_attention_heads": 4, "head_dim": 32}) == 16
          and cohere.head_dim({"model_type": "cohere", "hidden_size": 64, "num_attention_heads": 4, "head_dim": 32}) == 32,
          "head_dim: Cohere2Config forces hidden // heads, Cohere reads config.json's")
    for name in ("cohere", "cohere2"):
        cfg, P, ref = load(os.path.join(out, name))
        ids = np.array(ref["inputs"]["input_ids"])
        h, logits = cohere.forward(cfg, P, ids)
        big = np.abs(logits).max()
        moved = lambda other: np.abs(other - logits).max() > 1e-3 * big
        n, c, nh, nkv = cfg["num_hidden_layers"], cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
        hd = cohere.head_dim(cfg)
        names = ["model.embed_tokens.weight", "model.norm.weight"] + [f"model.layers.{i}.{k}.weight" for i in range(n) for k in (
            "input_layernorm", "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj",
            "mlp.up_proj", "mlp.down_proj")]
        check(sorted(P) == sorted(names), f"{name}: exactly CohereForCausalLM's tensor names (tied, no biases, one norm a layer)")
        perm = np.concatenate([np.arange(0, hd, 2), np.arange(1, hd, 2)])
        P2 = dict(P)
        for i in range(n):
            for proj, heads in (("q_proj", nh), ("k_proj", nkv)):
                k = f"model.layers.{i}.self_attn.{proj}.weight"
                rows = np.concatenate([hh * hd + perm for hh in range(heads)])
                P2[k] = P[k][rows]
        check(np.abs(cohere.forward(cfg, P2, ids, rotation="halves")[1] - logits).max() < 1e-12 * big,
              f"{name}: the interleaved rotary = Llama's rotate_half on q_proj / k_proj rows permuted [0, 2, …; 1, 3, …] per head")
        check(moved(cohere.forward(cfg, P, ids, rotation="halves")[1]), f"{name}: rotate_half on unpermuted halves moves the logits")
        check(moved(cohere.forward(cfg, P, ids, block="sequential")[1]), f"{name}: a sequential block moves the logits")
        check(moved(cohere.forward(cfg, P, ids, norm="rms")[1]), f"{name}: RMSNorm for CohereLayerNorm moves the logits")
        scale = cfg["logit_scale"]
        check(np.abs(h @ P["model.embed_tokens.weight"].T * scale - logits).max() == 0 and scale != 1,
              f"{name}: logits = h E^T · logit_scale ({scale}), tied")
        check(moved(cohere.forward(dict(cfg, logit_scale=1.0), P, ids)[1]), f"{name}: logit_scale moves the logits")
        t = ref["inputs"]["cached_tokens"]
        cached = cohere.forward(cfg, P, ids[:1, :t], calls=[ref["inputs"]["cached_prompt"]] + [1] * (t - ref["inputs"]["cached_prompt"]))[1]
        check(np.abs(cached - logits[:1, :t]).max() < 1e-12 * big, f"{name}: the cached run equals the full pass")
        if name == "cohere2":
            check(cohere.layer_types(cfg) == ["sliding_attention", "full_attention"] and cohere.rotary_layers(cfg) == [True, False]
                  and ref["layer_types"] == cohere.layer_types(cfg) and ref["rotary_layers"] == [True, False],
                  "cohere2: layer 0 slides with rotary, layer 1 is full without (NoPE)")
            check(cfg["sliding_window"] < t, "cohere2: the window is shorter than the sequence")
            check(moved(cohere.forward(cfg, P, ids, rope_layers=[True, True])[1]), "cohere2: rotating the full layer too moves the logits")
            check(moved(cohere.forward(dict(cfg, sliding_window=t), P, ids)[1]), "cohere2: the window (none) moves the logits")
            check(moved(cohere.forward(dict(cfg, sliding_window=2 * cfg["sliding_window"]), P, ids)[1]), "cohere2: the window's size moves the logits")
            check(moved(cohere.forward(dict(cfg, layer_types=["full_attention", "sliding_attention"]), P, ids)[1]),
                  "cohere2: the layer types swapped move the logits")


def glm_checks(out):
    """GLM / GLM-4 (models/glm/modular_glm.py, models/glm4/modular_glm4.py): the rotary by hand, the loader's q/k row
    permutation identity, the tensor names, cached = full, and each of GLM's readings shown to matter."""
    check(np.array_equal(glm.rotate_interleaved(np.array([1.0, 2.0, 3.0, 4.0])), np.array([-2.0, 1.0, -4.0, 3.0])),
          "GLM's rotate_half of (1, 2, 3, 4) is (-2, 1, -4, 3)")
    small = {"model_type": "glm", "head_dim": 16, "rope_theta": 50.0, "max_position_embeddings": 64}
    cos, _ = glm.cos_sin(small, np.arange(5), 5)
    want = np.cos(np.arange(5)[:, None] * 50.0 ** (-np.arange(0, 8, 2) / 8.0))
    check(cos.shape == (5, 8) and np.abs(cos[:, 0::2] - want).max() < 1e-15 and np.array_equal(cos[:, 0::2], cos[:, 1::2]),
          "GLM's cos: partial 0.5 of head_dim 16 (8 dims), frequency i at dims 2i and 2i + 1, theta^(-2i/8)")
    check(glm.head_dim({"hidden_size": 64, "num_attention_heads": 4}) == 128 and glm.rotary_dim({}) == 64,
          "GlmConfig's defaults: head_dim 128 (not hidden // heads), partial_rotary_factor 0.5")
    check(glm.rotary_dim({"head_dim": 16, "partial_rotary_factor": 1.0, "rope_parameters": {"partial_rotary_factor": 0.25}}) == 4,
          "5.x: rope_parameters' partial_rotary_factor")
    x = np.arange(1.0, 17.0)[None, None, None, :]
    c, sn = glm.cos_sin(small, [3], 4)
    check(np.array_equal(glm.apply(x, c[None, None], sn[None, None])[..., 8:], x[..., 8:]), "GLM rotates the first 8 of 16 dims only")
    for name in ("glm", "glm4"):
        cfg, P, ref = load(os.path.join(out, name))
        ids = np.array(ref["inputs"]["input_ids"])
        h, logits = glm.forward(cfg, P, ids)
        big = np.abs(logits).max()
        moved = lambda other: np.abs(other - logits).max() > 1e-3 * big
        n, nh, nkv, hd, r = cfg["num_hidden_layers"], cfg["num_attention_heads"], cfg["num_key_value_heads"], glm.head_dim(cfg), glm.rotary_dim(cfg)
        check(r == ref["rotary_dim"] == hd // 2 and 0 < r < hd, f"{name}: the rotary covers half of each head ({r} of {hd})")
        keys = ["input_layernorm.weight", "post_attention_layernorm.weight", "mlp.gate_up_proj.weight", "mlp.down_proj.weight",
                "self_attn.o_proj.weight"] + [f"self_attn.{x}_proj.{b}" for x in "qkv" for b in ("weight", "bias")]
        if name == "glm4":
            keys += ["post_self_attn_layernorm.weight", "post_mlp_layernorm.weight"]
        names = ["model.embed_tokens.weight", "model.norm.weight", "lm_head.weight"] + [f"model.layers.{i}.{k}" for i in range(n) for k in keys]
        check(sorted(P) == sorted(names), f"{name}: exactly {cfg['architectures'][0]}'s tensor names (q/k/v biases, untied)")
        perm = np.concatenate([np.arange(0, r, 2), np.arange(1, r, 2), np.arange(r, hd)])
        P2 = dict(P)
        for i in range(n):
            for proj, heads in (("q_proj", nh), ("k_proj", nkv)):
                rows = np.concatenate([hh * hd + perm for hh in range(heads)])
                for part in ("weight", "bias"):
                    k = f"model.layers.{i}.self_attn.{proj}.{part}"
                    P2[k] = P[k][rows]
        check(np.abs(glm.forward(cfg, P2, ids, rotation="halves")[1] - logits).max() < 1e-12 * big,
              f"{name}: the interleaved rotary = Llama's rotate_half on q_proj / k_proj rows permuted per head over the rotary dims")
        check(moved(glm.forward(cfg, P, ids, rotation="halves")[1]), f"{name}: rotate_half on unpermuted halves moves the logits")
        whole = dict(cfg, partial_rotary_factor=1.0)
        if "rope_parameters" in cfg:
            whole["rope_parameters"] = dict(cfg["rope_parameters"], partial_rotary_factor=1.0)
        check(moved(glm.forward(whole, P, ids)[1]), f"{name}: a whole-head rotary moves the logits")
        nob = {k: v for k, v in P.items() if not k.endswith("_proj.bias")}
        check(moved(glm.forward(cfg, nob, ids)[1]), f"{name}: the q/k/v biases move the logits")
        sw = dict(P)
        for i in range(n):
            k = f"model.layers.{i}.mlp.gate_up_proj.weight"
            sw[k] = np.concatenate(np.split(P[k], 2)[::-1])
        check(moved(glm.forward(cfg, sw, ids)[1]), f"{name}: gate_up_proj read [up | gate] moves the logits")
        t = ids.shape[1]
        cached = glm.forward(cfg, P, ids[:1], calls=[8] + [1] * (t - 8))[1]
        check(np.abs(cached - logits[:1]).max() < 1e-12 * big, f"{name}: the cached run equals the full pass")
        if name == "glm4":
            check(moved(glm.forward(cfg, P, ids, sandwich=False)[1]), "glm4: post_self_attn / post_mlp norms move the logits")
            swapped = dict(P)
            for i in range(n):
                a, b = f"model.layers.{i}.post_self_attn_layernorm.weight", f"model.layers.{i}.post_mlp_layernorm.weight"
                swapped[a], swapped[b] = P[b], P[a]
            check(moved(glm.forward(cfg, swapped, ids)[1]), "glm4: the two post norms swapped move the logits")


def olmo_checks(out):
    """OLMo (models/olmo/modular_olmo.py): OlmoLayerNorm by hand, the folder without norm tensors, clip_qkv's recorded counts
    what the files give, and the clamp, its bound and the weightless norm each shown to matter."""
    x = np.array([1.0, 2.0, 3.0, 4.0])
    want = (x - 2.5) / math.sqrt(1.25 + 1e-5)
    check(np.abs(decoders._norm({"model_type": "olmo", "layer_norm_eps": 0.1, "rms_norm_eps": 0.1}, x, None) - want).max() < 1e-15,
          "OlmoLayerNorm of (1, 2, 3, 4) by hand: no weight, no bias, eps 1e-5 whatever the config says")
    d = os.path.join(out, "olmo")
    cfg, P, ref = load(d)
    ids = np.array(ref["inputs"]["input_ids"])
    check(not any("norm" in k for k in P), "olmo: the checkpoint holds no norm tensors (OlmoLayerNorm has no parameters)")
    check(not any(k.endswith(".bias") for k in P), "olmo: no biases (attention_bias false, OlmoMLP has none)")
    clipped = {}
    h, logits = decoders.forward(cfg, P, ids, clipped=clipped)
    rec = ref["clip_qkv"]
    check(rec["limit"] == cfg["clip_qkv"] and [rec["clamped_q"], rec["clamped_k"], rec["clamped_v"], rec["elements"]]
          == [clipped["q"], clipped["k"], clipped["v"], clipped["all"]] and min(clipped["q"], clipped["k"], clipped["v"]) > 0,
          f"olmo: the recorded clamp counts are what the files give, each above 0 ({clipped})")
    big = np.abs(logits).max()
    moved = lambda other: np.abs(other - logits).max() > 1e-3 * big
    check(moved(decoders.forward(dict(cfg, clip_qkv=None), P, ids)[1]), "olmo: clip_qkv moves the logits")
    check(moved(decoders.forward(dict(cfg, clip_qkv=2 * cfg["clip_qkv"]), P, ids)[1]), "olmo: clip_qkv's value moves the logits")
    rms = {**cfg, "model_type": "llama", "rms_norm_eps": 1e-5, "tie_word_embeddings": False}
    Pr = dict(P, **{f"model.layers.{i}.{n}.weight": np.ones(cfg["hidden_size"]) for i in range(cfg["num_hidden_layers"])
                    for n in ("input_layernorm", "post_attention_layernorm")}, **{"model.norm.weight": np.ones(cfg["hidden_size"])})
    check(moved(decoders.forward(dict(rms, clip_qkv=None), Pr, ids)[1]), "olmo: Llama's RMSNorm (ones) for OlmoLayerNorm moves the logits")
    check(np.abs(decoders.forward(dict(cfg, clip_qkv=1e9), P, ids)[1] - decoders.forward(dict(cfg, clip_qkv=None), P, ids)[1]).max() == 0,
          "olmo: a bound no element reaches is no clamp")


def ernie4_5_checks(out):
    """ERNIE 4.5 dense (models/ernie4_5): config defaults, the rotary by hand, the loader's q/k row permutation identity,
    the tensor names, cached = full, and each of its readings shown to matter."""
    check(ernie4_5.head_dim({}) == 128 and ernie4_5.head_dim({"head_dim": None, "hidden_size": 64, "num_attention_heads": 4}) == 16,
          "Ernie4_5Config: head_dim 128 when absent, hidden // heads when null")
    check(ernie4_5.kv_heads({}) == 2 and ernie4_5.kv_heads({"num_key_value_heads": None, "num_attention_heads": 8}) == 8,
          "Ernie4_5Config: 2 key/value heads when absent, the heads when null")
    check(ernie4_5.rope_cfg({"model_type": "ernie4_5"})["rope_theta"] == 500000.0, "rope_theta 500000 when absent")
    for bad in ({"model_type": "ernie4_5", "partial_rotary_factor": 0.5}, {"model_type": "ernie4_5_moe"}):
        try:
            ernie4_5.rope_cfg(bad)
            check(False, f"{bad} refused")
        except ValueError:
            check(True, f"{bad} refused")
    small = {"model_type": "ernie4_5", "head_dim": 8, "rope_theta": 50.0, "max_position_embeddings": 64}
    cos, sin = ernie4_5.cos_sin(small, np.arange(5), 5)
    want = np.arange(5)[:, None] * 50.0 ** (-np.arange(0, 8, 2) / 8.0)
    check(cos.shape == (5, 8) and np.abs(cos[:, 0::2] - np.cos(want)).max() < 1e-15 and np.array_equal(cos[:, 0::2], cos[:, 1::2])
          and np.abs(sin[:, 1::2] - np.sin(want)).max() < 1e-15, "ERNIE's cos/sin: frequency i at dims 2i, 2i + 1 of the whole head")
    x = np.array([1.0, 2.0, 3.0, 4.0])[None, None, None, :]
    c1, s1 = np.ones((1, 4)) * 0.0, np.ones((1, 4))
    check(np.array_equal(ernie4_5.turn(x, c1, s1), np.array([[[[-2.0, 1.0, -4.0, 3.0]]]])), "sin 1, cos 0: (1, 2, 3, 4) -> (-2, 1, -4, 3)")
    cfg, P, ref = load(os.path.join(out, "ernie4_5"))
    ids = np.array(ref["inputs"]["input_ids"])
    h, logits = ernie4_5.forward(cfg, P, ids)
    big = np.abs(logits).max()
    moved = lambda other: np.abs(other - logits).max() > 1e-3 * big
    n, nh, nkv, hd = cfg["num_hidden_layers"], cfg["num_attention_heads"], cfg["num_key_value_heads"], ernie4_5.head_dim(cfg)
    keys = ["input_layernorm.weight", "post_attention_layernorm.weight"] + [f"{b}.{x}_proj.{part}" for b, xs in
            (("self_attn", "qkvo"), ("mlp", ("gate", "up", "down"))) for x in xs for part in ("weight", "bias")]
    names = ["model.embed_tokens.weight", "model.norm.weight"] + [f"model.layers.{i}.{k}" for i in range(n) for k in keys]
    check(sorted(P) == sorted(names), "ernie4_5: exactly Ernie4_5ForCausalLM's tensor names (use_bias: seven biases, tied)")
    perm = np.concatenate([np.arange(0, hd, 2), np.arange(1, hd, 2)])
    P2 = dict(P)
    for i in range(n):
        for proj, heads in (("q_proj", nh), ("k_proj", nkv)):
            rows = np.concatenate([hh * hd + perm for hh in range(heads)])
            for part in ("weight", "bias"):
                k = f"model.layers.{i}.self_attn.{proj}.{part}"
                P2[k] = P[k][rows]
    check(np.abs(ernie4_5.forward(cfg, P2, ids, rotation="halves")[1] - logits).max() < 1e-12 * big,
          "ernie4_5: the interleaved rotary = Llama's rotate_half on q_proj / k_proj rows permuted per head")
    check(moved(ernie4_5.forward(cfg, P, ids, rotation="halves")[1]), "ernie4_5: rotate_half on unpermuted halves moves the logits")
    for what, drop in (("attention", ".self_attn."), ("MLP", ".mlp.")):
        nob = {k: w for k, w in P.items() if not (drop in k and k.endswith(".bias"))}
        check(moved(ernie4_5.forward(cfg, nob, ids)[1]), f"ernie4_5: the {what} biases move the logits")
    nob = {k: w for k, w in P.items() if not k.endswith("o_proj.bias")}
    check(moved(ernie4_5.forward(cfg, nob, ids)[1]), "ernie4_5: o_proj's bias moves the logits")
    sw = dict(P)
    for i in range(n):
        g, u = f"model.layers.{i}.mlp.gate_proj.", f"model.layers.{i}.mlp.up_proj."
        for part in ("weight", "bias"):
            sw[g + part], sw[u + part] = P[u + part], P[g + part]
    check(moved(ernie4_5.forward(cfg, sw, ids)[1]), "ernie4_5: gate and up swapped moves the logits")
    t = ids.shape[1]
    cached = ernie4_5.forward(cfg, P, ids[:1], calls=[8] + [1] * (t - 8))[1]
    check(np.abs(cached - logits[:1]).max() < 1e-12 * big, "ernie4_5: the cached run equals the full pass")
    steps = ernie4_5.forward(cfg, P, ids[:1], calls=[1] * t)[1]
    check(np.abs(steps - logits[:1]).max() < 1e-12 * big, "ernie4_5: one token a step equals the full pass")


def nemotron_checks(out):
    """NVIDIA Nemotron (nemotron.py): relu2, LayerNorm1P and the partial NeoX rotary by hand; the fixture's tensor names; the
    + 1, relu² and the partial rotary each matter."""
    check(np.array_equal(nemotron.relu2(np.array([-2.0, -0.0, 0.5, 3.0])), np.array([0.0, 0.0, 0.25, 9.0])), "nemotron: relu2 = relu(x)²")
    x = np.array([1.0, 2.0, 3.0, 6.0])                 # mean 3, var 3.5
    w, b = np.array([0.5, -0.5, 0.0, 1.0]), np.array([0.1, 0.2, 0.3, 0.4])
    want = (x - 3.0) / math.sqrt(3.5 + 1e-5) * (1.0 + w) + b
    check(np.abs(nemotron.layer_norm_1p(x, w, b, 1e-5) - want).max() < 1e-14, "nemotron: LayerNorm1P applies 1 + w and the bias")
    small = {"model_type": "nemotron", "head_dim": 16, "rope_theta": 100.0, "hidden_size": 32, "num_attention_heads": 4}
    check(neox_half_rotary_error(nemotron.rope_cfg(small)) < 1e-12 and nemotron.rotary_dim(small) == 8, "nemotron: NeoX halves over the first 8 of 16 dims (0.5 by default)")
    check(nemotron.head_dim({"hidden_size": 3072, "num_attention_heads": 24, "head_dim": 128}) == 128
          and nemotron.head_dim({"hidden_size": 64, "num_attention_heads": 4}) == 16, "nemotron: head_dim as given, else hidden // heads")
    cfg, P, ref = load(os.path.join(out, "nemotron"))
    params, _ = safetensors_np.read(os.path.join(out, "nemotron", "model.safetensors"))
    names = {"model.embed_tokens.weight", "model.norm.weight", "model.norm.bias", "lm_head.weight"}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        names |= {p + f"self_attn.{x}_proj.weight" for x in "qkvo"} | {p + "mlp.up_proj.weight", p + "mlp.down_proj.weight"}
        names |= {p + f"{n}.{x}" for n in ("input_layernorm", "post_attention_layernorm") for x in ("weight", "bias")}
    check(set(params) == names, "nemotron: exact tensor names (no gate_proj, no projection biases, LayerNorm1P biases)")
    ids = np.array(ref["inputs"]["input_ids"])
    moved = mover("nemotron", nemotron.forward, ids, nemotron.forward(cfg, P, ids)[1], 1e-2)
    for what, kw in (("the + 1", {"one_plus": False}), ("relu² (ReLU instead)", {"activation": "relu"}),
                     ("the partial rotary (whole head instead)", {"rotary": "whole"})):
        moved(cfg, P, what, **kw)


def arcee_checks(out):
    """Arcee AFM (arcee.py): ArceeConfig's None rules for head_dim and num_key_value_heads; the folder's exact tensor names;
    cached = full; relu² and the yarn scaling each matter."""
    check(arcee.head_dim({"hidden_size": 2560, "num_attention_heads": 20, "head_dim": None}) == 128
          and arcee.head_dim({"hidden_size": 64, "num_attention_heads": 4, "head_dim": 32}) == 32
          and arcee.kv_heads({"num_attention_heads": 20, "num_key_value_heads": None}) == 20,
          "arcee: head_dim None -> hidden // heads, num_key_value_heads None -> heads")
    cfg, P, ref = load(os.path.join(out, "arcee"))
    params, _ = safetensors_np.read(os.path.join(out, "arcee", "model.safetensors"))
    names = arcee.tensor_names(cfg)
    check(sorted(params) == sorted(names) and all(params[k].shape == names[k] for k in names),
          "arcee: exact tensor names and shapes (up_proj / down_proj, no gate_proj, no biases)")
    ids = np.array(ref["inputs"]["input_ids"])
    logits = arcee.forward(cfg, P, ids)[1]
    t = ids.shape[1]
    check(np.abs(arcee.forward(cfg, P, ids[:1], calls=[8] + [1] * (t - 8))[1] - logits[:1]).max() <= 1e-9 * np.abs(logits).max(),
          "arcee: the cached run = the full pass")
    moved = mover("arcee", arcee.forward, ids, logits, 1e-2)
    moved(cfg, P, "relu² (ReLU instead)", activation="relu")
    moved(cfg, P, "the yarn scaling (default rope instead)", scaling=False)
    check(cfg["rope_scaling"]["rope_type"] == "yarn" and cfg["hidden_act"] == "relu2", "arcee: AFM's switches (yarn, relu2)")


def dots1_checks(out):
    """dots.llm1 (dots1.py): Dots1Config's layer types and MoE defaults by hand, the None fields refused; the folder's exact
    tensor names and recorded routing; cached = full; the q/k norms, the window, the router's bias, the shared experts,
    routed_scaling_factor and norm_topk_prob each matter."""
    lt = lambda **kw: dots1.layer_types(dict({"num_hidden_layers": 4}, **kw))   # noqa: E731
    S, F = "sliding_attention", "full_attention"
    check(lt() == [F] * 4 and lt(max_window_layers=2) == [F, F, S, S] and lt(max_window_layers=2, sliding_window=None) == [F] * 4
          and lt(max_window_layers=2, use_sliding_window=False) == [F, F, S, S] and lt(layer_types=[S, F, F, F]) == [S, F, F, F],
          "dots1: Dots1Config's layer types (i >= max_window_layers slides when sliding_window is set; no use_sliding_window)")
    mc = dots1.moe_cfg({"n_routed_experts": 8, "num_experts_per_tok": 2, "n_shared_experts": 1})
    check(mc["norm_topk_prob"] is False and mc["n_group"] == 1 and mc["routed_scaling_factor"] == 1.0,
          "dots1: Dots1Config's MoE defaults (norm_topk_prob False, one group, scale 1)")
    for key in ("n_group", "n_shared_experts", "num_experts_per_tok"):
        try:
            dots1.moe_cfg({"n_routed_experts": 8, "num_experts_per_tok": 2, "n_shared_experts": 1, key: None})
            check(False, f"dots1: {key} None is refused")
        except ValueError:
            pass
    for name, cfg, P, ids, logits, routing, rec in moe_folders(out, dots1):
        gap, ggap, kth = make_fixtures.deepseek_routing(routing)
        check(kth >= make_fixtures.MIN_ROUTING_GAP and abs(kth - rec["min_kth_choice_score"]["input_ids"]) <= 1e-12, f"{name}: k-th score {kth}")
        t = ids.shape[1]
        check(np.abs(dots1.forward(cfg, P, ids[:1], calls=[8] + [1] * (t - 8))[1] - logits[:1]).max() <= 1e-9 * np.abs(logits).max(),
              f"{name}: the cached run = the full pass")
        moved = mover(name, dots1.forward, ids, logits)
        moved(cfg, P, "dropping the q/k norms", qk_norm=False)
        moved(dict(cfg, sliding_window=None), P, "the sliding window")
        moved(cfg, zeroed(P, lambda k: k.endswith("e_score_correction_bias")), "e_score_correction_bias")
        moved(cfg, zeroed(P, lambda k: ".shared_experts.down_proj" in k), "the shared experts")
        moved(dict(cfg, routed_scaling_factor=1.0), P, "routed_scaling_factor")
        moved(dict(cfg, norm_topk_prob=False), P, "norm_topk_prob")
        check(dots1.layer_types(cfg) == [F, S] and "head_dim" not in cfg and cfg["n_shared_experts"] == 2,
              f"{name}: layer 1 slides, head_dim from hidden // heads, two shared experts")


def exaone4_checks(out):
    """EXAONE 4.0 (models/exaone4/modular_exaone4.py): the config's layer types and NoPE rule by hand, the folder's tensor
    names, the 5.x layout, cached = full, and each of EXAONE 4's readings shown to matter."""
    lt = lambda **kw: exaone4.layer_types(dict({"model_type": "exaone4", "num_hidden_layers": 8}, **kw))
    S, F = "sliding_attention", "full_attention"
    check(lt() == [S, S, S, F] * 2 and lt(sliding_window_pattern=2) == [S, F] * 4,
          "exaone4: Exaone4Config's layer types: pattern 4 (default) and 2, layer i full when (i + 1) % pattern == 0")
    check(lt(sliding_window_pattern="LLLG", layer_types=[F] * 8) == [F] * 8, "exaone4: layer_types wins over the pattern")
    for bad in ({"sliding_window_pattern": "LLLG"}, {"sliding_window": None}, {"sliding_window_pattern": None}):
        try:
            lt(**bad)
            check(False, f"exaone4: {bad} without layer_types fails")
        except ValueError:
            check(True, f"exaone4: {bad} without layer_types fails, as (i + 1) % pattern does in Exaone4Config")
    full = {"model_type": "exaone4", "num_hidden_layers": 4, "sliding_window": None, "layer_types": [F] * 4}
    check(all(exaone4.rotates(full, i) for i in range(4)), "exaone4: a null sliding_window (EXAONE-4.0-1.2B): every layer rotates")
    hyb = dict(full, sliding_window=6, layer_types=[S, S, S, F])
    check([exaone4.rotates(hyb, i) for i in range(4)] == [True, True, True, False], "exaone4: with sliding_window, the global layer is NoPE")
    check(exaone4.head_dim({"hidden_size": 64, "num_attention_heads": 4}) == 16 and exaone4.head_dim({"head_dim": 32}) == 32,
          "exaone4: head_dim as given, else hidden // heads")
    cfg, P, ref = load(os.path.join(out, "exaone4"))
    ids = np.array(ref["inputs"]["input_ids"])
    n = cfg["num_hidden_layers"]
    keys = ["post_attention_layernorm.weight", "post_feedforward_layernorm.weight", "self_attn.q_norm.weight", "self_attn.k_norm.weight"] \
        + [f"self_attn.{x}_proj.weight" for x in "qkvo"] + [f"mlp.{x}_proj.weight" for x in ("gate", "up", "down")]
    names = ["model.embed_tokens.weight", "model.norm.weight", "lm_head.weight"] + [f"model.layers.{i}.{k}" for i in range(n) for k in keys]
    check(sorted(P) == sorted(names) and P["model.layers.0.self_attn.q_norm.weight"].shape == (cfg["head_dim"],),
          "exaone4: exactly Exaone4ForCausalLM's tensor names (no input_layernorm; q_norm / k_norm head_dim wide)")
    logits = exaone4.forward(cfg, P, ids)[1]
    big = np.abs(logits).max()
    moved = lambda other: np.abs(other - logits).max() > 1e-3 * big
    same = lambda other: np.abs(other - logits).max() <= 1e-12 * big
    run = lambda c2, **kw: exaone4.forward(c2, P, ids, **kw)[1]
    v5 = {k: v for k, v in cfg.items() if k not in ("rope_scaling", "rope_theta")}
    v5["rope_parameters"] = dict(cfg["rope_scaling"], rope_theta=cfg["rope_theta"])
    check(same(run(v5)), "exaone4: 5.x rope_parameters = the 4.x fields")
    check(same(run({k: v for k, v in cfg.items() if k not in ("layer_types", "sliding_window_pattern")})),
          "exaone4: the default pattern (4) gives the folder's layer types")
    cached = exaone4.forward(cfg, P, ids[:1], calls=[8] + [1] * (ids.shape[1] - 8))[1]
    check(np.abs(cached - logits[:1]).max() <= 1e-12 * big, "exaone4: the cached run (8, then one token a call) = the full pass")
    steps = np.stack([exaone4.forward(cfg, P, ids[:1, :m + 1])[1][0, -1] for m in range(20, ids.shape[1])])
    check(np.abs(steps - logits[0, 20:]).max() <= 1e-12 * big, "exaone4: one token a step (each step's last row) = the full pass's rows")
    check(moved(run(cfg, rope_on_full=True)), "exaone4: RoPE on the global layer moves the logits")
    check(moved(run(cfg, input_norms=True)), "exaone4: pre-norm layers (norms on the sublayer inputs) move the logits")
    check(moved(run(cfg, sliding=10 ** 6)), "exaone4: no window on the sliding layers moves the logits")
    check(moved(run(dict(cfg, sliding_window=12))), "exaone4: window 12 for 6 moves the logits")
    check(moved(run(dict(cfg, layer_types=[F, S, S, S]))), "exaone4: the global layer first (types swapped) moves the logits")
    check(moved(run(dict(cfg, rope_scaling=None))), "exaone4: no llama3 scaling moves the logits")
    check(moved(run(dict(cfg, sliding_window=None, layer_types=[F] * 4))),
          "exaone4: a null sliding_window (every layer full, every layer rotating) moves the logits")


def seed_oss_checks(out):
    """Seed-OSS (models/seed_oss/modular_seed_oss.py): its config's defaults, the folder's tensor names, each bias flag shown
    to matter, the 5.x layout, and the prefix / one token a step against the full pass, as a cache would."""
    check(rope.head_dim({"model_type": "seed_oss", "hidden_size": 64, "num_attention_heads": 4}) == 128
          and rope.head_dim({"model_type": "seed_oss", "hidden_size": 64, "num_attention_heads": 4, "head_dim": None}) == 16,
          "seed_oss: head_dim 128 when absent (SeedOssConfig), hidden // heads when null")
    cfg, P, ref = load(os.path.join(out, "seed-oss"))
    ids = np.array(ref["inputs"]["input_ids"])
    n = cfg["num_hidden_layers"]
    keys = ["input_layernorm.weight", "post_attention_layernorm.weight"] \
        + [f"self_attn.{x}_proj.{w}" for x in "qkvo" for w in ("weight", "bias")] \
        + [f"mlp.{x}_proj.{w}" for x in ("gate", "up", "down") for w in ("weight", "bias")]
    names = ["model.embed_tokens.weight", "model.norm.weight", "lm_head.weight"] + [f"model.layers.{i}.{k}" for i in range(n) for k in keys]
    check(sorted(P) == sorted(names) and P["model.layers.0.self_attn.q_proj.weight"].shape == (4 * 16, 32)
          and P["model.layers.0.self_attn.o_proj.bias"].shape == (32,),
          "seed_oss: exactly SeedOssForCausalLM's tensor names, every bias flag on, head_dim 16 given")
    logits = decoders.forward(cfg, P, ids)[1]
    big = np.abs(logits).max()
    moved = lambda c2: np.abs(decoders.forward(c2, P, ids)[1] - logits).max() > 1e-3 * big
    same = lambda c2: np.abs(decoders.forward(c2, P, ids)[1] - logits).max() <= 1e-12 * big
    for flag in ("attention_bias", "attention_out_bias", "mlp_bias"):
        check(moved(dict(cfg, **{flag: False})), f"seed_oss: {flag} false (its stored biases unused) moves the logits")
    check(same({k: v for k, v in cfg.items() if k != "attention_bias"}), "seed_oss: attention_bias absent = true (SeedOssConfig)")
    check(moved({k: v for k, v in cfg.items() if k != "attention_out_bias"}), "seed_oss: attention_out_bias absent = false")
    check(moved(dict(cfg, rope_theta=10000.0)), "seed_oss: rope_theta 10000 for 1e7 moves the logits")
    try:
        decoders.forward(cfg, {k: v for k, v in P.items() if not k.endswith("o_proj.bias")}, ids)
        check(False, "seed_oss: a flagged o_proj bias missing from the tensors fails")
    except KeyError:
        check(True, "seed_oss: a flagged o_proj bias missing from the tensors fails")
    v5 = {k: v for k, v in cfg.items() if k not in ("rope_scaling", "rope_theta")}
    v5["rope_parameters"] = dict(cfg["rope_scaling"], rope_theta=cfg["rope_theta"])
    check(same(v5), "seed_oss: 5.x rope_parameters = the 4.x fields")
    prefix = decoders.forward(cfg, P, ids[:1, :20])[1]
    check(np.abs(prefix - logits[:1, :20]).max() <= 1e-12 * big, "seed_oss: prefix logits = first rows")
    steps = np.stack([decoders.forward(cfg, P, ids[:1, :m + 1])[1][0, -1] for m in range(20, ids.shape[1])])
    check(np.abs(steps - logits[0, 20:]).max() <= 1e-12 * big, "seed_oss: one token a step (each step's last row) = the full pass's rows")


def olmo3_checks(out):
    """OLMo 3 (models/olmo3/modular_olmo3.py): the default layer pattern, the same model in 5.x's per-layer-type
    rope_parameters, and each of the layer types, the window, the yarn of the full layer and its absence on the sliding
    ones shown to matter; the prefix of the ids gives the first rows (causality) and the prefix with the rest appended
    one token at a time (each step's last row) gives the full pass's rows, as a cache would."""
    d = os.path.join(out, "olmo3")
    cfg, P, ref = load(d)
    ids = np.array(ref["inputs"]["input_ids"])
    check("layer_types" not in cfg and decoders.sliding_layers(cfg) == [True, True, True, False] == ref["sliding_layers"],
          "olmo3: without layer_types, layers 0-2 slide and layer 3 is full (Olmo3Config: (i + 1) % 4)")
    logits = decoders.forward(cfg, P, ids)[1]
    big = np.abs(logits).max()
    moved = lambda c2: np.abs(decoders.forward(c2, P, ids)[1] - logits).max() > 1e-3 * big
    same = lambda c2: np.abs(decoders.forward(c2, P, ids)[1] - logits).max() <= 1e-12 * big
    yarn = dict(cfg["rope_scaling"], rope_theta=cfg["rope_theta"])
    v5 = {k: v for k, v in cfg.items() if k not in ("rope_scaling", "rope_theta")}
    v5["rope_parameters"] = {"sliding_attention": {"rope_type": "default", "rope_theta": 500000.0}, "full_attention": dict(yarn)}
    check(same(v5), "olmo3: 5.x rope_parameters per layer type (sliding default, full yarn) = the 4.x fields")
    check(same(dict(cfg, layer_types=["sliding_attention"] * 3 + ["full_attention"])), "olmo3: the explicit default layer_types = none")
    check(moved(dict(cfg, layer_types=["full_attention"] + ["sliding_attention"] * 3)), "olmo3: the full layer first (types swapped) moves the logits")
    check(moved(dict(cfg, layer_types=["full_attention"] * 4)), "olmo3: every layer full moves the logits")
    check(moved(dict(cfg, sliding_window=12)), "olmo3: window 12 for 6 moves the logits")
    check(moved({k: v for k, v in cfg.items() if k != "sliding_window"}), "olmo3: the default window (4096: all 40 keys) moves the logits")
    check(moved(dict(v5, rope_parameters={"sliding_attention": dict(yarn), "full_attention": dict(yarn)})),
          "olmo3: yarn on the sliding layers too (one scaled rope for all, 5.x before its fix) moves the logits")
    check(moved(dict(cfg, rope_scaling=None)), "olmo3: no yarn on the full layer moves the logits")
    check(moved(dict(cfg, rope_scaling=dict(cfg["rope_scaling"], attention_factor=1.0))), "olmo3: yarn's attention factor moves the logits")
    prefix = decoders.forward(cfg, P, ids[:1, :20])[1]
    check(np.abs(prefix - logits[:1, :20]).max() <= 1e-12 * big, "olmo3: prefix logits = first rows")
    steps = np.stack([decoders.forward(cfg, P, ids[:1, :n + 1])[1][0, -1] for n in range(20, ids.shape[1])])
    check(np.abs(steps - logits[0, 20:]).max() <= 1e-12 * big, "olmo3: one token a step (each step's last row) = the full pass's rows")


def moves(name, cfg, P, ids, logits, weights, what, by=1e-3):
    """Checks that replacing P's `weights` (name -> matrix) moves the logits by more than `by` of their maximum."""
    P2 = dict(P, **{k: v.astype(np.float64) for k, v in weights.items()})
    with np.errstate(over="ignore"):                 # unscaled codes can overflow silu's exp: the logits move all the more
        check(np.abs(decoders.forward(cfg, P2, ids)[1] - logits).max() > by * np.abs(logits).max(), f"{name}: {what} moves the logits")


def fp8_checks(out):
    """The e4m3fn codec against the format's definition, and the FP8 folder: its scales and blocks matter."""
    t = fp8.TABLE
    check(t[0x7E] == 448 and t[0xFE] == -448 and np.isnan(t[0x7F]) and np.isnan(t[0xFF]), "e4m3fn: ±448 largest, 0x7F / 0xFF NaN")
    check(t[0x01] == 2.0 ** -9 and t[0x07] == 7 * 2.0 ** -9 and t[0x08] == 2.0 ** -6 and t[0x38] == 1 and t[0x80] == 0,
          "e4m3fn: subnormals m/8 · 2^-6, 0x08 the smallest normal, 0x38 one, 0x80 minus zero")
    fin = ~np.isnan(t)
    check(np.array_equal(fp8.encode(t[fin]), np.arange(256)[fin]), "e4m3fn: every finite code encodes back to itself")
    check(list(fp8.encode([1.0625, 1.1875, 2.0 ** -10, 3 * 2.0 ** -11, 1e4, -1e4, 464.0])) == [0x38, 0x3A, 0x00, 0x01, 0x7E, 0xFE, 0x7E],
          "e4m3fn: ties to the even code (1.0625 → 1, 1.1875 → 1.25, 2^-10 → 0), nearest otherwise, saturating at ±448")
    w = np.arange(-24, 24, dtype=np.float32).reshape(6, 8) / 7
    codes, inv = fp8.quantize(w, (4, 3))
    check(inv.shape == (2, 3) and np.isclose(inv[0, 0], np.abs(w[:4, :3]).max() / 448, rtol=1e-7), "fp8.quantize: ceil-sized block grid, scale amax / 448")
    check(np.abs(fp8.dequantize(codes, inv, (4, 3)) - w).max() <= np.abs(w).max() / 16, "fp8: dequantized within e4m3's half-step of 1/16")
    cfg, P, ids, logits, raw = quantized(out, "qwen3-fp8")
    block = cfg["quantization_config"]["weight_block_size"]

    def moved(deq, what):
        moves("qwen3-fp8", cfg, P, ids, logits, {k[:-len("_scale_inv")]: deq(raw[k[:-len("_scale_inv")]], raw[k])
                                                 for k in raw if k.endswith(".weight_scale_inv")}, what)
    moved(lambda c, s: fp8.TABLE[c], "leaving out weight_scale_inv")
    def swapped(c, s):                               # a loader reading weight_block_size as [cols, rows]
        r = np.minimum(np.arange(c.shape[0]) // block[1], s.shape[0] - 1)
        k = np.minimum(np.arange(c.shape[1]) // block[0], s.shape[1] - 1)
        return fp8.TABLE[c].astype(np.float32) * s[r[:, None], k[None, :]]
    moved(swapped, "swapping the block's rows and columns")
    moved(lambda c, s: fp8.dequantize(c ^ 0x80, s, block), "the sign bit")
    check(all(k.split(".")[-2] in make_fixtures.FP8_PROJECTIONS for k in raw if k.endswith(".weight_scale_inv"))
          and "lm_head.weight_scale_inv" not in raw and "model.embed_tokens.weight_scale_inv" not in raw,
          "qwen3-fp8: the projections are FP8, the embeddings and head not (replace_with_fp8_linear)")
    # compressed-tensors: the codec by hand, and the scales and the product's rounding matter
    w = np.array([[1.0, -0.5, 0.25], [3.0, 0.0, -6.0]], dtype=np.float32)
    codes, sc = fp8.quantize_ct(w, "channel", safetensors_np.bf16_round)
    check(sc.shape == (2, 1) and sc[0, 0] == safetensors_np.bf16_round(np.float32([1 / 448]))[0] and fp8.TABLE[codes[1, 2]] == -448
          and fp8.TABLE[codes[1, 1]] == 0, "compressed-tensors channel: one scale per row, amax / 448 in BF16, the row's amax at ±448")
    for name in ("llama-fp8-dynamic", "mistral-fp8-static"):
        cfg, P, ids, logits, raw = quantized(out, name)

        def moved_ct(deq, what, by):
            moves(name, cfg, P, ids, logits, {k[:-len("_scale")]: deq(raw[k[:-len("_scale")]], raw[k])
                                              for k in raw if k.endswith(".weight_scale")}, what, by)
        moved_ct(lambda c, s: fp8.TABLE[c], "leaving out weight_scale", 1e-3)
        moved_ct(lambda c, s: fp8.dequantize_ct(c, s, lambda x: x), "the product in float32 instead of the scale's BF16", 2e-5)


def intq_checks(out):
    """AWQ's and GPTQ's packings by hand, and the parts of their dequantization that the folders' logits feel."""
    check(hex(int(intq.awq_pack(np.arange(8).reshape(1, 8)).view(np.uint32)[0, 0])) == "0x75316420",
          "AWQ: columns 0..7 pack as nibbles 0, 2, 4, 6, 1, 3, 5, 7 (AutoAWQ's order)")
    check(hex(int(intq.gptq_pack_rows(np.arange(8).reshape(8, 1), 4).view(np.uint32)[0, 0])) == "0x76543210"
          and hex(int(intq.gptq_pack_rows(np.array([[1], [2], [3], [4]]), 8).view(np.uint32)[0, 0])) == "0x4030201",
          "GPTQ: input row 8r + j in bits 4j (4 bits), 4r + j in bits 8j (8 bits)")
    for name in ("qwen2-awq", "llama-gptq", "qwen2-gptq-int8"):
        cfg, P, ids, logits, raw = quantized(out, name)
        q = cfg["quantization_config"]

        def moved(deq, what, by=1e-3):
            moves(name, cfg, P, ids, logits, {k[:-len("qweight")] + "weight": deq(k[:-len("qweight")])
                                              for k in raw if k.endswith(".qweight")}, what, by)
        if q["quant_method"] == "awq":
            g = q["group_size"]

            def awq(b, unpack=intq.awq_unpack, zeros=True, f16=True):
                qw = unpack(raw[b + "qweight"])
                groups = np.arange(qw.shape[0]) // g
                z = unpack(raw[b + "qzeros"])[groups] if zeros else 0
                w = (qw - z).astype(np.float32) * raw[b + "scales"].astype(np.float32)[groups]
                return (intq.f16(w) if f16 else w).T
            in_order = lambda p: np.stack([(p.view(np.uint32) >> np.uint32(4 * i)) & 0xF for i in range(8)], axis=2).reshape(p.shape[0], -1).astype(np.int64)
            check(all(np.array_equal(awq(k[:-len("qweight")]), intq.awq_dequantize(raw[k], raw[k[:-7] + "qzeros"], raw[k[:-7] + "scales"], g))
                      for k in raw if k.endswith(".qweight")), f"{name}: the by-hand dequantization is intq's")
            moved(lambda b: awq(b, unpack=in_order), "reading the nibbles in order, not AWQ's")
            moved(lambda b: awq(b, zeros=False), "leaving out the zero points")
            moved(lambda b: awq(b, f16=False), "the product in float32 instead of float16", 2e-5)
        else:
            bits = q["bits"]
            moved(lambda b: intq.gptq_dequantize(raw[b + "qweight"], raw[b + "qzeros"], raw[b + "scales"], raw[b + "g_idx"], bits, False),
                  "v1's zero + 1 left out")
            if q["desc_act"]:
                moved(lambda b: intq.gptq_dequantize(raw[b + "qweight"], raw[b + "qzeros"], raw[b + "scales"],
                                                     np.arange(len(raw[b + "g_idx"])) // q["group_size"], bits), "ignoring g_idx")


def load(d):
    with open(os.path.join(d, "config.json")) as fh:
        cfg = json.load(fh)
    with open(os.path.join(d, "reference.json")) as fh:
        ref = json.load(fh)
    params, meta, stored = safetensors_np.read(os.path.join(d, "model.safetensors"), with_dtypes=True)
    check(meta == {"format": "pt"}, f"{d}: __metadata__ is {meta}")
    mxfp4 = [k for k in params if cfg["model_type"] == "gpt_oss" and k.endswith(("_blocks", "_scales"))]
    check(all(params[k].dtype == np.uint8 for k in mxfp4), f"{d}: MXFP4 blocks and scales are U8")
    # FP8 weights: transformers' fine-grained layout (quant_method fp8: float32 weight_scale_inv per block, code · scale in
    # float32) or compressed-tensors' float-quantized one (weight_scale in the model dtype per row or tensor, code · scale
    # rounded to it; static input_scale (1,) beside them, not read by a dequantized model)
    q = cfg.get("quantization_config") or {}
    fp8_keys = [k for k in params if stored[k] == "F8_E4M3"]
    method = q.get("quant_method")
    check(not fp8_keys or method in ("fp8", "compressed-tensors"), f"{d}: F8_E4M3 tensors only under quant_method fp8 or compressed-tensors")
    suffix = "_scale_inv" if method == "fp8" else "_scale"
    scales = [k for k in params if k.endswith(".weight" + suffix)]
    inputs = [k for k in params if k.endswith(".input_scale")]
    check(sorted(k + suffix for k in fp8_keys) == sorted(scales), f"{d}: every F8_E4M3 weight has its weight{suffix} and every scale its weight")
    check(all(stored[k] == ("F32" if method == "fp8" else "BF16") for k in scales), f"{d}: scales stored as the layout stores them")
    if method == "compressed-tensors":
        group = q["config_groups"]["group_0"]
        static = group["input_activations"] is not None and not group["input_activations"]["dynamic"]
        check(sorted(inputs) == (sorted(k[:-len("weight")] + "input_scale" for k in fp8_keys) if static else [])
              and all(params[k].shape == (1,) for k in inputs), f"{d}: a static input_scale (1,) per FP8 projection, and only then")
        for k in inputs:
            params.pop(k)
    for k in fp8_keys:
        if method == "fp8":                          # Fp8Dequantize: code · scale in float32
            block = q["weight_block_size"]
            check(params[k + suffix].shape == fp8.blocks(params[k].shape, block), f"{d}: {k}{suffix} has one scale per {block} block")
            params[k] = fp8.dequantize(params[k], params.pop(k + suffix), block)
        else:                                        # compressed_tensors' dequantize: in the scale's dtype (BF16)
            strategy = q["config_groups"]["group_0"]["weights"]["strategy"]
            want_shape = (params[k].shape[0], 1) if strategy == "channel" else (1,)
            check(params[k + suffix].shape == want_shape, f"{d}: {k}{suffix} is {want_shape} for strategy {strategy}")
            params[k] = fp8.dequantize_ct(params[k], params.pop(k + suffix), safetensors_np.bf16_round)
    # AWQ / GPTQ: qweight, qzeros (int32), scales (float16) and GPTQ's g_idx (int32) in place of each projection's weight
    ints = []
    if method in ("awq", "gptq"):
        for k in [k for k in params if k.endswith(".qweight")]:
            base = k[:-len("qweight")]
            parts = ["qweight", "qzeros", "scales"] + (["g_idx"] if method == "gptq" else [])
            check(all(base + p in params for p in parts) and base + "weight" not in params, f"{d}: {base} has {parts} and no weight")
            check([stored[base + p] for p in parts] == ["I32", "I32", "F16", "I32"][:len(parts)], f"{d}: {base} parts' dtypes")
            if method == "awq":
                params[base + "weight"] = intq.awq_dequantize(params[k], params[base + "qzeros"], params[base + "scales"], q["group_size"])
            else:
                params[base + "weight"] = intq.gptq_dequantize(params[k], params[base + "qzeros"], params[base + "scales"],
                                                               params[base + "g_idx"], q["bits"], q.get("checkpoint_format", "gptq") == "gptq")
            ints.append(base + "weight")
            for p in parts:
                params.pop(base + p)
    name = os.path.basename(os.path.normpath(d))
    want = "F32" if name in make_fixtures.F32_FIXTURES else "F16" if name in make_fixtures.F16_FIXTURES else "BF16"
    buffers = [k for k in params if stored.get(k) == "BOOL"]    # Pythia's saved causal masks (attention.bias): bool, read by no model
    check(all(k.endswith((".attention.bias", ".attn.bias", ".attn.causal_mask")) for k in buffers),
          f"{d}: BOOL tensors are GPT-NeoX's / GPT-J's / CodeGen's causal-mask buffers")
    if cfg["model_type"] == "gpt_neo":               # the buffers the EleutherAI files carry, in their own dtypes: read by no model
        neo = [k for k in params if k.endswith((".attn.attention.bias", ".attn.attention.masked_bias"))]
        check(all(stored[k] == ("U8" if k.endswith(".bias") else "F32") for k in neo),
              f"{d}: GPT-Neo's saved attn.attention.bias is U8 and masked_bias F32, as gpt-neo-125m stores them")
        buffers += neo
    if cfg["model_type"] in ("deepseek_v3", "glm4_moe", "ernie4_5_moe", "dots1"):   # the router bias: float32 in deepseek-ai's, zai-org's, baidu's files (dots1's drawn alike)
        router = [k for k in params if k.endswith((".mlp.gate.e_score_correction_bias", ".mlp.moe_statics.e_score_correction_bias"))]
        check(router and all(stored[k] == "F32" for k in router), f"{d}: e_score_correction_bias is stored F32")
        buffers += router
    check(all(stored[k] == want for k in params if k not in mxfp4 and k not in fp8_keys and k not in ints and k not in buffers),
          f"{d}: weights are stored {want} (make_fixtures.F32_FIXTURES, F16_FIXTURES)")
    dtype_key = "dtype" if "dtype" in cfg else "torch_dtype"
    check(cfg.get(dtype_key) == {"F32": "float32", "BF16": "bfloat16", "F16": "float16"}[want], f"{d}: config.json's {dtype_key} names the stored {want}")
    if cfg["model_type"] == "gemma3":                # Gemma3ForConditionalGeneration: the text model under language_model.
        cfg = dict(cfg["text_config"], architectures=cfg["architectures"])
        params = {k: v for k, v in params.items() if k.startswith("language_model.")}
    prefix = {"bert": "bert.", "roberta": "roberta.", "xlm-roberta": "roberta.", "camembert": "roberta.", "gpt2": "transformer.",
              "distilbert": "distilbert.", "gemma3_text": "language_model.", "modernbert": "model.", "mpnet": "mpnet.", "electra": "electra.", "deberta-v2": "deberta.", "albert": "albert."}.get(cfg["model_type"], "")
    P = {}
    for k, v in params.items():
        if k in mxfp4:                               # bytes stay bytes (gpt_oss.dequantize reads them)
            P[k] = v
            continue
        k = k[len(prefix):] if prefix and k.startswith(prefix) else k
        k = k.replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias")
        P[k] = v.astype(np.float64)
    return cfg, P, ref


def rerun(d):
    """The outputs of a folder from its files alone."""
    cfg, P, ref = load(d)
    ins = {k: np.array(v) for k, v in ref["inputs"].items()}
    mt, arch = cfg["model_type"], cfg["architectures"][0]
    if mt == "gpt2":
        h, logits = gpt2.forward(cfg, P, ins["input_ids"])
        return {"last_hidden_state": h, "logits": logits}
    if mt == "t5":
        enc = t5.encode(cfg, P, ins["input_ids"])
        h, logits = t5.decode(cfg, P, enc, ins["decoder_input_ids"])
        return {"encoder_last_hidden_state": enc, "last_hidden_state": h, "logits": logits}
    if mt in bart.KINDS:
        enc, h, logits = bart.forward(cfg, P, ins["input_ids"], ins.get("attention_mask"), ins.get("decoder_input_ids"))
        return {"encoder_last_hidden_state": enc, "last_hidden_state": h, "logits": logits}
    if mt == "distilbert":
        h = bert.distilbert_encode(cfg, P, ins["input_ids"], ins.get("attention_mask"))
        if arch == "DistilBertForSequenceClassification":
            return {"last_hidden_state": h, "logits": bert.distilbert_classification(P, h)}
        if arch == "DistilBertForMaskedLM":
            return {"last_hidden_state": h, "logits": bert.distilbert_mlm_logits(cfg, P, h)}
        if arch == "DistilBertForTokenClassification":
            return {"last_hidden_state": h, "logits": bert.token_classification(P, h)}
        return {"last_hidden_state": h}
    if mt == "modernbert":
        h = modernbert.encode(cfg, P, ins["input_ids"], ins.get("attention_mask"))
        if arch == "ModernBertForMaskedLM":
            return {"last_hidden_state": h, "logits": modernbert.mlm_logits(cfg, P, h)}
        if arch == "ModernBertForSequenceClassification":
            return {"last_hidden_state": h, "logits": modernbert.classification_logits(cfg, P, h, ins.get("attention_mask"))}
        return {"last_hidden_state": h}
    if mt == "albert":
        h = albert.encode(cfg, P, ins["input_ids"], ins.get("token_type_ids"), ins.get("attention_mask"))
        if arch == "AlbertForMaskedLM":
            return {"last_hidden_state": h, "logits": albert.mlm_logits(cfg, P, h)}
        if arch == "AlbertForSequenceClassification":
            return {"last_hidden_state": h, "logits": albert.classification(P, albert.pooler(P, h))}
        return {"last_hidden_state": h, "pooler_output": albert.pooler(P, h)}
    if mt == "electra":
        h = bert.electra_encode(cfg, P, ins["input_ids"], ins.get("token_type_ids"), ins.get("attention_mask"))
        if arch == "ElectraForSequenceClassification":
            return {"last_hidden_state": h, "logits": bert.electra_classification(P, h)}
        if arch == "ElectraForTokenClassification":
            return {"last_hidden_state": h, "logits": bert.token_classification(P, h)}
        return {"last_hidden_state": h}
    if mt == "mpnet":
        h = mpnet.encode(cfg, P, ins["input_ids"], ins.get("attention_mask"))
        o = {"last_hidden_state": h}
        if "pooler.dense.weight" in P:
            o["pooler_output"] = mpnet.pooler(P, h)
        if "lm_head.dense.weight" in P:
            o["logits"] = mpnet.mlm_logits(cfg, P, h)
        elif "classifier.dense.weight" in P:
            o["logits"] = mpnet.classification(P, h)
        elif "classifier.weight" in P:
            o["logits"] = mpnet.token_classification(P, h)
        return o
    if mt == "deberta-v2":
        h = deberta.encode(cfg, P, ins["input_ids"], ins.get("attention_mask"), ins.get("token_type_ids"))
        if arch == "DebertaV2ForSequenceClassification":
            return {"last_hidden_state": h, "logits": deberta.classification(cfg, P, h)}
        if arch == "DebertaV2ForTokenClassification":
            return {"last_hidden_state": h, "logits": deberta.token_classification(P, h)}
        return {"last_hidden_state": h}
    if mt in ("bert", "roberta", "xlm-roberta", "camembert"):
        h = bert.encode(cfg, P, ins["input_ids"], ins.get("token_type_ids"), ins.get("attention_mask"))
        o = {"last_hidden_state": h}
        if "pooler.dense.weight" in P:
            o["pooler_output"] = bert.pooler(P, h)
        if arch == "BertForMaskedLM":
            o["logits"] = bert.mlm_logits(cfg, P, h)
        elif arch == "BertForPreTraining":
            o["prediction_logits"] = bert.mlm_logits(cfg, P, h)
            o["seq_relationship_logits"] = bert.nsp_logits(P, o["pooler_output"])
        elif arch == "BertForSequenceClassification":
            o = {"last_hidden_state": h, "logits": nn.linear(o["pooler_output"], P["classifier.weight"], P["classifier.bias"])}
        elif arch == "BertForTokenClassification":
            o["logits"] = nn.linear(h, P["classifier.weight"], P["classifier.bias"])
        elif arch == "RobertaForTokenClassification":
            o["logits"] = bert.token_classification(P, h)
        elif arch == "RobertaForMaskedLM":
            o["logits"] = bert.roberta_mlm_logits(cfg, P, h)
        elif arch in ("XLMRobertaForSequenceClassification", "CamembertForSequenceClassification"):
            o["logits"] = bert.roberta_classification(P, h)
        return o
    if mt in ("bloom", "mpt") or (mt == "falcon" and cfg.get("alibi")):
        fwd = {"bloom": bloom.forward, "mpt": mpt.forward, "falcon": falcon.forward}[mt]
        h, logits = fwd(cfg, P, ins["input_ids"])
        n, t = int(ins["cached_prompt"]), int(ins["cached_tokens"])
        cached = fwd(cfg, P, ins["input_ids"][:1, :t], calls=[n] + [1] * (t - n))[1]
        return {"last_hidden_state": h, "logits": logits, "cached_logits": cached}
    if mt == "gpt_neo":
        h, logits = gpt_neo.forward(cfg, P, ins["input_ids"])
        o = {"last_hidden_state": h, "logits": logits}
        if "cached_prompt" in ins:
            n, t = int(ins["cached_prompt"]), int(ins["cached_tokens"])
            o["cached_logits"] = gpt_neo.forward(cfg, P, ins["input_ids"][:1, :t], calls=[n] + [1] * (t - n))[1]
        return o
    if mt == "ernie4_5":
        h, logits = ernie4_5.forward(cfg, P, ins["input_ids"])
        return {"last_hidden_state": h, "logits": logits}
    if mt == "nemotron":
        h, logits = nemotron.forward(cfg, P, ins["input_ids"])
        return {"last_hidden_state": h, "logits": logits}
    if mt in arcee.KINDS or mt in dots1.KINDS:
        h, logits = (arcee if mt in arcee.KINDS else dots1).forward(cfg, P, ins["input_ids"])
        return {"last_hidden_state": h, "logits": logits}
    if mt == "exaone4":
        h, logits = exaone4.forward(cfg, P, ins["input_ids"])
        return {"last_hidden_state": h, "logits": logits}
    if mt in glm.KINDS:
        h, logits = glm.forward(cfg, P, ins["input_ids"])
        return {"last_hidden_state": h, "logits": logits}
    if mt in cohere.KINDS:
        h, logits = cohere.forward(cfg, P, ins["input_ids"])
        n, t = int(ins["cached_prompt"]), int(ins["cached_tokens"])
        cached = cohere.forward(cfg, P, ins["input_ids"][:1, :t], calls=[n] + [1] * (t - n))[1]
        return {"last_hidden_state": h, "logits": logits, "cached_logits": cached}
    if mt == "falcon":
        h, logits = falcon.forward(cfg, P, ins["input_ids"])
        return {"last_hidden_state": h, "logits": logits}
    if mt == "gpt_bigcode":
        h, logits = bigcode.forward(cfg, P, ins["input_ids"])
        return {"last_hidden_state": h, "logits": logits}
    if mt == "opt":
        h, logits = opt.forward(cfg, P, ins["input_ids"])
        return {"last_hidden_state": h, "logits": logits}
    if mt in neox.FAMILIES:
        h, logits = neox.forward(cfg, P, ins["input_ids"])
        return {"last_hidden_state": h, "logits": logits}
    if mt == "gpt_oss":
        h, logits = gpt_oss.forward(cfg, P, ins["input_ids"])
        return {"last_hidden_state": h, "logits": logits}
    if mt in glm4_moe.KINDS:
        h, logits = glm4_moe.forward(cfg, P, ins["input_ids"])
        return {"last_hidden_state": h, "logits": logits}
    if mt in ernie4_5_moe.KINDS:
        h, logits = ernie4_5_moe.forward(cfg, P, ins["input_ids"])
        return {"last_hidden_state": h, "logits": logits}
    if mt in granitemoe.KINDS:
        h, logits = granitemoe.forward(cfg, P, ins["input_ids"])
        return {"last_hidden_state": h, "logits": logits}
    if mt in deepseek.KINDS:
        h, logits = deepseek.forward(cfg, P, ins["input_ids"])
        return {"last_hidden_state": h, "logits": logits}
    if "embed_tokens.weight" in P:                   # the base model's layout (sentence-transformers): no model. prefix, no head
        P = {"model." + k: v for k, v in P.items()}
    h, logits = decoders.forward(cfg, P, ins["input_ids"])
    if cfg["architectures"][0].endswith("TextModel"):
        return {"last_hidden_state": h}
    o = {"last_hidden_state": h, "logits": logits}
    if "short_input_ids" in ins:                     # LongRoPE: a pass short enough for the short factors
        o["short_logits"] = decoders.forward(cfg, P, ins["short_input_ids"])[1]
    if "cached_prompt" in ins:                       # the rotations a cache keeps: the prompt's call, then a call a token
        n, t = int(ins["cached_prompt"]), int(ins["cached_tokens"])
        lens = [n] * n + list(range(n + 1, t + 1))
        o["cached_logits"] = decoders.forward(cfg, P, np.asarray(ins["input_ids"])[:1, :t], rope_lens=lens)[1]
    return o


def beam_checks(out):
    """beam.py by hand, then every recorded beam run recomputed from its folder's files."""
    lp = np.log([0.5, 0.3, 0.2])
    # processors on log-probabilities: the repetition penalty scales the row's own ids (all < 0: multiplied)
    got = beam.process([1, 1], lp, 2, [2], repetition_penalty=2.0)
    check(np.allclose(got, [lp[0], 2 * lp[1], lp[2]], rtol=0, atol=1e-15), f"repetition penalty on log-probs: {got}")
    # no_repeat_ngram_size 2 over [0, 1, 0]: the bigram (0, 1) exists, so 1 is banned after the last 0
    got = beam.process([0, 1, 0], lp, 1, [], no_repeat_ngram_size=2)
    check(got[1] == -np.inf and np.isfinite(got[0]) and np.isfinite(got[2]), f"no_repeat_ngram_size 2: {got}")
    # min_length counts the whole row (prompt included); min_new_tokens only what follows the prompt
    check(beam.process([0, 0], lp, 2, [2], min_length=3)[2] == -np.inf and np.isfinite(beam.process([0, 0, 0], lp, 2, [2], min_length=3)[2]),
          "min_length: EOS suppressed while the row is shorter")
    check(beam.process([0, 0, 0], lp, 2, [2], min_new_tokens=2)[2] == -np.inf and np.isfinite(beam.process([0, 0, 0, 0], lp, 2, [2], min_new_tokens=2)[2]),
          "min_new_tokens: EOS suppressed until that many new tokens")
    # forced BOS at input_ids length 1 only: every other score -inf, the forced one 0 (not its log-prob)
    got = beam.process([0], lp, 1, [2], forced_bos_token_id=1)
    check(list(got) == [-np.inf, 0.0, -np.inf] and np.array_equal(beam.process([0, 0], lp, 2, [2], forced_bos_token_id=1), lp),
          f"forced_bos_token_id: {got}")
    # forced EOS at input_ids length max_length - 1 (several ids all 0); earlier rows untouched
    got = beam.process([0, 0, 0], lp, 1, [2], forced_eos_token_id=[2, 0], max_length=4)
    check(list(got) == [0.0, -np.inf, 0.0] and np.array_equal(beam.process([0, 0], lp, 1, [2], forced_eos_token_id=[2], max_length=4), lp),
          f"forced_eos_token_id: {got}")
    # bad_words_ids: [eos] dropped, one-id words always, a longer word's last id after its prefix, not while it is longer than the row
    got = beam.process([0, 1], lp, 1, [2], bad_words_ids=[[2], [1, 0], [0]])
    check(got[0] == -np.inf and np.isfinite(got[2]) and np.isfinite(got[1]), f"bad_words_ids [[eos], [0]]: {got}")
    got = beam.process([0, 1], lp, 1, [], bad_words_ids=[[1, 2], [7, 0, 1]])
    check(got[2] == -np.inf and np.isfinite(got[0]) and np.isfinite(got[1]), f"bad_words_ids prefix: {got}")
    check(np.isfinite(beam.process([1], lp, 1, [], bad_words_ids=[[9, 1, 2]])[2]), "a bad word longer than the row bans nothing")
    # suppress_tokens always; begin_suppress_tokens at length prompt_len, or prompt_len + 1 after a one-id prompt with forced BOS
    check(beam.process([0, 1, 1], lp, 1, [], suppress_tokens=[1])[1] == -np.inf, "suppress_tokens")
    check(beam.process([0], lp, 1, [], begin_suppress_tokens=[0])[0] == -np.inf
          and np.isfinite(beam.process([0, 1], lp, 1, [], begin_suppress_tokens=[0])[0]), "begin_suppress_tokens at the first new token")
    check(np.isfinite(beam.process([0], lp, 1, [], forced_bos_token_id=0, begin_suppress_tokens=[0])[0])
          and beam.process([0, 0], lp, 1, [], forced_bos_token_id=0, begin_suppress_tokens=[1])[1] == -np.inf,
          "begin_suppress_tokens after a forced BOS: the second new token")
    check(beam.process([5, 6, 7], lp, 3, [], forced_bos_token_id=0, begin_suppress_tokens=[1])[1] == -np.inf,
          "a longer prompt: the begin index is its length, forced BOS or not")
    # a 3-token vocabulary whose log-probs never change: p = [0.5, 0.3, 0.2], EOS 2, 2 beams (K = 4), 3 new tokens.
    # Step 1 draws from beam 0 only: 0, 1 run on; [2] ranks 3rd (>= num_beams) and is not kept. Step 2: [0, 0], [0, 1]
    # (or [1, 0]) run on; [0, 2] = (ln .5 + ln .2) / 2**lp ranks 3rd again. Step 3 (max_length) finalizes the top 2:
    # [0, 0, 0] = 3 ln .5 / 3**lp wins against every EOS-ended one ([0, 0, 2]: (2 ln .5 + ln .2) / 3**lp).
    table = np.log(np.array([0.5, 0.3, 0.2]))
    step = lambda b, ids: table
    for lpen, es, want in ((1.0, False, ([0, 0, 0], 3 * np.log(0.5) / 3)), (0.0, False, ([0, 0, 0], 3 * np.log(0.5))),
                           (2.0, True, ([0, 0, 0], 3 * np.log(0.5) / 9))):
        r = beam.beam_search(step, [[7]], 2, 3, [2], length_penalty=lpen, early_stopping=es)
        check(r["sequences"][0][0] == want[0] and abs(r["scores"][0][0] - want[1]) < 1e-12, f"beam by hand (lp {lpen}): {r}")
    # EOS is the best token: [EOS] finishes at step 1 with ln .5 / 1; with early_stopping True and 1 beam the search ends there
    table2 = np.log(np.array([0.3, 0.2, 0.5]))
    r = beam.beam_search(lambda b, ids: table2, [[7]], 1, 5, [2], early_stopping=True)
    check(r["sequences"][0] == [[2]] and abs(r["scores"][0][0] - np.log(0.5)) < 1e-12 and r["steps"] == 1, f"beam EOS first: {r}")
    # early_stopping False: the heuristic compares best running ln .3 / 1 with the worst finished ln .5: ln .3 < ln .5, done
    r = beam.beam_search(lambda b, ids: table2, [[7]], 1, 5, [2], early_stopping=False)
    check(r["steps"] == 1, f"beam heuristic stop: {r}")
    # "never" with length_penalty 1 divides the running score by max_length - prompt = 5: ln(.3)/5 > ln .5 -> goes on
    r = beam.beam_search(lambda b, ids: table2, [[7]], 1, 5, [2], early_stopping="never")
    check(r["steps"] > 1, f"beam never goes on: {r}")
    for name in sorted(os.listdir(out)):
        d = os.path.join(out, name)
        cfg, P, ref = load(d)
        for run in ref.get("beam", []):
            kw = {k: run[k] for k in make_fixtures.BEAM_KEYS if k in run and k not in ("num_beams", "max_new_tokens", "eos_token_id")}
            if "input_ids" in run and cfg["model_type"] in bart.KINDS:     # the BART family: from decoder_start_token_id
                encs = [bart.encode(cfg, P, np.array([row])) for row in run["input_ids"]]
                r = beam.beam_search(lambda b, toks: bart.lm_logits(P, bart.decode(cfg, P, encs[b], [toks]))[0, -1],
                                     [[cfg["decoder_start_token_id"]] for _ in encs],
                                     run["num_beams"], run["max_new_tokens"], run["eos_token_id"], **kw)
            elif "input_ids" in run:
                encs = [t5.encode(cfg, P, np.array([row])) for row in run["input_ids"]]
                r = beam.beam_search(lambda b, toks: t5.decode(cfg, P, encs[b], [toks])[1][0, -1], [[0] for _ in encs],
                                     run["num_beams"], run["max_new_tokens"], run["eos_token_id"], **kw)
            else:
                r = beam.beam_search(lambda b, toks: decoders.forward(cfg, P, [toks])[1][0, -1], run["prompts"],
                                     run["num_beams"], run["max_new_tokens"], run["eos_token_id"], **kw)
            check(r["sequences"] == run["sequences"] and np.allclose(r["scores"], run["sequences_scores"], rtol=REL, atol=0),
                  f"{name}: beam run {kw} recomputed from the folder differs: {r}")


def folders(out):
    for name in sorted(os.listdir(out)):
        d = os.path.join(out, name)
        for f in ("model.safetensors", "reference.safetensors"):
            with open(os.path.join(d, f), "rb") as fh:
                (n,) = struct.unpack("<Q", fh.read(8))
                check(n % 8 == 0 and fh.read(1) == b"{", f"{d}/{f}: header size {n} is a multiple of 8 and the header a JSON object")
        want, _ = safetensors_np.read(os.path.join(d, "reference.safetensors"))
        got = rerun(d)
        check(sorted(got) == sorted(want), f"{name}: outputs {sorted(got)} vs stored {sorted(want)}")
        for k in want:
            err = np.abs(got[k] - want[k]).max()
            check(err <= (STORED + REL) * np.abs(want[k]).max(), f"{name}: {k} recomputed from the folder differs from reference.safetensors by {err}")


def fresh(out):
    """Regenerates every fixture into a temporary folder and compares with out: configs, weights and inputs
    byte for byte, greedy tokens exactly, float64 margins within REL (numpy's exp/tanh/erf may differ in the
    last bit between CPUs and builds), the stored outputs (float32 roundings of float64) within one float32 ulp."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        for n, make in make_fixtures.FIXTURES.items():
            make(tmp)
        check(sorted(os.listdir(tmp)) == sorted(os.listdir(out)), f"{out}: folders {sorted(os.listdir(out))}, the generator makes {sorted(os.listdir(tmp))}")
        for name in sorted(os.listdir(tmp)):
            a, b = os.path.join(tmp, name), os.path.join(out, name)
            for f in ("config.json", "model.safetensors"):
                with open(os.path.join(a, f), "rb") as x, open(os.path.join(b, f), "rb") as y:
                    check(x.read() == y.read(), f"{b}/{f} is stale: run python3 ci/reference/make_fixtures.py")
            ra, rb = (json.load(open(os.path.join(p, "reference.json"))) for p in (a, b))
            check(ra["inputs"] == rb["inputs"] and ra["outputs"] == rb["outputs"] and ra.get("greedy", {}).get("tokens") == rb.get("greedy", {}).get("tokens"),
                  f"{b}/reference.json is stale (inputs, output shapes or greedy tokens): run python3 ci/reference/make_fixtures.py")
            if "greedy" in ra:
                check(np.allclose(ra["greedy"]["margins"], rb["greedy"]["margins"], rtol=0, atol=REL * max(ra["max_abs"].values())),
                      f"{b}/reference.json: greedy margins are stale")
            pa, pb = ra.get("greedy_penalized", []), rb.get("greedy_penalized", [])
            check([{k: v for k, v in r.items() if k != "margins"} for r in pa] == [{k: v for k, v in r.items() if k != "margins"} for r in pb]
                  and all(np.allclose(x["margins"], y["margins"], rtol=0, atol=REL * max(ra["max_abs"].values())) for x, y in zip(pa, pb)),
                  f"{b}/reference.json: greedy_penalized is stale: run python3 ci/reference/make_fixtures.py")
            ba, bb = ra.get("beam", []), rb.get("beam", [])
            check([{k: v for k, v in r.items() if k not in ("sequences_scores", "min_gap")} for r in ba]
                  == [{k: v for k, v in r.items() if k not in ("sequences_scores", "min_gap")} for r in bb]
                  and all(np.allclose(x["sequences_scores"], y["sequences_scores"], rtol=REL, atol=0) for x, y in zip(ba, bb)),
                  f"{b}/reference.json: beam runs are stale: run python3 ci/reference/make_fixtures.py")
            wa, _ = safetensors_np.read(os.path.join(a, "reference.safetensors"))
            wb, _ = safetensors_np.read(os.path.join(b, "reference.safetensors"))
            check(sorted(wa) == sorted(wb), f"{b}/reference.safetensors: outputs {sorted(wb)} vs {sorted(wa)}")
            for k in wa:
                check(wa[k].dtype == np.float32, f"{a}/reference.safetensors: {k} is {wa[k].dtype}, not float32")
                check(np.abs(wa[k] - wb[k]).max() <= 2 * STORED * np.abs(wb[k]).max(), f"{b}/reference.safetensors: {k} is stale")


def main():
    args = [a for a in sys.argv[1:] if a != "--fresh"]
    if args:
        run(args[0])
        return
    out = tempfile.mkdtemp(prefix="t4j-reference-")
    try:
        archives.unpack(out)
        run(out, f"the folders of {archives.ARCHIVES}")
    finally:
        shutil.rmtree(out)


def run(out, what=None):
    closed_forms()
    buckets()
    rope_relative()
    causality(out)
    windows(out)
    padding(out)
    modernbert_checks(out)
    mpnet_checks(out)
    electra_checks(out)
    albert_checks(out)
    deberta_checks(out)
    embeddinggemma_checks(out)
    moe(out)
    gpt_oss_checks(out)
    deepseek_checks(out)
    glm4_moe_checks(out)
    ernie4_5_moe_checks(out)
    granitemoe_checks(out)
    neox_checks(out)
    gptj_checks(out)
    alibi_checks(out)
    gpt_neo_checks(out)
    cohere_checks(out)
    glm_checks(out)
    olmo_checks(out)
    olmo3_checks(out)
    seed_oss_checks(out)
    exaone4_checks(out)
    nemotron_checks(out)
    arcee_checks(out)
    dots1_checks(out)
    ernie4_5_checks(out)
    bart_checks(out)
    m2m100_checks(out)
    fp8_checks(out)
    intq_checks(out)
    beam_checks(out)
    folders(out)
    if "--fresh" in sys.argv:
        fresh(out)
    print(f"selfcheck: {checks} checks passed on {what or out}")


if __name__ == "__main__":
    main()
