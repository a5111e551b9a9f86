"""Check a model's final answer: extract it, parse it safely, compare with sympy.

Two verdicts are offered. `equivalent(a, b)` compares a model answer with a known exact
one (the programmatic answer). `majority(answers)` votes across several sampled solutions
when no exact answer exists. Model text is untrusted: it is reduced to a small arithmetic
alphabet and a whitelist of names before sympy sees it, and huge powers are refused, so
parsing can neither run code nor hang.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp
from sympy.parsing.sympy_parser import (
    convert_xor,
    implicit_multiplication_application,
    parse_expr,
    standard_transformations,
)

from corpusmill.errors import RecordError

MAX_ANSWER_CHARS = 200
_SYMBOLS = {name: sp.Symbol(name) for name in "abcdhkmnpqrstuvwxyz"}
_NAMES = {
    "sqrt": sp.sqrt,
    "pi": sp.pi,
    "E": sp.E,
    "I": sp.I,
    "oo": sp.oo,
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "log": sp.log,
    "ln": sp.log,
    "exp": sp.exp,
    "Rational": sp.Rational,
}
_ALLOWED = re.compile(r"^[0-9A-Za-z+\-*/^()., =]*$")
_TRANSFORMS = standard_transformations + (implicit_multiplication_application, convert_xor)
_FINAL_LINE = re.compile(
    r"^\s*(?:\*\*)?(?:final answer|answer|réponse|respuesta|resposta|antwort|ответ|答案|答え|الإجابة|उत्तर|####)"
    r"\s*(?:\*\*)?\s*[:：]?\s*(?:\*\*)?\s*(.+?)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_LATEX = [
    (r"\\boxed|\\left|\\right|\\,|\\;|\\!|\\displaystyle|\\quad", " "),
    (r"\\(?:cdot|times)", "*"),
    (r"\\div", "/"),
    (r"\\pi", " pi "),
    (r"\\infty", " oo "),
    (r"\\ln", " log "),
    (r"\\(sin|cos|tan|log|exp)", r" \1 "),
    (r"\\(?:operatorname\{(\w+)\}|mathrm\{(\w+)\})", r"\1\2"),
    (r"\\(?:text|mbox|textbf)\{[^{}]*\}", " "),
    (r"\\%|%", "/100"),
    (r"\\\$|\$|€|£|¥", " "),
]


def extract_final_answer(text: str) -> str | None:
    """The last `\\boxed{...}`, else the last "Answer: ..." line (several languages, `####` too)."""
    boxed = _last_boxed(text)
    if boxed is not None:
        return boxed.strip()
    found = _FINAL_LINE.findall(text)
    return found[-1].strip().strip("*").strip().rstrip(".。") if found else None


def _last_boxed(text: str) -> str | None:
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    depth, i = 0, start + len("\\boxed")
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i + 1 : j]
    return None


def _delatex(s: str) -> str:
    for _ in range(5):  # nested fractions: innermost first, a few levels deep is plenty
        s = re.sub(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}", r"((\1)/(\2))", s)
        s = re.sub(r"\\sqrt\s*\[([^\]]*)\]\s*\{([^{}]*)\}", r"((\2)**(1/(\1)))", s)
        s = re.sub(r"\\sqrt\s*\{([^{}]*)\}", r"sqrt(\1)", s)
    for pattern, repl in _LATEX:
        s = re.sub(pattern, repl, s)
    s = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", s)  # thousands separators: 1,234 -> 1234
    return s.replace("{", "(").replace("}", ")").replace("\\", " ")


def parse_answer(answer: str) -> sp.Basic:
    """A sympy object for a final answer: a number or expression, `x = 2, x = 3` (a set),
    or `x = 1, y = 2` / `gcd = 4, lcm = 36` (a tuple ordered by name). Raises `RecordError`."""
    s = _delatex(answer).strip().rstrip(".")
    if s.count("=") == 1 and "," not in s:  # `f'(2) = 7`, `x = 3`: the value is on the right
        s = s.split("=", 1)[1].strip()
    if not s or len(s) > MAX_ANSWER_CHARS or not _ALLOWED.match(s):
        raise RecordError(
            "unparseable_answer", f"answer is empty, too long or has unexpected characters: {answer[:80]!r}"
        )
    s = re.sub(r"\b(?:or|and)\b", ", ", s)
    # Words of three letters or more that are not known names are units ("18 dollars", "5 cm²").
    # Labels before `=` (`gcd = 4`) stay: they order the parts of a tuple answer.
    s = re.sub(r"\b[A-Za-z]{3,}\b(?!\s*=)", lambda m: m.group(0) if m.group(0) in _NAMES else " ", s)
    names = set(re.findall(r"[A-Za-z]+", re.sub(r"\b\w+\s*=", " ", s)))
    unknown = names - set(_SYMBOLS) - set(_NAMES)
    if unknown:
        raise RecordError("unparseable_answer", f"answer uses unknown names {sorted(unknown)}: {answer[:80]!r}")
    big = [int(e) for e in re.findall(r"(?:\*\*|\^)\s*\(?\s*(\d+)", s)]
    tower = re.search(r"(?:\*\*|\^)[^+\-*/,=]*?(?:\*\*|\^)", s)  # 9^9^9 would never finish
    if tower or any(e > 1000 for e in big) or re.search(r"\d{40}", s):
        raise RecordError("unparseable_answer", f"answer has huge powers or numbers: {answer[:80]!r}")
    try:
        return _parse_parts(s)
    except RecordError:
        raise
    except Exception as exc:  # sympy raises SyntaxError, TypeError, TokenError... on junk
        raise RecordError("unparseable_answer", f"{type(exc).__name__} parsing {answer[:80]!r}") from exc


def _parse_parts(s: str) -> sp.Basic:
    if s.startswith("(") and s.endswith(")") and "," in s and s[1:-1].count("(") == s[1:-1].count(")"):
        s = s[1:-1]  # "(12, -7)": a tuple written with its parentheses
    parts = [p.strip() for p in re.split(r",\s+|;\s*|\bor\b|\band\b", s) if p.strip()]
    assigned = [p.split("=", 1) for p in parts if "=" in p]
    if assigned and len(assigned) == len(parts):
        names = [a.strip() for a, _ in assigned]
        values = [_expr(v) for _, v in assigned]
        if len(set(names)) == 1:
            return sp.FiniteSet(*values) if len(values) > 1 else values[0]
        return sp.Tuple(*(v for _, v in sorted(zip(names, values), key=lambda nv: nv[0])))
    if len(parts) > 1:
        return sp.Tuple(*(_expr(p) for p in parts))
    return _expr(s.split("=")[-1])


def _expr(s: str) -> sp.Basic:
    local = {**_SYMBOLS, **_NAMES}
    return parse_expr(s.strip(), local_dict=local, global_dict=_parse_globals(), transformations=_TRANSFORMS)


def _parse_globals() -> dict:
    # parse_expr's generated code calls these constructors; nothing else is reachable.
    return {
        "__builtins__": {},
        "Integer": sp.Integer,
        "Float": sp.Float,
        "Rational": sp.Rational,
        "Symbol": sp.Symbol,
        "Function": sp.Function,
    }


def equivalent(a: sp.Basic, b: sp.Basic, *, rel_tol: float = 1e-6) -> bool:
    """True when two answers agree: exactly for exact values, to `rel_tol` when either is a float."""
    if isinstance(a, (sp.FiniteSet, sp.Tuple)) or isinstance(b, (sp.FiniteSet, sp.Tuple)):
        return _equivalent_collections(a, b, rel_tol)
    if a == b:  # structurally equal (also covers oo, which has no finite difference)
        return True
    try:
        diff = sp.simplify(a - b)
    except Exception:  # e.g. a relation or a set minus a number: the answers are not comparable
        return False
    if diff == 0:
        return True
    if diff.free_symbols:
        return False
    try:
        va, vb = complex(sp.N(a)), complex(sp.N(b))
    except Exception:  # sympy raises many kinds on odd objects (sets, relations, zoo): not equal
        return False
    has_float = any(isinstance(x, sp.Float) for x in sp.preorder_traversal(a)) or any(
        isinstance(x, sp.Float) for x in sp.preorder_traversal(b)
    )
    return has_float and abs(va - vb) <= rel_tol * max(1.0, abs(vb))


def _equivalent_collections(a: sp.Basic, b: sp.Basic, rel_tol: float) -> bool:
    if type(a) is not type(b) or len(a.args) != len(b.args):
        return False
    if isinstance(a, sp.Tuple):
        return all(equivalent(x, y, rel_tol=rel_tol) for x, y in zip(a.args, b.args))
    left = list(b.args)
    for x in a.args:  # sets: match each element once, in any order
        hit = next((i for i, y in enumerate(left) if equivalent(x, y, rel_tol=rel_tol)), None)
        if hit is None:
            return False
        left.pop(hit)
    return True


@dataclass(frozen=True)
class Vote:
    answer: sp.Basic | None
    votes: int
    samples: int

    @property
    def agreement(self) -> float:
        return self.votes / self.samples if self.samples else 0.0


def majority(answers: Sequence[sp.Basic | None], *, min_agreement: float = 0.6, min_votes: int = 2) -> Vote:
    """The answer most samples agree on, if at least `min_votes` and `min_agreement` of all samples
    (unparseable samples count against it); else a `Vote` whose `answer` is None."""
    groups: list[tuple[sp.Basic, int]] = []
    for ans in answers:
        if ans is None:
            continue
        for i, (rep, n) in enumerate(groups):
            if equivalent(ans, rep):
                groups[i] = (rep, n + 1)
                break
        else:
            groups.append((ans, 1))
    if not groups:
        return Vote(None, 0, len(answers))
    best, votes = max(groups, key=lambda g: g[1])
    needed = max(min_votes, math.ceil(min_agreement * len(answers)))
    return Vote(best if votes >= needed else None, votes, len(answers))
