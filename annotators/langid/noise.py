"""Text that is no language: `und` for noise, filler and code, whatever fastText says.

fastText always answers with some language, confidently: hex digits read as Welsh and
keyboard mash as Aymara. Two checks catch what is not language:

- Shape rules on the raw text (no model): source code and minified scripts (dense
  `; { } ( ) == &&`), hashes, hex and base64 (long tokens mixing letters and digits),
  letters repeated ("aaaaaa"), keyboard mash (words along one keyboard row) and lorem
  ipsum (its own vocabulary, which is no language's).
- A letter model (alphabets and abjads; not Han, kana or Hangul, whose thousands of
  characters a hashed pair table cannot hold): per language, log-probabilities of letter pairs (hashed) from SIB-200
  train. Text whose letter pairs are unlikely in the language fastText picked (random
  letters, mash, base64 without digits) falls under a threshold per length band, chosen so
  that 0.5 % of natural dev text (SIB-200 dev, our UD dev split) falls below it.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import regex

# Hashed letter pairs per language; 4,096 buckets keep the table under 1 MB (uint8).
BUCKETS = 1 << 12
# log-probabilities are stored as uint8 steps of 1/QUANT nats below 0.
QUANT = 12.0
# Labels of scripts with thousands of characters: not checked by the letter model.
SKIPPED_SCRIPTS = ("_Hans", "_Hant", "_Jpan", "_Hang")
# Length bands (letter pairs) with their own thresholds: short text varies more.
BANDS = (50, 200)
# Code: a pattern of code punctuation and keywords, per visible character, and the
# share of code symbols. Chosen on dev: 0.1 % of natural sentences pass both.
_CODE = regex.compile(
    r"[;{}]|\(\)|=>|[=!<>]=|&&|\|\||[A-Za-z0-9_]\(|\)\.|\w\.\w+\(|"
    r"^\s*(?:def|import|return|var|const|let|function|class|if|for|while|#include|public|private)\b",
    regex.M,
)
_CODE_SYMBOLS = frozenset("{}[]();=<>&|+*/\\$_#@^~`")
_DROP_SPACES = str.maketrans("", "", " \n\t\r")
_DROP_SYMBOLS = str.maketrans("", "", "".join(sorted(_CODE_SYMBOLS)))
_DROP_DIGITS = str.maketrans("", "", "0123456789")
MIN_CODE_DENSITY = 0.04
MIN_CODE_SYMBOLS = 0.05
# A short phrase with a parenthesis ("셀(cell)은 ...") is not code: three hits at least.
MIN_CODE_HITS = 3
# Tokens of hashes, hex dumps and base64: letters and digits mixed, or hex runs.
# ASCII only: Chinese or Japanese runs with a date in them are one "token" too.
_MIXED_TOKEN = regex.compile(r"(?<![A-Za-z0-9+/=])(?=[A-Za-z0-9+/=]*[0-9])(?=[0-9+/=]*[A-Za-z])[A-Za-z0-9+/=]{8,}")
# Hex: 0x-prefixed, or runs of 6+ hex digits with both letters and digits (not plain numbers).
_HEX_TOKEN = regex.compile(r"\b(?:0x[0-9a-fA-F]+|(?=[0-9a-fA-F]*[a-fA-F])(?=[0-9a-fA-F]*[0-9])[0-9a-fA-F]{6,})\b")
MIN_JUNK_TOKEN_SHARE = 0.5
# Hex and base64 hold digits (a hex digit is one 10 times in 16, base64 about 1 in 6):
# text with fewer is left to the letter model.
MIN_DIGITS = 0.02
# Lorem ipsum's distinctive words (not the short Latin ones real languages share).
LOREM_WORDS = frozenset(
    "lorem ipsum dolor amet consectetur consectetuer adipiscing adipisicing elit eiusmod tempor "
    "incididunt labore dolore aliqua veniam nostrud exercitation ullamco laboris nisi aliquip "
    "commodo consequat duis aute irure reprehenderit voluptate velit cillum fugiat nulla pariatur "
    "excepteur sint occaecat cupidatat proident culpa officia deserunt mollit anim laborum "
    "vestibulum curabitur maecenas pellentesque fusce donec aenean mauris nunc sapien primis faucibus "
    "orci luctus ultrices posuere cubilia curae auctor aliquam ullamcorper ligula tincidunt viverra "
    "rhoncus sollicitudin suscipit tristique ultricies vulputate egestas eleifend facilisis fermentum "
    "feugiat gravida hendrerit imperdiet interdum lacinia lobortis malesuada molestie pharetra placerat "
    "porttitor pulvinar sagittis scelerisque sodales volutpat accumsan aliquet bibendum blandit "
    "condimentum convallis dapibus dignissim efficitur euismod finibus fringilla iaculis vehicula "
    "venenatis phasellus praesent quisque nullam suspendisse".split()
)
MIN_LOREM_SHARE = 0.4
# Any lorem ipsum passage of two words or more holds one of these.
_LOREM_HINTS = (
    "lorem",
    "ipsum",
    "dolor",
    "amet",
    "consect",
    "adipi",
    "tempor",
    "labor",
    "aliqu",
    "veniam",
    "nostrud",
    "ullamco",
    "commodo",
    "velit",
    "fugiat",
    "pariatur",
    "sint",
    "cupidatat",
    "proident",
    "mollit",
    "vestibulum",
    "elit",
    "nulla",
    "magna",
    "culpa",
    "officia",
    "irure",
    "duis",
)
_WORD = regex.compile(r"\p{L}+")
# Keyboard mash: words typed along one row of a QWERTY or JCUKEN keyboard ("asdfgh",
# "qwerty", "фывапр"). Natural words lie on one row rarely ("were", "type": a few percent).
KEYBOARD_ROWS = tuple(
    frozenset(row) for row in ("qwertyuiop", "asdfghjkl", "zxcvbnm", "йцукенгшщзхъ", "фывапролджэ", "ячсмитьбю")
)
MIN_ROW_WORD_LETTERS = 4
MIN_ROW_WORDS = 3
MIN_ROW_SHARE = 0.6
_ENTITY = regex.compile(r"&\w+;")
# The same letter four or more times in a row ("aaaaaaa", "zzzzz").
_REPEATED = regex.compile(r"(\p{L})\1{3,}")
MIN_REPEATED_SHARE = 0.5


def shape_reason(text: str) -> str | None:
    """Why raw `text` is not language by its shape (`code`, `hex_or_base64`,
    `repeated_letters`, `keyboard_mash`, `lorem_ipsum`), or None.

    Cheap character counts come first: the regular expressions run only on text that
    could match them (a few percent of prose), since this runs on every piece.
    """
    visible = len(text.translate(_DROP_SPACES))
    if visible == 0:
        return None
    # One C pass each (str.translate) instead of a count per character.
    symbols = len(text) - len(text.translate(_DROP_SYMBOLS))
    if symbols >= MIN_CODE_SYMBOLS * visible:
        hits = len(_CODE.findall(text))
        if hits >= MIN_CODE_HITS and hits >= MIN_CODE_DENSITY * visible:
            return "code"
    digits = len(text) - len(text.translate(_DROP_DIGITS))
    if digits >= MIN_DIGITS * visible:
        junk = sum(len(t) for t in _MIXED_TOKEN.findall(text)) + sum(len(t) for t in _HEX_TOKEN.findall(text))
        if junk >= MIN_JUNK_TOKEN_SHARE * visible:
            return "hex_or_base64"
    lower = text.lower()
    if (
        _REPEATED.search(lower)
        and sum(len(m.group()) for m in _REPEATED.finditer(lower)) >= MIN_REPEATED_SHARE * visible
    ):
        return "repeated_letters"
    if _is_keyboard_mash(lower):
        return "keyboard_mash"
    if any(word in lower for word in _LOREM_HINTS):
        words = _WORD.findall(lower)
        lorem = sum(1 for word in words if word in LOREM_WORDS)
        if len(words) >= 2 and lorem >= 2 and lorem >= MIN_LOREM_SHARE * len(words):
            return "lorem_ipsum"
    return None


def _is_keyboard_mash(lower: str) -> bool:
    # Words of 3+ distinct letters ("kaka" is a word, "asdf" is not); HTML entities
    # ("&quot;") are markup, not words.
    words = [
        word
        for word in _WORD.findall(_ENTITY.sub(" ", lower))
        if len(word) >= MIN_ROW_WORD_LETTERS and len(set(word)) >= 3
    ]
    if len(words) < MIN_ROW_WORDS:
        return False
    on_a_row = sum(1 for word in words if any(set(word) <= row for row in KEYBOARD_ROWS))
    return on_a_row >= MIN_ROW_SHARE * len(words)


def pair_buckets(normalized: str) -> np.ndarray:
    """Hashed buckets of the letter pairs of normalized text (spaces mark word edges)."""
    points = np.frombuffer(f" {normalized} ".encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    return ((points[:-1] * 1_000_003) ^ points[1:]) % BUCKETS


def band(pairs: int) -> int:
    """Index of the length band of a text with `pairs` letter pairs."""
    return sum(pairs >= edge for edge in BANDS)


@dataclass
class LetterModel:
    """Per-language hashed letter-pair log-probabilities and per-band thresholds."""

    labels: list[str]
    table: np.ndarray  # uint8 [labels, BUCKETS]: -log p * QUANT, clipped to 255
    thresholds: list[float]  # per band: mean log-probability below which text is noise

    def __post_init__(self) -> None:
        self._row = {label: i for i, label in enumerate(self.labels)}

    def score(self, normalized: str, label: str) -> float | None:
        """Mean log-probability per letter pair under `label`; None if unknown or empty."""
        row = self._row.get(label)
        if row is None or not normalized:
            return None
        return float(-self.table[row, pair_buckets(normalized)].mean() / QUANT)

    def is_noise(self, normalized: str, label: str) -> bool:
        if label.endswith(SKIPPED_SCRIPTS):
            return False
        score = self.score(normalized, label)
        if score is None:
            return False
        return score < self.thresholds[band(len(normalized) + 1)]

    @staticmethod
    def path_for(model_path: Path) -> Path:
        return model_path.with_name(f"{model_path.stem}_letters.npz")

    @classmethod
    def load(cls, model_path: Path, meta: dict) -> LetterModel | None:
        """The model named by the metadata's `letters` entry; None for older models."""
        entry = meta.get("letters")
        if not entry:
            return None
        with np.load(cls.path_for(model_path)) as arrays:
            table = arrays["table"]
        return cls(list(entry["labels"]), table, list(entry["thresholds"]))

    def save(self, path: Path) -> None:
        """An .npz with the table, byte-identical for the same model (fixed zip time)."""
        buffer = io.BytesIO()
        np.save(buffer, self.table, allow_pickle=False)
        tmp = path.with_name(f".{path.name}.tmp")
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            entry = zipfile.ZipInfo("table.npy", date_time=(1980, 1, 1, 0, 0, 0))
            archive.writestr(entry, buffer.getvalue(), compress_type=zipfile.ZIP_DEFLATED)
        tmp.replace(path)


def fit_table(texts_by_label: dict[str, list[str]], labels: list[str]) -> np.ndarray:
    """uint8 table of smoothed letter-pair log-probabilities per label, from normalized text."""
    table = np.zeros((len(labels), BUCKETS), dtype=np.uint8)
    for i, label in enumerate(labels):
        buckets = pair_buckets(" ".join(texts_by_label.get(label, [])))
        counts = np.bincount(buckets, minlength=BUCKETS).astype(np.float64)
        logp = np.log((counts + 0.1) / (counts.sum() + 0.1 * BUCKETS))
        table[i] = np.clip(np.round(-logp * QUANT), 0, 255).astype(np.uint8)
    return table
