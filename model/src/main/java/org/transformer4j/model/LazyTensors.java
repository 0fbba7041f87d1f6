// LazyTensors — a loader's name → tensor map whose made tensors (gpt-oss's decoded experts, FP8 weights dequantized) are
// made when the loader asks for them, one alive at a time.
package org.transformer4j.model;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.transformer4j.runtime.Int4;
import org.transformer4j.runtime.Tensor;

/**
 * The checkpoint's tensors, and tensors made from them when the loader first asks for them: the last one made is closed
 * when the next is made (the loader has copied it by then: a made tensor is never a view of the mapped file, so the
 * uploader copies it) and the rest by {@link #close}, so that one converted tensor at a time lives on the host
 * (gpt-oss-20b: a layer's gate_up is 32 × 5760 × 2880 F32, 2.1 GB). A made tensor must not be viewed by another entry
 * (a split or flattened view would outlive it): the loaders refuse those layouts where they make tensors.
 */
final class LazyTensors extends HashMap<String, Tensor> implements AutoCloseable {
    private final Map<String, Supplier<Tensor>> pending = new HashMap<>();
    /** Tensors that may instead be taken in 4 bits ({@link #pack}): an AWQ / GPTQ folder's projections. */
    private final Map<String, Supplier<Int4>> packable = new HashMap<>();
    private Tensor made;

    LazyTensors(Map<String, Tensor> stored) { super(stored); }

    /** {@code key} made by {@code make} when first asked for. */
    void later(String key, Supplier<Tensor> make) {
        pending.put(key, make);
        super.put(key, null);
    }

    /** {@code key}, made by {@link #later}, may be taken in 4 bits instead, as {@code pack} makes it. */
    void packable(String key, Supplier<Int4> pack) { packable.put(key, pack); }

    /** Whether {@code key} may be taken in 4 bits (not yet taken either way). */
    boolean packs(String key) { return packable.containsKey(key) && pending.containsKey(key); }

    /**
     * {@code key} in 4 bits, on the host: the caller owns its codes and zero points (the scales view the checkpoint);
     * the dequantized tensor is then never made.
     */
    Int4 pack(String key) {
        Supplier<Int4> p = packable.remove(key);
        if (p == null || pending.remove(key) == null) throw new IllegalStateException(key + " cannot be taken in 4 bits");
        return p.get();
    }

    @Override
    public Tensor get(Object key) {
        Supplier<Tensor> make = pending.remove(key);
        if (make != null) {
            if (made != null) made.close();
            made = make.get();
            super.put((String) key, made);
        }
        return super.get(key);
    }

    /**
     * {@code f} of the tensor under {@code key}, for a tensor made from another one: a pending tensor is made for this
     * alone and closed once {@code f} returns (it is then gone from the map), so that making from made tensors (an FP8
     * weight dequantized, then reshaped) keeps one of each alive; a stored tensor is passed as it is.
     */
    <T> T with(String key, java.util.function.Function<Tensor, T> f) {
        Supplier<Tensor> make = pending.remove(key);
        if (make == null) return f.apply(super.get(key));
        super.remove(key);
        try (Tensor t = make.get()) {
            return f.apply(t);
        }
    }

    @Override
    public void close() {
        if (made != null) made.close();
        made = null;
    }
}
