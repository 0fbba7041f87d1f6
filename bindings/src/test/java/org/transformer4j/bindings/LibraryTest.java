// LibraryTest — loading libt4j from the native jar: ABI check, build information, status strings,
// the kernel manifest (every kernel for every arch, no register spills), and the extraction cache.
package org.transformer4j.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class LibraryTest {

    @Test
    void abiVersionMatchesTheBindings() {
        assertEquals(t4j_h.T4J_ABI_VERSION, t4j_h.t4j_abi_version());
        assertEquals(t4j_h.T4J_ABI_VERSION, T4jLibrary.buildInfo().abiVersion());
    }

    @Test
    void buildInfoDescribesTheKernels() {
        T4jLibrary.BuildInfo info = T4jLibrary.buildInfo();
        assertFalse(info.compiler().isBlank(), "compiler");
        if (info.hasKernels()) {
            assertTrue(NativeLoader.load().fatbin().isPresent(), "has_kernels but no t4j.fatbin extracted");
            assertFalse(info.archs().isEmpty());
            assertTrue(info.nvccVersion().matches("\\d+\\.\\d+\\.\\d+"), info.nvccVersion());
            assertTrue(info.minDriverVersion() >= 12000, "min driver " + info.minDriverVersion());
            assertTrue(info.kernelsLine().startsWith("CUDA kernels for sm_"), info.kernelsLine());
        } else {
            assertFalse(RequireKernels.required(), "-Dt4j.requireKernels=true but this build has no CUDA kernels");
            assertTrue(NativeLoader.load().fatbin().isEmpty());
            assertEquals("no CUDA kernels in this build (nvcc not found when it was built)", info.kernelsLine());
        }
    }

    @Test
    void statusStringsNameTheProblem() {
        assertEquals("success", T4jLibrary.statusString(t4j_h.T4J_SUCCESS));
        assertTrue(T4jLibrary.statusString(t4j_h.T4J_ERROR_DRIVER_TOO_OLD).contains("580"));
        assertTrue(T4jLibrary.statusString(t4j_h.T4J_ERROR_NO_KERNELS).contains("fatbin"));
        assertEquals("unknown status", T4jLibrary.statusString(9999));
        T4jException e = new T4jException("t4j_norm", t4j_h.T4J_STATUS_CUDA_BASE + 2, "out of memory");
        assertEquals(2, e.cudaError());
        assertTrue(e.getMessage().startsWith("t4j_norm failed: out of memory"));
    }

    @Test
    void everyKernelCompiledForEveryArchWithoutSpills() {
        T4jLibrary.BuildInfo info = T4jLibrary.buildInfo();
        RequireKernels.assumeKernels(info);
        List<T4jLibrary.KernelInfo> kernels = T4jLibrary.kernels();
        Set<String> cubinArchs = info.archs().stream().filter(a -> a.startsWith("sm_")).collect(Collectors.toSet());
        Map<String, Set<String>> archsByKernel = kernels.stream().collect(
                Collectors.groupingBy(T4jLibrary.KernelInfo::name,
                        Collectors.mapping(T4jLibrary.KernelInfo::arch, Collectors.toSet())));
        assertTrue(archsByKernel.keySet().containsAll(Set.of("t4j_norm_f32", "t4j_norm_f16", "t4j_norm_bf16")),
                archsByKernel.keySet().toString());
        assertTrue(archsByKernel.keySet().containsAll(Set.of("t4j_attn_mma_f16_hs32", "t4j_attn_mma_f16_hs64",
                "t4j_attn_mma_f16_hs96", "t4j_attn_mma_f16_hs128", "t4j_attn_mma_bf16_hs32", "t4j_attn_mma_bf16_hs64",
                "t4j_attn_mma_bf16_hs96", "t4j_attn_mma_bf16_hs128", "t4j_attn_mma_f16_hs80", "t4j_attn_mma_f16_hs256",
                "t4j_attn_mma_bf16_hs80", "t4j_attn_mma_bf16_hs256", "t4j_attn_rows_f32", "t4j_decode_f32", "t4j_decode_f16",
                "t4j_decode_bf16", "t4j_decode_combine_f32", "t4j_decode_combine_f16", "t4j_decode_combine_bf16",
                "t4j_kv_append_b16", "t4j_kv_append_b32", "t4j_softcap_f32", "t4j_softcap_f16", "t4j_softcap_bf16",
                "t4j_moe_route_f32", "t4j_moe_route_f16", "t4j_moe_route_bf16", "t4j_gather_rows_b16", "t4j_gather_rows_b32",
                "t4j_gather_rows_f16_f32", "t4j_gather_rows_bf16_f32",
                "t4j_moe_combine_f32", "t4j_moe_combine_f16", "t4j_moe_combine_bf16", "t4j_linear_f16_grouped_nn_64",
                "t4j_linear_bf16_grouped_gated_nt_64", "t4j_linear_f32_grouped_nn", "t4j_linear_f32_grouped_gated_nt",
                "t4j_penalty_f32", "t4j_penalty_f16", "t4j_penalty_bf16")),
                archsByKernel.keySet().toString());
        archsByKernel.forEach((k, archs) -> assertEquals(cubinArchs, archs, "archs of " + k));
        for (T4jLibrary.KernelInfo k : kernels) {
            assertEquals(0, k.spillStores() + k.spillLoads(), k.name() + " spills registers on " + k.arch());
            assertTrue(k.registers() > 0 && k.registers() <= 255, k.toString());
        }
    }

    @Test
    void fullBuildsCarrySm80AndSm90aCubins() {
        T4jLibrary.BuildInfo info = T4jLibrary.buildInfo();
        RequireKernels.assumeKernels(info);
        assumeTrue(info.archs().size() == 5, "a narrowed local build (-Dt4j.cuda.archs): " + info.archs());
        assertEquals(List.of("sm_80", "sm_86", "sm_89", "sm_90a", "compute_90"), info.archs());
    }

    @Test
    void extractionIsCachedByContent() throws Exception {
        Path dir = NativeLoader.load().directory();
        assertTrue(Files.isRegularFile(dir.resolve("libt4j.so")));
        assertTrue(dir.startsWith(NativeLoader.cacheRoot()), dir + " under " + NativeLoader.cacheRoot());
        assertTrue(dir.getFileName().toString().matches("[0-9a-f]{24}"), dir.toString());
        // No temporary folders are left behind by the atomic extraction.
        try (var siblings = Files.list(dir.getParent())) {
            assertTrue(siblings.noneMatch(p -> p.getFileName().toString().contains(".tmp")));
        }
    }
}
