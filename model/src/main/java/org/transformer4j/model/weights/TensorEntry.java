// TensorEntry — one tensor as a safetensors header describes it: name, dtype, shape and its byte
// range relative to the start of the data section.
package org.transformer4j.model.weights;

import java.util.Arrays;

/** A validated header entry; {@code begin}/{@code end} are byte offsets into the data section. */
public record TensorEntry(String name, SafetensorsDType dtype, long[] shape, long begin, long end) {

    public TensorEntry {
        shape = shape.clone();
    }

    @Override
    public long[] shape() { return shape.clone(); }

    public long byteSize() { return end - begin; }

    public long numel() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + Arrays.toString(shape) + " [" + begin + ", " + end + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorEntry e && name.equals(e.name) && dtype == e.dtype && Arrays.equals(shape, e.shape)
                && begin == e.begin && end == e.end;
    }

    @Override
    public int hashCode() { return name.hashCode() * 31 + Arrays.hashCode(shape); }
}
