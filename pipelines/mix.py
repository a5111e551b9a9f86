"""The mix job: corpus + recipe -> tokenized, shuffled Megatron shards per stage.

    driver:  recipe SQL checked on the corpus view -> token pass (Beam, cached) ->
             selection, sampling and shard layout per stage (DuckDB + numpy) -> plan
    Beam:    work items (token file, its placements) -> Reshuffle -> _ReadSlicesFn
             -> GroupByKey(shard) -> _WriteShardFn (.bin, .idx, provenance)
    driver:  dead letters, manifest.json

Every placement (shard, sequence, offset) is decided on the driver from lengths alone, so
workers only copy token slices: the bytes are the same on any number of workers, and a
re-run writes only the shards that are missing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import apache_beam as beam
import numpy as np
import pyarrow as pa

from corpusmill import storage
from corpusmill.corpus import Corpus, open_corpus
from corpusmill.errors import ConfigError, OutputExistsError
from corpusmill.layout import DEAD_LETTERS_DIR
from corpusmill.mixers import token_cache
from corpusmill.mixers.manifest import MANIFEST, PLAN_FILE, build_manifest
from corpusmill.mixers.plan import StagePlan, plan_stage
from corpusmill.mixers.recipe import MISSING_FAIL, Recipe
from corpusmill.mixers.selection import (
    check_unique_ids,
    create_mix_view,
    empty_buckets,
    missing_annotations,
    validate_sql,
)
from corpusmill.mixers.shard_work import dead_letter_rows, work_items
from corpusmill.mixers.shards import SliceGroup, assemble, cut_slices, finished_shards, write_shard
from corpusmill.mixers.tokenizer import Tokenizer, load_tokenizer
from corpusmill.pipelines.beam_options import pipeline_options
from corpusmill.pipelines.common import BeamCounters, run
from corpusmill.progress import ProgressLine, poll_ticks, progress_dir

log = logging.getLogger(__name__)

WORK_DIR = "_work"


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


@dataclass
class MixResult:
    out: str
    plans: list[StagePlan]
    documents: int  # in the corpus
    missing_annotations: int
    dry_run: bool
    stages_skipped: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    def describe(self) -> str:
        lines = []
        for p in self.plans:
            used = len(set(p.instances.column("id").to_pylist()))
            lines += [
                p.describe(),
                f"  documents: {self.documents:,} in corpus = {used:,} used + "
                f"{self.documents - used - self.missing_annotations:,} not selected + "
                f"{self.missing_annotations:,} without annotations (dead letters)",
            ]
        unmet = [u for p in self.plans for u in p.unmet]
        lines.append(
            f"not met within ±0.5%: {len(unmet)} bucket(s)" if unmet else "every bucket budget is met within ±0.5%"
        )
        return "\n".join(lines)


def _prepare_stage_dir(stage_dir: str, plan: StagePlan, overwrite: bool) -> bool:
    """True when the stage is already finished with this exact plan; raises on a different plan."""
    for name in (MANIFEST, PLAN_FILE):
        path = storage.join(stage_dir, name)
        if storage.exists(path) and storage.read_json(path).get("plan_fingerprint") != plan.fingerprint:
            if not overwrite:
                raise OutputExistsError(
                    f"{stage_dir} holds shards of a different plan (recipe, seed, tokenizer or corpus changed); "
                    "choose a new output folder or pass --overwrite"
                )
            storage.remove_tree(stage_dir)
    if storage.exists(storage.join(stage_dir, MANIFEST)):
        return True
    storage.write_json(
        {"plan_fingerprint": plan.fingerprint, "stage": plan.stage.name}, storage.join(stage_dir, PLAN_FILE)
    )
    return False


def _stage_work(
    corpus: Corpus, plan: StagePlan, out: str, token_files: list[str], overwrite: bool
) -> list[tuple[str, str]] | None:
    """Work items for the shards a stage still misses; None when the stage is already finished."""
    stage_dir = storage.join(out, plan.stage.name)
    if _prepare_stage_dir(stage_dir, plan, overwrite):
        return None
    work_dir = storage.join(stage_dir, WORK_DIR)
    return work_items(corpus, plan.layout.placements, token_files, work_dir, skip_shards=finished_shards(stage_dir))


def _finish_stage(
    corpus: Corpus, plan: StagePlan, recipe: Recipe, tokenizer: Tokenizer, out: str, missing: pa.Table
) -> None:
    """Dead letters, then the manifest (written last: its presence means the stage is done)."""
    stage_dir = storage.join(out, plan.stage.name)
    dead = dead_letter_rows(corpus, missing, plan.layout.skipped, plan.stage)
    if dead.num_rows:
        storage.write_parquet(dead, storage.join(stage_dir, DEAD_LETTERS_DIR, "mix-00000.parquet"))
    manifest = build_manifest(plan, recipe, tokenizer, stage_dir, missing_annotations=missing.num_rows)
    storage.remove_tree(storage.join(stage_dir, WORK_DIR))
    storage.write_json(manifest, storage.join(stage_dir, MANIFEST))


def write_stages(
    corpus: Corpus,
    plans: list[StagePlan],
    recipe: Recipe,
    tokenizer: Tokenizer,
    out: str,
    *,
    options: beam.options.pipeline_options.PipelineOptions,
    missing: pa.Table,
    token_files: list[str],
    overwrite: bool,
) -> list[str]:
    """Write the missing shards of every stage in one Beam job; returns the stages already finished."""
    work = {p.stage.name: _stage_work(corpus, p, out, token_files, overwrite) for p in plans}
    todo = [p for p in plans if work[p.stage.name] is not None]

    def build(pipeline: beam.Pipeline) -> None:
        for plan in todo:
            items = work[plan.stage.name]
            if items:
                stage_dir = storage.join(out, plan.stage.name)
                _ = pipeline | f"Shards/{plan.stage.name}" >> WriteShards(
                    items, stage_dir, pad_to=plan.layout.pad_to, tokenizer=tokenizer
                )

    if any(work[p.stage.name] for p in todo):
        run(build, options)
    for plan in todo:
        _finish_stage(corpus, plan, recipe, tokenizer, out, missing)
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
) -> MixResult:
    """Plan every stage of `recipe`, then (unless `dry_run`) write its shards under `out/<stage>/`."""
    start = time.monotonic()
    tokenizer = load_tokenizer(recipe.tokenizer, eos_token=recipe.eos_token)
    options = pipeline_options(beam_args, workers=workers)
    corpus = open_corpus(docs, annotations)
    try:
        validate_sql(corpus, recipe)
        check_unique_ids(corpus)
        missing = missing_annotations(corpus)
        if missing.num_rows and recipe.missing_annotations == MISSING_FAIL:
            raise ConfigError(
                f"{missing.num_rows:,} documents have no annotations (e.g. {missing.column('id')[0]}); run annotate"
            )
        empty = empty_buckets(corpus, recipe)
        if empty and recipe.strict:
            raise ConfigError(
                "recipe budgets cannot be met (strict), found before tokenizing:\n  " + "\n  ".join(empty)
            )
        for line in empty:
            log.warning("%s; its budget cannot be met", line)
        token_files = ensure_tokens(docs, out, tokenizer, options, progress=progress)
        create_mix_view(corpus, token_files)
        inputs = [f.rsplit("/", 1)[-1] for f in token_files]
        plans = [plan_stage(corpus, stage, tokenizer.fingerprint, inputs, recipe.gates) for stage in recipe.stages]
        n_docs = corpus.con.execute("SELECT count(*) FROM documents").fetchall()[0][0]
        result = MixResult(out, plans, n_docs, missing.num_rows, dry_run)
        unmet = [u for p in plans for u in p.unmet]
        if recipe.strict and unmet:
            raise ConfigError("recipe budgets cannot be met (strict):\n  " + "\n  ".join(unmet))
        if dry_run:
            return result
        poll = lambda: sum(len(finished_shards(storage.join(out, p.stage.name))) for p in plans)  # noqa: E731
        total = sum(p.layout.n_shards for p in plans)
        with ProgressLine("mix", "shards", poll, enabled=progress, total=total):
            result.stages_skipped = write_stages(
                corpus,
                plans,
                recipe,
                tokenizer,
                out,
                options=options,
                missing=missing,
                token_files=token_files,
                overwrite=overwrite,
            )
        result.elapsed_s = time.monotonic() - start
        return result
    finally:
        corpus.close()
