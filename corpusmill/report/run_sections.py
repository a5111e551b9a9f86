"""Sections about what the jobs did: mixed stages, dead letters, PDF routes, LLM usage, runs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

from corpusmill.languages import qwen3_languages
from corpusmill.report.corpus_sections import amount, measure
from corpusmill.report.html import Chart, Kpis, Section, Table
from corpusmill.report.inputs import RunSummary
from corpusmill.report.queries import Composition, DeadLetterGroup
from corpusmill.report.svg import Panel, Series, bar_table, exact_percent, human, percent

MAX_STAGE_ROWS = 40
ROUTE_NAMES = {"text": "text layer", "ocr": "OCR", "failed": "failed"}
LEDGER_KEYS = {"requests", "prompt_tokens", "completion_tokens"}
LEDGER_COLUMNS = (
    "requests",
    "responses",
    "failures",
    "retries",
    "cache_hits",
    "prompt_tokens",
    "completion_tokens",
    "seconds",
)


def _shares(counts: dict[str, float]) -> dict[str, float]:
    total = sum(counts.values()) or 1
    return {k: v / total for k, v in counts.items()}


def _bucket_blocks(stage: str, buckets: list[dict[str, Any]]) -> list[Chart | Table]:
    names = [str(b.get("name")) for b in buckets]
    planned = Series("in shards", [b.get("tokens") or 0 for b in buckets])
    target = Series("target", [b.get("target_tokens") for b in buckets])
    chart = Chart(
        f"stage-{stage}-buckets",
        f"{stage}: tokens per bucket vs the recipe's target",
        bar_table(names, [Panel("tokens", [planned, target])]),
        "A bucket without a target bar is weight-only (no share in the recipe).",
    )
    rows = [
        [
            b.get("name"),
            b.get("target_tokens"),
            b.get("tokens"),
            b.get("deviation"),
            b.get("documents_used"),
            b.get("documents"),
            b.get("instances"),
            b.get("max_repeats"),
            b.get("status"),
        ]
        for b in buckets
    ]
    table = Table(
        f"stage-{stage}-bucket-table",
        [
            "bucket",
            "target tokens",
            "tokens",
            "deviation",
            "documents used",
            "candidates",
            "instances",
            "max repeats",
            "status",
        ],
        rows,
    )
    return [chart, table]


def _share_chart(
    key: str,
    title: str,
    stage_counts: dict[str, Any],
    corpus: dict[str, float],
    names: dict[str, str],
    corpus_label: str,
) -> Chart:
    """The stage's token share per key beside the corpus' share: what the mixture re-weights."""
    stage_tokens = {k: float(v.get("tokens", 0)) for k, v in stage_counts.items()}
    stage_share, corpus_share = _shares(stage_tokens), _shares(corpus)
    keys = sorted(stage_share, key=lambda k: (-stage_share[k], k))[:MAX_STAGE_ROWS]
    labels = [names.get(k, k) for k in keys]
    series = [Series("stage", [stage_share[k] for k in keys])]
    if corpus:
        series.append(Series(corpus_label, [corpus_share.get(k, 0.0) for k in keys]))
    more = len(stage_share) - len(keys)
    note = f"{more} smaller rows not shown." if more > 0 else ""
    return Chart(
        key, title, bar_table(labels, [Panel("share of tokens", series, percent, exact_percent)], label_w=230), note
    )


def _corpus_shares(comp: Composition | None, dim: str) -> dict[str, float]:
    if comp is None or dim not in comp.by:
        return {}
    return {("(none)" if g.key is None else str(g.key)): float(amount(comp, g)) for g in comp.by[dim]}


def stage_section(manifest: dict[str, Any], comp: Composition | None) -> Section:
    stage = str(manifest.get("stage", "stage"))
    totals = manifest.get("totals", {})
    budget = manifest.get("budget_tokens")
    items = [
        ("sequence length", f"{manifest.get('seq_len', '?'):,}" if isinstance(manifest.get("seq_len"), int) else "?"),
        ("packing", str(manifest.get("packing", "?"))),
        ("tokens", human(totals.get("tokens", 0))),
        ("budget", human(budget) if budget else "?"),
        ("documents", f"{totals.get('documents', 0):,}"),
        ("sequences", f"{totals.get('sequences', 0):,}"),
        ("padding", percent(totals.get("padding_ratio", 0.0))),
    ]
    section = Section(f"stage-{stage}", f"Stage {stage}", blocks=[Kpis(items)])
    unmet = manifest.get("unmet") or []
    if unmet:
        section.intro = "Unmet targets: " + "; ".join(map(str, unmet))
    section.blocks += _bucket_blocks(stage, list(manifest.get("buckets") or []))
    names = {lang.code: f"{lang.name} · {lang.code}" for lang in qwen3_languages()}
    corpus_label = f"corpus ({measure(comp)})" if comp else "corpus"
    for dim, what in (("lang", "language"), ("domain", "domain")):
        counts = manifest.get(f"by_{dim}") or {}
        if counts:
            section.blocks.append(
                _share_chart(
                    f"stage-{stage}-{dim}",
                    f"{stage}: share of tokens by {what}, stage vs corpus",
                    counts,
                    _corpus_shares(comp, dim),
                    names,
                    corpus_label,
                )
            )
    return section


def dead_letters_section(groups: Sequence[DeadLetterGroup], n_files: int) -> Section:
    labels = [f"{g.stage} · {g.reason}" for g in groups]
    total = sum(g.count for g in groups)
    section = Section(
        "dead-letters", "Dead letters", f"{total:,} records in {n_files} dead-letter file(s), by stage and reason."
    )
    if groups:
        section.blocks.append(
            Chart(
                "dead_letters",
                "Dead letters by stage and reason",
                bar_table(labels, [Panel("records", [Series("records", [g.count for g in groups])])], label_w=280),
            )
        )
        section.blocks.append(
            Table(
                "dead_letter_table",
                ["stage", "reason", "records", "example message"],
                [[g.stage, g.reason, g.count, g.example[:300]] for g in groups],
            )
        )
    return section


def pdf_section(summaries: Sequence[RunSummary]) -> Section | None:
    runs = [s for s in summaries if isinstance(s.data.get("routes"), dict)]
    if not runs:
        return None
    routes: Counter[str] = Counter()
    for s in runs:
        routes.update({k: int(v) for k, v in s.data["routes"].items()})
    keys = sorted(routes, key=lambda k: (-routes[k], k))
    chart = Chart(
        "pdf_routes",
        "PDF pages by route: text layer vs OCR",
        bar_table(
            [ROUTE_NAMES.get(k, k) for k in keys], [Panel("pages", [Series("pages", [routes[k] for k in keys])])]
        ),
    )
    rows = [
        [
            s.path,
            s.data.get("pages"),
            *(s.data["routes"].get(k, 0) for k in ("text", "ocr", "failed")),
            _pairs(s.data.get("engines")),
            _pairs(s.data.get("rewrites")),
        ]
        for s in runs
    ]
    table = Table("pdf_runs", ["run", "pages", "text layer", "OCR", "failed", "engines (pages)", "rewrites"], rows)
    return Section("pdf", "PDF extraction", blocks=[chart, table])


def _pairs(d: Any) -> str:
    return (
        ", ".join(f"{k}: {v:,}" if isinstance(v, int) else f"{k}: {v}" for k, v in d.items())
        if isinstance(d, dict)
        else ""
    )


def ledgers(obj: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every LLM ledger (a dict with requests and token counts) at any depth of a summary."""
    if isinstance(obj, dict):
        if LEDGER_KEYS <= obj.keys():
            yield path or "llm", obj
            return
        for k, v in obj.items():
            yield from ledgers(v, f"{path}.{k}" if path else str(k))


def llm_section(summaries: Sequence[RunSummary]) -> Section | None:
    found = [(f"{s.job} · {where}", ledger) for s in summaries for where, ledger in ledgers(s.data)]
    if not found:
        return None
    labels = [name for name, _ in found]
    num = lambda led, k: float(led.get(k) or 0)  # noqa: E731
    panels = [
        Panel(
            "requests",
            [
                Series("requests", [num(led, "requests") for _, led in found]),
                Series("failures", [num(led, "failures") for _, led in found]),
            ],
        ),
        Panel(
            "tokens",
            [
                Series("prompt", [num(led, "prompt_tokens") for _, led in found]),
                Series("completion", [num(led, "completion_tokens") for _, led in found]),
            ],
        ),
    ]
    chart = Chart("llm", "LLM usage per job", bar_table(labels, panels, label_w=260))
    rows = [[name, *(led.get(k) for k in LEDGER_COLUMNS), _pairs(led.get("failure_reasons"))] for name, led in found]
    table = Table(
        "llm_table",
        ["job · ledger", *LEDGER_COLUMNS, "failure reasons"],
        rows,
        note="seconds: the sum of request latencies, not wall time.",
    )
    return Section("llm", "LLM usage", blocks=[chart, table])


def _dead_total(data: dict[str, Any]) -> int | None:
    if isinstance(data.get("dead_letters_total"), int):
        return data["dead_letters_total"]
    dead = data.get("dead_letters")
    return sum(v for v in dead.values() if isinstance(v, int)) if isinstance(dead, dict) else None


def _first_int(data: dict[str, Any], *keys: str) -> int | None:
    """The first count among `keys`: jobs name their counts differently ("docs" may also be a path)."""
    return next((data[k] for k in keys if isinstance(data.get(k), int) and not isinstance(data.get(k), bool)), None)


def runs_section(summaries: Sequence[RunSummary]) -> Section | None:
    if not summaries:
        return None
    rows = [
        [
            s.job,
            s.path,
            _first_int(s.data, "records_in", "docs_in"),
            _first_int(s.data, "docs", "rows_out"),
            s.data.get("duplicates"),
            _dead_total(s.data),
            s.data.get("elapsed_s"),
            s.data.get("runner"),
        ]
        for s in summaries
    ]
    return Section(
        "runs",
        "Runs",
        "Every job accounts for its input: in = out + dead letters (+ duplicates).",
        [Table("runs_table", ["job", "summary", "in", "out", "duplicates", "dead letters", "seconds", "runner"], rows)],
    )
