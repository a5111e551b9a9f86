"""Cosmopedia-style textbook text: seed (topic or document extract) x audience x style x language.

Seeds are a list of topics or the high-education-value documents of an annotated corpus
(`seeds_from_corpus`, any SQL filter over the `corpus` view). Item `i` takes seed `i mod S`
and draws audience, style and language from an RNG seeded by (seed, i), so a run covers every
seed evenly and the combinations vary. Length is asked for in the prompt, bounded by
`max_tokens`, and checked: cut-off or far too short answers become dead letters.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from corpusmill.corpus import open_corpus
from corpusmill.errors import ConfigError, InputNotFoundError
from corpusmill.llm import ClientConfig, Request, Response, user
from corpusmill.progress import NO_COUNTERS, CounterSink
from corpusmill.schema import meta_json, stable_id
from corpusmill.synth.base import Outcome
from corpusmill.synth.dedup import tokens
from corpusmill.synth.languages import language_name
from corpusmill.synth.llm_base import LLMGenerator
from corpusmill.synth.math_programmatic import item_rng
from corpusmill.synth.prompts import prompt, prompt_id

AUDIENCES = (
    "young children",
    "middle school students",
    "high school students",
    "college students",
    "professionals and researchers in the field",
    "a general adult audience",
)
STYLES = (
    "textbook section",
    "course unit with exercises",
    "blog post",
    "wikiHow-style how-to",
    "story that teaches the concept",
    "lecture notes",
)
EXTRACT_CHARS = 2_000
# Tokens a model spends per counted word (CJK: per character), with headroom: generous enough
# that a text of the asked length is not cut off, tight enough to bound a runaway answer.
TOKENS_PER_WORD = 2.0


def seeds_from_corpus(
    docs_dir: str, annotations_dir: str | None = None, *, where: str = "true", limit: int = 10_000
) -> list[str]:
    """Document extracts to seed textbook prompts: `SELECT text FROM corpus WHERE <where>`, by id."""
    corpus = open_corpus(docs_dir, annotations_dir)
    try:
        rows = corpus.sql(f"SELECT text FROM corpus WHERE {where} ORDER BY id LIMIT {int(limit)}").fetchall()
    except Exception as exc:  # DuckDB names the bad column or syntax: pass it on as a config problem
        raise ConfigError(f"seed query failed: {exc}") from exc
    seeds = [text[:EXTRACT_CHARS] for (text,) in rows if text and text.strip()]
    if not seeds:
        raise InputNotFoundError(f"no documents in {docs_dir} match WHERE {where}")
    return seeds


def count_words(text: str) -> int:
    return len(tokens(text))


class LLMTextbook(LLMGenerator):
    kind = "textbook"
    name = "llm_textbook"
    version = "1"

    def __init__(
        self,
        client: ClientConfig,
        *,
        topics: Sequence[str] = (),
        extracts: Sequence[str] = (),
        seed: int = 0,
        langs: Sequence[str] = ("en",),
        audiences: Sequence[str] = AUDIENCES,
        styles: Sequence[str] = STYLES,
        words: int = 800,
        min_ratio: float = 0.5,
        temperature: float = 0.8,
    ) -> None:
        super().__init__(client, seed=seed, temperature=temperature)
        if bool(topics) == bool(extracts):
            raise ConfigError("give seed topics or document extracts (exactly one of them)")
        if words < 50 or not 0 < min_ratio < 1:
            raise ConfigError("need words >= 50 and 0 < min_ratio < 1")
        for code in langs:
            language_name(code)
        self.topics, self.extracts = tuple(topics), tuple(extracts)
        self.langs, self.audiences, self.styles = tuple(langs), tuple(audiences), tuple(styles)
        self.words, self.min_ratio = words, min_ratio

    def config(self) -> dict[str, Any]:
        return {
            "generator": self.name,
            "version": self.version,
            "seeds": "topics" if self.topics else "extracts",
            "n_seeds": len(self.topics or self.extracts),
            "languages": list(self.langs),
            "audiences": list(self.audiences),
            "styles": list(self.styles),
            "words": self.words,
            "min_ratio": self.min_ratio,
            "seed_digest": stable_id(*(self.topics or self.extracts)),
            **self.llm_config(),
        }

    def _uri(self, index: int) -> str:
        return f"synth://textbook/llm/seed={self.seed}/{index}"

    def plan(self, index: int) -> dict[str, str]:
        """The prompt parameters of item `index`."""
        rng = item_rng(self.seed, index)
        seeds = self.topics or self.extracts
        choice = {
            "audience": rng.choice(self.audiences),
            "style": rng.choice(self.styles),
            "language": rng.choice(self.langs),
        }
        key = "topic" if self.topics else "extract"
        return {key: seeds[index % len(seeds)], **choice}

    def request(self, index: int) -> Request:
        p = self.plan(index)
        template = "textbook_topic.txt" if self.topics else "textbook_extract.txt"
        text = prompt(template).format(**{**p, "language": language_name(p["language"]), "words": self.words})
        return Request(
            messages=(user(text),),
            temperature=self.temperature,
            max_tokens=int(self.words * TOKENS_PER_WORD * 1.5),
            seed=self.seed * 1_000_003 + index,
            tag=self._uri(index),
        )

    def generate(self, start: int, end: int, counters: CounterSink = NO_COUNTERS) -> Iterator[Outcome]:
        indexes = range(start, end)
        for i, result in zip(indexes, self.ask([self.request(i) for i in indexes])):
            if not result.ok:
                counters.inc(f"dead_{result.reason}")
                yield self.failed_request(i, self._uri(i), result)
                continue
            words = count_words(result.text)
            if result.finish_reason == "length":
                counters.inc("dead_truncated")
                yield self.failed(i, self._uri(i), "verify", "truncated", f"cut off at max_tokens after {words} words")
            elif words < self.min_ratio * self.words:
                counters.inc("dead_too_short")
                yield self.failed(
                    i, self._uri(i), "verify", "too_short", f"{words} words, asked for about {self.words}"
                )
            else:
                counters.inc("generated")
                yield Outcome(i, document=self._document(i, result, words))

    def _document(self, i: int, result: Response, words: int) -> dict[str, Any]:
        p = self.plan(i)
        seed_info = {"topic": p["topic"]} if "topic" in p else {"extract_id": stable_id(p["extract"])}
        meta = {
            "kind": "textbook",
            "generator": "corpusmill.synth.textbook",
            "generator_version": self.version,
            "model": result.model,
            "template": prompt_id("textbook_topic.txt" if self.topics else "textbook_extract.txt"),
            "language": p["language"],
            "seed": self.seed,
            "index": i,
            "params": {
                **seed_info,
                "audience": p["audience"],
                "style": p["style"],
                "target_words": self.words,
                "temperature": self.temperature,
            },
            "verification": {
                "method": "length_check",
                "words": words,
                "min_words": int(self.min_ratio * self.words),
                "finish_reason": result.finish_reason,
                "passed": True,
            },
        }
        return {
            "id": stable_id("synth/textbook", "llm", str(self.seed), str(i)),
            "text": result.text.strip(),
            "source": "synth/textbook",
            "uri": self._uri(i),
            "meta": meta_json(meta),
        }
