"""Generated PDFs that reproduce the text-layer faults of issue 18, each with its checks.

Each maker returns `(pdf bytes, checks)`; a check is a dict of one of four kinds (the
olmOCR-bench kinds): `present` / `absent` (`text`; `line: true` means no line of the output
is exactly `text`), `order` (`before` comes before `after`), `table` (`row`: cells that
stand next to each other in one Markdown table row; `header: true`: in the header row).
Used by the tests and by `bench/pdf_devset.py`. Everything is drawn with pymupdf's
built-in Helvetica, so no font files are needed.
"""

from __future__ import annotations

from typing import Any

import pymupdf

from corpusmill.extractors.pdf import samples

Check = dict[str, Any]
FONT = "helv"


def _prose(seed: int, n: int = 2, sentences: int = 4) -> list[str]:
    return samples.paragraphs(n, seed, sentences)


def _box(page: pymupdf.Page, rect: pymupdf.Rect, text: str, fontsize: float = 10.5) -> None:
    left = page.insert_textbox(rect, text, fontsize=fontsize, fontname=FONT)
    assert left >= 0, f"text does not fit its box ({left})"


def _unicode_box(page: pymupdf.Page, rect: pymupdf.Rect, text: str, fontsize: float = 11) -> None:
    """Like `_box`, through a TextWriter: glyphs beyond Latin-1 (ligatures) keep their code points."""
    writer = pymupdf.TextWriter(page.rect)
    writer.fill_textbox(rect, text, font=pymupdf.Font(FONT), fontsize=fontsize)
    writer.write_text(page)


def single_page_boilerplate() -> tuple[bytes, list[Check]]:
    """One page with a running head, journal footer, DOI, licence, watermark, page number and a
    rotated arXiv stamp: a one-page document, so the cross-page rule cannot see them."""
    doc = pymupdf.open()
    page = doc.new_page()  # 595 x 842
    head = "Journal of Applied Corpus Studies 12 (2021) 45-67"
    doi = "https://doi.org/10.5555/jacs.2021.0045"
    licence = "© 2021 The Authors. Published under a CC BY 4.0 licence."
    watermark = "Downloaded from https://journals.example.org/ on 3 May 2023"
    stamp = "arXiv:2101.01234v1 [cs.CL] 4 Jan 2021"
    page.insert_text((72, 40), head, fontsize=8, fontname=FONT)
    body = _prose(41, 3)
    _box(page, pymupdf.Rect(72, 90, 523, 740), "\n\n".join(body))
    page.insert_text((72, 780), doi, fontsize=8, fontname=FONT)
    page.insert_text((72, 792), licence, fontsize=8, fontname=FONT)
    page.insert_text((72, 804), watermark, fontsize=7, fontname=FONT)
    page.insert_text((290, 820), "62", fontsize=9, fontname=FONT)
    page.insert_text((30, 600), stamp, fontsize=9, fontname=FONT, rotate=90)
    checks: list[Check] = [{"type": "absent", "text": t} for t in (head, "doi.org", "CC BY 4.0", "Downloaded from")]
    checks += [{"type": "absent", "text": "62", "line": True}, {"type": "absent", "text": "arXiv:2101"}]
    checks += [{"type": "present", "text": p} for p in body]
    return doc.tobytes(), checks


def drop_cap() -> tuple[bytes, list[Check]]:
    """A paragraph that opens with a three-line drop cap "O" set beside it."""
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 118), "O", fontsize=44, fontname=FONT)
    rest = "ver the past decade, extraction of text from documents has become " + _prose(7, 1, 5)[0]
    _box(page, pymupdf.Rect(106, 90, 523, 400), rest, fontsize=11)
    return doc.tobytes(), [
        {"type": "present", "text": "Over the past decade"},
        {"type": "absent", "text": "O\n"},
    ]


def _tj_line(doc: pymupdf.Document, page: pymupdf.Page, y: float, words: list[str], gap: int, size: float) -> None:
    """One line drawn as a single TJ whose words are separated by pen moves of `gap`/1000 em
    and no space glyph: what tight captions and some PDF writers produce."""
    page.insert_text((72, 60), ".", fontsize=1, fontname=FONT)  # registers the font resource
    xref = page.get_contents()[-1]
    tj = "[" + f" -{gap} ".join(f"({w})" for w in words) + "] TJ"
    doc.update_stream(xref, doc.xref_stream(xref) + f"\nBT /{FONT} {size} Tf 72 {842 - y} Td {tj} ET\n".encode())


def glyph_gap_spaces() -> tuple[bytes, list[Check]]:
    """A caption and a line whose words are set apart by small gaps without space glyphs."""
    doc = pymupdf.open()
    page = doc.new_page()
    body = _prose(11, 1)[0]
    _box(page, pymupdf.Rect(72, 90, 523, 300), body)
    caption = ["Table", "1:", "Composition", "of", "the", "pretraining", "data", "for", "OLMo", "2."]
    _tj_line(doc, page, 330, caption, 120, 9)
    other = ["Documents", "were", "deduplicated", "before", "sampling", "across", "all", "languages."]
    _tj_line(doc, page, 350, other, 130, 9)
    # Tight tracking: every letter pulled 0.06 em to its left neighbour, words 0.04 em apart.
    tracked = ["Figure", "2:", "Token", "counts", "per", "source", "after", "filtering."]
    tj = " -40 ".join("(" + ") 60 (".join(word) + ")" for word in tracked)
    xref = page.get_contents()[-1]
    doc.update_stream(xref, doc.xref_stream(xref) + f"\nBT /{FONT} 9 Tf 72 {842 - 370} Td [{tj}] TJ ET\n".encode())
    return doc.tobytes(), [
        {"type": "present", "text": "Figure 2: Token counts per source after filtering."},
        {"type": "present", "text": "Table 1: Composition of the pretraining data for OLMo 2."},
        {"type": "present", "text": "Documents were deduplicated before sampling across all languages."},
        {"type": "present", "text": body},
    ]


def spacing_accents() -> tuple[bytes, list[Check]]:
    """Names whose accents are separate glyphs drawn over the letter, TeX style."""
    doc = pymupdf.open()
    page = doc.new_page()
    writer, font, size = pymupdf.TextWriter(page.rect), pymupdf.Font(FONT), 11.0
    x, y = 72.0, 120.0
    for word in "Authors: J´an Min´aˇc, Anton´ın Dvoˇr´ak and Fran¸coise Gar¸con, ETH Z¨urich.".split():
        i = 0
        while i < len(word):
            ch = word[i]
            if ch in "´ˇ¸¨" and i + 1 < len(word):  # centered over the next letter, no advance
                under = font.text_length(word[i + 1], size)
                writer.append((x + (under - font.text_length(ch, size)) / 2, y), ch, font=font, fontsize=size)
            else:
                writer.append((x, y), ch, font=font, fontsize=size)
                x += font.text_length(ch, size)
            i += 1
        x += font.text_length(" ", size)
    writer.write_text(page)
    body = _prose(13, 1)[0]
    _unicode_box(page, pymupdf.Rect(72, 150, 523, 400), "The ﬁrst eﬀect is ﬂat. " + body)
    return doc.tobytes(), [
        {"type": "present", "text": "Ján Mináč"},
        {"type": "present", "text": "Antonín Dvořák"},
        {"type": "present", "text": "Françoise Garçon"},
        {"type": "present", "text": "ETH Zürich"},
        {"type": "present", "text": "The first effect is flat."},
        {"type": "absent", "text": "´"},
    ]


def _rules(page: pymupdf.Page, xs: list[float], ys: list[float], *, skip: set[tuple[int, int]] = frozenset()) -> None:
    """Grid rules over columns `xs` and rows `ys`; `skip` = (row, col) where the vertical rule
    left of column col+1 is left out in that row (a merged cell)."""
    for y in ys:
        page.draw_line((xs[0], y), (xs[-1], y), width=0.6)
    for j, x in enumerate(xs):
        for i in range(len(ys) - 1):
            if (i, j - 1) not in skip:
                page.draw_line((x, ys[i]), (x, ys[i + 1]), width=0.6)


def table_header_outside_rules() -> tuple[bytes, list[Check]]:
    """A ruled table whose header row sits above the first rule (no rule above the header)."""
    doc = pymupdf.open()
    page = doc.new_page()
    _box(page, pymupdf.Rect(72, 72, 523, 200), _prose(17, 1)[0])
    xs, y0, row_h = [72.0, 220.0, 340.0, 460.0], 240.0, 18.0
    header = ["Type", "Revenue", "Margin"]
    for j, cell in enumerate(header):
        page.insert_text((xs[j] + 4, y0 - 5), cell, fontsize=10, fontname=FONT)
    rows = [["Hardware", "1,204", "12.5%"], ["Software", "3,310", "41.0%"], ["Services", "870", "18.2%"]]
    ys = [y0 + i * row_h for i in range(len(rows) + 1)]
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            page.insert_text((xs[j] + 4, ys[i] + 13), cell, fontsize=10, fontname=FONT)
    _rules(page, xs, ys)
    return doc.tobytes(), [
        {"type": "table", "row": header, "header": True},
        {"type": "table", "row": ["Software", "3,310", "41.0%"]},
    ]


def table_merged_header() -> tuple[bytes, list[Check]]:
    """A ruled table whose first header cell "Year Ended" spans two columns."""
    doc = pymupdf.open()
    page = doc.new_page()
    _box(page, pymupdf.Rect(72, 72, 523, 200), _prose(19, 1)[0])
    xs, row_h = [72.0, 240.0, 360.0, 480.0], 18.0
    ys = [230.0 + i * row_h for i in range(6)]
    page.insert_text((xs[0] + 4, ys[0] + 13), "Type", fontsize=10, fontname=FONT)
    page.insert_text((xs[1] + 70, ys[0] + 13), "Year Ended", fontsize=10, fontname=FONT)
    for j, cell in enumerate(["", "2023", "2022"]):
        page.insert_text((xs[j] + 4, ys[1] + 13), cell, fontsize=10, fontname=FONT)
    rows = [
        ["Net sales", "383,285", "394,328"],
        ["Cost of sales", "214,137", "223,546"],
        ["Gross margin", "169,148", "170,782"],
    ]
    for i, row in enumerate(rows, start=2):
        for j, cell in enumerate(row):
            page.insert_text((xs[j] + 4, ys[i] + 13), cell, fontsize=10, fontname=FONT)
    _rules(page, xs, ys, skip={(0, 1)})
    return doc.tobytes(), [
        {"type": "table", "row": ["Type", "Year Ended"], "header": True},
        {"type": "table", "row": ["Net sales", "383,285", "394,328"]},
        {"type": "table", "row": ["Gross margin", "169,148", "170,782"]},
    ]


def table_headers_above_rules() -> tuple[bytes, list[Check]]:
    """The fault as seen in a financial report: two header rows ("Type" / "Year Ended" over
    two year columns, then the years) above the first rule, and a body row with a merged
    cell, so that the table goes to pymupdf's finder rather than the full-grid path."""
    doc = pymupdf.open()
    page = doc.new_page()
    _box(page, pymupdf.Rect(72, 72, 523, 200), _prose(47, 1)[0])
    xs, row_h, y0 = [72.0, 240.0, 360.0, 480.0], 18.0, 250.0
    page.insert_text((xs[0] + 4, y0 - 22), "Type", fontsize=10, fontname=FONT)
    page.insert_text((xs[1] + 70, y0 - 22), "Year Ended", fontsize=10, fontname=FONT)
    page.insert_text((xs[1] + 4, y0 - 5), "2023", fontsize=10, fontname=FONT)
    page.insert_text((xs[2] + 4, y0 - 5), "2022", fontsize=10, fontname=FONT)
    rows = [["Net sales", "383,285", "394,328"], ["Restated", "see note 4", ""], ["Gross margin", "169,148", "170,782"]]
    ys = [y0 + i * row_h for i in range(len(rows) + 1)]
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            page.insert_text((xs[j] + 4, ys[i] + 13), cell, fontsize=10, fontname=FONT)
    _rules(page, xs, ys, skip={(1, 1)})
    return doc.tobytes(), [
        {"type": "table", "row": ["Type", "Year Ended"], "header": True},
        {"type": "table", "row": ["", "2023", "2022"]},
        {"type": "table", "row": ["Net sales", "383,285", "394,328"]},
        {"type": "absent", "text": "Type Year Ended"},
    ]


def columns_page(n: int, *, ruled: bool = False, seed: int = 23) -> tuple[bytes, list[Check]]:
    """A page of `n` prose columns under a full-width title; `ruled` boxes each column (an
    analyst page), which must still be read as prose, column after column."""
    doc = pymupdf.open()
    page = doc.new_page()
    title = f"Market outlook in {n} columns"
    page.insert_text((72, 80), title, fontsize=16, fontname=FONT)
    gutter, left, right = 18.0, 60.0, 535.0
    width = (right - left - gutter * (n - 1)) / n
    cols = [_prose(seed + k, 2, 3) for k in range(n)]
    for k, paras in enumerate(cols):
        x0 = left + k * (width + gutter)
        rect = pymupdf.Rect(x0, 110, x0 + width, 780)
        _box(page, rect, "\n\n".join(paras), fontsize=9)
        if ruled:
            page.draw_rect(rect + (-4, -4, 4, 4), width=0.6)
    checks: list[Check] = [{"type": "order", "before": title, "after": cols[0][0]}]
    for k in range(n - 1):
        checks.append({"type": "order", "before": cols[k][1], "after": cols[k + 1][0]})
    checks += [{"type": "present", "text": cols[k][0]} for k in range(n)]
    if ruled:
        checks.append({"type": "absent", "text": "| --- |"})
    return doc.tobytes(), checks


def columns_grid_page(n: int = 3, seed: int = 43) -> tuple[bytes, list[Check]]:
    """An analyst page: `n` columns in a frame of rules (under the title, across the middle,
    at the bottom, between the columns). The rules form a full grid of 2 x n cells, each
    holding a paragraph; it is prose, not a 2-row table read across the columns."""
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((60, 80), "Quarterly sector review", fontsize=16, fontname=FONT)
    gutter, left, right, top, middle, bottom = 18.0, 60.0, 535.0, 100.0, 440.0, 786.0
    width = (right - left - gutter * (n - 1)) / n
    cols = [_prose(seed + k, 2, 3) for k in range(n)]
    xs = [left - 6] + [left + k * (width + gutter) - gutter / 2 for k in range(1, n)] + [right + 6]
    for k, paras in enumerate(cols):
        x0 = left + k * (width + gutter)
        _box(page, pymupdf.Rect(x0, top + 8, x0 + width, middle - 6), paras[0], fontsize=9)
        # Key figures as short lines, as analyst pages have: they make the page look like it
        # may hold a table, so its rules are read.
        figures = f"Rating: Hold\nTarget: {40 + k} USD\nUpside: {k + 3}%\nRisk: Medium\n\n"
        _box(page, pymupdf.Rect(x0, middle + 8, x0 + width, bottom - 6), figures + paras[1], fontsize=9)
    _rules(page, xs, [top, middle, bottom])
    checks: list[Check] = [{"type": "absent", "text": "| --- |"}]
    checks += [{"type": "order", "before": cols[k][0], "after": cols[k + 1][0]} for k in range(n - 1)]
    checks += [{"type": "order", "before": cols[k][1], "after": cols[k + 1][1]} for k in range(n - 1)]
    checks += [{"type": "present", "text": p} for paras in cols for p in paras]
    return doc.tobytes(), checks


def analyst_page_in_frames() -> tuple[bytes, list[Check]]:
    """A landscape analyst page as equity research is set: a page-sized background box, a
    sidebar box, two prose columns and, in the sidebar, key figures ruled by horizontal
    lines only under a header row. The boxes' edges are the only vertical "rules"; the table
    finder must not read the prose across them as a table, and the figures are a table."""
    doc = pymupdf.open()
    page = doc.new_page(width=960, height=540)
    page.draw_rect(page.rect, color=None, fill=(0.97, 0.97, 0.97))
    page.draw_rect(pymupdf.Rect(642, 0, 960, 540), color=None, fill=(0.9, 0.93, 0.97))
    cols = [_prose(53 + k, 3, 3) for k in range(2)]
    for k, paras in enumerate(cols):
        x0 = 27 + k * 308
        _box(page, pymupdf.Rect(x0, 60, x0 + 290, 520), "\n\n".join(paras), fontsize=9.5)
    header, y = ["2024", "2025e", "2026e"], 178.0
    for j, cell in enumerate(header):
        page.insert_text((790 + 50 * j, y), cell, fontsize=8, fontname=FONT)
    figures = [
        ["Revenue", "275.5", "295.6", "319.4"],
        ["EBITA", "8.8", "10.3", "12.2"],
        ["EPS (adj.)", "0.43", "0.63", "0.80"],
    ]
    figures += [["P/E (adj.)", "16.5", "11.9", "9.4"]]
    for i, row in enumerate(figures):
        top = 182 + 14 * i
        page.draw_line((670, top), (925, top), width=0.4)
        page.insert_text((672, top + 10), row[0], fontsize=8, fontname=FONT)
        for j, cell in enumerate(row[1:]):
            page.insert_text((790 + 50 * j, top + 10), cell, fontsize=8, fontname=FONT)
    page.draw_line((670, 182 + 14 * len(figures)), (925, 182 + 14 * len(figures)), width=0.4)
    checks: list[Check] = [
        {"type": "order", "before": cols[0][2], "after": cols[1][0]},
        {"type": "table", "row": header, "header": True},
        {"type": "table", "row": ["EBITA", "8.8", "10.3", "12.2"]},
    ]
    checks += [{"type": "present", "text": p} for paras in cols for p in paras]
    return doc.tobytes(), checks


def ligatures_and_hyphens() -> tuple[bytes, list[Check]]:
    """Ligature glyphs and a word hyphenated across lines."""
    doc = pymupdf.open()
    page = doc.new_page()
    text = "The ﬁnal oﬃce ﬂoor plan is eﬀective.\nThe method improves extrac-\ntion quality on every page."
    _unicode_box(page, pymupdf.Rect(72, 72, 523, 300), text, fontsize=11)
    return doc.tobytes(), [
        {"type": "present", "text": "The final office floor plan is effective."},
        {"type": "present", "text": "improves extraction quality"},
    ]


FAULTS = {
    "single_page_boilerplate": single_page_boilerplate,
    "drop_cap": drop_cap,
    "glyph_gap_spaces": glyph_gap_spaces,
    "spacing_accents": spacing_accents,
    "table_header_outside_rules": table_header_outside_rules,
    "table_merged_header": table_merged_header,
    "table_headers_above_rules": table_headers_above_rules,
    "two_columns": lambda: columns_page(2, seed=29),
    "three_columns": lambda: columns_page(3, seed=31),
    "three_columns_ruled": lambda: columns_page(3, ruled=True, seed=37),
    "three_columns_grid": columns_grid_page,
    "analyst_page_in_frames": analyst_page_in_frames,
    "ligatures_and_hyphens": ligatures_and_hyphens,
}


def _norm(text: str) -> str:
    return " ".join(text.split())


def _table_rows(text: str) -> list[tuple[list[str], bool]]:
    """Each Markdown table row of `text` as (cells, is the header row)."""
    lines = text.split("\n")
    rows = []
    for i, line in enumerate(lines):
        s = line.strip()
        if s.startswith("|") and s.endswith("|") and not set(s) <= set("|- "):
            header = i + 1 < len(lines) and set(lines[i + 1].strip()) <= set("|- ") and "---" in lines[i + 1]
            rows.append(([_norm(c) for c in s[1:-1].split(" | ")], header))
    return rows


def passes(text: str, check: Check) -> bool:
    """True when the extracted `text` meets `check` (see the module doc)."""
    kind = check["type"]
    if kind == "present":
        return _norm(check["text"]) in _norm(text)
    if kind == "absent":
        if check.get("line"):
            return all(line.strip() != check["text"] for line in text.split("\n"))
        if "\n" in check["text"]:  # a line break is part of what must not be there
            return check["text"] not in text
        return _norm(check["text"]) not in _norm(text)
    if kind == "order":
        flat, before, after = _norm(text), _norm(check["before"]), _norm(check["after"])
        return before in flat and after in flat and flat.index(before) < flat.index(after)
    if kind == "table":
        want = [_norm(c) for c in check["row"]]
        for cells, header in _table_rows(text):
            if check.get("header") and not header:
                continue
            if any(cells[i : i + len(want)] == want for i in range(len(cells) - len(want) + 1)):
                return True
        return False
    raise ValueError(f"unknown check type {kind!r}")
