#!/usr/bin/env python3
"""gpu-summary.py WORK_DIR OUT_DIR — folds what ci/gpu-check has written so far into one JSON (stdout): each
phase's verdict ("passed", "failed: <reason>", "not run: <reason>") with its cap and time, the overall verdict
("passed" only when every phase of the registry ran and passed), test counts per JUnit phase with the failures,
the probe, and each benchmark shape with our time next to PyTorch's. gpu-check reruns it after every phase."""
import json
import os
import sys
import xml.etree.ElementTree as ET


def load_json(path):
    try:
        with open(path) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def tests(path):
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    out = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "failed": [], "skip_reasons": []}
    for case in root.iter("testcase"):
        out["tests"] += 1
        name = case.get("classname", "") + "." + case.get("name", "")
        for tag in ("failure", "error"):
            el = case.find(tag)
            if el is not None:
                out["failures" if tag == "failure" else "errors"] += 1
                if len(out["failed"]) < 40:                     # the first 40; the counts say how many
                    out["failed"].append({"test": name, "message": (el.get("message") or "")[:300]})
        sk = case.find("skipped")
        if sk is not None:
            out["skipped"] += 1
            reason = (sk.get("message") or sk.text or "")[:200]
            if reason not in out["skip_reasons"]:
                out["skip_reasons"].append(reason)
    return out


def feed(path):
    """Counts from a JUnit console feed (--details=testfeed: "JUnit Jupiter > Class > test … :: STARTED / SUCCESSFUL /
    FAILED / ABORTED / SKIPPED", the failure's message on the next line), for a phase whose JVM was stopped before it
    wrote its XML (the cap): what finished, and the test that was running when it stopped."""
    try:
        with open(path, errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    out = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "failed": [], "skip_reasons": [], "from_feed": True,
           "running_when_stopped": None}
    running = set()
    for i, line in enumerate(lines):
        if not line.startswith("JUnit ") or " :: " not in line:
            continue
        head, state = line.rsplit(" :: ", 1)
        parts = head.split(" > ")
        if len(parts) < 3:                            # the engine or a class container, not a test
            continue
        name = " > ".join(parts[1:])
        state = state.strip()
        if state == "STARTED":
            running.add(name)
            continue
        running.discard(name)
        if state == "SKIPPED":
            out["skipped"] += 1
            out["tests"] += 1
            continue
        if state not in ("SUCCESSFUL", "FAILED", "ABORTED"):
            continue
        out["tests"] += 1
        if state == "FAILED":
            out["failures"] += 1
            message = lines[i + 1].strip() if i + 1 < len(lines) and lines[i + 1].startswith("\t") else ""
            if len(out["failed"]) < 40:
                out["failed"].append({"test": name, "message": message[:300]})
        elif state == "ABORTED":                      # an assumption failed: JUnit's XML calls it skipped
            out["skipped"] += 1
    out["running_when_stopped"] = sorted(running)[:5] or None    # started, never ended: where the cap stopped it
    return out


def generate_lines(log):
    """The generation phase's result lines (transformer4j's GenerateLatency and bench/hf_generate.py)."""
    try:
        with open(log, errors="replace") as fh:
            return [line.strip() for line in fh if line.startswith(("generate t4j ", "run ")) and "ms/token" in line]
    except OSError:
        return []


def serve_lines(log):
    """The serve phase's ServeLoad output: its backend line and table rows (issue 17's load benchmark)."""
    try:
        with open(log, errors="replace") as fh:
            return [line.strip() for line in fh
                    if line.startswith(("| batched", "| one-at-a-time")) or (line.startswith("backend: ") and "greedy per client" in line)]
    except OSError:
        return []


def lora_lines(log):
    """The lora phase's LoraServe output: its header and the four rows (base model, slots on the base, adapters, adapters through half the slots)."""
    try:
        with open(log, errors="replace") as fh:
            return [line.strip() for line in fh if line.startswith("lora-serve")]
    except OSError:
        return []


def decode_copy_gbs(log):
    """The device copy bandwidth DecodeBenchmark printed (its last such line), or None."""
    found = None
    try:
        with open(log, errors="replace") as fh:
            for line in fh:
                if line.startswith("DecodeBenchmark: device copy "):
                    try:
                        found = float(line.split()[3])
                    except (IndexError, ValueError):
                        pass
    except OSError:
        pass
    return found


def phases(work):
    """verdicts.tsv: name, cap, priority, seconds, verdict — one line per phase, in run order."""
    out = {}
    try:
        with open(os.path.join(work, "verdicts.tsv")) as fh:
            for line in fh:
                parts = line.rstrip("\n").split("\t")
                if len(parts) == 5:
                    name, cap, prio, secs, verdict = parts
                    out[name] = {"verdict": verdict, "cap_s": int(cap), "priority": int(prio), "seconds": int(secs)}
    except OSError:
        pass
    return out


def registry(work):
    try:
        with open(os.path.join(work, "phases.txt")) as fh:
            return [line.split()[0] for line in fh if line.strip()]
    except OSError:
        return []


def main():
    work, out_dir = sys.argv[1], sys.argv[2]
    ph = phases(work)
    for name in registry(work):
        ph.setdefault(name, {"verdict": "not run: not reached"})
    verdicts = [p["verdict"] for p in ph.values()]
    if verdicts and all(v.startswith("passed") for v in verdicts):
        overall = "passed"
    else:
        bad = [f"{n}: {p['verdict']}" for n, p in ph.items() if not p["verdict"].startswith("passed")]
        overall = "not passed: " + "; ".join(bad)[:1500]
    junit_dir = os.path.join(work, "junit")
    counts = {}
    if os.path.isdir(junit_dir):
        for name in sorted(os.listdir(junit_dir)):
            if name.endswith(".xml"):
                counts[name[:-len(".xml")]] = tests(os.path.join(junit_dir, name))
        # a phase stopped at its cap wrote no XML: its feed says what finished
        for name in sorted(os.listdir(junit_dir)):
            if name.endswith(".feed.txt") and counts.get(name[:-len(".feed.txt")]) is None:
                counts[name[:-len(".feed.txt")]] = feed(os.path.join(junit_dir, name))
    summary = {"overall": overall, "phases": ph, "tests": counts, "benchmarks": []}
    try:
        with open(os.path.join(work, "probe.txt"), errors="replace") as fh:
            summary["probe"] = fh.read()[:3000]
    except OSError:
        pass
    torch = load_json(os.path.join(out_dir, "torch.json")) or {"rows": []}
    summary["torch"] = {k: torch.get(k) for k in ("gpu", "torch", "cuda")}
    attn = load_json(os.path.join(out_dir, "torch-attention.json")) or {"rows": []}
    summary["copy_gbs"] = attn.get("copy_gbs")
    # DecodeBenchmark measures the copy bandwidth itself in the jmh phase (the torch phase may be dropped):
    # the decode rows' fraction uses that one, measured in the same JVM as the decode timings.
    summary["copy_gbs_jmh"] = decode_copy_gbs(os.path.join(out_dir, "gpu-check.log"))
    decode_copy = summary["copy_gbs_jmh"] or summary["copy_gbs"]
    for b in load_json(os.path.join(out_dir, "jmh.json")) or []:
        try:
            copy_gbs = decode_copy if b.get("benchmark", "").endswith("DecodeBenchmark.decode") else summary["copy_gbs"]
            summary["benchmarks"].append(benchmark_row(b, torch, attn, copy_gbs))
        except (KeyError, ValueError, ZeroDivisionError) as e:
            summary["benchmarks"].append({"benchmark": b.get("benchmark"), "error": repr(e)})
    summary["generate"] = generate_lines(os.path.join(out_dir, "gpu-check.log"))
    summary["serve"] = serve_lines(os.path.join(out_dir, "gpu-check.log"))
    summary["lora"] = lora_lines(os.path.join(out_dir, "gpu-check.log"))
    json.dump(summary, sys.stdout, indent=1)
    print()


def benchmark_row(b, torch, attn, copy_gbs):
    p = b.get("params", {})
    row = {"benchmark": b["benchmark"].rsplit(".", 2)[-2], "params": p,
           "us": b["primaryMetric"]["score"], "us_error": b["primaryMetric"].get("scoreError")}
    if row["benchmark"] == "GemmBenchmark":
        c, f = map(int, p["widths"].split(","))
        row["tflops"] = 2 * int(p["tokens"]) * c * f / row["us"] / 1e6
        peers = [t for t in torch["rows"] if t["op"] == "gemm" and t["dtype"] == p["dtype"]
                 and t["tokens"] == int(p["tokens"]) and t["widths"] == p["widths"]]
    elif row["benchmark"] == "LinearBenchmark":
        parts = p["mlp"].split(":")  # model:CxF:activation[:gated]
        model = parts[0]
        c, f = map(int, parts[1].split("x"))
        gated = parts[-1] == "gated"
        row["tflops"] = 2 * int(p["tokens"]) * c * f * (3 if gated else 2) / row["us"] / 1e6
        peers = [t for t in torch["rows"] if t["op"] == "mlp" and t["model"] == model
                 and t["tokens"] == int(p["tokens"])]
    elif row["benchmark"] == "ProjectionBenchmark":  # issue 19: fused vs separate; compare the rows with fused true/false
        _, c, nh, nkv, hs, f = p["shape"].split(":")
        method = b["benchmark"].rsplit(".", 1)[-1]  # qkv, gateUp, or inputs (both)
        n = {"qkv": 0, "gateUp": 1, "inputs": 1}[method] * 2 * int(f) + (method != "gateUp") * (int(nh) + 2 * int(nkv)) * int(hs)
        row["benchmark"] += "." + method
        row["tflops"] = 2 * int(p["tokens"]) * int(c) * n / row["us"] / 1e6
        peers = []
    elif row["benchmark"] == "VocabBenchmark":
        peers = [t for t in torch["rows"] if t["op"] == "vocab" and t["kind"] == p["op"]]
    elif row["benchmark"] == "AttentionBenchmark":
        t, hs, causal = int(p["seqLen"]), int(p["headSize"]), p["causal"] == "true"
        b, nh = int(p.get("tokens", 16384)) // t, 2048 // hs
        row["tflops"] = 4 * b * nh * t * t * hs / (2 if causal else 1) / row["us"] / 1e6
        peers = [r for r in attn["rows"] if r["op"] == "attention" and r["T"] == t and r["HS"] == hs
                 and r["causal"] == causal and "us" in r]
    elif row["benchmark"] == "DecodeBenchmark":
        length, b = int(p["cacheLen"]), int(p["batch"])
        row["gbs"] = 2 * b * length * 8 * 128 * 2 / row["us"] / 1e3
        if copy_gbs:
            row["fraction_of_copy_bandwidth"] = row["gbs"] / copy_gbs
        peers = [r for r in attn["rows"] if r["op"] == "decode" and r["L"] == length and r["B"] == b and "us" in r]
    else:
        size = 4 if p["dtype"] == "F32" else 2
        row["gbs"] = 4 * int(p["rows"]) * int(p["cols"]) * size / row["us"] / 1e3
        peers = [t for t in torch["rows"] if t["op"] == "norm" and t["dtype"] == p["dtype"]
                 and t["rows"] == int(p["rows"]) and t["cols"] == int(p["cols"]) and t["kind"] == p["kind"]]
    row["torch"] = [{"impl": t["impl"], "us": t["us"], "speedup_vs_torch": t["us"] / row["us"]} for t in peers]
    return row


if __name__ == "__main__":
    main()
