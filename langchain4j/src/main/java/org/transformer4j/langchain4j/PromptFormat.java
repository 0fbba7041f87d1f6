// PromptFormat — how a list of langchain4j chat messages becomes the decoder's prompt text: the plug for a
// model's chat template. PLAIN is the documented fallback for models without one.
package org.transformer4j.langchain4j;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import java.util.List;
import java.util.Set;

/**
 * Renders chat messages to the text a decoder continues. A model's chat template plugs in here
 * ({@code messages -> template.render(...)}); {@link #PLAIN} is the fallback.
 */
@FunctionalInterface
public interface PromptFormat {

    /** The prompt for {@code messages}, ending where the assistant's reply begins. */
    String render(List<ChatMessage> messages);

    /** Texts that end the reply (cut from it), besides the model's end-of-sequence id. */
    default Set<String> stopStrings() { return Set.of(); }

    /** Whether the tokenizer adds its special tokens (e.g. BOS) around the rendered text. */
    default boolean addSpecialTokens() { return true; }

    /**
     * The fallback: one block per message, {@code "System: …"}, {@code "User: …"}, {@code "Assistant: …"},
     * separated by a blank line, then {@code "Assistant:"}; the reply stops at {@code "\nUser:"}. Text-only
     * messages; tool calls and their results are refused.
     */
    PromptFormat PLAIN = new PromptFormat() {
        @Override
        public String render(List<ChatMessage> messages) {
            if (messages == null || messages.isEmpty()) throw new IllegalArgumentException("no chat messages");
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < messages.size(); i++) {
                ChatMessage m = messages.get(i);
                String role, text;
                switch (m) {
                    case SystemMessage s -> { role = "System"; text = s.text(); }
                    case UserMessage u -> {
                        if (!u.hasSingleText()) throw new IllegalArgumentException("message " + i + ": only text user messages are supported, got " + u.contents());
                        role = "User"; text = u.singleText();
                    }
                    case AiMessage a -> {
                        if (a.hasToolExecutionRequests()) throw new IllegalArgumentException("message " + i + ": tool calls are not supported");
                        role = "Assistant"; text = a.text() == null ? "" : a.text();
                    }
                    case null -> throw new IllegalArgumentException("message " + i + " is null");
                    default -> throw new IllegalArgumentException("message " + i + ": " + m.type() + " messages are not supported");
                }
                b.append(role).append(": ").append(text).append("\n\n");
            }
            return b.append("Assistant:").toString();
        }

        @Override
        public Set<String> stopStrings() { return Set.of("\nUser:"); }

        @Override
        public String toString() { return "PromptFormat.PLAIN"; }
    };

    /**
     * A model's own chat template (a folder's tokenizer_config.json or chat_template.jinja, rendered as
     * transformers' apply_chat_template does, generation prompt included). The render carries the template's
     * special tokens, so the tokenizer adds none. Text-only messages, as {@link #PLAIN}.
     */
    static PromptFormat template(org.transformer4j.model.chat.ChatTemplate template) {
        java.util.Objects.requireNonNull(template, "template");
        return new PromptFormat() {
            @Override
            public String render(List<ChatMessage> messages) {
                if (messages == null || messages.isEmpty()) throw new IllegalArgumentException("no chat messages");
                List<org.transformer4j.model.chat.Message> ms = new java.util.ArrayList<>();
                for (int i = 0; i < messages.size(); i++) {
                    ChatMessage m = messages.get(i);
                    switch (m) {
                        case SystemMessage s -> ms.add(org.transformer4j.model.chat.Message.system(s.text()));
                        case UserMessage u -> {
                            if (!u.hasSingleText()) throw new IllegalArgumentException("message " + i + ": only text user messages are supported, got " + u.contents());
                            ms.add(org.transformer4j.model.chat.Message.user(u.singleText()));
                        }
                        case AiMessage a -> {
                            if (a.hasToolExecutionRequests()) throw new IllegalArgumentException("message " + i + ": tool calls are not supported");
                            ms.add(org.transformer4j.model.chat.Message.assistant(a.text() == null ? "" : a.text()));
                        }
                        case null -> throw new IllegalArgumentException("message " + i + " is null");
                        default -> throw new IllegalArgumentException("message " + i + ": " + m.type() + " messages are not supported");
                    }
                }
                return template.render(ms, true);
            }

            @Override
            public boolean addSpecialTokens() { return false; }

            @Override
            public String toString() { return "PromptFormat.template(" + template + ")"; }
        };
    }
}
