// Scoring — per-token log-probabilities and the mean loss of a text under the model (decoder-only,
// prefix-LM, encoder-decoder), from full forward passes. Transformer.score calls it.
package org.transformer4j.model;

import org.transformer4j.model.TransformerConfig.Architecture;

final class Scoring {

    private Scoring() {}

    /**
     * Decoder-only / prefix-LM: logProbs[i] = log p(ids[i + 1] | ids[0..i]) for i in [0, T − 1); the loss
     * counts only predictions of positions ≥ {@code from} (1: the whole text after its first token; the
     * start of the target in {@code [BOS] input target}). A prefix-LM's prefix is ids[0, from).
     */
    static Transformer.Score score(Transformer m, int[] ids, int from) {
        m.requireArch("score(ids, from)", Architecture.DECODER_ONLY, Architecture.PREFIX_LM);
        if (ids == null || ids.length < 2) throw new IllegalArgumentException("scoring needs at least two tokens");
        if (from < 1 || from >= ids.length) throw new IllegalArgumentException("from = " + from + " outside [1, " + ids.length + ")");
        float[][] l = m.config.prefixLm() ? m.logits(new int[][] {ids}, new int[] {from})[0] : m.logits(new int[][] {ids})[0];
        double[] lp = new double[ids.length - 1];
        double sum = 0;
        for (int i = 0; i + 1 < ids.length; i++) {
            lp[i] = logSoftmaxAt(l[i], ids[i + 1]);
            if (i + 1 >= from) sum -= lp[i];
        }
        int n = ids.length - from;
        return new Transformer.Score(lp, sum / n, n);
    }

    /** Encoder-decoder: log p(target[i] | input, start, target[0..i)) for every target token. */
    static Transformer.Score score(Transformer m, int[] input, int[] target) {
        m.requireArch("score(input, target)", Architecture.ENCODER_DECODER);
        if (target == null || target.length == 0) throw new IllegalArgumentException("the target is empty");
        int[] dec = new int[target.length];
        dec[0] = m.decoderStartId();
        System.arraycopy(target, 0, dec, 1, target.length - 1);
        float[][] l = m.logits(new int[][] {input}, new int[][] {dec})[0];
        double[] lp = new double[target.length];
        double sum = 0;
        for (int i = 0; i < target.length; i++) sum -= lp[i] = logSoftmaxAt(l[i], target[i]);
        return new Transformer.Score(lp, sum / target.length, target.length);
    }

    private static double logSoftmaxAt(float[] row, int id) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : row) max = Math.max(max, v);
        double sum = 0;
        for (float v : row) sum += Math.exp(v - max);
        return row[id] - max - Math.log(sum);
    }
}
