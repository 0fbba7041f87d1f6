// NativeLoaderTest — extraction into the cache folder is atomic: processes (here, threads) racing to
// extract the same content all end up with one complete folder and no temporary leftovers.
package org.transformer4j.bindings;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeLoaderTest {

    @Test
    void racingExtractionsLeaveOneCompleteFolder(@TempDir Path cache) throws Exception {
        byte[] lib = new byte[1 << 20];
        for (int i = 0; i < lib.length; i++) lib[i] = (byte) (i * 31);
        Map<String, byte[]> contents = Map.of("libt4j.so", lib, "t4j.kernels", "kernel\tarch\n".getBytes());
        Path dir = cache.resolve("0123456789abcdef01234567");
        int n = 8;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < n; t++) {
                done.add(pool.submit(() -> {
                    start.await();
                    NativeLoader.extract(dir, contents);
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) f.get();
        } finally {
            pool.shutdown();
        }
        assertArrayEquals(lib, Files.readAllBytes(dir.resolve("libt4j.so")));
        try (var entries = Files.list(cache)) {
            assertEquals(List.of(dir), entries.toList(), "only the final folder remains");
        }
    }
}
