// CpuMoe — the mixture-of-experts router's arithmetic on the host: softmax, top-k and the expert-major
// slot layout, exactly as t4j_moe_route (native/src/moe/) defines them.
package org.transformer4j.runtime.cpu;

public final class CpuMoe {

    private CpuMoe() {}

    /**
     * Row {@code logits[at .. at+e)}: p = softmax in fp32 (max subtracted, exp, sum in expert order),
     * the k largest p in falling order, ties to the lower expert id, their p as weights, divided by
     * their fp32 sum when {@code renormalize}; into ids/weights[out .. out+k). {@code p} is scratch (e).
     */
    public static void topK(float[] logits, int at, int e, int k, boolean renormalize, float[] p, int[] ids, float[] weights, int out) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < e; i++) max = Math.max(max, logits[at + i]);
        float sum = 0f;
        for (int i = 0; i < e; i++) {
            p[i] = (float) Math.exp(logits[at + i] - max);
            sum += p[i];
        }
        float inv = 1f / sum;
        for (int i = 0; i < e; i++) p[i] *= inv;
        float total = 0f;
        for (int j = 0; j < k; j++) {
            int best = -1;
            for (int i = 0; i < e; i++) {
                if (taken(ids, out, j, i)) continue;
                if (best < 0 || p[i] > p[best] || (Float.isNaN(p[best]) && !Float.isNaN(p[i]))) best = i;
            }
            ids[out + j] = best;
            weights[out + j] = p[best];
            total += p[best];
        }
        if (renormalize) for (int j = 0; j < k; j++) weights[out + j] /= total;
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
