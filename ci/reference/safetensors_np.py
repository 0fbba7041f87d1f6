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

DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "U8": "u1"}   # U8: MXFP4 blocks and scales
NAMES = {np.dtype(v): k for k, v in DTYPES.items()}
# the order of the safetensors library's Dtype enum (…, U8, I8, …, I16, U16, F16, BF16, I32, U32, F32, …, F64, I64, U64):
# its writer lays tensors out by dtype, descending in that order, then by name, which keeps wider types aligned
RANK = {"U8": 0, "F16": 1, "I32": 2, "F32": 3, "F64": 4, "I64": 5}


def write(path, tensors, metadata=None):
    """tensors: name -> numpy array (float32, float64, float16, int32, int64 or uint8). Tensors are laid out as the
    safetensors library lays them out: by dtype (wider first, see RANK), then by name (a file of one dtype: sorted
    names); __metadata__ is {"format": "pt"} plus metadata."""
    meta = {"format": "pt"}
    meta.update(metadata or {})
    header = {"__metadata__": meta}
    blobs, offset = [], 0
    arrays = {}
    for name in tensors:
        a = np.ascontiguousarray(tensors[name])
        dt = NAMES.get(a.dtype.newbyteorder("<")) or NAMES.get(a.dtype)
        if dt is None:
            raise ValueError(f"{name}: dtype {a.dtype} has no safetensors name here")
        arrays[name] = (a, dt)
    for name in sorted(arrays, key=lambda n: (-RANK[arrays[n][1]], n)):
        a, dt = arrays[name]
        raw = a.astype(DTYPES[dt], copy=False).tobytes(order="C")
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


def read(path):
    """The file's tensors (name -> numpy array) and metadata; checks that the offsets tile the buffer."""
    with open(path, "rb") as fh:
        data = fh.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    buf = data[8 + n:]
    out, ends = {}, []
    for name, e in header.items():
        b, en = e["data_offsets"]
        a = np.frombuffer(buf[b:en], dtype=DTYPES[e["dtype"]]).reshape(e["shape"])
        out[name] = a
        ends.append((b, en))
    ends.sort()
    pos = 0
    for b, en in ends:
        if b != pos:
            raise ValueError(f"{path}: gap or overlap at byte {b} (expected {pos})")
        pos = en
    if pos != len(buf):
        raise ValueError(f"{path}: buffer has {len(buf)} bytes, tensors cover {pos}")
    return out, meta
