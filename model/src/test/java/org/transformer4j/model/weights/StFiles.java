// StFiles — builds safetensors files byte by byte for the tests, including malformed ones.
package org.transformer4j.model.weights;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

final class StFiles {

    private StFiles() {}

    /** u64 LE length of {@code header} | header | data. */
    static byte[] bytes(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return bytes(h.length, h, data);
    }

    /** A declared header length that may lie about the header that follows. */
    static byte[] bytes(long declaredLength, byte[] header, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declaredLength).put(header).put(data);
        return b.array();
    }

    static Path write(Path dir, String name, byte[] content) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, content);
        return p;
    }
}
