"""The report's near-duplicate section, from the dedup sidecar joined into the corpus."""

from __future__ import annotations

import duckdb

from corpusmill.report.html import Chart, Kpis, Section, Table
from corpusmill.report.svg import histogram

SIZE_BINS = ((2, 2, "2"), (3, 4, "3–4"), (5, 9, "5–9"), (10, 99, "10–99"), (100, 999, "100–999"), (1000, None, "≥1000"))
EXAMPLE_CHARS = 240
MAX_ROWS = 40


def _rate_rows(con: duckdb.DuckDBPyConnection, key_sql: str) -> list[list[object]]:
    rows = con.sql(
        f"SELECT {key_sql} AS k, count(*) AS docs, count(*) FILTER (WHERE NOT dup_keep) AS dups, "
        "count(*) FILTER (WHERE dup_rule = 'no_signature') AS unsigned "
        "FROM corpus WHERE dup_keep IS NOT NULL GROUP BY 1 ORDER BY dups DESC, docs DESC, k"
    ).fetchall()
    out = [
        [k if k is not None else "(none)", docs, dups, f"{dups / docs:.1%}", unsigned]
        for k, docs, dups, unsigned in rows
    ]
    return out[:MAX_ROWS]


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXAMPLE_CHARS else text[:EXAMPLE_CHARS] + "…"


def _examples(con: duckdb.DuckDBPyConnection) -> list[list[object]]:
    """The kept document and the least similar member of the two largest clusters."""
    clusters = con.sql(
        "SELECT dup_cluster, any_value(dup_cluster_size) AS n FROM corpus WHERE dup_cluster_size > 1 "
        "GROUP BY 1 ORDER BY n DESC, dup_cluster LIMIT 2"
    ).fetchall()
    rows: list[list[object]] = []
    for cluster, size in clusters:
        members = con.execute(
            "SELECT id, source, dup_keep, dup_jaccard_est, text FROM corpus WHERE dup_cluster = ? "
            "ORDER BY dup_keep DESC, dup_jaccard_est, id LIMIT 2",
            [cluster],
        ).fetchall()
        for doc_id, source, keep, est, text in members:
            rows.append(
                [
                    cluster,
                    size,
                    doc_id,
                    source,
                    "kept" if keep else "duplicate",
                    None if est is None else round(est, 3),
                    _snippet(text),
                ]
            )
    return rows


def dedup_section(con: duckdb.DuckDBPyConnection, lang_sql: str | None) -> Section | None:
    """Duplicate rate per source and language, cluster sizes, two example clusters.
    `con` has a `corpus` view holding the dedup columns; `lang_sql` is the language expression."""
    docs, dups, clustered, clusters, unsigned, fallback = con.sql(
        "SELECT count(*), count(*) FILTER (WHERE NOT dup_keep), count(*) FILTER (WHERE dup_cluster_size > 1), "
        "count(DISTINCT dup_cluster) FILTER (WHERE dup_cluster_size > 1), "
        "count(*) FILTER (WHERE dup_rule = 'no_signature'), count(*) FILTER (WHERE dup_rule = 'first_fallback') "
        "FROM corpus WHERE dup_keep IS NOT NULL"
    ).fetchall()[0]
    if not docs:
        return None
    model = con.sql(
        "SELECT DISTINCT dup_model || ' ' || dup_model_version FROM corpus WHERE dup_model IS NOT NULL"
    ).fetchall()
    section = Section(
        "dedup",
        "Near-duplicates",
        intro=(
            f"MinHash-LSH clusters ({', '.join(m[0] for m in model)}): `dup_keep` marks one document per cluster; "
            "recipes select `WHERE dup_keep`."
        ),
    )
    section.blocks.append(
        Kpis(
            [
                ("documents", f"{docs:,}"),
                ("near-duplicates removed", f"{dups:,} ({dups / docs:.1%})"),
                ("clusters", f"{clusters:,} ({clustered:,} documents)"),
                ("no signature (too short)", f"{unsigned:,}"),
                ("keep rule fell back to first", f"{fallback:,}"),
            ]
        )
    )
    headers = ["docs", "duplicates", "duplicate rate", "no signature"]
    section.blocks.append(Table("dedup_by_source", ["source", *headers], _rate_rows(con, "source")))
    if lang_sql:
        section.blocks.append(Table("dedup_by_lang", ["language", *headers], _rate_rows(con, lang_sql)))
    counts = []
    for lo, hi, _ in SIZE_BINS:
        cond = f"dup_cluster_size >= {lo}" + (f" AND dup_cluster_size <= {hi}" if hi else "")
        counts.append(con.sql(f"SELECT count(DISTINCT dup_cluster) FROM corpus WHERE {cond}").fetchall()[0][0])
    section.blocks.append(
        Chart(
            "dedup_cluster_sizes",
            "Clusters by size (documents per cluster)",
            histogram([b[2] for b in SIZE_BINS], counts, title="clusters"),
        )
    )
    examples = _examples(con)
    if examples:
        section.blocks.append(
            Table(
                "dedup_examples",
                ["cluster", "size", "id", "source", "role", "Jaccard est. vs kept", "text"],
                examples,
                note="The two largest clusters: the kept document and its least similar member.",
            )
        )
    return section
