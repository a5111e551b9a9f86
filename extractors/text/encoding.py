"""Bytes of a text file -> str: UTF-8 first, then a detected (or given) legacy encoding.

UTF-8 is the fast path: a file that decodes cleanly is never sniffed. A file with a byte-order
mark is decoded as the mark says. Otherwise `charset-normalizer` picks the encoding: it is
pure Python with an optional compiled speed-up, maintained (the detector `requests` moved to),
and unlike `chardet` it also names UTF-16/32 without a BOM and GB18030, Shift-JIS and KOI8-R
from a few hundred bytes. Damaged UTF-8 (a few invalid bytes among many valid multi-byte
sequences) is repaired with U+FFFD rather than misread as a legacy encoding, and an
`encoding` given by the user overrides everything.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from corpusmill.errors import ConfigError, RecordError
from corpusmill.textnorm import decode_utf8, looks_binary

# Sniffing reads at most this much of a file (charset-normalizer samples inside it).
DETECT_BYTES = 1 << 20
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: its BOM starts the same way
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # Python codec name
    confidence: float  # 1.0 for UTF-8, a BOM or a given encoding; detection's otherwise
    repaired: int = 0  # invalid UTF-8 bytes replaced by U+FFFD


def check_encoding(name: str) -> str:
    """The codec's canonical name; ConfigError for an unknown one (before the job starts)."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise ConfigError(
            f"unknown encoding {name!r}; use a Python codec name such as latin-1, cp1252, gb18030"
        ) from None


def _bom(data: bytes) -> str | None:
    for mark, name in _BOMS:
        if data.startswith(mark):
            return name
    return None


def _mostly_utf8(data: bytes) -> bool:
    """Damaged UTF-8 rather than a legacy encoding: valid multi-byte sequences outnumber bad bytes."""
    text = data[:DETECT_BYTES].decode("utf-8", "replace")
    bad = text.count("\ufffd")
    multibyte = sum(1 for ch in text if ch > "\x7f") - bad
    return multibyte >= 2 * bad


def detect(data: bytes) -> tuple[str, float] | None:
    """(codec, confidence) that charset-normalizer finds for `data`, or None."""
    import charset_normalizer

    best = charset_normalizer.from_bytes(data[:DETECT_BYTES]).best()
    if best is None:
        return None
    return codecs.lookup(best.encoding).name, round(1.0 - float(best.chaos), 3)


def decode_bytes(data: bytes, *, encoding: str | None = None, name: str = "input") -> Decoded:
    """Decode a whole file's bytes; RecordError (a dead letter) when no encoding reads them."""
    if encoding:
        try:
            return Decoded(data.decode(encoding), check_encoding(encoding), 1.0)
        except UnicodeDecodeError as exc:
            raise RecordError("undecodable_text", f"{name} is not {encoding}: {exc}") from None
    bom = _bom(data)
    if bom:
        try:
            return Decoded(data.decode(bom), bom, 1.0)
        except UnicodeDecodeError as exc:
            raise RecordError(
                "undecodable_text", f"{name} starts with a {bom} byte-order mark but is not {bom}: {exc}"
            ) from None
    has_nul = b"\x00" in data[:8192]
    if not has_nul and looks_binary(data):
        raise RecordError("binary_file", f"{name} is not text (control bytes)")
    if not has_nul:
        try:
            return Decoded(data.decode("utf-8"), "utf-8", 1.0)
        except UnicodeDecodeError:
            if _mostly_utf8(data):
                text, repaired = decode_utf8(data)  # raises invalid_utf8 beyond 1% damage
                return Decoded(text, "utf-8", 1.0, repaired)
    found = detect(data)
    if found is None:
        reason = "binary_file" if has_nul else "undecodable_text"
        raise RecordError(reason, f"{name}: no text encoding reads it (pass --encoding if you know it)")
    codec, confidence = found
    if has_nul and not codec.startswith(("utf-16", "utf-32")):
        raise RecordError("binary_file", f"{name} is not text (NUL bytes, and it is not UTF-16 or UTF-32)")
    try:
        return Decoded(data.decode(codec), codec, confidence)
    except UnicodeDecodeError as exc:  # detection samples; the rest of the file may disagree
        raise RecordError("undecodable_text", f"{name}: detected {codec}, but {exc}; pass --encoding") from None
