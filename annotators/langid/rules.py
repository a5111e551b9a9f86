"""Lexical rules for what SIB-200 cannot teach.

SIB-200's Cantonese (`yue_Hant`) is formal written Chinese in Hong Kong usage: not one
of its sentences has a colloquial Cantonese character, so the model cannot know that
嘅, 咗 or 佢哋 mean Cantonese. Chinese text with such characters is labeled `yue_Hant`.
"""

from __future__ import annotations

# Characters of written colloquial Cantonese that standard written Chinese does not use.
CANTONESE_MARKERS = frozenset("嘅咗喺佢哋冇嘢嚟啲嗰噉㗎唔")
# At least this many markers, and this share of the Han characters.
MIN_MARKERS = 2
MIN_MARKER_SHARE = 0.01


def is_written_cantonese(text: str, han_letters: int) -> bool:
    markers = sum(1 for char in text if char in CANTONESE_MARKERS)
    return markers >= MIN_MARKERS and markers >= MIN_MARKER_SHARE * han_letters
