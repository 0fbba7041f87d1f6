// Consumer — transformer4j from a user's project: sentence embeddings through langchain4j's EmbeddingModel
// interface, and generation with a (random, downloaded-from-nowhere) GPT-2-shaped model.
package org.example;

import dev.langchain4j.store.embedding.CosineSimilarity;
import org.transformer4j.langchain4j.T4jEmbeddingModel;
import org.transformer4j.model.Generator;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.TransformerConfig;
import org.transformer4j.model.Weights;
import org.transformer4j.model.tokenizer.TiktokenTokenizer;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.Backends;

public class Consumer {
    public static void main(String[] args) throws Exception {
        try (T4jEmbeddingModel minilm = T4jEmbeddingModel.load("minilm")) {         // CUDA where usable, else CPU
            var a = minilm.embed("A man is playing a guitar.").content();
            var b = minilm.embed("Someone strums an acoustic guitar.").content();
            System.out.printf("cosine similarity: %.3f%n", CosineSimilarity.between(a, b));
        }
        TransformerConfig tiny = TransformerConfig.gpt2Small().toBuilder().widths(64, 256, 2).decoderLayers(2).build();
        try (Backend backend = Backends.select(); Weights w = Weights.random(tiny, backend, 42);
             TiktokenTokenizer tok = TiktokenTokenizer.gpt2()) {                       // or Pretrained.load(folder, backend)
            int[] reply = new Generator(new Transformer(w, backend)).generate(tok.encode("The JVM"),
                    Generator.Options.greedy(8), (seq, token) -> {});
            System.out.println("generated " + reply.length + " tokens: " + tok.decode(reply));
        }
    }
}
