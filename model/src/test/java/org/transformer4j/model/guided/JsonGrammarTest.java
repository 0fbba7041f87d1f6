// JsonGrammarTest — the JSON automaton and the schema compiler against references that share no code
// with them: Jackson (strict) parses what they accept, networknt's validator checks it against the
// schema, a hand-written corpus is accepted or rejected byte by byte, and the refused keywords are named.
package org.transformer4j.model.guided;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.transformer4j.model.guided.GuidedFixtures.tree;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JsonGrammarTest {

    static final List<String> VALID = List.of(
            "{}", "[]", "{\"a\":1}", "[1,2,3]", "{ \"a\" : [ true , false , null ] }",
            "{\"s\":\"esc \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uD83D\\uDE00 end\"}",
            "[\"é\",\"☃\",\"😀\",\"\u0800\",\"\uFFFD\",\"\u07FF\"]",
            "[0,-0,1.5,-12.25e+3,1E9,0.0001,123456789012345678901234567890,2e-7]",
            "{\"nested\":{\"deeper\":[[[{\"x\":{}}]],[]]},\"k\":\"\"}",
            "[\n  {\n    \"pretty\": true\n  }\n]", "{\"\":\"empty key\"}", "[\"\\u0000\"]");

    static final List<String> INVALID = List.of(
            "{,}", "[1,]", "{\"a\":1,}", "{'a':1}", "[01]", "[1.]", "[.5]", "[-]", "[1e]", "[+1]", "[NaN]", "[Infinity]",
            "[tru]", "[nul]", "{\"a\"}", "{\"a\" 1}", "{\"a\":}", "[\"\u0001\"]", "[\"tab\there\"]", "[\"\\x\"]",
            "[\"\\u12g4\"]", "[\"\\uDE00\"]", "[\"\\uD83D\"]", "[\"\\uD83Dx\"]", "[\"\\uD83D\\u0041\"]", "{\"a\":1}}", "[1]]",
            "[1 2]", "{\"a\":1 \"b\":2}", " {}", "[\"unterminated]");

    static JsonAutomaton.State walk(JsonAutomaton.Node root, byte[] bytes) {
        JsonAutomaton.State s = JsonAutomaton.State.start(root);
        for (int i = 0; i < bytes.length && s != null; i++) s = s.advance(bytes[i] & 0xFF);
        return s;
    }

    static boolean accepts(JsonAutomaton.Node root, String text) {
        JsonAutomaton.State s = walk(root, text.getBytes(StandardCharsets.UTF_8));
        return s != null && s.isComplete();
    }

    @Test
    void theValidCorpusIsJsonAndIsAcceptedByteByByte() {
        for (String doc : VALID) {
            tree(doc);                                                              // the reference agrees it is JSON
            assertTrue(accepts(JsonAutomaton.anyJson(), doc), doc);
            assertTrue(accepts(JsonAutomaton.jsonObjectMode(), doc), doc);          // every one is an object or an array
        }
        for (String scalar : List.of("1", "\"s\"", "true", "null", "-2.5e3")) {
            assertTrue(accepts(JsonAutomaton.anyJson(), scalar), scalar);
            assertFalse(accepts(JsonAutomaton.jsonObjectMode(), scalar), scalar);
        }
    }

    @Test
    void theInvalidCorpusIsRejected() {
        for (String doc : INVALID) {
            assertFalse(accepts(JsonAutomaton.anyJson(), doc), doc);
            // Jackson agrees, except for escaped lone surrogates and whitespace before the value, which RFC 8259
            // allows and we refuse (xgrammar and llguidance allow no whitespace around the value either)
            if (!doc.contains("\\uD") && !doc.startsWith(" ")) assertThrows(AssertionError.class, () -> tree(doc), doc);
        }
    }

    @Test
    void aRejectedByteLeavesNoDeadEnd() {
        // the automaton refuses a byte as soon as nothing valid could follow, not later
        assertNull(walk(JsonAutomaton.anyJson(), "[\"\\uD83D\\uA".getBytes(StandardCharsets.UTF_8)));
        assertNull(walk(JsonAutomaton.anyJson(), "[\"\\uDC".getBytes(StandardCharsets.UTF_8)));
        assertNull(walk(JsonAutomaton.anyJson(), new byte[] {'[', '"', (byte) 0xED, (byte) 0xA0}));      // a UTF-8 surrogate
        assertNull(walk(JsonAutomaton.anyJson(), new byte[] {'[', '"', (byte) 0xC0}));                    // an overlong lead
        assertNull(walk(JsonAutomaton.anyJson(), new byte[] {'[', '"', (byte) 0xF4, (byte) 0x90}));      // above U+10FFFF
        assertNotNull(walk(JsonAutomaton.anyJson(), new byte[] {'[', '"', (byte) 0xF0, (byte) 0x9F}));   // half an emoji: may go on
    }

    @Test
    void whitespaceIsBoundedPerGap() {
        String gap = " ".repeat(JsonAutomaton.MAX_WHITESPACE);
        assertTrue(accepts(JsonAutomaton.anyJson(), "{" + gap + "\"a\"" + gap + ":" + gap + "1" + gap + "}"));
        assertFalse(accepts(JsonAutomaton.anyJson(), "{" + gap + " \"a\":1}"));
        assertFalse(accepts(JsonAutomaton.anyJson(), "{} "));                         // nothing after the value
    }

    @Test
    void propertiesComeInSchemaOrderRequiredOnesPresent() {
        JsonAutomaton.Node s = JsonSchemaCompiler.compile("""
                {"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"},"c":{"type":"boolean"}},
                 "required":["a","c"],"additionalProperties":false}""");
        assertTrue(accepts(s, "{\"a\":1,\"b\":\"x\",\"c\":true}"));
        assertTrue(accepts(s, "{\"a\":1,\"c\":true}"));                               // an optional one skipped
        assertFalse(accepts(s, "{\"c\":true,\"a\":1}"));                              // out of order
        assertFalse(accepts(s, "{\"a\":1}"));                                        // c missing
        assertFalse(accepts(s, "{\"a\":1,\"c\":true,\"d\":0}"));                      // not a property
        assertFalse(accepts(s, "{\"a\":1.5,\"c\":true}"));                            // not an integer
        assertFalse(accepts(s, "{\"a\":1,\"a\":2,\"c\":true}"));                      // no repeats
    }

    @Test
    void enumsConstsAnyOfAndLengths() {
        assertTrue(accepts(JsonSchemaCompiler.compile("{\"enum\":[1,12,\"x\"]}"), "1"));
        assertTrue(accepts(JsonSchemaCompiler.compile("{\"enum\":[1,12,\"x\"]}"), "12"));
        assertFalse(accepts(JsonSchemaCompiler.compile("{\"enum\":[1,12,\"x\"]}"), "2"));
        assertTrue(accepts(JsonSchemaCompiler.compile("{\"type\":\"string\",\"enum\":[1,\"x\"]}"), "\"x\""));
        assertFalse(accepts(JsonSchemaCompiler.compile("{\"type\":\"string\",\"enum\":[1,\"x\"]}"), "1"));
        JsonAutomaton.Node len = JsonSchemaCompiler.compile("{\"type\":\"string\",\"minLength\":2,\"maxLength\":3}");
        assertFalse(accepts(len, "\"a\""));
        assertTrue(accepts(len, "\"é😀\""));                                       // code points, not bytes
        assertTrue(accepts(len, "\"\\uD83D\\uDE00ab\""));                          // an escaped pair is one character
        assertFalse(accepts(len, "\"abcd\""));
        JsonAutomaton.Node nullable = JsonSchemaCompiler.compile("{\"type\":[\"integer\",\"null\"]}");
        assertTrue(accepts(nullable, "null") && accepts(nullable, "-3") && !accepts(nullable, "3.5"));
        JsonAutomaton.Node openApi = JsonSchemaCompiler.compile("{\"type\":\"integer\",\"nullable\":true}");
        assertTrue(accepts(openApi, "null") && accepts(openApi, "-3") && !accepts(openApi, "\"x\""));
        JsonAutomaton.Node arr = JsonSchemaCompiler.compile("{\"type\":\"array\",\"items\":{\"type\":\"integer\"},\"minItems\":1,\"maxItems\":2}");
        assertFalse(accepts(arr, "[]"));
        assertTrue(accepts(arr, "[1,2]"));
        assertFalse(accepts(arr, "[1,2,3]"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"pattern", "format", "minimum", "maximum", "exclusiveMinimum", "multipleOf", "allOf", "not",
            "patternProperties", "minProperties", "uniqueItems", "prefixItems", "if"})
    void unsupportedKeywordsAreNamed(String keyword) {
        String schema = "{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"string\",\"" + keyword + "\":" + ("allOf".equals(keyword) ? "[]" : "1")
                + "}},\"additionalProperties\":false}";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JsonSchemaCompiler.compile(schema));
        assertTrue(e.getMessage().contains("'" + keyword + "'") && e.getMessage().contains("#/properties/x"), e.getMessage());
    }

    @Test
    void otherRefusalsSayWhy() {
        assertMessage("recursive $ref", "{\"$defs\":{\"t\":{\"type\":\"object\",\"properties\":{\"kids\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/t\"}}},"
                + "\"additionalProperties\":false}},\"$ref\":\"#/$defs/t\"}");
        assertMessage("additionalProperties", "{\"type\":\"object\",\"properties\":{\"a\":{}},\"additionalProperties\":true}");
        assertMessage("points nowhere", "{\"$ref\":\"#/$defs/missing\"}");
        assertMessage("which properties lacks", "{\"type\":\"object\",\"properties\":{\"a\":{}},\"required\":[\"b\"]}");
        assertMessage("unknown type", "{\"type\":\"decimal\"}");
        assertMessage("minItems 3 > maxItems 2", "{\"type\":\"array\",\"minItems\":3,\"maxItems\":2}");
        assertMessage("no value", "false");
    }

    private static void assertMessage(String part, String schema) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JsonSchemaCompiler.compile(schema));
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }

    @Test
    void theSchemasOfTheRandomTestsAreWhatTheValidatorReads() {
        // each fixture schema accepts a hand-written example, and the validator agrees with it
        List<String> examples = List.of(
                "{\"name\":\"Ann\",\"age\":3,\"tags\":[\"x\"],\"address\":{\"city\":\"Oslo\",\"zip\":123},\"kind\":\"c\\\"d\",\"fixed\":{\"x\":[1,2],\"y\":\"z\"}}",
                "[{\"id\":1,\"v\":null,\"note\":null},{\"id\":2,\"v\":2.5}]",
                "{\"a\":1,\"b\":-2}", "\"ab\"", "{\"a\":\"s\",\"b\":false}");
        for (int i = 0; i < examples.size(); i++) {
            assertEquals(List.of(), GuidedFixtures.violations(GuidedFixtures.SCHEMAS.get(i), tree(examples.get(i))), examples.get(i));
            assertTrue(accepts(JsonSchemaCompiler.compile(GuidedFixtures.SCHEMAS.get(i)), examples.get(i)), examples.get(i));
        }
    }
}
