// PenaltyOp — repetition, presence and frequency penalties and an additive logit bias, in place on the
// logits before sampling: transformers' RepetitionPenaltyLogitsProcessor, OpenAI's / vLLM's frequency and
// presence penalties and logit_bias, over each row's distinct previous ids.
package org.transformer4j.runtime;

/**
 * Arguments of {@link Backend#penalty}:
 * <pre>
 *   logits  (rows, V) floating, changed in place
 *   ids     I32 (rows, U) each row's distinct ids; −1 is padding (skipped)
 *   counts  I32 (rows, U) each id's occurrences among the generated tokens (≥ 0), or −1 for an id that only
 *           carries a bias (it is neither in the prompt nor generated)
 *   bias    F32 (rows, U) added to each id's logit, or null
 * </pre>
 * For each listed id, in fp32, each step rounded (no fused multiply-add), then rounded once to the dtype:
 * {@code x += bias}; where {@code count ≥ 0} (prompt or generated) {@code x = x < 0 ? x · repetition : x / repetition};
 * where {@code count > 0} {@code x = (x − frequency · count) − presence}. That is transformers' processor
 * order (its sequence bias before its repetition penalty, over the prompt and the generated ids) followed by
 * vLLM's (frequency, then presence, over the generated ids only). repetition 1, presence 0 and frequency 0
 * leave the logits' bits as they are (a missing bias adds nothing).
 *
 * <p>The CPU backend refuses an id outside [−1, V) or twice in a row; the CUDA kernel skips ids outside
 * [0, V) and, reading ids on the device, cannot check that they are distinct (a repeated id is a data race
 * on that one logit, never a write out of bounds).
 *
 * <p><b>Per-row penalties</b> (ABI 13): {@code repetitionRows}, {@code presenceRows}, {@code frequencyRows}, each
 * null or one value per row, replace their scalar (which is then not read), so rows of requests with different
 * penalties go in one op; each row gets the bits an op over that row alone with its values gets. A row without a
 * bias of its own, in an op where other rows have one, carries bias −0.0 (x + −0 is x for every x; +0 would turn
 * −0 into +0).
 */
public record PenaltyOp(Tensor logits, Tensor ids, Tensor counts, Tensor bias, float repetition, float presence, float frequency,
                        float[] repetitionRows, float[] presenceRows, float[] frequencyRows) {

    /** One scalar of each penalty for every row (before ABI 13). */
    public PenaltyOp(Tensor logits, Tensor ids, Tensor counts, Tensor bias, float repetition, float presence, float frequency) {
        this(logits, ids, counts, bias, repetition, presence, frequency, null, null, null);
    }

    /** Row r penalized with repetition[r], presence[r] and frequency[r] (each of length rows). */
    public static PenaltyOp perRow(Tensor logits, Tensor ids, Tensor counts, Tensor bias, float[] repetition, float[] presence,
                                   float[] frequency) {
        return new PenaltyOp(logits, ids, counts, bias, 1f, 0f, 0f, repetition, presence, frequency);
    }

    /** Whether any penalty is given per row. */
    public boolean perRow() { return repetitionRows != null || presenceRows != null || frequencyRows != null; }

    public record Shape(long rows, long cols, long logitsRowStride, long width) {}

    public Shape validate() {
        Checks.open("logits", logits);
        Checks.open("ids", ids);
        Checks.open("counts", counts);
        Checks.floating("logits", logits);
        if (logits.rank() != 2 || logits.shape(1) < 1) throw new IllegalArgumentException("logits must be (rows, V) with V ≥ 1, got " + logits.shapeString());
        if (ids.dtype() != DType.I32 || counts.dtype() != DType.I32) {
            throw new IllegalArgumentException("ids and counts must be I32, got " + ids.dtype() + " and " + counts.dtype());
        }
        if (ids.rank() != 2 || ids.shape(0) != logits.shape(0) || !ids.isContiguous()) {
            throw new IllegalArgumentException("ids must be a contiguous (" + logits.shape(0) + ", U) for logits " + logits.shapeString()
                    + ", got " + ids.shapeString());
        }
        Checks.sameShape("ids", ids, "counts", counts);
        if (!counts.isContiguous()) throw new IllegalArgumentException("counts " + counts + " must be contiguous");
        Checks.sameDevice("logits", logits, "ids", ids);
        Checks.sameDevice("logits", logits, "counts", counts);
        if (bias != null) {
            Checks.open("bias", bias);
            if (bias.dtype() != DType.F32) throw new IllegalArgumentException("bias must be F32, got " + bias.dtype());
            Checks.sameShape("ids", ids, "bias", bias);
            Checks.sameDevice("logits", logits, "bias", bias);
            if (!bias.isContiguous()) throw new IllegalArgumentException("bias " + bias + " must be contiguous");
        }
        long rows = logits.shape(0);
        if (repetitionRows == null) checkRepetition("repetition penalty", repetition);
        else for (int r = 0; r < checkLength("repetitionRows", repetitionRows, rows, logits); r++) {
            checkRepetition("repetitionRows[" + r + "]", repetitionRows[r]);
        }
        if (presenceRows == null) checkFinite("presence penalty", presence);
        else for (int r = 0; r < checkLength("presenceRows", presenceRows, rows, logits); r++) checkFinite("presenceRows[" + r + "]", presenceRows[r]);
        if (frequencyRows == null) checkFinite("frequency penalty", frequency);
        else for (int r = 0; r < checkLength("frequencyRows", frequencyRows, rows, logits); r++) checkFinite("frequencyRows[" + r + "]", frequencyRows[r]);
        return new Shape(logits.shape(0), logits.shape(1), Checks.rowStride("logits", logits), ids.shape(1));
    }

    private static int checkLength(String name, float[] values, long rows, Tensor logits) {
        if (values.length != rows) {
            throw new IllegalArgumentException(name + " has " + values.length + " entries for logits " + logits.shapeString() + " (one per row)");
        }
        return values.length;
    }

    private static void checkRepetition(String name, float v) {
        if (!(v > 0) || Float.isInfinite(v)) throw new IllegalArgumentException(name + " must be finite and > 0, got " + v);
    }

    private static void checkFinite(String name, float v) {
        if (!Float.isFinite(v)) throw new IllegalArgumentException(name + " must be finite, got " + v);
    }
}
