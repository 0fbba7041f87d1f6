# hf_generate.py — Hugging Face transformers' eager generate on a random-initialised GPT-2 small
# config: batch 1, a 128-token prompt, 128 new tokens, greedy; prints prefill ms and decode ms/token,
# to compare with org.transformer4j.bench.GenerateLatency in the same run on the GPU machine.
import sys
import time

import torch
from transformers import GPT2Config, GPT2LMHeadModel


def main():
    prompt = int(sys.argv[1]) if len(sys.argv) > 1 else 128
    new = int(sys.argv[2]) if len(sys.argv) > 2 else 128
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[sys.argv[3] if len(sys.argv) > 3 else "fp32"]
    torch.manual_seed(1)
    model = GPT2LMHeadModel(GPT2Config()).to("cuda", dtype).eval()
    ids = torch.randint(0, 50257, (1, prompt), device="cuda")
    with torch.inference_mode():
        for run in range(4):
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            model(ids, use_cache=True)
            torch.cuda.synchronize()
            t1 = time.perf_counter()
            model.generate(ids, max_new_tokens=new, min_new_tokens=new, do_sample=False, pad_token_id=50256)
            torch.cuda.synchronize()
            t2 = time.perf_counter()
            if run > 0:
                # generate includes its own prefill: subtract the measured one
                print(f"run {run}: prefill {1e3 * (t1 - t0):.1f} ms, decode {1e3 * ((t2 - t1) - (t1 - t0)) / (new - 1):.3f} ms/token "
                      f"({torch.cuda.get_device_name()}, {dtype})")


if __name__ == "__main__":
    main()
