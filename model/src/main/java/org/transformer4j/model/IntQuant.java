// IntQuant — AWQ and GPTQ decoder folders (integer weight-only quantization: Qwen/Qwen2.5-*-AWQ, -GPTQ-Int4 / -Int8,
// TheBloke's and GPTQModel's folders), their packed projections dequantized while the weights load, as AutoAWQ's and
// AutoGPTQ's torch dequantization computes them.
package org.transformer4j.model;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.IntStream;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.HfConfig;
import org.transformer4j.model.weights.SafetensorsCheckpoint;
import org.transformer4j.model.weights.SafetensorsDType;
import org.transformer4j.model.weights.TensorEntry;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Int4;
import org.transformer4j.runtime.Tensor;
import org.transformer4j.runtime.cpu.Half;

/**
 * A folder's integer-quantized projections, each stored as {@code X.qweight}, {@code X.qzeros} (int32), {@code X.scales}
 * (float16) and for GPTQ {@code X.g_idx} (int32) in place of {@code X.weight} (out, in), dequantized when the loader takes
 * them and held in the compute dtype:
 * <ul>
 *   <li>AWQ ({@code "quant_method": "awq", "version": "gemm", "bits": 4, "zero_point": true, "group_size": g}): qweight
 *     (in, out / 8), eight output columns per int32 with nibble i (bits 4i) holding column 8c + [0, 2, 4, 6, 1, 3, 5, 7][i]
 *     (AutoAWQ's order), qzeros (in / g, out / 8) packed alike, scales (in / g, out); W[o][i] = (q − z) · s rounded to float16;</li>
 *   <li>GPTQ ({@code "quant_method": "gptq", "bits": 4 or 8, "sym": true, "group_size": g or −1}): with k = 32 / bits codes
 *     per int32, qweight (in / k, out) packs input rows kr … kr + k − 1 (row kr + j at bits j · bits), qzeros (groups,
 *     out / k) packs output columns alike, stored minus one where checkpoint_format is "gptq" (v1, AutoGPTQ's quirk; the
 *     default) and as they are in "gptq_v2"; g_idx gives each input row's group (a permutation's with desc_act);
 *     W[o][i] = s[g_idx[i]][o] · (q − z) rounded to float16.</li>
 * </ul>
 * So the model computes with the weights those libraries' dequantization gives (their fused int4 GEMMs compute the same
 * products in float16 with their own accumulation order). 4-bit projections are kept in 4 bits instead ({@link #pack}:
 * GPTQ's packing, AWQ's repacked to it; {@link Int4}, decoded inside the GEMM to the same values, bit for bit) where the
 * model computes in F16 or BF16 and the group size is a multiple of 8, on CUDA ({@link #packedWanted}: -Dt4j.quant); the rest
 * (GPTQ's 8 bits, F32 compute) take the compute dtype's size, about four times an int4 file. Refused by name: other AWQ versions (gemv, marlin, exllama) and bit widths, GPTQ's asymmetric
 * or 2/3-bit weights, a part missing, a part of the wrong shape or dtype, a g_idx out of range.
 */
final class IntQuant {

    static final List<String> PARTS = List.of("qweight", "qzeros", "scales", "g_idx");
    /** The nibble of an int32 that holds output column 8c + j: the inverse of AutoAWQ's packing order [0, 2, 4, 6, 1, 3, 5, 7]. */
    private static final int[] AWQ_NIBBLE = {0, 4, 1, 5, 2, 6, 3, 7};

    final boolean awq;
    final int bits, group;
    final boolean v1;
    /** Our ".weight" name → the packed parts' prefix ("model.layers.0.self_attn.q_proj."). */
    final Map<String, String> weights;
    /** The (out, in) shape of each dequantized weight. */
    private final Map<String, long[]> shapes;

    private IntQuant(boolean awq, int bits, int group, boolean v1, Map<String, String> weights, Map<String, long[]> shapes) {
        this.awq = awq;
        this.bits = bits;
        this.group = group;
        this.v1 = v1;
        this.weights = weights;
        this.shapes = shapes;
    }

    /**
     * Whether 4-bit projections stay packed on {@code backend}: {@code -Dt4j.quant=packed} (always), {@code dequantize}
     * (never: the weights then hold what they held before 4-bit GEMMs existed), or {@code auto} (the default): packed on
     * CUDA, whose kernels decode the words as they compute; dequantized on the CPU, whose 16-bit rows a decode step dots
     * in vector registers while its 4-bit twin decodes into a tile first (11 times slower a decode step at 4096 × 4096 on
     * a 2-vCPU EPYC, bench/results/int4-linear-cpu.md) — the CPU keeps 4 bits for memory only when asked.
     */
    static boolean packedWanted(org.transformer4j.runtime.Backend backend) {
        String v = System.getProperty("t4j.quant", "auto").trim().toLowerCase(java.util.Locale.ROOT);
        return switch (v) {
            case "packed" -> true;
            case "dequantize" -> false;
            case "auto" -> backend.device().isCuda();
            default -> throw new IllegalArgumentException("-Dt4j.quant=" + v + " is not auto, packed or dequantize");
        };
    }

    /** Whether {@link #pack} takes projection {@code name}: 4 bits, groups of a multiple of 8, whole words along both sides. */
    boolean packs(String name) {
        long[] s = shapes.get(name);
        if (s == null || bits != 4) return false;
        long g = group == -1 ? s[1] : group;
        return g % 8 == 0 && s[0] % 8 == 0 && s[1] % 8 == 0;
    }

    /**
     * The projection {@code name} in 4 bits on the host ({@link #packs}): GPTQ's qweight as it is (its words already pack 8
     * input rows, row kr + j at bits 4j), AWQ's repacked from output-column words in its order into input-row words; the
     * zero points unpacked to bytes, GPTQ v1's stored z − 1 made z; the scales as stored; a g_idx that is k / group for
     * every k (desc_act false: most folders store one) dropped, another kept (act-order), each entry checked.
     */
    Int4 pack(SafetensorsCheckpoint ck, String name) {
        String base = weights.get(name);
        long[] s = shapes.get(name);
        int out = Math.toIntExact(s[0]), in = Math.toIntExact(s[1]);
        int g = group == -1 ? in : group, groups = Math.toIntExact(Math.ceilDiv(in, g));
        MemorySegment qw = ck.segment(base + "qweight"), qz = ck.segment(base + "qzeros");
        Tensor codes = Tensor.empty(DType.I32, in / 8, out), zeros = Tensor.empty(DType.U8, groups, out), gidx = null;
        try {
            MemorySegment cs = codes.hostSegment(), zs = zeros.hostSegment();
            if (awq) {                                                // (in, out/8) words of 8 output columns → (in/8, out)
                IntStream.range(0, in / 8).parallel().forEach(r -> {
                    for (int o = 0; o < out; o++) {
                        int word = 0;
                        for (int j = 0; j < 8; j++) {
                            int src = qw.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, (long) (8 * r + j) * (out / 8) + o / 8);
                            word |= ((src >>> (4 * AWQ_NIBBLE[o % 8])) & 0xF) << (4 * j);
                        }
                        cs.setAtIndex(ValueLayout.JAVA_INT, (long) r * out + o, word);
                    }
                });
            } else {
                MemorySegment.copy(qw, 0, cs, 0, 4L * (in / 8) * out);
            }
            for (int gr = 0; gr < groups; gr++) {
                for (int o = 0; o < out; o++) {
                    int zw = qz.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, (long) gr * (out / 8) + o / 8);
                    int z = awq ? (zw >>> (4 * AWQ_NIBBLE[o % 8])) & 0xF : ((zw >>> (4 * (o % 8))) & 0xF) + (v1 ? 1 : 0);
                    zs.set(ValueLayout.JAVA_BYTE, (long) gr * out + o, (byte) z);
                }
            }
            if (!awq) {
                MemorySegment gi = ck.segment(base + "g_idx");
                int[] idx = new int[in];
                boolean trivial = true;
                for (int i = 0; i < in; i++) {
                    idx[i] = gi.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i);
                    if (idx[i] < 0 || idx[i] >= groups) {
                        throw new IllegalArgumentException(base + "g_idx[" + i + "] = " + idx[i] + " is not a group of " + groups);
                    }
                    trivial &= idx[i] == i / g;
                }
                if (!trivial) gidx = Tensor.ofInts(idx, in);
            }
            Tensor scales = ck.tensor(base + "scales");
            return new Int4(codes, scales, zeros, gidx, gidx == null ? g : 0);
        } catch (RuntimeException e) {
            codes.close();
            zeros.close();
            if (gidx != null) gidx.close();
            throw e;
        }
    }

    /** The bytes projection {@code name} takes loaded: its packed parts ({@code packed}, where it {@link #packs}), else dense in dtype. */
    long bytes(SafetensorsCheckpoint ck, String name, boolean packed, DType dtype) {
        long[] s = shapes.get(name);
        if (!packed || !packs(name)) return Math.multiplyExact(Math.multiplyExact(s[0], s[1]), dtype.byteSize());
        String base = weights.get(name);
        long groups = ck.entry(base + "scales").shape()[0];
        long b = ck.entry(base + "qweight").byteSize() + ck.entry(base + "scales").byteSize() + groups * s[0];   // zero points: bytes
        return awq ? b : b + ck.entry(base + "g_idx").byteSize();
    }

    static boolean applies(HfConfig cfg) throws CheckpointException {
        HfConfig q = cfg.object("quantization_config");
        return q != null && (q.string("quant_method", "").equals("awq") || q.string("quant_method", "").equals("gptq"));
    }

    /** The folder's packed projections, checked part for part. */
    static IntQuant of(HfConfig cfg, SafetensorsCheckpoint ck, Path dir) throws CheckpointException {
        HfConfig q = cfg.object("quantization_config");
        boolean awq = q.string("quant_method", "").equals("awq");
        int bits = q.size("bits", 4), group = q.has("group_size") ? (int) q.number("group_size", 128) : 128;
        boolean v1 = true;
        if (awq) {
            String version = q.string("version", "gemm");
            if (!version.equalsIgnoreCase("gemm")) throw q.error("version '" + version + "' is not supported (gemm: AutoAWQ's packing)");
            if (bits != 4) throw q.error("bits " + bits + " is not supported (AWQ packs 4)");
            if (!q.bool("zero_point", true)) throw q.error("zero_point false is not supported (AWQ's gemm folders carry zero points)");
            if (group < 1) throw q.error("group_size " + group + " is not supported (a positive group of input columns)");
        } else {
            if (bits != 4 && bits != 8) throw q.error("bits " + bits + " is not supported (4 or 8: whole codes per int32)");
            if (!q.bool("sym", true)) throw q.error("sym false is not supported (asymmetric GPTQ weights)");
            if (group != -1 && group < 1) throw q.error("group_size " + group + " is not supported (positive, or -1 for one group)");
            String format = q.string("checkpoint_format", "gptq");
            if (!format.equals("gptq") && !format.equals("gptq_v2")) throw q.error("checkpoint_format '" + format + "' is not supported (gptq, gptq_v2)");
            v1 = format.equals("gptq");
        }
        int per = 32 / bits;
        Map<String, String> weights = new TreeMap<>();
        Map<String, long[]> shapes = new TreeMap<>();
        List<String> problems = new ArrayList<>();
        for (String name : ck.names()) {
            if (!name.endsWith(".qweight")) continue;
            String base = name.substring(0, name.length() - "qweight".length());
            List<String> parts = awq ? PARTS.subList(0, 3) : PARTS;
            List<String> missing = parts.stream().filter(p -> !ck.contains(base + p)).toList();
            if (!missing.isEmpty()) {
                problems.add(base + "qweight without " + missing.stream().map(p -> base + p).toList());
                continue;
            }
            if (ck.contains(base + "weight")) problems.add(base + "weight beside " + name);
            long[] qw = ck.entry(name).shape();
            if (qw.length != 2) {
                problems.add(name + " is " + Arrays.toString(qw) + ", not a matrix");
                continue;
            }
            long in = awq ? qw[0] : qw[0] * per, out = awq ? qw[1] * 8 : qw[1];
            int g = group == -1 ? Math.toIntExact(in) : group;
            long groups = Math.ceilDiv(in, g);
            Map<String, long[]> want = new TreeMap<>(Map.of("qzeros", new long[] {groups, out / per}, "scales", new long[] {groups, out}));
            if (!awq) want.put("g_idx", new long[] {in});
            for (var e : want.entrySet()) {
                TensorEntry t = ck.entry(base + e.getKey());
                SafetensorsDType dt = e.getKey().equals("scales") ? SafetensorsDType.F16 : SafetensorsDType.I32;
                if (!Arrays.equals(t.shape(), e.getValue()) || t.dtype() != dt) {
                    problems.add(base + e.getKey() + " is " + t.dtype() + " " + Arrays.toString(t.shape()) + ", expected " + dt + " "
                            + Arrays.toString(e.getValue()) + " for a (" + out + ", " + in + ") weight in groups of " + g);
                }
            }
            if (ck.entry(name).dtype() != SafetensorsDType.I32) problems.add(name + " is " + ck.entry(name).dtype() + ", expected I32");
            if (out % per != 0) problems.add(base + ": " + out + " output columns do not pack " + per + " to an int32");
            weights.put(base + "weight", base);
            shapes.put(base + "weight", new long[] {out, in});
        }
        if (!problems.isEmpty()) throw new CheckpointException(dir, (awq ? "AWQ" : "GPTQ") + " weights: " + String.join("; ", problems));
        return new IntQuant(awq, bits, group, v1, Map.copyOf(weights), Map.copyOf(shapes));
    }

    /** The checkpoint's names as the loader sees them: each packed projection as its {@code .weight}, its parts left out. */
    Set<String> names(SafetensorsCheckpoint ck) {
        Set<String> out = new HashSet<>(weights.keySet());
        for (String n : ck.names()) {
            boolean part = PARTS.stream().anyMatch(p -> n.endsWith("." + p) && weights.containsKey(n.substring(0, n.length() - p.length()) + "weight"));
            if (!part) out.add(n);
        }
        return out;
    }

    /** An entry for each name of {@link #names}: the dequantized weights' as F16 of their (out, in) shape. */
    TensorEntry entry(SafetensorsCheckpoint ck, String name) {
        long[] s = shapes.get(name);
        return s == null ? ck.entry(name) : new TensorEntry(name, SafetensorsDType.F16, s, 0, 2 * s[0] * s[1]);
    }

    /** The projection {@code name} ("….weight") dequantized: a (out, in) F32 host tensor of float16 values. */
    Tensor dequantize(SafetensorsCheckpoint ck, String name) {
        String base = weights.get(name);
        long[] s = shapes.get(name);
        int out = Math.toIntExact(s[0]), in = Math.toIntExact(s[1]), per = 32 / bits, mask = (1 << bits) - 1;
        int g = group == -1 ? in : group;
        MemorySegment qw = ck.segment(base + "qweight"), qz = ck.segment(base + "qzeros");
        float[] scales = ck.tensor(base + "scales").toFloatArray();
        int[] gIdx = new int[in];
        if (awq) {
            for (int i = 0; i < in; i++) gIdx[i] = i / g;
        } else {
            MemorySegment gi = ck.segment(base + "g_idx");
            int groups = Math.toIntExact(Math.ceilDiv(in, g));
            for (int i = 0; i < in; i++) {
                gIdx[i] = gi.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i);
                if (gIdx[i] < 0 || gIdx[i] >= groups) {
                    throw new IllegalArgumentException(base + "g_idx[" + i + "] = " + gIdx[i] + " is not a group of " + groups);
                }
            }
        }
        Tensor w = new CpuBackend().empty(DType.F32, out, in);
        MemorySegment dst = w.hostSegment();
        IntStream.range(0, out).parallel().forEach(o -> {
            for (int i = 0; i < in; i++) {
                int q, z, gr = gIdx[i];
                if (awq) {
                    int word = qw.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, (long) i * (out / 8) + o / 8);
                    int zw = qz.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, (long) gr * (out / 8) + o / 8);
                    int nibble = AWQ_NIBBLE[o % 8];
                    q = (word >>> (4 * nibble)) & 0xF;
                    z = (zw >>> (4 * nibble)) & 0xF;
                } else {
                    int word = qw.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, (long) (i / per) * out + o);
                    int zw = qz.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, (long) gr * (out / per) + o / per);
                    q = (word >>> (bits * (i % per))) & mask;
                    z = ((zw >>> (bits * (o % per))) & mask) + (v1 ? 1 : 0);
                }
                float v = (q - z) * scales[gr * out + o];
                dst.setAtIndex(ValueLayout.JAVA_FLOAT, (long) o * in + i, Half.roundToF16(v));
            }
        });
        return w;
    }
}
