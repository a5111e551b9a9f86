"""Readers of the human-labeled safety sets and the LLM-labeled edu set (sources in `public_data`).

Safety labels are mapped onto our categories: hateful, offensive, abusive and insulting
texts (hate speech, harassment, slurs) are `hate`; HateCheck's threat cases are
`violence`; everything a set calls non-hateful is `safe`. The OpenAI moderation set
(`moderation_rows`) is the only one with `sexual` and `self-harm` items. Neutral text in every SIB-200
language (train split only) is added as `safe` so the student does not learn "unknown
language = unsafe". Languages are FLORES-200-style codes, as in the `lang` column.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import random
import zipfile
from collections.abc import Iterator
from typing import Literal

from corpusmill.annotators.training.public_data import Row, show, text_key

_MHC = {
    "arabic": "arb_Arab",
    "dutch": "nld_Latn",
    "french": "fra_Latn",
    "german": "deu_Latn",
    "hindi": "hin_Deva",
    "italian": "ita_Latn",
    "mandarin": "zho_Hans",
    "polish": "pol_Latn",
    "portuguese": "por_Latn",
    "spanish": "spa_Latn",
}
NEUTRAL_PER_LANGUAGE = 60


def _csv(
    data: bytes, delimiter: str = ",", quoting: Literal[0, 1, 2, 3] = csv.QUOTE_MINIMAL
) -> Iterator[dict[str, str]]:
    return csv.DictReader(io.StringIO(data.decode("utf-8", "replace")), delimiter=delimiter, quoting=quoting)


def _hatecheck_label(functionality: str, gold: str) -> str:
    if functionality.startswith("threat_"):
        return "violence"
    return "hate" if gold == "hateful" else "safe"


def safety_rows(mirrors: str) -> Iterator[Row]:
    repo = "HKUST-KnowComp/MLMA_hate_speech"
    archive = zipfile.ZipFile(io.BytesIO(show(mirrors, repo, "hate_speech_mlma.zip")))
    for name, lang in (
        ("en_dataset_with_stop_words", "eng_Latn"),
        ("fr_dataset", "fra_Latn"),
        ("ar_dataset", "arb_Arab"),
    ):
        for r in _csv(archive.read(f"hate_speech_mlma/{name}.csv")):
            # Every tweet was collected as suspected hate; "normal" is the annotators' all-clear.
            yield Row(text_key(r["tweet"]), "safe" if r["sentiment"] == "normal" else "hate", lang, repo, r["tweet"])
    repo = "rewire-online/multilingual-hatecheck"
    for language, lang in _MHC.items():
        for r in _csv(show(mirrors, repo, f"MHC Final Cases/hatecheck_cases_final_{language}.csv")):
            # Templates are translations of one another: group by template, across languages.
            yield Row(
                f"hc:{r['functionality']}:{r['templ_id']}",
                _hatecheck_label(r["functionality"], r["label_gold"]),
                lang,
                repo,
                r["test_case"],
            )
    repo = "paul-rottger/hatecheck-data"
    for r in _csv(show(mirrors, repo, "test_suite_cases.csv")):
        yield Row(
            f"hc:{r['functionality']}:{r['templ_id']}",
            _hatecheck_label(r["functionality"], r["label_gold"]),
            "eng_Latn",
            repo,
            r["test_case"],
        )
    repo = "kocohub/korean-hate-speech"
    for split in ("train", "dev"):
        for r in _csv(show(mirrors, repo, f"labeled/{split}.tsv"), delimiter="\t", quoting=csv.QUOTE_NONE):
            yield Row(
                text_key(r["comments"]), "safe" if r["hate"] == "none" else "hate", "kor_Hang", repo, r["comments"]
            )
    repo = "uds-lsv/GermEval-2018-Data"
    for name in ("germeval2018.training.txt", "germeval2018.test.txt"):
        for line in show(mirrors, repo, name).decode("utf-8", "replace").splitlines():
            parts = line.split("\t")
            if len(parts) == 3:
                yield Row(text_key(parts[0]), "hate" if parts[1] == "OFFENSE" else "safe", "deu_Latn", repo, parts[0])
    repo = "JAugusto97/ToLD-Br"
    for r in _csv(show(mirrors, repo, "ToLD-BR.csv")):
        votes = [float(r[k]) for k in ("homophobia", "obscene", "insult", "racism", "misogyny", "xenophobia")]
        if max(votes) >= 2 or sum(votes) == 0:  # one annotator of three is too uncertain either way
            yield Row(text_key(r["text"]), "hate" if max(votes) >= 2 else "safe", "por_Latn", repo, r["text"])


# OpenAI moderation taxonomy -> ours, most specific first: a text that is both sexual and
# hateful is learned as sexual (the rarer class, and the one the URL list cannot cover).
_MODERATION = (
    ("sexual", ("S", "S3")),
    ("self-harm", ("SH",)),
    ("violence", ("V", "V2", "H2")),
    ("hate", ("H", "HR")),
)
_MODERATION_KEYS = tuple(k for _, keys in _MODERATION for k in keys)


def moderation_rows(mirrors: str) -> Iterator[Row]:
    """The OpenAI moderation evaluation set (English): the first category flagged, else `safe`.

    A sample lists only the categories it was labeled for; it is `safe` only when all eight
    are present and 0 (a text labeled only for `sexual` may still be hateful), else skipped.
    """
    repo = "openai/moderation-api-release"
    for line in gzip.decompress(show(mirrors, repo, "data/samples-1680.jsonl.gz")).decode("utf-8").splitlines():
        r = json.loads(line)
        label = next((cat for cat, keys in _MODERATION if any(r.get(k) == 1 for k in keys)), None)
        if label is None and all(r.get(k) == 0 for k in _MODERATION_KEYS):
            label = "safe"
        if label is not None:
            yield Row(text_key(r["prompt"]), label, "eng_Latn", repo, r["prompt"])


def neutral_rows(sib200: str, seed: int = 0) -> Iterator[Row]:
    """`NEUTRAL_PER_LANGUAGE` SIB-200 train sentences of every language, as `safe`."""
    rng = random.Random(seed)
    for lang in sorted(os.listdir(sib200)):
        path = os.path.join(sib200, lang, "train.tsv")
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
        for r in rng.sample(rows, min(NEUTRAL_PER_LANGUAGE, len(rows))):
            yield Row(f"sib:{r['index_id']}", "safe", lang, "dadelani/sib-200 (train)", r["text"])


def edu_rows(mirrors: str) -> Iterator[Row]:
    """FineWeb-Edu pages with Llama-3.3-70B's 0-5 educational score (English)."""
    repo = "Mohamed-Elsafty23/fineweb-edu-scorer"
    for r in _csv(show(mirrors, repo, "data/training_data.csv")):
        if r["score"].strip().isdigit():
            yield Row(text_key(r["text"]), r["score"].strip(), "eng_Latn", repo, r["text"])
