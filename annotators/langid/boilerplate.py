"""How much a piece of a document says about the language of its text.

A book's licence header, a site's navigation and a page footer repeated on every page are
in the language of whoever wrote the template, often English, not of the document. Each
piece the identifier reads gets a weight factor:

- licence and header blocks: a piece with licence/distribution words (`license`,
  `copyright`, `ebook`, `www.`, `all rights reserved`...) counts a tenth;
- navigation: a piece made mostly of short lines without sentence punctuation ("Home",
  "About us | Contact") counts a fifth;
- lines repeated within the document's sample count once.

Weights only shift the vote between languages: a document that is all licence still gets
the licence's language.
"""

from __future__ import annotations

import re

# Words of licences, headers and footers; most are English, as are most templates.
# Matched on lowercased text with `re`: case-insensitive, or with `regex`, the alternation costs
# several times more on every piece.
_MARKERS = re.compile(
    r"licen[cs]e|copyright|\(c\)|©|all rights reserved|gutenberg|e-?books?\b|terms of (?:use|service)|"
    r"redistribut|trademark|donations?\b|transcriber|produced by|isbn|creative commons|permission|"
    r"warrant(?:y|ies)|liabilit|disclaimer|privacy policy|cookies?\b|subscribe|newsletter|"
    r"release date|posting date|encoding:|www\.|https?://|\.(?:com|org|net)\b|e-?mail|"
    r"public domain|unsubscribe|sign (?:in|up)|log ?in\b|\*\*\* ?(?:start|end) of",
)
# Marker hits per character at which a piece counts as boilerplate: two in a 300-byte window.
MARKER_DENSITY = 1 / 250
MIN_MARKERS = 2
BOILERPLATE_WEIGHT = 0.1
# Navigation: lines of at most this many characters with no sentence end.
NAV_LINE_CHARS = 30
_SENTENCE_END = re.compile(r"[.!?。！？؟।]\s*$")
NAV_SHARE = 0.6
NAV_WEIGHT = 0.2


def is_boilerplate(text: str) -> bool:
    """Whether a piece reads as a licence, header or footer block."""
    hits = len(_MARKERS.findall(text.lower()))
    return hits >= MIN_MARKERS and hits >= MARKER_DENSITY * len(text)


def weight(text: str) -> float:
    """The factor a piece's letters count with in the document's vote (1.0 = prose)."""
    if is_boilerplate(text):
        return BOILERPLATE_WEIGHT
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) >= 3:
        nav = sum(len(line) for line in lines if len(line) <= NAV_LINE_CHARS and not _SENTENCE_END.search(line))
        if nav >= NAV_SHARE * sum(len(line) for line in lines):
            return NAV_WEIGHT
    return 1.0


def drop_repeated_lines(pieces: list[str], seen: set[str] | None = None) -> list[str]:
    """The pieces without lines (of 10+ characters) already seen in an earlier piece or
    earlier in the same piece: page headers and footers, menus repeated on every page."""
    seen = set() if seen is None else seen
    out = []
    for piece in pieces:
        kept = []
        for line in piece.splitlines():
            key = line.strip()
            if len(key) >= 10:
                if key in seen:
                    continue
                seen.add(key)
            kept.append(line)
        out.append("\n".join(kept))
    return out
