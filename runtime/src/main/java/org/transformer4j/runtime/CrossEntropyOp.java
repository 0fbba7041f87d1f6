// CrossEntropyOp — next-token loss per position over the vocabulary, with an ignore index.
package org.transformer4j.runtime;

/**
 * Arguments of {@link Backend#crossEntropy}:
 * <pre>
 *   logits  (…, V) floating
 *   targets I32 (…), logits' leading shape
 *   losses  F32 (…) per-position loss logsumexp(logits) − logits[target]; 0 where ignored
 * </pre>
 * No [rows, V] buffer is written. A target outside [0, V) that is not {@code ignoreIndex} is an
 * IllegalArgumentException naming its position (before any work on the CPU; after the launch on
 * CUDA, whose kernel reads nothing out of bounds).
 */
public record CrossEntropyOp(Tensor logits, Tensor targets, int ignoreIndex, Tensor losses) {

    /** PyTorch's default ignore index. */
    public static final int DEFAULT_IGNORE_INDEX = -100;

    public static CrossEntropyOp of(Tensor logits, Tensor targets, Tensor losses) {
        return new CrossEntropyOp(logits, targets, DEFAULT_IGNORE_INDEX, losses);
    }

    public CrossEntropyOp ignoreIndex(int i) { return new CrossEntropyOp(logits, targets, i, losses); }

    /** Mean loss over the positions not ignored, its perplexity exp(mean), and how many there were (NaN, NaN, 0 if none). */
    public record Result(double meanLoss, double perplexity, long counted) {}

    public record Shape(long rows, long cols, long logitsRowStride) {}

    public Shape validate() {
        Checks.open("logits", logits);
        Checks.open("targets", targets);
        Checks.open("losses", losses);
        Checks.floating("logits", logits);
        if (targets.dtype() != DType.I32) throw new IllegalArgumentException("targets must be I32, got " + targets.dtype());
        if (losses.dtype() != DType.F32) throw new IllegalArgumentException("losses must be F32, got " + losses.dtype());
        Checks.sameDevice("logits", logits, "targets", targets);
        Checks.sameDevice("logits", logits, "losses", losses);
        if (logits.rank() < 1 || logits.shape(-1) < 1) {
            throw new IllegalArgumentException("logits must have a non-empty last dimension, got " + logits.shapeString());
        }
        if (targets.rank() != logits.rank() - 1) {
            throw new IllegalArgumentException("targets " + targets.shapeString() + " must have logits " + logits.shapeString()
                    + " without its last dimension");
        }
        for (int d = 0; d < targets.rank(); d++) {
            if (targets.shape(d) != logits.shape(d)) {
                throw new IllegalArgumentException("targets " + targets.shapeString() + " must have logits " + logits.shapeString()
                        + " without its last dimension");
            }
        }
        Checks.sameShape("targets", targets, "losses", losses);
        if (!targets.isContiguous() || !losses.isContiguous()) {
            throw new IllegalArgumentException("targets " + targets + " and losses " + losses + " must be contiguous");
        }
        return new Shape(targets.numel(), logits.shape(-1), Checks.rowStride("logits", logits));
    }

    /** The mean and perplexity from per-position losses (fp32) and targets. */
    public static Result reduce(float[] losses, int[] targets, int ignoreIndex) {
        double sum = 0;
        long n = 0;
        for (int i = 0; i < losses.length; i++) {
            if (targets[i] == ignoreIndex) continue;
            sum += losses[i];
            n++;
        }
        double mean = n == 0 ? Double.NaN : sum / n;
        return new Result(mean, Math.exp(mean), n);
    }
}
