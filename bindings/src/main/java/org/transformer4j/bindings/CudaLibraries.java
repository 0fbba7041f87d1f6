// CudaLibraries — opens the NVIDIA shared libraries the bindings call: the driver (libcuda.so.1)
// and cuBLAS, found at run time by soname (13, then 12) in the usual CUDA and Python-wheel folders.
package org.transformer4j.bindings;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The driver and cuBLAS, each opened once. Where one is missing, calls through {@link cuda_h} or
 * {@link cublas_h} throw {@link UnsatisfiedLinkError} with the reason, and the {@code *Problem()}
 * methods say it without throwing.
 *
 * <p>cuBLAS: {@code -Dt4j.cublas=PATH} or {@code $T4J_CUBLAS} (a file, or a folder holding it) wins;
 * then {@code libcublas.so.13} and {@code libcublas.so.12} by soname (LD_LIBRARY_PATH, ld.so.cache);
 * then CUDA toolkit folders and the {@code nvidia/cublas/lib} / {@code nvidia/cu13/lib} folders of
 * pip wheels in common Python prefixes. JCublas is not used: 12.6 links against libcublas.so.12 with
 * versioned symbols and cannot load on CUDA 13 machines.
 */
public final class CudaLibraries {

    private CudaLibraries() {}

    private static final String[] CUBLAS_SONAMES = {"libcublas.so.13", "libcublas.so.12"};

    private record Opened(SymbolLookup lookup, String location, String problem) {}

    private static final class Driver {
        static final Opened OPENED = openDriver();
    }

    private static final class Cublas {
        static final Opened OPENED = openCublas();
    }

    /** libcuda.so.1's symbols; throws UnsatisfiedLinkError with the reason when it is missing. */
    public static SymbolLookup driver() {
        Opened o = Driver.OPENED;
        if (o.lookup == null) throw new UnsatisfiedLinkError(o.problem);
        return o.lookup;
    }

    public static Optional<String> driverProblem() { return Optional.ofNullable(Driver.OPENED.problem); }

    /** cuBLAS's symbols; throws UnsatisfiedLinkError with the reason when it is missing. */
    public static SymbolLookup cublas() {
        Opened o = Cublas.OPENED;
        if (o.lookup == null) throw new UnsatisfiedLinkError(o.problem);
        return o.lookup;
    }

    public static Optional<String> cublasProblem() { return Optional.ofNullable(Cublas.OPENED.problem); }

    /** Where cuBLAS was found (a path or a soname), if it was. */
    public static Optional<String> cublasLocation() { return Optional.ofNullable(Cublas.OPENED.location); }

    private static Opened openDriver() {
        try {
            return new Opened(SymbolLookup.libraryLookup("libcuda.so.1", Arena.global()), "libcuda.so.1", null);
        } catch (IllegalArgumentException e) {
            return new Opened(null, null, "no CUDA driver: libcuda.so.1 could not be opened");
        }
    }

    private static Opened openCublas() {
        String forced = System.getProperty("t4j.cublas");
        if (forced == null || forced.isBlank()) forced = System.getenv("T4J_CUBLAS");
        if (forced != null && !forced.isBlank()) {
            Path p = Path.of(forced);
            List<Path> candidates = Files.isDirectory(p)
                    ? List.of(p.resolve(CUBLAS_SONAMES[0]), p.resolve(CUBLAS_SONAMES[1])) : List.of(p);
            for (Path c : candidates) {
                Opened o = openFile(c);
                if (o != null) return o;
            }
            return new Opened(null, null, "cuBLAS not found at " + forced + " (from -Dt4j.cublas or T4J_CUBLAS)");
        }
        for (String soname : CUBLAS_SONAMES) {
            try {
                return new Opened(SymbolLookup.libraryLookup(soname, Arena.global()), soname, null);
            } catch (IllegalArgumentException notOnLoaderPath) {
                // try the next soname, then the folders below
            }
        }
        for (String soname : CUBLAS_SONAMES) {
            for (Path dir : searchFolders()) {
                Opened o = openFile(dir.resolve(soname));
                if (o != null) return o;
            }
        }
        return new Opened(null, null, "cuBLAS not found (looked for libcublas.so.13 and libcublas.so.12 on the loader"
                + " path, in CUDA toolkit folders and in Python wheels; set T4J_CUBLAS to its path)");
    }

    /** Opens a cuBLAS file, loading the cublasLt beside it first so that its soname dependency resolves. */
    private static Opened openFile(Path lib) {
        if (!Files.isRegularFile(lib)) return null;
        String lt = lib.getFileName().toString().replace("libcublas.", "libcublasLt.");
        Path ltPath = lib.resolveSibling(lt);
        try {
            if (Files.isRegularFile(ltPath)) SymbolLookup.libraryLookup(ltPath, Arena.global());
            return new Opened(SymbolLookup.libraryLookup(lib, Arena.global()), lib.toString(), null);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static List<Path> searchFolders() {
        List<Path> dirs = new ArrayList<>();
        String cudaHome = System.getenv("CUDA_HOME");
        if (cudaHome == null) cudaHome = System.getenv("CUDA_PATH");
        if (cudaHome != null) {
            dirs.add(Path.of(cudaHome, "lib64"));
            dirs.add(Path.of(cudaHome, "targets/x86_64-linux/lib"));
        }
        dirs.add(Path.of("/usr/local/cuda/lib64"));
        dirs.add(Path.of("/usr/local/cuda/targets/x86_64-linux/lib"));
        addGlob(dirs, Path.of("/usr/local"), "cuda-*", "lib64");
        dirs.add(Path.of("/usr/lib/x86_64-linux-gnu"));
        List<Path> sitePackages = new ArrayList<>();
        for (String prefix : new String[] {"/usr/lib", "/usr/local/lib", "/opt/conda/lib",
                System.getProperty("user.home") + "/.local/lib"}) {
            addGlob(sitePackages, Path.of(prefix), "python3*", "site-packages");
            addGlob(sitePackages, Path.of(prefix), "python3*", "dist-packages");
        }
        String venv = System.getenv("VIRTUAL_ENV");
        if (venv != null) addGlob(sitePackages, Path.of(venv, "lib"), "python3*", "site-packages");
        for (Path sp : sitePackages) {
            dirs.add(sp.resolve("nvidia/cu13/lib"));
            dirs.add(sp.resolve("nvidia/cublas/lib"));
        }
        return dirs;
    }

    private static void addGlob(List<Path> out, Path parent, String glob, String child) {
        if (!Files.isDirectory(parent)) return;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(parent, glob)) {
            for (Path p : ds) out.add(p.resolve(child));
        } catch (IOException ignored) {
            // an unreadable folder is simply not searched
        }
    }
}
