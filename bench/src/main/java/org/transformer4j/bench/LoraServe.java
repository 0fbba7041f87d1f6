// LoraServe — what serving per-request LoRA adapters costs: a Llama-shaped model (random weights) through the
// continuous-batching engine, the same concurrent greedy requests three ways in one run — the base model without
// adapters (the peer: what the engine does without LoRA), the same with LoRA slots loaded but every request on the
// base, every request on one of G adapters (rank R on all seven projections), and the same through G/2 slots (adapters
// swapped in as requests need them, vLLM's --max-loras below the adapters) — tokens/s of each side by side.
package org.transformer4j.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.transformer4j.model.Generator;
import org.transformer4j.model.LoraAdapter;
import org.transformer4j.model.LoraSlots;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.TransformerConfig;
import org.transformer4j.model.Weights;
import org.transformer4j.model.engine.Engine;
import org.transformer4j.model.weights.SafetensorsWriter;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.Backends;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;

/**
 * Usage: {@code java -cp benchmarks.jar org.transformer4j.bench.LoraServe [100m|1b|tiny] [f32|bf16] [requests] [newTokens]
 * [adapters] [rank]} (defaults 100m, f32, 16, 32, 4, 16). Each configuration runs the requests once to warm up (JIT,
 * workspaces, captured decode buckets), then once timed; tokens/s = generated tokens ÷ wall time from the first submit
 * to the last finish. The adapters are PEFT folders written to a temporary directory (A, B ~ U(−0.05, 0.05), alpha = 2r).
 */
public final class LoraServe {

    private LoraServe() {}

    public static void main(String[] args) throws Exception {
        String shape = args.length > 0 ? args[0] : "100m";
        DType dtype = args.length > 1 ? DType.valueOf(args[1].toUpperCase(java.util.Locale.ROOT)) : DType.F32;
        int requests = args.length > 2 ? Integer.parseInt(args[2]) : 16;
        int tokens = args.length > 3 ? Integer.parseInt(args[3]) : 32;
        int g = args.length > 4 ? Integer.parseInt(args[4]) : 4;
        int rank = args.length > 5 ? Integer.parseInt(args[5]) : 16;
        TransformerConfig c = shape.equals("tiny")
                ? TransformerConfig.builder().vocabSize(512).modelWidth(64).mlpWidth(128).heads(4, 2, 16).decoderLayers(2)
                        .norm(TransformerConfig.NormKind.RMS_NORM, TransformerConfig.NormPlacement.PRE, 1e-5f)
                        .activation(TransformerConfig.Activation.SILU, true).rope(TransformerConfig.Rope.plain(10000, 16))
                        .biases(false).tiedEmbeddings(true, 1f).build()
                : LlamaDecode.shape(shape);
        Path tmp = Files.createTempDirectory("t4j-lora-serve");
        try (Backend backend = Backends.select(); Weights w32 = Weights.random(c, backend, 1); Weights w = dtype == DType.F32 ? null : w32.to(dtype)) {
            Transformer model = new Transformer(w == null ? w32 : w, backend);
            Map<String, LoraAdapter> adapters = new LinkedHashMap<>();
            for (int i = 0; i < g; i++) adapters.put("lora" + i, LoraAdapter.read(write(tmp.resolve("lora" + i), c, rank, 100 + i)));
            SplittableRandom rnd = new SplittableRandom(5);
            List<int[]> prompts = new ArrayList<>();
            for (int i = 0; i < requests; i++) prompts.add(rnd.ints(16 + rnd.nextInt(48), 3, c.vocabSize()).toArray());
            System.out.printf("lora-serve %s %s on %s: %d requests × %d new tokens, %d adapters of rank %d on q/k/v/o/gate/up/down%n",
                    shape, dtype, backend.description(), requests, tokens, g, rank);
            double peer = run(model, null, prompts, tokens, false);
            double slotsBase, mixed, swapped;
            try (LoraSlots slots = LoraSlots.of(model, "llama", adapters)) {
                System.out.printf("lora-serve: slots hold %.1f MB%n", slots.bytes() / 1e6);
                slotsBase = run(model, slots, prompts, tokens, false);
                mixed = run(model, slots, prompts, tokens, true);
            }
            int half = Math.max(1, g / 2);
            long swaps;
            try (LoraSlots slots = LoraSlots.of(model, "llama", adapters, half)) {   // vLLM's --max-loras G/2: adapters swapped in
                swapped = run(model, slots, prompts, tokens, true);
                swaps = slots.swaps();
            }
            System.out.printf("lora-serve | base model, no LoRA (peer) | %.1f tokens/s%n", peer);
            System.out.printf("lora-serve | LoRA slots, every request on the base | %.1f tokens/s (%.2f× the peer)%n", slotsBase, slotsBase / peer);
            System.out.printf("lora-serve | every request on one of %d adapters | %.1f tokens/s (%.2f× the peer)%n", g, mixed, mixed / peer);
            System.out.printf("lora-serve | the same through %d slots (%d swaps in two runs) | %.1f tokens/s (%.2f× the peer)%n", half, swaps,
                    swapped, swapped / peer);
        } finally {
            try (var files = Files.walk(tmp)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** Tokens/s of the requests submitted together (the second of two runs); with {@code adapters}, request i on adapter i mod G. */
    static double run(Transformer model, LoraSlots slots, List<int[]> prompts, int tokens, boolean adapters) throws Exception {
        double rate = 0;
        try (Engine e = new Engine(model, Engine.Config.defaults(model), slots)) {
            for (int pass = 0; pass < 2; pass++) {
                List<CompletableFuture<Integer>> fs = new ArrayList<>();
                long t0 = System.nanoTime();
                for (int i = 0; i < prompts.size(); i++) {
                    CompletableFuture<Integer> f = new CompletableFuture<>();
                    int[] n = {0};
                    String name = adapters ? slots.names().get(i % slots.names().size()) : null;
                    e.submit(new Engine.Request(prompts.get(i), Generator.Options.greedy(tokens)).withAdapter(name), new Engine.Listener() {
                        @Override public void onToken(Engine.Token t) { n[0]++; }
                        @Override public void onFinish(Engine.Finish r, String error) {
                            if (error != null) f.completeExceptionally(new IllegalStateException(error));
                            else f.complete(n[0]);
                        }
                    });
                    fs.add(f);
                }
                long generated = 0;
                for (CompletableFuture<Integer> f : fs) generated += f.get(600, TimeUnit.SECONDS);
                rate = generated / ((System.nanoTime() - t0) / 1e9);
            }
        }
        return rate;
    }

    /** A PEFT folder adapting all seven projections of every layer at {@code rank}, alpha 2·rank. */
    static Path write(Path dir, TransformerConfig c, int rank, long seed) throws Exception {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("adapter_config.json"), "{\"peft_type\": \"LORA\", \"r\": " + rank + ", \"lora_alpha\": " + 2 * rank
                + ", \"bias\": \"none\"}");
        SplittableRandom rnd = new SplittableRandom(seed);
        long cw = c.modelWidth(), q = (long) c.heads() * c.headSize(), kv = (long) c.kvHeads() * c.headSize(), f = c.mlpWidth();
        Map<String, long[]> proj = new LinkedHashMap<>();
        proj.put("self_attn.q_proj", new long[] {q, cw});
        proj.put("self_attn.k_proj", new long[] {kv, cw});
        proj.put("self_attn.v_proj", new long[] {kv, cw});
        proj.put("self_attn.o_proj", new long[] {cw, q});
        proj.put("mlp.gate_proj", new long[] {f, cw});
        proj.put("mlp.up_proj", new long[] {f, cw});
        proj.put("mlp.down_proj", new long[] {cw, f});
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (int l = 0; l < c.decoderLayers(); l++) {
            for (var e : proj.entrySet()) {
                String m = "base_model.model.model.layers." + l + "." + e.getKey();
                t.put(m + ".lora_A.weight", random(rnd, rank, e.getValue()[1]));
                t.put(m + ".lora_B.weight", random(rnd, e.getValue()[0], rank));
            }
        }
        SafetensorsWriter.write(dir.resolve("adapter_model.safetensors"), t, Map.of("format", "pt"));
        return dir;
    }

    static Tensor random(SplittableRandom rnd, long rows, long cols) {
        float[] v = new float[Math.toIntExact(rows * cols)];
        for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextDouble(-0.05, 0.05);
        return Tensor.ofFloats(v, rows, cols);
    }
}
