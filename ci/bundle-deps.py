#!/usr/bin/env python3
"""bundle-deps.py LIB_TXZ GPU_CHECK — every class that what ci/gpu-check runs on the device can reach is in the
bundle. The bundle carries a chosen set of jars (ci/make-bundle), not the modules' Maven class paths, and without a
GPU every gpu-tagged test fails at its first line (no usable GPU), so a class that the device would miss (a tokenizer
library, a JSON schema validator) stays unseen until a GPU run fails on NoClassDefFoundError. This check unpacks
LIB_TXZ, asks jdeps (JDK 25) for every class-to-class dependency of the bundle's jars, and walks them from the roots
the device runs: the gpu-tagged test classes of the test jars (@Tag("gpu")), and the benchmark classes that GPU_CHECK
names (mains such as GenerateLatency, and the JMH classes its jmh_one lines select, with their generated classes).
A class reached that no jar holds fails the check, with the chain that reaches it. Class-level reachability
over-approximates what runs (a class is followed whole), so it errs toward failing. Run by ci/test-gpu-check-dry-run.
"""
import collections
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile

# What the device does not need from the jars: the JDK's own classes come with the JRE, JUnit with its launcher.
PROVIDED = ("java.", "javax.", "jdk.", "sun.", "com.sun.", "org.junit.", "org.opentest4j.", "org.apiguardian.")
# Optional dependencies of the bundled libraries, looked up before use (each with the reason it may be absent).
OPTIONAL = {
    "com.aayushatharva.brotli4j.": "Javalin's Brotli compression: CompressionStrategy uses it only where it is on the class path",
}


def jdeps_tool():
    home = os.environ.get("JAVA_HOME")
    for cand in ([os.path.join(home, "bin", "jdeps")] if home else []) + [shutil.which("jdeps") or ""]:
        if cand and os.access(cand, os.X_OK):
            return cand
    sys.exit("bundle-deps: no jdeps (set JAVA_HOME to a JDK 25)")


def gpu_tagged(jar):
    """Classes of a test jar annotated @Tag("gpu") (the annotation and its value sit in the class's constant pool)."""
    out = []
    with zipfile.ZipFile(jar) as z:
        for n in z.namelist():
            if n.endswith(".class") and "$" not in n:
                data = z.read(n)
                if b"Lorg/junit/jupiter/api/Tag;" in data and b"\x01\x00\x03gpu" in data:
                    out.append(n[:-6].replace("/", "."))
    return out


def main():
    lib_txz, gpu_check = sys.argv[1], sys.argv[2]
    work = tempfile.mkdtemp(prefix="t4j-bundle-deps-")
    try:
        with tarfile.open(lib_txz) as t:
            try:
                t.extractall(work, filter="data")
            except TypeError:  # a Python without extraction filters
                t.extractall(work)
        jars = sorted(os.path.join(work, "lib", f) for f in os.listdir(os.path.join(work, "lib"))
                      if f.endswith(".jar") and "console-standalone" not in f)
        jars.append(os.path.join(work, "benchmarks.jar"))
        run = subprocess.run([jdeps_tool(), "-verbose:class", "--multi-release", "25", "--ignore-missing-deps",
                              "-cp", os.pathsep.join(jars)] + jars, capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"bundle-deps: jdeps exit {run.returncode}: {run.stderr[-600:]}")
        edges, missing = collections.defaultdict(set), set()
        for line in run.stdout.splitlines():
            m = re.match(r"\s+(\S+)\s+->\s+(\S+)\s+(.*)$", line)
            if m:
                a, b, where = m.groups()
                edges[a].add(b)
                if where.strip() == "not found" and not b.startswith(PROVIDED) and not b.startswith(tuple(OPTIONAL)):
                    missing.add(b)
        roots = []
        for jar in jars:
            if jar.endswith("-tests.jar"):
                roots += gpu_tagged(jar)
        script = open(gpu_check).read()
        bench = set(re.findall(r"org\.transformer4j\.bench\.([A-Z]\w+)", script))
        bench |= set(re.findall(r"jmh_one \w+ \d+ '\\\.(\w+)\\\.", script))
        known = set(edges)
        for name in sorted(bench):
            cls = "org.transformer4j.bench." + name
            if cls not in known:
                sys.exit(f"bundle-deps: {cls}, which ci/gpu-check runs, is not in the bundle's benchmarks.jar")
            roots.append(cls)
            roots += [c for c in known if c.startswith(f"org.transformer4j.bench.jmh_generated.{name}_")]
        if not any(r.endswith("GpuSmokeTest") for r in roots):
            sys.exit("bundle-deps: found no gpu-tagged test classes in the bundle's test jars")
        parent, todo = {r: None for r in roots}, list(roots)
        while todo:
            c = todo.pop()
            for d in edges.get(c, ()):
                if d not in parent:
                    parent[d] = c
                    todo.append(d)
        bad = sorted(c for c in parent if c in missing)
        for c in bad:
            chain, x = [], c
            while x is not None and len(chain) < 8:
                chain.append(x.rsplit(".", 1)[-1])
                x = parent[x]
            print("bundle-deps: MISSING " + c + "  (reached: " + " <- ".join(chain) + ")")
        n_tests = sum(1 for r in roots if r.endswith("Test"))
        print(f"bundle-deps: {len(parent)} classes reachable from {n_tests} gpu-tagged test classes and "
              f"{len(bench)} benchmark classes; {len(bad)} missing from the bundle")
        sys.exit(1 if bad else 0)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
