// BertOnnxImporter — imports the weights of a BERT-family ONNX export (BertModel as exported by
// torch.onnx / optimum: unfused fp32 graph) as a key-for-key map in Hugging Face's BertModel
// layout, so the same loader code serves safetensors checkpoints and ONNX files.
package org.transformer4j.model.onnx;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.transformer4j.runtime.Tensor;

/**
 * Reads a BERT ONNX export and names every weight as Hugging Face's {@code BertModel.state_dict()} does.
 *
 * <p>How weights are found: torch.onnx keeps parameter names for initializers it uses directly
 * (embeddings, biases, LayerNorm), but the Linear weights become anonymous initializers
 * ({@code onnx::MatMul_787}) stored transposed, [in, out], as the B input of a MatMul. Each such
 * MatMul is named through its bias: the Add that consumes the MatMul's output together with the
 * initializer {@code <prefix>.bias} names the weight {@code <prefix>.weight}. Where there is no
 * bias Add, the node's scope name is used ({@code /encoder/layer.0/attention/self/query/MatMul} →
 * {@code encoder.layer.0.attention.self.query}). A Gemm's B is used as stored when transB=1.
 * A leading {@code bert.} is dropped (exports of BertFor* models).
 *
 * <p>Transposed tensors (MatMul weights, [in, out] in ONNX → [out, in] as torch.nn.Linear stores them),
 * per layer: {@link #TRANSPOSED}, and {@code pooler.dense.weight} when the export has a pooler.
 *
 * <p>Rejected with the reason: fused graphs (ONNX Runtime's com.microsoft ops such as Attention,
 * SkipLayerNormalization, EmbedLayerNormalization, FastGelu, BiasGelu), quantized graphs
 * (QuantizeLinear, DequantizeLinear, MatMulInteger, QLinearMatMul, MatMulNBits, ... or int8 weights),
 * non-fp32 weights, weights kept as external data, and any key set other than BertModel's
 * (the error lists missing and unexpected keys), or a shape other than the one the dimensions imply.
 */
public final class BertOnnxImporter {

    /** Per-layer Linear weights that ONNX MatMul stores [in, out] and Hugging Face stores [out, in]. */
    public static final List<String> TRANSPOSED = List.of(
            "attention.self.query.weight", "attention.self.key.weight", "attention.self.value.weight",
            "attention.output.dense.weight", "intermediate.dense.weight", "output.dense.weight");

    private static final Set<String> FUSED = Set.of("Attention", "MultiHeadAttention", "SkipLayerNormalization",
            "EmbedLayerNormalization", "FastGelu", "BiasGelu", "Gelu", "BiasAdd", "SkipSimplifiedLayerNormalization",
            "GroupQueryAttention", "PackedAttention", "RotaryEmbedding");
    private static final Set<String> QUANTIZED = Set.of("QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear",
            "MatMulInteger", "QLinearMatMul", "MatMulNBits", "QAttention", "QGemm", "DynamicQuantizeMatMul",
            "MatMulIntegerToFloat", "QOrderedMatMul");

    private static final Pattern LAYER = Pattern.compile("encoder\\.layer\\.(\\d+)\\.(.+)");
    private static final Pattern SCOPE = Pattern.compile("^/(.+)/(MatMul|Gemm)(_\\d+)?$");

    private BertOnnxImporter() {}

    /** Sizes read off the weights. Heads are not a weight shape: see {@link Result#headSize()}. */
    public record BertDims(int layers, int hidden, int intermediate, int vocab, int maxPositions, int typeVocab,
                           boolean pooler) {}

    /**
     * The imported weights (fp32 host tensors in Hugging Face layout, each owned by the caller), the
     * dimensions, which keys were transposed, where each key came from (its ONNX initializer), and what
     * the graph says about the architecture: the activation ("gelu" when it computes erf, i.e. exact GELU;
     * "gelu_tanh"; "relu"; "unknown"), the LayerNorm epsilon and the attention head size (from the
     * scale applied to the scores), when the graph shows them.
     */
    public record Result(Map<String, Tensor> weights, BertDims dims, List<String> transposed, Map<String, String> sources,
                         String activation, OptionalDouble layerNormEps, OptionalInt headSize) implements AutoCloseable {
        public OptionalInt heads() {
            return headSize.isPresent() && dims.hidden() % headSize.getAsInt() == 0
                    ? OptionalInt.of(dims.hidden() / headSize.getAsInt()) : OptionalInt.empty();
        }

        @Override
        public void close() { weights.values().forEach(Tensor::close); }
    }

    public static Result importFile(Path onnx) throws IOException {
        return importModel(OnnxModel.read(onnx));
    }

    public static Result importModel(OnnxModel m) throws OnnxFormatException {
        String src = m.source();
        checkSupported(m);
        Map<String, OnnxModel.Node> producer = new HashMap<>();
        Map<String, List<OnnxModel.Node>> consumers = new HashMap<>();
        for (OnnxModel.Node n : m.nodes()) {
            for (String o : n.outputs()) producer.put(o, n);
            for (String i : n.inputs()) consumers.computeIfAbsent(i, k -> new ArrayList<>()).add(n);
        }

        Map<String, Tensor> out = new TreeMap<>();
        Map<String, String> sources = new TreeMap<>();
        List<String> transposed = new ArrayList<>();
        Set<String> used = new LinkedHashSet<>();
        boolean ok = false;
        try {
            // 1. Linear weights: the B input of MatMul / Gemm nodes.
            for (OnnxModel.Node n : m.nodes()) {
                if (!n.opType().equals("MatMul") && !n.opType().equals("Gemm")) continue;
                if (n.inputs().size() < 2 || n.outputs().isEmpty()) continue;
                OnnxModel.Initializer w = m.initializers().get(n.inputs().get(1));
                if (w == null) continue;                          // activations × activations (attention scores)
                if (w.dims().length != 2) {
                    throw new OnnxFormatException(src, "weight " + w + " of node '" + n.name() + "' is not a matrix");
                }
                String prefix = linearPrefix(m, n, consumers);
                if (prefix == null) {
                    throw new OnnxFormatException(src, "cannot name weight '" + w.name() + "' " + Arrays.toString(w.dims())
                            + " of node '" + n.name() + "': no bias Add with a named bias and no scope in the node name");
                }
                long[] transB = n.ints().get("transB");
                boolean gemmTransposed = n.opType().equals("Gemm") && transB != null && transB.length == 1 && transB[0] == 1;
                String key = prefix + ".weight";
                put(src, out, sources, key, w, !gemmTransposed);
                if (!gemmTransposed) transposed.add(key);
                used.add(w.name());
            }
            // 2. Initializers that carry their parameter name.
            for (OnnxModel.Initializer init : m.initializers().values()) {
                if (used.contains(init.name())) continue;
                String key = hfName(init.name());
                if (key.endsWith("position_ids") || key.endsWith("token_type_ids")) continue;   // buffers, not parameters
                if (key.startsWith("embeddings.") || key.startsWith("encoder.") || key.startsWith("pooler.")) {
                    put(src, out, sources, key, init, false);
                } else if (init.numel() > 16) {
                    throw new OnnxFormatException(src, "initializer '" + init.name() + "' " + Arrays.toString(init.dims())
                            + " is not a BERT parameter this importer can name");
                }
                // else: a small graph constant (a scalar, a shape), not a weight
            }
            BertDims dims = checkKeysAndShapes(src, out);
            transposed.sort(null);
            Result r = new Result(java.util.Collections.unmodifiableMap(new LinkedHashMap<>(out)), dims, List.copyOf(transposed),
                    java.util.Collections.unmodifiableMap(sources), activation(m), layerNormEps(m, producer), headSize(m, producer));
            ok = true;
            return r;
        } catch (ArithmeticException | IllegalArgumentException e) {
            throw new OnnxFormatException(src, "bad initializer: " + e.getMessage(), e);
        } finally {
            if (!ok) out.values().forEach(Tensor::close);
        }
    }

    private static void checkSupported(OnnxModel m) throws OnnxFormatException {
        Set<String> fused = new TreeSet<>();
        Set<String> quantized = new TreeSet<>();
        for (OnnxModel.Node n : m.nodes()) {
            if (QUANTIZED.contains(n.opType())) quantized.add(n.opType());
            else if (FUSED.contains(n.opType()) || n.domain().equals("com.microsoft")) fused.add(n.opType());
        }
        if (!quantized.isEmpty()) {
            throw new OnnxFormatException(m.source(), "quantized graph (" + String.join(", ", quantized)
                    + "): this importer reads unquantized fp32 exports");
        }
        if (!fused.isEmpty()) {
            throw new OnnxFormatException(m.source(), "fused graph (" + String.join(", ", fused)
                    + " from ONNX Runtime's optimizer): this importer reads unfused exports, where every weight is an input of a "
                    + "MatMul, Add, Mul or Gather");
        }
    }

    /** The Hugging Face module path of a Linear's MatMul/Gemm node, or null. */
    private static String linearPrefix(OnnxModel m, OnnxModel.Node n, Map<String, List<OnnxModel.Node>> consumers) {
        if (n.opType().equals("Gemm") && n.inputs().size() > 2 && n.inputs().get(2).endsWith(".bias")) {
            return stripBias(n.inputs().get(2));
        }
        for (OnnxModel.Node c : consumers.getOrDefault(n.outputs().get(0), List.of())) {
            if (!c.opType().equals("Add")) continue;
            for (String in : c.inputs()) {
                if (m.initializers().containsKey(in) && in.endsWith(".bias")) return stripBias(in);
            }
        }
        Matcher s = SCOPE.matcher(n.name());
        if (s.matches()) return hfName(s.group(1).replace('/', '.'));
        return null;
    }

    private static String stripBias(String bias) { return hfName(bias.substring(0, bias.length() - ".bias".length())); }

    private static String hfName(String onnxName) {
        return onnxName.startsWith("bert.") ? onnxName.substring("bert.".length()) : onnxName;
    }

    /** Copies an FLOAT initializer into a host tensor, transposing a matrix when asked. */
    private static void put(String src, Map<String, Tensor> out, Map<String, String> sources, String key,
                            OnnxModel.Initializer init, boolean transpose) throws OnnxFormatException {
        if (init.external()) {
            throw new OnnxFormatException(src, "initializer '" + init.name() + "' (" + key + ") is stored as external data, "
                    + "which this importer does not read");
        }
        if (init.dataType() != OnnxModel.FLOAT) {
            String what = switch (init.dataType()) {
                case OnnxModel.FLOAT16 -> "fp16";
                case OnnxModel.BFLOAT16 -> "bf16";
                case OnnxModel.INT8, OnnxModel.UINT8 -> "8-bit (quantized)";
                default -> "ONNX data type " + init.dataType();
            };
            throw new OnnxFormatException(src, "initializer '" + init.name() + "' (" + key + ") is " + what
                    + "; this importer reads fp32 exports");
        }
        long n = init.numel();
        if (init.data().remaining() != Math.multiplyExact(n, 4L)) {
            throw new OnnxFormatException(src, "initializer '" + init.name() + "' " + Arrays.toString(init.dims()) + " holds "
                    + init.data().remaining() + " bytes, expected " + 4 * n);
        }
        if (out.containsKey(key)) {
            throw new OnnxFormatException(src, "two initializers map to '" + key + "': '" + sources.get(key) + "' and '"
                    + init.name() + "'");
        }
        FloatBuffer fb = init.data().duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        float[] v = new float[Math.toIntExact(n)];
        fb.get(v);
        long[] d = init.dims();
        Tensor t;
        if (transpose) {
            int rows = Math.toIntExact(d[0]);
            int cols = Math.toIntExact(d[1]);
            float[] tv = new float[v.length];
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) tv[c * rows + r] = v[r * cols + c];
            }
            t = Tensor.ofFloats(tv, cols, rows);     // (out, in) from (in, out)
        } else {
            t = Tensor.ofFloats(v, d);
        }
        out.put(key, t);
        sources.put(key, init.name());
    }

    /** The expected BertModel keys and shapes for the sizes the embeddings imply; lists what is missing or unexpected. */
    private static BertDims checkKeysAndShapes(String src, Map<String, Tensor> w) throws OnnxFormatException {
        Tensor word = w.get("embeddings.word_embeddings.weight");
        Tensor inter = w.get("encoder.layer.0.intermediate.dense.bias");
        if (word == null || word.rank() != 2 || inter == null || inter.rank() != 1) {
            throw new OnnxFormatException(src, "not a BERT export: no embeddings.word_embeddings.weight [V, C] or "
                    + "encoder.layer.0.intermediate.dense.bias [F]; found " + new TreeSet<>(w.keySet()));
        }
        int layers = 0;
        for (String k : w.keySet()) {
            Matcher mm = LAYER.matcher(k);
            if (mm.matches()) layers = Math.max(layers, Integer.parseInt(mm.group(1)) + 1);
        }
        long c = word.shape(1);
        long f = inter.shape(0);
        Tensor pos = w.get("embeddings.position_embeddings.weight");
        Tensor typ = w.get("embeddings.token_type_embeddings.weight");
        boolean pooler = w.keySet().stream().anyMatch(k -> k.startsWith("pooler."));
        Map<String, long[]> expected = new LinkedHashMap<>();
        expected.put("embeddings.word_embeddings.weight", new long[] {word.shape(0), c});
        expected.put("embeddings.position_embeddings.weight", new long[] {pos == null ? -1 : pos.shape(0), c});
        expected.put("embeddings.token_type_embeddings.weight", new long[] {typ == null ? -1 : typ.shape(0), c});
        expected.put("embeddings.LayerNorm.weight", new long[] {c});
        expected.put("embeddings.LayerNorm.bias", new long[] {c});
        for (int l = 0; l < layers; l++) {
            String p = "encoder.layer." + l + ".";
            for (String q : List.of("query", "key", "value")) {
                expected.put(p + "attention.self." + q + ".weight", new long[] {c, c});
                expected.put(p + "attention.self." + q + ".bias", new long[] {c});
            }
            expected.put(p + "attention.output.dense.weight", new long[] {c, c});
            expected.put(p + "attention.output.dense.bias", new long[] {c});
            expected.put(p + "attention.output.LayerNorm.weight", new long[] {c});
            expected.put(p + "attention.output.LayerNorm.bias", new long[] {c});
            expected.put(p + "intermediate.dense.weight", new long[] {f, c});
            expected.put(p + "intermediate.dense.bias", new long[] {f});
            expected.put(p + "output.dense.weight", new long[] {c, f});
            expected.put(p + "output.dense.bias", new long[] {c});
            expected.put(p + "output.LayerNorm.weight", new long[] {c});
            expected.put(p + "output.LayerNorm.bias", new long[] {c});
        }
        if (pooler) {
            expected.put("pooler.dense.weight", new long[] {c, c});
            expected.put("pooler.dense.bias", new long[] {c});
        }
        Set<String> missing = new TreeSet<>(expected.keySet());
        missing.removeAll(w.keySet());
        Set<String> unexpected = new TreeSet<>(w.keySet());
        unexpected.removeAll(expected.keySet());
        if (!missing.isEmpty() || !unexpected.isEmpty()) {
            throw new OnnxFormatException(src, "weights do not match BertModel (" + layers + " layers): missing " + missing
                    + ", unexpected " + unexpected);
        }
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            long[] got = w.get(e.getKey()).shape();
            if (!Arrays.equals(got, e.getValue())) {
                wrong.add(e.getKey() + " is " + Arrays.toString(got) + ", expected " + Arrays.toString(e.getValue()));
            }
        }
        if (!wrong.isEmpty()) throw new OnnxFormatException(src, "wrong shapes: " + String.join("; ", wrong));
        return new BertDims(layers, Math.toIntExact(c), Math.toIntExact(f), Math.toIntExact(word.shape(0)),
                Math.toIntExact(pos.shape(0)), Math.toIntExact(typ.shape(0)), pooler);
    }

    private static String activation(OnnxModel m) {
        boolean erf = false, tanh = false, relu = false;
        for (OnnxModel.Node n : m.nodes()) {
            if (n.name().contains("pooler")) continue;        // the pooler's tanh is not the FFN activation
            switch (n.opType()) {
                case "Erf" -> erf = true;
                case "Tanh" -> tanh = true;
                case "Relu" -> relu = true;
                default -> { }
            }
        }
        return erf ? "gelu" : tanh ? "gelu_tanh" : relu ? "relu" : "unknown";
    }

    /** A scalar constant: a one-element initializer, or a Constant node's value. */
    private static OptionalDouble scalar(OnnxModel m, Map<String, OnnxModel.Node> producer, String name) {
        OnnxModel.Initializer init = m.initializers().get(name);
        if (init == null) {
            OnnxModel.Node p = producer.get(name);
            if (p != null && p.opType().equals("Constant")) {
                if (p.floats().containsKey("value_float")) return OptionalDouble.of(p.floats().get("value_float")[0]);
                init = p.tensors().get("value");
            }
        }
        if (init == null || init.external()) return OptionalDouble.empty();
        try {
            if (init.numel() != 1) return OptionalDouble.empty();
        } catch (ArithmeticException e) {
            return OptionalDouble.empty();
        }
        var b = init.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (init.dataType() == OnnxModel.FLOAT && b.remaining() == 4) return OptionalDouble.of(b.getFloat(0));
        if (init.dataType() == OnnxModel.DOUBLE && b.remaining() == 8) return OptionalDouble.of(b.getDouble(0));
        return OptionalDouble.empty();
    }

    /** LayerNormalization's epsilon, or the constant added to the variance before Sqrt in a decomposed LayerNorm. */
    private static OptionalDouble layerNormEps(OnnxModel m, Map<String, OnnxModel.Node> producer) {
        Set<Double> eps = new TreeSet<>();
        for (OnnxModel.Node n : m.nodes()) {
            if (n.opType().equals("LayerNormalization")) {
                float[] e = n.floats().get("epsilon");
                eps.add(e == null ? 1e-5 : (double) e[0]);     // the operator's default
            } else if (n.opType().equals("Sqrt") && !n.inputs().isEmpty()) {
                OnnxModel.Node add = producer.get(n.inputs().get(0));
                if (add == null || !add.opType().equals("Add")) continue;
                for (String in : add.inputs()) scalar(m, producer, in).ifPresent(eps::add);
            }
        }
        return eps.size() == 1 ? OptionalDouble.of(eps.iterator().next()) : OptionalDouble.empty();
    }

    /** From the scale of the attention scores before Softmax: Div by √HS or Mul by 1/√HS. */
    private static OptionalInt headSize(OnnxModel m, Map<String, OnnxModel.Node> producer) {
        Set<Integer> sizes = new TreeSet<>();
        for (OnnxModel.Node n : m.nodes()) {
            if (!n.opType().equals("Softmax") || n.inputs().isEmpty()) continue;
            OnnxModel.Node x = producer.get(n.inputs().get(0));
            for (int hop = 0; hop < 3 && x != null; hop++) {
                if ((x.opType().equals("Div") || x.opType().equals("Mul")) && x.inputs().size() == 2) {
                    OptionalDouble s = scalar(m, producer, x.inputs().get(1));
                    if (s.isPresent() && s.getAsDouble() > 0) {
                        double hs = x.opType().equals("Div") ? s.getAsDouble() * s.getAsDouble() : 1 / (s.getAsDouble() * s.getAsDouble());
                        sizes.add((int) Math.round(hs));
                        break;
                    }
                }
                x = x.inputs().isEmpty() ? null : producer.get(x.inputs().get(0));
            }
        }
        return sizes.size() == 1 ? OptionalInt.of(sizes.iterator().next()) : OptionalInt.empty();
    }
}
