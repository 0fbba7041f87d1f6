// T4jSparkTest — Spark local mode (4 partitions, 2 cores): a thousand rows embedded and generated through
// T4jSpark equal what the single-JVM path gives for each row on its own (T4jEmbeddingModel over all texts;
// Generator one prompt at a time), with nulls passed through and bad columns refused on the driver.
package org.transformer4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.langchain4j.T4jEmbeddingModel;
import org.transformer4j.model.Generator;
import org.transformer4j.model.Gpt2Folders;
import org.transformer4j.model.Pretrained;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.TransformerConfig;
import org.transformer4j.model.Weights;
import org.transformer4j.model.tokenizer.TiktokenTokenizer;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.Backends;
import org.transformer4j.runtime.DType;

class T4jSparkTest {

    static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = SparkSession.builder().master("local[2]").appName("t4j-spark-test").config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "4").getOrCreate();
        spark.sparkContext().setLogLevel("ERROR");
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
    }

    static final String[] SUBJECTS = {"The cat", "A train", "My neighbour", "The committee", "A small robot", "Our team",
            "The river", "An old violin", "The market", "Her laptop"};
    static final String[] VERBS = {"waited for", "talked about", "ignored", "repaired", "painted", "followed", "bought",
            "described", "carried", "found"};
    static final String[] OBJECTS = {"the red door", "a quiet evening", "the last ticket", "three apples", "the new bridge",
            "a broken clock", "the winter plan", "an empty box", "the long letter", "a green kite", "the map", "two chairs",
            "the storm", "a secret", "the budget", "some music", "the garden", "a question", "the results", "a photograph"};

    /** 2,000 different sentences. */
    static List<String> sentences() {
        List<String> out = new ArrayList<>();
        for (String s : SUBJECTS) for (String v : VERBS) for (String o : OBJECTS) out.add(s + " " + v + " " + o + ".");
        return out;
    }

    static Dataset<Row> frame(List<String> texts, String col) {
        StructType schema = new StructType().add("id", DataTypes.IntegerType, false).add(col, DataTypes.StringType, true);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) rows.add(RowFactory.create(i, texts.get(i)));
        return spark.createDataFrame(rows, schema).repartition(4);
    }

    @Test
    void embeddingsOfAThousandRowsEqualTheSingleJvmPath() throws Exception {
        List<String> texts = new ArrayList<>(sentences().subList(0, 1000));
        texts.set(17, null);                                                     // a null text gives a null embedding
        List<Row> got = T4jSpark.embed(frame(texts, "text"), "text", "vec", "minilm", DType.F32, 128).orderBy("id").collectAsList();
        assertEquals(texts.size(), got.size());
        List<TextSegment> segs = texts.stream().filter(t -> t != null).map(TextSegment::from).toList();
        List<Embedding> want;
        try (Backend cpu = Backends.select("cpu"); T4jEmbeddingModel m = T4jEmbeddingModel.load("minilm", cpu, DType.F32)) {
            want = m.embedAll(segs).content();
        }
        int k = 0;
        for (int i = 0; i < texts.size(); i++) {
            Row r = got.get(i);
            assertEquals(i, r.getInt(0));
            assertEquals(texts.get(i), r.getString(1));
            if (texts.get(i) == null) { assertTrue(r.isNullAt(2)); continue; }
            List<Float> v = r.getList(2);
            float[] w = want.get(k++).vector();
            assertEquals(w.length, v.size());
            // other batch neighbours change the packed pass's summation order only: fp32 rounding
            for (int c = 0; c < w.length; c++) assertEquals(w[c], v.get(c), 2e-6, "row " + i + " component " + c);
        }
    }

    @Test
    void generationForThreeHundredPromptsEqualsGeneratorOnEachPrompt(@TempDir Path dir) throws Exception {
        TransformerConfig tiny = TransformerConfig.gpt2Small().toBuilder().widths(64, 128, 2).decoderLayers(2).learnedPositions(128).build();
        try (Backend cpu = Backends.select("cpu")) {
            try (Weights w = Weights.random(tiny, cpu, 11)) {
                Gpt2Folders.write(w, dir);
            }
            List<String> prompts = sentences().subList(0, 300);
            List<Row> got = T4jSpark.generate(frame(prompts, "prompt"), "prompt", "reply", dir.toString(),
                    T4jSpark.GenerateOptions.greedy(4).batchRows(32)).orderBy("id").collectAsList();
            assertEquals(prompts.size(), got.size());
            try (Weights w = Pretrained.load(dir, cpu); TiktokenTokenizer tok = TiktokenTokenizer.gpt2()) {
                Generator g = new Generator(new Transformer(w, cpu));
                int eos = w.config.specialIds().eos();
                for (int i = 0; i < prompts.size(); i++) {
                    int[] ids = g.generate(tok.encode(prompts.get(i)), Generator.Options.greedy(4).stopIds(Set.of(eos)), (s, t) -> {});
                    int n = ids[ids.length - 1] == eos ? ids.length - 1 : ids.length;
                    assertEquals(tok.decode(java.util.Arrays.copyOf(ids, n), true), got.get(i).getString(2), "prompt " + i);
                }
            }
        }
    }

    @Test
    void badColumnsAreRefusedOnTheDriver() {
        Dataset<Row> df = frame(List.of("a", "b"), "text");
        Exception none = assertThrows(IllegalArgumentException.class, () -> T4jSpark.embed(df, "txt", "vec", "minilm"));
        assertTrue(none.getMessage().contains("txt"), none.getMessage());
        Exception notText = assertThrows(IllegalArgumentException.class, () -> T4jSpark.embed(df, "id", "vec", "minilm"));
        assertTrue(notText.getMessage().contains("not string"), notText.getMessage());
    }
}
