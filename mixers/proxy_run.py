"""One proxy, start to finish, on whichever worker gets it: build its token stream, train, write result.json.

A spec (see `search_data.proxy_specs`) names the proxy's folder, which holds the sampler's
instances in training order. The stream is those documents' Qwen ids from the token sidecar,
each ended by the end-of-document id. The built-in trainer (`proxy_model`) remaps them to the
search's small vocabulary; a `--trainer-cmd` gets the stream as Qwen ids instead:

    CMD {data} {target} {out}
      {data}    DIR/train.npy      int32 Qwen ids, documents back to back, each ended by EOS
      {target}  SEARCH_DIR/targets/   one <name>.npy per target (same format)
      {out}     DIR/loss.json      the trainer writes {"losses": {"<target name>": <mean loss>, ...}}

`result.json` is written last and atomically, so a finished proxy is never trained again.
"""

from __future__ import annotations

import math
import os
import shlex
import signal
import subprocess
import time
from typing import Any

import numpy as np

from corpusmill import storage
from corpusmill.errors import RecordError
from corpusmill.mixers import token_cache
from corpusmill.mixers.proxy_model import ProxyConfig, train_proxy
from corpusmill.mixers.search_data import INSTANCES_FILE, RESULT_FILE, joined, remap_table

STDERR_TAIL = 2000
STATUS_OK, STATUS_DIVERGED = "ok", "diverged"


def proxy_stream(spec: dict[str, Any]) -> np.ndarray:
    """The proxy's training tokens (Qwen ids), in the order its instances file gives."""
    instances = storage.read_parquet(storage.join(spec["dir"], INSTANCES_FILE), columns=["id"])
    ids = instances.column("id").to_pylist()
    wanted = set(ids)
    tokens: dict[str, np.ndarray] = {}
    for f in spec["token_files"]:
        tokens.update(token_cache.read_token_rows(f, wanted - tokens.keys()))
    missing = wanted - tokens.keys()
    if missing:
        raise RecordError(
            "missing_tokens",
            f"{len(missing)} documents of proxy {spec['key']} have no tokens (e.g. {sorted(missing)[0]})",
        )
    return joined([tokens[i] for i in ids], spec["eos_id"])


def load_targets(spec: dict[str, Any]) -> dict[str, np.ndarray]:
    """Each target's token stream (Qwen ids), written by the driver as SEARCH_DIR/targets/<name>.npy."""
    out = {}
    for name in spec["targets"]:
        fs, p = storage.filesystem(storage.join(spec["targets_dir"], f"{name}.npy"))
        with fs.open(p, "rb") as fh:
            out[name] = np.load(fh)
    return out


def _save_npy(array: np.ndarray, path: str) -> None:
    with storage.atomic_write(path) as fh:
        np.save(fh, array)


def _builtin(spec: dict[str, Any], stream: np.ndarray) -> dict[str, Any]:
    vocab = storage.read_json(spec["vocab_file"])["qwen_ids"]
    lut = remap_table(vocab, spec["tokenizer_vocab_size"])
    cfg = ProxyConfig(**{**spec["model"], "vocab_size": len(vocab)})
    targets = {k: lut[v] for k, v in load_targets(spec).items()}
    r = train_proxy(lut[stream], targets, cfg, seq_len=spec["seq_len"], budget_tokens=spec["proxy_tokens"])
    return {
        "losses": r.losses,
        "train_loss": r.train_loss,
        "steps": r.steps,
        "tokens": r.tokens,
        "train_seconds": round(r.seconds, 3),
        "compile_seconds": round(r.compile_seconds, 3),
    }


def _external(spec: dict[str, Any], stream: np.ndarray) -> dict[str, Any]:
    data, out = storage.join(spec["dir"], "train.npy"), storage.join(spec["dir"], "loss.json")
    _save_npy(stream, data)
    if storage.exists(out):
        storage.remove_tree(out)
    cmd = spec["trainer_cmd"].format(
        data=shlex.quote(data), target=shlex.quote(spec["targets_dir"]), out=shlex.quote(out)
    )
    t0 = time.perf_counter()
    # Its own process group, so a timeout can stop the trainer and anything it started.
    proc = subprocess.Popen(
        cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        _, stderr = proc.communicate(timeout=spec.get("trainer_timeout_s"))
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the whole group: the shell and whatever the trainer started
        _, stderr = proc.communicate()
        raise RecordError(
            "trainer_timeout", f"trainer ran past {spec['trainer_timeout_s']} s: {stderr[-STDERR_TAIL:].strip()}"
        ) from None
    seconds = time.perf_counter() - t0
    tail = stderr[-STDERR_TAIL:].strip()
    if proc.returncode != 0:
        raise RecordError("trainer_failed", f"trainer exited with {proc.returncode}: {tail}")
    if not storage.exists(out):
        raise RecordError("trainer_wrote_no_loss", f"trainer wrote no {out}: {tail}")
    try:
        losses = storage.read_json(out)["losses"]
        losses = {k: float(losses[k]) for k in spec["targets"]}
    except (ValueError, KeyError, TypeError) as exc:
        raise RecordError(
            "trainer_bad_loss",
            f'trainer\'s {out} must hold {{"losses": {{target: number}}}} for {spec["targets"]}: {exc!r}',
        ) from None
    storage.remove_tree(data)  # rebuilt from the sidecar on demand; no need to keep a copy per proxy
    return {"losses": losses, "train_seconds": round(seconds, 3)}


def run_proxy(spec: dict[str, Any]) -> dict[str, Any]:
    """Train one proxy and write DIR/result.json; raises RecordError when its trainer fails."""
    stream = proxy_stream(spec)
    out = _external(spec, stream) if spec.get("trainer_cmd") else _builtin(spec, stream)
    diverged = any(not math.isfinite(v) for v in out["losses"].values())
    total = sum(spec["targets"][k] * v for k, v in out["losses"].items())
    result = {
        "index": spec["index"],
        "key": spec["key"],
        "weights": spec["weights"],
        "status": STATUS_DIVERGED if diverged else STATUS_OK,
        # JSON has no NaN: a diverged proxy's losses are null and the fit leaves it out.
        "losses": {k: (None if not math.isfinite(v) else v) for k, v in sorted(out["losses"].items())},
        "loss": None if diverged else total,
        "stream_tokens": int(len(stream)),
        **{k: v for k, v in out.items() if k != "losses"},
    }
    if "train_loss" in result and not math.isfinite(result["train_loss"]):
        result["train_loss"] = None
    storage.write_json(result, storage.join(spec["dir"], RESULT_FILE))
    return result
