"""The mix job: corpus + recipe -> tokenized, shuffled Megatron shards per stage.

    driver:  Mixer.check (recipe SQL on the corpus view) -> token pass (Beam, cached) ->
             Mixer.plan (selection, sampling and shard layout per stage) -> Mixer.stage_work
    Beam:    work items (token file, its placements) -> Reshuffle -> _ReadSlicesFn
             -> GroupByKey(shard) -> _WriteShardFn (.bin, .idx, provenance)
    driver:  Mixer.finish_stage (dead letters, manifest.json)

Every placement (shard, sequence, offset) is decided on the driver from lengths alone, so
workers only copy token slices: the bytes are the same on any number of workers, and a
re-run writes only the shards that are missing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

import apache_beam as beam
import numpy as np

from corpusmill import storage
from corpusmill.mixers import token_cache
from corpusmill.mixers.mixer import Mixer, MixResult
from corpusmill.mixers.plan import StagePlan
from corpusmill.mixers.recipe import Recipe
from corpusmill.mixers.shards import SliceGroup, assemble, cut_slices, finished_shards, write_shard
from corpusmill.mixers.tokenizer import Tokenizer
from corpusmill.pipelines.beam_options import pipeline_options
from corpusmill.pipelines.common import BeamCounters, run
from corpusmill.progress import ProgressLine, poll_ticks, progress_dir

log = logging.getLogger(__name__)


class _TokenizeFn(beam.DoFn):
    def __init__(self, tokenizer: Tokenizer, progress: str | None = None) -> None:
        self.tokenizer, self.progress = tokenizer, progress

    def setup(self) -> None:
        self.counters = BeamCounters("mix", self.progress)
        self.tokenizer.encode_batch(["load the vocabulary once per worker, before the first bundle"])
        self.breaks = token_cache.BreakTokens(self.tokenizer)

    def process(self, task: tuple[str, int, str]) -> Iterable[int]:
        docs_path, row_group, target = task
        n = token_cache.tokenize_row_group(docs_path, row_group, target, self.tokenizer, self.breaks)
        self.counters.inc("documents_tokenized", n)
        self.counters.flush()  # a row group is a large unit: show it at once
        yield n


class _ReadSlicesFn(beam.DoFn):
    """Reads one token file and yields (shard, slices) for the placements that come from it."""

    def __init__(self, eos_id: int) -> None:
        self.eos_id = eos_id

    def setup(self) -> None:
        self.counters = BeamCounters("mix")

    def process(self, item: tuple[str, str]) -> Iterable[tuple[int, SliceGroup]]:
        token_file, placements_file = item
        placements = storage.read_parquet(placements_file)  # sorted by shard, seq, offset
        tokens = token_cache.read_token_rows(token_file, set(placements.column("id").to_pylist()))
        shards = placements.column("shard").to_numpy()
        firsts = np.flatnonzero(np.r_[True, shards[1:] != shards[:-1]]).tolist()
        for a, b in zip(firsts, firsts[1:] + [len(shards)]):
            yield int(shards[a]), cut_slices(placements.slice(a, b - a), tokens, self.eos_id)
        self.counters.inc("slices_read", placements.num_rows)


class _WriteShardFn(beam.DoFn):
    def __init__(self, stage_dir: str, pad_to: int | None, eos_id: int, vocab_size: int) -> None:
        self.stage_dir, self.pad_to, self.eos_id, self.vocab_size = stage_dir, pad_to, eos_id, vocab_size

    def setup(self) -> None:
        self.counters = BeamCounters("mix")

    def process(self, element: tuple[int, Iterable[SliceGroup]]) -> Iterable[int]:
        shard, groups = element
        flat, lengths, provenance = assemble(groups, pad_to=self.pad_to, pad_id=self.eos_id)
        write_shard(self.stage_dir, shard, flat, lengths, provenance, vocab_size=self.vocab_size)
        self.counters.inc("shards_written")
        self.counters.inc("tokens_written", int(flat.size))
        yield shard


class WriteShards(beam.PTransform):
    """Work items (token file, placements file) -> shard files under `stage_dir`."""

    def __init__(
        self, items: list[tuple[str, str]], stage_dir: str, *, pad_to: int | None, tokenizer: Tokenizer
    ) -> None:
        super().__init__()
        self.items, self.stage_dir, self.pad_to, self.tokenizer = items, stage_dir, pad_to, tokenizer

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
        tok = self.tokenizer
        return (
            pbegin
            | "Items" >> beam.Create(self.items, reshuffle=False)
            | "Spread" >> beam.Reshuffle()
            | "ReadSlices" >> beam.ParDo(_ReadSlicesFn(tok.eos_id))
            | "ByShard" >> beam.GroupByKey()
            | "WriteShard" >> beam.ParDo(_WriteShardFn(self.stage_dir, self.pad_to, tok.eos_id, tok.vocab_size))
        )


def ensure_tokens(
    docs: str,
    out: str,
    tokenizer: Tokenizer,
    options: beam.options.pipeline_options.PipelineOptions,
    *,
    progress: bool = False,
) -> list[str]:
    """Token sidecar files for every row group of the documents; tokenizes only what is missing."""
    folder = token_cache.cache_dir(out, tokenizer)
    files, todo, total = [], [], 0
    for path in storage.expand(storage.join(docs, "*.parquet")):
        key, n_row_groups = token_cache.file_key(path)
        rows = token_cache.row_group_rows(path)
        for rg in range(n_row_groups):
            target = token_cache.cache_file(folder, path, rg, key)
            files.append(target)
            if not storage.exists(target):
                todo.append((path, rg, target))
                total += rows[rg]
    if todo:
        log.info("tokenizing %d row groups into %s", len(todo), folder)
        storage.remove_tree(progress_dir(out))  # counts of an interrupted earlier attempt
        ticks = progress_dir(out) if progress else None
        poll = poll_ticks(out, "documents_tokenized")
        with ProgressLine("mix", "documents tokenized", poll, enabled=progress, total=total):
            run(
                lambda p: (
                    p
                    | "TokenTasks" >> beam.Create(todo, reshuffle=False)
                    | "SpreadTokenTasks" >> beam.Reshuffle()
                    | "Tokenize" >> beam.ParDo(_TokenizeFn(tokenizer, ticks))
                ),
                options,
            )
        storage.remove_tree(progress_dir(out))
    return files


def write_stages(
    mixer: Mixer,
    plans: list[StagePlan],
    token_files: list[str],
    *,
    options: beam.options.pipeline_options.PipelineOptions,
    overwrite: bool,
) -> list[str]:
    """Write the missing shards of every stage in one Beam job; returns the stages already finished."""
    work = {p.stage.name: mixer.stage_work(p, token_files, overwrite=overwrite) for p in plans}
    todo = [p for p in plans if work[p.stage.name] is not None]

    def build(pipeline: beam.Pipeline) -> None:
        for plan in todo:
            items = work[plan.stage.name]
            if items:
                _ = pipeline | f"Shards/{plan.stage.name}" >> WriteShards(
                    items, mixer.stage_dir(plan), pad_to=plan.layout.pad_to, tokenizer=mixer.tokenizer
                )

    if any(work[p.stage.name] for p in todo):
        run(build, options)
    for plan in todo:
        mixer.finish_stage(plan)
    return [p.stage.name for p in plans if work[p.stage.name] is None]


def run_mix(
    recipe: Recipe,
    docs: str,
    annotations: str,
    out: str,
    *,
    dry_run: bool = False,
    workers: int | None = None,
    beam_args: list[str] | None = None,
    overwrite: bool = False,
    progress: bool = True,
    dedup: str | None = None,
) -> MixResult:
    """Plan every stage of `recipe`, then (unless `dry_run`) write its shards under `out/<stage>/`.
    With `dedup` (a `corpusmill dedup` folder) a recipe that asks for it selects only kept documents."""
    start = time.monotonic()
    options = pipeline_options(beam_args, workers=workers)
    with Mixer(recipe, docs, annotations, out, dedup=dedup) as mixer:
        mixer.check()
        if not dry_run:  # halves of files a killed earlier run was writing: redone below
            storage.remove_temp_files(out)
        token_files = ensure_tokens(docs, out, mixer.tokenizer, options, progress=progress)
        result = mixer.plan(token_files, dry_run=dry_run)
        if dry_run:
            return result
        poll = lambda: sum(len(finished_shards(mixer.stage_dir(p))) for p in result.plans)  # noqa: E731
        total = sum(p.layout.n_shards for p in result.plans)
        with ProgressLine("mix", "shards", poll, enabled=progress, total=total):
            result.stages_skipped = write_stages(mixer, result.plans, token_files, options=options, overwrite=overwrite)
        result.elapsed_s = time.monotonic() - start
        return result
