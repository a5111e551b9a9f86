"""Line and block joining: de-hyphenation, CJK-aware spacing, whitespace normalization.

Used on text-layer blocks and on Tesseract output alike, so both routes produce text of
the same shape: paragraphs as single lines, separated by blank lines.
"""

from __future__ import annotations

import re
import unicodedata

SOFT_HYPHEN = "\u00ad"
_LIST_MARKER = re.compile(r"^(?:[•◦▪‣∙·*–—-]\s|\(?\d{1,3}[.)]\s|\(?[a-zA-Z][.)]\s)")
_SPECIAL_ENDS = frozenset("-\u2010" + SOFT_HYPHEN)
_MARKER_STARTS = frozenset("•◦▪‣∙·*–—-(")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_LINE_EDGES = re.compile(r" ?\n ?")
_ZERO_WIDTH = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def is_cjk(ch: str) -> bool:
    """Characters of scripts written without spaces (Han, kana, CJK punctuation, full-width forms)."""
    o = ord(ch)
    return (
        0x3000 <= o <= 0x30FF
        or 0x3400 <= o <= 0x4DBF
        or 0x4E00 <= o <= 0x9FFF
        or 0xF900 <= o <= 0xFAFF
        or 0xFF00 <= o <= 0xFFEF
        or 0x20000 <= o <= 0x2FA1F
    )


def _hyphen_joins(prev: str, nxt: str) -> bool:
    """`prev` ends in a word broken by a hyphen and `nxt` continues it in lower case."""
    return len(prev) >= 2 and prev[-1] in "-\u2010" and prev[-2].isalpha() and bool(nxt) and nxt[0].islower()


def join_pair(prev: str, nxt: str) -> str:
    """The separator-resolved concatenation of two consecutive lines of one paragraph."""
    if prev.endswith(SOFT_HYPHEN):
        return prev[:-1] + nxt
    if _hyphen_joins(prev, nxt):
        return prev[:-1] + nxt
    if _LIST_MARKER.match(nxt):
        return prev + "\n" + nxt
    if prev and nxt and is_cjk(prev[-1]) and is_cjk(nxt[0]):
        return prev + nxt
    return prev + " " + nxt


def _plain_run(lines: list[str]) -> bool:
    """True when no line break needs a decision (hyphen, list item, CJK): join with spaces."""
    for prev, nxt in zip(lines, lines[1:], strict=False):
        if prev[-1] in _SPECIAL_ENDS or is_cjk(prev[-1]) or nxt[0] in _MARKER_STARTS or nxt[0].isdigit():
            return False
        if len(nxt) > 1 and nxt[1] in ".)":
            return False
    return True


def join_lines(lines: list[str]) -> str:
    """One block's lines as a paragraph: hyphenation undone, lines joined with spaces.

    Runs of spaces inside lines are left to `normalize_whitespace`, applied per page.
    """
    lines = [x for x in (raw.strip() for raw in lines) if x]
    if not lines:
        return ""
    if _plain_run(lines):  # the common case, checked with string tests only
        return " ".join(lines)
    out = lines[0]
    for line in lines[1:]:
        out = join_pair(out, line)
    return out


def join_blocks(blocks: list[str]) -> str:
    """Blocks in reading order as paragraphs; a word hyphenated across blocks is rejoined."""
    parts: list[str] = []
    for block in blocks:
        if not block:
            continue
        if parts and (_hyphen_joins(parts[-1], block) or parts[-1].endswith(SOFT_HYPHEN)):
            parts[-1] = join_pair(parts[-1], block)
        else:
            parts.append(block)
    return "\n\n".join(parts)


def normalize_whitespace(text: str) -> str:
    """NFC, no zero-width or control characters, single spaces, at most one blank line."""
    if not text.isascii():
        text = _ZERO_WIDTH.sub("", unicodedata.normalize("NFC", text))
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.isascii():
        # Substring tests first: most pages need none of the substitutions, and each regular
        # expression pass over a page costs several times all the tests together.
        if not text.replace("\n", "").replace("\t", "").isprintable():
            text = _CONTROL.sub("", text)
        if "  " in text or "\t" in text:
            text = _SPACES.sub(" ", text)
        if " \n" in text or "\n " in text:
            text = _LINE_EDGES.sub("\n", text)
    else:
        text = _LINE_EDGES.sub("\n", _SPACES.sub(" ", _CONTROL.sub("", text)))
    if "\n\n\n" in text:
        text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()
