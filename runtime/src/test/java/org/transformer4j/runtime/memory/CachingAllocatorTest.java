// CachingAllocatorTest: behaviour of the caching allocator against FakeDeviceMemory: size
// classes, stream-ordered reuse, recordStream events, the out-of-memory retry, the size cap,
// close, misuse, thread safety, and no growth over long alloc/free churn.
package org.transformer4j.runtime.memory;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class CachingAllocatorTest {

    private static final long S1 = 0x1001;
    private static final long S2 = 0x2002;
    private static final long GIB = 1L << 30;

    // ---- size classes ------------------------------------------------------------------------

    @ParameterizedTest(name = "{0} bytes -> {1}")
    @CsvSource({
            "1, 512",
            "511, 512",
            "512, 512",
            "513, 640",
            "640, 640",
            "641, 768",
            "896, 896",
            "897, 1024",
            "1024, 1024",
            "1025, 1280",
            "1280, 1280",
            "1281, 1536",
            "1792, 1792",
            "1793, 2048",
            "2049, 2560",
            "3000, 3072",
            "1073741824, 1073741824",
            "1073741825, 1342177280",
            "4611686018427387904, 4611686018427387904",
    })
    void sizeClassTable(long bytes, long expected) {
        assertEquals(expected, CachingAllocator.sizeClass(bytes));
        FakeDeviceMemory fake = new FakeDeviceMemory();
        CachingAllocator alloc = new CachingAllocator(fake);
        Block b = alloc.allocate(bytes, S1);
        assertAll(
                () -> assertEquals(expected, b.size()),
                () -> assertEquals(bytes, b.requested()),
                () -> assertEquals(S1, b.stream()),
                () -> assertEquals(expected, fake.usedBytes(), "the device is asked for the class size"));
    }

    @Test
    void sizeClassesWasteAtMostAQuarterAndFourPerDoubling() {
        Random r = new Random(7);
        for (int i = 0; i < 20_000; i++) {
            long bytes = 513 + (r.nextLong() & ((1L << (10 + r.nextInt(40))) - 1));
            long c = CachingAllocator.sizeClass(bytes);
            assertTrue(c >= bytes && (c - bytes) * 4 <= bytes, bytes + " -> " + c);
            assertEquals(c, CachingAllocator.sizeClass(c), "a class maps to itself");
        }
        for (int k = 9; k < 40; k++) {
            Set<Long> classes = new HashSet<>();
            long lo = 1L << k;
            for (long b = lo + 1; b <= 2 * lo; b += Math.max(1, lo / 64)) {
                classes.add(CachingAllocator.sizeClass(b));
            }
            assertEquals(CachingAllocator.CLASSES_PER_DOUBLING, classes.size(), "classes in (2^" + k + ", 2^" + (k + 1) + "]");
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {0, -1, Long.MIN_VALUE, Long.MAX_VALUE, (7L << 60) + 1})
    void rejectsBadSizesWithoutTouchingTheDevice(long bytes) {
        FakeDeviceMemory fake = new FakeDeviceMemory();
        CachingAllocator alloc = new CachingAllocator(fake);
        assertThrows(IllegalArgumentException.class, () -> alloc.allocate(bytes, S1));
        assertEquals(0, fake.mallocs());
        assertEquals(0, alloc.stats().allocations());
    }

    // ---- stream-ordered reuse ----------------------------------------------------------------

    @Test
    void reusesOnTheSameStreamWithoutAnyDeviceCall() {
        FakeDeviceMemory fake = new FakeDeviceMemory();
        CachingAllocator alloc = new CachingAllocator(fake);
        Block a = alloc.allocate(1000, S1);
        alloc.free(a);
        assertTrue(fake.isLive(a.address()), "a freed block stays on the device, cached");
        Block b = alloc.allocate(900, S1);
        assertEquals(a.address(), b.address());
        assertEquals(1024, b.size());
        assertEquals(900, b.requested());
        AllocatorStats s = alloc.stats();
        assertAll(
                () -> assertEquals(1, s.deviceMallocs()),
                () -> assertEquals(1, s.cacheHits()),
                () -> assertEquals(2, s.allocations()),
                () -> assertEquals(1, s.frees()),
                () -> assertEquals(1024, s.bytesInUse()),
                () -> assertEquals(900, s.bytesRequestedInUse()),
                () -> assertEquals(0, s.bytesCached()),
                () -> assertEquals(0, fake.synchronizes(), "reuse on one stream needs no synchronize"),
                () -> assertEquals(0, fake.eventsCreated()));
        assertConsistent(alloc, fake);
    }

    @Test
    void doesNotReuseAcrossStreamsOrClasses() {
        FakeDeviceMemory fake = new FakeDeviceMemory();
        CachingAllocator alloc = new CachingAllocator(fake);
        Block a = alloc.allocate(1000, S1);
        alloc.free(a);
        Block otherStream = alloc.allocate(1000, S2);
        Block otherClass = alloc.allocate(1100, S1);
        assertNotEquals(a.address(), otherStream.address());
        assertNotEquals(a.address(), otherClass.address());
        assertEquals(3, alloc.stats().deviceMallocs());
        assertEquals(0, alloc.stats().cacheHits());
        assertEquals(1024, alloc.stats().bytesCached(), "the stream-1 block is still cached for stream 1");
        Block again = alloc.allocate(1024, S1);
        assertEquals(a.address(), again.address());
        assertConsistent(alloc, fake);
    }

    @Test
    void reusesTheMostRecentlyFreedBlockOfABucket() {
        FakeDeviceMemory fake = new FakeDeviceMemory();
        CachingAllocator alloc = new CachingAllocator(fake);
        Block a = alloc.allocate(600, S1);
        Block b = alloc.allocate(600, S1);
        alloc.free(a);
        alloc.free(b);
        assertEquals(b.address(), alloc.allocate(600, S1).address());
        assertEquals(a.address(), alloc.allocate(600, S1).address());
        assertEquals(0, alloc.bucketCount(), "an emptied bucket is dropped");
    }

    // ---- recordStream ------------------------------------------------------------------------

    @Test
    void recordStreamKeepsABlockOutOfTheCacheUntilItsEventIsDone() {
        FakeDeviceMemory fake = new FakeDeviceMemory();
        CachingAllocator alloc = new CachingAllocator(fake);
        Block a = alloc.allocate(2000, S1);
        alloc.recordStream(a, S2);
        alloc.free(a);
        assertEquals(1, fake.liveEventsOn(S2), "an event is recorded on the other stream at free");
        assertEquals(1, alloc.stats().pendingBlocks());
        assertEquals(2048, alloc.stats().bytesPending());
        assertEquals(0, alloc.stats().bytesCached());

        Block b = alloc.allocate(2000, S1);
        assertNotEquals(a.address(), b.address(), "not reused while stream 2 may still read it");
        alloc.processPendingEvents();
        assertEquals(1, alloc.stats().pendingBlocks());

        fake.completeStream(S2);
        Block c = alloc.allocate(2000, S1);
        assertEquals(a.address(), c.address(), "allocate moves completed blocks into the cache first");
        assertEquals(0, alloc.stats().pendingBlocks());
        assertEquals(0, fake.liveEvents(), "completed events are destroyed");
        assertEquals(fake.eventsCreated(), fake.eventsDestroyed());
        assertEquals(0, fake.synchronizes());
        assertConsistent(alloc, fake);
    }

    @Test
    void recordStreamWaitsForEveryRecordedStream() {
        FakeDeviceMemory fake = new FakeDeviceMemory();
        CachingAllocator alloc = new CachingAllocator(fake);
        long s3 = 0x3003;
        Block a = alloc.allocate(5000, S1);
        alloc.recordStream(a, S2);
        alloc.recordStream(a, s3);
        alloc.recordStream(a, S2);
        alloc.free(a);
        assertEquals(2, fake.liveEvents(), "one event per distinct stream");
        fake.completeStream(S2);
        alloc.processPendingEvents();
        assertEquals(1, alloc.stats().pendingBlocks());
        assertEquals(1, fake.liveEvents(), "the done event is destroyed, the other kept");
        fake.completeStream(s3);
        alloc.processPendingEvents();
        assertEquals(0, alloc.stats().pendingBlocks());
        assertEquals(1, alloc.stats().cachedBlocks());
        assertEquals(0, fake.liveEvents());
        assertConsistent(alloc, fake);
    }

    @Test
    void recordingTheAllocationStreamIsANoOp() {
        FakeDeviceMemory fake = new FakeDeviceMemory();
        CachingAllocator alloc = new CachingAllocator(fake);
        Block a = alloc.allocate(100, S1);
        alloc.recordStream(a, S1);
        alloc.free(a);
        assertEquals(0, fake.eventsCreated());
        assertEquals(1, alloc.stats().cachedBlocks());
    }

    @Test
    void aFailedEventRecordFallsBackToSynchronize() {
        FakeDeviceMemory fake = new FakeDeviceMemory();
        CachingAllocator alloc = new CachingAllocator(fake);
        Block a = alloc.allocate(100, S1);
        alloc.recordStream(a, S2);
        fake.failRecordEvent(true);
        alloc.free(a);
        assertEquals(1, fake.synchronizes());
        assertEquals(1, alloc.stats().cachedBlocks());
        assertEquals(0, alloc.stats().pendingBlocks());
        assertConsistent(alloc, fake);
    }

    // ---- out of memory -----------------------------------------------------------------------

    @Test
    void outOfMemoryTrimsTheCacheAndRetries() {
        FakeDeviceMemory fake = new FakeDeviceMemory(8192);
        fake.completeEventsOnSynchronize(true);
        CachingAllocator alloc = new CachingAllocator(fake);
        Block cached = alloc.allocate(2048, S1);
        Block pending = alloc.allocate(2048, S1);
        alloc.recordStream(pending, S2);
        alloc.free(cached);
        alloc.free(pending);
        Block live = alloc.allocate(2048, S2);
        assertEquals(6144, fake.usedBytes());

        Block big = alloc.allocate(6000, S1);
        assertEquals(6144, big.size());
        assertFalse(fake.isLive(cached.address()), "the cached block was returned to the device");
        assertFalse(fake.isLive(pending.address()), "the pending block was returned to the device");
        assertTrue(fake.isLive(live.address()));
        AllocatorStats s = alloc.stats();
        assertAll(
                () -> assertEquals(1, s.oomRetries()),
                () -> assertEquals(1, fake.failedMallocs()),
                () -> assertEquals(1, fake.synchronizes(), "one synchronize before releasing"),
                () -> assertEquals(0, s.bytesCached()),
                () -> assertEquals(0, s.pendingBlocks()),
                () -> assertEquals(0, fake.liveEvents(), "the pending block's event was destroyed"),
                () -> assertEquals(2048 + 6144, s.bytesInUse()));
        assertConsistent(alloc, fake);
    }

    @Test
    void outOfMemoryAfterTheRetryNamesRequestedAndFreeBytes() {
        FakeDeviceMemory fake = new FakeDeviceMemory(10_000);
        CachingAllocator alloc = new CachingAllocator(fake);
        Block live = alloc.allocate(4096, S1);
        alloc.free(alloc.allocate(1000, S1));

        DeviceOutOfMemoryError e = assertThrows(DeviceOutOfMemoryError.class, () -> alloc.allocate(7000, S1));
        String m = e.getMessage();
        assertTrue(m.contains("7000 bytes"), m);
        assertTrue(m.contains("5904 bytes"), "free bytes after the trim: " + m);
        assertTrue(m.contains("4096 bytes"), "bytes in use: " + m);
        assertTrue(m.contains("1024 bytes (1.00 KiB) were released"), m);
        assertAll(
                () -> assertEquals(7000, e.requestedBytes()),
                () -> assertEquals(7168, e.classBytes()),
                () -> assertEquals(5904, e.deviceFreeBytes()),
                () -> assertEquals(10_000, e.deviceTotalBytes()),
                () -> assertEquals(4096, e.bytesInUse()),
                () -> assertEquals(0, e.bytesCached()),
                () -> assertEquals(1024, e.bytesReleasedBeforeRetry()),
                () -> assertEquals(null, e.getCause(), "no room is a return value, not an exception"),
                () -> assertEquals(2, fake.failedMallocs(), "exactly one retry"));
        AllocatorStats s = alloc.stats();
        assertEquals(1, s.liveBlocks());
        assertEquals(4096, s.bytesInUse());
        assertEquals(2, s.allocations(), "the failed request is not counted");
        assertConsistent(alloc, fake);
        alloc.free(live);
        assertEquals(4096, alloc.allocate(4096, S1).size(), "the allocator still works afterwards");
    }

    @Test
    void outOfMemoryWithNothingCachedDoesNotSynchronize() {
        FakeDeviceMemory fake = new FakeDeviceMemory(1000);
        CachingAllocator alloc = new CachingAllocator(fake);
        DeviceOutOfMemoryError e = assertThrows(DeviceOutOfMemoryError.class, () -> alloc.allocate(1 * GIB + 1, S1));
        assertTrue(e.getMessage().contains("1073741825 bytes (1.00 GiB)"), e.getMessage());
        assertTrue(e.getMessage().contains("1000 bytes free"), e.getMessage());
        assertEquals(0, fake.synchronizes());
        assertEquals(1, alloc.stats().oomRetries());
    }

    // ---- misuse ------------------------------------------------------------------------------

    @Test
    void doubleFreeIsRejectedAndLeavesTheCacheIntact() {
        FakeDeviceMemory fake = new FakeDeviceMemory();
        CachingAllocator alloc = new CachingAllocator(fake);
        Block a = alloc.allocate(1000, S1);
        alloc.free(a);
        AllocatorStats before = alloc.stats();
        assertThrows(IllegalStateException.class, () -> alloc.free(a));
        assertThrows(IllegalStateException.class, () -> alloc.recordStream(a, S2));
        assertEquals(before, alloc.stats());
        assertEquals(1, alloc.trackedBlockCount());

        Block b = alloc.allocate(1000, S1);
        assertEquals(a.address(), b.address());
        assertThrows(IllegalStateException.class, () -> alloc.free(a), "a stale handle cannot free the new owner's memory");
        assertEquals(1, alloc.stats().liveBlocks());
        Block c = alloc.allocate(1000, S1);
        assertNotEquals(b.address(), c.address(), "b is still live, so its memory is not handed out again");
        assertConsistent(alloc, fake);
    }

    @Test
    void blocksOfAnotherAllocatorAreRejected() {
        FakeDeviceMemory fake = new FakeDeviceMemory();
        CachingAllocator mine = new CachingAllocator(fake);
        CachingAllocator other = new CachingAllocator(fake);
        Block foreign = other.allocate(1000, S1);
        assertThrows(IllegalArgumentException.class, () -> mine.free(foreign));
        assertThrows(IllegalArgumentException.class, () -> mine.recordStream(foreign, S2));
        assertThrows(NullPointerException.class, () -> mine.free(null));
        assertEquals(0, mine.stats().frees());
        assertEquals(0, mine.trackedBlockCount());
        other.free(foreign);
        assertEquals(1, other.stats().cachedBlocks());
    }

    // ---- cap, emptyCache, close, peak --------------------------------------------------------

    @Test
    void theCapReleasesTheOldestCachedBlocksAfterOneSynchronize() {
        FakeDeviceMemory fake = new FakeDeviceMemory();
        CachingAllocator alloc = new CachingAllocator(fake, 2048);
        Block a = alloc.allocate(1024, S1);
        Block b = alloc.allocate(1024, S2);
        Block c = alloc.allocate(1024, S1);
        Block d = alloc.allocate(1024, S1);
        alloc.free(a);
        alloc.free(b);
        assertEquals(0, fake.synchronizes(), "under the cap nothing is synchronized");
        alloc.free(c);
        assertEquals(1, fake.synchronizes());
        assertFalse(fake.isLive(a.address()), "the oldest cached block goes first");
        assertTrue(fake.isLive(b.address()));
        assertTrue(fake.isLive(c.address()));
        alloc.free(d);
        assertEquals(2, fake.synchronizes());
        assertFalse(fake.isLive(b.address()));
        assertEquals(2048, alloc.stats().bytesCached());
        assertEquals(2, alloc.stats().deviceFrees());
        assertEquals(d.address(), alloc.allocate(1024, S1).address());
        assertEquals(c.address(), alloc.allocate(1024, S1).address());
        assertConsistent(alloc, fake);
    }

    @Test
    void aZeroCapCachesNothing() {
        FakeDeviceMemory fake = new FakeDeviceMemory();
        CachingAllocator alloc = new CachingAllocator(fake, 0);
        Block a = alloc.allocate(1024, S1);
        alloc.recordStream(a, S2);
        alloc.free(a);
        assertEquals(1, alloc.stats().pendingBlocks(), "pending is not cached yet");
        fake.completeAllEvents();
        alloc.processPendingEvents();
        assertEquals(0, alloc.trackedBlockCount());
        assertEquals(0, fake.liveAllocations());
        assertConsistent(alloc, fake);
    }

    @Test
    void emptyCacheReleasesCachedAndPendingBlocks() {
        FakeDeviceMemory fake = new FakeDeviceMemory();
        CachingAllocator alloc = new CachingAllocator(fake);
        alloc.emptyCache();
        assertEquals(0, fake.synchronizes(), "nothing to release, no synchronize");
        Block live = alloc.allocate(700, S1);
        Block p = alloc.allocate(700, S1);
        alloc.recordStream(p, S2);
        alloc.free(p);
        alloc.free(alloc.allocate(9000, S2));
        alloc.emptyCache();
        assertEquals(1, fake.synchronizes());
        assertEquals(1, fake.liveAllocations());
        assertTrue(fake.isLive(live.address()));
        assertEquals(0, fake.liveEvents());
        assertEquals(0, alloc.trackedBlockCount());
        assertEquals(0, alloc.bucketCount());
        assertConsistent(alloc, fake);
    }

    @Test
    void closeReleasesTheCacheAndLaterFreesGoToTheDevice() {
        FakeDeviceMemory fake = new FakeDeviceMemory();
        CachingAllocator alloc = new CachingAllocator(fake);
        Block live = alloc.allocate(3000, S1);
        alloc.recordStream(live, S2);
        alloc.free(alloc.allocate(3000, S1));
        alloc.close();
        assertTrue(alloc.isClosed());
        assertEquals(1, fake.synchronizes());
        assertEquals(1, fake.liveAllocations());
        assertThrows(IllegalStateException.class, () -> alloc.allocate(10, S1));
        alloc.close();
        assertEquals(1, fake.synchronizes(), "close is idempotent");

        alloc.free(live);
        assertEquals(2, fake.synchronizes(), "a free after close synchronizes before releasing");
        assertEquals(0, fake.liveAllocations());
        assertEquals(0, fake.eventsCreated(), "no event is needed once the device is synchronized");
        assertThrows(IllegalStateException.class, () -> alloc.free(live));
        AllocatorStats s = alloc.stats();
        assertEquals(0, s.liveBlocks());
        assertEquals(s.deviceMallocs(), s.deviceFrees());
        assertConsistent(alloc, fake);
    }

    @Test
    void peakTracksTheHighestBytesInUseUntilReset() {
        CachingAllocator alloc = new CachingAllocator(new FakeDeviceMemory());
        Block a = alloc.allocate(1024, S1);
        Block b = alloc.allocate(2048, S1);
        alloc.free(b);
        assertEquals(3072, alloc.stats().peakBytesInUse());
        alloc.resetPeak();
        assertEquals(1024, alloc.stats().peakBytesInUse());
        alloc.free(a);
        assertEquals(1024, alloc.stats().peakBytesInUse());
        alloc.resetPeak();
        assertEquals(0, alloc.stats().peakBytesInUse());
    }

    // ---- concurrency and churn ---------------------------------------------------------------

    @Test
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void concurrentAllocateAndFreeFromFourThreadsKeepsStatsConsistent() throws Exception {
        FakeDeviceMemory fake = new FakeDeviceMemory();
        CachingAllocator alloc = new CachingAllocator(fake, 256 * 1024);
        ConcurrentHashMap<Long, Block> liveByAddress = new ConcurrentHashMap<>();
        ConcurrentLinkedQueue<Block> handOff = new ConcurrentLinkedQueue<>();
        AtomicLong allocations = new AtomicLong();
        long[] sizes = {100, 1000, 1500, 4000, 20_000, 70_000};
        int threads = 4;
        int opsPerThread = 25_000;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                futures.add(pool.submit(() -> {
                    Random r = new Random(id);
                    List<Block> mine = new ArrayList<>();
                    start.await();
                    for (int i = 0; i < opsPerThread; i++) {
                        int op = r.nextInt(4);
                        if (op <= 1 && mine.size() < 8) {
                            Block b = alloc.allocate(sizes[r.nextInt(sizes.length)], (id & 1) == 0 ? S1 : S2);
                            assertNull(liveByAddress.putIfAbsent(b.address(), b), "two live blocks share an address");
                            if (r.nextInt(8) == 0) {
                                alloc.recordStream(b, (id & 1) == 0 ? S2 : S1);
                            }
                            allocations.incrementAndGet();
                            mine.add(b);
                        } else if (op == 2 && !mine.isEmpty()) {
                            handOff.add(mine.removeLast());
                        } else {
                            Block b = !mine.isEmpty() && r.nextBoolean() ? mine.removeLast() : handOff.poll();
                            if (b != null) {
                                liveByAddress.remove(b.address(), b);
                                alloc.free(b);
                            }
                        }
                        if (r.nextInt(64) == 0) {
                            fake.completeAllEvents();
                        }
                    }
                    for (Block b : mine) {
                        liveByAddress.remove(b.address(), b);
                        alloc.free(b);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        for (Block b; (b = handOff.poll()) != null; ) {
            liveByAddress.remove(b.address(), b);
            alloc.free(b);
        }
        fake.completeAllEvents();
        alloc.processPendingEvents();
        AllocatorStats s = alloc.stats();
        assertAll(
                () -> assertTrue(liveByAddress.isEmpty()),
                () -> assertEquals(allocations.get(), s.allocations()),
                () -> assertEquals(allocations.get(), s.frees()),
                () -> assertEquals(0, s.liveBlocks()),
                () -> assertEquals(0, s.bytesInUse()),
                () -> assertEquals(0, s.bytesRequestedInUse()),
                () -> assertEquals(0, s.pendingBlocks()),
                () -> assertTrue(s.bytesCached() <= 256 * 1024),
                () -> assertEquals(s.deviceMallocs() + s.cacheHits(), s.allocations()));
        assertConsistent(alloc, fake);
        alloc.close();
        assertEquals(0, fake.liveAllocations());
        assertEquals(fake.eventsCreated(), fake.eventsDestroyed());
    }

    @Test
    void aHundredThousandCyclesOnTwoStreamsLeaveNoGrowth() {
        FakeDeviceMemory fake = new FakeDeviceMemory();
        fake.completeEventsOnSynchronize(false);
        CachingAllocator alloc = new CachingAllocator(fake);
        long[] classes = {512, 1024, 3072, 6144, 81_920, 1_310_720};
        int batch = 10;
        int cycles = 100_000;
        int warmUpBatches = 100;
        Random r = new Random(42);
        List<Block> live = new ArrayList<>(batch);
        long mallocsAfterWarmUp = -1;
        int trackedAfterWarmUp = -1;
        int bucketsAfterWarmUp = -1;
        long reservedAfterWarmUp = -1;
        long maxCached = 0;
        for (int n = 0; n < cycles / batch; n++) {
            for (int slot = 0; slot < batch; slot++) {
                long c = classes[slot % classes.length];
                long bytes = c <= 512 ? 1 + r.nextInt(512) : c - r.nextLong(c / 8);
                long stream = (slot & 1) == 0 ? S1 : S2;
                Block b = alloc.allocate(bytes, stream);
                assertEquals(c, b.size());
                if (slot == 3 || slot == 4) {
                    alloc.recordStream(b, stream == S1 ? S2 : S1);
                }
                live.add(b);
            }
            Collections.shuffle(live, r);
            for (Block b : live) {
                alloc.free(b);
            }
            live.clear();
            fake.completeStream((n & 1) == 0 ? S1 : S2);
            AllocatorStats s = alloc.stats();
            maxCached = Math.max(maxCached, s.bytesCached());
            if (n == warmUpBatches) {
                mallocsAfterWarmUp = s.deviceMallocs();
                trackedAfterWarmUp = alloc.trackedBlockCount();
                bucketsAfterWarmUp = alloc.bucketCount();
                reservedAfterWarmUp = s.bytesReserved();
            } else if (n > warmUpBatches) {
                assertEquals(mallocsAfterWarmUp, s.deviceMallocs(), "device mallocs grew at batch " + n);
                assertTrue(alloc.trackedBlockCount() <= trackedAfterWarmUp, "tracked blocks grew at batch " + n);
                assertTrue(alloc.bucketCount() <= bucketsAfterWarmUp, "buckets grew at batch " + n);
                assertTrue(s.bytesReserved() <= reservedAfterWarmUp, "reserved bytes grew at batch " + n);
                assertTrue(fake.liveEvents() <= 4, "events leak: " + fake.liveEvents());
            }
        }
        long batchBytes = 0;
        for (int slot = 0; slot < batch; slot++) {
            batchBytes += classes[slot % classes.length];
        }
        long cachedBound = 2 * batchBytes;
        AllocatorStats s = alloc.stats();
        long maxCachedSeen = maxCached;
        long warmUpMallocs = mallocsAfterWarmUp;
        assertAll(
                () -> assertEquals(cycles, s.allocations()),
                () -> assertEquals(cycles, s.frees()),
                () -> assertTrue(s.cacheHits() > cycles - 100, "hits: " + s.cacheHits()),
                () -> assertTrue(warmUpMallocs <= batch + 4, "mallocs: " + warmUpMallocs),
                () -> assertTrue(maxCachedSeen <= cachedBound, "cached bytes unbounded: " + maxCachedSeen),
                () -> assertEquals(0, s.deviceFrees()),
                () -> assertEquals(0, fake.synchronizes(), "steady churn never synchronizes"));
        assertEquals(fake.liveEvents(), alloc.outstandingEventCount());
        assertConsistent(alloc, fake);

        fake.completeAllEvents();
        alloc.processPendingEvents();
        assertEquals(0, fake.liveEvents());
        assertEquals(fake.eventsCreated(), fake.eventsDestroyed());
        alloc.close();
        assertEquals(0, fake.liveAllocations());
        assertEquals(0, alloc.trackedBlockCount());
        assertConsistent(alloc, fake);
    }

    @Test
    void underACapChurnNeverExceedsIt() {
        FakeDeviceMemory fake = new FakeDeviceMemory();
        long cap = 64 * 1024;
        CachingAllocator alloc = new CachingAllocator(fake, cap);
        Random r = new Random(3);
        List<Block> live = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            if (live.size() < 12 && (live.isEmpty() || r.nextBoolean())) {
                live.add(alloc.allocate(1 + r.nextInt(40_000), r.nextBoolean() ? S1 : S2));
            } else {
                alloc.free(live.remove(r.nextInt(live.size())));
            }
            assertTrue(alloc.stats().bytesCached() <= cap);
        }
        assertConsistent(alloc, fake);
        assertTrue(alloc.stats().deviceFrees() > 0, "the cap must have released something");
    }

    /** The device holds exactly what the allocator accounts for, and nothing else. */
    private static void assertConsistent(CachingAllocator alloc, FakeDeviceMemory fake) {
        AllocatorStats s = alloc.stats();
        assertAll(
                () -> assertEquals(fake.liveAllocations(), s.blocksReserved(), "device allocations vs live+cached+pending"),
                () -> assertEquals(fake.usedBytes(), s.bytesReserved(), "device bytes vs in use+cached+pending"),
                () -> assertEquals(fake.mallocs(), s.deviceMallocs()),
                () -> assertEquals(fake.frees(), s.deviceFrees()),
                () -> assertEquals(s.deviceMallocs() - s.deviceFrees(), s.blocksReserved()),
                () -> assertEquals(s.cachedBlocks() + s.pendingBlocks(), alloc.trackedBlockCount()),
                () -> assertEquals(fake.liveEvents(), alloc.outstandingEventCount(), "events not destroyed"));
    }
}
