// Message — one turn of a conversation as chat templates see it: {"role": ..., "content": ...} plus any
// other fields a template reads (reasoning_content, tool_calls, name, ...).
package org.transformer4j.model.chat;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code content} is a String, or a list of parts ({@code [{"type": "text", "text": ...}]}) for templates
 * that take them; {@code fields} are extra keys, passed to the template as they are.
 */
public record Message(String role, Object content, Map<String, Object> fields) {

    public Message {
        if (role == null || role.isBlank()) throw new IllegalArgumentException("a message needs a role (system, user, assistant, tool)");
        fields = fields == null ? Map.of() : Map.copyOf(fields);
        if (fields.containsKey("role") || fields.containsKey("content")) {
            throw new IllegalArgumentException("role and content are the record's own fields, not extra fields");
        }
    }

    public Message(String role, String content) { this(role, content, Map.of()); }

    public static Message system(String content) { return new Message("system", content); }
    public static Message user(String content) { return new Message("user", content); }
    public static Message assistant(String content) { return new Message("assistant", content); }

    /** The dict the template sees. */
    public Map<String, Object> asMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        m.putAll(fields);
        return m;
    }
}
