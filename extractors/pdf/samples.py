"""Small PDFs with known text, made with pymupdf: for the demo, the tests and the benchmark.

Each maker returns `(pdf_bytes, expected_text)`, where the expected text is what a
perfect extractor returns (running heads and page numbers excluded, pages joined by
a blank line). `write_sample_pdfs(folder)` writes the demo set. The bytes are the same on
every run (`no_new_id`: pymupdf would otherwise stamp each file with a fresh random /ID), so
the demo's inputs, like its outputs, can be compared byte for byte.
"""

from __future__ import annotations

import os
import random

import pymupdf

SENTENCES = (
    "Pretraining data is collected from many sources and cleaned before it is used.",
    "Most born-digital documents carry a text layer that can be read without recognition.",
    "Scanned pages hold only pictures of text, so they must be recognized optically.",
    "A careful pipeline decides page by page which of the two routes is cheaper.",
    "Every record that cannot be read is written down with the reason it failed.",
    "Language models learn grammar, facts and reasoning from the text they are shown.",
    "Tables keep their rows and columns when they are written out as Markdown.",
    "Running heads and page numbers repeat on every page and carry no content.",
    "The reading order of a two-column article goes down the left column first.",
    "Good extraction keeps every paragraph and drops nothing that a reader would need.",
    "Quality signals such as word shapes reveal a broken font encoding at once.",
    "Parallel workers share the load when a corpus holds millions of documents.",
)
CJK_SENTENCES = (
    "预训练数据来自许多不同的来源，在使用之前需要仔细清洗。",
    "大多数电子文档都带有文本层，可以直接读取而无需识别。",
    "扫描页面只包含文字的图像，因此必须使用光学字符识别。",
    "好的抽取流程会保留每一个段落，不会丢失读者需要的内容。",
)
_TITLES = (
    "Reading Order in Multi-Column Layouts",
    "Routing Pages Between Text and Recognition",
    "Accounting for Every Input Record",
    "Tables, Formulas and Other Structures",
)
HEADER = "Proceedings of the Sample Workshop on Corpus Building"
A4 = pymupdf.paper_rect("a4")


def paragraphs(n: int, seed: int, sentences: int = 4) -> list[str]:
    """`n` paragraphs of English prose, the same for the same seed."""
    rng = random.Random(seed)
    return [" ".join(rng.sample(SENTENCES, sentences)) for _ in range(n)]


def _fill(page: pymupdf.Page, rect: pymupdf.Rect, text: str, fontsize: float, **kw: object) -> None:
    if page.insert_textbox(rect, text, fontsize=fontsize, **kw) < 0:
        raise ValueError(f"sample text does not fit into {rect}")


def _running_head(page: pymupdf.Page, number: int, total: int) -> None:
    page.insert_text((72, 40), HEADER, fontsize=8)
    page.insert_text((270, A4.height - 30), f"Page {number} of {total}", fontsize=8)


def single_column_pdf(pages: int = 3, seed: int = 1, *, running_head: bool = True) -> tuple[bytes, str]:
    """Pages of one-column prose, with a running head; one word hyphenated at a line end."""
    doc, expected = pymupdf.open(), []
    for i in range(pages):
        page = doc.new_page(width=A4.width, height=A4.height)
        if running_head:
            _running_head(page, i + 1, pages)
        paras = paragraphs(3, seed * 100 + i)
        body = "\n\n".join(paras)
        if i == 0:  # a word broken across lines by a hyphen must come back whole
            body = "The extrac-\ntion of text keeps words whole.\n\n" + body
            paras = ["The extraction of text keeps words whole.", *paras]
        _fill(page, pymupdf.Rect(72, 72, A4.width - 72, A4.height - 72), body, 11)
        expected.append("\n\n".join(paras))
    return doc.tobytes(no_new_id=True), "\n\n".join(expected)


def two_column_pdf(pages: int = 3, seed: int = 2) -> tuple[bytes, str]:
    """A title across the page, then two columns of prose, on every page."""
    doc, expected = pymupdf.open(), []
    gutter, top = A4.width / 2, 110
    for i in range(pages):
        page = doc.new_page(width=A4.width, height=A4.height)
        _running_head(page, i + 1, pages)
        title = _TITLES[i % len(_TITLES)]
        _fill(page, pymupdf.Rect(60, 60, A4.width - 60, top - 10), title, 14, align=pymupdf.TEXT_ALIGN_CENTER)
        left, right = paragraphs(3, seed * 100 + i), paragraphs(3, seed * 100 + 50 + i)
        _fill(page, pymupdf.Rect(60, top, gutter - 12, A4.height - 60), "\n\n".join(left), 10)
        _fill(page, pymupdf.Rect(gutter + 12, top, A4.width - 60, A4.height - 60), "\n\n".join(right), 10)
        expected.append("\n\n".join([title, *left, *right]))
    return doc.tobytes(no_new_id=True), "\n\n".join(expected)


TABLE_ROWS = (
    ("Language", "Documents", "Tokens"),
    ("English", "1200", "3.4M"),
    ("Chinese", "800", "2.9M"),
    ("German", "150", "0.4M"),
)


def table_pdf() -> tuple[bytes, str]:
    """A paragraph, then a ruled table (read back as a Markdown table)."""
    doc = pymupdf.open()
    page = doc.new_page(width=A4.width, height=A4.height)
    intro = paragraphs(1, 7)[0]
    _fill(page, pymupdf.Rect(72, 72, A4.width - 72, 200), intro, 11)
    x0, y0, col, row = 72, 220, 140, 24
    for r, cells in enumerate(TABLE_ROWS):
        for c, cell in enumerate(cells):
            rect = pymupdf.Rect(x0 + c * col, y0 + r * row, x0 + (c + 1) * col, y0 + (r + 1) * row)
            page.draw_rect(rect, color=(0, 0, 0), width=0.7)
            page.insert_text((rect.x0 + 6, rect.y1 - 8), cell, fontsize=10)
    lines = ["| " + " | ".join(TABLE_ROWS[0]) + " |", "|" + " --- |" * len(TABLE_ROWS[0])]
    lines += ["| " + " | ".join(r) + " |" for r in TABLE_ROWS[1:]]
    return doc.tobytes(no_new_id=True), intro + "\n\n" + "\n".join(lines)


def cjk_pdf() -> tuple[bytes, str]:
    """Simplified Chinese prose in a font pymupdf ships ("china-s")."""
    doc = pymupdf.open()
    page = doc.new_page(width=A4.width, height=A4.height)
    _fill(page, pymupdf.Rect(72, 72, A4.width - 72, A4.height - 72), "\n\n".join(CJK_SENTENCES), 12, fontname="china-s")
    return doc.tobytes(no_new_id=True), "\n\n".join(CJK_SENTENCES)


def image_only_pdf(text: str | None = None, *, dpi: int = 150, rotate: int = 0) -> tuple[bytes, str]:
    """One page that is only a picture of text (a scan); `rotate` places the picture turned."""
    text = text or "\n\n".join(paragraphs(2, 9, sentences=2))
    source = pymupdf.open()
    page = source.new_page(width=A4.width, height=A4.height)
    _fill(page, pymupdf.Rect(72, 72, A4.width - 72, A4.height - 72), text, 14)
    pix = page.get_pixmap(dpi=dpi, alpha=False)
    doc = pymupdf.open()
    scan = doc.new_page(width=A4.width, height=A4.height)
    scan.insert_image(scan.rect, pixmap=pix, rotate=rotate)
    return doc.tobytes(garbage=3, deflate=True, no_new_id=True), text


def mixed_pdf() -> tuple[bytes, str]:
    """A text page followed by a scanned page: one route each."""
    text_bytes, text = single_column_pdf(pages=1, seed=5, running_head=False)
    scan_bytes, scan = image_only_pdf()
    doc = pymupdf.open("pdf", text_bytes)
    doc.insert_pdf(pymupdf.open("pdf", scan_bytes))
    return doc.tobytes(no_new_id=True), text + "\n\n" + scan


SAMPLES = {
    "two_column.pdf": two_column_pdf,
    "table.pdf": table_pdf,
    "chinese.pdf": cjk_pdf,
    "scanned_and_text.pdf": mixed_pdf,
}


def write_sample_pdfs(folder: str) -> list[str]:
    """Write the demo PDFs (multi-column, a table, Chinese, an image-only page) into `folder`."""
    os.makedirs(folder, exist_ok=True)
    paths = []
    for name, make in SAMPLES.items():
        path = os.path.join(folder, name)
        data, _ = make()
        with open(path, "wb") as fh:
            fh.write(data)
        paths.append(path)
    return paths
