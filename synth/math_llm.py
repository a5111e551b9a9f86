"""LLM-written math solutions and problems, kept only when the final answer checks out.

`solve`: the model solves a programmatic problem step by step; its final answer must be
sympy-equivalent to the exact programmatic answer. `invent`: the model writes a new problem
on a topic, then `samples` independent solutions; a solution is kept only when enough of
them agree on the final answer (self-consistency), and the kept text is one that agrees.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import Any

import sympy as sp

from corpusmill.errors import ConfigError, RecordError
from corpusmill.llm import ClientConfig, Request, Response, user
from corpusmill.progress import NO_COUNTERS, CounterSink
from corpusmill.schema import meta_json, stable_id
from corpusmill.synth.base import Outcome
from corpusmill.synth.families import FAMILIES
from corpusmill.synth.languages import language_name
from corpusmill.synth.llm_base import LLMGenerator
from corpusmill.synth.math_item import plain
from corpusmill.synth.math_programmatic import item_rng
from corpusmill.synth.math_render import languages, render, templates
from corpusmill.synth.prompts import prompt, prompt_id
from corpusmill.synth.verify_math import equivalent, extract_final_answer, majority, parse_answer

MODES = ("solve", "invent")
DEFAULT_TOPICS = (
    "arithmetic word problems",
    "percentages",
    "linear equations",
    "quadratic equations",
    "systems of equations",
    "functions",
    "derivatives",
    "integrals",
    "number theory",
    "combinatorics",
    "probability",
    "geometry",
)
AUDIENCES = ("middle school students", "high school students", "university students")


class LLMMath(LLMGenerator):
    kind = "math"
    name = "llm_math"
    version = "1"

    def __init__(
        self,
        client: ClientConfig,
        *,
        mode: str = "solve",
        seed: int = 0,
        langs: Sequence[str] | None = None,
        topics: Sequence[str] | None = None,
        families: Sequence[str] | None = None,
        samples: int = 4,
        min_agreement: float = 0.6,
        temperature: float = 0.7,
        max_tokens: int = 1024,
    ) -> None:
        super().__init__(client, seed=seed, temperature=temperature)
        if mode not in MODES:
            raise ConfigError(f"math mode must be one of {MODES}, got {mode!r}")
        self.langs = tuple(langs or languages())
        if unknown := sorted(set(self.langs) - set(languages())):
            raise ConfigError(f"no math templates for languages {unknown}; available: {', '.join(languages())}")
        self.families = tuple(families or FAMILIES)
        if unknown := sorted(set(self.families) - set(FAMILIES)):
            raise ConfigError(f"unknown math families {unknown}; available: {', '.join(FAMILIES)}")
        if mode == "invent" and samples < 2:
            raise ConfigError("invent mode needs --samples >= 2 to check agreement")
        self.mode, self.topics, self.samples = mode, tuple(topics or DEFAULT_TOPICS), samples
        self.min_agreement, self.max_tokens = min_agreement, max_tokens

    def config(self) -> dict[str, Any]:
        return {
            "generator": self.name,
            "version": self.version,
            "mode": self.mode,
            "languages": list(self.langs),
            "topics": list(self.topics) if self.mode == "invent" else None,
            "families": list(self.families) if self.mode == "solve" else None,
            "samples": self.samples,
            "min_agreement": self.min_agreement,
            "max_tokens": self.max_tokens,
            **self.llm_config(),
        }

    def generate(self, start: int, end: int, counters: CounterSink = NO_COUNTERS) -> Iterator[Outcome]:
        if self.mode == "solve":
            yield from self._solve(range(start, end), counters)
        else:
            yield from self._invent(range(start, end), counters)

    def _uri(self, index: int) -> str:
        return f"synth://math/llm-{self.mode}/seed={self.seed}/{index}"

    def _request(self, text: str, index: int, n: int | None = None) -> Request:
        return Request(
            messages=(user(text),),
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            seed=self.seed * 1_000_003 + index,
            n=n,
            tag=self._uri(index),
        )

    # -- solve: the model's answer against the exact one ---------------------------------------

    def _solve(self, indexes: range, counters: CounterSink) -> Iterator[Outcome]:
        names = self.families
        jobs = []
        for i in indexes:
            family = FAMILIES[names[i % len(names)]]
            lang = self.langs[(i // len(names)) % len(self.langs)]
            item = family.generate(item_rng(self.seed, i))
            question = render(item, lang).question
            text = prompt("math_solve.txt").format(language=language_name(lang), question=question)
            jobs.append((i, family.name, lang, item, question, self._request(text, i)))
        for (i, fam, lang, item, question, _), result in zip(jobs, self.ask([j[-1] for j in jobs])):
            if not result.ok:
                counters.inc(f"dead_{result.reason}")
                yield self.failed_request(i, self._uri(i), result)
                continue
            try:
                got = _final_answer(result.text, result.finish_reason)
            except RecordError as exc:
                counters.inc(f"dead_{exc.reason}")
                yield self.failed(i, self._uri(i), "verify", exc.reason, str(exc))
                continue
            if not equivalent(got, item.answer):
                counters.inc("dead_wrong_answer")
                yield self.failed(
                    i,
                    self._uri(i),
                    "verify",
                    "wrong_answer",
                    f"model answered {plain(got)}, expected {plain(item.answer)}",
                )
                continue
            counters.inc("verified")
            verification = {
                "method": "sympy_equivalence",
                "expected": plain(item.answer),
                "got": plain(got),
                "passed": True,
            }
            yield Outcome(
                i,
                document=self._document(
                    i, lang, question, result, "math_solve.txt", {"family": fam, "params": item.params}, verification
                ),
            )

    # -- invent: agreement across samples -----------------------------------------------------------

    def _invent(self, indexes: range, counters: CounterSink) -> Iterator[Outcome]:
        asks = []
        for i in indexes:
            rng = item_rng(self.seed, i)
            topic, audience = self.topics[i % len(self.topics)], rng.choice(AUDIENCES)
            lang = self.langs[(i // len(self.topics)) % len(self.langs)]
            text = prompt("math_invent.txt").format(topic=topic, language=language_name(lang), audience=audience)
            asks.append((i, topic, audience, lang, self._request(text, i)))
        solvable = []
        for (i, topic, audience, lang, _), result in zip(asks, self.ask([a[-1] for a in asks])):
            problem = result.text.strip() if result.ok else ""
            if not result.ok:
                counters.inc(f"dead_{result.reason}")
                yield self.failed_request(i, self._uri(i), result)
            elif not problem or len(problem) > 4000 or result.finish_reason == "length":
                counters.inc("dead_malformed_answer")
                yield self.failed(
                    i, self._uri(i), "generate", "malformed_answer", f"unusable problem text: {problem[:100]!r}"
                )
            else:
                text = prompt("math_solve.txt").format(language=language_name(lang), question=problem)
                solvable.append((i, topic, audience, lang, problem, self._request(text, i, n=self.samples)))
        for (i, topic, audience, lang, problem, _), result in zip(solvable, self.ask([s[-1] for s in solvable])):
            if not result.ok:
                counters.inc(f"dead_{result.reason}")
                yield self.failed_request(i, self._uri(i), result)
                continue
            yield self._vote(i, lang, problem, result, {"topic": topic, "audience": audience}, counters)

    def _vote(
        self, i: int, lang: str, problem: str, result: Response, extra: dict[str, Any], counters: CounterSink
    ) -> Outcome:
        answers: list[sp.Basic | None] = []
        for text in result.texts:
            try:
                answers.append(_final_answer(text, result.finish_reason))
            except RecordError:
                answers.append(None)
        vote = majority(answers, min_agreement=self.min_agreement)
        if vote.answer is None:
            counters.inc("dead_no_agreement")
            return self.failed(
                i,
                self._uri(i),
                "verify",
                "no_agreement",
                f"{vote.votes} of {vote.samples} samples agree; need {self.min_agreement:.0%}",
            )
        best = next(k for k, a in enumerate(answers) if a is not None and equivalent(a, vote.answer))
        counters.inc("verified")
        verification = {
            "method": "majority_vote",
            "answer": plain(vote.answer),
            "votes": vote.votes,
            "samples": vote.samples,
            "agreement": round(vote.agreement, 3),
            "passed": True,
        }
        chosen = dataclasses.replace(result, text=result.texts[best])
        return Outcome(
            i, document=self._document(i, lang, problem, chosen, "math_invent.txt+math_solve.txt", extra, verification)
        )

    def _document(
        self,
        i: int,
        lang: str,
        question: str,
        result: Response,
        template: str,
        extra: dict[str, Any],
        verification: dict[str, Any],
    ) -> dict[str, Any]:
        labels = templates(lang)["labels"]
        sep = labels.get("sep", ": ")
        text = f"{labels['problem']}{sep}{question}\n\n{labels['solution']}{sep.rstrip()}\n{result.text.strip()}"
        meta = {
            "kind": "math",
            "generator": f"corpusmill.synth.math_llm/{self.mode}",
            "generator_version": self.version,
            "model": result.model,
            "language": lang,
            "question": question,
            "seed": self.seed,
            "index": i,
            "template": "+".join(prompt_id(t) for t in template.split("+")),
            "params": {
                "temperature": self.temperature,
                "max_tokens": self.max_tokens,
                "samples": self.samples if self.mode == "invent" else 1,
                **extra,
            },
            "verification": verification,
        }
        return {
            "id": stable_id("synth/math", f"llm-{self.mode}", str(self.seed), str(i)),
            "text": text,
            "source": "synth/math",
            "uri": self._uri(i),
            "meta": meta_json(meta),
        }


def _final_answer(text: str, finish_reason: str) -> sp.Basic:
    """The parsed final answer of one solution; `RecordError` names what is wrong with it."""
    if finish_reason == "length":
        raise RecordError("truncated", "the solution was cut off at max_tokens")
    raw = extract_final_answer(text)
    if raw is None:
        raise RecordError("no_final_answer", f"no 'Answer:' line or \\boxed{{}} in: {text[-120:]!r}")
    return parse_answer(raw)
