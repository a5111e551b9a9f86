"""Bounded pieces of a document straight from Arrow buffers.

A 50 MB document must cost what a 16 KB one costs: the text is never converted to one
Python string. A short document is read whole; a longer one is read as windows of a few
hundred bytes at evenly spaced positions from its first byte to its last, cut at UTF-8
character boundaries and trimmed to whole words. The identifier asks for a few of them
first and for the rest only when those disagree (see `LidModel.label_span`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

# Documents up to this many bytes are read whole.
WHOLE_BYTES = 1_500
# Window width and the most windows a document is read as: 16 x 320 bytes = 5 KB at most.
WINDOW_BYTES = 320
MAX_WINDOWS = 16
# A cut word at a window's edge is dropped if a space is this close to the edge.
_EDGE_BYTES = 40


@dataclass(frozen=True)
class Span:
    """One document's UTF-8 bytes inside an Arrow data buffer."""

    data: memoryview
    start: int
    stop: int

    @property
    def size(self) -> int:
        return self.stop - self.start

    def text(self) -> str:
        return bytes(self.data[self.start : self.stop]).decode("utf-8", errors="replace")

    def windows(self, width: int = WINDOW_BYTES, most: int = MAX_WINDOWS) -> int:
        """How many windows the document is read as (they tile it when it is short)."""
        return max(1, min(most, -(-self.size // width)))

    def window(self, k: int, n: int, width: int = WINDOW_BYTES) -> str:
        """The k-th of `n` windows of `width` bytes, spread evenly from start to stop."""
        step = (self.size - width) / max(n - 1, 1)
        lo = _char_start(self.data, self.start + max(0, round(k * step)), self.stop)
        hi = _char_end(self.data, min(lo + width, self.stop), lo)
        raw = bytes(self.data[lo:hi])
        # Drop the cut words at the edges (not at the document's own ends).
        if lo > self.start:
            space = _first_space(raw[:_EDGE_BYTES])
            raw = raw[space + 1 :] if space >= 0 else raw
        if hi < self.stop:
            space = _last_space(raw[-_EDGE_BYTES:])
            raw = raw[: len(raw) - _EDGE_BYTES + space] if space >= 0 and len(raw) > _EDGE_BYTES else raw
        return raw.decode("utf-8", errors="replace")


def spans(column: pa.Array | pa.ChunkedArray) -> list[Span]:
    """One span per row; nulls are empty spans."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    out: list[Span] = []
    for array in chunks:
        out.extend(_spans(array))
    return out


def _spans(array: pa.Array) -> list[Span]:
    if len(array) == 0:
        return []
    offset_type = np.int64 if pa.types.is_large_string(array.type) else np.int32
    _, offsets_buf, data_buf = array.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=offset_type)[array.offset : array.offset + len(array) + 1]
    data = memoryview(data_buf) if data_buf is not None else memoryview(b"")
    valid = array.is_valid().to_numpy(zero_copy_only=False)
    return [
        Span(data, int(offsets[i]), int(offsets[i + 1]) if valid[i] else int(offsets[i])) for i in range(len(array))
    ]


def _first_space(raw: bytes) -> int:
    hits = [i for i in (raw.find(b" "), raw.find(b"\n")) if i >= 0]
    return min(hits) if hits else -1


def _last_space(raw: bytes) -> int:
    return max(raw.rfind(b" "), raw.rfind(b"\n"))


def _char_start(data: memoryview, pos: int, stop: int) -> int:
    """The first position at or after `pos` that starts a UTF-8 character."""
    # Continuation bytes are 10xxxxxx; a character has at most 3 of them.
    for _ in range(3):
        if pos >= stop or data[pos] & 0xC0 != 0x80:
            break
        pos += 1
    return min(pos, stop)


def _char_end(data: memoryview, pos: int, lo: int) -> int:
    """The last position at or before `pos` where a UTF-8 character starts (or ends the data)."""
    for _ in range(3):
        if pos <= lo or pos >= len(data) or data[pos] & 0xC0 != 0x80:
            break
        pos -= 1
    return max(pos, lo)
