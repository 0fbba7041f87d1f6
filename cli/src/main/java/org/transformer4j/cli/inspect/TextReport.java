// TextReport — the inspection report as a plain-text table for stdout: one line per token with its
// id, probability, rank, loss and top-5 alternatives; mean loss and perplexity at the end.
package org.transformer4j.cli.inspect;

import java.io.PrintStream;
import java.util.Locale;
import java.util.stream.Collectors;

/** Writes an {@link Inspection} as a table; token texts are shown quoted with control characters escaped. */
public final class TextReport {

    private TextReport() {}

    public static void print(Inspection in, PrintStream out) {
        out.printf(Locale.ROOT, "%s: %d tokens, vocabulary %d%n", in.source(), in.positions().size(), in.vocabSize());
        out.printf(Locale.ROOT, "%5s  %-18s %7s %9s %7s %7s  %s%n", "pos", "token", "id", "prob", "rank", "loss",
                "top-" + LogitsInspector.TOP + " alternatives");
        for (Inspection.Position p : in.positions()) {
            String tok = quote(p.text());
            if (!p.scored()) {
                out.printf(Locale.ROOT, "%5d  %-18s %7d %9s %7s %7s  %s%n", p.index(), tok, p.id(), "-", "-", "-",
                        "(first token: nothing before it to predict it)");
                continue;
            }
            out.printf(Locale.ROOT, "%5d  %-18s %7d %9s %7d %7.3f  %s%n", p.index(), tok, p.id(), percent(p.probability()),
                    p.rank(), p.loss(), alternatives(p.top()));
        }
        if (!in.next().isEmpty()) {
            out.printf(Locale.ROOT, "%5s  %-18s %7s %9s %7s %7s  %s%n", "next", "", "", "", "", "", alternatives(in.next()));
        }
        if (in.scoredCount() == 0) {
            out.println("mean loss: - (a single token has no prediction to score)");
        } else {
            out.printf(Locale.ROOT, "mean loss: %.4f nats over %d predicted tokens, perplexity %.3f%n", in.meanLoss(),
                    in.scoredCount(), in.perplexity());
        }
    }

    static String alternatives(java.util.List<Inspection.Alternative> top) {
        return top.stream().map(a -> quote(a.text()) + " " + percent(a.probability())).collect(Collectors.joining("  "));
    }

    static String percent(double p) {
        return p >= 0.001 ? String.format(Locale.ROOT, "%.1f%%", 100 * p) : String.format(Locale.ROOT, "%.1e", p);
    }

    /** The token in double quotes with backslash, quote and control characters escaped, so spaces and newlines show. */
    public static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        s.codePoints().forEach(c -> {
            switch (c) {
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                case '\r' -> b.append("\\r");
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (Character.isISOControl(c)) b.append(String.format(Locale.ROOT, "\\u%04x", c));
                    else b.appendCodePoint(c);
                }
            }
        });
        return b.append('"').toString();
    }
}
