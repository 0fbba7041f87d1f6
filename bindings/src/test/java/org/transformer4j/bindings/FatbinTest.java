// FatbinTest — reads t4j.fatbin's own headers and checks that it holds exactly the images the build
// says it compiled: one ELF cubin per sm_* arch (sm_90a marked arch-specific) and PTX per compute_*.
// Header layout (little-endian): file {u32 magic 0xBA55ED50, u16 version, u16 header size, u64 size},
// then entries {u16 kind (1 PTX, 2 ELF), u16 version, u32 header size, u64 padded payload size, ...,
// u32 sm at +28, u32 flags at +40}; flag 0x100000 marks an "a" (arch-specific) image (nvcc 13.0).
package org.transformer4j.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FatbinTest {

    private static final int MAGIC = 0xBA55ED50;
    private static final int ARCH_SPECIFIC = 0x100000;
    private static final int ELF_MAGIC = 0x7f454c46;   // "\x7fELF"
    private static final int ZSTD_MAGIC = 0x28b52ffd;  // a zstd frame, read big-endian

    @Test
    void holdsOneImagePerArchOfTheBuild() throws Exception {
        T4jLibrary.BuildInfo info = T4jLibrary.buildInfo();
        RequireKernels.assumeKernels(info);
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(NativeLoader.load().fatbin().orElseThrow()))
                .order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(MAGIC, b.getInt(0), "fatbin magic");
        int headerSize = Short.toUnsignedInt(b.getShort(6));
        long size = b.getLong(8);
        assertEquals(b.capacity(), headerSize + size, "fatbin size field");
        List<String> images = new ArrayList<>();
        long off = headerSize;
        while (off < headerSize + size) {
            int o = Math.toIntExact(off);
            int kind = Short.toUnsignedInt(b.getShort(o));
            int entryHeader = b.getInt(o + 4);
            long payload = b.getLong(o + 8);
            int sm = b.getInt(o + 28);
            int flags = b.getInt(o + 40);
            String a = (flags & ARCH_SPECIFIC) != 0 ? "a" : "";
            images.add(switch (kind) {
                case 1 -> "compute_" + sm + a;
                case 2 -> "sm_" + sm + a;
                default -> "unknown kind " + kind;
            });
            if (kind == 2) {
                // A cubin, stored as is or, once the images grow, zstd-compressed by fatbinary (whose
                // default compresses large images; the driver inflates them at load).
                int magic = ByteBuffer.wrap(b.array(), o + entryHeader, 4).getInt();
                assertTrue(magic == ELF_MAGIC || magic == ZSTD_MAGIC,
                        "sm_" + sm + " image starts with 0x" + Integer.toHexString(magic) + ", neither ELF nor a zstd frame");
            }
            off += entryHeader + payload;
        }
        assertEquals(info.archs(), images);
    }
}
