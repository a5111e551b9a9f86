"""Per-page analysis: how trustworthy is a page's text layer, and is there anything to OCR?

The signals are cheap (string tests on a sample of the page's tokens, a few regular
expressions) because every page of every PDF gets them, and the text route has to stay close to a bare
`page.get_text()` in speed. The score is a number in [0, 1]: roughly the share of the
page's text that looks like real words of its own script, minus a heavy penalty for the
marks of a broken font encoding (private-use code points, `(cid:NN)` tokens, U+FFFD,
UTF-8 read as cp1252).
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import regex

from corpusmill.extractors.pdf.script_check import implausible_share

# Scripts written without spaces between words: their "word-like" share is measured per
# character, not per whitespace token.
_UNSPACED_SCRIPTS = ("Han", "Hiragana", "Katakana", "Thai", "Lao", "Khmer", "Myanmar", "Tibetan")
_SPACED_SCRIPTS = (
    "Latin",
    "Cyrillic",
    "Greek",
    "Arabic",
    "Hebrew",
    "Devanagari",
    "Bengali",
    "Hangul",
    "Armenian",
    "Georgian",
    "Tamil",
    "Telugu",
    "Gujarati",
    "Gurmukhi",
    "Kannada",
    "Malayalam",
    "Sinhala",
    "Ethiopic",
)
_SCRIPT_RES = {s: regex.compile(rf"\p{{Script={s}}}") for s in _SPACED_SCRIPTS + _UNSPACED_SCRIPTS}
_CID = regex.compile(r"\(cid:\d+\)")
# Marks of a broken font encoding: private-use code points, U+FFFD, "(cid:NN)" tokens, and
# UTF-8 bytes decoded as cp1252/latin-1 ("Ã©", "â€™", "Â "...). Counted by matched length.
_MOJIBAKE = r"Ã[\u0080-\u00bf\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]|â€|Â[\u00a0-\u00bf]"
_GARBAGE = regex.compile(rf"\p{{Co}}|\ufffd|\(cid:\d+\)|{_MOJIBAKE}")
# A token, stripped of edge punctuation, is word-like when it is letters (with marks),
# possibly joined by hyphens, apostrophes or dots, or a technical term (asn1_read_value,
# CARD32, www.example.org); numbers count on neither side; long
# ASCII runs without a vowel ("Xqzrtpl") are almost always font-encoding junk. Tokens are
# checked with str methods first: regular expressions over a whole page cost more than the
# text extraction itself.
_EDGE_CHARS = string.punctuation + "“”‘’«»„‚‹›…–—·•§¶°©®™¡¿、。，：；！？「」『』（）"
_WORD = regex.compile(r"[\p{L}\p{M}]+(?:['’\-.][\p{L}\p{M}]+)*")
_TERM = re.compile(r"\w+(?:[./:@\-]+\w+)*")
_NUMBER = re.compile(r"[+\-]?\d+(?:[.,:/\-]\d+)*%?")
_NO_VOWEL = re.compile(r"[b-df-hj-np-tv-xzB-DF-HJ-NP-TV-XZ]+")
_PROSE_CHAR = regex.compile(r"[\p{L}\p{M}\p{N}\p{P}]")
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_UNPRINTABLE = regex.compile(r"[\p{Cc}\p{Cf}\p{Cs}\p{Cn}--[\n\t\r\f]]", regex.V1)
SCRIPT_SAMPLE = 2000  # characters the dominant script is judged on
WORD_SAMPLE = 120  # at most this many tokens of a page are checked for being words


@dataclass(frozen=True)
class TextSignals:
    """Quality signals of a piece of text (a page's text layer or an OCR answer)."""

    chars: int  # non-whitespace characters
    printable_ratio: float
    garbage_ratio: float  # PUA + (cid:..) + U+FFFD + mojibake, per non-space character
    wordlike_ratio: float
    script: str  # dominant script, "" when there are no letters
    score: float
    implausible_ratio: float = 0.0  # words of a shaped script in glyph order (script_check)

    def as_meta(self) -> dict[str, Any]:
        return {
            "chars": self.chars,
            "printable_ratio": round(self.printable_ratio, 4),
            "garbage_ratio": round(self.garbage_ratio, 4),
            "wordlike_ratio": round(self.wordlike_ratio, 4),
            "script": self.script,
            "score": round(self.score, 4),
            "implausible_ratio": round(self.implausible_ratio, 4),
        }


@dataclass(frozen=True)
class PageAnalysis:
    """Everything routing needs to know about one page."""

    number: int  # 0-based
    text: TextSignals
    image_coverage: float  # share of the page area covered by images, clipped to 1
    rotation: int  # the page's /Rotate, degrees clockwise
    drawings: int  # vector path items (0 when they were not listed)

    def as_meta(self) -> dict[str, Any]:
        meta = self.text.as_meta()
        meta.update(image_coverage=round(self.image_coverage, 4), rotation=self.rotation)
        return meta


def dominant_script(text: str) -> str:
    """The script with the most letters in `text` ("" when it has none we know).

    Judged on a sample from the start of the text; pure ASCII text is Latin outright.
    """
    sample = text[:SCRIPT_SAMPLE]
    if sample.isascii():
        return "Latin" if any(map(str.isalpha, sample)) else ""
    letters = sum(map(str.isalpha, sample))
    best, best_n = "", 0
    for name, pattern in _SCRIPT_RES.items():
        n = len(pattern.findall(sample))
        if n > best_n:
            best, best_n = name, n
        if best_n * 2 > letters:  # a majority cannot be beaten: skip the remaining scripts
            break
    return best


def _garbage(text: str, nonspace: int) -> float:
    if text.isascii() and "(cid:" not in text:
        return 0.0  # every other mark is non-ASCII: skip the regex pass over the page
    return min(1.0, sum(len(m) for m in _GARBAGE.findall(text)) / nonspace)


def _unprintable(text: str) -> int:
    if text.isascii():
        return len(_ASCII_CONTROL.findall(text))
    return len(_UNPRINTABLE.findall(text))


def _is_word(core: str) -> bool:
    """A token stripped of edge punctuation is a word: letters (and marks), possibly
    joined by hyphens or apostrophes, or a technical term (identifier, path, address:
    letters with digits and _ . / : @ -); long ASCII runs without a vowel are not."""
    if core.isalpha():
        if len(core) > 5 and core.isascii():
            return not _NO_VOWEL.fullmatch(core)
        return True
    if _WORD.fullmatch(core):
        return True
    return bool(_TERM.fullmatch(core)) and not core.isdigit() and any(c.isalpha() for c in core)


def _wordlike(text: str, tokens: list[str], script: str, nonspace: int) -> float:
    if script in _UNSPACED_SCRIPTS:
        # No word boundaries to test: count characters that belong in prose (letters,
        # digits, punctuation) against symbols and (cid:..) junk.
        junk = sum(len(m) for m in _CID.findall(text))
        return max(0.0, (len(_PROSE_CHAR.findall(text)) - junk) / nonspace)
    counted = good = 0
    # An even sample of at most WORD_SAMPLE of a page's tokens judges it as well as all of
    # them, for less time.
    for token in tokens[:: -(-len(tokens) // WORD_SAMPLE) or 1]:
        core = token.strip(_EDGE_CHARS)
        if not core or _NUMBER.fullmatch(core):
            continue  # punctuation and numbers count on neither side
        counted += 1
        good += _is_word(core)
    return good / counted if counted else 0.0


def text_signals(text: str) -> TextSignals:
    """Score `text`: 1.0 for clean prose, towards 0 for encoding garbage or symbol soup."""
    tokens = text.split()
    nonspace = sum(map(len, tokens))
    if nonspace == 0:
        return TextSignals(0, 1.0, 0.0, 0.0, "", 0.0)
    printable = max(0.0, 1.0 - _unprintable(text) / nonspace)
    garbage = _garbage(text, nonspace)
    script = dominant_script(text)
    wordlike = _wordlike(text, tokens, script, nonspace)
    # Garbage marks weigh five times: a few percent of (cid:..) already means a broken font.
    score = max(0.0, min(1.0, wordlike * printable - 5.0 * garbage))
    return TextSignals(nonspace, printable, garbage, wordlike, script, score, implausible_share(text))


def analyze_page(page: Any, text: str, paths: Sequence[dict[str, Any]] = ()) -> PageAnalysis:
    """Analyze a pymupdf page whose text layer (as plain text) is `text` and whose vector
    paths (`page.get_cdrawings()`, when listed) are `paths`."""
    area = abs(page.rect) or 1.0
    coverage = 0.0
    if page.get_images():  # cheap check first: get_image_info() costs a layout pass
        for info in page.get_image_info():
            box = page.rect & info["bbox"]
            if not box.is_empty:
                coverage += abs(box)
    drawings = sum(len(path["items"]) for path in paths)
    return PageAnalysis(
        number=page.number,
        text=text_signals(text),
        image_coverage=min(1.0, coverage / area),
        rotation=page.rotation % 360,
        drawings=drawings,
    )
