// LoraServerTest — LoRA adapters served by name beside the base model (vLLM's --lora-modules): a request naming an
// adapter gets the tokens of that adapter merged into the weights by hand (in float64, on a second copy of the model),
// replies and stream chunks carry the adapter's name, /v1/models lists it with its base as parent, and an unknown name
// is a 404 naming everything served.
package org.transformer4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.Generator;
import org.transformer4j.model.LoraAdapter;
import org.transformer4j.model.LoraSlots;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.Weights;
import org.transformer4j.model.engine.Engine;
import org.transformer4j.model.weights.SafetensorsWriter;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.Tensor;

class LoraServerTest {

    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    /** The adapted projections of ServerTest's tiny decoder (out × in): C 64, MLP 128 (not gated: gate_proj is its fc). */
    static final Map<String, int[]> PROJ = Map.of("self_attn.q_proj", new int[] {64, 64}, "self_attn.v_proj", new int[] {64, 64},
            "mlp.gate_proj", new int[] {128, 64}, "mlp.down_proj", new int[] {64, 128});

    /** A PEFT folder (rank 4, alpha 8) adapting every PROJ of both layers with random A and B; their values in {@code ab}. */
    static Path adapter(Path dir, long seed, Map<String, float[][]> ab) throws Exception {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("adapter_config.json"), "{\"peft_type\": \"LORA\", \"r\": 4, \"lora_alpha\": 8, \"bias\": \"none\"}");
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (int l = 0; l < 2; l++) {
            for (var e : new java.util.TreeMap<>(PROJ).entrySet()) {
                String m = "model.layers." + l + "." + e.getKey();
                float[] a = new float[4 * e.getValue()[1]], b = new float[e.getValue()[0] * 4];
                for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextDouble(-0.5, 0.5);
                for (int i = 0; i < b.length; i++) b[i] = (float) rnd.nextDouble(-0.5, 0.5);
                ab.put(m, new float[][] {a, b});
                t.put("base_model.model." + m + ".lora_A.weight", Tensor.ofFloats(a, 4, e.getValue()[1]));
                t.put("base_model.model." + m + ".lora_B.weight", Tensor.ofFloats(b, e.getValue()[0], 4));
            }
        }
        SafetensorsWriter.write(dir.resolve("adapter_model.safetensors"), t, Map.of("format", "pt"));
        return dir;
    }

    /** W += 2 · B · A (alpha 8 / r 4) in float64, in place on a copy of the tiny model's weights. */
    static void mergeByHand(Weights w, Map<String, float[][]> ab) {
        for (var e : ab.entrySet()) {
            String[] p = e.getKey().split("\\.");
            Weights.Layer layer = w.decoder.layers().get(Integer.parseInt(p[2]));
            Tensor target = switch (p[4]) {
                case "q_proj" -> layer.self().q();
                case "v_proj" -> layer.self().v();
                case "gate_proj" -> layer.mlp().up();
                default -> layer.mlp().down();
            };
            int out = (int) target.shape(0), in = (int) target.shape(1);
            float[] wv = target.toFloatArray(), a = e.getValue()[0], b = e.getValue()[1];
            for (int i = 0; i < out; i++) {
                for (int j = 0; j < in; j++) {
                    double d = 0;
                    for (int k = 0; k < 4; k++) d += (double) b[i * 4 + k] * a[k * in + j];
                    wv[i * in + j] = (float) (wv[i * in + j] + 2.0 * d);
                }
            }
            target.copyFrom(wv);
        }
    }

    static int[] generate(Engine e, int[] prompt, int n, String adapter) throws Exception {
        java.util.concurrent.CompletableFuture<int[]> f = new java.util.concurrent.CompletableFuture<>();
        java.util.List<Integer> got = new java.util.ArrayList<>();
        e.submit(new Engine.Request(prompt, Generator.Options.greedy(n)).withAdapter(adapter), new Engine.Listener() {
            @Override public void onToken(Engine.Token t) { got.add(t.id()); }
            @Override public void onFinish(Engine.Finish r, String err) { f.complete(got.stream().mapToInt(Integer::intValue).toArray()); }
        });
        return f.get(60, java.util.concurrent.TimeUnit.SECONDS);
    }

    @Test
    void anAdapterIsServedByItsName() throws Exception {
        Map<String, float[][]> ab = new LinkedHashMap<>();
        Path dir = adapter(tmp.resolve("sql-lora"), 5, ab);
        try (CpuBackend backend = new CpuBackend(); Weights base = Weights.random(ServerTest.gpt2Tiny(), backend, 21);
             Weights merged = Weights.random(ServerTest.gpt2Tiny(), backend, 21)) {
            mergeByHand(merged, ab);
            Transformer model = new Transformer(base, backend), byHand = new Transformer(merged, backend);
            int[] prompt = ServerTest.TOK.encode("select");
            int[] want, plain;
            try (Engine e = new Engine(byHand, Engine.Config.defaults(byHand))) { want = generate(e, prompt, 6, null); }
            try (Engine e = new Engine(model, Engine.Config.defaults(model))) { plain = generate(e, prompt, 6, null); }
            assertNotEquals(java.util.Arrays.toString(want), java.util.Arrays.toString(plain), "the adapter changes the greedy tokens");
            try (LoraSlots slots = LoraSlots.of(model, "llama", Map.of("sql-lora", LoraAdapter.read(dir)));
                 Engine e = new Engine(model, Engine.Config.defaults(model), slots);
                 OpenAiServer s = OpenAiServer.decoder("tiny", e, ServerTest.TOK, null, OpenAiServer.Limits.defaults())) {
                int p = s.start("127.0.0.1", 0);
                String body = "{\"model\":\"%s\",\"prompt\":\"select\",\"max_tokens\":6,\"temperature\":0,\"logprobs\":0,\"ignore_eos\":true}";
                JsonNode r = DeploymentServerTest.status(200, DeploymentServerTest.send(p, "POST", "/v1/completions", body.formatted("sql-lora")));
                assertEquals("sql-lora", r.get("model").asText());
                assertEquals(ServerTest.TOK.decode(want), r.at("/choices/0/text").asText());
                JsonNode b = DeploymentServerTest.status(200, DeploymentServerTest.send(p, "POST", "/v1/completions", body.formatted("tiny")));
                assertEquals("tiny", b.get("model").asText());
                assertEquals(ServerTest.TOK.decode(plain), b.at("/choices/0/text").asText());
                // streamed: every chunk names the adapter
                String sse = DeploymentServerTest.send(p, "POST", "/v1/completions", body.formatted("sql-lora").replace("}", ",\"stream\":true}")).body();
                StringBuilder text = new StringBuilder();
                for (String line : sse.split("\n")) {
                    if (!line.startsWith("data: {")) continue;
                    JsonNode c = JSON.readTree(line.substring(6));
                    assertEquals("sql-lora", c.get("model").asText(), line);
                    text.append(c.at("/choices/0/text").asText(""));
                }
                assertEquals(ServerTest.TOK.decode(want), text.toString());
                JsonNode models = DeploymentServerTest.status(200, DeploymentServerTest.send(p, "GET", "/v1/models", null));
                assertEquals(2, models.get("data").size());
                assertEquals("sql-lora", models.at("/data/1/id").asText());
                assertEquals("tiny", models.at("/data/1/parent").asText());
                assertEquals(dir.toString(), models.at("/data/1/root").asText());
                JsonNode err = DeploymentServerTest.status(404, DeploymentServerTest.send(p, "POST", "/v1/completions", body.formatted("nope"))).get("error");
                assertEquals("The model 'nope' does not exist; this server has 'tiny', 'sql-lora'", err.get("message").asText());
                assertEquals(List.of("tiny"), List.of(models.at("/data/0/id").asText()));
                // /metrics: vLLM's lora_requests_info, with a request of the adapter running
                Engine.Handle h = e.submit(new Engine.Request(prompt, Generator.Options.greedy(150)).withAdapter("sql-lora"), new Engine.Listener() {
                    @Override public void onToken(Engine.Token t) {}
                    @Override public void onFinish(Engine.Finish r, String err) {}
                });
                String want1 = "t4j_lora_requests_info{running_lora_adapters=\"sql-lora\",waiting_lora_adapters=\"\",max_lora=\"1\"} ";
                String metrics = "";
                for (int i = 0; i < 200 && !metrics.contains(want1); i++) {
                    metrics = DeploymentServerTest.send(p, "GET", "/metrics", null).body();
                    if (!metrics.contains(want1)) Thread.sleep(20);
                }
                h.cancel();
                assertTrue(metrics.contains(want1), metrics);
            }
        }
    }

    /**
     * vLLM's runtime LoRA updating: /v1/load_lora_adapter registers an adapter while the server runs (into a free slot,
     * else swapped in when asked), and a request naming it then gets the tokens of the adapter merged by hand;
     * /v1/unload_lora_adapter frees it. vLLM's
     * answers for a name loaded twice, missing fields, an unknown name; without runtime updating the routes are absent.
     */
    @Test
    void adaptersLoadAndUnloadOverHttp() throws Exception {
        Map<String, float[][]> ab = new LinkedHashMap<>();
        Path dir = adapter(tmp.resolve("late"), 9, ab);
        try (CpuBackend backend = new CpuBackend(); Weights base = Weights.random(ServerTest.gpt2Tiny(), backend, 21);
             Weights merged = Weights.random(ServerTest.gpt2Tiny(), backend, 21)) {
            mergeByHand(merged, ab);
            Transformer model = new Transformer(base, backend), byHand = new Transformer(merged, backend);
            int[] prompt = ServerTest.TOK.encode("update");
            int[] want;
            try (Engine e = new Engine(byHand, Engine.Config.defaults(byHand))) { want = generate(e, prompt, 6, null); }
            try (LoraSlots slots = LoraSlots.of(model, "llama", Map.of(), 1, 4);
                 Engine e = new Engine(model, Engine.Config.defaults(model), slots);
                 OpenAiServer s = OpenAiServer.decoder("tiny", e, ServerTest.TOK, null, OpenAiServer.Limits.defaults()).runtimeLoraUpdating(true);
                 OpenAiServer off = OpenAiServer.decoder("tiny", e, ServerTest.TOK, null, OpenAiServer.Limits.defaults())) {
                int p = s.start("127.0.0.1", 0);
                String gen = "{\"model\":\"late\",\"prompt\":\"update\",\"max_tokens\":6,\"temperature\":0,\"ignore_eos\":true}";
                DeploymentServerTest.status(404, DeploymentServerTest.send(p, "POST", "/v1/completions", gen));
                String load = "{\"lora_name\":\"late\",\"lora_path\":\"" + dir.toString().replace("\\", "\\\\") + "\"}";
                var ok = DeploymentServerTest.send(p, "POST", "/v1/load_lora_adapter", load);
                assertEquals(200, ok.statusCode(), ok.body());
                assertEquals("Success: LoRA adapter 'late' added successfully.", ok.body());
                JsonNode r = DeploymentServerTest.status(200, DeploymentServerTest.send(p, "POST", "/v1/completions", gen));
                assertEquals(ServerTest.TOK.decode(want), r.at("/choices/0/text").asText());
                assertEquals("late", DeploymentServerTest.status(200, DeploymentServerTest.send(p, "GET", "/v1/models", null)).at("/data/1/id").asText());
                JsonNode twice = DeploymentServerTest.status(400, DeploymentServerTest.send(p, "POST", "/v1/load_lora_adapter", load)).get("error");
                assertEquals("The lora adapter 'late' has already been loaded.", twice.get("message").asText());
                JsonNode half = DeploymentServerTest.status(400, DeploymentServerTest.send(p, "POST", "/v1/load_lora_adapter", "{\"lora_name\":\"x\"}")).get("error");
                assertEquals("Both 'lora_name' and 'lora_path' must be provided.", half.get("message").asText());
                // more adapters than slots: registered, and swapped into the one slot when a request names it
                var other = DeploymentServerTest.send(p, "POST", "/v1/load_lora_adapter", load.replace("\"late\"", "\"other\""));
                assertEquals(200, other.statusCode(), other.body());
                JsonNode ro = DeploymentServerTest.status(200, DeploymentServerTest.send(p, "POST", "/v1/completions", gen.replace("\"late\"", "\"other\"")));
                assertEquals(ServerTest.TOK.decode(want), ro.at("/choices/0/text").asText(), "other, swapped in");
                assertEquals(1, slots.swaps());
                assertEquals(200, DeploymentServerTest.send(p, "POST", "/v1/unload_lora_adapter", "{\"lora_name\":\"other\"}").statusCode());
                var gone = DeploymentServerTest.send(p, "POST", "/v1/unload_lora_adapter", "{\"lora_name\":\"late\"}");
                assertEquals(200, gone.statusCode(), gone.body());
                assertEquals("Success: LoRA adapter 'late' removed successfully.", gone.body());
                JsonNode again = DeploymentServerTest.status(404, DeploymentServerTest.send(p, "POST", "/v1/unload_lora_adapter", "{\"lora_name\":\"late\"}"))
                        .get("error");
                assertEquals("The lora adapter 'late' cannot be found.", again.get("message").asText());
                DeploymentServerTest.status(404, DeploymentServerTest.send(p, "POST", "/v1/completions", gen));
                int q = off.start("127.0.0.1", 0);
                assertEquals(404, DeploymentServerTest.send(q, "POST", "/v1/load_lora_adapter", load).statusCode(), "no route without runtime updating");
            }
        }
    }
}
