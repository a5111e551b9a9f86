"""The mixture-search job: SPACE.yaml + corpus -> proxies trained in Beam -> search.json + recipe.yaml.

    driver:  space checked on the corpus view -> token pass (Beam, cached, shared with `mix`)
             -> bounds, mixtures, vocabulary, targets, one spec per proxy (mixers/search.py)
    Beam:    specs without result.json -> Reshuffle -> _TrainProxyFn (one proxy per element)
             -> dead letters for trainers that fail
    driver:  fit, simplex search, search.json, recipe.yaml

Each proxy writes its own result.json under SEARCH_DIR/proxies/<key>/, keyed by its mixture
and the whole config, so an interrupted search resumes with only the missing proxies.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import apache_beam as beam

from corpusmill import storage
from corpusmill.corpus import open_corpus
from corpusmill.errors import RecordError
from corpusmill.layout import DEAD_LETTERS_DIR
from corpusmill.mixers import search
from corpusmill.mixers.proxy_run import run_proxy
from corpusmill.mixers.search_data import RESULT_FILE
from corpusmill.mixers.search_space import Space
from corpusmill.mixers.selection import check_unique_ids
from corpusmill.mixers.tokenizer import load_tokenizer
from corpusmill.pipelines.beam_options import pipeline_options
from corpusmill.pipelines.common import DEAD_LETTER_TAG, BeamCounters, WriteDeadLetters, run
from corpusmill.pipelines.mix import ensure_tokens
from corpusmill.progress import ProgressLine
from corpusmill.schema import dead_letter

log = logging.getLogger(__name__)

DEAD_LETTER_STAGE = "mix_search"


class _TrainProxyFn(beam.DoFn):
    def setup(self) -> None:
        self.counters = BeamCounters("mix_search")

    def process(self, spec: dict[str, Any]) -> Iterable[Any]:
        try:
            result = run_proxy(spec)
        except RecordError as exc:
            self.counters.inc("proxies_failed")
            yield beam.pvalue.TaggedOutput(
                DEAD_LETTER_TAG,
                dead_letter(
                    id=spec["key"],
                    uri=spec["dir"],
                    stage=DEAD_LETTER_STAGE,
                    reason=exc.reason,
                    error=type(exc).__name__,
                    message=f"proxy {spec['index']}: {exc}",
                ),
            )
            return
        self.counters.inc("proxies_trained")
        self.counters.inc("proxy_tokens", int(result.get("tokens") or 0))
        yield spec["key"]


class TrainProxies(beam.PTransform):
    """Proxy specs -> trained proxies (result.json each) and dead letters, written under `out`."""

    def __init__(self, specs: list[dict[str, Any]], out: str) -> None:
        super().__init__()
        self.specs, self.out = specs, out

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
        trained = (
            pbegin
            | "Specs" >> beam.Create(self.specs, reshuffle=False)
            | "Spread" >> beam.Reshuffle()
            | "Train" >> beam.ParDo(_TrainProxyFn()).with_outputs(DEAD_LETTER_TAG, main="trained")
        )
        _ = trained[DEAD_LETTER_TAG] | "DeadLetters" >> WriteDeadLetters(self.out, DEAD_LETTER_STAGE)
        return trained.trained


@dataclass
class SearchResult:
    out: str
    doc: dict[str, Any]
    trained: int  # proxies trained by this run
    cached: int  # proxies found finished
    failed: int
    elapsed_s: float = 0.0

    def describe(self) -> str:
        d = self.doc
        names = d["buckets"]
        ok = sum(1 for p in d["proxies"] if p["status"] == "ok")
        lines = [
            f"proxies: {len(d['proxies']) + self.failed} = {ok} ok + {len(d['proxies']) - ok} diverged + {self.failed} failed "
            f"({self.trained} trained now, {self.cached} cached)",
            f"fit: {d['fit']['model']}, CV Spearman "
            + ", ".join(f"{k} {v:.3f}" for k, v in d["fit"]["cv_spearman"].items()),
            "chosen vs prior: "
            + ", ".join(f"{n} {d['chosen']['weights'][n]:.3f} ({d['prior'][n]:.3f})" for n in names),
            f"predicted loss {d['chosen']['predicted_loss']:.4f} (prior {d['chosen']['prior_predicted_loss']:.4f})",
            f"wrote {storage.join(self.out, search.SEARCH_FILE)} and {storage.join(self.out, search.RECIPE_FILE)}"
            f" in {self.elapsed_s:.1f} s",
        ]
        best = d["fit"]["cv_spearman"][d["fit"]["model"]]
        if best < search.RELIABLE_SPEARMAN:
            lines.append(
                f"caution: CV Spearman {best:.2f} < {search.RELIABLE_SPEARMAN}: the proxies do not rank mixtures "
                "reliably; train more proxies, more tokens per proxy, or use fewer buckets"
            )
        return "\n".join(lines)


def _failed_from_dead_letters(out: str, keys: dict[str, int]) -> list[dict[str, Any]]:
    rows = []
    for path in storage.expand(storage.join(out, DEAD_LETTERS_DIR, f"{DEAD_LETTER_STAGE}-*.parquet")):
        rows += storage.read_parquet(path).to_pylist()
    return [
        {"index": keys[r["id"]], "key": r["id"], "reason": r["reason"], "message": r["message"]}
        for r in rows
        if r["id"] in keys
    ]


def run_search(
    space: Space,
    docs: str,
    annotations: str,
    out: str,
    *,
    workers: int | None = None,
    beam_args: list[str] | None = None,
    trainer_cmd: str | None = None,
    trainer_timeout_s: float | None = None,
    progress: bool = True,
    dedup: str | None = None,
) -> SearchResult:
    """Check, prepare, train the missing proxies, fit and choose; see docs/mixing.md.
    With `dedup` (a `corpusmill dedup` folder) the proxies see one document per cluster, as `mix` will."""
    start = time.monotonic()
    space = space.with_dedup_sidecar(dedup is not None)
    tokenizer = load_tokenizer("qwen")
    options = pipeline_options(beam_args, workers=workers)
    corpus = open_corpus(docs, annotations, dedup=dedup)
    try:
        files = search.check(space, corpus)
        check_unique_ids(corpus)
        token_files = ensure_tokens(docs, out, tokenizer, options)
        prepared = search.prepare(
            space,
            corpus,
            out,
            files=files,
            token_files=token_files,
            tokenizer=tokenizer,
            trainer_cmd=trainer_cmd,
            trainer_timeout_s=trainer_timeout_s,
        )
    finally:
        corpus.close()
    todo = search.pending(prepared)
    # A re-run replaces the dead letters of proxies it tries again.
    storage.remove_tree(storage.join(out, DEAD_LETTERS_DIR))
    if todo:
        log.info("training %d of %d proxies", len(todo), len(prepared.specs))
        poll = lambda: sum(storage.exists(storage.join(s["dir"], RESULT_FILE)) for s in todo)  # noqa: E731
        with ProgressLine("mix search", "proxies", poll, enabled=progress, total=len(todo)):
            run(lambda p: p | "Proxies" >> TrainProxies(todo, out), options)
    failed = _failed_from_dead_letters(out, {s["key"]: s["index"] for s in prepared.specs})
    doc = search.finish(prepared, out, failed=failed)
    result = SearchResult(
        out, doc, trained=len(todo) - len(failed), cached=len(prepared.specs) - len(todo), failed=len(failed)
    )
    result.elapsed_s = time.monotonic() - start
    return result
