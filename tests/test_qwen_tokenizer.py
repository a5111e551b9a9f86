import pickle

import numpy as np
import pytest

from corpusmill.errors import ConfigError, ModelNotFoundError
from corpusmill.mixers.tokenizer import (
    QWEN_SPECIALS,
    JsonTokenizer,
    QwenTokenizer,
    load_tokenizer,
    with_eos,
)
from tests.qwen_hf import build_qwen_tokenizer_json

TEXTS = [
    "Hello world",
    "Café naïve Straße: 12345 Ümläute, e\u0301 (decomposed) and ﬁ ligature",
    "你好，世界！这是一个测试。机器学习很有趣。",
    "こんにちは、世界。カタカナとひらがな。",
    "Привет, мир! Число π ≈ 3.14159.",
    "مرحبا بالعالم، هذا اختبار.",
    "नमस्ते दुनिया, यह एक परीक्षण है।",
    "안녕하세요 세계",
    "Γειά σου Κόσμε",
    "def f(x: int) -> int:\n    return x ** 2  # square\n\n\nclass A:\n\tpass\r\n",
    "for (int i = 0; i < n; ++i) { sum += a[i]; }\n",
    "  leading  spaces\t\ttabs\r\n\r\n   trailing   ",
    "emoji 🎉👍🏽 and I'm sure they'LL've DON'T",
    "",
]


@pytest.fixture(scope="session")
def hf_json(tmp_path_factory):
    return build_qwen_tokenizer_json(str(tmp_path_factory.mktemp("hf") / "tokenizer.json"))


def test_hello_world_ids():
    assert QwenTokenizer().encode_batch(["Hello world"]) == [[9707, 1879]]


def test_ids_equal_hugging_face_reference(hf_json):
    ours = QwenTokenizer().encode_batch(TEXTS)
    ref = JsonTokenizer(hf_json).encode_batch(TEXTS)
    assert ours == ref
    assert sum(len(x) for x in ours) > 200


@pytest.mark.parametrize("threads", [1, 3])
def test_encode_flat_matches_encode_batch(hf_json, threads):
    want = QwenTokenizer(threads=1).encode_batch(TEXTS)
    for tok in (QwenTokenizer(threads=threads), JsonTokenizer(hf_json)):
        flat, lengths = tok.encode_flat(TEXTS)
        assert flat.dtype == np.int32 and lengths.tolist() == [len(x) for x in want]
        assert flat.tolist() == [i for x in want for i in x]
    flat, lengths = QwenTokenizer(threads=threads).encode_flat(["a <|endoftext|> b"])
    assert flat.tolist() == QwenTokenizer(threads=1).encode_batch(["a <|endoftext|> b"])[0] and 151643 not in flat
    flat, lengths = QwenTokenizer(threads=threads).encode_flat([])
    assert flat.size == 0 and lengths.size == 0


def test_specials_and_decode_roundtrip():
    tok = QwenTokenizer()
    assert tok.eos_id == 151643 and QWEN_SPECIALS["<|im_start|>"] == 151644 and QWEN_SPECIALS["<|im_end|>"] == 151645
    assert tok.vocab_size == 151669
    for text in TEXTS[2:8]:
        assert tok.decode(tok.encode_batch([text])[0]) == text


def test_literal_special_text_is_ordinary_text():
    ids = QwenTokenizer().encode_batch(["a <|endoftext|> b"])[0]
    assert 151643 not in ids


def test_user_tokenizer_json(hf_json):
    tok = load_tokenizer(hf_json)
    assert tok.eos_id == 151643 and tok.encode_batch(["Hello world"]) == [[9707, 1879]]
    assert tok.fingerprint != QwenTokenizer().fingerprint
    again = pickle.loads(pickle.dumps(tok))
    assert again.encode_batch(["Hello world"]) == [[9707, 1879]]


def test_user_tokenizer_without_eos_is_config_error(hf_json):
    with pytest.raises(ConfigError, match="no token"):
        JsonTokenizer(hf_json, eos_token="<|no_such_token|>")


def test_missing_or_unknown_tokenizer(tmp_path):
    with pytest.raises(ModelNotFoundError):
        load_tokenizer(str(tmp_path / "missing.json"))
    with pytest.raises(ModelNotFoundError):
        QwenTokenizer(str(tmp_path / "qwen.tiktoken"))
    with pytest.raises(ConfigError):
        load_tokenizer("gpt-17")


def test_pickles_small_and_still_works():
    tok = QwenTokenizer()
    tok.encode_batch(["warm up"])
    blob = pickle.dumps(tok)
    assert len(blob) < 10_000
    assert pickle.loads(blob).encode_batch(["Hello world"]) == [[9707, 1879]]


def test_with_eos_concatenates_and_marks_ends():
    flat, lengths = with_eos([[1, 2], [], [3]], 9)
    assert flat.tolist() == [1, 2, 9, 9, 3, 9] and lengths.tolist() == [3, 1, 2]
