// ChatTemplate — the server's hook for chat models: messages → prompt ids. A model without one gets
// HTTP 400 on /v1/chat/completions.
package org.transformer4j.server;

import java.util.List;
import java.util.Map;

/** Renders a conversation into the prompt the model continues as the assistant (generation prompt included). */
@FunctionalInterface
public interface ChatTemplate {

    /**
     * One message: role (system, user, assistant, …), its text, and the request's other keys of the message as the
     * template sees them (reasoning_content, name, tool_calls, …; JSON values as maps, lists, strings, numbers).
     */
    record Message(String role, String content, Map<String, Object> fields) {
        public Message {
            fields = fields == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(fields));
        }

        public Message(String role, String content) { this(role, content, Map.of()); }
    }

    /**
     * The key of {@code kwargs} that carries the request's add_generation_prompt (a Boolean; absent: true): a template
     * renders the generation prompt as it says, and does not see the key as a variable of its own.
     */
    String ADD_GENERATION_PROMPT = "add_generation_prompt";

    /**
     * The key of {@code kwargs} that carries the request's continue_final_message (a Boolean; absent: false), for a
     * template that {@link #continuesFinalMessage() continues} the final message: rendered without a generation prompt and
     * cut right after the final message's text, as transformers' apply_chat_template does.
     */
    String CONTINUE_FINAL_MESSAGE = "continue_final_message";

    /** Whether this template honours {@link #CONTINUE_FINAL_MESSAGE}; the server refuses the field where it does not. */
    default boolean continuesFinalMessage() { return false; }

    /**
     * The key of {@code kwargs} that carries the request's add_special_tokens (a Boolean; absent: false), for a template
     * that {@link #addsSpecialTokens() adds} them: the rendered text is tokenized with the tokenizer's own special tokens
     * (its post-processor's BOS, …) on top of what the template wrote, as vLLM does with add_special_tokens true.
     */
    String ADD_SPECIAL_TOKENS = "add_special_tokens";

    /** Whether this template honours {@link #ADD_SPECIAL_TOKENS}; the server refuses the field where it does not. */
    default boolean addsSpecialTokens() { return false; }

    /**
     * The prompt ids of {@code messages}, with {@code kwargs} (the request's chat_template_kwargs, and reasoning_effort)
     * as further template variables; throws IllegalArgumentException for a conversation the template cannot render.
     */
    int[] render(List<Message> messages, Map<String, Object> kwargs);

    /** Whether {@code kwargs} asks for the generation prompt (see {@link #ADD_GENERATION_PROMPT}). */
    static boolean addGenerationPrompt(Map<String, ?> kwargs) {
        return kwargs == null || !(kwargs.get(ADD_GENERATION_PROMPT) instanceof Boolean b) || b;
    }
}
