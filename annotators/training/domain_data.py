"""More labeled text for the domain model, read at pinned commits like `training.public_data`.

- `literature/fiction`: ELTeC, the European Literary Text Collection (COST Action CA16204),
  100 or fewer novels of 1840-1920 per language, TEI XML, public domain texts.
- `education/reference`: OpenStax textbooks under CC BY 4.0 (Polish, Spanish, English).
- `finance/business`: OpenStax economics and business textbooks (CC BY 4.0, English and
  Polish) and MasakhaNEWS `business` articles (16 African languages, English and French).
- MasakhaNEWS' other topics (health, politics, sports, entertainment, technology, religion)
  add news text to the matching SIB-200 topics and to `religion`.

Groups keep parallel or shared text on one side of a split: a novel; a textbook chapter,
keyed so that a translation's chapter (Polish and Spanish University Physics, Polish and
English Macroeconomics) shares its original's key; a news article (its URL). Only blobs the
git copy holds are read (big files a partial copy lacks are skipped and the card counts what
was read). No NonCommercial-licensed book is used (several OpenStax business books are
CC BY-NC-SA): the model ships in an Apache-2.0 package.
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator

from corpusmill.annotators.training.public_data import Row, Source, _git, _passages

ELTEC_LANGS = {
    "cze": "ces_Latn",
    "deu": "deu_Latn",
    "eng": "eng_Latn",
    "fra": "fra_Latn",
    "gre": "ell_Grek",
    "hrv": "hrv_Latn",
    "hun": "hun_Latn",
    "ita": "ita_Latn",
    "lit": "lit_Latn",
    "nor": "nob_Latn",
    "pol": "pol_Latn",
    "por": "por_Latn",
    "rom": "ron_Latn",
    "slv": "slv_Latn",
    "spa": "spa_Latn",
    "srp": "srp_Cyrl",
    "swe": "swe_Latn",
    "ukr": "ukr_Cyrl",
}
_ELTEC_COMMITS = {
    "cze": "25cb4e935424a0254cf736bc88cfb8217721de15",
    "deu": "d1eed488bd579ee95151b1a291a0056a90c36fa4",
    "eng": "3db3b6738a836f0e1b276b6c9703e42f4297f978",
    "fra": "83f0a43fdb967cd1db646027a1a237307e4924a1",
    "gre": "cdcf83f52ede512f355774c244466c085fe131ba",
    "hrv": "1c12dd75322c39d44d60d2fa1170720d1bda1c50",
    "hun": "5977c034202ff3be32f035a3c3782e97f84f90dc",
    "ita": "100a4851ed1a1092f082c0ecd109f621c8f62ed4",
    "lit": "11fcc7636ebf3ade5be3dd868be3b4106c1e1153",
    "nor": "78bf7c179d863908be2f932a89b0e793cb4d6f03",
    "pol": "95fe196e35720b3de9644ef3ef1d1bb242bae99a",
    "por": "8886868916311001a8a8dd99aa6f18f6a2c68408",
    "rom": "418e9a9e92ade7656e191e71ccd99abf44e4763d",
    "slv": "42137628a2074b514162aaff51a70960b8cfe5cc",
    "spa": "83e2a22d5ef66f96e59f47f7ef810358c4236322",
    "srp": "355cea8f2e9f47e16b207d8fae1a6a22409231a4",
    "swe": "eef89d94921e48ff00f75dcdb0f8bcf7d4e273e4",
    "ukr": "a8c3d71301cdba767e33551ff0099da1dc51681a",
}


OPENSTAX_LICENSE = "CC BY 4.0 (OpenStax, Rice University)"


def _openstax(name: str, commit: str, what: str) -> Source:
    return Source(f"openstax/osbooks-{name}", commit, OPENSTAX_LICENSE, what)


# repository -> (language, label, chapter-key family, collection files to read (a prefix of the
# file name); the family is shared by a translation and its original.
OPENSTAX_BOOKS: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "openstax/osbooks-college-success-bundle": (
        "eng_Latn",
        "education/reference",
        "college-success",
        ("college-success.",),
    ),
    "openstax/osbooks-fisica-universitaria-bundle": ("spa_Latn", "education/reference", "university-physics", ("",)),
    "openstax/osbooks-fizyka-bundle": ("pol_Latn", "education/reference", "university-physics", ("",)),
    "openstax/osbooks-introduccion-estadistica-bundle": (
        "spa_Latn",
        "education/reference",
        "introductory-statistics",
        ("introducción-estadística.",),
    ),
    "openstax/osbooks-physics": ("eng_Latn", "education/reference", "physics", ("",)),
    "openstax/osbooks-psychologia": ("pol_Latn", "education/reference", "psychology", ("",)),
    "openstax/osbooks-quimica-bundle": ("spa_Latn", "education/reference", "chemistry", ("química-2ed.",)),
    "openstax/osbooks-introduction-business": ("eng_Latn", "finance/business", "introduction-business", ("",)),
    "openstax/osbooks-makroekonomia": ("pol_Latn", "finance/business", "macroeconomics", ("",)),
    "openstax/osbooks-principles-economics-bundle": (
        "eng_Latn",
        "finance/business",
        "macroeconomics",
        ("principles-macroeconomics-3e.", "principles-microeconomics-3e."),
    ),
}
MASAKHANE = "masakhane-io/masakhane-news"
# MasakhaNEWS language folder -> FLORES-200-style code (Nigerian Pidgin has none there).
MASAKHANE_LANGS = {
    "amh": "amh_Ethi",
    "eng": "eng_Latn",
    "fra": "fra_Latn",
    "hau": "hau_Latn",
    "ibo": "ibo_Latn",
    "lin": "lin_Latn",
    "lug": "lug_Latn",
    "orm": "gaz_Latn",
    "pcm": "pcm_Latn",
    "run": "run_Latn",
    "sna": "sna_Latn",
    "som": "som_Latn",
    "swa": "swh_Latn",
    "tir": "tir_Ethi",
    "xho": "xho_Latn",
    "yor": "yor_Latn",
}
MASAKHANE_LABELS = {
    "business": "finance/business",
    "entertainment": "entertainment",
    "health": "health",
    "politics": "politics",
    "religion": "religion",
    "sports": "sports",
    "technology": "science/technology",
}

DOMAIN_SOURCES: dict[str, Source] = {
    s.repo: s
    for s in (
        *(
            Source(
                f"COST-ELTeC/ELTeC-{code}",
                commit,
                "public domain texts; encoding CC BY 4.0 (ELTeC, COST Action CA16204)",
                f"novels 1840-1920, {ELTEC_LANGS[code]}",
            )
            for code, commit in _ELTEC_COMMITS.items()
        ),
        _openstax("college-success-bundle", "4c04b87eb2753872c2d442fe9736859ddb27bb72", "College Success (textbook)"),
        _openstax(
            "fisica-universitaria-bundle", "dcfa34b3a56bfd87ec7caf25e9b90de82f8e80a1", "Física universitaria (textbook)"
        ),
        _openstax("fizyka-bundle", "bdf3158ca1f9ed7516626e7b0f39047d37b43719", "Fizyka dla szkół wyższych (textbook)"),
        _openstax(
            "introduccion-estadistica-bundle",
            "493484ec367aa7c55209af0ffa7e3636165dec26",
            "Introducción a la estadística (textbook)",
        ),
        _openstax("physics", "ff78c7a8150fdda5ed1f786ac59ac25cdd532ef0", "Physics (high-school textbook)"),
        _openstax("psychologia", "2010b2f265ec99f8f24766d54d621f7736d827d8", "Psychologia (textbook)"),
        _openstax("quimica-bundle", "755d386f196fdd7a308e0d9cecd1ff9fb1009241", "Química 2ed (textbook)"),
        _openstax(
            "introduction-business", "78c9e7ad4e581d4ff98e78ea30214840e1fa7e1e", "Introduction to Business (textbook)"
        ),
        _openstax("makroekonomia", "36f59aa574f0177f9cc78b59b6beb632a5b9d067", "Makroekonomia - Podstawy (textbook)"),
        _openstax(
            "principles-economics-bundle",
            "cd31beb103fffbc09cc81ebfe117d8c40cc12d1a",
            "Principles of Macro- and Microeconomics 3e (textbooks)",
        ),
        Source(
            MASAKHANE,
            "819be052e79e0a600e0ed4a7356594681cb5c4f3",
            "AFL-3.0 (dataset card); articles mostly from BBC News",
            "MasakhaNEWS news topics, 16 African languages (Adelani et al. 2023)",
        ),
    )
}


def _show(mirrors: str, repo: str, path: str) -> bytes:
    return _git(mirrors, repo, "show", f"{DOMAIN_SOURCES[repo].commit}:{path}")


def _files(mirrors: str, repo: str, under: str) -> list[str]:
    """Paths under `under` at the pinned commit whose blobs this copy holds (NUL-separated, so
    non-ASCII names come back unquoted)."""
    out = _git(mirrors, repo, "ls-tree", "-r", "-l", "-z", DOMAIN_SOURCES[repo].commit, "--", under).decode()
    return [e.split("\t", 1)[1] for e in out.split("\0") if e and e.split()[3].isdigit()]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


_SENT = re.compile(r"(?<=[.!?;])\s+")


def eltec_rows(mirrors: str) -> Iterator[Row]:
    """Passages of 2 sentences from the body paragraphs of every ELTeC novel; group = the novel."""
    for code, lang in ELTEC_LANGS.items():
        repo = f"COST-ELTeC/ELTeC-{code}"
        for path in _files(mirrors, repo, "level1/"):
            if not path.endswith(".xml"):
                continue
            root = ET.fromstring(_show(mirrors, repo, path))
            body = next((e for e in root.iter() if _local(e.tag) == "body"), None)
            if body is None:
                continue
            paras = [" ".join("".join(p.itertext()).split()) for p in body.iter() if _local(p.tag) == "p"]
            sentences = [s for p in paras if p for s in _SENT.split(p)]
            name = path.rsplit("/", 1)[-1]
            yield from (Row(f"eltec:{name}", "literature/fiction", lang, repo, t) for t in _passages(sentences, 2))


_SKIP = {"math", "figure", "media", "table", "title", "label", "caption", "code", "equation"}


def _module_text(xml: bytes) -> list[str]:
    """The paragraphs of a CNXML module, without math, figures, tables and titles."""

    def text(el: ET.Element) -> str:
        parts = [el.text or ""]
        for child in el:
            if _local(child.tag) not in _SKIP:
                parts.append(text(child))
            parts.append(child.tail or "")
        return "".join(parts)

    root = ET.fromstring(xml)
    content = next((e for e in root.iter() if _local(e.tag) == "content"), root)
    return [" ".join(text(p).split()) for p in content.iter() if _local(p.tag) == "para"]


def _chapters(xml: bytes) -> dict[str, int]:
    """Module id -> index of its top-level chapter in a collection (0 = front matter)."""
    root = ET.fromstring(xml)
    content = next(e for e in root if _local(e.tag) == "content")
    out: dict[str, int] = {}
    chapter = 0
    for el in content:
        if _local(el.tag) == "subcollection":
            chapter += 1
            for m in el.iter():
                if _local(m.tag) == "module":
                    out.setdefault(m.get("document", ""), chapter)
        elif _local(el.tag) == "module":
            out.setdefault(el.get("document", ""), 0)
    return out


def openstax_rows(mirrors: str) -> Iterator[Row]:
    """Passages of 2 sentences from OpenStax textbook modules; group = (family, volume, chapter)."""
    for repo, (lang, label, family, wanted) in OPENSTAX_BOOKS.items():
        collections = sorted(
            p
            for p in _files(mirrors, repo, "collections/")
            if p.endswith(".collection.xml") and any(p.split("/")[-1].startswith(w) for w in wanted)
        )
        seen: set[str] = set()
        for volume, col in enumerate(collections):
            for module, chapter in _chapters(_show(mirrors, repo, col)).items():
                if module in seen:
                    continue  # bundles list shared chapters in several books: read each module once
                seen.add(module)
                try:
                    paras = _module_text(_show(mirrors, repo, f"modules/{module}/index.cnxml"))
                except Exception:  # noqa: BLE001 - a module the copy lacks or cannot parse is skipped
                    continue
                sentences = [s for p in paras if p for s in _SENT.split(p)]
                # A multi-volume translation numbers volumes like its original (sorted file names).
                vol = volume if family == "university-physics" else 0
                group = f"openstax:{family}:{vol}:{chapter}"
                yield from (Row(group, label, lang, repo, t) for t in _passages(sentences, 2))


def masakhane_rows(mirrors: str, per_article: int = 3) -> Iterator[Row]:
    """Up to `per_article` passages (headline, then 2-sentence pieces) of each MasakhaNEWS article."""
    for folder, lang in MASAKHANE_LANGS.items():
        for split in ("train", "dev", "test"):
            paths = _files(mirrors, MASAKHANE, f"data/{folder}/{split}.tsv")
            if not paths:
                continue
            data = _show(mirrors, MASAKHANE, paths[0]).decode("utf-8", "replace")
            for r in csv.DictReader(io.StringIO(data), delimiter="\t"):
                label = MASAKHANE_LABELS.get((r.get("category") or "").strip())
                if label is None:
                    continue
                group = "news:" + (r.get("url") or r.get("headline") or "")
                sentences = _SENT.split(" ".join((r.get("text") or "").split()))
                texts = [" ".join((r.get("headline") or "").split()), *_passages(sentences, 2)]
                for t in [t for t in texts if len(t.split()) >= 4][:per_article]:
                    yield Row(group, label, lang, MASAKHANE, t)


def domain_extra_rows(mirrors: str) -> Iterator[Row]:
    yield from eltec_rows(mirrors)
    yield from openstax_rows(mirrors)
    yield from masakhane_rows(mirrors)
