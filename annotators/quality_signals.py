"""Gopher, C4 and FineWeb-style quality heuristics of one text, as numbers.

These are the quantities those filters threshold (Rae et al. 2021 "Gopher" quality and
repetition rules, Raffel et al. 2020 "C4" line rules, Penedo et al. 2024 "FineWeb" rules),
computed once so the mixer can choose thresholds per language in SQL. Words come from
`words.split_words`, so Chinese, Japanese and Thai get meaningful counts; terminal
punctuation covers the marks of the main non-Latin scripts. N-gram statistics hash words
to integers and run in numpy, which keeps a 6 KB document around a millisecond.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from corpusmill.annotators.words import sample_words, unspaced_fraction

# Full stops, question and exclamation marks of Latin, CJK, Devanagari, Arabic, Armenian,
# Ethiopic, Myanmar, Khmer and Tibetan writing, plus closing quotes and brackets.
TERMINAL_PUNCT = frozenset('.!?"”’」』)。！？｡।॥؟۔։።፧။။។៕།')
BULLETS = ("•", "●", "○", "▪", "■", "□", "◦", "‣", "⁃", "-", "*", "·", "–", "—")
ELLIPSES = ("...", "…")
SHORT_LINE_CHARS = 30
_HASH_BASE = np.uint64(1_000_003)


def _dup_stats(items: Sequence[str]) -> tuple[float, float]:
    """Fraction of items that repeat an earlier one, and the share of characters they hold."""
    if not items:
        return 0.0, 0.0
    seen: set[str] = set()
    dup_n = dup_chars = total = 0
    for item in items:
        total += len(item)
        if item in seen:
            dup_n += 1
            dup_chars += len(item)
        else:
            seen.add(item)
    return dup_n / len(items), dup_chars / max(total, 1)


def _word_arrays(words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Words as 64-bit ids (equal words, equal ids) and their lengths.

    Python's string hash is the id: computed in C and cached on the string. Its per-process
    salt changes the ids but not which words are equal, so the statistics are reproducible.
    """
    ids = np.fromiter(map(hash, words), dtype=np.int64, count=len(words)).view(np.uint64)
    lens = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    return ids, lens


def _gram_hashes(ids: np.ndarray, n: int) -> np.ndarray:
    """One 64-bit hash per word n-gram (polynomial hash; overflow wraps, collisions negligible)."""
    m = len(ids) - n + 1
    h = np.zeros(m, dtype=np.uint64)
    for k in range(n):
        h = h * _HASH_BASE + ids[k : m + k]
    return h


def _top_ngram_frac(ids: np.ndarray, lens: np.ndarray, n: int, total_chars: int) -> float:
    """Characters covered by the most frequent word n-gram (Gopher `top_n_gram`).

    Among equally frequent n-grams the longest counts, so the result does not depend on
    the (per-process) order of word ids.
    """
    if len(ids) < n:
        return 0.0
    _, first, counts = np.unique(_gram_hashes(ids, n), return_index=True, return_counts=True)
    cumulative = np.concatenate(([0], np.cumsum(lens)))
    gram_chars = cumulative[first + n] - cumulative[first]
    top = counts == counts.max()
    return min(1.0, int(counts.max()) * int(gram_chars[top].max()) / max(total_chars, 1))


def _dup_ngram_frac(ids: np.ndarray, lens: np.ndarray, n: int, total_chars: int) -> float:
    """Characters inside word n-grams that occurred before (Gopher `duplicated_n_grams`)."""
    if len(ids) < n:
        return 0.0
    _, first = np.unique(_gram_hashes(ids, n), return_index=True)
    repeat = np.ones(len(ids) - n + 1, dtype=bool)
    repeat[first] = False
    # Mark the n words of every repeated n-gram with a difference array (no Python loop).
    starts = np.nonzero(repeat)[0]
    delta = np.zeros(len(ids) + 1, dtype=np.int64)
    np.add.at(delta, starts, 1)
    np.add.at(delta, starts + n, -1)
    covered = np.cumsum(delta[:-1]) > 0
    return min(1.0, int(lens[covered].sum()) / max(total_chars, 1))


def _line_signals(text: str) -> dict[str, float]:
    lines = [ln for ln in (raw.strip() for raw in text.split("\n")) if ln]
    paragraphs = [p for p in (raw.strip() for raw in text.split("\n\n")) if p]
    n_lines = max(len(lines), 1)
    dup_line, dup_line_chars = _dup_stats(lines)
    dup_para, dup_para_chars = _dup_stats(paragraphs)
    return {
        "q_bullet_line_frac": sum(ln.startswith(BULLETS) for ln in lines) / n_lines,
        "q_ellipsis_line_frac": sum(ln.endswith(ELLIPSES) for ln in lines) / n_lines,
        "q_terminal_punct_line_frac": sum(ln[-1] in TERMINAL_PUNCT for ln in lines) / n_lines,
        "q_short_line_frac": sum(len(ln) <= SHORT_LINE_CHARS for ln in lines) / n_lines,
        "q_dup_line_frac": dup_line,
        "q_dup_line_char_frac": dup_line_chars,
        "q_dup_para_frac": dup_para,
        "q_dup_para_char_frac": dup_para_chars,
    }


def _word_signals(text: str) -> dict[str, float | int]:
    words = sample_words(text)
    n_words = len(words)
    ids, lens = _word_arrays(words)
    chars = int(lens.sum())
    symbols = sum(text.count(e) for e in ELLIPSES) + text.count("#")
    return {
        "q_n_words": n_words,
        "q_mean_word_len": chars / n_words if n_words else 0.0,
        "q_alpha_word_frac": 1 - sum(map(str.isdigit, words)) / n_words if n_words else 0.0,
        "q_symbol_word_ratio": symbols / max(n_words, 1),
        "q_newline_word_ratio": text.count("\n") / max(n_words, 1),
        "q_top_2gram_frac": _top_ngram_frac(ids, lens, 2, chars),
        "q_top_3gram_frac": _top_ngram_frac(ids, lens, 3, chars),
        "q_top_4gram_frac": _top_ngram_frac(ids, lens, 4, chars),
        "q_dup_5gram_frac": _dup_ngram_frac(ids, lens, 5, chars),
        "q_dup_10gram_frac": _dup_ngram_frac(ids, lens, 10, chars),
    }


def signals(text: str) -> dict[str, float | int | bool]:
    """The per-text quality signals (character-class fractions are computed per batch)."""
    lower = text.lower()
    return {
        **_word_signals(text),
        **_line_signals(text),
        "q_unspaced_frac": unspaced_fraction(text),
        "q_has_lorem_ipsum": "lorem ipsum" in lower,
        "q_has_curly_bracket": "{" in text,
        "q_has_javascript": "javascript" in lower,
    }
