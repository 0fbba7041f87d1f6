// Tiny — small configs and random ids for the model tests (C=64, 2 layers, vocabulary 100), and
// a max-abs-diff helper.
package org.transformer4j.model;

import java.util.SplittableRandom;

final class Tiny {

    private Tiny() {}

    static final int V = 100;

    /** Pre-LN LayerNorm, GELU-tanh, learned positions, biases, tied: GPT-2 in miniature, as an encoder-decoder. */
    static TransformerConfig.Builder encDec() {
        return TransformerConfig.builder().vocabSize(V).widths(64, 128, 2).encoderLayers(2).decoderLayers(2)
                .norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.PRE, 1e-5f)
                .activation(TransformerConfig.Activation.GELU_TANH, false).learnedPositions(160).biases(true)
                .tiedEmbeddings(true, 1f).specialIds(new TransformerConfig.SpecialIds(0, 1, 2, 1, 3));
    }

    /** T5 v1.1 in miniature: RMSNorm, gated GELU-tanh, relative buckets, no biases, untied head, GQA (NKV 1). */
    static TransformerConfig.Builder t5ish() {
        return encDec().heads(2, 1, 32).norm(TransformerConfig.NormKind.RMS_NORM, TransformerConfig.NormPlacement.PRE, 1e-6f)
                .activation(TransformerConfig.Activation.GELU_TANH, true).t5RelativePositions(16, 32).maxPositions(0)
                .biases(false).attentionScale(1f).tiedEmbeddings(false, 1f);
    }

    /**
     * A RoPE decoder in miniature touching every decoder option: llama3 rope scaling on 24 of 32 head dims,
     * a sliding window of 5 on layer 0, Qwen3's q/k norms, biases on q/k/v only, GQA 4 over 2, gated SiLU,
     * embeddings × 8, untied head.
     */
    static TransformerConfig ropeDecoder() {
        return TransformerConfig.builder().vocabSize(V).modelWidth(64).mlpWidth(128).heads(4, 2, 32).decoderLayers(2)
                .norm(TransformerConfig.NormKind.RMS_NORM, TransformerConfig.NormPlacement.PRE, 1e-6f)
                .activation(TransformerConfig.Activation.SILU, true)
                .rope(new TransformerConfig.Rope(10000, 24, TransformerConfig.Rope.Scaling.LLAMA3, 8, 1, 4, 16))
                .biases(false).linearBiases(new TransformerConfig.Biases(true, false, false)).qkNorm(true)
                .windows(java.util.List.of(5, 0)).embeddingScale(8f).tiedEmbeddings(false, 1f)
                .specialIds(new TransformerConfig.SpecialIds(0, 1, 2, -1, -1)).build();
    }

    /** {@link #ropeDecoder} with a mixture of 4 experts (top 2, renormalized, a gated shared expert) in layer 0; layer 1 dense. */
    static TransformerConfig moeDecoder() {
        return ropeDecoder().toBuilder().moe(new TransformerConfig.Moe(4, 2, true, 48, 32, true, java.util.List.of(1))).build();
    }

    /** The same shapes as a decoder-only (or, with {@code prefixLm}, prefix-LM) model. */
    static TransformerConfig decoderOnly(TransformerConfig encDec, boolean prefixLm) {
        return encDec.toBuilder().encoderLayers(0).shareCrossAndSelfAttention(false).shareEncoderDecoderParams(false)
                .withinLayerCrossAttention(false).causalInput(false).prefixLm(prefixLm).build();
    }

    static int[][] ids(long seed, int rows, int t) {
        SplittableRandom r = new SplittableRandom(seed);
        int[][] a = new int[rows][t];
        for (int[] row : a) for (int i = 0; i < t; i++) row[i] = r.nextInt(V);
        return a;
    }

    static int[][] concat(int[][] a, int[][] b) {
        int[][] out = new int[a.length][];
        for (int i = 0; i < a.length; i++) {
            out[i] = new int[a[i].length + b[i].length];
            System.arraycopy(a[i], 0, out[i], 0, a[i].length);
            System.arraycopy(b[i], 0, out[i], a[i].length, b[i].length);
        }
        return out;
    }

    /** max |a − b| over a's rows [0, n) against b's rows [from, from + n). */
    static double maxDiff(float[][] a, float[][] b, int from) {
        double m = 0;
        for (int t = 0; t < a.length; t++) for (int j = 0; j < a[t].length; j++) m = Math.max(m, Math.abs(a[t][j] - b[from + t][j]));
        return m;
    }

    static double maxAbs(float[][] a) {
        double m = 0;
        for (float[] r : a) for (float v : r) m = Math.max(m, Math.abs(v));
        return m;
    }
}
