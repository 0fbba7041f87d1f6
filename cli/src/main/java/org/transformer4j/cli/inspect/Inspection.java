// Inspection — the data of an inspection report, independent of how it was computed: per position
// the token, the probability and rank the model gave it, the top alternatives and its loss; the mean
// loss and perplexity; attention mask matrices and optionally one head's attention weights.
package org.transformer4j.cli.inspect;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One inspected text. Position t holds token {@code ids[t]}; its probability, rank and loss come from
 * the distribution the model gave at position t − 1, so position 0 is not scored ({@link Position#scored}
 * false). {@code next} are the top alternatives after the last token (the model's guess for what follows).
 */
public record Inspection(String source, int vocabSize, List<Position> positions, double meanLoss, double perplexity,
                         long scoredCount, List<Alternative> next, List<Matrix> masks, Optional<Matrix> attention) {

    public Inspection {
        Objects.requireNonNull(source);
        positions = List.copyOf(positions);
        next = List.copyOf(next);
        masks = List.copyOf(masks);
        Objects.requireNonNull(attention);
    }

    /** A candidate token and the probability the model gave it. */
    public record Alternative(int id, String text, double probability) {
        public Alternative { Objects.requireNonNull(text); }
    }

    /**
     * One token of the text. For an unscored position probability, loss are NaN, rank 0 and top empty.
     * Rank 1 is the model's first choice; ties with the token's own logit count in its favour.
     */
    public record Position(int index, int id, String text, boolean scored, double probability, int rank, double loss,
                           List<Alternative> top) {
        public Position {
            Objects.requireNonNull(text);
            top = List.copyOf(top);
        }

        public static Position unscored(int index, int id, String text) {
            return new Position(index, id, text, false, Double.NaN, 0, Double.NaN, List.of());
        }
    }

    /**
     * A [rows, cols] matrix for a heatmap (row i, column j: how much query i sees key j). Row and column
     * labels are token texts; values are in [0, 1] (masks 0 or 1, attention weights rows summing to 1).
     */
    public record Matrix(String title, String description, List<String> rowLabels, List<String> colLabels, float[][] values) {
        public Matrix {
            rowLabels = List.copyOf(rowLabels);
            colLabels = List.copyOf(colLabels);
            if (values.length != rowLabels.size()) {
                throw new IllegalArgumentException(title + ": " + values.length + " rows but " + rowLabels.size() + " row labels");
            }
            for (float[] row : values) {
                if (row.length != colLabels.size()) {
                    throw new IllegalArgumentException(title + ": a row of " + row.length + " values but " + colLabels.size()
                            + " column labels");
                }
            }
        }

        public int rows() { return values.length; }

        public int cols() { return colLabels.size(); }

        public float get(int i, int j) { return values[i][j]; }
    }
}
