"""Every bad input of the issue ends as a clear dead letter; nothing else is lost."""

from __future__ import annotations

import json
import random

import pymupdf
import pytest

from corpusmill.extractors.pdf import samples
from corpusmill.extractors.pdf.config import PdfConfig
from corpusmill.extractors.pdf.extractor import PAGE_STAGE, STAGE, PdfExtractor

CONFIG = PdfConfig(ocr="off", max_pages=1000)


@pytest.fixture(scope="module")
def extractor():
    with PdfExtractor(CONFIG) as ex:
        yield ex


def _zero_page_pdf() -> bytes:
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _encrypted(user_pw: str) -> bytes:
    data, _ = samples.single_column_pdf(pages=1)
    return pymupdf.open("pdf", data).tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw=user_pw, owner_pw="owner")


def _blank_pages(n: int) -> bytes:
    doc = pymupdf.open()
    for _ in range(n):
        doc.new_page(width=100, height=100)
    return doc.tobytes()


def _reasons(result) -> list[tuple[str, str]]:
    return [(d["stage"], d["reason"]) for d in result.dead_letters]


@pytest.mark.parametrize(
    ("name", "make", "reason"),
    [
        ("corrupt", lambda: b"%PDF-1.7\n" + random.Random(0).randbytes(4000), "corrupt_pdf"),
        ("not_pdf", lambda: b"just some text, not a PDF at all\n" * 20, "not_a_pdf"),
        ("png", lambda: b"\x89PNG\r\n\x1a\n" + bytes(200), "not_a_pdf"),
        ("empty", lambda: b"", "not_a_pdf"),
        ("zero_pages", _zero_page_pdf, "no_pages"),
        ("encrypted", lambda: _encrypted("secret"), "encrypted"),
        ("huge_page_count", lambda: _blank_pages(1001), "too_many_pages"),
    ],
)
def test_bad_file_becomes_one_dead_letter(extractor, name: str, make, reason: str) -> None:
    result = extractor.extract(f"mem://{name}.pdf", make())
    assert result.document is None
    assert _reasons(result) == [(STAGE, reason)]
    assert result.dead_letters[0]["id"] and result.dead_letters[0]["message"]


def test_encrypted_with_empty_user_password_is_read(extractor) -> None:
    result = extractor.extract("mem://owner-only.pdf", _encrypted(""))
    assert result.document is not None and result.dead_letters == []
    assert json.loads(result.document["meta"])["encrypted"] is True
    assert "extraction of text" in result.document["text"]


def test_truncated_file_keeps_what_survives(extractor) -> None:
    data, _ = samples.single_column_pdf(pages=3, running_head=False)
    result = extractor.extract("mem://truncated.pdf", data[: int(len(data) * 0.3)])
    assert result.document is not None
    meta = json.loads(result.document["meta"])
    assert meta["repaired"] is True
    assert "extraction of text" in result.document["text"]
    # The lost pages are named, one dead letter each, and the document says so too.
    lost = [p["page"] for p in meta["pages"] if p.get("error") == "damaged_page"]
    assert lost and [d["uri"] for d in result.dead_letters] == [f"mem://truncated.pdf#page={n}" for n in lost]
    assert {d["stage"] for d in result.dead_letters} == {PAGE_STAGE}


def test_image_only_page_without_ocr_is_a_page_dead_letter_rest_kept(extractor) -> None:
    data, expected = samples.mixed_pdf()
    result = extractor.extract("mem://mixed.pdf", data)
    assert result.document is not None
    assert "extraction of text" in result.document["text"]
    assert _reasons(result) == [(PAGE_STAGE, "ocr_unavailable")]
    assert "OCR is off (--ocr off)" in result.dead_letters[0]["message"]


def test_only_image_pages_without_ocr_is_a_document_dead_letter(extractor) -> None:
    data, _ = samples.image_only_pdf(dpi=72)
    result = extractor.extract("mem://scan.pdf", data)
    assert result.document is None
    assert _reasons(result) == [(STAGE, "no_text")]
    assert "ocr_unavailable" in result.dead_letters[0]["message"]


def test_file_over_the_size_limit(extractor) -> None:
    small = PdfExtractor(PdfConfig(ocr="off", max_bytes=1000))
    assert _reasons(small.extract("mem://big.pdf", _blank_pages(30))) == [(STAGE, "file_too_large")]
