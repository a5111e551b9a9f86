"""DuckDB over the Parquet corpus: `open_corpus(docs, annotations, dedup=...)` -> `Corpus`.

Views: `documents` (DOCS_DIR/*.parquet), `dead_letters` (DOCS_DIR/_dead_letters/*.parquet,
when any), `annotations` (ANN_DIR/*.parquet) and `dedup` (DUP_DIR/*.parquet, the
near-duplicate sidecar) when given, and then `corpus` = documents LEFT JOIN each of them USING (id). Remote paths (gs://, s3://,
memory://) are served by fsspec filesystems registered on the connection, because DuckDB's
own httpfs extension cannot be downloaded at run time everywhere.
"""

from __future__ import annotations

import duckdb

from corpusmill import storage
from corpusmill.errors import InputNotFoundError
from corpusmill.layout import DEAD_LETTERS_DIR

DOCUMENTS_GLOB = "*.parquet"


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


def open_corpus(
    docs: str,
    annotations: str | None = None,
    *,
    dedup: str | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> Corpus:
    """Open DOCS_DIR (and ANN_DIR, DUP_DIR) as DuckDB views on `con` (a new in-memory one by default)."""
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
    joined = [v for v in ("annotations", "dedup") if v in views]
    if joined:
        joins = " ".join(f"LEFT JOIN {v} USING (id)" for v in joined)
        con.execute(f"CREATE OR REPLACE VIEW corpus AS SELECT * FROM documents {joins}")
        views.append("corpus")
    return Corpus(con, views)
