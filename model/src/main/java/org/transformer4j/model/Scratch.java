// Scratch — the device tensors one model call makes, closed together at its end.
package org.transformer4j.model;

import java.util.ArrayList;
import java.util.List;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;

/**
 * The tensors one call makes, all closed at its end. It has no dtype of its own: the model allocates
 * activations in {@link Transformer#dtype}, so a Scratch made by a caller (Generator) serves any model.
 */
final class Scratch implements AutoCloseable {
    final Backend backend;
    final List<Tensor> tensors = new ArrayList<>();

    /** The per-request LoRA adapters of this pass's rows (see {@link LoraSlots}), or null. */
    LoraSlots.Route lora;

    Scratch(Backend backend) { this.backend = backend; }

    Tensor add(Tensor t) { tensors.add(t); return t; }

    Tensor empty(DType dtype, long... shape) { return add(backend.empty(dtype, shape)); }

    /** F32, for callers' own tensors; the model's activations use {@code empty(dtype, …)} or {@link #like}. */
    Tensor empty(long... shape) { return empty(DType.F32, shape); }

    /** An uninitialised tensor of t's dtype and shape. */
    Tensor like(Tensor t) { return empty(t.dtype(), t.shape()); }

    /** F32. */
    Tensor upload(float[] data, long... shape) { return upload(DType.F32, data, shape); }

    /** Rows of equal length (e.g. each sequence's logits) as one F32 (rows, cols) tensor. */
    Tensor uploadRows(float[][] rows) {
        int cols = rows[0].length;
        float[] flat = new float[rows.length * cols];
        for (int r = 0; r < rows.length; r++) System.arraycopy(rows[r], 0, flat, r * cols, cols);
        return upload(flat, rows.length, cols);
    }

    /** {@code data} rounded to {@code dtype}. */
    Tensor upload(DType dtype, float[] data, long... shape) {
        try (Tensor h = Tensor.of(dtype, data, shape)) {
            return add(backend.upload(h));
        }
    }

    Tensor uploadInts(int[] data, long... shape) {
        try (Tensor h = Tensor.ofInts(data, shape)) {
            return add(backend.upload(h));
        }
    }

    Tensor copyOf(Tensor t) {
        Tensor c = like(t);
        backend.copy(t, c);
        return c;
    }

    @Override
    public void close() {
        for (int i = tensors.size() - 1; i >= 0; i--) tensors.get(i).close();
        tensors.clear();
    }
}
