// RequireKernels — how a test that needs the CUDA kernels treats a build without them: the library
// must build without nvcc (DESIGN.md), so such tests skip by default; with -Dt4j.requireKernels=true
// (CI's .ci/run sets it) a build with no kernels fails them instead, so CI cannot go green kernel-less.
package org.transformer4j.bindings;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

final class RequireKernels {

    private RequireKernels() {}

    /** Whether -Dt4j.requireKernels=true turns "no kernels" from a skip into a failure. */
    static boolean required() { return Boolean.getBoolean("t4j.requireKernels"); }

    /** Skips the calling test (or fails it, under -Dt4j.requireKernels=true) when the build has no kernels. */
    static void assumeKernels(T4jLibrary.BuildInfo info) {
        if (!info.hasKernels() && required()) {
            fail("-Dt4j.requireKernels=true but this build has no CUDA kernels (nvcc was not found when it was built): "
                    + info.kernelsLine());
        }
        assumeTrue(info.hasKernels(), "this build has no CUDA kernels (nvcc was not found)");
    }
}
