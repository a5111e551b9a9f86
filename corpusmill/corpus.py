"""DuckDB over the Parquet corpus: `open_corpus(docs, annotations, dedup=..., tokens=...)` -> `Corpus`.

Views: `documents` (DOCS_DIR/*.parquet), `dead_letters` (DOCS_DIR/_dead_letters/*.parquet,
when any), `annotations` (ANN_DIR/*.parquet), `dedup` (DUP_DIR/*.parquet, the near-duplicate
sidecar) and `token_counts` (the mixer's token counts: id, n_tokens) when given, and
`corpus` = documents LEFT JOIN each of them USING (id), so `n_tokens` or `dup_keep` can be
asked like any label. Remote paths (gs://, s3://,
memory://) are served by fsspec filesystems registered on the connection, because DuckDB's
own httpfs extension cannot be downloaded at run time everywhere.
"""

from __future__ import annotations

import duckdb
import pyarrow.parquet as pq

from corpusmill import storage
from corpusmill.errors import InputNotFoundError
from corpusmill.layout import DEAD_LETTERS_DIR

DOCUMENTS_GLOB = "*.parquet"
# The mixer's token sidecar: SHARDS_DIR/_tokens/<tokenizer fingerprint[:16]>/*.parquet (id, n_tokens, ...).
TOKENS_DIR = "_tokens"
MANIFEST_FILE = "manifest.json"


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


class Corpus:
    """A DuckDB connection with the corpus views; `sql()` returns a lazy DuckDB relation."""

    def __init__(self, con: duckdb.DuckDBPyConnection, views: list[str]) -> None:
        self.con = con
        self.views = views

    def sql(self, query: str) -> duckdb.DuckDBPyRelation:
        return self.con.sql(query)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Corpus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def register_filesystem(con: duckdb.DuckDBPyConnection, path: str) -> str:
    """Register the fsspec filesystem of a remote path on `con`; returns the path DuckDB reads."""
    if "://" not in path or path.startswith("file://"):
        return path.removeprefix("file://")
    fs, _ = storage.filesystem(path)
    protocols = [fs.protocol] if isinstance(fs.protocol, str) else list(fs.protocol)
    if not any(con.filesystem_is_registered(p) for p in protocols):
        con.register_filesystem(fs)
    return path


def _parquet_view(con: duckdb.DuckDBPyConnection, name: str, folder: str) -> bool:
    if not storage.expand(storage.join(folder, DOCUMENTS_GLOB)):
        return False
    target = register_filesystem(con, folder)
    con.execute(
        f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet({_sql_str(storage.join(target, DOCUMENTS_GLOB))})"
    )
    return True


def _has_token_counts(path: str) -> bool:
    fs, p = storage.filesystem(path)
    with fs.open(p, "rb") as fh:
        return {"id", "n_tokens"} <= set(pq.ParquetFile(fh).schema_arrow.names)


def token_files(path: str | None, manifests: list[dict] | None = None) -> list[str]:
    """Parquet files of a token sidecar: `path` itself when it holds them, else SHARDS_DIR/_tokens/<fp>/.

    A sidecar per tokenizer may exist; the one the stages were written with (their
    manifests' tokenizer) wins, and with no manifest the only one present is used.
    """
    if not path:
        return []
    fs, p = storage.filesystem(path)
    if not fs.isdir(p):
        return []
    direct = storage.expand(storage.join(path, DOCUMENTS_GLOB))
    if direct:
        return direct if _has_token_counts(direct[0]) else []
    root = storage.join(path, TOKENS_DIR)
    fs, r = storage.filesystem(root)
    if not fs.isdir(r):
        return []
    folders = sorted(x.rsplit("/", 1)[-1] for x in fs.ls(r, detail=False) if fs.isdir(x))
    if manifests is None:
        own = storage.join(path, MANIFEST_FILE)
        found = [own] if storage.exists(own) else storage.expand(storage.join(path, "*", MANIFEST_FILE))
        manifests = [storage.read_json(m) for m in found]
    wanted = {str(m.get("tokenizer", {}).get("sha256", ""))[:16] for m in manifests if isinstance(m, dict)}
    chosen = sorted(wanted & set(folders)) or (folders if len(folders) == 1 else [])
    return storage.expand(storage.join(path, TOKENS_DIR, chosen[0], DOCUMENTS_GLOB)) if chosen else []


def _token_view(con: duckdb.DuckDBPyConnection, files: list[str]) -> None:
    listed = "[" + ", ".join(_sql_str(register_filesystem(con, f)) for f in files) + "]"
    # Only id and n_tokens are read (Parquet projection); max() folds a document tokenized twice.
    con.execute(
        "CREATE OR REPLACE VIEW token_counts AS SELECT id, max(n_tokens) AS n_tokens "
        f"FROM read_parquet({listed}) GROUP BY id"
    )


def open_corpus(
    docs: str,
    annotations: str | None = None,
    *,
    dedup: str | None = None,
    tokens: str | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> Corpus:
    """Open DOCS_DIR (and ANN_DIR, DUP_DIR, and the token counts under `tokens`: a SHARDS_DIR
    or a token sidecar folder) as DuckDB views on `con` (a new in-memory one by default)."""
    con = con or duckdb.connect()
    views: list[str] = []
    if not _parquet_view(con, "documents", docs):
        raise InputNotFoundError(
            f"no documents under {docs} (expected {DOCUMENTS_GLOB}); run `corpusmill ingest` first"
        )
    views.append("documents")
    if _parquet_view(con, "dead_letters", storage.join(docs, DEAD_LETTERS_DIR)):
        views.append("dead_letters")
    if annotations is not None:
        if not _parquet_view(con, "annotations", annotations):
            raise InputNotFoundError(f"no annotations under {annotations}; run `corpusmill annotate` first")
        views.append("annotations")
    if dedup is not None:
        if not _parquet_view(con, "dedup", dedup):
            raise InputNotFoundError(f"no near-duplicate sidecar under {dedup}; run `corpusmill dedup` first")
        views.append("dedup")
    joined = " ".join(["documents", *(f"LEFT JOIN {v} USING (id)" for v in ("annotations", "dedup") if v in views)])
    if tokens is not None:
        files = token_files(tokens)
        if not files:
            raise InputNotFoundError(
                f"no token counts under {tokens}; run `corpusmill mix` (its --dry-run tokenizes too)"
            )
        _token_view(con, files)
        # An annotator may store its own `n_tokens`; the mixer's tokenizer count wins.
        names = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {joined}").fetchall()}
        cols = "* EXCLUDE (n_tokens)" if "n_tokens" in names else "*"
        con.execute(
            f"CREATE OR REPLACE VIEW corpus AS SELECT {cols}, t.n_tokens FROM {joined} LEFT JOIN token_counts t USING (id)"
        )
        views += ["token_counts", "corpus"]
    elif joined != "documents":
        con.execute(f"CREATE OR REPLACE VIEW corpus AS SELECT * FROM {joined}")
        views.append("corpus")
    return Corpus(con, views)
