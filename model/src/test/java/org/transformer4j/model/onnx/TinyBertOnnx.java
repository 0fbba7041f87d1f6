// TinyBertOnnx — writes small ONNX files shaped like a torch.onnx BERT export (named embeddings,
// biases and LayerNorms; anonymous [in, out] MatMul weights consumed with their bias by an Add),
// with CodedOutputStream, so the importer's error paths can be tested on graphs we can break at will.
package org.transformer4j.model.onnx;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

final class TinyBertOnnx {

    static final int C = 4, F = 8, V = 10, P = 6, TT = 2;

    record Init(String name, long[] dims, int dataType, byte[] raw, boolean external) {}

    record Node(String name, String op, String domain, List<String> inputs, List<String> outputs) {}

    final Map<String, Init> inits = new LinkedHashMap<>();
    final List<Node> nodes = new ArrayList<>();
    private final Random r = new Random(11);
    private int anon = 100;

    /** A 1-layer BERT graph; {@code scopedNames} gives MatMul nodes torch's /scope/MatMul names. */
    static TinyBertOnnx bert(int layers, boolean scopedNames) {
        TinyBertOnnx b = new TinyBertOnnx();
        b.floats("embeddings.word_embeddings.weight", V, C);
        b.floats("embeddings.position_embeddings.weight", P, C);
        b.floats("embeddings.token_type_embeddings.weight", TT, C);
        b.floats("embeddings.LayerNorm.weight", C);
        b.floats("embeddings.LayerNorm.bias", C);
        b.inits.put("embeddings.position_ids", new Init("embeddings.position_ids", new long[] {1, P}, OnnxModel.INT64, new byte[8 * P], false));
        for (int l = 0; l < layers; l++) {
            String p = "encoder.layer." + l + ".";
            for (String q : List.of("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense")) {
                b.linear(p + q, C, C, scopedNames);
            }
            b.linear(p + "intermediate.dense", C, F, scopedNames);
            b.linear(p + "output.dense", F, C, scopedNames);
            for (String n : List.of("attention.output.LayerNorm", "output.LayerNorm")) {
                b.floats(p + n + ".weight", C);
                b.floats(p + n + ".bias", C);
            }
        }
        return b;
    }

    String floats(String name, long... dims) {
        int n = 1;
        for (long d : dims) n *= (int) d;
        ByteBuffer bb = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) bb.putFloat((float) r.nextGaussian());
        inits.put(name, new Init(name, dims, OnnxModel.FLOAT, bb.array(), false));
        return name;
    }

    /** MatMul(x, W[in, out]) → Add(bias, ·), as torch.onnx exports nn.Linear on a 3-D input. */
    void linear(String module, int in, int out, boolean scopedNames) {
        String w = floats("onnx::MatMul_" + anon++, in, out);
        String bias = floats(module + ".bias", out);
        String scope = "/" + module.replace("encoder.layer.", "encoder/layer.").replace('.', '/').replace("layer/", "layer.");
        String mm = scope + "/MatMul_output_0";
        nodes.add(new Node(scopedNames ? scope + "/MatMul" : "MatMul_" + anon++, "MatMul", "", List.of("x", w), List.of(mm)));
        nodes.add(new Node(scopedNames ? scope + "/Add" : "Add_" + anon++, "Add", "", List.of(bias, mm), List.of(scope + "/Add_output_0")));
    }

    byte[] bytes() {
        try {
            ByteArrayOutputStream graph = new ByteArrayOutputStream();
            CodedOutputStream g = CodedOutputStream.newInstance(graph);
            for (Node n : nodes) g.writeByteArray(1, node(n));
            g.writeString(2, "tiny-bert");
            for (Init i : inits.values()) g.writeByteArray(5, tensor(i));
            g.writeByteArray(11, message(o -> o.writeString(1, "input_ids")));
            g.writeByteArray(12, message(o -> o.writeString(1, "last_hidden_state")));
            g.flush();
            return message(m -> {
                m.writeInt64(1, 8);
                m.writeString(2, "pytorch");
                m.writeByteArray(7, graph.toByteArray());
                m.writeByteArray(8, message(o -> { o.writeString(1, ""); o.writeInt64(2, 14); }));
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    interface Body { void write(CodedOutputStream o) throws IOException; }

    static byte[] message(Body body) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CodedOutputStream o = CodedOutputStream.newInstance(bytes);
        body.write(o);
        o.flush();
        return bytes.toByteArray();
    }

    private static byte[] node(Node n) throws IOException {
        return message(o -> {
            for (String i : n.inputs()) o.writeString(1, i);
            for (String x : n.outputs()) o.writeString(2, x);
            o.writeString(3, n.name());
            o.writeString(4, n.op());
            if (!n.domain().isEmpty()) o.writeString(7, n.domain());
        });
    }

    private static byte[] tensor(Init i) throws IOException {
        return message(o -> {
            if (i.dims().length == 2) {
                // Matrix dims packed, vector dims one tag each: both encodings of a repeated int64 are legal.
                o.writeByteArray(1, message(p -> { for (long d : i.dims()) p.writeInt64NoTag(d); }));
            } else {
                for (long d : i.dims()) o.writeInt64(1, d);
            }
            o.writeInt32(2, i.dataType());
            o.writeString(8, i.name());
            if (i.dataType() == OnnxModel.FLOAT && i.name().endsWith(".bias")) {
                // Biases as float_data (packed field 4), the other way exporters store floats, so both paths are read.
                java.nio.FloatBuffer fb = ByteBuffer.wrap(i.raw()).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
                byte[] packed = message(p -> { while (fb.hasRemaining()) p.writeFloatNoTag(fb.get()); });
                o.writeByteArray(4, packed);
            } else {
                o.writeBytes(9, ByteString.copyFrom(i.raw()));
            }
            if (i.external()) o.writeEnum(14, 1);
        });
    }
}
