// FiniteCheck — finds the first NaN or ±∞ in a checkpoint's floating tensors by their bit patterns
// (an all-ones exponent), reading the memory-mapped file in place: no copy, no conversion.
package org.transformer4j.model.weights;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Collection;

/** Used by {@code Pretrained.load}; see its {@code checkFinite} switch. */
public final class FiniteCheck {

    /** Checkpoints up to this many bytes are checked unless told otherwise (the scan reads each byte once, in place). */
    public static final long DEFAULT_LIMIT_BYTES = 4L << 30;

    private FiniteCheck() {}

    /**
     * Whether to check a checkpoint of {@code bytes}: {@code -Dt4j.checkWeights=always|never|auto}
     * (auto, the default: up to {@link #DEFAULT_LIMIT_BYTES}).
     */
    public static boolean wanted(long bytes) {
        String mode = System.getProperty("t4j.checkWeights", "auto");
        return switch (mode) {
            case "always" -> true;
            case "never" -> false;
            case "auto" -> bytes <= DEFAULT_LIMIT_BYTES;
            default -> throw new IllegalArgumentException("-Dt4j.checkWeights=" + mode + ": use always, never or auto");
        };
    }

    /**
     * A load's own choice (Pretrained.load's {@code checkFinite}: "on", "off", or "auto" by {@link #wanted}), bound while
     * the family loaders run, so that they check exactly the tensors their layouts match, where they match them.
     */
    private static final ScopedValue<String> CHOICE = ScopedValue.newInstance();

    /** Runs {@code load} with {@code checkFinite} (null: by size, {@link #wanted}) as the choice {@link #ifWanted} reads. */
    public static <T, X extends Throwable> T with(Boolean checkFinite, ScopedValue.CallableOp<T, X> load) throws X {
        return ScopedValue.where(CHOICE, checkFinite == null ? "auto" : checkFinite ? "on" : "off").call(load);
    }

    /**
     * {@link #check} over {@code storedNames} — the tensors a loader's layout matched, so buffers it never reads (Pythia's
     * float16 masked_bias, −inf) are not checked — when the bound choice (or, outside {@link #with}, the size) wants it.
     */
    public static void ifWanted(SafetensorsCheckpoint ck, Collection<String> storedNames) throws CheckpointException {
        String choice = CHOICE.isBound() ? CHOICE.get() : "auto";
        if (choice.equals("on") || choice.equals("auto") && wanted(bytes(ck))) check(ck, storedNames);
    }

    /** The total size of the checkpoint's files. */
    public static long bytes(SafetensorsCheckpoint ck) {
        long n = 0;
        for (SafetensorsFile f : ck.files()) for (TensorEntry e : f.entries()) n += e.byteSize();
        return n;
    }

    /** Throws naming the file, tensor and element of the first NaN or ±∞ among {@code storedNames}. */
    public static void check(SafetensorsCheckpoint ck, Collection<String> storedNames) throws CheckpointException {
        for (String name : storedNames) {
            SafetensorsFile f = null;
            for (SafetensorsFile g : ck.files()) if (g.contains(name)) f = g;
            if (f == null) continue;
            TensorEntry e = f.entry(name);
            MemorySegment seg = f.segment(name);
            long bad = firstNonFinite(seg, e.dtype().name());
            if (bad >= 0) {
                throw new CheckpointException(f.path(), "tensor '" + name + "' holds a non-finite value (NaN or ±inf) at element "
                        + bad + "; the model would produce NaN logits (load with -Dt4j.checkWeights=never to skip this check)");
            }
        }
    }

    /** The index of the first element of {@code seg} (dtype as in safetensors: F32, F16, BF16, F64) whose exponent bits are all ones, or −1. */
    static long firstNonFinite(MemorySegment seg, String dtype) {
        switch (dtype) {
            case "F32" -> {
                long n = seg.byteSize() / 4;
                for (long i = 0; i < n; i++) {
                    if ((seg.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i) & 0x7f800000) == 0x7f800000) return i;
                }
            }
            case "F16", "BF16" -> {
                int mask = dtype.equals("F16") ? 0x7c00 : 0x7f80;
                long n = seg.byteSize() / 2;
                for (long i = 0; i < n; i++) {
                    if ((seg.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i) & mask) == mask) return i;
                }
            }
            case "F64" -> {
                long n = seg.byteSize() / 8;
                for (long i = 0; i < n; i++) {
                    long bits = seg.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i);
                    if ((bits & 0x7ff0000000000000L) == 0x7ff0000000000000L) return i;
                }
            }
            default -> { }                                  // integer tensors hold no NaN
        }
        return -1;
    }
}
