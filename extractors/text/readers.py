"""Readers for JSONL (plain, .gz, .zst), Parquet and folders of text files.

Text files are decoded as UTF-8 when they are, else in the encoding their byte-order mark
names or `charset-normalizer` detects (or the one the user gives); the choice and its
confidence go to `meta`. A record larger than `max_record_bytes` (a whole text file, or one
JSONL line) becomes a `record_too_large` dead letter without being held in memory.

Lines are read by `lines.py` and links in input folders sorted by `links.py`.

Reading is planned as independent `ReadTask`s (a byte range of a plain JSONL file, one
compressed file, a run of Parquet row groups, a batch of text files) so workers read in
parallel without moving document text through the runner. `read_task` yields one
`Record` or one dead-letter dict per input record; it never raises for a bad record.
"""

from __future__ import annotations

import dataclasses
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
from corpusmill.extractors.text.encoding import check_encoding, decode_bytes
from corpusmill.extractors.text.lines import owned_lines, stream_lines
from corpusmill.extractors.text.links import refused_links, through_links
from corpusmill.schema import DeadLetter, dead_letter, stable_id
from corpusmill.textnorm import decode_utf8

STAGE = "ingest"
# Plain JSONL is split into byte ranges of this size: big enough that per-task overhead
# vanishes, small enough that 2+ workers share even a single large file.
JSONL_CHUNK_BYTES = 16 * 1024 * 1024
TEXT_FILES_PER_TASK = 256
PARQUET_ROWS_PER_TASK = 50_000
# One document this large is a mistake (a dump without newlines, a disk image): refuse it
# before reading it, so a worker's memory stays bounded whatever the input.
MAX_RECORD_BYTES = 64 * 1024 * 1024
RESERVED_FIELDS = ("text", "id", "source")
# Deeper JSON is refused whatever the stack: Python's decoder (and `str`, and the encoder that
# writes `meta`) recurse, so how deep they get depends on how deep in the stack the reader
# runs, which differs by runner; a fixed limit far below that keeps the outcome the same
# everywhere. Real records nest a few levels.
MAX_JSON_DEPTH = 100


@dataclass(frozen=True)
class ReadTask:
    kind: str  # jsonl | jsonl.gz | jsonl.zst | parquet | text | link (refused: outside the input)
    paths: tuple[str, ...]
    names: tuple[str, ...]  # stable names (relative to the source root) used for ids
    source: str
    start: int = 0
    end: int = -1
    encoding: str | None = None  # the user's --encoding: no detection
    max_record_bytes: int = MAX_RECORD_BYTES


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


def plan(
    sources: list[str],
    *,
    source: str | None = None,
    encoding: str | None = None,
    max_record_bytes: int = MAX_RECORD_BYTES,
    follow_links: bool = False,
) -> list[ReadTask]:
    """Read tasks for files, folders or globs, in a deterministic order.

    A file found in a folder or glob that is a symbolic link to somewhere outside that
    folder is not read unless `follow_links` (a link to /etc/shadow in a crawl folder): each
    becomes a `link_outside_input` dead letter. A file named on its own is always read.

    Raises InputNotFoundError (before any work) for a source that matches nothing, and
    ConfigError for an unknown `encoding`.
    """
    if encoding:
        encoding = check_encoding(encoding)
    tasks = _plan(sources, source, follow_links)
    if encoding or max_record_bytes != MAX_RECORD_BYTES:
        tasks = [dataclasses.replace(t, encoding=encoding, max_record_bytes=max_record_bytes) for t in tasks]
    return tasks


def _plan(sources: list[str], source: str | None, follow_links: bool) -> list[ReadTask]:
    tasks: list[ReadTask] = []
    for src in sources:
        files = storage.expand(src)
        if not files:
            raise InputNotFoundError(f"input not found: {src} (no file, folder or glob match)")
        files, refused = through_links(src, files, follow_links)
        name_of = _stable_names(src, files + refused)
        src_name = source or _stem(src)
        if refused:
            tasks.append(ReadTask("link", tuple(refused), tuple(name_of[f] for f in refused), src_name))
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
        "link": lambda task: refused_links(task.paths, STAGE),
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
        if len(line) > task.max_record_bytes:
            raise RecordError("record_too_large", f"line of {len(line):,} bytes > limit {task.max_record_bytes:,}")
        text_line, repaired = _decode_line(line, task.encoding)
        obj = _parse_json(text_line)
        if not isinstance(obj, dict):
            raise RecordError("invalid_json", f"line is JSON {type(obj).__name__}, not an object")
        text = obj.get("text")
        if text is None:
            raise RecordError("missing_text", "JSON object has no 'text' field")
        if not isinstance(text, str):
            raise RecordError("missing_text", f"'text' is {type(text).__name__}, not a string")
        doc_id = str(obj["id"]) if obj.get("id") is not None else _auto_id(task, key)
        source = str(obj.get("source") or task.source)
    except RecordError as exc:
        return dead_letter(uri=uri, stage=STAGE, reason=exc.reason, error=type(exc).__name__, message=str(exc))
    meta = {k: v for k, v in obj.items() if k not in RESERVED_FIELDS}
    if repaired:
        meta["utf8_repaired_bytes"] = repaired
    return Record(text, doc_id, source, uri, meta)


def _parse_json(text: str) -> Any:
    """The JSON value of one line; any way a line can fail to decode is `invalid_json`."""
    too_deep = RecordError("invalid_json", f"line is JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        # strict=False: raw control characters inside strings are common in crawls;
        # normalization removes them later.
        obj = json.loads(text, strict=False)
    except json.JSONDecodeError as exc:
        raise RecordError("invalid_json", f"line is not JSON: {exc}") from None
    except RecursionError:
        raise too_deep from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise RecordError("invalid_json", f"line is not decodable JSON: {exc}") from None
    if _nesting_exceeds(obj, MAX_JSON_DEPTH):
        raise too_deep
    return obj


def _nesting_exceeds(value: Any, limit: int) -> bool:
    """Whether `value` nests lists or objects more than `limit` deep (no recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        if depth > limit:
            return True
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return False


def _decode_line(line: bytes, encoding: str | None) -> tuple[str, int]:
    """The line as text, without a byte-order mark: one can open any line (files concatenated
    from several editors' output), and JSON allows none."""
    if not encoding:
        text, repaired = decode_utf8(line)
    else:
        try:
            text, repaired = line.decode(encoding), 0
        except UnicodeDecodeError as exc:
            raise RecordError("undecodable_text", f"line is not {encoding}: {exc}") from None
    return (text[1:] if text.startswith("\ufeff") else text), repaired


def _auto_id(task: ReadTask, key: str) -> str:
    """Id from where the record sits (source, file name, offset): stable across runs."""
    return stable_id(task.source, task.names[0], key)


def _read_jsonl_range(task: ReadTask) -> Iterator[Record | DeadLetter]:
    fs, p = storage.filesystem(task.paths[0])
    with fs.open(p, "rb") as fh:
        for here, line, size in owned_lines(fh, task.start, task.end, task.max_record_bytes):
            if line is None:
                yield _line_too_large(f"{task.paths[0]}#{here}", size, task.max_record_bytes)
            elif line.strip():
                yield _json_record(line, task, str(here))


def _line_too_large(uri: str, size: int, limit: int) -> DeadLetter:
    """The dead letter of a JSONL line over `limit` bytes, which was skipped without being held."""
    return dead_letter(
        uri=uri,
        stage=STAGE,
        reason="record_too_large",
        error="RecordError",
        message=f"line of {size:,} bytes > limit {limit:,}; skipped unread",
    )


def _read_compressed(task: ReadTask) -> Iterator[Record | DeadLetter]:
    fs, p = storage.filesystem(task.paths[0])
    with fs.open(p, "rb") as raw:
        if task.kind == "jsonl.gz":
            stream: io.BufferedIOBase = gzip.GzipFile(fileobj=raw)
        else:
            stream = io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw))
        # Keys are line numbers: compressed streams cannot be addressed by byte offset.
        for n, (line, size) in enumerate(stream_lines(stream, task.max_record_bytes)):
            if line is None:
                yield _line_too_large(f"{task.paths[0]}#L{n + 1}", size, task.max_record_bytes)
            elif line.strip():
                yield _json_record(line, task, f"L{n + 1}")


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
        except (ValueError, RecursionError):  # kept as the string it is
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
            size = fs.size(p)
            if size is not None and size > task.max_record_bytes:
                raise RecordError(
                    "record_too_large",
                    f"{name}: {size:,} bytes > limit {task.max_record_bytes:,} for one "
                    "document; split it (one document per file or a JSONL line each)",
                )
            with fs.open(p, "rb") as fh:
                data = fh.read(task.max_record_bytes + 1)
            if len(data) > task.max_record_bytes:  # a filesystem that does not know the size
                raise RecordError("record_too_large", f"{name}: more than {task.max_record_bytes:,} bytes")
            decoded = decode_bytes(data, encoding=task.encoding, name=name)
        except RecordError as exc:
            yield dead_letter(uri=path, stage=STAGE, reason=exc.reason, error=type(exc).__name__, message=str(exc))
            continue
        except OSError as exc:
            yield dead_letter(
                uri=path, stage=STAGE, reason="unreadable_input", error=type(exc).__name__, message=str(exc)
            )
            continue
        one = ReadTask("text", (path,), (name,), task.source)
        meta: dict[str, Any] = {"encoding": decoded.encoding, "encoding_confidence": decoded.confidence}
        if decoded.repaired:
            meta["utf8_repaired_bytes"] = decoded.repaired
        yield Record(decoded.text, _auto_id(one, ""), task.source, path, meta)
