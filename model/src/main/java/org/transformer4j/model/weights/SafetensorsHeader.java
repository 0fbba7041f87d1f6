// SafetensorsHeader — parses and validates a safetensors header the way the reference
// implementation (huggingface/safetensors, Rust) does, so that a file accepted here is one that
// the reference accepts and a file it rejects is rejected here, with the file and problem named.
package org.transformer4j.model.weights;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A validated header: the tensors sorted by offset and the {@code __metadata__} strings.
 *
 * <p>The file layout is {@code u64 little-endian N | N bytes of UTF-8 JSON | data}. Checks, in order:
 * N ≤ 100,000,000 and 8 + N ≤ file size; the JSON is valid UTF-8, starts with {@code {}, is one
 * object with no duplicate keys (stricter than the reference, whose JSON reader keeps the last of
 * two equal keys); {@code __metadata__} (optional) maps strings to strings; every other key is a
 * tensor with {@code dtype} (a known name), {@code shape} (non-negative integers) and
 * {@code data_offsets} ([begin, end], begin ≤ end), other fields ignored as the reference does; shape × dtype bits is computed with overflow checks
 * and is a whole number of bytes equal to end − begin; sorted by offset, the ranges start at 0 and
 * follow each other with no gap or overlap; and the last one ends exactly at the end of the file.
 */
public record SafetensorsHeader(List<TensorEntry> entries, Map<String, String> metadata) {

    /** The reference implementation's limit on N. */
    public static final long MAX_HEADER_SIZE = 100_000_000L;

    public SafetensorsHeader {
        entries = List.copyOf(entries);
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    /**
     * Validates {@code header} (the N JSON bytes) of {@code file}, whose data section holds
     * {@code dataSize} bytes (file size − 8 − N).
     */
    public static SafetensorsHeader parse(Path file, byte[] header, long dataSize) throws SafetensorsFormatException {
        String text;
        try {
            text = Utf8.decode(header);
        } catch (CharacterCodingException e) {
            throw new SafetensorsFormatException(file, "header is not valid UTF-8", e);
        }
        if (!text.startsWith("{")) {
            throw new SafetensorsFormatException(file, "header does not start with '{' (first byte "
                    + (header.length == 0 ? "none: the header is empty" : String.format("0x%02x", header[0])) + ")");
        }
        JsonNode root;
        try {
            root = StrictJson.parse(text);
        } catch (StrictJson.ParseError e) {
            throw new SafetensorsFormatException(file, "header is not valid JSON: " + e.getMessage(), e);
        }
        if (!root.isObject()) throw new SafetensorsFormatException(file, "header is not a JSON object");

        Map<String, String> metadata = new LinkedHashMap<>();
        List<TensorEntry> entries = new ArrayList<>();
        for (Map.Entry<String, JsonNode> f : root.properties()) {
            if (f.getKey().equals("__metadata__")) {
                readMetadata(file, f.getValue(), metadata);
            } else {
                entries.add(readEntry(file, f.getKey(), f.getValue()));
            }
        }
        // The reference sorts by (begin, end) and then walks the ranges.
        entries.sort(Comparator.comparingLong(TensorEntry::begin).thenComparingLong(TensorEntry::end));
        long expected = 0;
        for (TensorEntry e : entries) {
            if (e.begin() != expected) {
                throw new SafetensorsFormatException(file, "tensor '" + e.name() + "' starts at data offset " + e.begin()
                        + " but the previous tensor ends at " + expected + " ("
                        + (e.begin() > expected ? "a gap" : "overlapping ranges") + ")");
            }
            expected = e.end();
        }
        if (expected != dataSize) {
            throw new SafetensorsFormatException(file, "tensors cover " + expected + " bytes of data but the file holds "
                    + dataSize + " bytes after the header (" + (dataSize > expected ? "trailing bytes" : "truncated file")
                    + ")");
        }
        return new SafetensorsHeader(entries, metadata);
    }

    private static void readMetadata(Path file, JsonNode node, Map<String, String> out) throws SafetensorsFormatException {
        if (!node.isObject()) throw new SafetensorsFormatException(file, "__metadata__ is not an object of strings");
        for (Map.Entry<String, JsonNode> m : node.properties()) {
            if (!m.getValue().isTextual()) {
                throw new SafetensorsFormatException(file, "__metadata__ value of '" + m.getKey() + "' is "
                        + m.getValue().getNodeType().toString().toLowerCase() + ", not a string");
            }
            out.put(m.getKey(), m.getValue().textValue());
        }
    }

    private static final Set<String> ENTRY_KEYS = Set.of("dtype", "shape", "data_offsets");

    private static TensorEntry readEntry(Path file, String name, JsonNode node) throws SafetensorsFormatException {
        String where = "tensor '" + name + "'";
        if (!node.isObject()) throw new SafetensorsFormatException(file, where + " is not an object");
        // Other fields are ignored, as the reference's serde derive (without deny_unknown_fields) does.
        for (String k : ENTRY_KEYS) {
            if (!node.has(k)) throw new SafetensorsFormatException(file, where + " has no '" + k + "'");
        }
        JsonNode dt = node.get("dtype");
        if (!dt.isTextual()) throw new SafetensorsFormatException(file, where + ": dtype is not a string");
        SafetensorsDType dtype = SafetensorsDType.byName(dt.textValue()).orElseThrow(() ->
                new SafetensorsFormatException(file, where + " has unknown dtype '" + dt.textValue() + "' (known: "
                        + Arrays.toString(SafetensorsDType.values()) + ")"));
        long[] shape = readLongs(file, where + ": shape", node.get("shape"), -1);
        long[] offsets = readLongs(file, where + ": data_offsets", node.get("data_offsets"), 2);
        long begin = offsets[0];
        long end = offsets[1];
        if (end < begin) {
            throw new SafetensorsFormatException(file, where + " has data_offsets [" + begin + ", " + end + "] with end < begin");
        }
        long bits = dtype.bits();
        for (long d : shape) {
            try {
                bits = Math.multiplyExact(bits, d);
            } catch (ArithmeticException e) {
                throw new SafetensorsFormatException(file, where + ": shape " + Arrays.toString(shape) + " × " + dtype
                        + " overflows 64 bits");
            }
        }
        if (bits % 8 != 0) {
            throw new SafetensorsFormatException(file, where + ": shape " + Arrays.toString(shape) + " of " + dtype
                    + " is not a whole number of bytes (" + bits + " bits)");
        }
        if (bits / 8 != end - begin) {
            throw new SafetensorsFormatException(file, where + ": shape " + Arrays.toString(shape) + " of " + dtype
                    + " needs " + bits / 8 + " bytes but data_offsets [" + begin + ", " + end + "] hold " + (end - begin));
        }
        return new TensorEntry(name, dtype, shape, begin, end);
    }

    /** A JSON array of non-negative integers that fit in a long; {@code size} ≥ 0 demands that length. */
    private static long[] readLongs(Path file, String what, JsonNode node, int size) throws SafetensorsFormatException {
        if (!node.isArray()) throw new SafetensorsFormatException(file, what + " is not an array");
        if (size >= 0 && node.size() != size) {
            throw new SafetensorsFormatException(file, what + " has " + node.size() + " values, expected " + size);
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw new SafetensorsFormatException(file, what + " holds " + v + ", not a non-negative 64-bit integer");
            }
            out[i] = v.longValue();
        }
        return out;
    }
}
