// Masks — the attention masks of the four architectures, from their definitions (no model needed):
// which keys each query may see in causal, bidirectional, prefix-LM and cross attention.
package org.transformer4j.cli.inspect;

import java.util.List;
import org.transformer4j.runtime.AttentionOp;

/**
 * Mask matrices, 1 where query i (row) may attend to key j (column), 0 elsewhere.
 * <ul>
 * <li>causal (decoder-only): j ≤ i;
 * <li>bidirectional (encoder): every j;
 * <li>prefix-LM: j &lt; P (the input part, seen by everyone) or j ≤ i;
 * <li>cross (encoder-decoder): each target position (the tokens from P on) sees every input position
 *     (the first P tokens); rows are targets, columns inputs.
 * </ul>
 */
public final class Masks {

    private Masks() {}

    public static float[][] causal(int t) { return matrix(AttentionOp.Mask.CAUSAL, t, 0); }

    public static float[][] bidirectional(int t) { return matrix(AttentionOp.Mask.NONE, t, 0); }

    public static float[][] prefix(int t, int p) {
        checkPrefix(t, p);
        return matrix(AttentionOp.Mask.PREFIX_LM, t, p);
    }

    /** (t, t): 1 where the runtime's mask rule (AttentionOp.Mask.visible) lets query i see key j. */
    private static float[][] matrix(AttentionOp.Mask mask, int t, int p) {
        float[][] m = new float[t][t];
        for (int i = 0; i < t; i++) for (int j = 0; j < t; j++) m[i][j] = mask.visible(i, j, p) ? 1 : 0;
        return m;
    }

    /** [targets, inputs]: all ones — cross attention has no mask beyond padding. */
    public static float[][] cross(int targets, int inputs) {
        float[][] m = new float[targets][inputs];
        for (float[] row : m) java.util.Arrays.fill(row, 1);
        return m;
    }

    /** The four masks over {@code tokens}, the first {@code p} of them being the input part. */
    public static List<Inspection.Matrix> all(List<String> tokens, int p) {
        int t = tokens.size();
        checkPrefix(t, p);
        List<String> input = tokens.subList(0, p);
        List<String> target = tokens.subList(p, t);
        return List.of(
                new Inspection.Matrix("causal", "decoder-only: position i sees positions 0..i", tokens, tokens, causal(t)),
                new Inspection.Matrix("bidirectional", "encoder: every position sees every position", tokens, tokens,
                        bidirectional(t)),
                new Inspection.Matrix("prefix", "prefix-LM: all see the first " + p + " (the input), the rest causally",
                        tokens, tokens, prefix(t, p)),
                new Inspection.Matrix("cross", "encoder-decoder: the " + target.size() + " target positions see all "
                        + input.size() + " input positions", target, input, cross(target.size(), input.size())));
    }

    private static void checkPrefix(int t, int p) {
        if (p < 0 || p > t) throw new IllegalArgumentException("prefix length " + p + " must be in 0.." + t);
    }
}
