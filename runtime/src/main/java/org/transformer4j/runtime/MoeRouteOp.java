// MoeRouteOp — a mixture-of-experts router: softmax or sigmoid scores over the experts (a correction bias for
// the choice, DeepSeek-V3's or ERNIE 4.5's, and DeepSeek's group-limited choice optional), top-k, optional renormalization, a scale, and the
// choices sorted by expert, all on the device (no host round trip; capturable).
package org.transformer4j.runtime;

/**
 * Arguments of {@link Backend#moeRoute}: {@code logits} (T, E) floating (rows may be strided, the last
 * dimension contiguous), as transformers' routers do it (t4j.h, t4j_moe_route):
 * <ul>
 * <li>scores s = softmax(logits[t]) over all E experts in fp32 ({@link Scoring#SOFTMAX}: Mixtral, Qwen-MoE,
 *     OLMoE, DeepSeek-V2), or s_e = sigmoid(logit_e) in fp32 ({@link Scoring#SIGMOID}: DeepSeek-V3);</li>
 * <li>choice c_e = s_e + {@code correctionBias[e]} (either scoring: V3's sigmoid e_score_correction_bias,
 *     ERNIE 4.5's softmax moe_statics.e_score_correction_bias; F32 (E) contiguous on the logits' device; null
 *     for none), else s_e;</li>
 * <li>with {@code groups} &gt; 1 (V2's group_limited_greedy, V3's noaux_tc): the experts form {@code groups}
 *     contiguous groups of E / groups; a group scores its largest c (softmax) or the sum of its two largest
 *     (sigmoid); the {@code topkGroups} best groups are kept (ties: the lower group id) and every other
 *     expert's c becomes 0.0 (transformers' masked_fill, so a masked expert can beat negative biased
 *     choices and be picked);</li>
 * <li>the {@code topK} largest c (ties: the lower expert id), in falling order of c; weights: softmax without
 *     a bias → c at the picks (V2 weighs by the masked scores), sigmoid or a bias → the unbiased s at the picks
 *     (V3, ERNIE 4.5);</li>
 * <li>with {@code renormalize} (Mixtral always; Qwen-MoE, OLMoE and V3's {@code norm_topk_prob}) the weights
 *     divided by their fp32 sum (plus 1e-20 with sigmoid, as V3; ERNIE's max(sum, 1e-12) differs only when
 *     the picked softmax scores sum below 1e-12); then × {@code scale} (DeepSeek's routed_scaling_factor;
 *     finite and &gt; 0, 1 for the others).</li>
 * </ul>
 * A NaN score or choice ranks as −∞. The result goes to {@code out} (see {@link MoeRouting} for its layout),
 * whose first T tokens are written.
 */
public record MoeRouteOp(Tensor logits, int topK, boolean renormalize, MoeRouting out,
                         Scoring scoring, Tensor correctionBias, int groups, int topkGroups, float scale) {

    public static final int MAX_EXPERTS = 1024;
    public static final int MAX_TOP_K = 32;
    /** groups limit: one lane of the router's warp per group (t4j.h T4J_MOE_MAX_GROUPS). */
    public static final int MAX_GROUPS = 32;

    /** How a router turns logits into scores. */
    public enum Scoring {
        /** softmax over all E experts, optionally biased for the choice (ERNIE 4.5). */
        SOFTMAX,
        /** a sigmoid per expert, optionally biased for the choice (DeepSeek-V3). */
        SIGMOID
    }

    /** Softmax routing over all experts, no groups, scale 1: Mixtral, Qwen-MoE, OLMoE, DeepSeek-V2's greedy. */
    public MoeRouteOp(Tensor logits, int topK, boolean renormalize, MoeRouting out) {
        this(logits, topK, renormalize, out, Scoring.SOFTMAX, null, 1, 1, 1f);
    }

    /** This router with sigmoid scores and {@code correctionBias} (F32 (E), or null) added for the choice. */
    public MoeRouteOp sigmoid(Tensor correctionBias) {
        return new MoeRouteOp(logits, topK, renormalize, out, Scoring.SIGMOID, correctionBias, groups, topkGroups, scale);
    }

    /** This router's scoring with {@code correctionBias} (F32 (E), or null) added for the choice (ERNIE 4.5's with softmax). */
    public MoeRouteOp correctionBias(Tensor correctionBias) {
        return new MoeRouteOp(logits, topK, renormalize, out, scoring, correctionBias, groups, topkGroups, scale);
    }

    /** This router choosing among the {@code topkGroups} best of {@code groups} contiguous expert groups (1, 1: none). */
    public MoeRouteOp groups(int groups, int topkGroups) {
        return new MoeRouteOp(logits, topK, renormalize, out, scoring, correctionBias, groups, topkGroups, scale);
    }

    /** This router with every weight multiplied by {@code scale} last (routed_scaling_factor). */
    public MoeRouteOp scale(float scale) {
        return new MoeRouteOp(logits, topK, renormalize, out, scoring, correctionBias, groups, topkGroups, scale);
    }

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
        validateDeepSeek(e);
        out.validate(t, (int) e, topK);
        long rs = Checks.rowStride("logits", logits);
        for (Tensor o : new Tensor[] {out.ids(), out.weights(), out.offsets(), out.sortedTokens(), out.slots()}) {
            Checks.sameDevice("logits", logits, "routing output", o);
        }
        return new Shape(t, (int) e, rs);
    }

    /** The scoring, the bias, the groups and the scale against E experts (t4j.h's rules, ABI 18). */
    private void validateDeepSeek(long e) {
        if (scoring == null) throw new IllegalArgumentException("scoring is null");
        if (correctionBias != null) {
            Checks.open("correctionBias", correctionBias);
            if (correctionBias.dtype() != DType.F32) {
                throw new IllegalArgumentException("correctionBias must be F32, got " + correctionBias.dtype());
            }
            if (correctionBias.rank() != 1 || correctionBias.shape(0) != e) {
                throw new IllegalArgumentException("correctionBias must have shape (" + e + ") (one per expert), got "
                        + correctionBias.shapeString());
            }
            if (!correctionBias.isContiguous()) throw new IllegalArgumentException("correctionBias " + correctionBias + " must be contiguous");
            Checks.sameDevice("logits", logits, "correctionBias", correctionBias);
        }
        if (!(scale > 0f) || Float.isInfinite(scale)) throw new IllegalArgumentException("scale = " + scale + " must be finite and > 0");
        if (groups < 1 || groups > MAX_GROUPS) throw new IllegalArgumentException("groups = " + groups + " must be in 1.." + MAX_GROUPS);
        if (e % groups != 0) throw new IllegalArgumentException("groups = " + groups + " must divide the experts E = " + e);
        if (topkGroups < 1 || topkGroups > groups) {
            throw new IllegalArgumentException("topkGroups = " + topkGroups + " must be in 1..groups = " + groups);
        }
        long perGroup = e / groups;
        if (groups > 1 && scoring == Scoring.SIGMOID && perGroup < 2) {
            throw new IllegalArgumentException("groups = " + groups + " leaves " + perGroup
                    + " expert per group; SIGMOID groups score their top 2, so E / groups must be ≥ 2");
        }
        if (topK > topkGroups * perGroup) {
            throw new IllegalArgumentException("topK = " + topK + " exceeds the " + topkGroups * perGroup + " experts of the topkGroups = "
                    + topkGroups + " kept groups (E / groups = " + perGroup + " each)");
        }
    }
}
