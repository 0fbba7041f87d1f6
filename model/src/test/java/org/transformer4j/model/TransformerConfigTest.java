// TransformerConfigTest — presets describe the real checkpoints' shapes; every invalid combination
// fails at construction with a reason; the four switches toggle independently.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.transformer4j.model.TransformerConfig.Architecture;

class TransformerConfigTest {

    private static void rejects(Executable e, String... fragments) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        for (String f : fragments) assertTrue(ex.getMessage().contains(f), "'" + f + "' in: " + ex.getMessage());
    }

    private static TransformerConfig.Builder tinyEncDec() {
        return TransformerConfig.builder().vocabSize(100).widths(32, 64, 4).encoderLayers(2).decoderLayers(2);
    }

    /** DeBERTa's disentangled attention: post-LN encoders only, a span, a term, log buckets that can be taken. */
    @Test
    void disentangledAttentionIsForPostLnEncoders() {
        TransformerConfig.Disentangled v3 = new TransformerConfig.Disentangled(256, 256, 512, true, true, true, true);
        java.util.function.Supplier<TransformerConfig.Builder> enc = () -> TransformerConfig.builder().vocabSize(100).widths(32, 64, 4)
                .encoderLayers(2).norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.POST, 1e-7f);
        assertEquals(v3, enc.get().disentangled(v3).build().disentangled());
        rejects(() -> enc.get().decoderLayers(2).disentangled(v3).build(), "post-LN encoder-only");
        rejects(() -> enc.get().norm(TransformerConfig.NormKind.LAYER_NORM, TransformerConfig.NormPlacement.PRE, 1e-7f).disentangled(v3).build(),
                "post-LN encoder-only");
        rejects(() -> enc.get().disentangled(new TransformerConfig.Disentangled(256, 256, 512, false, false, true, true)).build(),
                "at least one of c2p, p2c");
        rejects(() -> enc.get().disentangled(new TransformerConfig.Disentangled(0, -1, 512, true, true, true, true)).build(), "span ≥ 1");
        rejects(() -> enc.get().disentangled(new TransformerConfig.Disentangled(256, 256, 100, true, true, true, true)).build(),
                "max_relative_positions − 1 > position_buckets / 2");
        rejects(() -> enc.get().relativeBias(32, 128).learnedPositions(64).disentangled(v3).build(), "without a T5 bias");
    }

    @Test
    void presetsHaveTheCheckpointShapes() {
        TransformerConfig gpt2 = TransformerConfig.gpt2Small();
        assertEquals(Architecture.DECODER_ONLY, gpt2.architecture());
        assertEquals(64, gpt2.headSize());
        assertEquals(1 / Math.sqrt(64), gpt2.attentionScale(), 1e-7);
        TransformerConfig bert = TransformerConfig.bertBase();
        assertEquals(Architecture.ENCODER_ONLY, bert.architecture());
        assertEquals(TransformerConfig.NormPlacement.POST, bert.normPlacement());
        assertEquals(1e-12f, bert.normEps());
        TransformerConfig t5 = TransformerConfig.t5Small();
        assertEquals(Architecture.ENCODER_DECODER, t5.architecture());
        assertEquals(1f, t5.attentionScale());
        assertEquals(1 / Math.sqrt(512), t5.outputScale(), 1e-7);
        assertEquals(512, t5.innerWidth());
    }

    @Test
    void headsThatDoNotDivideTheWidthAreRejectedUnlessHeadSizeIsGiven() {
        rejects(() -> TransformerConfig.builder().widths(100, 400, 3), "heads (NH=3) must divide the model width (C=100)");
        // T5 v1.1 small: C=512 with 6 heads of 64 (inner width 384) is fine when HS is explicit.
        TransformerConfig v11 = TransformerConfig.builder().vocabSize(32128).modelWidth(512).mlpWidth(1024)
                .heads(6, 6, 64).encoderLayers(8).decoderLayers(8).build();
        assertEquals(384, v11.innerWidth());
        rejects(() -> TransformerConfig.builder().vocabSize(10).modelWidth(64).mlpWidth(64).heads(8, 3, 8)
                .decoderLayers(1).build(), "kvHeads (NKV=3) must divide heads (NH=8)");
    }

    @Test
    void invalidCombinationsFailWithTheReason() {
        rejects(() -> TransformerConfig.builder().vocabSize(10).widths(8, 8, 2).build(), "needs encoder or decoder layers");
        rejects(() -> tinyEncDec().vocabSize(0).build(), "vocabSize must be ≥ 1");
        rejects(() -> tinyEncDec().decoderLayers(3).shareEncoderDecoderParams(true).build(),
                "shareEncoderDecoderParams needs as many encoder as decoder layers (2 vs 3)");
        rejects(() -> tinyEncDec().decoderLayers(3).withinLayerCrossAttention(true).build(), "(2 vs 3)");
        rejects(() -> tinyEncDec().encoderLayers(0).causalInput(true).build(), "causalInput applies to encoder-decoder");
        rejects(() -> tinyEncDec().decoderLayers(0).shareCrossAndSelfAttention(true).build(),
                "shareCrossAndSelfAttention applies to encoder-decoder");
        rejects(() -> tinyEncDec().prefixLm(true).build(), "prefixLm is a decoder-only model");
        rejects(() -> tinyEncDec().t5RelativePositions(32, 8).build(), "relativeMaxDistance (8) must be ≥ relativeBuckets/2 (16)");
        rejects(() -> tinyEncDec().learnedPositions(0).build(), "maxPositions ≥ 1");
        rejects(() -> tinyEncDec().specialIds(new TransformerConfig.SpecialIds(0, 100, -1, -1, -1)).build(),
                "special id 100 is outside the vocabulary [0, 100)");
        rejects(() -> tinyEncDec().norm(TransformerConfig.NormKind.RMS_NORM, TransformerConfig.NormPlacement.PRE, 0f).build(),
                "normEps");
        // several problems are reported together
        rejects(() -> tinyEncDec().vocabSize(-1).mlpWidth(0).build(), "vocabSize", "mlpWidth (F)");
    }

    @Test
    void eachSwitchToggledAloneChangesOnlyItself() {
        TransformerConfig base = tinyEncDec().build();
        TransformerConfig s1 = base.withSteps(true, null, null, null);
        TransformerConfig s2 = base.withSteps(null, true, null, null);
        TransformerConfig s3 = base.withSteps(null, null, true, null);
        TransformerConfig s4 = base.withSteps(null, null, null, true);
        assertEquals(base.toBuilder().shareCrossAndSelfAttention(true).build(), s1);
        assertEquals(base.toBuilder().shareEncoderDecoderParams(true).build(), s2);
        assertEquals(base.toBuilder().withinLayerCrossAttention(true).build(), s3);
        assertEquals(base.toBuilder().causalInput(true).build(), s4);
        assertEquals(base, s4.withSteps(null, null, null, false));
        TransformerConfig all = base.withSteps(true, true, true, true);
        assertEquals(Architecture.ENCODER_DECODER, all.architecture());
        assertEquals(base.toBuilder().build(), base, "toBuilder round-trips");
    }
}
