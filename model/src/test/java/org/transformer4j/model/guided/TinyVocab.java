// TinyVocab — a 160-id vocabulary for tiny random decoders under structured outputs: ids 0-3 special (1 is
// EOS), every printable ASCII byte, tab and newline, the bytes of "é" and "☃" as separate tokens (pieces of
// a character, as byte-level BPE has), then merged JSON pieces, so that random weights can spell any small
// JSON value and every state the automaton reaches has a token that continues it, as in a real vocabulary.
package org.transformer4j.model.guided;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.TransformerConfig;
import org.transformer4j.model.Weights;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.CpuBackend;

public final class TinyVocab {

    public static final int V = 160;
    public static final int EOS = 1;

    private TinyVocab() {}

    /** Each id's bytes (null for the special ids 0-3). */
    public static byte[][] bytes() {
        List<byte[]> t = new ArrayList<>();
        for (int b = 0x20; b < 0x7F; b++) t.add(new byte[] {(byte) b});
        t.add(new byte[] {'\t'});
        t.add(new byte[] {'\n'});
        for (int b : new int[] {0xC3, 0xA9, 0xE2, 0x98, 0x83}) t.add(new byte[] {(byte) b});
        for (String p : List.of("{\"", "\":", "\",", "\"}", "},", "],", "true", "false", "null", "name", "age", "tags", "hello",
                " world", "10", "42", "3.14", "1e5", "é", "☃", "😀", "\"name\"", "{\"name\":\"", "\":\"", "\"]", "[\"", "\\u00",
                "\\n", "\\\"", "  ", "\n  ", "abc", "D83D", "\\uDE00")) {
            t.add(p.getBytes(StandardCharsets.UTF_8));
        }
        byte[][] out = new byte[V][];
        for (int i = 0; i < t.size(); i++) out[4 + i] = t.get(i);
        for (int i = 4 + t.size(); i < V; i++) out[i] = ("w" + i).getBytes(StandardCharsets.UTF_8);
        return out;
    }

    public static TokenVocabulary vocabulary() { return TokenVocabulary.of(bytes()); }

    /** GPT-2 in miniature over this vocabulary (EngineTest's shape): pre-LN, GELU-tanh, learned positions, tied; C 64, 2 layers. */
    public static TransformerConfig config() {
        return TransformerConfig.builder().vocabSize(V).widths(64, 128, 2).encoderLayers(0).decoderLayers(2)
                .norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.PRE, 1e-5f)
                .activation(TransformerConfig.Activation.GELU_TANH, false).learnedPositions(160).biases(true)
                .tiedEmbeddings(true, 1f).specialIds(new TransformerConfig.SpecialIds(0, 1, 2, 1, 3)).build();
    }

    /** A random model of {@link #config()} on its own CPU backend; closing it frees both. */
    public record Model(Backend backend, Weights weights, Transformer transformer) implements AutoCloseable {
        @Override public void close() {
            weights.close();
            backend.close();
        }
    }

    public static Model randomModel(long seed) {
        Backend b = new CpuBackend();
        Weights w = Weights.random(config(), b, seed);
        return new Model(b, w, new Transformer(w, b));
    }

    /** The text of generated ids (special ids left out). */
    public static String text(int[] ids) {
        byte[][] b = bytes();
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int id : ids) if (b[id] != null) out.writeBytes(b[id]);
        return out.toString(StandardCharsets.UTF_8);
    }
}
