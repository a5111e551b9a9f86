"""Labeled public data for the shipped domain, safety and edu models, read at pinned commits.

Every source is a public GitHub repository named with the commit we read and its license
(`SOURCES`; the model cards and `DATA.md` repeat them). `mirrors` is a folder holding a git
copy of each as `<owner>+<name>/repo` (`git clone https://github.com/<owner>/<name> <owner>+<name>/repo`
works); only the pinned commit is read, so a rebuild gives the same rows. Blobs a partial
copy lacks are skipped (the model cards list what we had).

Each reader yields `Row(group, label, lang, source, text)`; `lang` is FLORES-200 style
(`deu_Latn`), except for Bible translations, which carry the corpus's ISO 639-3 code. `group` names the unit that must
not straddle a split: a book, a law, a HateCheck template (parallel across languages), a
SIB-200 sentence id (parallel across languages), or the normalized text itself.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass

from corpusmill.errors import InputNotFoundError

csv.field_size_limit(1 << 30)


@dataclass(frozen=True)
class Source:
    repo: str
    commit: str
    license: str
    what: str


SOURCES: dict[str, Source] = {
    s.repo: s
    for s in (
        Source(
            "christos-c/bible-corpus",
            "44e5fca1bfb369a5da2ee23ebc6f421c88489c5c",
            "CC0 1.0",
            "Bible translations (Christodoulopoulos & Steedman 2015)",
        ),
        Source(
            "bundestag/gesetze",
            "77abca2ceea3b7b89ea70afb13b5dd55415eb124",
            "Unlicense; official texts",
            "German federal laws",
        ),
        Source(
            "steeve/france.code-civil", "159d0518486cba8b3777c12380ecf1787887fbfc", "official text", "French Code civil"
        ),
        Source(
            "GITenberg/Jack-Sheppard--A-Romance_16215",
            "53c2275d68a942a3c29d037179f8b89c9b094c3f",
            "public domain (Project Gutenberg)",
            "novel (W. H. Ainsworth)",
        ),
        Source(
            "GITenberg/Katrine--A-Novel_14263",
            "cda5284ad5c11e1928cd4c133c0726c1592bea08",
            "public domain (Project Gutenberg)",
            "novel (E. Lane)",
        ),
        Source(
            "GITenberg/News-from-Nowhere--Or-An-Epoch-of-Rest--13-Being-Some-Chapters-from-a-Utopian-Romance_3261",
            "79bd67b0ae225cd64f7bbc25c0449850b3131069",
            "public domain (Project Gutenberg)",
            "novel (W. Morris)",
        ),
        Source(
            "HKUST-KnowComp/MLMA_hate_speech",
            "479836984aebfbd8a0270ca92018980f745e4c44",
            "MIT",
            "MLMA hate speech tweets, en/fr/ar (Ousidhoum et al. 2019)",
        ),
        Source(
            "rewire-online/multilingual-hatecheck",
            "a03f2caf2023a402d85064bda243e46d280408f0",
            "CC BY 4.0",
            "Multilingual HateCheck, 10 languages (Röttger et al. 2022)",
        ),
        Source(
            "paul-rottger/hatecheck-data",
            "d84302298ceeb34f4b0dde2d8a1f4932c2caa612",
            "CC BY 4.0",
            "HateCheck, English (Röttger et al. 2021)",
        ),
        Source(
            "kocohub/korean-hate-speech",
            "f8d05dce2b22007bb149e5139c0060c68ad8f94b",
            "CC BY-SA 4.0",
            "BEEP! Korean hate speech (Moon et al. 2020)",
        ),
        Source(
            "uds-lsv/GermEval-2018-Data",
            "9877472d39523effd54cd079b4c61157ed141508",
            "CC BY 4.0",
            "GermEval 2018 offensive language (Wiegand et al. 2018)",
        ),
        Source(
            "JAugusto97/ToLD-Br",
            "7804082d06a42b791c456b37a8a80ed9b731198c",
            "CC BY-SA 4.0",
            "ToLD-Br toxic tweets, Portuguese (Leite et al. 2020)",
        ),
        Source(
            "openai/moderation-api-release",
            "f4ab51b5edd3bfbcb349a56324274235b674e0e4",
            "MIT",
            "1,680 texts labeled sexual/hate/violence/harassment/self-harm (Markov et al. 2023)",
        ),
        Source(
            "Mohamed-Elsafty23/fineweb-edu-scorer",
            "d5e08528a97ef0397a324c6eb927bec271924595",
            "MIT (data ODC-By)",
            "150 FineWeb-Edu pages scored 0-5 by Llama-3.3-70B with the FineWeb-Edu prompt",
        ),
    )
}


@dataclass(frozen=True)
class Row:
    group: str
    label: str
    lang: str
    source: str
    text: str


def _git(mirrors: str, repo: str, *args: str) -> bytes:
    root = os.path.join(mirrors, repo.replace("/", "+"), "repo")
    if not os.path.isdir(root):
        raise InputNotFoundError(f"no git copy of {repo} at {root}; clone it there (see training.public_data)")
    return subprocess.run(["git", "-C", root, *args], capture_output=True, check=True).stdout


def show(mirrors: str, repo: str, path: str) -> bytes:
    return _git(mirrors, repo, "show", f"{SOURCES[repo].commit or 'HEAD'}:{path}")


def files(mirrors: str, repo: str) -> list[str]:
    """Paths at the pinned commit whose blobs this copy holds."""
    out = _git(mirrors, repo, "ls-tree", "-r", "-l", SOURCES[repo].commit or "HEAD").decode()
    return [ln.split("\t", 1)[1] for ln in out.splitlines() if ln.split()[3].isdigit()]


def text_key(text: str) -> str:
    """Group key of a text: near-duplicates (case, punctuation, spacing) share it."""
    return "t:" + hashlib.blake2b(re.sub(r"\W+", "", text.lower()).encode(), digest_size=6).hexdigest()


def split_of(group: str) -> str:
    """A seeded 80/10/10 train/dev/test split by group."""
    b = int.from_bytes(hashlib.blake2b(group.encode(), digest_size=4).digest(), "big") % 10
    return "test" if b == 0 else "dev" if b == 1 else "train"


_SENT = re.compile(r"(?<=[.!?;])\s+")


def _passages(sentences: list[str], size: int) -> Iterator[str]:
    for i in range(0, len(sentences), size):
        text = " ".join(" ".join(s.split()) for s in sentences[i : i + size])
        if len(text.split()) >= 6:
            yield text


def domain_rows(mirrors: str) -> Iterator[Row]:
    """Passages of 1-3 sentences for `religion`, `law` and `literature/fiction`."""
    repo = "christos-c/bible-corpus"
    meta = {
        r["Filename"]: r["ISO_639-3"] for r in csv.DictReader(io.StringIO(show(mirrors, repo, "metadata.csv").decode()))
    }
    for path in files(mirrors, repo):
        if path.endswith(".xml"):
            books: dict[str, list[str]] = {}
            for seg in ET.fromstring(show(mirrors, repo, path)).iter("seg"):
                if seg.text and seg.text.strip():
                    books.setdefault(seg.get("id", "b.X").split(".")[1], []).append(seg.text.strip())
            lang = meta.get(path.rsplit("/", 1)[-1], "und")
            for book, verses in books.items():
                yield from (Row(f"bible:{book}", "religion", lang, repo, t) for t in _passages(verses, 2))
    repo = "bundestag/gesetze"
    for path in files(mirrors, repo):
        if path.endswith("index.md"):
            body = show(mirrors, repo, path).decode("utf-8", "replace").split("---", 2)[-1]
            lines = " ".join(ln for ln in body.splitlines() if ln.strip() and ln[0] not in "#:")
            yield from (Row(f"law:{path}", "law", "deu_Latn", repo, t) for t in _passages(_SENT.split(lines), 2))
    repo = "steeve/france.code-civil"
    for path in files(mirrors, repo):
        if path.endswith(".md") and "/" in path:
            body = " ".join(show(mirrors, repo, path).decode("utf-8", "replace").splitlines()[2:])
            yield from (
                Row(f"law:{path.split('/')[0]}", "law", "fra_Latn", repo, t) for t in _passages(_SENT.split(body), 2)
            )
    for repo in (r for r in SOURCES if r.startswith("GITenberg/")):
        txt = next(
            (
                show(mirrors, repo, p).decode("utf-8", "replace")
                for p in files(mirrors, repo)
                if p.endswith(".txt") and "/" not in p and "-" not in p
            ),
            "",
        )
        txt = txt.replace("\r\n", "\n")  # Gutenberg files use CRLF: paragraphs are blank-line separated
        start, end = txt.find("*** START"), txt.find("*** END")
        body = txt[txt.find("\n", start) + 1 if start >= 0 else 0 : end if end > 0 else None]
        paras = [" ".join(p.split()) for p in body.split("\n\n") if len(p.split()) > 5]
        for j in range(0, len(paras), 40):  # a group is a run of 40 paragraphs (a chapter or so)
            for t in _passages(_SENT.split(" ".join(paras[j : j + 40])), 2):
                yield Row(f"{repo}:{j // 40}", "literature/fiction", "eng_Latn", repo, t)
