"""Arithmetic families: fraction sums and percentages, with exact rational answers."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import sympy as sp

from corpusmill.synth.math_item import Family, MathItem, Step, frac, tex


def _fraction_sum(rng: random.Random) -> MathItem:
    b, d = rng.randint(2, 24), rng.randint(2, 24)
    a, c = rng.randint(1, 3 * b), rng.randint(1, 3 * d)
    op = rng.choice("+-")
    lcd = b * d // math.gcd(b, d)
    a2, c2 = a * lcd // b, c * lcd // d
    total = a2 + c2 if op == "+" else a2 - c2
    answer = sp.Rational(total, lcd)
    steps = [
        Step("lcd", {"b": str(b), "d": str(d), "l": str(lcd)}),
        Step("convert", {"l": str(lcd), "converted": f"${frac(a2, lcd)} {op} {frac(c2, lcd)}$"}),
        Step("combine", {"combined": f"$\\frac{{{a2} {op} {c2}}}{{{lcd}}} = {frac(total, lcd)}$"}),
    ]
    if math.gcd(total, lcd) != 1:  # only reducible fractions need a simplification step
        steps.append(Step("simplify", {"result": f"${frac(total, lcd)} = {tex(answer)}$"}))
    return MathItem(
        family="arithmetic.fraction_sum",
        params={"a": a, "b": b, "c": c, "d": d, "op": op},
        answer=answer,
        answer_latex=f"${tex(answer)}$",
        fields={"expr": f"$\\frac{{{a}}}{{{b}}} {op} \\frac{{{c}}}{{{d}}}$"},
        steps=tuple(steps),
        variant=rng.randrange(2),
    )


def _check_fraction_sum(item: MathItem) -> bool:
    p = item.params
    left, right = Fraction(p["a"], p["b"]), Fraction(p["c"], p["d"])
    expected = left + right if p["op"] == "+" else left - right
    return sp.Rational(expected.numerator, expected.denominator) == item.answer


def _percent(rng: random.Random) -> MathItem:
    # Whole percentages, multiples of 5 up to 200 %, and eighths (12.5 %, 37.5 %...).
    kind = rng.randrange(3)
    p = [sp.Integer(rng.randint(1, 99)), sp.Integer(5 * rng.randint(1, 40)), sp.Rational(25, 2) * rng.randint(1, 15)][
        kind
    ]
    n = rng.randint(2, 5000)
    answer = p * n / 100
    ratio = sp.Rational(p) / 100
    return MathItem(
        family="arithmetic.percent",
        params={"p": str(p), "n": n},
        answer=answer,
        answer_latex=f"${tex(answer)}$",
        fields={"p": _pct(p), "n": str(n)},
        steps=(
            Step("percent", {"p": _pct(p), "frac": f"$\\frac{{{_pct(p)}}}{{100}} = {tex(ratio)}$"}),
            Step("multiply", {"n": str(n), "product": f"${tex(ratio)} \\times {n} = {tex(answer)}$"}),
        ),
        variant=rng.randrange(2),
    )


def _pct(p: sp.Basic) -> str:
    return str(p) if p.is_Integer else str(float(p))


def _check_percent(item: MathItem) -> bool:
    value = Fraction(item.params["p"]) * item.params["n"] / 100
    return sp.Rational(value.numerator, value.denominator) == item.answer


FAMILIES = (
    Family("arithmetic.fraction_sum", _fraction_sum, _check_fraction_sum, ("arithmetic",)),
    Family("arithmetic.percent", _percent, _check_percent, ("arithmetic",)),
)
