"""A Qwen2-style Hugging Face `tokenizer.json` built from the same `qwen.tiktoken` ranks.

This is the reference the tests (and `bench.tokenize`) compare against: byte-level BPE whose
vocabulary is the ranks and whose merges are derived from them (each multi-byte token is
merged from any two tokens that concatenate to it, at the priority of its own rank), with
NFC normalization, the Qwen2 split regex and the Qwen special tokens after the ranks.
"""

from __future__ import annotations

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers

from corpusmill.mixers.tokenizer import QWEN_PATTERN, QWEN_SPECIAL_NAMES, load_ranks, qwen_ranks_path


def _bytes_to_unicode() -> dict[int, str]:
    # GPT-2's reversible byte -> printable character table, which ByteLevel uses.
    printable = (
        list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    )
    chars, extra = {}, 0
    for b in range(256):
        if b in printable:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return chars


def build_qwen_tokenizer_json(path: str) -> str:
    ranks = load_ranks(qwen_ranks_path())
    table = _bytes_to_unicode()

    def text(token: bytes) -> str:
        return "".join(table[b] for b in token)

    merges: list[tuple[int, int, int]] = []
    for token, rank in ranks.items():
        splits = [
            (ranks[token[:i]], ranks[token[i:]], rank)
            for i in range(1, len(token))
            if token[:i] in ranks and token[i:] in ranks
        ]
        merges.extend(sorted(splits))
    merges.sort(key=lambda m: m[2])
    by_rank = {rank: token for token, rank in ranks.items()}
    vocab = {text(token): rank for token, rank in ranks.items()}
    merge_pairs = [(text(by_rank[a]), text(by_rank[b])) for a, b, _ in merges]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merge_pairs, fuse_unk=False, byte_fallback=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(QWEN_PATTERN), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(name, special=True, normalized=False) for name in QWEN_SPECIAL_NAMES])
    tok.save(path)
    return path
