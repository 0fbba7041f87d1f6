// LogitsInspector — everything an inspection report derives from per-position logits [T, V] and the
// token ids: probabilities (the backend's softmax), rank, top-5 alternatives, per-token loss (the
// backend's cross-entropy), mean loss and perplexity. Model-neutral: a model or a file gives the logits.
package org.transformer4j.cli.inspect;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.IntFunction;
import java.util.function.LongConsumer;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.CrossEntropyOp;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.SoftmaxOp;
import org.transformer4j.runtime.Tensor;

/**
 * Row t of the logits is the model's distribution for the token after {@code ids[t]}: it scores
 * {@code ids[t + 1]}, and the last row gives the alternatives for what would follow the text.
 */
public final class LogitsInspector {

    /** How many alternatives each position lists. */
    public static final int TOP = 5;

    private LogitsInspector() {}

    /**
     * The report for {@code ids} (T) under {@code logits} (T, V) on {@code backend}; {@code tokenText}
     * names an id, {@code prefix} splits input from target for the prefix and cross masks,
     * {@code progress} hears the number of rows done (0..T).
     */
    public static Inspection inspect(Backend backend, Tensor logits, int[] ids, IntFunction<String> tokenText, int prefix,
                                     Optional<Inspection.Matrix> attention, String source, LongConsumer progress) {
        check(logits, ids);
        int t = ids.length;
        int v = (int) logits.shape(1);
        float[] l = logits.toFloatArray();
        for (int i = 0; i < l.length; i++) {
            if (!Float.isFinite(l[i])) {
                throw new IllegalArgumentException("logit at position " + i / v + ", id " + i % v + " is " + l[i]
                        + "; logits must be finite");
            }
        }
        int[] targets = new int[t];   // (T) ids[t + 1]; the last row has nothing to score
        for (int i = 0; i < t; i++) targets[i] = i + 1 < t ? ids[i + 1] : CrossEntropyOp.DEFAULT_IGNORE_INDEX;

        float[] probs;
        float[] losses;
        CrossEntropyOp.Result result;
        try (Tensor hl = Tensor.of(DType.F32, l, t, v); Tensor ht = Tensor.ofInts(targets, t);
             Tensor dl = backend.upload(hl); Tensor dt = backend.upload(ht);
             Tensor dp = backend.empty(DType.F32, t, v); Tensor dloss = backend.empty(DType.F32, t)) {
            backend.softmax(SoftmaxOp.softmax(dl, dp));                        // (T, V)
            result = backend.crossEntropy(CrossEntropyOp.of(dl, dt, dloss));   // (T)
            try (Tensor hp = backend.toHost(dp); Tensor hloss = backend.toHost(dloss)) {
                probs = hp.toFloatArray();
                losses = hloss.toFloatArray();
            }
        }

        List<String> texts = new ArrayList<>(t);
        for (int id : ids) texts.add(tokenText.apply(id));
        List<Inspection.Position> positions = new ArrayList<>(t);
        positions.add(Inspection.Position.unscored(0, ids[0], texts.get(0)));
        List<Inspection.Alternative> next = List.of();
        for (int row = 0; row < t; row++) {
            List<Inspection.Alternative> top = top(l, probs, row, v, tokenText);
            if (row + 1 < t) {
                int id = ids[row + 1];
                int base = row * v;
                float own = l[base + id];
                int rank = 1;
                for (int j = 0; j < v; j++) if (l[base + j] > own) rank++;
                positions.add(new Inspection.Position(row + 1, id, texts.get(row + 1), true, probs[base + id], rank,
                        losses[row], top));
            } else {
                next = top;
            }
            progress.accept(row + 1);
        }
        return new Inspection(source, v, positions, result.meanLoss(), result.perplexity(), result.counted(), next,
                Masks.all(texts, prefix), attention);
    }

    /** The shape and id checks {@link #inspect} makes, for callers that name tokens first: IllegalArgumentException with the reason. */
    public static void check(Tensor logits, int[] ids) {
        if (logits.rank() != 2 || !logits.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("logits must be a floating [T, V] tensor, got " + logits.dtype() + " "
                    + logits.shapeString());
        }
        int t = ids.length;
        if (t == 0) throw new IllegalArgumentException("no tokens to inspect (ids is empty)");
        if (logits.shape(0) != t) {
            throw new IllegalArgumentException("logits " + logits.shapeString() + " must have one row per token id (" + t + ")");
        }
        if (logits.shape(1) > Integer.MAX_VALUE / Math.max(1, t)) {
            throw new IllegalArgumentException("logits " + logits.shapeString() + " are too large to inspect at once");
        }
        long v = logits.shape(1);
        for (int i = 0; i < t; i++) {
            if (ids[i] < 0 || ids[i] >= v) {
                throw new IllegalArgumentException("token id " + ids[i] + " at position " + i + " is outside the vocabulary [0, "
                        + v + ")");
            }
        }
    }

    /** The TOP highest logits of row {@code row} (ties: the lower id first), with their probabilities. */
    private static List<Inspection.Alternative> top(float[] l, float[] probs, int row, int v, IntFunction<String> tokenText) {
        int k = Math.min(TOP, v);
        int[] best = new int[k];
        int n = 0;
        int base = row * v;
        for (int j = 0; j < v; j++) {
            float x = l[base + j];
            if (n == k && x <= l[base + best[k - 1]]) continue;
            int pos = n < k ? n++ : k - 1;
            while (pos > 0 && l[base + best[pos - 1]] < x) {
                best[pos] = best[pos - 1];
                pos--;
            }
            best[pos] = j;
        }
        List<Inspection.Alternative> out = new ArrayList<>(k);
        for (int i = 0; i < k; i++) out.add(new Inspection.Alternative(best[i], tokenText.apply(best[i]), probs[base + best[i]]));
        return out;
    }
}
