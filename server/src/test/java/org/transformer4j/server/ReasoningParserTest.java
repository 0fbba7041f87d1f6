// ReasoningParserTest — the reasoning parsers against vLLM's documented splits (Qwen3ReasoningParser,
// DeepSeekR1ReasoningParser, and for gpt-oss harmony_utils.parse_chat_output), and the streaming property: a reply
// fed in any two or three pieces, or a character at a time, splits exactly as the whole reply does.
package org.transformer4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReasoningParserTest {

    /** One reply, the prompt it follows and the template variables, with the split vLLM gives. */
    record Case(String parser, String prompt, Map<String, ?> kwargs, String reply, String reasoning, String content) {
        Case(String parser, String reply, String reasoning, String content) { this(parser, "", Map.of(), reply, reasoning, content); }
    }

    static final String H_ANALYSIS = "<|channel|>analysis<|message|>", H_FINAL = "<|start|>assistant<|channel|>final<|message|>";

    static final List<Case> CASES = List.of(
            // Qwen3 (vLLM's Qwen3ReasoningParser): the generated <think> dropped, before </think> reasoning, after it content
            new Case("qwen3", "<think>\nadd them\n</think>\n\n4", "\nadd them\n", "\n\n4"),
            new Case("qwen3", "add them</think>4", "add them", "4"),                         // <think> was in the prompt
            new Case("qwen3", "<think>still going", "still going", ""),                     // no </think>: cut short, all reasoning
            new Case("qwen3", "no tags at all", "no tags at all", ""),                      // thinking on (the default): reasoning
            new Case("qwen3", "<think>only reasoning</think>", "only reasoning", ""),
            new Case("qwen3", "<think>\n\n</think>\n\nHi", "\n\n", "\n\nHi"),                // an empty think block generated
            new Case("qwen3", "a</think>b</think><think>c", "a", "b</think><think>c"),      // after the end, tags are text
            new Case("qwen3", "x <th", "x <th", ""),                                         // a partial tag at the end is text
            new Case("qwen3", "r</think>y </thi", "r", "y </thi"),
            // enable_thinking=false: the template closed the block in the prompt; all content, even a </think>
            new Case("qwen3", "<|im_start|>assistant\n<think>\n\n</think>\n\n", Map.of(), "Hi</think>there", "", "Hi</think>there"),
            new Case("qwen3", "<|im_start|>assistant\n", Map.of("enable_thinking", false), "Hi there", "", "Hi there"),
            // DeepSeek-R1: <think> usually in the prompt; up to </think> reasoning; enable_thinking is Qwen3's switch, not R1's
            new Case("deepseek_r1", "<｜Assistant｜><think>\n", Map.of(), "step 1\n</think>\n\nanswer", "step 1\n", "\n\nanswer"),
            new Case("deepseek_r1", "", Map.of("enable_thinking", false), "<think>r</think>c", "r", "c"),
            new Case("deepseek_r1", "unterminated", "unterminated", ""),
            // deepseek_v3 (vLLM's DeepSeekV3ReasoningParser): deepseek_r1's split where chat_template_kwargs' thinking or
            // enable_thinking is true (DeepSeek-V3.1's template then ends the prompt with <think>), else all content
            new Case("deepseek_v3", "<｜Assistant｜><think>", Map.of("thinking", true), "plan</think>answer", "plan", "answer"),
            new Case("deepseek_v3", "", Map.of("enable_thinking", 1), "<think>r</think>c", "r", "c"),
            new Case("deepseek_v3", "<｜Assistant｜></think>", Map.of(), "answer </think> still", "", "answer </think> still"),
            new Case("deepseek_v3", "", Map.of("thinking", false), "<think>r</think>c", "", "<think>r</think>c"),
            // glm45 (vLLM's DeepSeekV3ReasoningWithThinkingParser): thinking unless thinking / enable_thinking say otherwise
            new Case("glm45", "<|assistant|>", Map.of(), "<think>look it up</think>\n<tool_call>f\n</tool_call>", "look it up",
                    "\n<tool_call>f\n</tool_call>"),
            new Case("glm45", "<|assistant|>", Map.of("enable_thinking", true), "no end tag", "no end tag", ""),
            new Case("glm45", "<|assistant|>\n<think></think>", Map.of("enable_thinking", false), "<think>x</think>y", "", "<think>x</think>y"),
            // gpt-oss harmony (vLLM's parse_chat_output): analysis is reasoning, final and preambles content, tool calls neither
            new Case("gpt_oss", H_ANALYSIS + "think<|end|>" + H_FINAL + "answer<|return|>", "think", "answer"),
            new Case("gpt_oss", H_ANALYSIS + "think<|end|>" + H_FINAL + "answer", "think", "answer"),   // <|return|> is eos: not in text
            new Case("gpt_oss", "<|channel|>final<|message|>answer only", "", "answer only"),
            new Case("gpt_oss", H_ANALYSIS + "unterminated analysis", "unterminated analysis", ""),
            new Case("gpt_oss", H_ANALYSIS + "a<|end|><|start|>assistant<|channel|>analysis<|message|>b<|end|>" + H_FINAL + "c",
                    "a\nb", "c"),                                                                 // messages of a kind joined by \n
            new Case("gpt_oss", H_ANALYSIS + "plan<|end|><|start|>assistant<|channel|>commentary<|message|>Checking.<|end|>"
                    + "<|start|>assistant to=functions.weather<|channel|>commentary json<|message|>{\"city\": \"Oslo\"}<|call|>",
                    "plan", "Checking."),
            new Case("gpt_oss", H_ANALYSIS + "x<|end|><|start|>assistant<|channel|>commentary to=functions.f <|constrain|>json"
                    + "<|message|>{}", "x", ""),
            new Case("gpt_oss", "<|channel|>analysis", "", ""),                                 // a header never completed
            // a template that prefilled the final channel: the reply continues it
            new Case("gpt_oss", "<|start|>user<|message|>hi<|end|><|start|>assistant<|channel|>final<|message|>", Map.of(),
                    "Hello<|return|>", "", "Hello"));

    static ReasoningParser start(Case c) { return ReasoningParser.named(c.parser()).start(c.prompt(), c.kwargs()); }

    /** Feeds {@code pieces} and finishes; checks the deltas add up to the totals; returns [reasoning, content]. */
    static String[] feed(Case c, List<String> pieces) {
        ReasoningParser p = start(c);
        StringBuilder r = new StringBuilder(), t = new StringBuilder();
        for (String s : pieces) {
            ReasoningParser.Delta d = p.add(s);
            r.append(d.reasoning());
            t.append(d.content());
        }
        ReasoningParser.Delta d = p.finish();
        r.append(d.reasoning());
        t.append(d.content());
        assertEquals(p.reasoning(), r.toString());
        assertEquals(p.content(), t.toString());
        return new String[] {r.toString(), t.toString()};
    }

    @Test
    void wholeRepliesSplitAsVllmDoes() {
        for (Case c : CASES) {
            String[] got = feed(c, List.of(c.reply()));
            assertEquals(c.reasoning(), got[0], c + ": reasoning");
            assertEquals(c.content(), got[1], c + ": content");
        }
    }

    @Test
    void everySplitIntoTwoOrThreePiecesGivesTheWholeReplysSplit() {
        int checked = 0;
        for (Case c : CASES) {
            String s = c.reply();
            for (int i = 0; i <= s.length(); i++) {
                for (int j = i; j <= s.length(); j++) {
                    String[] got = feed(c, List.of(s.substring(0, i), s.substring(i, j), s.substring(j)));
                    assertEquals(c.reasoning(), got[0], c + " split at " + i + ", " + j + ": reasoning");
                    assertEquals(c.content(), got[1], c + " split at " + i + ", " + j + ": content");
                    checked++;
                }
            }
            List<String> chars = s.chars().mapToObj(ch -> String.valueOf((char) ch)).toList();
            String[] got = feed(c, chars);
            assertEquals(c.reasoning(), got[0], c + " a character at a time");
            assertEquals(c.content(), got[1], c + " a character at a time");
        }
        assertTrue(checked > 10_000, "only " + checked + " splits");
    }

    /** Nothing is released that a later piece could turn into a tag: "<th" waits, and goes out as text at the end. */
    @Test
    void aPossibleTagIsHeldBackUntilItIsDecided() {
        ReasoningParser p = ReasoningParser.named("qwen3").start("", Map.of());
        assertEquals(new ReasoningParser.Delta("abc", ""), p.add("abc</th"));
        assertEquals(new ReasoningParser.Delta("", "x"), p.add("ink>x"));
        ReasoningParser q = ReasoningParser.named("gpt_oss").start("", Map.of());
        assertEquals(new ReasoningParser.Delta("", ""), q.add("<|channel|>analysis<|mess"));
        assertEquals(new ReasoningParser.Delta("hm", ""), q.add("age|>hm<|en"));
        assertEquals(new ReasoningParser.Delta("<|en", ""), q.finish());
        assertThrows(IllegalStateException.class, () -> q.add("more"));
    }

    @Test
    void anUnknownNameListsTheParsers() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ReasoningParser.named("deepseek"));
        assertEquals("unknown reasoning parser 'deepseek'; the parsers are: qwen3, deepseek_r1, deepseek_v3, glm45, gpt_oss, openai_gptoss", e.getMessage());
        assertEquals("gpt_oss", ReasoningParser.named("openai_gptoss").name());
    }

    /** Without thinking the reasoning has ended before the reply begins (vLLM's IdentityReasoningParser.is_reasoning_end). */
    @Test
    void withoutThinkingTheReasoningHasEndedAtOnce() {
        assertTrue(ReasoningParser.named("deepseek_v3").start("", Map.of()).reasoningEnded());
        assertTrue(!ReasoningParser.named("deepseek_v3").start("", Map.of("thinking", true)).reasoningEnded());
        assertTrue(!ReasoningParser.named("glm45").start("<|assistant|>", Map.of()).reasoningEnded());
        assertTrue(ReasoningParser.named("glm45").start("", Map.of("thinking", false, "enable_thinking", false)).reasoningEnded());
    }
}
