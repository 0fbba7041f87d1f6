// BrowserTest — headless Chromium opens the inspection page (computed here from logits through the CPU
// backend and written by HtmlReport), and the test checks through the DevTools protocol that it renders
// (script ran without errors, one element per token, the heatmaps, escaped tokens intact) and that moving
// the mouse onto a token shows its alternatives. Skips with the reason when Chromium is not installed.
package org.transformer4j.cli.inspect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.CpuBackend;
import org.transformer4j.runtime.Tensor;

class BrowserTest {

    /** Token texts by id; some would break a page that did not escape them. */
    static final List<String> VOCAB = List.of("<s>", "Why", " do", " LLMs", " work", "?", " </script><i>", " a&b", " \"q\"", "\n",
            " 'x'", " the", " data");

    @TempDir
    Path dir;

    @Test
    void pageRendersAndHoverShowsTheAlternatives() throws Exception {
        Optional<Path> chromium = Cdp.findChromium();
        String missing = "Chromium is not installed (no chromium, chromium-browser or google-chrome on the PATH, and no "
                + "executable $T4J_CHROMIUM): apt-get install chromium; .ci/run installs it in CI";
        // CI sets T4J_REQUIRE_BROWSER=1 after installing Chromium, so there a missing browser is a failure, not a skip
        if ("1".equals(System.getenv("T4J_REQUIRE_BROWSER")) && chromium.isEmpty()) throw new AssertionError(missing);
        Assumptions.assumeTrue(chromium.isPresent(), missing);

        int[] ids = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
        int t = ids.length;
        int v = VOCAB.size();
        SplittableRandom rnd = new SplittableRandom(3);
        float[] l = new float[t * v];
        for (int i = 0; i < l.length; i++) l[i] = (float) (rnd.nextGaussian() * 2);
        float[][] w = Masks.causal(t);
        for (float[] row : w) {
            float n = 0;
            for (float x : row) n += x;
            for (int j = 0; j < row.length; j++) row[j] /= n;
        }
        Inspection in;
        try (Backend b = new CpuBackend(); Tensor logits = Tensor.ofFloats(l, t, v)) {
            in = LogitsInspector.inspect(b, logits, ids, VOCAB::get, 5, Optional.of(new Inspection.Matrix("layer 0, head 0",
                    "uniform causal weights", VOCAB, VOCAB, w)), "browser-test", n -> {});
        }
        Path page = dir.resolve("inspect.html");
        HtmlReport.write(in, page);

        Path profile = Files.createDirectory(dir.resolve("profile"));
        try (Cdp cdp = new Cdp(chromium.get(), profile)) {
            cdp.openPage();
            cdp.page("Runtime.enable");
            cdp.page("Page.enable");
            cdp.page("Page.navigate", Cdp.params().put("url", page.toUri().toString()));
            waitFor(cdp, "document.readyState === 'complete' && document.body && document.body.dataset.ready === 'true'");

            // renders: the script ran to its end without an exception, every token and heatmap is there
            assertTrue(cdp.events.stream().noneMatch(e -> e.path("method").asText().equals("Runtime.exceptionThrown")),
                    () -> "script errors: " + cdp.events);
            assertEquals(t, cdp.eval("document.querySelectorAll('#text .tok').length").asInt());
            assertEquals("causal,bidirectional,prefix,cross,layer 0, head 0", cdp.eval(
                    "[...document.querySelectorAll('figure.heatmap')].map(f => f.dataset.name).join(',')").asText());
            assertEquals(t * (t + 1) / 2, cdp.eval("(() => { const f = document.querySelector('figure[data-name=causal]');"
                    + " return [...f.querySelectorAll('rect.c')].reduce((n, r) => n + r.width.baseVal.value, 0)"
                    + " / Number(f.dataset.cell); })()").asInt(), "cells the causal mask fills");
            assertTrue(cdp.eval("document.querySelector('figure[data-name=causal] svg').getBoundingClientRect().width").asDouble() > 50);
            // escaped tokens: their text survives exactly, and no element was injected
            for (int i = 0; i < t; i++) {
                assertEquals(VOCAB.get(ids[i]), cdp.eval("document.querySelector('.tok[data-i=\"" + i + "\"]').textContent").asText());
            }
            assertEquals(0, cdp.eval("document.querySelectorAll('#text i, #text script').length").asInt());
            assertTrue(cdp.eval("document.getElementById('tip').hidden").asBoolean(), "tooltip hidden before any hover");
            assertTrue(cdp.eval("document.querySelector('.tok[data-i=\"9\"]').getBoundingClientRect().width").asDouble() > 3,
                    "the line-break token has a width to hover");

            // hover over the token " </script><i>" (position 6): the tooltip lists its top-5 alternatives
            int pos = 6;
            Inspection.Position p = in.positions().get(pos);
            JsonNode box = cdp.eval("(() => { const r = document.querySelector('.tok[data-i=\"" + pos
                    + "\"]').getBoundingClientRect(); return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()");
            mouse(cdp, box.get("x").asDouble(), box.get("y").asDouble());
            waitFor(cdp, "!document.getElementById('tip').hidden");
            String tip = cdp.eval("document.getElementById('tip').innerText").asText();
            assertTrue(tip.contains("rank " + p.rank()), tip);
            assertEquals(5, cdp.eval("document.querySelectorAll('#tip table.alts tr').length").asInt(), tip);
            for (Inspection.Alternative a : p.top()) {
                String quoted = new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(a.text());
                assertTrue(tip.contains(quoted), "alternative " + quoted + " missing in tooltip:\n" + tip);
                assertTrue(tip.contains(pct(a.probability())), pct(a.probability()) + " missing in tooltip:\n" + tip);
            }
            assertTrue(cdp.eval("(() => { const t = document.getElementById('tip').getBoundingClientRect(); return t.width > 0 && t.height > 0; })()")
                    .asBoolean(), "tooltip has a size on screen");

            // a screenshot with the tooltip open, for people (kept in target/), and a check that it is not blank
            String png = cdp.page("Page.captureScreenshot", Cdp.params().put("format", "png")).get("data").asText();
            byte[] bytes = Base64.getDecoder().decode(png);
            Path shot = Path.of("target", "inspect-page.png");
            Files.createDirectories(shot.getParent());
            Files.write(shot, bytes);
            BufferedImage img = ImageIO.read(new java.io.ByteArrayInputStream(bytes));
            assertTrue(img.getWidth() > 100 && img.getHeight() > 100);
            long coloured = 0;
            for (int y = 0; y < img.getHeight(); y += 2) {
                for (int x = 0; x < img.getWidth(); x += 2) {
                    int rgb = img.getRGB(x, y);
                    int r = rgb >> 16 & 255, g = rgb >> 8 & 255, bl = rgb & 255;
                    if (Math.max(r, Math.max(g, bl)) - Math.min(r, Math.min(g, bl)) > 40) coloured++;
                }
            }
            assertTrue(coloured > 200, "the screenshot shows coloured tokens and heatmaps (" + coloured + " coloured samples)");

            // moving away hides it again
            mouse(cdp, 2, 2);
            waitFor(cdp, "document.getElementById('tip').hidden");

            // keyboard: focusing a token shows its alternatives too
            cdp.eval("document.querySelector('.tok[data-i=\"3\"]').focus()");
            waitFor(cdp, "!document.getElementById('tip').hidden");
            String focused = cdp.eval("document.getElementById('tip').innerText").asText();
            assertTrue(focused.startsWith("\" LLMs\"  id 3"), focused);
        }
    }

    private static String pct(double p) {
        return p >= 0.001 ? String.format(Locale.ROOT, "%.1f%%", 100 * p) : String.format(Locale.ROOT, "%.1e", p);
    }

    private static void mouse(Cdp cdp, double x, double y) throws Exception {
        cdp.page("Input.dispatchMouseEvent", Cdp.params().put("type", "mouseMoved").put("x", x).put("y", y));
    }

    /** Polls a JavaScript condition for up to 20 s. */
    private static void waitFor(Cdp cdp, String condition) throws Exception {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!cdp.eval("Boolean(" + condition + ")").asBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + condition);
            Thread.sleep(50);
        }
    }
}
