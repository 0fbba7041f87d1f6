// InfoCommand — `t4j info`: the backend chosen and why, GPUs, kernels compiled into this build,
// where cuBLAS was found, and the JVM features the CPU backend uses.
package org.transformer4j.cli;

import java.io.PrintStream;
import java.util.concurrent.Callable;
import org.transformer4j.bindings.CudaLibraries;
import org.transformer4j.bindings.NativeLoader;
import org.transformer4j.bindings.T4jLibrary;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.Backends;
import org.transformer4j.runtime.cuda.Cuda;
import org.transformer4j.runtime.cuda.CudaDevice;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show the backend, GPUs, compiled kernels and libraries found; with --model, what loading a model costs.")
final class InfoCommand implements Callable<Integer> {

    @Option(names = "--model", paramLabel = "DIR",
            description = "Also load this model folder once and print the load time and peak host memory (RSS, heap).")
    java.nio.file.Path model;

    @Option(names = "--dtype", defaultValue = "f32", paramLabel = "f32|f16|bf16",
            description = "The dtype --model is loaded in (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Override
    public Integer call() throws java.io.IOException {
        print(System.out);
        if (model != null) {
            org.transformer4j.runtime.DType dt = ModelInputs.dtype(dtype);
            try (Backend b = Backends.select()) {
                LoadReport.print(System.out, model, b, dt);
            }
        }
        return 0;
    }

    /** Prints the report; also the first part of `t4j demo`. */
    static void print(PrintStream out) {
        out.println("transformer4j " + new Main.Version().getVersion()[0].replace("transformer4j ", ""));
        out.println("java:     " + Runtime.version() + " (" + System.getProperty("java.vm.vendor") + "), "
                + Runtime.getRuntime().availableProcessors() + " CPU threads, Vector API "
                + (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent() ? "present" : "absent"));
        T4jLibrary.BuildInfo info;
        try {
            info = T4jLibrary.buildInfo();
        } catch (RuntimeException e) {
            out.println("native:   not loaded: " + Main.oneLine(e));
            out.println("backend:  cpu");
            return;
        }
        out.println("native:   " + NativeLoader.load().library() + " (ABI " + info.abiVersion() + ", " + info.compiler() + ")");
        out.println("kernels:  " + info.kernelsLine());
        if (info.hasKernels()) {
            out.println("          " + T4jLibrary.kernels().stream().map(T4jLibrary.KernelInfo::name).distinct().count()
                    + " kernels, built with CUDA " + T4jLibrary.cudaVersionString(info.cudaVersion())
                    + "; they need a driver for CUDA " + T4jLibrary.cudaVersionString(info.minDriverVersion())
                    + " or newer (R580+ for CUDA 13)");
        }
        try {
            int devices = Cuda.deviceCount();
            out.println("driver:   CUDA " + T4jLibrary.cudaVersionString(Cuda.driverVersion()) + ", " + devices + " GPU(s)");
            for (int i = 0; i < devices; i++) out.println("gpu:      " + CudaDevice.get(i));
        } catch (Cuda.CudaUnavailableException e) {
            out.println("driver:   " + e.getMessage());
        }
        out.println("cuBLAS:   " + CudaLibraries.cublasLocation().orElse(CudaLibraries.cublasProblem().orElse("?")));
        try (Backend b = Backends.select()) {
            // The reason is asked for only when auto fell back: probing creates a whole CUDA backend.
            String why = switch (System.getProperty("t4j.backend", "auto")) {
                case "auto" -> b.kind().equals("cuda") ? "CUDA is usable"
                        : "CUDA is not usable: " + Backends.cudaStatus().reason();
                default -> "asked for with -Dt4j.backend";
            };
            out.println("backend:  " + b.description() + " — " + why);
        }
    }
}
