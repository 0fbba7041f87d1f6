// StructLayoutTest — every Java struct layout must agree with sizeof/offsetof as libt4j's C
// compiler laid the struct out. Host-side only: runs without a GPU.
package org.transformer4j.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.PaddingLayout;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class StructLayoutTest {

    /** Every struct libt4j reports, through its Java class of the same name (jextract's naming). */
    static Stream<GroupLayout> structs() {
        String list = t4j_h.t4j_struct_list().reinterpret(Long.MAX_VALUE).getString(0);
        return Arrays.stream(list.split(",")).map(name -> {
            try {
                return (GroupLayout) Class.forName("org.transformer4j.bindings." + name).getMethod("layout").invoke(null);
            } catch (ReflectiveOperationException e) {
                throw new AssertionError("libt4j has struct " + name + " but the bindings have no class for it", e);
            }
        });
    }

    @org.junit.jupiter.api.Test
    void theLibraryReportsItsStructs() {
        List<String> names = structs().map(l -> l.name().orElseThrow()).toList();
        assertTrue(names.containsAll(List.of("t4j_build_info", "t4j_norm_params", "t4j_linear_params", "t4j_bias_act_params",
                "t4j_embedding_params", "t4j_softmax_params", "t4j_cross_entropy_params", "t4j_sample_params",
                "t4j_attention_params", "t4j_kv_append_params", "t4j_decode_params", "t4j_rope_params",
                "t4j_softcap_params", "t4j_mask_params", "t4j_moe_route_params", "t4j_gather_rows_params", "t4j_moe_combine_params",
                "t4j_penalty_params", "t4j_sample_row")),
                names.toString());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("structs")
    void javaLayoutMatchesTheCompiledStruct(GroupLayout layout) {
        String name = layout.name().orElseThrow();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cName = arena.allocateFrom(name);
            long size = t4j_h.t4j_struct_size(cName);
            assertNotEquals(-1, size, "libt4j does not know struct " + name);
            assertEquals(size, layout.byteSize(), "sizeof(" + name + ")");

            MemorySegment fieldsPtr = t4j_h.t4j_struct_fields(cName);
            List<String> cFields = Arrays.asList(fieldsPtr.reinterpret(Long.MAX_VALUE).getString(0).split(","));
            List<String> javaFields = layout.memberLayouts().stream()
                    .filter(m -> !(m instanceof PaddingLayout))
                    .map(m -> m.name().orElseThrow()).toList();
            assertEquals(cFields, javaFields, "fields of " + name + " in declaration order");

            for (MemoryLayout member : layout.memberLayouts()) {
                if (member instanceof PaddingLayout) continue;
                String field = member.name().orElseThrow();
                long cOffset = t4j_h.t4j_struct_offset(cName, arena.allocateFrom(field));
                long javaOffset = layout.byteOffset(MemoryLayout.PathElement.groupElement(field));
                assertEquals(cOffset, javaOffset, "offsetof(" + name + ", " + field + ")");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("structs")
    void unknownNamesAreReportedNotGuessed(GroupLayout layout) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cName = arena.allocateFrom(layout.name().orElseThrow());
            assertEquals(-1, t4j_h.t4j_struct_offset(cName, arena.allocateFrom("no_such_field")));
            assertEquals(-1, t4j_h.t4j_struct_size(arena.allocateFrom("no_such_struct")));
        }
    }
}
