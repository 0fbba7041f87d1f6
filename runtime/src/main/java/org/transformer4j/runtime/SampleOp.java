// SampleOp — one next token per row from the logits: argmax, or temperature / top-k / top-p / min_p
// sampling with a seeded counter-based generator; only ids and log-probs come back.
package org.transformer4j.runtime;

/**
 * Arguments of {@link Backend#sample}:
 * <pre>
 *   logits    (rows, V) floating, V ≤ 2^24
 *   ids       I32 (rows) the chosen ids
 *   logprobs  F32 (rows) log_softmax(logits)[id] at temperature 1, or null
 *   nonFinite I32 (rows) 1 where the row is non-finite, else 0; or null
 * </pre>
 * A row is non-finite when it holds a NaN or +∞, or no finite logit at all (every one −∞): its id is
 * the smallest id among its largest non-NaN logits (0 when every logit is NaN) and its logprob NaN,
 * so ids never leave [0, V); callers that must not continue from such a row read {@code nonFinite}.
 * {@code temperature == 0} is argmax (the smallest id among equal maxima). Otherwise the
 * distribution softmax(logits / temperature) restricted first to ids whose logit is ≥ the
 * top-k-th largest (ties at the boundary kept; topK 0: no limit), then to the most probable ids
 * whose mass reaches topP of what remains (ties kept; 1: no limit), then to ids whose probability is at least
 * minP times the largest (0: no limit) — transformers' warper order (temperature, top-k, top-p, min_p), which
 * {@code generate} applies; vLLM applies min_p before top-k and top-p, which can keep other ids. Row r's uniform number comes
 * from Philox4x32-10 with key {@code seed} and counter (r, offset, 0) — see t4j.h — so the same
 * seed and offset give the same ids on the CPU and, up to float rounding at a boundary, on CUDA
 * (where a repeated launch gives exactly the same ids: its sums have a fixed order).
 *
 * <p><b>Per-row parameters</b> ({@link #perRow}, t4j.h's {@code row_params}, ABI 13): each row r has its own
 * {@link Row} (seed, offset, temperature, top-k, top-p, min_p) and the scalar fields are not read. Row r's
 * Philox counter is then (0, offset, 0): its draw does not depend on where it sits, so row r of a per-row op
 * gets exactly the id, logprob and flag of a scalar op over that row alone (row 0) with the row's values —
 * the serving engine samples every sequence of a decode step in one op on that rule. A row with temperature 0
 * is argmax, as {@link #greedy} is.
 */
public record SampleOp(Tensor logits, float temperature, int topK, float topP, long seed, long offset, Tensor ids,
                       Tensor logprobs, Tensor nonFinite, float minP, java.util.List<Row> rows) {

    /**
     * One row's parameters in a per-row op (t4j.h's {@code t4j_sample_row}): temperature 0 is argmax (the other
     * values are then not read), else as the scalar op's fields.
     */
    public record Row(long seed, long offset, float temperature, int topK, float topP, float minP) {

        /** Argmax, as {@link SampleOp#greedy}. */
        public static Row greedy() { return new Row(0, 0, 0f, 0, 1f, 0f); }
    }

    /** One scalar parameter set for every row (before ABI 13). */
    public SampleOp(Tensor logits, float temperature, int topK, float topP, long seed, long offset, Tensor ids, Tensor logprobs,
                    Tensor nonFinite, float minP) {
        this(logits, temperature, topK, topP, seed, offset, ids, logprobs, nonFinite, minP, null);
    }

    /** Row r of logits (rows, V) sampled with rows.get(r) (see the class comment: as that row alone would be). */
    public static SampleOp perRow(Tensor logits, java.util.List<Row> rows, Tensor ids) {
        if (rows == null) throw new IllegalArgumentException("rows must not be null");
        return new SampleOp(logits, 0f, 0, 1f, 0, 0, ids, null, null, 0f, java.util.List.copyOf(rows));
    }

    /** Without min_p. */
    public SampleOp(Tensor logits, float temperature, int topK, float topP, long seed, long offset, Tensor ids, Tensor logprobs,
                    Tensor nonFinite) {
        this(logits, temperature, topK, topP, seed, offset, ids, logprobs, nonFinite, 0f);
    }

    /** Without the non-finite flags. */
    public SampleOp(Tensor logits, float temperature, int topK, float topP, long seed, long offset, Tensor ids, Tensor logprobs) {
        this(logits, temperature, topK, topP, seed, offset, ids, logprobs, null);
    }

    /** Argmax. */
    public static SampleOp greedy(Tensor logits, Tensor ids) { return new SampleOp(logits, 0f, 0, 1f, 0, 0, ids, null); }

    /** Plain sampling at {@code temperature} (> 0) with {@code seed}. */
    public static SampleOp sample(Tensor logits, float temperature, long seed, Tensor ids) {
        if (!(temperature > 0f) || !Float.isFinite(temperature)) {
            throw new IllegalArgumentException("temperature must be finite and > 0 for sampling (0 is greedy), got " + temperature);
        }
        return new SampleOp(logits, temperature, 0, 1f, seed, 0, ids, null);
    }

    /** Keeps the k most likely ids (ties at the boundary kept); k ≥ 1. */
    public SampleOp topK(int k) {
        if (k < 1) throw new IllegalArgumentException("top-k must be ≥ 1, got " + k);
        return new SampleOp(logits, temperature, k, topP, seed, offset, ids, logprobs, nonFinite, minP, rows);
    }

    /** Keeps the most likely ids whose mass reaches p; p in (0, 1]. */
    public SampleOp topP(float p) {
        if (!(p > 0f && p <= 1f)) throw new IllegalArgumentException("top-p must be in (0, 1], got " + p);
        return new SampleOp(logits, temperature, topK, p, seed, offset, ids, logprobs, nonFinite, minP, rows);
    }

    /** Keeps the ids whose probability is at least p times the largest (transformers' MinPLogitsWarper); p in [0, 1], 0: off. */
    public SampleOp minP(float p) {
        if (!(p >= 0f && p <= 1f)) throw new IllegalArgumentException("min-p must be in [0, 1], got " + p);
        return new SampleOp(logits, temperature, topK, topP, seed, offset, ids, logprobs, nonFinite, p, rows);
    }

    /** The generator's counter offset, e.g. the decode step, so each step draws fresh numbers. */
    public SampleOp offset(long o) { return new SampleOp(logits, temperature, topK, topP, seed, o, ids, logprobs, nonFinite, minP, rows); }

    public SampleOp logprobs(Tensor lp) { return new SampleOp(logits, temperature, topK, topP, seed, offset, ids, lp, nonFinite, minP, rows); }

    /** Receives 1 per non-finite row, else 0: I32 (rows), contiguous, beside ids (it may be a row of the same tensor). */
    public SampleOp nonFinite(Tensor flags) { return new SampleOp(logits, temperature, topK, topP, seed, offset, ids, logprobs, flags, minP, rows); }

    public record Shape(long rows, long cols, long logitsRowStride) {}

    public Shape validate() {
        Checks.open("logits", logits);
        Checks.open("ids", ids);
        Checks.floating("logits", logits);
        if (logits.rank() != 2 || logits.shape(1) < 1) throw new IllegalArgumentException("logits must be (rows, V) with V ≥ 1, got " + logits.shapeString());
        if (logits.shape(1) > (1 << 24)) throw new IllegalArgumentException("logits " + logits.shapeString() + ": V above 2^24 is not supported");
        if (ids.dtype() != DType.I32) throw new IllegalArgumentException("ids must be I32, got " + ids.dtype());
        if (ids.rank() != 1 || ids.shape(0) != logits.shape(0) || !ids.isContiguous()) {
            throw new IllegalArgumentException("ids must be a contiguous (" + logits.shape(0) + ") for logits " + logits.shapeString()
                    + ", got " + ids.shapeString());
        }
        Checks.sameDevice("logits", logits, "ids", ids);
        if (logprobs != null) {
            Checks.open("logprobs", logprobs);
            if (logprobs.dtype() != DType.F32) throw new IllegalArgumentException("logprobs must be F32, got " + logprobs.dtype());
            Checks.sameShape("ids", ids, "logprobs", logprobs);
            Checks.sameDevice("logits", logits, "logprobs", logprobs);
            if (!logprobs.isContiguous()) throw new IllegalArgumentException("logprobs " + logprobs + " must be contiguous");
        }
        if (nonFinite != null) {
            Checks.open("nonFinite", nonFinite);
            if (nonFinite.dtype() != DType.I32) throw new IllegalArgumentException("nonFinite must be I32, got " + nonFinite.dtype());
            Checks.sameShape("ids", ids, "nonFinite", nonFinite);
            Checks.sameDevice("logits", logits, "nonFinite", nonFinite);
            if (!nonFinite.isContiguous()) throw new IllegalArgumentException("nonFinite " + nonFinite + " must be contiguous");
        }
        if (rows == null) {
            checkParams("", temperature, topK, topP, minP);
        } else {
            if (rows.size() != logits.shape(0)) {
                throw new IllegalArgumentException("rows has " + rows.size() + " entries for logits " + logits.shapeString()
                        + " (one per row)");
            }
            for (int r = 0; r < rows.size(); r++) {
                Row row = rows.get(r);
                if (row == null) throw new IllegalArgumentException("rows[" + r + "] is null");
                checkParams("rows[" + r + "].", row.temperature(), row.topK(), row.topP(), row.minP());
            }
        }
        if (logits.shape(0) > 0xffffffffL) throw new IllegalArgumentException("more than 2^32 rows: " + logits.shapeString());
        return new Shape(logits.shape(0), logits.shape(1), Checks.rowStride("logits", logits));
    }

    private static void checkParams(String where, float temperature, int topK, float topP, float minP) {
        if (!(temperature >= 0f) || !Float.isFinite(temperature)) {
            throw new IllegalArgumentException(where + "temperature must be finite and ≥ 0, got " + temperature);
        }
        if (topK < 0) throw new IllegalArgumentException(where + "top-k must be ≥ 1 (or 0 for no limit), got " + topK);
        if (!(topP > 0f && topP <= 1f)) throw new IllegalArgumentException(where + "top-p must be in (0, 1], got " + topP);
        if (!(minP >= 0f && minP <= 1f)) throw new IllegalArgumentException(where + "min-p must be in [0, 1], got " + minP);
    }
}
