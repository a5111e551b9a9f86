"""`corpusmill shards verify SHARDS_DIR` and `corpusmill shards inspect SHARDS_DIR --n 3`."""

from __future__ import annotations

import argparse

from corpusmill import storage
from corpusmill.errors import InputNotFoundError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("shards", help="verify or inspect the shards `corpusmill mix` wrote")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    v = verbs.add_parser("verify", help="check sizes, sha256 checksums and .idx/.bin consistency against manifest.json")
    v.add_argument("out", metavar="SHARDS_DIR", help="a mix output folder or one stage folder in it")
    v.set_defaults(func=_verify)
    i = verbs.add_parser("inspect", help="decode sample documents of each stage back to text")
    i.add_argument("out", metavar="SHARDS_DIR")
    i.add_argument("--n", type=int, default=3, help="documents per stage (default 3)")
    i.add_argument("--chars", type=int, default=300, help="characters of text to show per document")
    i.set_defaults(func=_inspect)


def _stages(out: str) -> list[str]:
    from corpusmill.mixers.shards import stage_dirs

    found = stage_dirs(out)
    if not found:
        raise InputNotFoundError(f"no stage folders under {out}; run `corpusmill mix` first")
    return found


def _verify(args: argparse.Namespace) -> int:
    from corpusmill.mixers.manifest import verify_stage

    failed = 0
    for stage_dir in _stages(args.out):
        problems = verify_stage(stage_dir)
        if problems:
            failed += 1
            print(f"FAIL {stage_dir}")
            for p in problems:
                print(f"  {p}")
        else:
            m = storage.read_json(storage.join(stage_dir, "manifest.json"))
            t = m["totals"]
            print(
                f"ok   {stage_dir}: {t['shards']} shard(s), {t['sequences']:,} sequences, "
                f"{t['tokens']:,} tokens (+{t['padding_tokens']:,} padding), sha256 and index checked"
            )
    return 1 if failed else 0


def _inspect(args: argparse.Namespace) -> int:
    from corpusmill.mixers.shards import sample_slices
    from corpusmill.mixers.tokenizer import load_tokenizer

    for stage_dir in _stages(args.out):
        manifest = storage.read_json(storage.join(stage_dir, "manifest.json"))
        recipe = manifest["recipe"]
        tok = load_tokenizer(recipe["tokenizer"], eos_token=recipe["eos_token"])
        if tok.fingerprint != manifest["tokenizer"]["sha256"]:
            print(f"warning: tokenizer {recipe['tokenizer']} differs from the one that wrote {stage_dir}")
        print(f"== {stage_dir} ({manifest['tokenizer']['name']}, {manifest['totals']['tokens']:,} tokens)")
        for row, tokens in sample_slices(stage_dir, args.n):
            text = tok.decode(tokens.tolist())
            print(
                f"-- id {row['id']} bucket {row['bucket']} repeat {row['repeat']} part {row['part']} "
                f"shard {row['shard']} seq {row['seq']} offset {row['offset']}: {len(tokens):,} tokens"
            )
            print(text[: args.chars] + ("..." if len(text) > args.chars else ""))
    return 0
