// t4j_build_info — layout and accessors of struct t4j_build_info (native/include/t4j.h),
// in jextract's shape. StructLayoutTest checks it against the offsets libt4j reports.
package org.transformer4j.bindings;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;

@SuppressWarnings("checkstyle:TypeName")
public final class t4j_build_info {

    private t4j_build_info() {}

    private static final GroupLayout $LAYOUT = MemoryLayout.structLayout(
            JAVA_INT.withName("abi_version"),
            JAVA_INT.withName("has_kernels"),
            JAVA_INT.withName("cuda_version"),
            JAVA_INT.withName("min_driver_version"),
            MemoryLayout.sequenceLayout(128, JAVA_BYTE).withName("archs"),
            MemoryLayout.sequenceLayout(128, JAVA_BYTE).withName("nvcc_version"),
            MemoryLayout.sequenceLayout(128, JAVA_BYTE).withName("compiler"))
        .withName("t4j_build_info");

    public static GroupLayout layout() { return $LAYOUT; }

    public static long sizeof() { return $LAYOUT.byteSize(); }

    public static MemorySegment allocate(SegmentAllocator allocator) { return allocator.allocate($LAYOUT); }

    private static long offset(String field) { return $LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement(field)); }

    private static final long abi_version$OFFSET = offset("abi_version");
    private static final long has_kernels$OFFSET = offset("has_kernels");
    private static final long cuda_version$OFFSET = offset("cuda_version");
    private static final long min_driver_version$OFFSET = offset("min_driver_version");
    private static final long archs$OFFSET = offset("archs");
    private static final long nvcc_version$OFFSET = offset("nvcc_version");
    private static final long compiler$OFFSET = offset("compiler");

    public static int abi_version(MemorySegment s) { return s.get(JAVA_INT, abi_version$OFFSET); }
    public static int has_kernels(MemorySegment s) { return s.get(JAVA_INT, has_kernels$OFFSET); }
    public static int cuda_version(MemorySegment s) { return s.get(JAVA_INT, cuda_version$OFFSET); }
    public static int min_driver_version(MemorySegment s) { return s.get(JAVA_INT, min_driver_version$OFFSET); }
    /** The char[128] field as a slice. */
    public static MemorySegment archs(MemorySegment s) { return s.asSlice(archs$OFFSET, 128); }
    public static MemorySegment nvcc_version(MemorySegment s) { return s.asSlice(nvcc_version$OFFSET, 128); }
    public static MemorySegment compiler(MemorySegment s) { return s.asSlice(compiler$OFFSET, 128); }
}
