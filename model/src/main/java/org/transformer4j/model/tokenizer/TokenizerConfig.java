// TokenizerConfig — a Hugging Face tokenizer_config.json: the special tokens (bos/eos/pad/unk, as strings or
// AddedToken objects), add_bos_token/add_eos_token, added_tokens_decoder and chat_template (one string, or
// the list of named templates), read into a record; a malformed file fails naming the file and the field.
package org.transformer4j.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.transformer4j.model.chat.ChatTemplate;
import org.transformer4j.model.weights.StrictJson;

/**
 * Fields absent from the file are null (add flags) or empty. {@code chatTemplates} maps a template's name
 * to its source: a plain string is named "default", as transformers does; a folder's
 * {@code chat_template.jinja} (transformers ≥ 4.43 saves templates there) takes the place of "default".
 */
public record TokenizerConfig(Path file, String bosToken, String eosToken, String padToken, String unkToken,
                              Boolean addBosToken, Boolean addEosToken, List<String> additionalSpecialTokens,
                              Map<Integer, AddedToken> addedTokensDecoder, Map<String, String> chatTemplates) {

    /** One entry of added_tokens_decoder. */
    public record AddedToken(String content, boolean special) {}

    public TokenizerConfig {
        additionalSpecialTokens = List.copyOf(additionalSpecialTokens);
        addedTokensDecoder = Collections.unmodifiableMap(new TreeMap<>(addedTokensDecoder));
        chatTemplates = Collections.unmodifiableMap(new LinkedHashMap<>(chatTemplates));
    }

    /** {@code file} (a tokenizer_config.json) as a JSON object; a TokenizerFormatException naming it otherwise. */
    static JsonNode object(Path file) throws IOException {
        JsonNode root;
        try {
            root = StrictJson.parse(Files.readAllBytes(file));
        } catch (StrictJson.ParseError e) {
            throw new TokenizerFormatException(file, "not valid JSON: " + e.getMessage(), e);
        }
        if (!root.isObject()) throw new TokenizerFormatException(file, "not a JSON object", null);
        return root;
    }

    /** {@code path}: a tokenizer_config.json, or a model folder holding one (and maybe chat_template.jinja). */
    public static TokenizerConfig read(Path path) throws IOException {
        boolean dir = Files.isDirectory(path);
        Path file = dir ? path.resolve("tokenizer_config.json") : path;
        if (!Files.isRegularFile(file)) throw new TokenizerFormatException(file, "no such file", null);
        JsonNode root = object(file);
        Map<Integer, AddedToken> decoder = new HashMap<>();
        JsonNode atd = root.path("added_tokens_decoder");
        if (!atd.isMissingNode() && !atd.isNull()) {
            if (!atd.isObject()) throw new TokenizerFormatException(file, "added_tokens_decoder is not an object", null);
            for (Iterator<Map.Entry<String, JsonNode>> it = atd.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                int id;
                try {
                    id = Integer.parseInt(e.getKey());
                } catch (NumberFormatException x) {
                    throw new TokenizerFormatException(file, "added_tokens_decoder key '" + e.getKey() + "' is not a token id", null);
                }
                if (id < 0 || !e.getValue().path("content").isTextual()) {
                    throw new TokenizerFormatException(file, "added_tokens_decoder entry " + e.getKey() + " has no string 'content'", null);
                }
                decoder.put(id, new AddedToken(e.getValue().path("content").textValue(), e.getValue().path("special").asBoolean(false)));
            }
        }
        List<String> additional = new java.util.ArrayList<>();
        JsonNode ast = root.path("additional_special_tokens");
        if (ast.isArray()) for (JsonNode t : ast) additional.add(token(file, "additional_special_tokens", t));
        Map<String, String> templates = new LinkedHashMap<>();
        JsonNode ct = root.path("chat_template");
        if (ct.isTextual()) {
            templates.put("default", ct.textValue());
        } else if (ct.isArray()) {
            for (JsonNode t : ct) {
                if (!t.path("name").isTextual() || !t.path("template").isTextual()) {
                    throw new TokenizerFormatException(file, "chat_template is a list whose entries must be {\"name\": string, \"template\": string}", null);
                }
                templates.put(t.path("name").textValue(), t.path("template").textValue());
            }
        } else if (!ct.isMissingNode() && !ct.isNull()) {
            throw new TokenizerFormatException(file, "chat_template is neither a string nor a list of named templates", null);
        }
        Path jinja = file.resolveSibling("chat_template.jinja");
        if (Files.isRegularFile(jinja)) templates.put("default", Files.readString(jinja));
        return new TokenizerConfig(file, token(file, "bos_token", root.path("bos_token")), token(file, "eos_token", root.path("eos_token")),
                token(file, "pad_token", root.path("pad_token")), token(file, "unk_token", root.path("unk_token")),
                flag(file, root, "add_bos_token"), flag(file, root, "add_eos_token"), additional, decoder, templates);
    }

    /** The folder's tokenizer_config.json when it has one. */
    public static Optional<TokenizerConfig> readIfPresent(Path dir) throws IOException {
        return Files.isRegularFile(dir.resolve("tokenizer_config.json")) ? Optional.of(read(dir)) : Optional.empty();
    }

    /** A token field: null, a string, or an AddedToken object {"content": ...}. */
    private static String token(Path file, String field, JsonNode n) throws TokenizerFormatException {
        if (n.isMissingNode() || n.isNull()) return null;
        if (n.isTextual()) return n.textValue();
        if (n.isObject() && n.path("content").isTextual()) return n.path("content").textValue();
        throw new TokenizerFormatException(file, field + " is neither a string nor an object with a string 'content'", null);
    }

    private static Boolean flag(Path file, JsonNode root, String field) throws TokenizerFormatException {
        JsonNode n = root.path(field);
        if (n.isMissingNode() || n.isNull()) return null;
        if (!n.isBoolean()) throw new TokenizerFormatException(file, field + " is not true or false", null);
        return n.booleanValue();
    }

    /** The template transformers uses when none is named: "default" (or the only one). */
    public Optional<String> chatTemplate() {
        if (chatTemplates.containsKey("default")) return Optional.of(chatTemplates.get("default"));
        return chatTemplates.size() == 1 ? Optional.of(chatTemplates.values().iterator().next()) : Optional.empty();
    }

    /**
     * The variables transformers passes every render: the special tokens by their attribute names
     * (bos_token, eos_token, unk_token, pad_token as strings, absent ones null; additional_special_tokens).
     */
    public Map<String, Object> templateVariables() {
        Map<String, Object> v = new HashMap<>();
        v.put("bos_token", bosToken);
        v.put("eos_token", eosToken);
        v.put("unk_token", unkToken);
        v.put("pad_token", padToken);
        v.put("additional_special_tokens", additionalSpecialTokens);
        return v;
    }

    /** The default chat template, ready to render; empty when the file has none. */
    public Optional<ChatTemplate> template() {
        return chatTemplate().map(src -> ChatTemplate.of(src, templateVariables(), file.toString()));
    }

    /** A named template ("default", "tool_use", "rag", ...); IllegalArgumentException listing the names when absent. */
    public ChatTemplate template(String name) {
        String src = chatTemplates.get(name);
        if (src == null) throw new IllegalArgumentException(file + ": no chat template named '" + name + "'; it has " + chatTemplates.keySet());
        return ChatTemplate.of(src, templateVariables(), file + " (" + name + ")");
    }
}
