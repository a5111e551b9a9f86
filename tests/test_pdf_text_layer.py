"""The text route: reading order, running heads, hyphenation, tables, CJK, rotation."""

from __future__ import annotations

import pymupdf

from corpusmill.extractors.pdf import samples
from corpusmill.extractors.pdf.layout import Block, reading_order
from corpusmill.extractors.pdf.metrics import char_error_rate, levenshtein
from corpusmill.extractors.pdf.textclean import join_blocks, join_lines, normalize_whitespace
from tests.pdf_cases import read_in_process


def test_single_column_cer_below_one_percent_without_running_heads() -> None:
    data, expected = samples.single_column_pdf(pages=4)
    text, pages = read_in_process(data)
    assert char_error_rate(expected, text) < 0.01
    assert samples.HEADER not in text and "Page 2 of 4" not in text
    assert "extraction of text" in text and "extrac-" not in text


def test_two_column_cer_below_one_percent() -> None:
    data, expected = samples.two_column_pdf(pages=3)
    text, _ = read_in_process(data)
    assert char_error_rate(expected, text) < 0.01
    # Reading order: the left column's last paragraph comes before the right column's first.
    left_last = samples.paragraphs(3, 200)[2]
    right_first = samples.paragraphs(3, 250)[0]
    assert text.index(left_last) < text.index(right_first)


def test_table_becomes_markdown() -> None:
    data, expected = samples.table_pdf()
    text, _ = read_in_process(data)
    assert "| Language | Documents | Tokens |" in text
    assert "| Chinese | 800 | 2.9M |" in text
    assert char_error_rate(expected, text) < 0.01


def test_chinese_text_layer() -> None:
    data, expected = samples.cjk_pdf()
    text, pages = read_in_process(data)
    assert text == expected
    assert pages[0].signals["script"] == "Han"


def test_rotated_page_keeps_its_text() -> None:
    doc = pymupdf.open()
    page = doc.new_page()
    prose = samples.paragraphs(2, 4)
    page.insert_textbox(pymupdf.Rect(72, 72, 540, 760), "\n\n".join(prose), fontsize=11)
    page.set_rotation(90)
    text, pages = read_in_process(doc.tobytes())
    assert pages[0].route == "text"
    assert pages[0].signals["rotation"] == 90
    assert char_error_rate("\n\n".join(prose), text) < 0.01


def test_reading_order_columns_and_rows() -> None:
    title = Block(150, 50, 450, 70, "title")
    left = [Block(50, 100 + 60 * i, 280, 150 + 60 * i, f"L{i}", lines=4) for i in range(3)]
    right = [Block(310, 100 + 60 * i, 540, 150 + 60 * i, f"R{i}", lines=4) for i in range(3)]
    footer = Block(50, 400, 540, 420, "wide footer")
    order = [b.text for b in reading_order([*right, footer, *left, title])]
    assert order == ["title", "L0", "L1", "L2", "R0", "R1", "R2", "wide footer"]
    # A running head over the left column and a page number over the gutter stand apart
    # but not side by side: they must not turn a left-column block into a spanning one.
    head, number = Block(60, 20, 250, 30, "head"), Block(270, 500, 320, 510, "7")
    order = [b.text for b in reading_order([*left, *right, head, number])]
    assert order == ["head", "L0", "L1", "L2", "R0", "R1", "R2", "7"]
    # A form: single-line labels and values side by side are read row by row.
    form = [Block(50, 100 + 20 * i, 120, 112 + 20 * i, f"k{i}") for i in range(3)]
    form += [Block(300, 100 + 20 * i, 400, 112 + 20 * i, f"v{i}") for i in range(3)]
    assert [b.text for b in reading_order(form)] == ["k0", "v0", "k1", "v1", "k2", "v2"]


def test_line_joining_rules() -> None:
    assert join_lines(["the extrac-", "tion works"]) == "the extraction works"
    assert join_lines(["a well-", "Known name"]) == "a well- Known name"
    assert join_lines(["soft\u00ad", "hyphen"]) == "softhyphen"
    assert join_lines(["中文第一行", "第二行"]) == "中文第一行第二行"
    assert join_lines(["items:", "• one", "• two"]) == "items:\n• one\n• two"
    assert join_blocks(["ends in a hyphen-", "ated word", "Next"]) == "ends in a hyphenated word\n\nNext"
    assert normalize_whitespace("a \t b\u200b\n\n\n\nc\x07") == "a b\n\nc"


def test_levenshtein_matches_the_definition() -> None:
    assert levenshtein("kitten", "sitting") == 3
    assert levenshtein("", "abc") == 3 and levenshtein("abc", "") == 3
    assert levenshtein("flaw", "lawn") == 2
    assert char_error_rate("a b", "a  b") == 0.0


def test_table_with_a_merged_header_cell_goes_to_the_general_finder() -> None:
    doc = pymupdf.open()
    page = doc.new_page()
    x, y, w, h = 72, 100, 120, 22
    page.draw_rect(pymupdf.Rect(x, y, x + 3 * w, y + 4 * h), color=(0, 0, 0))
    for r in range(1, 4):
        page.draw_line((x, y + r * h), (x + 3 * w, y + r * h), color=(0, 0, 0))
    page.draw_line((x + w, y), (x + w, y + 4 * h), color=(0, 0, 0))
    page.draw_line((x + 2 * w, y + h), (x + 2 * w, y + 4 * h), color=(0, 0, 0))  # not across row 1
    page.insert_text((x + 4, y + h - 6), "Model", fontsize=10)
    page.insert_text((x + w + 4, y + h - 6), "Scores (merged)", fontsize=10)
    for r, row in enumerate([("alpha", "1", "2"), ("beta", "3", "4"), ("gamma", "5", "6")], start=1):
        for c, cell in enumerate(row):
            page.insert_text((x + c * w + 4, y + (r + 1) * h - 6), cell, fontsize=10)
    text, _ = read_in_process(doc.tobytes())
    assert "Model" in text and "| beta | 3 | 4 |" in text
