#!/usr/bin/env python3
"""torch_save.py — writes state dicts in the two file formats torch.save writes, without PyTorch, for the Java reader's
tests (python3 ci/reference/torch_save.py [--out DIR]; default model/src/test/resources/torch/).

Written from torch/serialization.py (_save: the pickle of the object with persistent_id ('storage', storage type,
key, location, numel) for each storage, keys "0", "1", … in first-use order, records data.pkl, byteorder, data/<key>
for the sorted keys, then version; _legacy_save: pickles of MAGIC_NUMBER, PROTOCOL_VERSION 1001 and the system info,
the object with 6-tuple persistent ids ending in view metadata, the sorted storage keys, then per key its element
count as int64 and its bytes) and caffe2/serialize/inline_container.cc (PyTorchStreamWriter: records under
"<file stem>/", stored uncompressed, each record's data aligned to 64 bytes by padding the local header's extra field
with an "FB" block). Tensors pickle as torch.Tensor._reduce_ex_internal does — torch._utils._rebuild_tensor_v2
(storage, storage_offset, size, stride, requires_grad, OrderedDict()) — Parameters as _rebuild_parameter(data,
requires_grad, OrderedDict()), the state dict as an OrderedDict carrying _metadata, all with pickle protocol 2
(torch's DEFAULT_PROTOCOL) by Python's own pickler, the classes standing in for torch's under torch's module names.

This is a stand-in: the format as documented by PyTorch's source, not bytes PyTorch wrote. make-golden.py (run where
PyTorch is installed) writes a real torch.save file beside its gpt2 folder for the same checks."""
import argparse
import collections
import io
import json
import os
import pickle
import shutil
import struct
import sys
import tempfile
import types
import zipfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import archives  # noqa: E402
import safetensors_np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
DEFAULT_OUT = os.path.join(ROOT, "model", "src", "test", "resources", "torch")
MAGIC_NUMBER = 0x1950a86a20f9469cfc6c
PROTOCOL_VERSION = 1001

# ---- stand-ins for torch's classes, registered under torch's module names so that pickle writes the same GLOBALs ----

torch = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")
sys.modules.setdefault("torch", torch)
sys.modules.setdefault("torch._utils", torch_utils)
STORAGE_OF = {"F32": "FloatStorage", "F64": "DoubleStorage", "F16": "HalfStorage", "BF16": "BFloat16Storage", "I64": "LongStorage",
              "I32": "IntStorage", "U8": "ByteStorage", "BOOL": "BoolStorage"}
for _name in STORAGE_OF.values():
    _cls = type(_name, (), {"__module__": "torch"})
    setattr(torch, _name, _cls)


def _rebuild_tensor_v2(*args):
    raise AssertionError("never called: pickling only")


def _rebuild_parameter(*args):
    raise AssertionError("never called: pickling only")


for _f in (_rebuild_tensor_v2, _rebuild_parameter):
    _f.__module__ = "torch._utils"
    setattr(torch_utils, _f.__name__, _f)


class Storage:
    """A typed storage: its dtype (safetensors name), its elements as raw little-endian bytes, its file key."""

    def __init__(self, dtype, raw, numel):
        self.dtype, self.raw, self.numel = dtype, raw, numel


class Tensor:
    def __init__(self, storage, offset, size, stride, parameter=False):
        self.storage, self.offset, self.size, self.stride, self.parameter = storage, offset, tuple(size), tuple(stride), parameter

    def __reduce_ex__(self, proto):
        args = (self.storage, self.offset, self.size, self.stride, False, collections.OrderedDict())
        if self.parameter:               # nn.Parameter.__reduce_ex__: _rebuild_parameter(data, requires_grad, hooks)
            return (torch_utils._rebuild_parameter, (Tensor(self.storage, self.offset, self.size, self.stride), True,
                                                     collections.OrderedDict()))
        return (torch_utils._rebuild_tensor_v2, args)


def raw_bytes(dtype, values):
    a = np.asarray(values)
    if dtype == "BF16":
        return safetensors_np.BF16(a.astype(np.float32)).raw()
    return np.ascontiguousarray(a.astype(safetensors_np.DTYPES[dtype])).tobytes()


def tensor_of(dtype, values):
    """A contiguous tensor with a storage of its own."""
    a = np.asarray(values)
    st = Storage(dtype, raw_bytes(dtype, a.reshape(-1)), a.size)
    strides, acc = [], 1
    for d in reversed(a.shape):
        strides.insert(0, acc)
        acc *= d
    return Tensor(st, 0, a.shape, strides)


def state_dict(items):
    sd = collections.OrderedDict(items)
    # Module.state_dict's _metadata (an attribute: pickled as the OrderedDict's BUILD state)
    sd._metadata = collections.OrderedDict([("", {"version": 1})])
    return sd


class _Pickler(pickle.Pickler):
    def __init__(self, f, legacy):
        super().__init__(f, protocol=2)
        self.legacy, self.storages, self.keys = legacy, collections.OrderedDict(), {}

    def persistent_id(self, obj):
        if not isinstance(obj, Storage):
            return None
        key = self.keys.get(id(obj))
        if key is None:                  # _save: keys "0", "1", … by first use; _legacy_save: str(storage._cdata)
            key = str(len(self.storages)) if not self.legacy else str(140000000000 + 4096 * len(self.storages))
            self.keys[id(obj)] = key
            self.storages[key] = obj
        pid = ("storage", getattr(torch, STORAGE_OF[obj.dtype]), key, "cpu", obj.numel)
        return pid + (None,) if self.legacy else pid


def save_zip(obj, path, with_byteorder=True):
    buf = io.BytesIO()
    p = _Pickler(buf, legacy=False)
    p.dump(obj)
    stem = os.path.splitext(os.path.basename(path))[0]
    records = [("data.pkl", buf.getvalue())]
    if with_byteorder:
        records.append(("byteorder", b"little"))
    for key in sorted(p.storages):
        records.append((f"data/{key}", p.storages[key].raw))
    records.append(("version", b"3\n"))
    with open(path, "wb") as fh, zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED) as z:
        for name, data in records:
            full = f"{stem}/{name}"
            info = zipfile.ZipInfo(full, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            offset = fh.tell()
            # PyTorchStreamWriter: the data starts at a multiple of 64, the local header's extra field padded with "FB"
            start = offset + 30 + len(full.encode()) + 4
            pad = (-start) % 64
            info.extra = struct.pack("<HH", 0x4246, pad) + b"Z" * pad
            z.writestr(info, data)


def save_legacy(obj, path):
    with open(path, "wb") as fh:
        pickle.dump(MAGIC_NUMBER, fh, protocol=2)
        pickle.dump(PROTOCOL_VERSION, fh, protocol=2)
        pickle.dump({"protocol_version": PROTOCOL_VERSION, "little_endian": True,
                     "type_sizes": {"short": 2, "int": 4, "long": 8}}, fh, protocol=2)
        p = _Pickler(fh, legacy=True)
        p.dump(obj)
        keys = sorted(p.storages)
        pickle.dump(keys, fh, protocol=2)
        for k in keys:
            st = p.storages[k]
            fh.write(struct.pack("<q", st.numel))
            fh.write(st.raw)


class Evil:
    """What a malicious checkpoint pickles: os.system as the REDUCE function (never run by the reader)."""

    def __reduce__(self):
        return (os.system, ("touch /tmp/t4j-pickle-ran",))


def edge_dict(rng):
    """Every case a state dict can hold: a tied parameter saved twice (one storage), q / k / v as slices of one fused
    storage (offsets), a transposed view (strides), a 0-d scalar, an empty tensor, F16 / BF16 / I64 / BOOL, a Parameter.
    Returns (the dict, the row-major values of what the conversion must keep, the names it must drop)."""
    emb = rng.standard_normal((6, 4)).astype(np.float32)
    tied = tensor_of("F32", emb)
    fused = rng.standard_normal((9, 4)).astype(np.float32)
    fst = tensor_of("F32", fused).storage
    q, k, v = (Tensor(fst, 12 * i, (3, 4), (4, 1)) for i in range(3))
    base = rng.standard_normal((3, 5)).astype(np.float32)
    bst = tensor_of("F32", base).storage
    transposed = Tensor(bst, 0, (5, 3), (1, 5))
    half = rng.standard_normal((2, 3)).astype(np.float16)
    bf = safetensors_np.bf16_round(rng.standard_normal((4,)).astype(np.float32))
    ids = np.arange(-3, 5, dtype=np.int64).reshape(2, 4)
    mask = np.tril(np.ones((3, 3), dtype=bool))
    param = tensor_of("F32", rng.standard_normal((2, 2)).astype(np.float32))
    param.parameter = True
    sd = state_dict([
        ("model.embed_tokens.weight", tied), ("lm_head.weight", Tensor(tied.storage, 0, (6, 4), (4, 1))),
        ("attn.q.weight", q), ("attn.k.weight", k), ("attn.v.weight", v),
        ("proj.weight_t", transposed), ("scale", tensor_of("F32", np.float32(0.5))),
        ("empty", Tensor(Storage("F32", b"", 0), 0, (0, 4), (4, 1))),
        ("half", tensor_of("F16", half)), ("bf16", tensor_of("BF16", bf)), ("ids", tensor_of("I64", ids)),
        ("mask", tensor_of("BOOL", mask)), ("param", param)])
    want = {"model.embed_tokens.weight": emb, "attn.q.weight": fused[0:3], "attn.k.weight": fused[3:6], "attn.v.weight": fused[6:9],
            "proj.weight_t": base.T.copy(), "scale": np.asarray(np.float32(0.5)), "empty": np.zeros((0, 4), np.float32),
            "half": half, "bf16": safetensors_np.BF16(bf), "ids": ids, "mask": mask,
            "param": np.frombuffer(param.storage.raw, dtype=np.float32).reshape(2, 2)}
    return sd, want, ["lm_head.weight"]


def from_fixture(folder):
    """The tensors of a reference fixture's model.safetensors as a state dict (each its own storage, as saved)."""
    params, _, dtypes = safetensors_np.read(os.path.join(folder, "model.safetensors"), with_dtypes=True)
    items = []
    for name, a in params.items():
        dt = dtypes[name]
        st = Storage(dt, raw_bytes(dt, np.asarray(a).reshape(-1)), int(np.asarray(a).size))
        shape = np.asarray(a).shape
        strides, acc = [], 1
        for d in reversed(shape):
            strides.insert(0, acc)
            acc *= d
        items.append((name, Tensor(st, 0, shape, strides)))
    return items


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    out = ap.parse_args().out
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    rng = np.random.default_rng(1901)
    sd, want, dropped = edge_dict(rng)
    save_zip(sd, os.path.join(out, "edge.bin"))
    save_legacy(sd, os.path.join(out, "edge-legacy.bin"))
    safetensors_np.write(os.path.join(out, "edge-expected.safetensors"), want)
    with open(os.path.join(out, "edge-expected.json"), "w") as fh:
        json.dump({"dropped": dropped, "note": "the values the conversion keeps (row-major), and the tied copy it drops"}, fh, indent=1)
        fh.write("\n")
    save_zip(state_dict([("w", tensor_of("F32", np.ones(2, np.float32))), ("evil", Evil())]), os.path.join(out, "malicious.bin"))
    # the phi fixture in two shards with pytorch_model.bin.index.json, as save_pretrained shards a model (F16 weights)
    d = os.path.join(out, "phi-sharded")
    os.makedirs(d)
    with tempfile.TemporaryDirectory() as tmp:       # the phi fixture's folder, from its archive (archives.py)
        archives.unpack(tmp, ["phi"])
        phi = os.path.join(tmp, "phi")
        shutil.copy(os.path.join(phi, "config.json"), d)
        items = from_fixture(phi)
    half = len(items) // 2
    shards = {"pytorch_model-00001-of-00002.bin": items[:half], "pytorch_model-00002-of-00002.bin": items[half:]}
    weight_map, total = {}, 0
    for name, part in shards.items():
        save_zip(state_dict(part), os.path.join(d, name), with_byteorder=False)   # files older than torch 2.1 have no byteorder
        for k, t in part:
            weight_map[k] = name
            total += len(t.storage.raw)
    with open(os.path.join(d, "pytorch_model.bin.index.json"), "w") as fh:
        json.dump({"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}, fh, indent=2)
        fh.write("\n")
    size = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(out) for f in fs)
    print(f"{out}: {size:,} bytes")


if __name__ == "__main__":
    main()
