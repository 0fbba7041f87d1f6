// LoadReport — `t4j info --model DIR`: loads a model folder once and prints what the load cost: wall
// time, the process's peak resident set during the load (VmHWM, reset before it where Linux allows),
// heap allocated and used, and how much of the model stayed a view of the mapped file.
package org.transformer4j.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.transformer4j.model.Pretrained;
import org.transformer4j.model.Weights;
import org.transformer4j.model.weights.SafetensorsCheckpoint;
import org.transformer4j.model.weights.TensorEntry;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.HostMemory;
import org.transformer4j.runtime.Tensor;
import org.transformer4j.runtime.Uploader;

final class LoadReport {

    private LoadReport() {}

    static void print(PrintStream out, Path dir, Backend backend, DType dtype) throws IOException {
        ModelInputs.checkModelFolder(dir);
        Map<String, Long> stored = new TreeMap<>();
        long storedBytes = 0;
        int files;
        try (SafetensorsCheckpoint ck = SafetensorsCheckpoint.open(dir)) {   // headers only
            files = ck.files().size();
            for (String n : ck.names()) {
                TensorEntry e = ck.entry(n);
                stored.merge(e.dtype().name(), e.byteSize(), Long::sum);
                storedBytes += e.byteSize();
            }
        }
        List<MemoryPoolMXBean> heapPools = ManagementFactory.getMemoryPoolMXBeans().stream()
                .filter(p -> p.getType() == MemoryType.HEAP).toList();
        long rssBefore = HostMemory.rss();
        boolean reset = HostMemory.resetPeakRss();
        heapPools.forEach(MemoryPoolMXBean::resetPeakUsage);
        long allocBefore = allocated();
        long t0 = System.nanoTime();
        try (Weights w = Pretrained.load(dir, backend, dtype)) {
            backend.synchronize();
            double seconds = (System.nanoTime() - t0) / 1e9;
            long alloc = allocated() - allocBefore;
            long peak = HostMemory.peakRss(), rssAfter = HostMemory.rss();
            long heapPeak = 0;
            for (MemoryPoolMXBean p : heapPools) heapPeak += p.getPeakUsage().getUsed();
            long heapUsed = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            long heapMax = Runtime.getRuntime().maxMemory();
            long bytes = 0, viewBytes = 0;
            int views = 0;
            for (Tensor t : w.parameters().values()) {
                long b = t.numel() * t.dtype().byteSize();
                bytes += b;
                if (Uploader.isView(t)) {
                    views++;
                    viewBytes += b;
                }
            }
            out.println("model:    " + dir + " — " + w.config.architecture().name().toLowerCase(Locale.ROOT) + ", "
                    + String.format(Locale.ROOT, "%,d", w.parameterCount()) + " parameters, " + mb(bytes) + " as "
                    + ModelInputs.name(dtype) + "; stored " + stored.keySet() + " in " + files + " file(s), " + mb(storedBytes));
            out.println(String.format(Locale.ROOT, "load:     %.2f s on %s (%.0f MB/s of checkpoint)", seconds, backend.description(),
                    storedBytes / 1e6 / seconds));
            out.println("memory:   peak RSS " + (rss(peak)) + (reset ? " during the load" : " of the process (VmHWM; could not reset it)")
                    + ", " + rss(rssBefore) + " before it, " + rss(rssAfter) + " after");
            out.println("heap:     " + mb(alloc) + " allocated during the load, peak used " + mb(heapPeak) + " (sum of pool peaks),"
                    + " used now " + mb(heapUsed) + " of " + mb(heapMax));
            List<org.transformer4j.runtime.Int4> packed = w.packed();
            if (!packed.isEmpty()) {
                long pb = 0, dense = 0;
                for (var q : packed) {
                    dense += 2 * q.rows() * q.cols();
                    pb += q.bytes();
                }
                out.println("4-bit:    " + packed.size() + " projections kept as the AWQ / GPTQ folder packs them, " + mb(pb)
                        + " (" + mb(dense) + " in 16 bits; -Dt4j.quant=dequantize for those)");
            }
            if (views > 0) {
                out.println("mapped:   " + views + " tensors (" + mb(viewBytes) + ") are views of the memory-mapped file, not copies;"
                        + " their pages are read on first use");
            }
        }
    }

    /** Heap bytes allocated by all threads so far, or -1 where the JVM does not count them. */
    private static long allocated() {
        if (ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t && t.isThreadAllocatedMemorySupported()) {
            return t.getTotalThreadAllocatedBytes();
        }
        return -1;
    }

    private static String rss(long bytes) { return bytes < 0 ? "unknown" : mb(bytes); }

    private static String mb(long bytes) { return String.format(Locale.ROOT, "%,.1f MB", bytes / 1e6); }
}
