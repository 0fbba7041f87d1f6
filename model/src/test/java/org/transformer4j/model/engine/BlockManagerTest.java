// BlockManagerTest — the prefix cache's keys: a block is found only after the exact prefix it was published after
// (its chain of keys), never by its own ids after another prefix; a duplicate publish answers the holder's key;
// evicting a block orphans the keys chained after it; bad calls are refused by name.
package org.transformer4j.model.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.transformer4j.model.PagedBatch;
import org.transformer4j.model.Transformer;
import org.transformer4j.model.TransformerConfig;
import org.transformer4j.model.Weights;
import org.transformer4j.runtime.Backend;
import org.transformer4j.runtime.CpuBackend;

class BlockManagerTest {

    static final int B = BlockManager.BLOCK_SIZE;
    static Backend backend;
    static Weights weights;
    static Transformer model;

    /** A decoder as small as a pool can be: C = 8, one layer, one head, RoPE (no position limit from a table). */
    @BeforeAll
    static void setUp() {
        backend = new CpuBackend();
        TransformerConfig c = TransformerConfig.builder().vocabSize(50).widths(8, 16, 1).encoderLayers(0).decoderLayers(1)
                .norm(TransformerConfig.NormKind.RMS_NORM, TransformerConfig.NormPlacement.PRE, 1e-6f)
                .activation(TransformerConfig.Activation.SILU, true)
                .specialIds(new TransformerConfig.SpecialIds(0, 1, 2, 1, 3)).build();
        weights = Weights.random(c, backend, 3);
        model = new Transformer(weights, backend);
    }

    @AfterAll
    static void tearDown() {
        weights.close();
        backend.close();
    }

    static BlockManager pool(int blocks) {
        return new BlockManager(model, blocks * PagedBatch.bytesPerBlock(model), Integer.MAX_VALUE);
    }

    static int[] ids(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = 4 + r.nextInt(46);
        return p;
    }

    /** Publishes the prompt's whole blocks, each into a newly allocated block; returns their ids. */
    static List<Integer> publishAll(BlockManager pool, int[] prompt) {
        List<Integer> held = new ArrayList<>();
        long key = BlockManager.ROOT;
        for (int i = 0; i + B <= prompt.length; i += B) {
            int id = pool.allocate();
            held.add(id);
            key = pool.publish(key, prompt, i, id);
        }
        return held;
    }

    @Test
    void aBlockIsFoundOnlyAfterThePrefixItWasPublishedAfter() {
        try (BlockManager pool = pool(16)) {
            int[] a = ids(1, 3 * B);
            assertNull(pool.lookup(BlockManager.ROOT, a, 0), "nothing published yet");
            List<Integer> held = publishAll(pool, a);
            assertEquals(3, pool.publishedBlocks());

            long key = BlockManager.ROOT;
            for (int i = 0; i < 3; i++) {
                BlockManager.Cached c = pool.lookup(key, a, i * B);
                assertEquals(held.get(i), c.block(), "block " + i);
                assertEquals(2, pool.refCount(c.block()), "held once more for the caller");
                key = c.key();
            }
            assertEquals(3, pool.prefixHits());

            // a's second block's ids, but as a first block: not a's block 1
            assertNull(pool.lookup(BlockManager.ROOT, a, B));
            // a's block 1 ids after another first block: not found either
            int[] b = ids(2, 3 * B);
            System.arraycopy(a, B, b, B, 2 * B);
            assertNull(pool.lookup(BlockManager.ROOT, b, 0));
            long afterB = pool.publish(BlockManager.ROOT, b, 0, pool.allocate());
            assertNull(pool.lookup(afterB, b, B), "the same 16 ids after another prefix are another key");
            // one id changed in the middle of a's first block: a miss, and so is everything after it
            int[] a2 = a.clone();
            a2[7]++;
            assertNull(pool.lookup(BlockManager.ROOT, a2, 0));
        }
    }

    @Test
    void publishingRowsAnotherBlockHoldsAnswersThatBlocksKey() {
        try (BlockManager pool = pool(8)) {
            int[] a = ids(3, 2 * B);
            List<Integer> first = publishAll(pool, a);
            int own = pool.allocate();
            BlockManager.Cached c0 = pool.lookup(BlockManager.ROOT, a, 0);
            long k = pool.publish(BlockManager.ROOT, a, 0, own);
            assertEquals(c0.key(), k, "the holder's key, so the chain goes on through it");
            assertEquals(first.get(1), pool.lookup(k, a, B).block());
            assertEquals(2, pool.publishedBlocks(), "the duplicate block is not published");
            int before = pool.available();
            pool.release(own);
            assertEquals(before + 1, pool.available(), "an unpublished block goes back to the free list");
        }
    }

    @Test
    void evictingABlockOrphansTheKeysChainedAfterIt() {
        try (BlockManager pool = pool(4)) {
            int[] a = ids(4, 2 * B);
            List<Integer> held = publishAll(pool, a);
            long k0 = pool.lookup(BlockManager.ROOT, a, 0).key();
            pool.release(held.get(0));
            pool.release(held.get(0));                // the lookup's hold too: block 0 is cached, evictable, first in line
            pool.release(held.get(1));
            assertEquals(4, pool.available());
            int x = pool.allocate(), y = pool.allocate(), z = pool.allocate();   // the free list first, then the oldest cached
            assertTrue(List.of(x, y, z).contains(held.get(0)), "the first block was evicted for the third allocation");
            assertNull(pool.lookup(BlockManager.ROOT, a, 0), "evicted");
            assertEquals(held.get(1), pool.lookup(k0, a, B).block(), "still cached under its old chain (nothing reaches it from the root)");
            assertEquals(1, pool.publishedBlocks());
            // the evicted block, republished with other rows, gets a key that is not the old one
            int[] b = ids(5, B);
            long kb = pool.publish(BlockManager.ROOT, b, 0, held.get(0));
            assertNotEquals(k0, kb);
            assertNull(pool.lookup(kb, a, B), "the orphan is not chained to the block's new rows");
        }
    }

    /** A 32k-token prompt: 2048 blocks published and found again through the chain (each key holds 16 ids). */
    @Test
    void aLongPromptsChainIsFoundWhole() {
        try (BlockManager pool = pool(2048)) {
            int[] a = ids(6, 2048 * B);
            List<Integer> held = publishAll(pool, a);
            long key = BlockManager.ROOT;
            for (int i = 0; i < 2048; i++) {
                BlockManager.Cached c = pool.lookup(key, a, i * B);
                assertEquals(held.get(i), c.block(), "block " + i);
                key = c.key();
            }
            assertEquals(2048, pool.publishedBlocks());
        }
    }

    /** A salt's root key: the same for the same salt, another for another salt; a block chained after one is not found after the other. */
    @Test
    void saltsRootTheirOwnChains() {
        try (BlockManager pool = pool(4)) {
            long x = pool.saltKey("x"), y = pool.saltKey("y");
            assertEquals(x, pool.saltKey("x"));
            assertTrue(x != y && x != BlockManager.ROOT && y != BlockManager.ROOT);
            int[] a = ids(8, B);
            pool.publish(x, a, 0, pool.allocate());
            assertNull(pool.lookup(y, a, 0), "another salt");
            assertNull(pool.lookup(BlockManager.ROOT, a, 0), "no salt");
            assertTrue(pool.lookup(x, a, 0) != null, "the same salt");
        }
    }

    @Test
    void badCallsAreRefusedByName() {
        try (BlockManager pool = pool(4)) {
            int[] a = ids(7, 2 * B);
            int id = pool.allocate();
            assertTrue(assertThrows(IllegalArgumentException.class, () -> pool.publish(99, a, 0, id)).getMessage().contains("no key 99"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> pool.publish(BlockManager.ROOT, a, B + 1, id))
                    .getMessage().contains("not inside the 32 ids"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> pool.lookup(BlockManager.ROOT, a, -1))
                    .getMessage().contains("not inside"));
            int free = pool.allocate();
            pool.release(free);
            assertTrue(assertThrows(IllegalStateException.class, () -> pool.publish(BlockManager.ROOT, a, 0, free))
                    .getMessage().contains("not held"));
            long k = pool.publish(BlockManager.ROOT, a, 0, id);
            assertTrue(assertThrows(IllegalStateException.class, () -> pool.publish(k, a, B, id))
                    .getMessage().contains("published already"));
        }
    }
}
