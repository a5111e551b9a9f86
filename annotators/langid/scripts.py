"""Writing-system detection: ISO 15924 codes from Unicode code point ranges.

The ranges are Unicode blocks, which is what a language identifier needs: it only has
to know which labels are possible (`Deva` text is never Russian) and whether a script
is written by a single language we know (`Grek`, `Thai`, `Geor`...). Only letters are
counted; digits, punctuation, symbols and combining marks belong to no script here.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass

# ISO 15924 codes for text without letters and for text that is not text.
COMMON = "Zyyy"
UNKNOWN = "Zzzz"

# (first, last, script), sorted by first code point, non-overlapping.
_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x005A, "Latn"),
    (0x0061, 0x007A, "Latn"),
    (0x00AA, 0x00AA, "Latn"),
    (0x00BA, 0x00BA, "Latn"),
    (0x00C0, 0x00D6, "Latn"),
    (0x00D8, 0x00F6, "Latn"),
    (0x00F8, 0x02AF, "Latn"),
    (0x0370, 0x03FF, "Grek"),
    (0x0400, 0x052F, "Cyrl"),
    (0x0531, 0x058F, "Armn"),
    (0x0591, 0x05FF, "Hebr"),
    (0x0600, 0x06FF, "Arab"),
    (0x0700, 0x074F, "Syrc"),
    (0x0750, 0x077F, "Arab"),
    (0x0780, 0x07BF, "Thaa"),
    (0x07C0, 0x07FF, "Nkoo"),
    (0x0800, 0x083F, "Samr"),
    (0x0870, 0x08FF, "Arab"),
    (0x0900, 0x097F, "Deva"),
    (0x0980, 0x09FF, "Beng"),
    (0x0A00, 0x0A7F, "Guru"),
    (0x0A80, 0x0AFF, "Gujr"),
    (0x0B00, 0x0B7F, "Orya"),
    (0x0B80, 0x0BFF, "Taml"),
    (0x0C00, 0x0C7F, "Telu"),
    (0x0C80, 0x0CFF, "Knda"),
    (0x0D00, 0x0D7F, "Mlym"),
    (0x0D80, 0x0DFF, "Sinh"),
    (0x0E00, 0x0E7F, "Thai"),
    (0x0E80, 0x0EFF, "Laoo"),
    (0x0F00, 0x0FFF, "Tibt"),
    (0x1000, 0x109F, "Mymr"),
    (0x10A0, 0x10FF, "Geor"),
    (0x1100, 0x11FF, "Hang"),
    (0x1200, 0x139F, "Ethi"),
    (0x13A0, 0x13FF, "Cher"),
    (0x1400, 0x167F, "Cans"),
    (0x1680, 0x169F, "Ogam"),
    (0x16A0, 0x16FF, "Runr"),
    (0x1780, 0x17FF, "Khmr"),
    (0x1800, 0x18AF, "Mong"),
    (0x18B0, 0x18FF, "Cans"),
    (0x1C50, 0x1C7F, "Olck"),
    (0x1C80, 0x1C8F, "Cyrl"),
    (0x1C90, 0x1CBF, "Geor"),
    (0x1D00, 0x1DBF, "Latn"),
    (0x1E00, 0x1EFF, "Latn"),
    (0x1F00, 0x1FFF, "Grek"),
    (0x2C00, 0x2C5F, "Glag"),
    (0x2C60, 0x2C7F, "Latn"),
    (0x2D00, 0x2D2F, "Geor"),
    (0x2D30, 0x2D7F, "Tfng"),
    (0x2D80, 0x2DDF, "Ethi"),
    (0x2DE0, 0x2DFF, "Cyrl"),
    (0x2E80, 0x2FDF, "Hani"),
    (0x3005, 0x3007, "Hani"),
    (0x3021, 0x3029, "Hani"),
    (0x3038, 0x303B, "Hani"),
    (0x3041, 0x309F, "Hira"),
    (0x30A0, 0x30FF, "Kana"),
    (0x3100, 0x312F, "Bopo"),
    (0x3130, 0x318F, "Hang"),
    (0x31A0, 0x31BF, "Bopo"),
    (0x31F0, 0x31FF, "Kana"),
    (0x3400, 0x4DBF, "Hani"),
    (0x4E00, 0x9FFF, "Hani"),
    (0xA640, 0xA69F, "Cyrl"),
    (0xA720, 0xA7FF, "Latn"),
    (0xA960, 0xA97F, "Hang"),
    (0xA9E0, 0xA9FF, "Mymr"),
    (0xAA60, 0xAA7F, "Mymr"),
    (0xAB01, 0xAB2F, "Ethi"),
    (0xAB30, 0xAB6F, "Latn"),
    (0xAB70, 0xABBF, "Cher"),
    (0xABC0, 0xABFF, "Mtei"),
    (0xAC00, 0xD7FF, "Hang"),
    (0xF900, 0xFAFF, "Hani"),
    (0xFB00, 0xFB06, "Latn"),
    (0xFB1D, 0xFB4F, "Hebr"),
    (0xFB50, 0xFDFF, "Arab"),
    (0xFE70, 0xFEFF, "Arab"),
    (0xFF21, 0xFF3A, "Latn"),
    (0xFF41, 0xFF5A, "Latn"),
    (0xFF66, 0xFF9F, "Kana"),
    (0xFFA0, 0xFFDC, "Hang"),
    (0x20000, 0x3134F, "Hani"),
)
_STARTS = [first for first, _, _ in _RANGES]

# Scripts that only exist as parts of a writing system with another code.
_JAPANESE_PARTS = {"Hira", "Kana"}
# Japanese text is mostly kanji, yet a little kana already rules out Chinese.
_MIN_KANA_SHARE = 0.05


def char_script(char: str) -> str | None:
    """The script of one letter, or None for digits, punctuation and marks."""
    try:
        return _SCRIPT_OF[char]
    except KeyError:
        script = _lookup(char)
        _SCRIPT_OF[char] = script  # at most one entry per distinct character seen
        return script


def _lookup(char: str) -> str | None:
    if not char.isalpha():
        return None
    point = ord(char)
    i = bisect.bisect_right(_STARTS, point) - 1
    if i >= 0 and point <= _RANGES[i][1]:
        return _RANGES[i][2]
    return None


_SCRIPT_OF: dict[str, str | None] = {}


@dataclass(frozen=True)
class ScriptCount:
    """The main script of a text, its share of the letters and the number of letters."""

    script: str
    share: float
    letters: int


def detect_script(text: str) -> ScriptCount:
    """The dominant writing system of `text`, merging kanji+kana into `Jpan`.

    Counts distinct characters first (C speed), so a 2,000-character chunk costs a
    few hundred range lookups, not one per character.
    """
    counts: Counter[str] = Counter()
    known = _SCRIPT_OF
    for char, n in Counter(text).items():
        script = known[char] if char in known else char_script(char)
        if script is not None:
            counts[script] += n
    letters = sum(counts.values())
    if letters == 0:
        return ScriptCount(COMMON, 0.0, 0)
    kana = counts["Hira"] + counts["Kana"]
    if kana and kana >= _MIN_KANA_SHARE * (kana + counts["Hani"]):
        counts["Jpan"] = kana + counts.pop("Hani", 0)
        for part in _JAPANESE_PARTS:
            counts.pop(part, None)
    script, n = max(counts.items(), key=lambda item: (item[1], item[0]))
    return ScriptCount(script, n / letters, letters)


def label_script(label: str) -> str:
    """The script as detected for text of a FLORES-style label (`zho_Hans` -> `Hani`)."""
    script = label.rsplit("_", 1)[-1]
    return {"Hans": "Hani", "Hant": "Hani"}.get(script, script)
