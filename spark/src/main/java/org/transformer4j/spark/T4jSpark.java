// T4jSpark — batch inference over a DataFrame: embeddings of a text column (array<float>, L2-normalised) and
// greedy or sampled generation for a prompt column (string). Rows keep their columns and partition order; each
// partition is read in batches of `batchRows` rows, and each batch is one call on the executor's model
// (embeddings packed padding-free, prompts decoded together through one KV cache).
package org.transformer4j.spark;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructType;
import org.transformer4j.langchain4j.T4jEmbeddingModel;
import org.transformer4j.model.Generator;
import org.transformer4j.runtime.DType;

/** Entry points; every argument is checked on the driver before any task runs. */
public final class T4jSpark {

    private T4jSpark() {}

    /** Rows per model call: enough to fill a GPU's packed pass with short texts, few enough to stream. */
    public static final int DEFAULT_BATCH_ROWS = 256;

    /** Generation settings (greedy by default), sent to the executors with the task. */
    public record GenerateOptions(int maxNewTokens, float temperature, int topK, float topP, long seed, DType dtype, int batchRows)
            implements Serializable {
        public GenerateOptions {
            Generator.Options.greedy(maxNewTokens).sampling(temperature, topK, topP, seed);   // the same checks, on the driver
            if (batchRows < 1) throw new IllegalArgumentException("batchRows must be ≥ 1, got " + batchRows);
            if (dtype == null) throw new IllegalArgumentException("no dtype");
        }

        public static GenerateOptions greedy(int maxNewTokens) {
            return new GenerateOptions(maxNewTokens, 0f, 0, 1f, 42, DType.F32, 64);
        }

        public GenerateOptions batchRows(int n) { return new GenerateOptions(maxNewTokens, temperature, topK, topP, seed, dtype, n); }
    }

    /** {@code df} with {@code outCol} (array&lt;float&gt;) holding each {@code textCol} value's embedding; F32, 256 rows a batch. */
    public static Dataset<Row> embed(Dataset<Row> df, String textCol, String outCol, String model) {
        return embed(df, textCol, outCol, model, DType.F32, DEFAULT_BATCH_ROWS);
    }

    public static Dataset<Row> embed(Dataset<Row> df, String textCol, String outCol, String model, DType dtype, int batchRows) {
        int col = stringColumn(df.schema(), textCol);
        if (batchRows < 1) throw new IllegalArgumentException("batchRows must be ≥ 1, got " + batchRows);
        if (model == null || model.isBlank()) throw new IllegalArgumentException("no model folder or name given");
        StructType out = df.schema().add(outCol, DataTypes.createArrayType(DataTypes.FloatType, false), true);
        MapPartitionsFunction<Row, Row> f = rows -> new Batches(rows, batchRows, batch -> {
            T4jEmbeddingModel m = ExecutorModels.embedder(model, dtype);
            List<TextSegment> texts = new ArrayList<>();
            for (Row r : batch) if (!r.isNullAt(col)) texts.add(TextSegment.from(r.getString(col)));
            Iterator<Embedding> e = texts.isEmpty() ? null : m.embedAll(texts).content().iterator();
            List<Row> res = new ArrayList<>(batch.size());
            for (Row r : batch) res.add(append(r, r.isNullAt(col) ? null : e.next().vector()));
            return res;
        });
        return df.mapPartitions(f, Encoders.row(out));
    }

    /** {@code df} with {@code outCol} (string) holding the generated continuation of each {@code promptCol} value. */
    public static Dataset<Row> generate(Dataset<Row> df, String promptCol, String outCol, String modelFolder, GenerateOptions o) {
        int col = stringColumn(df.schema(), promptCol);
        if (modelFolder == null || modelFolder.isBlank()) throw new IllegalArgumentException("no model folder given");
        StructType out = df.schema().add(outCol, DataTypes.StringType, true);
        MapPartitionsFunction<Row, Row> f = rows -> new Batches(rows, o.batchRows(), batch -> {
            ExecutorModels.Decoder d = ExecutorModels.decoder(modelFolder, o.dtype());
            List<int[]> prompts = new ArrayList<>();
            for (Row r : batch) if (!r.isNullAt(col)) prompts.add(d.tokenizer().encode(r.getString(col)));
            String[] texts = prompts.isEmpty() ? new String[0] : generate(d, prompts, o);
            List<Row> res = new ArrayList<>(batch.size());
            int i = 0;
            for (Row r : batch) res.add(append(r, r.isNullAt(col) ? null : texts[i++]));
            return res;
        });
        return df.mapPartitions(f, Encoders.row(out));
    }

    /** The texts generated for {@code prompts} together (one batch through one KV cache), end-of-sequence dropped. */
    static String[] generate(ExecutorModels.Decoder d, List<int[]> prompts, GenerateOptions o) {
        int eos = d.model().config.specialIds().eos();
        Generator.Options go = Generator.Options.greedy(o.maxNewTokens()).sampling(o.temperature(), o.topK(), o.topP(), o.seed());
        if (eos >= 0) go = go.stopIds(Set.of(eos));
        int[][] ids;
        synchronized (d) {
            ids = new Generator(d.model()).generate(prompts, go, (s, t) -> {});
        }
        String[] out = new String[ids.length];
        for (int i = 0; i < ids.length; i++) {
            int[] x = ids[i];
            int n = x.length > 0 && x[x.length - 1] == eos ? x.length - 1 : x.length;
            out[i] = d.tokenizer().decode(Arrays.copyOf(x, n), true);
        }
        return out;
    }

    private static int stringColumn(StructType schema, String name) {
        int i;
        try {
            i = schema.fieldIndex(name);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("no column '" + name + "' in " + schema.simpleString());
        }
        if (!(schema.fields()[i].dataType() instanceof StringType)) {
            throw new IllegalArgumentException("column '" + name + "' is " + schema.fields()[i].dataType().simpleString() + ", not string");
        }
        return i;
    }

    private static Row append(Row r, Object value) {
        Object[] v = new Object[r.length() + 1];
        for (int i = 0; i < r.length(); i++) v[i] = r.get(i);
        v[r.length()] = value;
        return RowFactory.create(v);
    }

    /** A partition's rows read {@code size} at a time, each batch mapped to its output rows. */
    private static final class Batches implements Iterator<Row> {
        interface Mapper { List<Row> apply(List<Row> batch); }

        private final Iterator<Row> in;
        private final int size;
        private final Mapper mapper;
        private Iterator<Row> ready = java.util.Collections.emptyIterator();

        Batches(Iterator<Row> in, int size, Mapper mapper) { this.in = in; this.size = size; this.mapper = mapper; }

        @Override
        public boolean hasNext() {
            while (!ready.hasNext() && in.hasNext()) {
                List<Row> batch = new ArrayList<>(size);
                while (batch.size() < size && in.hasNext()) batch.add(in.next());
                ready = mapper.apply(batch).iterator();
            }
            return ready.hasNext();
        }

        @Override
        public Row next() {
            if (!hasNext()) throw new NoSuchElementException();
            return ready.next();
        }
    }
}
