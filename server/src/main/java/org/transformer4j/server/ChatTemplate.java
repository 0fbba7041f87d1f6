// ChatTemplate — the server's hook for chat models: messages → prompt ids. A model without one gets
// HTTP 400 on /v1/chat/completions.
package org.transformer4j.server;

import java.util.List;

/** Renders a conversation into the prompt the model continues as the assistant (generation prompt included). */
@FunctionalInterface
public interface ChatTemplate {

    /** One message: role (system, user, assistant, …) and its text. */
    record Message(String role, String content) {}

    /** The prompt ids; throws IllegalArgumentException for a conversation the template cannot render. */
    int[] render(List<Message> messages);
}
