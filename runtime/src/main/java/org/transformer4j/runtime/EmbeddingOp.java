// EmbeddingOp — the fused input embedding: token row + learned position row (+ token type row).
package org.transformer4j.runtime;

/**
 * Arguments of {@link Backend#embedding}:
 * <pre>
 *   ids            I32 (B, T) or (T) token ids
 *   tokenTable     (V, C)
 *   positionTable  (P, C) or null; row t of each sequence gets position positionOffset + t
 *   positions      I32, ids' shape, or null: each row's position, read when the op runs (device-resident
 *                  positions for a captured decode step; positionOffset must then be 0)
 *   typeIds        I32, ids' shape, or null (BERT's segment ids)
 *   typeTable      (TV, C), or null exactly when typeIds is null
 *   out            (B, T, C) or (T, C): ids' shape + C
 *   tokenScale     multiplies the token row (Gemma's sqrt(C) normalizer, rounded to the dtype by the caller); 1
 * </pre>
 * Sums in fp32 and rounds once. An id (or position) outside its table is an IllegalArgumentException
 * naming its position (b, t): before any work on the CPU; on CUDA, where the ids live on the device,
 * the kernel clamps it (reads stay in bounds) and the exception follows the launch — except under
 * graph capture, where nothing can be read back: there the caller checks ids on the host.
 */
public record EmbeddingOp(Tensor ids, Tensor tokenTable, Tensor positionTable, long positionOffset, Tensor typeIds,
                          Tensor typeTable, Tensor out, Tensor positions, float tokenScale) {

    public EmbeddingOp(Tensor ids, Tensor tokenTable, Tensor positionTable, long positionOffset, Tensor typeIds,
                       Tensor typeTable, Tensor out, Tensor positions) {
        this(ids, tokenTable, positionTable, positionOffset, typeIds, typeTable, out, positions, 1f);
    }

    public EmbeddingOp(Tensor ids, Tensor tokenTable, Tensor positionTable, long positionOffset, Tensor typeIds,
                       Tensor typeTable, Tensor out) {
        this(ids, tokenTable, positionTable, positionOffset, typeIds, typeTable, out, null);
    }

    /** The token row times {@code s} (finite, &gt; 0) before the sum. */
    public EmbeddingOp tokenScale(float s) {
        return new EmbeddingOp(ids, tokenTable, positionTable, positionOffset, typeIds, typeTable, out, positions, s);
    }

    /** Token and position embeddings (GPT-2); positionTable may be null (T5: relative positions live in attention). */
    public static EmbeddingOp of(Tensor ids, Tensor tokenTable, Tensor positionTable, Tensor out) {
        return new EmbeddingOp(ids, tokenTable, positionTable, 0, null, null, out, null);
    }

    /** Positions start at {@code offset} (a decode step after {@code offset} cached tokens). */
    public EmbeddingOp positionOffset(long offset) {
        return new EmbeddingOp(ids, tokenTable, positionTable, offset, typeIds, typeTable, out, positions, tokenScale);
    }

    /** Each row's position from an I32 tensor of ids' shape, read when the op runs (not when it is made). */
    public EmbeddingOp positions(Tensor newPositions) {
        return new EmbeddingOp(ids, tokenTable, positionTable, positionOffset, typeIds, typeTable, out, newPositions, tokenScale);
    }

    /** Adds token-type embeddings (BERT). */
    public EmbeddingOp types(Tensor newTypeIds, Tensor newTypeTable) {
        return new EmbeddingOp(ids, tokenTable, positionTable, positionOffset, newTypeIds, newTypeTable, out, positions, tokenScale);
    }

    /** rows = B·T, cols = C, seqLen = T. */
    public record Shape(long rows, long cols, long seqLen, long vocab, long maxPositions, long typeVocab, long outRowStride) {}

    public Shape validate() {
        Checks.open("ids", ids);
        Checks.open("tokenTable", tokenTable);
        Checks.open("out", out);
        if (!(tokenScale > 0) || Float.isInfinite(tokenScale)) throw new IllegalArgumentException("tokenScale must be finite and > 0, got " + tokenScale);
        if (ids.dtype() != DType.I32) throw new IllegalArgumentException("ids must be I32, got " + ids.dtype());
        if (ids.rank() != 1 && ids.rank() != 2) throw new IllegalArgumentException("ids must be (B, T) or (T), got " + ids.shapeString());
        if (!ids.isContiguous()) throw new IllegalArgumentException("ids " + ids + " must be contiguous");
        Checks.floating("tokenTable", tokenTable);
        Checks.sameDType("tokenTable", tokenTable, "out", out);
        Checks.sameDevice("ids", ids, "tokenTable", tokenTable);
        Checks.sameDevice("ids", ids, "out", out);
        if (tokenTable.rank() != 2 || tokenTable.shape(0) < 1) {
            throw new IllegalArgumentException("tokenTable must be (V, C) with V ≥ 1, got " + tokenTable.shapeString());
        }
        if (!tokenTable.isContiguous()) throw new IllegalArgumentException("tokenTable " + tokenTable + " must be contiguous");
        long c = tokenTable.shape(1);
        if (out.rank() != ids.rank() + 1 || out.shape(-1) != c) {
            throw new IllegalArgumentException("out has shape " + out.shapeString() + " but ids " + ids.shapeString()
                    + " with tokenTable " + tokenTable.shapeString() + " need ids' shape + (" + c + ")");
        }
        for (int d = 0; d < ids.rank(); d++) {
            if (out.shape(d) != ids.shape(d)) {
                throw new IllegalArgumentException("out has shape " + out.shapeString() + " but ids have shape " + ids.shapeString());
            }
        }
        long t = ids.shape(-1);
        long maxPositions = 0;
        if (positionTable != null) {
            Checks.open("positionTable", positionTable);
            Checks.sameDType("tokenTable", tokenTable, "positionTable", positionTable);
            Checks.sameDevice("tokenTable", tokenTable, "positionTable", positionTable);
            if (positionTable.rank() != 2 || positionTable.shape(1) != c || !positionTable.isContiguous()) {
                throw new IllegalArgumentException("positionTable must be a contiguous (P, " + c + "), got " + positionTable);
            }
            maxPositions = positionTable.shape(0);
            if (positions != null) {
                Checks.open("positions", positions);
                if (positions.dtype() != DType.I32) throw new IllegalArgumentException("positions must be I32, got " + positions.dtype());
                Checks.sameShape("ids", ids, "positions", positions);
                Checks.sameDevice("ids", ids, "positions", positions);
                if (!positions.isContiguous()) throw new IllegalArgumentException("positions " + positions + " must be contiguous");
                if (positionOffset != 0) {
                    throw new IllegalArgumentException("positionOffset " + positionOffset + " given with positions; use one or the other");
                }
            } else if (positionOffset < 0 || positionOffset + t > maxPositions) {
                throw new IllegalArgumentException("positions " + positionOffset + ".." + (positionOffset + t - 1)
                        + " exceed positionTable " + positionTable.shapeString() + " (" + maxPositions + " positions)");
            }
        } else if (positionOffset != 0 || positions != null) {
            throw new IllegalArgumentException((positions != null ? "positions" : "positionOffset " + positionOffset)
                    + " given without a positionTable");
        }
        long typeVocab = 0;
        if ((typeIds == null) != (typeTable == null)) {
            throw new IllegalArgumentException("typeIds and typeTable go together; got typeIds " + typeIds + ", typeTable " + typeTable);
        }
        if (typeIds != null) {
            Checks.open("typeIds", typeIds);
            Checks.open("typeTable", typeTable);
            if (typeIds.dtype() != DType.I32) throw new IllegalArgumentException("typeIds must be I32, got " + typeIds.dtype());
            Checks.sameShape("ids", ids, "typeIds", typeIds);
            Checks.sameDevice("ids", ids, "typeIds", typeIds);
            if (!typeIds.isContiguous()) throw new IllegalArgumentException("typeIds " + typeIds + " must be contiguous");
            Checks.sameDType("tokenTable", tokenTable, "typeTable", typeTable);
            Checks.sameDevice("tokenTable", tokenTable, "typeTable", typeTable);
            if (typeTable.rank() != 2 || typeTable.shape(1) != c || typeTable.shape(0) < 1 || !typeTable.isContiguous()) {
                throw new IllegalArgumentException("typeTable must be a contiguous (TV, " + c + "), got " + typeTable);
            }
            typeVocab = typeTable.shape(0);
        }
        return new Shape(ids.numel(), c, t, tokenTable.shape(0), maxPositions, typeVocab, Checks.rowStride("out", out));
    }

    /** "(b=1, t=3)" or "(t=3)" for flat row {@code row}. */
    public String position(long row) {
        long t = ids.shape(-1);
        return ids.rank() == 2 ? "(b=" + row / t + ", t=" + row % t + ")" : "(t=" + row + ")";
    }
}
