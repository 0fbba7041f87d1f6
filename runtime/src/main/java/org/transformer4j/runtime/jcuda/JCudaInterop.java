// JCudaInterop — moves device pointers and streams between JCuda and transformer4j without
// copying, and loads t4j.fatbin through JCuda's module API for projects that launch kernels
// themselves. JCuda classes are touched only here, so the rest of transformer4j loads without it.
package org.transformer4j.runtime.jcuda;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;
import org.transformer4j.bindings.NativeLoader;
import org.transformer4j.bindings.T4jLibrary;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;
import org.transformer4j.runtime.cuda.Cuda;
import org.transformer4j.runtime.cuda.CudaDevice;
import org.transformer4j.runtime.cuda.Stream;

/**
 * Everything shares the device's primary context, so pointers and streams mean the same on both
 * sides. Wrapped objects are views: transformer4j never frees a JCuda pointer or destroys a JCuda
 * stream, and a JCuda pointer made from a tensor is valid only while that tensor is open.
 *
 * <p>JCuda exposes raw addresses only through protected members; they are read and written here
 * through private-access VarHandles on {@code NativePointerObject.nativePointer} and
 * {@code Pointer.byteOffset}, which the classpath (unnamed module) permits.
 */
public final class JCudaInterop {

    private JCudaInterop() {}

    private static final VarHandle NATIVE_POINTER;
    private static final VarHandle BYTE_OFFSET;

    static {
        try {
            NATIVE_POINTER = MethodHandles.privateLookupIn(NativePointerObject.class, MethodHandles.lookup())
                    .findVarHandle(NativePointerObject.class, "nativePointer", long.class);
            BYTE_OFFSET = MethodHandles.privateLookupIn(Pointer.class, MethodHandles.lookup())
                    .findVarHandle(Pointer.class, "byteOffset", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError("this JCuda version has no nativePointer/byteOffset fields: " + e);
        }
    }

    /** The device address a JCuda pointer refers to (its base plus {@code withByteOffset} offsets). */
    public static long address(CUdeviceptr p) {
        return (long) NATIVE_POINTER.get(p) + (long) BYTE_OFFSET.get(p);
    }

    /** The raw CUstream handle of a JCuda stream. */
    public static long address(CUstream s) {
        return (long) NATIVE_POINTER.get(s);
    }

    /**
     * A transformer4j tensor over memory a JCuda user allocated on {@code device}; closing it does not
     * free the memory. {@code byteSize} is the allocation's size from the pointer on, for bounds checks.
     */
    public static Tensor wrap(CudaDevice device, CUdeviceptr p, long byteSize, DType dtype, long... shape) {
        return Tensor.wrapDevice(device, address(p), byteSize, dtype, shape, () -> { });
    }

    /** A JCuda pointer to element 0 of a device tensor (valid while the tensor is open). */
    public static CUdeviceptr devicePointer(Tensor t) {
        CUdeviceptr p = new CUdeviceptr();
        NATIVE_POINTER.set(p, t.deviceAddress());
        return p;
    }

    /** A transformer4j view of a JCuda stream (never destroyed by transformer4j). */
    public static Stream wrap(CudaDevice device, CUstream s) {
        return Stream.wrap(device, address(s));
    }

    /** A JCuda view of a transformer4j stream (valid while the stream is open). */
    public static CUstream stream(Stream s) {
        CUstream js = new CUstream();
        NATIVE_POINTER.set(js, s.address());
        return js;
    }

    /**
     * Loads t4j.fatbin into {@code device}'s primary context through JCuda's {@code cuModuleLoadData}
     * and returns every kernel of the build's manifest by name.
     */
    public static Map<String, CUfunction> loadKernels(CudaDevice device) {
        Path fatbin = NativeLoader.load().fatbin()
                .orElseThrow(() -> new Cuda.CudaUnavailableException(T4jLibrary.buildInfo().kernelsLine()));
        byte[] image;
        try {
            image = Files.readAllBytes(fatbin);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + fatbin, e);
        }
        device.makeCurrent();
        CUmodule module = new CUmodule();
        try {
            check(JCudaDriver.cuModuleLoadData(module, image), "cuModuleLoadData(t4j.fatbin)");
            Map<String, CUfunction> kernels = new LinkedHashMap<>();
            for (T4jLibrary.KernelInfo k : T4jLibrary.kernels()) {
                if (kernels.containsKey(k.name())) continue;
                CUfunction f = new CUfunction();
                check(JCudaDriver.cuModuleGetFunction(f, module, k.name()), "cuModuleGetFunction(" + k.name() + ")");
                kernels.put(k.name(), f);
            }
            return kernels;
        } catch (LinkageError e) {
            throw new Cuda.CudaUnavailableException("JCuda could not load its native library: " + e.getMessage());
        }
    }

    private static void check(int result, String op) {
        if (result != 0) throw new IllegalStateException(op + " failed through JCuda: " + jcuda.driver.CUresult.stringFor(result));
    }
}
