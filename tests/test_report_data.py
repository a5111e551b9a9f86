"""The report's data-team sections: numbers against the data they summarize."""

from __future__ import annotations

import html
import re
from collections import Counter
from pathlib import Path

from corpusmill.report import build_report
from tests.report_corpus import ROWS, write_report_corpus


def _figure(page: str, chart: str) -> str:
    found = re.search(rf'<figure class="chart" data-chart="{re.escape(chart)}">(.*?)</figure>', page, re.S)
    assert found, f"chart {chart} missing"
    return found.group(1)


def _svg_tips(svg: str) -> dict[str, float]:
    tips = (html.unescape(t) for t in re.findall(r"<title>(.*?)</title>", svg))
    return {k: float(v.replace(",", "")) for k, v in (t.rsplit(": ", 1) for t in tips)}


def _table(page: str, key: str) -> list[list[str]]:
    found = re.search(rf'<table class="sortable" data-table="{re.escape(key)}">(.*?)</table>', page, re.S)
    assert found, f"table {key} missing"
    rows = re.findall(r"<tr>(.*?)</tr>", found.group(1), re.S)
    return [
        [html.unescape(re.sub(r"<.*?>", "", c)) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r, re.S)]
        for r in rows
    ]


def test_data_sections_match_the_corpus(tmp_path: Path) -> None:
    corpus = write_report_corpus(tmp_path / "corpus")
    out = tmp_path / "report.html"
    build_report(corpus.docs, str(out), annotations=corpus.annotations, shards=corpus.shards)
    page = out.read_text(encoding="utf-8")

    # Small multiples: one histogram per source whose bins add up to that source's documents.
    svgs = re.findall(r"<svg.*?</svg>", _figure(page, "length_chars"), re.S)
    by_source = Counter(r[4] for r in ROWS)
    titles = [html.unescape(re.search(r'font-weight="bold">(.*?)</text>', s).group(1)) for s in svgs]
    assert sorted(titles) == sorted(by_source)
    for title, svg in zip(titles, svgs):
        assert sum(_svg_tips(svg).values()) == by_source[title]

    tokens = sum(
        _svg_tips(s)[k]
        for s in re.findall(r"<svg.*?</svg>", _figure(page, "length_tokens"), re.S)
        for k in _svg_tips(s)
    )
    assert tokens == len(corpus.n_tokens)  # every tokenized document lands in one bin

    signals = _figure(page, "quality_signals")
    assert "gate_letter_frac" in signals and "q_dup_line_frac" in signals
    assert "No numeric lang_mix column" in _figure(page, "lang_scores")  # lang_mix is optional

    table = _table(page, "source_lang")
    header, body = table[0], table[1:]
    for row in body:
        counts = dict(zip(header[1:], map(int, (c.replace(",", "") for c in row[1:]))))
        assert sum(counts.values()) == by_source[row[0]]
    assert "<details><summary>sorted by documents</summary>" in _figure(page, "lang_by_tokens")

    funnel = _svg_tips(_figure(page, "stage-s1-funnel"))
    assert funnel["− too_short · units · units"] == 3 and funnel["candidates · tokens · tokens"] == 400
    assert _table(page, "stage-s1-unmet")[1][:2] == ["code", "short"]
    assert _table(page, "stage-s1-repeats")[1][:4] == ["web", "5", "6", "1.2"]
    examples = _table(page, "stage-s1-examples")[1:]
    texts = {r[5] for r in ROWS}
    assert {r[0] for r in examples} == {"code", "general"}
    assert all(any(t.startswith(r[2]) for t in texts) and r[2] for r in examples)
    assert all(len(r[2]) <= 300 for r in examples) and len(examples) == 3
