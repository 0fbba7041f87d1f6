// StreamGateTest — the locking that keeps CudaBackend's one stream safe while a graph is captured,
// tested on the CPU (the gate is plain Java): another thread's op waits for a capture to end instead
// of entering it; a capture waits for ops in flight and for another thread's capture; the capturing
// thread's own ops re-enter; a nested capture, or one started inside an op, is refused.
package org.transformer4j.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class StreamGateTest {

    /** How long "still waiting" is watched: a broken gate lets the op through at once, so this cannot pass falsely. */
    static final long WATCH_MS = 300;

    final StreamGate gate = new StreamGate();
    final ExecutorService exec = Executors.newCachedThreadPool();

    @AfterEach
    void stop() { exec.shutdownNow(); }

    @Test
    void anotherThreadsOpWaitsForTheCaptureToEnd() throws Exception {
        StringBuilder order = new StringBuilder();
        Future<?> op;
        try (var capture = gate.capture()) {
            assertTrue(gate.capturingHere() && gate.capturing());
            try (var own = gate.op()) {                                                    // the capturer's own op re-enters
                order.append("capture-op ");
            }
            op = exec.submit(() -> {
                try (var use = gate.op()) {
                    assertFalse(gate.capturingHere());
                    synchronized (order) { order.append("other-op "); }
                }
            });
            assertThrows(TimeoutException.class, () -> op.get(WATCH_MS, TimeUnit.MILLISECONDS), "the op ran during the capture");
            synchronized (order) { order.append("end-capture "); }
        }
        op.get(60, TimeUnit.SECONDS);
        assertEquals("capture-op end-capture other-op ", order.toString());
        assertFalse(gate.capturing());
    }

    @Test
    void aCaptureWaitsForOpsInFlightAndForAnotherCapture() throws Exception {
        CountDownLatch inOp = new CountDownLatch(1), leave = new CountDownLatch(1);
        Future<?> op = exec.submit(() -> {
            try (var use = gate.op()) {
                inOp.countDown();
                leave.await(60, TimeUnit.SECONDS);
            }
            return null;
        });
        assertTrue(inOp.await(60, TimeUnit.SECONDS));
        CountDownLatch captured = new CountDownLatch(1), endCapture = new CountDownLatch(1);
        Future<?> capture = exec.submit(() -> {
            try (var c = gate.capture()) {
                captured.countDown();
                endCapture.await(60, TimeUnit.SECONDS);
            }
            return null;
        });
        assertFalse(captured.await(WATCH_MS, TimeUnit.MILLISECONDS), "the capture began while an op was in flight");
        leave.countDown();
        op.get(60, TimeUnit.SECONDS);
        assertTrue(captured.await(60, TimeUnit.SECONDS));
        Future<?> second = exec.submit(() -> {
            try (var c = gate.capture()) {
                return null;
            }
        });
        assertThrows(TimeoutException.class, () -> second.get(WATCH_MS, TimeUnit.MILLISECONDS), "two captures at once");
        endCapture.countDown();
        capture.get(60, TimeUnit.SECONDS);
        second.get(60, TimeUnit.SECONDS);
    }

    @Test
    void nestedCapturesAndCapturesInsideAnOpAreRefused() {
        try (var capture = gate.capture()) {
            IllegalStateException e = assertThrows(IllegalStateException.class, gate::capture);
            assertTrue(e.getMessage().contains("already in progress"), e.getMessage());
        }
        try (var op = gate.op()) {
            IllegalStateException e = assertThrows(IllegalStateException.class, gate::capture);
            assertTrue(e.getMessage().contains("inside an op"), e.getMessage());
        }
        try (var capture = gate.capture()) {                                                   // the gate is free again
            assertTrue(gate.capturingHere());
        }
    }
}
