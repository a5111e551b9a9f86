"""`corpusmill synth ...` as a user meets it."""

from __future__ import annotations

import json
from pathlib import Path

from corpusmill.commands import main
from tests.synth_llm_double import scripted_server


def test_programmatic_math_writes_exactly_n_documents(tmp_path: Path, capsys) -> None:
    out = tmp_path / "m"
    assert (
        main(
            [
                "synth",
                "math",
                "--programmatic",
                "-n",
                "25",
                "-o",
                str(out),
                "--languages",
                "en,hi",
                "--workers",
                "1",
                "--quiet",
            ]
        )
        == 0
    )
    summary = json.loads((out / "_summary.json").read_text())
    assert summary["docs"] == 25 and set(summary["by_language"]) == {"en", "hi"}
    assert "duplicate rate" in capsys.readouterr().out


def test_llm_kinds_need_a_server_and_say_so(tmp_path: Path, capsys) -> None:
    assert main(["synth", "code", "-n", "3", "-o", str(tmp_path / "c")]) == 2
    assert "--llm-url" in capsys.readouterr().err
    assert main(["synth", "math", "--programmatic", "-n", "5", "-o", str(tmp_path / "x"), "--languages", "tlh"]) == 2
    assert "tlh" in capsys.readouterr().err


def test_textbook_from_topics_file(monkeypatch, tmp_path: Path) -> None:
    topics = tmp_path / "topics.txt"
    topics.write_text("the water cycle\nprime numbers\n", encoding="utf-8")
    text = " ".join(["Water evaporates, condenses into clouds and falls again as rain or snow."] * 12)
    with scripted_server(monkeypatch, lambda prompt: text) as server:
        out = tmp_path / "t"
        assert (
            main(
                [
                    "synth",
                    "textbook",
                    "-n",
                    "4",
                    "-o",
                    str(out),
                    "--topics",
                    str(topics),
                    "--words",
                    "100",
                    "--llm-url",
                    server.url,
                    "--model",
                    "test-model",
                    "--languages",
                    "en,de",
                    "--workers",
                    "1",
                    "--quiet",
                ]
            )
            == 0
        )
    summary = json.loads((out / "_summary.json").read_text())
    # The same answer for every prompt: one document, three near-duplicates removed.
    assert summary["docs"] == 1 and summary["removed_by_dedup"] == 3
    assert (out / "_llm_cache").exists()
