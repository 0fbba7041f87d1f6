// GuidedMaskBenchmark — JMH: the cost of one structured-output token mask (the ids a JSON automaton
// state allows, found by walking the vocabulary's trie) on real vocabularies, uncached (a state seen
// for the first time) and cached. Needs the tokenizer.json files: bench/guided-mask.sh unpacks the test
// resources and passes their folder as -Dt4j.bench.tokenizers.
package org.transformer4j.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.transformer4j.model.guided.JsonAutomaton;
import org.transformer4j.model.guided.JsonConstraint;
import org.transformer4j.model.guided.JsonSchemaCompiler;
import org.transformer4j.model.guided.TokenConstraint;
import org.transformer4j.model.guided.TokenVocabulary;

@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class GuidedMaskBenchmark {

    static final String SCHEMA = """
            {"type":"object","additionalProperties":false,"required":["name","age","tags"],
             "properties":{"name":{"type":"string"},"age":{"type":"integer"},"tags":{"type":"array","items":{"type":"string","maxLength":8}}}}""";

    @Param({"qwen3", "gemma3"})
    String vocab;

    /** Where the automaton stands: inside a free string, inside a string of bounded length, after '{' (keys), after ':' (any value), in a number. */
    @Param({"string", "bounded_string", "key", "value", "number"})
    String at;

    TokenVocabulary vocabulary;
    JsonAutomaton.State state;
    int[] bits;
    TokenConstraint cached;

    @Setup
    public void setup() throws Exception {
        Path dir = Path.of(System.getProperty("t4j.bench.tokenizers", "/tmp/t4j-guided-bench"));
        vocabulary = TokenVocabulary.fromTokenizerJson(dir.resolve(vocab + ".json"), -1);
        JsonAutomaton.Node schema = JsonSchemaCompiler.compile(SCHEMA);
        String prefix = switch (at) {
            case "string" -> "{\"name\":\"Al";
            case "bounded_string" -> "{\"name\":\"Al\",\"age\":3,\"tags\":[\"ab";
            case "key" -> "{";
            case "value" -> null;
            case "number" -> "{\"name\":\"Al\",\"age\":12";
            default -> throw new IllegalArgumentException(at);
        };
        state = prefix == null ? JsonAutomaton.State.start(JsonAutomaton.jsonObjectMode()).advance("{\"k\":".getBytes(StandardCharsets.UTF_8))
                : JsonAutomaton.State.start(schema).advance(prefix.getBytes(StandardCharsets.UTF_8));
        if (state == null) throw new IllegalStateException("bad prefix for " + at);
        bits = new int[(vocabulary.size() + 31) / 32];
        cached = new JsonConstraint(JsonAutomaton.jsonObjectMode(), vocabulary, Set.of(0)).start();
    }

    /** A state seen for the first time: one walk of the trie. */
    @Benchmark
    public int[] uncached() {
        java.util.Arrays.fill(bits, 0);
        vocabulary.allowed(state, bits);
        return bits;
    }

    /** A state seen before (the steady state inside a string, or between members): a lookup. */
    @Benchmark
    public int[] cachedStart() {
        return cached.allowed();
    }
}
