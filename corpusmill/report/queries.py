"""The report's numbers, aggregated by DuckDB over the Parquet files.

One scan answers the whole composition: documents ⋈ annotations (⋈ token counts) grouped
by `GROUPING SETS` over source, language, domain, safety and education bin, so DuckDB
reads each needed column once and Python only sees a few hundred aggregate rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb

from corpusmill.corpus import Corpus, register_filesystem

# Education value is 0..5; half-point bins, the top bin closed so 5.0 lands in [4.5, 5].
EDU_BIN_WIDTH = 0.5
EDU_MAX = 5.0
DIMENSIONS = ("source", "lang", "domain", "safety", "edu_bin")
MODEL_PREFIXES = ("lang", "edu", "domain", "safety", "q", "n_chars")


@dataclass(frozen=True)
class Group:
    key: str | float | None
    docs: int
    chars: int
    tokens: int


@dataclass
class Composition:
    docs: int
    chars: int
    tokens: int
    tokenized_docs: int  # documents with a token count (the mixer's token sidecar)
    lang_from: str | None  # "annotations", "meta" or None
    by: dict[str, list[Group]] = field(default_factory=dict)
    models: dict[str, list[str]] = field(default_factory=dict)  # label family -> ["name version", ...]


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def columns(con: duckdb.DuckDBPyConnection, view: str) -> set[str]:
    return {row[0] for row in con.execute(f"DESCRIBE {view}").fetchall()}


def _facts_sql(doc_cols: set[str], ann_cols: set[str], with_tokens: bool) -> tuple[str, list[str], str | None]:
    """SELECT of one row per document with the grouping keys; also the dimensions and language origin."""
    ann = bool(ann_cols)
    select = ["d.source AS source"]
    dims = ["source"]
    lang_from = None
    if "lang" in ann_cols:
        select.append("a.lang AS lang")
        lang_from = "annotations"
    elif "meta" in doc_cols:
        # Sources such as SIB-200 carry their language in meta; better than no language at all.
        select.append("json_extract_string(d.meta, '$.lang') AS lang")
        lang_from = "meta"
    if lang_from:
        dims.append("lang")
    for col in ("domain", "safety"):
        if col in ann_cols:
            select.append(f"a.{col} AS {col}")
            dims.append(col)
    if "edu_score" in ann_cols:
        top = EDU_MAX - EDU_BIN_WIDTH
        # CASE, not least(): least() skips NULLs and would put unlabeled documents in the top bin.
        select.append(
            f"CAST(CASE WHEN a.edu_score >= {top} THEN {top} "
            f"ELSE floor(a.edu_score / {EDU_BIN_WIDTH}) * {EDU_BIN_WIDTH} END AS DOUBLE) AS edu_bin"
        )
        dims.append("edu_bin")
    # Annotations' n_chars spares reading the text column; without it DuckDB measures the text.
    select.append("a.n_chars AS n_chars" if "n_chars" in ann_cols else "length(d.text) AS n_chars")
    select.append("t.n_tokens AS n_tokens" if with_tokens else "CAST(NULL AS BIGINT) AS n_tokens")
    joins = "FROM documents d"
    if ann:
        joins += " LEFT JOIN annotations a USING (id)"
    if with_tokens:
        joins += " LEFT JOIN token_counts t USING (id)"
    return f"SELECT {', '.join(select)} {joins}", dims, lang_from


def _file_list(con: duckdb.DuckDBPyConnection, files: Sequence[str]) -> str:
    """A DuckDB list literal of `files`, registering the fsspec filesystem of remote ones on `con`."""
    return "[" + ", ".join(_sql_str(register_filesystem(con, f)) for f in files) + "]"


def _register_tokens(con: duckdb.DuckDBPyConnection, token_files: Sequence[str]) -> None:
    files = _file_list(con, token_files)
    # Only id and n_tokens are read (Parquet projection); max() folds any re-tokenized duplicate.
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW token_counts AS SELECT id, max(n_tokens) AS n_tokens "
        f"FROM read_parquet({files}) GROUP BY id"
    )


def composition(corpus: Corpus, token_files: Sequence[str] = ()) -> Composition:
    """Documents, characters and tokens in total and per source, language, domain, safety, edu bin."""
    con = corpus.con
    ann_cols = columns(con, "annotations") if "annotations" in corpus.views else set()
    if token_files:
        _register_tokens(con, token_files)
    facts, dims, lang_from = _facts_sql(columns(con, "documents"), ann_cols, bool(token_files))
    flags = ", ".join(f"GROUPING({d}) AS g_{d}" for d in dims)
    sets = ", ".join(f"({d})" for d in dims)
    rows = con.execute(
        f"SELECT {', '.join(dims)}, {flags}, count(*) AS docs, coalesce(sum(n_chars), 0) AS chars, "
        f"coalesce(sum(n_tokens), 0) AS tokens, count(n_tokens) AS tokenized "
        f"FROM ({facts}) GROUP BY GROUPING SETS ({sets}, ())"
    ).fetchall()
    n = len(dims)
    comp = Composition(0, 0, 0, 0, lang_from, by={d: [] for d in dims})
    for row in rows:
        keys, flags_, (docs, chars, tokens, tokenized) = row[:n], row[n : 2 * n], row[2 * n :]
        grouped = [d for d, flag in zip(dims, flags_) if flag == 0]
        if not grouped:
            comp.docs, comp.chars, comp.tokens, comp.tokenized_docs = docs, chars, tokens, tokenized
            continue
        dim = grouped[0]
        comp.by[dim].append(Group(keys[dims.index(dim)], int(docs), int(chars), int(tokens)))
    for groups in comp.by.values():
        groups.sort(key=lambda g: (-g.docs, str(g.key)))
    comp.models = label_models(con, ann_cols)
    return comp


def label_models(con: duckdb.DuckDBPyConnection, ann_cols: set[str]) -> dict[str, list[str]]:
    """Which model name and version made each label family (one scan of the provenance columns)."""
    present = [p for p in MODEL_PREFIXES if {f"{p}_model", f"{p}_model_version"} <= ann_cols]
    if not present:
        return {}
    lists = ", ".join(
        f"list(DISTINCT {p}_model || ' ' || coalesce({p}_model_version, '?')) FILTER (WHERE {p}_model IS NOT NULL)"
        for p in present
    )
    row = con.execute(f"SELECT {lists} FROM annotations").fetchall()[0]
    return {p: sorted(v or []) for p, v in zip(present, row)}


@dataclass(frozen=True)
class DeadLetterGroup:
    stage: str
    reason: str
    count: int
    example: str  # one message, so a reader sees what the reason looks like


def dead_letters(con: duckdb.DuckDBPyConnection, files: Sequence[str]) -> list[DeadLetterGroup]:
    """Dead letters of every given file by stage and reason, most frequent first."""
    if not files:
        return []
    listing = _file_list(con, files)
    rows = con.execute(
        f"SELECT stage, reason, count(*) AS n, min(message) AS example "
        f"FROM read_parquet({listing}, union_by_name = true) GROUP BY ALL ORDER BY n DESC, stage, reason"
    ).fetchall()
    return [DeadLetterGroup(str(s), str(r), int(n), str(m or "")) for s, r, n, m in rows]
