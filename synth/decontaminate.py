"""Benchmark decontamination by word n-gram overlap (13-grams by default).

A generated text that shares any n-gram with a benchmark item is removed: that is the test
the GPT-3 and Llama reports use, strict on purpose because a copied benchmark problem costs
far more than a lost synthetic one. GSM8K test and HumanEval ship with the package
(`synth/benchmarks/`, MIT); users add their own JSONL / JSONL.gz / text files.
Tokens are the dedup tokens (lower-cased words; one token per CJK character), so
punctuation, spacing and case changes do not hide a copy.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources

from corpusmill import storage
from corpusmill.errors import ConfigError, InputNotFoundError
from corpusmill.synth.dedup import tokens

DEFAULT_NGRAM = 13
# JSONL fields that hold benchmark text; other fields (ids, unit tests) are not part of the problem.
TEXT_FIELDS = ("question", "problem", "prompt", "text", "answer", "solution", "canonical_solution")


def shipped_benchmarks() -> tuple[str, ...]:
    """Paths of the benchmark files that ship with corpusmill (GSM8K test, HumanEval)."""
    folder = resources.files("corpusmill.synth") / "benchmarks"
    return tuple(str(folder / name) for name in ("gsm8k_test.jsonl", "humaneval.jsonl.gz"))


@dataclass(frozen=True)
class Contamination:
    benchmark: str  # file stem, e.g. "gsm8k_test"
    overlapping_ngrams: int


def _benchmark_name(path: str) -> str:
    name = os.path.basename(path)
    for suffix in (".gz", ".jsonl", ".json", ".txt"):
        name = name.removesuffix(suffix)
    return name


def benchmark_texts(path: str) -> Iterator[str]:
    """The texts of one benchmark file: JSONL(.gz) rows' text fields, or a whole text file."""
    fs, p = storage.filesystem(path)
    if not fs.exists(p):
        raise InputNotFoundError(f"benchmark file not found: {path}")
    with fs.open(p, "rb") as raw:
        data = raw.read()
    if path.endswith(".gz"):
        data = gzip.decompress(data)
    text = data.decode("utf-8")
    if ".jsonl" not in path and not path.endswith(".json"):
        yield text
        return
    for line_no, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{line_no}: not JSON ({exc}); benchmark files are JSONL") from exc
        yield from (row[f] for f in TEXT_FIELDS if isinstance(row.get(f), str))


def _gram_hash(toks: Sequence[str]) -> int:
    return int.from_bytes(hashlib.blake2b("\x1f".join(toks).encode("utf-8"), digest_size=8).digest(), "little")


def ngram_hashes(text: str, n: int) -> set[int]:
    toks = tokens(text)
    return {_gram_hash(toks[i : i + n]) for i in range(len(toks) - n + 1)}


class Decontaminator:
    """Holds the n-gram hashes of every benchmark once; `check(text)` names the first it overlaps."""

    def __init__(self, paths: Sequence[str] | None = None, *, ngram: int = DEFAULT_NGRAM) -> None:
        if ngram < 5:
            raise ConfigError(f"decontamination n-gram must be >= 5 (got {ngram}); short n-grams match common phrases")
        self.paths = tuple(paths) if paths else shipped_benchmarks()
        self.ngram = ngram
        self._grams = _load(self.paths, ngram)

    @property
    def benchmarks(self) -> dict[str, int]:
        """Benchmark name -> number of distinct n-grams indexed."""
        return {name: len(grams) for name, grams in self._grams}

    def check(self, text: str) -> Contamination | None:
        grams = ngram_hashes(text, self.ngram)
        for name, bench in self._grams:
            hits = len(grams & bench)
            if hits:
                return Contamination(name, hits)
        return None


@functools.lru_cache(maxsize=4)
def _load(paths: tuple[str, ...], ngram: int) -> tuple[tuple[str, frozenset[int]], ...]:
    # Cached per process: a Beam worker builds the index once, however many bundles it runs.
    out = []
    for path in paths:
        grams: set[int] = set()
        for text in benchmark_texts(path):
            grams |= ngram_hashes(text, ngram)
        out.append((_benchmark_name(path), frozenset(grams)))
    return tuple(out)
