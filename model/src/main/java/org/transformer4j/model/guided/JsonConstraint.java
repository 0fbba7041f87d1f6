// JsonConstraint — structured outputs: the tokens of a vocabulary that keep the text a prefix of a JSON
// value a grammar (any JSON, or a compiled JSON Schema) allows, the end ids once it is complete, and a
// cache of those masks by automaton state.
package org.transformer4j.model.guided;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A {@link TokenConstraint.Factory} for one grammar over one vocabulary. Special tokens are never
 * allowed; the end ids only once the value is complete, and then alone when nothing may follow (a
 * closed object or array). Masks are computed by walking the vocabulary's trie with the automaton
 * and kept per state (up to {@link #CACHED_MASKS}), so the states that repeat (inside a string, between
 * members) cost one walk for every sequence that shares this object. Thread-safe.
 */
public final class JsonConstraint implements TokenConstraint.Factory {

    /** Masks kept per constraint: each is V / 8 bytes (19 KB at 152k ids), so 256 of them stay under 5 MB. */
    public static final int CACHED_MASKS = 256;

    private final JsonAutomaton.Node grammar;
    private final TokenVocabulary vocabulary;
    private final Set<Integer> endIds;
    private final int words;
    private final ConcurrentHashMap<JsonAutomaton.State, int[]> masks = new ConcurrentHashMap<>();

    public JsonConstraint(JsonAutomaton.Node grammar, TokenVocabulary vocabulary, Set<Integer> endIds) {
        if (endIds == null || endIds.isEmpty()) throw new IllegalArgumentException("a JSON constraint needs the ids that end a sequence (EOS)");
        for (int id : endIds) {
            if (id < 0 || id >= vocabulary.size()) throw new IllegalArgumentException("end id " + id + " is outside the vocabulary [0, " + vocabulary.size() + ")");
        }
        this.grammar = grammar;
        this.vocabulary = vocabulary;
        this.endIds = Set.copyOf(endIds);
        this.words = (vocabulary.size() + 31) >>> 5;
    }

    /** JSON mode ({@code response_format: json_object}): an object or an array. */
    public static JsonConstraint jsonObject(TokenVocabulary vocabulary, Set<Integer> endIds) {
        return new JsonConstraint(JsonAutomaton.jsonObjectMode(), vocabulary, endIds);
    }

    /** The values {@code schema} allows; IllegalArgumentException naming what it cannot enforce. */
    public static JsonConstraint schema(JsonNode schema, TokenVocabulary vocabulary, Set<Integer> endIds) {
        return new JsonConstraint(JsonSchemaCompiler.compile(schema), vocabulary, endIds);
    }

    @Override public Set<Integer> endIds() { return endIds; }

    /** The grammar (for tests that walk it beside the masks). */
    JsonAutomaton.Node grammarForTests() { return grammar; }

    @Override public TokenConstraint start() { return new Run(JsonAutomaton.State.start(grammar)); }

    /** The mask of a state (shared, read only). */
    int[] mask(JsonAutomaton.State state) {
        int[] m = masks.get(state);
        if (m != null) return m;
        m = new int[words];
        vocabulary.allowed(state, m);
        if (state.isComplete()) for (int id : endIds) m[id >>> 5] |= 1 << (id & 31);
        boolean any = false;
        for (int w : m) any |= w != 0;
        if (!any) {                   // a real vocabulary holds every byte; a partial one may not spell the next character
            throw new IllegalStateException("no token of the vocabulary can continue the JSON here (the vocabulary lacks the bytes it needs)");
        }
        if (masks.size() < CACHED_MASKS) masks.putIfAbsent(state, m);
        return m;
    }

    /** One sequence's automaton state. */
    private final class Run implements TokenConstraint {
        private JsonAutomaton.State state;
        private boolean ended;

        Run(JsonAutomaton.State state) { this.state = state; }

        @Override public int[] allowed() { return ended ? new int[words] : mask(state); }

        @Override public void advance(int id) {
            if (ended) throw new IllegalStateException("the sequence already ended");
            if (endIds.contains(id)) {
                if (!state.isComplete()) throw new IllegalStateException("end id " + id + " before the JSON is complete");
                ended = true;
                return;
            }
            byte[] b = vocabulary.bytes(id);
            JsonAutomaton.State next = b == null ? null : state.advance(b);
            if (next == null) {
                throw new IllegalStateException("token " + id + (b == null ? " (special or unknown)" : " '" + new String(b, StandardCharsets.UTF_8) + "'")
                        + " cannot come next in the JSON");
            }
            state = next;
        }

        @Override public boolean isComplete() { return state.isComplete(); }
    }
}
