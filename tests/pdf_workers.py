"""Worker functions for the isolation tests: the real page reader with one page made to
hang, crash or exhaust memory. They run in the child process, imported by name."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

from corpusmill.extractors.pdf.isolate import Progress
from corpusmill.extractors.pdf.worker import extract_pages

BAD_PAGE = 1  # 0-based: the second page misbehaves


def _misbehave_on_bad_page(action: Any, *args: Any) -> Iterator[Any]:
    for item in extract_pages(*args):
        yield item
        if isinstance(item, Progress) and item.unit == BAD_PAGE:
            action()


def hang_on_second_page(*args: Any) -> Iterator[Any]:
    yield from _misbehave_on_bad_page(lambda: time.sleep(3600), *args)


def crash_on_second_page(*args: Any) -> Iterator[Any]:
    yield from _misbehave_on_bad_page(os.abort, *args)


def exhaust_memory_on_second_page(*args: Any) -> Iterator[Any]:
    hoard = []
    yield from _misbehave_on_bad_page(lambda: hoard.append(bytearray(8 * 2**30)), *args)


def hang_while_opening(*args: Any) -> Iterator[Any]:
    time.sleep(3600)
    yield from extract_pages(*args)


def count_up(n: int) -> Iterator[int]:
    yield from range(n)


def yield_nonsense(*args: Any) -> Iterator[Any]:
    """A worker with a bug: its second item is not a page."""
    items = extract_pages(*args)
    yield next(items)
    yield "not a page"


def slow_units(n: int, seconds: float) -> Iterator[Any]:
    """`n` units of `seconds` each, marked with Progress, each yielding its number."""
    for unit in range(n):
        yield Progress(unit)
        time.sleep(seconds)
        yield unit
