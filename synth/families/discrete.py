"""Number theory, combinatorics and probability families with exact integer or rational answers."""

from __future__ import annotations

import math
import random

import sympy as sp

from corpusmill.synth.math_item import Family, MathItem, Step, frac, tex

PRIMES = (3, 5, 7, 11, 13, 17, 19, 23)


def _factor_tex(n: int) -> str:
    parts = [f"{p}^{{{e}}}" if e > 1 else str(p) for p, e in sorted(sp.factorint(n).items())]
    joined = " \\cdot ".join(parts)
    return f"${n} = {joined}$"


def _gcd_lcm(rng: random.Random) -> MathItem:
    common = rng.randint(2, 30)
    a, b = common * rng.randint(2, 40), common * rng.randint(2, 40)
    while a == b:
        b = common * rng.randint(2, 40)
    gcd, lcm = math.gcd(a, b), math.lcm(a, b)
    return MathItem(
        family="number_theory.gcd_lcm",
        params={"a": a, "b": b},
        answer=sp.Tuple(gcd, lcm),
        answer_latex=f"$\\gcd = {gcd}$, $\\operatorname{{lcm}} = {lcm}$",
        fields={"a": str(a), "b": str(b)},
        steps=(
            Step("factor", {"fa": _factor_tex(a), "fb": _factor_tex(b)}),
            Step("gcd", {"g_eq": f"$\\gcd({a}, {b}) = {gcd}$"}),
            Step("lcm", {"l_eq": f"$\\operatorname{{lcm}}({a}, {b}) = {lcm}$"}),
        ),
        variant=rng.randrange(2),
    )


def _check_gcd_lcm(item: MathItem) -> bool:
    a, b = item.params["a"], item.params["b"]
    return item.answer == sp.Tuple(sp.igcd(a, b), sp.ilcm(a, b))


def _modpow(rng: random.Random) -> MathItem:
    m = rng.choice(PRIMES)
    a = rng.choice([n for n in range(2, 60) if n % m > 1])  # r = 1 would make a dull cycle
    k = rng.randint(20, 2000)
    r = a % m
    powers: list[int] = []
    x = r
    while not powers or x != r:  # prime modulus and r != 0: the powers are purely periodic
        powers.append(x)
        x = x * r % m
    period = len(powers)
    e = k % period or period
    answer = powers[e - 1]
    steps = []
    if a >= m:
        steps.append(Step("reduce", {"a": str(a), "r": str(r), "m": str(m)}))
    listing = ", ".join(str(v) for v in powers)
    steps.append(Step("cycle", {"r": str(r), "m": str(m), "powers": listing, "p": str(period)}))
    steps.append(
        Step(
            "exponent",
            {
                "k": str(k),
                "e": str(e),
                "p": str(period),
                "eq": f"${a}^{{{k}}} \\equiv {r}^{{{e}}} \\equiv {answer} \\pmod{{{m}}}$",
            },
        )
    )
    return MathItem(
        family="number_theory.modpow",
        params={"a": a, "k": k, "m": m},
        answer=sp.Integer(answer),
        answer_latex=f"${answer}$",
        fields={"a": str(a), "k": str(k), "m": str(m)},
        steps=tuple(steps),
        variant=rng.randrange(2),
    )


def _check_modpow(item: MathItem) -> bool:
    p = item.params
    return int(item.answer) == pow(p["a"], p["k"], p["m"])


def _committee(rng: random.Random) -> MathItem:
    n1, n2 = rng.randint(3, 20), rng.randint(3, 20)
    k1, k2 = rng.randint(1, n1 - 1), rng.randint(1, n2 - 1)
    c1, c2 = math.comb(n1, k1), math.comb(n2, k2)
    return MathItem(
        family="combinatorics.committee",
        params={"n1": n1, "k1": k1, "n2": n2, "k2": k2},
        answer=sp.Integer(c1 * c2),
        answer_latex=f"${c1 * c2}$",
        fields={"n1": str(n1), "n2": str(n2), "k1": str(k1), "k2": str(k2)},
        steps=(
            Step("first", {"k": str(k1), "eq": f"$\\binom{{{n1}}}{{{k1}}} = {c1}$"}),
            Step("second", {"k": str(k2), "eq": f"$\\binom{{{n2}}}{{{k2}}} = {c2}$"}),
            Step("product", {"eq": f"${c1} \\times {c2} = {c1 * c2}$"}),
        ),
        variant=rng.randrange(2),
    )


def _check_committee(item: MathItem) -> bool:
    p = item.params
    return sp.binomial(p["n1"], p["k1"]) * sp.binomial(p["n2"], p["k2"]) == item.answer


def _draw(rng: random.Random) -> MathItem:
    red, blue = rng.randint(2, 40), rng.randint(2, 40)
    k = rng.randint(2, min(4, red))
    fav, total = math.comb(red, k), math.comb(red + blue, k)
    answer = sp.Rational(fav, total)
    return MathItem(
        family="probability.draw",
        params={"red": red, "blue": blue, "k": k},
        answer=answer,
        answer_latex=f"${tex(answer)}$",
        fields={"red": str(red), "blue": str(blue), "k": str(k)},
        steps=(
            Step("favorable", {"k": str(k), "eq": f"$\\binom{{{red}}}{{{k}}} = {fav}$"}),
            Step("total", {"k": str(k), "eq": f"$\\binom{{{red + blue}}}{{{k}}} = {total}$"}),
            Step("ratio", {"eq": f"${frac(fav, total)} = {tex(answer)}$"}),
        ),
        variant=rng.randrange(2),
    )


def _check_draw(item: MathItem) -> bool:
    # Sequential draws: (red/n) * ((red-1)/(n-1)) * ..., a different route than counting subsets.
    p = item.params
    prob = sp.Integer(1)
    for i in range(p["k"]):
        prob *= sp.Rational(p["red"] - i, p["red"] + p["blue"] - i)
    return prob == item.answer


FAMILIES = (
    Family("number_theory.gcd_lcm", _gcd_lcm, _check_gcd_lcm, ("number theory",)),
    Family("number_theory.modpow", _modpow, _check_modpow, ("number theory",)),
    Family("combinatorics.committee", _committee, _check_committee, ("combinatorics",)),
    Family("probability.draw", _draw, _check_draw, ("probability",)),
)
