// Logprobs — log softmax in double over a row of logits, and the ids of its largest entries.
package org.transformer4j.model.engine;

import java.util.PriorityQueue;

/** What OpenAI's logprobs report: log softmax at temperature 1 of the model's logits. */
public final class Logprobs {

    private Logprobs() {}

    public static double[] logSoftmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) max = Math.max(max, v);
        double sum = 0;
        for (float v : logits) sum += Math.exp(v - max);
        double lse = max + Math.log(sum);
        double[] out = new double[logits.length];
        for (int i = 0; i < logits.length; i++) out[i] = logits[i] - lse;
        return out;
    }

    /** The k largest entries' ids, largest first (ties: the smaller id first). */
    public static int[] top(double[] row, int k) {
        k = Math.min(k, row.length);
        PriorityQueue<Integer> heap = new PriorityQueue<>((a, b) -> row[a] != row[b] ? Double.compare(row[a], row[b]) : Integer.compare(b, a));
        for (int i = 0; i < row.length; i++) {
            heap.add(i);
            if (heap.size() > k) heap.poll();
        }
        int[] out = new int[heap.size()];
        for (int i = out.length - 1; i >= 0; i--) out[i] = heap.poll();
        return out;
    }
}
