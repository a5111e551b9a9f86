"""PDFs that reproduce the page-quality faults of issue 18, for the tests and `bench.ocr_engines`.

Text in shaped scripts is laid out with `insert_htmlbox`, which shapes it (HarfBuzz) with
MuPDF's built-in Noto fonts. Its text layer then shows exactly the faults of real
producers: Indic vowel signs in glyph order, glyphs without a Unicode mapping, Arabic
presentation forms. The same page rendered to pixels is a clean "scan" whose true text is
known, which is what OCR engines are compared on.
"""

from __future__ import annotations

import random

import numpy as np
import pymupdf

# A few plain sentences per script (written for these tests; any correct text would do).
SCRIPT_SENTENCES: dict[str, tuple[str, ...]] = {
    "Latin": (
        "The library opens at nine in the morning and closes late in the evening.",
        "Students read old newspapers to learn how the city changed over the years.",
        "A small river runs through the valley and feeds the fields on both sides.",
        "Every winter the farmers repair their tools and plan the next harvest.",
    ),
    "Cyrillic": (
        "Библиотека открывается в девять часов утра и закрывается поздно вечером.",
        "Студенты читают старые газеты, чтобы узнать, как менялся город.",
        "Небольшая река течёт через долину и питает поля на обоих берегах.",
        "Каждую зиму крестьяне чинят инструменты и готовятся к новому урожаю.",
    ),
    "Han": (
        "图书馆早上九点开门，晚上很晚才关门。",
        "学生们阅读旧报纸，了解这座城市多年来的变化。",
        "一条小河流过山谷，滋润着两岸的田地。",
        "每年冬天，农民们修理工具，计划下一次收获。",
    ),
    "Arabic": (
        "تفتح المكتبة أبوابها في الساعة التاسعة صباحا وتغلق في المساء.",
        "يقرأ الطلاب الصحف القديمة ليعرفوا كيف تغيرت المدينة.",
        "يجري نهر صغير في الوادي ويسقي الحقول على الجانبين.",
        "في كل شتاء يصلح المزارعون أدواتهم ويخططون للحصاد القادم.",
    ),
    "Devanagari": (
        "पुस्तकालय सुबह नौ बजे खुलता है और शाम को देर से बंद होता है।",
        "छात्र पुराने अखबार पढ़ते हैं ताकि जान सकें कि शहर कैसे बदला।",
        "एक छोटी नदी घाटी से बहती है और दोनों ओर के खेतों को सींचती है।",
        "हर सर्दी में किसान अपने औज़ार ठीक करते हैं और अगली फसल की योजना बनाते हैं।",
    ),
    "Bengali": (
        "গ্রন্থাগার সকাল নটায় খোলে এবং সন্ধ্যায় দেরিতে বন্ধ হয়।",
        "ছাত্ররা পুরোনো খবরের কাগজ পড়ে শহর কীভাবে বদলেছে তা জানতে।",
        "একটি ছোট নদী উপত্যকার মধ্য দিয়ে বয়ে যায় এবং দুই পাশের খেতে জল দেয়।",
        "প্রতি শীতে কৃষকেরা তাদের যন্ত্রপাতি মেরামত করে এবং পরের ফসলের পরিকল্পনা করে।",
    ),
    "Tamil": (
        "நூலகம் காலை ஒன்பது மணிக்குத் திறந்து மாலையில் தாமதமாக மூடப்படும்.",
        "நகரம் எப்படி மாறியது என்பதை அறிய மாணவர்கள் பழைய செய்தித்தாள்களைப் படிக்கிறார்கள்.",
        "ஒரு சிறிய ஆறு பள்ளத்தாக்கின் வழியாக ஓடி இரு பக்க வயல்களுக்கும் நீர் தருகிறது.",
        "ஒவ்வொரு குளிர்காலத்திலும் விவசாயிகள் தங்கள் கருவிகளைப் பழுது பார்க்கிறார்கள்.",
    ),
    "Thai": (
        "ห้องสมุดเปิดเวลาเก้านาฬิกาและปิดในตอนเย็น",
        "นักเรียนอ่านหนังสือพิมพ์เก่าเพื่อเรียนรู้ว่าเมืองเปลี่ยนไปอย่างไร",
        "แม่น้ำสายเล็กไหลผ่านหุบเขาและหล่อเลี้ยงทุ่งนาทั้งสองฝั่ง",
        "ทุกฤดูหนาวชาวนาจะซ่อมเครื่องมือและวางแผนการเก็บเกี่ยวครั้งต่อไป",
    ),
}
RTL = {"Arabic"}
PAGE = pymupdf.paper_rect("a4")
BOX = pymupdf.Rect(56, 56, PAGE.width - 56, PAGE.height - 56)
SHOW_THROUGH = 0.25  # how dark the back's text shows on a blank scan, as a share of its ink


def script_text(script: str, sentences: int = 8, seed: int = 0) -> str:
    """`sentences` sentences of `script`, in a seeded order (repeats allowed)."""
    rng = random.Random(f"{script}-{seed}")
    pool = SCRIPT_SENTENCES[script]
    return " ".join(rng.choice(pool) for _ in range(sentences))


def shaped_page(doc: pymupdf.Document, text: str, *, script: str = "Latin", fontsize: int = 14) -> pymupdf.Page:
    """A page holding `text` as shaped text (the way browsers and office suites lay it out)."""
    page = doc.new_page(width=PAGE.width, height=PAGE.height)
    direction = "rtl" if script in RTL else "ltr"
    html = f'<p dir="{direction}" style="font-size:{fontsize}px; line-height:1.5">{text}</p>'
    spare, _ = page.insert_htmlbox(BOX, html)
    if spare < 0:
        raise ValueError("sample text does not fit on one page")
    return page


def shaped_text_pdf(script: str, sentences: int = 8, seed: int = 0) -> tuple[bytes, str]:
    """A one-page PDF whose text layer comes from shaped glyphs; returns (bytes, true text)."""
    text = script_text(script, sentences, seed)
    doc = pymupdf.open()
    shaped_page(doc, text, script=script)
    return doc.tobytes(no_new_id=True), text


def scan_of(pdf: bytes, *, dpi: int = 200, rotate: int = 0) -> bytes:
    """Each page of `pdf` rasterized (a scan without a text layer), turned `rotate` degrees."""
    src = pymupdf.open("pdf", pdf)
    out = pymupdf.open()
    for page in src:
        pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
        rect = page.rect
        if rotate in (90, 270):
            rect = pymupdf.Rect(0, 0, rect.height, rect.width)
        target = out.new_page(width=rect.width, height=rect.height)
        target.insert_image(target.rect, stream=pix.tobytes("png"), rotate=rotate)
    return out.tobytes(no_new_id=True)


def blank_scan_pdf(seed: int = 0, dpi: int = 100) -> bytes:
    """A scanned blank sheet: off-white paper with grain, the dark shadow of the scanner lid
    along one edge, and the text of the sheet's back showing through, mirrored and faint.
    That show-through is what OCR reads as a screen of garbage ("e1s9y oft 19v0 ...")."""
    rng = np.random.default_rng(seed)
    doc = pymupdf.open()
    back = shaped_page(doc, script_text("Latin", sentences=14, seed=seed)).get_pixmap(
        dpi=dpi, colorspace=pymupdf.csGRAY
    )
    ink = 255.0 - np.frombuffer(back.samples, np.uint8).reshape(back.height, back.stride)[:, : back.width][:, ::-1]
    paper = 236.0 - SHOW_THROUGH * ink + rng.normal(0.0, 6.0, ink.shape)
    paper[:, : dpi // 8] = np.linspace(40.0, 200.0, dpi // 8)  # the lid's shadow
    pixels = np.clip(paper, 0, 255).astype(np.uint8)
    pix = pymupdf.Pixmap(pymupdf.csGRAY, back.width, back.height, pixels.tobytes(), False)
    out = pymupdf.open()
    page = out.new_page(width=PAGE.width, height=PAGE.height)
    page.insert_image(page.rect, stream=pix.tobytes("png"))
    return out.tobytes(no_new_id=True)


def replacement_char_pdf(n: int = 20) -> bytes:
    """A page whose text layer is only U+FFFD: glyphs drawn, none mapped to Unicode.

    The words are drawn in an embedded font whose ToUnicode map sends every code to an
    unpaired surrogate, which MuPDF reads as U+FFFD: the page shows readable text while
    its text layer reads "\ufffd\ufffd\ufffd" (as some producers' broken maps do).
    """
    doc = pymupdf.open()
    page = doc.new_page(width=PAGE.width, height=PAGE.height)
    page.insert_font(fontname="F0", fontbuffer=pymupdf.Font("tiro").buffer)
    lines = [SCRIPT_SENTENCES["Latin"][i % 4] for i in range(n)]
    page.insert_textbox(BOX, "\n".join(lines), fontsize=12, fontname="F0")
    doc.subset_fonts()
    _unmap_fonts(doc)
    return doc.tobytes(no_new_id=True, garbage=3, deflate=True)


def _unmap_fonts(doc: pymupdf.Document) -> None:
    """Give every composite font a ToUnicode CMap that maps its codes to nothing valid."""
    cmap = (
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /Unmapped def "
        b"1 begincodespacerange <0000> <FFFF> endcodespacerange 1 beginbfrange <0000> <FFFF> <D800> "
        b"endbfrange endcmap CMapName currentdict /CMap defineresource pop end end"
    )
    for xref in range(1, doc.xref_length()):
        if doc.xref_get_key(xref, "Subtype") == ("name", "/Type0"):
            stream = doc.get_new_xref()
            doc.update_object(stream, "<<>>")
            doc.update_stream(stream, cmap)
            doc.xref_set_key(xref, "ToUnicode", f"{stream} 0 R")


def huge_image_pdf(side: int = 10_000) -> bytes:
    """A page holding one `side` x `side` gray image (mostly white, a few black bars).

    Compressed it is a few hundred KiB; decoded it is `side`² bytes, the memory a reader
    must not multiply.
    """
    row_white, row_bar = b"\xff" * side, (b"\x00" * 200 + b"\xff" * 300) * (side // 500) + b"\xff" * (side % 500)
    rows = [row_bar if (y // 400) % 5 == 0 else row_white for y in range(side)]
    pix = pymupdf.Pixmap(pymupdf.csGRAY, side, side, b"".join(rows), False)
    doc = pymupdf.open()
    page = doc.new_page(width=PAGE.width, height=PAGE.height)
    page.insert_image(page.rect, pixmap=pix)
    return doc.tobytes(no_new_id=True, deflate=True)
