// MoeRouting — the device-resident result of a mixture-of-experts router: each token's top-k experts
// and weights, and its choices laid out expert by expert for the grouped expert GEMMs.
package org.transformer4j.runtime;

/**
 * The outputs of {@link Backend#moeRoute}, for T tokens, E experts and top-k choices per token:
 * <pre>
 *   ids           I32 (T, k)    token t's j-th expert, by falling probability (ties: the lower id first)
 *   weights       F32 (T, k)    its weight (softmax probability, renormalized over the k when asked)
 *   offsets       I32 (E + 1)   expert e's slots are [offsets[e], offsets[e+1]); offsets[E] = T·k
 *   sortedTokens  I32 (T·k)     the token of each slot: expert by expert, token order within an expert
 *   slots         I32 (T, k)    the slot of choice (t, j)
 * </pre>
 * All five are dense. {@link #allocate} sizes them for a capacity of T tokens; an op over fewer tokens
 * uses {@link #first} views.
 */
public record MoeRouting(Tensor ids, Tensor weights, Tensor offsets, Tensor sortedTokens, Tensor slots) implements AutoCloseable {

    /** Empty routing tensors on {@code backend} for up to {@code tokens} tokens. */
    public static MoeRouting allocate(Backend backend, long tokens, int experts, int topK) {
        if (tokens < 0 || experts < 1 || topK < 1 || topK > experts) {
            throw new IllegalArgumentException("MoE routing needs tokens ≥ 0 and 1 ≤ topK ≤ experts, got tokens=" + tokens
                    + " experts=" + experts + " topK=" + topK);
        }
        return new MoeRouting(backend.empty(DType.I32, tokens, topK), backend.empty(DType.F32, tokens, topK),
                backend.empty(DType.I32, experts + 1L), backend.empty(DType.I32, tokens * topK), backend.empty(DType.I32, tokens, topK));
    }

    public long tokens() { return ids.shape(0); }

    public int topK() { return (int) ids.shape(1); }

    public int experts() { return (int) offsets.shape(0) - 1; }

    /** Views over the first {@code t} tokens (offsets unchanged: they count the routed tokens' slots only). */
    public MoeRouting first(long t) {
        return new MoeRouting(ids.slice(0, 0, t), weights.slice(0, 0, t), offsets, sortedTokens.slice(0, 0, t * topK()),
                slots.slice(0, 0, t));
    }

    void validate(long t, int e, int k) {
        Checks.open("ids", ids);
        Checks.open("weights", weights);
        Checks.open("offsets", offsets);
        Checks.open("sortedTokens", sortedTokens);
        Checks.open("slots", slots);
        dense("ids", ids, DType.I32, t, k);
        dense("weights", weights, DType.F32, t, k);
        dense("slots", slots, DType.I32, t, k);
        dense("offsets", offsets, DType.I32, e + 1L);
        dense("sortedTokens", sortedTokens, DType.I32, t * k);
    }

    static void dense(String role, Tensor x, DType dt, long... shape) {
        if (x.dtype() != dt) throw new IllegalArgumentException(role + " must be " + dt + ", got " + x.dtype());
        if (!java.util.Arrays.equals(x.shape(), shape)) {
            StringBuilder b = new StringBuilder("(");
            for (int i = 0; i < shape.length; i++) b.append(i == 0 ? "" : ", ").append(shape[i]);
            throw new IllegalArgumentException(role + " must have shape " + b + "), got " + x.shapeString());
        }
        if (!x.isContiguous()) throw new IllegalArgumentException(role + " " + x + " must be contiguous");
    }

    @Override
    public void close() {
        ids.close();
        weights.close();
        offsets.close();
        sortedTokens.close();
        slots.close();
    }
}
