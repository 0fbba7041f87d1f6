// ServeCommandTest — `t4j serve --model DIR` on a real GPT-2 folder (random weights, GPT-2's tokenizer):
// the completion it serves equals Generator run alone on the same prompt, and it stops cleanly.
package org.transformer4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.Generator;
import org.transformer4j.model.Pretrained;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.tokenizer.Tokenizers;
import org.transformer4j.runtime.CpuBackend;
import picocli.CommandLine;

class ServeCommandTest {

    @Test
    void servesAGpt2FolderAndRepliesAsGeneratorAlone(@TempDir Path dir) throws Exception {
        Path model = Gpt2Folder.write(dir.resolve("gpt2"), 4);
        String prompt = "Why do LLMs work?";
        serving(port -> {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + port + "/v1/completions")).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                    "{\"model\": \"gpt2\", \"prompt\": \"" + prompt + "\", \"max_tokens\": 8, \"temperature\": 0}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            JsonNode reply = new ObjectMapper().readTree(r.body());
            String expected;
            try (var tok = Tokenizers.forModel(model); var backend = new CpuBackend(); var weights = Pretrained.load(model, backend)) {
                int[] ids = new Generator(new Transformer(weights, backend)).generate(tok.encode(prompt), Generator.Options.greedy(8), null);
                expected = tok.decode(ids);
            }
            assertEquals(expected, reply.at("/choices/0/text").asText());
            assertEquals(8, reply.at("/usage/completion_tokens").asInt());
        }, "--model", model.toString(), "--kv-memory-mb", "8");
    }

    /**
     * A sentence-transformers folder (CLS pooling, not normalised) served: /v1/embeddings gives the folder's pooling, the
     * [CLS] row of the encoder as the model computes it alone — not the mean-pooled, normalised vector the server gave
     * before it read the folder's modules.
     */
    @Test
    void servesASentenceTransformersFolderAsItPools(@TempDir Path dir) throws Exception {
        Path model = BertFolder.write(dir.resolve("st"), 9);
        java.nio.file.Files.writeString(model.resolve("modules.json"), "[{\"idx\": 0, \"name\": \"0\", \"path\": \"\", \"type\": "
                + "\"sentence_transformers.models.Transformer\"}, {\"idx\": 1, \"name\": \"1\", \"path\": \"1_Pooling\", \"type\": "
                + "\"sentence_transformers.models.Pooling\"}]");
        java.nio.file.Files.createDirectories(model.resolve("1_Pooling"));
        java.nio.file.Files.writeString(model.resolve("1_Pooling/config.json"), "{\"word_embedding_dimension\": 64, \"pooling_mode_cls_token\": true}");
        String sentence = "The cat sat on the mat.";
        serving(port -> {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + port + "/v1/embeddings")).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                    "{\"model\": \"st\", \"input\": \"" + sentence + "\"}")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            JsonNode v = new ObjectMapper().readTree(r.body()).at("/data/0/embedding");
            try (var tok = Tokenizers.forModel(model); var backend = new CpuBackend(); var weights = Pretrained.load(model, backend)) {
                float[] cls = new Transformer(weights, backend).encode(new int[][] {tok.encode(sentence)})[0][0];
                assertEquals(cls.length, v.size());
                for (int c = 0; c < cls.length; c++) assertEquals(cls[c], v.get(c).doubleValue(), 1e-5, "the [CLS] row, not normalised");
            }
        }, "--model", model.toString(), "--name", "st");
    }

    /** `--reranker qwen3` on a decoder folder: /v1/rerank gives DecoderReranker's P(yes) computed in-process; a bad kind is refused. */
    @Test
    void servesADecoderAsAYesNoReranker(@TempDir Path dir) throws Exception {
        Path model = Gpt2Folder.write(dir.resolve("gpt2"), 4, Gpt2Folder.V, 256);        // Qwen3's judging prompt is long
        java.util.List<String> docs = java.util.List.of("Paris is the capital of France.", "Bananas are yellow.");
        serving(port -> {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + port + "/v1/rerank")).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                    "{\"model\": \"gpt2\", \"query\": \"capital of France\", \"documents\": "
                            + new ObjectMapper().writeValueAsString(docs) + "}")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            JsonNode res = new ObjectMapper().readTree(r.body()).get("results");
            try (var tok = Tokenizers.forModel(model); var backend = new CpuBackend(); var weights = Pretrained.load(model, backend)) {
                double[] want = org.transformer4j.model.DecoderReranker.qwen3(new Transformer(weights, backend), tok)
                        .scores("capital of France", docs, null);
                for (JsonNode x : res) assertEquals(want[x.get("index").asInt()], x.get("relevance_score").asDouble(), 1e-9);
            }
        }, "--model", model.toString(), "--reranker", "qwen3");
        assertEquals(1, new CommandLine(new ServeCommand()).execute("--model", model.toString(), "--port", "0", "--reranker", "bge"));
    }

    @Test
    void servesChatThroughTheFoldersTemplate(@TempDir Path dir) throws Exception {
        Path model = ChatFolder.write(dir.resolve("chat"), 5);
        serving(port -> {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + port + "/v1/chat/completions")).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                    "{\"model\": \"chat\", \"messages\": [{\"role\": \"user\", \"content\": \"hello how are you\"}], "
                    + "\"max_tokens\": 4, \"temperature\": 0}")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            JsonNode reply = new ObjectMapper().readTree(r.body());
            // ChatML written out by hand, not through the template engine under test.
            String rendered = "<|im_start|>user\nhello how are you<|im_end|>\n<|im_start|>assistant\n";
            try (var tok = Tokenizers.forModel(model); var backend = new CpuBackend(); var weights = Pretrained.load(model, backend)) {
                int[] prompt = tok.encode(rendered, false);
                assertEquals(prompt.length, reply.at("/usage/prompt_tokens").asInt(), "the prompt is the rendered conversation");
                int[] ids = new Generator(new Transformer(weights, backend)).generate(prompt,
                        Generator.Options.greedy(4).stopIds(java.util.Set.of(ChatFolder.IM_END)), null);
                boolean eos = ids.length > 0 && ids[ids.length - 1] == ChatFolder.IM_END;   // ends the reply, not part of its text
                assertEquals(tok.decode(eos ? java.util.Arrays.copyOf(ids, ids.length - 1) : ids),
                        reply.at("/choices/0/message/content").asText());
                assertEquals(eos ? "stop" : "length", reply.at("/choices/0/finish_reason").asText());
            }
            HttpResponse<String> tools = chat(port, "chat", ", \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}]");
            assertEquals(400, tools.statusCode(), "tool_choice \"auto\" without --enable-auto-tool-choice, as vLLM answers it: " + tools.body());
            assertTrue(tools.body().contains("--enable-auto-tool-choice"), tools.body());
        }, "--model", model.toString(), "--kv-memory-mb", "8");
    }

    /**
     * vLLM's flags a moved command line often carries: --trust-remote-code, --[no-]enable-prefix-caching and parallel sizes
     * of 1 are taken; larger parallel sizes and --gpu-memory-utilization are refused by name (with what to do), not
     * picocli's bare "Unknown option".
     */
    @Test
    void vllmFlagsAreTakenOrRefusedByName() {
        ServeCommand ok = new ServeCommand();
        new CommandLine(ok).parseArgs("--model", "m", "--trust-remote-code", "--enable-prefix-caching", "-tp", "1", "--pipeline-parallel-size", "1");
        ok.checkVllmFlags();
        assertTrue(ok.prefixCaching);
        ServeCommand off = new ServeCommand();
        new CommandLine(off).parseArgs("--model", "m", "--no-enable-prefix-caching");
        assertTrue(!off.prefixCaching, "--no-enable-prefix-caching turns it off");
        ServeCommand plain = new ServeCommand();
        new CommandLine(plain).parseArgs("--model", "m");
        assertTrue(plain.prefixCaching, "on by default");
        String[][] refused = {{"--tensor-parallel-size", "2"}, {"-pp", "4"}, {"--gpu-memory-utilization", "0.9"}};
        String[] says = {"one device", "one device", "--kv-memory-mb"};
        String[] named = {"--tensor-parallel-size", "--pipeline-parallel-size", "--gpu-memory-utilization"};
        for (int i = 0; i < refused.length; i++) {
            ServeCommand c = new ServeCommand();
            String[] args = java.util.stream.Stream.concat(java.util.stream.Stream.of("--model", "m"), java.util.Arrays.stream(refused[i])).toArray(String[]::new);
            new CommandLine(c).parseArgs(args);
            var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, c::checkVllmFlags);
            assertTrue(e.getMessage().contains(named[i]) && e.getMessage().contains(says[i]), e.getMessage());
        }
    }

    /** config.json's Matryoshka fields as vLLM reads them: the sizes listed, any size (is_matryoshka), or none. */
    @Test
    void matryoshkaDimensionsComeFromConfigJson(@TempDir Path dir) throws Exception {
        assertEquals(null, ServeCommand.matryoshka(dir), "no config.json");
        java.nio.file.Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"bert\", \"matryoshka_dimensions\": [768, 512, 256]}");
        assertEquals(java.util.List.of(768, 512, 256), ServeCommand.matryoshka(dir));
        java.nio.file.Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"bert\", \"is_matryoshka\": true}");
        assertEquals(java.util.List.of(), ServeCommand.matryoshka(dir));
        java.nio.file.Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"bert\"}");
        assertEquals(null, ServeCommand.matryoshka(dir));
        java.nio.file.Files.writeString(dir.resolve("config.json"), "{\"matryoshka_dimensions\": [0]}");
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> ServeCommand.matryoshka(dir));
    }

    /**
     * vLLM's continue_final_message through the folder's template: the conversation rendered without a generation prompt
     * and cut after the final (assistant) message's text, as transformers' apply_chat_template does — ChatML written out
     * by hand; on /tokenize and on a chat completion (its prompt tokens); with add_generation_prompt true or left to its
     * default true, the 400s of vLLM and of transformers.
     */
    @Test
    void continueFinalMessageLeavesTheLastMessageOpen(@TempDir Path dir) throws Exception {
        Path model = ChatFolder.write(dir.resolve("chat"), 5);
        String messages = "\"messages\": [{\"role\": \"user\", \"content\": \"hello how are you\"}, {\"role\": \"assistant\", \"content\": \"I am \"}]";
        serving(port -> {
            String rendered = "<|im_start|>user\nhello how are you<|im_end|>\n<|im_start|>assistant\nI am";
            int[] want;
            try (var tok = Tokenizers.forModel(model)) {
                want = tok.encode(rendered, false);
            }
            assertChatPrompt(port, messages + ", \"add_generation_prompt\": false, \"continue_final_message\": true", want);
            HttpResponse<String> both = post(port, "/v1/chat/completions", "{\"model\": \"chat\", " + messages + ", \"add_generation_prompt\": true,"
                    + " \"continue_final_message\": true}");
            assertEquals(400, both.statusCode());
            assertTrue(both.body().contains("Cannot set both"), both.body());
            HttpResponse<String> byDefault = post(port, "/v1/chat/completions", "{\"model\": \"chat\", " + messages + ", \"continue_final_message\": true}");
            assertEquals(400, byDefault.statusCode());
            assertTrue(byDefault.body().contains("are not compatible"), byDefault.body());
        }, "--model", model.toString(), "--kv-memory-mb", "8");
    }

    /**
     * vLLM's --[no-]enable-chunked-prefill: on by default (chunks under --max-num-batched-tokens, mixed with decode rows);
     * off, each prompt is prefilled whole in one step (the step's tokens = --max-num-batched-tokens, or the larger of 2048
     * and the context length) and a step's prompts run apart from its decode rows; a budget below the context length is
     * refused with vLLM's reason, and a folder served so replies as it does by default.
     */
    @Test
    void chunkedPrefillIsOnByDefaultAndOffPrefillsWholePromptsApart(@TempDir Path dir) throws Exception {
        Path model = ChatFolder.write(dir.resolve("chat"), 5);
        try (var cpu = new org.transformer4j.runtime.CpuBackend();
             var w = org.transformer4j.model.Weights.random(org.transformer4j.model.TransformerConfig.builder().vocabSize(64)
                     .widths(32, 64, 2).encoderLayers(0).decoderLayers(1)
                     .norm(org.transformer4j.model.TransformerConfig.NormKind.LAYER_NORM, org.transformer4j.model.TransformerConfig.NormPlacement.PRE, 1e-5f)
                     .activation(org.transformer4j.model.TransformerConfig.Activation.GELU_TANH, false).learnedPositions(160).biases(true)
                     .tiedEmbeddings(true, 1f).specialIds(new org.transformer4j.model.TransformerConfig.SpecialIds(0, 1, 2, 1, 3)).build(), cpu, 3)) {
            var m = new org.transformer4j.model.Transformer(w, cpu);
            ServeCommand on = new ServeCommand();
            new CommandLine(on).parseArgs("--model", "m", "--enable-chunked-prefill");
            var d = org.transformer4j.model.engine.Engine.Config.defaults(m);
            var c = on.engineConfig(m, 0, null);
            assertTrue(c.mixedSteps() && c.stepTokens() == d.stepTokens() && c.prefillChunk() == d.prefillChunk(), c.toString());
            ServeCommand off = new ServeCommand();
            new CommandLine(off).parseArgs("--model", "m", "--no-enable-chunked-prefill", "--max-num-batched-tokens", "4096");
            c = off.engineConfig(m, 0, null);
            assertTrue(!c.mixedSteps() && c.stepTokens() == 4096 && c.prefillChunk() == 4096, c.toString());
            ServeCommand offDefault = new ServeCommand();
            new CommandLine(offDefault).parseArgs("--model", "m", "--no-enable-chunked-prefill");
            c = offDefault.engineConfig(m, 3000, null);
            assertTrue(!c.mixedSteps() && c.stepTokens() == 3000 && c.prefillChunk() == 3000, "the context length: " + c);
        }
        ServeCommand small = new ServeCommand();
        new CommandLine(small).parseArgs("--model", model.toString(), "--no-enable-chunked-prefill", "--max-num-batched-tokens", "32",
                "--max-model-len", "64", "--kv-memory-mb", "8");
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, small::call);
        assertTrue(e.getMessage().contains("--max-num-batched-tokens (32) is smaller than the context length (64)"), e.getMessage());
        serving(port -> {
            HttpResponse<String> r = post(port, "/v1/chat/completions", "{\"model\": \"chat\", \"messages\": [{\"role\": \"user\","
                    + " \"content\": \"hello how are you\"}], \"max_tokens\": 3, \"temperature\": 0}");
            assertEquals(200, r.statusCode(), r.body());
        }, "--model", model.toString(), "--kv-memory-mb", "8", "--no-enable-chunked-prefill", "--max-model-len", "64");
    }

    /**
     * vLLM's add_special_tokens on chat: false by default (the template writes the special tokens), true puts the
     * tokenizer's own (here a post-processor's leading {@code <|im_start|>}, as Llama 3's BOS) on top of the template's —
     * on /tokenize and in a chat completion's prompt tokens; a non-boolean is a 400.
     */
    @Test
    void addSpecialTokensPutsTheTokenizersOwnOnTopOfTheTemplates(@TempDir Path dir) throws Exception {
        Path model = ChatFolder.withBosProcessor(ChatFolder.write(dir.resolve("chat"), 5));
        String messages = "\"messages\": [{\"role\": \"user\", \"content\": \"hello how are you\"}]";
        serving(port -> {
            String rendered = "<|im_start|>user\nhello how are you<|im_end|>\n<|im_start|>assistant\n";
            int[] bare, withBos;
            try (var tok = Tokenizers.forModel(model)) {
                bare = tok.encode(rendered, false);
                withBos = tok.encode(rendered, true);
            }
            assertEquals(bare.length + 1, withBos.length, "the folder's post-processor adds one token");
            assertEquals(ChatFolder.IM_START, withBos[0]);
            for (String flag : new String[] {"", ", \"add_special_tokens\": false", ", \"add_special_tokens\": true"}) {
                assertChatPrompt(port, messages + flag, flag.contains("true") ? withBos : bare);
            }
            HttpResponse<String> bad = post(port, "/v1/chat/completions", "{\"model\": \"chat\", " + messages + ", \"add_special_tokens\": 1}");
            assertEquals(400, bad.statusCode());
            assertTrue(bad.body().contains("add_special_tokens must be a boolean"), bad.body());
        }, "--model", model.toString(), "--kv-memory-mb", "8");
    }

    /**
     * A chat request of these fields (messages and options) renders to {@code want}: /tokenize gives exactly those ids and
     * a chat completion counts them as its prompt tokens.
     */
    static void assertChatPrompt(int port, String fields, int[] want) throws Exception {
        HttpResponse<String> t = post(port, "/tokenize", "{\"model\": \"chat\", " + fields + "}");
        assertEquals(200, t.statusCode(), t.body());
        JsonNode tokens = new ObjectMapper().readTree(t.body()).get("tokens");
        assertEquals(want.length, tokens.size(), fields + ": " + t.body());
        for (int i = 0; i < want.length; i++) assertEquals(want[i], tokens.get(i).asInt(), fields + ": token " + i);
        HttpResponse<String> r = post(port, "/v1/chat/completions", "{\"model\": \"chat\", " + fields + ", \"max_tokens\": 2, \"temperature\": 0}");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(want.length, new ObjectMapper().readTree(r.body()).at("/usage/prompt_tokens").asInt(), fields);
    }

    /**
     * --reasoning-parser: a named parser, none, or by default gpt_oss for a gpt-oss folder only (vLLM always splits gpt-oss
     * replies; a Qwen3 folder may be an instruct model that never thinks); an unknown name fails naming the parsers.
     */
    @Test
    void theReasoningParserIsNamedOrGptOssByDefault(@TempDir Path dir) throws Exception {
        java.nio.file.Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"gpt_oss\"}");
        ServeCommand cmd = new ServeCommand();
        assertEquals("gpt_oss", cmd.reasoningParser(dir).name());
        cmd.reasoningParser = "none";
        assertEquals(null, cmd.reasoningParser(dir));
        cmd.reasoningParser = "deepseek_r1";
        assertEquals("deepseek_r1", cmd.reasoningParser(dir).name());
        java.nio.file.Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"qwen3\"}");
        cmd.reasoningParser = null;
        assertEquals(null, cmd.reasoningParser(dir));
        cmd.reasoningParser = "qwen";
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> cmd.reasoningParser(dir));
        assertTrue(e.getMessage().contains("unknown reasoning parser 'qwen'; the parsers are: qwen3, deepseek_r1"), e.getMessage());
        assertEquals(1, new CommandLine(new ServeCommand()).setErr(new java.io.PrintWriter(java.io.Writer.nullWriter()))
                .execute("--model", dir.toString(), "--port", "0", "--reasoning-parser", "qwen"), "a bad name stops serve before it loads");
    }

    /**
     * {@code --cache-generated} (off on the CPU by default): a second request whose prompt repeats the first's prompt and
     * reply (token ids) takes the reply's full blocks from the prefix cache too, as /metrics counts; without it only the
     * first prompt's blocks.
     */
    @Test
    void cacheGeneratedLetsTheNextTurnTakeTheReplysBlocks(@TempDir Path dir) throws Exception {
        Path model = Gpt2Folder.write(dir.resolve("gpt2"), 4, Gpt2Folder.V, 256);
        String prompt = "Why do LLMs work? Because they predict the next token, over and over again.";
        for (boolean cached : new boolean[] {false, true}) {
            serving(port -> {
                HttpResponse<String> r = post(port, "/v1/completions", "{\"model\": \"gpt2\", \"prompt\": \"" + prompt
                        + "\", \"max_tokens\": 40, \"temperature\": 0}");
                assertEquals(200, r.statusCode(), r.body());
                int n = new ObjectMapper().readTree(r.body()).at("/usage/completion_tokens").asInt();
                int[] first, reply;
                try (var tok = Tokenizers.forModel(model); var backend = new CpuBackend(); var weights = Pretrained.load(model, backend)) {
                    first = tok.encode(prompt);
                    reply = new Generator(new Transformer(weights, backend)).generate(first, Generator.Options.greedy(n), null);
                }
                int[] next = java.util.Arrays.copyOf(first, first.length + n + 3);
                System.arraycopy(reply, 0, next, first.length, n);
                for (int i = 0; i < 3; i++) next[first.length + n + i] = 100 + i;
                long hits = metric(port, "t4j_prefix_cache_hits_total");
                HttpResponse<String> r2 = post(port, "/v1/completions", "{\"model\": \"gpt2\", \"prompt\": "
                        + java.util.Arrays.toString(next) + ", \"max_tokens\": 2, \"temperature\": 0}");
                assertEquals(200, r2.statusCode(), r2.body());
                int minChunkRows = org.transformer4j.runtime.cpu.CpuKernels.smallMRows();      // the CPU engine's default
                int shareable = next.length < minChunkRows ? (next.length - 1) / 16 : (next.length - minChunkRows) / 16;
                int cachedRows = cached ? first.length + n - 1 : first.length;                   // the last token was not fed back
                assertEquals(Math.min(shareable, cachedRows / 16), metric(port, "t4j_prefix_cache_hits_total") - hits,
                        "cache-generated " + cached + ": " + first.length + " prompt tokens, " + n + " generated, next prompt " + next.length);
            }, "--model", model.toString(), "--kv-memory-mb", "8", cached ? "--cache-generated" : "--no-cache-generated");
        }
    }

    /** GET /tokenizer_info on a folder: tokenizer_config.json's fields as vLLM gives them (lm-eval's remote tokenizer reads them). */
    @Test
    void tokenizerInfoIsTheFoldersTokenizerConfig(@TempDir Path dir) throws Exception {
        Path model = ChatFolder.write(dir.resolve("chat"), 5);
        serving(port -> {
            JsonNode info = new ObjectMapper().readTree(HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + port + "/tokenizer_info")).build(), HttpResponse.BodyHandlers.ofString()).body());
            assertEquals("<|im_end|>", info.get("eos_token").asText());
            assertEquals(ChatFolder.TEMPLATE, info.get("chat_template").asText());
            assertTrue(info.get("bos_token").isNull());
            JsonNode t = new ObjectMapper().readTree(post(port, "/tokenize", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}").body());
            try (var tok = Tokenizers.forModel(model)) {
                assertEquals(new ObjectMapper().valueToTree(tok.encode("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", false)), t.get("tokens"),
                        "the folder's template, rendered");
            }
        }, "--model", model.toString(), "--kv-memory-mb", "8");
    }

    /**
     * {@code --speculative-config} (vLLM's JSON, ngram): a greedy completion of a prompt that repeats itself is Generator's
     * reply alone, drafts are proposed (/metrics counts them); other methods and unknown keys are refused before loading.
     */
    @Test
    void speculativeConfigServesGreedyRepliesAsAlone(@TempDir Path dir) throws Exception {
        Path model = Gpt2Folder.write(dir.resolve("gpt2"), 4, Gpt2Folder.V, 256);
        String prompt = "one two three one two three one two three one two";
        serving(port -> {
            HttpResponse<String> r = post(port, "/v1/completions", "{\"model\": \"gpt2\", \"prompt\": \"" + prompt
                    + "\", \"max_tokens\": 24, \"temperature\": 0}");
            assertEquals(200, r.statusCode(), r.body());
            try (var tok = Tokenizers.forModel(model); var backend = new CpuBackend(); var weights = Pretrained.load(model, backend)) {
                int[] ids = new Generator(new Transformer(weights, backend)).generate(tok.encode(prompt), Generator.Options.greedy(24), null);
                assertEquals(tok.decode(ids), new ObjectMapper().readTree(r.body()).at("/choices/0/text").asText());
            }
            assertTrue(metric(port, "t4j_spec_decode_draft_tokens_total") > 0, "drafts from the repeated prompt");
        }, "--model", model.toString(), "--kv-memory-mb", "8", "--speculative-config",
                "{\"method\": \"ngram\", \"num_speculative_tokens\": 3, \"prompt_lookup_max\": 3, \"prompt_lookup_min\": 1}");
        for (String bad : new String[] {"{\"method\": \"eagle\", \"num_speculative_tokens\": 3}", "{\"method\": \"ngram\"}",
                "{\"method\": \"ngram\", \"num_speculative_tokens\": 3, \"draft_tensor_parallel_size\": 1}", "{ngram"}) {
            java.io.StringWriter err = new java.io.StringWriter();
            CommandLine cl = new CommandLine(new ServeCommand());
            cl.setErr(new java.io.PrintWriter(err));
            assertEquals(1, cl.execute("--model", model.toString(), "--port", "0", "--speculative-config", bad), bad);
        }
    }

    static HttpResponse<String> post(int port, String path, String body) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static long metric(int port, String name) throws Exception {
        String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        for (String line : body.split("\n")) if (line.startsWith(name + " ")) return Long.parseLong(line.substring(name.length() + 1));
        throw new AssertionError(name + " not in /metrics");
    }

    static HttpResponse<String> chat(int port, String model, String extra) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"model\": \"" + model + "\", "
                        + "\"messages\": [{\"role\": \"user\", \"content\": \"hello\"}], \"max_tokens\": 3, \"temperature\": 0" + extra + "}")).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** `--enable-auto-tool-choice --tool-call-parser hermes`: a chat request with tools is served (the parser reads its reply). */
    @Test
    void servesToolRequestsWithAToolCallParser(@TempDir Path dir) throws Exception {
        Path model = ChatFolder.write(dir.resolve("chat"), 5);
        serving(port -> {
            HttpResponse<String> r = chat(port, "chat", ", \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}]");
            assertEquals(200, r.statusCode(), r.body());
            JsonNode reply = new ObjectMapper().readTree(r.body());
            assertTrue(java.util.Set.of("stop", "length").contains(reply.at("/choices/0/finish_reason").asText()), "a random model calls no tool: " + r.body());
            assertEquals(400, chat(port, "chat", ", \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}], "
                    + "\"tool_choice\": \"required\"").statusCode(), "\"required\" needs guided decoding");
        }, "--model", model.toString(), "--kv-memory-mb", "8", "--enable-auto-tool-choice", "--tool-call-parser", "hermes");
    }

    /**
     * --tool-call-parser and --enable-auto-tool-choice are checked before the model loads: an unknown parser (the message
     * names them), the flag without a parser (vLLM refuses it too), and openai without the gpt_oss reasoning parser.
     */
    @Test
    void toolCallOptionsAreCheckedBeforeTheModelLoads(@TempDir Path dir) throws Exception {
        java.nio.file.Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"qwen3\"}");      // no weights: loading would fail otherwise
        assertTrue(serveError(dir, "--tool-call-parser", "qwen").contains("unknown tool-call parser 'qwen'; the parsers are: hermes, llama3_json"));
        assertTrue(serveError(dir, "--enable-auto-tool-choice").contains("--enable-auto-tool-choice needs --tool-call-parser"));
        assertTrue(serveError(dir, "--tool-call-parser", "openai").contains("--tool-call-parser openai reads harmony messages"));
        java.nio.file.Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"gpt_oss\"}");
        assertTrue(serveError(dir, "--tool-call-parser", "openai", "--reasoning-parser", "none").contains("needs --reasoning-parser gpt_oss"));
        String loading = serveError(dir, "--tool-call-parser", "openai");                                   // gpt_oss is the default here
        assertFalse(loading.contains("harmony"), "it went on to load the folder (which has no weights): " + loading);
    }

    static HttpResponse<String> send(int port, String method, String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) b.header("Content-Type", "application/json");
        if (headers.length > 0) b.headers(headers);
        return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * What running the server for others takes, as vLLM's options: --served-model-name with two names, --max-model-len (the
     * context every reply and /v1/models report; past it, vLLM's words), --api-key (twice; /health stays open), and
     * --allowed-origins (a preflight from that origin answered without a key).
     */
    @Test
    void deploymentOptionsAreVllms(@TempDir Path dir) throws Exception {
        Path model = ChatFolder.write(dir.resolve("chat"), 5);
        serving(port -> {
            String auth = "Bearer sk-two";
            JsonNode models = new ObjectMapper().readTree(send(port, "GET", "/v1/models", null, "Authorization", auth).body());
            assertEquals("chat-model", models.at("/data/0/id").asText(), models.toString());
            assertEquals("org/chat", models.at("/data/1/id").asText());
            assertEquals(100, models.at("/data/0/max_model_len").asInt());
            String body = "{\"model\": \"org/chat\", \"prompt\": \"hello\", \"max_tokens\": 100}";
            assertEquals(401, send(port, "POST", "/v1/completions", body).statusCode());
            assertEquals(401, send(port, "POST", "/v1/completions", body, "Authorization", "Bearer sk-three").statusCode());
            HttpResponse<String> tooLong = send(port, "POST", "/v1/completions", body, "Authorization", "Bearer sk-one");
            assertEquals(400, tooLong.statusCode(), tooLong.body());
            assertTrue(tooLong.body().contains("is too large: 100. This model's maximum context length is 100 tokens"), tooLong.body());
            HttpResponse<String> ok = send(port, "POST", "/v1/completions", body.replace("100}", "3}"), "Authorization", auth);
            assertEquals(200, ok.statusCode(), ok.body());
            assertEquals("chat-model", new ObjectMapper().readTree(ok.body()).get("model").asText());
            assertEquals(200, send(port, "GET", "/health", null).statusCode());
            HttpResponse<String> pre = send(port, "OPTIONS", "/v1/completions", null, "Origin", "https://app.example",
                    "Access-Control-Request-Method", "POST");
            assertEquals(200, pre.statusCode());
            assertEquals(java.util.Optional.of("https://app.example"), pre.headers().firstValue("Access-Control-Allow-Origin"));
        }, "--model", model.toString(), "--kv-memory-mb", "8", "--served-model-name", "chat-model", "org/chat", "--max-model-len", "100",
                "--api-key", "sk-one", "--api-key", "sk-two", "--allowed-origins", "[\"https://app.example\"]");
    }

    /**
     * --max-model-len beyond the model's positions is refused by name (beyond what --kv-memory-mb holds: OpenAiServer's
     * check, DeploymentServerTest; this folder's 1 KiB per token fills no MiB at 256 positions).
     */
    @Test
    void aContextLongerThanThePositionsIsRefused(@TempDir Path dir) throws Exception {
        Path model = ChatFolder.write(dir.resolve("chat"), 5);
        String past = serveError(model, "--max-model-len", "257", "--kv-memory-mb", "8");
        assertTrue(past.contains("--max-model-len 257 is more than the model's 256 positions"), past);
    }

    /** Options only a generating decoder reads are refused on an encoder folder, naming them, not silently dropped. */
    @Test
    void decoderOptionsOnAnEncoderAreRefused(@TempDir Path dir) throws Exception {
        Path model = BertFolder.write(dir.resolve("bert"), 9);
        String err = serveError(model, "--max-model-len", "100", "--chat-template", "{{ x }}");
        assertTrue(err.contains("--max-model-len, --chat-template: for decoder folders that generate; an encoder folder is served here"), err);
    }

    /** vLLM's --max-model-len forms; bad keys, origins and lengths fail before the model loads. */
    @Test
    void deploymentOptionsAreCheckedBeforeTheModelLoads(@TempDir Path dir) throws Exception {
        assertEquals(8000, ServeCommand.contextLength("8k"));
        assertEquals(8192, ServeCommand.contextLength("8K"));
        assertEquals(1500, ServeCommand.contextLength("1.5k"));
        assertEquals(2 << 20, ServeCommand.contextLength("2M"));
        assertEquals(4096, ServeCommand.contextLength("4096"));
        assertEquals(0, ServeCommand.contextLength("auto"));
        assertEquals(0, ServeCommand.contextLength("-1"));
        java.nio.file.Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"qwen3\"}");      // no weights: loading would fail otherwise
        for (String bad : new String[] {"0", "1.5", "12x", "3G"}) {
            assertTrue(serveError(dir, "--max-model-len", bad).contains("--max-model-len must be"), bad);
        }
        assertTrue(serveError(dir, "--api-key", "sk key").contains("printable ASCII without spaces"));
        assertTrue(serveError(dir, "--allowed-origins", "https://app.example").contains("--allowed-origins is not valid JSON"));
        assertTrue(serveError(dir, "--allowed-origins", "{}").contains("--allowed-origins must be a JSON list"));
        assertTrue(serveError(dir, "--allowed-origins", "[\"app.example\"]").contains("scheme://host[:port]"));
        assertTrue(serveError(dir, "--chat-template", "no-such-template.jinja").contains("looks like a path, but no such file exists"));
        assertTrue(serveError(dir, "--max-num-batched-tokens", "0").contains("--max-num-batched-tokens must be ≥ 1"));
        assertTrue(serveError(dir, "--lora-modules", "sql").contains("NAME=DIR pairs"));
        assertTrue(serveError(dir, "--lora-modules", "sql=" + dir.resolve("nowhere")).contains("is not a folder"));
        assertTrue(serveError(dir, "--lora-modules", "a=" + dir, "a=" + dir).contains("names adapter 'a' twice"));
        assertTrue(serveError(dir, "--lora-modules", "a=" + dir, "--lora", dir.toString()).contains("give one of them"));
        assertTrue(serveError(dir, "--allow-runtime-lora-updating", "--lora", dir.toString()).contains("give one of them"));
        assertTrue(serveError(dir, "--allow-runtime-lora-updating", "--max-loras", "0").contains("--max-loras must be ≥ 1"));
        assertTrue(serveError(dir, "--allow-runtime-lora-updating", "--max-loras", "2", "--max-cpu-loras", "1")
                .contains("--max-cpu-loras (1) must be ≥ --max-loras (2)"));
        assertTrue(serveError(dir, "--allow-runtime-lora-updating", "--max-lora-rank", "0").contains("--max-lora-rank must be ≥ 1"));
        ServeCommand cmd = new ServeCommand();
        cmd.apiKeys = java.util.List.of("sk-flag");
        cmd.environment = name -> name.equals("T4J_API_KEY") ? "sk-env" : null;
        assertEquals(java.util.List.of("sk-flag", "sk-env"), cmd.keys(), "T4J_API_KEY adds one");
    }

    /**
     * --chat-template replaces the folder's template (or gives one to a folder without): inline (text with braces) or from
     * a file, rendered with the folder's special tokens; /tokenizer_info reports the one in use.
     */
    @Test
    void aChatTemplateOptionReplacesTheFoldersTemplate(@TempDir Path dir) throws Exception {
        Path model = ChatFolder.write(dir.resolve("chat"), 5);
        String template = "{% for m in messages %}[{{ m.role }}]{{ m.content }}{{ eos_token }}{% endfor %}";
        Path file = dir.resolve("plain.jinja");
        java.nio.file.Files.writeString(file, template);
        for (String option : new String[] {template, file.toString()}) {
            serving(port -> {
                HttpResponse<String> r = chat(port, "chat", "");
                assertEquals(200, r.statusCode(), r.body());
                try (var tok = Tokenizers.forModel(model)) {
                    String eos = org.transformer4j.model.tokenizer.TokenizerConfig.readIfPresent(model).orElseThrow().templateVariables().get("eos_token").toString();
                    int[] prompt = tok.encode("[user]hello" + eos, false);        // the template written out by hand
                    assertEquals(prompt.length, new ObjectMapper().readTree(r.body()).at("/usage/prompt_tokens").asInt(), r.body());
                }
                JsonNode info = new ObjectMapper().readTree(send(port, "GET", "/tokenizer_info", null).body());
                assertEquals(template, info.get("chat_template").asText());
            }, "--model", model.toString(), "--kv-memory-mb", "8", "--chat-template", option);
        }
    }

    /**
     * --shutdown-timeout, on a real process: SIGTERM while a streamed request (8 choices × 200 tokens) is in flight — the
     * server refuses new requests (503, /health 503) and the stream runs to its end ([DONE], every choice finished) before
     * the process exits.
     */
    @Test
    void sigtermDrainsTheRequestsInFlight(@TempDir Path dir) throws Exception {
        Path model = Gpt2Folder.write(dir.resolve("gpt2"), 4, Gpt2Folder.V, 256);
        Path err = dir.resolve("stderr.txt");
        Process p = new ProcessBuilder(CliProcess.command("serve", "--model", model.toString(), "--port", "0", "--kv-memory-mb", "64",
                "--shutdown-timeout", "120")).redirectErrorStream(false).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(err.toFile()).start();
        try {
            java.util.regex.Matcher listening = null;
            long end = System.nanoTime() + 120_000_000_000L;
            while (System.nanoTime() < end && p.isAlive()) {
                listening = java.util.regex.Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)/v1").matcher(java.nio.file.Files.readString(err));
                if (listening.find()) break;
                listening = null;
                Thread.sleep(50);
            }
            assertTrue(listening != null, "the server started: " + java.nio.file.Files.readString(err));
            int port = Integer.parseInt(listening.group(1));
            HttpResponse<java.util.stream.Stream<String>> stream = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                    "http://127.0.0.1:" + port + "/v1/completions")).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                    "{\"model\": \"gpt2\", \"prompt\": \"Once upon a time\", \"max_tokens\": 200, \"temperature\": 1, \"seed\": 3, \"n\": 8,"
                    + " \"stream\": true}")).build(), HttpResponse.BodyHandlers.ofLines());
            assertEquals(200, stream.statusCode());
            java.util.Iterator<String> lines = stream.body().iterator();
            java.util.List<String> events = new java.util.ArrayList<>();
            while (lines.hasNext() && events.isEmpty()) {
                String l = lines.next();
                if (l.startsWith("data: ")) events.add(l);
            }
            p.destroy();                                                                  // SIGTERM
            end = System.nanoTime() + 60_000_000_000L;
            int health = 200;
            while (health == 200 && System.nanoTime() < end) {
                health = send(port, "GET", "/health", null).statusCode();
                if (health == 200) Thread.sleep(5);
            }
            assertEquals(503, health, "draining");
            assertEquals(503, send(port, "POST", "/v1/completions", "{\"model\": \"gpt2\", \"prompt\": \"hi\"}").statusCode());
            lines.forEachRemaining(l -> { if (l.startsWith("data: ")) events.add(l); });
            assertEquals("data: [DONE]", events.get(events.size() - 1), "the stream ran to its end");
            java.util.Set<Integer> finished = new java.util.HashSet<>();
            for (String e : events.subList(0, events.size() - 1)) {
                JsonNode c = new ObjectMapper().readTree(e.substring(6)).at("/choices/0");
                if (!c.path("finish_reason").isNull() && !c.path("finish_reason").isMissingNode()) finished.add(c.get("index").asInt());
            }
            assertEquals(8, finished.size(), "every choice finished");
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the process exits once drained");
            String log = java.nio.file.Files.readString(err);
            assertTrue(log.contains("t4j serve: stopping; waiting up to 120 s for 1 request in flight"), log);
        } finally {
            p.destroyForcibly();
        }
    }

    /**
     * The access log (a line per request: address, method, path, status, milliseconds — no body) and the engine's stats line
     * while it works, as vLLM prints them; --disable-access-log and --disable-log-stats turn them off.
     */
    @Test
    void requestsAndEngineStatsAreLogged(@TempDir Path dir) throws Exception {
        Path model = ChatFolder.write(dir.resolve("chat"), 5);
        for (boolean off : new boolean[] {false, true}) {
            java.util.List<String> lines = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
            ServeCommand cmd = new ServeCommand();
            cmd.log = lines::add;
            cmd.statsInterval = java.time.Duration.ofMillis(100);
            String secret = "do-not-log-this-prompt";
            serving(cmd, port -> {
                for (int i = 0; i < 3; i++) {
                    HttpResponse<String> r = post(port, "/v1/completions", "{\"model\": \"chat\", \"prompt\": \"" + secret + "\", \"max_tokens\": 40}");
                    assertEquals(200, r.statusCode(), r.body());
                }
                Thread.sleep(400);                                             // a stats tick after the work
            }, off ? new String[] {"--model", model.toString(), "--kv-memory-mb", "8", "--disable-access-log", "--disable-log-stats"}
                    : new String[] {"--model", model.toString(), "--kv-memory-mb", "8"});
            java.util.List<String> copy;
            synchronized (lines) { copy = new java.util.ArrayList<>(lines); }
            if (off) {
                assertEquals(java.util.List.of(), copy);
                continue;
            }
            assertEquals(3, copy.stream().filter(l -> l.matches("127\\.0\\.0\\.1 \"POST /v1/completions\" 200 \\d+ ms")).count(), copy.toString());
            assertTrue(copy.stream().anyMatch(l -> l.matches("t4j serve: prompt [0-9.]+ tokens/s, generation [1-9][0-9.]* tokens/s, running \\d+, waiting \\d+,"
                    + " KV blocks [0-9.]+% in use, prefix-cache hits \\d+ blocks")), copy.toString());
            assertTrue(copy.stream().noneMatch(l -> l.contains(secret)), "no prompt in the logs");
        }
    }

    /**
     * --generation-config auto (the folder's generation_config.json), vllm (none) or another folder's, then
     * --override-generation-config over it, as vLLM applies them; bad values are refused by name before the model loads.
     */
    @Test
    void generationConfigOptionsChooseTheSamplingDefaults(@TempDir Path dir) throws Exception {
        Path folder = java.nio.file.Files.createDirectories(dir.resolve("m")), other = java.nio.file.Files.createDirectories(dir.resolve("o"));
        java.nio.file.Files.writeString(folder.resolve("generation_config.json"), "{\"temperature\": 0.6, \"top_k\": 20, \"top_p\": 0.95}");
        java.nio.file.Files.writeString(other.resolve("generation_config.json"), "{\"temperature\": 0.3, \"repetition_penalty\": 1.1}");
        ServeCommand cmd = new ServeCommand();
        cmd.generationConfig = "auto";
        assertEquals(new org.transformer4j.server.OpenAiServer.SamplingDefaults(0.6, 20, 0.95, null, null), cmd.samplingDefaults(folder));
        cmd.generationConfig = "vllm";
        assertEquals(org.transformer4j.server.OpenAiServer.SamplingDefaults.NONE, cmd.samplingDefaults(folder));
        cmd.generationConfig = other.toString();
        assertEquals(new org.transformer4j.server.OpenAiServer.SamplingDefaults(0.3, null, null, null, 1.1), cmd.samplingDefaults(folder));
        cmd.generationConfig = "auto";
        cmd.overrideGenerationConfig = "{\"temperature\": 0.0, \"min_p\": 0.05}";
        assertEquals(new org.transformer4j.server.OpenAiServer.SamplingDefaults(0.0, 20, 0.95, 0.05, null), cmd.samplingDefaults(folder));
        java.nio.file.Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"qwen3\"}");      // no weights: loading would fail otherwise
        assertTrue(serveError(dir, "--override-generation-config", "{\"max_new_tokens\": 5}").contains("'max_new_tokens' is not one of"));
        assertTrue(serveError(dir, "--override-generation-config", "{\"top_k\": \"5\"}").contains("top_k must be a number"));
        assertTrue(serveError(dir, "--generation-config", dir.resolve("nowhere").toString()).contains("auto, vllm, or a folder with a generation_config.json"));
    }

    /** `t4j serve --model DIR --port 0 ARGS` that fails: its standard error. */
    static String serveError(Path dir, String... args) {
        java.io.StringWriter err = new java.io.StringWriter();
        String[] all = java.util.stream.Stream.concat(java.util.stream.Stream.of("--model", dir.toString(), "--port", "0"), java.util.Arrays.stream(args))
                .toArray(String[]::new);
        ServeCommand cmd = new ServeCommand();
        Thread watchdog = Thread.ofVirtual().start(() -> {                   // a server that starts after all stops at once and fails below
            try {
                if (cmd.started.await(10, TimeUnit.MINUTES)) cmd.stop.countDown();
            } catch (InterruptedException done) {
                // it failed, as it should
            }
        });
        int exit = new CommandLine(cmd).setErr(new java.io.PrintWriter(err)).execute(all);
        watchdog.interrupt();
        assertEquals(1, exit, "it was to fail: " + err);
        return err.toString();
    }

    /**
     * --lora-modules NAME=DIR on a Llama folder: a request whose model is the adapter's name gets the text of the adapter
     * merged into the weights (LoraAdapter, checked against weights merged by hand in LoraAdapterTest), one naming the
     * folder gets the base model's, and /v1/models lists the adapter with the base as its parent.
     */
    @Test
    void loraModulesServeAdaptersByName(@TempDir Path dir) throws Exception {
        Path model = ChatFolder.decoder(dir.resolve("llama"), "llama");
        Path adapter = DecoderCliTest.adapter(dir.resolve("adapter"), model, 13, "model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.o_proj",
                "model.layers.1.mlp.gate_proj", "model.layers.1.mlp.up_proj");
        String prompt = "the cat sat on the mat";
        String merged, base;
        try (var tok = Tokenizers.forModel(model); var b = new CpuBackend();
             var w = Pretrained.load(model, b, org.transformer4j.runtime.DType.F32, org.transformer4j.model.LoraAdapter.read(adapter));
             var plain = Pretrained.load(model, b)) {
            int[] ids = tok.encode(prompt);
            merged = tok.decode(new Generator(new Transformer(w, b)).generate(ids, Generator.Options.greedy(10), null), true);
            base = tok.decode(new Generator(new Transformer(plain, b)).generate(ids, Generator.Options.greedy(10), null), true);
        }
        assertFalse(merged.equals(base), "the adapter changes the reply: " + merged);
        serving(port -> {
            for (String[] ask : new String[][] {{"sql", merged}, {"llama", base}}) {
                HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                        + "/v1/completions")).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                        "{\"model\": \"" + ask[0] + "\", \"prompt\": \"" + prompt + "\", \"max_tokens\": 10, \"temperature\": 0, \"ignore_eos\": true}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode(), r.body());
                JsonNode reply = new ObjectMapper().readTree(r.body());
                assertEquals(ask[0], reply.get("model").asText());
                assertEquals(ask[1], reply.at("/choices/0/text").asText(), ask[0]);
            }
            HttpResponse<String> m = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/models")).build(),
                    HttpResponse.BodyHandlers.ofString());
            JsonNode cards = new ObjectMapper().readTree(m.body()).get("data");
            assertEquals("sql", cards.get(1).get("id").asText());
            assertEquals("llama", cards.get(1).get("parent").asText());
        }, "--model", model.toString(), "--kv-memory-mb", "8", "--lora-modules", "sql=" + adapter);
        // two adapters in one slot (--max-loras 1 --max-cpu-loras 1): each swapped in when asked, read again from its folder
        Path other = DecoderCliTest.adapter(dir.resolve("other"), model, 29, "model.layers.0.self_attn.q_proj", "model.layers.1.mlp.down_proj");
        String chat;
        try (var tok = Tokenizers.forModel(model); var b = new CpuBackend();
             var w = Pretrained.load(model, b, org.transformer4j.runtime.DType.F32, org.transformer4j.model.LoraAdapter.read(other))) {
            chat = tok.decode(new Generator(new Transformer(w, b)).generate(tok.encode(prompt), Generator.Options.greedy(10), null), true);
        }
        assertFalse(chat.equals(merged) || chat.equals(base), "the second adapter has its own reply: " + chat);
        serving(port -> {
            for (String[] ask : new String[][] {{"sql", merged}, {"chat", chat}, {"llama", base}, {"sql", merged}}) {
                HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                        + "/v1/completions")).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                        "{\"model\": \"" + ask[0] + "\", \"prompt\": \"" + prompt + "\", \"max_tokens\": 10, \"temperature\": 0, \"ignore_eos\": true}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode(), r.body());
                assertEquals(ask[1], new ObjectMapper().readTree(r.body()).at("/choices/0/text").asText(), ask[0] + " in the one slot");
            }
            String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(metrics.contains("\nt4j_lora_swaps_total 2"), metrics);
            assertTrue(metrics.contains("max_lora=\"1\""), metrics);
        }, "--model", model.toString(), "--kv-memory-mb", "8", "--lora-modules", "sql=" + adapter, "chat=" + other, "--max-loras", "1",
                "--max-cpu-loras", "1");
    }

    interface Check { void run(int port) throws Exception; }

    /** `t4j serve ARGS --port 0` in a thread: {@code check} against its port once it listens, then a clean stop (exit 0). */
    static void serving(Check check, String... args) throws Exception {
        serving(new ServeCommand(), check, args);
    }

    /** The same with {@code cmd} (its log sink or stats interval changed). */
    static void serving(ServeCommand cmd, Check check, String... args) throws Exception {
        int[] exit = {-1};
        String[] all = java.util.stream.Stream.concat(java.util.Arrays.stream(args), java.util.stream.Stream.of("--port", "0")).toArray(String[]::new);
        Thread t = new Thread(() -> exit[0] = new CommandLine(cmd).execute(all));
        t.start();
        assertTrue(cmd.started.await(120, TimeUnit.SECONDS), "the server started");
        try {
            check.run(cmd.boundPort);
        } finally {
            cmd.stop.countDown();
            t.join(60_000);
        }
        assertEquals(0, exit[0]);
    }
}
