"""Finding the report's inputs: dead-letter files, run summaries, stage manifests, token sidecars.

Every input but the documents is optional; a missing folder or file only leaves its
section out of the report. Paths go through fsspec, so gs:// or s3:// folders work too.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from corpusmill import storage
from corpusmill.corpus import token_files as corpus_token_files
from corpusmill.layout import DEAD_LETTERS_DIR, SUMMARY_FILE

log = logging.getLogger(__name__)

MANIFEST_FILE = "manifest.json"
TOKENS_DIR = "_tokens"  # the mixer's token sidecar: SHARDS_DIR/_tokens/<tokenizer fp[:16]>/*.parquet


@dataclass(frozen=True)
class RunSummary:
    path: str
    job: str  # the summary's "job", else the folder name
    data: dict[str, Any]


def _url(fs: Any, path: str) -> str:
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return path if protocol in ("file", "local") else f"{protocol}://{path.lstrip('/')}"


def _is_dir(path: str) -> bool:
    fs, p = storage.filesystem(path)
    return fs.isdir(p)


def dead_letter_files(folders: Iterable[str]) -> list[str]:
    """Every finished `*.parquet` inside a `_dead_letters` folder at any depth under `folders`."""
    found: set[str] = set()
    for folder in folders:
        if not _is_dir(folder):
            continue
        fs, root = storage.filesystem(folder)
        for path in fs.find(root):
            parts = path.split("/")
            # Temporary names (".tmp-...") are files still being written by a running job.
            if (
                len(parts) > 1
                and parts[-2] == DEAD_LETTERS_DIR
                and path.endswith(".parquet")
                and not parts[-1].startswith(".")
            ):
                found.add(_url(fs, path))
    return sorted(found)


def run_summaries(paths: Iterable[str], name: str = SUMMARY_FILE) -> list[RunSummary]:
    """The `name` file of each run folder (or the JSON file itself), once each, in order."""
    out: list[RunSummary] = []
    seen: set[str] = set()
    for path in paths:
        if not _is_dir(path) and name != SUMMARY_FILE:
            continue  # a JSON file given directly is a summary
        target = storage.join(path, name) if _is_dir(path) else path
        if target in seen or not storage.exists(target):
            continue
        seen.add(target)
        data = storage.read_json(target)
        if not isinstance(data, dict):
            log.warning("%s: not a JSON object; ignored", target)
            continue
        folder = posixpath.basename(posixpath.dirname(target)) or target
        out.append(RunSummary(target, str(data.get("job") or folder), data))
    return out


def stage_manifests(shards: str | None) -> list[dict[str, Any]]:
    """`manifest.json` of SHARDS_DIR itself (one stage) or of each `SHARDS_DIR/<stage>/`, by stage name."""
    if not shards or not _is_dir(shards):
        return []
    own = storage.join(shards, MANIFEST_FILE)
    paths = [own] if storage.exists(own) else storage.expand(storage.join(shards, "*", MANIFEST_FILE))
    manifests = [storage.read_json(p) for p in paths]
    return sorted((m for m in manifests if isinstance(m, dict)), key=lambda m: str(m.get("stage", "")))


def token_files(shards: str | None, manifests: list[dict[str, Any]]) -> list[str]:
    """Parquet files of the token sidecar for the manifests' tokenizer (see `corpusmill.corpus.token_files`)."""
    if not shards or not _is_dir(storage.join(shards, TOKENS_DIR)):
        return []
    return corpus_token_files(shards, manifests)
