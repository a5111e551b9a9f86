"""Final-answer extraction, safe parsing, sympy equivalence and majority voting."""

from __future__ import annotations

import pytest
import sympy as sp

from corpusmill.errors import RecordError
from corpusmill.synth.verify_math import equivalent, extract_final_answer, majority, parse_answer

x = sp.Symbol("x")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("so she earns 18 dollars.\n#### 18", "18"),
        ("Thus \\boxed{\\frac{1}{2}} is it.", "\\frac{1}{2}"),
        ("Answer: **42**", "42"),
        ("答案：$\\frac{46}{63}$", "$\\frac{46}{63}$"),
        ("Ответ: 7.", "7"),
        ("no final line here", None),
    ],
)
def test_extract_final_answer(text: str, expected: str | None) -> None:
    assert extract_final_answer(text) == expected


@pytest.mark.parametrize(
    ("answer", "value"),
    [
        ("\\frac{46}{63}", sp.Rational(46, 63)),
        ("x = \\dfrac{55}{4}", sp.Rational(55, 4)),
        ("$1,234", sp.Integer(1234)),
        ("18 dollars", sp.Integer(18)),
        ("25%", sp.Rational(1, 4)),
        ("x = 20 or x = 9", sp.FiniteSet(9, 20)),
        ("x = -8, y = -7", sp.Tuple(-8, -7)),
        ("(12, -7)", sp.Tuple(12, -7)),
        ("\\gcd = 14, \\operatorname{lcm} = 13888", sp.Tuple(14, 13888)),
        ("(x+1)(x-1)", x**2 - 1),
        ("\\sqrt{8}", 2 * sp.sqrt(2)),
        ("f'(2) = 7", sp.Integer(7)),
    ],
)
def test_parse_and_equivalence_keep_right_answers(answer: str, value: sp.Basic) -> None:
    assert equivalent(parse_answer(answer), value)


@pytest.mark.parametrize(
    ("answer", "value"),
    [("7", sp.Integer(8)), ("x = 2, x = 3", sp.FiniteSet(2, 4)), ("x = 1, y = 2", sp.Tuple(2, 1)), ("x^2", x**3)],
)
def test_equivalence_rejects_wrong_answers(answer: str, value: sp.Basic) -> None:
    assert not equivalent(parse_answer(answer), value)


def test_float_answers_match_within_tolerance_only() -> None:
    assert equivalent(parse_answer("0.75"), sp.Rational(3, 4))
    assert equivalent(parse_answer("3.1415927"), sp.pi)
    assert not equivalent(parse_answer("3.14"), sp.pi)


@pytest.mark.parametrize(
    "answer",
    [
        '__import__("os").system("id")',
        "lambda: 1",
        "9^9^9^9",
        "2**100000",
        "hello world",
        "",
        "x" * 300,
        "os.system(1)",
    ],
)
def test_malformed_or_hostile_answers_are_record_errors(answer: str) -> None:
    with pytest.raises(RecordError) as err:
        parse_answer(answer)
    assert err.value.reason == "unparseable_answer"


def test_majority_needs_agreement() -> None:
    two, three = sp.Integer(2), sp.Integer(3)
    vote = majority([two, sp.Rational(4, 2), two, three])
    assert vote.answer == 2 and vote.votes == 3 and vote.samples == 4
    assert majority([two, three, None]).answer is None  # no answer has two votes
    assert majority([two, two, None, None, three]).answer is None  # 2 of 5 is below 60 %
    assert majority([None, None]).answer is None
