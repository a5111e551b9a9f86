"""Fit the letter model (noise) and the score calibration of a trained identifier.

    python -m corpusmill.annotators.training.langid_extras --model annotators/models/lid.ftz \
        --sib200 ../shared/data/sib200 --ud DIR

Both are fitted on dev text only: SIB-200 dev sentences and paragraphs, and our UD dev
split (`training.ud`; treebanks under non-commercial or GPL licenses left out). The letter
table is counted on SIB-200 train. `training.langid` runs the same step after training.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from corpusmill.annotators.langid import calibration, noise
from corpusmill.annotators.langid.evaluate import PARAGRAPH_SENTENCES, paragraphs
from corpusmill.annotators.langid.model import UND, LidModel, read_metadata
from corpusmill.annotators.langid.text import normalize
from corpusmill.annotators.sib200 import LIKE_STANDARD_ARABIC, languages, read_language, shared_lines
from corpusmill.annotators.training import ud

log = logging.getLogger(__name__)

# Share of natural dev text the letter model may call noise, per length band.
NOISE_QUANTILE = 0.005


def dev_texts(root: Path, codes: list[str], ud: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    """(label, text) of dev sentences and 5-sentence paragraphs: SIB-200 dev (without lines
    shared between labels or of the Arabic varieties that are mostly Standard Arabic) and
    UD dev (paragraphs of consecutive sentences of one document)."""
    shared = shared_lines(root, codes, "dev")
    out = []
    for code in codes:
        if code in LIKE_STANDARD_ARABIC:
            continue
        sentences = read_language(root, code, "dev")
        out += [(code, s) for i, s in enumerate(sentences) if i not in shared.get(code, ())]
        out += [(code, p) for p in paragraphs(sentences)]
    out += [(code, text) for code, _, text in ud]
    out += [(code, text) for code, text in ud_paragraphs(ud)]
    return out


def ud_paragraphs(rows: list[tuple[str, str, str]]) -> Iterable[tuple[str, str]]:
    """Consecutive runs of PARAGRAPH_SENTENCES sentences of one document, not overlapping."""
    run: list[str] = []
    key = None
    for code, doc, text in rows:
        if (code, doc) != key:
            run, key = [], (code, doc)
        run.append(text)
        if len(run) == PARAGRAPH_SENTENCES:
            yield code, " ".join(run)
            run = []


def fit_letters(lid: LidModel, root: Path, codes: list[str], dev: list[tuple[str, str]]) -> noise.LetterModel:
    """Letter table from train; thresholds so that NOISE_QUANTILE of dev text falls below."""
    train = {code: [normalize(s) for s in read_language(root, code, "train")] for code in codes}
    labels = sorted(lid.labels)
    model = noise.LetterModel(labels, noise.fit_table(train, labels), [-1e9] * (len(noise.BANDS) + 1))
    scores: list[list[float]] = [[] for _ in range(len(noise.BANDS) + 1)]
    saved, lid.letters = lid.letters, None
    for _code, text in dev:
        doc = lid.label_text(text)
        normalized = normalize(text)
        score = model.score(normalized, doc.lang) if doc.lang != UND else None
        if score is not None:
            scores[noise.band(len(normalized) + 1)].append(score)
    lid.letters = saved
    model.thresholds = [round(float(np.quantile(s, NOISE_QUANTILE)), 4) for s in scores]
    return model


def fit_calibration(lid: LidModel, dev: list[tuple[str, str]]) -> calibration.Calibration:
    """The isotonic map per band from the full identifier's answers on dev text."""
    answers = []
    saved, lid.calibration = lid.calibration, calibration.IDENTITY
    for code, text in dev:
        doc = lid.label_text(text)
        if doc.lang != UND and not lid.is_direct(doc.lang):
            letters = sum(ch.isalpha() for ch in text)
            answers.append((doc.score, letters, doc.lang == code))
    lid.calibration = saved
    return calibration.fit(answers)


def build_extras(lid: LidModel, root: Path, codes: list[str], ud_dev: list[tuple[str, str, str]]) -> dict:
    """Fit the letter model and the calibration; set them on `lid`; their metadata entries."""
    dev = dev_texts(root, codes, ud_dev)
    log.info("fitting the letter model and the calibration on %d dev texts", len(dev))
    lid.letters = fit_letters(lid, root, codes, dev)
    lid.calibration = fit_calibration(lid, dev)
    return {
        "letters": {"labels": lid.letters.labels, "thresholds": lid.letters.thresholds},
        "calibration": lid.calibration.to_json(),
        "extras_dev": {
            "sib200_dev": True,
            "ud_dev_sentences": len(ud_dev),
            "ud_dev_treebanks": sorted({source.split("/", 1)[0] for _, source, _ in ud_dev}),
        },
    }


def version_hash(out: Path, meta: dict) -> str:
    """sha256 over every file and table that changes the labels."""
    digest = hashlib.sha256()
    for name in ("lid.ftz", "lid_pairs.npz", "lid_letters.npz"):
        path = out / name
        if path.is_file():
            digest.update(path.read_bytes())
    for key in ("thresholds", "letters", "calibration"):
        digest.update(json.dumps(meta.get(key), sort_keys=True).encode())
    return digest.hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m corpusmill.annotators.training.langid_extras",
        description="Refit the letter model and the score calibration of a trained lid.ftz (no fastText retraining).",
    )
    parser.add_argument("--model", type=Path, required=True, help="lid.ftz, with lid.json and lid_pairs.npz beside it")
    parser.add_argument("--sib200", type=Path, required=True, help="folder with <code>/{train,dev}.tsv")
    parser.add_argument("--ud", type=Path, default=None, help="folder with ud_dev.jsonl, ud_test.jsonl (training.ud)")
    parser.add_argument("--qwen3", type=Path, default=None, help="qwen3_languages.tsv (default: beside data/)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from corpusmill.annotators.training.langid import RELEASE, write_card  # langid imports this module

    lid = LidModel.load(args.model)
    lid.letters, lid.calibration = None, calibration.IDENTITY
    meta = read_metadata(args.model)
    ud_dev = ud.load(args.ud / "ud_dev.jsonl", tunable_only=True) if args.ud else []
    meta.update(build_extras(lid, args.sib200, languages(args.sib200), ud_dev))
    out = args.model.parent
    letters = lid.letters
    if letters is None:  # build_extras always sets it; a silent None would ship no letter model
        raise RuntimeError("the letter model was not built")
    letters.save(noise.LetterModel.path_for(args.model))
    meta["version"] = f"{RELEASE}+{version_hash(out, meta)[:12]}"
    qwen3 = args.qwen3 or args.sib200.resolve().parent.parent / "qwen3_languages.tsv"
    write_card(out, meta, lid, args.sib200, args.ud, qwen3)
    print(f"wrote {noise.LetterModel.path_for(args.model)}, lid.json, lid.md: version {meta['version']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
