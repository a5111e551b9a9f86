"""The public regression set (`tests/data/langid_regression.jsonl`, described in DATA.md).

Books with an English licence header and footer, bilingual documents, strings that are no
language and short sentences, each with its expected label.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from corpusmill.annotators.lang_id import LangId

DATA = Path(__file__).parent / "data" / "langid_regression.jsonl"


@pytest.fixture(scope="module")
def labeled() -> list[tuple[dict, dict]]:
    cases = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    annotator = LangId()
    batch = pa.table({"id": [str(i) for i in range(len(cases))], "text": [case["text"] for case in cases]})
    return list(zip(cases, annotator.label(batch).to_pylist()))


def _kind(labeled: list[tuple[dict, dict]], kind: str) -> list[tuple[dict, dict]]:
    return [(case, row) for case, row in labeled if case["kind"] == kind]


def test_books_with_an_english_licence_header_get_their_body_language(labeled) -> None:
    books = _kind(labeled, "book")
    assert len(books) == 20
    wrong = [(case["lang"], row["lang"]) for case, row in books if row["lang"] != case["lang"]]
    assert wrong == []


def test_bilingual_documents_report_both_languages(labeled) -> None:
    docs = _kind(labeled, "bilingual")
    assert len(docs) >= 5
    for case, row in docs:
        listed = {entry["lang"] for entry in row["langs"]}
        assert set(case["langs"]) <= listed, (case["langs"], row["langs"])
        assert row["lang"] in case["langs"] and row["lang_mix"] > 0.2


def test_strings_that_are_no_language_get_und(labeled) -> None:
    noise = _kind(labeled, "noise")
    assert len(noise) >= 20
    missed = [(case["text"][:40], row["lang"]) for case, row in noise if row["lang"] != "und"]
    assert len(noise) - len(missed) >= 18, missed


def test_short_sentences(labeled) -> None:
    short = _kind(labeled, "short")
    right = [row["lang"] == case["lang"] for case, row in short]
    assert sum(right) >= 0.8 * len(short)
    # A score of 0.9 or more means right at least 9 times in 10.
    confident = [ok for ok, (_, row) in zip(right, short) if row["lang_score"] >= 0.9]
    assert sum(confident) >= 0.9 * len(confident)
