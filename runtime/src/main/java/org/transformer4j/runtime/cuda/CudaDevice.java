// CudaDevice — one GPU: its properties and its primary context, which every transformer4j call,
// cuBLAS and JCuda share.
package org.transformer4j.runtime.cuda;

import static org.transformer4j.bindings.cuda_h.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR;
import static org.transformer4j.bindings.cuda_h.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR;
import static org.transformer4j.bindings.cuda_h.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.transformer4j.bindings.cuda_h;
import org.transformer4j.runtime.Device;

/** Obtained with {@link #get(int)}; one instance per ordinal, holding the retained primary context. */
public final class CudaDevice implements Device {

    private static final ConcurrentMap<Integer, CudaDevice> DEVICES = new ConcurrentHashMap<>();

    private final int ordinal;
    private final int handle;
    private final String gpuName;
    private final int ccMajor;
    private final int ccMinor;
    private final int smCount;
    private final long totalBytes;
    private final MemorySegment context;

    private CudaDevice(int ordinal) {
        this.ordinal = ordinal;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment i = arena.allocate(ValueLayout.JAVA_INT);
            Cuda.check(cuda_h.cuDeviceGet(i, ordinal), "cuDeviceGet(" + ordinal + ")");
            handle = i.get(ValueLayout.JAVA_INT, 0);
            MemorySegment name = arena.allocate(256);
            Cuda.check(cuda_h.cuDeviceGetName(name, 256, handle), "cuDeviceGetName");
            gpuName = name.getString(0);
            ccMajor = attribute(arena, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
            ccMinor = attribute(arena, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
            smCount = attribute(arena, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
            MemorySegment bytes = arena.allocate(ValueLayout.JAVA_LONG);
            Cuda.check(cuda_h.cuDeviceTotalMem_v2(bytes, handle), "cuDeviceTotalMem");
            totalBytes = bytes.get(ValueLayout.JAVA_LONG, 0);
            MemorySegment ctx = arena.allocate(ValueLayout.ADDRESS);
            Cuda.check(cuda_h.cuDevicePrimaryCtxRetain(ctx, handle), "cuDevicePrimaryCtxRetain");
            context = ctx.get(ValueLayout.ADDRESS, 0);
        }
    }

    private int attribute(Arena arena, int attr) {
        MemorySegment v = arena.allocate(ValueLayout.JAVA_INT);
        Cuda.check(cuda_h.cuDeviceGetAttribute(v, attr, handle), "cuDeviceGetAttribute(" + attr + ")");
        return v.get(ValueLayout.JAVA_INT, 0);
    }

    /** Device {@code ordinal}; throws {@link Cuda.CudaUnavailableException} where CUDA is unusable. */
    public static CudaDevice get(int ordinal) {
        int count = Cuda.deviceCount();
        if (ordinal < 0 || ordinal >= count) {
            throw new Cuda.CudaUnavailableException(count == 0 ? "the CUDA driver found no GPU"
                    : "no CUDA device " + ordinal + " (this machine has " + count + ")");
        }
        return DEVICES.computeIfAbsent(ordinal, CudaDevice::new);
    }

    /** Makes this device's primary context current on the calling thread (cheap; call before driver work). */
    public void makeCurrent() {
        Cuda.check(cuda_h.cuCtxSetCurrent(context), "cuCtxSetCurrent");
    }

    public int ordinal() { return ordinal; }

    public String gpuName() { return gpuName; }

    public int computeCapabilityMajor() { return ccMajor; }

    public int computeCapabilityMinor() { return ccMinor; }

    public int multiprocessorCount() { return smCount; }

    public long totalMemoryBytes() { return totalBytes; }

    /** The CUcontext (primary context). */
    public MemorySegment context() { return context; }

    /** Free and total device memory now (cuMemGetInfo). */
    public long[] memoryInfo() {
        makeCurrent();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment free = arena.allocate(ValueLayout.JAVA_LONG);
            MemorySegment total = arena.allocate(ValueLayout.JAVA_LONG);
            Cuda.check(cuda_h.cuMemGetInfo_v2(free, total), "cuMemGetInfo");
            return new long[] {free.get(ValueLayout.JAVA_LONG, 0), total.get(ValueLayout.JAVA_LONG, 0)};
        }
    }

    @Override public boolean isCuda() { return true; }

    @Override
    public String name() { return "cuda:" + ordinal; }

    @Override
    public String toString() {
        return String.format("cuda:%d %s (sm_%d%d, %d SMs, %.1f GiB)", ordinal, gpuName, ccMajor, ccMinor, smCount,
                totalBytes / (1024.0 * 1024 * 1024));
    }
}
