# hf_generate.py — Hugging Face transformers' eager generate on a random-initialised GPT-2 small
# config: batch 1, a 128-token prompt, 128 new tokens, greedy; prints prefill ms and decode ms/token,
# to compare with org.transformer4j.bench.GenerateLatency in the same run on the GPU machine.
# The dtype argument may list several (fp32,bf16): one process, one import of torch and transformers
# (seconds each on the GPU machine). One warm-up run and two timed runs per dtype, each printed at once.
import sys
import time

import torch
from transformers import GPT2Config, GPT2LMHeadModel


def main():
    prompt = int(sys.argv[1]) if len(sys.argv) > 1 else 128
    new = int(sys.argv[2]) if len(sys.argv) > 2 else 128
    names = (sys.argv[3] if len(sys.argv) > 3 else "fp32").split(",")
    dtypes = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
    for name in names:
        if name not in dtypes:
            sys.exit(f"hf_generate.py: dtype {name!r} is not one of {sorted(dtypes)}")
    for name in names:
        dtype = dtypes[name]
        torch.manual_seed(1)
        model = GPT2LMHeadModel(GPT2Config()).to("cuda", dtype).eval()
        ids = torch.randint(0, 50257, (1, prompt), device="cuda")
        with torch.inference_mode():
            for run in range(3):
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
                          f"({torch.cuda.get_device_name()}, {dtype})", flush=True)
        del model


if __name__ == "__main__":
    main()
