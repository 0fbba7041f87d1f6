// Transformer — one configurable transformer that runs every architecture of DESIGN.md's table
// (encoder-decoder, encoder-only, decoder-only, prefix-LM, and each of the four steps between them)
// with the same code on any Backend: full forward passes here, cached inference through KvState.
// Task heads are in TaskHeads, scoring in Scoring, attention-weight inspection in Inspection.
// Why ~760 lines: the full and the cached forward passes share one block and its attention
// variants (inner classes over this model's weights); the file reads top to bottom as forward
// passes → cached inference → the block → attention variants → encoder/decoder → pieces.
package org.transformer4j.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.transformer4j.model.TransformerConfig.Architecture;
import org.transformer4j.model.TransformerConfig.NormPlacement;
import org.transformer4j.runtime.Activation;
import org.transformer4j.runtime.AttentionOp;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.DecodeOp;
import org.transformer4j.runtime.DisentangledBias;
import org.transformer4j.runtime.EmbeddingOp;
import org.transformer4j.runtime.GatherRowsOp;
import org.transformer4j.runtime.GemmOp;
import org.transformer4j.runtime.ActivationOp;
import org.transformer4j.runtime.GroupedLinearOp;
import org.transformer4j.runtime.KvAppendOp;
import org.transformer4j.runtime.Int4;
import org.transformer4j.runtime.LinearOp;
import org.transformer4j.runtime.MoeCombineOp;
import org.transformer4j.runtime.MoeRouteOp;
import org.transformer4j.runtime.MoeRouting;
import org.transformer4j.runtime.NormOp;
import org.transformer4j.runtime.PagedKvCache;
import org.transformer4j.runtime.RelativeBias;
import org.transformer4j.runtime.RopeOp;
import org.transformer4j.runtime.SoftcapOp;
import org.transformer4j.runtime.Tensor;

/**
 * A block reads like the math (pre-LN: {@code x = x + attn(norm(x)); x = x + mlp(norm(x))}; post-LN:
 * {@code x = norm(x + attn(x)); x = norm(x + mlp(x))}), with a cross-attention line between them in
 * decoder layers of encoder-decoders. How a layer attends is a small {@link Attend} object, so the same
 * block serves the encoder, the decoder, full passes and cached decoding.
 *
 * <p>The four steps ({@link TransformerConfig}): step 1 drops the cross-attention line and lets the
 * self-attention see [memory ; target] (memory K/V from the layer's own projections, target positions
 * continuing after the input's); step 2 is in {@link Weights} (one stack); step 3 picks, per decoder
 * layer i, encoder layer i's input as memory instead of the encoder's output; step 4 makes the
 * encoder's mask causal.
 *
 * <p>The model computes in its weights' dtype ({@link Weights#dtype}, chosen with {@link Weights#to}):
 * activations, KV caches and logits are stored in it, the ops accumulate in fp32. All public results
 * are host arrays, fp32 (converted on the host).
 *
 * <p><b>Threads.</b> A Transformer (with its Weights and Backend) may be shared: any number of threads
 * may run forward passes, scoring and generation on it at once, each with its own {@link KvState},
 * {@link TokenStream} or {@link ChatSession} — those three are not thread-safe and belong to one
 * thread at a time (ThreadSafetyTest: 8 threads, greedy and seeded sampling, F32 and BF16, equal to
 * sequential runs). On CUDA see {@link org.transformer4j.runtime.Backend}'s note on graph capture.
 * Bad input: IllegalArgumentException naming the problem; closed weights, states or backends:
 * IllegalStateException; non-finite logits in generation: {@link NonFiniteLogitsException}.
 */
public final class Transformer {

    public final TransformerConfig config;
    public final Weights weights;
    public final Backend backend;
    /** The compute dtype: the weights', F32, F16 or BF16. */
    public final DType dtype;
    final boolean pre;
    /**
     * Whether this model's KV cache holds MLA's latent rows (DeepSeek-V2 / V3: [k_pe ; RMSNorm(c)], ropeDim + kvLoraRank
     * values per token and layer, one "head" that is key and value alike) and its cached passes attend there through the
     * absorbed projections, as vLLM's MLA backends decode — where the backend runs that head size (the CPU's ops; CUDA's
     * kernels stop at 256, so there the cache holds the materialized K and V).
     */
    final boolean latentMla;
    private volatile boolean decodeGraphs = !"false".equalsIgnoreCase(System.getProperty("t4j.graphs"));
    private volatile long kvBudgetBytes;

    public Transformer(Weights weights, Backend backend) {
        this.config = weights.config;
        this.weights = weights;
        this.backend = backend;
        this.dtype = weights.dtype();
        this.pre = config.normPlacement() == NormPlacement.PRE;
        this.latentMla = config.mla() != null && latentRuns(backend, latentWidth(config))
                && weights.decoder.layers().get(0).self().mla().kT() != null;
        this.kvBudgetBytes = defaultKvBudget();
    }

    // ---- public forward passes (no cache: the full recomputation) ----------------------------------

    /** Decoder-only logits for ids (B, T) → (B, T, V). */
    public float[][][] logits(int[][] ids) { return logits(ids, (int[]) null); }

    /**
     * Decoder-only / prefix-LM logits for ids (B, T) → (B, T, V). {@code prefix} (one length per row)
     * is the bidirectional part of a prefix-LM, null otherwise.
     */
    public float[][][] logits(int[][] ids, int[] prefix) {
        requireArch("logits(ids)", Architecture.DECODER_ONLY, Architecture.PREFIX_LM);
        requireCausal("logits(ids)");
        int[] shape = rectangular("ids", ids);
        boolean plm = config.architecture() == Architecture.PREFIX_LM;
        if (plm && (prefix == null || prefix.length != ids.length)) {
            throw new IllegalArgumentException("a prefix-LM needs one prefix length per row (" + ids.length + ")");
        }
        if (!plm && prefix != null) throw new IllegalArgumentException("prefix lengths given to a " + config.architecture() + " model");
        try (Scratch s = new Scratch(backend)) {
            Tensor x = embed(s, ids, 0);                                                       // (B, T, C)
            AttentionOp.Mask mask = plm ? AttentionOp.Mask.PREFIX_LM : AttentionOp.Mask.CAUSAL;
            RelativeBias bias = relativeBias(weights.decoder, decoderBidirectional());
            RopeAt rope = ropeFrom(s, shape[0], 0, shape[1]);
            Tensor h = runStack(s, weights.decoder, x, i -> new DenseSelf(s, mask, plm ? prefix : null, bias, null, null)
                    .rotary(ropeAt(i, rope), config.window(i)), null);
            return toHost3(logits(s, h), shape[0], shape[1], config.vocabSize());
        }
    }

    /** Encoder-decoder logits of the target positions: input (B, Tin), target (B, Tt) → (B, Tt, V). */
    public float[][][] logits(int[][] input, int[][] target) {
        requireArch("logits(input, target)", Architecture.ENCODER_DECODER);
        int[] in = rectangular("input", input);
        int[] tg = rectangular("target", target);
        if (in[0] != tg[0]) throw new IllegalArgumentException("input has " + in[0] + " rows but target " + tg[0]);
        try (Scratch s = new Scratch(backend)) {
            Memory mem = encodeMemory(s, input);
            Tensor h = decodeDense(s, mem, target);
            return toHost3(logits(s, h), tg[0], tg[1], config.vocabSize());
        }
    }

    /**
     * The encoder's last hidden state (B, T, C): for encoder-only models the model's output (post-LN:
     * after the last block's norm), for encoder-decoders the memory the decoder reads without step 3.
     */
    public float[][][] encode(int[][] ids) {
        if (config.encoderLayers() == 0) throw new IllegalStateException("a " + config.architecture() + " model has no encoder");
        if (config.architecture() == Architecture.ENCODER_ONLY) return EncoderPass.encode(this, ids, null, null);
        int[] shape = rectangular("ids", ids);
        try (Scratch s = new Scratch(backend)) {
            Memory mem = encodeMemory(s, ids);
            return toHost3(mem.output, shape[0], shape[1], config.modelWidth());
        }
    }

    /** Sentence embeddings: the encoder's last hidden state mean-pooled over each row and L2-normalised → (B, C). */
    public float[][] embedSentences(int[][] ids) { return TaskHeads.embedSentences(this, ids); }

    /**
     * The encoder's last hidden state for sequences of different lengths in one padding-free pass: they
     * are packed into one (1, ΣT, C) batch whose attention keeps each sequence to itself (packed
     * variable-length attention), positions restarting at 0 per sequence. Returns (T_i, C) per sequence.
     */
    public List<float[][]> encodePacked(List<int[]> sequences) {
        if (config.encoderLayers() == 0) throw new IllegalStateException("a " + config.architecture() + " model has no encoder");
        return EncoderPass.encodePacked(this, sequences, null);
    }

    /**
     * Decoder-only: the last hidden state (after the final norm: what transformers' base model, e.g. Qwen3Model,
     * returns) of sequences of different lengths in one padding-free pass, each attending causally to itself with
     * positions from 0 (its sliding windows and per-layer RoPE as the model has them; a bidirectional model such as
     * EmbeddingGemma: every key of its sequence, its sliding layers the keys within the window on either side). Returns (T_i, C) per sequence:
     * the states decoder-based sentence embedders pool (Qwen3-Embedding, e5-mistral: the last token). A sequence's
     * states equal transformers' for it alone, and for it left-padded in a batch (RoPE sees only distances; position-scaled
     * RoPE kinds — dynamic NTK, LongRoPE — take the longest sequence's length, as a padded batch's positions would).
     */
    public List<float[][]> lastHiddenStates(List<int[]> sequences) {
        requireArch("lastHiddenStates", Architecture.DECODER_ONLY);
        weights.checkOpen();
        return EncoderPass.encodePacked(this, sequences, null);
    }

    /**
     * Decoder-only: each sequence's next-token logits after its last token (N, V), sequences of different lengths in one
     * padding-free causal pass with positions from 0 — what a yes/no reranker (Qwen3-Reranker, {@link DecoderReranker})
     * reads its answer from. Row i equals {@code logits(ids_i)[T_i − 1]} of the sequence alone (and transformers' logits at
     * the last position of a left-padded batch); only the N last rows go through the output matrix.
     */
    public float[][] lastTokenLogits(List<int[]> sequences) {
        requireArch("lastTokenLogits", Architecture.DECODER_ONLY);
        requireCausal("lastTokenLogits");
        weights.checkOpen();
        int n = sequences == null ? 0 : sequences.size();
        int[] cu = new int[n + 1];
        try (Scratch s = new Scratch(backend)) {
            Tensor h = EncoderPass.packed(this, s, sequences, null, cu).select(0, 0);                // (ΣT, C)
            Tensor last = s.empty(dtype, n, config.modelWidth());
            for (int i = 0; i < n; i++) backend.copy(h.slice(0, cu[i + 1] - 1, cu[i + 1]), last.slice(0, i, i + 1));
            return toHost2(logits(s, last), n, config.vocabSize());
        }
    }

    /** Sentence embeddings of sequences of different lengths, packed into one pass: mean-pooled, L2-normalised (N, C). */
    public float[][] embedSentences(List<int[]> sequences) { return TaskHeads.embedSentences(this, sequences); }

    /** BERT's sequence classifier: tanh(pooler · h[CLS]) then the linear classifier → (B, classes). */
    public float[][] classify(int[][] ids) { return TaskHeads.classify(this, ids); }

    /** The masked-LM head's logits (B, T, V): dense + GELU, LayerNorm, tied token table + output bias. */
    public float[][][] maskedLmLogits(int[][] ids) { return TaskHeads.maskedLmLogits(this, ids); }

    // ---- encoder-only models as Hugging Face callers run them (issue 14) ---------------------------------
    // ids, typeIds and attentionMask are (B, T); typeIds null means all 0, attentionMask null means all 1.
    // A mask holds 1 for a token and 0 for padding, anywhere in the row (see EncoderPass).

    /** The last hidden state (B, T, C), padded rows included as transformers computes them. */
    public float[][][] encode(int[][] ids, int[][] typeIds, int[][] attentionMask) {
        return EncoderPass.encode(this, ids, typeIds, attentionMask);
    }

    /** Packed sequences of different lengths with their token types (null: all 0): (T_i, C) per sequence. */
    public List<float[][]> encodePacked(List<int[]> sequences, List<int[]> typeIds) {
        return EncoderPass.encodePacked(this, sequences, typeIds);
    }

    /** The pooled output (B, C): BERT's pooler, tanh(dense · h[CLS]). */
    public float[][] pooledOutput(int[][] ids, int[][] typeIds, int[][] attentionMask) {
        return EncoderPass.pooledOutput(this, ids, typeIds, attentionMask);
    }

    /** Sequence-classification logits (B, labels); the labels are {@code weights.encoderInfo.labels()}. */
    public float[][] classify(int[][] ids, int[][] typeIds, int[][] attentionMask) {
        return EncoderPass.classify(this, ids, typeIds, attentionMask);
    }

    /** Token-classification logits (B, T, labels). */
    public float[][][] classifyTokens(int[][] ids, int[][] typeIds, int[][] attentionMask) {
        return EncoderPass.classifyTokens(this, ids, typeIds, attentionMask);
    }

    /** Masked-LM logits (B, T, V). */
    public float[][][] maskedLmLogits(int[][] ids, int[][] typeIds, int[][] attentionMask) {
        return EncoderPass.maskedLm(this, ids, typeIds, attentionMask);
    }

    /** BERT's next-sentence logits (B, 2): index 0 "the second segment follows the first", 1 "it is random". */
    public float[][] nextSentenceLogits(int[][] ids, int[][] typeIds, int[][] attentionMask) {
        return EncoderPass.nextSentence(this, ids, typeIds, attentionMask);
    }

    // ---- inspection -----------------------------------------------------------------------------

    /**
     * The attention weights (T, T) of one head of one self-attention layer for one sequence (see
     * {@link Inspection#attentionWeights}): the fused attention ops never store them, so they are
     * recomputed in double.
     */
    public float[][] attentionWeights(int[] ids, int prefix, int layer, int head) {
        return Inspection.attentionWeights(this, ids, prefix, layer, head);
    }

    // ---- scoring ----------------------------------------------------------------------------------

    /**
     * Per-token log-probabilities of a text and the mean loss (−log p) over the scored part.
     * {@code logProbs[i]} is the log-probability of the i-th predicted token; {@code counted} tokens
     * enter the loss.
     */
    public record Score(double[] logProbs, double loss, int counted) {
        public double perplexity() { return Math.exp(loss); }
    }

    /**
     * Decoder-only / prefix-LM: logProbs[i] = log p(ids[i + 1] | ids[0..i]) for i in [0, T − 1); the loss
     * counts only predictions of positions ≥ {@code from} (1: the whole text after its first token; the
     * start of the target in {@code [BOS] input target}). A prefix-LM's prefix is ids[0, from).
     */
    public Score score(int[] ids, int from) { return Scoring.score(this, ids, from); }

    /** Encoder-decoder: log p(target[i] | input, start, target[0..i)) for every target token. */
    public Score score(int[] input, int[] target) { return Scoring.score(this, input, target); }

    /** The id an encoder-decoder's decoder starts from: the config's decoder-start id, else its BOS. */
    int decoderStartId() {
        TransformerConfig.SpecialIds ids = config.specialIds();
        int start = ids.decoderStart() >= 0 ? ids.decoderStart() : ids.bos();
        if (start < 0) throw new IllegalStateException("the config names no decoder-start (or BOS) id to start the decoder with");
        return start;
    }

    // ---- cached inference ---------------------------------------------------------------------------

    /**
     * A state for {@code batch} decoder-only / prefix-LM sequences of up to {@code capacity} rows each
     * (capped by learned positions and by {@link #kvBudgetBytes()}), whose cache blocks are allocated
     * as rows are written, from a pool of its own.
     */
    public KvState newState(int batch, long capacity) {
        return newState(batch, capacity, null);
    }

    /**
     * {@link #newState(int, long)} taking its blocks from {@code pool} (a
     * {@link org.transformer4j.model.engine.BlockManager#onDemand} pool of this model that other states
     * share; null: a pool of its own). Closing the state gives its blocks back and leaves the pool open.
     */
    public KvState newState(int batch, long capacity, org.transformer4j.model.engine.BlockManager pool) {
        requireArch("newState(batch, capacity)", Architecture.DECODER_ONLY, Architecture.PREFIX_LM);
        return new KvState(this, batch, capacity, pool);
    }

    /**
     * A state for an encoder-decoder: encodes each input (rows may differ in length) once, keeps each
     * decoder layer's memory K/V (step 1: in that layer's self-attention cache, ahead of the target),
     * and leaves room for {@code targetCapacity} target rows per sequence.
     */
    public KvState newState(int[][] inputs, long targetCapacity) {
        return newState(inputs, targetCapacity, 1);
    }

    /**
     * {@link #newState(int[][], long)} with {@code copies} sequences per input (beam search's beams): sequences
     * b·copies … b·copies + copies − 1 all read input b, which is encoded once. With separate cross-attention its
     * memory K/V is copied into each of them (the packed cross-attention reads each sequence's memory rows at
     * cumulative offsets, which cannot overlap); with step 1 (memory in the self-attention cache) only the first
     * holds it, and {@link KvState#reorder} shares its blocks with the others.
     */
    KvState newState(int[][] inputs, long targetCapacity, int copies) {
        requireArch("newState(inputs, targetCapacity)", Architecture.ENCODER_DECODER);
        if (copies < 1) throw new IllegalArgumentException("copies must be ≥ 1, got " + copies);
        if (inputs == null || inputs.length == 0) throw new IllegalArgumentException("inputs is empty (no rows)");
        int longest = 0;
        for (int b = 0; b < inputs.length; b++) {
            if (inputs[b] == null || inputs[b].length == 0) throw new IllegalArgumentException("input " + b + " is empty");
            checkIds(inputs[b]);
            checkPositions(0, inputs[b].length);
            longest = Math.max(longest, inputs[b].length);
        }
        boolean merged = config.shareCrossAndSelfAttention();
        int rows = Math.multiplyExact(inputs.length, copies);
        KvState st = new KvState(this, rows, merged ? Math.addExact(longest, targetCapacity) : targetCapacity);
        try {
            int layers = weights.decoder.layers().size();
            int[] cu = new int[rows + 1];
            for (int r = 0; r < rows; r++) cu[r + 1] = Math.addExact(cu[r], inputs[r / copies].length);
            st.cuMemory = cu;
            if (!merged) {
                st.crossK = new Tensor[layers];
                st.crossV = new Tensor[layers];
                for (int l = 0; l < layers; l++) {
                    st.crossK[l] = backend.empty(dtype, cu[rows], config.kvHeads(), config.headSize());
                    st.crossV[l] = backend.empty(dtype, cu[rows], config.kvHeads(), config.headSize());
                }
            }
            for (int b = 0; b < inputs.length; b++) {
                int first = b * copies;
                if (merged) st.checkRoom(first, inputs[b].length);
                try (var hold = st.hold(); Scratch s = new Scratch(backend)) {
                    Memory mem = encodeMemory(s, new int[][] {inputs[b]});
                    for (int l = 0; l < layers; l++) {
                        Tensor[] kv = memoryKv(s, mem, l, merged);                              // (1, Tm, NKV, HS) each
                        if (merged) {
                            backend.kvAppend(new KvAppendOp(st.cache(l, first), new int[] {0}, kv[0], kv[1]));
                        } else {
                            for (int r = first; r < first + copies; r++) {
                                backend.copy(kv[0], st.memory(st.crossK, l, r));
                                backend.copy(kv[1], st.memory(st.crossV, l, r));
                            }
                        }
                    }
                }
                if (merged) st.lengths[first] = inputs[b].length;
                st.tokensEncoded += inputs[b].length;
            }
            return st;
        } catch (RuntimeException e) {
            st.close();
            throw e;
        }
    }

    /**
     * Runs {@code tokens} of sequence b through the decoder, appending their K/V to its cache, and returns
     * their logits (T, V). A prefix-LM's first chunk is its prefix (bidirectional); later chunks are causal.
     */
    public float[][] prefill(KvState st, int b, int[] tokens) {
        try (Scratch s = new Scratch(backend)) {
            return toHost3(prefill(s, st, b, tokens, false), 1, tokens.length, config.vocabSize())[0];
        }
    }

    /**
     * {@link #prefill}, returning only the last token's logits (V): what generation needs to choose the
     * next token. The output projection runs on that one row instead of all T (for GPT-2 small and a
     * 128-token prompt, 0.08 instead of 9.9 GFLOP, and 200 KB instead of 25 MB back to the host).
     */
    public float[] prefillLast(KvState st, int b, int[] tokens) {
        try (Scratch s = new Scratch(backend)) {
            return toHost3(prefill(s, st, b, tokens, true), 1, 1, config.vocabSize())[0][0];
        }
    }

    /**
     * {@link #prefillLast} of every sequence of {@code st} in one forward pass: tokens[b] (all of one
     * length T) after its st.lengths[b] cached rows (all equal), B·T rows through the projections and
     * attention per sequence; returns each sequence's last-token logits (B, V). For decoder-only models
     * without a bidirectional prefix (what the serving engine runs). Every op of the pass is row-wise or
     * per sequence except the matrix products, so on the CPU each sequence's logits equal its own
     * prefillLast's bit for bit while B·T stays below {@link org.transformer4j.runtime.cpu.CpuKernels#smallMRows()}
     * (and its solo chunk is below it too); the engine keeps to that.
     */
    public float[][] prefillLastAll(KvState st, int[][] tokens) {
        checkState(st);
        int batch = st.batch;
        if (tokens == null || tokens.length != batch) {
            throw new IllegalArgumentException("prefillLastAll takes one token array per sequence (" + batch + "), got "
                    + (tokens == null ? "null" : tokens.length));
        }
        if (config.architecture() != TransformerConfig.Architecture.DECODER_ONLY || config.prefixLm()) {
            throw new IllegalArgumentException("prefillLastAll runs decoder-only models without a bidirectional prefix; this one is "
                    + config.architecture() + (config.prefixLm() ? " (prefix-LM)" : ""));
        }
        int t = tokens[0] == null ? 0 : tokens[0].length;
        int start = st.lengths[0];
        for (int b = 0; b < batch; b++) {
            if (tokens[b] == null || tokens[b].length == 0) throw new IllegalArgumentException("no tokens to prefill for sequence " + b);
            if (tokens[b].length != t) {
                throw new IllegalArgumentException("prefillLastAll needs chunks of one length: sequence 0 has " + t + " tokens, sequence "
                        + b + " has " + tokens[b].length);
            }
            if (st.lengths[b] != start) {
                throw new IllegalArgumentException("prefillLastAll needs sequences of one length: sequence 0 holds " + start
                        + " rows, sequence " + b + " holds " + st.lengths[b]);
            }
            checkIds(tokens[b]);
            st.checkRoom(b, t);
        }
        checkPositions(start, t);
        RelativeBias bias = relativeBias(weights.decoder, decoderBidirectional());
        int[] before = st.lengths.clone();
        float[][][] l3;
        try (Scratch s = new Scratch(backend); var hold = st.hold()) {                          // the pool cannot grow meanwhile
            s.lora = st.route(s, java.util.stream.IntStream.range(0, batch).toArray(), t);
            Tensor x = embed(s, tokens, start);                                                 // (B, T, C)
            RopeAt rope = ropeFrom(s, batch, start, t);
            Tensor h = runStack(s, weights.decoder, x, l -> new CachedSelf(s, st.cache(l, (Tensor) null), before, bias,
                    false, ropeAt(l, rope), config.window(l)), null);
            l3 = toHost3(logits(s, lastRows(s, h)), batch, 1, config.vocabSize());
        }
        float[][] out = new float[batch][];
        for (int b = 0; b < batch; b++) {
            st.lengths[b] = start + t;
            out[b] = l3[b][0];
        }
        st.tokensEncoded += (long) batch * t;
        return out;
    }

    /**
     * Whether {@link #prefillLastPacked} runs this model: decoder-only without a bidirectional prefix, and positions that do
     * not depend on a sequence's length (dynamic NTK and LongRoPE pick their table by each sequence's length, which one
     * packed row of positions cannot carry).
     */
    public boolean packsPrefill() {
        if (config.architecture() != TransformerConfig.Architecture.DECODER_ONLY || config.prefixLm()) return false;
        TransformerConfig.Rope r = config.rope();
        return r == null || (r.scaling() != TransformerConfig.Rope.Scaling.DYNAMIC && r.scaling() != TransformerConfig.Rope.Scaling.LONGROPE);
    }

    /**
     * {@link #prefillLast} of every sequence of {@code st} in one forward pass, chunks of any lengths after any cached rows:
     * tokens[b] (T_b ≥ 1 tokens) after st.lengths[b] rows. The chunks' rows go packed one after another, (1, ΣT, C), through
     * the embeddings, norms and products (vLLM's flattened batch), and each sequence's own rows through its attention — the
     * same append and causal attention calls its solo prefill makes, one sequence after another. Returns each sequence's
     * last-token logits (B, V). On the CPU each sequence's logits equal its own prefillLast's bit for bit while ΣT stays
     * below {@link org.transformer4j.runtime.cpu.CpuKernels#smallMRows()} (every other op is row-wise or per sequence). For
     * the models {@link #packsPrefill} accepts.
     */
    public float[][] prefillLastPacked(KvState st, int[][] tokens) {
        float[][][] rows = prefillPacked(st, tokens, new boolean[tokens == null ? 0 : tokens.length]);
        float[][] out = new float[rows.length][];
        for (int b = 0; b < rows.length; b++) out[b] = rows[b][0];
        return out;
    }

    /**
     * {@link #prefillLastPacked}, returning every row's logits (T_b, V) of the sequences b with {@code allRows[b]} (a
     * prompt's log-probabilities, a speculative draft's check) and the last row's (1, V) of the others; the output
     * projection runs on those rows only.
     */
    public float[][][] prefillPacked(KvState st, int[][] tokens, boolean[] allRows) {
        try (PackedLogits p = prefillPackedOnDevice(st, tokens, allRows)) {
            float[][] l2 = toHost3(p.logits, 1, p.kept[p.kept.length - 1], config.vocabSize())[0];
            float[][][] out = new float[p.kept.length - 1][][];
            for (int b = 0; b < out.length; b++) out[b] = Arrays.copyOfRange(l2, p.kept[b], p.kept[b + 1]);
            return out;
        }
    }

    /**
     * A packed pass's kept logits (sequence b's rows {@link #from}(b) .. {@link #to}(b) − 1 of {@link #logits}: all its rows
     * where its allRows flag was set, else its last), left in the backend's memory until {@link #close}.
     */
    public static final class PackedLogits implements AutoCloseable {
        private final Scratch scratch;
        private final Tensor logits;                 // (1, K, V)
        private final int[] kept;                    // (B + 1) offsets of each sequence's kept rows
        private final Transformer model;

        PackedLogits(Transformer model, Scratch scratch, Tensor logits, int[] kept) {
            this.model = model; this.scratch = scratch; this.logits = logits; this.kept = kept;
        }

        /** The kept rows' logits (K, V), valid until {@link #close}. */
        public Tensor logits() { return logits.view(logits.shape(1), logits.shape(2)); }

        public int from(int b) { return kept[b]; }

        public int to(int b) { return kept[b + 1]; }

        /** Host copies of sequence b's kept rows. */
        public float[][] host(int b) {
            int v = model.config.vocabSize();
            return model.toHost2(logits.slice(1, kept[b], kept[b + 1]), kept[b + 1] - kept[b], v);
        }

        @Override
        public void close() { scratch.close(); }
    }

    /**
     * {@link #prefillPacked} leaving the kept logits in the backend's memory (sampling them there: an engine step's decode
     * rows packed with its prefill chunks); the caller closes the result.
     */
    public PackedLogits prefillPackedOnDevice(KvState st, int[][] tokens, boolean[] allRows) {
        checkState(st);
        int batch = st.batch;
        if (tokens == null || tokens.length != batch) {
            throw new IllegalArgumentException("prefillPacked takes one token array per sequence (" + batch + "), got "
                    + (tokens == null ? "null" : tokens.length));
        }
        if (allRows == null || allRows.length != batch) {
            throw new IllegalArgumentException("prefillPacked takes one allRows flag per sequence (" + batch + "), got "
                    + (allRows == null ? "null" : allRows.length));
        }
        if (!packsPrefill()) {
            throw new IllegalArgumentException("prefillPacked runs decoder-only models without a bidirectional prefix or length-dependent"
                    + " RoPE (dynamic, longrope); this one is " + config.architecture() + (config.prefixLm() ? " (prefix-LM)" : "")
                    + (config.rope() == null ? "" : " with RoPE scaling " + config.rope().scaling()));
        }
        int[] cu = new int[batch + 1], kept = new int[batch + 1];                              // packed rows; rows whose logits are kept
        for (int b = 0; b < batch; b++) {
            if (tokens[b] == null || tokens[b].length == 0) throw new IllegalArgumentException("no tokens to prefill for sequence " + b);
            checkIds(tokens[b]);
            st.checkRoom(b, tokens[b].length);
            checkPositions(st.lengths[b], tokens[b].length);
            cu[b + 1] = Math.addExact(cu[b], tokens[b].length);
            kept[b + 1] = kept[b] + (allRows[b] ? tokens[b].length : 1);
        }
        int n = cu[batch];
        int[] ids = new int[n], positions = new int[n], rows = new int[batch];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(tokens[b], 0, ids, cu[b], tokens[b].length);
            for (int i = 0; i < tokens[b].length; i++) positions[cu[b] + i] = st.lengths[b] + i;
            rows[b] = tokens[b].length;
        }
        RelativeBias bias = relativeBias(weights.decoder, decoderBidirectional());
        int[] before = st.lengths.clone();
        Scratch s = new Scratch(backend);
        Tensor logits;
        try {
            try (var hold = st.hold()) {                                                        // the pool cannot grow meanwhile
                s.lora = st.route(s, java.util.stream.IntStream.range(0, batch).toArray(), rows);
                Tensor idT = s.uploadInts(ids, 1, n), posT = s.uploadInts(positions, 1, n);
                Tensor x = s.empty(dtype, 1, n, config.modelWidth());                          // (1, ΣT, C)
                Tensor typeIds = weights.embeddings.types() == null ? null : s.uploadInts(new int[n], 1, n);
                embedInto(s, idT, 0, posT, typeIds, x);
                // seqLens only feed dynamic NTK and LongRoPE, which packsPrefill leaves out
                RopeAt rope = config.rope() == null ? null : new RopeAt(posT, null);
                DecodeRuns runs = DecodeRuns.of(cu, before, DecodeOp.maxQueries(dtype), st.blockTable, st.maxBlocks);
                Tensor h = runStack(s, weights.decoder, x, l -> new PackedCachedSelf(s, st, l, before, cu, runs, bias, ropeAt(l, rope),
                        config.window(l)), null);
                Tensor last = kept[batch] == n ? h : s.empty(dtype, 1, kept[batch], config.modelWidth());
                for (int b = 0; b < batch && last != h; b++) {
                    int from = allRows[b] ? cu[b] : cu[b + 1] - 1;
                    backend.copy(h.slice(1, from, cu[b + 1]), last.slice(1, kept[b], kept[b + 1]));
                }
                logits = logits(s, last);
            }
        } catch (RuntimeException | Error e) {
            s.close();
            throw e;
        }
        for (int b = 0; b < batch; b++) st.lengths[b] = before[b] + rows[b];
        st.tokensEncoded += n;
        return new PackedLogits(this, s, logits, kept);
    }

    /** Each sequence's last row of h (B, T, C): h itself for T = 1, else a copy (B, 1, C) in {@code s}. */
    private Tensor lastRows(Scratch s, Tensor h) {
        long t = h.shape(1);
        if (t == 1) return h;
        Tensor last = s.empty(dtype, h.shape(0), 1, config.modelWidth());
        backend.copy(h.slice(1, t - 1, t), last);
        return last;
    }

    /** The prefill, leaving the logits (1, T, V), or (1, 1, V) of the last token, in {@code s}. */
    Tensor prefill(Scratch s, KvState st, int b, int[] tokens, boolean lastOnly) {
        checkState(st);
        if (b < 0 || b >= st.batch) throw new IllegalArgumentException("sequence " + b + " outside the state's batch " + st.batch);
        if (tokens == null || tokens.length == 0) throw new IllegalArgumentException("no tokens to prefill for sequence " + b);
        checkIds(tokens);
        st.checkRoom(b, tokens.length);
        int start = st.lengths[b];
        checkPositions(start, tokens.length);
        boolean bidirectionalPrefix = config.prefixLm() && start == 0;
        RelativeBias bias = relativeBias(weights.decoder, decoderBidirectional());
        Tensor logits;
        try (var hold = st.hold()) {                                                            // the pool cannot grow meanwhile
            s.lora = st.route(s, new int[] {b}, tokens.length);
            Tensor x = embed(s, new int[][] {tokens}, start);                                   // (1, T, C)
            RopeAt rope = ropeFrom(s, 1, start, tokens.length);
            Tensor h = runStack(s, weights.decoder, x, l -> new CachedSelf(s, st.cache(l, b), new int[] {start}, bias,
                    bidirectionalPrefix, ropeAt(l, rope), config.window(l)), st.crossK == null ? null : l -> new DenseCross(s, st.memory(st.crossK, l, b),
                    st.memory(st.crossV, l, b)));
            logits = logits(s, lastOnly ? lastRows(s, h) : h);
        }
        st.lengths[b] = start + tokens.length;
        st.tokensEncoded += tokens.length;
        return logits;
    }

    /** One new token per sequence, all sequences in one batch: tokens (B) → logits (B, V). */
    public float[][] step(KvState st, int[] tokens) {
        float[][][] l3 = toHost3(stepOnDevice(st, tokens), st.batch, 1, config.vocabSize());   // (B, 1, V)
        float[][] out = new float[st.batch][];
        for (int b = 0; b < st.batch; b++) out[b] = l3[b][0];
        return out;
    }

    /**
     * The step, leaving the logits (B, 1, V) in the backend's memory for sampling there. They belong
     * to the state's {@link DecodeStep} (valid until its next step; do not close them). The step runs
     * from a captured graph from the state's second step on.
     */
    Tensor stepOnDevice(KvState st, int[] tokens) {
        checkState(st);
        if (tokens == null || tokens.length != st.batch) {
            throw new IllegalArgumentException("step takes one token per sequence (" + st.batch + "), got "
                    + (tokens == null ? "null" : tokens.length));
        }
        checkIds(tokens);
        for (int b = 0; b < st.batch; b++) {
            st.checkRoom(b, 1);
            checkPositions(st.lengths[b], 1);
        }
        int[] before = st.lengths.clone();
        Tensor logits;
        try (var hold = st.hold()) {
            logits = st.decodeStep().run(tokens, before);
        }
        for (int b = 0; b < st.batch; b++) st.lengths[b] = before[b] + 1;
        st.tokensEncoded += st.batch;
        return logits;
    }

    /**
     * Whether new {@link KvState}s capture their decode step into a graph (default: true, unless
     * {@code -Dt4j.graphs=false}); off, every step launches its ops one by one.
     */
    public Transformer decodeGraphs(boolean on) {
        this.decodeGraphs = on;
        return this;
    }

    public boolean decodeGraphs() { return decodeGraphs; }

    /**
     * The most bytes one {@link KvState}'s own block pool may grow to (K and V of every layer, all
     * sequences): its capacity is capped by it, and a row that finds no block left fails with the
     * budget named. Memory is taken as rows are written, not for the capacity asked. Default: {@code -Dt4j.kvBudgetBytes},
     * else the GPU's memory on CUDA and half the machine's physical memory on the CPU.
     */
    public Transformer kvBudgetBytes(long bytes) {
        if (bytes < 1) throw new IllegalArgumentException("the KV budget must be ≥ 1 byte, got " + bytes);
        this.kvBudgetBytes = bytes;
        return this;
    }

    public long kvBudgetBytes() { return kvBudgetBytes; }

    private long defaultKvBudget() {
        String p = System.getProperty("t4j.kvBudgetBytes");
        if (p != null) {
            try {
                long v = Long.parseLong(p.trim());
                if (v >= 1) return v;
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new IllegalArgumentException("-Dt4j.kvBudgetBytes=" + p + " is not a positive number of bytes");
        }
        if (backend.device() instanceof org.transformer4j.runtime.cuda.CudaDevice d) return d.totalMemoryBytes();
        java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long physical = os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getTotalMemorySize() : Runtime.getRuntime().maxMemory();
        return Math.max(1, physical / 2);
    }

    private void checkState(KvState st) {
        if (st == null) throw new IllegalArgumentException("state is null");
        if (st.model != this) throw new IllegalArgumentException("this KvState belongs to another Transformer");
        st.checkOpen();
        weights.checkOpen();
    }

    /**
     * Self-attention through a paged cache: appends the chunk's K/V after {@code lengths[b]} rows, then
     * attends causally through the cache: in F16/BF16 the whole chunk at once (paged prefill, tensor cores
     * on CUDA), in F32 in slices of at most {@link DecodeOp#MAX_QUERIES} queries (each slice sees the
     * cache up to its own last row); or, for a prefix-LM's prefix, bidirectionally over the chunk.
     */
    final class CachedSelf implements Attend {
        final Scratch s;
        final PagedKvCache cache;
        final int[] lengths;
        final RelativeBias bias;
        final boolean bidirectional;
        final RopeAt rope;
        final int window;

        CachedSelf(Scratch s, PagedKvCache cache, int[] lengths, RelativeBias bias, boolean bidirectional, RopeAt rope, int window) {
            this.s = s; this.cache = cache; this.lengths = lengths; this.bias = bias; this.bidirectional = bidirectional;
            this.rope = rope; this.window = window;
        }

        @Override public boolean cached() { return true; }
        @Override public RopeAt rope() { return rope; }
        @Override public int window() { return window; }

        @Override
        public Tensor attend(Tensor q, Tensor k, Tensor v, Tensor sinks) {
            Tensor out = s.like(q);                                                             // (B, T, NH, HS)
            if (bidirectional) {
                backend.kvAppend(new KvAppendOp(cache, lengths, k, v));
                backend.attention(AttentionOp.of(q, k, v, out).scale(config.attentionScale()).bias(bias)
                        .softcap(config.attentionSoftcap()).sinks(sinks).alibi(weights.alibiSlopes));
                return out;
            }
            causalCached(cache, lengths, q, k, v, sinks, out, bias, window);
            return out;
        }
    }

    /**
     * Appends k, v (B, T, NKV, HS) to {@code cache} after each sequence's {@code lengths} rows, then writes into out
     * (B, T, NH, HS) q's causal attention over the cache (in slices of the decode kernel's most queries).
     */
    void causalCached(PagedKvCache cache, int[] lengths, Tensor q, Tensor k, Tensor v, Tensor sinks, Tensor out, RelativeBias bias,
                      int window) {
        backend.kvAppend(new KvAppendOp(cache, lengths, k, v));
        int t = (int) q.shape(1);
        int slice = DecodeOp.maxQueries(q.dtype());
        for (int from = 0; from < t; from += slice) {
            int to = (int) Math.min(t, (long) from + slice);
            int[] seen = new int[lengths.length];
            for (int b = 0; b < seen.length; b++) seen[b] = lengths[b] + to;
            backend.decode(DecodeOp.of(q.slice(1, from, to), cache, seen, out.slice(1, from, to))
                    .scale(config.attentionScale()).bias(bias).window(window).softcap(config.attentionSoftcap()).sinks(sinks)
                    .alibi(weights.alibiSlopes));
        }
    }

    /**
     * Causal self-attention of packed chunks (1, ΣT, …) of a state's sequences (rows cu[b] .. cu[b+1] − 1 are sequence b's,
     * after its {@code lengths[b]} cached rows): each sequence's rows are appended to its own cache and attend there, as its
     * solo prefill's {@link CachedSelf} runs them — in one varlen append and one varlen decode for all of them (t4j.h,
     * ABI 17: each sequence as its own op computes it), the decode over the pass's {@link DecodeRuns}.
     */
    final class PackedCachedSelf implements Attend {
        final Scratch s;
        final KvState st;
        final int layer;
        final int[] lengths, cu;
        final DecodeRuns runs;
        final RelativeBias bias;
        final RopeAt rope;
        final int window;

        PackedCachedSelf(Scratch s, KvState st, int layer, int[] lengths, int[] cu, DecodeRuns runs, RelativeBias bias, RopeAt rope,
                         int window) {
            this.s = s; this.st = st; this.layer = layer; this.lengths = lengths; this.cu = cu; this.runs = runs; this.bias = bias;
            this.rope = rope; this.window = window;
        }

        @Override public boolean cached() { return true; }
        @Override public RopeAt rope() { return rope; }
        @Override public int window() { return window; }

        @Override
        public Tensor attend(Tensor q, Tensor k, Tensor v, Tensor sinks) {                    // q (1, ΣT, NH, HS); k, v (1, ΣT, NKV, HS)
            Tensor out = s.like(q);
            PagedKvCache cache = st.cache(layer, null);
            backend.kvAppend(KvAppendOp.packed(cache, lengths, cu, k, v));
            PagedKvCache runsCache = runs.table() == null ? cache : new PagedKvCache(cache.kCache(), cache.vCache(), runs.table(),
                    cache.maxBlocksPerSeq());
            backend.decode(DecodeOp.of(q, runsCache, runs.seen(), out).scale(config.attentionScale()).bias(bias).window(window)
                    .softcap(config.attentionSoftcap()).sinks(sinks).alibi(weights.alibiSlopes).packed(runs.cu()));
            return out;
        }
    }

    /**
     * A packed pass's sequences as the varlen decode takes them, the same for every layer: where the decode takes at most
     * {@code slice} rows a sequence ({@link DecodeOp#maxQueries}: 16 in F32), each sequence's rows go in runs of that many,
     * each run one sequence of the launch with its sequence's row of the block table ({@code table}; null: the state's own,
     * one run a sequence) and the keys up to its last row ({@code seen}) — the runs {@link #causalCached} makes one op each.
     */
    record DecodeRuns(int[] cu, int[] seen, int[] table) {
        static DecodeRuns of(int[] cu, int[] lengths, int slice, int[] blockTable, int mb) {
            int batch = cu.length - 1, runs = 0;
            for (int b = 0; b < batch; b++) runs += (cu[b + 1] - cu[b] + slice - 1) / slice;
            int[] runCu = new int[runs + 1], seen = new int[runs], table = runs == batch ? null : new int[runs * mb];
            for (int b = 0, r = 0; b < batch; b++) {
                for (int from = 0, n = cu[b + 1] - cu[b]; from < n; from += slice, r++) {
                    int to = Math.min(n, from + slice);
                    runCu[r + 1] = cu[b] + to;
                    seen[r] = lengths[b] + to;                                            // its keys: the sequence's up to its last row
                    if (table != null) System.arraycopy(blockTable, b * mb, table, r * mb, mb);
                }
            }
            return new DecodeRuns(runCu, seen, table);
        }
    }

    /** Cross-attention of one query per sequence to packed memory K/V (totalM, NKV, HS). */
    final class PackedCross implements Attend {
        final Scratch s;
        final Tensor memK, memV;
        final int[] cuMemory;

        PackedCross(Scratch s, Tensor memK, Tensor memV, int[] cuMemory) {
            this.s = s; this.memK = memK; this.memV = memV; this.cuMemory = cuMemory;
        }

        @Override public boolean ownKv() { return false; }

        @Override
        public Tensor attend(Tensor q, Tensor k, Tensor v, Tensor sinks) {
            int b = (int) q.shape(0);
            Tensor out = s.like(q);                                                             // (B, 1, NH, HS)
            int[] cuQ = new int[b + 1];
            for (int i = 0; i <= b; i++) cuQ[i] = i;
            backend.attention(AttentionOp.of(q.view(b, config.heads(), config.headSize()), memK, memV,
                    out.view(b, config.heads(), config.headSize())).packed(cuQ, cuMemory).scale(config.attentionScale()));
            return out;
        }
    }

    // ---- the block ------------------------------------------------------------------------------

    /**
     * How one layer's attention finds its keys and values: q (B, T, NH, HS) and, for self-attention, the
     * layer's own k and v (B, T, NKV, HS) — after qkNorm and RoPE — which may be strided views of one fused
     * projection; a cross-attention gets null and reads its memory.
     */
    interface Attend {
        /** Returns the attention's output (B, T, NH, HS) before the output projection; sinks: the layer's (GPT-OSS) or null. */
        Tensor attend(Tensor q, Tensor k, Tensor v, Tensor sinks);

        /** Whether k and v are projected from the layer's own input (self-attention), not read from memory. */
        default boolean ownKv() { return true; }

        /** Whether k and v may be strided views of the fused projection's output (false: it copies them whole). */
        default boolean kvViews() { return true; }

        /** Whether k and v go to the layer's KV cache (a latent one for MLA where {@link #latentMla}). */
        default boolean cached() { return false; }

        /** Where the queries sit for RoPE (null: no rotary positions, e.g. cross-attention). */
        default RopeAt rope() { return null; }

        /** The layer's sliding window (0: none); a sliding layer takes the config's slidingRope when it has one (Gemma 3). */
        default int window() { return 0; }
    }

    /**
     * RoPE positions of a chunk's rows, I32 (B, T), and for dynamic NTK and LongRoPE each sequence's length I32 (B)
     * (transformers' seq_len = max position + 1), both in the backend's memory.
     */
    record RopeAt(Tensor positions, Tensor seqLens) {}

    /** Whether a layer with this sliding window rotates with the config's slidingRope (Gemma 3's local layers). */
    boolean slidingRope(int window) { return window > 0 && config.slidingRope() != null; }

    /** The RoPE positions decoder layer {@code layer} uses: {@code r}, or null where the layer applies none (SmolLM3's NoPE layers). */
    RopeAt ropeAt(int layer, RopeAt r) { return r != null && config.ropeAt(layer) ? r : null; }

    /** Rows start .. start + t − 1 of each of b sequences; null for models without RoPE. */
    RopeAt ropeFrom(Scratch s, int b, int start, int t) {
        if (config.rope() == null) return null;
        int[] pos = new int[b * t];
        for (int i = 0; i < pos.length; i++) pos[i] = start + i % t;
        int[] lens = new int[b];
        Arrays.fill(lens, start + t);
        return new RopeAt(s.uploadInts(pos, b, t), s.uploadInts(lens, b));
    }

    /**
     * Qwen3's per-head RMSNorm (headNorm, when the config has qkNorm), then RoPE (when rope is given),
     * on x (B, T, H, HS): q before attention, k before it is cached. Returns the result (x itself
     * rotated in place, or the norm's output).
     */
    Tensor positionHeads(Scratch s, Tensor x, Weights.Norm headNorm, RopeAt rope, boolean local) {
        if (headNorm != null) {
            long[] sh = x.shape();                                  // OLMo 2: one norm over all heads of the row
            Tensor in = config.qkNormWide() ? x.view(sh[0], sh[1], sh[2] * sh[3]) : x, y = s.like(in);
            backend.norm(NormOp.rms(in, headNorm.weight(), config.normEps(), y));
            x = y.view(sh);
        }
        if (rope == null) return x;
        TransformerConfig.Rope r = local ? config.slidingRope() : config.rope();
        if (local) {
            backend.rope(RopeOp.of(x, rope.positions(), weights.ropeSlidingInvFreq, r.rotaryDim()));
            return x;
        }
        RopeOp op = switch (r.scaling()) {
            case DYNAMIC -> RopeOp.dynamic(x, rope.positions(), new RopeOp.Dynamic((float) r.theta(), (float) r.factor(),
                    r.originalMaxPositions()), rope.seqLens(), r.rotaryDim());
            // the sequence's length after this call picks the table, as transformers' max(position_ids) + 1
            case LONGROPE -> RopeOp.longRope(x, rope.positions(), weights.ropeInvFreq, r.originalMaxPositions(), rope.seqLens(),
                    r.rotaryDim());
            default -> RopeOp.of(x, rope.positions(), weights.ropeInvFreq, r.rotaryDim());
        };
        backend.rope(op.scaled((float) r.attentionFactor()));
        return x;
    }

    /** One sublayer: {@code out = residual + f(in)} (residual may be null: out = f(in)). */
    interface Sublayer {
        void apply(Tensor in, Tensor residual, Tensor out);
    }

    /** One block, in place on x (B, T, C); {@code cross} is null outside encoder-decoder decoders without step 1. */
    void block(Scratch s, Weights.Layer l, Tensor x, Attend self, Attend cross) {
        if (l.postAttnNorm() != null) {
            sandwich(s, l, x, self);
            return;
        }
        if (config.parallel() != TransformerConfig.ParallelBlock.NONE) {
            parallel(s, l, x, self);
            return;
        }
        residual(s, l.attnNorm(), x, (in, res, out) -> attention(s, l.self(), in, self, res, out));
        if (cross != null) residual(s, l.crossNorm(), x, (in, res, out) -> attention(s, l.cross(), in, cross, res, out));
        residual(s, l.mlpNorm(), x, (in, res, out) -> mlp(s, l.mlp(), in, res, out));
    }

    /**
     * Gemma 2's block (Gemma2DecoderLayer): x ← x + N_pa(attn(N_in(x))), then x ← x + N_pf(mlp(N_pre(x))); OLMo 2's
     * (Olmo2DecoderLayer) the same without N_in and N_pre.
     * Each add runs as a norm's residual (NormOp's h = x + residual, written back to x): the first together
     * with N_pre, the second with a norm of N_pf's output whose own result is not used.
     */
    private void sandwich(Scratch s, Weights.Layer l, Tensor x, Attend self) {
        Tensor a = s.like(x);
        attention(s, l.self(), l.attnNorm() == null ? x : norm(s, l.attnNorm(), x), self, null, a);     // OLMo 2: no input norm
        Tensor in;
        if (l.mlpNorm() != null) {
            in = s.like(x);
            backend.norm(normOp(l.mlpNorm(), norm(s, l.postAttnNorm(), a), in).withResidual(x, x));  // x += N_pa(a); in = N_pre(x)
        } else {
            addNormed(s, l.postAttnNorm(), a, x);
            in = x;
        }
        Tensor m = s.like(x);
        mlp(s, l.mlp(), in, null, m);
        addNormed(s, l.postMlpNorm(), m, x);
    }

    /**
     * GPT-NeoX's parallel block (GPTNeoXLayer with use_parallel_residual): x ← x + attn(N1 x) + mlp(N2 x), both norms of
     * the layer's input; Phi's (PhiDecoderLayer) with one norm, x ← x + attn(N x) + mlp(N x). Both inputs are normed
     * before x changes; each sublayer's output projection then adds into x as its residual (fp32 accumulation, one
     * rounding each, as the sequential block's).
     */
    private void parallel(Scratch s, Weights.Layer l, Tensor x, Attend self) {
        Tensor a = norm(s, l.attnNorm(), x);
        Tensor m = l.mlpNorm() == null ? a : norm(s, l.mlpNorm(), x);
        attention(s, l.self(), a, self, x, x);
        mlp(s, l.mlp(), m, x, x);
    }

    /** x ← x + N(y), the add as a norm's residual (NormOp's h = x + residual, written to x; its own output unused). */
    private void addNormed(Scratch s, Weights.Norm n, Tensor y, Tensor x) {
        backend.norm(normOp(n, norm(s, n, y), s.like(x)).withResidual(x, x));
    }

    /** Pre-LN: x = x + f(norm(x)); post-LN: x = norm(x + f(x)). */
    private void residual(Scratch s, Weights.Norm n, Tensor x, Sublayer f) {
        if (pre) {
            f.apply(n == null ? x : norm(s, n, x), x, x);                   // ModernBERT's layer 0: no attention input norm
        } else {
            Tensor y = s.like(x);
            f.apply(x, null, y);
            backend.norm(normOp(n, y, x).withResidual(x, null));
        }
    }

    /** out = residual + o(attend(q(in), k, v)); in (B, T, C). */
    private void attention(Scratch s, Weights.Attention w, Tensor in, Attend how, Tensor residual, Tensor out) {
        long b = in.shape(0), t = in.shape(1);
        Tensor ctx;                                                                             // (B, T, NH, HS)
        if (latentMla && how.cached() && w.mla() != null) {
            ctx = attendLatent(s, w, in, how);
        } else {
            Tensor[] qkv = how.ownKv() ? projectQkv(s, w, in, how.kvViews())
                    : new Tensor[] {qkvLinear(s, in, w.q(), w.q4(), w.qb(), false).view(b, t, config.heads(), config.headSize()), null, null};
            boolean local = slidingRope(how.window());
            Tensor q = positionHeads(s, qkv[0], w.qNorm(), how.rope(), local);                  // (B, T, NH, HS)
            Tensor k = qkv[1] == null ? null : positionHeads(s, qkv[1], w.kNorm(), how.rope(), local);   // (B, T, NKV, HS)
            ctx = how.attend(q, k, qkv[2], w.sinks());
        }
        backend.linear(proj(ctx.view(b, t, config.innerWidth()), w.o(), w.o4(), out).bias(w.ob()).residual(residual)
                .alpha(config.residualScale()));
        LoraSlots.Pair[] lora = how.ownKv() ? loraOf(s, w) : null;
        if (lora != null && lora[3] != null) loraAdd(s, lora[3], ctx.view(b * t, config.innerWidth()), out.view(b * t, out.shape(-1)), config.residualScale());
    }

    /** The pass's adapted projections of this attention (see {@link LoraSlots}), or null. */
    private static LoraSlots.Pair[] loraOf(Scratch s, Weights.Attention w) { return s.lora == null ? null : s.lora.slots().of(w); }

    /** (…, N) as rows (R, N): a view of a contiguous tensor (a copy otherwise, which only a reader may take). */
    private Tensor rows(Scratch s, Tensor t) {
        long n = t.shape(-1), r = t.numel() / Math.max(n, 1);
        return t.isContiguous() ? t.view(r, n) : s.copyOf(t).view(r, n);
    }

    /**
     * out (R, N) += alpha · (x·A[g]ᵀ)·(s·B[g])ᵀ for the rows of each adapter slot g (the pass's route; rows past the last
     * slot's are left alone): a LoRA adapter's delta added into its base projection's output, unmerged.
     */
    private void loraAdd(Scratch s, LoraSlots.Pair p, Tensor x, Tensor out, float alpha) {
        if (p == null) return;
        Tensor off = s.lora.offsets();
        Tensor tmp = s.empty(dtype, x.shape(0), p.rank());                                      // (R, r), in the dtype as PEFT's lora_A output
        backend.groupedLinear(GroupedLinearOp.of(x, p.a(), off, tmp).transW(true));
        backend.groupedLinear(GroupedLinearOp.of(tmp, p.b(), off, out).transW(true).alpha(alpha).residual(out));
    }

    /** out = residual + down(act(up·in) [⊙ gate·in]). */
    private void mlp(Scratch s, Weights.Mlp m, Tensor in, Tensor residual, Tensor out) {
        if (m.moe() != null) {
            moe(s, m.moe(), in, residual, out);
            return;
        }
        long b = in.shape(0), t = in.shape(1);
        Tensor h = s.empty(dtype, b, t, m.width());                                             // (B, T, F)
        LoraSlots.Pair[] lora = s.lora == null ? null : s.lora.slots().of(m);
        if (lora != null && (lora[0] != null || lora[1] != null)) {
            // adapted before the activation: each product takes its delta, then the epilogue alone combines them
            Tensor x2 = rows(s, in);
            long r = x2.shape(0), f = m.width();
            Tensor u = s.empty(dtype, r, f), g = m.gated() ? s.empty(dtype, r, f) : null;
            backend.linear(proj(x2, m.up(), m.up4(), u).bias(m.upb()));
            loraAdd(s, lora[0], x2, u, 1f);                                                     // transformers' gate_proj
            if (g != null) {
                backend.linear(proj(x2, m.gate(), m.gate4(), g).bias(m.gateb()));
                loraAdd(s, lora[1], x2, g, 1f);                                                 // up_proj
            }
            backend.activation(ActivationOp.of(u, activation(), h.view(r, f)).gate(g));
        } else {
            // gated: up and gate are row views of one fused (2F, C) matrix where the weights allow (m.upGate())
            LinearOp up = proj(in, m.up(), m.up4(), h).bias(m.upb()).activation(activation());
            backend.linear(!m.gated() ? up : m.gate4() != null ? up.gate(m.gate4(), m.gateb()) : up.gate(m.gate(), m.gateb()));
        }
        backend.linear(proj(h, m.down(), m.down4(), out).bias(m.downb()).residual(residual).alpha(config.residualScale()));
        if (lora != null && lora[2] != null) loraAdd(s, lora[2], h.view(b * t, m.width()), out.view(b * t, out.shape(-1)), config.residualScale());
    }

    /**
     * out = residual + Σ_j w_j · expert_j(in) [+ σ(in · g) · shared(in)], in (B, T, C), the sum (and the shared expert) times
     * the residual scale (Granite MoE's residual_multiplier: folded into the routing weights and the shared down projection's
     * alpha), all on the backend (no host
     * round trip, so a decode step with it can be captured): router logits, {@link MoeRouteOp} (top-k, weights, the
     * choices sorted by expert), the tokens gathered expert by expert, the experts' gated up projection and their down
     * projection as two {@link GroupedLinearOp}s over the T·k gathered rows, and {@link MoeCombineOp} summing each
     * token's k rows by weight into out, with the shared expert and the residual, in fp32 with one rounding.
     */
    private void moe(Scratch s, Weights.Moe w, Tensor in, Tensor residual, Tensor out) {
        TransformerConfig.Moe m = config.moe();
        long rows = in.shape(0) * in.shape(1), c = config.modelWidth(), f = m.expertWidth();
        int e = m.experts(), k = m.topK();
        Tensor x = in.view(rows, c);
        Tensor logits = routerLogits(s, w, x);
        MoeRouting r = new MoeRouting(s.empty(DType.I32, rows, k), s.empty(DType.F32, rows, k), s.empty(DType.I32, e + 1L),
                s.empty(DType.I32, rows * k), s.empty(DType.I32, rows, k));
        backend.moeRoute(route(m, w, logits, r, config.residualScale()));
        Tensor xs = s.empty(dtype, rows * k, c), hs = s.empty(dtype, rows * k, f), ys = s.empty(dtype, rows * k, c);
        backend.gatherRows(new GatherRowsOp(x, r.sortedTokens(), xs));
        boolean q = w.quantized();                                                             // gpt-oss's MXFP4 experts
        GroupedLinearOp up = q ? GroupedLinearOp.mxfp4(xs, w.upQ(), r.offsets(), hs).gate(w.gateQ())
                : GroupedLinearOp.of(xs, w.up(), r.offsets(), hs).transW(true).gate(w.gate());
        GroupedLinearOp down = q ? GroupedLinearOp.mxfp4(hs, w.downQ(), r.offsets(), ys) : GroupedLinearOp.of(hs, w.down(), r.offsets(), ys).transW(true);
        backend.groupedLinear(up.bias(w.upBias(), w.gateBias()).activation(activation()));
        backend.groupedLinear(down.bias(w.downBias(), null));
        MoeCombineOp combine = MoeCombineOp.of(ys, r, out.view(rows, c)).residual(residual == null ? null : residual.view(rows, c));
        if (w.shared() != null) {
            Tensor sh = s.empty(dtype, in.shape(0), in.shape(1), c);
            mlp(s, w.shared(), in, null, sh);
            Tensor g = null;
            if (w.sharedGate() != null) {
                g = s.empty(dtype, rows, 1);
                backend.linear(LinearOp.of(x, w.sharedGate(), g).transW(true));
            }
            combine = combine.shared(sh.view(rows, c), g);
        }
        backend.moeCombine(combine);
    }

    /**
     * The router's logits (rows, E): in the model dtype, or ({@link TransformerConfig.Routing#fp32Logits}) an F32 product of
     * x widened to F32 (exactly) and the F32 router matrix, as transformers' F.linear(x.float(), w.float()).
     */
    private Tensor routerLogits(Scratch s, Weights.Moe w, Tensor x) {
        long rows = x.shape(0);
        int e = config.moe().experts();
        boolean fp32 = config.moe().routing().fp32Logits() && dtype != DType.F32;
        Tensor in = x;
        if (fp32) {
            in = s.empty(DType.F32, rows, x.shape(1));
            backend.gatherRows(GatherRowsOp.widen(x, in));
        }
        Tensor logits = s.empty(fp32 ? DType.F32 : dtype, rows, e);
        backend.linear(LinearOp.of(in, w.router(), logits).transW(true).bias(w.routerBias()));
        return logits;
    }

    /**
     * The router's op: top-k of the softmax (ERNIE 4.5's biased for the choice), or DeepSeek's sigmoid scores, groups and scale
     * ({@link TransformerConfig.Routing}), the weights times {@code residualScale} too.
     */
    private static MoeRouteOp route(TransformerConfig.Moe m, Weights.Moe w, Tensor logits, MoeRouting r, float residualScale) {
        MoeRouteOp op = new MoeRouteOp(logits, m.topK(), m.renormalize(), r);
        TransformerConfig.Routing how = m.routing();
        if (how.sigmoid()) op = op.sigmoid(w.correctionBias());
        else if (how.correctionBias()) op = op.correctionBias(w.correctionBias());
        if (how.groups() > 1) op = op.groups(how.groups(), how.topkGroups());
        float scale = how.scale() * residualScale;                      // Granite MoE: the experts' sum × residual_multiplier
        return scale == 1f ? op : op.scale(scale);
    }

    /** Runs a stack's blocks in place on x and returns its output (after the final norm for pre-LN). */
    Tensor runStack(Scratch s, Weights.Stack st, Tensor x, java.util.function.IntFunction<Attend> self,
                    java.util.function.IntFunction<Attend> cross) {
        for (int i = 0; i < st.layers().size(); i++) {
            Attend a = self.apply(i);
            if (st.relative() != null && !(a instanceof DisentangledSelf)) {
                throw new IllegalStateException("DeBERTa's disentangled attention runs in the encoder pass (encode, encodePacked, classify,"
                        + " classifyTokens, TextEncoder); this path does not compute it");
            }
            block(s, st.layers().get(i), x, a, cross == null ? null : cross.apply(i));
        }
        return st.finalNorm() == null ? x : norm(s, st.finalNorm(), x);
    }

    // ---- attention variants ----------------------------------------------------------------------

    /** Self-attention over the layer's own K/V, optionally after memory K/V (B, Tm, NKV, HS) (step 1). */
    final class DenseSelf implements Attend {
        final Scratch s;
        final AttentionOp.Mask mask;
        final int[] prefix;
        final RelativeBias bias;
        final Tensor memK, memV;
        RopeAt rope;
        int window;

        DenseSelf(Scratch s, AttentionOp.Mask mask, int[] prefix, RelativeBias bias, Tensor memK, Tensor memV) {
            this.s = s; this.mask = mask; this.prefix = prefix; this.bias = bias; this.memK = memK; this.memV = memV;
        }

        /** RoPE positions of the rows (null: none) and the layer's sliding window (0: none). */
        DenseSelf rotary(RopeAt r, int w) {
            this.rope = r;
            this.window = w;
            return this;
        }

        @Override public RopeAt rope() { return rope; }
        @Override public int window() { return window; }

        /** [memory ; target] copies K and V, which a copy takes only whole (not as views of the fused QKV). */
        @Override public boolean kvViews() { return memK == null; }

        @Override
        public Tensor attend(Tensor q, Tensor k, Tensor v, Tensor sinks) {
            if (memK != null) {                                                                 // [memory ; target]
                k = concatRows(s, memK, k);
                v = concatRows(s, memV, v);
            }
            Tensor out = s.like(q);
            backend.attention(AttentionOp.of(q, k, v, out).withMask(mask, prefix).scale(config.attentionScale()).bias(bias)
                    .window(window).softcap(config.attentionSoftcap()).sinks(sinks).alibi(weights.alibiSlopes));
            return out;
        }
    }

    /** Self-attention over packed sequences (1, ΣT, …), each attending only to itself (cumulative offsets cu). */
    final class PackedSelf implements Attend {
        final Scratch s;
        final AttentionOp.Mask mask;
        final RelativeBias bias;
        final int[] cu;
        final RopeAt rope;
        final int window;

        PackedSelf(Scratch s, AttentionOp.Mask mask, RelativeBias bias, int[] cu) { this(s, mask, bias, cu, null, 0); }

        /** With RoPE positions (1, ΣT) (an encoder with rotary positions: ModernBERT) and the layer's window (0: none). */
        PackedSelf(Scratch s, AttentionOp.Mask mask, RelativeBias bias, int[] cu, RopeAt rope, int window) {
            this.s = s; this.mask = mask; this.bias = bias; this.cu = cu; this.rope = rope; this.window = window;
        }

        @Override public RopeAt rope() { return rope; }

        @Override public int window() { return window; }

        @Override
        public Tensor attend(Tensor q, Tensor k, Tensor v, Tensor sinks) {                                   // k, v (1, ΣT, NKV, HS)
            Tensor out = s.like(q);                                                             // (1, ΣT, NH, HS)
            backend.attention(AttentionOp.of(q.select(0, 0), k.select(0, 0), v.select(0, 0), out.select(0, 0))
                    .packed(cu, cu).withMask(mask, null).scale(config.attentionScale()).bias(bias).softcap(config.attentionSoftcap())
                    .window(window).sinks(sinks).alibi(weights.alibiSlopes));
            return out;
        }
    }

    /**
     * DeBERTa's self-attention over packed sequences (1, ΣT, …), each attending to itself with positions from its start:
     * c2p = scale · q·keys[layer]ᵀ (NH, ΣT, 2·span) and p2c = scale · k·queries[layer]ᵀ, two batched GEMMs over the heads,
     * gathered by the attention op at each pair's relative-position column ({@link DisentangledBias}).
     */
    final class DisentangledSelf implements Attend {
        final Scratch s;
        final int[] cu;
        final Weights.Relative rel;
        final int layer;

        DisentangledSelf(Scratch s, int[] cu, Weights.Relative rel, int layer) {
            this.s = s; this.cu = cu; this.rel = rel; this.layer = layer;
        }

        @Override
        public Tensor attend(Tensor q, Tensor k, Tensor v, Tensor sinks) {                                   // q, k, v (1, ΣT, NH, HS)
            TransformerConfig.Disentangled d = config.disentangled();
            Tensor q2 = q.select(0, 0), k2 = k.select(0, 0), out = s.like(q);
            Tensor c2p = d.c2p() ? positional(q2, rel.keys().get(layer), d) : null;
            Tensor p2c = d.p2c() ? positional(k2, rel.queries().get(layer), d) : null;
            backend.attention(AttentionOp.of(q2, k2, v.select(0, 0), out.select(0, 0)).packed(cu, cu).scale(config.attentionScale())
                    .disentangled(new DisentangledBias(c2p, p2c, d.span(), d.buckets(), d.maxPosition())));
            return out;
        }

        /** scale · x·pᵀ per head: x (ΣT, NH, HS), p (2·span, NH·HS) → (NH, ΣT, 2·span). */
        private Tensor positional(Tensor x, Tensor p, TransformerConfig.Disentangled d) {
            long rows = x.shape(0), w = 2L * d.span();
            Tensor out = s.empty(dtype, config.heads(), rows, w);
            Tensor pos = p.view(w, config.heads(), config.headSize()).transpose(0, 1);                // (NH, 2·span, HS)
            backend.gemm(GemmOp.of(x.transpose(0, 1), pos, out).transB(true).scale(config.attentionScale(), 0f));
            return out;
        }
    }

    /** Attention of the queries to precomputed memory K/V (B, Tm, NKV, HS), no mask (cross-attention). */
    final class DenseCross implements Attend {
        final Scratch s;
        final Tensor memK, memV;

        DenseCross(Scratch s, Tensor memK, Tensor memV) { this.s = s; this.memK = memK; this.memV = memV; }

        @Override public boolean ownKv() { return false; }

        @Override
        public Tensor attend(Tensor q, Tensor k, Tensor v, Tensor sinks) {
            Tensor out = s.like(q);
            backend.attention(AttentionOp.of(q, memK, memV, out).scale(config.attentionScale()));
            return out;
        }
    }

    // ---- encoder, memory, decoder ---------------------------------------------------------------

    /** The encoder's output and, per decoder layer, the states it attends to and their K/V. */
    record Memory(Tensor output, List<Tensor> layerInputs, int length) {}

    Memory encodeMemory(Scratch s, int[][] ids) {
        Tensor x = embed(s, ids, 0, encoderEmbeddings());                                      // (B, Tin, C)
        AttentionOp.Mask mask = config.causalInput() ? AttentionOp.Mask.CAUSAL : AttentionOp.Mask.NONE;
        RelativeBias bias = relativeBias(weights.encoder, !config.causalInput());
        boolean keep = config.withinLayerCrossAttention();
        List<Tensor> inputs = new ArrayList<>();
        Weights.Stack st = weights.encoder;
        for (int i = 0; i < st.layers().size(); i++) {
            if (keep) inputs.add(s.copyOf(x));                                                  // what encoder layer i works on
            block(s, st.layers().get(i), x, new DenseSelf(s, mask, null, bias, null, null), null);
        }
        Tensor out = st.finalNorm() == null ? x : norm(s, st.finalNorm(), x);
        return new Memory(out, keep ? inputs : null, ids[0].length);
    }

    /** The states decoder layer i attends to: encoder layer i's input (step 3) or the encoder's output. */
    Tensor memoryFor(Memory mem, int layer) {
        return config.withinLayerCrossAttention() ? mem.layerInputs().get(layer) : mem.output();
    }

    /**
     * Memory K/V (B, Tm, NKV, HS) of decoder layer i: with step 1 through the layer's self-attention
     * (after its pre-attention norm, as the memory's own positions would be in the concatenation);
     * otherwise through its cross-attention (normalised by the cross norm when step 3 hands it a
     * raw residual stream of a pre-LN encoder; the encoder's output is already normalised). With
     * {@code views}, K and V may be strided views of one fused [k ; v] GEMM's output; without, they are
     * contiguous (the caller copies them: CUDA copies whole tensors only).
     */
    Tensor[] memoryKv(Scratch s, Memory mem, int layer, boolean views) {
        Weights.Layer l = weights.decoder.layers().get(layer);
        Tensor m = memoryFor(mem, layer);
        Tensor in;
        Weights.Attention w;
        if (config.shareCrossAndSelfAttention()) {
            w = l.self();
            in = pre ? norm(s, l.attnNorm(), m) : m;
        } else {
            w = l.cross();
            in = pre && config.withinLayerCrossAttention() ? norm(s, l.crossNorm(), m) : m;
        }
        return projectKv(s, w, in, views);
    }

    /** The decoder's last hidden states (B, Tt, C) of {@code target} over the memory, without a cache. */
    Tensor decodeDense(Scratch s, Memory mem, int[][] target) {
        boolean merged = config.shareCrossAndSelfAttention();
        Tensor x = embed(s, target, merged ? mem.length() : 0);                               // (B, Tt, C)
        RelativeBias bias = relativeBias(weights.decoder, decoderBidirectional());
        int n = weights.decoder.layers().size();
        Tensor[][] kv = new Tensor[n][];
        for (int i = 0; i < n; i++) kv[i] = memoryKv(s, mem, i, !merged);                    // step 1 copies them whole
        if (merged) {
            return runStack(s, weights.decoder, x, i -> new DenseSelf(s, AttentionOp.Mask.CAUSAL, null, bias, kv[i][0], kv[i][1]), null);
        }
        return runStack(s, weights.decoder, x, i -> new DenseSelf(s, AttentionOp.Mask.CAUSAL, null, bias, null, null),
                i -> new DenseCross(s, kv[i][0], kv[i][1]));
    }

    /** Whether the decoder stack's T5 buckets tell keys after the query apart (any of its attention may see them). */
    boolean decoderBidirectional() {
        return config.prefixLm() || (config.architecture() == Architecture.ENCODER_DECODER
                && config.shareCrossAndSelfAttention() && !config.causalInput());
    }

    RelativeBias relativeBias(Weights.Stack st, boolean bidirectional) {
        return st.relativeBias() == null ? null : new RelativeBias(st.relativeBias(), config.relativeMaxDistance(), bidirectional);
    }

    // ---- pieces -----------------------------------------------------------------------------------

    /** Token (+ position from {@code offset}) (+ type 0) embeddings, then the embedding norm of post-LN models: (B, T, C). */
    Tensor embed(Scratch s, int[][] ids, int offset) { return embed(s, ids, offset, weights.embeddings); }

    /** The encoder's embeddings: the BART family's own table and norm where the stacks have their own, else the shared ones. */
    Weights.Embeddings encoderEmbeddings() {
        return weights.encoderEmbeddings != null ? weights.encoderEmbeddings : weights.embeddings;
    }

    /** {@link #embed(Scratch, int[][], int)} with the tables {@code e}. */
    Tensor embed(Scratch s, int[][] ids, int offset, Weights.Embeddings e) {
        weights.checkOpen();
        int b = ids.length, t = ids[0].length;
        int[] flat = new int[b * t];
        for (int i = 0; i < b; i++) System.arraycopy(ids[i], 0, flat, i * t, t);
        checkIds(flat);
        checkPositions(offset, t);
        Tensor idT = s.uploadInts(flat, b, t);
        Tensor x = s.empty(dtype, b, t, config.modelWidth());
        if (e == weights.embeddings) embedInto(s, idT, offset, x);
        else embedTables(e, idT, offset, null, null, x);                                     // the BART family's encoder: no types, no projection
        return x;
    }

    /** ids I32 (…), x ids' shape + C. */
    void embedInto(Scratch s, Tensor ids, long offset, Tensor x) {
        Tensor typeIds = weights.embeddings.types() == null ? null : s.uploadInts(new int[(int) ids.numel()], ids.shape());
        embedInto(s, ids, offset, null, typeIds, x);
    }

    /**
     * {@link #embedInto(Tensor, long, Tensor, Tensor, Tensor)}, and for ELECTRA's embedding_size E ≠ C the tables' (…, E)
     * normed in {@code s}, then projected to x's C (embeddings_project: x = y · Pᵀ + b).
     */
    void embedInto(Scratch s, Tensor ids, long offset, Tensor positions, Tensor typeIds, Tensor x) {
        Weights.Embeddings e = weights.embeddings;
        if (e.project() == null) {
            embedInto(ids, offset, positions, typeIds, x);
            return;
        }
        long[] shape = x.shape();
        shape[shape.length - 1] = e.tokens().shape(1);
        Tensor y = s.empty(dtype, shape);
        embedTables(e, ids, offset, positions, typeIds, y);
        backend.linear(LinearOp.of(y, e.project(), x).transW(true).bias(e.projectBias()));
    }

    /**
     * The embedding op and the embedding norm of post-LN models. Positions come from {@code positions}
     * (I32, ids' shape) when given, else start at {@code offset}; {@code typeIds} (all 0) is needed
     * exactly when the model has token types. Queues only ops, so a captured decode step uses it too.
     */
    void embedInto(Tensor ids, long offset, Tensor positions, Tensor typeIds, Tensor x) {
        if (weights.embeddings.project() != null) {
            throw new IllegalStateException("projected embeddings (ELECTRA's embedding_size) need a scratch: embedInto(Scratch, …)");
        }
        embedTables(weights.embeddings, ids, offset, positions, typeIds, x);
    }

    /** The tables' sum (and scale, and norm) into x of the tables' width. */
    private void embedTables(Weights.Embeddings e, Tensor ids, long offset, Tensor positions, Tensor typeIds, Tensor x) {
        EmbeddingOp op = EmbeddingOp.of(ids, e.tokens(), e.positions(), x);
        if (config.embeddingScale() != 1f) op = op.tokenScale(roundTo(dtype, config.embeddingScale()));
        if (e.positions() != null) op = positions != null ? op.positions(positions) : op.positionOffset(offset);
        if (e.types() != null) op = op.types(typeIds, e.types());
        backend.embedding(op);
        if (e.embeddingNorm() != null) backend.norm(normOp(e.embeddingNorm(), x, x));
    }

    /** {@code v} rounded to {@code dt} (transformers makes Gemma's normalizer a tensor of the hidden states' dtype). */
    static float roundTo(DType dt, float v) {
        try (Tensor t = Tensor.of(dt, new float[] {v}, 1)) {
            return t.toFloatArray()[0];
        }
    }

    void checkIds(int[] ids) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + ids[i] + " at index " + i + " is outside the vocabulary [0, "
                        + config.vocabSize() + ")");
            }
        }
    }

    void checkPositions(long offset, long t) {
        if (config.positions() == TransformerConfig.Positions.LEARNED_ABSOLUTE && offset + t > config.maxPositions()) {
            throw new IllegalArgumentException("positions " + offset + ".." + (offset + t - 1) + " exceed the model's "
                    + config.maxPositions() + " learned positions; truncate the input (the caller chooses how)");
        }
    }

    /** Logits (…, V) = outputScale · h · Eᵀ. */
    Tensor logits(Scratch s, Tensor h) {
        long[] shape = h.shape();
        shape[shape.length - 1] = config.vocabSize();
        Tensor out = s.empty(dtype, shape);
        logitsInto(h, out);
        return out;
    }

    /**
     * out (…, V) = outputScale · h · Eᵀ (+ the BART family's final_logits_bias), soft-capped when the config says so (Gemma 2's
     * final_logit_softcapping).
     */
    void logitsInto(Tensor h, Tensor out) {
        backend.linear(LinearOp.of(h, weights.outputMatrix(), out).transW(true).alpha(config.outputScale()).bias(weights.outputBias));
        if (config.logitSoftcap() > 0) backend.softcap(new SoftcapOp(out, config.logitSoftcap()));
    }

    Tensor norm(Scratch s, Weights.Norm n, Tensor x) {
        Tensor out = s.like(x);
        backend.norm(normOp(n, x, out));
        return out;
    }

    NormOp normOp(Weights.Norm n, Tensor x, Tensor out) {
        return config.norm() == TransformerConfig.NormKind.RMS_NORM
                ? NormOp.rms(x, n.weight(), config.normEps(), out)
                : NormOp.layer(x, n.weight(), n.bias(), config.normEps(), out);
    }

    Tensor linear(Scratch s, Tensor x, Tensor w, Tensor bias) { return linear(s, x, w, null, bias); }

    /** The same with the weight dense ({@code w}) or in 4 bits ({@code w4}, an AWQ / GPTQ folder's; w then null). */
    Tensor linear(Scratch s, Tensor x, Tensor w, Int4 w4, Tensor bias) {
        long[] shape = x.shape();
        shape[shape.length - 1] = w4 != null ? w4.rows() : w.shape(0);
        Tensor out = s.empty(dtype, shape);
        backend.linear(proj(x, w, w4, out).bias(bias));
        return out;
    }

    /** out = x · Wᵀ: W (N, K) dense ({@code w}) or in 4 bits ({@code w4}; w then null), as an nn.Linear's weight. */
    static LinearOp proj(Tensor x, Tensor w, Int4 w4, Tensor out) {
        return w4 != null ? LinearOp.of(x, w4, out) : LinearOp.of(x, w, out).transW(true);
    }

    /**
     * {@link #linear} for a self-attention's q, k or v projection (or a fused [q ; k ; v]: the clamp is elementwise): with
     * clip_qkv (OLMo, MPT) its output clamped to ±clipQkv in the GEMM's epilogue (Activation.CLAMP), as transformers clamps
     * the projection's output before RoPE. {@code deltaFollows}: a LoRA delta is still to be added (PEFT adds it inside
     * q_proj, before the clamp), so the product is left unclamped and {@link #clipAfterDelta} clamps the sum.
     */
    Tensor qkvLinear(Scratch s, Tensor x, Tensor w, Tensor bias, boolean deltaFollows) { return qkvLinear(s, x, w, null, bias, deltaFollows); }

    /** The same with the weight dense ({@code w}) or in 4 bits ({@code w4}; w then null). */
    Tensor qkvLinear(Scratch s, Tensor x, Tensor w, Int4 w4, Tensor bias, boolean deltaFollows) {
        float clip = config.clipQkv();
        if (clip == 0 || deltaFollows) return linear(s, x, w, w4, bias);
        long[] shape = x.shape();
        shape[shape.length - 1] = w4 != null ? w4.rows() : w.shape(0);
        Tensor out = s.empty(dtype, shape);
        backend.linear(proj(x, w, w4, out).bias(bias).clamp(clip));
        return out;
    }

    /** clip_qkv on a projection whose LoRA delta has been added (see {@link #qkvLinear}), in place; nothing without clip_qkv. */
    private void clipAfterDelta(Tensor t) {
        if (config.clipQkv() > 0) backend.activation(ActivationOp.clamp(t, config.clipQkv(), t));
    }

    /**
     * Q (B, T, NH, HS) and K, V (B, T, NKV, HS) of a self-attention: one GEMM into (B, T, NH·HS + 2·NKV·HS)
     * and three views of it where the weights are fused ({@link Weights.Attention#qkv}), else three GEMMs.
     * {@code views} false keeps K and V contiguous (Q alone is then a separate GEMM).
     */
    Tensor[] projectQkv(Scratch s, Weights.Attention w, Tensor in, boolean views) {
        if (w.mla() != null) return projectMla(s, w, in, views);
        long b = in.shape(0), t = in.shape(1);
        int nh = config.heads(), nkv = config.kvHeads(), hs = config.headSize();
        LoraSlots.Pair[] lora = loraOf(s, w);
        Tensor x2 = lora == null ? null : rows(s, in);
        long qw = (long) nh * hs, kw = (long) nkv * hs;
        if (views && w.qkv() != null) {
            Tensor flat = qkvLinear(s, in, w.qkv().weight(), w.qkv().bias(), lora != null);
            if (lora != null) {                                                                 // each adapter's delta into its columns
                Tensor f2 = flat.view(b * t, qw + 2 * kw);
                loraAdd(s, lora[0], x2, f2.slice(1, 0, qw), 1f);
                loraAdd(s, lora[1], x2, f2.slice(1, qw, qw + kw), 1f);
                loraAdd(s, lora[2], x2, f2.slice(1, qw + kw, qw + 2 * kw), 1f);
                clipAfterDelta(flat);
            }
            Tensor all = flat.view(b, t, nh + 2L * nkv, hs);
            return new Tensor[] {all.slice(2, 0, nh), all.slice(2, nh, nh + nkv), all.slice(2, nh + nkv, nh + 2L * nkv)};
        }
        Tensor[] kv = projectKv(s, w, in, views, lora, x2);
        Tensor q = qkvLinear(s, in, w.q(), w.q4(), w.qb(), lora != null);
        if (lora != null) {
            loraAdd(s, lora[0], x2, q.view(b * t, qw), 1f);
            clipAfterDelta(q);
        }
        return new Tensor[] {q.view(b, t, nh, hs), kv[0], kv[1]};
    }

    /**
     * DeepSeek's multi-head latent attention as this library runs it ({@link TransformerConfig.Mla}, {@link Weights.Mla}):
     * q = q_b(RMSNorm(q_a(x))) or q_proj(x); the latent [k_pe ; c] = kv_a(x) (its rows so laid at load) with RMSNorm over c in
     * place (k_pe as it is); then K and V from [k_pe ; RMSNorm(c)] through the fused [K ; V] rows, every head's k_pe copied by its identity rows (exact: one
     * product by 1 in fp32). Each head's q and k are [pe | nope]; the caller rotates the pe dims as any RoPE model's.
     */
    private Tensor[] projectMla(Scratch s, Weights.Attention w, Tensor in, boolean views) {
        Tensor q = mlaQuery(s, w, in);
        Tensor[] kv = projectKv(s, w, mlaLatent(s, w, in), true);
        if (!views) return new Tensor[] {q, s.copyOf(kv[0]), s.copyOf(kv[1])};
        return new Tensor[] {q, kv[0], kv[1]};
    }

    /** MLA's q (B, T, NH, HS), each head [pe | nope]: q_b(RMSNorm(q_a(x))) or q_proj(x). */
    private Tensor mlaQuery(Scratch s, Weights.Attention w, Tensor in) {
        Tensor qIn = in;
        if (w.mla().qA() != null) {
            Tensor qa = linear(s, in, w.mla().qA(), null);
            backend.norm(NormOp.rms(qa, w.mla().qANorm().weight(), config.mla().normEps(), qa));
            qIn = qa;
        }
        return linear(s, qIn, w.q(), null).view(in.shape(0), in.shape(1), config.heads(), config.headSize());
    }

    /** MLA's latent row (B, T, ropeDim + kvLoraRank): [k_pe ; RMSNorm(c)] = kv_a(x), the norm in place on c. */
    private Tensor mlaLatent(Scratch s, Weights.Attention w, Tensor in) {
        TransformerConfig.Mla m = config.mla();
        Tensor latent = linear(s, in, w.mla().kvA(), null);
        Tensor c = latent.slice(2, m.ropeDim(), m.ropeDim() + m.kvLoraRank());
        backend.norm(NormOp.rms(c, w.mla().kvANorm().weight(), m.normEps(), c));
        return latent;
    }

    /** MLA's latent row width: ropeDim + kvLoraRank (576 for DeepSeek-V2 / V3). */
    static int latentWidth(TransformerConfig c) { return c.mla().ropeDim() + c.mla().kvLoraRank(); }

    /**
     * Whether MLA keeps a latent cache on {@code backend}: its attention ops run a latent row of {@code width} as a head (a
     * multiple of 8 up to their largest), unless {@code -Dt4j.mla.latent=false} asks for the materialized cache (a prefill-heavy
     * load: on the CPU the absorbed prefill attends over 576-wide rows, up to 3.5× the time of the materialized one).
     */
    static boolean latentRuns(Backend backend, int width) {
        return width % 8 == 0 && width <= backend.maxHeadSize() && !"false".equalsIgnoreCase(System.getProperty("t4j.mla.latent"));
    }

    /**
     * MLA attending over a latent cache ({@link #latentMla}), vLLM's absorbed form: the latent row [k_pe ; RMSNorm(c)], its
     * k_pe turned by RoPE, is the one key (and value) head the cache holds; each head's query [q_pe | q_nope] (q_pe turned)
     * becomes q_h·K_h = [q_pe | q_nope·W_UK_h] (K_h: the head's rows of the fused [K ; V] over the latent — the identity on
     * k_pe, kv_b_proj's k_nope rows on c — so q_h·K_h·latent is the model's q·k, and the softmax scale stays); the latent
     * output o_h = Σ p·latent gives the head's value through its V rows, o_h·V_hᵀ (zero on k_pe and on V's padding).
     * Per head, two projections (linear ops, so that each row keeps the bits it has alone, as every other projection's)
     * replace the K / V projection of every cached row. Returns (B, T, NH, HS).
     */
    private Tensor attendLatent(Scratch s, Weights.Attention w, Tensor in, Attend how) {
        long b = in.shape(0), t = in.shape(1), bt = b * t;
        int nh = config.heads(), hs = config.headSize(), width = latentWidth(config);
        Tensor q = positionHeads(s, mlaQuery(s, w, in), null, how.rope(), false).view(bt, (long) nh * hs);   // [pe | nope] a head
        Tensor key = positionHeads(s, mlaLatent(s, w, in).view(b, t, 1, width), null, how.rope(), false);   // k_pe turned
        Tensor qa = s.empty(dtype, b, t, nh, width), qaRows = qa.view(bt, (long) nh * width);
        for (long h = 0; h < nh; h++) {                                                         // q_h · K_h (HS → width)
            backend.linear(LinearOp.of(q.slice(1, h * hs, (h + 1) * hs), w.mla().kT().slice(0, h * width, (h + 1) * width),
                    qaRows.slice(1, h * width, (h + 1) * width)).transW(true));
        }
        Tensor o = how.attend(qa, key, key, w.sinks()).view(bt, (long) nh * width);             // Σ p · latent, a head
        Tensor ctx = s.empty(dtype, b, t, nh, hs), ctxRows = ctx.view(bt, (long) nh * hs);
        for (long h = 0; h < nh; h++) {                                                         // o_h · V_hᵀ (width → HS)
            backend.linear(LinearOp.of(o.slice(1, h * width, (h + 1) * width), w.v().slice(0, h * hs, (h + 1) * hs),
                    ctxRows.slice(1, h * hs, (h + 1) * hs)).transW(true));
        }
        return ctx;
    }

    /** K and V (B, T, NKV, HS): one GEMM and two views where [k ; v] is fused and {@code views} allowed, else two GEMMs. */
    Tensor[] projectKv(Scratch s, Weights.Attention w, Tensor in, boolean views) { return projectKv(s, w, in, views, null, null); }

    /** The same, each with its LoRA delta added ({@code lora}'s K and V; x2: in as rows) where lora is given. */
    private Tensor[] projectKv(Scratch s, Weights.Attention w, Tensor in, boolean views, LoraSlots.Pair[] lora, Tensor x2) {
        int nkv = config.kvHeads();
        long rows = in.shape(0) * in.shape(1), kw = (long) nkv * config.headSize();
        if (views && w.kv() != null) {
            Tensor flat = qkvLinear(s, in, w.kv().weight(), w.kv().bias(), lora != null);
            if (lora != null) {
                Tensor f2 = flat.view(rows, 2 * kw);
                loraAdd(s, lora[1], x2, f2.slice(1, 0, kw), 1f);
                loraAdd(s, lora[2], x2, f2.slice(1, kw, 2 * kw), 1f);
                clipAfterDelta(flat);
            }
            Tensor all = flat.view(in.shape(0), in.shape(1), 2L * nkv, config.headSize());
            return new Tensor[] {all.slice(2, 0, nkv), all.slice(2, nkv, 2L * nkv)};
        }
        Tensor k = kv(s, in, w.k(), w.k4(), w.kb(), lora != null), v = kv(s, in, w.v(), w.v4(), w.vb(), lora != null);
        if (lora != null) {
            loraAdd(s, lora[1], x2, k.view(rows, kw), 1f);
            loraAdd(s, lora[2], x2, v.view(rows, kw), 1f);
            clipAfterDelta(k);
            clipAfterDelta(v);
        }
        return new Tensor[] {k, v};
    }

    /** A K or V projection (B, T, C) → (B, T, NKV, HS), clamped with clip_qkv. */
    Tensor kv(Scratch s, Tensor in, Tensor w, Tensor bias) { return kv(s, in, w, null, bias, false); }

    /** The same; {@code w4}: the weight in 4 bits (w then null); {@code deltaFollows}: a LoRA delta is still to be added before the clamp ({@link #qkvLinear}). */
    Tensor kv(Scratch s, Tensor in, Tensor w, Int4 w4, Tensor bias, boolean deltaFollows) {
        return qkvLinear(s, in, w, w4, bias, deltaFollows).view(in.shape(0), in.shape(1), config.kvHeads(), config.headSize());
    }

    /** [a ; b] along T: a (B, Ta, H, D), b (B, Tb, H, D) → (B, Ta + Tb, H, D). */
    Tensor concatRows(Scratch s, Tensor a, Tensor b) {
        long batch = a.shape(0), ta = a.shape(1), tb = b.shape(1);
        Tensor out = s.empty(a.dtype(), batch, ta + tb, a.shape(2), a.shape(3));
        for (long i = 0; i < batch; i++) {
            Tensor row = out.slice(0, i, i + 1);
            if (ta > 0) backend.copy(a.slice(0, i, i + 1), row.slice(1, 0, ta));
            backend.copy(b.slice(0, i, i + 1), row.slice(1, ta, ta + tb));
        }
        return out;
    }

    Activation activation() {
        return switch (config.activation()) {
            case GELU -> Activation.GELU;
            case GELU_TANH -> Activation.GELU_TANH;
            case RELU -> Activation.RELU;
            case SILU -> Activation.SILU;
            case SWIGLU_OAI -> Activation.SWIGLU_OAI;
            case RELU2 -> Activation.RELU2;
        };
    }

    /** A bidirectional decoder (EmbeddingGemma) has no causal logits: its states come from {@link #lastHiddenStates}. */
    void requireCausal(String what) {
        if (config.bidirectional()) {
            throw new IllegalStateException(what + " needs causal attention; this model's is bidirectional (use_bidirectional_attention):"
                    + " it gives hidden states (lastHiddenStates), not logits or generation");
        }
    }

    void requireArch(String what, Architecture... allowed) {
        for (Architecture a : allowed) if (config.architecture() == a) return;
        throw new IllegalStateException(what + " is for " + Arrays.toString(allowed) + " models; this one is " + config.architecture());
    }

    /** Checks a non-empty rectangular batch and returns {B, T}. */
    static int[] rectangular(String role, int[][] ids) {
        if (ids == null || ids.length == 0) throw new IllegalArgumentException(role + " is empty (no rows)");
        int t = ids[0] == null ? 0 : ids[0].length;
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] == null || ids[i].length == 0) throw new IllegalArgumentException(role + " row " + i + " is empty");
            if (ids[i].length != t) {
                throw new IllegalArgumentException(role + " rows differ in length (" + t + " and " + ids[i].length
                        + " at row " + i + "); a full pass takes equal lengths: run rows separately or use KvState");
            }
        }
        return new int[] {ids.length, t};
    }

    float[] host(Scratch s, Tensor t) {
        if (!t.isCuda()) return t.toFloatArray();
        Tensor h = backend.toHost(t);
        s.add(h);
        return h.toFloatArray();
    }

    float[][][] toHost3(Tensor t, int b, int rows, int cols) {
        try (Scratch s = new Scratch(backend)) {
            float[] a = host(s, t);
            float[][][] out = new float[b][rows][cols];
            for (int i = 0; i < b; i++) for (int r = 0; r < rows; r++) System.arraycopy(a, (i * rows + r) * cols, out[i][r], 0, cols);
            return out;
        }
    }

    float[][] toHost2(Tensor t, int rows, int cols) {
        try (Scratch s = new Scratch(backend)) {
            float[] a = host(s, t);
            float[][] out = new float[rows][cols];
            for (int r = 0; r < rows; r++) System.arraycopy(a, r * cols, out[r], 0, cols);
            return out;
        }
    }
}
