// MaskRuleTest — AttentionOp.Mask.visible, the one Java statement of the attention mask rule,
// against matrices written out by hand from the definitions (causal: j ≤ i; prefix-LM with P: j < P
// or j ≤ i; none: all), including the prefix edge cases P = 0 (causal) and P = T (bidirectional).
package org.transformer4j.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class MaskRuleTest {

    private static void check(AttentionOp.Mask mask, int prefix, int[][] want) {
        for (int i = 0; i < want.length; i++) {
            for (int j = 0; j < want[i].length; j++) {
                assertEquals(want[i][j] == 1, mask.visible(i, j, prefix), mask + " P=" + prefix + " query " + i + " key " + j);
            }
        }
    }

    @Test
    void rulesMatchTheirDefinitions() {
        int[][] causal = {{1, 0, 0, 0}, {1, 1, 0, 0}, {1, 1, 1, 0}, {1, 1, 1, 1}};
        int[][] all = {{1, 1, 1, 1}, {1, 1, 1, 1}, {1, 1, 1, 1}, {1, 1, 1, 1}};
        check(AttentionOp.Mask.CAUSAL, 0, causal);
        check(AttentionOp.Mask.CAUSAL, 3, causal);                 // the prefix is ignored unless PREFIX_LM
        check(AttentionOp.Mask.NONE, 0, all);
        check(AttentionOp.Mask.PREFIX_LM, 2, new int[][] {{1, 1, 0, 0}, {1, 1, 0, 0}, {1, 1, 1, 0}, {1, 1, 1, 1}});
        check(AttentionOp.Mask.PREFIX_LM, 0, causal);
        check(AttentionOp.Mask.PREFIX_LM, 4, all);
    }

    @Test
    void queriesAlignBottomRightThroughTheirKeyPosition() {
        // 2 new queries after 3 cached keys: query rows 0 and 1 sit at key positions 3 and 4.
        int[][] want = {{1, 1, 1, 1, 0}, {1, 1, 1, 1, 1}};
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 5; j++) assertEquals(want[i][j] == 1, AttentionOp.Mask.CAUSAL.visible(i + 3, j, 0), i + "," + j);
        }
    }
}
