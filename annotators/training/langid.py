"""Rebuild the language-ID model, its thresholds and its card from SIB-200 (and UD).

    python -m corpusmill.annotators.training.langid --sib200 ../shared/data/sib200 --out annotators/models \
        --ud DIR --extra-train DIR/ud_train.jsonl

Trains on the SIB-200 train split and, with `--extra-train`, on rows of our UD train split
(`training.ud`; CC BY / CC BY-SA treebanks only, at most `--extra-cap` sentences per
language, sentences also in SIB-200 dev or in the UD dev/test splits left out), quantizes, calibrates per-language thresholds on dev,
trains the close-pair models (`close_pairs`), evaluates on dev sentences and paragraphs
fits the letter model (no-language text) and the score calibration (`langid_extras`, on
SIB-200 dev and, with `--ud`, our UD dev split) and writes `lid.ftz`, `lid_pairs.npz`,
`lid_letters.npz`, `lid.json` and `lid.md` (with figures on the UD test split if given).
With one thread (the default) the same data gives byte-identical files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import random
import tempfile
import time
from pathlib import Path

import fasttext

from corpusmill.annotators.langid import card, card_documents
from corpusmill.annotators.langid.close_pairs import ClosePairs
from corpusmill.annotators.langid.close_pairs import save as save_pairs
from corpusmill.annotators.langid.evaluate import accuracy, calibrate, dev_predictions, no_language, unseen_text
from corpusmill.annotators.langid.model import LidModel
from corpusmill.annotators.langid.noise import LetterModel
from corpusmill.annotators.langid.text import normalize
from corpusmill.annotators.sib200 import languages, read_language, shared_lines, training_pairs
from corpusmill.annotators.training import nonlanguage, ud
from corpusmill.annotators.training.langid_extras import build_extras, version_hash
from corpusmill.annotators.training.langid_pairs import train_all as train_pairs

log = logging.getLogger(__name__)

MODEL_NAME = "corpusmill-lid-sib200"
# Bump when training data, rules or parameters change; a hash of the model files is appended.
RELEASE = "6"  # 6: the Macedonian/Serbian alphabet rule and plain Hebrew letters (same model files as 5)
SEED = 0
# Chosen on SIB-200 dev (see docs/lang_id.md): character 2-5-grams carry most of the
# signal; more epochs help the close pairs, word bigrams did not.
FASTTEXT_PARAMS = {
    "loss": "softmax",
    "dim": 64,
    "minn": 2,
    "maxn": 5,
    "wordNgrams": 1,
    "minCount": 1,
    "epoch": 15,
    "lr": 0.5,
    "bucket": 1_000_000,
}
QUANTIZE_PARAMS = {"qnorm": True, "retrain": True, "cutoff": 100_000, "dsub": 2}


# Extra (UD) training sentences kept per language, so that languages with big treebanks do
# not outweigh the 701 SIB-200 sentences every label has.
EXTRA_CAP = 1_500


def write_training_file(
    root: Path, codes: list[str], path: Path, extra: list[tuple[str, str]] | None = None
) -> dict[str, int]:
    """fastText's `__label__code text` lines, shuffled with a fixed seed; counts by source."""
    lines = [f"__label__{code} {normalize(text)}" for code, text in training_pairs(root, codes)]
    counts = {"sib200": len(lines), "extra": 0}
    for code, text in extra or []:
        words = normalize(text)
        if words:
            lines.append(f"__label__{code} {words}")
            counts["extra"] += 1
    random.Random(SEED).shuffle(lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return counts


def extra_training_rows(
    paths: list[Path], root: Path, codes: list[str], held_out: list[Path], cap: int = EXTRA_CAP
) -> list[tuple[str, str]]:
    """(code, text) of UD train rows: tunable licenses, labels SIB-200 has, at most `cap`
    per language (spread over its treebanks by a hash of the sentence), and no sentence
    that is also in SIB-200 dev or in a held-out file (UD dev/test), by normalized text."""
    seen = {normalize(text) for code in codes for text in read_language(root, code, "dev")}
    for path in held_out:
        seen.update(normalize(text) for _, _, text in ud.load(path))
    known = set(codes)
    by_lang: dict[str, list[tuple[str, str]]] = {}
    for path in paths:
        for code, _, text in ud.load(path, tunable_only=True):
            key = normalize(text)
            if code in known and key and key not in seen:
                seen.add(key)  # also drops repeats within the training rows
                by_lang.setdefault(code, []).append((hashlib.sha256(key.encode()).hexdigest(), text))
    out = []
    for code in sorted(by_lang):
        out += [(code, text) for _, text in sorted(by_lang[code])[:cap]]
    return out


def train_model(train_file: Path, out_file: Path, threads: int, params: dict) -> None:
    started = time.monotonic()
    model = fasttext.train_supervised(str(train_file), thread=threads, seed=SEED, verbose=0, **params)
    log.info("trained in %.0f s", time.monotonic() - started)
    model.quantize(input=str(train_file), thread=threads, verbose=0, **QUANTIZE_PARAMS)
    model.save_model(str(out_file))
    log.info("quantized in %.0f s total", time.monotonic() - started)


def evaluate(lid: LidModel, root: Path, codes: list[str]) -> tuple[dict, dict, dict]:
    """Thresholds from dev sentences, then sentence and paragraph accuracy with them.

    The thresholds judge the model's own scores, so the short-text prior is off meanwhile.
    """
    lid.thresholds = {}
    lid.short_prior = False
    sentences = dev_predictions(lid.label_text, root, codes, paragraph=False)
    paragraphs = dev_predictions(lid.label_text, root, codes, paragraph=True)
    lid.thresholds = calibrate(sentences, paragraphs, shared_lines(root, codes, "dev"))
    lid.short_prior = True
    sentence = accuracy(dev_predictions(lid.label_text, root, codes, paragraph=False))
    paragraph = accuracy(dev_predictions(lid.label_text, root, codes, paragraph=True))
    return lid.thresholds, sentence, paragraph


def build(
    root: Path,
    out: Path,
    qwen3_path: Path,
    *,
    threads: int = 1,
    params: dict | None = None,
    ud_dir: Path | None = None,
    extra_train: list[Path] | None = None,
    extra_cap: int = EXTRA_CAP,
) -> dict:
    """Train, calibrate, evaluate and write the model files into `out`; returns the metadata.

    `params` overrides FASTTEXT_PARAMS (tests use a small hash bucket). Train once per
    process: a second fastText training in the same process can diverge (NaN).
    """
    params = {**FASTTEXT_PARAMS, **(params or {})}
    codes = languages(root)
    qwen3 = card.qwen3_languages(qwen3_path)
    missing = sorted(set(qwen3) - set(codes))
    if missing:
        raise SystemExit(f"SIB-200 under {root} lacks Qwen3 languages: {', '.join(missing)}")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        train_file = Path(tmp) / "train.txt"
        held_out = [ud_dir / f"ud_{split}.jsonl" for split in ("dev", "test")] if ud_dir else []
        extra = extra_training_rows(extra_train or [], root, codes, held_out, extra_cap)
        n_sentences = write_training_file(root, codes, train_file, extra)
        model_tmp = out / ".lid.ftz.tmp"
        train_model(train_file, model_tmp, threads, params)
    data = model_tmp.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    lid = LidModel(fasttext.load_model(str(model_tmp)), {})
    pair_models, pair_reports = train_pairs(root, lid.labels)
    lid.pairs = ClosePairs(pair_models)
    pairs_path = ClosePairs.path_for(out / "lid.ftz")
    save_pairs(pair_models, pairs_path)
    os.replace(model_tmp, out / "lid.ftz")
    thresholds, _, _ = evaluate(lid, root, codes)
    meta = {
        "name": MODEL_NAME,
        "sha256": sha,
        "size_bytes": len(data),
        "labels": sorted(lid.labels),
        "thresholds": thresholds,
        "pairs": pair_reports,
        "train": {
            "data": "SIB-200 train split" + (" and our UD train split" if extra else ""),
            "sentences": n_sentences["sib200"] + n_sentences["extra"],
            "sib200_sentences": n_sentences["sib200"],
            "extra_sentences": n_sentences["extra"],
            "extra_languages": len({code for code, _ in extra}),
            "extra_cap": extra_cap,
            "seed": SEED,
            "fasttext": params,
            "quantize": ", ".join(f"{k}={v}" for k, v in QUANTIZE_PARAMS.items()),
        },
    }
    ud_dev = ud.load(ud_dir / "ud_dev.jsonl", tunable_only=True) if ud_dir else []
    meta.update(build_extras(lid, root, codes, ud_dev))
    letters = lid.letters
    if letters is None:  # build_extras always sets it; a silent None would ship no letter model
        raise RuntimeError("the letter model was not built")
    letters.save(LetterModel.path_for(out / "lid.ftz"))
    # The version names every file and table: a change of any changes the labels.
    meta["version"] = f"{RELEASE}+{version_hash(out, meta)[:12]}"
    write_card(out, meta, lid, root, ud_dir, qwen3_path)
    return meta


def write_card(out: Path, meta: dict, lid: LidModel, root: Path, ud_dir: Path | None, qwen3_path: Path) -> None:
    """Evaluate the full identifier (SIB-200 dev; UD test and generated non-language text
    when `ud_dir` is given) and write `lid.json` and `lid.md`."""
    codes = languages(root)
    sentence = accuracy(dev_predictions(lid.label_text, root, codes, paragraph=False))
    paragraph = accuracy(dev_predictions(lid.label_text, root, codes, paragraph=True))
    meta["dev_accuracy"] = {"sentence": sentence, "paragraph": paragraph}
    if ud_dir is not None:
        meta["unseen_text"] = unseen_text(lid.label_text, ud.load(ud_dir / "ud_test.jsonl"))
        natural = [text for code in codes for text in read_language(root, code, "train")[:3]]
        cases = nonlanguage.generate(nonlanguage.TEST_SEED, nonlanguage.TEST_CASES, natural)
        meta["no_language"] = no_language(lid.label_text, cases)
    qwen3 = card.qwen3_languages(qwen3_path)
    _write_text(out / "lid.json", json.dumps(meta, indent=1, sort_keys=True) + "\n")
    text = card.render(meta, sentence, paragraph, qwen3)
    _write_text(out / "lid.md", text + "\n".join(["", *card_documents.render(meta, qwen3)]))


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m corpusmill.annotators.training.langid", description=__doc__.split("\n")[1]
    )
    parser.add_argument("--sib200", type=Path, required=True, help="folder with <code>/{train,dev}.tsv")
    parser.add_argument("--out", type=Path, required=True, help="folder for lid.ftz, lid.json, lid.md")
    parser.add_argument(
        "--qwen3",
        type=Path,
        default=None,
        help="qwen3_languages.tsv (default: two folders above --sib200, as in shared/)",
    )
    parser.add_argument(
        "--ud", type=Path, default=None, help="folder with ud_dev.jsonl and ud_test.jsonl (training.ud)"
    )
    parser.add_argument(
        "--extra-train",
        type=Path,
        nargs="*",
        default=[],
        help="JSONL rows of training.ud (ud_train.jsonl) to train on besides SIB-200 train",
    )
    parser.add_argument(
        "--extra-cap", type=int, default=EXTRA_CAP, help="extra training sentences per language (default %(default)s)"
    )
    parser.add_argument("--threads", type=int, default=1, help="fastText threads; >1 is not reproducible")
    for key in ("dim", "epoch", "bucket", "lr"):
        kind = float if key == "lr" else int
        parser.add_argument(
            f"--{key}", type=kind, default=FASTTEXT_PARAMS[key], help="fastText %(dest)s (default %(default)s)"
        )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    qwen3_path = args.qwen3 or args.sib200.resolve().parent.parent / "qwen3_languages.tsv"
    params = {key: getattr(args, key) for key in ("dim", "epoch", "bucket", "lr")}
    meta = build(
        args.sib200,
        args.out,
        qwen3_path,
        threads=args.threads,
        params=params,
        ud_dir=args.ud,
        extra_train=args.extra_train,
        extra_cap=args.extra_cap,
    )
    print(f"wrote {args.out}/lid.ftz ({meta['size_bytes']:,} bytes), lid.json, lid.md: version {meta['version']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
