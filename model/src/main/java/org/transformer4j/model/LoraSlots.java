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
 * o_proj}, {@code model.layers.i.mlp.gate_proj / up_proj / down_proj}; Phi-3's fused {@code self_attn.qkv_proj} and
 * {@code mlp.gate_up_proj} and GLM's {@code mlp.gate_up_proj}, their lora_B rows split as the loader splits the weights)
 * of a model whose loader takes them as stored, or reordered as Cohere's and GLM's q / k rows (lora_B's rows reordered
 * alike): {@link #TYPES}. Refused by name: a module the family's checkpoints do not have (a fused one elsewhere, or a part
 * of one it stores fused), modules_to_save (a whole replaced weight cannot be added per row: merge such an
 * adapter with {@link Pretrained#load(Path, org.transformer4j.runtime.Backend, org.transformer4j.runtime.DType,
 * LoraAdapter)} instead), a module outside those projections, MLP LoRA on a mixture-of-experts layer, shapes that do not
 * fit the model's weights, and everything {@link LoraAdapter#read} refuses. Slots made for exactly the adapters given take
 * no others; slots made with a capacity and a largest rank ({@link #of(Transformer, String, Map, int, int)}) hold every
 * projection of the model, and {@link #add} / {@link #remove} register and unregister adapters while serving (on the
 * engine's loop: {@link org.transformer4j.model.engine.Engine#loadAdapter}).
 *
 * <p>More adapters may be registered than there are slots (vLLM's {@code --max-loras} is the slots, the most adapters one
 * pass runs): a sequence takes its adapter's slot with {@link #acquire} and gives it back with {@link #release}; an adapter
 * in no slot is loaded into a free one, else into the least recently used slot that no sequence holds, from the parsed
 * adapters kept in host memory ({@link #hostCache}, vLLM's {@code --max-cpu-loras}) or read again from its folder. Where
 * every slot is held by sequences of other adapters, acquire answers −1 and the request waits (the engine admits others
 * meanwhile, as vLLM's scheduler skips a request whose adapter would exceed max_loras).
 */
public final class LoraSlots implements AutoCloseable {

    /**
     * The model types whose projections load as stored under the Llama-style names, or fused / reordered in ways lora_B's
     * rows follow: Phi-3's fused qkv_proj and gate_up_proj, GLM's fused gate_up_proj, Cohere's and GLM's q / k rows
     * reordered per head for rotate_half. OLMo's clip_qkv clamps q, k and v after each adapter's delta is added, as PEFT's
     * q_proj output is clamped (Transformer.qkvLinear).
     */
    public static final Set<String> TYPES = Set.of("llama", "mistral", "qwen2", "qwen3", "phi3", "cohere", "cohere2", "gemma", "gemma2", "gemma3_text", "granite",
            "smollm3", "olmo", "olmo2", "olmo3", "mixtral", "qwen2_moe", "qwen3_moe", "olmoe", "glm", "glm4", "exaone4", "ernie4_5", "seed_oss");

    /** The adapted projections: of the attention Q, K, V, O; of the MLP transformers' gate_proj, up_proj, down_proj. */
    enum Target {
        Q("self_attn", "q_proj"), K("self_attn", "k_proj"), V("self_attn", "v_proj"), O("self_attn", "o_proj"),
        GATE_PROJ("mlp", "gate_proj"), UP_PROJ("mlp", "up_proj"), DOWN("mlp", "down_proj");

        final String block, module;

        Target(String block, String module) { this.block = block; this.module = module; }
    }

    private static final Pattern NAME = Pattern.compile("model\\.layers\\.(\\d+)\\.(self_attn|mlp)\\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)\\.weight");

    /** Phi-3's fused projections: qkv_proj's rows [q | k | v], gate_up_proj's [gate | up] (modeling_phi3.py; GLM's gate_up_proj alike). */
    private static final Pattern FUSED = Pattern.compile("model\\.layers\\.(\\d+)\\.(self_attn\\.qkv_proj|mlp\\.gate_up_proj)\\.weight");

    /** A q_proj or k_proj weight (Cohere's and GLM's rows are reordered as they load). */
    private static final Pattern QK = Pattern.compile("model\\.layers\\.(\\d+)\\.self_attn\\.(q|k)_proj\\.weight");

    /** One adapted projection of a layer: A (G, r, K) and s·B (G, N, r) in the model's dtype. */
    record Pair(Tensor a, Tensor b, int rank) {}

    private final Transformer model;
    private final Entry[] resident;               // per slot: the adapter it holds, or null (a free slot)
    private final int[] pins;                     // per slot: the sequences running through it (acquire / release)
    private final long[] lastUse;                 // per slot: when it was last acquired or released (least recently used goes first)
    private long clock, registrations, swaps;
    private final LinkedHashMap<String, Entry> registered = new LinkedHashMap<>();     // every adapter requests may name, in order
    private int hostCapacity = Integer.MAX_VALUE;  // parsed adapters kept in host memory (vLLM's --max-cpu-loras)
    private final LinkedHashMap<String, Entry> hostCache = new LinkedHashMap<>(16, 0.75f, true);   // access order: eldest first
    private final IdentityHashMap<Weights.Attention, Pair[]> attention = new IdentityHashMap<>();   // [Q, K, V, O]
    private final IdentityHashMap<Weights.Mlp, Pair[]> mlp = new IdentityHashMap<>();               // [GATE_PROJ, UP_PROJ, DOWN]
    private final List<Tensor> owned = new ArrayList<>();
    private volatile boolean closed;

    /**
     * A registered adapter: its name, the folder it was read from (read again when the host cache dropped it), its
     * registration (1, 2, …: an adapter unregistered and registered again under one name is another), and its parsed form
     * while the host cache holds it (always, where it cannot be read again).
     */
    private static final class Entry {
        final String name;
        final Path dir;
        final long id;
        final boolean rereadable;
        LoraAdapter adapter;

        Entry(String name, LoraAdapter adapter, long id) {
            this.name = name;
            this.dir = adapter.dir();
            this.id = id;
            this.adapter = adapter;
            this.rereadable = dir != null && java.nio.file.Files.isRegularFile(dir.resolve("adapter_config.json"));
        }
    }

    private final String type;                    // the model's config.json model_type

    private LoraSlots(Transformer model, String type, int capacity) {
        this.model = model;
        this.type = type;
        this.resident = new Entry[capacity];
        this.pins = new int[capacity];
        this.lastUse = new long[capacity];
    }

    /**
     * Reads the adapter folders ({@code name → folder}, in slot order) for {@code model}, loaded from {@code modelDir}
     * (its config.json names the family), and uploads them to the model's backend: one slot each, exactly their
     * projections and ranks. A CheckpointException names the adapter and what does not fit.
     */
    public static LoraSlots load(Transformer model, Path modelDir, Map<String, Path> adapters) throws IOException {
        return of(model, HfConfig.read(modelDir).modelType(), read(adapters));
    }

    /**
     * The same with room for adapters loaded later ({@link #add}; vLLM's {@code --max-loras}, {@code --max-lora-rank}):
     * {@code capacity} slots, every projection of the model at rank {@code maxRank}; {@code adapters} (may be empty, may
     * be more than the slots) are registered, the first {@code capacity} of them loaded into slots.
     */
    public static LoraSlots load(Transformer model, Path modelDir, Map<String, Path> adapters, int capacity, int maxRank) throws IOException {
        return load(model, modelDir, adapters, capacity, maxRank, Integer.MAX_VALUE);
    }

    /**
     * The general form: {@code capacity} device slots (vLLM's {@code --max-loras}: the most adapters one pass runs), of
     * every projection at rank {@code maxRank}, or (maxRank 0) of exactly the projections and ranks {@code adapters}
     * adapt; at most {@code hostCache} parsed adapters kept in host memory (vLLM's {@code --max-cpu-loras}; the others are
     * read again from their folders when a request needs them in a slot). Any number of adapters may be registered: those
     * past the slots are swapped into a slot whose adapter no running sequence uses ({@link #acquire}).
     */
    public static LoraSlots load(Transformer model, Path modelDir, Map<String, Path> adapters, int capacity, int maxRank, int hostCache)
            throws IOException {
        String type = HfConfig.read(modelDir).modelType();
        checkModel(model, type);
        checkLimits(capacity, maxRank, hostCache);
        Map<String, LoraAdapter> kept = new LinkedHashMap<>();
        Map<Integer, Map<Target, Integer>> ranks = maxRank > 0 ? everyProjection(model, maxRank) : new java.util.TreeMap<>();
        if (maxRank == 0) {                        // sized by the adapters: each read once here, at most hostCache kept
            if (adapters.isEmpty()) throw new IllegalArgumentException("no adapters given to size the slots by (give a largest rank)");
            for (var e : adapters.entrySet()) {
                LoraAdapter ad = LoraAdapter.read(e.getValue());
                checkName(e.getKey());
                merge(ranks, parse(model, type, e.getKey(), ad));
                if (kept.size() < hostCache) kept.put(e.getKey(), ad);
            }
        }
        LoraSlots out = build(model, type, Map.of(), capacity, ranks);
        try {
            out.hostCache(hostCache);
            for (var e : adapters.entrySet()) {
                LoraAdapter ad = kept.get(e.getKey());
                out.add(e.getKey(), ad != null ? ad : LoraAdapter.read(e.getValue()));
            }
        } catch (IOException | RuntimeException e) {
            out.close();
            throw e;
        }
        return out;
    }

    private static Map<String, LoraAdapter> read(Map<String, Path> adapters) throws IOException {
        Map<String, LoraAdapter> read = new LinkedHashMap<>();
        for (var e : adapters.entrySet()) read.put(e.getKey(), LoraAdapter.read(e.getValue()));
        return read;
    }

    /** {@link #load(Transformer, Path, Map)} from adapters already read; {@code modelType} is the model's config.json model_type. */
    public static LoraSlots of(Transformer model, String modelType, Map<String, LoraAdapter> adapters) throws CheckpointException {
        if (adapters.isEmpty()) throw new IllegalArgumentException("no adapters given");
        return of(model, modelType, adapters, adapters.size());
    }

    /**
     * Exactly the projections and ranks of {@code adapters}, in {@code capacity} slots: with fewer slots than adapters, the
     * others are registered and swapped in when a request needs them ({@link #acquire}).
     */
    public static LoraSlots of(Transformer model, String modelType, Map<String, LoraAdapter> adapters, int capacity) throws CheckpointException {
        if (adapters.isEmpty()) throw new IllegalArgumentException("no adapters given");
        checkModel(model, modelType);
        checkLimits(capacity, 0, Integer.MAX_VALUE);
        Map<Integer, Map<Target, Integer>> ranks = new java.util.TreeMap<>();
        for (var e : adapters.entrySet()) {
            checkName(e.getKey());
            merge(ranks, parse(model, modelType, e.getKey(), e.getValue()));
        }
        return build(model, modelType, adapters, capacity, ranks);
    }

    /** {@link #load(Transformer, Path, Map, int, int)} from adapters already read. */
    public static LoraSlots of(Transformer model, String modelType, Map<String, LoraAdapter> adapters, int capacity, int maxRank)
            throws CheckpointException {
        checkModel(model, modelType);
        if (maxRank < 1) throw new IllegalArgumentException("LoRA slots: the largest rank must be ≥ 1, got " + maxRank);
        checkLimits(capacity, maxRank, Integer.MAX_VALUE);
        return build(model, modelType, adapters, capacity, everyProjection(model, maxRank));
    }

    private static void checkLimits(int capacity, int maxRank, int hostCache) {
        if (capacity < 1) throw new IllegalArgumentException("LoRA slots: the number of slots must be ≥ 1, got " + capacity);
        if (maxRank < 0) throw new IllegalArgumentException("LoRA slots: the largest rank must be ≥ 1 (0: the adapters' own), got " + maxRank);
        checkHostCache(hostCache, capacity);
    }

    private static void checkHostCache(int hostCache, int capacity) {
        if (hostCache < capacity) {
            throw new IllegalArgumentException("LoRA slots: the host cache (" + hostCache + " adapters, --max-cpu-loras) must hold at least the "
                    + capacity + " slots' (--max-loras)");
        }
    }

    /** Every projection of the model at rank r. */
    private static Map<Integer, Map<Target, Integer>> everyProjection(Transformer model, int r) {
        Map<Integer, Map<Target, Integer>> ranks = new java.util.TreeMap<>();
        List<Weights.Layer> layers = model.weights.decoder.layers();
        for (int l = 0; l < layers.size(); l++) {
            for (Target t : Target.values()) {
                if (weightOf(layers.get(l), t) != null) ranks.computeIfAbsent(l, x -> new java.util.EnumMap<>(Target.class)).put(t, r);
            }
        }
        return ranks;
    }

    /** Widens {@code ranks} to hold an adapter's deltas. */
    private static void merge(Map<Integer, Map<Target, Integer>> ranks, Map<Integer, Map<Target, LoraAdapter.Delta>> deltas) {
        for (var le : deltas.entrySet()) {
            for (var te : le.getValue().entrySet()) {
                ranks.computeIfAbsent(le.getKey(), x -> new java.util.EnumMap<>(Target.class)).merge(te.getKey(), te.getValue().rank(), Math::max);
            }
        }
    }

    private static void checkModel(Transformer model, String modelType) {
        PagedBatch.requireDecoderOnly(model);
        if (!TYPES.contains(modelType)) {
            throw new IllegalArgumentException("per-request LoRA adapters are served for the Llama-style families " + new java.util.TreeSet<>(TYPES)
                    + "; this model is " + modelType + " (merge an adapter into it instead: Pretrained.load(dir, backend, dtype, adapter), t4j --lora)");
        }
    }

    /** Zero slots for these projections and ranks, then the adapters added in order. */
    private static LoraSlots build(Transformer model, String type, Map<String, LoraAdapter> adapters, int capacity,
                                   Map<Integer, Map<Target, Integer>> ranks)
            throws CheckpointException {
        LoraSlots out = new LoraSlots(model, type, capacity);
        List<Weights.Layer> layers = model.weights.decoder.layers();
        try {
            for (var le : ranks.entrySet()) {
                Weights.Layer layer = layers.get(le.getKey());
                for (var te : le.getValue().entrySet()) {
                    Target t = te.getKey();
                    long[] w = weightOf(layer, t);
                    int r = te.getValue();
                    long n = w[0], k = w[1];
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
    private static Map<Integer, Map<Target, LoraAdapter.Delta>> parse(Transformer model, String type, String name, LoraAdapter ad) throws CheckpointException {
        List<Weights.Layer> layers = model.weights.decoder.layers();
        Map<Integer, Map<Target, LoraAdapter.Delta>> out = new java.util.TreeMap<>();
        for (var d : split(model, type, name, ad).entrySet()) {
            if (d.getValue().whole() != null) {
                throw new CheckpointException(ad.dir(), "adapter " + name + " replaces " + d.getKey() + " whole (modules_to_save): per-request"
                        + " adapters add s · B · A only; merge this adapter into the model instead (Pretrained.load with it, t4j --lora)");
            }
            Matcher m = NAME.matcher(d.getKey());
            if (!m.matches()) {
                throw new CheckpointException(ad.dir(), "adapter " + name + " adapts " + d.getKey() + "; per-request adapters take the"
                        + " projections model.layers.i.self_attn.{q,k,v,o}_proj and model.layers.i.mlp.{gate,up,down}_proj (Phi-3's"
                        + " self_attn.qkv_proj and mlp.gate_up_proj, GLM's mlp.gate_up_proj)");
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
            long[] w = weightOf(layer, t);
            if (w == null) {
                throw new CheckpointException(ad.dir(), "adapter " + name + " adapts layer " + l + "'s " + t.module + (layer.mlp().moe() != null
                        && t.block.equals("mlp") ? ", a mixture-of-experts layer: LoRA on its experts is not served per request"
                        : ", which this model does not have"));
            }
            LoraAdapter.Delta dd = d.getValue();
            long n = w[0], k = w[1];
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
     * How many of each head's first q / k rows the family's loader reorders for rotate_half: Cohere's and ERNIE 4.5's whole head (HfCohere, HfErnie45),
     * GLM's rotary dims, int(head_dim · partial_rotary_factor) (HfGlm); 0 where they load as stored.
     */
    private static int reorderedRotary(String type, TransformerConfig c) {
        return switch (type) {
            case "cohere", "cohere2", "ernie4_5" -> c.headSize();        // HfErnie45: the whole head, as Cohere's
            case "glm", "glm4" -> c.rope().rotaryDim();
            default -> 0;
        };
    }

    /** The fused projections a family's checkpoints store, which PEFT adapts as stored (a family's modules, no others). */
    private static Set<String> fusedModules(String type) {
        return switch (type) {
            case "phi3" -> Set.of("qkv_proj", "gate_up_proj");
            case "glm", "glm4" -> Set.of("gate_up_proj");
            default -> Set.of();
        };
    }

    /** The projections each fused one holds: names that a family storing the fused one does not have. */
    private static final Map<String, Set<String>> FUSED_PARTS = Map.of("qkv_proj", Set.of("q_proj", "k_proj", "v_proj"),
            "gate_up_proj", Set.of("gate_proj", "up_proj"));

    /**
     * The adapter's deltas by weight name, Phi-3's fused ones split as its loader splits the weights: qkv_proj's B rows into
     * q_proj's, k_proj's and v_proj's (PEFT's one A shared by the three), gate_up_proj's (Phi-3's and GLM's) into gate_proj's
     * and up_proj's; Cohere's and GLM's q_proj / k_proj lora_B rows reordered as their loaders reorder the weights' rows.
     * Refused by name: a fused module the family does not store, or a part of one it stores fused (Phi-3's q_proj, GLM's
     * gate_proj: no such module in its checkpoints, so no adapter trained on it names one).
     */
    private static Map<String, LoraAdapter.Delta> split(Transformer model, String type, String name, LoraAdapter ad)
            throws CheckpointException {
        Map<String, LoraAdapter.Delta> out = new LinkedHashMap<>();
        TransformerConfig c = model.config;
        int rotary = reorderedRotary(type, c);
        Set<String> fused = fusedModules(type);
        for (var d : ad.deltas().entrySet()) {
            Matcher m = FUSED.matcher(d.getKey());
            LoraAdapter.Delta dd = d.getValue();
            String module = d.getKey().endsWith(".weight") ? d.getKey().substring(0, d.getKey().length() - ".weight".length()) : d.getKey();
            String leaf = module.substring(module.lastIndexOf('.') + 1);
            if (m.matches() && !fused.contains(leaf) || fused.stream().anyMatch(f -> FUSED_PARTS.get(f).contains(leaf)) && NAME.matcher(d.getKey()).matches()) {
                throw new CheckpointException(ad.dir(), "adapter " + name + " adapts " + module + ", which " + type + " does not have (its"
                        + " checkpoints store " + (fused.isEmpty() ? "q_proj, k_proj, v_proj, gate_proj and up_proj apart" : "fused " + fused) + ")");
            }
            Matcher qk = QK.matcher(d.getKey());
            int heads = !qk.matches() ? 0 : qk.group(2).equals("q") ? c.heads() : c.kvHeads(), hs = c.headSize(), r = dd.rank();
            if (rotary > 0 && heads > 0 && dd.whole() == null && dd.b().length == (long) heads * hs * r) {
                // Cohere's and GLM's loaders reorder each head's first `rotary` q / k rows for rotate_half (HfNeox.rotaryOrder):
                // lora_B's rows alike (a lora_B of another size is left as it is, for parse's shape check to refuse)
                long[] order = HfNeox.rotaryOrder(heads, hs, rotary);
                float[] b = new float[dd.b().length];
                for (int row = 0; row < order.length; row++) System.arraycopy(dd.b(), Math.toIntExact(order[row] * r), b, row * r, r);
                out.put(d.getKey(), new LoraAdapter.Delta(dd.module(), dd.a(), b, r, dd.scale(), null, null));
                continue;
            }
            if (!m.matches() || dd.whole() != null) {
                out.put(d.getKey(), dd);
                continue;
            }
            String layer = "model.layers." + m.group(1) + ".";
            boolean qkv = m.group(2).endsWith("qkv_proj");
            long q = (long) c.heads() * c.headSize(), kv = (long) c.kvHeads() * c.headSize(), f = c.mlpWidth();
            long[] rows = qkv ? new long[] {q, kv, kv} : new long[] {f, f};
            String[] names = qkv ? new String[] {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"}
                    : new String[] {"mlp.gate_proj", "mlp.up_proj"};
            long total = java.util.Arrays.stream(rows).sum();
            if (dd.b().length != total * r) {
                throw new CheckpointException(ad.dir(), "adapter " + name + ": " + d.getKey() + "'s lora_B has " + dd.b().length / r
                        + " rows; the model's fused projection has " + total);
            }
            long from = 0;
            for (int i = 0; i < rows.length; i++) {
                float[] b = java.util.Arrays.copyOfRange(dd.b(), Math.toIntExact(from * r), Math.toIntExact((from + rows[i]) * r));
                out.put(layer + names[i] + ".weight", new LoraAdapter.Delta(dd.module(), dd.a(), b, r, dd.scale(), null, null));
                from += rows[i];
            }
        }
        return out;
    }

    /**
     * Registers adapter {@code name}, so that requests may name it, and loads it into a free slot if one is free: returns
     * the slot, or −1 where every slot holds an adapter (it is then swapped in when a request needs it, {@link #acquire}).
     * Refused by name: a name already registered, a projection the slots hold no room for, a rank above the slots' (and
     * what {@link #of} refuses). Not while a pass runs: the engine calls it between steps
     * ({@link org.transformer4j.model.engine.Engine#loadAdapter}).
     */
    public synchronized int add(String name, LoraAdapter ad) throws CheckpointException {
        if (closed) throw new IllegalStateException("these LoRA slots are closed");
        checkName(name);
        if (registered.containsKey(name)) throw new IllegalArgumentException("an adapter named '" + name + "' is loaded already");
        Map<Integer, Map<Target, LoraAdapter.Delta>> deltas = fit(name, ad);
        Entry e = new Entry(name, ad, ++registrations);
        registered.put(name, e);
        hostCache.put(name, e);
        int slot = -1;
        for (int i = 0; i < resident.length && slot < 0; i++) if (resident[i] == null) slot = i;
        if (slot >= 0) {
            write(slot, deltas);
            resident[slot] = e;
            lastUse[slot] = ++clock;
        }
        trimHostCache();
        return slot;
    }

    /** The adapter's deltas, checked against the model and the slots' projections and ranks. */
    private Map<Integer, Map<Target, LoraAdapter.Delta>> fit(String name, LoraAdapter ad) throws CheckpointException {
        Map<Integer, Map<Target, LoraAdapter.Delta>> deltas = parse(model, type, name, ad);
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
        return deltas;
    }

    /** Every projection of the slots in slot {@code slot}: the adapter's A and s·B where it has a delta, zeros elsewhere. */
    private void write(int slot, Map<Integer, Map<Target, LoraAdapter.Delta>> deltas) {
        List<Weights.Layer> layers = model.weights.decoder.layers();
        for (int l = 0; l < layers.size(); l++) {
            Map<Target, LoraAdapter.Delta> here = deltas.getOrDefault(l, Map.of());
            for (Target t : Target.values()) {
                Pair p = pair(layers.get(l), t);
                if (p != null) write(p, slot, here.get(t));
            }
        }
    }

    /** Drops the least recently used parsed adapters past the host cache's size (those that can be read again). */
    private void trimHostCache() {
        int over = hostCache.size() - hostCapacity;
        for (var it = hostCache.values().iterator(); it.hasNext() && over > 0; ) {
            Entry e = it.next();
            if (!e.rereadable) continue;                        // nowhere to read it again from: kept
            e.adapter = null;
            it.remove();
            over--;
        }
    }

    /**
     * Sets how many parsed adapters stay in host memory (vLLM's {@code --max-cpu-loras}; at least the slots); the least
     * recently used of the others are dropped and read again from their folders when a slot needs them. Returns this.
     */
    public synchronized LoraSlots hostCache(int adapters) {
        checkHostCache(adapters, resident.length);
        hostCapacity = adapters;
        trimHostCache();
        return this;
    }

    /**
     * Adapter {@code name}'s slot for one more sequence (pinned until {@link #release}): the slot it is in, else a free
     * slot, else the least recently used slot no sequence holds, into which it is loaded (from the host cache or read again
     * from its folder). −1 where every slot is held by sequences of other adapters: the caller waits for one to be
     * released. An unknown name is an IllegalArgumentException; an adapter that cannot be read again, an
     * IllegalStateException naming its folder.
     */
    public synchronized int acquire(String name) {
        if (closed) throw new IllegalStateException("these LoRA slots are closed");
        Entry e = registered.get(name);
        if (e == null) throw new IllegalArgumentException("no LoRA adapter named '" + name + "' is loaded; loaded: " + names());
        int slot = slot(name);
        if (slot < 0) {
            for (int i = 0; i < resident.length; i++) {
                if (pins[i] > 0) continue;
                if (slot < 0 || resident[slot] != null && (resident[i] == null || lastUse[i] < lastUse[slot])) slot = i;   // free, else LRU
            }
            if (slot < 0) return -1;
            LoraAdapter ad = e.adapter;
            if (ad == null) {
                try {
                    ad = LoraAdapter.read(e.dir);
                } catch (IOException ex) {
                    throw new IllegalStateException("LoRA adapter '" + name + "' could not be read again from " + e.dir + ": " + ex.getMessage(), ex);
                }
            }
            Map<Integer, Map<Target, LoraAdapter.Delta>> deltas;
            try {
                deltas = fit(name, ad);
            } catch (CheckpointException ex) {              // its folder changed since it was registered
                throw new IllegalStateException("LoRA adapter '" + name + "' read again from " + e.dir + " no longer fits: " + ex.getMessage(), ex);
            }
            resident[slot] = null;                          // until it is written whole
            write(slot, deltas);
            resident[slot] = e;
            swaps++;
            if (e.adapter == null) e.adapter = ad;
            hostCache.put(name, e);
            trimHostCache();
        } else {
            hostCache.get(name);                            // touched: the most recently used
        }
        pins[slot]++;
        lastUse[slot] = ++clock;
        return slot;
    }

    /** One sequence fewer holds {@code slot} (it ended, or left the batch); when none does, it may take another adapter. */
    public synchronized void release(int slot) {
        if (slot < 0 || slot >= pins.length || pins[slot] <= 0) throw new IllegalStateException("LoRA slot " + slot + " is not held");
        pins[slot]--;
        lastUse[slot] = ++clock;
    }

    /**
     * Unregisters adapter {@code name} and frees its slot (its tensors are rewritten by the next load); refused while a
     * sequence holds it. The engine also checks that no waiting request names it ({@code Engine#unloadAdapter}).
     */
    public synchronized void remove(String name) {
        Entry e = registered.get(name);
        if (e == null) throw new IllegalArgumentException("no LoRA adapter named '" + name + "' is loaded; loaded: " + names());
        for (int i = 0; i < resident.length; i++) {
            if (resident[i] != e) continue;
            if (pins[i] > 0) throw new IllegalStateException("LoRA adapter '" + name + "' is in use by " + pins[i] + " sequence(s)");
            resident[i] = null;
        }
        registered.remove(name);
        hostCache.remove(name);
        e.adapter = null;
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

    /** The shape (N, K) of the model's weight that target t adapts in this layer (dense or in 4 bits), or null where it has none. */
    private static long[] weightOf(Weights.Layer layer, Target t) {
        Weights.Attention a = layer.self();
        Weights.Mlp m = layer.mlp();
        return switch (t) {
            case Q -> shape(a.q(), a.q4());
            case K -> shape(a.k(), a.k4());
            case V -> shape(a.v(), a.v4());
            case O -> shape(a.o(), a.o4());
            case GATE_PROJ -> m.moe() != null ? null : shape(m.up(), m.up4());         // ours: act(up) ⊙ gate, up ← gate_proj
            case UP_PROJ -> m.moe() != null ? null : shape(m.gate(), m.gate4());
            case DOWN -> m.moe() != null ? null : shape(m.down(), m.down4());
        };
    }

    private static long[] shape(Tensor w, org.transformer4j.runtime.Int4 w4) {
        return w4 != null ? new long[] {w4.rows(), w4.cols()} : w == null ? null : new long[] {w.shape(0), w.shape(1)};
    }

    /** A pass's adapters: these slots, and the group offsets (G + 1, I32 on the backend) of its rows. */
    record Route(LoraSlots slots, Tensor offsets) {}

    /** The names requests may give: every registered adapter, in the order registered (in a slot or not). */
    public synchronized List<String> names() { return List.copyOf(registered.keySet()); }

    /** Whether requests may name adapter {@code name}. */
    public synchronized boolean contains(String name) { return registered.containsKey(name); }

    /** Per slot, the adapter it holds (null: free). */
    public synchronized List<String> resident() {
        List<String> out = new ArrayList<>();
        for (Entry e : resident) out.add(e == null ? null : e.name);
        return out;
    }

    /** The adapters whose parsed form is in host memory, least recently used first. */
    public synchronized List<String> hostCached() { return List.copyOf(hostCache.keySet()); }

    /** How many times an adapter was loaded into a slot another had held or that was free after start-up ({@link #acquire}). */
    public synchronized long swaps() { return swaps; }

    /** Slots: G (held or free). */
    public int size() { return resident.length; }

    /** The slot adapter {@code name} is in, or −1 (not registered, or not in a slot now). */
    public synchronized int slot(String name) {
        for (int i = 0; i < resident.length; i++) if (resident[i] != null && resident[i].name.equals(name)) return i;
        return -1;
    }

    /**
     * Adapter {@code name}'s registration (1, 2, …; 0 where none is called so): a request that named it under one
     * registration is stale once it was unloaded, and another registered under its name.
     */
    public synchronized long registration(String name) {
        Entry e = registered.get(name);
        return e == null ? 0 : e.id;
    }

    /** The folder adapter {@code name} was read from, or null where none is called so. */
    public synchronized Path dir(String name) {
        Entry e = registered.get(name);
        return e == null ? null : e.dir;
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
        int[] rows = new int[slots.length];
        java.util.Arrays.fill(rows, rowsPerSeq);
        return offsets(slots, rows);
    }

    /** {@link #offsets(int[], int)} with sequence i {@code rows[i]} rows long (a packed pass's chunks of several lengths). */
    int[] offsets(int[] slots, int[] rows) {
        if (rows.length != slots.length) throw new IllegalArgumentException(slots.length + " adapter slots for " + rows.length + " sequences");
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
            off[s + 1] += rows[i];
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
