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
 * fit the model's weights, and everything {@link LoraAdapter#read} refuses. Slots made for exactly the adapters given take
 * no others; slots made with a capacity and a largest rank ({@link #of(Transformer, String, Map, int, int)}) hold every
 * projection of the model, and {@link #add} / {@link #remove} load and free adapters while serving (on the engine's loop:
 * {@link org.transformer4j.model.engine.Engine#loadAdapter}).
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

    private final Transformer model;
    private final String[] names;                 // per slot: the adapter's name, or null (a free slot)
    private final Path[] dirs;
    private final long[] loads;                   // per slot: which load put its adapter there (1, 2, …)
    private long loadCount;
    private final IdentityHashMap<Weights.Attention, Pair[]> attention = new IdentityHashMap<>();   // [Q, K, V, O]
    private final IdentityHashMap<Weights.Mlp, Pair[]> mlp = new IdentityHashMap<>();               // [GATE_PROJ, UP_PROJ, DOWN]
    private final List<Tensor> owned = new ArrayList<>();
    private volatile boolean closed;

    private LoraSlots(Transformer model, int capacity) {
        this.model = model;
        this.names = new String[capacity];
        this.dirs = new Path[capacity];
        this.loads = new long[capacity];
    }

    /**
     * Reads the adapter folders ({@code name → folder}, in slot order) for {@code model}, loaded from {@code modelDir}
     * (its config.json names the family), and uploads them to the model's backend: exactly their projections and ranks,
     * no room for more. A CheckpointException names the adapter and what does not fit.
     */
    public static LoraSlots load(Transformer model, Path modelDir, Map<String, Path> adapters) throws IOException {
        return of(model, HfConfig.read(modelDir).modelType(), read(adapters));
    }

    /**
     * The same with room for adapters loaded later ({@link #add}; vLLM's {@code --max-loras}, {@code --max-lora-rank}):
     * {@code capacity} slots, every projection of the model at rank {@code maxRank}; {@code adapters} (may be empty)
     * fill the first slots.
     */
    public static LoraSlots load(Transformer model, Path modelDir, Map<String, Path> adapters, int capacity, int maxRank) throws IOException {
        return of(model, HfConfig.read(modelDir).modelType(), read(adapters), capacity, maxRank);
    }

    private static Map<String, LoraAdapter> read(Map<String, Path> adapters) throws IOException {
        Map<String, LoraAdapter> read = new LinkedHashMap<>();
        for (var e : adapters.entrySet()) read.put(e.getKey(), LoraAdapter.read(e.getValue()));
        return read;
    }

    /** {@link #load(Transformer, Path, Map)} from adapters already read; {@code modelType} is the model's config.json model_type. */
    public static LoraSlots of(Transformer model, String modelType, Map<String, LoraAdapter> adapters) throws CheckpointException {
        if (adapters.isEmpty()) throw new IllegalArgumentException("no adapters given");
        checkModel(model, modelType);
        // the projections they adapt, each at the largest rank among them
        Map<Integer, Map<Target, Integer>> ranks = new java.util.TreeMap<>();
        for (var e : adapters.entrySet()) {
            checkName(e.getKey());
            for (var le : parse(model, e.getKey(), e.getValue()).entrySet()) {
                for (var te : le.getValue().entrySet()) {
                    ranks.computeIfAbsent(le.getKey(), x -> new java.util.EnumMap<>(Target.class)).merge(te.getKey(), te.getValue().rank(), Math::max);
                }
            }
        }
        return build(model, adapters, adapters.size(), ranks);
    }

    /** {@link #load(Transformer, Path, Map, int, int)} from adapters already read. */
    public static LoraSlots of(Transformer model, String modelType, Map<String, LoraAdapter> adapters, int capacity, int maxRank)
            throws CheckpointException {
        checkModel(model, modelType);
        if (capacity < 1 || capacity < adapters.size()) {
            throw new IllegalArgumentException("LoRA slots: capacity " + capacity + " must be ≥ 1 and hold the " + adapters.size() + " adapters given");
        }
        if (maxRank < 1) throw new IllegalArgumentException("LoRA slots: the largest rank must be ≥ 1, got " + maxRank);
        Map<Integer, Map<Target, Integer>> ranks = new java.util.TreeMap<>();
        List<Weights.Layer> layers = model.weights.decoder.layers();
        for (int l = 0; l < layers.size(); l++) {
            for (Target t : Target.values()) {
                if (weightOf(layers.get(l), t) != null) ranks.computeIfAbsent(l, x -> new java.util.EnumMap<>(Target.class)).put(t, maxRank);
            }
        }
        return build(model, adapters, capacity, ranks);
    }

    private static void checkModel(Transformer model, String modelType) {
        PagedBatch.requireDecoderOnly(model);
        if (!TYPES.contains(modelType)) {
            throw new IllegalArgumentException("per-request LoRA adapters are served for the Llama-style families " + new java.util.TreeSet<>(TYPES)
                    + "; this model is " + modelType + " (merge an adapter into it instead: Pretrained.load(dir, backend, dtype, adapter), t4j --lora)");
        }
    }

    /** Zero slots for these projections and ranks, then the adapters added in order. */
    private static LoraSlots build(Transformer model, Map<String, LoraAdapter> adapters, int capacity, Map<Integer, Map<Target, Integer>> ranks)
            throws CheckpointException {
        LoraSlots out = new LoraSlots(model, capacity);
        List<Weights.Layer> layers = model.weights.decoder.layers();
        try {
            for (var le : ranks.entrySet()) {
                Weights.Layer layer = layers.get(le.getKey());
                for (var te : le.getValue().entrySet()) {
                    Target t = te.getKey();
                    Tensor w = weightOf(layer, t);
                    int r = te.getValue();
                    long n = w.shape(0), k = w.shape(1);
                    Pair p = new Pair(out.zeros(capacity, r, k), out.zeros(capacity, n, r), r);
                    if (t.block.equals("self_attn")) out.attention.computeIfAbsent(layer.self(), x -> new Pair[4])[t.ordinal()] = p;
                    else out.mlp.computeIfAbsent(layer.mlp(), x -> new Pair[3])[t.ordinal() - Target.GATE_PROJ.ordinal()] = p;
                }
            }
            for (var e : adapters.entrySet()) out.add(e.getKey(), e.getValue());
        } catch (RuntimeException | CheckpointException e) {
            out.close();
            throw e;
        }
        return out;
    }

    private Tensor zeros(long... shape) {
        long numel = 1;
        for (long d : shape) numel = Math.multiplyExact(numel, d);
        try (Tensor h = Tensor.of(model.dtype, new float[Math.toIntExact(numel)], shape)) {
            Tensor t = model.backend.upload(h);
            owned.add(t);
            return t;
        }
    }

    /**
     * Each adapted projection's delta of adapter {@code name}, by layer and target: its modules checked against the
     * Llama-style names, the model's layers and weights (which must exist and not be a mixture of experts).
     */
    private static Map<Integer, Map<Target, LoraAdapter.Delta>> parse(Transformer model, String name, LoraAdapter ad) throws CheckpointException {
        List<Weights.Layer> layers = model.weights.decoder.layers();
        Map<Integer, Map<Target, LoraAdapter.Delta>> out = new java.util.TreeMap<>();
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
            int l = Integer.parseInt(m.group(1));
            if (l >= layers.size()) {
                throw new CheckpointException(ad.dir(), "adapter " + name + " adapts " + d.getKey() + " but the model has " + layers.size() + " layers");
            }
            Target t = switch (m.group(3)) {
                case "q_proj" -> Target.Q; case "k_proj" -> Target.K; case "v_proj" -> Target.V; case "o_proj" -> Target.O;
                case "gate_proj" -> Target.GATE_PROJ; case "up_proj" -> Target.UP_PROJ; default -> Target.DOWN;
            };
            if (!t.block.equals(m.group(2))) {
                throw new CheckpointException(ad.dir(), "adapter " + name + " adapts " + d.getKey() + ": " + t.module + " is under " + t.block
                        + ", not " + m.group(2));
            }
            Weights.Layer layer = layers.get(l);
            Tensor w = weightOf(layer, t);
            if (w == null) {
                throw new CheckpointException(ad.dir(), "adapter " + name + " adapts layer " + l + "'s " + t.module + (layer.mlp().moe() != null
                        && t.block.equals("mlp") ? ", a mixture-of-experts layer: LoRA on its experts is not served per request"
                        : ", which this model does not have"));
            }
            LoraAdapter.Delta dd = d.getValue();
            long n = w.shape(0), k = w.shape(1);
            int ri = dd.rank();
            if (dd.a().length != ri * k || dd.b().length != n * ri) {
                throw new CheckpointException(ad.dir(), "adapter " + name + ": layer " + l + "'s " + t.module + " lora_A (" + ri + " × "
                        + dd.a().length / ri + ") and lora_B (" + dd.b().length / ri + " × " + ri + ") do not fit the model's weight ("
                        + n + " × " + k + ")");
            }
            out.computeIfAbsent(l, x -> new java.util.EnumMap<>(Target.class)).put(t, dd);
        }
        return out;
    }

    /**
     * Puts adapter {@code name} into a free slot and returns the slot: every projection of the slots gets its A and s·B
     * (zeros where it leaves one alone). Refused by name: a name already held, no free slot, a projection the slots hold
     * no room for, a rank above the slots' (and what {@link #of} refuses). Not while a pass runs: the engine calls it
     * between steps ({@link org.transformer4j.model.engine.Engine#loadAdapter}).
     */
    public synchronized int add(String name, LoraAdapter ad) throws CheckpointException {
        if (closed) throw new IllegalStateException("these LoRA slots are closed");
        checkName(name);
        if (slot(name) >= 0) throw new IllegalArgumentException("an adapter named '" + name + "' is loaded already");
        int slot = -1;
        for (int i = 0; i < names.length && slot < 0; i++) if (names[i] == null) slot = i;
        if (slot < 0) {
            throw new IllegalArgumentException("all " + names.length + " LoRA slots hold adapters " + names() + "; unload one first (or start with"
                    + " more: --max-loras)");
        }
        Map<Integer, Map<Target, LoraAdapter.Delta>> deltas = parse(model, name, ad);
        for (var le : deltas.entrySet()) {
            Weights.Layer layer = model.weights.decoder.layers().get(le.getKey());
            for (var te : le.getValue().entrySet()) {
                Pair p = pair(layer, te.getKey());
                if (p == null) {
                    throw new CheckpointException(ad.dir(), "adapter " + name + " adapts layer " + le.getKey() + "'s " + te.getKey().module
                            + ", which the LoRA slots hold no room for (slots made for other adapters: give it at start-up, or make room for"
                            + " every projection: --max-loras / --max-lora-rank)");
                }
            }
        }
        for (var le : deltas.entrySet()) {                     // then the ranks, once every projection has room
            Weights.Layer layer = model.weights.decoder.layers().get(le.getKey());
            for (var te : le.getValue().entrySet()) {
                Pair p = pair(layer, te.getKey());
                if (te.getValue().rank() > p.rank()) {
                    throw new CheckpointException(ad.dir(), "adapter " + name + "'s layer " + le.getKey() + " " + te.getKey().module + " has rank "
                            + te.getValue().rank() + ", above the slots' " + p.rank() + " (--max-lora-rank)");
                }
            }
        }
        List<Weights.Layer> layers = model.weights.decoder.layers();
        for (int l = 0; l < layers.size(); l++) {
            Map<Target, LoraAdapter.Delta> here = deltas.getOrDefault(l, Map.of());
            for (Target t : Target.values()) {
                Pair p = pair(layers.get(l), t);
                if (p != null) write(p, slot, here.get(t));
            }
        }
        names[slot] = name;
        dirs[slot] = ad.dir();
        loads[slot] = ++loadCount;
        return slot;
    }

    /** Frees adapter {@code name}'s slot (its tensors are rewritten by the next {@link #add}); the caller checks no request uses it. */
    public synchronized void remove(String name) {
        int i = slot(name);
        if (i < 0) throw new IllegalArgumentException("no LoRA adapter named '" + name + "' is loaded; loaded: " + names());
        names[i] = null;
        dirs[i] = null;
    }

    private Pair pair(Weights.Layer layer, Target t) {
        Pair[] ps = t.block.equals("self_attn") ? attention.get(layer.self()) : mlp.get(layer.mlp());
        return ps == null ? null : ps[t.block.equals("self_attn") ? t.ordinal() : t.ordinal() - Target.GATE_PROJ.ordinal()];
    }

    /** Slot {@code slot} of p: the delta's A (r_i × K) and s·B (N × r_i), zero-padded to p's rank; zeros without a delta. */
    private void write(Pair p, int slot, LoraAdapter.Delta d) {
        int r = p.rank();
        long k = p.a().shape(2), n = p.b().shape(1);
        float[] a = new float[Math.toIntExact(r * k)], b = new float[Math.toIntExact(n * r)];
        if (d != null) {
            int ri = d.rank();
            System.arraycopy(d.a(), 0, a, 0, d.a().length);
            for (int row = 0; row < n; row++) {
                for (int j = 0; j < ri; j++) b[row * r + j] = (float) (d.scale() * d.b()[row * ri + j]);
            }
        }
        try (Tensor ha = Tensor.of(model.dtype, a, r, k); Tensor hb = Tensor.of(model.dtype, b, n, r)) {
            model.backend.copyFromHost(ha, p.a().select(0, slot));
            model.backend.copyFromHost(hb, p.b().select(0, slot));
        }
    }

    private static void checkName(String name) {
        if (name == null || name.isBlank() || name.chars().anyMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException("an adapter name must be a non-empty word without spaces, got '" + name + "'");
        }
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

    /** A pass's adapters: these slots, and the group offsets (G + 1, I32 on the backend) of its rows. */
    record Route(LoraSlots slots, Tensor offsets) {}

    /** The loaded adapters' names, in slot order. */
    public synchronized List<String> names() {
        List<String> out = new ArrayList<>();
        for (String n : names) if (n != null) out.add(n);
        return out;
    }

    /** Slots: G (held or free). */
    public int size() { return names.length; }

    /** The slot of adapter {@code name}, or −1 where none is called so. */
    public synchronized int slot(String name) {
        for (int i = 0; i < names.length; i++) if (names[i] != null && names[i].equals(name)) return i;
        return -1;
    }

    /** Adapter {@code name}'s slot and the load that put it there, read together ({slot, load}; {−1, 0} where none is called so). */
    public synchronized long[] resolve(String name) {
        int i = slot(name);
        return new long[] {i, i < 0 ? 0 : loads[i]};
    }

    /** Which load put the adapter of {@code slot} there (0: none): a request that resolved its slot under another load is stale. */
    public synchronized long loadId(int slot) { return slot < 0 || slot >= names.length || names[slot] == null ? 0 : loads[slot]; }

    /** The folder adapter {@code name} was read from, or null where none is called so. */
    public synchronized Path dir(String name) {
        int i = slot(name);
        return i < 0 ? null : dirs[i];
    }

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
