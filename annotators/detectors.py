"""Rule-based code and math detectors (features, not models): fast, language independent.

Code: the share of non-empty lines that look like source code (statement endings, block
braces, keywords that open definitions, comment markers, indentation with operators).
Math: at least 3 and then the density of LaTeX commands, inline/display math delimiters, math symbols and
`number operator number` patterns per 100 characters. Both are bounded to a text sample.
"""

from __future__ import annotations

import functools
import re

SAMPLE_CHARS = 5000
MIN_MATH_MARKERS = 3

_CODE_LINE = re.compile(
    r"""^\s*(?:
        (?:def|class|import|from|return|if|elif|else|for|while|try|except|function|var|let|const|
           public|private|static|void|int|func|fn|package|using|namespace|struct|enum|impl|select|
           insert|update|create|\#include|\#define|package|module)\b
      | (?://|/\*|\*/|\#!|<\?php|<script|</?div|</?span)
      | .*(?:[;{}]|\)\s*:|=>|->)\s*$
      | .*\b\w+\s*\(.*\)\s*[;{]?\s*$
    )""",
    re.VERBOSE,
)
_MATH = re.compile(
    r"\\(?:frac|sqrt|sum|int|prod|lim|alpha|beta|gamma|theta|lambda|sigma|pi|cdot|times|leq|geq|neq|infty|mathbb|begin\{(?:equation|align))"
    r"|\$\$?[^$\n]{1,200}\$\$?"
    r"|[∑∫√≤≥≠±×÷∞∂∇∈∀∃≈∝πθλσ²³]"
    r"|\b\d+(?:\.\d+)?\s*[-+*/^=<>]\s*\d+(?:\.\d+)?\b"
)


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
    hits = len(_MATH.findall(sample))
    if hits < MIN_MATH_MARKERS:  # a score like "3-1" in a sports line is not math
        return 0.0
    return min(1.0, 100 * hits / len(sample) / 2.0)
