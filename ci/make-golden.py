#!/usr/bin/env python3
"""make-golden.py — golden files from Hugging Face transformers, made on the GPU machine (it has PyTorch and
transformers; this repository's machines do not). Creates small random-initialised GPT-2, BERT, T5 v1.0 and
T5 v1.1 models (2 layers, C=64, 2 heads of size 32 — the attention kernels' smallest head size — and a vocabulary of
1000: random models need no real tokenizer), saves each as a
Hugging Face folder (config.json + model.safetensors) with golden.safetensors beside it: fixed input ids (I32)
and the reference outputs in fp32, computed on the CPU in float32 so that the fixtures do not depend on the GPU.
All fixtures together stay well under 5 MB. Usage: python3 ci/make-golden.py --out DIR
Then commit DIR's folders under model/src/test/resources/golden/ (GoldenFilesTest reads them)."""
import argparse
import json
import os

import torch
import transformers
from safetensors.torch import save_file

VOCAB = 1000
SEED = 20261128


def ids(rows, cols, gen):
    return torch.randint(0, VOCAB, (rows, cols), generator=gen, dtype=torch.int64)


def save(model, out_dir, name, tensors, info):
    path = os.path.join(out_dir, name)
    model.save_pretrained(path, safe_serialization=True)
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(path, "golden.safetensors"))
    with open(os.path.join(path, "golden.json"), "w") as fh:
        json.dump(dict(info, transformers=transformers.__version__, torch=torch.__version__), fh, indent=1)
    print(name, {k: tuple(v.shape) for k, v in tensors.items()})


@torch.no_grad()
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    gen = torch.Generator().manual_seed(SEED)

    torch.manual_seed(SEED)
    gpt2 = transformers.GPT2LMHeadModel(transformers.GPT2Config(
        vocab_size=VOCAB, n_positions=64, n_embd=64, n_layer=2, n_head=2, n_inner=256,
        activation_function="gelu_new", layer_norm_epsilon=1e-5)).eval()
    x = ids(2, 12, gen)
    out = gpt2(input_ids=x, output_hidden_states=True)
    save(gpt2, args.out, "gpt2", {"input_ids": x.int(), "logits": out.logits.float(),
                                  "last_hidden_state": out.hidden_states[-1].float()},
         {"model": "GPT2LMHeadModel", "compare": ["logits"]})

    torch.manual_seed(SEED + 1)
    bert = transformers.BertModel(transformers.BertConfig(
        vocab_size=VOCAB, hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=256,
        max_position_embeddings=64, type_vocab_size=2, hidden_act="gelu", layer_norm_eps=1e-12)).eval()
    x = ids(2, 11, gen)
    out = bert(input_ids=x)
    save(bert, args.out, "bert", {"input_ids": x.int(), "last_hidden_state": out.last_hidden_state.float()},
         {"model": "BertModel", "compare": ["last_hidden_state"]})

    for name, proj, tied in (("t5-v1_0", "relu", True), ("t5-v1_1", "gated-gelu", False)):
        torch.manual_seed(SEED + 2)
        t5 = transformers.T5ForConditionalGeneration(transformers.T5Config(
            vocab_size=VOCAB, d_model=64, d_kv=32, d_ff=128, num_layers=2, num_decoder_layers=2, num_heads=2,
            relative_attention_num_buckets=32, relative_attention_max_distance=128, feed_forward_proj=proj,
            tie_word_embeddings=tied, decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)).eval()
        x = ids(2, 10, gen)
        y = ids(2, 7, gen)
        out = t5(input_ids=x, decoder_input_ids=y)
        save(t5, args.out, name, {"input_ids": x.int(), "decoder_input_ids": y.int(), "logits": out.logits.float(),
                                  "encoder_last_hidden_state": out.encoder_last_hidden_state.float()},
             {"model": "T5ForConditionalGeneration", "compare": ["logits", "encoder_last_hidden_state"]})


if __name__ == "__main__":
    main()
