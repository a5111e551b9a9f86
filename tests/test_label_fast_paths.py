"""The labelers' fast paths give exactly what their plain definitions give.

Each fast path (stdlib word splitter, partial n-gram sorts, memoized features, regex
prefilters) is checked against a direct, slow implementation of the same definition on
real multilingual text and on seeded random text built to hit the edge cases.
"""

from __future__ import annotations

import gzip
import json
import random
import re
import string
from collections import Counter

import pytest

from corpusmill import words as core_words
from corpusmill.annotators import detectors, edu, gates, quality_signals
from corpusmill.annotators.safety_lexicon import lexicon_score, load_lexicons
from corpusmill.annotators.words import FEATURE_CHARS, features, lower_words, sample_words
from corpusmill.sample_data import sample_jsonl


@pytest.fixture(scope="module")
def sample_texts() -> list[str]:
    with gzip.open(sample_jsonl(), "rt", encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line in fh]


def test_bmp_splitter_equals_the_unicode_splitter(sample_texts: list[str]) -> None:
    bmp = core_words._bmp_word()
    # every BMP code point, alone and in the contexts where marks and unspaced scripts matter
    for cp in range(0x10000):
        c = chr(cp)
        for text in (c, f"a{c}b", f"ก{c}x", f"é{c}{c}", f"\u0301{c}", f"字{c}\u0301"):
            assert bmp.findall(text) == core_words._WORD.findall(text), hex(cp)
    through_bmp = [t for t in sample_texts if max(t) <= "\uffff" and core_words._NEEDS_FULL.search(t)]
    assert len(through_bmp) > 100  # Hindi, Thai, Chinese... : text with marks or unspaced scripts
    for text in through_bmp:
        assert core_words.split_words(text) == core_words._WORD.findall(text)


def test_split_words_takes_the_full_splitter_for_astral_text() -> None:
    text = "𝔘𝔫𝔦 emoji 😀 字字 और"
    assert core_words.split_words(text) == core_words._WORD.findall(text)
    assert core_words.unspaced_fraction("字字ab") == 0.5 and core_words.unspaced_fraction("") == 0.0


def _reference_ngrams(words: list[str]) -> dict[str, float]:
    """Gopher's definitions, directly: Counter of n-gram tuples, a set of seen ones."""
    lens = [len(w) for w in words]
    total = max(sum(lens), 1)
    out = {}
    for n in (2, 3, 4):
        grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
        if not grams:
            out[f"q_top_{n}gram_frac"] = 0.0
            continue
        counts = Counter(grams)
        top = max(counts.values())
        chars = max(sum(len(w) for w in g) for g, c in counts.items() if c == top)
        out[f"q_top_{n}gram_frac"] = min(1.0, top * chars / total)
    for n in (5, 10):
        seen: set[tuple[str, ...]] = set()
        covered = [False] * len(words)
        for i in range(len(words) - n + 1):
            gram = tuple(words[i : i + n])
            if gram in seen:
                covered[i : i + n] = [True] * n
            seen.add(gram)
        out[f"q_dup_{n}gram_frac"] = min(1.0, sum(x for x, c in zip(lens, covered) if c) / total)
    return out


def test_ngram_signals_equal_the_gopher_definitions() -> None:
    rng = random.Random(0)
    vocab = ["a", "bb", "ccc", "dd", "e", "ffff", "g1", "12", "ħ"]
    for _ in range(1500):
        k = rng.randint(1, len(vocab))
        words = [rng.choice(vocab[:k]) for _ in range(rng.choice([0, 1, 2, 4, 5, 9, 10, 11, 30, 120]))]
        ids, lens = quality_signals._word_arrays(words)
        got = quality_signals._ngram_signals(ids, lens, int(lens.sum()))
        want = _reference_ngrams(words)
        assert got == pytest.approx(want, abs=1e-12), words


def _reference_features(text: str) -> str:
    out, used = [], 0
    for word in sample_words(text):
        used += len(word) + 1
        if used > FEATURE_CHARS:
            break
        out.append(word.lower())
    return " ".join(out)


def test_features_and_lower_words_equal_word_by_word_lowering(sample_texts: list[str]) -> None:
    rng = random.Random(1)
    pieces = ["ΟΔΟΣ", "ΣΑΣ", "Σ", "İSTANBUL", "ǅemal", "straße", "ﬁne", "x" * 40, "字", "ภาษา", "\u0301", " ", ". "]
    texts = sample_texts[:200] + ["".join(rng.choice(pieces) for _ in range(rng.randrange(0, 400))) for _ in range(300)]
    for text in texts:
        assert features(text) == _reference_features(text)
        assert lower_words(text) == tuple(w.lower() for w in sample_words(text))


def test_math_bound_never_hides_a_marker() -> None:
    rng = random.Random(2)
    alphabet = list("ab xyzΣπ 0123456789+-*/^=<>()$\\_.,\n²٣") + ["\\frac", "$x+1$", " + ", " = ", "2x", "∑", "×"]
    for _ in range(4000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
        hits = len(detectors._MATH.findall(text))
        bound = sum(text.count(c) for c in detectors._MATH_CHARS) + len(detectors._DIGIT_LETTER.findall(text))
        assert hits <= bound, text
        plain = 0.0 if hits < detectors.MIN_MATH_MARKERS else min(1.0, 100 * hits / len(text) / 2.0)
        assert detectors._math_score.__wrapped__(text) == plain, text


def test_licence_prefilter_knows_every_case_twin_of_an_ascii_letter() -> None:
    everything = "".join(chr(cp) for cp in range(0x80, 0x110000) if not 0xD800 <= cp <= 0xDFFF)
    twins = set(re.findall(f"[{string.ascii_letters}]", everything, re.IGNORECASE))
    assert twins <= set(gates._CASE_TWINS)
    heads = [  # one per alternative of the licence regex, plus a case twin and plain prose
        "GNU Affero General Public License",
        "Permission is hereby granted, free of charge, to any person",
        "Apache License Version 2.0",
        "Redistribution and use in source and binary forms",
        "Mozilla Public License",
        "This is free and unencumbered software released into the public domain.",
        'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY',
        "Creative Commons Attribution 4.0",
        "Apache L\u0130CENSE, Version 2.0",
        "Some prose.",
    ]
    for head in heads:
        assert gates.is_boilerplate_file(None, head, len(head)) == bool(gates._LICENCE_TEXT.search(head))


def _reference_lexicon(text: str, index: dict[str, set[tuple[str, ...]]]) -> float:
    words = [w.lower() for w in sample_words(text)]
    covered, end, found = 0, 0, set()
    for i, w in enumerate(words):
        if i < end or w not in index:
            continue
        best = max((t for t in index[w] if tuple(words[i : i + len(t)]) == t), key=len, default=())
        if best:
            found.add(best)
            covered += len(best)
            end = i + len(best)
    return 0.0 if len(found) < 2 or not words else min(1.0, 20 * covered / len(words))


def test_lexicon_matching_equals_trying_every_term() -> None:
    rng = random.Random(3)
    lexicons = load_lexicons()
    for lang in ("eng", "tha", "jpn", "zho", "ita"):
        index = lexicons[lang]
        terms = sorted({t for ts in index.values() for t in ts})
        for _ in range(200):
            parts = [" ".join(rng.choice(terms)) if rng.random() < 0.5 else "the" for _ in range(rng.randrange(0, 10))]
            text = rng.choice([" ", ""]).join(parts).upper() if rng.random() < 0.2 else " ".join(parts)
            assert lexicon_score(text, index) == _reference_lexicon(text, index), (lang, text)


def test_edu_floor_counts_letters_and_long_tokens_as_defined() -> None:
    rng = random.Random(4)
    alphabet = list("abc ΣΑ字ก1_2\n\t\u00a0\u3000.,;-\u0301²½Ⅻ") + ["a" * 70, "QUJD" * 20, " word"]

    def reference(text: str) -> bool:
        sample = text[: edu.SAMPLE_CHARS]
        if not sample.strip() or len(sample_words(text)) < edu.MIN_WORDS:
            return True
        junk = sum(len(m) for m in re.findall(r"\S{60,}", sample))
        letters = len(re.findall(r"[^\W\d_]", sample))
        return letters / len(sample) < edu.MIN_LETTER_SHARE or junk / len(sample) > 0.5

    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 300)))
        assert edu.below_floor(text) == reference(text), text


def test_re2_whitespace_is_the_five_ascii_spaces() -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    chars = [chr(cp) for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF]
    matched = pc.match_substring_regex(pa.array(chars), r"\s").to_pylist()
    assert {c for c, m in zip(chars, matched) if m} == set(gates.RE2_SPACES)
    text = "a\tb\nc\x0bd\x0ce\rf g\u00a0h\u3000"
    assert gates.space_count(text) == pc.count_substring_regex(pa.array([text]), r"\s")[0].as_py() == 5


def test_astral_check_equals_max() -> None:
    for text in ("a", "\ud800", "a\udfff", "😀", "字😀b", "\U0010ffff", "\uffff", "é" * 10, "𝔘"):
        assert core_words._has_astral(text) == (max(text) > "\uffff"), repr(text)
    assert not core_words._has_astral("")


def test_labelers_of_a_batch_share_its_strings_and_never_another_batchs() -> None:
    import pyarrow as pa

    from corpusmill.annotators.base import texts

    a = pa.table({"id": ["1", "2"], "text": ["first text", "second"]})
    first = texts(a)
    again = texts(a.append_column("lang", pa.array(["eng_Latn", "eng_Latn"])))  # later labelers' view
    assert again == first == ["first text", "second"] and all(x is y for x, y in zip(first, again))
    again.append("mutated")  # each caller gets its own list
    assert texts(a) == ["first text", "second"]
    for rows in (["other text", "second"], ["first text", "second", "third"]):
        assert texts(pa.table({"id": [str(i) for i in range(len(rows))], "text": rows})) == rows
    assert texts(a.slice(1, 1)) == ["second"]
