// LoraSlots — LoRA adapters served beside their base model, unmerged: each request picks one (or none) and the rows of
// a batch add their own adapter's s · B · A x to the projections, through two grouped GEMMs per adapted projection.
package org.transformer4j.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.HfConfig;
import org.transformer4j.runtime.Tensor;

/**
 * Several PEFT LoRA adapters of one decoder-only model, held on its backend in slots 0 … G−1 (vLLM's
 * {@code --enable-lora --lora-modules name=path}, S-LoRA's and Punica's unmerged serving): the base weights stay as they
 * are, and a batch may mix requests of different adapters and of the base model. Per adapted projection W (N × K) of a
 * layer the adapters' A are stacked (G, r, K) and their scaled B (G, N, r), r the largest rank among them (a smaller rank
 * padded with zeros, which adds nothing), s = lora_alpha / r (rsLoRA: / √r) folded into B in float32 before the one
 * rounding to the model's dtype. A pass whose rows are ordered by slot (slot 0's rows first, the base model's last)
 * computes, after each base projection y = x·Wᵀ, t = x·A[g]ᵀ (rank-r rows, in the dtype as PEFT's lora_A output) and
 * y += t·B[g]ᵀ for the rows of slot g ({@link org.transformer4j.runtime.GroupedLinearOp}, group sizes on the device, so
 * that a captured decode step replays with other rows' adapters); rows past the last slot's are the base model's. A
 * gated MLP is then combined after both products took their deltas ({@link org.transformer4j.runtime.ActivationOp}),
 * as PEFT's forward computes act(gate_proj(x)) · up_proj(x) with each projection adapted.
 *
 * <p>The adapters must name the Llama-style projections ({@code model.layers.i.self_attn.q_proj / k_proj / v_proj /
 * o_proj}, {@code model.layers.i.mlp.gate_proj / up_proj / down_proj}) of a model whose loader takes them as stored:
 * {@link #TYPES}. Refused by name: modules_to_save (a whole replaced weight cannot be added per row: merge such an
 * adapter with {@link Pretrained#load(Path, org.transformer4j.runtime.Backend, org.transformer4j.runtime.DType,
 * LoraAdapter)} instead), a module outside those projections, MLP LoRA on a mixture-of-experts layer, shapes that do not
 * fit the model's weights, and everything {@link LoraAdapter#read} refuses. Adapters are loaded once, before serving.
 */
public final class LoraSlots implements AutoCloseable {

    /** The model types whose projections load as stored under the Llama-style names (no fused or reordered rows). */
    public static final Set<String> TYPES = Set.of("llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3_text", "granite",
            "smollm3", "olmo2", "mixtral", "qwen2_moe", "qwen3_moe", "olmoe");

    /** The adapted projections: of the attention Q, K, V, O; of the MLP transformers' gate_proj, up_proj, down_proj. */
    enum Target {
        Q("self_attn", "q_proj"), K("self_attn", "k_proj"), V("self_attn", "v_proj"), O("self_attn", "o_proj"),
        GATE_PROJ("mlp", "gate_proj"), UP_PROJ("mlp", "up_proj"), DOWN("mlp", "down_proj");

        final String block, module;

        Target(String block, String module) { this.block = block; this.module = module; }
    }

    private static final Pattern NAME = Pattern.compile("model\\.layers\\.(\\d+)\\.(self_attn|mlp)\\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)\\.weight");

    /** One adapted projection of a layer: A (G, r, K) and s·B (G, N, r) in the model's dtype. */
    record Pair(Tensor a, Tensor b, int rank) {}

    private final List<String> names;
    private final List<Path> dirs;
    private final IdentityHashMap<Weights.Attention, Pair[]> attention = new IdentityHashMap<>();   // [Q, K, V, O]
    private final IdentityHashMap<Weights.Mlp, Pair[]> mlp = new IdentityHashMap<>();               // [GATE_PROJ, UP_PROJ, DOWN]
    private final List<Tensor> owned = new ArrayList<>();
    private volatile boolean closed;

    private LoraSlots(List<String> names, List<Path> dirs) {
        this.names = List.copyOf(names);
        this.dirs = List.copyOf(dirs);
    }

    /**
     * Reads the adapter folders ({@code name → folder}, in slot order) for {@code model}, loaded from {@code modelDir}
     * (its config.json names the family), and uploads them to the model's backend. A CheckpointException names the
     * adapter and what does not fit.
     */
    public static LoraSlots load(Transformer model, Path modelDir, Map<String, Path> adapters) throws IOException {
        String type = HfConfig.read(modelDir).modelType();
        Map<String, LoraAdapter> read = new LinkedHashMap<>();
        for (var e : adapters.entrySet()) read.put(e.getKey(), LoraAdapter.read(e.getValue()));
        return of(model, type, read);
    }

    /** The same from adapters already read; {@code modelType} is the model's config.json model_type. */
    public static LoraSlots of(Transformer model, String modelType, Map<String, LoraAdapter> adapters) throws CheckpointException {
        PagedBatch.requireDecoderOnly(model);
        if (adapters.isEmpty()) throw new IllegalArgumentException("no adapters given");
        if (!TYPES.contains(modelType)) {
            throw new IllegalArgumentException("per-request LoRA adapters are served for the Llama-style families " + new java.util.TreeSet<>(TYPES)
                    + "; this model is " + modelType + " (merge an adapter into it instead: Pretrained.load(dir, backend, dtype, adapter), t4j --lora)");
        }
        List<Weights.Layer> layers = model.weights.decoder.layers();
        int g = adapters.size();
        // per layer and target: each adapter's delta (null: that adapter leaves it alone)
        Map<Integer, Map<Target, LoraAdapter.Delta[]>> found = new java.util.TreeMap<>();
        int slot = 0;
        for (var e : adapters.entrySet()) {
            String name = e.getKey();
            LoraAdapter ad = e.getValue();
            checkName(name);
            for (var d : ad.deltas().entrySet()) {
                if (d.getValue().whole() != null) {
                    throw new CheckpointException(ad.dir(), "adapter " + name + " replaces " + d.getKey() + " whole (modules_to_save): per-request"
                            + " adapters add s · B · A only; merge this adapter into the model instead (Pretrained.load with it, t4j --lora)");
                }
                Matcher m = NAME.matcher(d.getKey());
                if (!m.matches()) {
                    throw new CheckpointException(ad.dir(), "adapter " + name + " adapts " + d.getKey() + "; per-request adapters take the"
                            + " projections model.layers.i.self_attn.{q,k,v,o}_proj and model.layers.i.mlp.{gate,up,down}_proj");
                }
                int layer = Integer.parseInt(m.group(1));
                if (layer >= layers.size()) {
                    throw new CheckpointException(ad.dir(), "adapter " + name + " adapts " + d.getKey() + " but the model has " + layers.size() + " layers");
                }
                Target t = Target.valueOf(switch (m.group(3)) {
                    case "q_proj" -> "Q"; case "k_proj" -> "K"; case "v_proj" -> "V"; case "o_proj" -> "O";
                    case "gate_proj" -> "GATE_PROJ"; case "up_proj" -> "UP_PROJ"; default -> "DOWN";
                });
                found.computeIfAbsent(layer, x -> new java.util.EnumMap<>(Target.class)).computeIfAbsent(t, x -> new LoraAdapter.Delta[g])[slot] = d.getValue();
            }
            slot++;
        }
        LoraSlots out = new LoraSlots(new ArrayList<>(adapters.keySet()), adapters.values().stream().map(LoraAdapter::dir).toList());
        List<String> adapterNames = out.names;
        try {
            for (var le : found.entrySet()) {
                int l = le.getKey();
                Weights.Layer layer = layers.get(l);
                for (var te : le.getValue().entrySet()) {
                    Target t = te.getKey();
                    Tensor w = weightOf(layer, t);
                    if (w == null) {
                        throw new CheckpointException(adapters.get(first(te.getValue(), adapterNames)).dir(), "adapter " + first(te.getValue(), adapterNames)
                                + " adapts layer " + l + "'s " + t.module + (layer.mlp().moe() != null && t.block.equals("mlp")
                                ? ", a mixture-of-experts layer: LoRA on its experts is not served per request" : ", which this model does not have"));
                    }
                    Pair p = stack(model, w, te.getValue(), adapterNames, adapters, l, t);
                    out.owned.add(p.a());
                    out.owned.add(p.b());
                    if (t.block.equals("self_attn")) out.attention.computeIfAbsent(layer.self(), x -> new Pair[4])[t.ordinal()] = p;
                    else out.mlp.computeIfAbsent(layer.mlp(), x -> new Pair[3])[t.ordinal() - Target.GATE_PROJ.ordinal()] = p;
                }
            }
        } catch (RuntimeException | CheckpointException e) {
            out.close();
            throw e;
        }
        return out;
    }

    private static void checkName(String name) {
        if (name == null || name.isBlank() || name.chars().anyMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException("an adapter name must be a non-empty word without spaces, got '" + name + "'");
        }
    }

    private static String first(LoraAdapter.Delta[] ds, List<String> names) {
        for (int i = 0; i < ds.length; i++) if (ds[i] != null) return names.get(i);
        return names.get(0);
    }

    /** The model's weight (N, K) that target t adapts in this layer, or null where it has none. */
    private static Tensor weightOf(Weights.Layer layer, Target t) {
        Weights.Attention a = layer.self();
        Weights.Mlp m = layer.mlp();
        return switch (t) {
            case Q -> a.q();
            case K -> a.k();
            case V -> a.v();
            case O -> a.o();
            case GATE_PROJ -> m.moe() != null ? null : m.up();         // ours: act(up) ⊙ gate, up ← gate_proj
            case UP_PROJ -> m.moe() != null || m.gate() == null ? null : m.gate();
            case DOWN -> m.moe() != null ? null : m.down();
        };
    }

    /** A (G, r, K) and s·B (G, N, r) of one projection, zeros where an adapter leaves it alone or has a smaller rank. */
    private static Pair stack(Transformer model, Tensor w, LoraAdapter.Delta[] ds, List<String> names, Map<String, LoraAdapter> adapters,
                              int layer, Target t) throws CheckpointException {
        int g = ds.length;
        long n = w.shape(0), k = w.shape(1);
        int r = 0;
        for (LoraAdapter.Delta d : ds) if (d != null) r = Math.max(r, d.rank());
        float[] a = new float[Math.toIntExact((long) g * r * k)], b = new float[Math.toIntExact((long) g * n * r)];
        for (int i = 0; i < g; i++) {
            LoraAdapter.Delta d = ds[i];
            if (d == null) continue;
            int ri = d.rank();
            if (d.a().length != (long) ri * k || d.b().length != n * ri) {
                throw new CheckpointException(adapters.get(names.get(i)).dir(), "adapter " + names.get(i) + ": layer " + layer + "'s " + t.module
                        + " lora_A (" + ri + " × " + d.a().length / ri + ") and lora_B (" + d.b().length / ri + " × " + ri
                        + ") do not fit the model's weight (" + n + " × " + k + ")");
            }
            System.arraycopy(d.a(), 0, a, Math.toIntExact((long) i * r * k), d.a().length);
            for (long row = 0; row < n; row++) {
                int to = Math.toIntExact(((long) i * n + row) * r), from = Math.toIntExact(row * ri);
                for (int j = 0; j < ri; j++) b[to + j] = (float) (d.scale() * d.b()[from + j]);
            }
        }
        Tensor ta = null, tb = null;
        try (Tensor ha = Tensor.of(model.dtype, a, g, r, k); Tensor hb = Tensor.of(model.dtype, b, g, n, r)) {
            ta = model.backend.upload(ha);
            tb = model.backend.upload(hb);
            return new Pair(ta, tb, r);
        } catch (RuntimeException e) {
            if (ta != null) ta.close();
            throw e;
        }
    }

    /** A pass's adapters: these slots, and the group offsets (G + 1, I32 on the backend) of its rows. */
    record Route(LoraSlots slots, Tensor offsets) {}

    /** The adapters' names, slot by slot. */
    public List<String> names() { return names; }

    /** The folder adapter {@code name} was read from, or null where none is called so. */
    public Path dir(String name) {
        int i = slot(name);
        return i < 0 ? null : dirs.get(i);
    }

    /** Slots: G. */
    public int size() { return names.size(); }

    /** The slot of adapter {@code name}, or −1 where none is called so. */
    public int slot(String name) { return names.indexOf(name); }

    /** The attention's adapted projections [Q, K, V, O] (entries null where no adapter adapts one), or null. */
    Pair[] of(Weights.Attention a) { return attention.get(a); }

    /** The MLP's [gate_proj, up_proj, down_proj], or null. */
    Pair[] of(Weights.Mlp m) { return mlp.get(m); }

    /**
     * The group offsets (G + 1) of a pass over sequences whose slots are {@code slots} (−1: the base model), each
     * {@code rowsPerSeq} rows: sequences must come ordered by slot, the base model's last.
     */
    int[] offsets(int[] slots, int rowsPerSeq) {
        int g = size();
        int[] off = new int[g + 1];
        int prev = 0;
        boolean base = false;
        for (int i = 0; i < slots.length; i++) {
            int s = slots[i];
            if (s < -1 || s >= g) throw new IllegalArgumentException("sequence " + i + "'s adapter slot " + s + " is outside [-1, " + g + ")");
            if (s == -1) { base = true; continue; }
            if (base || s < prev) {
                throw new IllegalArgumentException("sequences must come ordered by adapter slot, the base model's last: " + java.util.Arrays.toString(slots));
            }
            prev = s;
            off[s + 1] += rowsPerSeq;
        }
        for (int i = 0; i < g; i++) off[i + 1] += off[i];
        return off;
    }

    /** Device bytes the stacked adapters take. */
    public long bytes() {
        long sum = 0;
        for (Tensor t : owned) sum += t.numel() * t.dtype().byteSize();
        return sum;
    }

    boolean isClosed() { return closed; }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        for (Tensor t : owned) t.close();
    }
}
