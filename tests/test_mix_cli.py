"""`corpusmill mix` and `corpusmill shards verify|inspect` as a user runs them."""

from __future__ import annotations

import pytest
import yaml

from corpusmill.commands import main
from corpusmill.commands.mix import parse_tokens
from corpusmill.errors import ConfigError
from tests.mix_corpus import write_corpus

RECIPE = {
    "stages": [
        {
            "name": "s1",
            "seq_len": 512,
            "budget_tokens": 4000,
            "seed": 1,
            "shard_tokens": 1500,
            "buckets": [{"name": "all", "where": "safety = 'safe'", "share": 1.0, "max_repeats": 2}],
        }
    ]
}


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli_mix")
    docs, ann, texts = write_corpus(root, 30)
    recipe = root / "recipe.yaml"
    recipe.write_text(yaml.safe_dump(RECIPE))
    out = root / "shards"
    assert (
        main(["mix", str(recipe), "--docs", docs, "--annotations", ann, "-o", str(out), "--workers", "1", "--quiet"])
        == 0
    )
    return root, recipe, docs, ann, out, texts


def test_dry_run_prints_the_plan(mixed, capsys, tmp_path):
    _, recipe, docs, ann, _, _ = mixed
    rc = main(
        [
            "mix",
            str(recipe),
            "--docs",
            docs,
            "--annotations",
            ann,
            "-o",
            str(tmp_path / "o"),
            "--dry-run",
            "--budget",
            "2k",
            "--workers",
            "1",
            "--quiet",
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0 and "budget 2,000 tokens" in out and "bucket all:" in out
    rc = main(
        [
            "mix",
            str(recipe),
            "--docs",
            docs,
            "--annotations",
            ann,
            "-o",
            str(tmp_path / "o"),
            "--dry-run",
            "--budget",
            "s1=3k",
            "--workers",
            "1",
            "--quiet",
        ]
    )
    assert rc == 0 and "budget 3,000 tokens" in capsys.readouterr().out
    assert not (tmp_path / "o" / "s1").exists()


def test_bad_recipe_is_one_line(mixed, capsys, tmp_path):
    _, _, docs, ann, _, _ = mixed
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        yaml.safe_dump(
            {"stages": [dict(RECIPE["stages"][0], buckets=[{"name": "x", "where": "nope > 1", "share": 1}])]}
        )
    )
    rc = main(["mix", str(bad), "--docs", docs, "--annotations", ann, "-o", str(tmp_path / "o"), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and "nope" in err and "Traceback" not in err


def test_verify_passes_then_catches_a_flipped_byte(mixed, capsys):
    _, _, _, _, out, _ = mixed
    assert main(["shards", "verify", str(out)]) == 0
    assert "ok" in capsys.readouterr().out
    path = out / "s1" / "shard-00000.bin"
    data = bytearray(path.read_bytes())
    data[5] ^= 0xFF
    path.write_bytes(bytes(data))
    try:
        assert main(["shards", "verify", str(out)]) == 1
        assert "sha256 differs" in capsys.readouterr().out
    finally:
        data[5] ^= 0xFF
        path.write_bytes(bytes(data))


def test_inspect_decodes_documents(mixed, capsys):
    _, _, _, _, out, texts = mixed
    assert main(["shards", "inspect", str(out), "--n", "2", "--chars", "10000"]) == 0
    shown = capsys.readouterr().out
    blocks = [b for b in shown.split("-- id ")[1:]]
    assert len(blocks) == 2
    for block in blocks:
        doc_id = block.split()[0]
        assert texts[doc_id] + "<|endoftext|>" in block


def test_verify_without_shards_is_an_error(tmp_path, capsys):
    assert main(["shards", "verify", str(tmp_path)]) == 2
    assert "no stage folders" in capsys.readouterr().err


@pytest.mark.parametrize(
    "text, want",
    [("2000000", 2_000_000), ("2e6", 2_000_000), ("500k", 500_000), ("2M", 2_000_000), ("30T", 30 * 10**12)],
)
def test_budget_parsing(text, want):
    assert parse_tokens(text) == want


def test_bad_budget():
    with pytest.raises(ConfigError):
        parse_tokens("lots")
