"""Lines of JSONL input read in bounded memory and linear time.

A line is gathered as a list of chunks joined once (growing one buffer with `+=` is quadratic
in the line's length), and a line over the record limit is measured to its end without being
kept, so one huge or newline-free line costs a pass over its bytes and never more memory
than the limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

SCAN_BYTES = 1 << 20


def owned_lines(fh: Any, start: int, end: int, limit: int) -> Iterator[tuple[int, bytes | None, int]]:
    """(offset, line, size) of each line that starts in [start, end), read in one pass.

    A line belongs to the task holding its first byte, so a task that starts mid-line only
    looks for the next newline inside its own range; a line that runs past `end` is read by
    its owner alone. Chunks are kept in a list and joined once (linear in the line's length),
    and a line over `limit` bytes is counted to its end but not held (`line` is None).
    """
    pos = start
    if start > 0:
        fh.seek(start - 1)  # one byte back: does `start` begin a line?
        if fh.read(1) != b"\n":
            found = _find_newline(fh, end - start)
            if found is None:
                return  # no line starts in this range
            pos = start + found + 1
            fh.seek(pos)
    else:
        fh.seek(0)
    chunk, i = b"", 0
    while pos < end:
        pieces: list[bytes] = []
        size, held, ended = 0, True, False
        while not ended:
            if i >= len(chunk):
                chunk, i = fh.read(SCAN_BYTES), 0
                if not chunk:
                    break
            cut = chunk.find(b"\n", i)
            ended = cut >= 0
            stop = cut if ended else len(chunk)
            size += stop - i
            if held and size > limit:
                held, pieces = False, []
            elif held:
                pieces.append(chunk[i:stop])
            i = stop + 1 if ended else stop
        if not ended and size == 0:
            return  # end of file
        yield pos, b"".join(pieces) if held else None, size
        pos += size + 1


def _find_newline(fh: Any, within: int) -> int | None:
    """Offset of the next newline from the current position, looking at most `within` bytes."""
    seen = 0
    while seen < within:
        chunk = fh.read(min(SCAN_BYTES, within - seen))
        if not chunk:
            return None
        cut = chunk.find(b"\n")
        if cut >= 0:
            return seen + cut
        seen += len(chunk)
    return None


def _skip_line(stream: Any) -> int:
    """Read past the rest of the current line in bounded pieces; returns the bytes skipped.
    (`readline`, not `read`: the bytes after the newline are the next record's.)"""
    skipped = 0
    while piece := stream.readline(SCAN_BYTES):
        if piece.endswith(b"\n"):
            return skipped + len(piece) - 1
        skipped += len(piece)
    return skipped


def stream_lines(stream: Any, limit: int) -> Iterator[tuple[bytes | None, int]]:
    """Lines of a stream without their newline and their sizes; a line over `limit` bytes
    is None (skipped unread)."""
    while line := stream.readline(limit + 1):
        if len(line) > limit and not line.endswith(b"\n"):
            yield None, len(line) + _skip_line(stream)
        else:
            line = line.rstrip(b"\n")
            yield line, len(line)
