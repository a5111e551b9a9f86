"""What every synthetic-data generator provides, so that one Beam job runs them all.

A generator turns a range of item indexes into documents and dead letters. Item `i` of a
run depends only on the generator's config, its seed and `i` (and, for LLM generators, on
the model's answers, which the client's cache makes repeatable), so any worker can make
any range and a re-run makes the same items.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from corpusmill.llm.types import Usage
from corpusmill.progress import NO_COUNTERS, CounterSink
from corpusmill.schema import DeadLetter, dead_letter

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    """One item's result: exactly one of `document` (a DOCUMENT_SCHEMA row) or `dead_letter`.

    A dataclass, not a NamedTuple: a tuple's field `index` would hide `tuple.index`."""

    index: int
    document: dict[str, Any] | None = None
    dead_letter: DeadLetter | None = None


class Generator(ABC):
    """Subclasses set `kind` ("math", "code", "textbook"), `name` and `version`."""

    kind: str
    name: str
    version: str
    # Items per work unit: LLM generators send a unit's requests together, so this is also
    # how many requests one worker keeps in flight.
    batch_size: int = 256

    @abstractmethod
    def config(self) -> dict[str, Any]:
        """The resolved settings that decide the output (stored in the run's summary)."""

    def setup(self) -> None:
        """Load models or open clients; called once per worker process before `generate`."""

    def close(self) -> None:
        """Release what `setup` opened (may not be called: nothing may depend on it)."""

    @abstractmethod
    def generate(self, start: int, end: int, counters: CounterSink = NO_COUNTERS) -> Iterator[Outcome]:
        """Outcomes for items `start..end-1`, one per item, in any order."""

    def outcomes(self, start: int, end: int, counters: CounterSink = NO_COUNTERS) -> Iterator[Outcome]:
        """`generate`, but an unexpected error (a bug, a library failing on odd input) dead-letters
        the span's remaining items instead of killing the job, so every index is accounted for."""
        done: set[int] = set()
        try:
            for outcome in self.generate(start, end, counters):
                done.add(outcome.index)
                yield outcome
        except Exception as exc:
            log.exception("%s failed on items %d..%d", self.name, start, end - 1)
            for index in range(start, end):
                if index not in done:
                    counters.inc("dead_internal_error")
                    yield Outcome(
                        index,
                        dead_letter=dead_letter(
                            uri=f"synth://{self.kind}/{self.name}/seed={getattr(self, 'seed', 0)}/{index}",
                            stage="generate",
                            reason="internal_error",
                            error=type(exc).__name__,
                            message=str(exc),
                        ),
                    )

    def take_ledger(self) -> Usage:
        """What model calls cost since the last call, per step (`corpusmill.llm.UsesLLM`); {} for none."""
        return {}

    @property
    def source(self) -> str:
        return f"synth/{self.kind}"
