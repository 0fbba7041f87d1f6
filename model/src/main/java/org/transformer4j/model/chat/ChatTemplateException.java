// ChatTemplateException — a chat template that does not parse, fails while rendering, or calls
// raise_exception (e.g. "Conversation roles must alternate user/assistant/user/assistant/...").
package org.transformer4j.model.chat;

/** The message is the template's own (raise_exception) or the engine's, prefixed with where the template came from. */
public class ChatTemplateException extends IllegalArgumentException {

    private final boolean raisedByTemplate;

    public ChatTemplateException(String message, boolean raisedByTemplate, Throwable cause) {
        super(message, cause);
        this.raisedByTemplate = raisedByTemplate;
    }

    /** True when the template itself called raise_exception (the conversation is not one it accepts). */
    public boolean raisedByTemplate() { return raisedByTemplate; }
}
