"""Lexical rules for what SIB-200 cannot teach.

SIB-200's Cantonese (`yue_Hant`) is formal written Chinese in Hong Kong usage: not one
of its sentences has a colloquial Cantonese character, so the model cannot know that
嘅, 咗 or 佢哋 mean Cantonese. Chinese text with such characters is labeled `yue_Hant`.

Macedonian and Serbian Cyrillic share most letters, but each alphabet has letters the other
lacks (Macedonian ѓ ќ ѕ, Serbian ђ ћ): where the model answers one and the text holds only
the other's letters, the alphabet decides.
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


# Letters of one of the two alphabets only (lowercase; text is checked case-folded).
MACEDONIAN_ONLY = frozenset("ѓќѕ")
SERBIAN_ONLY = frozenset("ђћ")
_ALPHABET_SIDES = {
    "mkd_Cyrl": ("srp_Cyrl", SERBIAN_ONLY, MACEDONIAN_ONLY),
    "srp_Cyrl": ("mkd_Cyrl", MACEDONIAN_ONLY, SERBIAN_ONLY),
}


def south_slavic_alphabet(text: str, label: str) -> str:
    """`label`, or the other of Macedonian/Serbian when the text has only that alphabet's own letters."""
    side = _ALPHABET_SIDES.get(label)
    if side is None:
        return label
    other, other_letters, own_letters = side
    letters = set(text.lower())
    if letters & other_letters and not letters & own_letters:
        return other
    return label
