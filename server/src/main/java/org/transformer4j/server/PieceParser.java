// PieceParser — the feed the chat-reply parsers share (ReasoningParser, ToolParser): the reply's text arrives piece by
// piece as it is released, what may still change meaning waits, and the end of the reply releases the rest; a whole
// reply is the same feed in one piece, so a streamed reply and a non-streamed one parse alike.
package org.transformer4j.server;

import java.util.List;

/** {@code D}: what a piece releases. Not thread-safe: one request's thread uses it. */
abstract class PieceParser<D> {

    /** Text not yet classified: a possible tag's beginning, a header, a call still coming. */
    final StringBuilder pending = new StringBuilder();
    private boolean finished;

    /** Adds the next piece of the reply; returns what it releases. */
    public final D add(String text) {
        if (finished) throw new IllegalStateException("the reply was finished");
        pending.append(text);
        return released(step(false));
    }

    /** The reply is complete: releases what was held back (a partial tag is text after all). */
    public final D finish() {
        if (finished) return nothing();
        finished = true;
        return released(step(true));
    }

    /** Consumes what it can of {@link #pending}; at the end ({@code end}) holds nothing back. */
    abstract D step(boolean end);

    /** Adds {@code d} to the totals so far; returns it. */
    abstract D released(D d);

    /** What a piece that releases nothing gives. */
    abstract D nothing();

    /** The length of the longest suffix of {@code s} that is a proper prefix of one of {@code tags}. */
    static int partialTag(CharSequence s, List<String> tags) {
        int best = 0;
        for (String t : tags) {
            for (int k = Math.min(t.length() - 1, s.length()); k > best; k--) {
                if (s.subSequence(s.length() - k, s.length()).toString().equals(t.substring(0, k))) { best = k; break; }
            }
        }
        return best;
    }
}
