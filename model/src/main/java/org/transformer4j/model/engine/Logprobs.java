// Logprobs — log softmax in double over a row of logits, and the ids of its largest entries.
package org.transformer4j.model.engine;

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

    /**
     * The k largest entries' ids, largest first (ties, −0 and +0 included: the smaller id first; NaN above all). One
     * pass over the row: the ids so far are kept sorted, and an entry that does not beat the k-th is passed with one
     * comparison (for a vocabulary row nearly all of them), where a heap of boxed ids took every entry in and out
     * (about 8 ms for 151,669 ids and k = 20 on the 2-core CPU, `LogprobsBenchmark`).
     */
    public static int[] top(double[] row, int k) {
        k = Math.max(0, Math.min(k, row.length));
        int[] ids = new int[k];
        int n = 0;
        for (int i = 0; i < row.length; i++) {
            double v = row[i];
            // ids ascend: an entry equal to the k-th comes after it in the tie order, so only a larger one enters
            if (n == k && (k == 0 || compare(v, row[ids[k - 1]]) <= 0)) continue;
            int at = n == k ? k - 1 : n++;
            while (at > 0 && compare(v, row[ids[at - 1]]) > 0) {
                ids[at] = ids[at - 1];
                at--;
            }
            ids[at] = i;
        }
        return ids;
    }

    /** Double.compare with −0 equal to +0 (the order the ranking has always used). */
    private static int compare(double a, double b) { return a == b ? 0 : Double.compare(a, b); }
}
