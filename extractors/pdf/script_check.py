"""Implausible letter sequences: the mark of a text layer written in visual (glyph) order.

Scripts that shape text (Indic scripts, Thai, Arabic) draw glyphs in an order and form that
differ from the Unicode text: a Bengali vowel sign such as U+09BF sits left of its
consonant, Arabic letters take contextual shapes. PDF producers that map glyphs back one
by one, or not at all, leave a text layer that reads wrongly: vowel signs at the start of a
word, Arabic presentation-form code points, or glyphs without a mapping that come out as
stray Latin letters inside words of another script ("हə ďदी"). Such a page reads far better
through OCR; this module measures how much of a page shows those marks.

The rules need no dictionary: each is something the Unicode text of a correctly encoded
page does not contain (measured on Universal Dependencies sentences in Bengali, Hindi,
Tamil, Telugu, Thai, Arabic, Urdu and Persian; see docs/pdf.md).
"""

from __future__ import annotations

import unicodedata

import regex

# Letters of these scripts carry their own dependent vowel signs and marks; a mark at the
# start of a word can only come from glyph order (visual order) or a lost base letter.
_SHAPED = (
    "Bengali",
    "Devanagari",
    "Gujarati",
    "Gurmukhi",
    "Kannada",
    "Malayalam",
    "Oriya",
    "Sinhala",
    "Tamil",
    "Telugu",
    "Thai",
    "Lao",
    "Khmer",
    "Myanmar",
    "Tibetan",
    "Arabic",
    "Hebrew",
)
# Letters and marks only: native digits (๑, ۱) belong to the script too but sit anywhere.
_LETTER_OF = {s: regex.compile(rf"[\p{{Script={s}}}&&[\p{{L}}\p{{M}}]]", regex.V1) for s in _SHAPED}
# Arabic presentation forms A and B: contextual glyph shapes, never typed text. A text
# layer made of them was mapped glyph by glyph (and is often in visual order too).
_PRESENTATION = regex.compile(r"[\uFB50-\uFDFF\uFE70-\uFEFF]")
# Every shaped script above lives in these blocks: text without them (Latin with accents,
# Cyrillic, CJK) skips the per-script counts, which would cost more than the page's analysis.
_SHAPED_BLOCKS = regex.compile(r"[\u0590-\u08FF\u0900-\u0DFF\u0E00-\u0FFF\u1000-\u109F\u1780-\u17FF\uFB1D-\uFEFF]")
# Inside a word of a shaped script: a Latin letter, a digit, a symbol or U+FFFD between two
# of its letters ("เป7น", "मȶ क"), i.e. a glyph the font maps to the wrong code point.
_INTRUDER = regex.compile(r"[\p{Latin}\p{N}\p{Co}\ufffd|\\^~`@#$%&*+=<>\[\]{}]")
# Latin Extended-B, IPA and modifier letters: what unmapped Indic glyphs often come out as
# (a lone "ə" or "ɀ" between words); next to no page in a shaped script uses them.
_STRAY = regex.compile(r"[\u0180-\u02ff]")
MIN_TOKENS = 5  # fewer words than this say nothing either way
SAMPLE = 4000  # characters the shaped script is judged on


def _mark_first(token: str) -> bool:
    return unicodedata.category(token[0]) in ("Mn", "Mc", "Me")


def _intruded(token: str, letter: regex.Pattern[str]) -> bool:
    """A Latin letter, digit or symbol with letters of the page's script on both sides."""
    for m in _INTRUDER.finditer(token):
        if m.start() > 0 and m.end() < len(token):
            before, after = token[m.start() - 1], token[m.end()]
            if letter.match(before) and letter.match(after):
                return True
    return False


def shaped_script(text: str) -> str:
    """The shaped script with the most letters in a sample of `text` ("" when none).

    Not simply the dominant script: unmapped glyphs often come out as Latin letters, which
    can outnumber the real ones on a badly encoded page.
    """
    sample = text[:SAMPLE]
    counts = {s: len(p.findall(sample)) for s, p in _LETTER_OF.items()}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else ("Arabic" if _PRESENTATION.search(sample) else "")


def implausible_share(text: str) -> float:
    """Share of the words of the page's shaped script that a correct encoding cannot produce.

    0.0 for text without a shaped script (Latin, Cyrillic, Han...) and for short texts.
    """
    if text.isascii() or not _SHAPED_BLOCKS.search(text):
        return 0.0
    script = shaped_script(text)
    if not script:
        return 0.0
    letter = _LETTER_OF[script]
    words = bad = 0
    for raw in text.split():
        token = raw.strip("\"'()[]{}.,;:!?«»“”‘’-–—|।॥")
        if not token:
            continue
        if _STRAY.match(token) and not letter.search(token):
            words, bad = words + 1, bad + 1
            continue
        if not (letter.search(token) or _PRESENTATION.search(token)):
            continue
        words += 1
        bad += bool(_mark_first(token) or _PRESENTATION.search(token) or _intruded(token, letter))
    return bad / words if words >= MIN_TOKENS else 0.0
