// Checks — argument validation shared by every backend, so that the CPU and CUDA backends reject
// the same inputs with the same messages, before any native call.
package org.transformer4j.runtime;

import java.util.Arrays;

final class Checks {

    private Checks() {}

    static void open(String role, Tensor t) {
        if (t == null) throw new IllegalArgumentException(role + " is null");
        if (t.isClosed()) throw new IllegalStateException(role + " " + t + " is closed");   // a state, not a bad argument
    }

    static void sameDType(String roleA, Tensor a, String roleB, Tensor b) {
        if (a.dtype() != b.dtype()) {
            throw new IllegalArgumentException(roleB + " has dtype " + b.dtype() + " but " + roleA + " has " + a.dtype());
        }
    }

    static void floating(String role, Tensor t) {
        if (!t.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException(role + " must be F32, F16 or BF16, got " + t.dtype());
        }
    }

    static void sameShape(String roleA, Tensor a, String roleB, Tensor b) {
        if (!Arrays.equals(a.shape(), b.shape())) {
            throw new IllegalArgumentException(roleB + " has shape " + b.shapeString() + " but " + roleA + " has shape "
                    + a.shapeString());
        }
    }

    static void lastDimContiguous(String role, Tensor t) {
        if (t.rank() > 0 && t.shape(-1) > 1 && t.stride(-1) != 1) {
            throw new IllegalArgumentException(role + " " + t + " must have a contiguous last dimension (stride "
                    + t.stride(-1) + ")");
        }
    }

    /** For a [rows, cols] view of a rank ≥ 1 tensor: all leading dimensions must fold into rows. */
    static long rowStride(String role, Tensor t) {
        lastDimContiguous(role, t);
        int r = t.rank();
        if (r == 1) return t.shape(0);
        long rowStride = t.stride(r - 2);
        long expected = rowStride * t.shape(r - 2);
        for (int d = r - 3; d >= 0; d--) {
            if (t.shape(d) != 1 && t.stride(d) != expected) {
                throw new IllegalArgumentException(role + " " + t + " cannot be viewed as rows (strides "
                        + Arrays.toString(t.strides()) + "); copy it first");
            }
            expected *= t.shape(d);
        }
        return t.shape(r - 2) == 1 ? Math.max(rowStride, t.shape(r - 1)) : rowStride;
    }

    /**
     * An optional tensor {@code role} that must match {@code like} (role {@code likeRole}) in dtype, device and shape
     * (a residual, a second operand): its row stride, or 0 when it is null.
     */
    static long rowsLike(String role, Tensor t, String likeRole, Tensor like) {
        if (t == null) return 0;
        open(role, t);
        sameDType(likeRole, like, role, t);
        sameDevice(likeRole, like, role, t);
        sameShape(likeRole, like, role, t);
        return rowStride(role, t);
    }

    /** An optional tensor like {@code like} in dtype, device, shape and last-dimension contiguity (a gate's weights). */
    static void sameLayout(String role, Tensor t, String likeRole, Tensor like) {
        open(role, t);
        sameDType(likeRole, like, role, t);
        sameDevice(likeRole, like, role, t);
        sameShape(likeRole, like, role, t);
        lastDimContiguous(role, t);
    }

    static void sameDevice(String roleA, Tensor a, String roleB, Tensor b) {
        if (a.device() != b.device()) {
            throw new IllegalArgumentException(roleB + " is on " + b.device().name() + " but " + roleA + " is on "
                    + a.device().name());
        }
    }
}
