"""Line and block joining: de-hyphenation, CJK-aware spacing, whitespace normalization.

Used on text-layer blocks and on Tesseract output alike, so both routes produce text of
the same shape: paragraphs as single lines, separated by blank lines.
"""

from __future__ import annotations

import re
import unicodedata

SOFT_HYPHEN = "\u00ad"
_LIST_MARKER = re.compile(r"^(?:[•◦▪‣∙·*–—-]\s|\(?\d{1,3}[.)]\s|\(?[a-zA-Z][.)]\s)")
_SPECIAL_ENDS = frozenset("-\u2010\u2013" + SOFT_HYPHEN)
_MARKER_STARTS = frozenset("•◦▪‣∙·*–—-(")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_LINE_EDGES = re.compile(r" ?\n ?")
_ZERO_WIDTH = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
# Spacing accents that TeX and some fonts draw as a glyph of their own over a letter, with the
# combining mark each stands for. ` (U+0060) is left out: it is also a quote and code mark.
SPACING_ACCENTS = {
    "\u00b4": "\u0301",  # ´ acute
    "\u02c7": "\u030c",  # ˇ caron
    "\u00a8": "\u0308",  # ¨ diaeresis
    "\u02c6": "\u0302",  # ˆ circumflex
    "\u02dc": "\u0303",  # ˜ tilde
    "\u00b8": "\u0327",  # ¸ cedilla
    "\u02db": "\u0328",  # ˛ ogonek
    "\u02da": "\u030a",  # ˚ ring
    "\u02d8": "\u0306",  # ˘ breve
    "\u02d9": "\u0307",  # ˙ dot above
    "\u02dd": "\u030b",  # ˝ double acute
    "\u00af": "\u0304",  # ¯ macron
}
_ACCENT = re.compile(
    r"(?<=\w)[\u00b4\u02c7\u00a8\u02c6\u02dc\u00b8\u02db\u02da\u02d8\u02d9\u02dd\u00af`]|[\u00b4\u02c7\u00a8\u02c6\u02dc\u00b8\u02db\u02da\u02d8\u02d9\u02dd\u00af](?=\w)"
)
_LIGATURES = re.compile("[\ufb00-\ufb06]")
# Any ligature or spacing accent at all: one character-class scan (fast) before the rest.
_GLYPH_FIX = re.compile("[\ufb00-\ufb06\u00b4\u02c7\u00a8\u02c6\u02dc\u00b8\u02db\u02da\u02d8\u02d9\u02dd\u00af`]")
_MOVED_MARK = re.compile("\x00([\u0300-\u036f])(.)", re.DOTALL)
_DOTLESS_MARKED = re.compile("[\u0131\u0237](?=[\u0300-\u036f])")


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
    if prev.endswith("\u2013") and len(prev) >= 2 and prev[-2].isdigit() and nxt[:1].isdigit():
        return prev + nxt  # a number range or code broken at its en dash: "737–" + "9"
    if prev.endswith((" -", "(-")) and nxt[:1].isdigit():
        return prev + nxt  # a minus sign left at the line's end: "revenue: -" + "23%"
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


_DOTLESS = {"\u0131": "i", "\u0237": "j"}  # TeX sets í as ´ over a dotless ı


def _composes(letter: str, mark: str) -> bool:
    return len(unicodedata.normalize("NFC", _DOTLESS.get(letter, letter) + mark)) == 1


def _join_accent(match: re.Match[str]) -> str:
    """The accent at `match` as a combining mark on the letter it belongs to, or as it was.

    TeX draws the accent before the letter it sits on ("J´an"), some fonts after it;
    the letter it goes with is the neighbour with which it composes to one character
    ("Min´aˇc": ´+a = á, ˇ+c = č; "Mu¨ller": ¨ does not compose with l, but with u).
    """
    text, i = match.string, match.start()
    accent = text[i]
    mark = SPACING_ACCENTS.get(accent, "\u0300")  # ` is the grave accent
    after = text[i + 1] if i + 1 < len(text) else ""
    before = text[i - 1] if i else ""
    # ` is also a quote mark (``this''): joined forward only inside a word ("cr`eme").
    forward = accent != "`" or before.isalpha()
    if forward and after.isalpha() and _composes(after, mark):
        return "\x00" + mark  # placeholder: the mark moves behind the next letter below
    if before.isalpha() and _composes(before, mark):
        return mark
    return accent


def fix_glyphs(text: str) -> str:
    """Ligatures (ﬁ, ﬂ, ...) expanded; spacing accents joined to their letter, then NFC.

    "J´an Min´aˇc" becomes "Ján Mináč". Only non-ASCII text can need it.
    """
    if not _GLYPH_FIX.search(text):
        return unicodedata.normalize("NFC", text)
    if _LIGATURES.search(text):
        text = _LIGATURES.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
    if _ACCENT.search(text):
        text = _ACCENT.sub(_join_accent, text)
        # "\x00" + mark + letter -> letter + mark
        text = _MOVED_MARK.sub(r"\2\1", text)
        text = _DOTLESS_MARKED.sub(lambda m: _DOTLESS[m.group()], text)
    return unicodedata.normalize("NFC", text)


def normalize_whitespace(text: str) -> str:
    """NFC (ligatures expanded, spacing accents joined: `fix_glyphs`), no zero-width or
    control characters, single spaces, at most one blank line."""
    if not text.isascii():
        text = _ZERO_WIDTH.sub("", fix_glyphs(text))
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
