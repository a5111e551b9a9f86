"""A fast word splitter that also works for scripts written without spaces.

Quality signals, fastText features and near-duplicate shingles need "words" (so the
splitter lives in the core, shared by the annotators and the dedup room). spaCy-based splitters (datatrove's)
cost most of a labeling pass; this one is a compiled regex. In scripts that do not
separate words by spaces (Han, kana, Thai, Lao, Khmer, Myanmar, Tibetan) every grapheme
(a letter and its combining marks) counts as one word: for Chinese that is close to how
readers count, for Thai and Japanese it over-counts, but consistently, which is what
per-document statistics and classifier features need. Everything else splits on runs of
letters, combining marks and digits; punctuation and apostrophes separate words.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import regex

_UNSPACED_SCRIPTS = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Tibetan}"
# V1 enables set difference (`--`) so spaced runs stop at the first unspaced-script letter.
_WORD = regex.compile(
    rf"[{_UNSPACED_SCRIPTS}]\p{{M}}*|[[\w\p{{M}}]--[{_UNSPACED_SCRIPTS}]]+",
    regex.V1,
)


def _bmp_mark_ranges() -> str:
    """A stdlib-`re` class body of every combining mark (category M) in the BMP.

    BMP-only classes compile to a lookup table; astral code points would turn the class
    into a linear range scan (5x slower), so texts with astral characters take the full path.
    """
    ranges: list[tuple[int, int]] = []
    start = None
    for cp in range(0x10001):
        is_mark = cp <= 0xFFFF and unicodedata.category(chr(cp)).startswith("M")
        if is_mark and start is None:
            start = cp
        elif not is_mark and start is not None:
            ranges.append((start, cp - 1))
            start = None
    return "".join(f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges)


# The stdlib `\w+` is ~4x faster than the full splitter but breaks words at combining marks
# and cannot split unspaced scripts; it is exact for text containing neither, which a
# C-speed scan decides.
_UNSPACED_BMP = (
    "\u0e00-\u0fff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u31f0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
)
_NEEDS_FULL = re.compile("[" + _bmp_mark_ranges() + _UNSPACED_BMP + "\ud800-\udfff]")
_UNSPACED_RUN = re.compile("[" + _UNSPACED_BMP + "]+")
_SIMPLE_WORD = re.compile(r"\w+")


def _bmp_class(pattern: str, flags: int = 0) -> str:
    """A stdlib-`re` class body of the BMP code points that `regex` pattern `pattern` (one
    character class) matches: the same set, enumerated once with the `regex` module itself."""
    bmp = "".join(map(chr, range(0x10000)))
    points = [m.start() for m in regex.finditer(pattern, bmp, flags=flags)]
    ranges, start = [], None
    for i, cp in enumerate(points):
        if start is None:
            start = cp
        if i + 1 == len(points) or points[i + 1] != cp + 1:
            ranges.append(f"\\u{start:04x}-\\u{cp:04x}")
            start = None
    return "".join(ranges)


@functools.cache
def _bmp_word() -> re.Pattern[str]:
    """`_WORD` for text without astral code points, in the stdlib engine: 2x faster there.

    BMP-only classes compile to lookup tables; the sets are enumerated from `_WORD`'s own
    classes, so for such text the words are exactly `_WORD`'s (the two alternatives start with
    disjoint classes, so `findall` takes the same one at every position). Built on first use
    (~30 ms).
    """
    unspaced = _bmp_class(rf"[{_UNSPACED_SCRIPTS}]", regex.V1)
    marks = _bmp_class(r"\p{M}", regex.V1)
    spaced = _bmp_class(rf"[[\w\p{{M}}]--[{_UNSPACED_SCRIPTS}]]", regex.V1)
    return re.compile(f"[{unspaced}][{marks}]*|[{spaced}]+")


def _has_astral(text: str) -> bool:
    """Whether `text` has a code point above U+FFFF: each takes two UTF-16 units. The encoder
    runs in C, 40x quicker than `max(text)`, which makes a string per character."""
    return len(text.encode("utf-16-le", "surrogatepass")) != 2 * len(text)


def split_words(text: str) -> list[str]:
    """Words of `text` in order (see the module docstring for unspaced scripts)."""
    if text.isascii():
        return _SIMPLE_WORD.findall(text)
    if _has_astral(text):  # astral code points: the full Unicode splitter
        return _WORD.findall(text)
    if _NEEDS_FULL.search(text) is None:
        return _SIMPLE_WORD.findall(text)
    return _bmp_word().findall(text)


def unspaced_fraction(text: str) -> float:
    """Share of characters that belong to scripts written without spaces."""
    if not text or text.isascii():
        return 0.0
    # Runs, not characters: one match object per run of Chinese or Thai instead of one per character.
    return sum(map(len, _UNSPACED_RUN.findall(text))) / len(text)
