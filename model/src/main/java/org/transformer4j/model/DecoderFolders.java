// DecoderFolders — the path every family loader of its own (GPT-NeoX / Phi / GPT-J, OPT, GPT-BigCode, Falcon, BLOOM,
// MPT) takes from a mapped checkpoint to Weights; each supplies only its stored names and its map onto this library's.
package org.transformer4j.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import org.transformer4j.model.weights.HfLayout;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;

final class DecoderFolders {

    private DecoderFolders() {}

    /**
     * How a folder stores the layout's tensors: {@code name} maps a layout key to the stored one (a prefix stripped for a
     * base model's names), {@code unwanted} layout keys are neither required nor read, {@code skip} stored keys are left
     * alone (HfDecoders.renamed).
     */
    record Stored(UnaryOperator<String> name, Predicate<String> unwanted, List<String> skip) {

        /** Names as the layout has them; the {@code outputs} (output matrix, its bias) left alone when {@code unread}. */
        static Stored asLaid(Set<String> names, boolean unread, String... outputs) {
            return renamed(names, name -> name, unread, outputs);
        }

        /** Names as {@code name} maps them; the {@code outputs} the folder holds skipped, and not required, when {@code unread}. */
        static Stored renamed(Set<String> names, UnaryOperator<String> name, boolean unread, String... outputs) {
            List<String> skip = new ArrayList<>();
            for (String o : outputs) if (unread && names.contains(o)) skip.add(o);
            List<String> out = List.of(outputs);
            return new Stored(name, key -> unread && out.contains(key), skip);
        }
    }

    /** A family's map: this library's part names ← the stored (or, through {@code hf.later}, made) tensors' keys. */
    @FunctionalInterface
    interface PartMap {
        void fill(LazyTensors hf, BiConsumer<String, String> put);
    }

    /**
     * The folder's decoder: its checkpoint mapped, the layout's tensors found as {@code stored} (given the checkpoint's names)
     * says, checked key for key (a LoRA adapter merged as they are read), offered lazily to {@code map}, and loaded as
     * Weights.build makes the config's model ({@code head} false: without the output matrix).
     */
    static Weights load(String type, TransformerConfig c, HfLayout layout, Path dir, Backend backend, DType dtype, boolean head,
                        LoraAdapter lora, Function<Set<String>, Stored> stored, PartMap map) throws IOException {
        return load(type, c, names -> layout, dir, backend, dtype, head, lora, stored, map);
    }

    /** The same with the layout chosen from the checkpoint's names (4.x per-expert or 5.x stacked MoE experts). */
    static Weights load(String type, TransformerConfig c, Function<Set<String>, HfLayout> layoutOf, Path dir, Backend backend, DType dtype,
                        boolean head, LoraAdapter lora, Function<Set<String>, Stored> stored, PartMap map) throws IOException {
        return Pretrained.mapped(dir, (ck, share) -> {
            Stored s = stored.apply(ck.names());
            HfLayout layout = layoutOf.apply(ck.names());
            Map<String, Tensor> found = HfDecoders.renamed(layout, s.name(), s.unwanted(), s.skip(), type, ck, dir, null, null, lora, backend, dtype);
            LazyTensors hf = found instanceof LazyTensors made ? made : new LazyTensors(found);
            try {
                Map<String, HfWeights.Part> parts = new LinkedHashMap<>();
                map.fill(hf, (ours, key) -> parts.put(ours, new HfWeights.Part(key, false, -1, -1)));
                return HfWeights.load(type, hf, parts, backend, dtype, share, w -> Weights.build(c, w, 0, head));
            } finally {
                hf.close();
            }
        });
    }

    /** A norm's weight and bias (when {@code bias}) under this library's name {@code ours} ← the stored {@code key}. */
    static void norm(BiConsumer<String, String> put, String ours, String key, boolean bias) {
        put.accept(ours + ".weight", key + ".weight");
        if (bias) put.accept(ours + ".bias", key + ".bias");
    }

    /** A projection's weight and bias (when {@code bias}): this library's {@code ours} and {@code ours.bias} ← {@code key}. */
    static void linear(BiConsumer<String, String> put, String ours, String key, boolean bias) {
        put.accept(ours, key + ".weight");
        if (bias) put.accept(ours + ".bias", key + ".bias");
    }

    /**
     * q, k and v (with their biases where the fused one has a bias) offered as tensors gathered from a fused projection's
     * weight and bias ({@code fused}.weight / .bias) when asked for: part j (0 q, 1 k, 2 v) is the stored rows {@code rows}
     * gives, in this library's head order.
     */
    static void regrouped(LazyTensors hf, BiConsumer<String, String> put, String o, String fused,
                          java.util.function.IntFunction<long[]> rows) {
        String[] names = {"q", "k", "v"};
        Tensor w = hf.get(fused + ".weight"), b = hf.get(fused + ".bias");
        for (int j = 0; j < 3; j++) {
            long[] r = rows.apply(j);
            String wk = fused + ".weight[" + names[j] + "]", bk = fused + ".bias[" + names[j] + "]";
            hf.later(wk, () -> HfNeox.gather(w, r));
            put.accept(o + "self." + names[j], wk);
            if (b != null) {
                hf.later(bk, () -> HfNeox.gather(b, r));
                put.accept(o + "self." + names[j] + ".bias", bk);
            }
        }
    }

    /**
     * q_proj and k_proj under attention prefix {@code a} (weights, and biases when {@code bias}), offered as self.q / self.k of
     * layer prefix {@code o} with each head's first {@code rotary} rows reordered [0, 2, … ; 1, 3, …] (HfNeox.rotaryOrder), so
     * that rotate_half turns the pairwise (interleaved) rotary of GPT-J's kin — Cohere, GLM, ERNIE 4.5 — on rows made as
     * they load; the same order on q and k leaves every q·k of the rows it does not rotate.
     */
    static void pairwiseQk(LazyTensors hf, BiConsumer<String, String> put, TransformerConfig c, String o, String a, int rotary, boolean bias) {
        for (String x : List.of("q", "k")) {
            long[] order = HfNeox.rotaryOrder(x.equals("q") ? c.heads() : c.kvHeads(), c.headSize(), rotary);
            for (String part : bias ? List.of("weight", "bias") : List.of("weight")) {
                String key = a + x + "_proj." + part, made = key + "[rotate_half]";
                Tensor whole = hf.get(key);
                hf.later(made, () -> HfNeox.gather(whole, order));
                put.accept(o + "self." + x + (part.equals("bias") ? ".bias" : ""), made);
            }
        }
    }

    /**
     * A fused [q | k | v] projection ({@code fused}.weight, and .bias when {@code bias}) taken whole as this library's
     * self.qkv, and offered as row views q, k, v at the row offsets {@code at} (four) for -Dt4j.fuse=false.
     */
    static void fusedWhole(LazyTensors hf, BiConsumer<String, String> put, String o, String fused, long[] at, boolean bias) {
        String[] names = {"q", "k", "v"};
        linear(put, o + "self.qkv", fused, bias);
        Tensor w = hf.get(fused + ".weight"), b = bias ? hf.get(fused + ".bias") : null;
        for (int j = 0; j < 3; j++) {
            String wk = fused + ".weight[" + names[j] + "]", bk = fused + ".bias[" + names[j] + "]";
            if (w != null) hf.put(wk, w.slice(0, at[j], at[j + 1]));
            if (b != null) hf.put(bk, b.slice(0, at[j], at[j + 1]));
            put.accept(o + "self." + names[j], wk);
            if (bias) put.accept(o + "self." + names[j] + ".bias", bk);
        }
    }
}
