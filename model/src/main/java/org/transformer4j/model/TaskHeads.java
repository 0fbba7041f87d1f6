// TaskHeads — what the models put on top of the encoder's last hidden state: mean-pooled sentence
// embeddings, BERT's sequence classifier and masked-LM head. Transformer's public methods call these.
package org.transformer4j.model;

import java.util.List;
import org.transformer4j.runtime.Activation;
import org.transformer4j.runtime.LinearOp;
import org.transformer4j.runtime.NormOp;
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
        Weights.ClassifierHead head = m.weights.classifierHead;
        if (head == null || head.classifier() == null) throw new IllegalStateException("these weights have no classifier head");
        int[] shape = Transformer.rectangular("ids", ids);
        try (Scratch s = new Scratch(m.backend)) {
            Transformer.Memory mem = m.encodeMemory(s, ids);
            int b = shape[0], c = m.config.modelWidth();
            Tensor cls = s.empty(m.dtype, b, c);                                                 // (B, C) row 0 of each sequence
            for (int i = 0; i < b; i++) m.backend.copy(mem.output().slice(0, i, i + 1).slice(1, 0, 1).view(1, c), cls.slice(0, i, i + 1));
            Tensor pooled = s.empty(m.dtype, b, c);
            m.backend.linear(LinearOp.of(cls, head.pooler(), pooled).transW(true).bias(head.poolerBias()));
            float[] p = m.host(s, pooled);
            for (int i = 0; i < p.length; i++) p[i] = (float) Math.tanh(p[i]);
            Tensor tanh = s.upload(m.dtype, p, b, c);
            int classes = (int) head.classifier().shape(0);
            Tensor out = s.empty(m.dtype, b, classes);
            m.backend.linear(LinearOp.of(tanh, head.classifier(), out).transW(true).bias(head.classifierBias()));
            return m.toHost2(out, b, classes);
        }
    }

    /** The masked-LM head's m.logits (B, T, V): dense + GELU, LayerNorm, tied token table + output bias. */
    static float[][][] maskedLmLogits(Transformer m, int[][] ids) {
        Weights.MlmHead head = m.weights.mlmHead;
        if (head == null) throw new IllegalStateException("these weights have no masked-LM head");
        int[] shape = Transformer.rectangular("ids", ids);
        try (Scratch s = new Scratch(m.backend)) {
            Tensor h = m.encodeMemory(s, ids).output();
            Tensor t = s.like(h);
            m.backend.linear(LinearOp.of(h, head.dense(), t).transW(true).bias(head.denseBias()).activation(Activation.GELU));
            Tensor n = s.like(h);
            m.backend.norm(NormOp.layer(t, head.norm().weight(), head.norm().bias(), m.config.normEps(), n));
            Tensor out = s.empty(m.dtype, shape[0], shape[1], m.config.vocabSize());
            m.backend.linear(LinearOp.of(n, m.weights.embeddings.tokens(), out).transW(true).bias(head.outputBias()));
            return m.toHost3(out, shape[0], shape[1], m.config.vocabSize());
        }
    }
}
