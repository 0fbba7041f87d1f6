#!/usr/bin/env bash
# emulate.sh — builds and runs emulate_attention and emulate_rope (the attention and rope kernels'
# device code on the host, see simt.h) against float64 references. Needs g++ (C++20) and the CUDA toolkit's headers; no GPU.
#   native/tools/emulator/emulate.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cuda_include=${CUDA_INCLUDE:-/usr/local/cuda/include}   # where cuda_fp16.h and cuda_bf16.h live
out=${TMPDIR:-/tmp}/t4j-emulate-attention
g++ -std=c++20 -O2 -pthread -DT4J_HOST_EMULATION -I"$cuda_include" -I"$here/../../include" \
  "$here/emulate_attention.cpp" -o "$out"
"$out"
g++ -std=c++20 -O2 -pthread -DT4J_HOST_EMULATION -I"$cuda_include" -I"$here/../../include" \
  "$here/emulate_rope.cpp" -o "$out-rope"
"$out-rope"
