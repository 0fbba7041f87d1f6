// HostMemory — what the operating system says about host memory: the machine's total and available
// bytes (/proc/meminfo) and this process's resident set and its peak (/proc/self/status), for load
// budgets and for `t4j info --model`. Linux only; elsewhere every value is -1 (unknown).
package org.transformer4j.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Values in bytes; -1 where the platform does not say. */
public final class HostMemory {

    private HostMemory() {}

    /** MemTotal: physical memory of the machine. */
    public static long total() { return kib(Path.of("/proc/meminfo"), "MemTotal:"); }

    /** MemAvailable: what the kernel estimates new allocations can take without swapping. */
    public static long available() { return kib(Path.of("/proc/meminfo"), "MemAvailable:"); }

    /** VmRSS: this process's resident set now. */
    public static long rss() { return kib(Path.of("/proc/self/status"), "VmRSS:"); }

    /** VmHWM: the peak of this process's resident set (since start, or since {@link #resetPeakRss}). */
    public static long peakRss() { return kib(Path.of("/proc/self/status"), "VmHWM:"); }

    /**
     * Resets VmHWM to the current resident set (Linux ≥ 4.0: "5" into /proc/self/clear_refs), so that
     * {@link #peakRss} measures what follows. Returns false where that is not possible.
     */
    public static boolean resetPeakRss() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false;
        }
    }

    private static long kib(Path file, String key) {
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.startsWith(key)) {
                    String[] p = line.substring(key.length()).trim().split("\\s+");
                    return Long.parseLong(p[0]) * (p.length > 1 && p[1].equalsIgnoreCase("kB") ? 1024 : 1);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
