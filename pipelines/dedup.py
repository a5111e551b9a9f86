"""The dedup job: documents -> a near-duplicate sidecar (MinHash-LSH, connected components).

    pass 1: files -> Sign (signature file per documents file; band keys by partition)
        -> GroupByKey(band partition) -> Candidates (star pairs per shared band key)
        -> [Check: pairs by file of u + signatures of u, then by file of v -> estimate >= floor]
        -> both directions by node partition -> Labels (round one) -> Round x R -> WriteLabels
        -> labels by file -> Members (+ signature, score, id) -> Summarize (combine per cluster:
        size, first, best) -> CoGroupByKey(cluster) with the members -> Settle (kept document,
        estimate vs kept, streamed) -> by file -> WriteSidecars
    only if the last round still changed a label: ReadState -> Round x R -> WriteState, until
    no label changes, then ReadState -> WriteSidecars again

Only numpy arrays grouped by partition or by file move through the runner, and for the
per-document stages only documents that have a candidate pair; no place holds more than one
partition or one file. The driver holds counts only.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

import apache_beam as beam
import numpy as np

from corpusmill import storage
from corpusmill.dedup import components, lsh
from corpusmill.dedup.config import DedupConfig, s_curve
from corpusmill.dedup.keep import RULE_EDU, RULE_FIRST, ClusterSummary
from corpusmill.dedup.work import (
    CHANGED_FILE,
    WORK_DIR,
    FileTask,
    cluster_members,
    file_of,
    fingerprint,
    partitions_for,
    plan,
    read_state,
    settle_members,
    sign_file,
    signatures_of,
    signed_docs,
    split_by,
    summarize,
    verify,
    write_changed,
    write_sidecar,
    write_state,
)
from corpusmill.pipelines.beam_options import pipeline_options
from corpusmill.pipelines.common import BeamCounters
from corpusmill.pipelines.job import Work, rate, run_job

log = logging.getLogger(__name__)

# Rounds unrolled per pipeline: star pairs make most clusters settle in one or two.
ROUNDS_PER_PASS = 3
MAX_PASSES = 64


def _concat(batches: Any, n: int) -> tuple[np.ndarray, ...]:
    parts = list(batches)
    if not parts:
        return tuple(np.empty(0, dtype=np.int64) for _ in range(n))
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(n))


class _SignFn(beam.DoFn):
    def __init__(self, config: DedupConfig, partitions: int) -> None:
        self.config, self.partitions = config, partitions

    def setup(self) -> None:
        self.counters = BeamCounters("dedup")

    def process(self, task: FileTask):
        yield from sign_file(task, self.config, self.partitions)
        self.counters.inc("files_signed")


def _candidates(element: Any, checked: bool):
    _, batches = element
    keys, docs = _concat(batches, 2)
    u, v = lsh.candidate_pairs(keys, docs)
    if checked:  # to the file of u, where u's signatures are
        yield from split_by(file_of(u), u, v)
    else:
        yield 0, (u, v)


def _attach(element: Any, tasks: dict[int, FileTask]):
    f, batches = element
    u, v = _concat(batches, 2)
    sig_u = signatures_of(tasks[f].signatures, u)
    yield from split_by(file_of(v), u, v, sig_u)


class _CheckFn(beam.DoFn):
    def __init__(self, tasks: dict[int, FileTask], floor: float) -> None:
        self.tasks, self.floor = tasks, floor

    def setup(self) -> None:
        self.counters = BeamCounters("dedup")

    def process(self, element: Any):
        f, batches = element
        u, v, sig_u = _concat(batches, 3)
        sig_v = signatures_of(self.tasks[f].signatures, v)
        ku, kv = verify(u, v, sig_u, sig_v, self.floor)
        self.counters.inc("pairs_checked", len(u))
        self.counters.inc("pairs_rejected", len(u) - len(ku))
        yield 0, (ku, kv)


def _by_node(element: Any, partitions: int):
    _, (u, v) = element
    first, second = np.concatenate([u, v]), np.concatenate([v, u])
    yield from split_by(lsh.partition_of(first, partitions), first, second)


def _init_state(element: Any):
    p, batches = element
    a, b = _concat(batches, 2)
    a, b = lsh.unique_pairs(a, b)
    nodes, labels = components.initial_labels(a, b)
    yield p, (a, b, nodes, labels)


def _send(element: Any, partitions: int):
    p, (a, b, nodes, labels) = element
    yield p, ("state", (a, b, nodes, labels))
    targets, values = components.messages(a, b, nodes, labels)
    for q, (t, val) in split_by(lsh.partition_of(targets, partitions), targets, values):
        yield q, ("msg", (t, val))


class _ReceiveFn(beam.DoFn):
    CHANGED = "changed"

    def setup(self) -> None:
        self.counters = BeamCounters("dedup")

    def process(self, element: Any):
        p, items = element
        state, msgs = None, []
        for kind, value in items:
            if kind == "state":
                state = value
            else:
                msgs.append(value)
        if state is None:
            raise RuntimeError(f"partition {p} received labels but holds no nodes")
        a, b, nodes, labels = state
        t, val = _concat(msgs, 2)
        new_nodes, new_labels = components.min_by_node(np.concatenate([nodes, t]), np.concatenate([labels, val]))
        changed = int((new_labels != labels).sum())
        self.counters.inc("label_changes", changed)
        yield p, (a, b, new_nodes, new_labels)
        yield beam.pvalue.TaggedOutput(self.CHANGED, changed)


class _Rounds(beam.PTransform):
    """R rounds of min-label propagation; writes the state and the last round's change count,
    and returns the state for clusters to be settled in the same pipeline."""

    def __init__(self, rounds: int, partitions: int, dup_dir: str) -> None:
        super().__init__()
        self.rounds, self.partitions, self.dup_dir = rounds, partitions, dup_dir

    def expand(self, state: beam.PCollection) -> beam.PCollection:
        changed = None
        for r in range(self.rounds):
            out = (
                state
                | f"Send{r}" >> beam.FlatMap(_send, self.partitions)
                | f"Gather{r}" >> beam.GroupByKey()
                | f"Receive{r}" >> beam.ParDo(_ReceiveFn()).with_outputs(_ReceiveFn.CHANGED, main="state")
            )
            state, changed = out.state, out[_ReceiveFn.CHANGED]
        assert changed is not None
        _ = changed | "SumChanged" >> beam.combiners.ToList() | "WriteChanged" >> beam.Map(write_changed, self.dup_dir)
        _ = state | "WriteState" >> beam.Map(write_state, self.dup_dir)
        return state


class FindPairs(beam.PTransform):
    """Pass 1: signatures, candidate pairs, optional check, first label rounds."""

    def __init__(self, tasks: list[FileTask], config: DedupConfig, partitions: int, dup_dir: str) -> None:
        super().__init__()
        self.tasks, self.config, self.partitions, self.dup_dir = tasks, config, partitions, dup_dir

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
        by_index = {t.index: t for t in self.tasks}
        pairs = (
            pbegin
            | "Files" >> beam.Create(self.tasks, reshuffle=False)
            | "Spread" >> beam.Reshuffle()
            | "Sign" >> beam.ParDo(_SignFn(self.config, self.partitions))
            | "ByBand" >> beam.GroupByKey()
            | "Candidates" >> beam.FlatMap(_candidates, self.config.verify)
        )
        if self.config.verify:
            pairs = (
                pairs
                | "ByFileOfU" >> beam.GroupByKey()
                | "AttachU" >> beam.FlatMap(_attach, by_index)
                | "ByFileOfV" >> beam.GroupByKey()
                | "Check" >> beam.ParDo(_CheckFn(by_index, self.config.verify_floor))
            )
        state = (
            pairs
            | "ByNode" >> beam.FlatMap(_by_node, self.partitions)
            | "GatherNodes" >> beam.GroupByKey()
            | "Labels" >> beam.FlatMap(_init_state)
        )
        return state | "Rounds" >> _Rounds(ROUNDS_PER_PASS, self.partitions, self.dup_dir)


class ReadState(beam.PTransform):
    """The label state the last pass wrote, one element per partition."""

    def __init__(self, partitions: int, dup_dir: str) -> None:
        super().__init__()
        self.partitions, self.dup_dir = partitions, dup_dir

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
        return (
            pbegin
            | "Partitions" >> beam.Create(list(range(self.partitions)))
            | "Read" >> beam.FlatMap(read_state, self.dup_dir)
        )


def _labels_by_file(element: Any):
    _, (_, _, nodes, labels) = element
    yield from split_by(file_of(nodes), nodes, labels)


def _members(element: Any, tasks: dict[int, FileTask]):
    f, batches = element
    nodes, labels = _concat(batches, 2)
    yield from cluster_members(tasks[f], nodes, labels)


class _Summarize(beam.CombineFn):
    """Size, first and best member of a cluster, one member at a time (bounded memory)."""

    def create_accumulator(self) -> ClusterSummary:
        return ClusterSummary()

    def add_input(self, acc: ClusterSummary, member: tuple[int, str, float, bytes]) -> ClusterSummary:
        return acc.add(*member)

    def merge_accumulators(self, accs: Any) -> ClusterSummary:
        out = ClusterSummary()
        for acc in accs:
            out.merge(acc)
        return out

    def extract_output(self, acc: ClusterSummary) -> ClusterSummary:
        return acc


def _settle(element: Any, rule: str):
    # The members' iterable is streamed once, never sorted or held: only the summary is.
    _, grouped = element
    (summary,) = grouped["summary"]
    yield from settle_members(grouped["members"], summary, rule)


def _write(element: Any, tasks: dict[int, FileTask], config: DedupConfig) -> dict[str, int]:
    index, grouped = element
    return write_sidecar(tasks[index], list(grouped["rows"]), config)


class WriteClusters(beam.PTransform):
    """Labels -> kept document, size and estimate per cluster; one sidecar per documents file."""

    def __init__(self, tasks: list[FileTask], config: DedupConfig) -> None:
        super().__init__()
        self.tasks, self.config = tasks, config

    def expand(self, state: beam.PCollection) -> beam.PCollection:
        by_index = {t.index: t for t in self.tasks}
        members = (
            state
            | "LabelsByFile" >> beam.FlatMap(_labels_by_file)
            | "GatherFiles" >> beam.GroupByKey()
            | "Members" >> beam.FlatMap(_members, by_index)
        )
        summaries = members | "Summarize" >> beam.CombinePerKey(_Summarize())
        rows = (
            {"members": members, "summary": summaries}
            | "ByCluster" >> beam.CoGroupByKey()
            | "Settle" >> beam.FlatMap(_settle, self.config.keep)
        )
        files = state.pipeline | "Files" >> beam.Create([(t.index, None) for t in self.tasks])
        return (
            {"file": files, "rows": rows}
            | "ByFile" >> beam.CoGroupByKey()
            | "WriteSidecars" >> beam.Map(_write, by_index, self.config)
        )


def run_dedup(
    docs_dir: str,
    dup_dir: str,
    *,
    config: DedupConfig | None = None,
    annotations: str | None = None,
    workers: int | None = None,
    beam_args: list[str] | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Find near-duplicate clusters among the documents of `docs_dir`; returns the summary."""
    config = config or DedupConfig()
    if annotations is None and config.keep == RULE_EDU:
        # Without labels every cluster would fall back; say plainly that the rule is `first`.
        log.info("no annotations given: the kept document of a cluster is the first")
        config = dataclasses.replace(config, keep=RULE_FIRST)
    tasks = plan(docs_dir, dup_dir, annotations)
    if not tasks:
        from corpusmill.errors import InputNotFoundError

        raise InputNotFoundError(f"no documents under {docs_dir} (expected *.parquet); run `corpusmill ingest` first")
    n_docs = sum(storage.parquet_rows(t.docs) for t in tasks)
    partitions = partitions_for(n_docs, config)
    passes = 1

    def more_passes(run_pipeline: Callable[[Callable[[beam.Pipeline], None]], None]) -> None:
        # Clusters were settled from the labels of the first pipeline's last round; only if that
        # round still changed a label do more passes run, and the sidecars are written again.
        nonlocal passes
        while storage.read_json(storage.join(dup_dir, WORK_DIR, CHANGED_FILE))["changed"]:
            if passes >= MAX_PASSES:
                raise RuntimeError(f"labels still change after {passes * ROUNDS_PER_PASS} rounds")
            run_pipeline(
                lambda p: (
                    p
                    | "ReadState" >> ReadState(partitions, dup_dir)
                    | "Rounds" >> _Rounds(ROUNDS_PER_PASS, partitions, dup_dir)
                )
            )
            passes += 1
        if passes > 1:
            run_pipeline(
                lambda p: (
                    p | "ReadState" >> ReadState(partitions, dup_dir) | "WriteClusters" >> WriteClusters(tasks, config)
                )
            )

    def work(_ticks: str | None) -> Work:  # progress is read from the signature files, not ticks
        build = lambda p: (  # noqa: E731
            p
            | "FindPairs" >> FindPairs(tasks, config, partitions, dup_dir)
            | "WriteClusters" >> WriteClusters(tasks, config)
        )
        return Work(build, signed_docs(tasks), "docs signed", follow_up=more_passes)

    def count(elapsed: float) -> dict[str, Any]:
        edges = storage.expand(storage.join(dup_dir, WORK_DIR, "edges-*.parquet"))
        counts = {
            **summarize(tasks),
            "files": len(tasks),
            "partitions": partitions,
            "passes": passes,
            "rounds": passes * ROUNDS_PER_PASS,
            "pairs": sum(storage.parquet_rows(p) for p in edges) // 2,
            "skipped": False,
            "dead_letters": {},
            "docs_per_s": rate(n_docs, elapsed),
            "keep_rule": config.keep,
            "s_curve": s_curve(config),
        }
        storage.remove_tree(storage.join(dup_dir, WORK_DIR))
        return counts

    return run_job(
        "dedup",
        dup_dir,
        {"docs_dir": docs_dir, "annotations": annotations, "config": config.as_dict()},
        key=fingerprint(tasks, config),
        plan=work,
        count=count,
        options=pipeline_options(beam_args, workers=workers),
        overwrite=overwrite,
        progress=progress,
    )
