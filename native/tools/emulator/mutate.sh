#!/usr/bin/env bash
# mutate.sh — the checker's own tests: plants one fault at a time in a copy of the real sources
# (native/src, native/include), runs the emulator on it and requires the fault to be reported by
# the check that claims it. A mutation that passes unnoticed fails this script (and CI).
#   native/tools/emulator/mutate.sh [NAME...]     default: every mutation
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
native=$(cd "$here/../.." && pwd)
work=${TMPDIR:-/tmp}/t4j-mutate-$$
trap 'rm -rf "$work"' EXIT

# name @ file (under native/src) @ python expression: the exact text to replace, then its
# replacement @ emulate.sh arguments @ drivers @ what the report must contain (extended regex)
mutations=(
  # racecheck (ThreadSanitizer): block_sum's barrier between the warps' partial sums and their reader
  "no-syncthreads@common/reduce.cuh@'    if (lane == 0) scratch[warp] = v;\n    __syncthreads();\n', '    if (lane == 0) scratch[warp] = v;\n'@--sanitize=thread --only norm_f32 layer 3x300@rows@ThreadSanitizer: data race"
  # memcheck (AddressSanitizer): LayerNorm's last pass reads one element past its cached row
  "past-tile-global@norm/norm.cuh@'            const float h = use_cache ? cache[c] : norm_load_h<T>(p, x, res, res_out, c);\n            float y', '            const float h = use_cache ? cache[c + 1] : norm_load_h<T>(p, x, res, res_out, c);\n            float y'@--sanitize=address --only norm_f32 layer 3x300@rows@AddressSanitizer: heap-buffer-overflow"
  # initcheck (poison): the GEMM's A fragments read 8 columns past the tile, into never-written padding
  "past-tile-shared@linear/linear.cuh@'ldmatrix_x4(af[i], sa + row * (kBK + kPad) + col);', 'ldmatrix_x4(af[i], sa + row * (kBK + kPad) + col + 8);'@--quick --only linear_bf16_gated_nn_64 M33@linear@FAIL t4j_linear_.*element\\(s\\) out of bound"
  # synccheck (emulator): the main loop's cp.async.wait_group skipped
  "skip-wait-group@linear/linear.cuh@'        cp_async_wait<kStages - 2>();\n', ''@--quick --only linear_bf16_gated_nn_64 M33@linear@synccheck: t4j_linear.*cp.async .*not completed"
  # memcheck (AddressSanitizer): the norm launcher's dynamic shared memory 16 bytes short
  "smem-minus-16@norm/norm_config.h@'static_cast<uint32_t>(cols * 4) : 0u', 'static_cast<uint32_t>(cols * 4 - 16) : 0u'@--sanitize=address --only norm_f32 layer 3x300@rows@AddressSanitizer: heap-buffer-overflow"
  # memcheck (emulator): the GEMM's last 16 bytes are the padding of its last B row, never touched,
  # so 16 bytes less is harmless there; 32 less takes one 16-byte chunk of data as well
  "gemm-smem-minus-32@linear/linear_config.h@'kStages * stage_elems(bm, bn, gated, trans_b) * 2)', 'kStages * stage_elems(bm, bn, gated, trans_b) * 2 - 32)'@--quick --only linear_bf16_nn_128 M130@linear@memcheck: t4j_linear.*outside the [0-9]+ bytes the launcher requested"
  # float64 reference: INT4's nibbles taken high first within each byte (code i of a word is bits 4i .. 4i + 3)
  "int4-nibbles-swapped@linear/int4.cuh@'int4_value<T>((word >> (8 * i)) & 15u, z, s) | int4_value<T>((word >> (8 * i + 4)) & 15u, z, s) << 16', 'int4_value<T>((word >> (8 * i + 4)) & 15u, z, s) | int4_value<T>((word >> (8 * i)) & 15u, z, s) << 16'@--quick --only t4j_linear_bf16_int4_nt_64 M1 N72@linear@FAIL t4j_linear_bf16_int4_nt_64 M1 N72"
  # float64 reference: the gate's INT4 codes decoded under W's zero points (b_gate_zero ignored)
  "int4-gate-zeros@linear/linear.cuh@'q == 0 ? p.b_zero : p.b_gate_zero', 'p.b_zero'@--quick --only t4j_linear_bf16_int4_gated_nt_64 M5@linear@FAIL t4j_linear_bf16_int4_gated_nt_64 M5"
  # float64 reference: BF16 weights rounded once from the exact product, not through F16 as the checkpoints' dequantization
  "int4-bf16-single-rounding@linear/int4.cuh@'return int4_bits(from_f32<T>(__half2float(h)));', 'return int4_bits(from_f32<T>(static_cast<float>(static_cast<int>(q) - static_cast<int>(z)) * s));'@--quick --only int4 decode: 16 codes x 17 zeros x scales, bit for bit in bf16@linear@FAIL int4 decode: 16 codes x 17 zeros x scales, bit for bit in bf16"
  # float64 reference: the GEMV's last warp's share of K left out of the sum
  "int4-gemv-last-warp@linear/int4_gemv.cuh@'for (int ww = 0; ww < kGemvWarps; ww++) sum', 'for (int ww = 0; ww < kGemvWarps - 1; ww++) sum'@--quick --only t4j_linear_f16_int4_gemv M8@linear@FAIL t4j_linear_f16_int4_gemv M8"
  # racecheck (ThreadSanitizer): the GEMV's barrier between the warps' partial sums and the threads that add them
  "int4-gemv-no-barrier@linear/int4_gemv.cuh@'        for (int m = 0; m < kGemvMaxRows; m++) partial[warp][q][m][lane] = acc[q][m];\n    __syncthreads();\n', '        for (int m = 0; m < kGemvMaxRows; m++) partial[warp][q][m][lane] = acc[q][m];\n'@--sanitize=thread --only t4j_linear_bf16_int4_gated_gemv M3@linear@ThreadSanitizer: data race"
  # float64 reference: the causal mask off by one (the diagonal hidden)
  "mask-off-by-one@attention/attention.cuh@'return j <= i + offset || j < prefix;', 'return j < i + offset || j < prefix;'@--quick --only rows f32 HS 32 packed prefix-LM@attention@FAIL rows f32 HS 32 packed prefix-LM"
  # the combine must read only the splits the length ran (split_keys): the others left their workspace rows NaN
  "decode-combine-all-splits@attention/decode.cuh@'decode_splits_used(decode_length(p, b), p.num_splits, p.split_keys);  // the splits that ran', 'p.num_splits;  // the splits that ran'@--quick --only decode bf16 HS 128 GQA 4, 16 splits, split_keys 32@attention@FAIL decode bf16 HS 128 GQA 4, 16 splits"
  # float64 reference: the tensor-core kernel's unmasked-tile test takes the diagonal tile for a full one (issue 19)
  "mma-full-tile-diagonal@attention/attention_mma.cuh@'n0 + KEYS - 1 <= m0 + s.offset ||', 'n0 <= m0 + s.offset ||'@--quick --only mma bf16 HS 64 128 rows causal@attention@FAIL mma bf16 HS 64 128 rows causal"
  # float64 reference: the sliding-window rule forgets its after side (|rel| < window becomes rel > -window), so a
  # bidirectional window shows the keys after it in the key tiles the kernel loads
  "window-after-side@attention/attention.cuh@'return window > 0 && (rel <= -window || rel >= window);', 'return window > 0 && rel <= -window;'@--quick --only mma bf16 HS 64 bidirectional window 65@attention@FAIL mma bf16 HS 64 bidirectional window 65"
  # float64 reference: the tensor-core kernel's unmasked-tile test ignores the bidirectional window's after side
  "mma-full-tile-window-after@attention/attention_mma.cuh@'                          !attn_window_hides(n0 - last - s.offset, p.window) &&\n                          !attn_window_hides(n0 + KEYS - 1 - m0 - s.offset, p.window);', '                          !attn_window_hides(n0 - last - s.offset, p.window);'@--quick --only mma bf16 HS 64 bidirectional window 65@attention@FAIL mma bf16 HS 64 bidirectional window 65"
  # float64 reference: the T5 distance table scaled like the scores (bias · scale): invisible at T5's scale 1, caught by
  # MPNet's problems (the bias after a 1/sqrt(HS) scale)
  "t5-bias-scaled@attention/attention_mma.cuh@'        dist[idx] = p.rel_bias[bucket * p.NH + h] * kLog2e;', '        dist[idx] = p.rel_bias[bucket * p.NH + h] * kLog2e * p.scale;'@--quick --only mma bf16 HS 64 MPNet@attention@FAIL mma bf16 HS 64 MPNet"
  # float64 reference: DeBERTa's p2c read at the query's row instead of the key's (the paper's k_j·Qr[δ(i, j)])
  "deberta-p2c-query-row@attention/attention.cuh@'        if (p2c != nullptr) x += to_f32(p2c[static_cast<int64_t>(j) * width + r]);', '        if (p2c != nullptr) x += to_f32(p2c[static_cast<int64_t>(i) * width + r]);'@--quick --only mma bf16 HS 64 DeBERTa@attention@FAIL mma bf16 HS 64 DeBERTa"
  # synccheck (emulator): the tensor-core kernel reads a K/V stage before its cp.async group retired
  "mma-skip-wait-group@attention/attention_mma.cuh@'            attn_cp_async_wait<1>();', ''@--quick --only mma bf16 HS 64 128 rows causal@attention@synccheck: t4j_attn_mma.*cp.async .*not completed"
  # float64 reference: the router breaks ties to the higher expert id (exactly equal logits)
  "route-ties-high@moe/moe.cuh@'return key > k2 || (key == k2 && id < id2);', 'return key > k2 || (key == k2 && id > id2);'@--quick --only moe_route f32 T37 E8 k2 renorm ties@moe@FAIL moe_route f32 T37 E8 k2 renorm ties"
  # float64 reference: DeepSeek-V3's group score (ABI 18) taken as the group's largest choice (V2's rule) instead of the
  # sum of its two largest
  "route-group-max-not-top2@moe/moe.cuh@'gkey = rank_key(r.sigmoid ? top1 + top2 : top1);', 'gkey = rank_key(top1);'@--quick --only moe_route bf16 T64 E256 k8 renorm sigmoid bias groups 8/4@moe@FAIL moe_route bf16 T64 E256 k8 renorm sigmoid bias groups 8/4"
  # float64 reference: the group mask's 0.0 left out (masked experts skipped): a masked expert's 0.0 no longer beats the
  # kept groups' negative biased choices, as transformers' masked_fill makes it
  "route-masked-skipped@moe/moe.cuh@'(kept >> (e / G)) & 1u ? r.choice(e, s) : 0.0f;', '(kept >> (e / G)) & 1u ? r.choice(e, s) : -INFINITY;'@--quick --only moe_route f32 T9 E256 k8 renorm sigmoid negbias@moe@FAIL moe_route f32 T9 E256 k8 renorm sigmoid negbias"
  # float64 reference: the grouped GEMM ignores where its group's rows start (every group from row 0)
  "grouped-ignores-offsets@linear/linear.cuh@'        row_lo = lo;\n', ''@--quick --only t4j_linear_bf16_grouped_nn_64@linear@FAIL t4j_linear_bf16_grouped_nn_64"
  # float64 reference: attention sinks (ABI 11) ended into every split's partial result, so the combine counts the sink once
  # per split that ran and once more (it must join each row's denominator once)
  "sink-per-split@attention/decode.cuh@'    if (p.num_splits == 1) {\n        if (p.sinks != nullptr) attn_sink_end(st.m, st.l, p.sinks[h], inv, lse);\n', '    if (p.sinks != nullptr) attn_sink_end(st.m, st.l, p.sinks[h], inv, lse);\n    if (p.num_splits == 1) {\n'@--quick --only decode f32 HS 64 sinks GQA 4 Tq 1, 3 splits@attention@FAIL decode f32 HS 64 sinks GQA 4 Tq 1, 3 splits"
  # float64 reference: the sink taken as a log2-domain score (the kernels' scores are z · log2 e; the sink is a natural logit)
  "sink-log2-domain@attention/attention.cuh@'    const float s2 = sink * kLog2e;\n', '    const float s2 = sink;\n'@--quick --only mma bf16 HS 64 sinks@attention@FAIL mma bf16 HS 64 sinks"
  # float64 reference: ALiBi (ABI 14) with the signed distance instead of its magnitude (keys before the query would gain)
  "alibi-signed@attention/attention.cuh@'static_cast<float>(rel < 0 ? -rel : rel)', 'static_cast<float>(rel)'@--quick --only mma bf16 HS 64 alibi packed causal@attention@FAIL mma bf16 HS 64 alibi packed causal"
  # float64 reference: the tensor-core kernel's tile table filled for ALiBi only where a window or a mask needs it (the
  # tiles every row sees whole would lose the bias)
  "alibi-full-tiles@attention/attention_mma.cuh@'const bool use_table = t5 || p.alibi_slopes != nullptr || (p.window > 0 && !full);', 'const bool use_table = t5 || (p.window > 0 && !full);'@--quick --only mma f16 HS 64 alibi 128 rows@attention@FAIL mma f16 HS 64 alibi 128 rows"
  # float64 reference: the decode's ALiBi slope left in the natural-log domain (its scores are z · log2 e)
  "alibi-decode-log-domain@attention/decode.cuh@'p.alibi_slopes[kvh * group + r / tq] * kLog2e', 'p.alibi_slopes[kvh * group + r / tq]'@--quick --only decode f32 HS 64 alibi MHA 6 heads Tq 1, 1 split@attention@FAIL decode f32 HS 64 alibi MHA 6 heads Tq 1, 1 split"
  # float64 reference: the varlen decode (ABI 17) reads sequence b's queries at b · q_batch_stride (the padded layout's place,
  # ignored when packed; the problems set it to one row) instead of row cu_seqlens_q[b]
  "varlen-decode-batch-stride@attention/decode.cuh@'        s.q_off = r.first * p.q_row_stride;', '        s.q_off = b * p.q_batch_stride;'@--quick --only decode bf16 HS 64 varlen GQA 4@attention@FAIL decode bf16 HS 64 varlen GQA 4"
  # bit equality with solo launches (the tolerance passes it): the varlen decode's blocks all take the layout of the launch's
  # Tq (group · Tq rows) instead of their own Lq_b's, so a short sequence's rows merge their warps' key slices otherwise
  "varlen-decode-padded-layout@attention/decode.cuh@'const DecodeLayout lay = decode_layout(p.HS, static_cast<int>(sizeof(T)), R);', 'const DecodeLayout lay = decode_layout(p.HS, static_cast<int>(sizeof(T)), group * p.Tq);'@--quick --only decode f16 HS 128 varlen MHA@attention@FAIL decode f16 HS 128 varlen MHA .*, bits: [1-9]"
  # host model of the cache: the varlen append's binary search off by one (a sequence's first row taken for the one before,
  # then skipped as outside its range: the cache keeps old bits where the row belongs)
  "varlen-append-wrong-seq@attention/kv_cache.cuh@'        if (cu[mid] <= r) lo = mid;', '        if (cu[mid] < r) lo = mid;'@--quick --only kv_append f32 varlen rows@attention@FAIL kv_append f32 varlen rows"
  # float64 reference: GPT-OSS's clamped SwiGLU without its gate clamp (up.clamp(−7, 7) + 1 becomes up + 1)
  "swiglu-gate-unclamped@linear/epilogue.cuh@'    return (g > kSwigluLimit ? kSwigluLimit : (g < -kSwigluLimit ? -kSwigluLimit : g)) + 1.0f;', '    return g + 1.0f;'@--quick --only linear_bf16_gated_nt_128 M130 N72 K64 batch 1 swiglu_oai@linear@FAIL t4j_linear_bf16_gated_nt_128 M130 N72 K64 batch 1 swiglu_oai"
  # float64 reference: clip_qkv's clamp (T4J_ACT_CLAMP, ABI 16) one-sided (the lower bound −limit forgotten)
  "clamp-one-sided@linear/epilogue.cuh@'        case T4J_ACT_CLAMP: return x > limit ? limit : (x < -limit ? -limit : x);', '        case T4J_ACT_CLAMP: return x > limit ? limit : x;'@--quick --only linear_bf16_nt_128 M130 N136 K72 batch 1 clamp@linear@FAIL t4j_linear_bf16_nt_128 M130 N136 K72 batch 1 clamp"
  # float64 reference: Nemotron's relu² (T4J_ACT_RELU2, ABI 19) computed as a plain ReLU (the square forgotten)
  "relu2-as-relu@linear/epilogue.cuh@'            return r * r;', '            return r;'@--quick --only t4j_linear_bf16_nt_128 M130 N136 K72 batch 1 relu2@linear@FAIL t4j_linear_bf16_nt_128 M130 N136 K72 batch 1 relu2"
  # float64 reference: bias_act's clamp at a limit of its own (the struct's act_limit not read)
  "clamp-limit-ignored@linear/bias_act.cuh@'rv, p.activation, p.act_limit)', 'rv, p.activation, 1.0f)'@--quick --only t4j_bias_act_f32 3x70 clamp@linear@FAIL t4j_bias_act_f32 3x70 clamp"
  # float64 reference: the grouped GEMM adds group 0's bias rows to every group (stride_bias ignored)
  "grouped-bias-group-0@linear/linear.cuh@'    const int64_t bias_off = GROUPED ? batch * p.stride_bias : 0;', '    const int64_t bias_off = 0;'@--quick --only t4j_linear_bf16_grouped_gated_nt_64 groups 20@linear@FAIL t4j_linear_bf16_grouped_gated_nt_64 groups 20"
  # float64 reference: the grouped GEMM's residual (ABI 15) read from row 0 instead of the group's first row (LoRA's expand
  # in place would add another row's old values)
  "grouped-residual-row-0@linear/linear.cuh@'(GROUPED ? row_lo * p.ld_residual : batch * p.stride_residual)', '(GROUPED ? 0 : batch * p.stride_residual)'@--quick --only t4j_linear_bf16_grouped_nt_64 groups 5,0,70,3 R90 N72 K8 none residual=C@linear@FAIL t4j_linear_bf16_grouped_nt_64 groups 5,0,70,3"
  # float64 reference: the fp32 grouped GEMM reads its residual but does not add it
  "f32-grouped-residual-dropped@linear/linear_f32.cuh@'epilogue_value(y, GATED, gv, r_row != nullptr, r, p.activation, p.act_limit)', 'epilogue_value(y, GATED, gv, false, r, p.activation, p.act_limit)'@--quick --only t4j_linear_f32_grouped_gated_nt groups 1,0,9,30 R41 N33 K64 silu bias residual@linear@FAIL t4j_linear_f32_grouped_gated_nt groups 1,0,9,30"
  # float64 reference: MXFP4's nibbles taken high first (element 2b is byte b's low nibble)
  "mxfp4-nibbles-swapped@linear/mxfp4.cuh@'        const float lo = fp4_value(byte & 15u) * s1 * s2;\n        const float hi = fp4_value(byte >> 4) * s1 * s2;', '        const float lo = fp4_value(byte >> 4) * s1 * s2;\n        const float hi = fp4_value(byte & 15u) * s1 * s2;'@--quick --only t4j_linear_bf16_grouped_mxfp4_nt_64 groups 3,0,70,1@linear@FAIL t4j_linear_bf16_grouped_mxfp4_nt_64 groups 3,0,70,1"
  # float64 reference: the first half of each MXFP4 block scaled by the previous block's scale byte
  "mxfp4-scale-wrong-block@linear/linear.cuh@'scales[v / 32], w);', 'scales[(v - 16) / 32], w);'@--quick --only t4j_linear_bf16_grouped_mxfp4_gated_nt_64 groups 20@linear@FAIL t4j_linear_bf16_grouped_mxfp4_gated_nt_64 groups 20"
  # float64 reference: the gate's MXFP4 codes decoded under W's scales (b_gate_scale ignored)
  "mxfp4-gate-scales@linear/linear.cuh@'q == 0 ? p.b_scale : p.b_gate_scale', 'p.b_scale'@--quick --only t4j_linear_bf16_grouped_mxfp4_gated_nt_64 groups 1,0@linear@FAIL t4j_linear_bf16_grouped_mxfp4_gated_nt_64 groups 1,0"
  # float64 reference: the repetition penalty's sign rule flipped (transformers divides a logit ≥ 0, multiplies one < 0)
  "repetition-sign@vocab/penalty.cuh@'x = x < 0.0f ? __fmul_rn(x, repetition) : __fdiv_rn(x, repetition);', 'x = x > 0.0f ? __fmul_rn(x, repetition) : __fdiv_rn(x, repetition);'@--quick --only t4j_penalty_f32 5x1000@rows@FAIL t4j_penalty_f32 5x1000"
  # float64 reference: min_p left out of the kept mass (the draw then walks a distribution min_p did not cut)
  "min-p-dropped@vocab/vocab.cuh@'                    if (e >= rowp.min_p) {', '                    if (e >= 0.0f) {'@--quick --only t4j_sample_f32 16x1000 t 0.70 top_k 0 top_p 1.00 min_p@rows@FAIL t4j_sample_f32 16x1000 t 0.70 top_k 0 top_p 1.00 min_p"
  # per-row sampling (ABI 13): the Philox counter keeps the row index (a row's draw then depends on its place in the batch)
  "sample-row-counter@vocab/vocab.cuh@'                row_c0 = 0u;', '                row_c0 = static_cast<uint32_t>(row);'@--quick --only t4j_sample_f32 per-row params@rows@FAIL t4j_sample_f32 per-row params"
  # per-row sampling (ABI 13): the rows' seeds ignored (the scalar seed read instead)
  "sample-row-seed-ignored@vocab/vocab.cuh@'                rowp = r;', '                rowp = r;\n                rowp.seed = p.seed;'@--quick --only t4j_sample_f32 per-row params@rows@FAIL t4j_sample_f32 per-row params"
  # per-row penalties (ABI 13): the rows' repetition ignored (the scalar read instead)
  "penalty-rows-ignored@vocab/penalty.cuh@'p.repetition_rows != nullptr ? p.repetition_rows[r] : p.repetition', 'p.repetition'@--quick --only t4j_penalty_f32 per-row params@rows@FAIL t4j_penalty_f32 per-row params"
  # float64 reference: the token mask reads the bit of id v % 16 (half of each word's ids take another id's bit)
  "mask-bit-index@vocab/mask.cuh@'if (((w >> (v & 31)) & 1u) == 0u)', 'if (((w >> (v & 15)) & 1u) == 0u)'@--quick --only t4j_mask_f32 rows 3@rows@FAIL t4j_mask_f32 rows 3"
  # synccheck (emulator): a shuffle mask off by one lane
  "shuffle-mask@common/reduce.cuh@'v += __shfl_xor_sync(0xffffffffu, v, offset);', 'v += __shfl_xor_sync(0x7fffffffu, v, offset);'@--quick --only norm_f32 layer 3x300@rows@synccheck: t4j_norm.*__shfl_xor_sync with mask 0x7fffffff"
)

selected=("$@")
jobs=${T4J_MUTATE_JOBS:-2}   # mutations built and run side by side (each build is one compiler process)

# mutate ENTRY: plants one fault, runs the emulator on it, writes the verdict to $work/NAME/verdict
# (first line "caught ..." or "FAIL ..."). The one-problem --quick runs build at -O0 (T4J_EMU_OPT):
# half the compile time, and the run is a single small problem.
mutate() {
  local name file edit args drivers expect
  IFS='@' read -r name file edit args drivers expect <<< "$1"
  local dir="$work/$name"
  mkdir -p "$dir"
  cp -r "$native/src" "$native/include" "$dir/"
  python3 - "$dir/src/$file" <<PY || { echo "FAIL mutate.sh: $name: could not plant the fault (source changed?)" > "$dir/verdict"; return; }
import sys
p = sys.argv[1]
old, new = ($edit)
s = open(p).read()
if s.count(old) < 1: sys.exit(1)
open(p, 'w').write(s.replace(old, new, 1))
PY
  local argv only="" rest=() i rc
  read -ra argv <<< "$args"
  # --only takes the rest of the line as one pattern
  for ((i = 0; i < ${#argv[@]}; i++)); do
    if [ "${argv[i]}" = --only ]; then only="${argv[*]:i+1}"; break; fi
    rest+=("${argv[i]}")
  done
  local log="$dir/run.log"
  T4J_EMU_SRC="$dir/src" T4J_EMU_OUT="$dir/out" T4J_EMU_DRIVERS="$drivers" T4J_EMU_OPT=-O0 \
    bash "$here/emulate.sh" "${rest[@]}" --only "$only" > "$log" 2>&1 && rc=0 || rc=$?
  # (a problem whose kernel the one-problem build left out fails too, but that is no catch)
  if [ $rc -ne 0 ] && grep -Eq "$expect" "$log" && ! grep -q '^not built: ' "$log"; then
    echo "mutation $name: caught ($(grep -Em1 "$expect" "$log" | cut -c1-160))" > "$dir/verdict"
  else
    { echo "FAIL mutation $name: not reported as /$expect/ (exit $rc); log:"; tail -20 "$log" | sed 's/^/  /'; } > "$dir/verdict"
  fi
}

names=()
for m in "${mutations[@]}"; do
  name=${m%%@*}
  if [ ${#selected[@]} -gt 0 ] && [[ ! " ${selected[*]} " == *" $name "* ]]; then continue; fi
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  mutate "$m" &
  names+=("$name")
done
wait
failed=0
for name in "${names[@]}"; do
  cat "$work/$name/verdict" 2>/dev/null || { echo "FAIL mutation $name: no verdict"; failed=1; continue; }
  grep -q '^FAIL' "$work/$name/verdict" && failed=1
done
exit $failed
