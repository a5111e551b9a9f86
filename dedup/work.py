"""The dedup job's work on files and partitions, as plain functions the Beam job calls.

Documents are named by a 64-bit key, `file index << 32 | row`, so a key says where its
document lives and sorts like the corpus (the "first" document is the smallest key).
Signatures are written once per documents file to `DUP_DIR/_work/sig-NNNNN.parquet` and read
back by file when a pair is checked or a cluster is settled: signatures never travel for
documents that have no candidate, and no place holds more than one file's signatures.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from corpusmill import storage
from corpusmill.dedup import lsh
from corpusmill.dedup.config import DedupConfig
from corpusmill.dedup.keep import ClusterSummary
from corpusmill.dedup.sidecar import DEDUP_SCHEMA, RULE_NO_SIGNATURE, RULE_UNIQUE, VERSION, model_name
from corpusmill.layout import file_stats, with_stats
from corpusmill.minhash import jaccard_estimate, signatures

WORK_DIR = "_work"
CHANGED_FILE = "_changed.json"
# Band entries per partition: ~16 bytes each, so ~32 MB of keys per group at this size.
ENTRIES_PER_PARTITION = 2_000_000
BATCH_DOCS = 512
SIG_SCHEMA_BASE = [pa.field("row", pa.int32(), nullable=False), pa.field("score", pa.float32())]


@dataclass(frozen=True)
class FileTask:
    index: int
    docs: str
    annotations: str | None
    signatures: str
    target: str


def plan(docs_dir: str, dup_dir: str, ann_dir: str | None) -> list[FileTask]:
    tasks = []
    for i, path in enumerate(storage.expand(storage.join(docs_dir, "*.parquet"))):
        name = posixpath.basename(path)
        ann = storage.join(ann_dir, name) if ann_dir else None
        tasks.append(
            FileTask(
                i,
                path,
                ann if ann and storage.exists(ann) else None,
                storage.join(dup_dir, WORK_DIR, f"sig-{i:05d}.parquet"),
                storage.join(dup_dir, name),
            )
        )
    return tasks


def doc_keys(index: int, rows: np.ndarray) -> np.ndarray:
    return (np.int64(index) << np.int64(32)) | rows.astype(np.int64)


def file_of(keys: np.ndarray) -> np.ndarray:
    return keys >> np.int64(32)


def split_by(groups: np.ndarray, *arrays: np.ndarray) -> Iterator[tuple[int, tuple[np.ndarray, ...]]]:
    """(group, arrays restricted to it) for every group present, in group order."""
    if len(groups) == 0:
        return
    order = np.argsort(groups, kind="stable")
    g = groups[order]
    bounds = np.flatnonzero(np.concatenate([[True], g[1:] != g[:-1], [True]]))
    for s, e in zip(bounds[:-1], bounds[1:]):
        yield int(g[s]), tuple(a[order[s:e]] for a in arrays)


def _scores(task: FileTask, reader: pq.ParquetFile) -> np.ndarray:
    """edu_score per document of this file (NaN where the annotations lack the id or column)."""
    out = np.full(reader.metadata.num_rows, np.nan, dtype=np.float32)
    if task.annotations is None:
        return out
    ids: list[str] = reader.read(columns=["id"]).column("id").to_pylist()
    fs, p = storage.filesystem(task.annotations)
    with fs.open(p, "rb") as fh:
        names = pq.ParquetFile(fh).schema_arrow.names
    if "edu_score" not in names:
        return out
    ann = storage.read_parquet(task.annotations, columns=["id", "edu_score"]).to_pydict()
    by_id = {i: s for i, s in zip(ann["id"], ann["edu_score"]) if s is not None}
    for n, doc_id in enumerate(ids):
        if doc_id in by_id:
            out[n] = by_id[doc_id]
    return out


def sign_file(task: FileTask, config: DedupConfig, partitions: int) -> Iterator[tuple[int, tuple[np.ndarray, ...]]]:
    """Sign every document of `task`, write its signature file, and yield band entries as
    (partition, (band keys, document keys)), one group per partition and batch."""
    sig_type = pa.binary(4 * config.num_perm)
    schema = pa.schema([*SIG_SCHEMA_BASE, pa.field("sig", sig_type, nullable=False)])
    fs, p = storage.filesystem(task.docs)
    row = 0
    with fs.open(p, "rb") as fh, storage.atomic_write(task.signatures) as out:
        reader = pq.ParquetFile(fh)
        scores = _scores(task, reader)
        writer = pq.ParquetWriter(out, schema, compression="zstd")
        for batch in reader.iter_batches(batch_size=BATCH_DOCS, columns=["text"]):
            texts = batch.column(0).to_pylist()
            sig = signatures(
                texts, ngram=config.ngram, num_perm=config.num_perm, seed=config.seed, min_tokens=config.min_tokens
            )
            rows = np.flatnonzero(sig.signed).astype(np.int32) + row
            values = sig.values[sig.signed]
            writer.write_table(
                pa.table(
                    {
                        "row": pa.array(rows, pa.int32()),
                        "score": pa.array(scores[rows], pa.float32(), mask=np.isnan(scores[rows])),
                        "sig": pa.array([v.tobytes() for v in values], sig_type),
                    },
                    schema=schema,
                )
            )
            row += len(texts)
            if len(rows):
                keys = lsh.band_keys(values, config.band_count, config.row_count)
                docs = np.repeat(doc_keys(task.index, rows), config.band_count)
                flat = keys.reshape(-1)
                yield from split_by(lsh.partition_of(flat, partitions), flat, docs)
        writer.close()


def read_signatures(path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, signature matrix uint32, scores with NaN for none) of one signature file."""
    t = storage.read_parquet(path)
    rows = t.column("row").to_numpy().astype(np.int64)
    width = t.schema.field("sig").type.byte_width // 4
    flat = b"".join(t.column("sig").to_pylist()) if t.num_rows else b""
    values = np.frombuffer(flat, dtype=np.uint32).reshape(-1, width)
    scores = t.column("score").to_numpy(zero_copy_only=False).astype(np.float32)
    return rows, values, scores


def signatures_of(path: str, keys: np.ndarray) -> np.ndarray:
    rows, values, _ = read_signatures(path)
    idx = np.searchsorted(rows, keys & np.int64(0xFFFFFFFF))
    return values[idx]


def cluster_members(
    task: FileTask, nodes: np.ndarray, labels: np.ndarray
) -> Iterator[tuple[int, tuple[int, str, float, bytes]]]:
    """(label, (key, id, edu score or NaN, signature bytes)) for this file's clustered documents."""
    rows, values, scores = read_signatures(task.signatures)
    ids = storage.read_parquet(task.docs, columns=["id"]).column("id").to_pylist()
    idx = np.searchsorted(rows, nodes & np.int64(0xFFFFFFFF))
    for node, label, i in zip(nodes.tolist(), labels.tolist(), idx.tolist()):
        yield label, (node, ids[node & 0xFFFFFFFF], float(scores[i]), values[i].tobytes())


def verify(
    u: np.ndarray, v: np.ndarray, sig_u: np.ndarray, sig_v: np.ndarray, floor: float
) -> tuple[np.ndarray, np.ndarray]:
    """The pairs whose signature Jaccard estimate reaches `floor`."""
    ok = jaccard_estimate(sig_u, sig_v) >= floor
    return u[ok], v[ok]


def settle_members(
    members: Iterable[tuple[int, str, float, bytes]], summary: ClusterSummary, rule: str
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Result rows (file index, row fields) of a cluster's members (key, id, edu score or NaN,
    signature bytes), streamed, given the cluster's summary. The cluster's name is its first
    document's id (once labels settle, the document whose key is the cluster's label)."""
    kept, kept_sig_bytes, used = summary.kept(rule)
    assert summary.first is not None
    kept_sig = np.frombuffer(kept_sig_bytes, dtype=np.uint32)
    for key, _, _, sig in members:
        est = float(jaccard_estimate(np.frombuffer(sig, dtype=np.uint32), kept_sig))
        row = {
            "row": key & 0xFFFFFFFF,
            "dup_cluster": summary.first[1],
            "dup_cluster_size": summary.size,
            "dup_keep": key == kept,
            "dup_jaccard_est": est,
            "dup_rule": used,
        }
        yield key >> 32, row


def write_sidecar(task: FileTask, results: list[dict[str, Any]], config: DedupConfig) -> dict[str, int]:
    """The file's sidecar, row for row with its documents; unclustered documents are their own
    cluster of one. Returns (and stores in the footer) the file's counts."""
    ids = storage.read_parquet(task.docs, columns=["id"]).column("id").to_pylist()
    signed_rows = set(storage.read_parquet(task.signatures, columns=["row"]).column("row").to_pylist())
    by_row = {r["row"]: r for r in results}
    model = model_name(config.ngram, config.band_count, config.row_count, config.threshold)
    cols: dict[str, list[Any]] = {f.name: [] for f in DEDUP_SCHEMA}
    for row, doc_id in enumerate(ids):
        r = by_row.get(row)
        if r is None:
            signed = row in signed_rows
            r = {
                "dup_cluster": doc_id,
                "dup_cluster_size": 1,
                "dup_keep": True,
                "dup_jaccard_est": 1.0 if signed else None,
                "dup_rule": RULE_UNIQUE if signed else RULE_NO_SIGNATURE,
            }
        cols["id"].append(doc_id)
        for name in ("dup_cluster", "dup_cluster_size", "dup_keep", "dup_jaccard_est", "dup_rule"):
            cols[name].append(r[name])
    cols["dup_model"] = [model] * len(ids)
    cols["dup_model_version"] = [VERSION] * len(ids)
    stats = {
        "records_in": len(ids),
        "docs": len(ids),
        "no_signature": len(ids) - len(signed_rows),
        "clustered": len(results),
        "duplicates": sum(1 for r in results if not r["dup_keep"]),
        "clusters": sum(1 for r in results if r["dup_keep"]),
        "keep_fallback_docs": sum(1 for r in results if r["dup_rule"] == "first_fallback"),
    }
    storage.write_parquet(with_stats(pa.table(cols, schema=DEDUP_SCHEMA), stats), task.target)
    return stats


def summarize(tasks: list[FileTask]) -> dict[str, int]:
    total: dict[str, int] = {}
    for t in tasks:
        for k, v in file_stats(t.target).items():
            total[k] = total.get(k, 0) + int(v)
    return total


def partitions_for(n_docs: int, config: DedupConfig) -> int:
    """Partitions of band entries and of nodes: from the corpus size only (never from the
    workers), so that every run of the same input groups the same way."""
    return max(4, -(-n_docs * config.band_count // ENTRIES_PER_PARTITION))


def fingerprint(tasks: list[FileTask], config: DedupConfig) -> str:
    h = hashlib.sha256(json.dumps(config.as_dict(), sort_keys=True).encode())
    for t in tasks:
        h.update(repr((t.docs, storage.parquet_rows(t.docs), t.annotations)).encode())
    return h.hexdigest()


def signed_docs(tasks: list[FileTask]) -> Callable[[], int]:
    """Documents signed so far: a file counts once its signature file exists (written whole)."""
    counted: dict[int, int] = {}

    def poll() -> int:
        for t in tasks:
            if t.index not in counted and storage.exists(t.signatures):
                counted[t.index] = storage.parquet_rows(t.docs)
        return sum(counted.values())

    return poll


# The label state between passes: edges and labels per node partition, and how many labels
# the last round changed (0: the components are final).
def label_path(dup_dir: str, p: int) -> str:
    return storage.join(dup_dir, WORK_DIR, f"labels-{p:05d}.parquet")


def write_state(element: Any, dup_dir: str) -> None:
    p, (a, b, nodes, labels) = element
    storage.write_parquet(pa.table({"a": a, "b": b}), storage.join(dup_dir, WORK_DIR, f"edges-{p:05d}.parquet"))
    storage.write_parquet(pa.table({"node": nodes, "label": labels}), label_path(dup_dir, p))


def read_state(p: int, dup_dir: str):
    path = label_path(dup_dir, p)
    if not storage.exists(path):
        return
    e = storage.read_parquet(storage.join(dup_dir, WORK_DIR, f"edges-{p:05d}.parquet"))
    lab = storage.read_parquet(path)
    yield p, tuple(t.column(c).to_numpy() for t, c in ((e, "a"), (e, "b"), (lab, "node"), (lab, "label")))


def write_changed(changes: list[int], dup_dir: str) -> None:
    storage.write_json({"changed": int(sum(changes))}, storage.join(dup_dir, WORK_DIR, CHANGED_FILE))
