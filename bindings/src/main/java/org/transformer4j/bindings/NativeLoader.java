// NativeLoader — finds libt4j.so and t4j.fatbin inside the native jar, extracts them atomically to
// a cache folder keyed by their content hash (reused by later runs), and loads the library.
package org.transformer4j.bindings;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Loads the native library once per JVM.
 *
 * <p>The cache folder is {@code -Dt4j.native.cache}, else {@code $T4J_NATIVE_CACHE}, else
 * {@code $XDG_CACHE_HOME/transformer4j} or {@code ~/.cache/transformer4j}. A library outside the jar
 * can be forced with {@code -Dt4j.native.dir=DIR} (a folder holding libt4j.so and, optionally,
 * t4j.fatbin and t4j.kernels).
 */
public final class NativeLoader {

    /** Files of the native jar, in the order they are hashed. */
    private static final String[] FILES = {"libt4j.so", "t4j.fatbin", "t4j.kernels"};

    private static volatile Loaded loaded;
    private static volatile RuntimeException failure;

    private NativeLoader() {}

    /** The loaded library: its folder and symbols. */
    public record Loaded(Path directory, SymbolLookup symbols) {
        public Path library() { return directory.resolve("libt4j.so"); }

        /** t4j.fatbin of this build, if nvcc compiled one. */
        public Optional<Path> fatbin() {
            Path p = directory.resolve("t4j.fatbin");
            return Files.isRegularFile(p) ? Optional.of(p) : Optional.empty();
        }

        /** The kernel manifest (name, arch, registers, spills, ...) as TSV, if there are kernels. */
        public Optional<Path> kernelManifest() {
            Path p = directory.resolve("t4j.kernels");
            return Files.isRegularFile(p) ? Optional.of(p) : Optional.empty();
        }
    }

    /** The platform folder name inside the jar, e.g. {@code linux-x86_64}. */
    public static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String o = os.contains("linux") ? "linux" : os.replaceAll("\\W", "");
        String a = switch (arch) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> arch;
        };
        return o + "-" + a;
    }

    /**
     * Loads libt4j (extracting it on first use) and returns it.
     *
     * @throws NativeLoadException naming what is missing when the jar has no library for this
     *     platform or it cannot be loaded
     */
    public static Loaded load() {
        Loaded l = loaded;
        if (l != null) return l;
        synchronized (NativeLoader.class) {
            if (loaded != null) return loaded;
            if (failure != null) throw failure;
            try {
                Path dir = locate();
                SymbolLookup symbols;
                try {
                    symbols = SymbolLookup.libraryLookup(dir.resolve("libt4j.so"), Arena.global());
                } catch (IllegalArgumentException e) {
                    throw new NativeLoadException("cannot load " + dir.resolve("libt4j.so") + ": " + e.getMessage());
                }
                loaded = new Loaded(dir, symbols);
                return loaded;
            } catch (RuntimeException e) {
                failure = e;
                throw e;
            }
        }
    }

    private static Path locate() {
        String forced = System.getProperty("t4j.native.dir");
        if (forced != null && !forced.isBlank()) {
            Path dir = Path.of(forced);
            if (!Files.isRegularFile(dir.resolve("libt4j.so"))) {
                throw new NativeLoadException("-Dt4j.native.dir=" + forced + " holds no libt4j.so");
            }
            return dir;
        }
        String prefix = "/org/transformer4j/native/" + platform() + "/";
        Map<String, byte[]> contents = new LinkedHashMap<>();
        for (String name : FILES) {
            try (InputStream in = NativeLoader.class.getResourceAsStream(prefix + name)) {
                if (in != null) contents.put(name, in.readAllBytes());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + prefix + name + " from the native jar", e);
            }
        }
        if (!contents.containsKey("libt4j.so")) {
            throw new NativeLoadException("transformer4j has no native library for " + platform()
                    + " (no " + prefix + "libt4j.so on the class path; is transformer4j-native a dependency?)");
        }
        Path dir = cacheRoot().resolve(hash(contents));
        if (Files.isRegularFile(dir.resolve("libt4j.so"))) return dir;
        extract(dir, contents);
        return dir;
    }

    /** Writes the files into a temporary sibling folder, then renames it into place atomically. */
    static void extract(Path dir, Map<String, byte[]> contents) {
        try {
            Files.createDirectories(dir.getParent());
            Path tmp = Files.createTempDirectory(dir.getParent(), dir.getFileName() + ".tmp");
            try {
                for (var e : contents.entrySet()) Files.write(tmp.resolve(e.getKey()), e.getValue());
                try {
                    Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
                } catch (IOException raced) {
                    // Another process renamed its identical, complete copy into place first (Linux
                    // reports that as "Directory not empty"); a folder that exists is complete.
                    if (!Files.isRegularFile(dir.resolve("libt4j.so"))) throw raced;
                }
            } finally {
                deleteRecursively(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract the native library to " + dir
                    + " (set -Dt4j.native.cache to a writable folder)", e);
        }
    }

    static Path cacheRoot() {
        String p = System.getProperty("t4j.native.cache");
        if (p == null || p.isBlank()) p = System.getenv("T4J_NATIVE_CACHE");
        if (p != null && !p.isBlank()) return Path.of(p);
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("transformer4j");
    }

    private static String hash(Map<String, byte[]> contents) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (var e : contents.entrySet()) {
                md.update(e.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                md.update(e.getValue());
            }
            return HexFormat.of().formatHex(md.digest(), 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("SHA-256 is required of every JVM", e);
        }
    }

    private static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        }
    }

    /** The native library is missing or cannot be loaded. */
    public static final class NativeLoadException extends RuntimeException {
        public NativeLoadException(String message) { super(message); }
    }
}
