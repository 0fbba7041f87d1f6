// LoopHold — holds a serving engine's loop inside a first request's listener, so that the requests a test submits
// meanwhile are all admitted by one step (the engine tests' way to make batches they can count).
package org.transformer4j.model.engine;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.transformer4j.model.Generator;

public final class LoopHold {

    private LoopHold() {}

    /**
     * Submits {@code prompt} (greedy, 2 tokens) and returns once the loop sits in its first token's listener; the loop
     * goes on when the returned latch is counted down (or after 60 s).
     */
    public static CountDownLatch hold(Engine e, int[] prompt) throws Exception {
        CountDownLatch hold = new CountDownLatch(1);
        CompletableFuture<Void> held = new CompletableFuture<>();
        e.submit(new Engine.Request(prompt, Generator.Options.greedy(2)), new Engine.Listener() {
            @Override public void onToken(Engine.Token t) {
                if (t.index() != 0) return;
                held.complete(null);
                try {
                    hold.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                }
            }
            @Override public void onFinish(Engine.Finish reason, String error) {}
        });
        held.get(60, TimeUnit.SECONDS);
        return hold;
    }
}
