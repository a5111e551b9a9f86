"""A stage's plan: selection in DuckDB, instance sampling, shard layout, all before any shard is written."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pyarrow as pa

from corpusmill.corpus import Corpus
from corpusmill.mixers.gates import Gate
from corpusmill.mixers.packing import LAYOUT_VERSION, Layout, pack_layout, stream_layout
from corpusmill.mixers.recipe import LANG_CORPUS, PACKING_PACK, Stage
from corpusmill.mixers.sampler import BucketPlan, sample_stage
from corpusmill.mixers.selection import Funnel, corpus_language_shares, create_units_view, select_stage, stage_funnel


@dataclass(frozen=True)
class StagePlan:
    stage: Stage
    buckets: list[BucketPlan]
    instances: pa.Table
    layout: Layout
    fingerprint: str  # changes whenever any shard byte would change
    funnel: Funnel | None = None
    windows: pa.Table | None = None  # the windows long documents were cut into (WINDOW_SCHEMA)
    language_target: dict[str, float] | None = None  # token shares the buckets were steered to

    @property
    def unmet(self) -> list[str]:
        return [b.describe() for b in self.buckets if b.status != "ok"]

    def split_summary(self) -> dict[str, int]:
        """How many documents were cut into how many windows, and how many cuts fell on a paragraph break."""
        w = self.windows
        if w is None or w.num_rows == 0:
            return {"documents": 0, "windows": 0, "cuts": 0, "cuts_at_paragraph": 0, "windows_used": 0}
        ids = w.column("id").to_pylist()
        at_break = w.column("at_break").to_pylist()
        last = [i == len(ids) - 1 or ids[i + 1] != ids[i] for i in range(len(ids))]
        cuts = [b for b, end in zip(at_break, last) if not end]
        parts = self.instances.column("part").to_numpy()
        used = len({(i, p) for i, p in zip(self.instances.column("id").to_pylist(), parts.tolist()) if p > 0})
        long_ids = set(ids)
        used += len(
            {i for i, p in zip(self.instances.column("id").to_pylist(), parts.tolist()) if p == 0 and i in long_ids}
        )
        return {
            "documents": len(long_ids),
            "windows": w.num_rows,
            "cuts": len(cuts),
            "cuts_at_paragraph": sum(cuts),
            "windows_used": used,
        }

    def _funnel_lines(self) -> list[str]:
        f = self.funnel
        if f is None:
            return []
        steps = ", ".join(f"{g} -{n:,}" for g, (n, _) in f.removed.items())
        lines = [
            f"  gates: {f.candidates[0]:,} candidate units ({f.candidates[1]:,} tokens)"
            + (f"; removed {steps}" if steps else "; no gates")
            + f"; {f.passed[0]:,} pass ({f.passed[1]:,} tokens), {f.unbucketed[0]:,} of them in no bucket"
        ]
        for b in self.buckets:
            before = f.bucket_before.get(b.name, (0, 0))[0]
            if before and b.documents == 0:
                why = ", ".join(f"{g} {n:,}" for g, n in sorted(f.bucket_removed.get(b.name, {}).items()))
                lines.append(f"  bucket {b.name}: the gates removed all {before:,} of its units ({why})")
        return lines

    def _split_lines(self) -> list[str]:
        if self.windows is None:
            return []
        s = self.split_summary()
        if not s["documents"]:
            return [f"  long documents: none longer than {self.stage.seq_len - 1:,} tokens, nothing split"]
        return [
            f"  long documents: {s['documents']:,} split into {s['windows']:,} windows of <= {self.stage.seq_len - 1:,} "
            f"tokens ({s['cuts_at_paragraph']:,} of {s['cuts']:,} cuts at a paragraph break); {s['windows_used']:,} windows used"
        ]

    def _language_lines(self) -> list[str]:
        if not self.language_target or self.instances.num_rows == 0:
            return []
        got = self.language_shares()
        top = sorted(self.language_target.items(), key=lambda kv: -kv[1])[:6]
        return [
            "  languages (target -> planned token share): "
            + ", ".join(f"{lang} {t:.1%}->{got.get(lang, 0.0):.1%}" for lang, t in top)
        ]

    def language_shares(self) -> dict[str, float]:
        lengths = self.instances.column("length").to_numpy()
        langs = self.instances.column("lang").to_pylist()
        total = float(lengths.sum()) or 1.0
        out: dict[str, float] = {}
        for lang, n in zip(langs, lengths.tolist()):
            key = lang if lang is not None else "(none)"
            out[key] = out.get(key, 0.0) + n / total
        return out

    def describe(self) -> str:
        s = self.stage
        planned = sum(b.tokens for b in self.buckets)
        lines = [
            f"stage {s.name}: seq_len {s.seq_len:,}, budget {s.budget_tokens:,} tokens, seed {s.seed}, "
            f"{s.packing}; planned {planned:,} tokens ({planned / s.budget_tokens:.2%} of budget), "
            f"{self.instances.num_rows:,} instances, {self.layout.n_shards} shard file(s)"
        ]
        lines += [f"  bucket {b.describe()}" for b in self.buckets]
        lines += self._funnel_lines() + self._split_lines() + self._language_lines()
        if s.packing == PACKING_PACK:
            lines.append(
                f"  packing: {self.layout.padding_tokens:,} padding tokens ({self.layout.padding_ratio:.2%}; "
                f"no packing of these lengths pads less than {self.layout.padding_floor:.2%}), "
                f"{self.layout.skipped.num_rows:,} over-long documents skipped"
            )
        return "\n".join(lines)


def _fingerprint(
    stage: Stage, tokenizer_fingerprint: str, inputs: list[str], layout: Layout, gates: tuple[Gate, ...]
) -> str:
    h = hashlib.sha256(json.dumps([repr(stage), repr(gates), tokenizer_fingerprint, LAYOUT_VERSION, inputs]).encode())
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, layout.placements.schema) as writer:
        writer.write_table(layout.placements)
    h.update(sink.getvalue().to_pybytes())
    return h.hexdigest()


def plan_stage(
    corpus: Corpus, stage: Stage, tokenizer_fingerprint: str, inputs: list[str], gates: tuple[Gate, ...] = ()
) -> StagePlan:
    """Cut long documents, apply the gates, select candidates, sample instances per bucket,
    lay them out in shards (needs `mix_corpus`).

    `inputs` names the token files (they carry a key of each documents file's size and
    Parquet footer), so a changed corpus never reuses shards of the old one.
    """
    cut = create_units_view(corpus, stage)
    funnel = stage_funnel(corpus, stage, gates)
    target = corpus_language_shares(corpus, stage, gates) if stage.language_shares == LANG_CORPUS else None
    candidates = select_stage(corpus, stage, gates)
    instances, buckets = sample_stage(stage, candidates, target)
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
    fingerprint = _fingerprint(stage, tokenizer_fingerprint, inputs, layout, gates)
    windows = cut if stage.packing == PACKING_PACK else None
    return StagePlan(stage, buckets, instances, layout, fingerprint, funnel, windows, target)
