#!/usr/bin/env bash
# emulate.sh — runs every kernel of t4j.fatbin on the host: the kernels' own device code
# (native/src/*/*.cuh, compiled with -DT4J_HOST_EMULATION against simt.h) against float64
# references, with the emulator's synccheck / memcheck / initcheck (see simt.h), then checks that
# every extern "C" kernel of native/src/t4j_kernels.cu was launched. Needs g++ (C++20) and the CUDA
# toolkit's headers (cuda_fp16.h, cuda_bf16.h); no GPU. It says nothing about a GPU's timing,
# memory model beyond barriers, or tensor-core rounding (bench/GPU-STATUS.md).
#
#   emulate.sh                  the sampled set (every kernel x dtype x head size x mask), the
#                               AddressSanitizer and ThreadSanitizer runs of a small set, and the
#                               mutation tests (mutate.sh) — what `mvn verify` runs
#   emulate.sh --all            the full problem set (no sanitizers, no mutations)
#   emulate.sh --quick          the sampled set only
#   emulate.sh --sanitize=address|thread [--only SUBSTRING]   one sanitizer build
#   --only 'A|B'                the problems whose names contain A or B; the build compiles only the
#                               attention kernel instances whose problem names start with A or B
#                               (emu_common.h's built()); a pattern that selects no problem fails
#   T4J_EMU_SEED=n emulate.sh   replays a block order (every run prints its seed)
#   T4J_EMU_OPT=-O0 emulate.sh  the optimisation of the plain builds (default -O2; mutate.sh's one-problem
#                               runs use -O0, which halves the attention driver's compile)
#   T4J_EMU_DRIVERS="rows ..."  the drivers to build and run (default: all four)
# Exit status 1 when a problem fails, a checker reports, a kernel is not covered, or a mutation
# goes unnoticed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${T4J_EMU_SRC:-$here/../../src}           # mutate.sh points this at a patched copy
cuda_include=${CUDA_INCLUDE:-/usr/local/cuda/include}
if [ -n "${T4J_EMU_OUT:-}" ]; then out=$T4J_EMU_OUT; else out=${TMPDIR:-/tmp}/t4j-emulate-$$; trap 'rm -rf "$out"' EXIT; fi
mkdir -p "$out"
[ -f "$cuda_include/cuda_fp16.h" ] || { echo "emulate.sh: no cuda_fp16.h in $cuda_include (set CUDA_INCLUDE)" >&2; exit 1; }

mode=sampled; sanitize=""; args=(); only=""; plain_builds=()
while [ $# -gt 0 ]; do
  case "$1" in
    --all) mode=all; args+=(--all) ;;
    --quick) mode=quick ;;
    --sanitize=*) mode=sanitize; sanitize=${1#--sanitize=} ;;
    --only) args+=(--only "$2"); only=$2; shift
            case $only in *[\"\\]*) echo "emulate.sh: --only takes no quotes or backslashes" >&2; exit 2 ;; esac ;;
    *) echo "emulate.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

drivers=${T4J_EMU_DRIVERS:-linear rows attention rope moe}   # which emulate_*.cpp to build and run
# build NAME FLAGS...: compiles emulate_NAME.cpp against $src into $out/NAME.
# The drivers include ../../src/...: copies of them under $out/tools/emulator, beside a link
# $out/src to the sources, keep that path (once, before builds run in parallel).
mkdir -p "$out/tools/emulator"
ln -sfn "$src" "$out/src"
cp "$here"/simt.h "$here"/emu_common.h "$here"/emulate_*.cpp "$out/tools/emulator/"
build() {
  local name=$1; shift
  rm -f "$out/$name" "$out/$name".*  # T4J_EMU_OUT may hold an older build: a failed compile must not run it
  # Only --all needs the full head-size sweep's templates; the other builds leave them out (compile time).
  [ "$mode" = all ] || set -- "$@" -DT4J_EMU_SAMPLED_BUILD
  # --only: the drivers compile only the kernel instances its problems can use (emu_common.h's built()).
  [ -z "$only" ] || set -- "$@" "-DT4J_EMU_BUILD_ONLY=\"$only\""
  g++ -std=c++20 -pthread -DT4J_HOST_EMULATION -I"$cuda_include" -I"$src/../include" "$@" \
    "$out/tools/emulator/emulate_$name.cpp" -o "$out/$name"
}

run_set() {  # run_set SUFFIX ARGS...: runs the drivers built with SUFFIX
  local sfx=$1; shift; local status=0 part ran=""
  for d in $drivers; do
    echo "== emulate_$d $*"
    "$out/$d$sfx" "$@" | tee "$out/$d$sfx.log" || status=1
    ran+=$(grep -E '^(ok  |FAIL) ' "$out/$d$sfx.log" || true)$'\n'
  done
  # Every --only pattern must have selected a problem (a mistyped one would pass having run nothing).
  if [ -n "$only" ]; then
    while IFS= read -r part; do
      [ -z "$part" ] || grep -Fq -- "$part" <<< "$ran" || { echo "FAIL --only: no problem matches '$part'"; status=1; }
    done < <(tr '|' '\n' <<< "$only")
  fi
  return $status
}

status=0
case $mode in
  sanitize)
    case $sanitize in
      # -O0: a third to a half of the -O1 compile (ASan attention driver 16 instead of 64 CPU-s), runs
      # about as fast (ASan +20%, TSan the same: their time is the emulated threads' switches), and
      # no access optimised away from the instrumentation.
      address) flags=(-O0 -g -fsanitize=address -fno-omit-frame-pointer) ;;
      thread) flags=(-O0 -g -fsanitize=thread) ;;
      *) echo "emulate.sh: --sanitize=address or --sanitize=thread" >&2; exit 2 ;;
    esac
    for d in $drivers; do (build "$d" "${flags[@]}" && mv "$out/$d" "$out/$d.$sanitize") & done; wait
    export TSAN_OPTIONS="halt_on_error=1 exitcode=66 ${TSAN_OPTIONS:-}" ASAN_OPTIONS="detect_leaks=0 ${ASAN_OPTIONS:-}"
    run_set ".$sanitize" "${args[@]}" || status=1
    exit $status ;;
esac

if [ $mode = sampled ]; then
  # Sanitizer runs of a small set: each kernel family once, in one dtype (the families' index and
  # barrier code is the same in every dtype; ThreadSanitizer runs are ~10x slower than plain ones).
  asan_set="linear_bf16_nn_64 M65|linear_f16_gated_nn_64 M33|bias_act_bf16 5x70|norm_f16 layer 3x300|norm_bf16 rms 2x12300|embedding_f32 6x33|softmax_f16 3x300|cross_entropy_f16 6x257|sample_bf16 4x1000|t4j_penalty_bf16 2x64|mma bf16 HS 64 cross|rows f32 HS 96|decode f16 HS 64 Tq 16|rope f16 table|moe_route bf16 T37|gather_rows f16 n9|moe_combine f16 T7|t4j_linear_f32_grouped_gated_nt|t4j_linear_bf16_grouped_mxfp4_gated_nt_64 groups 1,0|t4j_linear_bf16_grouped_nt_64 groups 5,0,70,3|t4j_linear_bf16_int4_nt_64 M3 N64"
  tsan_set="linear_f16_nn_64 M65|linear_bf16_gated_nn_64 M33|bias_act_f16 5x70|norm_bf16 layer 3x300|embedding_f16 6x33|softmax_f32 log 2x33|cross_entropy_bf16 6x257|sample_f32 4x1000|t4j_penalty_f16 5x1000|mma f16 HS 32|decode f16 HS 64 MHA|rope bf16 table|moe_route f16 T37|moe_combine bf16 T7|t4j_linear_bf16_grouped_gated_nn_64|t4j_linear_bf16_int4_gated_gemv M3"
  # They start first and run beside the plain builds and runs (mostly single-threaded compiles, the
  # plain runs one thread each): two cores stay busy until the end.
  T4J_EMU_OUT="$out/asan" bash "$0" --sanitize=address --only "$asan_set" > "$out/asan.log" 2>&1 & asan=$!
  T4J_EMU_OUT="$out/tsan" bash "$0" --sanitize=thread --only "$tsan_set" > "$out/tsan.log" 2>&1 & tsan=$!
  bash "$here/mutate.sh" > "$out/mutate.log" 2>&1 & mutate=$!
fi

for d in $drivers; do build "$d" "${T4J_EMU_OPT:--O2}" & plain_builds+=($!); done
for p in "${plain_builds[@]}"; do wait "$p" || true; done
built=1
for d in $drivers; do [ -x "$out/$d" ] || { echo "emulate.sh: building emulate_$d failed" >&2; built=0; status=1; }; done
[ $built = 1 ] && { run_set "" "${args[@]}" || status=1; }

# Coverage: every extern "C" kernel nvcc puts in t4j.fatbin must have been launched (by the plain runs).
if [ $built = 0 ] || [ -n "$only" ]; then
  :  # a failed build is reported above; a filtered run covers what it was asked to
elif ! want=$(g++ -std=c++20 -x c++ -E -P -DT4J_HOST_EMULATION -I"$cuda_include" -I"$src/../include" "$src/t4j_kernels.cu" |
              grep -o 'extern "C" .*' | grep -o ' t4j_[a-z0-9_]*(' | tr -d ' (' | sort -u); then
  echo "FAIL coverage: could not list the kernels of t4j_kernels.cu"; status=1
else
  missing=$(comm -23 <(echo "$want") <(for d in $drivers; do cat "$out/$d.log"; done | sed -n 's/^emulated kernel: //p' | sort -u))
  if [ -n "$missing" ]; then
    echo "FAIL coverage: kernels of t4j.fatbin never emulated:"; echo "$missing" | sed 's/^/  /'; status=1
  else
    echo "coverage: all $(echo "$want" | wc -l) kernels of t4j.fatbin emulated"
  fi
fi

if [ $mode = sampled ]; then
  wait $asan && echo "asan: $(grep -c '^ok' "$out/asan.log") problems clean" || { cat "$out/asan.log"; status=1; }
  wait $tsan && echo "tsan: $(grep -c '^ok' "$out/tsan.log") problems clean" || { cat "$out/tsan.log"; status=1; }
  wait $mutate || status=1
  cat "$out/mutate.log"
fi
[ $status = 0 ] && echo "emulate.sh: all passed" || echo "emulate.sh: FAILED"
exit $status
