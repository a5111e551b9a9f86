"""The README's query examples run as written, on a corpus laid out the way the README names it."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from corpusmill.commands import main as cli_main
from corpusmill.mixers.recipe import default_recipe
from corpusmill.mixers.tokenizer import QwenTokenizer
from corpusmill.pipelines.mix import run_mix
from tests.beam_runners import runner_kwargs
from tests.long_corpus import write_long_corpus

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def query_lines() -> list[str]:
    return [
        ln.split("  #")[0].strip()
        for b in _blocks("bash")
        for ln in b.splitlines()
        if ln.startswith("corpusmill query")
    ]


@pytest.fixture(scope="module")
def readme_layout(tmp_path_factory):
    """out/docs, out/annotations and out/shards (its token sidecar, from a dry run of the mix job)."""
    root = tmp_path_factory.mktemp("readme")
    docs, ann, texts = write_long_corpus(root / "out")
    (root / "out" / "ann").rename(root / "out" / "annotations")
    recipe = default_recipe("s3").with_budget(100_000)
    run_mix(
        recipe,
        docs,
        str(root / "out" / "annotations"),
        str(root / "out" / "shards"),
        dry_run=True,
        progress=False,
        **runner_kwargs("in_process"),
    )
    lengths = [len(ids) for ids in QwenTokenizer().encode_batch(list(texts.values()))]
    return root, sum(n > 16384 for n in lengths)


def test_readme_has_the_long_documents_query():
    assert any("n_tokens > 16384" in ln and "--shards" in ln for ln in query_lines())


@pytest.mark.parametrize("line", query_lines())
def test_readme_cli_query_runs_as_written(readme_layout, line, monkeypatch, capsys):
    root, n_long = readme_layout
    monkeypatch.chdir(root)
    assert cli_main(shlex.split(line)[1:]) == 0
    out = capsys.readouterr().out
    assert "│" in out or "|" in out, out  # DuckDB's table
    if "n_tokens > 16384" in line:
        assert re.search(rf"\b{n_long}\b", out) and n_long >= 4, out


def test_readme_python_query_runs_as_written(readme_layout, monkeypatch, capsys):
    root, n_long = readme_layout
    monkeypatch.chdir(root)
    block = next(b for b in _blocks("python") if "open_corpus" in b)
    exec(compile(block, "README.md", "exec"), {})
    assert f"[({n_long},)]" in capsys.readouterr().out


def test_tokens_folder_or_shards_dir_give_the_same_counts(readme_layout):
    import corpusmill

    root, n_long = readme_layout
    out = root / "out"
    folder = next((out / "shards" / "_tokens").iterdir())
    query = "SELECT count(*) FILTER (WHERE n_tokens > 16384), count(n_tokens), count(*) FROM corpus"
    with corpusmill.open_corpus(str(out / "docs"), tokens=str(folder)) as corpus:
        by_folder = corpus.sql(query).fetchall()
    with corpusmill.open_corpus(str(out / "docs"), str(out / "annotations"), tokens=str(out / "shards")) as corpus:
        by_shards = corpus.sql(query).fetchall()
    assert by_folder == by_shards and by_folder[0][0] == n_long and by_folder[0][1] == by_folder[0][2]
    with pytest.raises(FileNotFoundError, match="no token counts"):
        corpusmill.open_corpus(str(out / "docs"), tokens=str(out / "docs"))
