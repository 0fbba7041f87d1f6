// Fp8 — fine-grained FP8 decoder folders (transformers' quant_method "fp8", FineGrainedFP8Config: Qwen/Qwen3-*-FP8,
// the DeepSeek-V3 layout): each quantized projection stores its weight as F8_E4M3 codes beside a float32
// weight_scale_inv per weight_block_size block; the loader dequantizes them as transformers' Fp8Dequantize does on a
// CPU (or with dequantize=True): code · scale in float32, then the compute dtype.
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

/**
 * A folder's fine-grained FP8 quantization: {@code quantization_config} {@code {"quant_method": "fp8", "fmt": "e4m3",
 * "activation_scheme": "dynamic", "weight_block_size": [rows, cols]}} and, for each quantized {@code X.weight} (out, in)
 * stored F8_E4M3, {@code X.weight_scale_inv} of shape (⌈out / rows⌉, ⌈in / cols⌉) (F32, as published; BF16 / F16 read
 * too). The weights are dequantized when the loader takes them — W[i][j] = e4m3(code[i][j]) · scale[i / rows][j / cols],
 * the product rounded to float32, as transformers' {@code Fp8Dequantize} computes it — so the model computes with the
 * weights transformers uses where it does not run the FP8 GEMM (on a CPU, or {@code dequantize=True}). transformers'
 * GPU path, like vLLM's, also quantizes the activations to FP8 per 128-wide group ({@code activation_scheme} dynamic):
 * that W8A8 product is not what this loader gives (a bf16 model is close to it, not equal). Memory: the weights take
 * the compute dtype's size (2 bytes in BF16, twice the FP8 file). Refused by name: another quant_method or fmt, a
 * static activation scheme, a block size that is not two positive integers, an F8 weight without its scale (or the
 * reverse), a scale of the wrong shape.
 */
final class Fp8 {

    static final String SCALE = "_scale_inv";

    /** The value of each of the 256 e4m3fn codes: 1 sign, 4 exponent (bias 7), 3 mantissa bits; subnormal at exponent 0; S.1111.111 NaN. */
    static final float[] E4M3 = new float[256];

    static {
        for (int c = 0; c < 256; c++) {
            int e = (c >> 3) & 15, m = c & 7;
            float v = e == 15 && m == 7 ? Float.NaN : e == 0 ? m * 0x1p-9f : Math.scalb((float) (8 + m), e - 10);
            E4M3[c] = (c & 0x80) != 0 ? -v : v;
        }
    }

    final int blockRows, blockCols;
    /** The checkpoint names of the quantized weights. */
    final Set<String> weights;

    private Fp8(int blockRows, int blockCols, Set<String> weights) {
        this.blockRows = blockRows;
        this.blockCols = blockCols;
        this.weights = weights;
    }

    /**
     * The folder's FP8 layout, or null where config.json has no quantization_config (an F8 tensor then fails the layout's
     * dtype check, naming it). {@code what} names the family in errors.
     */
    static Fp8 of(HfConfig cfg, SafetensorsCheckpoint ck, Path dir, String what) throws CheckpointException {
        HfConfig q = cfg.object("quantization_config");
        if (q == null) return null;
        String method = q.string("quant_method", "");
        if (!method.equals("fp8")) {
            throw q.error("quant_method '" + method + "' is not supported for " + what + " folders (fp8: transformers' fine-grained FP8, "
                    + "dequantized at load; or an unquantized folder)");
        }
        String fmt = q.string("fmt", "e4m3"), act = q.string("activation_scheme", "dynamic");
        if (!fmt.equals("e4m3")) throw q.error("fmt '" + fmt + "' is not supported (e4m3)");
        if (!act.equals("dynamic")) throw q.error("activation_scheme '" + act + "' is not supported (dynamic: the weights alone are quantized)");
        int rows = 128, cols = 128;
        if (q.has("weight_block_size")) {
            double[] b = q.numbers("weight_block_size");
            if (b.length != 2 || Arrays.stream(b).anyMatch(x -> x < 1 || x != Math.rint(x) || x > Integer.MAX_VALUE)) {
                throw q.error("weight_block_size " + Arrays.toString(b) + " is not two positive integers [rows, cols]");
            }
            rows = (int) b[0];
            cols = (int) b[1];
        }
        Set<String> weights = new TreeSet<>();
        List<String> problems = new ArrayList<>();
        for (String name : ck.names()) {
            TensorEntry e = ck.entry(name);
            if (name.endsWith(SCALE)) {
                String w = name.substring(0, name.length() - SCALE.length());
                if (!ck.contains(w) || ck.entry(w).dtype() != SafetensorsDType.F8_E4M3) problems.add(name + " scales no F8_E4M3 weight " + w);
                continue;
            }
            if (e.dtype() != SafetensorsDType.F8_E4M3) continue;
            long[] s = e.shape();
            if (!name.endsWith(".weight") || s.length != 2) {
                problems.add(name + " is F8_E4M3 " + Arrays.toString(s) + ": only 2-D .weight matrices are quantized");
                continue;
            }
            if (!ck.contains(name + SCALE)) {
                problems.add(name + " is F8_E4M3 without its " + name + SCALE);
                continue;
            }
            TensorEntry se = ck.entry(name + SCALE);
            long[] want = {Math.ceilDiv(s[0], rows), Math.ceilDiv(s[1], cols)};
            if (!Arrays.equals(se.shape(), want)) {
                problems.add(name + SCALE + " is " + Arrays.toString(se.shape()) + ", expected " + Arrays.toString(want) + " (one scale per ["
                        + rows + ", " + cols + "] block of " + Arrays.toString(s) + ")");
            } else if (se.dtype() != SafetensorsDType.F32 && se.dtype() != SafetensorsDType.BF16 && se.dtype() != SafetensorsDType.F16) {
                problems.add(name + SCALE + " has dtype " + se.dtype() + ", expected F32 (or BF16, F16)");
            } else {
                weights.add(name);
            }
        }
        if (!problems.isEmpty()) throw new CheckpointException(dir, "fine-grained FP8: " + String.join("; ", problems));
        return new Fp8(rows, cols, Set.copyOf(weights));
    }

    /** The stored weight {@code name} dequantized: a (out, in) F32 host tensor. */
    Tensor dequantize(SafetensorsCheckpoint ck, String name) {
        long[] s = ck.entry(name).shape();
        int out = Math.toIntExact(s[0]), in = Math.toIntExact(s[1]);
        MemorySegment codes = ck.segment(name);
        float[] scales = ck.tensor(name + SCALE).toFloatArray();
        int sCols = Math.toIntExact(Math.ceilDiv(in, blockCols));
        Tensor w = new CpuBackend().empty(DType.F32, out, in);
        MemorySegment dst = w.hostSegment();
        IntStream.range(0, out).parallel().forEach(i -> {
            long row = (long) i * in;
            int sr = (i / blockRows) * sCols;
            for (int j = 0; j < in; j++) {
                float v = E4M3[codes.get(ValueLayout.JAVA_BYTE, row + j) & 0xFF] * scales[sr + j / blockCols];
                dst.setAtIndex(ValueLayout.JAVA_FLOAT, row + j, v);
            }
        });
        return w;
    }
}
