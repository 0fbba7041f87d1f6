// BertOnnxImporterTest — the importer on small synthetic BERT graphs: names and transpositions,
// and every way a graph can be unsupported or broken (fused, quantized, fp16, external data,
// missing / unexpected keys, wrong shapes, unnamed weights, damaged protobuf) rejected with an
// OnnxFormatException naming the file and the reason, never an unchecked exception.
package org.transformer4j.model.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BertOnnxImporterTest {

    @TempDir Path dir;

    private Path write(TinyBertOnnx b) throws IOException {
        Path p = dir.resolve("model.onnx");
        Files.write(p, b.bytes());
        return p;
    }

    @Test
    void namesAndTransposesLikeHuggingFace() throws IOException {
        for (boolean scoped : new boolean[] {true, false}) {
            TinyBertOnnx b = TinyBertOnnx.bert(2, scoped);
            try (BertOnnxImporter.Result r = BertOnnxImporter.importFile(write(b))) {
                assertEquals(new BertOnnxImporter.BertDims(2, TinyBertOnnx.C, TinyBertOnnx.F, TinyBertOnnx.V, TinyBertOnnx.P,
                        TinyBertOnnx.TT, false), r.dims());
                assertEquals(5 + 2 * 16, r.weights().size());
                assertEquals(12, r.transposed().size());
                String key = "encoder.layer.1.intermediate.dense.weight";
                TinyBertOnnx.Init raw = b.inits.get(r.sources().get(key));
                float[] in = new float[TinyBertOnnx.C * TinyBertOnnx.F];
                ByteBuffer.wrap(raw.raw()).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(in);   // (C, F)
                float[] hf = r.weights().get(key).toFloatArray();                                             // (F, C)
                assertEquals(List.of((long) TinyBertOnnx.F, (long) TinyBertOnnx.C),
                        Arrays.stream(r.weights().get(key).shape()).boxed().toList());
                for (int i = 0; i < TinyBertOnnx.C; i++) {
                    for (int o = 0; o < TinyBertOnnx.F; o++) assertEquals(in[i * TinyBertOnnx.F + o], hf[o * TinyBertOnnx.C + i], 0f);
                }
                // Biases were written as float_data, weights as raw_data: both arrive with their values.
                TinyBertOnnx.Init bias = b.inits.get("encoder.layer.1.output.dense.bias");
                float[] want = new float[TinyBertOnnx.C];
                ByteBuffer.wrap(bias.raw()).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(want);
                org.junit.jupiter.api.Assertions.assertArrayEquals(want, r.weights().get("encoder.layer.1.output.dense.bias").toFloatArray());
                assertEquals("unknown", r.activation(), "no Erf, Tanh or Relu in this graph");
                assertTrue(r.headSize().isEmpty());
            }
        }
    }

    private void assertRejected(TinyBertOnnx b, String reason) throws IOException {
        Path p = write(b);
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> BertOnnxImporter.importFile(p));
        assertTrue(e.getMessage().startsWith(p + ": ") && e.getMessage().contains(reason), e.getMessage());
    }

    private static TinyBertOnnx bert(Consumer<TinyBertOnnx> change) {
        TinyBertOnnx b = TinyBertOnnx.bert(1, true);
        change.accept(b);
        return b;
    }

    @Test
    void unsupportedGraphsAreRejectedWithTheReason() throws IOException {
        assertRejected(bert(b -> b.nodes.add(new TinyBertOnnx.Node("fused", "SkipLayerNormalization", "com.microsoft",
                List.of("x"), List.of("y")))), "fused graph (SkipLayerNormalization");
        assertRejected(bert(b -> b.nodes.add(new TinyBertOnnx.Node("fa", "Attention", "com.microsoft", List.of("x"), List.of("y")))),
                "fused graph (Attention");
        assertRejected(bert(b -> b.nodes.add(new TinyBertOnnx.Node("dq", "DequantizeLinear", "", List.of("x"), List.of("y")))),
                "quantized graph (DequantizeLinear)");
        assertRejected(bert(b -> b.nodes.add(new TinyBertOnnx.Node("mmi", "MatMulInteger", "", List.of("x"), List.of("y")))),
                "quantized graph (MatMulInteger)");
        assertRejected(bert(b -> retype(b, "onnx::MatMul_100", OnnxModel.FLOAT16, false)), "is fp16; this importer reads fp32 exports");
        assertRejected(bert(b -> retype(b, "onnx::MatMul_100", OnnxModel.INT8, false)), "is 8-bit (quantized)");
        assertRejected(bert(b -> retype(b, "embeddings.LayerNorm.bias", OnnxModel.FLOAT, true)), "stored as external data");
    }

    private static void retype(TinyBertOnnx b, String name, int type, boolean external) {
        TinyBertOnnx.Init i = b.inits.get(name);
        b.inits.put(name, new TinyBertOnnx.Init(name, i.dims(), type, i.raw(), external));
    }

    @Test
    void keySetAndShapeErrorsListWhatIsWrong() throws IOException {
        assertRejected(bert(b -> b.inits.remove("encoder.layer.0.output.LayerNorm.bias")),
                "missing [encoder.layer.0.output.LayerNorm.bias], unexpected []");
        assertRejected(bert(b -> b.floats("encoder.layer.0.attention.self.extra", 4)),
                "missing [], unexpected [encoder.layer.0.attention.self.extra]");
        assertRejected(bert(b -> b.floats("encoder.layer.2.output.dense.bias", 4)), "missing [encoder.layer.1.");
        assertRejected(bert(b -> b.floats("pooler.dense.bias", 4)), "missing [pooler.dense.weight]");
        assertRejected(bert(b -> b.floats("encoder.layer.0.output.LayerNorm.weight", 5)),
                "wrong shapes: encoder.layer.0.output.LayerNorm.weight is [5], expected [4]");
        assertRejected(bert(b -> b.floats("embeddings.LayerNorm.weight", 2, 2)), "embeddings.LayerNorm.weight is [2, 2]");
        assertRejected(bert(b -> b.inits.remove("embeddings.word_embeddings.weight")), "not a BERT export");
        assertRejected(bert(b -> b.floats("some.other.weight", 8, 8)), "'some.other.weight' [8, 8] is not a BERT parameter");
        // A MatMul weight with neither a named bias nor a scope in its node's name cannot be named.
        assertRejected(bert(b -> {
            String w = b.floats("onnx::MatMul_999", 4, 4);
            b.nodes.add(new TinyBertOnnx.Node("MatMul_999", "MatMul", "", List.of("x", w), List.of("z")));
        }), "cannot name weight 'onnx::MatMul_999'");
    }

    @Test
    void nodesWithoutInputsOrOutputsAreNotAProblem() throws IOException {
        TinyBertOnnx b = TinyBertOnnx.bert(1, true);
        b.nodes.add(new TinyBertOnnx.Node("s", "Softmax", "", List.of(), List.of("p")));
        b.nodes.add(new TinyBertOnnx.Node("q", "Sqrt", "", List.of(), List.of("r")));
        b.nodes.add(new TinyBertOnnx.Node("m", "MatMul", "", List.of("x", "onnx::MatMul_100"), List.of()));
        try (BertOnnxImporter.Result r = BertOnnxImporter.importFile(write(b))) {
            assertEquals(5 + 16, r.weights().size());
        }
    }

    @Test
    void notOnnxAtAll() throws IOException {
        Path p = dir.resolve("x.onnx");
        Files.writeString(p, "definitely not a protobuf \u0000\u00ff");
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> BertOnnxImporter.importFile(p));
        assertTrue(e.getMessage().startsWith(p + ": "), e.getMessage());
        Files.write(p, new byte[0]);
        e = assertThrows(OnnxFormatException.class, () -> BertOnnxImporter.importFile(p));
        assertTrue(e.getMessage().contains("no graph"), e.getMessage());
        Path absent = dir.resolve("absent.onnx");
        e = assertThrows(OnnxFormatException.class, () -> BertOnnxImporter.importFile(absent));
        assertTrue(e.getMessage().startsWith(absent + ": cannot read"), e.getMessage());
    }

    /** Imports {@code bytes}: either it works or it is an OnnxFormatException naming the file. */
    private boolean importOrReject(byte[] bytes, String label) throws IOException {
        Path p = dir.resolve("fuzz.onnx");
        Files.write(p, bytes);
        try {
            BertOnnxImporter.importFile(p).close();
            return false;
        } catch (OnnxFormatException e) {
            assertTrue(e.getMessage().startsWith(p + ": "), label + ": " + e.getMessage());
            return true;
        } catch (RuntimeException | Error e) {
            fail(label + ": unchecked " + e, e);
            return true;
        }
    }

    @Test
    void damagedFilesNeverEscapeAsUncheckedExceptions() throws IOException {
        byte[] valid = TinyBertOnnx.bert(1, false).bytes();
        for (int len = 0; len < valid.length; len += 7) importOrReject(Arrays.copyOf(valid, len), "truncated to " + len);
        int rejected = 0;
        for (int seed = 0; seed < 300; seed++) {
            Random r = new Random(seed);
            byte[] b = valid.clone();
            for (int k = 0, n = 1 + r.nextInt(4); k < n; k++) b[r.nextInt(b.length)] = (byte) r.nextInt(256);
            if (importOrReject(b, "seed " + seed)) rejected++;
        }
        assertTrue(rejected > 30, "only " + rejected + " of 300 damaged files were rejected");
    }
}
