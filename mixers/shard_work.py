"""What the shard writers get from the driver: per token file, the placements it feeds; and the mix dead letters."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from corpusmill import storage
from corpusmill.corpus import Corpus
from corpusmill.mixers.recipe import Stage
from corpusmill.schema import DEAD_LETTER_SCHEMA, dead_letter

DEAD_LETTER_STAGE = "mix"


def _sql_list(paths: list[str]) -> str:
    return "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"


def work_items(
    corpus: Corpus, placements: pa.Table, token_files: list[str], work_dir: str, *, skip_shards: set[int]
) -> list[tuple[str, str]]:
    """(token file, placements file) pairs for every shard not yet finished, written under `work_dir`."""
    if skip_shards:
        placements = placements.filter(
            pc.invert(pc.is_in(placements.column("shard"), pa.array(sorted(skip_shards), pa.int32())))
        )
    if placements.num_rows == 0:
        return []
    con = corpus.con
    con.register("_placements", placements)
    try:
        located = con.sql(
            f"SELECT p.*, t.filename AS _file FROM _placements p JOIN "
            f"(SELECT id, filename FROM read_parquet({_sql_list(token_files)}, filename = true)) t USING (id) "
            'ORDER BY _file, shard, seq, "offset"'
        ).to_arrow_table()
    finally:
        con.unregister("_placements")
    if located.num_rows != placements.num_rows:
        raise RuntimeError(f"{placements.num_rows - located.num_rows} placed documents have no tokens")
    # DuckDB spells remote names its own way (memory:///x for memory://x): match on the path part.
    index = {_path_part(f): i for i, f in enumerate(token_files)}
    items = []
    for name in sorted(set(located.column("_file").to_pylist()), key=lambda f: index[_path_part(f)]):
        i = index[_path_part(name)]
        rows = located.filter(pc.equal(located.column("_file"), name)).drop_columns(["_file"])
        target = storage.join(work_dir, f"items-{i:05d}.parquet")
        storage.write_parquet(rows, target)
        items.append((token_files[i], target))
    return items


def _path_part(path: str) -> str:
    return path.split("://", 1)[-1].lstrip("/")


def dead_letter_rows(corpus: Corpus, missing: pa.Table, skipped: pa.Table, stage: Stage) -> pa.Table:
    """Documents the stage could not use: no annotations, or too long for `seq_len` with skip."""
    rows = [
        dead_letter(
            id=i,
            uri=u,
            stage=DEAD_LETTER_STAGE,
            reason="missing_annotations",
            error="RecordError",
            message="document has no annotation row; it cannot match any bucket",
        )
        for i, u in zip(missing.column("id").to_pylist(), missing.column("uri").to_pylist())
    ]
    if skipped.num_rows:
        corpus.con.register("_skipped", skipped)
        try:
            found = corpus.sql(
                "SELECT s.id, s.repeat, s.n_tokens, d.uri FROM _skipped s JOIN documents d USING (id) ORDER BY id, repeat"
            ).fetchall()
        finally:
            corpus.con.unregister("_skipped")
        rows += [
            dead_letter(
                id=i,
                uri=u,
                stage=DEAD_LETTER_STAGE,
                reason="longer_than_seq_len",
                error="RecordError",
                message=f"stage {stage.name}: {n + 1} tokens with <|endoftext|> > seq_len {stage.seq_len} "
                f"(repeat {r}); long_documents: skip",
            )
            for i, r, n, u in found
        ]
    return pa.Table.from_pylist(rows, schema=DEAD_LETTER_SCHEMA)
