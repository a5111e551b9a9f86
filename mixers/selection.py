"""Recipe SQL against the corpus, in DuckDB: validation before any work, then bucket members.

The mixer's view is `mix_corpus` = the `corpus` view (documents LEFT JOIN annotations)
restricted to annotated documents, plus `n_tokens` from the token-count sidecar. Before the
token pass exists, `mix_probe` stands in (same columns, `n_tokens` typed but empty), so an
unknown column or bad SQL in a recipe fails before anything is tokenized.

A stage selects units from `mix_units`: one row per document, except that a packed stage
which splits long documents has one row per window of each document too long for its
sequences (`mixers/windows.py`). There `n_tokens` is the unit's own tokens and
`doc_n_tokens` its document's; `_part`, `_start` and `_length` say which tokens it places.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from corpusmill.corpus import (
    Corpus,
    register_filesystem,  # the token sidecar may live on gs://, s3://...
)
from corpusmill.errors import ConfigError
from corpusmill.mixers import windows
from corpusmill.mixers.gates import Gate, first_gate_sql, passes_sql
from corpusmill.mixers.recipe import LONG_SPLIT, PACKING_PACK, Recipe, Stage

MIX_VIEW = "mix_corpus"
PROBE_VIEW = "mix_probe"
TOKENS_VIEW = "mix_tokens"
UNITS_VIEW = "mix_units"
WINDOWS_TABLE = "_mix_windows"
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
    corpus.con.execute(
        f"CREATE OR REPLACE VIEW {PROBE_VIEW} AS SELECT {cols}, NULL::BIGINT AS n_tokens, "
        "NULL::BIGINT AS doc_n_tokens FROM corpus"
    )


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
    """Every stage filter, gate, bucket condition and weight must plan against the corpus view."""
    create_probe_view(corpus)
    gate_checks = [(f"gate {g.name}", g.where, "BOOLEAN") for g in recipe.gates]
    for stage in recipe.stages:
        checks = [(f"stage {stage.name} where", stage.where, "BOOLEAN"), *gate_checks]
        for b in stage.buckets:
            checks.append((f"stage {stage.name} bucket {b.name} where", b.where, "BOOLEAN"))
            checks.append((f"stage {stage.name} bucket {b.name} weight", b.weight_sql, "DOUBLE"))
        for what, sql, kind in checks:
            _one_expression(sql, what)
            try:
                corpus.con.execute(f"EXPLAIN SELECT CAST(({sql}) AS {kind}) FROM {PROBE_VIEW}")
            except duckdb.Error as exc:
                first = str(exc).strip().splitlines()[0]
                hint = (
                    " (the default gates read the `gates` annotator's columns: run annotate with it)"
                    if what.startswith("gate")
                    else ""
                )
                raise ConfigError(f"{what}: {sql!r} does not work on the corpus view: {first}{hint}") from None


_N_TOKENS = re.compile(r"\b(doc_)?n_tokens\b", re.IGNORECASE)


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
            f"AND {passes_sql(recipe.gates)} "
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
    con.execute(f"CREATE OR REPLACE VIEW {TOKENS_VIEW} AS SELECT id, n_tokens, breaks FROM read_parquet({files})")
    cols = _corpus_minus_tokens(con)
    con.execute(
        f"CREATE OR REPLACE VIEW {MIX_VIEW} AS SELECT {cols}, t.n_tokens, t.n_tokens AS doc_n_tokens FROM corpus "
        f"JOIN {TOKENS_VIEW} t USING (id) SEMI JOIN annotations USING (id)"
    )


def splits_long_documents(stage: Stage) -> bool:
    return stage.packing == PACKING_PACK and stage.long_documents == LONG_SPLIT


def create_units_view(corpus: Corpus, stage: Stage) -> pa.Table:
    """`mix_units` for `stage` (see the module docstring); returns the windows it cut."""
    con = corpus.con
    cut = windows.windows([], [], [], stage.seq_len)
    if splits_long_documents(stage):
        # Only documents too long for a sequence are read with their break offsets.
        long_docs = con.sql(
            f"SELECT id, n_tokens, breaks FROM {TOKENS_VIEW} WHERE n_tokens + 1 > {int(stage.seq_len)} "
            f"AND id IN (SELECT id FROM {MIX_VIEW}) ORDER BY id"
        ).to_arrow_table()
        cut = windows.windows(
            long_docs.column("id").to_pylist(),
            long_docs.column("n_tokens").to_pylist(),
            long_docs.column("breaks").to_pylist(),
            stage.seq_len,
        )
    con.register(WINDOWS_TABLE, cut)
    con.execute(
        f"CREATE OR REPLACE VIEW {UNITS_VIEW} AS SELECT m.* EXCLUDE (n_tokens), "
        "coalesce(w.n_tokens, m.n_tokens) AS n_tokens, coalesce(w.part, 0) AS _part, "
        "coalesce(w.start, 0) AS _start, coalesce(w.length, m.n_tokens + 1) AS _length "
        f"FROM {MIX_VIEW} m LEFT JOIN {WINDOWS_TABLE} w USING (id)"
    )
    return cut


@dataclass(frozen=True)
class Funnel:
    """Units of a stage from its filter to its buckets: what each gate removed, per bucket too."""

    candidates: tuple[int, int]  # (units, tokens) passing the stage filter
    removed: dict[str, tuple[int, int]]  # gate -> (units, tokens) it removed first
    bucket_before: dict[str, tuple[int, int]]  # bucket -> matching units before the gates
    bucket_removed: dict[str, dict[str, int]]  # bucket -> gate -> units it removed
    unbucketed: tuple[int, int]  # passing every gate but matching no bucket

    @property
    def passed(self) -> tuple[int, int]:
        gone = [sum(x) for x in zip(*self.removed.values())] if self.removed else [0, 0]
        return self.candidates[0] - gone[0], self.candidates[1] - gone[1]

    def to_dict(self) -> dict[str, object]:
        return {
            "candidates": {"units": self.candidates[0], "tokens": self.candidates[1]},
            "removed_by_gate": {g: {"units": n, "tokens": t} for g, (n, t) in self.removed.items()},
            "passed_gates": {"units": self.passed[0], "tokens": self.passed[1]},
            "in_no_bucket": {"units": self.unbucketed[0], "tokens": self.unbucketed[1]},
            "bucket_before_gates": {b: {"units": n, "tokens": t} for b, (n, t) in self.bucket_before.items()},
            "bucket_removed_by_gate": self.bucket_removed,
        }


def stage_funnel(corpus: Corpus, stage: Stage, gates: tuple[Gate, ...]) -> Funnel:
    """Counts of the stage's units through the gates, from `mix_units`."""
    case = " ".join(f"WHEN ({b.where}) THEN {i}" for i, b in enumerate(stage.buckets))
    rows = corpus.con.execute(
        f"SELECT CASE {case} END AS b, {first_gate_sql(gates)} AS g, count(*), coalesce(sum(_length), 0) "
        f"FROM {UNITS_VIEW} WHERE coalesce(({stage.where}), FALSE) GROUP BY b, g"
    ).fetchall()
    names = [b.name for b in stage.buckets]
    removed = {g.name: (0, 0) for g in gates}
    before = {n: (0, 0) for n in names}
    by_bucket: dict[str, dict[str, int]] = {n: {} for n in names}
    total = [0, 0]
    unbucketed = [0, 0]
    for b, g, n, t in rows:
        total[0] += n
        total[1] += int(t)
        if g is not None:
            removed[g] = (removed[g][0] + n, removed[g][1] + int(t))
        if b is not None:
            name = names[b]
            before[name] = (before[name][0] + n, before[name][1] + int(t))
            if g is not None:
                by_bucket[name][g] = by_bucket[name].get(g, 0) + n
        elif g is None:
            unbucketed = [unbucketed[0] + n, unbucketed[1] + int(t)]
    return Funnel((total[0], total[1]), removed, before, by_bucket, (unbucketed[0], unbucketed[1]))


def corpus_language_shares(corpus: Corpus, stage: Stage, gates: tuple[Gate, ...]) -> dict[str, float]:
    """Token share of each language among the stage's units that pass its filter and gates."""
    if "lang" not in view_columns(corpus.con, UNITS_VIEW):
        return {}
    rows = corpus.con.execute(
        f"SELECT coalesce(CAST(lang AS VARCHAR), '(none)'), sum(_length) FROM {UNITS_VIEW} "
        f"WHERE coalesce(({stage.where}), FALSE) AND {passes_sql(gates)} GROUP BY 1"
    ).fetchall()
    total = float(sum(int(t) for _, t in rows)) or 1.0
    return {lang: int(t) / total for lang, t in sorted(rows)}


def select_stage(corpus: Corpus, stage: Stage, gates: tuple[Gate, ...] = ()) -> pa.Table:
    """Candidate units of a stage that pass its gates: id, part, start, length, n_tokens,
    bucket (index of the first matching bucket), weight, labels (needs `mix_units`)."""
    bucket_case = " ".join(f"WHEN ({b.where}) THEN {i}" for i, b in enumerate(stage.buckets))
    weight_case = " ".join(
        f"WHEN {i} THEN greatest(coalesce(CAST(({b.weight_sql}) AS DOUBLE), 0), 0)" for i, b in enumerate(stage.buckets)
    )
    present = set(view_columns(corpus.con, UNITS_VIEW))
    labels = ", ".join(
        f"CAST({c} AS VARCHAR) AS {c}" if c in present else f"NULL::VARCHAR AS {c}" for c in STAT_COLUMNS
    )
    query = f"""
        WITH candidates AS (
            SELECT *, CASE {bucket_case} END AS _bucket FROM {UNITS_VIEW}
            WHERE coalesce(({stage.where}), FALSE) AND {passes_sql(gates)}
        )
        SELECT id, CAST(_part AS INTEGER) AS part, CAST(_start AS BIGINT) AS start, CAST(_length AS BIGINT) AS length,
               n_tokens, CAST(_bucket AS INTEGER) AS bucket, CASE _bucket {weight_case} END AS weight, {labels}
        FROM candidates WHERE _bucket IS NOT NULL ORDER BY id, part
    """
    try:
        return corpus.sql(query).to_arrow_table()
    except duckdb.Error as exc:
        raise ConfigError(f"stage {stage.name}: selection failed: {str(exc).splitlines()[0]}") from None
