// Inspection — what the fused kernels never store, recomputed for looking at: one head's attention
// weights. Transformer.attentionWeights calls it.
package org.transformer4j.model;

import org.transformer4j.model.TransformerConfig.Architecture;
import org.transformer4j.runtime.AttentionOp;
import org.transformer4j.runtime.RelativeBias;
import org.transformer4j.runtime.Tensor;

final class Inspection {

    private Inspection() {}

    /**
     * The attention m.weights (T, T) of one head of one self-attention layer for one sequence: row i is
     * softmax over keys j of scale·q_i·k_j (+ T5 bias), with the layer's mask (zeros where masked). The
     * fused attention ops never store these, so the layer's q and k are recomputed and the softmax taken
     * here in double. The stack is the decoder for decoder-only and prefix-LM models ({@code prefix}: the
     * prefix-LM's bidirectional length, else ignored), the encoder otherwise (its mask: causal under step 4).
     */
    static float[][] attentionWeights(Transformer m, int[] ids, int prefix, int layer, int head) {
        boolean encoder = m.config.decoderLayers() == 0 || m.config.architecture() == Architecture.ENCODER_DECODER;
        Weights.Stack st = encoder ? m.weights.encoder : m.weights.decoder;
        if (layer < 0 || layer >= st.layers().size()) throw new IllegalArgumentException("layer " + layer + " outside [0, " + st.layers().size() + ")");
        if (head < 0 || head >= m.config.heads()) throw new IllegalArgumentException("head " + head + " outside [0, " + m.config.heads() + ")");
        int t = Transformer.rectangular("ids", new int[][] {ids})[1];
        boolean plm = m.config.prefixLm();
        if (plm && (prefix < 0 || prefix > t)) throw new IllegalArgumentException("prefix " + prefix + " outside [0, " + t + "]");
        AttentionOp.Mask mask = encoder ? (m.config.causalInput() ? AttentionOp.Mask.CAUSAL : AttentionOp.Mask.NONE)
                : plm ? AttentionOp.Mask.PREFIX_LM : AttentionOp.Mask.CAUSAL;
        boolean bidirectionalBuckets = encoder ? !m.config.causalInput() : m.decoderBidirectional();
        try (Scratch s = new Scratch(m.backend)) {
            Tensor x = m.config.architecture() == Architecture.ENCODER_ONLY ? EncoderPass.embedRow(m, s, ids)   // RoBERTa's positions
                    : m.embed(s, new int[][] {ids}, 0, encoder ? m.encoderEmbeddings() : m.weights.embeddings);   // (1, T, C)
            RelativeBias bias = m.relativeBias(st, bidirectionalBuckets);
            int[] pre = plm && !encoder ? new int[] {prefix} : null;
            Transformer.RopeAt rope = encoder ? null : m.ropeFrom(s, 1, 0, t);
            for (int i = 0; i < layer; i++) {
                m.block(s, st.layers().get(i), x, m.new DenseSelf(s, mask, pre, bias, null, null).rotary(m.ropeAt(i, rope), m.config.window(i)), null);
            }
            Weights.Layer l = st.layers().get(layer);
            Tensor in = m.pre && l.attnNorm() != null ? m.norm(s, l.attnNorm(), x) : x;          // OLMo 2: no input norm
            int nh = m.config.heads(), nkv = m.config.kvHeads(), hsz = m.config.headSize();
            int window = encoder ? 0 : m.config.window(layer);
            boolean local = m.slidingRope(window);
            float[] q = m.host(s, m.positionHeads(s, m.qkvLinear(s, in, l.self().q(), l.self().q4(), l.self().qb(), false).view(1, t, nh, hsz),
                    l.self().qNorm(), m.ropeAt(layer, rope), local));                                               // (T, NH·HS)
            float[] k = m.host(s, m.positionHeads(s, m.qkvLinear(s, in, l.self().k(), l.self().k4(), l.self().kb(), false).view(1, t, nkv, hsz),
                    l.self().kNorm(), m.ropeAt(layer, rope), local));                                               // (T, NKV·HS)
            float[] table = bias == null ? null : m.host(s, bias.table());                        // (buckets, NH)
            int hs = m.config.headSize(), kvHead = head / (m.config.heads() / m.config.kvHeads());
            int qw = m.config.innerWidth(), kw = m.config.kvHeads() * hs;
            float[][] w = new float[t][t];
            // GPT-OSS: the head's sink joins the denominator, so a row sums to less than 1 (transformers' attention weights too)
            double sink = l.self().sinks() == null ? Double.NEGATIVE_INFINITY : m.host(s, l.self().sinks())[head];
            float[] alibi = m.config.alibiSlopeArray();                                          // BLOOM, MPT: −slope · |j − i|
            for (int i = 0; i < t; i++) {
                double[] sc = new double[t];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < t; j++) {
                    boolean visible = mask.visible(i, j, prefix, window);
                    if (!visible) { sc[j] = Double.NEGATIVE_INFINITY; continue; }
                    double d = 0;
                    for (int e = 0; e < hs; e++) d += (double) q[i * qw + head * hs + e] * k[j * kw + kvHead * hs + e];
                    sc[j] = m.config.attentionScale() * d;
                    float cap = m.config.attentionSoftcap();
                    if (cap > 0) sc[j] = cap * Math.tanh(sc[j] / cap);                   // Gemma 2, as the attention ops do
                    if (table != null) {
                        sc[j] += table[RelativeBias.bucket(j - i, bias.numBuckets(), bias.maxDistance(), bias.bidirectional())
                                * m.config.heads() + head];
                    }
                    if (alibi != null) sc[j] -= (double) alibi[head] * Math.abs(j - i);
                    max = Math.max(max, sc[j]);
                }
                max = Math.max(max, sink);
                double sum = sink == Double.NEGATIVE_INFINITY ? 0 : Math.exp(sink - max);
                for (int j = 0; j < t; j++) sum += sc[j] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(sc[j] - max);
                for (int j = 0; j < t; j++) w[i][j] = sc[j] == Double.NEGATIVE_INFINITY ? 0f : (float) (Math.exp(sc[j] - max) / sum);
            }
            return w;
        }
    }
}
