// Fp8Test — fine-grained FP8 folders (quant_method fp8): the e4m3fn values against the OCP FP8 specification's table,
// the dequantized weights against the codes and scales read from the file, and broken folders refused by name. The
// fixture's logits and greedy run against the float64 harness are ReferenceFixturesTest's (ropeDecoderMatchesTheReference,
// "qwen3-fp8") and DecoderCacheTest's.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.SafetensorsCheckpoint;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;

class Fp8Test {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String Q = "model.layers.0.self_attn.q_proj.weight";

    /** Values from the OCP 8-bit floating point specification (E4M3): max normal 448, min normal 2^-6, min subnormal 2^-9. */
    @Test
    void e4m3ValuesAreTheSpecifications() {
        float[] t = Fp8.E4M3;
        assertEquals(448f, t[0x7E]);
        assertEquals(-448f, t[0xFE]);
        assertEquals(0x1p-6f, t[0x08]);
        assertEquals(0x1p-9f, t[0x01]);
        assertEquals(7 * 0x1p-9f, t[0x07]);                    // the largest subnormal, 0.875 · 2^-6
        assertEquals(1f, t[0x38]);
        assertEquals(1.875f, t[0x3F]);
        assertEquals(240f, t[0x77]);
        assertEquals(0f, t[0x00]);
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(t[0x80]));
        assertTrue(Float.isNaN(t[0x7F]) && Float.isNaN(t[0xFF]), "S.1111.111 is NaN (no infinities in e4m3fn)");
        for (int c = 1; c < 0x7F; c++) {
            assertTrue(t[c] > t[c - 1], "codes 0x00..0x7E increase");
            assertEquals(-t[c], t[c | 0x80], "the sign bit");
        }
    }

    /** Each loaded projection is code · its block's scale in float32 (rows / 16, columns / 32 in the fixture). */
    @Test
    void dequantizedWeightsAreCodeTimesTheirBlocksScale() throws Exception {
        Path dir = ReferenceFixturesTest.Fixture.open("qwen3-fp8").dir();
        try (SafetensorsCheckpoint ck = SafetensorsCheckpoint.open(dir)) {
            Fp8 fp8 = Fp8.of(org.transformer4j.model.weights.HfConfig.read(dir.resolve("config.json")), ck, dir, "qwen3");
            assertEquals(16, fp8.blockRows);
            assertEquals(32, fp8.blockCols);
            assertEquals(2 * 7, fp8.weights.size(), "q, k, v, o, gate, up, down of two layers");
            byte[] codes = ck.segment(Q).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            float[] scales = ck.tensor(Q + "_scale_inv").toFloatArray();             // (128 / 16, 64 / 32) = (8, 2)
            assertEquals(16, scales.length);
            try (Tensor w = fp8.dequantize(ck, Q)) {
                float[] got = w.toFloatArray();
                for (int i = 0; i < 128; i++) {
                    for (int j = 0; j < 64; j++) {
                        int c = codes[i * 64 + j] & 0xFF;
                        int e = (c >> 3) & 15, m = c & 7;
                        double v = (e == 0 ? m / 8.0 * Math.pow(2, -6) : (1 + m / 8.0) * Math.pow(2, e - 7)) * ((c & 0x80) != 0 ? -1 : 1);
                        assertEquals((float) v * scales[(i / 16) * 2 + j / 32], got[i * 64 + j], "row " + i + " column " + j);
                    }
                }
            }
        }
        // in BF16 the model holds those products rounded once more, as transformers' (q · s).to(bfloat16)
        try (Weights w = Pretrained.load(dir, new CpuBackend(), DType.BF16)) {
            assertEquals(DType.BF16, w.decoder.layers().get(0).mlp().down().dtype());
        }
    }

    /**
     * compressed-tensors (llama-fp8-dynamic: a BF16 weight_scale per output row; mistral-fp8-static: one per tensor, and a
     * static input_scale read past): code · scale rounded to BF16, as compressed_tensors' dequantize multiplies in the
     * scale's dtype (the rounding is computed here from the bits, not with Half).
     */
    @Test
    void compressedTensorsWeightsAreCodeTimesScaleRoundedToTheScalesDtype() throws Exception {
        for (String name : new String[] {"llama-fp8-dynamic", "mistral-fp8-static"}) {
            Path dir = ReferenceFixturesTest.Fixture.open(name).dir();
            try (SafetensorsCheckpoint ck = SafetensorsCheckpoint.open(dir)) {
                Fp8 fp8 = Fp8.of(org.transformer4j.model.weights.HfConfig.read(dir.resolve("config.json")), ck, dir, "llama");
                boolean channel = name.startsWith("llama");
                assertEquals(channel ? Fp8.Strategy.CHANNEL : Fp8.Strategy.TENSOR, fp8.strategy, name);
                assertEquals(2 * 7, fp8.weights.size(), name);
                assertEquals(channel ? 0 : 2 * 7, ck.names().stream().filter(k -> k.endsWith(".input_scale")).count(), name);
                String k = "model.layers.1.mlp.down_proj.weight";                                   // (32, 64)
                byte[] codes = ck.segment(k).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                float[] scales = ck.tensor(k + "_scale").toFloatArray();
                assertEquals(channel ? 32 : 1, scales.length, name);
                int nonBf16Products = 0;
                try (Tensor w = fp8.dequantize(ck, k)) {
                    float[] got = w.toFloatArray();
                    for (int i = 0; i < 32; i++) {
                        for (int j = 0; j < 64; j++) {
                            float exact = Fp8.E4M3[codes[i * 64 + j] & 0xFF] * scales[channel ? i : 0];
                            int bits = Float.floatToRawIntBits(exact);
                            int lower = bits & 0xFFFF, up = bits & 0xFFFF0000;
                            if (lower != 0) nonBf16Products++;
                            // to nearest, ties to the even upper half
                            float want = Float.intBitsToFloat(lower > 0x8000 || lower == 0x8000 && (up & 0x10000) != 0 ? up + 0x10000 : up);
                            assertEquals(want, got[i * 64 + j], name + " row " + i + " column " + j);
                        }
                    }
                }
                assertTrue(nonBf16Products > 100, name + ": the products need the rounding (" + nonBf16Products + " of 2048)");
            }
        }
    }

    @Test
    void brokenFoldersAreRefusedByName(@TempDir Path tmp) throws Exception {
        refused(tmp, "a", c -> ((ObjectNode) c.get("quantization_config")).put("quant_method", "bitsandbytes"), h -> {},
                "quant_method 'bitsandbytes' is not supported");
        refused(tmp, "b", c -> ((ObjectNode) c.get("quantization_config")).put("fmt", "e5m2"), h -> {}, "fmt 'e5m2' is not supported");
        refused(tmp, "c", c -> ((ObjectNode) c.get("quantization_config")).put("activation_scheme", "static"), h -> {},
                "activation_scheme 'static' is not supported");
        refused(tmp, "d", c -> ((ArrayNode) c.get("quantization_config").get("weight_block_size")).remove(1), h -> {},
                "weight_block_size [16.0] is not two positive integers");
        // [32, 16] read as rows / columns: q_proj's (8, 2) scales are not (4, 4)
        refused(tmp, "e", c -> {
            ArrayNode b = (ArrayNode) c.get("quantization_config").get("weight_block_size");
            b.removeAll();
            b.add(32).add(16);
        }, h -> {}, Q + "_scale_inv is [8, 2], expected [4, 4]");
        refused(tmp, "f", c -> {}, h -> h.set(Q + "_scale_inv_renamed", h.remove(Q + "_scale_inv")), "is F8_E4M3 without its " + Q + "_scale_inv");
        refused(tmp, "g", c -> {}, h -> ((ObjectNode) h.get(Q + "_scale_inv")).putArray("shape").add(4).add(4), Q + "_scale_inv is [4, 4], expected [8, 2]");
        refused(tmp, "h", c -> c.remove("quantization_config"), h -> {}, Q + " has dtype F8_E4M3, expected F32, F16 or BF16");
        refused(tmp, "i", c -> c.put("model_type", "phi3"), h -> {}, "FP8 weights are not supported for phi3");
        // compressed-tensors
        String d = "model.layers.0.mlp.down_proj.weight";
        java.util.function.Function<ObjectNode, ObjectNode> weights = c -> (ObjectNode) c.get("quantization_config").get("config_groups")
                .get("group_0").get("weights");
        refusedCt(tmp, "j", c -> ((ObjectNode) c.get("quantization_config")).put("format", "pack-quantized"), h -> {},
                "format 'pack-quantized' is not supported");
        refusedCt(tmp, "k", c -> weights.apply(c).put("strategy", "group"), h -> {}, "strategy 'group' is not supported");
        refusedCt(tmp, "l", c -> weights.apply(c).put("num_bits", 4).put("type", "int"), h -> {}, "num_bits 4 type 'int' is not supported");
        refusedCt(tmp, "m", c -> weights.apply(c).put("symmetric", false), h -> {}, "asymmetric weights are not supported");
        refusedCt(tmp, "n", c -> ((ObjectNode) c.get("quantization_config")).putObject("kv_cache_scheme").put("num_bits", 8), h -> {},
                "kv_cache_scheme is not supported");
        refusedCt(tmp, "o", c -> {}, h -> h.set(d + "_scale_renamed", h.remove(d + "_scale")), d + " is F8_E4M3 without its " + d + "_scale");
        refusedCt(tmp, "p", c -> weights.apply(c).put("strategy", "tensor"), h -> {}, d + "_scale is [32, 1], expected [1] (one scale of [32, 64])");
    }

    private static void refusedCt(Path tmp, String name, Consumer<ObjectNode> config, Consumer<ObjectNode> header, String message) throws Exception {
        refused("llama-fp8-dynamic", tmp, name, config, header, message);
    }

    private static void refused(Path tmp, String name, Consumer<ObjectNode> config, Consumer<ObjectNode> header, String message) throws Exception {
        refused("qwen3-fp8", tmp, name, config, header, message);
    }

    static void refused(String fixture, Path tmp, String name, Consumer<ObjectNode> config, Consumer<ObjectNode> header,
                                String message) throws Exception {
        Path from = ReferenceFixturesTest.Fixture.open(fixture).dir(), dir = tmp.resolve(name);
        Files.createDirectories(dir);
        ObjectNode c = (ObjectNode) JSON.readTree(from.resolve("config.json").toFile());
        config.accept(c);
        Files.writeString(dir.resolve("config.json"), JSON.writeValueAsString(c));
        rewriteHeader(from.resolve("model.safetensors"), dir.resolve("model.safetensors"), header);
        Exception e = assertThrows(Exception.class, () -> Pretrained.load(dir, new CpuBackend()).close(), name);
        assertTrue(e instanceof CheckpointException || e instanceof IOException, name + ": " + e);
        assertTrue(e.getMessage().contains(message), name + ": " + e.getMessage());
    }

    /** A copy of a safetensors file with its JSON header changed (offsets untouched, so renames and equal-size reshapes only). */
    private static void rewriteHeader(Path from, Path to, Consumer<ObjectNode> change) throws IOException {
        byte[] all = Files.readAllBytes(from);
        long n = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        ObjectNode h = (ObjectNode) JSON.readTree(new String(all, 8, (int) n, StandardCharsets.UTF_8));
        change.accept(h);
        byte[] text = JSON.writeValueAsBytes(h);
        int padded = (text.length + 7) / 8 * 8;
        ByteBuffer out = ByteBuffer.allocate(8 + padded + all.length - 8 - (int) n).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(text);
        for (int i = text.length; i < padded; i++) out.put((byte) ' ');
        out.put(all, 8 + (int) n, all.length - 8 - (int) n);
        Files.write(to, out.array());
    }
}
