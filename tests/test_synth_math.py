"""Programmatic math: every family's answer survives an independent check, renders in every
language, parses back to itself, and a run of consecutive items is diverse."""

from __future__ import annotations

import dataclasses
import json
import random

import pytest
import sympy as sp

import corpusmill.synth.math_programmatic as mp
from corpusmill.errors import ConfigError
from corpusmill.synth.families import FAMILIES
from corpusmill.synth.math_programmatic import ProgrammaticMath, math_document
from corpusmill.synth.math_render import check_templates, languages, render
from corpusmill.synth.verify_math import equivalent, parse_answer


def _step_keys() -> dict[str, set[str]]:
    keys: dict[str, set[str]] = {name: set() for name in FAMILIES}
    for name, fam in FAMILIES.items():
        for seed in range(200):
            keys[name] |= {s.key for s in fam.generate(random.Random(seed)).steps}
    return keys


def test_at_least_ten_languages_and_every_template_complete() -> None:
    langs = languages()
    assert len(langs) >= 10 and {"en", "zh", "ar", "hi", "ru", "ja"} <= set(langs)
    keys = _step_keys()
    for lang in langs:
        assert check_templates(lang, keys) == [], lang


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_family_answers_pass_their_independent_check_and_parse_back(name: str) -> None:
    fam = FAMILIES[name]
    for seed in range(60):
        item = fam.generate(random.Random(seed))
        assert fam.check(item), (name, item.params)
        assert equivalent(parse_answer(item.answer_latex), item.answer), (name, item.answer_latex, item.answer)
        names = set(item.fields).union(*(s.fields for s in item.steps))
        for lang in languages():
            text = render(item, lang).text
            assert item.answer_latex in text
            assert not [n for n in names if "{" + n + "}" in text], (lang, text)  # no unfilled placeholder


@pytest.mark.parametrize("name", ["equations.linear", "calculus.integral", "probability.draw", "equations.quadratic"])
def test_checks_reject_a_wrong_answer(name: str) -> None:
    fam = FAMILIES[name]
    item = fam.generate(random.Random(7))
    wrong_answer = (
        sp.FiniteSet(*(a + 1 for a in item.answer.args)) if isinstance(item.answer, sp.FiniteSet) else item.answer + 1
    )
    wrong = type(item)(**{**item.__dict__, "answer": wrong_answer})
    assert not fam.check(wrong)


def test_items_are_deterministic_and_rotate_families_and_languages() -> None:
    docs = [math_document(i, seed=3) for i in range(2 * len(FAMILIES) * 3)]
    again = [math_document(i, seed=3) for i in range(len(docs))]
    assert docs == again
    metas = [json.loads(d["meta"]) for d in docs]
    assert {m["family"] for m in metas} == set(FAMILIES)
    assert len({m["language"] for m in metas}) == 6
    assert all(d["source"] == "synth/math" and m["verification"]["passed"] for d, m in zip(docs, metas))
    assert math_document(0, seed=4)["text"] != docs[0]["text"]


def test_generator_rejects_unknown_language_or_family() -> None:
    with pytest.raises(ConfigError, match="xx"):
        ProgrammaticMath(langs=["en", "xx"])
    with pytest.raises(ConfigError, match="nope"):
        ProgrammaticMath(families=["nope"])


def test_a_failed_check_is_a_dead_letter_not_a_document(monkeypatch) -> None:
    broken = dataclasses.replace(FAMILIES["equations.linear"], check=lambda item: False)
    monkeypatch.setattr(mp, "FAMILIES", {**FAMILIES, "equations.linear": broken})
    gen = ProgrammaticMath(families=["arithmetic.percent", "equations.linear"])
    outcomes = list(gen.generate(0, 10))
    dead = [o.dead_letter for o in outcomes if o.dead_letter]
    assert len(outcomes) == 10 and len(dead) == 5
    assert {d["reason"] for d in dead} == {"check_failed"} and all(d["stage"] == "generate" for d in dead)


def test_an_unexpected_error_dead_letters_the_rest_of_the_span(monkeypatch) -> None:
    def explode(rng):
        raise ZeroDivisionError("family bug")

    broken = dataclasses.replace(FAMILIES["equations.linear"], generate=explode)
    monkeypatch.setattr(mp, "FAMILIES", {**FAMILIES, "equations.linear": broken})
    gen = ProgrammaticMath(families=["arithmetic.percent", "equations.linear"])
    outcomes = list(gen.outcomes(0, 6))
    assert [o.index for o in outcomes] == [0, 1, 2, 3, 4, 5]
    assert outcomes[0].document is not None
    assert all(o.dead_letter["reason"] == "internal_error" for o in outcomes[1:])
