"""Long documents cut into windows that fit one sequence, at paragraph boundaries where possible.

A document whose tokens and end-of-document token do not fit `seq_len` becomes windows of at
most `seq_len - 1` text tokens each, so every window, the last one with its end-of-document
token, fills at most one sequence. Each cut falls after the last paragraph break (a token
holding a blank line, recorded in the token sidecar as `breaks`) that leaves the window at
least half full; only a stretch with no such break is cut at the window's full length. The
windows are decided from lengths and break offsets alone, on the driver, so the plan needs no
token ids and any worker count cuts the same way.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

WINDOW_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("part", pa.int32()),  # window number inside its document
        ("start", pa.int64()),  # first token of the window inside the document
        ("n_tokens", pa.int64()),  # text tokens of the window, no end-of-document token
        ("length", pa.int64()),  # tokens the window places: n_tokens, + 1 for the last window
        ("at_break", pa.bool_()),  # the window ends at a paragraph break (or the document's end)
    ]
)


def cut_points(n_tokens: int, breaks: np.ndarray, max_tokens: int) -> list[tuple[int, int, bool]]:
    """(start, end, at_break) of each window of a document of `n_tokens` text tokens.

    `breaks` are sorted token offsets just after a paragraph break. A window never holds
    more than `max_tokens` tokens and never less than half that, unless it is the last one.
    """
    out: list[tuple[int, int, bool]] = []
    pos = 0
    while n_tokens - pos > max_tokens:
        hi = pos + max_tokens
        # The last break in (pos + max/2, pos + max]: the largest window that ends a paragraph.
        k = int(np.searchsorted(breaks, hi, side="right")) - 1
        if k >= 0 and breaks[k] > pos + max_tokens // 2:
            out.append((pos, int(breaks[k]), True))
            pos = int(breaks[k])
        else:
            out.append((pos, hi, False))
            pos = hi
    out.append((pos, n_tokens, True))
    return out


def windows(ids: list[str], n_tokens: list[int], breaks: list[list[int] | None], seq_len: int) -> pa.Table:
    """One row per window of every document that does not fit `seq_len` with its end token."""
    cols: dict[str, list] = {name: [] for name in WINDOW_SCHEMA.names}
    max_tokens = seq_len - 1
    for doc_id, n, b in zip(ids, n_tokens, breaks):
        if n + 1 <= seq_len:
            continue
        cuts = cut_points(n, np.asarray(b or [], dtype=np.int64), max_tokens)
        for part, (start, end, at_break) in enumerate(cuts):
            last = part == len(cuts) - 1
            cols["id"].append(doc_id)
            cols["part"].append(part)
            cols["start"].append(start)
            cols["n_tokens"].append(end - start)
            cols["length"].append(end - start + (1 if last else 0))
            cols["at_break"].append(at_break)
    return pa.table(cols, schema=WINDOW_SCHEMA)
