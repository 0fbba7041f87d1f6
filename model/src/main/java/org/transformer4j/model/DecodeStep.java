// DecodeStep — one token per sequence through the decoder with every per-step input in device
// tensors, so that the step is captured once into a graph and replayed: on CUDA one graph launch
// per token instead of ~100 kernel launches from Java.
package org.transformer4j.model;

import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.DecodeOp;
import org.transformer4j.runtime.Graph;
import org.transformer4j.runtime.KvAppendOp;
import org.transformer4j.runtime.PagedKvCache;
import org.transformer4j.runtime.RelativeBias;
import org.transformer4j.runtime.Tensor;

/**
 * Owned by a {@link KvState} (made on its first step, closed with it). Each step writes one I32
 * (4, B) tensor — token, position, cache length before and after the append — with one host copy,
 * then runs the step: eagerly the first time (which also sets up cuBLAS and workspaces), captured
 * into a {@link Graph} the second time, replayed from then on. The graph's tensors (activations,
 * logits) live here until close. The block table lives here too, in an I32 (B·maxBlocks) tensor made
 * once for the state's largest table and copied from the host whenever the state took blocks, so
 * that blocks can join a sequence between replays (the graph reads the tensor's contents). Host
 * values the graph freezes are constants of the state: the memory's packed offsets, the batch size;
 * the pool's caches are constants until the pool grows, and then the step is captured again. Both
 * backends capture (the CPU backend's graph is its twin: it freezes host values the same way and
 * reads the table tensor), so the tests of the cached path test the captured step.
 */
final class DecodeStep implements AutoCloseable {

    private final Transformer model;
    private final KvState st;
    private final Backend backend;
    private final int batch;
    private final Tensor meta;                    // I32 (4, B)
    private final Tensor ids, positions;          // (B, 1) views of meta rows 0 and 1
    private final Tensor before, after;           // (B) views of rows 2 and 3
    private final Tensor typeIds;                 // zeros (B, 1) for models with token types
    private final Tensor logits;                  // (B, 1, V), in the model's dtype
    private final Tensor table;                   // I32 (B·maxBlocks): the state's block table
    private final Tensor loraOffsets;             // I32 (G + 1): the rows of each adapter slot (LoraSlots), or null
    private int[] loraCopied;                     // what loraOffsets holds
    private int tableVersion = -1;                // the state's table version copied into table
    // per mode: [0] no row through a LoRA adapter (the adapters' ops left out), [1] some row through one
    private final int[] graphGeneration = new int[2];   // the pool generation whose caches each graph uses
    private boolean useGraph;
    private final Scratch[] graphScratch = new Scratch[2];   // each captured step's tensors
    private final Graph[] graph = new Graph[2];
    private final int[] steps = new int[2];
    private int mode;                             // the last step's
    private String graphFailure;

    DecodeStep(Transformer model, KvState st, boolean useGraph) {
        this.model = model;
        this.st = st;
        this.backend = model.backend;
        this.batch = st.batch;
        this.useGraph = useGraph;
        Tensor m = null, types = null, out = null, tab = null, lo = null;
        try {
            if (st.lora != null) lo = backend.empty(DType.I32, st.lora.size() + 1L);
            m = backend.empty(DType.I32, 4, batch);
            tab = backend.empty(DType.I32, st.blockTable.length);
            if (model.weights.embeddings.types() != null) {
                try (Tensor zeros = Tensor.ofInts(new int[batch], batch, 1)) {
                    types = backend.upload(zeros);
                }
            }
            out = backend.empty(model.dtype, batch, 1, model.config.vocabSize());
        } catch (RuntimeException e) {
            for (Tensor t : new Tensor[] {m, types, out, tab, lo}) if (t != null) t.close();
            throw e;
        }
        loraOffsets = lo;
        meta = m;
        table = tab;
        typeIds = types;
        logits = out;
        ids = meta.slice(0, 0, 1).view(batch, 1);
        positions = meta.slice(0, 1, 2).view(batch, 1);
        before = meta.slice(0, 2, 3).view(batch);
        after = meta.slice(0, 3, 4).view(batch);
    }

    /** Whether the last step was replayed from a captured graph. */
    boolean graphed() { return graph[mode] != null; }

    /** Why capturing failed (the step then runs eagerly), or null. */
    String graphFailure() { return graphFailure; }

    /**
     * Runs one step for tokens (B) at cache lengths {@code lengths} (B, before the append; checked by
     * the caller) and returns the logits (B, 1, V), valid until the next step.
     */
    Tensor run(int[] tokens, int[] lengths) {
        int[] m = new int[4 * batch];
        for (int b = 0; b < batch; b++) {
            m[b] = tokens[b];
            m[batch + b] = lengths[b];              // the new token's position: after every cached row
            m[2 * batch + b] = lengths[b];
            m[3 * batch + b] = lengths[b] + 1;
        }
        try (Tensor h = Tensor.ofInts(m, 4, batch)) {
            backend.copyFromHost(h, meta);
        }
        if (tableVersion != st.tableVersion()) {
            try (Tensor h = Tensor.ofInts(st.blockTable, st.blockTable.length)) {
                backend.copyFromHost(h, table);
            }
            tableVersion = st.tableVersion();
        }
        mode = 0;
        if (loraOffsets != null) {                  // this step's rows of each adapter (read by the graph from the tensor)
            int[] off = st.lora.offsets(st.adapterSlots, 1);
            if (!java.util.Arrays.equals(off, loraCopied)) {
                try (Tensor h = Tensor.ofInts(off, off.length)) {
                    backend.copyFromHost(h, loraOffsets);
                }
                loraCopied = off;
            }
            mode = off[off.length - 1] > 0 ? 1 : 0;   // a step of base rows only runs without the adapters' ops
        }
        int i = mode;
        if (graph[i] != null && graphGeneration[i] != st.generation()) dropGraph(i);   // the pool grew: new caches
        if (graph[i] == null && useGraph && steps[i] > 0) capture(i);
        if (graph[i] != null) {
            graph[i].replay();
        } else {
            try (Scratch s = new Scratch(backend)) {
                work(s, i == 1);
            }
        }
        steps[i]++;
        return logits;
    }

    private void dropGraph(int i) {
        graph[i].close();
        graphScratch[i].close();
        graph[i] = null;
        graphScratch[i] = null;
    }

    private void capture(int i) {
        Scratch s = new Scratch(backend);
        try {
            graphGeneration[i] = st.generation();
            graph[i] = backend.capture(() -> work(s, i == 1));
            graphScratch[i] = s;
        } catch (RuntimeException e) {
            s.close();
            useGraph = false;                       // run eagerly from now on, and say why
            graphFailure = e.toString();
        }
    }

    /** The step's ops: embed → decoder stack (append + decode per layer) → logits; with the adapters' ops where {@code adapted}. */
    private void work(Scratch s, boolean adapted) {
        if (adapted) s.lora = new LoraSlots.Route(st.lora, loraOffsets);
        Tensor x = s.empty(model.dtype, batch, 1, model.config.modelWidth());
        model.embedInto(ids, 0, positions, typeIds, x);
        RelativeBias bias = model.relativeBias(model.weights.decoder, model.decoderBidirectional());
        Transformer.RopeAt rope = model.config.rope() == null ? null : new Transformer.RopeAt(positions, after);
        Tensor h = model.runStack(s, model.weights.decoder, x, l -> new Self(s, st.cache(l, table), bias, model.ropeAt(l, rope), model.config.window(l)),
                st.crossK == null ? null : l -> model.new PackedCross(s, st.crossK[l], st.crossV[l], st.cuMemory));
        model.logitsInto(h, logits);
    }

    /** Self-attention of the new token: append its K/V at {@code before}, attend to {@code after} rows. */
    private final class Self implements Transformer.Attend {
        final Scratch s;
        final PagedKvCache cache;
        final RelativeBias bias;
        final Transformer.RopeAt rope;
        final int window;

        Self(Scratch s, PagedKvCache cache, RelativeBias bias, Transformer.RopeAt rope, int window) {
            this.s = s; this.cache = cache; this.bias = bias; this.rope = rope; this.window = window;
        }

        @Override public boolean cached() { return true; }
        @Override public Transformer.RopeAt rope() { return rope; }
        @Override public int window() { return window; }

        @Override
        public Tensor attend(Tensor q, Tensor k, Tensor v, Tensor sinks) {                                   // k, v (B, 1, NKV, HS)
            backend.kvAppend(KvAppendOp.of(cache, before, k, v));
            Tensor out = s.like(q);                                                             // (B, 1, NH, HS)
            backend.decode(DecodeOp.of(q, cache, null, out).lengths(after).scale(model.config.attentionScale()).bias(bias)
                    .window(window).softcap(model.config.attentionSoftcap()).sinks(sinks).alibi(model.weights.alibiSlopes));
            return out;
        }
    }

    @Override
    public void close() {
        for (int i = 0; i < 2; i++) {
            if (graph[i] != null) graph[i].close();
            if (graphScratch[i] != null) graphScratch[i].close();
        }
        logits.close();
        table.close();
        if (loraOffsets != null) loraOffsets.close();
        if (typeIds != null) typeIds.close();
        meta.close();
    }
}
