"""Paths through fsspec, so local disks, gs://, s3:// and memory:// all work the same.

Every output file is written under a temporary name beside its final one and renamed when
complete: a reader never sees half a file, and a re-run can trust any file that exists.
"""

from __future__ import annotations

import contextlib
import glob as _glob
import json
import uuid
from collections.abc import Iterator
from typing import IO, Any

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
from fsspec.core import url_to_fs

PARQUET_COMPRESSION = "zstd"
# ~64 Ki rows keeps row groups around tens of MB for web-sized documents: large enough for
# fast scans, small enough that a worker reading one group stays in bounded memory.
ROW_GROUP_ROWS = 65_536


def filesystem(path: str) -> tuple[fsspec.AbstractFileSystem, str]:
    """The fsspec filesystem serving `path` and the path inside it."""
    return url_to_fs(path)


def join(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *parts])


def exists(path: str) -> bool:
    fs, p = filesystem(path)
    return fs.exists(p)


def expand(pattern: str) -> list[str]:
    """Files a path, folder or glob names, sorted, as full URLs; [] when nothing matches."""
    fs, p = filesystem(pattern)
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]

    def url(x: str) -> str:
        return x if protocol in ("file", "local") else f"{protocol}://{x.lstrip('/')}"

    if _glob.has_magic(p):
        # fsspec's `*` also matches hidden names: skip `atomic_write`'s `.tmp-*` siblings, so a
        # listing during a write never sees a file twice (or half written).
        found = [x for x in fs.glob(p) if not x.rsplit("/", 1)[-1].startswith(".") and fs.isfile(x)]
    elif fs.isdir(p):
        # Names starting with "_" or "." are bookkeeping (summaries, dead letters, staging,
        # temp files), in the file's name or in any folder below `p`.
        root = p.rstrip("/")
        found = [
            x
            for x in fs.find(p)
            if not any(part.startswith((".", "_")) for part in x[len(root) :].strip("/").split("/"))
        ]
    elif fs.exists(p):
        found = [p]
    else:
        found = []
    return sorted(url(x) for x in found)


@contextlib.contextmanager
def atomic_write(path: str, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary sibling of `path` for writing; rename it to `path` on success only."""
    fs, p = filesystem(path)
    parent = p.rsplit("/", 1)[0] if "/" in p else ""
    if parent:
        fs.makedirs(parent, exist_ok=True)
    tmp = f"{parent}/.tmp-{uuid.uuid4().hex}-{p.rsplit('/', 1)[-1]}" if parent else f".tmp-{uuid.uuid4().hex}-{p}"
    try:
        with fs.open(tmp, mode) as fh:
            yield fh
        fs.mv(tmp, p)
    finally:
        if fs.exists(tmp):
            fs.rm(tmp)


def remove_temp_files(root: str) -> int:
    """Delete the `atomic_write` temporaries a killed process left under `root`; returns how many.

    Call it only while no other process writes there (a job that has just claimed `root`)."""
    fs, p = filesystem(root)
    if not fs.exists(p):
        return 0
    stale = [x for x in fs.find(p) if x.rsplit("/", 1)[-1].startswith(".tmp-")]
    for x in stale:
        fs.rm(x)
    return len(stale)


def write_parquet(table: pa.Table, path: str, *, row_group_rows: int = ROW_GROUP_ROWS) -> None:
    """Write `table` as one zstd Parquet file, atomically and reproducibly (no timestamps)."""
    with atomic_write(path) as fh:
        pq.write_table(
            table,
            fh,
            compression=PARQUET_COMPRESSION,
            row_group_size=row_group_rows,
            use_dictionary=[f.name for f in table.schema if not pa.types.is_large_string(f.type)],
            write_statistics=True,
        )


def read_parquet(path: str, columns: list[str] | None = None) -> pa.Table:
    """The table at `path` (any fsspec path).

    Arrow's threads never touch a Python object here. Given a Python file object, Arrow reads
    and decodes on its own thread pools, and those threads take the GIL to read and to free
    the Python buffers; the last one can be freed just after this returns. When that happens
    while the interpreter exits, the C++ thread is ended by `pthread_exit` inside a destructor
    and the process aborts ("terminate called without an active exception", status 134) after
    its output was complete. So local files are read by Arrow itself, by path, and other
    stores through the file object on this thread only.
    """
    fs, p = filesystem(path)
    if _is_local(fs):
        return pq.read_table(p, columns=columns)
    with fs.open(p, "rb") as fh:
        return pq.read_table(fh, columns=columns, pre_buffer=False, use_threads=False)


def _is_local(fs: fsspec.AbstractFileSystem) -> bool:
    protocols = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
    return "file" in protocols or "local" in protocols


def parquet_rows(path: str) -> int:
    fs, p = filesystem(path)
    with fs.open(p, "rb") as fh:
        return pq.ParquetFile(fh).metadata.num_rows


def write_json(obj: Any, path: str) -> None:
    with atomic_write(path, "w") as fh:
        json.dump(obj, fh, indent=2, sort_keys=True, ensure_ascii=False)
        fh.write("\n")


def read_json(path: str) -> Any:
    fs, p = filesystem(path)
    with fs.open(p, "r") as fh:
        return json.load(fh)


def remove_tree(path: str) -> None:
    fs, p = filesystem(path)
    if fs.exists(p):
        fs.rm(p, recursive=True)
