"""The synthesize job: generator -> decontamination -> near-duplicate removal -> documents.

    index ranges -> Reshuffle -> _GenerateFn (room generator: documents | dead letters)
        -> _CheckFn (benchmark n-gram overlap -> dead letter; MinHash signature)
        -> (index, id, signature) -> ToList -> select (one place: dedup in index order, target)
        -> _ApplyFn (side input: kept | near-duplicate dead letter | surplus)
        -> by part -> write DOCS_DIR/part-NNNNN.parquet;  dead letters -> _dead_letters/

Only signatures (num_perm 64-bit values per item) meet in one place, never document text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import apache_beam as beam
import duckdb
import pyarrow as pa

from corpusmill import storage
from corpusmill.errors import ConfigError
from corpusmill.layout import DEAD_LETTERS_DIR, LEDGER_FILE
from corpusmill.llm.types import transient_dead_letters
from corpusmill.pipelines.beam_options import pipeline_options
from corpusmill.pipelines.common import (
    DEAD_LETTER_TAG,
    BeamCounters,
    WriteDeadLetters,
    WriteUsage,
)
from corpusmill.pipelines.job import Retry, Work, rate, run_job
from corpusmill.progress import poll_ticks
from corpusmill.schema import DOCUMENT_SCHEMA, dead_letter
from corpusmill.synth.base import Generator
from corpusmill.synth.decontaminate import DEFAULT_NGRAM, Decontaminator, shipped_benchmarks
from corpusmill.synth.dedup import NearDupConfig, Selection, select, signature

LEDGER_TAG = "ledger"
ROWS_PER_PART = 50_000


class _GenerateFn(beam.DoFn):
    def __init__(self, generator: Generator, progress: str | None = None) -> None:
        self.generator, self.progress = generator, progress

    def setup(self) -> None:
        self.generator.setup()
        self.counters = BeamCounters(f"synth_{self.generator.kind}", self.progress)

    def process(self, span: tuple[int, int]):
        for outcome in self.generator.outcomes(*span, counters=self.counters):
            self.counters.inc("items")
            if outcome.document is not None:
                yield outcome.index, outcome.document
            else:
                yield beam.pvalue.TaggedOutput(DEAD_LETTER_TAG, outcome.dead_letter)
        yield beam.pvalue.TaggedOutput(LEDGER_TAG, self.generator.take_ledger())

    def teardown(self) -> None:
        self.generator.close()


class _CheckFn(beam.DoFn):
    """Removes benchmark copies; attaches the MinHash signature to the rest."""

    def __init__(self, benchmarks: tuple[str, ...] | None, ngram: int, near_dup: NearDupConfig | None) -> None:
        self.benchmarks, self.ngram, self.near_dup = benchmarks, ngram, near_dup

    def setup(self) -> None:
        self.decontaminator = Decontaminator(self.benchmarks, ngram=self.ngram) if self.benchmarks is not None else None
        self.counters = BeamCounters("synth_filter")

    def process(self, element: tuple[int, dict[str, Any]]):
        index, doc = element
        hit = self.decontaminator.check(doc["text"]) if self.decontaminator else None
        if hit is not None:
            self.counters.inc("benchmark_overlap")
            yield beam.pvalue.TaggedOutput(
                DEAD_LETTER_TAG,
                dead_letter(
                    id=doc["id"],
                    uri=doc["uri"],
                    stage="decontaminate",
                    reason="benchmark_overlap",
                    error="Contamination",
                    message=f"shares {hit.overlapping_ngrams} {self.ngram}-grams with {hit.benchmark}",
                ),
            )
            return
        sig = signature(doc["text"], self.near_dup) if self.near_dup else None
        yield index, doc, sig


def _select(entries: list[tuple[int, str, Any]], near_dup: NearDupConfig | None, target: int | None) -> Selection:
    if near_dup is None:  # dedup off: keep everything up to the target, in index order
        ordered = [doc_id for _, doc_id, _ in sorted(entries, key=lambda e: (e[0], e[1]))]
        cut = len(ordered) if target is None else target
        return Selection(frozenset(ordered[:cut]), {}, frozenset(ordered[cut:]))
    return select(entries, config=near_dup, target=target)


class _ApplyFn(beam.DoFn):
    def process(self, element: tuple[int, dict[str, Any], Any], selection: Selection):
        index, doc, _ = element
        if doc["id"] in selection.keep:
            yield index, doc
        elif doc["id"] in selection.duplicates:
            yield beam.pvalue.TaggedOutput(
                DEAD_LETTER_TAG,
                dead_letter(
                    id=doc["id"],
                    uri=doc["uri"],
                    stage="dedup",
                    reason="near_duplicate",
                    error="NearDuplicate",
                    message=f"near-duplicate of {selection.duplicates[doc['id']]}",
                ),
            )
        # else: surplus, generated only to cover removals; counted in the summary


def _write_part(element: tuple[int, list[tuple[int, dict[str, Any]]]], out_dir: str) -> str:
    part, rows = element
    ordered = [doc for _, doc in sorted(rows, key=lambda r: r[0])]
    path = storage.join(out_dir, f"part-{part:05d}.parquet")
    storage.write_parquet(pa.Table.from_pylist(ordered, schema=DOCUMENT_SCHEMA), path)
    return path


class Synthesize(beam.PTransform):
    """Generates items `0..n-1` and writes the kept ones as documents under `out_dir`."""

    def __init__(
        self,
        generator: Generator,
        out_dir: str,
        *,
        n: int,
        target: int | None,
        near_dup: NearDupConfig | None,
        benchmarks: tuple[str, ...] | None,
        ngram: int,
        progress: str | None = None,
    ) -> None:
        super().__init__()
        self.generator, self.out_dir, self.n, self.target = generator, out_dir, n, target
        self.progress = progress
        self.near_dup, self.benchmarks, self.ngram = near_dup, benchmarks, ngram

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
        size = self.generator.batch_size
        spans = [(s, min(s + size, self.n)) for s in range(0, self.n, size)]
        generated = (
            pbegin
            | "Spans" >> beam.Create(spans, reshuffle=False)
            | "Spread" >> beam.Reshuffle()
            | "Generate"
            >> beam.ParDo(_GenerateFn(self.generator, self.progress)).with_outputs(
                DEAD_LETTER_TAG, LEDGER_TAG, main="docs"
            )
        )
        _ = generated[LEDGER_TAG] | "WriteUsage" >> WriteUsage(self.out_dir)
        checked = generated.docs | "Check" >> beam.ParDo(
            _CheckFn(self.benchmarks, self.ngram, self.near_dup)
        ).with_outputs(DEAD_LETTER_TAG, main="docs")
        selection = (
            checked.docs
            | "Signatures" >> beam.Map(lambda e: (e[0], e[1]["id"], e[2]))
            | "Gather" >> beam.combiners.ToList()
            | "Select" >> beam.Map(_select, self.near_dup, self.target)
        )
        applied = checked.docs | "Apply" >> beam.ParDo(_ApplyFn(), beam.pvalue.AsSingleton(selection)).with_outputs(
            DEAD_LETTER_TAG, main="docs"
        )
        _ = (
            applied.docs
            | "ByPart" >> beam.Map(lambda e: (e[0] // ROWS_PER_PART, e))
            | "GroupParts" >> beam.GroupByKey()
            | "WriteParts" >> beam.Map(_write_part, self.out_dir)
        )
        dead = (
            generated[DEAD_LETTER_TAG],
            checked[DEAD_LETTER_TAG],
            applied[DEAD_LETTER_TAG],
        ) | "AllDead" >> beam.Flatten()
        return dead | "WriteDeadLetters" >> WriteDeadLetters(self.out_dir, "synthesize")


def _counts(out_dir: str) -> dict[str, Any]:
    """Documents, languages and dead letters by reason, read back from the written files."""
    con = duckdb.connect()
    parts = storage.expand(storage.join(out_dir, "part-*.parquet"))
    docs, by_language = 0, {}
    if parts:
        rows = con.execute(
            "SELECT json_extract_string(meta, '$.language') AS l, count(*) FROM read_parquet(?) GROUP BY l ORDER BY l",
            [parts],
        ).fetchall()
        by_language = {str(lang): int(n) for lang, n in rows}
        docs = sum(by_language.values())
    dead: dict[str, int] = {}
    files = storage.expand(storage.join(out_dir, DEAD_LETTERS_DIR, "*.parquet"))
    if files:
        for stage, reason, n in con.execute(
            "SELECT stage, reason, count(*) FROM read_parquet(?) GROUP BY ALL", [files]
        ).fetchall():
            dead[f"{stage}/{reason}"] = int(n)
    return {"docs": docs, "by_language": by_language, "dead_letters": dict(sorted(dead.items()))}


def _pending_retries(out_dir: str) -> int:
    """Items whose model call failed for a transient reason (server down, timeout, 5xx, 429)."""
    return transient_dead_letters(storage.expand(storage.join(out_dir, DEAD_LETTERS_DIR, "*.parquet")))


def _reopen(out_dir: str) -> int:
    """Selection and dedup span all items, so a retry runs the whole job again: the response
    cache answers every request answered before and only the failed ones are sent."""
    pending = _pending_retries(out_dir)
    if pending:
        for path in storage.expand(storage.join(out_dir, "part-*.parquet")):
            storage.remove_tree(path)
        storage.remove_tree(storage.join(out_dir, DEAD_LETTERS_DIR))
    return pending


def run_synthesize(
    generator: Generator,
    out_dir: str,
    *,
    n: int,
    target: int | None = None,
    near_dup: NearDupConfig | None = NearDupConfig(),
    decontaminate: bool = True,
    benchmarks: Sequence[str] | None = None,
    ngram: int = DEFAULT_NGRAM,
    workers: int | None = None,
    beam_args: list[str] | None = None,
    overwrite: bool = False,
    progress: bool = True,
    retry_failed: bool = False,
) -> dict[str, Any]:
    """Generate items `0..n-1` with `generator`, write the kept ones to `out_dir`, return the summary.

    `target` keeps at most that many documents (the first ones by index after dedup): pass
    `n` a little above `target` to make up for duplicates. `benchmarks` replaces the shipped
    GSM8K/HumanEval files for decontamination; `decontaminate=False` turns it off. Items whose
    model call failed for a transient reason are retried by a re-run (or `retry_failed`).
    """
    if n < 1 or (target is not None and not 1 <= target <= n):
        raise ConfigError(f"need n >= 1 and 1 <= target <= n (got n={n}, target={target})")
    bench = (tuple(benchmarks) if benchmarks else shipped_benchmarks()) if decontaminate else None
    if bench is not None:
        Decontaminator(bench, ngram=ngram)  # fail before the job starts on a missing or bad file
    config = {
        "generator": generator.config(),
        "kind": generator.kind,
        "n": n,
        "target": target,
        "near_dup": None if near_dup is None else vars(near_dup),
        "benchmarks": list(bench or []),
        "ngram": ngram,
    }

    def work(ticks: str | None) -> Work:
        # An unfinished run of the same settings starts over: its dead letters are written as
        # one sorted set at the end, so stale files of the earlier attempt must go.
        for stale in storage.expand(storage.join(out_dir, DEAD_LETTERS_DIR)):
            storage.remove_tree(stale)
        synth = Synthesize(
            generator, out_dir, n=n, target=target, near_dup=near_dup, benchmarks=bench, ngram=ngram, progress=ticks
        )
        return Work(lambda p: p | synth, poll_ticks(out_dir, "items"), "items", total=n)

    def count(elapsed: float) -> dict[str, Any]:
        counts = _tally(_counts(out_dir), n)
        counts["items_per_s"] = rate(counts["docs"], elapsed)
        ledger_path = storage.join(out_dir, LEDGER_FILE)
        if storage.exists(ledger_path):  # LLM generators: what the model calls cost, in the summary
            counts["llm"] = storage.read_json(ledger_path)
            storage.remove_tree(ledger_path)
        return counts

    return run_job(
        "synthesize",
        out_dir,
        {"config": config},
        plan=work,
        count=count,
        options=pipeline_options(beam_args, workers=workers),
        overwrite=overwrite,
        progress=progress,
        retry=Retry(lambda: _pending_retries(out_dir), lambda: _reopen(out_dir)),
        retry_failed=retry_failed,
    )


def _tally(counts: dict[str, Any], n: int) -> dict[str, Any]:
    """Adds the accounting: candidates = docs + dead letters + surplus, and the removal rates."""
    dead = counts["dead_letters"]
    total_dead = sum(dead.values())
    dups = dead.get("dedup/near_duplicate", 0)
    contaminated = dead.get("decontaminate/benchmark_overlap", 0)
    surplus = n - counts["docs"] - total_dead
    checked = counts["docs"] + dups
    return {
        **counts,
        "records_in": n,
        "dead_letters_total": total_dead,
        "surplus": surplus,
        "duplicates": dups,
        "removed_by_dedup": dups,
        "removed_by_decontamination": contaminated,
        "duplicate_rate": round(dups / checked, 6) if checked else 0.0,
    }


def overshoot(target: int) -> int:
    """How many items to generate for `target` documents: 2 % more, at least 20 more."""
    return target + max(20, math.ceil(0.02 * target))
