// ReasoningParser — splits a chat reply into its reasoning and its answer, as vLLM's --reasoning-parser does:
// qwen3 and deepseek_r1 (<think> ... </think>), deepseek_v3 and glm45 (deepseek_r1's split, or none, as
// chat_template_kwargs' thinking says), gpt_oss (the harmony format's analysis / final / commentary channels). One parser a request, fed the reply's text as it is released (tags may arrive split across pieces);
// a whole reply is the same feed in one piece, so a streamed reply and a non-streamed one split alike.
package org.transformer4j.server;

import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Works on decoded text, special tokens included (the server decodes with {@code skipSpecialTokens=false}, so
 * harmony's {@code <|channel|>} and Qwen3's {@code <think>} arrive as text). A suffix that may still become a tag is
 * held back until the next piece or {@link #finish()} ({@link PieceParser}'s feed). Not thread-safe: one request's thread
 * uses it.
 */
public abstract sealed class ReasoningParser extends PieceParser<ReasoningParser.Delta> permits ReasoningParser.Think, ReasoningParser.Harmony,
        ReasoningParser.Identity {

    /** What one piece of the reply added: reasoning text and answer text (either may be empty). */
    public record Delta(String reasoning, String content) {
        static final Delta NONE = new Delta("", "");
        public boolean isEmpty() { return reasoning.isEmpty() && content.isEmpty(); }
    }

    /**
     * A piece of a harmony message to a function ({@code to=functions.NAME}) as it is read: its beginning ({@code opened}:
     * the function's name and the header's content type, "json", "<|constrain|>json", or "" where none is given), text,
     * or its end ({@code ended}: true where an end token closed it, false where the end of the reply did; null while it
     * goes on). The openai tool parser makes calls of them.
     */
    public record FunctionPiece(boolean opened, String name, String contentType, String text, Boolean ended) {}

    /** A parser chosen at startup; {@link #start} makes one for a request. */
    public interface Kind {
        String name();

        /**
         * A parser for one reply to a prompt whose text is {@code prompt} (the template's render, special tokens
         * included), rendered with {@code templateKwargs} (chat_template_kwargs).
         */
        ReasoningParser start(String prompt, Map<String, ?> templateKwargs);
    }

    /** The names {@link #named} knows, as vLLM's {@code --reasoning-parser} spells them (openai_gptoss is gpt_oss). */
    public static final List<String> NAMES = List.of("qwen3", "deepseek_r1", "deepseek_v3", "glm45", "gpt_oss", "openai_gptoss");

    /** The parser of that name; an unknown name is an IllegalArgumentException that lists the known ones. */
    public static Kind named(String name) {
        return switch (name == null ? "" : name) {
            case "qwen3" -> kind("qwen3", (prompt, kw) -> new Think(Think.endedInPrompt(prompt) || Boolean.FALSE.equals(kw.get("enable_thinking"))));
            case "deepseek_r1" -> kind("deepseek_r1", (prompt, kw) -> new Think(Think.endedInPrompt(prompt)));
            // vLLM's DeepSeekV3ReasoningParser: deepseek_r1's split where chat_template_kwargs' thinking or enable_thinking
            // is true (DeepSeek-V3.1's switch), else none; glm45's (DeepSeekV3ReasoningWithThinkingParser) thinks where
            // neither is given
            case "deepseek_v3" -> kind("deepseek_v3", (prompt, kw) -> thinking(kw, false) ? new Think(Think.endedInPrompt(prompt)) : new Identity());
            case "glm45" -> kind("glm45", (prompt, kw) -> thinking(kw, true) ? new Think(Think.endedInPrompt(prompt)) : new Identity());
            case "gpt_oss", "openai_gptoss" -> kind("gpt_oss", (prompt, kw) -> new Harmony(prompt));
            default -> throw new IllegalArgumentException("unknown reasoning parser '" + name + "'; the parsers are: " + String.join(", ", NAMES));
        };
    }

    private interface Starter { ReasoningParser start(String prompt, Map<String, ?> kw); }

    /**
     * vLLM's DeepSeek-V3 switch: Python's bool() of thinking or of enable_thinking; {@code byDefault} where both are
     * absent or None.
     */
    static boolean thinking(Map<String, ?> kw, boolean byDefault) {
        Object t = kw.get("thinking"), e = kw.get("enable_thinking");
        if (t == null && e == null) return byDefault;
        return truthy(t) || truthy(e);
    }

    /** Python's bool() of a JSON value. */
    private static boolean truthy(Object v) {
        if (v == null) return false;
        if (v instanceof Boolean b) return b;
        if (v instanceof Number n) return n.doubleValue() != 0;
        if (v instanceof CharSequence c) return !c.isEmpty();
        if (v instanceof java.util.Collection<?> c) return !c.isEmpty();
        if (v instanceof Map<?, ?> m) return !m.isEmpty();
        return true;
    }

    private static Kind kind(String name, Starter s) {
        return new Kind() {
            @Override public String name() { return name; }
            @Override public ReasoningParser start(String prompt, Map<String, ?> kw) { return s.start(prompt == null ? "" : prompt, kw == null ? Map.of() : kw); }
        };
    }

    private final StringBuilder reasoning = new StringBuilder(), content = new StringBuilder();

    /** All reasoning released so far. */
    public final String reasoning() { return reasoning.toString(); }

    /** All answer text released so far. */
    public final String content() { return content.toString(); }

    @Override
    final Delta released(Delta d) {
        reasoning.append(d.reasoning());
        content.append(d.content());
        return d;
    }

    @Override
    final Delta nothing() { return Delta.NONE; }

    /**
     * Whether the reasoning has ended, after the prompt and the text added so far: what vLLM's {@code is_reasoning_end}
     * answers, by which structured outputs and forced tool calls begin (see {@link OpenAiServer}). A tag still held back
     * (a partial {@code </think>}) has not ended it yet.
     */
    public abstract boolean reasoningEnded();

    /**
     * {@code <think>}-tag models (vLLM's Qwen3ReasoningParser and DeepSeekR1ReasoningParser as of 2026): everything
     * before {@code </think>} is reasoning, whether or not the model wrote {@code <think>} itself (the template may
     * have put it in the prompt); the first {@code <think>} before it is dropped; everything after is the answer, tags
     * and all. No {@code </think>}: all reasoning (a reply cut short while thinking). If the prompt already closed the
     * think block (it ends with {@code </think>}, as Qwen3's template renders {@code enable_thinking=false}) or, for
     * qwen3, the request set {@code enable_thinking: false}, the whole reply is the answer.
     */
    static final class Think extends ReasoningParser {
        static final String START = "<think>", END = "</think>";
        private boolean inReasoning, startSeen;

        Think(boolean endedInPrompt) { inReasoning = !endedInPrompt; }

        /** Past the first {@code </think>} of the reply, or the prompt closed the block. */
        @Override public boolean reasoningEnded() { return !inReasoning; }

        /**
         * The prompt ends (but for whitespace) with {@code </think>}: the generation prompt closed the block. vLLM asks the
         * same of the prompt's last think tag anywhere; looking only at the end keeps a closed block of an earlier turn
         * (Qwen3 renders those after the last user message) from turning a new reply's reasoning into its answer.
         */
        static boolean endedInPrompt(String prompt) { return prompt.stripTrailing().endsWith(END); }

        @Override
        Delta step(boolean end) {
            StringBuilder r = new StringBuilder(), c = new StringBuilder();
            while (pending.length() > 0) {
                if (!inReasoning) {
                    c.append(pending);
                    pending.setLength(0);
                    break;
                }
                int e = pending.indexOf(END), s = startSeen ? -1 : pending.indexOf(START);
                if (s >= 0 && (e < 0 || s < e)) {
                    r.append(pending, 0, s);
                    pending.delete(0, s + START.length());
                    startSeen = true;
                } else if (e >= 0) {
                    r.append(pending, 0, e);
                    pending.delete(0, e + END.length());
                    inReasoning = false;
                } else {
                    int hold = end ? 0 : partialTag(pending, startSeen ? List.of(END) : List.of(START, END));
                    r.append(pending, 0, pending.length() - hold);
                    pending.delete(0, pending.length() - hold);
                    break;
                }
            }
            return new Delta(r.toString(), c.toString());
        }
    }

    /**
     * gpt-oss's harmony format, as vLLM's parse_chat_output splits it (openai_harmony's StreamableParser over the reply,
     * which begins after the prompt's {@code <|start|>assistant}): each message is a header up to {@code <|message|>}
     * ({@code <|channel|>NAME}, maybe {@code to=RECIPIENT}) and text up to {@code <|end|>}, {@code <|return|>} or
     * {@code <|call|>}; the analysis channel is reasoning; the final channel and commentary without a recipient
     * (preambles) are the answer; a message to a recipient (a tool call) is neither: one to {@code functions.NAME} is
     * passed on in {@link FunctionPiece}s to the openai tool parser, others are dropped. Messages of one kind are joined
     * with "\n", as vLLM joins them; an unterminated message counts as its channel says, a header never completed counts
     * as nothing.
     */
    static final class Harmony extends ReasoningParser {
        static final String START = "<|start|>", CHANNEL = "<|channel|>", MESSAGE = "<|message|>";
        static final List<String> ENDS = List.of("<|end|>", "<|return|>", "<|call|>");
        private static final Pattern RECIPIENT = Pattern.compile("(?:^|\\s|>)to=([^\\s<]+)");
        private static final String FUNCTIONS = "functions.";
        private enum Part { NONE, REASONING, CONTENT, FUNCTION }

        private boolean inHeader = true, messageStarted, anyReasoning, anyContent, finalStarted;
        private Part part = Part.NONE;
        /** The message to a function being read: its name and content type. */
        private String function = "", contentType = "";
        private final List<FunctionPiece> functionPieces = new java.util.ArrayList<>();

        /** Primed with the prompt from its last {@code <|start|>} (its generation prompt), so a prefilled header counts. */
        Harmony(String prompt) {
            int at = prompt.lastIndexOf(START);
            if (at >= 0) {
                pending.append(prompt, at, prompt.length());
                step(false);                                  // what a prefilled message releases is the prompt's, not the reply's
            }
            anyReasoning = anyContent = false;
            messageStarted = false;
            functionPieces.clear();
            if (part == Part.FUNCTION) functionPieces.add(new FunctionPiece(true, function, contentType, "", null));
        }

        /**
         * A message of the final channel has begun ({@code <|channel|>final ... <|message|>}, in the reply or prefilled by the
         * prompt): vLLM's GptOssReasoningParser ends the reasoning there.
         */
        @Override public boolean reasoningEnded() { return finalStarted; }

        /** The pieces of messages to functions read since the last call (at the reply's end, an unterminated one's end too). */
        List<FunctionPiece> takeFunctionPieces() {
            List<FunctionPiece> out = List.copyOf(functionPieces);
            functionPieces.clear();
            return out;
        }

        @Override
        Delta step(boolean end) {
            StringBuilder r = new StringBuilder(), c = new StringBuilder();
            while (pending.length() > 0) {
                if (inHeader) {
                    int m = pending.indexOf(MESSAGE);
                    if (m < 0) {
                        if (end) pending.setLength(0);        // a header never completed: nothing
                        break;
                    }
                    String header = pending.substring(0, m);
                    int s = header.lastIndexOf(START);
                    if (s >= 0) header = header.substring(s + START.length());
                    pending.delete(0, m + MESSAGE.length());
                    part = classify(header);
                    inHeader = false;
                    messageStarted = false;
                    continue;
                }
                int t = -1, tl = 0;
                for (String e : ENDS) {
                    int i = pending.indexOf(e);
                    if (i >= 0 && (t < 0 || i < t)) { t = i; tl = e.length(); }
                }
                int take = t >= 0 ? t : pending.length() - (end ? 0 : partialTag(pending, ENDS));
                emit(pending.substring(0, take), r, c);
                pending.delete(0, t >= 0 ? t + tl : take);
                if (t < 0) break;
                endFunctionMessage(true);
                inHeader = true;
            }
            if (end && !inHeader) endFunctionMessage(false);
            return new Delta(r.toString(), c.toString());
        }

        /** Reads a message's header: its part and, for a message to a function, the function and the content type. */
        private Part classify(String header) {
            int ch = header.indexOf(CHANNEL);
            String rest = ch < 0 ? "" : header.substring(ch + CHANNEL.length());
            int stop = 0;
            while (stop < rest.length() && !Character.isWhitespace(rest.charAt(stop)) && !rest.startsWith("<|", stop)) stop++;
            String channel = rest.substring(0, stop);
            Matcher to = RECIPIENT.matcher(header);
            boolean recipient = to.find();
            if (recipient && to.group(1).startsWith(FUNCTIONS)) {         // vLLM's OpenAIToolParser: a call, in any channel
                function = to.group(1).substring(FUNCTIONS.length());
                contentType = rest.substring(stop).replace("to=" + to.group(1), "").strip();   // "json", "<|constrain|>json", ""
                functionPieces.add(new FunctionPiece(true, function, contentType, "", null));
                return Part.FUNCTION;
            }
            if (ch < 0) return Part.NONE;
            return switch (channel) {
                case "analysis" -> Part.REASONING;
                case "final" -> {
                    finalStarted = true;
                    yield Part.CONTENT;
                }
                case "commentary" -> recipient ? Part.NONE : Part.CONTENT;
                default -> Part.NONE;
            };
        }

        private void endFunctionMessage(boolean terminated) {
            if (part != Part.FUNCTION) return;
            functionPieces.add(new FunctionPiece(false, function, contentType, "", terminated));
            part = Part.NONE;
        }

        private void emit(String text, StringBuilder r, StringBuilder c) {
            if (part == Part.FUNCTION) {
                if (!text.isEmpty()) functionPieces.add(new FunctionPiece(false, function, contentType, text, null));
                return;
            }
            if (text.isEmpty() || part == Part.NONE) return;
            boolean first = !messageStarted;
            messageStarted = true;
            if (part == Part.REASONING) {
                if (first && anyReasoning) r.append('\n');
                r.append(text);
                anyReasoning = true;
            } else {
                if (first && anyContent) c.append('\n');
                c.append(text);
                anyContent = true;
            }
        }
    }

    /**
     * vLLM's IdentityReasoningParser, what deepseek_v3 and glm45 become without thinking: the whole reply is the answer,
     * tags and all, and the reasoning has ended before it begins.
     */
    static final class Identity extends ReasoningParser {
        @Override public boolean reasoningEnded() { return true; }

        @Override
        Delta step(boolean end) {
            Delta d = new Delta("", pending.toString());
            pending.setLength(0);
            return d;
        }
    }
}
