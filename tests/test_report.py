"""The corpus report: numbers against the data, optional inputs, the CLI, and a real browser."""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from corpusmill.commands import main
from corpusmill.languages import qwen3_languages
from corpusmill.report import build_report
from tests.headless_chromium import HeadlessPage, find_chromium
from tests.report_corpus import OUTSIDE_QWEN3, ReportCorpus, write_report_corpus

FULL_CHARTS = {
    "lang",
    "domain",
    "edu",
    "safety",
    "source",
    "stage-s1-buckets",
    "stage-s1-lang",
    "stage-s1-domain",
    "dead_letters",
    "pdf_routes",
    "llm",
    "length_chars",
    "length_tokens",
    "quality_signals",
    "lang_scores",
    "lang_by_tokens",
    "stage-s1-funnel",
}


@pytest.fixture()
def corpus(tmp_path: Path) -> ReportCorpus:
    return write_report_corpus(tmp_path / "corpus")


def _full(corpus: ReportCorpus, out: Path):
    return build_report(
        corpus.docs,
        str(out),
        annotations=corpus.annotations,
        shards=corpus.shards,
        runs=[corpus.pdf_run, corpus.llm_run],
    )


def _tips(page: str, chart: str) -> dict[str, float]:
    """A chart's tooltips as {"label · panel · series": "value"}."""
    figure = re.search(rf'<figure class="chart" data-chart="{re.escape(chart)}">(.*?)</figure>', page, re.S)
    assert figure, f"chart {chart} missing"
    tips = (html.unescape(t) for t in re.findall(r"<title>(.*?)</title>", figure.group(1)))
    return {label: float(value.replace(",", "").rstrip("%")) for label, value in (t.rsplit(": ", 1) for t in tips)}


def test_numbers_match_the_data(corpus: ReportCorpus, tmp_path: Path) -> None:
    result = _full(corpus, tmp_path / "report.html")
    assert set(result.charts) == FULL_CHARTS
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    langs = _tips(page, "lang")
    docs = Counter(r[0] for r in corpus.rows)
    tokens = Counter()
    for row, doc_id in zip(corpus.rows, corpus.ids):
        tokens[row[0]] += corpus.n_tokens[doc_id]
    for lang in qwen3_languages():  # every language named, zero or not
        label = f"{lang.name} · {lang.code}"
        assert langs[f"{label} · documents · documents"] == docs.get(lang.code, 0)
        assert langs[f"{label} · tokens · tokens"] == tokens.get(lang.code, 0)
    assert langs["outside Qwen3's list (1 codes) · documents · documents"] == docs[OUTSIDE_QWEN3]
    assert langs["no language label · documents · documents"] == docs[None]

    safety = _tips(page, "safety")
    for category, n in Counter(r[2] for r in corpus.rows if r[2]).items():
        assert safety[f"{category} · documents · documents"] == n
    edu = _tips(page, "edu")
    assert edu["4.5–5"] == sum(1 for r in corpus.rows if r[3] is not None and r[3] >= 4.5)

    dead = _tips(page, "dead_letters")
    assert dead["ingest · empty_text · records · records"] == 2
    assert {k.split(" · ")[0] for k in dead} == {"ingest", "annotate", "mix", "extract_pdf"}
    buckets = _tips(page, "stage-s1-buckets")
    assert "code · tokens · target" in buckets and "general · tokens · target" not in buckets  # weight-only bucket
    shares = _tips(page, "stage-s1-lang")  # stage tokens from the manifest beside the corpus' token share
    assert shares["English · eng_Latn · share of tokens · stage"] == pytest.approx(100 * 150 / 250, abs=1e-3)
    corpus_share = 100 * tokens["eng_Latn"] / sum(tokens.values())
    assert shares["English · eng_Latn · share of tokens · corpus (tokens)"] == pytest.approx(corpus_share, abs=1e-3)
    assert _tips(page, "pdf_routes")["OCR · pages · pages"] == 2
    llm = _tips(page, "llm")
    assert llm["synthesize · llm · tokens · prompt"] == 5400 and llm["pdf · llm · tokens · prompt"] == 900


def test_same_inputs_same_bytes(corpus: ReportCorpus, tmp_path: Path) -> None:
    _full(corpus, tmp_path / "a.html")
    _full(corpus, tmp_path / "b.html")
    assert (tmp_path / "a.html").read_bytes() == (tmp_path / "b.html").read_bytes()


def test_documents_alone_make_a_report(corpus: ReportCorpus, tmp_path: Path) -> None:
    result = build_report(corpus.docs, str(tmp_path / "docs.html"))
    assert result.charts == ["lang", "source", "length_chars", "dead_letters"]
    page = (tmp_path / "docs.html").read_text(encoding="utf-8")
    assert "documents&#x27; meta.lang" in page  # languages came from meta without annotations
    english = _tips(page, "lang")["English · eng_Latn · documents · documents"]
    assert english == sum(1 for r in corpus.rows if r[0] == "eng_Latn")
    assert "characters" in page and "stage-" not in page


def test_cli_writes_the_report_and_rejects_missing_inputs(corpus: ReportCorpus, tmp_path: Path, capsys) -> None:
    out = tmp_path / "cli.html"
    assert (
        main(
            [
                "report",
                "--docs",
                corpus.docs,
                "--annotations",
                corpus.annotations,
                "--shards",
                corpus.shards,
                "--runs",
                corpus.pdf_run,
                corpus.llm_run,
                "-o",
                str(out),
            ]
        )
        == 0
    )
    assert str(out) in capsys.readouterr().out and out.stat().st_size > 0
    assert main(["report", "--docs", corpus.docs, "--annotations", str(tmp_path / "nope"), "-o", str(out)]) == 2
    assert "--annotations" in capsys.readouterr().err


CHART_BARS = (
    "JSON.stringify(Array.from(document.querySelectorAll('figure.chart')).map(function (f) {"
    " return [f.dataset.chart, f.querySelectorAll('svg.chart-svg rect.bar').length,"
    " f.querySelector('svg').getBoundingClientRect().height]; }))"
)
LANG_LABELS = (
    "JSON.stringify(Array.from(document.querySelectorAll('figure[data-chart=lang] text.label'))"
    ".map(function (t) { return t.textContent; }))"
)
# Sort the dead-letter table by its "records" column (ascending on the first click).
SORT_RECORDS = (
    "(function () { var t = document.querySelector('table[data-table=dead_letter_table]');"
    " t.tHead.rows[0].cells[2].click();"
    " return Array.from(t.tBodies[0].rows).map(function (r) { return +r.cells[2].dataset.v; }); })()"
)


def test_report_renders_in_chromium(corpus: ReportCorpus, tmp_path: Path) -> None:
    browser = find_chromium()
    if browser is None:
        pytest.skip("chromium not found: install the Debian package `chromium` (make sysdeps)")
    report = tmp_path / "report.html"
    result = _full(corpus, report)
    shot = tmp_path / "report.png"
    with HeadlessPage(browser, tmp_path / "profile") as page:
        page.open(report)
        charts = {key: (bars, height) for key, bars, height in json.loads(page.evaluate(CHART_BARS))}
        labels = json.loads(page.evaluate(LANG_LABELS))
        records = page.evaluate(SORT_RECORDS)
        page.screenshot(shot)
        errors = list(page.errors)
    assert set(charts) == set(result.charts)
    assert all(bars > 0 and height > 0 for bars, height in charts.values()), charts
    assert {f"{lang.name} · {lang.code}" for lang in qwen3_languages()} <= set(labels)
    assert records == sorted(records) and len(records) > 1
    assert errors == []
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000


def test_remote_paths_through_fsspec(corpus: ReportCorpus, tmp_path: Path) -> None:
    import fsspec

    fs = fsspec.filesystem("memory")
    root = f"/report-test-{tmp_path.name}"
    fs.put(str(Path(corpus.docs).parent), root, recursive=True)
    try:
        remote = ReportCorpus(
            *(
                f"memory://{root}/{Path(p).name}"
                for p in (corpus.docs, corpus.annotations, corpus.shards, corpus.pdf_run, corpus.llm_run)
            ),
            corpus.rows,
            corpus.ids,
            corpus.n_tokens,
        )
        result = _full(remote, tmp_path / "remote.html")
        _full(corpus, tmp_path / "local.html")
    finally:
        fs.rm(root, recursive=True)
    assert set(result.charts) == FULL_CHARTS
    remote_page, local_page = ((tmp_path / f).read_text(encoding="utf-8") for f in ("remote.html", "local.html"))
    for chart in ("lang", "dead_letters", "stage-s1-lang"):
        assert _tips(remote_page, chart) == _tips(local_page, chart)
