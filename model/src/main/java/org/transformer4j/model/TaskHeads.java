// TaskHeads — what the models put on top of the encoder's last hidden state: mean-pooled sentence
// embeddings, BERT's sequence classifier and masked-LM head. Transformer's public methods call these.
package org.transformer4j.model;

import java.util.List;

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

    /** The masked-LM head's m.logits (B, T, V): dense + GELU, LayerNorm, tied token table + output bias. */
    static float[][][] maskedLmLogits(Transformer m, int[][] ids) {
        return EncoderPass.maskedLm(m, ids, null, null);
    }
}
