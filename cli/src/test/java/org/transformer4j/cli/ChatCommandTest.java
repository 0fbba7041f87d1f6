// ChatCommandTest — `t4j chat` as a user runs it, with piped stdin, on a GPT-2-shaped random model folder that
// carries a tokenizer.json, a tokenizer_config.json with a ChatML template and a generation_config.json: each
// reply equals generating from the whole conversation rendered and encoded afresh (the reference: no cache kept
// between turns), later turns encode only the new tokens, /reset forgets, /exit and end of input quit.
package org.transformer4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.model.Generator;
import org.transformer4j.model.Pretrained;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.Weights;
import org.transformer4j.model.chat.ChatTemplate;
import org.transformer4j.model.chat.Message;
import org.transformer4j.model.tokenizer.HfTokenizer;
import org.transformer4j.model.tokenizer.TokenizerConfig;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.CpuBackend;

class ChatCommandTest {

    @Test
    void chatStreamsRepliesEqualToFullRecomputationKeepsTheCacheAndResets(@TempDir Path dir) throws Exception {
        Path model = ChatFolder.write(dir.resolve("chatml"), 7);
        String[] user = {"hello how are you ?", "why is the sun red ?", "hi again"};
        CliProcess.Result r = CliProcess.runWithInput(dir, user[0] + "\n" + user[1] + "\n/reset\n" + user[2] + "\n/exit\nnever read\n",
                "chat", "--model", model.toString());
        assertEquals(0, r.exit(), r.all());
        List<String> lines = r.out().lines().toList();
        assertEquals(3, lines.size(), r.all());

        // the reference: every turn generated from the whole conversation, rendered and encoded afresh
        List<String> expected = new ArrayList<>();
        List<Integer> fullLengths = new ArrayList<>();
        try (Backend b = new CpuBackend(); Weights w = Pretrained.load(model, b); HfTokenizer tok = HfTokenizer.load(model)) {
            Transformer t = new Transformer(w, b);
            ChatTemplate template = TokenizerConfig.read(model).template().orElseThrow();
            Generator.Options o = Generator.Options.greedy(5).stopIds(java.util.Set.of(ChatFolder.IM_END));
            List<Message> conversation = new ArrayList<>();
            for (int turn = 0; turn < 3; turn++) {
                if (turn == 2) conversation.clear();                                   // /reset
                conversation.add(Message.user(user[turn]));
                int[] prompt = tok.encode(template.render(conversation, true, Map.of()), false);
                fullLengths.add(prompt.length);
                int[] reply = new Generator(t).generate(prompt, o, null);
                int[] text = reply[reply.length - 1] == ChatFolder.IM_END ? Arrays.copyOf(reply, reply.length - 1) : reply;
                String replyText = tok.decode(text, false);
                expected.add(replyText);
                conversation.add(Message.assistant(replyText));
            }
        }
        assertTrue(expected.stream().anyMatch(e -> !e.isBlank()), "the random model replied with nothing: " + expected);
        assertEquals(expected, lines, r.all());

        // stderr: one statistics line per turn; the second turn encodes only what follows the first turn's tokens
        Matcher m = Pattern.compile("\\[(\\d+) tokens encoded, (\\d+) in context\\]").matcher(r.err());
        List<long[]> stats = new ArrayList<>();
        while (m.find()) stats.add(new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))});
        assertEquals(3, stats.size(), r.all());
        assertTrue(r.err().contains("[conversation reset]"), r.all());
        assertTrue(r.err().startsWith("t4j chat: chatml, chat template from tokenizer_config.json, greedy, stop ids [" + ChatFolder.IM_END + "]"),
                "the first stderr line says what runs (and nothing logs before it): " + r.all());
        assertTrue(!r.err().contains("re-encoded"), r.all());
        assertTrue(stats.get(0)[1] - fullLengths.get(0) >= 1 && stats.get(0)[1] - fullLengths.get(0) <= 5, r.all()); // prompt + reply in context
        assertTrue(stats.get(1)[0] < fullLengths.get(1), "turn 2 encoded " + stats.get(1)[0] + " tokens; the whole render has " + fullLengths.get(1));
        assertTrue(stats.get(1)[0] >= fullLengths.get(1) - stats.get(0)[1], r.all());                  // at least what is new
        assertTrue(stats.get(2)[1] - fullLengths.get(2) >= 1 && stats.get(2)[1] - fullLengths.get(2) <= 5, r.all()); // reset: a fresh context
    }

    @Test
    void badFolderIsOneLineError(@TempDir Path dir) throws Exception {
        CliProcess.Result r = CliProcess.runWithInput(dir, "hi\n", "chat", "--model", dir.resolve("nope").toString());
        assertEquals(1, r.exit(), r.all());
        assertEquals("t4j chat: " + dir.resolve("nope") + ": no such model folder", r.err().strip(), r.all());
    }
}
