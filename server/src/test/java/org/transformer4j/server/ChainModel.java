// ChainModel — a tiny decoder whose replies are set, for the server's tests of reply parsing: each token's successor is
// fixed by the weights (chains of tokens, EOS last), and a tokenizer decodes each id to a chosen piece of text, so that
// tags can arrive split across tokens ("<th" + "ink>") and special tokens as single tokens ("<|channel|>").
package org.transformer4j.server;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.transformer4j.model.TransformerConfig;
import org.transformer4j.model.Weights;
import org.transformer4j.model.tokenizer.Tokenizer;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.Tensor;

final class ChainModel {

    static final int EOS = 1, D = 128;

    final int vocab;
    /** Each id's text; the successor of each id (-1: none set); each chain's start token (what a template ends a prompt with). */
    final String[] pieces;
    final int[] next;
    final Map<String, Integer> starts = new HashMap<>();
    private int used = 2;

    /** Chain NAME: a start token "[NAME]", then its pieces, then EOS. At most {@link #D} ids in all. */
    ChainModel(int vocab, Map<String, List<String>> chains) {
        if (vocab > D) throw new IllegalArgumentException("one-hot embeddings: at most " + D + " ids");
        this.vocab = vocab;
        pieces = new String[vocab];
        next = new int[vocab];
        Arrays.fill(next, -1);
        Arrays.fill(pieces, "?");
        pieces[EOS] = "";
        for (var e : chains.entrySet()) {
            int prev = token("[" + e.getKey() + "]", -1);
            starts.put(e.getKey(), prev);
            for (String p : e.getValue()) {
                int id = token(p, -1);
                next[prev] = id;
                prev = id;
            }
            next[prev] = EOS;
        }
    }

    /** A token of its own decoding to {@code piece}, followed by {@code successor} (-1: none); its id. */
    int token(String piece, int successor) {
        int id = used++;
        pieces[id] = piece;
        next[id] = successor;
        return id;
    }

    int start(String chain) {
        Integer id = starts.get(chain);
        if (id == null) throw new IllegalArgumentException("no chain '" + chain + "'");
        return id;
    }

    /** The text a chain's reply decodes to. */
    String reply(String chain) {
        StringBuilder b = new StringBuilder();
        for (int t = next[start(chain)]; t != EOS; t = next[t]) b.append(pieces[t]);
        return b.toString();
    }

    /** Ids decode to their pieces; encoding gives the start tokens of the chains the text names (words split at spaces). */
    Tokenizer tokenizer() {
        return new Tokenizer() {
            @Override public int[] encode(String text, boolean special) {
                List<Integer> ids = new ArrayList<>();
                for (String k : text.split(" ")) if (starts.containsKey(k)) ids.add(starts.get(k));
                return ids.stream().mapToInt(Integer::intValue).toArray();
            }
            @Override public String decode(int[] ids, boolean skip) {
                StringBuilder b = new StringBuilder();
                for (int i : ids) b.append(pieces[i]);
                return b.toString();
            }
            @Override public Map<String, Integer> specialTokens() { return Map.of(); }
            @Override public String name() { return "pieces"; }
            @Override public void close() {}
        };
    }

    /**
     * Attention and MLP outputs zero, positions zero: the last layer norm sees the token's embedding, one-hot at its id,
     * and the LM head's row u is one-hot at u's predecessor, so greedy decoding follows {@link #next}.
     */
    Weights weights(Backend backend) { return weights(backend, 1); }

    /** The same with the LM head's entries at {@code sharpness}: larger makes sampling at a temperature follow the chains surely. */
    Weights weights(Backend backend, float sharpness) {
        TransformerConfig c = TransformerConfig.builder().vocabSize(vocab).widths(D, 128, 2).encoderLayers(0).decoderLayers(1)
                .norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.PRE, 1e-5f)
                .activation(TransformerConfig.Activation.GELU_TANH, false).learnedPositions(64).biases(true)
                .tiedEmbeddings(false, 1f).specialIds(new TransformerConfig.SpecialIds(0, EOS, 0, EOS, 0)).build();
        Weights w = Weights.random(c, backend, 5);
        for (Weights.Layer l : w.decoder.layers()) for (Tensor t : new Tensor[] {l.self().o(), l.self().ob(), l.mlp().down(), l.mlp().downb()}) fill(t, 0);
        fill(w.embeddings.positions(), 0);
        fill(w.decoder.finalNorm().weight(), 1);
        fill(w.decoder.finalNorm().bias(), 0);
        Tensor e = w.embeddings.tokens(), head = w.lmHead;
        fill(e, 0);
        fill(head, 0);
        for (int t = 0; t < vocab; t++) {
            set(e, (long) t * D + t, 1);
            if (next[t] >= 0) set(head, (long) next[t] * D + t, sharpness);
        }
        return w;
    }

    private static void fill(Tensor t, float v) {
        MemorySegment s = t.hostSegment();
        for (long i = 0; i < t.numel(); i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, v);
    }

    private static void set(Tensor t, long i, float v) { t.hostSegment().setAtIndex(ValueLayout.JAVA_FLOAT, i, v); }
}
