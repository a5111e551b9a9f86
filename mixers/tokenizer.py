"""The stage tokenizer: Qwen's BBPE vocabulary through tiktoken, or a user's `tokenizer.json`.

Qwen2/Qwen3 use byte-level BPE with 151,643 regular tokens. The ranks ship as
`qwen.tiktoken` inside the Apache-2.0 `dashscope` package; tiktoken with the Qwen2
pre-tokenizer regex, after NFC normalization, gives the same ids as the Hugging Face Qwen2
tokenizer at several times its speed. Document text is always encoded as ordinary text:
a literal "<|endoftext|>" inside a web page must not become a control token, so special
ids only ever come from us (the end-of-document marker).
"""

from __future__ import annotations

import binascii
import hashlib
import importlib.util
import itertools
import json
import os
import unicodedata
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Protocol

import numpy as np

from corpusmill.errors import ConfigError, ModelNotFoundError

if TYPE_CHECKING:
    import tiktoken
    import tokenizers

QWEN_NAME = "qwen2-bbpe"
QWEN_RANKS_RESOURCE = ("dashscope", "resources/qwen.tiktoken")
QWEN_N_RANKS = 151_643
# The Qwen2 pre-tokenizer: like GPT-4's, but digits are split one by one (`\p{N}`).
QWEN_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
QWEN_SPECIAL_NAMES = (
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
    "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
    "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>",
    "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>",
    "<|repo_name|>", "<|file_sep|>", "<tool_response>", "</tool_response>", "<think>", "</think>",
)  # fmt: skip
QWEN_SPECIALS = {name: QWEN_N_RANKS + i for i, name in enumerate(QWEN_SPECIAL_NAMES)}
EOS_TOKEN = "<|endoftext|>"
TOKEN_DTYPE = np.int32  # ids reach 151,668: more than uint16 holds
DEFAULT_THREADS = 4


class Tokenizer(Protocol):
    """What the mixer needs from a tokenizer; `fingerprint` names the exact vocabulary and rules."""

    name: str
    fingerprint: str
    vocab_size: int
    eos_id: int

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        """Ids of each text as ordinary text: no special tokens, no end-of-document marker."""
        ...

    def encode_flat(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The same ids as `encode_batch`, concatenated: (flat int32 ids, int64 length per text)."""
        ...

    def decode(self, ids: Sequence[int]) -> str: ...


def qwen_ranks_path() -> str:
    """Path of `qwen.tiktoken` inside the installed dashscope package."""
    package, resource = QWEN_RANKS_RESOURCE
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(
            "the Qwen vocabulary ships in the `dashscope` package, which is not installed: pip install dashscope"
        )
    path = os.path.join(list(spec.submodule_search_locations)[0], resource)
    if not os.path.isfile(path):
        raise ModelNotFoundError(f"{path} is missing; reinstall `dashscope` or pass a tokenizer.json")
    return path


def load_ranks(path: str) -> dict[bytes, int]:
    """Parse a tiktoken ranks file (`<base64 token> <rank>` per line)."""
    ranks: dict[bytes, int] = {}
    with open(path, "rb") as fh:
        for line in fh:
            if line.strip():
                token, rank = line.split()
                ranks[binascii.a2b_base64(token)] = int(rank)
    return ranks


def nfc(text: str) -> str:
    # The check is much cheaper than normalizing, and almost all text is already NFC.
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def _split(texts: Sequence[str], parts: int) -> list[Sequence[str]]:
    """`texts` cut into at most `parts` contiguous runs of about equal count."""
    size = -(-len(texts) // max(1, parts)) or 1
    return [texts[i : i + size] for i in range(0, len(texts), size)]


def _encode_numpy(enc: tiktoken.Encoding, texts: Sequence[str]) -> list[np.ndarray]:
    # disallowed_special=() with no allowed specials encodes "<|endoftext|>" in text as ordinary text.
    return [enc.encode_to_numpy(nfc(t), disallowed_special=()) for t in texts]


class QwenTokenizer:
    """Qwen2/Qwen3 BBPE via tiktoken: NFC, the Qwen2 regex, 151,643 ranks plus the specials."""

    def __init__(self, ranks_path: str | None = None, *, threads: int | None = None) -> None:
        self.ranks_path = ranks_path or qwen_ranks_path()
        # tiktoken encodes outside the GIL, so threads scale a batch over the cores one process has.
        self.threads = threads or min(DEFAULT_THREADS, os.cpu_count() or 1)
        if not os.path.isfile(self.ranks_path):
            raise ModelNotFoundError(f"Qwen ranks file {self.ranks_path} not found")
        self.name = QWEN_NAME
        self.vocab_size = QWEN_N_RANKS + len(QWEN_SPECIALS)
        self.eos_id = QWEN_SPECIALS[EOS_TOKEN]
        h = hashlib.sha256()
        with open(self.ranks_path, "rb") as fh:
            h.update(fh.read())
        h.update(json.dumps([QWEN_PATTERN, QWEN_SPECIALS, "NFC"], sort_keys=True).encode())
        self.fingerprint = h.hexdigest()
        self._encoding: tiktoken.Encoding | None = None

    def _enc(self) -> tiktoken.Encoding:
        # Built on first use so the object pickles small (Beam ships it to workers).
        if self._encoding is None:
            import tiktoken

            ranks = load_ranks(self.ranks_path)
            if len(ranks) != QWEN_N_RANKS:
                raise ModelNotFoundError(f"{self.ranks_path} has {len(ranks)} ranks, expected {QWEN_N_RANKS}")
            self._encoding = tiktoken.Encoding(
                QWEN_NAME, pat_str=QWEN_PATTERN, mergeable_ranks=ranks, special_tokens=QWEN_SPECIALS
            )
        return self._encoding

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        enc = self._enc()
        normalized = [nfc(t) for t in texts]
        if self.threads == 1 or len(normalized) < 2:
            return [enc.encode_ordinary(t) for t in normalized]
        return enc.encode_ordinary_batch(normalized, num_threads=self.threads)

    def encode_flat(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        # Each thread encodes a contiguous run of texts straight into numpy buffers: no Python int
        # per token (building those lists holds the GIL and cost as much as a fifth of the encoding).
        enc = self._enc()
        chunks = _split(texts, self.threads)
        if len(chunks) < 2:
            arrays = [_encode_numpy(enc, chunk) for chunk in chunks]
        else:
            with ThreadPoolExecutor(len(chunks)) as pool:
                arrays = list(pool.map(lambda chunk: _encode_numpy(enc, chunk), chunks))
        docs = [a for part in arrays for a in part]
        lengths = np.fromiter((a.size for a in docs), dtype=np.int64, count=len(docs))
        flat = np.concatenate(docs) if docs else np.empty(0, np.uint32)
        return flat.view(TOKEN_DTYPE), lengths  # ids < 2**31: the uint32 bits are the int32 values

    def decode(self, ids: Sequence[int]) -> str:
        return self._enc().decode([int(i) for i in ids], errors="replace")

    def __getstate__(self) -> dict[str, object]:
        return {**self.__dict__, "_encoding": None}


class JsonTokenizer:
    """A user's Hugging Face `tokenizer.json` (its own normalizer and pre-tokenizer apply)."""

    def __init__(self, path: str, *, eos_token: str = EOS_TOKEN) -> None:
        if not os.path.isfile(path):
            raise ModelNotFoundError(f"tokenizer file {path} not found")
        with open(path, "rb") as fh:
            raw = fh.read()
        self.path = path
        self.name = f"tokenizer.json:{os.path.basename(os.path.dirname(os.path.abspath(path))) or path}"
        self.fingerprint = hashlib.sha256(raw).hexdigest()
        tok = self._load()
        self.vocab_size = tok.get_vocab_size(with_added_tokens=True)
        eos = tok.token_to_id(eos_token)
        if eos is None:
            raise ConfigError(f"{path} has no token {eos_token!r}; set `eos_token` in the recipe")
        self.eos_id = int(eos)
        self._tok: tokenizers.Tokenizer | None = None

    def _load(self) -> tokenizers.Tokenizer:
        try:
            from tokenizers import Tokenizer as HFTokenizer
        except ImportError as exc:
            raise ModelNotFoundError("reading tokenizer.json needs `tokenizers`: pip install tokenizers") from exc
        try:
            tok = HFTokenizer.from_file(self.path)
        except Exception as exc:  # tokenizers raises a bare Exception on a malformed file
            raise ConfigError(f"cannot read tokenizer {self.path}: {exc}") from exc
        # Otherwise a literal "<|endoftext|>" in a document would become the special id even with
        # add_special_tokens=False: special ids must only ever come from us (see the module doc).
        tok.encode_special_tokens = True
        return tok

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        if self._tok is None:
            self._tok = self._load()
        return [e.ids for e in self._tok.encode_batch(list(texts), add_special_tokens=False)]

    def encode_flat(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        ids = self.encode_batch(texts)
        lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
        return np.fromiter(itertools.chain.from_iterable(ids), dtype=TOKEN_DTYPE, count=int(lengths.sum())), lengths

    def decode(self, ids: Sequence[int]) -> str:
        if self._tok is None:
            self._tok = self._load()
        return self._tok.decode([int(i) for i in ids], skip_special_tokens=False)

    def __getstate__(self) -> dict[str, object]:
        return {**self.__dict__, "_tok": None}


def load_tokenizer(spec: str = "qwen", *, eos_token: str = EOS_TOKEN) -> Tokenizer:
    """`"qwen"` for the built-in Qwen vocabulary, or a path to a `tokenizer.json`."""
    if spec == "qwen":
        if eos_token != EOS_TOKEN:
            raise ConfigError(f"the Qwen tokenizer ends documents with {EOS_TOKEN}, not {eos_token}")
        return QwenTokenizer()
    if spec.endswith(".json"):
        return JsonTokenizer(spec, eos_token=eos_token)
    raise ConfigError(f"unknown tokenizer {spec!r}: use 'qwen' or a path to a tokenizer.json")


def with_eos(ids: list[list[int]], eos_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate documents, each followed by `eos_id`: (flat int32 tokens, per-document lengths)."""
    lengths = np.fromiter((len(x) + 1 for x in ids), dtype=np.int64, count=len(ids))
    flat = np.empty(int(lengths.sum()), dtype=TOKEN_DTYPE)
    ends = np.cumsum(lengths)
    pos = 0
    for doc, end in zip(ids, ends):
        flat[pos : end - 1] = doc
        pos = int(end)
    flat[ends - 1] = eos_id
    return flat, lengths
