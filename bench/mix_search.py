"""Mixture search cost: proxy training tokens/s, and a 16-proxy search on Beam vs a plain loop.

- `proxy`: one proxy of the given size on a synthetic Zipf token stream: tokens/s of the
  jitted train step (compilation timed apart) on whatever device jax finds (CPU, or a GPU
  where a CUDA-enabled jax is installed). Runs from a bare checkout too (no install needed),
  so it can go to a GPU machine as is:
      python -m bench.mix_search proxy --tokens 100M --seq-len 1024 --batch 64 --dtype bfloat16
- `search`: `corpusmill mix search` with 16 proxies of the default size (about 1 M non-embedding
  parameters) on a generated four-language corpus, on FnApiRunner with 1 and 2 workers, against
  the peer: a plain single-process loop training the same 16 proxies (same streams, same
  `train_proxy`, same library), without Beam, caches or the fit.
      python -m bench.mix_search search [--proxy-tokens 16384] [--seq-len 256]

Run once, at the end, at the smallest size that shows the point; results go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import types

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_SUFFIX = {"k": 10**3, "m": 10**6, "g": 10**9}


def _tokens(text: str) -> int:
    text = text.strip().lower()
    return int(float(text[:-1]) * _SUFFIX[text[-1]]) if text[-1] in _SUFFIX else int(float(text))


def _proxy_model() -> types.ModuleType:
    """corpusmill.mixers.proxy_model, installed or straight from this checkout (it needs only corpusmill.errors)."""
    try:
        from corpusmill.mixers import proxy_model

        return proxy_model
    except ImportError:  # a bare checkout, e.g. on a GPU machine without our dependencies
        for name in [m for m in sys.modules if m == "corpusmill" or m.startswith("corpusmill.")]:
            del sys.modules[name]
    for name, folder in (("corpusmill", "corpusmill"), ("corpusmill.mixers", "mixers")):
        pkg = types.ModuleType(name)
        pkg.__path__ = [os.path.join(ROOT, folder)]  # a namespace without running __init__ (duckdb, Beam...)
        sys.modules[name] = pkg
    import corpusmill.mixers.proxy_model as proxy_model

    return proxy_model


def bench_proxy(args: argparse.Namespace) -> dict:
    import jax

    pm = _proxy_model()
    cfg = pm.ProxyConfig(
        d_model=args.d_model,
        n_layers=args.n_layers,
        n_heads=args.n_heads,
        vocab_size=args.vocab,
        batch_size=args.batch,
        dtype=args.dtype,
        eval_sequences=64,
    )
    rng = np.random.default_rng(0)
    # A Zipf stream stands in for remapped Qwen ids: the speed depends on shapes, not on the text.
    stream = (rng.zipf(1.2, size=min(args.tokens, 20_000_000) + 1) % cfg.vocab_size).astype(np.int32)
    target = (rng.zipf(1.2, size=args.seq_len * 64 + 1) % cfg.vocab_size).astype(np.int32)
    t0 = time.perf_counter()
    r = pm.train_proxy(stream, {"t": target}, cfg, seq_len=args.seq_len, budget_tokens=args.tokens)
    wall = time.perf_counter() - t0
    out = {
        "device": str(jax.devices()[0]),
        "jax": jax.__version__,
        "non_embedding_params": cfg.non_embedding_params,
        "config": cfg.to_dict(),
        "seq_len": args.seq_len,
        "tokens": r.tokens,
        "steps": r.steps,
        "train_s": round(r.seconds, 2),
        "compile_s": round(r.compile_seconds, 2),
        "wall_s": round(wall, 2),
        "tokens_per_s": round(r.tokens / r.seconds),
        "target_loss": r.losses["t"],
        "train_loss": r.train_loss,
    }
    print(json.dumps(out, indent=1))
    return out


def bench_search(args: argparse.Namespace) -> dict:
    sys.path.insert(0, ROOT)
    import pathlib

    from corpusmill.mixers.proxy_model import ProxyConfig
    from corpusmill.mixers.search_space import space_from_dict
    from corpusmill.pipelines.mix_search import run_search
    from tests.search_corpus import space_dict, write_corpus, write_target

    root = pathlib.Path(tempfile.mkdtemp(prefix="bench_mix_search_"))
    docs, ann = write_corpus(root, per_lang=200, words=120)
    target = write_target(root / "target.jsonl", per_lang=40)
    d = space_dict(target, proxies=15)  # + the prior = 16 proxies
    d["stage"] = {"name": "s1", "seq_len": args.seq_len, "proxy_tokens": args.proxy_tokens}
    d["model"] = {"batch_size": 16, "eval_sequences": 16}  # default size: d_model 128, 5 layers, vocab 8192
    d["fit"] = {"folds": 5, "candidates": 20000, "top": 100}
    space = space_from_dict(d)
    times = {}
    for workers in (1, 2):
        out = str(root / f"search{workers}")
        t0 = time.perf_counter()
        res = run_search(space, docs, ann, out, workers=workers, beam_args=[], progress=False)
        times[f"beam_{workers}w_s"] = round(time.perf_counter() - t0, 1)
        print(
            f"beam, {workers} worker(s): {times[f'beam_{workers}w_s']} s; {res.describe().splitlines()[1]}", flush=True
        )
    # The peer, in a fresh process (so it pays its own compilation, as each Beam worker does).
    peer = subprocess.run(
        [sys.executable, "-m", "bench.mix_search", "loop", out], capture_output=True, text=True, cwd=ROOT, check=True
    )
    loop = json.loads(peer.stdout.strip().splitlines()[-1])
    times["plain_loop_s"], tokens = loop["seconds"], loop["tokens"]
    times["proxy_tokens_total"] = tokens
    times["params"] = ProxyConfig().non_embedding_params
    shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(times, indent=1))
    return times


def plain_loop(out: str) -> dict:
    """The same proxies as the finished search in `out`, trained one after another: no Beam, no cache, no fit."""
    sys.path.insert(0, ROOT)
    from corpusmill.mixers import search_data as sd
    from corpusmill.mixers.proxy_model import ProxyConfig, train_proxy
    from corpusmill.mixers.proxy_run import load_targets, proxy_stream

    t0 = time.perf_counter()
    tokens = 0
    for spec in _specs(out):
        vocab = json.load(open(spec["vocab_file"]))["qwen_ids"]
        lut = sd.remap_table(vocab, spec["tokenizer_vocab_size"])
        cfg = ProxyConfig(**{**spec["model"], "vocab_size": len(vocab)})
        targets = {k: lut[v] for k, v in load_targets(spec).items()}
        r = train_proxy(
            lut[proxy_stream(spec)], targets, cfg, seq_len=spec["seq_len"], budget_tokens=spec["proxy_tokens"]
        )
        tokens += r.tokens
    result = {"seconds": round(time.perf_counter() - t0, 1), "tokens": tokens}
    print(json.dumps(result))
    return result


def _specs(out: str) -> list[dict]:
    """Rebuild each proxy's spec from its folder (the bench reuses the finished search's instances)."""
    from corpusmill.mixers import search_data as sd

    doc = json.load(open(os.path.join(out, "search.json")))
    token_files = sorted(
        os.path.join(dp, n)
        for dp, _, names in os.walk(os.path.join(out, "_tokens"))
        for n in names
        if n.endswith(".parquet")
    )
    return [
        {
            "key": p["key"],
            "dir": os.path.join(out, sd.PROXIES_DIR, p["key"]),
            "token_files": token_files,
            "eos_id": 151643,
            "tokenizer_vocab_size": 151669,
            "vocab_file": os.path.join(out, sd.VOCAB_FILE),
            "targets_dir": os.path.join(out, sd.TARGETS_DIR),
            "targets": doc["targets"],
            "seq_len": doc["seq_len"],
            "proxy_tokens": doc["proxy_tokens"],
            "model": doc["model"],
        }
        for p in doc["proxies"]
    ]


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.mix_search", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="what")
    pp = sub.add_parser("proxy")
    pp.add_argument("--tokens", type=_tokens, default=_tokens("200k"))
    pp.add_argument("--seq-len", type=int, default=256)
    pp.add_argument("--batch", type=int, default=16)
    pp.add_argument("--d-model", type=int, default=128)
    pp.add_argument("--n-layers", type=int, default=5)
    pp.add_argument("--n-heads", type=int, default=4)
    pp.add_argument("--vocab", type=int, default=8192)
    pp.add_argument("--dtype", default="float32")
    pl = sub.add_parser("loop", help="the peer of `search`: train a finished search's proxies in a plain loop")
    pl.add_argument("search_dir")
    ps = sub.add_parser("search")
    ps.add_argument("--proxy-tokens", type=_tokens, default=8192)
    ps.add_argument("--seq-len", type=int, default=256)
    argv = [a for a in argv if a != "--quick"]  # `python -m bench --quick`: the default is already the small size
    args = p.parse_args(argv or ["search"])
    if args.what == "proxy":
        bench_proxy(args)
    elif args.what == "loop":
        plain_loop(args.search_dir)
    else:
        if not hasattr(args, "proxy_tokens"):
            args = p.parse_args(["search"])
        bench_search(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
