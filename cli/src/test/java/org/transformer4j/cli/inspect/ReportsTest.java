// ReportsTest — the text table and the HTML page of an inspection: numbers as computed, every token
// text escaped (tokens may hold <, &, quotes, "</script>", newlines), the page self-contained.
package org.transformer4j.cli.inspect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ReportsTest {

    static final String NASTY = "</script><b id=\"x\">&amp;'\n";

    /** Three tokens; the second one nasty; made by hand so the expected output is known. */
    static Inspection sample() {
        var alt = List.of(new Inspection.Alternative(7, NASTY, 0.5), new Inspection.Alternative(2, " the", 0.25));
        var positions = List.of(
                Inspection.Position.unscored(0, 1, "Hello"),
                new Inspection.Position(1, 7, NASTY, true, 0.5, 1, Math.log(2), alt),
                new Inspection.Position(2, 2, " the", true, 0.00002, 1234, -Math.log(0.00002), alt));
        List<String> texts = List.of("Hello", NASTY, " the");
        float[][] w = {{1, 0, 0}, {0.25f, 0.75f, 0}, {0.2f, 0.3f, 0.5f}};
        double mean = (Math.log(2) - Math.log(0.00002)) / 2;
        return new Inspection("sample.safetensors", 10, positions, mean, Math.exp(mean), 2, alt, Masks.all(texts, 1),
                Optional.of(new Inspection.Matrix("layer 0, head 1", "weights", texts, texts, w)));
    }

    @Test
    void textTableShowsEveryTokenQuoted() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        TextReport.print(sample(), new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("\"</script><b id=\\\"x\\\">&amp;'\\n\""), out);   // quoted, newline shown as \n
        assertTrue(out.contains("50.0%"), out);
        assertTrue(out.contains("2.0e-05"), out);
        assertTrue(out.contains("   1234 "), out);
        assertTrue(out.contains(String.format(java.util.Locale.ROOT, "perplexity %.3f", sample().perplexity())), out);
        assertTrue(out.contains("(first token"), out);
        assertEquals(7, out.lines().count(), out);   // title, column names, 3 tokens, next, mean loss
    }

    @Test
    void pageEscapesEveryTokenAndFetchesNothing() {
        String page = HtmlReport.render(sample());
        // the raw token never appears: no element can be injected and the data script cannot be closed early
        assertFalse(page.contains("<b id=\"x\">"), "raw token in page");
        assertEquals(2, count(page, "</script>"), "only the two real script elements close");
        assertTrue(page.contains("&lt;/script&gt;&lt;b id=&quot;x&quot;&gt;&amp;amp;&#39;\n"));
        assertTrue(page.contains(HtmlReport.json(NASTY)));
        assertEquals("\"\\u003c/script\\u003e\\u003cb id=\\\"x\\\"\\u003e\\u0026amp;'\\n\"", HtmlReport.json(NASTY));
        // self-contained: no external resource of any kind
        for (String s : new String[] {"src=", "href=", "http://", "https://", "@import", "url("}) {
            if (s.equals("http://")) {
                assertEquals(count(page, "http://"), count(page, "xmlns=\"http://www.w3.org/2000/svg\""), "only SVG namespaces");
            } else {
                assertFalse(page.contains(s), s);
            }
        }
        assertEquals(3, count(page, "class=\"tok"));
        assertEquals(4, count(page, "data-kind=\"mask\""));
        assertEquals(1, count(page, "data-kind=\"weights\""));
        // filled cells (rectangles cover runs of equal cells in a row): causal 3×3 has 6, bidirectional 9,
        // prefix(1) 6, cross 2×1 2, the weights 6 non-zero
        assertEquals(java.util.Map.of("causal", 6, "bidirectional", 9, "prefix", 6, "cross", 2, "layer 0, head 1", 6), filledCells(page));
        assertEquals(3, rects(page, "bidirectional"), "one rectangle per row of equal cells");
    }

    @Test
    void largeMatricesAreAveragedOverBlocks() {
        int t = 1000;
        List<String> toks = java.util.Collections.nCopies(t, "x");
        Inspection in = new Inspection("big", 5, List.of(Inspection.Position.unscored(0, 0, "x")), Double.NaN, Double.NaN, 0,
                List.of(), Masks.all(toks, 500), Optional.empty());
        String page = HtmlReport.render(in);
        assertTrue(page.length() < 2_000_000, "page of " + page.length() + " chars");
        assertTrue(page.contains("1000 × 1000, shown as averages of 5 × 5 blocks"));
        // averaged causal mask: 200 × 200 blocks, 200·199/2 full blocks below the diagonal plus the diagonal's 15/25 each
        Matcher m = Pattern.compile("data-name=\"causal\"[\\s\\S]*?</figure>").matcher(page);
        assertTrue(m.find());
        assertEquals(200, count(m.group(), "fill-opacity=\"0.6\""), "diagonal blocks: 15 of 25 cells visible");
        assertEquals(200 * 199 / 2, filledCells(page).get("causal") - 200);
    }

    /** Per heatmap, the cells its rectangles cover (each rectangle is one cell high, a run of cells wide). */
    private static java.util.Map<String, Integer> filledCells(String page) {
        Matcher m = Pattern.compile("<figure class=\"heatmap\" data-kind=\"[a-z]+\" data-name=\"([^\"]+)\"[^>]*data-cell=\"(\\d+)\"[\\s\\S]*?</figure>")
                .matcher(page);
        java.util.Map<String, Integer> cells = new java.util.LinkedHashMap<>();
        while (m.find()) {
            int cell = Integer.parseInt(m.group(2));
            Matcher r = Pattern.compile("<rect class=\"c\"[^>]* width=\"(\\d+)\"").matcher(m.group());
            int n = 0;
            while (r.find()) n += Integer.parseInt(r.group(1)) / cell;
            cells.put(m.group(1), n);
        }
        return cells;
    }

    private static int rects(String page, String name) {
        Matcher m = Pattern.compile("data-name=\"" + name + "\"[\\s\\S]*?</figure>").matcher(page);
        assertTrue(m.find(), name);
        return count(m.group(), "<rect class=\"c\"");
    }

    @Test
    void colourRunsFromRedToGreen() {
        assertEquals("hsl(120, 75%, 78%)", HtmlReport.colour(1));
        assertEquals("hsl(60, 75%, 78%)", HtmlReport.colour(0.01));
        assertEquals("hsl(0, 75%, 78%)", HtmlReport.colour(1e-9));
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) n++;
        return n;
    }
}
