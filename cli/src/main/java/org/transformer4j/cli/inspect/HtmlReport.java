// HtmlReport — the inspection report as one self-contained HTML page (inline CSS, JS and SVG, nothing
// fetched): tokens coloured by the probability the model gave them, a tooltip with the alternatives on
// hover or focus, and heatmaps of the attention masks and of the chosen head's attention weights.
package org.transformer4j.cli.inspect;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Every text from the report goes through {@link #html} (element text and attributes) or {@link #json}
 * (the data block the script reads, which also escapes {@code <}, {@code >} and {@code &} so no token can
 * close the script element); the script builds the tooltip with {@code textContent}, never as markup.
 */
public final class HtmlReport {

    private HtmlReport() {}

    /** Writes the page to {@code file} (UTF-8), replacing it. */
    public static void write(Inspection in, Path file) throws IOException {
        Files.writeString(file, render(in), StandardCharsets.UTF_8);
    }

    public static String render(Inspection in) {
        StringBuilder b = new StringBuilder(1 << 16);
        b.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>t4j inspect: ").append(html(in.source())).append("</title>\n<style>\n").append(CSS)
                .append("</style>\n</head>\n<body>\n");
        b.append("<h1>t4j inspect</h1>\n<p class=\"source\">").append(html(in.source())).append(" — ")
                .append(in.positions().size()).append(" tokens, vocabulary ").append(in.vocabSize()).append("</p>\n");
        b.append("<p id=\"summary\">");
        if (in.scoredCount() == 0) {
            b.append("A single token: nothing to score.");
        } else {
            b.append(String.format(Locale.ROOT, "mean loss <b>%.4f</b> nats over %d predicted tokens, perplexity <b>%.3f</b>",
                    in.meanLoss(), in.scoredCount(), in.perplexity()));
        }
        b.append("</p>\n<p class=\"legend\">Each token is coloured by the probability the model gave it before seeing it: "
                + "<span class=\"sw\" style=\"background:").append(colour(1)).append("\">100%</span> "
                + "<span class=\"sw\" style=\"background:").append(colour(0.01)).append("\">1%</span> "
                + "<span class=\"sw\" style=\"background:").append(colour(1e-4)).append("\">≤ 0.01%</span>. "
                + "Hover over (or tab to) a token for the alternatives.</p>\n");
        b.append("<div id=\"text\">");
        for (Inspection.Position p : in.positions()) {
            b.append("<span class=\"tok").append(p.scored() ? "" : " first").append(p.text().contains("\n") ? " nl" : "").append("\" tabindex=\"0\" data-i=\"")
                    .append(p.index()).append("\" style=\"background:").append(p.scored() ? colour(p.probability()) : "#ddd")
                    .append("\">").append(html(visible(p.text()))).append("</span>");
        }
        b.append("</div>\n<div id=\"tip\" role=\"tooltip\" hidden></div>\n");
        if (!in.next().isEmpty()) {
            b.append("<p class=\"next\">After the last token the model expects: ");
            for (Inspection.Alternative a : in.next()) {
                b.append("<span class=\"alt\">").append(html(visible(a.text()).replace("\n", "↵"))).append(" <i>")
                        .append(html(TextReport.percent(a.probability()))).append("</i></span> ");
            }
            b.append("</p>\n");
        }
        b.append("<h2>Attention masks</h2>\n<p>Row i, column j is filled when query i may attend to key j.</p>\n<div class=\"maps\">\n");
        for (Inspection.Matrix m : in.masks()) heatmap(b, m, "mask");
        b.append("</div>\n");
        in.attention().ifPresent(a -> {
            b.append("<h2>Attention weights</h2>\n<div class=\"maps\">\n");
            heatmap(b, a, "weights");
            b.append("</div>\n");
        });
        b.append("<script type=\"application/json\" id=\"data\">").append(data(in)).append("</script>\n<script>\n").append(JS)
                .append("</script>\n</body>\n</html>\n");
        return b.toString();
    }

    /** Red (p ≤ 1e-4) through yellow to green (p = 1) on a log scale, light enough for black text. */
    static String colour(double p) {
        double x = p <= 0 ? 0 : Math.max(0, Math.min(1, 1 + Math.log10(p) / 4));
        return String.format(Locale.ROOT, "hsl(%.0f, 75%%, 78%%)", 120 * x);
    }

    /** Empty tokens would be invisible and unhoverable; show them as ∅. */
    private static String visible(String s) { return s.isEmpty() ? "∅" : s; }

    /** Heatmaps larger than this many cells a side are shown averaged over square blocks (page size stays bounded). */
    static final int MAX_SIDE = 200;
    /** Opacity steps: finer than the eye tells apart, coarse enough that equal neighbours merge into one rectangle. */
    private static final int LEVELS = 100;

    private static void heatmap(StringBuilder b, Inspection.Matrix m, String kind) {
        int block = (Math.max(m.rows(), m.cols()) + MAX_SIDE - 1) / MAX_SIDE;   // 1 unless the matrix is large
        float[][] v = block == 1 ? m.values() : average(m, block);
        int rows = v.length;
        int cols = rows == 0 ? (m.cols() + block - 1) / block : v[0].length;
        int cell = Math.max(2, Math.min(22, 440 / Math.max(1, Math.max(rows, cols))));
        boolean labels = block == 1 && cell >= 10;
        int margin = labels ? 70 : 4;
        int w = margin + cols * cell + 4;
        int h = margin + rows * cell + 4;
        b.append("<figure class=\"heatmap\" data-kind=\"").append(kind).append("\" data-name=\"").append(html(m.title()))
                .append("\" data-rows=\"").append(m.rows()).append("\" data-cols=\"").append(m.cols()).append("\" data-block=\"")
                .append(block).append("\" data-cell=\"").append(cell).append("\">\n<figcaption><b>")
                .append(html(m.title())).append("</b> — ").append(html(m.description())).append(" (").append(m.rows())
                .append(" × ").append(m.cols()).append(block == 1 ? "" : ", shown as averages of " + block + " × " + block + " blocks")
                .append(")</figcaption>\n");
        b.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(w).append("\" height=\"").append(h)
                .append("\" role=\"img\" aria-label=\"").append(html(m.title())).append("\">");
        b.append("<rect class=\"bg\" x=\"").append(margin).append("\" y=\"").append(margin).append("\" width=\"")
                .append(cols * cell).append("\" height=\"").append(rows * cell).append("\"/>");
        if (labels) {
            for (int i = 0; i < rows; i++) {
                b.append("<text class=\"lbl\" x=\"").append(margin - 3).append("\" y=\"").append(margin + i * cell + cell * 0.75)
                        .append("\" text-anchor=\"end\">").append(html(shortLabel(m.rowLabels().get(i)))).append("</text>");
            }
            for (int j = 0; j < cols; j++) {
                double x = margin + j * cell + cell * 0.75;
                b.append("<text class=\"lbl\" transform=\"translate(").append(fmt(x)).append(',').append(margin - 3)
                        .append(") rotate(-60)\">").append(html(shortLabel(m.colLabels().get(j)))).append("</text>");
            }
        }
        for (int i = 0; i < rows; i++) {
            int j = 0;
            while (j < cols) {   // one rectangle per run of equal levels in a row
                int level = level(v[i][j]);
                int end = j + 1;
                while (end < cols && level(v[i][end]) == level) end++;
                if (level > 0) {
                    b.append("<rect class=\"c\" x=\"").append(margin + j * cell).append("\" y=\"").append(margin + i * cell)
                            .append("\" width=\"").append((end - j) * cell).append("\" height=\"").append(cell).append('"');
                    if (level < LEVELS) b.append(" fill-opacity=\"").append((double) level / LEVELS).append('"');
                    b.append("/>");
                }
                j = end;
            }
        }
        b.append("</svg>\n</figure>\n");
    }

    /** 0 (not drawn: below what the eye tells from the background) .. LEVELS (opaque). */
    private static int level(float v) {
        return v > 0 ? (int) Math.round(Math.min(1f, v) * LEVELS) : 0;
    }

    /** Means of block × block squares (partial blocks at the edges average what they hold). */
    private static float[][] average(Inspection.Matrix m, int block) {
        int rows = (m.rows() + block - 1) / block;
        int cols = (m.cols() + block - 1) / block;
        float[][] out = new float[rows][cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                double sum = 0;
                int n = 0;
                for (int r = i * block; r < Math.min(m.rows(), (i + 1) * block); r++) {
                    for (int c = j * block; c < Math.min(m.cols(), (j + 1) * block); c++) {
                        sum += m.get(r, c);
                        n++;
                    }
                }
                out[i][j] = (float) (sum / n);
            }
        }
        return out;
    }

    private static String shortLabel(String s) {
        String v = visible(s).replace('\n', '↵');
        return v.codePointCount(0, v.length()) > 8 ? v.substring(0, v.offsetByCodePoints(0, 7)) + "…" : v;
    }

    private static String fmt(double v) { return String.format(Locale.ROOT, "%.3g", v); }

    /** The per-token data the tooltip script reads: a JSON object, safe inside a script element. */
    static String data(Inspection in) {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode positions = root.putArray("positions");
        for (Inspection.Position p : in.positions()) {
            ObjectNode o = positions.addObject().put("id", p.id()).put("text", p.text()).put("scored", p.scored());
            if (p.scored()) {
                number(o, "p", p.probability()).put("rank", p.rank());
                number(o, "loss", p.loss()).set("top", alternatives(p.top()));
            }
        }
        root.set("next", alternatives(in.next()));
        return write(root);
    }

    private static ArrayNode alternatives(List<Inspection.Alternative> top) {
        ArrayNode a = JSON.createArrayNode();
        for (Inspection.Alternative alt : top) number(a.addObject().put("id", alt.id()).put("text", alt.text()), "p", alt.probability());
        return a;
    }

    /** v, or null where it is not finite (JSON has no NaN or infinity). */
    private static ObjectNode number(ObjectNode o, String name, double v) {
        return Double.isFinite(v) ? o.put(name, v) : o.putNull(name);
    }

    /** Text for element content or a quoted attribute value. */
    public static String html(String s) {
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> {
                    // Control characters other than tab/newline are not allowed in HTML text; show them as U+FFFD.
                    if (c < 0x20 && c != '\n' && c != '\t' || c == 0x7f) b.append('\uFFFD');
                    else b.append(c);
                }
            }
        }
        return b.toString();
    }

    /** A JSON string literal; {@code < > &}, U+2028/9, lone surrogates and controls escaped (safe inside {@code <script>}). */
    public static String json(String s) { return write(JSON.getNodeFactory().textNode(s)); }

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Jackson's JSON with the escapes that keep it inert inside a {@code <script>} element. */
    private static final ObjectWriter SCRIPT_SAFE = JSON.writer().with(new ScriptSafeEscapes());

    private static String write(JsonNode node) {
        try {
            return SCRIPT_SAFE.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);              // a tree of strings and numbers always serialises
        }
    }

    /** Standard JSON escapes plus {@code < > &}, U+2028/U+2029 and every surrogate as lowercase \\u escapes. */
    @SuppressWarnings("serial") // never serialised
    private static final class ScriptSafeEscapes extends CharacterEscapes {
        private final int[] ascii = standardAsciiEscapesForJSON();

        ScriptSafeEscapes() {
            ascii['<'] = ESCAPE_CUSTOM;
            ascii['>'] = ESCAPE_CUSTOM;
            ascii['&'] = ESCAPE_CUSTOM;
        }

        @Override public int[] getEscapeCodesForAscii() { return ascii; }

        @Override
        public SerializableString getEscapeSequence(int ch) {
            boolean escape = ch == '<' || ch == '>' || ch == '&' || ch == 0x2028 || ch == 0x2029 || Character.isSurrogate((char) ch);
            return escape ? new SerializedString(String.format(Locale.ROOT, "\\u%04x", ch)) : null;
        }
    }

    private static final String CSS = """
            body { font: 15px/1.5 system-ui, sans-serif; margin: 2em auto; max-width: 70em; padding: 0 1em; color: #222; }
            h1 { font-size: 1.4em; margin-bottom: 0; }
            .source { color: #666; margin-top: 0; }
            #text { font: 17px/2.1 ui-monospace, monospace; white-space: pre-wrap; word-break: break-all;
                    border: 1px solid #ccc; padding: .6em; border-radius: 4px; }
            .tok { border-radius: 3px; padding: 1px 0; cursor: default; outline-offset: 1px; }
            .tok:hover, .tok:focus, .tok.active { outline: 2px solid #333; }
            .tok.first { color: #555; }
            .tok.nl::before { content: "↵"; color: #777; }   /* a line break would otherwise have no width to hover */
            .sw { padding: 0 .4em; border-radius: 3px; }
            #tip { position: absolute; z-index: 10; background: #fff; border: 1px solid #888; border-radius: 4px;
                   box-shadow: 0 2px 8px rgba(0,0,0,.25); padding: .4em .7em; font: 13px/1.4 ui-monospace, monospace;
                   pointer-events: none; white-space: pre; }
            #tip table { border-collapse: collapse; }
            #tip td { padding: 0 .5em; }
            #tip tr.own { font-weight: bold; }
            #tip td.p { text-align: right; }
            .alt { background: #eef; padding: 0 .3em; margin-right: .3em; border-radius: 3px; white-space: pre; }
            .maps { display: flex; flex-wrap: wrap; gap: 1.5em; }
            figure.heatmap { margin: 0; }
            figcaption { font-size: 13px; max-width: 30em; }
            svg .bg { fill: #f3f3f3; stroke: #bbb; }
            svg .c { fill: #1f5fbf; }
            svg .lbl { font: 10px ui-monospace, monospace; fill: #444; }
            """;

    private static final String JS = """
            "use strict";
            (function () {
              const data = JSON.parse(document.getElementById("data").textContent);
              const tip = document.getElementById("tip");
              const pct = p => p >= 0.001 ? (100 * p).toFixed(1) + "%" : p.toExponential(1);
              const show = s => JSON.stringify(s);
              function cell(tr, text, cls) {
                const td = document.createElement("td");
                td.textContent = text;
                if (cls) td.className = cls;
                tr.appendChild(td);
              }
              function open(el) {
                const p = data.positions[Number(el.dataset.i)];
                tip.replaceChildren();
                const head = document.createElement("div");
                if (!p.scored) {
                  head.textContent = show(p.text) + "  id " + p.id + " — the first token; nothing before it predicts it";
                  tip.appendChild(head);
                } else {
                  head.textContent = show(p.text) + "  id " + p.id + "  p " + pct(p.p) + "  rank " + p.rank
                      + "  loss " + p.loss.toFixed(3);
                  tip.appendChild(head);
                  const table = document.createElement("table");
                  table.className = "alts";
                  for (const a of p.top) {
                    const tr = document.createElement("tr");
                    if (a.id === p.id) tr.className = "own";
                    cell(tr, show(a.text));
                    cell(tr, pct(a.p), "p");
                    cell(tr, "id " + a.id);
                    table.appendChild(tr);
                  }
                  tip.appendChild(table);
                }
                const r = el.getBoundingClientRect();
                tip.style.left = (window.scrollX + r.left) + "px";
                tip.style.top = (window.scrollY + r.bottom + 6) + "px";
                tip.hidden = false;
                el.classList.add("active");
              }
              function close(el) {
                tip.hidden = true;
                el.classList.remove("active");
              }
              for (const el of document.querySelectorAll(".tok")) {
                el.addEventListener("mouseenter", () => open(el));
                el.addEventListener("mouseleave", () => close(el));
                el.addEventListener("focus", () => open(el));
                el.addEventListener("blur", () => close(el));
              }
              document.body.dataset.ready = "true";
            })();
            """;
}
