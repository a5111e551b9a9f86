"""Rebuild the shipped domain model (`models/domain.ftz`) and its card (`models/domain.md`).

    python -m corpusmill.annotators.training.domain --sib200 DIR --languages qwen3_languages.tsv --mirrors DIR

Classes: SIB-200's seven topics, from its train split in all 205 languages, plus
`literature/fiction`, `religion`, `law`, `finance/business` and `education/reference`
passages from pinned public repositories (`training.public_data`: Bible, German and French
law, three English novels; `training.domain_data`: ELTeC novels in 18 languages, OpenStax
textbooks, MasakhaNEWS articles, whose topic-labeled news also adds to the SIB-200 topics).
`code`, `math` and `other` come from rules (`domain.py`).

Model selection uses our own split of the training data: 10 % of SIB-200 sentence ids (the
same sentence in every language, so translations never straddle it) and 10 % of the extra
passages' groups (books, laws). SIB-200 dev is only the reported figure, per language; the
extra classes are reported on their test groups. Single-threaded with fixed seeds.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
from collections import Counter, defaultdict

from corpusmill.annotators import fasttext_model
from corpusmill.annotators.domain import TOPIC_MODEL
from corpusmill.annotators.sib200 import ATTRIBUTION, TOPICS, qwen3_languages, read_split
from corpusmill.annotators.training.domain_data import DOMAIN_SOURCES, domain_extra_rows
from corpusmill.annotators.training.public_data import SOURCES, Row, domain_rows, split_of
from corpusmill.annotators.words import FEATURE_CHARS

MODELS_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "models")
# Tried on our tuning split (first build): epoch=20, lr=0.5, word_ngrams=1 reached 0.6135, the one
# below 0.6154; only the winner is retrained now (each run is minutes on one thread). Add
# candidates here to search again.
CANDIDATES = (fasttext_model.TrainParams(epoch=30, lr=0.3, dim=64, word_ngrams=2, minn=3, maxn=5),)
# Per (class, language): enough to learn the class, few enough that SIB-200 stays the bulk.
# Religion is capped low: its ~45 Bible languages would otherwise teach "this language (or any
# unfamiliar Latin-script text) is religion" (the first build sent 16 % of SIB-200 dev there).
EXTRA_CAP = {
    "religion": 150,
    "law": 3000,
    "literature/fiction": 600,
    "education/reference": 3000,
    "finance/business": 3000,
}
# News passages (MasakhaNEWS) of a SIB-200 topic, per (topic, language).
TOPIC_NEWS_CAP = 500


# What was tried to raise SIB-200 dev accuracy (mean over the 119 Qwen3 languages); the card
# repeats it. Measured with this script's data and params (one run each: 2 shared CPU cores).
ATTEMPTS = [
    "## Attempts to raise SIB-200 dev accuracy (mean over the 119 Qwen3 languages)",
    "",
    "- Before: one model, 10 classes (7 topics + literature, religion, law): 0.596 (English 0.485); "
    "a 7-topic model on SIB-200 alone: 0.613.",
    "- One model with the new classes and data (12 classes, shipped): the figure above (0.573 at build time; an "
    "earlier sample of the same sources: 0.573, English 0.444). The extra classes take about 5 % of dev "
    "sentences (in that sample 609 of 11,781: literature 417, education 104, finance 42, religion 29, law 17).",
    "- Scaling the extra classes' probabilities by 0.3 / 0.1 before the argmax: 0.579 / 0.583, while "
    "finance/business dev accuracy falls from 0.813 to 0.781 / 0.752. The argmax over the 7 topics alone in "
    "that model: 0.595.",
    "- Two levels (the 12-class model keeps its extra classes; a 7-topic model decides texts it sends to a "
    "topic): with the 7-topic model trained on SIB-200 plus MasakhaNEWS topic news (500 passages per topic and "
    "language) 0.572; on SIB-200 alone 0.577, but then news topics on our test articles fall from 0.70-0.86 to "
    "0.15-0.37 accuracy (the news never reaches level 2's training). Neither pays for a second model (twice "
    "the inference, 4 MB more), so one model ships.",
    "- Earlier hyper-parameter candidates (epoch 20, lr 0.5, word n-grams 1) were within 0.002 of the shipped "
    "ones on our tuning split.",
    "",
    "Why 0.8 stays out of reach for this model: a bag of words learns each language from its 701 SIB-200 "
    "training sentences (about 15,000 words), so most words of a dev sentence were never seen with a label in "
    "that language (English stays below 0.5 even with news and textbooks added); and one FLORES "
    "sentence often fits two topics (a stadium's cost: sports or politics; a city's museums: travel or "
    "entertainment). Closing the gap needs cross-lingual representations (a pretrained multilingual encoder), "
    "roughly a hundred times fastText's CPU cost per document; the teacher path "
    "(`corpusmill annotators train domain`) is the way to a stronger student.",
]


def sib_rows(sib200: str, codes: list[str]) -> list[Row]:
    """SIB-200 train sentences of `codes`, grouped by sentence id (parallel across languages)."""
    rows = []
    for code in codes:
        path = os.path.join(sib200, code, "train.tsv")
        if os.path.isfile(path):
            with open(path, encoding="utf-8", newline="") as fh:
                for r in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
                    rows.append(Row(f"sib:{r['index_id']}", r["category"], code, "dadelani/sib-200", r["text"]))
    return rows


def extra_rows(mirrors: str, seed: int = 0) -> list[Row]:
    """Every extra passage, at most `EXTRA_CAP` (or `TOPIC_NEWS_CAP`) per (class, language)."""
    rows = [*domain_rows(mirrors), *domain_extra_rows(mirrors)]
    random.Random(seed).shuffle(rows)
    taken: Counter[tuple[str, str]] = Counter()
    kept = []
    for r in rows:
        if taken[(r.label, r.lang)] < EXTRA_CAP.get(r.label, TOPIC_NEWS_CAP):
            taken[(r.label, r.lang)] += 1
            kept.append(r)
    return kept


def accuracy(model: object, rows: list[Row]) -> float:
    preds = fasttext_model.predict(model, [r.text for r in rows])
    return sum(p[0][0] == r.label for p, r in zip(preds, rows)) / max(1, len(rows))


def sib_dev_accuracy(model: object, sib200: str) -> dict[str, float]:
    dev = read_split(sib200, "dev")
    preds = fasttext_model.predict(model, [e.text for e in dev])
    hits: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for ex, pred in zip(dev, preds):
        hits[ex.lang][0] += pred[0][0] == ex.label
        hits[ex.lang][1] += 1
    return {lang: ok / n for lang, (ok, n) in hits.items()}


def fit_best(
    path: str, train: list[Row], tune: list[Row], candidates: tuple[fasttext_model.TrainParams, ...]
) -> tuple[float, fasttext_model.TrainParams]:
    """Train each candidate on `train`, keep the one most accurate on `tune` at `path`."""
    best: tuple[float, fasttext_model.TrainParams, int] | None = None
    for i, params in enumerate(candidates):
        fasttext_model.train([r.text for r in train], [r.label for r in train], f"{path}.{i}", params)
        score = accuracy(fasttext_model.load(f"{path}.{i}"), tune)
        print(f"  {os.path.basename(path)} {params}: tune accuracy {score:.4f}")
        if best is None or score > best[0]:
            best = (score, params, i)
    if best is None:
        raise RuntimeError("no candidate parameters to train")
    os.replace(f"{path}.{best[2]}", path)
    fasttext_model.record_checksum(path)
    for i in range(len(candidates)):
        if os.path.exists(f"{path}.{i}"):
            os.remove(f"{path}.{i}")
    return best[0], best[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sib200", required=True)
    parser.add_argument("--languages", required=True, help="qwen3_languages.tsv")
    parser.add_argument("--mirrors", required=True, help="git copies of the sources in training.public_data")
    parser.add_argument("--out", default=MODELS_DIR)
    parser.add_argument(
        "--reuse-model", action="store_true", help="keep the domain.ftz already in --out (card figures only)"
    )
    args = parser.parse_args(argv)
    languages = qwen3_languages(args.languages)
    # Every SIB-200 language, not only Qwen3's: a language the topics never saw falls to the class
    # whose data has the most small languages (religion). The card reports the Qwen3 languages.
    codes = sorted(d for d in os.listdir(args.sib200) if os.path.isdir(os.path.join(args.sib200, d)))
    rows = sib_rows(args.sib200, codes) + extra_rows(args.mirrors)
    # SIB-200 has no test split here (held out): its share of "test" groups joins tuning.
    tune = [
        r
        for r in rows
        if split_of(r.group) != "train" and (r.source == "dadelani/sib-200" or split_of(r.group) == "dev")
    ]
    test = [r for r in rows if r.source != "dadelani/sib-200" and split_of(r.group) == "test"]
    train = [r for r in rows if split_of(r.group) == "train"]
    random.Random(0).shuffle(train)
    print(f"domain data: train={len(train)} tune={len(tune)} extra-test={len(test)}")
    path = os.path.join(args.out, TOPIC_MODEL)
    if args.reuse_model and os.path.isfile(path):
        # The script's own earlier model (same data and candidates): measured again, not retrained.
        best = (accuracy(fasttext_model.load(path), tune), CANDIDATES[0])
    else:
        best = fit_best(path, train, tune, CANDIDATES)
    model = fasttext_model.load(path)
    sib = sib_dev_accuracy(model, args.sib200)
    by_class = {c: accuracy(model, [r for r in test if r.label == c]) for c in sorted({r.label for r in test})}
    by_lang = {
        key: accuracy(model, [r for r in test if (r.label, r.lang) == key])
        for key in sorted({(r.label, r.lang) for r in test if r.label not in TOPICS})
    }
    from corpusmill.annotators.training.cards import write_domain_card

    counts = Counter(r.label for r in train)
    known = {**SOURCES, **DOMAIN_SOURCES}
    sources = sorted({r.source for r in rows if r.source in known})
    write_domain_card(
        os.path.join(args.out, "domain.md"),
        best,
        sib,
        by_class,
        {k: (v, sum((r.label, r.lang) == k for r in test)) for k, v in sorted(by_lang.items())},
        languages,
        counts,
        {s: known[s] for s in sources},
        ATTRIBUTION,
        FEATURE_CHARS,
        ATTEMPTS,
    )
    q3 = [sib[c] for c, _ in languages if c in sib]
    print(
        f"wrote {path}; SIB-200 dev accuracy {sum(q3) / len(q3):.3f} over {len(q3)} Qwen3 languages; "
        f"extra classes {by_class}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
