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
}
