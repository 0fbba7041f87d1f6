// ChatModelTest — T4jChatModel and T4jStreamingChatModel answering through langchain4j's AiServices: a tiny
// random GPT-2 folder (GPT-2's real vocabulary through tiktoken), and the reply must be exactly what
// Generator gives, loaded separately, for the prompt written out by hand in PromptFormat.PLAIN's shape.
package org.transformer4j.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.service.AiServices;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.Generator;
import org.transformer4j.model.Gpt2Folders;
import org.transformer4j.model.Pretrained;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.TransformerConfig;
import org.transformer4j.model.Weights;
import org.transformer4j.model.tokenizer.TiktokenTokenizer;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.Backends;

class ChatModelTest {

    interface Assistant {
        String chat(String message);
    }

    interface StreamingAssistant {
        dev.langchain4j.service.TokenStream chat(String message);
    }

    static final int MAX = 12;

    /** GPT-2's shape, shrunk: 2 layers, C=64, 2 heads of 32, 128 positions; GPT-2's 50,257-token vocabulary. */
    static TransformerConfig tinyGpt2() {
        return TransformerConfig.gpt2Small().toBuilder().widths(64, 128, 2).decoderLayers(2).learnedPositions(128).build();
    }

    /** What Generator gives for {@code prompt} on the folder's model, loaded on its own, as text. */
    static String expected(Path dir, Backend cpu, String prompt, List<Integer> idsOut) throws Exception {
        try (Weights w = Pretrained.load(dir, cpu); TiktokenTokenizer tok = TiktokenTokenizer.gpt2()) {
            int eos = w.config.specialIds().eos();
            Generator.Options o = Generator.Options.greedy(MAX).stopIds(Set.of(eos)).stopStrings(Set.of("\nUser:"), ids -> tok.decode(ids, true));
            int[] ids = new Generator(new Transformer(w, cpu)).generate(tok.encode(prompt), o, (s, t) -> {});
            for (int id : ids) idsOut.add(id);
            int n = ids.length > 0 && ids[ids.length - 1] == eos ? ids.length - 1 : ids.length;
            String text = tok.decode(java.util.Arrays.copyOf(ids, n), true);
            int cut = text.indexOf("\nUser:");
            return cut >= 0 ? text.substring(0, cut) : text;
        }
    }

    @Test
    void aiServicesAnswerWithExactlyTheGeneratorsTokens(@TempDir Path dir) throws Exception {
        try (Backend cpu = Backends.select("cpu")) {
            try (Weights w = Weights.random(tinyGpt2(), cpu, 7)) {
                Gpt2Folders.write(w, dir);
            }
            List<Integer> refIds = new ArrayList<>();
            String want = expected(dir, cpu, "User: Where is the train?\n\nAssistant:", refIds);
            assertTrue(!want.isEmpty(), "the random model says something");
            try (T4jDecoder decoder = T4jDecoder.builder().modelFolder(dir).backend(cpu).maxNewTokens(MAX).build()) {
                Assistant a = AiServices.create(Assistant.class, decoder.chatModel());
                assertEquals(want, a.chat("Where is the train?"));

                ChatResponse r = decoder.chatModel().chat(ChatRequest.builder().messages(UserMessage.from("Where is the train?")).build());
                assertEquals(want, r.aiMessage().text());
                assertEquals(refIds.size(), r.tokenUsage().outputTokenCount());
                assertEquals(refIds.size() == MAX ? FinishReason.LENGTH : FinishReason.STOP, r.finishReason());

                StreamingAssistant s = AiServices.create(StreamingAssistant.class, decoder.streamingChatModel());
                StringBuilder parts = new StringBuilder();
                CompletableFuture<ChatResponse> done = new CompletableFuture<>();
                s.chat("Where is the train?").onPartialResponse(parts::append).onCompleteResponse(done::complete)
                        .onError(done::completeExceptionally).start();
                ChatResponse streamed = done.get(60, TimeUnit.SECONDS);
                assertEquals(want, parts.toString(), "the pieces join to the reply");
                assertEquals(want, streamed.aiMessage().text());

                // a shorter limit from the request cuts the reply to that many of the same tokens
                ChatResponse three = decoder.chatModel().chat(ChatRequest.builder().messages(UserMessage.from("Where is the train?"))
                        .maxOutputTokens(3).build());
                assertEquals(3, three.tokenUsage().outputTokenCount());
                assertTrue(want.startsWith(three.aiMessage().text()), three.aiMessage().text());
            }
        }
    }

    /**
     * A folder's generation_config.json lists more end ids than config.json's one (Llama 3.1 Instruct's <|eot_id|>, GLM's
     * <|user|>): the reply ends at the first of any of them, as transformers' generate ends it, with that id left out of
     * the text; without the file, config.json's own list counts.
     */
    @Test
    void aReplyEndsAtEveryIdTheFolderListsAsEndOfSequence(@TempDir Path dir) throws Exception {
        try (Backend cpu = Backends.select("cpu")) {
            try (Weights w = Weights.random(tinyGpt2(), cpu, 7)) {
                Gpt2Folders.write(w, dir);
            }
            List<Integer> free = new ArrayList<>();
            expected(dir, cpu, "User: Where is the train?\n\nAssistant:", free);
            assertTrue(free.size() >= 4, "the random model says at least four tokens: " + free);
            int end = free.get(2);                                   // the reply's third token becomes an end id
            java.nio.file.Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": [50256, " + end + "]}");
            String want;
            int count;
            try (Weights w = Pretrained.load(dir, cpu); TiktokenTokenizer tok = TiktokenTokenizer.gpt2()) {
                int[] ids = new Generator(new Transformer(w, cpu)).generate(tok.encode("User: Where is the train?\n\nAssistant:"),
                        Generator.Options.greedy(MAX).stopIds(Set.of(50256, end)), (q, t) -> {});
                assertEquals(end, ids[ids.length - 1], "the reference ends at the listed id");
                assertTrue(ids.length <= 3 && ids.length < free.size(), "it ends before the free run did");
                count = ids.length;
                want = tok.decode(java.util.Arrays.copyOf(ids, ids.length - 1), true);
            }
            try (T4jDecoder decoder = T4jDecoder.builder().modelFolder(dir).backend(cpu).maxNewTokens(MAX).build()) {
                assertEquals(Set.of(50256, end), decoder.eosIds());
                ChatResponse r = decoder.chatModel().chat(ChatRequest.builder().messages(UserMessage.from("Where is the train?")).build());
                assertEquals(want, r.aiMessage().text());
                assertEquals(count, r.tokenUsage().outputTokenCount());
                assertEquals(FinishReason.STOP, r.finishReason());
            }
            java.nio.file.Files.delete(dir.resolve("generation_config.json"));
            String config = java.nio.file.Files.readString(dir.resolve("config.json"));
            assertTrue(config.startsWith("{") && !config.contains("eos_token_id"), "GPT2Config's default eos (50256) until now");
            java.nio.file.Files.writeString(dir.resolve("config.json"), "{\"eos_token_id\": [50256, " + end + "], " + config.substring(1));
            try (T4jDecoder decoder = T4jDecoder.builder().modelFolder(dir).backend(cpu).maxNewTokens(MAX).build()) {
                assertEquals(Set.of(50256, end), decoder.eosIds(), "config.json's list without generation_config.json");
                assertEquals(want, decoder.chatModel().chat(ChatRequest.builder().messages(UserMessage.from("Where is the train?")).build())
                        .aiMessage().text());
            }
        }
    }

    @Test
    void aFoldersChatTemplateIsTheDefaultPromptFormat(@TempDir Path dir) throws Exception {
        try (Backend cpu = Backends.select("cpu")) {
            try (Weights w = Weights.random(tinyGpt2(), cpu, 11)) {
                Gpt2Folders.write(w, dir);
            }
            java.nio.file.Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": \"{% for m in messages %}"
                    + "<<{{ m.role }}>> {{ m.content | trim }}\\n{% endfor %}{% if add_generation_prompt %}<<assistant>>{% endif %}\"}");
            // The render written out by hand, not through the template engine.
            String prompt = "<<system>> Be brief.\n<<user>> Where is the train?\n<<assistant>>";
            String want;
            try (Weights w = Pretrained.load(dir, cpu); TiktokenTokenizer tok = TiktokenTokenizer.gpt2()) {
                int eos = w.config.specialIds().eos();
                int[] ids = new Generator(new Transformer(w, cpu)).generate(tok.encode(prompt, false),
                        Generator.Options.greedy(MAX).stopIds(Set.of(eos)), (q, t) -> {});
                int n = ids.length > 0 && ids[ids.length - 1] == eos ? ids.length - 1 : ids.length;
                want = tok.decode(java.util.Arrays.copyOf(ids, n), true);
            }
            try (T4jDecoder decoder = T4jDecoder.builder().modelFolder(dir).backend(cpu).maxNewTokens(MAX).build()) {
                assertTrue(decoder.promptFormat().toString().startsWith("PromptFormat.template"), decoder.promptFormat().toString());
                ChatResponse r = decoder.chatModel().chat(ChatRequest.builder().messages(
                        dev.langchain4j.data.message.SystemMessage.from("Be brief."), UserMessage.from("Where is the train?")).build());
                assertEquals(want, r.aiMessage().text());
            }
        }
    }

    @Test
    void badRequestsAreRefusedWithTheReason(@TempDir Path dir) throws Exception {
        try (Backend cpu = Backends.select("cpu"); Weights w = Weights.random(tinyGpt2(), cpu, 8)) {
            Gpt2Folders.write(w, dir);
            try (T4jDecoder decoder = T4jDecoder.builder().modelFolder(dir).backend(cpu).maxNewTokens(4).build()) {
                Exception e = assertThrows(Exception.class, () -> decoder.chatModel().chat(ChatRequest.builder()
                        .messages(UserMessage.from("hi")).toolSpecifications(dev.langchain4j.agent.tool.ToolSpecification.builder()
                                .name("clock").build()).build()));
                assertTrue(e.getMessage().contains("tools"), e.getMessage());
            }
            Exception missing = assertThrows(IllegalArgumentException.class, () -> T4jDecoder.builder().modelFolder(dir.resolve("nope")).build());
            assertTrue(missing.getMessage().contains("nope"), missing.getMessage());
        }
    }

    /**
     * Two chat models over one base model, each through its own LoRA adapter (LoraSlots; the base weights unchanged):
     * each replies as its adapter merged into a copy of the weights by hand (W + s·B·A in float64) replies alone, and
     * a folder-built decoder refuses an adapter (its slots belong to another model).
     */
    @Test
    void chatModelsShareOneBaseThroughTheirOwnAdapters(@TempDir Path dir) throws Exception {
        String[] modules = {"self_attn.q_proj", "self_attn.v_proj", "mlp.gate_proj", "mlp.down_proj"};
        int[][] shapes = {{64, 64}, {64, 64}, {128, 64}, {64, 128}};
        try (Backend cpu = Backends.select("cpu"); Weights base = Weights.random(tinyGpt2(), cpu, 13); TiktokenTokenizer tok = TiktokenTokenizer.gpt2()) {
            Transformer model = new Transformer(base, cpu);
            java.util.Map<String, org.transformer4j.model.LoraAdapter> adapters = new java.util.LinkedHashMap<>();
            java.util.Map<String, java.util.Map<String, float[][]>> values = new java.util.LinkedHashMap<>();
            for (String name : new String[] {"a", "b"}) {
                Path ad = java.nio.file.Files.createDirectories(dir.resolve(name));
                java.nio.file.Files.writeString(ad.resolve("adapter_config.json"), "{\"peft_type\": \"LORA\", \"r\": 4, \"lora_alpha\": 8, \"bias\": \"none\"}");
                java.util.SplittableRandom rnd = new java.util.SplittableRandom(name.hashCode());
                java.util.Map<String, org.transformer4j.runtime.Tensor> t = new java.util.LinkedHashMap<>();
                java.util.Map<String, float[][]> v = new java.util.LinkedHashMap<>();
                for (int l = 0; l < 2; l++) {
                    for (int m = 0; m < modules.length; m++) {
                        float[] a = new float[4 * shapes[m][1]], b = new float[shapes[m][0] * 4];
                        for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextDouble(-0.5, 0.5);
                        for (int i = 0; i < b.length; i++) b[i] = (float) rnd.nextDouble(-0.5, 0.5);
                        String key = "model.layers." + l + "." + modules[m];
                        v.put(key, new float[][] {a, b});
                        t.put("base_model.model." + key + ".lora_A.weight", org.transformer4j.runtime.Tensor.ofFloats(a, 4, shapes[m][1]));
                        t.put("base_model.model." + key + ".lora_B.weight", org.transformer4j.runtime.Tensor.ofFloats(b, shapes[m][0], 4));
                    }
                }
                org.transformer4j.model.weights.SafetensorsWriter.write(ad.resolve("adapter_model.safetensors"), t, java.util.Map.of("format", "pt"));
                adapters.put(name, org.transformer4j.model.LoraAdapter.read(ad));
                values.put(name, v);
            }
            ChatRequest ask = ChatRequest.builder().messages(UserMessage.from("Where is the train?")).build();
            try (org.transformer4j.model.LoraSlots slots = org.transformer4j.model.LoraSlots.of(model, "llama", adapters)) {
                for (String name : new String[] {"a", "b"}) {
                    String want;
                    try (Weights merged = Weights.random(tinyGpt2(), cpu, 13)) {
                        for (var e : values.get(name).entrySet()) {
                            String[] p = e.getKey().split("\\.");
                            Weights.Layer layer = merged.decoder.layers().get(Integer.parseInt(p[2]));
                            org.transformer4j.runtime.Tensor w = switch (p[4]) {
                                case "q_proj" -> layer.self().q();
                                case "v_proj" -> layer.self().v();
                                case "gate_proj" -> layer.mlp().up();           // GPT-2's fc: the activated projection
                                default -> layer.mlp().down();
                            };
                            int out = (int) w.shape(0), in = (int) w.shape(1);
                            float[] wv = w.toFloatArray(), a = e.getValue()[0], b = e.getValue()[1];
                            for (int i = 0; i < out; i++) {
                                for (int j = 0; j < in; j++) {
                                    double d = 0;
                                    for (int k = 0; k < 4; k++) d += (double) b[i * 4 + k] * a[k * in + j];
                                    wv[i * in + j] = (float) (wv[i * in + j] + 2.0 * d);
                                }
                            }
                            w.copyFrom(wv);
                        }
                        try (T4jDecoder alone = T4jDecoder.builder().model(new Transformer(merged, cpu), tok).maxNewTokens(MAX).build()) {
                            want = alone.chatModel().chat(ask).aiMessage().text();
                        }
                    }
                    try (T4jDecoder through = T4jDecoder.builder().model(model, tok).adapter(slots, name).maxNewTokens(MAX).build()) {
                        assertEquals(want, through.chatModel().chat(ask).aiMessage().text(), "adapter " + name);
                        assertEquals(name, through.name());
                    }
                }
                try (T4jDecoder plain = T4jDecoder.builder().model(model, tok).maxNewTokens(MAX).build();
                     T4jDecoder a = T4jDecoder.builder().model(model, tok).adapter(slots, "a").maxNewTokens(MAX).build()) {
                    assertTrue(!plain.chatModel().chat(ask).aiMessage().text().equals(a.chatModel().chat(ask).aiMessage().text()),
                            "the adapter changes the reply");
                }
                Exception e = assertThrows(IllegalStateException.class,
                        () -> T4jDecoder.builder().modelFolder(dir.resolve("gpt2")).backend(cpu).adapter(slots, "a").build());
                assertTrue(e.getMessage().contains("model(transformer, tokenizer)"), e.getMessage());
            }
        }
    }
}
