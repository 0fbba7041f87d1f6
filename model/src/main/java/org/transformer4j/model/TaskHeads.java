// TaskHeads — what the models put on top of the encoder's last hidden state: mean-pooled sentence
// embeddings, BERT's sequence classifier and masked-LM head. Transformer's public methods call these.
package org.transformer4j.model;

import java.util.List;
import org.transformer4j.runtime.LinearOp;
import org.transformer4j.runtime.Tensor;

final class TaskHeads {

    private TaskHeads() {}

    /** Sentence embeddings: the encoder's last hidden state mean-pooled over each row and L2-normalised → (B, C). */
    static float[][] embedSentences(Transformer m, int[][] ids) {
        float[][][] h = m.encode(ids);
        float[][] out = new float[h.length][];
        for (int b = 0; b < h.length; b++) out[b] = meanPoolNormalize(h[b]);
        return out;
    }

    /** Mean over the rows of h (T, C), then divided by its L2 m.norm (at least 1e-12, as sentence-transformers). */
    static float[] meanPoolNormalize(float[][] h) {
        double[] mean = new double[h[0].length];
        for (float[] row : h) for (int c = 0; c < mean.length; c++) mean[c] += row[c];
        double norm = 0;
        for (int c = 0; c < mean.length; c++) { mean[c] /= h.length; norm += mean[c] * mean[c]; }
        norm = Math.max(Math.sqrt(norm), 1e-12);
        float[] out = new float[mean.length];
        for (int c = 0; c < mean.length; c++) out[c] = (float) (mean[c] / norm);
        return out;
    }

    /** Sentence embeddings of sequences of different lengths, packed into one pass: mean-pooled, L2-normalised (N, C). */
    static float[][] embedSentences(Transformer m, List<int[]> sequences) {
        List<float[][]> h = m.encodePacked(sequences);
        float[][] out = new float[h.size()][];
        for (int i = 0; i < h.size(); i++) out[i] = meanPoolNormalize(h.get(i));
        return out;
    }

    /** BERT's sequence classifier: tanh(pooler · h[CLS]) then the linear classifier → (B, classes). */
    static float[][] classify(Transformer m, int[][] ids) {
        return EncoderPass.classify(m, ids, null, null);
    }

    /**
     * BartForSequenceClassification (facebook/bart-large-mnli): each row's tokens (those whose mask is 1, all when the mask is
     * null) through the encoder, the decoder over shift_tokens_right of them (the decoder start id — MBartForSequenceClassification:
     * the row's last token — then the tokens but the last), the decoder's hidden state at the row's last eos token, then the classification head: out_proj(tanh(dense(h)))
     * → (B, classes). Row by row, so padding never enters (transformers masks it out to the same effect).
     *
     * @throws IllegalArgumentException for a row without the eos token (transformers cannot pool it either)
     */
    static float[][] classifyAtEos(Transformer m, int[][] ids, int[][] mask) {
        Weights.ClassifierHead head = m.weights.classifierHead;
        if (head == null || head.classifier() == null) throw new IllegalStateException("these weights have no classifier head (sequence classification)");
        if (ids == null || ids.length == 0) throw new IllegalArgumentException("ids is empty (no rows)");
        if (mask != null && mask.length != ids.length) throw new IllegalArgumentException("mask has " + mask.length + " rows, ids " + ids.length);
        TransformerConfig.SpecialIds sp = m.config.specialIds();
        int c = m.config.modelWidth(), b = ids.length;
        float[][] out = new float[b][];
        for (int r = 0; r < b; r++) {
            int[] row = visible(ids[r], mask == null ? null : mask[r], r);
            int eos = -1;
            for (int i = 0; i < row.length; i++) if (row[i] == sp.eos()) eos = i;
            if (eos < 0) throw new IllegalArgumentException("row " + r + " has no eos token (" + sp.eos() + "): the classifier reads its state");
            int[] target = new int[row.length];
            // shift_tokens_right: BART's starts from decoder_start_token_id; mBART's (modeling_mbart.py) wraps the row's
            // last non-padding token (its language code) to the front instead
            target[0] = "mbart".equals(m.weights.encoderInfo.family()) ? row[row.length - 1] : sp.decoderStart();
            System.arraycopy(row, 0, target, 1, row.length - 1);
            try (Scratch s = new Scratch(m.backend)) {
                Transformer.Memory mem = m.encodeMemory(s, new int[][] {row});
                Tensor h = m.decodeDense(s, mem, new int[][] {target});                        // (1, T, C)
                Tensor at = s.empty(m.dtype, 1, c), dense = s.empty(m.dtype, 1, c);
                m.backend.copy(h.select(0, 0).slice(0, eos, eos + 1), at);
                m.backend.linear(LinearOp.of(at, head.pooler(), dense).transW(true).bias(head.poolerBias()));
                float[] p = m.host(s, dense);
                for (int i = 0; i < p.length; i++) p[i] = (float) Math.tanh(p[i]);
                out[r] = EncoderPass.linearRows(m, s, s.upload(m.dtype, p, 1, c), head.classifier(), head.classifierBias())[0];
            }
        }
        return out;
    }

    /** Row r's tokens whose mask is 1 (they must come first: right padding), or the whole row. */
    private static int[] visible(int[] ids, int[] mask, int r) {
        if (ids == null || ids.length == 0) throw new IllegalArgumentException("row " + r + " is empty");
        if (mask == null) return ids;
        if (mask.length != ids.length) throw new IllegalArgumentException("mask row " + r + " has " + mask.length + " values, ids " + ids.length);
        int n = 0;
        while (n < mask.length && mask[n] == 1) n++;
        for (int i = n; i < mask.length; i++) {
            if (mask[i] != 0) throw new IllegalArgumentException("mask row " + r + " is not 1s then 0s (right padding) at index " + i);
        }
        if (n == 0) throw new IllegalArgumentException("mask row " + r + " hides every token");
        return java.util.Arrays.copyOf(ids, n);
    }

    /** The masked-LM head's m.logits (B, T, V): dense + GELU, LayerNorm, tied token table + output bias. */
    static float[][][] maskedLmLogits(Transformer m, int[][] ids) {
        return EncoderPass.maskedLm(m, ids, null, null);
    }
}
