"""Algebra families: linear, quadratic and 2x2 linear systems, expanding products, composing functions.

Each `generate` does the arithmetic a student would (and writes it as steps); each `check`
asks sympy to solve, substitute or expand instead.
"""

from __future__ import annotations

import random

import sympy as sp

from corpusmill.synth.math_item import Family, MathItem, Step, frac, nonzero, paren, poly_tex, signed, tex

X, Y = sp.symbols("x y")


def _linear(rng: random.Random) -> MathItem:
    a, b = nonzero(rng, -15, 15), nonzero(rng, -60, 60)
    c = rng.randint(-120, 120)
    answer = sp.Rational(c - b, a)
    move = Step("subtract" if b > 0 else "add", {"n": str(abs(b)), "eq": f"${poly_tex([0, a])} = {c - b}$"})
    steps = [move]
    if a != 1:
        raw = frac(c - b, a)
        eq = f"$x = {raw}$" if raw == tex(answer) else f"$x = {raw} = {tex(answer)}$"
        steps.append(Step("divide", {"n": str(a), "eq": eq}))
    return MathItem(
        family="equations.linear",
        params={"a": a, "b": b, "c": c},
        answer=answer,
        answer_latex=f"$x = {tex(answer)}$",
        fields={"eq": f"${poly_tex([b, a])} = {c}$"},
        steps=tuple(steps),
        variant=rng.randrange(2),
    )


def _check_linear(item: MathItem) -> bool:
    # Substitute the answer back: a*x + b must equal c (a != 0, so the solution is unique).
    p = item.params
    return p["a"] != 0 and p["a"] * item.answer + p["b"] == p["c"]


def _quadratic(rng: random.Random) -> MathItem:
    r1, r2 = nonzero(rng, -25, 25), nonzero(rng, -25, 25)
    while r2 == r1:
        r2 = nonzero(rng, -25, 25)
    k = rng.choice([1, 1, 1, 2, 3, -1, 4, 5, -2])
    s, p = -(r1 + r2), r1 * r2  # x^2 + s x + p
    coeffs = [k * p, k * s, k]
    steps = []
    if k != 1:
        steps.append(Step("divide", {"n": str(k), "eq": f"${poly_tex([p, s, 1])} = 0$"}))
    factored = f"$(x {signed(-r1)})(x {signed(-r2)}) = 0$"
    steps.append(Step("factor", {"p": str(p), "s": str(s), "m": str(-r1), "n": str(-r2), "fact": factored}))
    steps.append(Step("roots", {"roots": f"$x = {r1}$, $x = {r2}$"}))
    lo, hi = sorted((r1, r2))
    return MathItem(
        family="equations.quadratic",
        params={"k": k, "r1": lo, "r2": hi},
        answer=sp.FiniteSet(lo, hi),
        answer_latex=f"$x = {lo}$, $x = {hi}$",
        fields={"eq": f"${poly_tex(coeffs)} = 0$"},
        steps=tuple(steps),
        variant=rng.randrange(2),
    )


def _check_quadratic(item: MathItem) -> bool:
    # Rebuild the equation from its printed coefficients and use the quadratic formula,
    # not the factoring the steps show.
    p = item.params
    a, b, c = (sp.Integer(v) for v in (p["k"], -p["k"] * (p["r1"] + p["r2"]), p["k"] * p["r1"] * p["r2"]))
    root = sp.sqrt(b * b - 4 * a * c)
    return sp.FiniteSet((-b + root) / (2 * a), (-b - root) / (2 * a)) == item.answer


def _system(rng: random.Random) -> MathItem:
    x, y = rng.randint(-12, 12), rng.randint(-12, 12)
    while True:
        a1, b1, a2, b2 = (nonzero(rng, -9, 9) for _ in range(4))
        det = a1 * b2 - a2 * b1
        if det != 0:
            break
    c1, c2 = a1 * x + b1 * y, a2 * x + b2 * y
    # Multiply the first equation by a2 and the second by a1, subtract: (b1 a2 - b2 a1) y = c1 a2 - c2 a1.
    ky, kc = b1 * a2 - b2 * a1, c1 * a2 - c2 * a1
    eq1 = f"${_lin2(a1, b1)} = {c1}$"
    eq2 = f"${_lin2(a2, b2)} = {c2}$"
    steps = (
        Step("eliminate", {"m1": str(a2), "m2": str(a1), "eq": f"${poly_tex([0, ky], 'y')} = {kc}$"}),
        Step("solve_y", {"eq": f"$y = {frac(kc, ky)} = {y}$"}),
        Step("back", {"eq": f"${a1}x {signed(b1)} \\cdot {paren(y)} = {c1}$", "sol": f"$x = {x}$"}),
    )
    return MathItem(
        family="equations.system",
        params={"a1": a1, "b1": b1, "c1": c1, "a2": a2, "b2": b2, "c2": c2},
        answer=sp.Tuple(x, y),
        answer_latex=f"$x = {x}$, $y = {y}$",
        fields={"eq1": eq1, "eq2": eq2},
        steps=steps,
        variant=rng.randrange(2),
    )


def _lin2(a: int, b: int) -> str:
    return f"{poly_tex([0, a], 'x')} {'-' if b < 0 else '+'} {poly_tex([0, abs(b)], 'y')}"


def _check_system(item: MathItem) -> bool:
    # Cramer's rule, a different route than the elimination the steps show.
    p = item.params
    det = p["a1"] * p["b2"] - p["a2"] * p["b1"]
    if det == 0:
        return False
    x = sp.Rational(p["c1"] * p["b2"] - p["c2"] * p["b1"], det)
    y = sp.Rational(p["a1"] * p["c2"] - p["a2"] * p["c1"], det)
    return sp.Tuple(x, y) == item.answer


def _expand(rng: random.Random) -> MathItem:
    a, b, c, d = (nonzero(rng, -12, 12) for _ in range(4))
    terms = f"${a * c}x^{{2}} {signed(a * d)}x {signed(b * c)}x {signed(b * d)}$"
    answer = a * c * X**2 + (a * d + b * c) * X + b * d
    result = poly_tex([b * d, a * d + b * c, a * c])
    return MathItem(
        family="algebra.expand",
        params={"a": a, "b": b, "c": c, "d": d},
        answer=answer,
        answer_latex=f"${result}$",
        fields={"expr": f"$({poly_tex([b, a])})({poly_tex([d, c])})$"},
        steps=(Step("distribute", {"terms": terms}), Step("collect", {"result": f"${result}$"})),
        variant=rng.randrange(2),
    )


def _check_expand(item: MathItem) -> bool:
    p = item.params
    # Compare values at a few points rather than re-running expand() on the same product.
    answer = sp.Poly(item.answer, X)
    return answer.degree() == 2 and all(
        (p["a"] * v + p["b"]) * (p["c"] * v + p["d"]) == answer.eval(v) for v in (-2, 0, 3, 7)
    )


def _composition(rng: random.Random) -> MathItem:
    a, b = nonzero(rng, -9, 9), rng.randint(-20, 20)
    c, d = nonzero(rng, -5, 5), rng.randint(-20, 20)
    k = rng.randint(-10, 10)
    gk = c * k * k + d
    answer = a * gk + b
    f_tex, g_tex = poly_tex([b, a]), poly_tex([d, 0, c])
    return MathItem(
        family="functions.composition",
        params={"a": a, "b": b, "c": c, "d": d, "k": k},
        answer=sp.Integer(answer),
        answer_latex=f"${answer}$",
        fields={"f": f"$f(x) = {f_tex}$", "g": f"$g(x) = {g_tex}$", "k": str(k)},
        steps=(
            Step("inner", {"eq": f"$g({k}) = {c} \\cdot {paren(k)}^{{2}} {signed(d)} = {gk}$"}),
            Step("outer", {"eq": f"$f({gk}) = {a} \\cdot {paren(gk)} {signed(b)} = {answer}$"}),
        ),
        variant=rng.randrange(2),
    )


def _check_composition(item: MathItem) -> bool:
    p = item.params
    f = sp.Lambda(X, p["a"] * X + p["b"])
    g = sp.Lambda(X, p["c"] * X**2 + p["d"])
    return f(g(p["k"])) == item.answer


FAMILIES = (
    Family("equations.linear", _linear, _check_linear, ("algebra", "equations")),
    Family("equations.quadratic", _quadratic, _check_quadratic, ("algebra", "equations")),
    Family("equations.system", _system, _check_system, ("algebra", "equations")),
    Family("algebra.expand", _expand, _check_expand, ("algebra",)),
    Family("functions.composition", _composition, _check_composition, ("functions",)),
)
