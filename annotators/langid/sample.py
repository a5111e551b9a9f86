"""Bounded text samples straight from Arrow buffers.

A 50 MB document must cost what a 16 KB one costs: the text is never converted to one
Python string. Long values are read as a few windows spread over the document
(beginning, middle, end), cut at UTF-8 character boundaries.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

# Defaults: documents up to 3 KB are read whole, longer ones as 3 windows of 1 KB
# (beginning, middle, end).
# fastText's cost grows with the words it reads (~15 us a word with our model), and
# a few hundred words already decide the language; four windows still see a mix.
SAMPLE_BYTES = 3_000
WINDOWS = 3


def sample_texts(
    column: pa.Array | pa.ChunkedArray, *, max_bytes: int = SAMPLE_BYTES, windows: int = WINDOWS
) -> list[str]:
    """One string per row: the whole text, or `windows` windows joined by newlines.

    Nulls become empty strings. At most about `max_bytes` bytes per row are decoded.
    """
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    out: list[str] = []
    for array in chunks:
        out.extend(_sample_array(array, max_bytes, windows))
    return out


def _sample_array(array: pa.Array, max_bytes: int, windows: int) -> list[str]:
    if len(array) == 0:
        return []
    offset_type = np.int64 if pa.types.is_large_string(array.type) else np.int32
    _, offsets_buf, data_buf = array.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=offset_type)[array.offset : array.offset + len(array) + 1]
    data = memoryview(data_buf) if data_buf is not None else memoryview(b"")
    valid = array.is_valid().to_numpy(zero_copy_only=False)
    texts = []
    for i in range(len(array)):
        start, stop = int(offsets[i]), int(offsets[i + 1])
        if not valid[i] or stop == start:
            texts.append("")
        elif stop - start <= max_bytes:
            texts.append(bytes(data[start:stop]).decode("utf-8", errors="replace"))
        else:
            # Room for the newlines that join the windows keeps the total within max_bytes.
            texts.append(_windows(data, start, stop, (max_bytes - windows + 1) // windows, windows))
    return texts


def _windows(data: memoryview, start: int, stop: int, width: int, windows: int) -> str:
    """`windows` slices of `width` bytes spread evenly from `start` to `stop`."""
    step = (stop - start - width) / max(windows - 1, 1)
    parts = []
    for k in range(windows):
        lo = _char_start(data, start + round(k * step), stop)
        hi = _char_end(data, min(lo + width, stop), lo)
        parts.append(bytes(data[lo:hi]).decode("utf-8", errors="replace"))
    return "\n".join(parts)


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
