"""A stage's plan: selection in DuckDB, instance sampling, shard layout, all before any shard is written."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pyarrow as pa

from corpusmill.corpus import Corpus
from corpusmill.mixers.packing import LAYOUT_VERSION, Layout, pack_layout, stream_layout
from corpusmill.mixers.recipe import PACKING_PACK, Stage
from corpusmill.mixers.sampler import BucketPlan, sample_stage
from corpusmill.mixers.selection import select_stage


@dataclass(frozen=True)
class StagePlan:
    stage: Stage
    buckets: list[BucketPlan]
    instances: pa.Table
    layout: Layout
    fingerprint: str  # changes whenever any shard byte would change

    @property
    def unmet(self) -> list[str]:
        return [b.describe() for b in self.buckets if b.status != "ok"]

    def describe(self) -> str:
        s = self.stage
        planned = sum(b.tokens for b in self.buckets)
        lines = [
            f"stage {s.name}: seq_len {s.seq_len:,}, budget {s.budget_tokens:,} tokens, seed {s.seed}, "
            f"{s.packing}; planned {planned:,} tokens ({planned / s.budget_tokens:.2%} of budget), "
            f"{self.instances.num_rows:,} instances, {self.layout.n_shards} shard file(s)"
        ]
        lines += [f"  bucket {b.describe()}" for b in self.buckets]
        if s.packing == PACKING_PACK:
            lines.append(
                f"  packing: {self.layout.padding_tokens:,} padding tokens ({self.layout.padding_ratio:.2%}; "
                f"no packing of these lengths pads less than {self.layout.padding_floor:.2%}), "
                f"{self.layout.skipped.num_rows:,} over-long documents skipped"
            )
        return "\n".join(lines)


def _fingerprint(stage: Stage, tokenizer_fingerprint: str, inputs: list[str], layout: Layout) -> str:
    h = hashlib.sha256(json.dumps([repr(stage), tokenizer_fingerprint, LAYOUT_VERSION, inputs]).encode())
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, layout.placements.schema) as writer:
        writer.write_table(layout.placements)
    h.update(sink.getvalue().to_pybytes())
    return h.hexdigest()


def plan_stage(corpus: Corpus, stage: Stage, tokenizer_fingerprint: str, inputs: list[str]) -> StagePlan:
    """Select candidates, sample instances per bucket, lay them out in shards (needs `mix_corpus`).

    `inputs` names the token files (they carry a key of each documents file's size and
    Parquet footer), so a changed corpus never reuses shards of the old one.
    """
    candidates = select_stage(corpus, stage)
    instances, buckets = sample_stage(stage, candidates)
    if stage.packing == PACKING_PACK:
        layout = pack_layout(
            instances,
            seed=stage.seed,
            seq_len=stage.seq_len,
            shard_tokens=stage.shard_tokens,
            long_documents=stage.long_documents,
        )
    else:
        layout = stream_layout(instances, seed=stage.seed, shard_tokens=stage.shard_tokens)
    return StagePlan(stage, buckets, instances, layout, _fingerprint(stage, tokenizer_fingerprint, inputs, layout))
