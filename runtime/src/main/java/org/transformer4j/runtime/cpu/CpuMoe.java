// CpuMoe — the mixture-of-experts router's arithmetic on the host: softmax or sigmoid scores, a correction
// bias for the choice (DeepSeek-V3's, ERNIE 4.5's), DeepSeek's groups, top-k and the expert-major slot layout, exactly as t4j_moe_route (native/src/moe/) defines them.
package org.transformer4j.runtime.cpu;

public final class CpuMoe {

    private CpuMoe() {}

    /**
     * A router's settings (t4j.h, t4j_moe_route): E experts, top k, renormalization; sigmoid scores instead of
     * softmax, the choice's correction bias (E, or null), {@code groups} contiguous groups of which the
     * {@code topkGroups} best are kept (1, 1: none), and the weights' final scale.
     */
    public record Router(int experts, int k, boolean renormalize, boolean sigmoid, float[] bias, int groups, int topkGroups,
                         float scale) {}

    /** NaN ranks as −∞ (t4j.h), as the kernel's rank_key. */
    static float rankKey(float c) {
        return Float.isNaN(c) ? Float.NEGATIVE_INFINITY : c;
    }

    /**
     * Row {@code logits[at .. at+E)}: scores s (softmax in fp32: max subtracted, exp, sum in expert order; or a
     * sigmoid each), choices c = s (+ bias); with groups, each group's score (its largest c with softmax, the
     * sum of its two largest with sigmoid), the best {@code topkGroups} kept (ties to the lower group) and the
     * others' c set to 0.0; the k largest c in falling order, ties to the lower expert id; weights c (softmax
     * without a bias) or s (sigmoid, or a bias with either scoring), divided by their fp32 sum (+ 1e-20 with sigmoid) when {@code renormalize}, then × scale;
     * into ids/weights[out .. out+k). {@code s} and {@code c} are scratch (E).
     */
    public static void topK(Router r, float[] logits, int at, float[] s, float[] c, int[] ids, float[] weights, int out) {
        int e = r.experts(), k = r.k();
        if (r.sigmoid()) {
            for (int i = 0; i < e; i++) s[i] = 1f / (1f + (float) Math.exp(-logits[at + i]));
        } else {
            float max = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < e; i++) max = Math.max(max, logits[at + i]);
            float sum = 0f;
            for (int i = 0; i < e; i++) {
                s[i] = (float) Math.exp(logits[at + i] - max);
                sum += s[i];
            }
            float inv = 1f / sum;
            for (int i = 0; i < e; i++) s[i] *= inv;
        }
        for (int i = 0; i < e; i++) c[i] = r.bias() != null ? s[i] + r.bias()[i] : s[i];
        if (r.groups() > 1 && r.topkGroups() < r.groups()) maskGroups(r, c);
        float total = 0f;
        for (int j = 0; j < k; j++) {
            int best = -1;
            for (int i = 0; i < e; i++) {
                if (taken(ids, out, j, i)) continue;
                if (best < 0 || rankKey(c[i]) > rankKey(c[best])) best = i;
            }
            ids[out + j] = best;
            weights[out + j] = r.sigmoid() || r.bias() != null ? s[best] : c[best];
            total += weights[out + j];
        }
        float denominator = r.sigmoid() ? total + 1e-20f : total;
        for (int j = 0; j < k; j++) {
            if (r.renormalize()) weights[out + j] /= denominator;
            weights[out + j] *= r.scale();
        }
    }

    /** Group-limited choice: c of every expert outside the topkGroups best groups becomes 0.0 (masked_fill). */
    private static void maskGroups(Router r, float[] c) {
        int n = r.groups(), g = r.experts() / n;
        float[] score = new float[n];
        for (int q = 0; q < n; q++) {
            float top1 = Float.NEGATIVE_INFINITY, top2 = Float.NEGATIVE_INFINITY;
            for (int i = q * g; i < (q + 1) * g; i++) {
                float key = rankKey(c[i]);
                if (key > top1) {
                    top2 = top1;
                    top1 = key;
                } else if (key > top2) {
                    top2 = key;
                }
            }
            score[q] = rankKey(r.sigmoid() ? top1 + top2 : top1);
        }
        boolean[] kept = new boolean[n];
        for (int j = 0; j < r.topkGroups(); j++) {
            int best = -1;
            for (int q = 0; q < n; q++) if (!kept[q] && (best < 0 || score[q] > score[best])) best = q;
            kept[best] = true;
        }
        for (int i = 0; i < r.experts(); i++) if (!kept[i / g]) c[i] = 0f;
    }

    private static boolean taken(int[] ids, int out, int j, int i) {
        for (int q = 0; q < j; q++) if (ids[out + q] == i) return true;
        return false;
    }

    /**
     * The expert-major layout of T tokens' k choices {@code ids} (T, k): offsets (E + 1) by counting,
     * then each choice (t, j) in (t, j) order takes the next slot of its expert: sorted[slot] = t,
     * slots[t·k + j] = slot.
     */
    public static void sortByExpert(int[] ids, int t, int k, int e, int[] offsets, int[] sorted, int[] slots) {
        java.util.Arrays.fill(offsets, 0);
        for (int i = 0; i < t * k; i++) offsets[ids[i] + 1]++;
        for (int x = 0; x < e; x++) offsets[x + 1] += offsets[x];
        int[] next = java.util.Arrays.copyOf(offsets, e);
        for (int i = 0; i < t * k; i++) {
            int slot = next[ids[i]]++;
            sorted[slot] = i / k;
            slots[i] = slot;
        }
    }

    /** Offsets must start at 0, never fall, and end within {@code rows}. */
    public static void checkOffsets(int[] offsets, long rows) {
        if (offsets[0] != 0) throw new IllegalArgumentException("offsets[0] must be 0, got " + offsets[0]);
        for (int g = 0; g + 1 < offsets.length; g++) {
            if (offsets[g + 1] < offsets[g]) {
                throw new IllegalArgumentException("offsets fall at group " + g + ": " + offsets[g] + " then " + offsets[g + 1]);
            }
        }
        if (offsets[offsets.length - 1] > rows) {
            throw new IllegalArgumentException("offsets end at " + offsets[offsets.length - 1] + ", past x's " + rows + " rows");
        }
    }
}
