// GemmOp — a (batched) matrix product C = alpha · op(A) · op(B) + beta · C, row-major, validated.
package org.transformer4j.runtime;

/**
 * Arguments of {@link Backend#gemm}. A is [M, K] ([K, M] when {@code transA}), B is [K, N] ([N, K]
 * when {@code transB}), C is [M, N]; with a leading batch dimension, A and C are [batch, ., .] and B
 * is either [batch, ., .] or shared by every batch item (rank 2). All three share one floating
 * dtype; accumulation is fp32. Each matrix's last dimension must be contiguous.
 */
public record GemmOp(Tensor a, boolean transA, Tensor b, boolean transB, Tensor c, float alpha, float beta) {

    /** C = A · B. */
    public static GemmOp of(Tensor a, Tensor b, Tensor c) { return new GemmOp(a, false, b, false, c, 1f, 0f); }

    public GemmOp transA(boolean t) { return new GemmOp(a, t, b, transB, c, alpha, beta); }

    public GemmOp transB(boolean t) { return new GemmOp(a, transA, b, t, c, alpha, beta); }

    public GemmOp scale(float newAlpha, float newBeta) { return new GemmOp(a, transA, b, transB, c, newAlpha, newBeta); }

    /** The validated sizes, in elements. */
    public record Shape(int batch, int m, int n, int k, long lda, long ldb, long ldc,
                        long strideA, long strideB, long strideC) {}

    /** Throws IllegalArgumentException naming the tensor and both shapes when the op is malformed. */
    public Shape validate() {
        Checks.open("A", a);
        Checks.open("B", b);
        Checks.open("C", c);
        Checks.floating("A", a);
        Checks.sameDType("A", a, "B", b);
        Checks.sameDType("A", a, "C", c);
        Checks.sameDevice("A", a, "B", b);
        Checks.sameDevice("A", a, "C", c);
        int r = a.rank();
        if (r != 2 && r != 3) throw new IllegalArgumentException("A must be rank 2 or 3, got " + a.shapeString());
        if (c.rank() != r) throw new IllegalArgumentException("C " + c.shapeString() + " must have A's rank " + r);
        if (b.rank() != r && b.rank() != 2) {
            throw new IllegalArgumentException("B " + b.shapeString() + " must be rank 2 or A's rank " + r);
        }
        long batch = r == 3 ? a.shape(0) : 1;
        long m = transA ? a.shape(-1) : a.shape(-2);
        long k = transA ? a.shape(-2) : a.shape(-1);
        long kb = transB ? b.shape(-1) : b.shape(-2);
        long n = transB ? b.shape(-2) : b.shape(-1);
        if (kb != k) {
            throw new IllegalArgumentException("inner dimensions differ: op(A) " + a.shapeString() + (transA ? "ᵀ" : "")
                    + " has K=" + k + " but op(B) " + b.shapeString() + (transB ? "ᵀ" : "") + " has K=" + kb);
        }
        if (c.shape(-2) != m || c.shape(-1) != n) {
            throw new IllegalArgumentException("C has shape " + c.shapeString() + " but op(A)·op(B) is (" + m + ", " + n + ")");
        }
        if (r == 3 && c.shape(0) != batch) {
            throw new IllegalArgumentException("C has batch " + c.shape(0) + " but A has batch " + batch);
        }
        if (b.rank() == 3 && b.shape(0) != batch) {
            throw new IllegalArgumentException("B has batch " + b.shape(0) + " but A has batch " + batch);
        }
        Checks.lastDimContiguous("A", a);
        Checks.lastDimContiguous("B", b);
        Checks.lastDimContiguous("C", c);
        long lda = Math.max(a.stride(-2), a.shape(-1));
        long ldb = Math.max(b.stride(-2), b.shape(-1));
        long ldc = Math.max(c.stride(-2), c.shape(-1));
        if (a.shape(-2) > 1 && a.stride(-2) < a.shape(-1)) throw new IllegalArgumentException("A rows overlap: " + a);
        if (b.shape(-2) > 1 && b.stride(-2) < b.shape(-1)) throw new IllegalArgumentException("B rows overlap: " + b);
        if (c.shape(-2) > 1 && c.stride(-2) < c.shape(-1)) throw new IllegalArgumentException("C rows overlap: " + c);
        long strideA = r == 3 ? a.stride(0) : 0;
        long strideB = b.rank() == 3 ? b.stride(0) : 0;
        long strideC = r == 3 ? c.stride(0) : 0;
        long limit = Integer.MAX_VALUE;
        if (batch > limit || m > limit || n > limit || k > limit || lda > limit || ldb > limit || ldc > limit) {
            throw new IllegalArgumentException("gemm sizes exceed 2^31-1: batch=" + batch + " M=" + m + " N=" + n + " K=" + k);
        }
        return new Shape((int) batch, (int) m, (int) n, (int) k, lda, ldb, ldc, strideA, strideB, strideC);
    }
}
