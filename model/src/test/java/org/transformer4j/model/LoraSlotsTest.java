// LoraSlotsTest — LoRA adapters served unmerged beside their base model, requests of several adapters and of the base
// model in one batch: each request's tokens and log-probabilities are those of the model with its adapter merged by hand
// (W + s · B · A in float64, written out as plain weights, run on its own); and what per-request adapters refuse.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.engine.Engine;
import org.transformer4j.model.weights.CheckpointException;
import org.transformer4j.model.weights.SafetensorsFile;
import org.transformer4j.model.weights.SafetensorsWriter;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.DType;
import org.transformer4j.runtime.Tensor;

class LoraSlotsTest {

    @TempDir
    Path tmp;

    static Path llama() throws Exception { return ReferenceFixturesTest.root().resolve("llama"); }

    /** The llama fixture's projections (out × in): hidden 64, 4 heads of 16, 2 KV heads, MLP 96. */
    static final Map<String, long[]> PROJ = Map.of("q_proj", new long[] {64, 64}, "k_proj", new long[] {32, 64}, "v_proj", new long[] {32, 64},
            "o_proj", new long[] {64, 64}, "gate_proj", new long[] {96, 64}, "up_proj", new long[] {96, 64}, "down_proj", new long[] {64, 96});

    /** One adapter as written: module → {rank, alpha}, use_rslora, its random seed. */
    record Spec(String name, Map<String, double[]> modules, boolean rs, long seed) {}

    /** "a": attention q / v and layer 1's down_proj (ranks 4 and 2); "b": all seven projections of both layers, rank 8, rsLoRA. */
    static List<Spec> specs() {
        Map<String, double[]> a = new LinkedHashMap<>();
        for (int l = 0; l < 2; l++) {
            a.put("model.layers." + l + ".self_attn.q_proj", new double[] {4, 16});
            a.put("model.layers." + l + ".self_attn.v_proj", new double[] {4, 16});
        }
        a.put("model.layers.1.mlp.down_proj", new double[] {2, 4});
        Map<String, double[]> b = new LinkedHashMap<>();
        for (int l = 0; l < 2; l++) {
            for (String p : List.of("q_proj", "k_proj", "v_proj", "o_proj")) b.put("model.layers." + l + ".self_attn." + p, new double[] {8, 8});
            for (String p : List.of("gate_proj", "up_proj", "down_proj")) b.put("model.layers." + l + ".mlp." + p, new double[] {8, 8});
        }
        return List.of(new Spec("a", a, false, 7), new Spec("b", b, true, 19));
    }

    static long[] shape(String module) { return shape(module, PROJ); }

    static long[] shape(String module, Map<String, long[]> proj) { return proj.get(module.substring(module.lastIndexOf('.') + 1)); }

    /** The phi3 fixture's projections (out × in): hidden 64, 4 heads of 16, 2 KV heads, MLP 96; qkv_proj and gate_up_proj fused. */
    static final Map<String, long[]> PHI3 = Map.of("qkv_proj", new long[] {128, 64}, "o_proj", new long[] {64, 64},
            "gate_up_proj", new long[] {192, 64}, "down_proj", new long[] {64, 96});

    /** The glm and glm4 fixtures' projections (out × in): hidden 64, 4 heads of 16, 2 KV heads, MLP 64; gate_up_proj fused. */
    static final Map<String, long[]> GLM = Map.of("q_proj", new long[] {64, 64}, "k_proj", new long[] {32, 64}, "v_proj", new long[] {32, 64},
            "o_proj", new long[] {64, 64}, "gate_up_proj", new long[] {128, 64}, "down_proj", new long[] {64, 64});

    Path write(Spec s) throws IOException { return write(s, PROJ); }

    /** Writes the adapter folder in PEFT's layout (rank and alpha of the odd modules by rank_pattern / alpha_pattern). */
    Path write(Spec s, Map<String, long[]> proj) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("adapter-" + s.name()));
        double[] first = s.modules().values().iterator().next();
        StringBuilder rp = new StringBuilder(), ap = new StringBuilder();
        for (var e : s.modules().entrySet()) {
            if (e.getValue()[0] != first[0]) rp.append(rp.isEmpty() ? "" : ", ").append('"').append(e.getKey()).append("\": ").append((int) e.getValue()[0]);
            if (e.getValue()[1] != first[1]) ap.append(ap.isEmpty() ? "" : ", ").append('"').append(e.getKey()).append("\": ").append(e.getValue()[1]);
        }
        Files.writeString(dir.resolve("adapter_config.json"), "{\"peft_type\": \"LORA\", \"r\": " + (int) first[0] + ", \"lora_alpha\": " + first[1]
                + ", \"use_rslora\": " + s.rs() + ", \"rank_pattern\": {" + rp + "}, \"alpha_pattern\": {" + ap + "}, \"bias\": \"none\","
                + " \"task_type\": \"CAUSAL_LM\"}");
        SplittableRandom rnd = new SplittableRandom(s.seed());
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (var e : s.modules().entrySet()) {
            int r = (int) e.getValue()[0];
            long[] sh = shape(e.getKey(), proj);
            t.put("base_model.model." + e.getKey() + ".lora_A.weight", LoraAdapterTest.random(rnd, r, sh[1]));
            t.put("base_model.model." + e.getKey() + ".lora_B.weight", LoraAdapterTest.random(rnd, sh[0], r));
        }
        SafetensorsWriter.write(dir.resolve("adapter_model.safetensors"), t, Map.of("format", "pt"));
        return dir;
    }

    Path mergedByHand(Spec s, Path adapterDir) throws Exception { return mergedByHand(s, adapterDir, llama(), PROJ); }

    /** The folder {@code model} with the adapter merged here in float64 (PEFT's W + s · B · A), stored as F32 plain weights. */
    Path mergedByHand(Spec s, Path adapterDir, Path model, Map<String, long[]> proj) throws Exception {
        Path dir = tmp.resolve("merged-" + s.name());
        if (Files.isRegularFile(dir.resolve("model.safetensors"))) return dir;          // written once per test
        Files.createDirectories(dir);
        Files.copy(model.resolve("config.json"), dir.resolve("config.json"));
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (SafetensorsFile base = SafetensorsFile.open(model.resolve("model.safetensors"));
             SafetensorsFile ad = SafetensorsFile.open(adapterDir.resolve("adapter_model.safetensors"))) {
            for (String key : base.names()) {
                float[] w = base.tensor(key).toFloatArray();
                String module = key.substring(0, key.length() - ".weight".length());
                double[] ra = s.modules().get(module);
                if (ra != null) {
                    float[] a = ad.tensor("base_model.model." + module + ".lora_A.weight").toFloatArray();
                    float[] b = ad.tensor("base_model.model." + module + ".lora_B.weight").toFloatArray();
                    int r = (int) ra[0];
                    double scale = s.rs() ? ra[1] / Math.sqrt(r) : ra[1] / r;
                    LoraAdapterTest.addDelta(w, a, b, (int) shape(module, proj)[0], (int) shape(module, proj)[1], r, scale);
                }
                out.put(key, Tensor.ofFloats(w, base.tensor(key).shape()));
            }
        }
        SafetensorsWriter.write(dir.resolve("model.safetensors"), out, Map.of("format", "pt"));
        return dir;
    }

    static int[] prompt(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = 3 + r.nextInt(250);
        return p;
    }

    record Out(int[] ids, double[] logprobs) {}

    static CompletableFuture<Out> submit(Engine e, int[] prompt, int n, String adapter) {
        CompletableFuture<Out> f = new CompletableFuture<>();
        List<Engine.Token> got = new ArrayList<>();
        e.submit(new Engine.Request(prompt, Generator.Options.greedy(n), 0).withAdapter(adapter), new Engine.Listener() {
            @Override public void onToken(Engine.Token t) { got.add(t); }
            @Override public void onFinish(Engine.Finish reason, String error) {
                if (error != null) f.completeExceptionally(new AssertionError(error));
                else f.complete(new Out(got.stream().mapToInt(Engine.Token::id).toArray(), got.stream().mapToDouble(Engine.Token::logprob).toArray()));
            }
        });
        return f;
    }

    /**
     * Eight requests (adapters a and b and the base model, interleaved, prompts of 3 to 40 tokens) submitted together run
     * in shared prefill and decode passes, the decode steps captured per batch bucket (the CPU backend's graph twin) or op
     * by op: each gives the greedy tokens of its own merged-by-hand model alone (or of the base), and every chosen token's
     * log-probability within 1e-4 of that model's.
     */
    @Test
    void aMixedBatchGivesEachRequestItsOwnAdaptersTokens() throws Exception {
        List<Spec> specs = specs();
        Map<String, Path> dirs = new LinkedHashMap<>();
        for (Spec s : specs) dirs.put(s.name(), write(s));
        String[] who = {"a", null, "b", "b", "a", null, "b", "a"};
        int[][] prompts = new int[who.length][];
        for (int i = 0; i < who.length; i++) prompts[i] = prompt(100 + i, i % 2 == 0 ? 3 + 5 * i : 40 - 3 * i);
        prompts[4] = prompts[0].clone();                       // a shared prompt under one adapter: its blocks are shared
        prompts[1] = prompts[0].clone();                       // the same prompt under the base model: they are not
        try (CpuBackend backend = new CpuBackend(); Weights base = Pretrained.load(llama(), backend, DType.F32)) {
            Transformer model = new Transformer(base, backend);
            Map<String, Out[]> want = new LinkedHashMap<>();
            for (String name : new String[] {"a", "b", null}) {
                Spec s = name == null ? null : specs.stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow();
                try (Weights w = s == null ? null : Pretrained.load(mergedByHand(s, dirs.get(name)), backend, DType.F32)) {
                    Transformer m = w == null ? model : new Transformer(w, backend);
                    Out[] o = new Out[who.length];
                    try (Engine e = new Engine(m, Engine.Config.defaults(m))) {
                        for (int i = 0; i < who.length; i++) {
                            if (java.util.Objects.equals(who[i], name)) o[i] = submit(e, prompts[i], 8, null).get(60, TimeUnit.SECONDS);
                        }
                    }
                    want.put(String.valueOf(name), o);
                }
            }
            for (int[] buckets : new int[][] {{}, {1, 2, 4, 8}}) {
                try (LoraSlots slots = LoraSlots.load(model, llama(), dirs);
                     Engine e = new Engine(model, Engine.Config.defaults(model).decodeBuckets(buckets), slots)) {
                    List<CompletableFuture<Out>> fs = new ArrayList<>();
                    for (int i = 0; i < who.length; i++) fs.add(submit(e, prompts[i], 8, who[i]));
                    for (int i = 0; i < who.length; i++) {
                        Out got = fs.get(i).get(60, TimeUnit.SECONDS), exp = want.get(String.valueOf(who[i]))[i];
                        String what = "request " + i + " (adapter " + who[i] + ", buckets " + java.util.Arrays.toString(buckets) + ")";
                        assertArrayEquals(exp.ids(), got.ids(), what);
                        for (int j = 0; j < exp.logprobs().length; j++) assertEquals(exp.logprobs()[j], got.logprobs()[j], 1e-4, what + " token " + j);
                    }
                    if (buckets.length > 0) assertTrue(e.decodeGraphed(8) || e.decodeGraphed(4) || e.decodeGraphed(2), "a bucket's step was captured");
                }
            }
            // one slot for two adapters (vLLM's --max-loras 1 --max-cpu-loras 1): a's requests run first, beside the base
            // model's; b's wait until the slot is free, then b is swapped in; a second wave of a swaps a back, read again
            // from its folder (the host cache holds one parsed adapter)
            try (LoraSlots one = LoraSlots.load(model, llama(), dirs, 1, 0, 1);
                 Engine e = new Engine(model, Engine.Config.defaults(model).decodeBuckets(1, 2, 4, 8), one)) {
                assertEquals(List.of("a", "b"), one.names());
                assertEquals(java.util.Arrays.asList("a"), one.resident());
                assertEquals(List.of("b"), one.hostCached());
                List<CompletableFuture<Out>> fs = new ArrayList<>();
                for (int i = 0; i < who.length; i++) fs.add(submit(e, prompts[i], 8, who[i]));
                for (int i = 0; i < who.length; i++) {
                    Out got = fs.get(i).get(60, TimeUnit.SECONDS), exp = want.get(String.valueOf(who[i]))[i];
                    String what = "request " + i + " (adapter " + who[i] + ", one slot)";
                    assertArrayEquals(exp.ids(), got.ids(), what);
                    for (int j = 0; j < exp.logprobs().length; j++) assertEquals(exp.logprobs()[j], got.logprobs()[j], 1e-4, what + " token " + j);
                }
                assertEquals(1, one.swaps(), "b swapped into a's slot once a's requests were done");
                assertTrue(e.loraWaits() > 0, "b's requests waited for the slot");
                assertEquals(java.util.Arrays.asList("b"), one.resident());
                Out again = submit(e, prompts[0], 8, "a").get(60, TimeUnit.SECONDS);
                assertArrayEquals(want.get("a")[0].ids(), again.ids(), "a swapped back, read again from its folder");
                assertEquals(2, one.swaps());
                assertEquals(List.of("a"), one.hostCached());
            }
            // the same slot through Generator: a generation holds it until its state is released
            try (LoraSlots one = LoraSlots.load(model, llama(), dirs, 1, 0, 2)) {
                Generator ga = new Generator(model).withAdapter(one, "a"), gb = new Generator(model).withAdapter(one, "b");
                try (TokenStream ts = ga.stream(prompts[0], Generator.Options.greedy(8))) {
                    var held = assertThrows(IllegalStateException.class, () -> gb.generate(List.of(prompts[2]), Generator.Options.greedy(8), null));
                    assertTrue(held.getMessage().contains("all 1 LoRA slots"), held.getMessage());
                    int[] got = new int[8];
                    for (int j = 0; j < 8 && ts.hasNext(); j++) got[j] = ts.next().id();
                    assertArrayEquals(want.get("a")[0].ids(), got, "Generator with adapter a in the one slot");
                }
                assertArrayEquals(want.get("b")[2].ids(), gb.generate(List.of(prompts[2]), Generator.Options.greedy(8), null)[0],
                        "b swapped in once a's stream was closed");
            }
            // Generator through an adapter: two prompts batched, the merged model's tokens
            try (LoraSlots slots = LoraSlots.load(model, llama(), dirs);
                 Weights w = Pretrained.load(mergedByHand(specs.get(1), dirs.get("b")), backend, DType.F32)) {
                List<int[]> two = List.of(prompts[2], prompts[3]);
                int[][] got = new Generator(model).withAdapter(slots, "b").generate(two, Generator.Options.greedy(8), null);
                int[][] exp = new Generator(new Transformer(w, backend)).generate(two, Generator.Options.greedy(8), null);
                for (int i = 0; i < 2; i++) assertArrayEquals(exp[i], got[i], "Generator with adapter b, prompt " + i);
                assertThrows(IllegalArgumentException.class, () -> new Generator(model).withAdapter(slots, "c"));
            }
            // the adapters change what the model says (else the test above could not fail)
            assertTrue(!java.util.Arrays.equals(want.get("a")[0].ids(), want.get("null")[1].ids())
                    || Math.abs(want.get("a")[0].logprobs()[0] - want.get("null")[1].logprobs()[0]) > 1e-2, "adapter a changes prompt 0's output");
        }
    }

    /**
     * One slot, adapters a and b; b0 runs, a0 waits for the slot, b1 and b2 arrive after a0, then a base-model request.
     * vLLM's order (requests whose adapter has a slot go first) admits b1 and b2 beside b0, and steady traffic to b would
     * keep a0 waiting for ever; with {@code loraPassOvers} 0 they queue behind a0, which runs as soon as b0 gives the slot
     * back, while the base model's request, which holds no slot, is not held back. Every request ends with its tokens.
     */
    @Test
    void aRequestPassedOverForASlotIsNotOvertakenForEver() throws Exception {
        Map<String, Path> dirs = new LinkedHashMap<>();
        for (Spec s : specs()) dirs.put(s.name(), write(s));
        String[] names = {"b0", "a0", "b1", "b2", "base"};
        try (CpuBackend backend = new CpuBackend(); Weights base = Pretrained.load(llama(), backend, DType.F32)) {
            Transformer model = new Transformer(base, backend);
            for (int passOvers : new int[] {0, Integer.MAX_VALUE}) {
                try (LoraSlots one = LoraSlots.load(model, llama(), dirs, 1, 0, 2);
                     Engine e = new Engine(model, Engine.Config.defaults(model).loraPassOvers(passOvers), one)) {
                    List<String> admitted = java.util.Collections.synchronizedList(new ArrayList<>());
                    List<CompletableFuture<Void>> done = new ArrayList<>();
                    java.util.concurrent.CountDownLatch hold = org.transformer4j.model.engine.LoopHold.hold(e, prompt(1, 4));
                    for (int i = 0; i < names.length; i++) {
                        String name = names[i], adapter = name.equals("base") ? null : name.substring(0, 1);
                        CompletableFuture<Void> f = new CompletableFuture<>();
                        done.add(f);
                        e.submit(new Engine.Request(prompt(40 + i, 6), Generator.Options.greedy(4), 0).withAdapter(adapter), new Engine.Listener() {
                            @Override public void onAdmitted(int cached) { admitted.add(name); }
                            @Override public void onToken(Engine.Token t) {}
                            @Override public void onFinish(Engine.Finish reason, String error) {
                                if (error != null) f.completeExceptionally(new AssertionError(name + ": " + error));
                                else f.complete(null);
                            }
                        });
                    }
                    hold.countDown();                            // all five are in line before the loop's next step
                    for (CompletableFuture<Void> f : done) f.get(60, TimeUnit.SECONDS);
                    List<String> want = passOvers == 0 ? List.of("b0", "base", "a0", "b1", "b2") : List.of("b0", "b1", "b2", "base", "a0");
                    assertEquals(want, admitted, "admission order with loraPassOvers " + passOvers);
                    assertTrue(e.loraWaits() > 0);
                }
            }
            Engine.Config d = Engine.Config.defaults(model);
            assertEquals(16, d.loraPassOvers(), "a request goes first once passed over in 16 steps, by default");
            var bad = assertThrows(IllegalArgumentException.class, () -> d.loraPassOvers(-1));
            assertTrue(bad.getMessage().contains("loraPassOvers=-1"), bad.getMessage());
        }
    }

    /**
     * Phi-3's fused projections take per-request adapters as PEFT trains them on it: one lora_A per qkv_proj and
     * gate_up_proj, lora_B's rows split [q | k | v] and [gate | up] as the loader splits the weights. Requests of the adapter
     * and of the base model, submitted together through captured buckets, give the greedy tokens of the adapter merged by
     * hand into the fused weights in float64 (every token's log-probability within 1e-4), and of the base model.
     */
    @Test
    void phi3sFusedProjectionsTakeAdaptersPerRequest() throws Exception {
        Path phi3 = ReferenceFixturesTest.root().resolve("phi3");
        Map<String, double[]> m = new LinkedHashMap<>();
        for (int l = 0; l < 2; l++) {
            m.put("model.layers." + l + ".self_attn.qkv_proj", new double[] {4, 8});
            m.put("model.layers." + l + ".self_attn.o_proj", new double[] {4, 8});
            m.put("model.layers." + l + ".mlp.gate_up_proj", new double[] {6, 12});
            m.put("model.layers." + l + ".mlp.down_proj", new double[] {4, 8});
        }
        servedPerRequestAsMergedByHand(phi3, new Spec("p3", m, false, 23), PHI3);
    }

    /**
     * Cohere's loader reorders each head's q_proj / k_proj rows for rotate_half (its pairwise rotary): an adapter's lora_B
     * rows are reordered alike, so per-request adapters on all seven projections of Cohere (and its parallel block) give
     * the tokens of the adapter merged by hand into the stored weights in float64.
     */
    @Test
    void cohereAdaptersFollowItsReorderedRows() throws Exception {
        Map<String, double[]> m = new LinkedHashMap<>();
        for (int l = 0; l < 2; l++) {
            for (String x : List.of("q_proj", "k_proj", "v_proj", "o_proj")) m.put("model.layers." + l + ".self_attn." + x, new double[] {4, 8});
            for (String x : List.of("gate_proj", "up_proj", "down_proj")) m.put("model.layers." + l + ".mlp." + x, new double[] {4, 8});
        }
        servedPerRequestAsMergedByHand(ReferenceFixturesTest.root().resolve("cohere"), new Spec("co", m, false, 29), PROJ);
    }

    /**
     * GLM's loader reorders each head's first rotary rows of q_proj / k_proj (half of head_dim here: 8 of 16) for
     * rotate_half and takes the fused gate_up_proj whole as [gate | up]: an adapter on all six of its projections (PEFT's
     * names for GlmForCausalLM / Glm4ForCausalLM) has its q / k lora_B rows reordered alike and gate_up_proj's split, so
     * that requests through the glm and glm4 folders give the tokens of the adapter merged by hand into the stored weights
     * in float64. The unfused gate_proj / up_proj and a qkv_proj, which GLM's checkpoints do not have, are refused by name.
     */
    @Test
    void glmAdaptersFollowItsReorderedRowsAndFusedGateUp() throws Exception {
        Map<String, double[]> m = new LinkedHashMap<>();
        for (int l = 0; l < 2; l++) {
            for (String x : List.of("q_proj", "k_proj", "v_proj", "o_proj")) m.put("model.layers." + l + ".self_attn." + x, new double[] {4, 8});
            m.put("model.layers." + l + ".mlp.gate_up_proj", new double[] {6, 12});
            m.put("model.layers." + l + ".mlp.down_proj", new double[] {4, 8});
        }
        for (String folder : List.of("glm", "glm4")) {
            servedPerRequestAsMergedByHand(ReferenceFixturesTest.root().resolve(folder), new Spec(folder, m, folder.equals("glm4"), 31), GLM);
        }
        Path glm = ReferenceFixturesTest.root().resolve("glm");
        try (CpuBackend backend = new CpuBackend(); Weights base = Pretrained.load(glm, backend, DType.F32)) {
            Transformer model = new Transformer(base, backend);
            for (String module : List.of("mlp.gate_proj", "self_attn.qkv_proj")) {
                Map<String, double[]> one = Map.of("model.layers.0." + module, new double[] {2, 4});
                Path dir = write(new Spec("no-" + module, one, false, 5), Map.of("gate_proj", new long[] {64, 64}, "qkv_proj", new long[] {128, 64}));
                var e = assertThrows(CheckpointException.class, () -> LoraSlots.load(model, glm, Map.of("x", dir)));
                assertTrue(e.getMessage().contains("model.layers.0." + module + ", which glm does not have"), e.getMessage());
            }
            // merged at load (--lora) stays refused: q / k are gathered and gate_up_proj split from what a merge makes
            Path all = tmp.resolve("adapter-glm");
            var merged = assertThrows(CheckpointException.class, () -> Pretrained.load(glm, backend, DType.F32, LoraAdapter.read(all)));
            assertTrue(merged.getMessage().contains("LoRA adapters are not supported for glm") && merged.getMessage().contains("--lora-modules"),
                    merged.getMessage());
        }
    }

    /** The exaone4, ernie4_5 and seed-oss fixtures' projections (out × in): hidden 32, 4 heads of 16 over 2, MLP 64. */
    static final Map<String, long[]> NARROW = Map.of("q_proj", new long[] {64, 32}, "k_proj", new long[] {32, 32}, "v_proj", new long[] {32, 32},
            "o_proj", new long[] {32, 64}, "gate_proj", new long[] {64, 32}, "up_proj", new long[] {64, 32}, "down_proj", new long[] {32, 64});

    /**
     * Today's families in the slots, each through all seven projections of its folder's every layer against the adapter
     * merged by hand in float64: ERNIE 4.5 (q / k rows reordered over the whole head for its interleaved rotary, every
     * projection biased), Seed-OSS (q/k/v, o_proj and MLP biases), EXAONE 4.0 (output norms, per-head q / k norms, NoPE
     * global layers). Without ERNIE's lora_B reorder its requests leave the merged model's tokens.
     */
    @Test
    void ernieSeedOssAndExaoneAdaptersServePerRequest() throws Exception {
        for (String folder : List.of("ernie4_5", "seed-oss", "exaone4")) {
            int layers = folder.equals("exaone4") ? 4 : 2;
            Map<String, double[]> m = new LinkedHashMap<>();
            for (int l = 0; l < layers; l++) {
                for (String x : List.of("q_proj", "k_proj", "v_proj", "o_proj")) m.put("model.layers." + l + ".self_attn." + x, new double[] {4, 8});
                for (String x : List.of("gate_proj", "up_proj", "down_proj")) m.put("model.layers." + l + ".mlp." + x, new double[] {4, 8});
            }
            servedPerRequestAsMergedByHand(ReferenceFixturesTest.root().resolve(folder), new Spec(folder.replace("_", "-"), m, false, 41), NARROW);
        }
    }

    /**
     * Per-request adapters over an AWQ folder's 4-bit projections (Int4, -Dt4j.quant=packed on the CPU) give, request for
     * request, the tokens and log-probabilities, bit for bit, that they give over the same folder dequantized at load: the
     * base products decode the same values and the deltas are added alike; the 4-bit model holds no dense projection.
     */
    @Test
    void adaptersServeOverFourBitWeightsAsOverTheDequantizedOnes() throws Exception {
        Map<String, long[]> shapes = Map.of("q_proj", new long[] {32, 32}, "k_proj", new long[] {16, 32}, "v_proj", new long[] {16, 32},
                "o_proj", new long[] {32, 32}, "gate_proj", new long[] {64, 32}, "up_proj", new long[] {64, 32}, "down_proj", new long[] {32, 64});
        Map<String, double[]> m = new LinkedHashMap<>();
        for (int l = 0; l < 2; l++) {
            for (String x : List.of("q_proj", "k_proj", "v_proj", "o_proj")) m.put("model.layers." + l + ".self_attn." + x, new double[] {4, 8});
            for (String x : List.of("gate_proj", "up_proj", "down_proj")) m.put("model.layers." + l + ".mlp." + x, new double[] {4, 8});
        }
        Path dir = write(new Spec("awq", m, false, 47), shapes);
        Path fixture = ReferenceFixturesTest.root().resolve("qwen2-awq");
        int[][] prompts = {prompt(311, 9), prompt(312, 14), prompt(313, 6), prompt(314, 11)};
        for (int[] q : prompts) for (int i = 0; i < q.length; i++) q[i] = 3 + q[i] % 120;
        String[] who = {"awq", null, "awq", null};
        Out[][] got = new Out[2][];
        try (CpuBackend backend = new CpuBackend()) {
            for (int mode = 0; mode < 2; mode++) {
                try (Weights w = IntQuantTest.withQuant(mode == 0 ? "dequantize" : "packed", () -> Pretrained.load(fixture, backend, DType.BF16))) {
                    assertEquals(mode == 1, w.decoder.layers().get(0).self().q4() != null, "mode " + mode);
                    Transformer model = new Transformer(w, backend);
                    try (LoraSlots slots = LoraSlots.load(model, fixture, Map.of("awq", dir));
                         Engine e = new Engine(model, Engine.Config.defaults(model).decodeBuckets(1, 2, 4), slots)) {
                        List<CompletableFuture<Out>> fs = new ArrayList<>();
                        for (int i = 0; i < who.length; i++) fs.add(submit(e, prompts[i], 8, who[i]));
                        got[mode] = new Out[who.length];
                        for (int i = 0; i < who.length; i++) got[mode][i] = fs.get(i).get(60, TimeUnit.SECONDS);
                    }
                }
            }
        }
        for (int i = 0; i < who.length; i++) {
            assertArrayEquals(got[0][i].ids(), got[1][i].ids(), "request " + i + " (adapter " + who[i] + "): 4-bit against dequantized");
            assertArrayEquals(got[0][i].logprobs(), got[1][i].logprobs(), "request " + i + ": the log-probabilities, bit for bit");
        }
        try (CpuBackend backend = new CpuBackend();
             Weights w = IntQuantTest.withQuant("packed", () -> Pretrained.load(fixture, backend, DType.BF16));
             Engine e = new Engine(new Transformer(w, backend), Engine.Config.defaults(new Transformer(w, backend)))) {
            Out plain = submit(e, prompts[0], 8, null).get(60, TimeUnit.SECONDS);          // the adapter changes what the model says
            assertTrue(!java.util.Arrays.equals(plain.ids(), got[1][0].ids()) || Math.abs(plain.logprobs()[0] - got[1][0].logprobs()[0]) > 1e-3,
                    "the adapter changes prompt 0's output");
        }
    }

    /**
     * Adapter {@code p} (of projections {@code proj}) on the reference folder {@code fixture}: its requests and the base
     * model's, submitted together through captured buckets, give the tokens and log-probabilities (1e-4) of the adapter
     * merged by hand and of the base model, each run alone; and the adapter changes what the model says.
     */
    void servedPerRequestAsMergedByHand(Path fixture, Spec p, Map<String, long[]> proj) throws Exception {
        Path dir = write(p, proj);
        int[][] prompts = {prompt(301, 9), prompt(302, 14), prompt(303, 6), prompt(304, 11)};
        String[] who = {p.name(), null, p.name(), null};
        try (CpuBackend backend = new CpuBackend(); Weights base = Pretrained.load(fixture, backend, DType.F32);
             Weights merged = Pretrained.load(mergedByHand(p, dir, fixture, proj), backend, DType.F32)) {
            Transformer model = new Transformer(base, backend), byHand = new Transformer(merged, backend);
            int span = Math.min(120, model.config.vocabSize() - 3);                        // within the fixture's vocabulary
            for (int[] q : prompts) for (int i = 0; i < q.length; i++) q[i] = 3 + q[i] % span;
            Out[] want = new Out[who.length];
            for (int i = 0; i < who.length; i++) {
                Transformer t = who[i] == null ? model : byHand;
                try (Engine e = new Engine(t, Engine.Config.defaults(t))) { want[i] = submit(e, prompts[i], 8, null).get(60, TimeUnit.SECONDS); }
            }
            try (LoraSlots slots = LoraSlots.load(model, fixture, Map.of(p.name(), dir));
                 Engine e = new Engine(model, Engine.Config.defaults(model).decodeBuckets(1, 2, 4), slots)) {
                List<CompletableFuture<Out>> fs = new ArrayList<>();
                for (int i = 0; i < who.length; i++) fs.add(submit(e, prompts[i], 8, who[i]));
                for (int i = 0; i < who.length; i++) {
                    Out got = fs.get(i).get(60, TimeUnit.SECONDS);
                    assertArrayEquals(want[i].ids(), got.ids(), fixture.getFileName() + " request " + i + " (adapter " + who[i] + ")");
                    for (int j = 0; j < got.logprobs().length; j++) assertEquals(want[i].logprobs()[j], got.logprobs()[j], 1e-4, "request " + i + " token " + j);
                }
            }
            try (Engine e = new Engine(model, Engine.Config.defaults(model))) {          // the adapter changes what the model says
                Out plain = submit(e, prompts[0], 8, null).get(60, TimeUnit.SECONDS);
                assertTrue(!java.util.Arrays.equals(plain.ids(), want[0].ids()) || Math.abs(plain.logprobs()[0] - want[0].logprobs()[0]) > 1e-2,
                        "adapter " + p.name() + " changes prompt 0's output");
            }
        }
    }

    /**
     * One decode step of a mixed batch through the slots gives each row the logits of its merged model's step, within
     * 1e-4; rows out of slot order are refused, as are slots outside the adapters.
     */
    @Test
    void aDecodeStepsRowsTakeTheirOwnAdapters() throws Exception {
        List<Spec> specs = specs();
        Map<String, Path> dirs = new LinkedHashMap<>();
        for (Spec s : specs) dirs.put(s.name(), write(s));
        int[] p = prompt(5, 6);
        try (CpuBackend backend = new CpuBackend(); Weights base = Pretrained.load(llama(), backend, DType.F32);
             Weights ma = Pretrained.load(mergedByHand(specs.get(0), dirs.get("a")), backend, DType.F32);
             Weights mb = Pretrained.load(mergedByHand(specs.get(1), dirs.get("b")), backend, DType.F32)) {
            Transformer model = new Transformer(base, backend);
            Weights[] each = {ma, mb, base};
            try (LoraSlots slots = LoraSlots.load(model, llama(), dirs)) {
                assertEquals(List.of("a", "b"), slots.names());
                Tensor[][] kv = PagedBatch.allocate(model, 8);
                try {
                    int[] tables = {0, 1, 2};
                    int[] lengths = new int[3], tokens = new int[3], slotOf = {0, 1, -1};
                    for (int b = 0; b < 3; b++) {
                        PagedBatch.prefill(model, kv, new int[] {tables[b]}, 0, java.util.Arrays.copyOf(p, p.length - 1), slots, slotOf[b]);
                        lengths[b] = p.length - 1;
                        tokens[b] = p[p.length - 1];
                    }
                    // the prompt's last token, then one more: the second step's logits are row p.length's
                    try (PagedBatch.Step st = PagedBatch.decode(model, kv, tables, 1, lengths, tokens, slots, slotOf)) { }
                    for (int b = 0; b < 3; b++) lengths[b]++;
                    int next = 7;
                    java.util.Arrays.fill(tokens, next);
                    float[][] wantNext = new float[3][];
                    for (int i = 0; i < 3; i++) {
                        int[] ids = java.util.Arrays.copyOf(p, p.length + 1);
                        ids[p.length] = next;
                        wantNext[i] = new Transformer(each[i], backend).logits(new int[][] {ids})[0][p.length];
                    }
                    try (PagedBatch.Step st = PagedBatch.decode(model, kv, tables, 1, lengths, tokens, slots, slotOf)) {
                        float[] all = st.logits().toFloatArray();
                        int v = model.config.vocabSize();
                        for (int b = 0; b < 3; b++) {
                            for (int x = 0; x < v; x++) assertEquals(wantNext[b][x], all[b * v + x], 1e-4, "row " + b + " logit " + x);
                        }
                    }
                    int[] lens = lengths.clone();
                    assertThrows(IllegalArgumentException.class, () -> PagedBatch.decode(model, kv, tables, 1, lens, tokens, slots, new int[] {1, 0, -1}));
                    assertThrows(IllegalArgumentException.class, () -> PagedBatch.decode(model, kv, tables, 1, lens, tokens, slots, new int[] {-1, 0, 1}));
                    assertThrows(IllegalArgumentException.class, () -> PagedBatch.decode(model, kv, tables, 1, lens, tokens, slots, new int[] {0, 2, -1}));
                } finally {
                    for (Tensor[] ts : kv) for (Tensor t : ts) t.close();
                }
            }
        }
    }

    /**
     * A captured decode step (one batch bucket of 4, the CPU backend's graph twin) replayed while its rows' adapters change
     * from step to step — other sequences, other slots, fewer rows, the base model's rows alone (a step captured without
     * the adapters' ops): every row's logits are those of its merged model's full pass over the same tokens, within 1e-4.
     */
    @Test
    void aCapturedStepReplaysWithOtherRowsAdapters() throws Exception {
        List<Spec> specs = specs();
        Map<String, Path> dirs = new LinkedHashMap<>();
        for (Spec s : specs) dirs.put(s.name(), write(s));
        try (CpuBackend backend = new CpuBackend(); Weights base = Pretrained.load(llama(), backend, DType.F32);
             Weights ma = Pretrained.load(mergedByHand(specs.get(0), dirs.get("a")), backend, DType.F32);
             Weights mb = Pretrained.load(mergedByHand(specs.get(1), dirs.get("b")), backend, DType.F32);
             LoraSlots slots = LoraSlots.load(new Transformer(base, backend), llama(), dirs)) {
            Transformer model = new Transformer(base, backend);
            int[] slotOf = {0, 1, -1, 0};                           // sequences 0 and 3 adapter a, 1 adapter b, 2 the base model
            Weights[] by = {ma, mb, base, ma};
            List<List<Integer>> ids = new ArrayList<>();
            Tensor[][] kv = PagedBatch.allocate(model, 9);
            try (PagedBatch.Decoder d = new PagedBatch.Decoder(model, new int[] {4}, 2, 8, slots)) {
                for (int q = 0; q < 4; q++) {
                    int[] p = prompt(40 + q, 5 + q);
                    ids.add(new ArrayList<>(java.util.Arrays.stream(p).boxed().toList()));
                    PagedBatch.prefill(model, kv, new int[] {2 * q, 2 * q + 1}, 0, p, slots, slotOf[q]);
                }
                // steps 4 and 5: the base model's row alone (the step without the adapters' ops, captured at its second use)
                int[][] steps = {{0, 1, 2}, {0, 1, 2}, {0, 3, 2}, {3, 1, 2}, {2}, {2}, {1, 2}, {0, 3, 1, 2}, {2}};
                for (int k = 0; k < steps.length; k++) {
                    int[] rows = steps[k];
                    int n = rows.length;
                    int[] tables = new int[2 * n], lengths = new int[n], tokens = new int[n], sl = new int[n];
                    for (int r = 0; r < n; r++) {
                        int q = rows[r];
                        tables[2 * r] = 2 * q;
                        tables[2 * r + 1] = 2 * q + 1;
                        lengths[r] = ids.get(q).size();
                        tokens[r] = 7 + 11 * k + r;
                        sl[r] = slotOf[q];
                    }
                    try (PagedBatch.Step st = d.decode(kv, tables, 2, lengths, tokens, sl)) {
                        float[] all = st.logits().toFloatArray();
                        int v = model.config.vocabSize();
                        for (int r = 0; r < n; r++) {
                            int q = rows[r];
                            ids.get(q).add(tokens[r]);
                            int[] seq = ids.get(q).stream().mapToInt(Integer::intValue).toArray();
                            float[] want = new Transformer(by[q], backend).logits(new int[][] {seq})[0][seq.length - 1];
                            for (int x = 0; x < v; x++) assertEquals(want[x], all[r * v + x], 1e-4, "step " + k + " row " + r + " (sequence " + q + ") logit " + x);
                        }
                    }
                    if (k >= 1 && k != 4) assertTrue(d.graphed(4), "step " + k + " replays the captured bucket");
                }
            } finally {
                for (Tensor[] ts : kv) for (Tensor t : ts) t.close();
            }
        }
    }

    /**
     * Adapters loaded and unloaded while the engine serves (vLLM's /v1/load_lora_adapter): slots made empty with room for
     * every projection; an adapter loaded into a free slot gives its merged model's tokens, a freed slot takes another
     * adapter, and a full set of slots, a rank above the slots', an unknown name and an adapter in use are refused by name.
     */
    @Test
    void adaptersLoadAndUnloadWhileServing() throws Exception {
        List<Spec> specs = specs();
        Map<String, Path> dirs = new LinkedHashMap<>();
        for (Spec sp : specs) dirs.put(sp.name(), write(sp));
        int[] p = prompt(77, 9);
        try (CpuBackend backend = new CpuBackend(); Weights base = Pretrained.load(llama(), backend, DType.F32);
             Weights ma = Pretrained.load(mergedByHand(specs.get(0), dirs.get("a")), backend, DType.F32);
             Weights mb = Pretrained.load(mergedByHand(specs.get(1), dirs.get("b")), backend, DType.F32)) {
            Transformer model = new Transformer(base, backend);
            Out wantA, wantB;
            try (Engine e = new Engine(new Transformer(ma, backend), Engine.Config.defaults(model))) { wantA = submit(e, p, 6, null).get(60, TimeUnit.SECONDS); }
            try (Engine e = new Engine(new Transformer(mb, backend), Engine.Config.defaults(model))) { wantB = submit(e, p, 6, null).get(60, TimeUnit.SECONDS); }
            try (LoraSlots slots = LoraSlots.of(model, "llama", Map.of(), 2, 8);
                 Engine e = new Engine(model, Engine.Config.defaults(model).decodeBuckets(1, 2), slots)) {
                assertEquals(List.of(), slots.names());
                assertEquals(0, e.loadAdapter("a", LoraAdapter.read(dirs.get("a"))).get(60, TimeUnit.SECONDS));
                assertArrayEquals(wantA.ids(), submit(e, p, 6, "a").get(60, TimeUnit.SECONDS).ids(), "a, loaded while serving");
                assertEquals(1, e.loadAdapter("b", LoraAdapter.read(dirs.get("b"))).get(60, TimeUnit.SECONDS));
                // a third adapter with both slots full is registered, and swapped in when a request needs it
                assertEquals(-1, e.loadAdapter("c", LoraAdapter.read(dirs.get("a"))).get(60, TimeUnit.SECONDS));
                assertArrayEquals(wantA.ids(), submit(e, p, 6, "c").get(60, TimeUnit.SECONDS).ids(), "c (a's weights), swapped in");
                assertEquals(1, slots.swaps());
                var twice = assertThrows(java.util.concurrent.ExecutionException.class,
                        () -> e.loadAdapter("c", LoraAdapter.read(dirs.get("a"))).get(60, TimeUnit.SECONDS));
                assertTrue(twice.getCause().getMessage().contains("'c' is loaded already"), twice.getCause().getMessage());
                e.unloadAdapter("c").get(60, TimeUnit.SECONDS);
                if (slots.slot("a") < 0) {              // c took a's slot (the least recently used): a comes back when asked
                    assertArrayEquals(wantA.ids(), submit(e, p, 6, "a").get(60, TimeUnit.SECONDS).ids(), "a, swapped back");
                }
                // in use: a long request of b is running or waiting when the unload comes
                Engine.Handle h = e.submit(new Engine.Request(p, Generator.Options.greedy(100)).withAdapter("b"), new Engine.Listener() {
                    @Override public void onToken(Engine.Token t) {}
                    @Override public void onFinish(Engine.Finish reason, String error) {}
                });
                var busy = assertThrows(java.util.concurrent.ExecutionException.class, () -> e.unloadAdapter("b").get(60, TimeUnit.SECONDS));
                assertTrue(busy.getCause().getMessage().contains("in use by 1 request"), busy.getCause().getMessage());
                h.cancel();
                e.unloadAdapter("a").get(60, TimeUnit.SECONDS);
                assertEquals(List.of("b"), slots.names());
                var gone = assertThrows(IllegalArgumentException.class, () -> submit(e, p, 6, "a"));
                assertTrue(gone.getMessage().contains("no LoRA adapter named 'a'"), gone.getMessage());
                // the freed slot 0 takes b's weights under another name, and both give b's tokens alongside each other
                assertEquals(0, e.loadAdapter("b2", LoraAdapter.read(dirs.get("b"))).get(60, TimeUnit.SECONDS));
                var f1 = submit(e, p, 6, "b2");
                var f2 = submit(e, p, 6, "b");
                assertArrayEquals(wantB.ids(), f1.get(60, TimeUnit.SECONDS).ids(), "b2 in the freed slot");
                assertArrayEquals(wantB.ids(), f2.get(60, TimeUnit.SECONDS).ids(), "b");
                var unknown = assertThrows(java.util.concurrent.ExecutionException.class, () -> e.unloadAdapter("zz").get(60, TimeUnit.SECONDS));
                assertTrue(unknown.getCause().getMessage().contains("no LoRA adapter named 'zz'"), unknown.getCause().getMessage());
            }
            try (LoraSlots small = LoraSlots.of(model, "llama", Map.of(), 1, 4)) {
                var rank = assertThrows(CheckpointException.class, () -> small.add("b", LoraAdapter.read(dirs.get("b"))));
                assertTrue(rank.getMessage().contains("above the slots' 4"), rank.getMessage());
            }
            try (LoraSlots fixed = LoraSlots.load(model, llama(), Map.of("a", dirs.get("a")))) {   // exactly a's projections: no room for b's
                fixed.remove("a");
                var room = assertThrows(CheckpointException.class, () -> fixed.add("b", LoraAdapter.read(dirs.get("b"))));
                assertTrue(room.getMessage().contains("no room"), room.getMessage());
            }
        }
    }

    @Test
    void whatPerRequestAdaptersRefuseIsNamed() throws Exception {
        Path good = write(specs().get(0));
        try (CpuBackend backend = new CpuBackend(); Weights base = Pretrained.load(llama(), backend, DType.F32)) {
            Transformer model = new Transformer(base, backend);
            // modules_to_save: a whole weight replaced
            Path whole = Files.createDirectories(tmp.resolve("whole"));
            Files.writeString(whole.resolve("adapter_config.json"), "{\"peft_type\": \"LORA\", \"r\": 4, \"lora_alpha\": 8, \"bias\": \"none\"}");
            SafetensorsWriter.write(whole.resolve("adapter_model.safetensors"), Map.of("base_model.model.model.norm.weight", Tensor.ofFloats(new float[64], 64)),
                    Map.of("format", "pt"));
            var e1 = assertThrows(CheckpointException.class, () -> LoraSlots.load(model, llama(), Map.of("w", whole)));
            assertTrue(e1.getMessage().contains("modules_to_save"), e1.getMessage());
            // a module outside the Llama projections (an adapter for another family's names)
            Path other = Files.createDirectories(tmp.resolve("other"));
            Files.writeString(other.resolve("adapter_config.json"), "{\"peft_type\": \"LORA\", \"r\": 2, \"lora_alpha\": 8, \"bias\": \"none\"}");
            SplittableRandom rnd = new SplittableRandom(3);
            SafetensorsWriter.write(other.resolve("adapter_model.safetensors"), Map.of(
                    "base_model.model.transformer.h.0.attn.c_attn.lora_A.weight", LoraAdapterTest.random(rnd, 2, 64),
                    "base_model.model.transformer.h.0.attn.c_attn.lora_B.weight", LoraAdapterTest.random(rnd, 192, 2)), Map.of("format", "pt"));
            var e2 = assertThrows(CheckpointException.class, () -> LoraSlots.load(model, llama(), Map.of("o", other)));
            assertTrue(e2.getMessage().contains("transformer.h.0.attn.c_attn"), e2.getMessage());
            // shapes that do not fit (an adapter of a wider model)
            Path wide = Files.createDirectories(tmp.resolve("wide"));
            Files.writeString(wide.resolve("adapter_config.json"), "{\"peft_type\": \"LORA\", \"r\": 2, \"lora_alpha\": 8, \"bias\": \"none\"}");
            SafetensorsWriter.write(wide.resolve("adapter_model.safetensors"), Map.of(
                    "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", LoraAdapterTest.random(rnd, 2, 128),
                    "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", LoraAdapterTest.random(rnd, 128, 2)), Map.of("format", "pt"));
            var e3 = assertThrows(CheckpointException.class, () -> LoraSlots.load(model, llama(), Map.of("wide", wide)));
            assertTrue(e3.getMessage().contains("do not fit"), e3.getMessage());
            // a fused module the family does not store (Llama's gate_proj and up_proj are apart)
            Path fusedHere = write(new Spec("fused", Map.of("model.layers.0.mlp.gate_up_proj", new double[] {2, 4}), false, 9),
                    Map.of("gate_up_proj", new long[] {192, 64}));
            var e31 = assertThrows(CheckpointException.class, () -> LoraSlots.load(model, llama(), Map.of("f", fusedHere)));
            assertTrue(e31.getMessage().contains("model.layers.0.mlp.gate_up_proj, which llama does not have"), e31.getMessage());
            // a family whose loader reorders or fuses rows
            var e4 = assertThrows(IllegalArgumentException.class, () -> LoraSlots.of(model, "gpt_neox", Map.of("a", LoraAdapter.read(good))));
            assertTrue(e4.getMessage().contains("gpt_neox"), e4.getMessage());
            // a name the engine does not serve
            try (LoraSlots slots = LoraSlots.load(model, llama(), Map.of("a", good)); Engine e = new Engine(model, Engine.Config.defaults(model), slots)) {
                var e5 = assertThrows(IllegalArgumentException.class, () -> submit(e, new int[] {1, 2}, 2, "nope"));
                assertTrue(e5.getMessage().contains("nope") && e5.getMessage().contains("[a]"), e5.getMessage());
                assertEquals(0, slots.slot("a"));
                assertTrue(slots.bytes() > 0);
            }
            try (Engine e = new Engine(model, Engine.Config.defaults(model))) {
                var e6 = assertThrows(IllegalArgumentException.class, () -> submit(e, new int[] {1, 2}, 2, "a"));
                assertTrue(e6.getMessage().contains("serves none"), e6.getMessage());
            }
            // an adapter past the slots whose folder is gone when it is to be swapped in again: its request ends with an
            // error naming the folder, and the engine serves the others on
            Path copy = Files.createDirectories(tmp.resolve("copy"));
            for (String f : new String[] {"adapter_config.json", "adapter_model.safetensors"}) Files.copy(good.resolve(f), copy.resolve(f));
            Map<String, Path> two = new LinkedHashMap<>();
            two.put("lost", copy);
            two.put("a", good);
            try (LoraSlots one = LoraSlots.load(model, llama(), two, 1, 0, 1);
                 Engine e = new Engine(model, Engine.Config.defaults(model), one)) {
                assertEquals(java.util.Arrays.asList("lost"), one.resident());
                assertEquals(List.of("a"), one.hostCached());
                Out viaA = submit(e, new int[] {1, 2}, 2, "a").get(60, TimeUnit.SECONDS);      // a swapped in: lost is neither in a slot nor parsed
                assertEquals(java.util.Arrays.asList("a"), one.resident());
                Path moved = Files.move(copy, tmp.resolve("moved"));
                try {
                    var lost = assertThrows(java.util.concurrent.ExecutionException.class, () -> submit(e, new int[] {1, 2}, 2, "lost").get(60, TimeUnit.SECONDS));
                    assertTrue(lost.getCause().getMessage().contains("LoRA adapter 'lost' could not be read again from " + copy), lost.getCause().getMessage());
                    assertEquals(2, submit(e, new int[] {1, 2}, 2, null).get(60, TimeUnit.SECONDS).ids().length, "the base model is served on");
                    assertArrayEquals(viaA.ids(), submit(e, new int[] {1, 2}, 2, "a").get(60, TimeUnit.SECONDS).ids(), "and adapter a");
                } finally {
                    Files.move(moved, copy);
                }
                assertEquals(2, submit(e, new int[] {1, 2}, 2, "lost").get(60, TimeUnit.SECONDS).ids().length, "its folder back: served again");
            }
        }
    }
}
