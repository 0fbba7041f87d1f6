"""safetensors_np — a small numpy writer and reader of the safetensors format, written from the format's
specification (https://github.com/huggingface/safetensors, README "Format"):

    8 bytes   N, the header size, unsigned little-endian 64-bit
    N bytes   a UTF-8 JSON object: {"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets": [begin, end]}}
              (offsets relative to the start of the byte buffer); the reference writer pads it with spaces
              to a multiple of 8 bytes
    rest      the byte buffer, each tensor row-major little-endian, contiguous, no gaps

This shares nothing with the Java reader/writer under model/src/main/java/.../weights/."""
import json
import struct

import numpy as np

DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "U8": "u1",   # U8: MXFP4 blocks and scales
          "BF16": "<u2",   # bfloat16: the upper 16 bits of a float32 (numpy has no bfloat16; see BF16 below)
          "F8_E4M3": "u1",   # float8 e4m3fn codes, kept as their bytes (fp8.py decodes them; see F8E4M3 below)
          "BOOL": "|b1"}     # one byte per value (Pythia's saved causal-mask buffers)
NAMES = {np.dtype(v): k for k, v in DTYPES.items() if k not in ("BF16", "F8_E4M3")}
# the order of the safetensors library's Dtype enum (…, U8, I8, …, I16, U16, F16, BF16, I32, U32, F32, …, F64, I64, U64):
# its writer lays tensors out by dtype, descending in that order, then by name, which keeps wider types aligned
RANK = {"BOOL": -1, "U8": 0, "F8_E4M3": 1, "F16": 2, "BF16": 3, "I32": 4, "F32": 5, "F64": 6, "I64": 7}


def bf16_round(a):
    """float32 values rounded to the nearest bfloat16 (ties to even), still as float32 (exact: a bfloat16 is a
    float32 whose lower 16 bits are zero). Finite inputs only."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16 << 16
    return u.astype(np.uint32).view(np.float32)


class BF16:
    """A tensor to write as BF16: float32 values that bf16_round leaves unchanged."""

    def __init__(self, values):
        self.values = np.ascontiguousarray(values, dtype=np.float32)
        if not np.array_equal(bf16_round(self.values), self.values):
            raise ValueError("BF16: values are not bfloat16-exact (round them with bf16_round first)")
        self.shape = self.values.shape

    def raw(self):
        return (self.values.view(np.uint32) >> 16).astype("<u2").tobytes(order="C")


class F8E4M3:
    """A tensor to write as F8_E4M3: its float8 e4m3fn codes (uint8)."""

    def __init__(self, codes):
        self.values = np.ascontiguousarray(codes, dtype=np.uint8)
        self.shape = self.values.shape

    def raw(self):
        return self.values.tobytes(order="C")


WRAPPED = {BF16: "BF16", F8E4M3: "F8_E4M3"}


def write(path, tensors, metadata=None):
    """tensors: name -> numpy array (float32, float64, float16, int32, int64 or uint8), BF16 or F8E4M3. Tensors are laid out as the
    safetensors library lays them out: by dtype (wider first, see RANK), then by name (a file of one dtype: sorted
    names); __metadata__ is {"format": "pt"} plus metadata."""
    meta = {"format": "pt"}
    meta.update(metadata or {})
    header = {"__metadata__": meta}
    blobs, offset = [], 0
    arrays = {}
    for name in tensors:
        if type(tensors[name]) in WRAPPED:
            arrays[name] = (tensors[name], WRAPPED[type(tensors[name])])
            continue
        a = np.asarray(tensors[name], order="C")            # a 0-d array keeps its shape [] (ascontiguousarray makes it [1])
        dt = NAMES.get(a.dtype.newbyteorder("<")) or NAMES.get(a.dtype)
        if dt is None:
            raise ValueError(f"{name}: dtype {a.dtype} has no safetensors name here")
        arrays[name] = (a, dt)
    for name in sorted(arrays, key=lambda n: (-RANK[arrays[n][1]], n)):
        a, dt = arrays[name]
        raw = a.raw() if dt in WRAPPED.values() else a.astype(DTYPES[dt], copy=False).tobytes(order="C")
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(text)))
        fh.write(text)
        for b in blobs:
            fh.write(b)


def read(path, with_dtypes=False):
    """The file's tensors (name -> numpy array; BF16 widened to float32, F8_E4M3 as its uint8 codes) and metadata, and with with_dtypes the stored
    dtype names (name -> "F32", "BF16", ...); checks that the offsets tile the buffer."""
    with open(path, "rb") as fh:
        data = fh.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    buf = data[8 + n:]
    out, ends, dtypes = {}, [], {}
    for name, e in header.items():
        b, en = e["data_offsets"]
        a = np.frombuffer(buf[b:en], dtype=DTYPES[e["dtype"]]).reshape(e["shape"])
        if e["dtype"] == "BF16":                     # widened to the float32 it denotes
            a = (a.astype(np.uint32) << 16).view(np.float32)
        out[name] = a
        dtypes[name] = e["dtype"]
        ends.append((b, en))
    ends.sort()
    pos = 0
    for b, en in ends:
        if b != pos:
            raise ValueError(f"{path}: gap or overlap at byte {b} (expected {pos})")
        pos = en
    if pos != len(buf):
        raise ValueError(f"{path}: buffer has {len(buf)} bytes, tensors cover {pos}")
    return (out, meta, dtypes) if with_dtypes else (out, meta)
