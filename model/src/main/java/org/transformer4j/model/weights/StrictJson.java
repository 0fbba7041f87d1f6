// StrictJson — the one Jackson configuration used for checkpoint metadata (safetensors headers,
// index files, config.json): duplicate keys and trailing content are errors, not silently merged.
package org.transformer4j.model.weights;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;

/** Parses JSON text strictly; every failure becomes a checked error with a short reason. */
public final class StrictJson {

    private static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder()
            .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            // Headers are small; a deeply nested one is an attack, not a checkpoint.
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build())
            .build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private StrictJson() {}

    /** What went wrong while parsing, with Jackson's location, without the input echoed back. */
    public static final class ParseError extends Exception {
        ParseError(String message, Throwable cause) { super(message, cause); }
    }

    /** The tree of {@code text}; throws ParseError with a short reason when it is not one strict JSON value. */
    public static JsonNode parse(String text) throws ParseError {
        try {
            JsonNode n = MAPPER.readTree(text);
            if (n == null || n.isMissingNode()) throw new ParseError("empty JSON", null);
            return n;
        } catch (IOException | RuntimeException e) {
            String m = e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.toString();
            String where = e instanceof com.fasterxml.jackson.core.JsonProcessingException j && j.getLocation() != null
                    ? " (line " + j.getLocation().getLineNr() + ", column " + j.getLocation().getColumnNr() + ")" : "";
            throw new ParseError(m + where, e);
        }
    }

    /** The tree of UTF-8 {@code bytes}; malformed UTF-8 is a ParseError too. */
    public static JsonNode parse(byte[] bytes) throws ParseError {
        String text;
        try {
            text = Utf8.decode(bytes);
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new ParseError("not valid UTF-8", e);
        }
        return parse(text);
    }

    /** Parses a whole JSON file; the error names the file and calls it {@code what}. */
    public static JsonNode parseFile(Path file, String what) throws SafetensorsFormatException {
        byte[] bytes;
        try {
            bytes = java.nio.file.Files.readAllBytes(file);
        } catch (IOException e) {
            throw new SafetensorsFormatException(file, "cannot read " + what + ": " + e, e);
        }
        try {
            return parse(bytes);
        } catch (ParseError e) {
            throw new SafetensorsFormatException(file, what + " is not valid JSON: " + e.getMessage(), e);
        }
    }
}
