// Fp8 — FP8 decoder folders, dequantized while the weights load: transformers' fine-grained FP8 (quant_method "fp8",
// FineGrainedFP8Config: Qwen/Qwen3-*-FP8, the DeepSeek-V3 layout; weight_scale_inv per block, code · scale in float32 as
// its Fp8Dequantize computes) and compressed-tensors' float-quantized FP8 (quant_method "compressed-tensors": RedHatAI /
// neuralmagic's *-FP8 and *-FP8-dynamic; weight_scale per tensor, channel or block, code · scale in the scale's dtype as
// compressed_tensors' dequantize computes).
package org.transformer4j.model;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.IntStream;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.HfConfig;
import org.transformer4j.model.weights.SafetensorsCheckpoint;
import org.transformer4j.model.weights.SafetensorsDType;
import org.transformer4j.model.weights.TensorEntry;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;
import org.transformer4j.runtime.cpu.CpuKernels;
import org.transformer4j.runtime.cpu.Half;

/**
 * A folder's FP8 weights: each quantized {@code X.weight} (out, in) is stored F8_E4M3 (e4m3fn codes) beside its scales,
 * and is dequantized when the loader takes it, W[i][j] = e4m3(code[i][j]) · scale[i / rows][j / cols], then held in the
 * compute dtype. Two layouts:
 * <ul>
 *   <li>transformers' fine-grained FP8 ({@code quantization_config} {@code {"quant_method": "fp8", "fmt": "e4m3",
 *     "activation_scheme": "dynamic", "weight_block_size": [rows, cols]}}): {@code X.weight_scale_inv} of shape
 *     (⌈out / rows⌉, ⌈in / cols⌉), the product rounded to float32 ({@code Fp8Dequantize}: both sides in float32);</li>
 *   <li>compressed-tensors ({@code "quant_method": "compressed-tensors", "format": "float-quantized"}, config_groups whose
 *     weights are 8-bit float, symmetric, strategy tensor, channel or block): {@code X.weight_scale} of shape (1) or ()
 *     (tensor), (out, 1) (channel) or (⌈out / r⌉, ⌈in / c⌉) (block_structure [r, c]), the product rounded to the scale's
 *     dtype (compressed_tensors' {@code dequantize}: {@code x_q.to(scale.dtype) * scale}, BF16 in the published folders);
 *     static input scales ({@code X.input_scale}) are read past.</li>
 * </ul>
 * The model then computes with the weights transformers and compressed-tensors give a dequantized model (transformers on a
 * CPU or with {@code dequantize=True}; {@code run_compressed=False}). vLLM's and transformers' FP8 GEMMs also quantize the
 * activations to FP8 (W8A8, dynamically per token or group, or with the static input scales); this library has no FP8
 * GEMM yet, so its products are the dequantized weights' (closer to the unquantized model, not equal to the W8A8 one).
 * Memory: the compute dtype's size (BF16: twice the FP8 file). Refused by name: other quant methods (bitsandbytes; AWQ and GPTQ are IntQuant's)
 * and formats, e5m2, asymmetric or grouped weights, a KV-cache scheme, a bad block size, a weight without its scale (or
 * the reverse), a scale of the wrong shape.
 */
final class Fp8 {

    /** The value of each of the 256 e4m3fn codes: 1 sign, 4 exponent (bias 7), 3 mantissa bits; subnormal at exponent 0; S.1111.111 NaN. */
    static final float[] E4M3 = new float[256];

    static {
        for (int c = 0; c < 256; c++) {
            int e = (c >> 3) & 15, m = c & 7;
            float v = e == 15 && m == 7 ? Float.NaN : e == 0 ? m * 0x1p-9f : Math.scalb((float) (8 + m), e - 10);
            E4M3[c] = (c & 0x80) != 0 ? -v : v;
        }
    }

    /** How the scales tile a weight: one per block of {@code rows} × {@code cols}, one per row, or one for the tensor. */
    enum Strategy { BLOCK, CHANNEL, TENSOR }

    /** The scale's name suffix after the weight's ({@code weight_scale_inv} or {@code weight_scale}). */
    final String scale;
    final Strategy strategy;
    final int blockRows, blockCols;
    /** Whether the product is rounded to the scale's dtype (compressed-tensors) rather than float32 (fine-grained FP8). */
    final boolean inScaleDtype;
    /** The checkpoint names of the quantized weights. */
    final Set<String> weights;
    /** Suffixes of the checkpoint keys the loader reads past: the scales (read with their weights), static input scales. */
    final List<String> readPast;

    private Fp8(String scale, Strategy strategy, int blockRows, int blockCols, boolean inScaleDtype, Set<String> weights, List<String> readPast) {
        this.scale = scale;
        this.strategy = strategy;
        this.blockRows = blockRows;
        this.blockCols = blockCols;
        this.inScaleDtype = inScaleDtype;
        this.weights = weights;
        this.readPast = readPast;
    }

    /**
     * The folder's FP8 layout, or null where config.json has no quantization_config (an F8 tensor then fails the layout's
     * dtype check, naming it). {@code what} names the family in errors.
     */
    static Fp8 of(HfConfig cfg, SafetensorsCheckpoint ck, Path dir, String what) throws CheckpointException {
        HfConfig q = cfg.object("quantization_config");
        if (q == null) return null;
        String method = q.string("quant_method", "");
        return switch (method) {
            case "fp8" -> fineGrained(q, ck, dir);
            case "compressed-tensors" -> compressedTensors(q, ck, dir);
            default -> throw q.error("quant_method '" + method + "' is not supported for " + what + " folders (fp8, compressed-tensors' "
                    + "float-quantized FP8, awq and gptq, dequantized at load; or an unquantized folder)");
        };
    }

    private static Fp8 fineGrained(HfConfig q, SafetensorsCheckpoint ck, Path dir) throws CheckpointException {
        String fmt = q.string("fmt", "e4m3"), act = q.string("activation_scheme", "dynamic");
        if (!fmt.equals("e4m3")) throw q.error("fmt '" + fmt + "' is not supported (e4m3)");
        if (!act.equals("dynamic")) throw q.error("activation_scheme '" + act + "' is not supported (dynamic: the weights alone are quantized)");
        int[] block = q.has("weight_block_size") ? block(q, "weight_block_size") : new int[] {128, 128};
        return scan(new Fp8("_scale_inv", Strategy.BLOCK, block[0], block[1], false, Set.of(), List.of()), ck, dir);
    }

    private static Fp8 compressedTensors(HfConfig q, SafetensorsCheckpoint ck, Path dir) throws CheckpointException {
        String format = q.string("format", "");
        if (!format.equals("float-quantized")) {
            throw q.error("format '" + format + "' is not supported (float-quantized: FP8 weights; int-quantized, pack-quantized and the "
                    + "other compressed-tensors formats are not read)");
        }
        if (q.has("kv_cache_scheme")) throw q.error("kv_cache_scheme is not supported (an FP8 KV cache's scales)");
        HfConfig groups = q.object("config_groups");
        if (groups == null || groups.fields().isEmpty()) throw q.error("config_groups is missing or empty");
        Strategy strategy = null;
        int[] block = {0, 0};
        for (String name : groups.fields()) {
            HfConfig g = groups.object(name), w = g == null ? null : g.object("weights");
            if (w == null) throw groups.error(name + " has no weights");
            if (w.size("num_bits", 0) != 8 || !w.string("type", "").equals("float")) {
                throw w.error("num_bits " + w.size("num_bits", 0) + " type '" + w.string("type", "") + "' is not supported (8-bit float weights)");
            }
            if (!w.bool("symmetric", true)) throw w.error("asymmetric weights are not supported (no zero points in FP8)");
            if (w.bool("dynamic", false)) throw w.error("dynamic weights are not supported (the folder stores their scales)");
            String st = w.string("strategy", "");
            Strategy s = switch (st) {
                case "tensor" -> Strategy.TENSOR;
                case "channel" -> Strategy.CHANNEL;
                case "block" -> Strategy.BLOCK;
                default -> throw w.error("strategy '" + st + "' is not supported (tensor, channel or block)");
            };
            int[] b = s == Strategy.BLOCK ? block(w, "block_structure") : new int[] {0, 0};
            if (strategy != null && (strategy != s || !Arrays.equals(block, b))) {
                throw groups.error("groups with different weight strategies are not supported (" + strategy + " and " + s + ")");
            }
            strategy = s;
            block = b;
            HfConfig in = g.object("input_activations");
            if (in != null && (in.size("num_bits", 0) != 8 || !in.string("type", "").equals("float"))) {
                throw in.error("input activations of num_bits " + in.size("num_bits", 0) + " type '" + in.string("type", "") + "' are not supported");
            }
        }
        return scan(new Fp8("_scale", strategy, block[0], block[1], true, Set.of(), List.of(".input_scale")), ck, dir);
    }

    private static int[] block(HfConfig c, String field) throws CheckpointException {
        double[] b = c.numbers(field);
        if (b == null || b.length != 2 || Arrays.stream(b).anyMatch(x -> x < 1 || x != Math.rint(x) || x > Integer.MAX_VALUE)) {
            throw c.error(field + " " + (b == null ? "is missing" : Arrays.toString(b) + " is not two positive integers [rows, cols]"));
        }
        return new int[] {(int) b[0], (int) b[1]};
    }

    /** The scale shape {@code weight} (out, in) needs. */
    long[] scaleShape(long[] weight) {
        return switch (strategy) {
            case BLOCK -> new long[] {Math.ceilDiv(weight[0], blockRows), Math.ceilDiv(weight[1], blockCols)};
            case CHANNEL -> new long[] {weight[0], 1};
            case TENSOR -> new long[] {1};
        };
    }

    /** {@code layout} with the checkpoint's quantized weights, every F8 weight and scale checked. */
    private static Fp8 scan(Fp8 layout, SafetensorsCheckpoint ck, Path dir) throws CheckpointException {
        String suffix = ".weight" + layout.scale;
        Set<String> weights = new TreeSet<>();
        List<String> problems = new ArrayList<>();
        for (String name : ck.names()) {
            TensorEntry e = ck.entry(name);
            if (name.endsWith(suffix)) {
                String w = name.substring(0, name.length() - layout.scale.length());
                if (!ck.contains(w) || ck.entry(w).dtype() != SafetensorsDType.F8_E4M3) problems.add(name + " scales no F8_E4M3 weight " + w);
                continue;
            }
            if (e.dtype() != SafetensorsDType.F8_E4M3) continue;
            long[] s = e.shape();
            if (!name.endsWith(".weight") || s.length != 2) {
                problems.add(name + " is F8_E4M3 " + Arrays.toString(s) + ": only 2-D .weight matrices are quantized");
                continue;
            }
            String sn = name + layout.scale;
            if (!ck.contains(sn)) {
                problems.add(name + " is F8_E4M3 without its " + sn);
                continue;
            }
            TensorEntry se = ck.entry(sn);
            long[] want = layout.scaleShape(s);
            boolean scalar = layout.strategy == Strategy.TENSOR && se.shape().length == 0;      // older folders: a 0-d scale
            if (!scalar && !Arrays.equals(se.shape(), want)) {
                problems.add(sn + " is " + Arrays.toString(se.shape()) + ", expected " + Arrays.toString(want) + " ("
                        + switch (layout.strategy) {
                            case BLOCK -> "one scale per [" + layout.blockRows + ", " + layout.blockCols + "] block";
                            case CHANNEL -> "one scale per output row";
                            case TENSOR -> "one scale";
                        } + " of " + Arrays.toString(s) + ")");
            } else if (se.dtype() != SafetensorsDType.F32 && se.dtype() != SafetensorsDType.BF16 && se.dtype() != SafetensorsDType.F16) {
                problems.add(sn + " has dtype " + se.dtype() + ", expected F32, BF16 or F16");
            } else {
                weights.add(name);
            }
        }
        if (!problems.isEmpty()) throw new CheckpointException(dir, "FP8 weights: " + String.join("; ", problems));
        List<String> past = new ArrayList<>(List.of(suffix));
        past.addAll(layout.readPast);
        return new Fp8(layout.scale, layout.strategy, layout.blockRows, layout.blockCols, layout.inScaleDtype, Set.copyOf(weights), List.copyOf(past));
    }

    /** The stored weight {@code name} dequantized: a (out, in) F32 host tensor. */
    Tensor dequantize(SafetensorsCheckpoint ck, String name) {
        long[] s = ck.entry(name).shape();
        int out = Math.toIntExact(s[0]), in = Math.toIntExact(s[1]);
        MemorySegment codes = ck.segment(name);
        float[] scales = ck.tensor(name + scale).toFloatArray();
        SafetensorsDType sd = ck.entry(name + scale).dtype();
        int rows = switch (strategy) { case BLOCK -> blockRows; case CHANNEL -> 1; case TENSOR -> out; };
        int cols = strategy == Strategy.BLOCK ? blockCols : in;
        int sCols = Math.toIntExact(Math.ceilDiv(in, cols));
        // compressed-tensors multiplies in the scale's dtype: the exact product (at most 4 + 11 significant bits for F16,
        // 4 + 8 for BF16, so exact in float32) rounded to it once
        CpuKernels.FloatUnaryOperator round = !inScaleDtype || sd == SafetensorsDType.F32 ? x -> x
                : sd == SafetensorsDType.BF16 ? Half::roundToBf16 : Half::roundToF16;
        Tensor w = new CpuBackend().empty(DType.F32, out, in);
        MemorySegment dst = w.hostSegment();
        IntStream.range(0, out).parallel().forEach(i -> {
            long row = (long) i * in;
            int sr = (i / rows) * sCols;
            for (int j = 0; j < in; j++) {
                float v = E4M3[codes.get(ValueLayout.JAVA_BYTE, row + j) & 0xFF] * scales[sr + j / cols];
                dst.setAtIndex(ValueLayout.JAVA_FLOAT, row + j, round.applyAsFloat(v));
            }
        });
        return w;
    }
}
