// JsonRelayTest — the relay that streams a call's arguments: fed whole or a character at a time it writes what
// json.dumps(json.loads(text)) writes (PythonJson, the non-streamed arguments' layout before this relay), ASCII-escaped
// or as written where asked; cut at any character, what it wrote stays the beginning of what the whole text writes and
// close() ends it as valid JSON; text that is not JSON stops it where it breaks.
package org.transformer4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.transformer4j.model.chat.PythonJson;

class JsonRelayTest {

    static final List<String> VALID = List.of(
            "{}", "{ }", "[]", "{\"a\":1}", " {\"a\" : [1, 2.50, -0, -0.0, 1e5, 1E-7, 12345678901234567890, 1.5e300, 1e400]}",
            "{\"s\": \"tab\\tquote\\\" back\\\\ slash\\/ \\u00e9\\u20ac \\ud83d\\ude00 ü€😀 \\u0001 \\b\\f\\r\\n\"}",
            "{\"nested\": {\"deep\": [{\"x\": null}, [true, false], [], {}]}, \"n\": NaN, \"i\": -Infinity, \"j\": Infinity}",
            "{\n  \"location\": \"Tokyo\",\n  \"unit\": \"celsius\"\n}", "{\"k\\u00e9y\": \"v\", \"\": \"\"}", "[1, \"a\", {\"b\": [2]}]");

    static String relay(String text, JsonRelay.Layout layout, boolean charByChar) {
        JsonRelay r = new JsonRelay(layout);
        StringBuilder out = new StringBuilder();
        if (charByChar) {
            StringBuilder seen = new StringBuilder();
            int at = 0;
            for (char c : text.toCharArray()) {
                seen.append(c);
                at = r.read(seen, at, seen.length());
                out.append(r.take());
            }
        } else {
            r.read(text, 0, text.length());
            out.append(r.take());
        }
        r.close();
        out.append(r.take());
        assertEquals(JsonRelay.Status.DONE, r.status(), text);
        return out.toString();
    }

    @Test
    void writesWhatJsonDumpsWritesWholeAndACharacterAtATime() {
        for (String t : VALID) {
            Object value = new com.fasterxml.jackson.databind.ObjectMapper().convertValue(ToolParser.parse(t), Object.class);
            for (boolean one : new boolean[] {false, true}) {
                assertEquals(PythonJson.dumps(value), relay(t, JsonRelay.Layout.DUMPS, one), t);
                assertEquals(PythonJson.dumpsAscii(value), relay(t, JsonRelay.Layout.DUMPS_ASCII, one), t);
                assertEquals(t.strip(), relay(t, JsonRelay.Layout.RAW, one).strip(), t);
            }
        }
    }

    /** Cut anywhere: the written text goes on as the whole text's does, and closing it gives JSON. */
    @Test
    void aCutLeavesTheBeginningOfTheWholeClosedAsJson() {
        for (String t : VALID) {
            for (JsonRelay.Layout layout : JsonRelay.Layout.values()) {
                String whole = relay(t, layout, false);
                for (int cut = 0; cut < t.length(); cut++) {
                    JsonRelay r = new JsonRelay(layout);
                    r.read(t, 0, cut);
                    String written = r.take();
                    assertTrue(whole.startsWith(written), layout + " " + t + " cut at " + cut + ": " + written);
                    if (written.isEmpty()) continue;
                    r.close();
                    assertNotNull(ToolParser.parse(written + r.take()), layout + " " + t + " cut at " + cut + ": " + written);
                }
            }
        }
    }

    @Test
    void textThatIsNotJsonStopsItWhereItBreaks() {
        for (String[] c : new String[][] {{"{\"a\": tru}", "9", "{}"}, {"{\"a\": 01}", "8", "{}"}, {"{\"a\": [1, 2,]}", "12", "{\"a\": [1, 2]}"},
                {"{\"a\": \"x\ny\"}", "8", "{\"a\": \"x\"}"}, {"{\"a\": \"\\q\"}", "8", "{\"a\": \"\"}"}, {"{\"a\" 1}", "5", "{}"},
                {"{'a': 1}", "1", "{}"}, {"{\"a\": 1} x", "8", "{\"a\": 1}"}}) {
            JsonRelay r = new JsonRelay(JsonRelay.Layout.DUMPS);
            int stop = r.read(c[0], 0, c[0].length());
            assertEquals(Integer.parseInt(c[1]), stop, c[0]);
            assertEquals(c[0].endsWith(" x") ? JsonRelay.Status.DONE : JsonRelay.Status.BROKEN, r.status(), c[0]);
            r.close();
            assertEquals(c[2], r.written(), c[0]);
        }
    }
}
