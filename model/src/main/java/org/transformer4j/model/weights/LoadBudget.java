// LoadBudget — refuses, before anything is allocated, a checkpoint that the backend cannot hold:
// the message names the file(s) and the bytes, instead of a heap OutOfMemoryError naming nothing,
// the kernel's OOM killer, or a device allocation failing half way through a load.
package org.transformer4j.model.weights;

import java.nio.file.Path;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.HostMemory;
import org.transformer4j.runtime.Uploader;

/**
 * The bytes a load makes are the tensors' elements in the dtype they are loaded in (floating
 * tensors in {@code dtype}, others as stored). The rule: on CUDA they must fit in the device's free
 * memory (plus what the allocator caches); on the CPU they must fit in the machine's physical memory
 * (MemTotal), and when every tensor is converted (stored dtype ≠ {@code dtype}, so none can stay a
 * view of the mapped file) in its available memory (MemAvailable). Where the platform does not say,
 * nothing is refused. {@code -Dt4j.load.checkMemory=false} turns the check off.
 */
public final class LoadBudget {

    private LoadBudget() {}

    /** The bytes {@code keys} of {@code ck} take loaded as {@code dtype}; ArithmeticException on overflow. */
    public static long bytes(SafetensorsCheckpoint ck, Collection<String> keys, DType dtype) {
        long total = 0;
        for (String k : keys) total = Math.addExact(total, bytes(ck.entry(k), dtype));
        return total;
    }

    /** The bytes one stored tensor takes loaded as {@code dtype} (floating tensors in dtype, others as stored). */
    public static long bytes(TensorEntry e, DType dtype) {
        boolean floating = e.dtype().runtimeType().map(DType::isFloatingPoint).orElse(false);
        if (!floating) return e.byteSize();
        return Math.multiplyExact(e.numel(), dtype.byteSize());
    }

    /** Throws naming {@code where}, the checkpoint's files and the bytes when {@code backend} cannot take {@code keys}. */
    public static void check(SafetensorsCheckpoint ck, Collection<String> keys, Path where, Backend backend, DType dtype)
            throws CheckpointException {
        if (!Boolean.parseBoolean(System.getProperty("t4j.load.checkMemory", "true"))) return;
        long need;
        try {
            need = bytes(ck, keys, dtype);
        } catch (ArithmeticException e) {
            throw new CheckpointException(where, "the tensors of " + files(ck) + " loaded as " + dtype
                    + " take more than 2^63 bytes");
        }
        boolean allConverted = keys.stream().allMatch(k -> ck.entry(k).dtype().runtimeType().orElse(null) != dtype);
        check(need, allConverted, ck, where, backend, dtype);
    }

    /**
     * The same for a load that makes {@code need} bytes (a loader that dequantizes or keeps 4-bit weights counts what it
     * makes); {@code allConverted}: no tensor can stay a view of the mapped file.
     */
    public static void check(long need, boolean allConverted, SafetensorsCheckpoint ck, Path where, Backend backend, DType dtype)
            throws CheckpointException {
        if (!Boolean.parseBoolean(System.getProperty("t4j.load.checkMemory", "true"))) return;
        if (backend.device().isCuda()) {
            long free;
            try (Uploader u = backend.uploader()) {
                free = u.availableBytes();
            }
            if (free >= 0 && need > free) {
                throw new CheckpointException(where, files(ck) + " loaded as " + dtype + " take " + bytes(need)
                        + " but " + backend.device().name() + " has " + bytes(free) + " free");
            }
            return;
        }
        long total = HostMemory.total();
        if (total >= 0 && need > total) {
            throw new CheckpointException(where, files(ck) + " loaded as " + dtype + " take " + bytes(need)
                    + ", more than this machine's memory (" + bytes(total) + ")");
        }
        long available = HostMemory.available();
        if (allConverted && available >= 0 && need > available) {
            throw new CheckpointException(where, files(ck) + " converted to " + dtype + " take " + bytes(need)
                    + " but this machine has " + bytes(available) + " available");
        }
    }

    /** "model.safetensors (1,234 bytes)" or "3 files of 5,000 bytes (largest model-00001-of-00003.safetensors, 2,000 bytes)". */
    static String files(SafetensorsCheckpoint ck) {
        List<SafetensorsFile> fs = ck.files();
        if (fs.size() == 1) return fs.get(0).path() + " (" + bytes(size(fs.get(0))) + ")";
        SafetensorsFile largest = fs.stream().max(Comparator.comparingLong(LoadBudget::size)).orElseThrow();
        long sum = 0;
        for (SafetensorsFile f : fs) sum += size(f);
        return fs.size() + " files of " + bytes(sum) + " (largest " + largest.path() + ", " + bytes(size(largest)) + ")";
    }

    private static long size(SafetensorsFile f) {
        long s = 0;
        for (TensorEntry e : f.entries()) s += e.byteSize();
        return s;
    }

    static String bytes(long n) {
        return String.format(Locale.ROOT, "%,d bytes", n);
    }
}
