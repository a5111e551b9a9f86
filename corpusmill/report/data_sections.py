"""Sections a data team reads before training: distributions, cross tables, funnels, examples.

Lengths and tokens per source, the quality signals and language scores as small multiples,
source x language, languages by tokens (documents behind a toggle), and per stage the gate
funnel, repeats per source, unmet targets and two example documents per bucket. Every number
is one DuckDB aggregate over the Parquet files (or read from a stage's manifest); a section
whose columns are missing is left out.
"""

from __future__ import annotations

from typing import Any

import duckdb

from corpusmill import storage
from corpusmill.corpus import register_filesystem
from corpusmill.report.html import Chart, Kpis, Section, Table
from corpusmill.report.queries import columns
from corpusmill.report.svg import Panel, Series, bar_table, histogram

MAX_SOURCES = 6  # small multiples: the largest sources, by documents
MAX_LANGS = 10
FRACTION_BINS = 10
EXAMPLE_CHARS = 300
CHAR_EDGES = (64, 256, 1024, 4096, 16_384, 65_536, 262_144)
# Token bins meet the stages' lengths: S1/S2 sequences (4K), S3's 16K and 32K bucket edges.
TOKEN_EDGES = (256, 1024, 4096, 16_384, 32_768, 131_072)
SIGNALS = (
    "gate_bad_char_frac",
    "gate_letter_frac",
    "q_alpha_word_frac",
    "q_terminal_punct_line_frac",
    "q_short_line_frac",
    "q_dup_line_frac",
    "q_top_2gram_frac",
    "q_dup_5gram_frac",
)


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _bin_labels(edges: tuple[int, ...]) -> list[str]:
    def k(n: int) -> str:
        return f"{n // 1024}K" if n >= 1024 else str(n)

    return [f"<{k(edges[0])}"] + [f"{k(a)}–{k(b)}" for a, b in zip(edges, edges[1:])] + [f"≥{k(edges[-1])}"]


def _bin_sql(column: str, edges: tuple[int, ...]) -> str:
    whens = " ".join(f"WHEN {column} < {e} THEN {i}" for i, e in enumerate(edges))
    return f"CASE {whens} ELSE {len(edges)} END"


def _small_multiples(titles: list[str], labels: list[str], values: list[list[int]]) -> str:
    return '<div class="multiples">' + "".join(histogram(labels, v, title=t) for t, v in zip(titles, values)) + "</div>"


def _per_source(
    con: duckdb.DuckDBPyConnection, facts: str, column: str, edges: tuple[int, ...]
) -> tuple[list[str], list[list[int]]]:
    rows = con.execute(
        f"WITH f AS ({facts}), top AS (SELECT source FROM f GROUP BY source ORDER BY count(*) DESC, source LIMIT {MAX_SOURCES}) "
        f"SELECT source, {_bin_sql(column, edges)} AS b, count(*) FROM f WHERE {column} IS NOT NULL "
        "AND source IN (SELECT source FROM top) GROUP BY ALL ORDER BY source, b"
    ).fetchall()
    sources = sorted({r[0] for r in rows})
    grid = {s: [0] * (len(edges) + 1) for s in sources}
    for source, b, n in rows:
        grid[source][int(b)] = int(n)
    return sources, [grid[s] for s in sources]


def lengths_section(con: duckdb.DuckDBPyConnection, views: list[str]) -> Section | None:
    has_tokens = "token_counts" in views
    facts = "SELECT d.source, length(d.text) AS n_chars" + (", t.n_tokens" if has_tokens else "")
    facts += " FROM documents d" + (" LEFT JOIN token_counts t USING (id)" if has_tokens else "")
    sources, grid = _per_source(con, facts, "n_chars", CHAR_EDGES)
    if not sources:
        return None
    blocks: list[Chart | Table | Kpis] = [
        Chart(
            "length_chars",
            "Document length in characters, per source (documents per bin)",
            _small_multiples(sources, _bin_labels(CHAR_EDGES), grid),
            f"The {MAX_SOURCES} largest sources.",
        )
    ]
    if has_tokens:
        sources, grid = _per_source(con, facts, "n_tokens", TOKEN_EDGES)
        blocks.append(
            Chart(
                "length_tokens",
                "Document length in tokens, per source (documents per bin)",
                _small_multiples(sources, _bin_labels(TOKEN_EDGES), grid),
                "Bins meet the stages: 4K (S1/S2 sequences), 16K and 32K (S3 buckets; longer documents become windows).",
            )
        )
    return Section("lengths", "Lengths", blocks=blocks)


def _fraction_hist(con: duckdb.DuckDBPyConnection, column: str) -> list[int]:
    rows = con.execute(
        f"SELECT least(CAST(floor({column} * {FRACTION_BINS}) AS INTEGER), {FRACTION_BINS - 1}) AS b, count(*) "
        f"FROM annotations WHERE {column} IS NOT NULL GROUP BY b"
    ).fetchall()
    out = [0] * FRACTION_BINS
    for b, n in rows:
        out[max(0, int(b))] += int(n)
    return out


FRACTION_LABELS = [f".{i}" for i in range(FRACTION_BINS)]


def signals_section(con: duckdb.DuckDBPyConnection, views: list[str]) -> Section | None:
    if "annotations" not in views:
        return None
    ann = columns(con, "annotations")
    blocks: list[Chart | Table | Kpis] = []
    present: list[str] = [c for c in SIGNALS if c in ann]
    if present:
        svg = _small_multiples(present, FRACTION_LABELS, [_fraction_hist(con, c) for c in present])
        blocks.append(
            Chart(
                "quality_signals",
                "Quality signals (0–1): documents per tenth",
                svg,
                "Bins start at the label: .3 holds 0.3 ≤ x < 0.4; 1.0 lands in .9.",
            )
        )
    scores: list[str] = [c for c in ("lang_score", "lang_mix") if c in ann and _numeric(con, c)]
    if scores:
        svg = _small_multiples(scores, FRACTION_LABELS, [_fraction_hist(con, c) for c in scores])
        note = (
            "" if "lang_mix" in scores else "No numeric lang_mix column in these annotations (a newer lang_id adds it)."
        )
        blocks.append(Chart("lang_scores", "Language-ID confidence: documents per tenth", svg, note))
    return Section("signals", "Quality signals", blocks=blocks) if blocks else None


def _numeric(con: duckdb.DuckDBPyConnection, column: str) -> bool:
    kind = con.execute(f"SELECT typeof({column}) FROM annotations LIMIT 1").fetchall()
    return bool(kind) and str(kind[0][0]).upper() in ("FLOAT", "DOUBLE", "DECIMAL", "REAL")


def crosstab_section(con: duckdb.DuckDBPyConnection, views: list[str]) -> Section | None:
    """Source x language (documents), and languages sorted by tokens with documents behind a toggle."""
    if "corpus" not in views or "lang" not in columns(con, "corpus"):
        return None
    has_tokens = "n_tokens" in columns(con, "corpus")
    rows = con.execute(
        "SELECT source, coalesce(lang, '(none)') AS lang, count(*), "
        + ("coalesce(sum(n_tokens), 0)" if has_tokens else "sum(length(text))")
        + " FROM corpus GROUP BY ALL"
    ).fetchall()
    per_lang: dict[str, list[int]] = {}
    for _, lang, n, t in rows:
        per_lang.setdefault(lang, [0, 0])
        per_lang[lang][0] += int(n)
        per_lang[lang][1] += int(t)
    top = [lang for lang, _ in sorted(per_lang.items(), key=lambda kv: (-kv[1][1], kv[0]))[:MAX_LANGS]]
    sources = sorted({r[0] for r in rows})
    cells = {(s, lang): int(n) for s, lang, n, _ in rows}
    table_rows = [
        [
            s,
            *[cells.get((s, lang), 0) for lang in top],
            sum(n for (s2, lang), n in cells.items() if s2 == s and lang not in top),
        ]
        for s in sources
    ]
    unit = "tokens" if has_tokens else "characters"
    blocks: list[Chart | Table | Kpis] = [
        Table(
            "source_lang",
            ["source", *top, "other"],
            table_rows,
            f"Documents per source and language; the {MAX_LANGS} languages with the most {unit}.",
        )
    ]
    by_tokens = sorted(per_lang.items(), key=lambda kv: (-kv[1][1], kv[0]))
    by_docs = sorted(per_lang.items(), key=lambda kv: (-kv[1][0], kv[0]))

    def chart(order: list[tuple[str, list[int]]]) -> str:
        labels = [lang for lang, _ in order]
        return bar_table(
            labels,
            [
                Panel(unit, [Series(unit, [v[1] for _, v in order])]),
                Panel("documents", [Series("documents", [v[0] for _, v in order])]),
            ],
        )

    svg = chart(by_tokens) + f"<details><summary>sorted by documents</summary>{chart(by_docs)}</details>"
    blocks.append(Chart("lang_by_tokens", f"Languages sorted by {unit}", svg, "Open the toggle to sort by documents."))
    return Section("crosstab", "Sources and languages", blocks=blocks)


def stage_data_section(
    con: duckdb.DuckDBPyConnection, manifest: dict[str, Any], stage_dir: str | None
) -> Section | None:
    """Gate funnel, repeats per source, unmet targets and example documents of one stage."""
    stage = str(manifest.get("stage", "stage"))
    blocks: list[Chart | Table | Kpis] = []
    funnel = manifest.get("funnel")
    if funnel:
        steps = [("candidates", funnel["candidates"])]
        steps += [(f"− {g}", v) for g, v in funnel.get("removed_by_gate", {}).items()]
        steps += [("pass the gates", funnel["passed_gates"]), ("− in no bucket", funnel["in_no_bucket"])]
        totals = manifest.get("totals", {})
        steps.append(("selected (instances)", {"units": totals.get("instances", 0), "tokens": totals.get("tokens", 0)}))
        labels = [s for s, _ in steps]
        svg = bar_table(
            labels,
            [
                Panel("units", [Series("units", [v["units"] for _, v in steps])]),
                Panel("tokens", [Series("tokens", [v["tokens"] for _, v in steps])]),
            ],
        )
        blocks.append(
            Chart(
                f"stage-{stage}-funnel",
                f"{stage}: filter funnel (units: documents or windows)",
                svg,
                "Each gate is charged with the units it removes first; selected counts repeats.",
            )
        )
    by_source = manifest.get("by_source") or {}
    if by_source:
        rows = [
            [s, v["documents"], v["instances"], round(v["instances"] / max(v["documents"], 1), 3), v["tokens"]]
            for s, v in sorted(by_source.items())
        ]
        blocks.append(
            Table(
                f"stage-{stage}-repeats",
                ["source", "documents", "instances", "uses per document", "tokens"],
                rows,
                "Instances above documents are repeats (capped per bucket by max_repeats).",
            )
        )
    unmet = [b for b in manifest.get("buckets") or [] if b.get("status") != "ok"]
    blocks.append(
        Table(
            f"stage-{stage}-unmet",
            ["bucket", "status", "target tokens", "planned tokens", "deviation"],
            [[b["name"], b["status"], b.get("target_tokens"), b.get("tokens"), b.get("deviation")] for b in unmet],
            "Every bucket met its target within ±0.5%." if not unmet else "Buckets whose target was not met.",
        )
    )
    examples = _examples(con, stage_dir) if stage_dir else []
    if examples:
        blocks.append(
            Table(
                f"stage-{stage}-examples",
                ["bucket", "document", "first 300 characters"],
                examples,
                "Two documents per bucket (the smallest ids placed in the shards).",
            )
        )
    return Section(f"stage-{stage}-data", f"Stage {stage}: funnel and examples", blocks=blocks)


def _examples(con: duckdb.DuckDBPyConnection, stage_dir: str) -> list[list[object]]:
    files = storage.expand(storage.join(stage_dir, "*.provenance.parquet"))
    if not files:
        return []
    listed = "[" + ", ".join(_q(register_filesystem(con, f)) for f in files) + "]"
    rows = con.execute(
        f"WITH p AS (SELECT DISTINCT bucket, id FROM read_parquet({listed})), "
        "r AS (SELECT bucket, id, row_number() OVER (PARTITION BY bucket ORDER BY id) AS k FROM p) "
        f"SELECT r.bucket, r.id, substr(d.text, 1, {EXAMPLE_CHARS}) FROM r JOIN documents d USING (id) "
        "WHERE k <= 2 ORDER BY r.bucket, r.id"
    ).fetchall()
    return [[b, i, t] for b, i, t in rows]


def corpus_sections(corpus: Any) -> list[Section | None]:
    con, views = corpus.con, corpus.views
    return [lengths_section(con, views), signals_section(con, views), crosstab_section(con, views)]
