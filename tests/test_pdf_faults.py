"""Issue 18's text-layer faults, each reproduced on a generated PDF (`tests/pdf_faults.py`)."""

from __future__ import annotations

import pymupdf
import pytest

from corpusmill.extractors.pdf.aligned import aligned_rows
from corpusmill.extractors.pdf.boilerplate import looks_like_boilerplate
from corpusmill.extractors.pdf.tables import is_prose
from corpusmill.extractors.pdf.textclean import fix_glyphs
from tests.pdf_cases import read_in_process
from tests.pdf_faults import FAULTS, passes


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_fault_pdf_passes_its_checks(name: str) -> None:
    data, checks = FAULTS[name]()
    text, pages = read_in_process(data)
    assert all(p.route == "text" for p in pages)
    failed = [c for c in checks if not passes(text, c)]
    assert not failed, f"{name}: {failed}\n---\n{text}"


def test_single_page_keeps_a_title_and_body_text_in_the_margin_band() -> None:
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 60), "Extraction of Text from Scanned Books", fontsize=16, fontname="helv")
    page.insert_textbox(pymupdf.Rect(72, 100, 523, 400), "This sentence carries content.", fontsize=11)
    # A line in the bottom band that is not boilerplate by its form.
    page.insert_text((72, 800), "Acknowledgements go to the volunteers who scanned the books.", fontsize=9)
    text, _ = read_in_process(doc.tobytes())
    assert "Extraction of Text from Scanned Books" in text
    assert "Acknowledgements go to the volunteers" in text


def test_boilerplate_forms() -> None:
    for line in (
        "62",
        "- 7 -",
        "Page 3 of 12",
        "xiv",
        "doi:10.1000/182",
        "© 2020 Elsevier Ltd. All rights reserved.",
        "Downloaded from https://academic.example.org by guest on 1 May 2024",
        "Vol. 12, No. 3, pp. 45-67",
        "12 J. Smith et al.",
    ):
        assert looks_like_boilerplate(line), line
    for line in (
        "Chapter 3",
        "Table 2",
        "Introduction",
        "Results and Discussion",
        "The method in brief",
        "Effective as at 9 April 2019",  # a year, not a page number
        "Heading 1",
        "Radius = 0",
    ):
        assert not looks_like_boilerplate(line), line


def test_fix_glyphs() -> None:
    assert fix_glyphs("J´an Min´aˇc") == "Ján Mináč"
    assert fix_glyphs("Anton´ın Dvoˇr´ak, Mu¨ller, cr`eme") == "Antonín Dvořák, Müller, crème"
    assert fix_glyphs("ﬁnal eﬀect") == "final effect"
    # A backtick quote and an accent standing alone are no accents on letters.
    assert fix_glyphs("``quoted'' and a ´ alone") == "``quoted'' and a ´ alone"


def test_prose_in_boxes_is_no_table() -> None:
    prose = "Markets rallied in the third quarter as rates fell and earnings beat forecasts."
    assert is_prose([[prose, prose, prose]])
    assert is_prose([[prose, prose], [prose, prose]])
    assert not is_prose([["Type", "2023"], ["Net sales", "383,285"]])


def _words(rows: list[list[tuple[float, str]]]) -> list[tuple]:
    out = []
    for i, row in enumerate(rows):
        for x, word in row:
            out.append((x, 100 + 14 * i, x + 6 * len(word), 110 + 14 * i, word))
    return out


def test_aligned_rows_need_three_rows_of_short_cells() -> None:
    table = _words(
        [
            [(72, "Country"), (200, "Capital")],
            [(72, "Austria"), (200, "Vienna")],
            [(72, "Belgium"), (200, "Brussels")],
            [(72, "Denmark"), (200, "Copenhagen")],
        ]
    )
    assert aligned_rows(table) == [
        ["Country", "Capital"],
        ["Austria", "Vienna"],
        ["Belgium", "Brussels"],
        ["Denmark", "Copenhagen"],
    ]
    assert aligned_rows(table[:4]) is None  # two rows only
    cell = "markets rallied as rates fell and earnings beat"
    prose = _words([[(72, cell), (330, cell)]] * 4)
    assert aligned_rows(prose) is None  # two columns of prose lines


def test_publisher_notice_in_the_bottom_fifth_is_dropped_body_text_is_not() -> None:
    doc = pymupdf.open()
    page = doc.new_page()  # 842 points tall: the bottom fifth starts at 674
    body = "Licensed software is discussed in this section of the paper at some length."
    notice = "Permission to make digital or hard copies of all or part of this work is granted."
    page.insert_textbox(pymupdf.Rect(72, 100, 523, 400), body, fontsize=11)
    page.insert_textbox(pymupdf.Rect(72, 700, 300, 760), notice, fontsize=8)
    text, _ = read_in_process(doc.tobytes())
    assert body in text and "Permission to make" not in text


def test_short_labels_side_by_side_do_not_cut_a_column() -> None:
    from corpusmill.extractors.pdf.layout import Block, reading_order

    heading, label = Block(54, 568, 133, 579, "1. Introduction"), Block(151, 565, 203, 578, "Introduction")
    left = Block(54, 351, 293, 490, "left column", lines=14)
    left2 = Block(54, 584, 293, 633, "left column, after the heading", lines=5)
    right = Block(317, 337, 556, 725, "right column", lines=39)
    order = [b.text for b in reading_order([left, heading, label, left2, right])]
    assert order.index("left column") < order.index("right column")
    assert order.index("left column, after the heading") < order.index("right column")


def test_no_word_spaces_inserted_into_letter_spaced_cjk() -> None:
    from corpusmill.extractors.pdf.repair import has_run_together

    assert not has_run_together("描述团队的共同目标，有利于团队成员理解目标并朝着目标努力。")
    assert has_run_together("Table1:CompositionofthepretrainingdataforOLMo2.")
    assert not has_run_together("see https://example.org/a/very/long/path/to/somewhere")


def test_heading_or_prose_right_above_a_table_is_no_header_row() -> None:
    from tests.pdf_faults import _rules

    for above in ("3.2      Results by segment", "The results below are shown for every segment of the firm"):
        doc = pymupdf.open()
        page = doc.new_page()
        xs, ys = [72.0, 240.0, 360.0, 480.0], [250.0, 268.0, 286.0, 304.0]
        page.insert_text((72, 245), above, fontsize=10, fontname="helv")
        for i, row in enumerate([["Type", "2023", "2022"], ["Net sales", "383,285", "394,328"], ["Other", "1", "2"]]):
            for j, cell in enumerate(row):
                page.insert_text((xs[j] + 4, ys[i] + 13), cell, fontsize=10, fontname="helv")
        _rules(page, xs, ys)
        text, _ = read_in_process(doc.tobytes())
        assert "| Type | 2023 | 2022 |\n| --- |" in text, text
        assert " ".join(above.split()) in " ".join(text.split())


def test_drop_cap_with_the_paragraph_wrapping_under_it() -> None:
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 118), "O", fontsize=44, fontname="helv")
    lines = [
        "ver the past decade, extraction of text from",
        "documents has become a core step of every",
        "pretraining pipeline that reads books and",
        "papers. Pages differ in layout, fonts and quality.",
    ]
    for i, line in enumerate(lines):  # three lines beside the cap, then the full width
        page.insert_text((106 if i < 3 else 72, 96 + 13 * i), line, fontsize=11, fontname="helv")
    text, _ = read_in_process(doc.tobytes())
    assert text.startswith("Over the past decade, extraction of text from documents has become")


def _numbered_lines(page: pymupdf.Page, x_number: float, x_text: float, n: int = 8) -> list[str]:
    lines = [f"Line {k} of the record says what was said in court that day." for k in range(1, n + 1)]
    # The numbers are drawn first, then the text, as transcript software does: MuPDF then
    # reads them as blocks of their own.
    for k in range(1, n + 1):
        page.insert_text((x_number, 100 + 26 * k), str(k), fontsize=11, fontname="helv")
    for k, line in enumerate(lines, start=1):
        page.insert_text((x_text, 100 + 26 * k), line, fontsize=11, fontname="helv")
    return lines


def test_line_numbers_beside_the_text_are_dropped_row_numbers_inside_are_kept() -> None:
    doc = pymupdf.open()
    lines = _numbered_lines(doc.new_page(), 90, 126)
    text, _ = read_in_process(doc.tobytes())
    assert " ".join(lines) in " ".join(text.split())
    assert all(line.strip() not in {str(k) for k in range(1, 9)} for line in text.split("\n"))

    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_textbox(pymupdf.Rect(72, 60, 523, 110), "A paragraph above the numbered rows.", fontsize=11)
    _numbered_lines(page, 100, 126)
    text, _ = read_in_process(doc.tobytes())
    assert "1" in text.split() and "8" in text.split()  # row numbers of a list stay
