// HfWeights — the Hugging Face loaders behind Weights.fromHfBert / fromHfGpt2 / fromHfT5: per family,
// a map from our tensor names to the checkpoint's keys (transposed for GPT-2's Conv1D, ranges of
// fused tensors), and one key-for-key copy that reports every missing, misshaped and leftover key.
package org.transformer4j.model;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;
import org.transformer4j.runtime.Uploader;

final class HfWeights {

    private HfWeights() {}

    // ---- Hugging Face BERT --------------------------------------------------------------------

    static Weights bert(TransformerConfig config, Map<String, Tensor> hf, Backend backend, DType dtype) {
        return bert(config, hf, backend, dtype, false);
    }

    /** With {@code share} (Pretrained: tensors that views of the mapped file can serve are not copied). */
    static Weights bert(TransformerConfig config, Map<String, Tensor> hf, Backend backend, DType dtype, boolean share) {
        TransformerConfig c = config;
        if (c.architecture() != TransformerConfig.Architecture.ENCODER_ONLY || c.normPlacement() != TransformerConfig.NormPlacement.POST
                || c.norm() != TransformerConfig.NormKind.LAYER_NORM || c.positions() != TransformerConfig.Positions.LEARNED_ABSOLUTE
                || c.gatedMlp() || !c.biases()) {
            throw new IllegalArgumentException("a BERT checkpoint needs an encoder-only, post-LN LayerNorm config with learned"
                    + " positions, biases and an ungated MLP; got " + c);
        }
        Map<String, String> alias = new LinkedHashMap<>();
        alias.put("embeddings.tokens", "embeddings.word_embeddings.weight");
        alias.put("embeddings.positions", "embeddings.position_embeddings.weight");
        alias.put("embeddings.types", "embeddings.token_type_embeddings.weight");
        alias.put("embeddings.norm.weight", "embeddings.LayerNorm.weight");
        alias.put("embeddings.norm.bias", "embeddings.LayerNorm.bias");
        for (int i = 0; i < c.encoderLayers(); i++) {
            String o = "encoder." + i + ".", h = "encoder.layer." + i + ".";
            for (String[] kv : new String[][] {{"self.q", "attention.self.query"}, {"self.k", "attention.self.key"},
                    {"self.v", "attention.self.value"}, {"self.o", "attention.output.dense"},
                    {"mlp.up", "intermediate.dense"}, {"mlp.down", "output.dense"}}) {
                alias.put(o + kv[0], h + kv[1] + ".weight");
                alias.put(o + kv[0] + ".bias", h + kv[1] + ".bias");
            }
            alias.put(o + "attn_norm.weight", h + "attention.output.LayerNorm.weight");
            alias.put(o + "attn_norm.bias", h + "attention.output.LayerNorm.bias");
            alias.put(o + "mlp_norm.weight", h + "output.LayerNorm.weight");
            alias.put(o + "mlp_norm.bias", h + "output.LayerNorm.bias");
        }
        boolean pooler = hf.containsKey("pooler.dense.weight");
        if (pooler) {
            alias.put("pooler.dense", "pooler.dense.weight");
            alias.put("pooler.dense.bias", "pooler.dense.bias");
        }
        Map<String, Part> parts = new LinkedHashMap<>();
        alias.forEach((name, key) -> parts.put(name, new Part(key, false, -1, -1)));
        return load("BERT", hf, parts, backend, dtype, share, s -> Weights.buildBert(c, s, pooler));
    }

    /**
     * Where one of our tensors comes from: a Hugging Face key, whether it is stored transposed ([in, out],
     * GPT-2's Conv1D), and for fused tensors the range [from, to) of the last stored dimension it takes
     * (-1: all of it).
     */
    record Part(String key, boolean transposed, int from, int to) {}

    /**
     * Copies the mapped tensors onto the backend while {@code build} lays out the structure; collects
     * every missing and misshaped key and every key left over into one error (nothing stays allocated).
     */
    private static Weights load(String family, Map<String, Tensor> hf, Map<String, Part> parts, Backend backend, DType dtype,
                                java.util.function.Function<Weights.Source, Weights> build) {
        return load(family, hf, parts, backend, dtype, false, build);
    }

    /**
     * {@code share}: where the backend can compute on a stored tensor as it is (CPU, same dtype, no
     * transposition) the weights view it instead of copying it ({@link Uploader#share}); the caller then
     * keeps the stored tensors' memory (the mapped checkpoint) open as long as the weights.
     */
    private static Weights load(String family, Map<String, Tensor> hf, Map<String, Part> parts, Backend backend, DType dtype,
                                boolean share, java.util.function.Function<Weights.Source, Weights> build) {
        Weights.checkFloating(dtype);
        try (Uploader uploader = backend.uploader()) {
            return load(family, hf, parts, backend, dtype, share, uploader, build);
        }
    }

    private static Weights load(String family, Map<String, Tensor> hf, Map<String, Part> parts, Backend backend, DType dtype,
                                boolean share, Uploader uploader, java.util.function.Function<Weights.Source, Weights> build) {
        Set<String> used = new HashSet<>();
        List<String> problems = new ArrayList<>();
        Weights.Source s = new Weights.Source() {
            final Map<String, Tensor> named = new LinkedHashMap<>();

            Tensor take(String name, DType dt, long... shape) {
                Part p = parts.get(name);
                Tensor t = p == null ? null : hf.get(p.key());
                if (t == null) {
                    problems.add("missing " + (p == null ? name : p.key()) + " for " + java.util.Arrays.toString(shape));
                    return null;
                }
                long[] stored = t.shape();
                long[] want = shape.clone();
                if (p.transposed()) {                                          // stored (in, out…): ours is (out, in)
                    want = new long[] {shape[1], p.from() < 0 ? shape[0] : stored.length == 2 ? stored[1] : -1};
                } else if (p.from() >= 0) {
                    want[want.length - 1] = stored[stored.length - 1];
                }
                boolean rangeOk = p.from() < 0 || (p.to() - p.from() == shape[p.transposed() ? 0 : shape.length - 1]
                        && p.to() <= stored[stored.length - 1]);
                if (!java.util.Arrays.equals(stored, want) || !rangeOk) {
                    problems.add(p.key() + " has shape " + t.shapeString() + ", expected " + java.util.Arrays.toString(want)
                            + (p.from() >= 0 ? " (taking [" + p.from() + ", " + p.to() + ") of its last dimension)" : ""));
                    return null;
                }
                used.add(p.key());
                // A strided view of the stored tensor (a transposed Conv1D, a range of a fused one), moved by
                // the uploader: converted to dt straight into the backend's memory, never a Java array.
                Tensor view = t;
                if (p.transposed()) view = (p.from() >= 0 ? t.slice(1, p.from(), p.to()) : t).transpose(0, 1);
                else if (p.from() >= 0) view = t.slice(t.rank() - 1, p.from(), p.to());
                Tensor dev = share ? uploader.share(view, dt) : uploader.upload(view, dt);
                named.put(name, dev);
                MemorySegment mapped = t.hostSegment();
                if (!Uploader.isView(dev) && mapped.isMapped() && mapped.byteSize() > 0) {
                    mapped.unload();       // copied: drop the mapped pages from the resident set (they stay in the page cache)
                }
                return dev;
            }

            @Override public Tensor matrix(String name, int out, int in) { return take(name, dtype, out, in); }

            @Override public Tensor vector(String name, int n, float mean, float std) { return take(name, dtype, n); }

            @Override public Tensor biasTable(String name, int buckets, int heads) { return take(name, DType.F32, buckets, heads); }

            @Override public Map<String, Tensor> named() { return named; }

            @Override public Backend backend() { return backend; }
        };
        Weights w;
        try {
            w = build.apply(s);
        } catch (RuntimeException e) {
            s.named().values().forEach(Tensor::close);
            throw e;
        }
        Set<String> left = new TreeSet<>(hf.keySet());
        left.removeAll(used);
        left.removeIf(k -> k.endsWith("position_ids") || k.endsWith(".attn.bias") || k.endsWith(".attn.masked_bias"));
        if (!left.isEmpty()) problems.add("unexpected " + left);
        if (!problems.isEmpty()) {
            w.close();
            throw new IllegalArgumentException(family + " weights do not match the config: " + String.join("; ", problems));
        }
        return w;
    }

    // ---- Hugging Face GPT-2 -------------------------------------------------------------------

    static Weights gpt2(TransformerConfig config, Map<String, Tensor> hf, Backend backend, DType dtype) {
        return gpt2(config, hf, backend, dtype, false);
    }

    /** With {@code share} (Pretrained: tensors that views of the mapped file can serve are not copied). */
    static Weights gpt2(TransformerConfig config, Map<String, Tensor> hf, Backend backend, DType dtype, boolean share) {
        TransformerConfig c = config;
        if (c.architecture() != TransformerConfig.Architecture.DECODER_ONLY || c.normPlacement() != TransformerConfig.NormPlacement.PRE
                || c.norm() != TransformerConfig.NormKind.LAYER_NORM || c.positions() != TransformerConfig.Positions.LEARNED_ABSOLUTE
                || c.gatedMlp() || !c.biases() || c.kvHeads() != c.heads() || c.innerWidth() != c.modelWidth()) {
            throw new IllegalArgumentException("a GPT-2 checkpoint needs a decoder-only, pre-LN LayerNorm config with learned"
                    + " positions, biases, an ungated MLP and NH·HS = C; got " + c);
        }
        int cw = c.modelWidth();
        Map<String, Part> parts = new LinkedHashMap<>();
        parts.put("embeddings.tokens", new Part("wte.weight", false, -1, -1));
        parts.put("embeddings.positions", new Part("wpe.weight", false, -1, -1));
        for (int i = 0; i < c.decoderLayers(); i++) {
            String o = "decoder." + i + ".", h = "h." + i + ".";
            String[] qkv = {"self.q", "self.k", "self.v"};
            for (int j = 0; j < 3; j++) {
                parts.put(o + qkv[j], new Part(h + "attn.c_attn.weight", true, j * cw, (j + 1) * cw));
                parts.put(o + qkv[j] + ".bias", new Part(h + "attn.c_attn.bias", false, j * cw, (j + 1) * cw));
            }
            parts.put(o + "self.o", new Part(h + "attn.c_proj.weight", true, -1, -1));
            parts.put(o + "self.o.bias", new Part(h + "attn.c_proj.bias", false, -1, -1));
            parts.put(o + "mlp.up", new Part(h + "mlp.c_fc.weight", true, -1, -1));
            parts.put(o + "mlp.up.bias", new Part(h + "mlp.c_fc.bias", false, -1, -1));
            parts.put(o + "mlp.down", new Part(h + "mlp.c_proj.weight", true, -1, -1));
            parts.put(o + "mlp.down.bias", new Part(h + "mlp.c_proj.bias", false, -1, -1));
            for (String[] n : new String[][] {{"attn_norm", "ln_1"}, {"mlp_norm", "ln_2"}}) {
                parts.put(o + n[0] + ".weight", new Part(h + n[1] + ".weight", false, -1, -1));
                parts.put(o + n[0] + ".bias", new Part(h + n[1] + ".bias", false, -1, -1));
            }
        }
        parts.put("decoder.final_norm.weight", new Part("ln_f.weight", false, -1, -1));
        parts.put("decoder.final_norm.bias", new Part("ln_f.bias", false, -1, -1));
        parts.put("lm_head", new Part("lm_head.weight", false, -1, -1));
        Map<String, Tensor> map = hf;
        if (c.tiedEmbeddings() && hf.containsKey("lm_head.weight")) {     // the tied copy: same values, not a second matrix
            map = new java.util.HashMap<>(hf);
            map.remove("lm_head.weight");
        }
        return load("GPT-2", map, parts, backend, dtype, share, s -> Weights.build(c, s, 0));
    }

    // ---- Hugging Face T5 ----------------------------------------------------------------------

    static Weights t5(TransformerConfig config, Map<String, Tensor> hf, Backend backend, DType dtype) {
        return t5(config, hf, backend, dtype, false);
    }

    /** With {@code share} (Pretrained: tensors that views of the mapped file can serve are not copied). */
    static Weights t5(TransformerConfig config, Map<String, Tensor> hf, Backend backend, DType dtype, boolean share) {
        TransformerConfig c = config;
        if (c.architecture() != TransformerConfig.Architecture.ENCODER_DECODER || c.norm() != TransformerConfig.NormKind.RMS_NORM
                || c.normPlacement() != TransformerConfig.NormPlacement.PRE || c.positions() != TransformerConfig.Positions.T5_RELATIVE
                || c.biases() || c.shareCrossAndSelfAttention() || c.shareEncoderDecoderParams() || c.withinLayerCrossAttention()
                || c.causalInput()) {
            throw new IllegalArgumentException("a T5 checkpoint needs a plain encoder-decoder config with pre-RMSNorm, T5 relative"
                    + " positions and no biases; got " + c);
        }
        Map<String, Tensor> map = new java.util.HashMap<>(hf);
        String table = null;
        for (String k : List.of("shared.weight", "encoder.embed_tokens.weight", "decoder.embed_tokens.weight")) {
            if (table == null && map.containsKey(k)) table = k;
            else map.remove(k);                                               // the tied copies of the one table
        }
        if (c.tiedEmbeddings()) map.remove("lm_head.weight");
        Map<String, Part> parts = new LinkedHashMap<>();
        parts.put("embeddings.tokens", new Part(table == null ? "shared.weight" : table, false, -1, -1));
        for (String stack : List.of("encoder", "decoder")) {
            int n = stack.equals("encoder") ? c.encoderLayers() : c.decoderLayers();
            for (int i = 0; i < n; i++) {
                String o = stack + "." + i + ".", h = stack + ".block." + i + ".layer.";
                List<String[]> attns = new ArrayList<>();
                attns.add(new String[] {"self", "0.SelfAttention", "attn_norm", "0.layer_norm"});
                if (stack.equals("decoder")) attns.add(new String[] {"cross", "1.EncDecAttention", "cross_norm", "1.layer_norm"});
                for (String[] a : attns) {
                    for (String x : List.of("q", "k", "v", "o")) parts.put(o + a[0] + "." + x, new Part(h + a[1] + "." + x + ".weight", false, -1, -1));
                    parts.put(o + a[2] + ".weight", new Part(h + a[3] + ".weight", false, -1, -1));
                }
                String ff = h + (stack.equals("decoder") ? "2" : "1") + ".";
                parts.put(o + "mlp_norm.weight", new Part(ff + "layer_norm.weight", false, -1, -1));
                parts.put(o + "mlp.up", new Part(ff + "DenseReluDense." + (c.gatedMlp() ? "wi_0" : "wi") + ".weight", false, -1, -1));
                parts.put(o + "mlp.gate", new Part(ff + "DenseReluDense.wi_1.weight", false, -1, -1));
                parts.put(o + "mlp.down", new Part(ff + "DenseReluDense.wo.weight", false, -1, -1));
            }
            parts.put(stack + ".relative_bias", new Part(stack + ".block.0.layer.0.SelfAttention.relative_attention_bias.weight", false, -1, -1));
            parts.put(stack + ".final_norm.weight", new Part(stack + ".final_layer_norm.weight", false, -1, -1));
        }
        parts.put("lm_head", new Part("lm_head.weight", false, -1, -1));
        return load("T5", map, parts, backend, dtype, share, s -> Weights.build(c, s, 0));
    }
}
