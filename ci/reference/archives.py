#!/usr/bin/env python3
"""archives.py — the reference folders as they are committed: one xz tarball per fixture in model/src/test/reference/,

    python3 ci/reference/archives.py unpack DIR [NAME ...]   every folder (or the named ones) into DIR/NAME/
    python3 ci/reference/archives.py pack DIR                DIR's folders into the archives (only those whose files changed)

NAME.tar.xz holds the folder NAME/ (config.json, model.safetensors, reference.json, reference.safetensors), and also
its 5.x-layout twin NAME-v5/ where both folders exist: a twin repeats most of its base's bytes (the same weights, or the
same outputs), which xz finds only within one archive. The model module's build unpacks them all into
target/test-classes/reference/ (model/pom.xml, generate-test-resources), so every test, and the test-jar the other
modules read, sees the folders as before; ci/gpu-check unpacks them on the GPU machine; make_fixtures.py and
selfcheck.py read and write them through this module.

Why: the working tree travels to the GPU machine with the bundle, at most 64 MiB together (ci/make-bundle stops at 62).
As folders the 120 fixtures took 23,104,939 bytes; as 114 archives 15,571,708 (2026-12-08): 7.2 MiB less. One archive for
all would take 15,292,280, 0.3 MB less again, but every regenerated fixture would rewrite one 15 MB blob in git; one per
folder, twins apart, 16,400,504. The LZMA2 options: lp=2 / pb=2 align the literal and match coding to 4-byte words (the
F32 outputs, the BF16 pairs), lc=1: 15.57 MB where xz -9's defaults (lc=3, lp=0, pb=2) make 16.79; an 8 MiB dictionary
covers any archive (a folder stays under 1.2 MB: make_fixtures.MAX_FOLDER_BYTES) and keeps the decoder's memory small.

The tarballs are deterministic (members sorted, ustar, mode 0644, owner 0, mtime 0), and pack() leaves an archive alone
when its unpacked bytes are those it would write: regenerating the fixtures changes only the blobs of the fixtures whose
files changed, whatever liblzma version packs them."""
import io
import lzma
import os
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ARCHIVES = os.path.join(ROOT, "model", "src", "test", "reference")
SUFFIX = ".tar.xz"
FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME, "dict_size": 8 << 20, "lc": 1, "lp": 2, "pb": 2}]


def archive_of(name, names):
    """The archive (without SUFFIX) that holds folder `name`, among the folders `names`: a twin NAME-v5 goes with NAME."""
    if name.endswith("-v5") and name[:-3] in names:
        return name[:-3]
    return name


def archive_paths(archives=ARCHIVES):
    if not os.path.isdir(archives):
        raise SystemExit(f"{archives}: no such folder (the reference fixtures' archives)")
    return sorted(os.path.join(archives, f) for f in os.listdir(archives) if f.endswith(SUFFIX))


def _folders_in(tar):
    return sorted({m.name.split("/", 1)[0] for m in tar.getmembers()})


def unpack(dest, names=None, archives=ARCHIVES):
    """Every archive's folders (or only the folders `names`) into dest/NAME/; returns the folder names unpacked."""
    os.makedirs(dest, exist_ok=True)
    want = None if names is None else set(names)
    done = []
    for path in archive_paths(archives):
        base = os.path.basename(path)[:-len(SUFFIX)]
        if want is not None and not ({base, base + "-v5"} & want):
            continue
        with tarfile.open(path, "r:xz") as t:
            members = [m for m in t.getmembers() if want is None or m.name.split("/", 1)[0] in want]
            for m in members:
                if not m.isfile() or m.name.startswith("/") or ".." in m.name.split("/") or m.name.count("/") != 1:
                    raise SystemExit(f"{path}: member {m.name!r} is not NAME/FILE (a fixture archive holds folders of plain files)")
            t.extractall(dest, members=members, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
            done += sorted({m.name.split("/", 1)[0] for m in members})
    if want is not None and set(done) != want:
        raise SystemExit(f"no archive in {archives} holds {sorted(want - set(done))}")
    return done


def tar_bytes(src, folders):
    """The uncompressed tarball of src/FOLDER/* for each folder, deterministic: same files, same bytes."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for folder in folders:
            for f in sorted(os.listdir(os.path.join(src, folder))):
                p = os.path.join(src, folder, f)
                if not os.path.isfile(p):
                    raise SystemExit(f"{p}: not a plain file (a fixture folder holds plain files only)")
                with open(p, "rb") as fh:
                    data = fh.read()
                info = tarfile.TarInfo(f"{folder}/{f}")
                info.size, info.mode, info.mtime = len(data), 0o644, 0
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def pack(src, archives=ARCHIVES, quiet=False):
    """src's folders into archives/NAME.tar.xz, rewriting only those whose contents changed; an archive whose folders
    all went into others (a -v5 folder whose base folder appeared) is removed. Returns (folder bytes, archive bytes)."""
    names = sorted(d for d in os.listdir(src) if os.path.isdir(os.path.join(src, d)))
    if not names:
        raise SystemExit(f"{src}: no fixture folders to pack")
    plan = {}
    for n in names:
        plan.setdefault(archive_of(n, names), []).append(n)
    os.makedirs(archives, exist_ok=True)
    written, raw, packed = [], 0, 0
    for base, folders in sorted(plan.items()):
        path = os.path.join(archives, base + SUFFIX)
        data = tar_bytes(src, folders)
        raw += sum(os.path.getsize(os.path.join(src, d, f)) for d in folders for f in os.listdir(os.path.join(src, d)))
        same = False
        if os.path.exists(path):
            with open(path, "rb") as fh:
                try:
                    same = lzma.decompress(fh.read()) == data
                except lzma.LZMAError:
                    same = False
        if not same:
            with open(path + ".tmp", "wb") as fh:
                fh.write(lzma.compress(data, format=lzma.FORMAT_XZ, filters=FILTERS))
            os.replace(path + ".tmp", path)
            written.append(base)
        packed += os.path.getsize(path)
    removed = []
    for path in archive_paths(archives):
        base = os.path.basename(path)[:-len(SUFFIX)]
        if base in plan:
            continue
        with tarfile.open(path, "r:xz") as t:
            held = _folders_in(t)
        if all(n in names and archive_of(n, names) != base for n in held):
            os.remove(path)
            removed.append(base)
    if not quiet:
        print(f"archives: {len(plan)} in {archives} ({len(written)} rewritten{': ' + ', '.join(written) if 0 < len(written) <= 12 else ''}"
              f"{'; removed ' + ', '.join(removed) if removed else ''}): {raw:,} bytes of folders in {packed:,} bytes")
    return raw, packed


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("unpack", "pack") or (sys.argv[1] == "pack" and len(sys.argv) != 3):
        raise SystemExit("usage: archives.py unpack DIR [NAME ...] | archives.py pack DIR")
    if sys.argv[1] == "unpack":
        done = unpack(sys.argv[2], sys.argv[3:] or None)
        print(f"archives: {len(done)} folders from {ARCHIVES} into {sys.argv[2]}")
    else:
        pack(sys.argv[2])


if __name__ == "__main__":
    main()
