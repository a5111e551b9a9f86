"""Train, save and run the small fastText classifiers our labelers ship or learn.

One text normalization (`words.features`) is used for training and prediction, so a model
never sees text shaped differently from what it learned on. fastText is single-file,
CPU-only and ~1 ms per document, which is what a 30T-token labeling pass can afford.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass

import fasttext

from corpusmill.annotators.words import features  # bounded: the leading FEATURE_CHARS of a text

log = logging.getLogger(__name__)

LABEL_PREFIX = "__label__"


@dataclass(frozen=True)
class TrainParams:
    """fastText supervised hyper-parameters (defaults tuned on SIB-200 dev)."""

    epoch: int = 25
    lr: float = 0.5
    dim: int = 64
    word_ngrams: int = 2
    minn: int = 2
    maxn: int = 4
    bucket: int = 400_000
    seed: int = 0
    quantize: bool = True


def _label(label: str) -> str:
    # fastText labels cannot contain spaces; '/' and '-' are fine.
    return LABEL_PREFIX + label.replace(" ", "_")


def train(texts: Sequence[str], labels: Sequence[str], path: str, params: TrainParams = TrainParams()) -> None:
    """Train a supervised model on (text, label) pairs and save it to `path` (.ftz if quantized).

    Trained single-threaded with a fixed seed so a rebuild gives the same model.
    """
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "train.txt")
        with open(data, "w", encoding="utf-8") as fh:
            for text, label in zip(texts, labels, strict=True):
                fh.write(f"{_label(label)} {features(text)}\n")
        model = _train_supervised(data, params)
        if params.quantize:
            model.quantize(input=data, retrain=False, cutoff=100_000, qnorm=True)
    model.save_model(path)


def _train_supervised(data: str, params: TrainParams) -> fasttext.FastText._FastText:
    """fastText training; on a diverging (NaN) loss, which tiny noisy label sets can cause,
    retry with half the learning rate, down to an eighth."""

    def fit(lr: float) -> fasttext.FastText._FastText:
        return fasttext.train_supervised(
            input=data,
            epoch=params.epoch,
            lr=lr,
            dim=params.dim,
            wordNgrams=params.word_ngrams,
            minn=params.minn,
            maxn=params.maxn,
            bucket=params.bucket,
            seed=params.seed,
            thread=1,
            verbose=0,
        )

    lr = params.lr
    while lr > params.lr / 8:
        try:
            return fit(lr)
        except RuntimeError as exc:
            if "NaN" not in str(exc):
                raise
            log.warning("fastText loss diverged at lr=%g; retrying at lr=%g", lr, lr / 2)
            lr /= 2
    return fit(lr)


# Every fastText model file starts with this magic number (int32, little endian).
_MAGIC = (793712314).to_bytes(4, "little")
CHECK_SECONDS = 120
# Beside shipped models: file name -> content hash. A file listed there is checked by its hash
# (milliseconds); any other file by loading it in a child process (a second or more).
CHECKSUMS = "checksums.json"
CHECK_MEMORY_BYTES = 4 << 30


def check(annotator: str, path: str) -> None:
    """Fail before the job starts when `path` is missing or is not a fastText model.

    `ModelNotFoundError` names the file and how to get one; a file with a wrong header or
    one fastText cannot load is reported as corrupt (`ConfigError`).
    """
    from corpusmill.annotators.base import require_files
    from corpusmill.errors import ConfigError

    require_files(annotator, path)
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head != _MAGIC:
        raise ConfigError(
            f"annotator {annotator!r}: {path} is not a fastText model (corrupt or wrong file); "
            "rebuild it or point --models at a folder with a good copy"
        )
    expected = _recorded_checksum(path)
    if expected is not None:
        from corpusmill.annotators.base import file_version

        if file_version(path) == expected:
            return  # the exact file that was trained and tested
        raise ConfigError(
            f"annotator {annotator!r}: {path} differs from the file recorded in {CHECKSUMS} (corrupt or "
            "truncated): reinstall the package, rebuild the model, or point --models at a good copy"
        )
    error = _load_error(path)
    if error:
        raise ConfigError(
            f"annotator {annotator!r}: cannot load {path} ({error}); the file is corrupt or "
            "truncated: rebuild it or point --models at a folder with a good copy"
        )


def _recorded_checksum(path: str) -> str | None:
    """The content hash `checksums.json` beside `path` records for it, if any."""
    manifest = os.path.join(os.path.dirname(path), CHECKSUMS)
    if not os.path.isfile(manifest):
        return None
    with open(manifest, encoding="utf-8") as fh:
        return json.load(fh).get(os.path.basename(path))


def record_checksum(path: str) -> None:
    """Write `path`'s content hash into `checksums.json` beside it (training scripts call this)."""
    from corpusmill.annotators.base import file_version

    manifest = os.path.join(os.path.dirname(path), CHECKSUMS)
    known = {}
    if os.path.isfile(manifest):
        with open(manifest, encoding="utf-8") as fh:
            known = json.load(fh)
    known[os.path.basename(path)] = file_version(path)
    with open(manifest, "w", encoding="utf-8") as fh:
        json.dump(known, fh, indent=1, sort_keys=True)
        fh.write("\n")


def _load_error(path: str) -> str | None:
    """Why fastText cannot load `path`, or None. Tried in a child process with a memory cap and
    a time limit: fastText reading a truncated file can allocate without bound or never return.
    The cap is set by the child itself, not by a `preexec_fn`: Python code between fork and exec
    is unsafe in a multithreaded parent (a Beam worker, or a process that imported JAX)."""
    code = (
        "import resource, sys; "
        f"resource.setrlimit(resource.RLIMIT_AS, ({CHECK_MEMORY_BYTES}, {CHECK_MEMORY_BYTES})); "
        "import fasttext; fasttext.load_model(sys.argv[1])"
    )
    try:
        done = subprocess.run([sys.executable, "-c", code, path], capture_output=True, timeout=CHECK_SECONDS)
    except subprocess.TimeoutExpired:
        return f"loading took over {CHECK_SECONDS} s"
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return lines[-1] if lines else f"exit status {done.returncode}"
    return None


def load(path: str) -> fasttext.FastText._FastText:
    return fasttext.load_model(path)


def predict(model: fasttext.FastText._FastText, texts: Sequence[str], k: int = 1) -> list[list[tuple[str, float]]]:
    """Top-`k` (label, probability) per text, highest first."""
    lines = [features(t) for t in texts]
    labels, probs = model.predict(lines, k=k)
    return [
        [(lab[len(LABEL_PREFIX) :], min(float(p), 1.0)) for lab, p in zip(labs, ps)] for labs, ps in zip(labels, probs)
    ]
