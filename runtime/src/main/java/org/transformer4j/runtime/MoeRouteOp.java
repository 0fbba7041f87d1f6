// MoeRouteOp — a mixture-of-experts router: softmax over the experts, top-k, optional renormalization,
// and the choices sorted by expert, all on the device (no host round trip; capturable).
package org.transformer4j.runtime;

/**
 * Arguments of {@link Backend#moeRoute}: {@code logits} (T, E) floating (rows may be strided, the last
 * dimension contiguous), as transformers' routers do it: p = softmax(logits[t]) over all E experts in
 * fp32; the {@code topK} largest (ties: the lower expert id first), in falling order; with
 * {@code renormalize} (Mixtral always; Qwen-MoE and OLMoE's {@code norm_topk_prob}) the weights divided
 * by their sum. The result goes to {@code out} (see {@link MoeRouting} for its layout), whose first T
 * tokens are written.
 */
public record MoeRouteOp(Tensor logits, int topK, boolean renormalize, MoeRouting out) {

    public static final int MAX_EXPERTS = 1024;
    public static final int MAX_TOP_K = 32;

    /** Validated sizes: tokens T, experts E, logits' row stride. */
    public record Shape(long tokens, int experts, long logitsRowStride) {}

    public Shape validate() {
        Checks.open("logits", logits);
        Checks.floating("logits", logits);
        if (out == null) throw new IllegalArgumentException("out (MoeRouting) is null");
        if (logits.rank() != 2) throw new IllegalArgumentException("logits must be (T, E), got " + logits.shapeString());
        long t = logits.shape(0);
        long e = logits.shape(1);
        if (e < 1 || e > MAX_EXPERTS) throw new IllegalArgumentException("experts E = " + e + " must be in 1.." + MAX_EXPERTS);
        if (topK < 1 || topK > Math.min(e, MAX_TOP_K)) {
            throw new IllegalArgumentException("topK = " + topK + " must be in 1..min(E = " + e + ", " + MAX_TOP_K + ")");
        }
        if (t * topK > Integer.MAX_VALUE) throw new IllegalArgumentException("T·topK = " + t * topK + " exceeds 2^31-1");
        out.validate(t, (int) e, topK);
        long rs = Checks.rowStride("logits", logits);
        for (Tensor o : new Tensor[] {out.ids(), out.weights(), out.offsets(), out.sortedTokens(), out.slots()}) {
            Checks.sameDevice("logits", logits, "routing output", o);
        }
        return new Shape(t, (int) e, rs);
    }
}
