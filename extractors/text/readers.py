"""Readers for JSONL (plain, .gz, .zst), Parquet and folders of text files.

Reading is planned as independent `ReadTask`s (a byte range of a plain JSONL file, one
compressed file, a run of Parquet row groups, a batch of text files) so workers read in
parallel without moving document text through the runner. `read_task` yields one
`Record` or one dead-letter dict per input record; it never raises for a bad record.
"""

from __future__ import annotations

import glob as _glob
import gzip
import io
import json
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow.parquet as pq
import zstandard

from corpusmill import storage
from corpusmill.errors import InputNotFoundError, RecordError
from corpusmill.schema import DeadLetter, dead_letter, stable_id
from corpusmill.textnorm import decode_utf8, looks_binary

STAGE = "ingest"
# Plain JSONL is split into byte ranges of this size: big enough that per-task overhead
# vanishes, small enough that 2+ workers share even a single large file.
JSONL_CHUNK_BYTES = 16 * 1024 * 1024
TEXT_FILES_PER_TASK = 256
PARQUET_ROWS_PER_TASK = 50_000
RESERVED_FIELDS = ("text", "id", "source")


@dataclass(frozen=True)
class ReadTask:
    kind: str  # jsonl | jsonl.gz | jsonl.zst | parquet | text
    paths: tuple[str, ...]
    names: tuple[str, ...]  # stable names (relative to the source root) used for ids
    source: str
    start: int = 0
    end: int = -1


@dataclass
class Record:
    text: str
    id: str
    source: str
    uri: str
    meta: dict[str, Any] = field(default_factory=dict)


def _kind(path: str) -> str:
    name = path.lower()
    for suffix, kind in (
        (".jsonl.gz", "jsonl.gz"),
        (".json.gz", "jsonl.gz"),
        (".jsonl.zst", "jsonl.zst"),
        (".json.zst", "jsonl.zst"),
        (".jsonl", "jsonl"),
        (".ndjson", "jsonl"),
        (".parquet", "parquet"),
    ):
        if name.endswith(suffix):
            return kind
    return "text"


def _stem(path: str) -> str:
    """Default source name of an input: its file or folder name; a glob's folder name."""
    path = path.rstrip("/")
    while _glob.has_magic(os.path.basename(path)):
        path = os.path.dirname(path)
    base = os.path.basename(path)
    return base.split(".", 1)[0] or base


def plan(sources: list[str], *, source: str | None = None) -> list[ReadTask]:
    """Read tasks for files, folders or globs, in a deterministic order.

    Raises InputNotFoundError (before any work) for a source that matches nothing.
    """
    tasks: list[ReadTask] = []
    for src in sources:
        files = storage.expand(src)
        if not files:
            raise InputNotFoundError(f"input not found: {src} (no file, folder or glob match)")
        name_of = _stable_names(src, files)
        src_name = source or _stem(src)
        texts = [f for f in files if _kind(f) == "text"]
        for i in range(0, len(texts), TEXT_FILES_PER_TASK):
            chunk = texts[i : i + TEXT_FILES_PER_TASK]
            tasks.append(ReadTask("text", tuple(chunk), tuple(name_of[f] for f in chunk), src_name))
        for f in files:
            kind = _kind(f)
            if kind != "text":
                tasks.extend(_split(kind, f, name_of[f], src_name))
    return tasks


def _stable_names(src: str, files: list[str]) -> dict[str, str]:
    """Names that ids are made from: the path below a folder source, else the file name, so
    ids do not change when the same data is read from another mount point or bucket."""
    fs, root = storage.filesystem(src)
    if not fs.isdir(root):
        return {f: os.path.basename(f) for f in files}
    return {f: os.path.relpath(storage.filesystem(f)[1], root) for f in files}


def _split(kind: str, path: str, name: str, source: str) -> list[ReadTask]:
    fs, p = storage.filesystem(path)
    if kind == "jsonl":
        size = fs.size(p)
        return [
            ReadTask(kind, (path,), (name,), source, start, min(start + JSONL_CHUNK_BYTES, size))
            for start in range(0, max(size, 1), JSONL_CHUNK_BYTES)
        ]
    if kind == "parquet":
        try:
            with fs.open(p, "rb") as fh:
                meta = pq.ParquetFile(fh).metadata
        except Exception:  # unreadable footer: one task that turns into a dead letter
            return [ReadTask(kind, (path,), (name,), source, 0, -1)]
        groups, tasks, start, rows = meta.num_row_groups, [], 0, 0
        for g in range(groups):
            rows += meta.row_group(g).num_rows
            if rows >= PARQUET_ROWS_PER_TASK or g == groups - 1:
                tasks.append(ReadTask(kind, (path,), (name,), source, start, g + 1))
                start, rows = g + 1, 0
        return tasks or [ReadTask(kind, (path,), (name,), source, 0, 0)]
    return [ReadTask(kind, (path,), (name,), source)]


def read_task(task: ReadTask) -> Iterator[Record | DeadLetter]:
    """Records of one task; bad records and unreadable files come out as dead-letter dicts."""
    reader = {
        "jsonl": _read_jsonl_range,
        "jsonl.gz": _read_compressed,
        "jsonl.zst": _read_compressed,
        "parquet": _read_parquet,
        "text": _read_text_files,
    }[task.kind]
    try:
        yield from reader(task)
    except (OSError, EOFError, zlib.error, zstandard.ZstdError, ValueError) as exc:
        # Whatever was read before the damage has already been yielded; the rest is lost
        # with a dead letter that says where.
        yield dead_letter(
            uri=task.paths[0],
            stage=STAGE,
            reason="unreadable_input",
            error=type(exc).__name__,
            message=f"{task.paths[0]}: {exc}",
        )


def _json_record(line: bytes, task: ReadTask, key: str) -> Record | DeadLetter:
    uri = f"{task.paths[0]}#{key}"
    try:
        text_line, repaired = decode_utf8(line)
        try:
            # strict=False: raw control characters inside strings are common in crawls;
            # normalization removes them later.
            obj = json.loads(text_line, strict=False)
        except json.JSONDecodeError as exc:
            raise RecordError("invalid_json", f"line is not JSON: {exc}") from None
        if not isinstance(obj, dict):
            raise RecordError("invalid_json", f"line is JSON {type(obj).__name__}, not an object")
        text = obj.get("text")
        if text is None:
            raise RecordError("missing_text", "JSON object has no 'text' field")
        if not isinstance(text, str):
            raise RecordError("missing_text", f"'text' is {type(text).__name__}, not a string")
    except RecordError as exc:
        return dead_letter(uri=uri, stage=STAGE, reason=exc.reason, error=type(exc).__name__, message=str(exc))
    meta = {k: v for k, v in obj.items() if k not in RESERVED_FIELDS}
    if repaired:
        meta["utf8_repaired_bytes"] = repaired
    doc_id = str(obj["id"]) if obj.get("id") is not None else _auto_id(task, key)
    return Record(text, doc_id, str(obj.get("source") or task.source), uri, meta)


def _auto_id(task: ReadTask, key: str) -> str:
    """Id from where the record sits (source, file name, offset): stable across runs."""
    return stable_id(task.source, task.names[0], key)


def _read_jsonl_range(task: ReadTask) -> Iterator[Record | DeadLetter]:
    fs, p = storage.filesystem(task.paths[0])
    with fs.open(p, "rb") as fh:
        # A line belongs to the task holding its first byte: look one byte back to learn
        # whether `start` begins a line.
        origin = max(task.start - 1, 0)
        fh.seek(origin)
        buf = fh.read(task.end - origin)
        while buf and not buf.endswith(b"\n"):
            more = fh.read(1 << 16)
            if not more:
                break
            cut = more.find(b"\n")
            buf += more if cut < 0 else more[: cut + 1]
            if cut >= 0:
                break
    offset = origin
    if task.start > 0:
        first = buf.find(b"\n")
        if first < 0:
            return
        offset += first + 1
        buf = buf[first + 1 :]
    for line in buf.split(b"\n"):
        here, offset = offset, offset + len(line) + 1
        if line.strip():
            yield _json_record(line, task, str(here))


def _read_compressed(task: ReadTask) -> Iterator[Record | DeadLetter]:
    fs, p = storage.filesystem(task.paths[0])
    with fs.open(p, "rb") as raw:
        if task.kind == "jsonl.gz":
            stream: io.BufferedIOBase = gzip.GzipFile(fileobj=raw)
        else:
            stream = io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw))
        # Keys are line numbers: compressed streams cannot be addressed by byte offset.
        for n, line in enumerate(stream):
            if line.strip():
                yield _json_record(line.rstrip(b"\n"), task, f"L{n + 1}")


def _read_parquet(task: ReadTask) -> Iterator[Record | DeadLetter]:
    fs, p = storage.filesystem(task.paths[0])
    with fs.open(p, "rb") as fh:
        pf = pq.ParquetFile(fh)
        if "text" not in pf.schema_arrow.names:
            raise ValueError(f"Parquet file has no 'text' column (columns: {', '.join(pf.schema_arrow.names)})")
        for g in range(task.start, task.end):
            rows = pf.read_row_group(g).to_pylist()
            for r, row in enumerate(rows):
                key = f"rg{g}:{r}"
                yield _row_record(row, task, key)


def _row_record(row: dict[str, Any], task: ReadTask, key: str) -> Record | DeadLetter:
    text = row.get("text")
    if not isinstance(text, str):
        return dead_letter(
            uri=f"{task.paths[0]}#{key}",
            stage=STAGE,
            reason="missing_text",
            error="RecordError",
            message=f"'text' is {type(text).__name__}, not a string",
        )
    meta = {k: v for k, v in row.items() if k not in (*RESERVED_FIELDS, "uri", "meta")}
    # corpusmill's own documents (extract-pdf, synth output) keep their uri and meta, so
    # their outputs can be ingested into one corpus with everything else.
    stored = row.get("meta")
    if isinstance(stored, str):
        try:
            parsed = json.loads(stored)
        except json.JSONDecodeError:
            parsed = None
        meta = {**parsed, **meta} if isinstance(parsed, dict) else {**meta, "meta": stored}
    elif stored is not None:
        meta["meta"] = stored
    uri = row["uri"] if isinstance(row.get("uri"), str) and row["uri"] else f"{task.paths[0]}#{key}"
    doc_id = str(row["id"]) if row.get("id") is not None else _auto_id(task, key)
    return Record(text, doc_id, str(row.get("source") or task.source), uri, meta)


def _read_text_files(task: ReadTask) -> Iterator[Record | DeadLetter]:
    for path, name in zip(task.paths, task.names):
        fs, p = storage.filesystem(path)
        try:
            with fs.open(p, "rb") as fh:
                data = fh.read()
            if looks_binary(data):
                raise RecordError("binary_file", f"{name} is not text (NUL or control bytes)")
            text, repaired = decode_utf8(data)
        except RecordError as exc:
            yield dead_letter(uri=path, stage=STAGE, reason=exc.reason, error=type(exc).__name__, message=str(exc))
            continue
        except OSError as exc:
            yield dead_letter(
                uri=path, stage=STAGE, reason="unreadable_input", error=type(exc).__name__, message=str(exc)
            )
            continue
        one = ReadTask("text", (path,), (name,), task.source)
        yield Record(text, _auto_id(one, ""), task.source, path, {"utf8_repaired_bytes": repaired} if repaired else {})
