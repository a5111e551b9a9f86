"""`gates`: the signals of the default quality gates, one column per kind of junk.

The mixer's default recipes keep a document out when a gate holds (see `mixers/gates.py`);
these are only measurements, so a recipe can move a threshold or switch a gate off:

- `gate_visible_chars`: characters other than whitespace: one-character and empty-looking texts;
- `gate_bad_char_frac`: U+FFFD, control and private-use characters per character:
  undecodable text and PDF pages whose glyphs map to nothing;
- `gate_letter_frac`: letters per non-space character: tables of numbers, symbol soup, hex;
- `gate_boilerplate_file`: licence, README, changelog and similar files, by file name or by a
  licence text at the start of a short document;
- `gate_error_page`: HTTP error pages (404, 403, 5xx, "page not found") saved as documents.

Character counts run over the batch in Arrow's RE2 engine (whitespace: `str.count` of the five
characters RE2 counts as whitespace), on the first `SAMPLE_CHARS` characters, so a 50 MB document
costs what a 100 KB one does.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

from corpusmill.annotators.base import Annotator, BatchHint, constant, model_columns, texts

SAMPLE_CHARS = 100_000
HEAD_CHARS = 2_000  # licence headers and error titles sit at the top
# A licence or an error page is short; a book that quotes a licence at its end is not junk.
BOILERPLATE_MAX_CHARS = 60_000
ERROR_PAGE_MAX_CHARS = 5_000

_NOT_LETTERS = r"[^\pL]+"
# What RE2's `\s` (the whitespace these columns have always counted) matches: these five
# ASCII characters, no others (checked in tests/test_label_fast_paths.py). Counting them
# with `str.count` is 20x quicker than a regex pass over the batch.
RE2_SPACES = "\t\n\f\r "
# U+FFFD, C0/C1 controls other than TAB and LF, and private-use code points.
_BAD = r"[\x{FFFD}\x{0}-\x{8}\x{B}-\x{1F}\x{7F}-\x{9F}\p{Co}]"

_BOILERPLATE_NAMES = re.compile(
    r"^(licen[cs]e|copying|copyright|notice|readme|changelog|changes|history|authors|contributors|"
    r"contributing|code_of_conduct|security|install|todo|patents|unlicense)([._-].*)?$",
    re.IGNORECASE,
)
_LICENCE_TEXT = re.compile(
    r"GNU (LESSER |AFFERO )?GENERAL PUBLIC LICENSE|Permission is hereby granted, free of charge|"
    r"Apache License,?\s+Version 2\.0|Redistribution and use in source and binary forms|"
    r"Mozilla Public License|This is free and unencumbered software|"
    r"THE SOFTWARE IS PROVIDED \"AS IS\"|Creative Commons (Legal Code|Attribution)",
    re.IGNORECASE,
)
# Each `_LICENCE_TEXT` alternative holds one of these words. Under `re.IGNORECASE` an ASCII
# letter matches only ASCII letters and these four characters (İ ı ſ K, found by trying every
# code point), so a head whose lowercase holds none of the words and none of the four cannot
# match: the regex (a tenth of a millisecond per head) runs only where it might.
_LICENCE_WORDS = ("licen", "hereby", "redistribution", "unencumbered", "provided", "commons")
_CASE_TWINS = "\u0130\u0131\u017f\u212a"
_ERROR_PAGE = re.compile(
    r"\b(40[0-9]|41[0-9]|50[0-9])\b[\s:.\-–]*(not found|forbidden|unauthori[sz]ed|bad request|"
    r"internal server error|bad gateway|service (temporarily )?unavailable|gateway time-?out|error)|"
    r"\bpage (you requested )?(was |could )?not (be )?found\b|"
    r"\bThe requested URL .{0,200} was not found on this server\b|"
    r"\b(access|permission) denied\b.{0,80}\b(server|url|resource)\b",
    re.IGNORECASE | re.DOTALL,
)


def _frac(part: pa.Array, whole: pa.Array) -> pa.Array:
    whole = pc.max_element_wise(whole, 1)
    return pc.cast(pc.divide(pc.cast(part, pa.float64()), pc.cast(whole, pa.float64())), pa.float32())


def space_count(text: str) -> int:
    """Characters of `text` that RE2's whitespace class matches."""
    return sum(text.count(c) for c in RE2_SPACES)


def _file_name(uri: str | None) -> str:
    if not uri:
        return ""
    path = uri.split("#", 1)[0].rstrip("/")
    return path.rsplit("/", 1)[-1]


def is_boilerplate_file(uri: str | None, head: str, n_chars: int) -> bool:
    """A licence/README-like file, by its name or by a licence text opening a short document."""
    if _BOILERPLATE_NAMES.match(_file_name(uri)):
        return True
    if n_chars > BOILERPLATE_MAX_CHARS:
        return False
    lower = head.lower()
    if not any(w in lower for w in _LICENCE_WORDS) and not any(c in head for c in _CASE_TWINS):
        return False
    return bool(_LICENCE_TEXT.search(head))


def is_error_page(head: str, n_chars: int) -> bool:
    """A short text that announces an HTTP error (the body of a saved 404 page, say)."""
    return n_chars <= ERROR_PAGE_MAX_CHARS and bool(_ERROR_PAGE.search(head))


class QualityGates(Annotator):
    name = "gates"
    version = "1"
    columns = pa.schema(
        [
            pa.field("gate_visible_chars", pa.int64()),
            pa.field("gate_bad_char_frac", pa.float32()),
            pa.field("gate_letter_frac", pa.float32()),
            pa.field("gate_boilerplate_file", pa.bool_()),
            pa.field("gate_error_page", pa.bool_()),
            *model_columns("gate"),
        ]
    )

    def batch_hint(self) -> BatchHint:
        return BatchHint(min_docs=64, max_docs=2048)

    def label(self, batch: pa.Table) -> pa.Table:
        n = batch.num_rows
        text = batch.column("text")
        sample = pc.utf8_slice_codeunits(text, 0, SAMPLE_CHARS)
        # Counted as the length left after deleting runs of the other characters: one regex match
        # per run instead of one per character (3-4x faster on prose; same counts).
        letters = pc.utf8_length(pc.replace_substring_regex(sample, _NOT_LETTERS, ""))
        lengths = pc.utf8_length(sample)
        spaces = [space_count(t[:SAMPLE_CHARS]) for t in texts(batch)]
        visible = pc.subtract(lengths, pa.array(spaces, lengths.type))
        n_chars = pc.utf8_length(text).to_pylist()
        heads = pc.utf8_slice_codeunits(text, 0, HEAD_CHARS).to_pylist()
        uris = batch.column("uri").to_pylist() if "uri" in batch.column_names else [None] * n
        arrays = [
            pc.cast(visible, pa.int64()),
            _frac(pc.count_substring_regex(sample, _BAD), lengths),
            _frac(letters, visible),
            pa.array([is_boilerplate_file(u, h, c) for u, h, c in zip(uris, heads, n_chars)], pa.bool_()),
            pa.array([is_error_page(h, c) for h, c in zip(heads, n_chars)], pa.bool_()),
            constant(self.name, n),
            constant(self.version, n),
        ]
        return pa.Table.from_arrays(arrays, schema=self.columns)
