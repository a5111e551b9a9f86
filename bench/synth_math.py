"""Programmatic math throughput: our verified, multilingual, deduplicated generator vs a plain sympy loop.

The peer is what a first script would do: random coefficients, `sympy.solve` / `diff` /
`integrate` / `Rational` for the answer, `sympy.latex` for the formulas, one English template
per kind, no independent check, no decontamination, no near-duplicate removal. We run:
- `ours (room code)`: `ProgrammaticMath` + independent checks + rendering in 10 languages +
  13-gram decontamination + MinHash signatures and selection, in this process;
- `ours (Beam job)`: `corpusmill synth math --programmatic` as a job (FnApiRunner, CPU-count workers).
Run: `python -m bench.synth_math [-n 10000] [--quick]`.
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time

import sympy as sp

from corpusmill.pipelines.synthesize import overshoot, run_synthesize
from corpusmill.synth.decontaminate import Decontaminator
from corpusmill.synth.dedup import select, signature
from corpusmill.synth.math_programmatic import ProgrammaticMath

X = sp.Symbol("x")


def peer_item(rng: random.Random, kind: int) -> str:
    """One problem and answer the plain way (English only, nothing verified)."""
    a, b, c = rng.randint(1, 12), rng.randint(-20, 20), rng.randint(-50, 50)
    if kind == 0:
        eq = sp.Eq(a * X + b, c)
        return f"Solve {sp.latex(eq)}. Answer: {sp.latex(sp.solve(eq, X)[0])}"
    if kind == 1:
        expr = a * X**2 + b * X + c
        return f"Differentiate {sp.latex(expr)} at x = 2. Answer: {sp.diff(expr, X).subs(X, 2)}"
    if kind == 2:
        expr = a * X + b
        return (
            f"Evaluate the integral of {sp.latex(expr)} from 0 to 3. Answer: {sp.latex(sp.integrate(expr, (X, 0, 3)))}"
        )
    if kind == 3:
        r1, r2 = rng.randint(-9, 9), rng.randint(-9, 9)
        expr = sp.expand((X - r1) * (X - r2))
        return f"Solve {sp.latex(expr)} = 0. Answer: {sp.solve(expr, X)}"
    value = sp.Rational(a, rng.randint(2, 20)) + sp.Rational(b, rng.randint(2, 20))
    return f"Add the fractions. Answer: {sp.latex(value)}"


def run_peer(n: int) -> tuple[float, float]:
    rng = random.Random(0)
    start = time.perf_counter()
    texts = [peer_item(rng, i % 5) for i in range(n)]
    elapsed = time.perf_counter() - start
    return n / elapsed, 1 - len(set(texts)) / n


def run_room(n: int) -> tuple[float, float]:
    start = time.perf_counter()
    gen, dec = ProgrammaticMath(), Decontaminator()
    entries = []
    for outcome in gen.generate(0, overshoot(n)):
        text = outcome.document["text"]
        if dec.check(text) is None:
            entries.append((outcome.index, outcome.document["id"], signature(text)))
    chosen = select(entries, target=n)
    elapsed = time.perf_counter() - start
    return len(chosen.keep) / elapsed, chosen.duplicate_rate


def run_job(n: int) -> tuple[float, float]:
    out = tempfile.mkdtemp(prefix="bench-synth-")
    try:
        start = time.perf_counter()
        s = run_synthesize(ProgrammaticMath(), out, n=overshoot(n), target=n)
        return s["docs"] / (time.perf_counter() - start), s["duplicate_rate"]
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="1,000 items, no Beam job")
    args = parser.parse_args()
    n = 1_000 if args.quick else args.n
    peer, peer_dup = run_peer(n)
    rows = [("plain sympy loop (English, unverified)", peer, peer_dup), ("ours (room code)", *run_room(n))]
    if not args.quick:
        rows.append(("ours (Beam job, whole CLI path)", *run_job(n)))
    print(f"{n:,} problems")
    print(f"{'run':42s} {'items/s':>9s} {'dup rate':>9s} {'vs peer':>8s}")
    for name, rate, dup in rows:
        print(f"{name:42s} {rate:9,.0f} {dup:9.2%} {rate / peer:7.2f}x")


if __name__ == "__main__":
    main()
