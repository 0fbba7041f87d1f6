// Attack — the small models and prompts the reliability tests attack (GPT-2-like, 160 learned positions).
package org.transformer4j.model;

final class Attack {

    private Attack() {}

    /** GPT-2 in miniature, decoder-only, tied embeddings (Tiny's shapes). */
    static TransformerConfig gpt() {
        return Tiny.decoderOnly(Tiny.encDec().specialIds(new TransformerConfig.SpecialIds(-1, 99, 99, -1, -1)).build(), false);
    }

    /** The same with an output matrix of its own, so that a NaN input embedding row reaches only the sequences that read it. */
    static TransformerConfig untied() {
        return Tiny.decoderOnly(Tiny.encDec().tiedEmbeddings(false, 1f).specialIds(new TransformerConfig.SpecialIds(-1, 99, 99, -1, -1))
                .build(), false);
    }

    /** A prompt without {@code avoid}. */
    static int[] clean(long seed, int t, int avoid) {
        int[] p = Tiny.ids(seed, 1, t)[0];
        for (int i = 0; i < p.length; i++) if (p[i] == avoid) p[i] = avoid + 1;
        return p;
    }
}
