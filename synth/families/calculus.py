"""Calculus families: a derivative at a point and a definite integral of a polynomial.

`generate` applies the power rule by hand (that is what the steps show); `check` asks
sympy's `diff` and `integrate`.
"""

from __future__ import annotations

import random

import sympy as sp

from corpusmill.synth.math_item import Family, MathItem, Step, nonzero, paren, poly_tex, tex

X = sp.Symbol("x")


def _derivative(rng: random.Random) -> MathItem:
    degree = rng.randint(2, 4)
    coeffs = [rng.randint(-9, 9) for _ in range(degree)] + [nonzero(rng, -6, 6)]
    k = rng.randint(-5, 5)
    deriv = [i * c for i, c in enumerate(coeffs)][1:]
    value = sum(c * k**i for i, c in enumerate(deriv))
    terms = _substituted(deriv, k)
    return MathItem(
        family="calculus.derivative",
        params={"coeffs": coeffs, "k": k},
        answer=sp.Integer(value),
        answer_latex=f"$f'({k}) = {value}$",
        fields={"f": f"$f(x) = {poly_tex(coeffs)}$", "k": str(k)},
        steps=(
            Step("rule", {"fp": f"$f'(x) = {poly_tex(deriv)}$"}),
            Step("evaluate", {"k": str(k), "eq": f"$f'({k}) = {terms} = {value}$"}),
        ),
        variant=rng.randrange(2),
    )


def _substituted(coeffs: list[int], k: int) -> str:
    """`c_n (k)^n + ... + c_0` with the number k written in, as the evaluation step shows it."""
    parts: list[str] = []
    for i in range(len(coeffs) - 1, -1, -1):
        c = coeffs[i]
        if c == 0:
            continue
        power = "" if i == 0 else (f" \\cdot {paren(k)}" if i == 1 else f" \\cdot {paren(k)}^{{{i}}}")
        sign = ("-" if c < 0 else "") if not parts else ("- " if c < 0 else "+ ")
        parts.append(f"{sign}{abs(c)}{power}")
    return " ".join(parts) or "0"


def _check_derivative(item: MathItem) -> bool:
    poly = sp.Poly(list(reversed(item.params["coeffs"])), X)
    return poly.diff(X).eval(item.params["k"]) == item.answer


def _integral(rng: random.Random) -> MathItem:
    degree = rng.randint(1, 3)
    coeffs = [rng.randint(-9, 9) for _ in range(degree)] + [nonzero(rng, -8, 8)]
    lo = rng.randint(-4, 3)
    hi = rng.randint(lo + 1, 5)
    anti = [sp.Integer(0)] + [sp.Rational(c, i + 1) for i, c in enumerate(coeffs)]
    f_hi = sum((c * hi**i for i, c in enumerate(anti)), sp.Integer(0))
    f_lo = sum((c * lo**i for i, c in enumerate(anti)), sp.Integer(0))
    value = f_hi - f_lo
    integral = f"$\\int_{{{lo}}}^{{{hi}}} \\left({poly_tex(coeffs)}\\right)\\,dx$"
    return MathItem(
        family="calculus.integral",
        params={"coeffs": coeffs, "lo": lo, "hi": hi},
        answer=value,
        answer_latex=f"${tex(value)}$",
        fields={"integral": integral},
        steps=(
            Step("antiderivative", {"F": f"$F(x) = {poly_tex(anti)}$"}),
            Step("evaluate", {"eq": f"$F({hi}) - F({lo}) = {tex(f_hi)} - {paren(f_lo)} = {tex(value)}$"}),
        ),
        variant=rng.randrange(2),
    )


def _check_integral(item: MathItem) -> bool:
    p = item.params
    anti = sp.Poly(list(reversed(p["coeffs"])), X, domain="QQ").integrate(X)
    return anti.eval(p["hi"]) - anti.eval(p["lo"]) == item.answer


FAMILIES = (
    Family("calculus.derivative", _derivative, _check_derivative, ("calculus",)),
    Family("calculus.integral", _integral, _check_integral, ("calculus",)),
)
