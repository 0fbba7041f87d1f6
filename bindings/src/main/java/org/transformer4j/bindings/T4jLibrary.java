// T4jLibrary — the Java face of libt4j: checks its ABI version on load, reads its build
// information and kernel manifest, hands it the fatbin, and turns statuses into exceptions.
package org.transformer4j.bindings;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Entry point to libt4j for the runtime; every method loads the library on first use. */
public final class T4jLibrary {

    private T4jLibrary() {}

    /** What libt4j says about its own build. */
    public record BuildInfo(int abiVersion, boolean hasKernels, int cudaVersion, int minDriverVersion,
                            List<String> archs, String nvccVersion, String compiler) {

        /** One line for {@code t4j info}. */
        public String kernelsLine() {
            if (!hasKernels) return "no CUDA kernels in this build (nvcc not found when it was built)";
            return "CUDA kernels for " + String.join(" ", archs) + " (nvcc " + nvccVersion + ")";
        }
    }

    /** One line of the kernel manifest: a kernel compiled for one arch, with its ptxas resource use. */
    public record KernelInfo(String name, String arch, int registers, long spillStores, long spillLoads,
                             long stackBytes, long sharedBytes) {}

    private static final class Loaded {
        static final BuildInfo INFO = init();
    }

    private static BuildInfo init() {
        NativeLoader.load();
        int abi = t4j_h.t4j_abi_version();
        if (abi != t4j_h.T4J_ABI_VERSION) {
            throw new NativeLoader.NativeLoadException("libt4j.so has ABI version " + abi + " but these bindings were"
                    + " written for " + t4j_h.T4J_ABI_VERSION + "; transformer4j-native and -bindings must be the same version");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = t4j_build_info.allocate(arena);
            check(t4j_h.t4j_build_info_get(s), "t4j_build_info_get");
            String archs = cString(t4j_build_info.archs(s));
            return new BuildInfo(t4j_build_info.abi_version(s), t4j_build_info.has_kernels(s) != 0,
                    t4j_build_info.cuda_version(s), t4j_build_info.min_driver_version(s),
                    archs.isBlank() ? List.of() : List.of(archs.trim().split("\\s+")),
                    cString(t4j_build_info.nvcc_version(s)), cString(t4j_build_info.compiler(s)));
        }
    }

    /** Loads libt4j (checking its ABI version) and returns its build information. */
    public static BuildInfo buildInfo() { return Loaded.INFO; }

    /** The English description of a libt4j status. */
    public static String statusString(int status) {
        buildInfo();
        return t4j_h.t4j_status_string(status).reinterpret(Long.MAX_VALUE).getString(0);
    }

    /** Throws {@link T4jException} naming {@code op} unless {@code status} is success. */
    public static void check(int status, String op) {
        if (status != t4j_h.T4J_SUCCESS) throw new T4jException(op, status, statusString(status));
    }

    /**
     * Opens the driver through libt4j and returns {@code cuDriverGetVersion()} (0 without a driver).
     * Throws T4jException with the reason when the driver is missing or too old for the kernels.
     */
    public static int initDriver() {
        buildInfo();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment version = arena.allocate(ValueLayout.JAVA_INT);
            int status = t4j_h.t4j_driver_init(version);
            int v = version.get(ValueLayout.JAVA_INT, 0);
            if (status == t4j_h.T4J_ERROR_DRIVER_TOO_OLD) {
                throw new T4jException("t4j_driver_init", status, "the CUDA driver supports CUDA " + cudaVersionString(v)
                        + ", but this build's kernels need CUDA " + cudaVersionString(buildInfo().minDriverVersion())
                        + " (driver 580 or newer for CUDA 13): update the NVIDIA driver");
            }
            check(status, "t4j_driver_init");
            return v;
        }
    }

    private static volatile boolean fatbinGiven;

    /** Hands libt4j this build's t4j.fatbin once. Throws T4jException when the build has none. */
    public static void loadFatbin() {
        if (fatbinGiven) return;
        synchronized (T4jLibrary.class) {
            if (fatbinGiven) return;
            Path fatbin = NativeLoader.load().fatbin().orElseThrow(() -> new T4jException("t4j_set_fatbin",
                    t4j_h.T4J_ERROR_NO_KERNELS, buildInfo().kernelsLine()));
            try (Arena arena = Arena.ofConfined()) {
                byte[] bytes = Files.readAllBytes(fatbin);
                MemorySegment image = arena.allocate(bytes.length, 16);
                MemorySegment.copy(bytes, 0, image, ValueLayout.JAVA_BYTE, 0, bytes.length);
                check(t4j_h.t4j_set_fatbin(image, bytes.length), "t4j_set_fatbin");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + fatbin, e);
            }
            fatbinGiven = true;
        }
    }

    /** The kernels compiled into t4j.fatbin, one entry per kernel and arch; empty without kernels. */
    public static List<KernelInfo> kernels() {
        Optional<Path> manifest = NativeLoader.load().kernelManifest();
        if (manifest.isEmpty()) return List.of();
        try {
            List<KernelInfo> out = new ArrayList<>();
            List<String> lines = Files.readAllLines(manifest.get());
            for (String line : lines.subList(1, lines.size())) {
                if (line.isBlank()) continue;
                String[] f = line.split("\t");
                if (f.length != 7) throw new IllegalStateException(manifest.get() + ": malformed line '" + line + "'");
                out.add(new KernelInfo(f[0], f[1], Integer.parseInt(f[2]), Long.parseLong(f[3]), Long.parseLong(f[4]),
                        Long.parseLong(f[5]), Long.parseLong(f[6])));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + manifest.get(), e);
        }
    }

    /** "13.0" for 13000. */
    public static String cudaVersionString(int v) {
        return v <= 0 ? "none" : (v / 1000) + "." + (v % 1000) / 10;
    }

    static String cString(MemorySegment chars) {
        return chars.getString(0);
    }
}
