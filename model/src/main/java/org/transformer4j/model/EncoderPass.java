// EncoderPass — the encoder-only forward pass as Hugging Face callers run it: token type ids, a padded
// [B, T] batch with its 0/1 attention mask (or packed sequences of different lengths), and each family's
// positions (BERT/DistilBERT 0, 1, 2, …; RoBERTa/XLM-RoBERTa from padding_idx + 1 over the non-padding
// tokens), then the heads on top of the last hidden state: pooled (BERT's pooler, RoBERTa's and
// DistilBERT's classification dense), sequence and token classifiers, masked-LM and next-sentence logits.
package org.transformer4j.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.transformer4j.runtime.AttentionOp;
import org.transformer4j.runtime.LinearOp;
import org.transformer4j.runtime.NormOp;
import org.transformer4j.runtime.RelativeBias;
import org.transformer4j.runtime.Tensor;

/**
 * A padded batch with a mask is run as transformers runs it (every row of T, padded rows included, each
 * query seeing the keys whose mask is 1) without a mask in the kernels: within each row the visible tokens
 * are moved ahead of the masked ones (each keeping its own position id and type), the attention sees the
 * first {@code keyLengths[b]} keys, and results are put back in the caller's order. Attention without a
 * position-dependent bias is the same for any order of its keys, so this is exact for absolute positions;
 * right-padded rows (the usual case) are not moved at all.
 */
final class EncoderPass {

    private EncoderPass() {}

    /**
     * The last hidden state (B, T, C) on the backend, rows within each sequence in {@code order}:
     * {@code order[b][t]} is where the caller's token t sits (null: the caller's order).
     */
    record Hidden(Tensor h, int[][] order, int[] visible) {
        int row(int b, int t) { return order == null ? t : order[b][t]; }
    }

    /** Checks ids (B, T), typeIds and mask (both (B, T) or null) and runs the encoder. */
    static Hidden run(Transformer m, Scratch s, int[][] ids, int[][] typeIds, int[][] mask) {
        TransformerConfig c = m.config;
        if (c.architecture() != TransformerConfig.Architecture.ENCODER_ONLY) {
            throw new IllegalStateException("token types and attention masks are for encoder-only models; this one is " + c.architecture());
        }
        int[] shape = Transformer.rectangular("ids", ids);
        int b = shape[0], t = shape[1];
        checkSameShape("typeIds", typeIds, b, t);
        checkSameShape("attentionMask", mask, b, t);
        int[] flatIds = new int[b * t], flatTypes = new int[b * t], flatPos = new int[b * t];
        int[][] order = null;
        int[] visible = new int[b];
        for (int r = 0; r < b; r++) {
            m.checkIds(ids[r]);
            int[] types = typeIds == null ? new int[t] : typeIds[r];
            checkTypes(m, types, r);
            int[] pos = positions(m, ids[r], "ids row " + r);
            int[] perm = new int[t];                                   // perm[k]: the caller's token at row k
            int k = 0;
            if (mask != null) {
                for (int i = 0; i < t; i++) {
                    int v = mask[r][i];
                    if (v != 0 && v != 1) {
                        throw new IllegalArgumentException("attentionMask[" + r + "][" + i + "] is " + v
                                + "; a mask holds 1 (a token) or 0 (padding)");
                    }
                    if (v == 1) perm[k++] = i;
                }
                if (k == 0) throw new IllegalArgumentException("attentionMask row " + r + " is all 0: the row has no token");
                visible[r] = k;
                for (int i = 0; i < t; i++) if (mask[r][i] == 0) perm[k++] = i;
            } else {
                for (int i = 0; i < t; i++) perm[i] = i;
                visible[r] = t;
            }
            boolean moved = false;
            for (int i = 0; i < t; i++) moved |= perm[i] != i;
            if (moved) {
                if (order == null) {
                    order = new int[b][];
                    for (int q = 0; q < b; q++) order[q] = identity(t);
                }
                for (int i = 0; i < t; i++) order[r][perm[i]] = i;
            }
            for (int i = 0; i < t; i++) {
                flatIds[r * t + i] = ids[r][perm[i]];
                flatTypes[r * t + i] = types[perm[i]];
                flatPos[r * t + i] = pos[perm[i]];
            }
        }
        if (order != null && (m.config.positions() != TransformerConfig.Positions.LEARNED_ABSOLUTE || m.config.causalInput())) {
            throw new IllegalArgumentException("attentionMask: rows padded other than at the end need absolute positions;"
                    + " pad this model's rows at the end");
        }
        RelativeBias bias = m.relativeBias(m.weights.encoder, true);
        boolean padded = mask != null && Arrays.stream(visible).anyMatch(v -> v < t);
        boolean disentangled = c.disentangled() != null;
        if ((c.rope() != null || bias != null) && padded || disentangled) {
            // rotary or relative positions (ModernBERT, MPNet, DeBERTa): right-padded rows run as packed sequences, so that
            // each row's queries and keys keep their distances (key padding would align queries with the keys' end);
            // DeBERTa's disentangled attention runs packed whether padded or not
            if (order != null) {
                throw new IllegalArgumentException("attentionMask: rows padded other than at the end are not supported for a model"
                        + " with " + (bias != null || disentangled ? "relative" : "rotary") + " positions; pad this model's rows at the end");
            }
            return unpadded(m, s, ids, m.weights.embeddings.types() == null ? null : typeIds, visible, t);
        }
        Tensor x = s.empty(m.dtype, b, t, c.modelWidth());                                           // (B, T, C)
        Tensor idT = s.uploadInts(flatIds, b, t);
        m.embedInto(s, idT, 0, s.uploadInts(flatPos, b, t), m.weights.embeddings.types() == null ? null : s.uploadInts(flatTypes, b, t), x);
        int[] lengths = padded ? visible : null;
        // rotary encoders (ModernBERT): each row's positions 0, 1, …; a local layer's window on both sides
        Transformer.RopeAt rope = c.rope() == null ? null : new Transformer.RopeAt(s.uploadInts(flatPos, b, t), s.uploadInts(filled(b, t), b));
        java.util.function.IntFunction<Transformer.Attend> self = layer -> new Transformer.Attend() {
            @Override
            public Tensor attend(Tensor q, Tensor k, Tensor v, Tensor sinks) {                                          // k, v (B, T, NKV, HS)
                Tensor out = s.like(q);                                                                   // (B, T, NH, HS)
                AttentionOp op = AttentionOp.of(q, k, v, out).scale(c.attentionScale()).bias(bias).window(c.window(layer));
                m.backend.attention(lengths == null ? op : op.keyLengths(lengths));
                return out;
            }

            @Override public Transformer.RopeAt rope() { return rope; }

            @Override public int window() { return c.window(layer); }
        };
        Tensor h = m.runStack(s, m.weights.encoder, x, self, null);                                     // final norm of pre-LN stacks
        return new Hidden(h, order, visible);
    }

    /**
     * A rotary or relative encoder's right-padded batch (ModernBERT, MPNet, DeBERTa), run as transformers' unpadded path runs it: each row's tokens
     * packed on their own (positions from 0, windows within the row), the padding positions of the result 0 (as
     * transformers' flash-attention path leaves them; its eager path's values there depend on the implementation and
     * nothing reads them). Key padding alone would align each row's queries with the end of its keys, which moves a
     * window.
     */
    private static Hidden unpadded(Transformer m, Scratch s, int[][] ids, int[][] typeIds, int[] visible, int t) {
        int b = ids.length, c = m.config.modelWidth();
        List<int[]> rows = new ArrayList<>(), types = typeIds == null ? null : new ArrayList<>();
        for (int r = 0; r < b; r++) {
            rows.add(Arrays.copyOf(ids[r], visible[r]));
            if (types != null) types.add(Arrays.copyOf(typeIds[r], visible[r]));
        }
        int[] cu = new int[b + 1];
        Tensor packed = packed(m, s, rows, types, cu).select(0, 0);                                   // (ΣL, C)
        Tensor h = s.upload(m.dtype, new float[b * t * c], b, t, c);
        for (int r = 0; r < b; r++) m.backend.copy(packed.slice(0, cu[r], cu[r + 1]), h.select(0, r).slice(0, 0, visible[r]));
        return new Hidden(h, null, visible);
    }

    /**
     * Packed sequences (1, ΣT, C), each attending only to itself, with their types (null: all 0);
     * returns the hidden state and the offsets {@code cu} (N + 1). An encoder-only model runs its encoder
     * (bidirectional unless causalInput), a decoder-only one its decoder stack (causal unless bidirectional:
     * EmbeddingGemma), each with its positions from the sequence's start and its per-layer RoPE and windows.
     */
    static Tensor packed(Transformer m, Scratch s, List<int[]> sequences, List<int[]> typeIds, int[] cu) {
        if (sequences == null || sequences.isEmpty()) throw new IllegalArgumentException("no sequences");
        if (typeIds != null && typeIds.size() != sequences.size()) {
            throw new IllegalArgumentException("typeIds has " + typeIds.size() + " rows for " + sequences.size() + " sequences");
        }
        int n = sequences.size();
        for (int i = 0; i < n; i++) {
            int[] ids = sequences.get(i);
            if (ids == null || ids.length == 0) throw new IllegalArgumentException("sequence " + i + " is empty");
            cu[i + 1] = Math.addExact(cu[i], ids.length);
        }
        int total = cu[n];
        int[] flatIds = new int[total], flatTypes = new int[total], flatPos = new int[total];
        for (int i = 0; i < n; i++) {
            int[] ids = sequences.get(i);
            m.checkIds(ids);
            int[] types = typeIds == null ? new int[ids.length] : typeIds.get(i);
            if (types == null || types.length != ids.length) {
                throw new IllegalArgumentException("typeIds row " + i + " has " + (types == null ? "no" : types.length) + " entries for "
                        + ids.length + " tokens");
            }
            checkTypes(m, types, i);
            int[] pos = positions(m, ids, "sequence " + i);
            System.arraycopy(ids, 0, flatIds, cu[i], ids.length);
            System.arraycopy(types, 0, flatTypes, cu[i], ids.length);
            System.arraycopy(pos, 0, flatPos, cu[i], ids.length);
        }
        Tensor x = s.empty(m.dtype, 1, total, m.config.modelWidth());                                  // (1, ΣT, C)
        m.embedInto(s, s.uploadInts(flatIds, 1, total), 0, s.uploadInts(flatPos, 1, total),
                m.weights.embeddings.types() == null ? null : s.uploadInts(flatTypes, 1, total), x);
        boolean decoderOnly = m.config.architecture() == TransformerConfig.Architecture.DECODER_ONLY;
        boolean causal = decoderOnly ? !m.config.bidirectional() : m.config.causalInput();
        AttentionOp.Mask mask = causal ? AttentionOp.Mask.CAUSAL : AttentionOp.Mask.NONE;
        Weights.Stack stack = decoderOnly ? m.weights.decoder : m.weights.encoder;
        int longest = 0;                                                               // RoPE's seq_len: the longest sequence's
        for (int i = 0; i < n; i++) longest = Math.max(longest, cu[i + 1] - cu[i]);
        Transformer.RopeAt rope = m.config.rope() == null ? null
                : new Transformer.RopeAt(s.uploadInts(flatPos, 1, total), s.uploadInts(new int[] {longest}, 1));
        RelativeBias bias = m.relativeBias(stack, !causal);
        if (stack.relative() != null) return m.runStack(s, stack, x, l -> m.new DisentangledSelf(s, cu, stack.relative(), l), null);
        return m.runStack(s, stack, x, l -> m.new PackedSelf(s, mask, bias, cu, m.ropeAt(l, rope), m.config.window(l)), null);
    }

    private static int[] filled(int n, int v) {
        int[] a = new int[n];
        Arrays.fill(a, v);
        return a;
    }

    /** One row's embeddings (1, T, C) with the family's positions and token type 0 (for inspection). */
    static Tensor embedRow(Transformer m, Scratch s, int[] ids) {
        m.checkIds(ids);
        Tensor x = s.empty(m.dtype, 1, ids.length, m.config.modelWidth());
        m.embedInto(s, s.uploadInts(ids, 1, ids.length), 0, s.uploadInts(positions(m, ids, "ids"), 1, ids.length),
                m.weights.embeddings.types() == null ? null : s.uploadInts(new int[ids.length], 1, ids.length), x);
        return x;
    }

    /**
     * Position ids of one row: 0, 1, 2, … (BERT, DistilBERT), or RoBERTa's: padding_idx for padding
     * tokens, padding_idx + 1 + (non-padding tokens before) for the rest; each checked against the table.
     */
    static int[] positions(Transformer m, int[] ids, String what) {
        int from = m.weights.encoderInfo == null ? -1 : m.weights.encoderInfo.positionFrom();   // decoders: 0, 1, 2, …
        int pad = from - 1;                                                            // padding_idx: RoBERTa's pad id, MPNet's 1
        int[] pos = new int[ids.length];
        int seen = 0;
        for (int i = 0; i < ids.length; i++) pos[i] = from < 0 ? i : ids[i] == pad ? pad : from + seen++;
        if (m.config.positions() == TransformerConfig.Positions.LEARNED_ABSOLUTE) {
            int max = Arrays.stream(pos).max().orElse(0);
            if (max >= m.config.maxPositions()) {
                int fits = m.config.maxPositions() - Math.max(from, 0);
                throw new IllegalArgumentException(what + " has " + ids.length + " tokens but the model has " + m.config.maxPositions()
                        + " positions (max_position_embeddings" + (from > 0 ? ", from " + from : "") + ": at most " + fits
                        + " tokens); shorten or truncate the input");
            }
        }
        return pos;
    }

    private static void checkTypes(Transformer m, int[] types, int row) {
        int tv = m.config.typeVocabSize();
        for (int i = 0; i < types.length; i++) {
            if (types[i] < 0 || types[i] >= Math.max(tv, 1)) {
                throw new IllegalArgumentException("typeIds[" + row + "][" + i + "] is " + types[i] + " but the model has "
                        + (tv == 0 ? "no token types (only 0 is accepted)" : tv + " token type" + (tv == 1 ? " (only 0)" : "s")));
            }
        }
    }

    private static void checkSameShape(String what, int[][] a, int b, int t) {
        if (a == null) return;
        if (a.length != b) throw new IllegalArgumentException(what + " has " + a.length + " rows but ids has " + b);
        for (int r = 0; r < b; r++) {
            if (a[r] == null || a[r].length != t) {
                throw new IllegalArgumentException(what + " row " + r + " has " + (a[r] == null ? "no" : a[r].length)
                        + " entries but ids rows have " + t);
            }
        }
    }

    private static int[] identity(int t) {
        int[] a = new int[t];
        for (int i = 0; i < t; i++) a[i] = i;
        return a;
    }

    // ---- heads ------------------------------------------------------------------------------------

    /** The hidden state (B, T, C) in the caller's order, on the host. */
    static float[][][] hostInOrder(Transformer m, Hidden h, Tensor rows, int b, int t, int cols) {
        float[][][] a = m.toHost3(rows, b, t, cols);
        if (h.order() == null) return a;
        float[][][] out = new float[b][t][];
        for (int r = 0; r < b; r++) for (int i = 0; i < t; i++) out[r][i] = a[r][h.row(r, i)];
        return out;
    }

    /** Each row's first token (the caller's token 0: [CLS] / &lt;s&gt;) → (B, C). */
    /** Each row's mean over its visible tokens (B, C) (ModernBERT's "mean" pooling: Σ mask·h / Σ mask), in fp32 on the host. */
    static Tensor meanTokens(Transformer m, Scratch s, Hidden h) {
        int b = (int) h.h().shape(0), t = (int) h.h().shape(1), c = m.config.modelWidth();
        float[] all = m.host(s, h.h());
        float[] mean = new float[b * c];
        for (int r = 0; r < b; r++) {
            int n = h.visible()[r];                                  // the visible tokens come first in each row
            for (int i = 0; i < n; i++) for (int x = 0; x < c; x++) mean[r * c + x] += all[(r * t + i) * c + x];
            for (int x = 0; x < c; x++) mean[r * c + x] /= n;
        }
        return s.upload(m.dtype, mean, b, c);
    }

    /** The activation of ModernBERT's heads (classifier_activation), else of the model. */
    static org.transformer4j.runtime.Activation headActivation(Transformer m) {
        Weights.EncoderInfo info = m.weights.encoderInfo;
        if (info == null || !info.modernBert()) return m.activation();
        return switch (info.poolerActivation()) {
            case "gelu" -> org.transformer4j.runtime.Activation.GELU;
            case "gelu_new", "gelu_pytorch_tanh" -> org.transformer4j.runtime.Activation.GELU_TANH;
            case "relu" -> org.transformer4j.runtime.Activation.RELU;
            case "silu", "swish" -> org.transformer4j.runtime.Activation.SILU;
            default -> throw new IllegalStateException("classifier_activation '" + info.poolerActivation() + "' is not supported");
        };
    }

    static Tensor firstTokens(Transformer m, Scratch s, Hidden h) {
        int b = (int) h.h().shape(0), c = m.config.modelWidth();
        Tensor cls = s.empty(m.dtype, b, c);
        for (int i = 0; i < b; i++) {
            int r = h.row(i, 0);
            m.backend.copy(h.h().slice(0, i, i + 1).slice(1, r, r + 1).view(1, c), cls.slice(0, i, i + 1));
        }
        return cls;
    }

    /**
     * The pooled output (B, C): act(dense · h[first]) — BERT's pooler (tanh), RoBERTa's head dense (tanh), DistilBERT's
     * pre_classifier (ReLU), ELECTRA's classification head dense (exact gelu).
     */
    static Tensor pooled(Transformer m, Scratch s, Hidden h, String what) {
        Weights.ClassifierHead head = m.weights.classifierHead;
        if (head == null) throw new IllegalStateException("these weights have no pooler; " + what + " needs one");
        int b = (int) h.h().shape(0), c = m.config.modelWidth();
        Weights.EncoderInfo info = m.weights.encoderInfo;
        if (info.modernBert()) {
            // ModernBertForSequenceClassification: pool (cls or mean over the mask), head (dense, act, norm), classifier
            Tensor pool = "mean".equals(info.pooling()) ? meanTokens(m, s, h) : firstTokens(m, s, h);
            Tensor dense = s.empty(m.dtype, b, c), out = s.empty(m.dtype, b, c);
            m.backend.linear(LinearOp.of(pool, head.pooler(), dense).transW(true).bias(head.poolerBias()).activation(headActivation(m)));
            m.backend.norm(m.normOp(head.norm(), dense, out));
            return out;
        }
        Tensor cls = firstTokens(m, s, h);
        Tensor dense = s.empty(m.dtype, b, c);
        if ("gelu".equals(m.weights.encoderInfo.poolerActivation())) {           // ELECTRA's classification head: exact gelu
            m.backend.linear(LinearOp.of(cls, head.pooler(), dense).transW(true).bias(head.poolerBias())
                    .activation(org.transformer4j.runtime.Activation.GELU));
            return dense;
        }
        m.backend.linear(LinearOp.of(cls, head.pooler(), dense).transW(true).bias(head.poolerBias()));
        float[] p = m.host(s, dense);
        boolean relu = "relu".equals(m.weights.encoderInfo.poolerActivation());
        for (int i = 0; i < p.length; i++) p[i] = relu ? Math.max(p[i], 0f) : (float) Math.tanh(p[i]);
        return s.upload(m.dtype, p, b, c);
    }

    static float[][] linearRows(Transformer m, Scratch s, Tensor x, Tensor w, Tensor bias) {
        int b = (int) x.shape(0), n = (int) w.shape(0);
        Tensor out = s.empty(m.dtype, b, n);
        m.backend.linear(LinearOp.of(x, w, out).transW(true).bias(bias));
        return m.toHost2(out, b, n);
    }

    /** Sequence-classification logits (B, labels). */
    static float[][] classify(Transformer m, int[][] ids, int[][] typeIds, int[][] mask) {
        if (m.config.architecture() == TransformerConfig.Architecture.ENCODER_DECODER) {
            if (typeIds != null) throw new IllegalArgumentException("an encoder-decoder classifier takes no token types");
            return TaskHeads.classifyAtEos(m, ids, mask);
        }
        Weights.ClassifierHead head = m.weights.classifierHead;
        if (head == null || head.classifier() == null) throw new IllegalStateException("these weights have no classifier head (sequence classification)");
        try (Scratch s = new Scratch(m.backend)) {
            Hidden h = run(m, s, ids, typeIds, mask);
            return linearRows(m, s, pooled(m, s, h, "classify"), head.classifier(), head.classifierBias());
        }
    }

    /** Next-sentence logits (B, 2) of BertForPreTraining: index 0 "B follows A", 1 "B is random". */
    static float[][] nextSentence(Transformer m, int[][] ids, int[][] typeIds, int[][] mask) {
        Weights.LinearHead head = m.weights.nextSentence;
        if (head == null) throw new IllegalStateException("these weights have no next-sentence head (cls.seq_relationship)");
        try (Scratch s = new Scratch(m.backend)) {
            Hidden h = run(m, s, ids, typeIds, mask);
            return linearRows(m, s, pooled(m, s, h, "nextSentence"), head.weight(), head.bias());
        }
    }

    /** The pooled output (B, C). */
    static float[][] pooledOutput(Transformer m, int[][] ids, int[][] typeIds, int[][] mask) {
        try (Scratch s = new Scratch(m.backend)) {
            Hidden h = run(m, s, ids, typeIds, mask);
            return m.toHost2(pooled(m, s, h, "pooledOutput"), ids.length, m.config.modelWidth());
        }
    }

    /** Per-token classification logits (B, T, labels). */
    static float[][][] classifyTokens(Transformer m, int[][] ids, int[][] typeIds, int[][] mask) {
        Weights.LinearHead head = m.weights.tokenClassifier;
        if (head == null) throw new IllegalStateException("these weights have no token classifier head");
        try (Scratch s = new Scratch(m.backend)) {
            Hidden h = run(m, s, ids, typeIds, mask);
            int b = ids.length, t = ids[0].length, n = (int) head.weight().shape(0);
            Tensor out = s.empty(m.dtype, b, t, n);
            m.backend.linear(LinearOp.of(h.h(), head.weight(), out).transW(true).bias(head.bias()));
            return hostInOrder(m, h, out, b, t, n);
        }
    }

    /**
     * Masked-LM logits (B, T, V): dense + activation, LayerNorm, the output matrix (the tied token table unless untied) + bias.
     * The activation is the config's (BertPredictionHeadTransform: hidden_act; DistilBERT: activation) except for the
     * RoBERTa family, whose RobertaLMHead (and XLM-RoBERTa's copy of it) calls the exact gelu whatever hidden_act says.
     */
    static float[][][] maskedLm(Transformer m, int[][] ids, int[][] typeIds, int[][] mask) {
        Weights.MlmHead head = m.weights.mlmHead;
        if (head == null) throw new IllegalStateException("these weights have no masked-LM head");
        try (Scratch s = new Scratch(m.backend)) {
            Hidden h = run(m, s, ids, typeIds, mask);
            int b = ids.length, t = ids[0].length, v = m.config.vocabSize();
            Tensor x = h.h();
            long[] shape = x.shape().clone();                                       // the head works at the token table's width
            shape[shape.length - 1] = m.config.embeddingTableWidth();
            Tensor d = s.empty(m.dtype, shape);
            String family = m.weights.encoderInfo == null ? "bert" : m.weights.encoderInfo.family();
            boolean roberta = family.startsWith("roberta") || family.equals("xlm-roberta") || family.equals("camembert")
                    || family.equals("mpnet");                                         // CamembertLMHead, MPNetLMHead too
            m.backend.linear(LinearOp.of(x, head.dense(), d).transW(true).bias(head.denseBias())
                    .activation(roberta ? org.transformer4j.runtime.Activation.GELU : headActivation(m)));
            Tensor n = s.like(d);
            m.backend.norm(NormOp.layer(d, head.norm().weight(), head.norm().bias(), m.config.normEps(), n));
            Tensor out = s.empty(m.dtype, b, t, v);
            m.backend.linear(LinearOp.of(n, m.weights.outputMatrix(), out).transW(true).bias(head.outputBias()));
            return hostInOrder(m, h, out, b, t, v);
        }
    }

    /** The last hidden state (B, T, C) in the caller's order. */
    static float[][][] encode(Transformer m, int[][] ids, int[][] typeIds, int[][] mask) {
        try (Scratch s = new Scratch(m.backend)) {
            Hidden h = run(m, s, ids, typeIds, mask);
            return hostInOrder(m, h, h.h(), ids.length, ids[0].length, m.config.modelWidth());
        }
    }

    /** Packed: (T_i, C) per sequence. */
    static List<float[][]> encodePacked(Transformer m, List<int[]> sequences, List<int[]> typeIds) {
        int[] cu = new int[(sequences == null ? 0 : sequences.size()) + 1];
        try (Scratch s = new Scratch(m.backend)) {
            Tensor h = packed(m, s, sequences, typeIds, cu);
            float[][] all = m.toHost3(h, 1, cu[cu.length - 1], m.config.modelWidth())[0];
            List<float[][]> out = new ArrayList<>();
            for (int i = 0; i < sequences.size(); i++) out.add(Arrays.copyOfRange(all, cu[i], cu[i + 1]));
            return out;
        }
    }
}
