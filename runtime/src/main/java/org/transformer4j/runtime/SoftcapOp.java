// SoftcapOp — soft-capping in place, x ← cap · tanh(x / cap): Gemma 2's final_logit_softcapping.
package org.transformer4j.runtime;

/**
 * Arguments of {@link Backend#softcap}: every element of x (contiguous, floating) becomes
 * {@code cap · tanh(x / cap)}, computed in fp32 and rounded once to x's dtype. The attention's own
 * soft-capping is a parameter of {@link AttentionOp#softcap} and {@link DecodeOp#softcap}.
 */
public record SoftcapOp(Tensor x, float cap) {

    public void validate() {
        Checks.open("x", x);
        Checks.floating("x", x);
        if (!x.isContiguous()) throw new IllegalArgumentException("x must be contiguous, got " + x);
        if (!(cap > 0) || Float.isInfinite(cap)) throw new IllegalArgumentException("cap must be finite and > 0, got " + cap);
    }
}
