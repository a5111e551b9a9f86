"""CPU OCR with Tesseract, with the model of the page's script and word confidences.

The model is the one of the page's script (`ocr_cpu` finds the script): `script/Latin`,
`script/Bengali`, ... from the `tesseract-ocr-script-*` packages, the language packs `eng`
and `chi_sim` when they are all there is, or `--ocr-langs` when given. The
`tesseract` program answers in TSV: words with boxes and confidences, which become blocks
for the same reading order and line joining as a text layer, and the confidences feed the
acceptance check (`ocr_check`). Without the program, MuPDF's built-in Tesseract is used
(no confidences).
"""

from __future__ import annotations

import functools
import os
import subprocess
from typing import Any

import pymupdf

from corpusmill.errors import ConfigError
from corpusmill.extractors.pdf.layout import Block
from corpusmill.extractors.pdf.ocr_check import OcrWord
from corpusmill.extractors.pdf.ocr_words import Word, to_ocr_words, words_to_blocks
from corpusmill.extractors.pdf.render import tesseract_binary
from corpusmill.extractors.pdf.text_layer import raw_blocks, to_blocks

ENGINE = "tesseract"
ENGINE_VERSION = f"mupdf-{pymupdf.VersionFitz}"

TSV_TIMEOUT_S = 120.0  # the page's own limit (in the child) is the real bound; this frees a stuck program

# Script model (tessdata `script/<name>`) for a script, as `analysis.dominant_script` or
# Tesseract's OSD name it. OSD says "Han" for Chinese and "Japanese"/"Korean" for pages of kana or hangul.
SCRIPT_MODELS = {
    "Latin": "Latin",
    "Han": "HanS",
    "Hiragana": "Japanese",
    "Katakana": "Japanese",
    "Japanese": "Japanese",
    "Hangul": "Hangul",
    "Korean": "Hangul",
    "Cyrillic": "Cyrillic",
    "Greek": "Greek",
    "Arabic": "Arabic",
    "Hebrew": "Hebrew",
    "Armenian": "Armenian",
    "Georgian": "Georgian",
    "Devanagari": "Devanagari",
    "Bengali": "Bengali",
    "Gujarati": "Gujarati",
    "Gurmukhi": "Gurmukhi",
    "Oriya": "Oriya",
    "Tamil": "Tamil",
    "Telugu": "Telugu",
    "Kannada": "Kannada",
    "Malayalam": "Malayalam",
    "Sinhala": "Sinhala",
    "Thai": "Thai",
    "Lao": "Lao",
    "Khmer": "Khmer",
    "Myanmar": "Myanmar",
}
# Language packs, used when the script model is not installed.
SCRIPT_LANGS = {
    "Latin": "eng",
    "Han": "chi_sim",
    "Cyrillic": "rus",
    "Greek": "ell",
    "Arabic": "ara",
    "Hebrew": "heb",
    "Devanagari": "hin",
    "Hangul": "kor",
    "Hiragana": "jpn",
    "Katakana": "jpn",
    "Thai": "tha",
    "Bengali": "ben",
    "Tamil": "tam",
}


def tessdata_dir() -> str | None:
    """The folder holding `*.traineddata`, or None when Tesseract data is not installed."""
    try:
        found = pymupdf.get_tessdata()
    except Exception:  # pymupdf raises when it finds nothing
        return None
    return found if found and os.path.isdir(found) else None


def available_langs(tessdata: str | None = None) -> set[str]:
    """Installed models by the name `-l` takes: `eng`, `Latin` or `script/Latin`
    (Debian's script packages install into `script/`, other builds beside the packs)."""
    folder = tessdata or tessdata_dir()
    if not folder:
        return set()
    found = {n[: -len(".traineddata")] for n in os.listdir(folder) if n.endswith(".traineddata")}
    scripts = os.path.join(folder, "script")
    if os.path.isdir(scripts):
        found |= {"script/" + n[: -len(".traineddata")] for n in os.listdir(scripts) if n.endswith(".traineddata")}
    return found - {"osd"}


def check_langs(langs: str, available: set[str]) -> str:
    """Validate a `eng+chi_sim` style list against the installed packs (ConfigError if missing)."""
    wanted = [x for x in langs.split("+") if x]
    missing = [x for x in wanted if x not in available]
    if not wanted or missing:
        raise ConfigError(
            f"Tesseract language pack(s) {missing or langs!r} not installed (have: "
            f"{', '.join(sorted(available)) or 'none'}); install tesseract-ocr-<lang> or change --ocr-langs"
        )
    return "+".join(wanted)


def script_model(script: str, available: set[str]) -> str | None:
    """The installed script model for `script`, or None."""
    name = SCRIPT_MODELS.get(script)
    if name is None:
        return None
    return next((m for m in (name, f"script/{name}") if m in available), None)


def choose_langs(configured: str | None, script: str, available: set[str]) -> str:
    """`configured` if given; else the script model of `script`; else its language pack
    plus English; else the Latin script model; limited to what is installed."""
    if configured:
        return configured
    model = script_model(script, available)
    if model:
        return model
    wanted = [SCRIPT_LANGS.get(script, "eng"), "eng"]
    chosen = [x for i, x in enumerate(wanted) if x in available and x not in wanted[:i]]
    return "+".join(chosen) or script_model("Latin", available) or sorted(available)[0]


@functools.cache
def program_version() -> str:
    binary = tesseract_binary()
    if binary is None:
        return ""
    out = subprocess.run([binary, "--version"], capture_output=True, check=False, timeout=30).stdout
    first = out.decode(errors="replace").split("\n", 1)[0].split()
    return first[-1] if first else "?"


def parse_tsv(tsv: str) -> list[Word]:
    """Tesseract's TSV output: the words (level 5) that have text."""
    words = []
    for line in tsv.splitlines()[1:]:
        cols = line.split("\t")
        if len(cols) < 12 or cols[0] != "5" or not cols[11].strip():
            continue
        left, top, width, height = (float(x) for x in cols[6:10])
        block = int(cols[2]) * 1000 + int(cols[3])  # a paragraph of a block
        words.append(
            Word(left, top, left + width, top + height, cols[11].strip(), float(cols[10]), block, int(cols[4]))
        )
    return words


def _tsv_words(pix: Any, langs: str) -> list[Word]:
    binary = tesseract_binary()
    assert binary is not None
    env = dict(os.environ, OMP_THREAD_LIMIT="1")  # one core per page: workers give the parallelism
    folder = tessdata_dir()
    cmd = [binary, "stdin", "stdout", "-l", langs, "--psm", "3"] + (["--tessdata-dir", folder] if folder else [])
    out = subprocess.run(
        [*cmd, "tsv"], input=pix.tobytes("png"), capture_output=True, timeout=TSV_TIMEOUT_S, check=False, env=env
    )
    if out.returncode != 0:
        raise RuntimeError(f"tesseract failed ({out.returncode}): {out.stderr.decode(errors='replace')[-300:]}")
    return parse_tsv(out.stdout.decode("utf-8", errors="replace"))


def recognize(pix: Any, langs: str, zoom: float) -> tuple[list[Block], float, list[OcrWord]]:
    """Blocks, page height (points) and words of one rendered page."""
    if tesseract_binary() is not None:
        words = _tsv_words(pix, langs)
        return words_to_blocks(words, zoom), pix.height / zoom, to_ocr_words(words)
    with pymupdf.open("pdf", pix.pdfocr_tobytes(language=langs, tessdata=tessdata_dir())) as ocr:
        recognized = ocr[0]
        return to_blocks(recognized, raw_blocks(recognized)), recognized.rect.height, []


def version(langs: str) -> str:
    return f"tesseract-{program_version()} {langs}" if tesseract_binary() else f"{ENGINE_VERSION} {langs}"
