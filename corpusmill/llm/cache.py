"""A durable response cache keyed by request content, shared by every worker of a job.

The key hashes what determines an answer: endpoint, model, messages (images by the hash of
their bytes), prompt, sampling, JSON schema and extra body fields; never the caller's tag.
Each process appends to a file of its own (`<host>-<pid>-<random>.jsonl`), so any number of
workers write without locks; opening the cache reads every file. On a local disk each entry is
flushed as it is written, so a crash loses nothing already answered. Object stores cannot
append: there entries are buffered and written as new segment files (atomically) every
`flush_every` entries and on `flush()`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
import uuid
from typing import IO, Any

from corpusmill import storage
from corpusmill.llm.types import Failure, Image, Request, Response, Result

log = logging.getLogger(__name__)


def cache_key(request: Request, model: str) -> str:
    """32 hex digits naming everything that determines the answer to `request`."""
    doc: dict[str, Any] = {
        "endpoint": "chat" if request.is_chat else "completion",
        "model": model,
        "sampling": request.sampling(),
        "json_schema": request.json_schema,
        "extra": request.extra,
    }
    if request.is_chat:
        doc["messages"] = [m.to_openai(image=_image_ref) for m in request.messages]
    else:
        doc["prompt"] = request.prompt
    canonical = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.blake2b(canonical.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _image_ref(image: Image) -> str:
    return f"{image.mime};blake2b={image.digest()}"


def to_record(key: str, result: Result) -> dict[str, Any]:
    """The JSON line stored for `result` (caller-specific fields such as tag are left out)."""
    if isinstance(result, Response):
        return {
            "key": key, "ok": True, "texts": list(result.texts), "finish_reason": result.finish_reason,
            "model": result.model, "prompt_tokens": result.prompt_tokens,
            "completion_tokens": result.completion_tokens, "parsed": result.parsed,
        }  # fmt: skip
    return {
        "key": key, "ok": False, "reason": result.reason, "error": result.error,
        "message": result.message, "status": result.status,
    }  # fmt: skip


def from_record(record: dict[str, Any], tag: str) -> Result:
    if record["ok"]:
        texts = tuple(record["texts"])
        return Response(
            tag=tag, text=texts[0] if texts else "", texts=texts, finish_reason=record["finish_reason"],
            model=record["model"], prompt_tokens=record["prompt_tokens"],
            completion_tokens=record["completion_tokens"], parsed=record["parsed"], cached=True,
        )  # fmt: skip
    return Failure(
        tag=tag, reason=record["reason"], error=record["error"], message=record["message"],
        status=record["status"], cached=True,
    )  # fmt: skip


class ResponseCache:
    """Content-keyed results under `root` (any fsspec path); `get`/`put` are thread-safe."""

    def __init__(self, root: str, *, flush_every: int = 256) -> None:
        self.root = root.rstrip("/")
        self.flush_every = flush_every
        self._fs, self._dir = storage.filesystem(self.root)
        self._local = "file" in (self._fs.protocol if isinstance(self._fs.protocol, tuple) else (self._fs.protocol,))
        self._entries: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._name = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._fh: IO[str] | None = None
        self._pending: list[str] = []
        self._segments = 0
        self._load()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> dict[str, Any] | None:
        return self._entries.get(key)

    def put(self, key: str, result: Result) -> None:
        record = to_record(key, result)
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str) + "\n"
        with self._lock:
            self._entries[key] = record
            if self._local:
                self._append(line)
            else:
                self._pending.append(line)
                if len(self._pending) >= self.flush_every:
                    self._write_segment()

    def flush(self) -> None:
        """Make every entry put so far durable (a no-op on local disks, which flush per entry)."""
        with self._lock:
            if self._pending:
                self._write_segment()

    def close(self) -> None:
        self.flush()
        with self._lock:
            if self._fh is not None:
                self._fh.close()
                self._fh = None

    def _append(self, line: str) -> None:
        if self._fh is None:
            self._fs.makedirs(self._dir, exist_ok=True)
            self._fh = open(os.path.join(self._dir, f"{self._name}.jsonl"), "a", encoding="utf-8")
        self._fh.write(line)
        self._fh.flush()

    def _write_segment(self) -> None:
        path = storage.join(self.root, f"{self._name}-{self._segments:06d}.jsonl")
        with storage.atomic_write(path, "w") as fh:
            fh.writelines(self._pending)
        self._segments += 1
        self._pending.clear()

    def _load(self) -> None:
        if not self._fs.exists(self._dir):
            return
        bad = 0
        for path in sorted(self._fs.glob(f"{self._dir}/*.jsonl")):
            with self._fs.open(path, "r", encoding="utf-8") as fh:
                for line in fh:
                    try:
                        record = json.loads(line)
                        self._entries[record["key"]] = record
                    except (ValueError, KeyError, TypeError):
                        bad += 1  # a line cut short by a crash: that request is simply sent again
        if bad:
            log.warning("llm cache %s: skipped %d unreadable lines", self.root, bad)
        log.info("llm cache %s: %d entries", self.root, len(self._entries))
