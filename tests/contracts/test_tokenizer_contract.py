"""Every shipped tokenizer against the `Tokenizer` protocol (mixers/tokenizer.py).

Two implementations: `QwenTokenizer` (the real Qwen vocabulary from the dashscope package) and
`JsonTokenizer`, run on a small byte-level BPE `tokenizer.json` trained here with Hugging Face
`tokenizers`. The contract: `encode_batch` and `encode_flat` agree, decoding gives back the
(NFC) text, text never turns into the end-of-document id, empty texts and empty batches work,
ids fit int32 below `vocab_size`, and the tokenizer pickles before and after use.
"""

from __future__ import annotations

import pickle
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from corpusmill.mixers.tokenizer import (
    EOS_TOKEN,
    TOKEN_DTYPE,
    JsonTokenizer,
    QwenTokenizer,
    Tokenizer,
    load_tokenizer,
    with_eos,
)

TEXTS = [
    "Hello world",
    "",
    "The year 2024 had 366 days; π ≈ 3.14159.",
    "你好，世界。今天天气很好。",
    "ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ",
    "Cafe\u0301 (a decomposed é) and an emoji 🙂 and tabs\tand\nnewlines\r\n",
    "A page that quotes <|endoftext|> literally must not end the document.",
    "def f(x):\n    return x + 1\n",
    "   leading and trailing spaces   ",
]
CORPUS = [t for t in TEXTS if t] * 20 + ["Bonjour à tous, ceci est un texte en français."] * 20


def _train_tokenizer_json(path: Path) -> None:
    """A 400-token byte-level BPE with an NFC normalizer and `<|endoftext|>` as a special token."""
    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers import decoders, models, normalizers, pre_tokenizers, trainers

    tok = HFTokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=[EOS_TOKEN],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS, trainer=trainer)
    tok.save(str(path))


@pytest.fixture(scope="module")
def tokenizer_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    _train_tokenizer_json(path)
    return path


@pytest.fixture(scope="module", params=["qwen", "json"])
def tokenizer(request: pytest.FixtureRequest, tokenizer_json: Path) -> Tokenizer:
    if request.param == "qwen":
        return QwenTokenizer(threads=2)
    return JsonTokenizer(str(tokenizer_json))


def test_batch_and_flat_agree(tokenizer: Tokenizer) -> None:
    ids = tokenizer.encode_batch(TEXTS)
    flat, lengths = tokenizer.encode_flat(TEXTS)
    assert len(ids) == len(TEXTS) and all(isinstance(i, int) for doc in ids for i in doc)
    assert flat.dtype == TOKEN_DTYPE and lengths.dtype == np.int64
    assert lengths.tolist() == [len(doc) for doc in ids]
    assert flat.tolist() == [i for doc in ids for i in doc]
    # A document's ids do not depend on the batch it came in.
    assert [tokenizer.encode_batch([t])[0] for t in TEXTS] == ids
    assert tokenizer.encode_batch(TEXTS[::-1]) == ids[::-1]


def test_decode_round_trips_nfc_text(tokenizer: Tokenizer) -> None:
    for text, ids in zip(TEXTS, tokenizer.encode_batch(TEXTS), strict=True):
        assert tokenizer.decode(ids) == unicodedata.normalize("NFC", text)
    assert tokenizer.encode_batch(["Cafe\u0301"]) == tokenizer.encode_batch(["Caf\u00e9"])


def test_eos_is_special_and_never_comes_from_text(tokenizer: Tokenizer) -> None:
    assert 0 <= tokenizer.eos_id < tokenizer.vocab_size
    assert tokenizer.decode([tokenizer.eos_id]) == EOS_TOKEN
    flat, _ = tokenizer.encode_flat(TEXTS)
    assert tokenizer.eos_id not in flat.tolist()  # TEXTS quotes "<|endoftext|>" literally
    tokens, lengths = with_eos(tokenizer.encode_batch(TEXTS[:3]), tokenizer.eos_id)
    assert tokens[np.cumsum(lengths) - 1].tolist() == [tokenizer.eos_id] * 3


def test_empty_text_and_empty_batch(tokenizer: Tokenizer) -> None:
    assert tokenizer.encode_batch([""]) == [[]]
    assert tokenizer.encode_batch([]) == []
    flat, lengths = tokenizer.encode_flat(["", ""])
    assert flat.size == 0 and lengths.tolist() == [0, 0] and flat.dtype == TOKEN_DTYPE
    flat, lengths = tokenizer.encode_flat([])
    assert flat.size == 0 and lengths.size == 0 and flat.dtype == TOKEN_DTYPE
    assert tokenizer.decode([]) == ""


def test_ids_fit_int32_below_vocab_size(tokenizer: Tokenizer) -> None:
    assert 0 < tokenizer.vocab_size <= np.iinfo(np.int32).max
    flat, _ = tokenizer.encode_flat(TEXTS)
    assert flat.size > 0 and int(flat.min()) >= 0 and int(flat.max()) < tokenizer.vocab_size


def test_picklable_before_and_after_use(tokenizer: Tokenizer, tokenizer_json: Path) -> None:
    fresh = QwenTokenizer(threads=2) if isinstance(tokenizer, QwenTokenizer) else JsonTokenizer(str(tokenizer_json))
    expected = tokenizer.encode_batch(TEXTS)  # `tokenizer` has loaded its vocabulary by now
    for original in (fresh, tokenizer):
        clone = pickle.loads(pickle.dumps(original))
        assert (clone.name, clone.fingerprint, clone.eos_id, clone.vocab_size) == (
            tokenizer.name,
            tokenizer.fingerprint,
            tokenizer.eos_id,
            tokenizer.vocab_size,
        )
        assert clone.encode_batch(TEXTS) == expected
    # Beam ships tokenizers to workers: the pickle carries settings, not the loaded vocabulary.
    assert len(pickle.dumps(tokenizer)) < 10_000


def test_threads_do_not_change_ids() -> None:
    many = TEXTS * 7
    one, four = QwenTokenizer(threads=1), QwenTokenizer(threads=4)
    assert one.encode_batch(many) == four.encode_batch(many)
    flat_one, len_one = one.encode_flat(many)
    flat_four, len_four = four.encode_flat(many)
    assert np.array_equal(flat_one, flat_four) and np.array_equal(len_one, len_four)


def test_known_qwen_ids_and_fingerprints(tokenizer_json: Path) -> None:
    qwen = load_tokenizer("qwen")
    assert qwen.encode_batch(["Hello world"]) == [[9707, 1879]] and qwen.eos_id == 151_643
    first, second = load_tokenizer(str(tokenizer_json)), JsonTokenizer(str(tokenizer_json))
    assert first.fingerprint == second.fingerprint != qwen.fingerprint
