"""Obscenity lexicons matched only against documents of their own language, and only in context.

The LDNOOBW lists (28 languages, CC BY 4.0, `lexicons/ldnoobw_<code>.txt`) are tokenized with
`words.split_words`, so matching is by whole words in spaced scripts and by grapheme
sequences in Chinese, Japanese and Thai. A list applies to a document only when the
document's `lang` (FLORES-200 style, `ita_Latn`) belongs to the list's language or its
macrolanguage (`LIST_LANGUAGES`): Italian `pesce` is never matched against a Spanish page,
nor Spanish `gol`... against anything but Spanish. Many terms are also ordinary words in
their own language (`pesce` = fish, `monta` = mounts), so one hit never counts:
`lexicon_score` is 0 unless at least `MIN_DISTINCT` different terms occur, then
min(1, 20 x share of words inside matched terms). Digit-only and one-grapheme terms are
dropped, and so are the terms `lexicons/neutral_terms.txt` lists (found in neutral
SIB-200 text by `training.safety_exclusions`).
"""

from __future__ import annotations

import glob
import hashlib
import os
from collections import defaultdict

from corpusmill.annotators.words import lower_words, split_words

LEXICON_DIR = os.path.join(os.path.dirname(__file__), "lexicons")
NEUTRAL_FILE = "neutral_terms.txt"
MIN_DISTINCT = 2

# LDNOOBW file code -> the ISO 639-3 codes (the part of `lang` before `_`) it applies to.
LIST_LANGUAGES: dict[str, tuple[str, ...]] = {
    "ar": ("arb", "ars", "acq", "acm", "aeb", "ajp", "apc", "ary", "arz", "ara"),
    "cs": ("ces",),
    "da": ("dan",),
    "de": ("deu",),
    "en": ("eng",),
    "eo": ("epo",),
    "es": ("spa",),
    "fa": ("pes", "prs", "fas"),
    "fi": ("fin",),
    "fil": ("fil", "tgl"),
    "fr": ("fra",),
    "fr-CA-u-sd-caqc": ("fra",),
    "hi": ("hin",),
    "hu": ("hun",),
    "it": ("ita",),
    "ja": ("jpn",),
    "kab": ("kab",),
    "ko": ("kor",),
    "nl": ("nld",),
    "no": ("nob", "nno", "nor"),
    "pl": ("pol",),
    "pt": ("por",),
    "ru": ("rus",),
    "sv": ("swe",),
    "th": ("tha",),
    "tr": ("tur",),
    "zh": ("zho", "cmn", "yue"),
}

Index = dict[str, set[tuple[str, ...]]]


def _neutral(folder: str) -> set[tuple[str, ...]]:
    path = os.path.join(folder, NEUTRAL_FILE)
    if not os.path.isfile(path):
        return set()
    with open(path, encoding="utf-8") as fh:
        return {tuple(line.split()) for line in fh if line.strip()}


def load_lexicons(folder: str = LEXICON_DIR, *, exclude: bool = True) -> dict[str, Index]:
    """ISO 639-3 code -> first word -> the term word-tuples starting with it (lowercased)."""
    neutral = _neutral(folder) if exclude else set()
    by_lang: dict[str, Index] = {}
    for path in sorted(glob.glob(os.path.join(folder, "ldnoobw_*.txt"))):
        code = os.path.basename(path)[len("ldnoobw_") : -len(".txt")]
        index: Index = defaultdict(set)
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                term = tuple(split_words(line.strip().lower()))
                if (
                    not term
                    or term in neutral
                    or all(w.isdigit() for w in term)
                    or (len(term) == 1 and len(term[0]) < 2)
                ):
                    continue
                index[term[0]].add(term)
        for iso in LIST_LANGUAGES.get(code, ()):  # a list without a mapped language is unused (Klingon)
            merged = by_lang.setdefault(iso, defaultdict(set))
            for first, terms in index.items():
                merged[first] |= terms
    return {iso: dict(index) for iso, index in by_lang.items()}


def lexicon_score(text: str, index: Index) -> float:
    """0 with fewer than `MIN_DISTINCT` distinct terms, else min(1, 20 x covered share)."""
    words = lower_words(text)
    if not words or index.keys().isdisjoint(words):
        return 0.0  # no term starts anywhere: most documents stop here, at one C-speed set scan
    covered, end, found = 0, 0, set()
    lengths: dict[str, list[int]] = {}  # first word -> its terms' lengths, longest first
    # Only positions whose word starts some term are visited.
    for i in [i for i, w in enumerate(words) if w in index]:
        if i < end:
            continue  # inside a term already counted
        word = words[i]
        terms = index[word]
        if word not in lengths:
            lengths[word] = sorted({len(t) for t in terms}, reverse=True)
        # The longest term that starts here: one set lookup per distinct term length, not a
        # comparison per term (a Thai or Japanese grapheme starts up to dozens of terms).
        for n in lengths[word]:
            gram = words[i : i + n]
            if len(gram) == n and gram in terms:
                found.add(gram)
                covered += n
                end = i + n
                break
    if len(found) < MIN_DISTINCT:
        return 0.0
    return min(1.0, 20 * covered / len(words))


class LexiconScorer:
    """Per-language lexicons, loaded once; `score(text, lang)` is 0 for a language without a list."""

    def __init__(self, folder: str = LEXICON_DIR) -> None:
        self.folder = folder
        h = hashlib.blake2b(digest_size=4)
        for path in sorted(glob.glob(os.path.join(folder, "*.txt"))):
            with open(path, "rb") as fh:
                h.update(fh.read())
        self.version = h.hexdigest()
        self._by_lang: dict[str, Index] | None = None

    @property
    def loaded(self) -> bool:
        return self._by_lang is not None

    def load(self) -> None:
        if self._by_lang is None:
            self._by_lang = load_lexicons(self.folder)

    def score(self, text: str, lang: str | None) -> float:
        if not lang or not text:
            return 0.0
        self.load()
        index = (self._by_lang or {}).get(lang.split("_", 1)[0])
        return lexicon_score(text, index) if index else 0.0
