// GpuTestFixturesTest — the float64 reference folders that ModelGpuTest compares the CUDA backend with are reachable
// as folders from the class path the test runs on. In Maven that is target/test-classes, where the build unpacks them
// from src/test/reference/NAME.tar.xz; on the GPU machine it is ci/gpu-check's class path (the folders it unpacks from
// the working tree's archives, the bundle's jars, whose model test jar travels without reference/, and the working
// tree's model/src/test/resources). ci/gpu-check runs this class on the CPU before its phases and prints the verdict
// at the top of the log; ci/test-gpu-check-dry-run asserts it there, so a class path that would make every fixture-
// based GPU test fail ("test resources have no reference/ folder") is caught without a GPU.
package org.transformer4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

class GpuTestFixturesTest {

    @Test
    void everyReferenceFolderIsAFolderOnTheClassPath() throws Exception {
        Path root = ReferenceFixturesTest.root();
        for (String name : ReferenceFixturesTest.CHECKED) {
            ReferenceFixturesTest.Fixture f = ReferenceFixturesTest.Fixture.open(name);
            for (String file : new String[] {"config.json", "reference.safetensors"}) {
                assertTrue(Files.isRegularFile(f.dir().resolve(file)), () -> name + ": no " + file + " in " + f.dir());
            }
            // TestFolders (the fixtures through the test-jar for other modules) resolves to the same folder
            assertEquals(root.resolve(name), TestFolders.fixture(name), name);
        }
    }
}
