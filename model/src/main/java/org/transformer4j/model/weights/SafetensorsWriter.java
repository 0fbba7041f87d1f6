// SafetensorsWriter — writes tensors as a safetensors file in the reference implementation's
// layout: tensors sorted by element size (largest first) then name, header padded with spaces so
// the data starts 8-byte aligned, written to a temporary file and moved into place.
package org.transformer4j.model.weights;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.transformer4j.runtime.Tensor;

/** Writes safetensors files (for tests and export). */
public final class SafetensorsWriter {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private SafetensorsWriter() {}

    /** One tensor's raw little-endian bytes. */
    public record RawTensor(String name, SafetensorsDType dtype, long[] shape, MemorySegment bytes) {
        public RawTensor { shape = shape.clone(); }
    }

    /**
     * Writes host tensors. Contiguous tensors are written as their bytes; non-contiguous floating
     * tensors (e.g. a transposed view) are made contiguous on the way (exact for F32/F16/BF16).
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        List<RawTensor> raw = new ArrayList<>();
        List<Tensor> temporaries = new ArrayList<>();
        try {
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                Tensor t = e.getValue().checkOpen();
                if (!t.isContiguous()) {
                    if (!t.dtype().isFloatingPoint()) {
                        throw new IllegalArgumentException("tensor '" + e.getKey() + "' " + t + " is not contiguous");
                    }
                    t = Tensor.of(t.dtype(), t.toFloatArray(), t.shape());
                    temporaries.add(t);
                }
                MemorySegment bytes = t.hostSegment().asSlice(0, t.numel() * t.dtype().byteSize());
                raw.add(new RawTensor(e.getKey(), SafetensorsDType.of(t.dtype()), t.shape(), bytes));
            }
            writeRaw(file, raw, metadata);
        } finally {
            for (Tensor t : temporaries) t.close();
        }
    }

    /** Writes raw tensors of any safetensors dtype; sizes are checked against the shapes. */
    public static void writeRaw(Path file, List<RawTensor> tensors, Map<String, String> metadata) throws IOException {
        List<RawTensor> sorted = new ArrayList<>(tensors);
        sorted.sort(Comparator.comparingInt((RawTensor r) -> -r.dtype().bits()).thenComparing(RawTensor::name));
        Set<String> seen = new HashSet<>();
        ObjectNode root = MAPPER.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode m = root.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long offset = 0;
        for (RawTensor r : sorted) {
            if (r.name().equals("__metadata__")) throw new IllegalArgumentException("'__metadata__' is not a tensor name");
            if (!seen.add(r.name())) throw new IllegalArgumentException("duplicate tensor name '" + r.name() + "'");
            long bits = r.dtype().bits();
            for (long d : r.shape()) {
                if (d < 0) throw new IllegalArgumentException("tensor '" + r.name() + "': negative size in " + Arrays.toString(r.shape()));
                bits = Math.multiplyExact(bits, d);
            }
            if (bits % 8 != 0 || bits / 8 != r.bytes().byteSize()) {
                throw new IllegalArgumentException("tensor '" + r.name() + "': " + r.dtype() + " " + Arrays.toString(r.shape())
                        + " is " + bits + " bits but " + r.bytes().byteSize() + " bytes were given");
            }
            ObjectNode t = root.putObject(r.name());
            t.put("dtype", r.dtype().name());
            ArrayNode shape = t.putArray("shape");
            for (long d : r.shape()) shape.add(d);
            ArrayNode off = t.putArray("data_offsets");
            off.add(offset);
            off.add(offset + bits / 8);
            offset += bits / 8;
        }
        byte[] json = MAPPER.writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
        int padded = (8 + json.length + 7) / 8 * 8 - 8;
        byte[] header = Arrays.copyOf(json, padded);
        Arrays.fill(header, json.length, padded, (byte) ' ');

        Path dir = file.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
                 OutputStream out = Channels.newOutputStream(ch)) {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
                out.write(len.array());
                out.write(header);
                byte[] buf = new byte[1 << 20];
                for (RawTensor r : sorted) {
                    MemorySegment src = r.bytes();
                    for (long p = 0; p < src.byteSize(); p += buf.length) {
                        int n = (int) Math.min(buf.length, src.byteSize() - p);
                        MemorySegment.copy(src, ValueLayout.JAVA_BYTE, p, buf, 0, n);
                        out.write(buf, 0, n);
                    }
                }
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
