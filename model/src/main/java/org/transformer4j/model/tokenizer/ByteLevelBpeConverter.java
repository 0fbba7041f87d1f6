// ByteLevelBpeConverter — a folder's vocab.json + merges.txt (GPT-2's byte-level BPE: GPT2Tokenizer, RobertaTokenizer,
// BartTokenizer, CodeGenTokenizer, the OPT folders) turned into the tokenizer.json transformers' convert_slow_tokenizer.py
// builds for them (GPT2Converter, RobertaConverter), with the special tokens the slow tokenizer declares.
package org.transformer4j.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * GPT2Converter: BPE(vocab.json, merges.txt, no dropout, no prefixes or suffixes, fuse_unk false), ByteLevel pre-tokenizer
 * with tokenizer_config.json's add_prefix_space (default false), ByteLevel decoder, and as post-processor either
 * TemplateProcessing "{bos} $A" when add_bos_token (OPT's folders) or ByteLevel(trim_offsets false). RobertaConverter
 * (RobertaTokenizer, BartTokenizer, LongformerTokenizer, and model types roberta, bart, longformer, mvp): the same model and
 * pre-tokenizer, RobertaProcessing (&lt;s&gt; $A &lt;/s&gt;, pairs &lt;s&gt; $A &lt;/s&gt;&lt;/s&gt; $B &lt;/s&gt;). The special tokens
 * are tokenizer_config.json's added_tokens_decoder when it has one (their ids and flags as saved), else its bos / eos /
 * unk / pad / sep / cls / mask tokens (RoBERTa's mask strips the space on its left) and added_tokens.json's, each with
 * its id from the vocabulary; merges.txt's "#version" line is skipped.
 */
final class ByteLevelBpeConverter {

    private ByteLevelBpeConverter() {}

    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    /** The slow tokenizer classes whose post-processor is RobertaProcessing. */
    static final Set<String> ROBERTA_CLASSES = Set.of("RobertaTokenizer", "BartTokenizer", "LongformerTokenizer", "MvpTokenizer",
            "LEDTokenizer", "BlenderbotTokenizer");
    static final Set<String> ROBERTA_TYPES = Set.of("roberta", "bart", "longformer", "mvp", "led", "blenderbot");
    /** The slow tokenizer classes (and model types) read as GPT2Tokenizer. */
    static final Set<String> GPT2_CLASSES = Set.of("GPT2Tokenizer", "CodeGenTokenizer", "GPTNeoXTokenizer");
    static final Set<String> GPT2_TYPES = Set.of("gpt2", "opt", "codegen", "gpt_neox", "gpt_neo", "gptj", "phi", "gpt_bigcode");

    /** Whether a folder without tokenizer.json has the two files this converter reads. */
    static boolean applies(Path folder) {
        return Files.isRegularFile(folder.resolve("vocab.json")) && Files.isRegularFile(folder.resolve("merges.txt"));
    }

    /** Whether this folder's tokenizer is RoBERTa's kind (by tokenizer_class, else model_type); null: neither kind. */
    static Boolean roberta(String tokenizerClass, String modelType) {
        String cls = tokenizerClass == null ? null : tokenizerClass.replaceFirst("Fast$", "");
        if (cls != null) return ROBERTA_CLASSES.contains(cls) ? Boolean.TRUE : GPT2_CLASSES.contains(cls) ? Boolean.FALSE : null;
        if (modelType == null) return null;
        return ROBERTA_TYPES.contains(modelType) ? Boolean.TRUE : GPT2_TYPES.contains(modelType) ? Boolean.FALSE : null;
    }

    static ObjectNode tokenizerJson(Path folder, JsonNode tc, boolean roberta) throws IOException {
        Path vocabFile = folder.resolve("vocab.json"), mergesFile = folder.resolve("merges.txt"), tcFile = folder.resolve("tokenizer_config.json");
        JsonNode vocab = TokenizerConfig.object(vocabFile);
        Map<String, Integer> ids = new LinkedHashMap<>();
        for (var it = vocab.fields(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getValue().canConvertToInt() || e.getValue().intValue() < 0) {
                throw new TokenizerFormatException(vocabFile, "the id of '" + e.getKey() + "' is not a non-negative integer: " + e.getValue(), null);
            }
            ids.put(e.getKey(), e.getValue().intValue());
        }
        ArrayNode merges = F.arrayNode();
        List<String> lines = Files.readAllLines(mergesFile, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (i == 0 && line.startsWith("#version")) continue;
            if (line.isEmpty()) continue;
            String[] pair = line.split(" ");
            if (pair.length != 2) throw new TokenizerFormatException(mergesFile, "line " + (i + 1) + " is not two tokens: '" + line + "'", null);
            merges.add(F.arrayNode().add(pair[0]).add(pair[1]));
        }
        boolean prefixSpace = flag(tcFile, tc, "add_prefix_space", false);

        // special tokens: (content, id, lstrip, rstrip, normalized, special)
        ArrayNode added = F.arrayNode();
        Map<String, Integer> specialIds = new LinkedHashMap<>();
        JsonNode decoder = tc.path("added_tokens_decoder");
        if (decoder.isObject() && decoder.size() > 0) {
            for (var it = decoder.fields(); it.hasNext(); ) {
                var e = it.next();
                int id;
                try {
                    id = Integer.parseInt(e.getKey());
                } catch (NumberFormatException ex) {
                    throw new TokenizerFormatException(tcFile, "added_tokens_decoder key '" + e.getKey() + "' is not an id", ex);
                }
                JsonNode t = e.getValue();
                String content = t.path("content").asText(null);
                if (content == null) throw new TokenizerFormatException(tcFile, "added_tokens_decoder " + id + " has no content", null);
                added.add(F.objectNode().put("id", id).put("content", content).put("single_word", t.path("single_word").asBoolean(false))
                        .put("lstrip", t.path("lstrip").asBoolean(false)).put("rstrip", t.path("rstrip").asBoolean(false))
                        .put("normalized", t.path("normalized").asBoolean(!t.path("special").asBoolean(false)))
                        .put("special", t.path("special").asBoolean(false)));
                if (t.path("special").asBoolean(false)) specialIds.put(content, id);
            }
        } else {
            Map<String, Integer> extra = new LinkedHashMap<>();
            Path addedFile = folder.resolve("added_tokens.json");
            if (Files.isRegularFile(addedFile)) {
                for (var it = TokenizerConfig.object(addedFile).fields(); it.hasNext(); ) {
                    var e = it.next();
                    extra.put(e.getKey(), e.getValue().intValue());
                }
            }
            JsonNode map = Files.isRegularFile(folder.resolve("special_tokens_map.json"))
                    ? TokenizerConfig.object(folder.resolve("special_tokens_map.json")) : F.objectNode();
            for (String role : List.of("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")) {
                String content = content(tc.path(role));
                if (content == null) content = content(map.path(role));
                if (content == null || specialIds.containsKey(content)) continue;
                Integer id = ids.containsKey(content) ? ids.get(content) : extra.get(content);
                if (id == null) {
                    throw new TokenizerFormatException(tcFile, role + " '" + content + "' is neither in vocab.json nor in added_tokens.json", null);
                }
                specialIds.put(content, id);
                boolean lstrip = roberta && role.equals("mask_token");            // RobertaTokenizer's AddedToken(mask, lstrip=True)
                added.add(F.objectNode().put("id", id).put("content", content).put("single_word", false).put("lstrip", lstrip)
                        .put("rstrip", false).put("normalized", false).put("special", true));
            }
            for (var e : extra.entrySet()) {
                if (specialIds.containsKey(e.getKey())) continue;
                added.add(F.objectNode().put("id", e.getValue()).put("content", e.getKey()).put("single_word", false).put("lstrip", false)
                        .put("rstrip", false).put("normalized", true).put("special", false));
            }
        }

        ObjectNode root = F.objectNode().put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        root.set("added_tokens", added);
        root.putNull("normalizer");
        root.set("pre_tokenizer", byteLevel(prefixSpace, true));
        if (roberta) {
            String sep = token(tc, "sep_token", "</s>"), cls = token(tc, "cls_token", "<s>");
            root.set("post_processor", F.objectNode().put("type", "RobertaProcessing")
                    .set("sep", F.arrayNode().add(sep).add(specialId(tcFile, sep, specialIds, ids))));
            ((ObjectNode) root.get("post_processor")).set("cls", F.arrayNode().add(cls).add(specialId(tcFile, cls, specialIds, ids)));
            ((ObjectNode) root.get("post_processor")).put("trim_offsets", true).put("add_prefix_space", prefixSpace);
        } else if (flag(tcFile, tc, "add_bos_token", false)) {
            String bos = token(tc, "bos_token", "<|endoftext|>");
            int bosId = specialId(tcFile, bos, specialIds, ids);
            ObjectNode post = F.objectNode().put("type", "TemplateProcessing");
            post.set("single", F.arrayNode().add(special(bos)).add(sequence("A", 0)));
            post.set("pair", F.arrayNode().add(special(bos)).add(sequence("A", 0)).add(sequence("B", 1)));
            ObjectNode st = post.putObject("special_tokens").putObject(bos).put("id", bos);
            st.putArray("ids").add(bosId);
            st.putArray("tokens").add(bos);
            root.set("post_processor", post);
        } else {
            root.set("post_processor", byteLevel(false, false).put("trim_offsets", false));
        }
        root.set("decoder", byteLevel(true, true));
        ObjectNode model = F.objectNode().put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.put("continuing_subword_prefix", "").put("end_of_word_suffix", "").put("fuse_unk", false).put("byte_fallback", false)
                .put("ignore_merges", false);
        model.set("vocab", vocab);
        model.set("merges", merges);
        root.set("model", model);
        return root;
    }

    private static ObjectNode byteLevel(boolean prefixSpace, boolean trimOffsets) {
        return F.objectNode().put("type", "ByteLevel").put("add_prefix_space", prefixSpace).put("trim_offsets", trimOffsets).put("use_regex", true);
    }

    private static ObjectNode special(String token) {
        ObjectNode n = F.objectNode();
        n.putObject("SpecialToken").put("id", token).put("type_id", 0);
        return n;
    }

    private static ObjectNode sequence(String id, int typeId) {
        ObjectNode n = F.objectNode();
        n.putObject("Sequence").put("id", id).put("type_id", typeId);
        return n;
    }

    private static int specialId(Path file, String token, Map<String, Integer> specials, Map<String, Integer> vocab) throws TokenizerFormatException {
        Integer id = specials.containsKey(token) ? specials.get(token) : vocab.get(token);
        if (id == null) throw new TokenizerFormatException(file, "'" + token + "' is not a token of this vocabulary", null);
        return id;
    }

    /** A token setting: a string, or {"content": …} as newer tokenizer_config.json files save an AddedToken; null when absent. */
    private static String content(JsonNode n) {
        if (n.isTextual()) return n.textValue();
        if (n.isObject() && n.path("content").isTextual()) return n.path("content").textValue();
        return null;
    }

    private static String token(JsonNode tc, String field, String dflt) {
        String c = content(tc.path(field));
        return c == null ? dflt : c;
    }

    private static boolean flag(Path file, JsonNode tc, String field, boolean dflt) throws TokenizerFormatException {
        JsonNode n = tc.path(field);
        if (n.isMissingNode() || n.isNull()) return dflt;
        if (!n.isBoolean()) throw new TokenizerFormatException(file, field + " is not true or false: " + n, null);
        return n.booleanValue();
    }
}
