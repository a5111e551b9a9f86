"""Rule-based code and math detectors (features, not models): fast, language independent.

Both look at notation in context, never at a script's letters: Greek prose is full of
π, θ, λ and σ, and Greek uses `;` as its question mark.

Code: the share of non-empty lines that look like source code (keywords that open a
definition or import at the start of a line, comment markers, block braces, statements
that end in `;` after an assignment or a call, arrows at the end of a line).
Math: at least `MIN_MATH_MARKERS` markers, then their density per 100 characters. A marker
is a LaTeX command, `$...$` holding an operator, a symbol that only mathematics uses
(∑ ∫ √ ≤ ≠ ...), an operator between numbers (`3 + 4`, `2^10`; never a bare `-` or `/`,
which are score lines, ranges and dates), or a one-letter variable of any script beside an
operator (`x = 2`, `2πr`, `E = mc^2`). Both are bounded to a text sample.
"""

from __future__ import annotations

import functools
import re

SAMPLE_CHARS = 5000
MIN_MATH_MARKERS = 3

_CODE_LINE = re.compile(
    r"""^\s*(?:
        (?:def|class|function|var|let|const|public|private|static|void|func|fn|struct|enum|impl)\b[^\n]*[(:{;=]
      | (?:import|from|package|using|\#include|\#define|module|require)\b\s*[\w."'<]
      | (?:return|break|continue|pass|yield|raise|throw)\b
      | (?:if|elif|else|for|while|switch|catch|try|except|finally|with)\b[^\n]*[:({]\s*$
      | (?:if|for|while|switch|catch)\s*\(
      | [\w.\[\]"']+\s*[-+*/%|&]?=\s*[^=\s]
      | (?://|/\*|\*/|\#!|<\?php|<script|</?div|</?span)
      | [^\n]*[=(][^\n]*;\s*$
      | [^\n]*[{}]\s*$
      | [^\n]*(?:=>|->)\s*[{(]?\s*$
    )""",
    re.VERBOSE,
)
_LETTER = r"[^\W\d_]"
_MATH = re.compile(
    r"\\(?:frac|sqrt|sum|int|prod|lim|alpha|beta|gamma|delta|theta|lambda|sigma|pi|cdot|times|leq|geq|neq"
    r"|infty|partial|mathbb|mathrm|begin\{(?:equation|align))"
    r"|\$\$?[^$\n]{0,200}?[\\^_=+*/<>][^$\n]{0,200}?\$\$?"
    r"|[∑∫√≤≥≠±×÷∞∂∇∈∉⊂∀∃≈∝]"
    r"|\d\s*[+*^=<>×÷]\s*\(?-?\d"
    rf"|(?<!\w){_LETTER}\s*(?:[=<>^]|\s[+*/]\s)\s*[-\w(\\]"
    rf"|(?:[=+*/^]\s*|\d){_LETTER}(?!\w)"
)
# Every `_MATH` match holds one of these characters, except a digit followed by a one-letter
# word (`2x`), which is a `_DIGIT_LETTER` match. Matches do not overlap, so these
# counts bound the number of markers from above; below `MIN_MATH_MARKERS` the full scan
# (the costliest regex of a labeling pass) cannot reach it and is skipped: same scores, and
# most prose stops at ~30 C-speed `str.count` calls.
_MATH_CHARS = "\\$∑∫√≤≥≠±×÷∞∂∇∈∉⊂∀∃≈∝+*^=<>/"
_DIGIT_LETTER = re.compile(rf"\d{_LETTER}(?!\w)")


def code_score(text: str) -> float:
    """Share of non-empty lines (of a bounded sample) that look like code, 0..1."""
    sample = text[:SAMPLE_CHARS]
    # Code of any language has assignments, statement ends or braces; prose that lacks all
    # of them skips the per-line regex (most documents, at a few C-speed scans).
    if sum(sample.count(c) for c in ";{}=") < 3:
        return 0.0
    lines = [ln for ln in sample.split("\n") if ln.strip()]
    if len(lines) < 3:
        return 0.0
    return sum(1 for ln in lines if _CODE_LINE.match(ln)) / len(lines)


def math_score(text: str) -> float:
    """Math markers per 100 characters of a bounded sample, squashed into 0..1."""
    return _math_score(text[:SAMPLE_CHARS])


# edu and domain both ask, per document of a batch; keyed by the bounded sample so the
# cache never keeps a huge document alive.
@functools.lru_cache(maxsize=512)
def _math_score(sample: str) -> float:
    if not sample:
        return 0.0
    bound = sum(sample.count(c) for c in _MATH_CHARS)
    if bound < MIN_MATH_MARKERS and bound + len(_DIGIT_LETTER.findall(sample)) < MIN_MATH_MARKERS:
        return 0.0
    hits = len(_MATH.findall(sample))
    if hits < MIN_MATH_MARKERS:  # a score like "3-1" in a sports line is not math
        return 0.0
    return min(1.0, 100 * hits / len(sample) / 2.0)
