"""Text preparation for language identification: normalization, chunking, bounded sampling.

Training and prediction both go through `normalize`, so the model only ever sees
lowercase letters, marks and in-word apostrophes: digits, punctuation and markup carry
no language and would only teach the model the topics of SIB-200.
"""

from __future__ import annotations

import unicodedata

import regex

# Letters and combining marks (Indic vowel signs are marks, not letters), plus the
# apostrophes several Latin orthographies use inside words (o‘zbek, ʻokina).
_NOT_WORD = regex.compile(r"[^\p{L}\p{M}'’‘ʼʻ]+")
# Chinese and Japanese are written without spaces: one token per character lets
# fastText learn character and (with word n-grams) character-pair features.
_CJK_CHAR = regex.compile(r"([\p{Han}\p{Hiragana}\p{Katakana}])")
_EDGE_APOSTROPHES = regex.compile(r"(?<!\S)['’‘]+|['’‘]+(?!\S)")
# Pointed Hebrew-script text (YIVO Yiddish, vocalized Hebrew) and its ligatures and
# presentation forms are read as the plain letters SIB-200 is written in: points are
# dropped, ligatures spelled out (װ -> וו), presentation forms decomposed.
_HEBREW_POINTS = "".join(chr(c) for c in range(0x0591, 0x05C8) if unicodedata.category(chr(c)) == "Mn")
_HEBREW_PLAIN = str.maketrans(
    {
        **{point: None for point in _HEBREW_POINTS},
        "\u05f0": "\u05d5\u05d5",
        "\u05f1": "\u05d5\u05d9",
        "\u05f2": "\u05d9\u05d9",
        **{
            chr(c): "".join(ch for ch in unicodedata.normalize("NFKD", chr(c)) if ch not in _HEBREW_POINTS)
            for c in range(0xFB1D, 0xFB50)
            if unicodedata.category(chr(c)).startswith("L")
        },
    }
)
_HEBREW_MARKED = regex.compile(f"[{_HEBREW_POINTS}\u05f0-\u05f2\ufb1d-\ufb4f]")
# Characters that do not occur in text: C0/C1 controls other than whitespace, the
# replacement character (bad UTF-8 decoded leniently) and private-use code points.
_NOT_TEXT = regex.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffd\p{Co}]")

# Chunks: lines are merged until they hold MIN_CHUNK characters (headings and list
# items alone say little) and split at MAX_CHUNK (fastText averages, so longer chunks
# only cost time). A blank line ends a chunk of MIN_PARAGRAPH characters or more, so
# paragraphs in different languages stay apart.
MIN_CHUNK = 200
MIN_PARAGRAPH = 100
MAX_CHUNK = 2_000


def normalize(text: str) -> str:
    """Lowercase letters and marks separated by single spaces, as the model is trained."""
    if _HEBREW_MARKED.search(text):
        text = text.translate(_HEBREW_PLAIN)
    words = _EDGE_APOSTROPHES.sub(" ", _NOT_WORD.sub(" ", text))
    words = _CJK_CHAR.sub(r" \1 ", words)
    return " ".join(words.lower().split())


def not_text_share(text: str) -> float:
    """Share of characters that never occur in real text (controls, U+FFFD, private use)."""
    if not text:
        return 0.0
    return len(_NOT_TEXT.findall(text)) / len(text)


def chunks(text: str) -> list[str]:
    """Paragraph-sized pieces of `text`, each at most MAX_CHUNK characters."""
    out: list[str] = []
    pending = ""
    for line in text.splitlines():
        line = line.strip()
        if not line:
            if len(pending) >= MIN_PARAGRAPH:
                out.append(pending)
                pending = ""
            continue
        # Lines stay lines inside a chunk: code and navigation are told by their lines.
        pending = f"{pending}\n{line}" if pending else line
        while len(pending) > MAX_CHUNK:
            head, pending = _split(pending, MAX_CHUNK)
            out.append(head)
        if len(pending) >= MIN_CHUNK:
            out.append(pending)
            pending = ""
    if pending:
        # A short tail joins the previous chunk when that stays within bounds.
        if out and len(out[-1]) + len(pending) < MAX_CHUNK:
            out[-1] = f"{out[-1]}\n{pending}"
        else:
            out.append(pending)
    return out


def _split(text: str, limit: int) -> tuple[str, str]:
    """Split before `limit` at the last space, or hard at `limit` (CJK, Thai)."""
    cut = max(text.rfind(" ", limit // 2, limit), text.rfind("\n", limit // 2, limit))
    if cut <= 0:
        cut = limit
    return text[:cut].rstrip(), text[cut:].lstrip()
