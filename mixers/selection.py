"""Recipe SQL against the corpus, in DuckDB: validation before any work, then bucket members.

The mixer's view is `mix_corpus` = the `corpus` view (documents LEFT JOIN annotations)
restricted to annotated documents, plus `n_tokens` from the token-count sidecar. Before the
token pass exists, `mix_probe` stands in (same columns, `n_tokens` typed but empty), so an
unknown column or bad SQL in a recipe fails before anything is tokenized.
"""

from __future__ import annotations

import re

import duckdb
import pyarrow as pa

from corpusmill.corpus import (
    Corpus,
    register_filesystem,  # the token sidecar may live on gs://, s3://...
)
from corpusmill.errors import ConfigError
from corpusmill.mixers.recipe import Recipe, Stage

MIX_VIEW = "mix_corpus"
PROBE_VIEW = "mix_probe"
TOKENS_VIEW = "mix_tokens"
# Label columns carried into the manifest's per-language / per-domain / per-source counts.
STAT_COLUMNS = ("lang", "domain", "source")


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def view_columns(con: duckdb.DuckDBPyConnection, view: str) -> list[str]:
    return [row[0] for row in con.execute(f"DESCRIBE {view}").fetchall()]


def _corpus_minus_tokens(con: duckdb.DuckDBPyConnection) -> str:
    # An annotator may already store `n_tokens`; ours (stage tokenizer) wins.
    return "corpus.* EXCLUDE (n_tokens)" if "n_tokens" in view_columns(con, "corpus") else "corpus.*"


def create_probe_view(corpus: Corpus) -> None:
    if "corpus" not in corpus.views:
        raise ConfigError("the mixer needs annotations: pass --annotations ANN_DIR")
    cols = _corpus_minus_tokens(corpus.con)
    corpus.con.execute(f"CREATE OR REPLACE VIEW {PROBE_VIEW} AS SELECT {cols}, NULL::BIGINT AS n_tokens FROM corpus")


def _one_expression(sql: str, what: str) -> None:
    # A condition is spliced into a query: refuse anything that would end it and start another.
    probe = f"SELECT ({sql})"
    try:
        statements = duckdb.extract_statements(probe)
    except duckdb.Error as exc:
        raise ConfigError(f"{what}: bad SQL {sql!r}: {exc}") from None
    if len(statements) != 1:
        raise ConfigError(f"{what}: {sql!r} must be one SQL expression")


def validate_sql(corpus: Corpus, recipe: Recipe) -> None:
    """Every stage filter, bucket condition and weight must plan against the corpus view."""
    create_probe_view(corpus)
    for stage in recipe.stages:
        checks = [(f"stage {stage.name} where", stage.where, "BOOLEAN")]
        for b in stage.buckets:
            checks.append((f"stage {stage.name} bucket {b.name} where", b.where, "BOOLEAN"))
            checks.append((f"stage {stage.name} bucket {b.name} weight", b.weight_sql, "DOUBLE"))
        for what, sql, kind in checks:
            _one_expression(sql, what)
            try:
                corpus.con.execute(f"EXPLAIN SELECT CAST(({sql}) AS {kind}) FROM {PROBE_VIEW}")
            except duckdb.Error as exc:
                first = str(exc).strip().splitlines()[0]
                raise ConfigError(f"{what}: {sql!r} does not work on the corpus view: {first}") from None


_N_TOKENS = re.compile(r"\bn_tokens\b", re.IGNORECASE)


def empty_buckets(corpus: Corpus, recipe: Recipe) -> list[str]:
    """Buckets no document can match, found before any tokenizing (needs `mix_probe`).

    `n_tokens` is unknown here (NULL), so a condition on it matches nothing: such buckets are
    not judged, and the counts of the buckets after them are upper bounds, which is enough to
    prove a bucket empty. A stage whose filter uses `n_tokens` is not judged at all.
    """
    found = []
    for stage in recipe.stages:
        if _N_TOKENS.search(stage.where):
            continue
        case = " ".join(f"WHEN ({b.where}) THEN {i}" for i, b in enumerate(stage.buckets))
        rows = corpus.con.execute(
            f"SELECT CASE {case} END AS b, count(*) FROM {PROBE_VIEW} WHERE coalesce(({stage.where}), FALSE) "
            "AND id IN (SELECT id FROM annotations) GROUP BY b"
        ).fetchall()
        counts = {b: n for b, n in rows}
        found += [
            f"stage {stage.name} bucket {b.name}: no document matches ({b.where})"
            for i, b in enumerate(stage.buckets)
            if not _N_TOKENS.search(b.where) and counts.get(i, 0) == 0
        ]
    return found


def missing_annotations(corpus: Corpus) -> pa.Table:
    """Documents with no annotation row: (id, uri)."""
    return corpus.sql("SELECT id, uri FROM documents ANTI JOIN annotations USING (id) ORDER BY id").to_arrow_table()


def check_unique_ids(corpus: Corpus) -> None:
    """One row per id in documents and in annotations, or a document would be counted twice."""
    for view, fix in (
        ("documents", "deduplicate before mixing"),
        ("annotations", "keep one annotation row per document"),
    ):
        n, distinct = corpus.con.execute(f"SELECT count(*), count(DISTINCT id) FROM {view}").fetchall()[0]
        if n != distinct:
            raise ConfigError(f"{view} hold {n - distinct} duplicate ids; {fix}")


def create_mix_view(corpus: Corpus, token_files: list[str]) -> None:
    """`mix_corpus`: annotated documents with `n_tokens` from the token sidecar files."""
    con = corpus.con
    files = "[" + ", ".join(_q(register_filesystem(con, f)) for f in token_files) + "]"
    con.execute(f"CREATE OR REPLACE VIEW {TOKENS_VIEW} AS SELECT id, n_tokens FROM read_parquet({files})")
    cols = _corpus_minus_tokens(con)
    con.execute(
        f"CREATE OR REPLACE VIEW {MIX_VIEW} AS SELECT {cols}, t.n_tokens FROM corpus "
        f"JOIN {TOKENS_VIEW} t USING (id) SEMI JOIN annotations USING (id)"
    )


def select_stage(corpus: Corpus, stage: Stage) -> pa.Table:
    """Candidates of a stage: id, n_tokens, bucket (index of the first matching bucket), weight, labels."""
    bucket_case = " ".join(f"WHEN ({b.where}) THEN {i}" for i, b in enumerate(stage.buckets))
    weight_case = " ".join(
        f"WHEN {i} THEN greatest(coalesce(CAST(({b.weight_sql}) AS DOUBLE), 0), 0)" for i, b in enumerate(stage.buckets)
    )
    present = set(view_columns(corpus.con, MIX_VIEW))
    labels = ", ".join(
        f"CAST({c} AS VARCHAR) AS {c}" if c in present else f"NULL::VARCHAR AS {c}" for c in STAT_COLUMNS
    )
    query = f"""
        WITH candidates AS (
            SELECT *, CASE {bucket_case} END AS _bucket FROM {MIX_VIEW} WHERE coalesce(({stage.where}), FALSE)
        )
        SELECT id, n_tokens, CAST(_bucket AS INTEGER) AS bucket,
               CASE _bucket {weight_case} END AS weight, {labels}
        FROM candidates WHERE _bucket IS NOT NULL ORDER BY id
    """
    try:
        return corpus.sql(query).to_arrow_table()
    except duckdb.Error as exc:
        raise ConfigError(f"stage {stage.name}: selection failed: {str(exc).splitlines()[0]}") from None
