"""Text normalization every ingested document goes through.

NFC (so the same string always tokenizes the same), newlines unified, control characters,
byte-order marks and lone surrogates removed. Invalid UTF-8 is repaired with U+FFFD when
the damage is small and refused when it is not.
"""

from __future__ import annotations

import re
import unicodedata

from corpusmill.errors import RecordError

# C0 controls except TAB and LF, DEL, C1 controls, BOM/ZWNBSP, and lone surrogates (which a
# JSON "\ud800" escape can produce and which cannot be encoded to UTF-8 at all).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff\ud800-\udfff]")
# Above this share of replaced bytes a text is more noise than text.
MAX_REPAIRED_SHARE = 0.01


def decode_utf8(data: bytes) -> tuple[str, int]:
    """Decode UTF-8; returns (text, number of invalid bytes replaced by U+FFFD).

    Raises RecordError('invalid_utf8') when more than 1% of the bytes are invalid.
    """
    try:
        return data.decode("utf-8"), 0
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", "replace")
    repaired = text.count("\ufffd") - data.count("\xef\xbf\xbd".encode("latin-1"))
    if repaired > MAX_REPAIRED_SHARE * max(len(data), 1):
        raise RecordError("invalid_utf8", f"{repaired} of {len(data)} bytes are not valid UTF-8")
    return text, repaired


def normalize(text: str) -> str:
    """NFC, LF newlines, no control characters, stripped; '' when nothing is left."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _CONTROL.search(text):
        text = _CONTROL.sub("", text)
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text.strip()


def looks_binary(data: bytes) -> bool:
    """True for data that is not text: NUL bytes, or mostly non-text control bytes."""
    head = data[:8192]
    if b"\x00" in head:
        return True
    if not head:
        return False
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    return controls > 0.05 * len(head)
