"""The mixer's front door: the order of work of `corpusmill mix`, free of Beam.

    Mixer(recipe, docs, annotations, out)
      .check()                 recipe SQL on the corpus view, unique ids, missing annotations, empty buckets
      .plan(token_files)       selection, sampling and shard layout per stage (DuckDB + numpy)
      .stage_work(plan)        claim the stage folder; (token file, placements file) items of missing shards
      .finish_stage(plan)      dead letters, then the manifest (its presence means the stage is done)

Tokenizing and writing shards are the runner's part (`corpusmill.pipelines.mix`): it calls
these steps in order and runs the work items they return.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pyarrow as pa

from corpusmill import storage
from corpusmill.corpus import Corpus, open_corpus
from corpusmill.errors import ConfigError, OutputExistsError
from corpusmill.layout import DEAD_LETTERS_DIR
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
from corpusmill.mixers.shards import finished_shards
from corpusmill.mixers.tokenizer import Tokenizer, load_tokenizer

log = logging.getLogger(__name__)

# Per stage, the work items of a run in progress (removed when the stage finishes).
WORK_DIR = "_work"


@dataclass
class MixResult:
    out: str
    plans: list[StagePlan]
    documents: int  # in the corpus
    missing_annotations: int
    dry_run: bool
    stages_skipped: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    dedup_note: str = ""  # what the recipe's `dedup:` key did with (or without) a dedup sidecar

    def describe(self) -> str:
        lines = [self.dedup_note] if self.dedup_note else []
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


class Mixer:
    """One mix of `recipe` over the corpus at `docs` + `annotations`, into `out/<stage>/`.

    With `dedup` (a `corpusmill dedup` folder) a recipe that asks for it selects only kept documents.
    """

    def __init__(
        self,
        recipe: Recipe,
        docs: str,
        annotations: str,
        out: str,
        *,
        dedup: str | None = None,
        tokenizer: Tokenizer | None = None,
    ) -> None:
        recipe, self.dedup_note = recipe.with_dedup(dedup is not None)
        self.recipe, self.docs, self.out = recipe, docs, out
        self.tokenizer = tokenizer or load_tokenizer(recipe.tokenizer, eos_token=recipe.eos_token)
        self.corpus: Corpus = open_corpus(docs, annotations, dedup=dedup)
        self.missing = pa.table({"id": pa.array([], pa.string()), "uri": pa.array([], pa.string())})

    def __enter__(self) -> Mixer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.corpus.close()

    def stage_dir(self, plan: StagePlan) -> str:
        return storage.join(self.out, plan.stage.name)

    def check(self) -> None:
        """Everything that can fail before any token is computed, failing early with one message."""
        validate_sql(self.corpus, self.recipe)
        check_unique_ids(self.corpus)
        self.missing = missing_annotations(self.corpus)
        if self.missing.num_rows and self.recipe.missing_annotations == MISSING_FAIL:
            raise ConfigError(
                f"{self.missing.num_rows:,} documents have no annotations "
                f"(e.g. {self.missing.column('id')[0]}); run annotate"
            )
        empty = empty_buckets(self.corpus, self.recipe)
        if empty and self.recipe.strict:
            raise ConfigError(
                "recipe budgets cannot be met (strict), found before tokenizing:\n  " + "\n  ".join(empty)
            )
        for line in empty:
            log.warning("%s; its budget cannot be met", line)

    def plan(self, token_files: list[str], *, dry_run: bool = False) -> MixResult:
        """Plan every stage over the tokenized corpus; a strict recipe fails on an unmet budget."""
        create_mix_view(self.corpus, token_files)
        inputs = [f.rsplit("/", 1)[-1] for f in token_files]
        plans = [
            plan_stage(self.corpus, stage, self.tokenizer.fingerprint, inputs, self.recipe.gates)
            for stage in self.recipe.stages
        ]
        n_docs = self.corpus.con.execute("SELECT count(*) FROM documents").fetchall()[0][0]
        unmet = [u for p in plans for u in p.unmet]
        if self.recipe.strict and unmet:
            raise ConfigError("recipe budgets cannot be met (strict):\n  " + "\n  ".join(unmet))
        return MixResult(self.out, plans, n_docs, self.missing.num_rows, dry_run, dedup_note=self.dedup_note)

    def stage_work(self, plan: StagePlan, token_files: list[str], *, overwrite: bool) -> list[tuple[str, str]] | None:
        """Work items for the shards a stage still misses; None when the stage is already finished."""
        stage_dir = self.stage_dir(plan)
        if self._claim_stage_dir(stage_dir, plan, overwrite):
            return None
        work_dir = storage.join(stage_dir, WORK_DIR)
        return work_items(
            self.corpus, plan.layout.placements, token_files, work_dir, skip_shards=finished_shards(stage_dir)
        )

    def finish_stage(self, plan: StagePlan) -> None:
        """Dead letters, then the manifest (written last: its presence means the stage is done)."""
        stage_dir = self.stage_dir(plan)
        dead = dead_letter_rows(self.corpus, self.missing, plan.layout.skipped, plan.stage)
        if dead.num_rows:
            storage.write_parquet(dead, storage.join(stage_dir, DEAD_LETTERS_DIR, "mix-00000.parquet"))
        manifest = build_manifest(
            plan, self.recipe, self.tokenizer, stage_dir, missing_annotations=self.missing.num_rows
        )
        storage.remove_tree(storage.join(stage_dir, WORK_DIR))
        storage.write_json(manifest, storage.join(stage_dir, MANIFEST))

    @staticmethod
    def _claim_stage_dir(stage_dir: str, plan: StagePlan, overwrite: bool) -> bool:
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
