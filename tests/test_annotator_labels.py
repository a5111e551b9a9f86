"""What each labeler says on real tiny texts: words, quality, safety, domain, edu, registry, eval."""

from __future__ import annotations

import csv
import os

import pyarrow as pa
import pytest

from corpusmill.annotators import registry
from corpusmill.annotators.detectors import code_score, math_score
from corpusmill.annotators.domain import Domain
from corpusmill.annotators.edu import EduHeuristic, edu_heuristic
from corpusmill.annotators.evaluate import evaluate, read_labels
from corpusmill.annotators.quality_signals import signals
from corpusmill.annotators.safety import SafetyLexicon
from corpusmill.annotators.safety_lexicon import lexicon_score, load_lexicons
from corpusmill.annotators.words import split_words
from corpusmill.errors import ConfigError

SIB_DEV = os.path.join(os.path.dirname(__file__), "data", "sib200_dev_sample.tsv")


def _table(texts: list[str]) -> pa.Table:
    return pa.table({"id": [str(i) for i in range(len(texts))], "text": pa.array(texts, pa.large_string())})


def test_words_in_scripts_without_spaces() -> None:
    assert split_words("我爱北京") == ["我", "爱", "北", "京"]
    assert split_words("ภาษาไทย")[0] == "ภ" and "ไ" in split_words("ภาษาไทย")
    assert split_words("हिन्दी भाषा") == ["हिन्दी", "भाषा"]  # combining marks stay inside words
    assert split_words("abc中文def") == ["abc", "中", "文", "def"]
    assert split_words("it's 2024, ok?") == ["it", "s", "2024", "ok"]


def test_quality_signals_measure_repetition_digits_and_cjk() -> None:
    repeated = signals("Buy now and save.\n" * 50)
    prose = signals("The river floods every spring. Farmers plant rice after the water recedes.\nThen they harvest.")
    assert repeated["q_dup_line_frac"] > 0.9 and prose["q_dup_line_frac"] == 0
    assert repeated["q_top_2gram_frac"] > prose["q_top_2gram_frac"]
    chinese = signals("今天天气很好。我们去公园散步吧！")
    assert chinese["q_n_words"] == 14 and chinese["q_terminal_punct_line_frac"] == 1.0
    assert chinese["q_unspaced_frac"] > 0.8


def test_quality_columns_flag_digits_and_binary() -> None:
    a = registry.create("quality")
    out = a.label(_table(["1234 5678 9999 0000", "\x00\x01\x02\x03ok", "plain words here"])).to_pydict()
    assert out["q_digit_frac"][0] > 0.7 and out["q_digit_frac"][2] == 0
    assert out["q_nonprint_frac"][1] > 0.5 and out["q_nonprint_frac"][2] == 0


def test_safety_lexicon_is_word_boundary_and_cjk_thai_aware() -> None:
    lex = load_lexicons()
    assert lexicon_score("Scunthorpe is a town; the class assessment passed.", lex["eng"]) == 0
    assert lexicon_score("what the fuck is this shit", lex["eng"]) > 0.5
    assert lexicon_score("这个网站有三级片和色情片", lex["zho"]) > 0.5  # no spaces in Chinese
    assert lexicon_score("ผู้หญิงคนนั้นเป็นกระหรี่ ควย", lex["tha"]) > 0.1  # nor in Thai
    assert lexicon_score("Room 13. Call 555 1234.", lex["eng"]) == 0  # digit-only terms are dropped
    # A term that is an ordinary word of the list's own language: excluded via neutral_terms.txt.
    assert lexicon_score("Bisogna battere il ferro finché è caldo, e la pompa dell'acqua batte.", lex["ita"]) == 0
    assert lexicon_score("Bisogna battere il ferro e la pompa.", load_lexicons(exclude=False)["ita"]) > 0
    out = SafetyLexicon().label(_table(["A quiet walk in the park.", "fuck fuck shit"])).to_pydict()
    assert out["safety"] == ["safe", "safe"]  # no `lang` column: no lexicon applies
    out = (
        SafetyLexicon()
        .label(
            _table(["A quiet walk in the park.", "fuck fuck shit"]).append_column("lang", pa.array(["eng_Latn"] * 2))
        )
        .to_pydict()
    )
    assert out["safety"] == ["safe", "unsafe:sexual"] and out["safety_model"][0] == "safety_lexicon+urls"


def test_code_and_math_detectors() -> None:
    code = "import os\n\ndef main():\n    x = os.getcwd()\n    return x\n\nif __name__ == '__main__':\n    main()\n"
    math = r"Let $x^2 + y^2 = 1$. Then \frac{dy}{dx} = -x/y and \int_0^1 x dx = 1/2, so 2 + 2 = 4."
    assert code_score(code) >= 0.4 and code_score("Plain prose.\nMore prose.\nAnd more.") == 0
    assert math_score(math) >= 0.5 and math_score("The match ended 3-1 in Madrid.") == 0
    out = Domain().label(_table([code, math])).column("domain").to_pylist()
    assert out == ["code", "math"]


def _sib(lang: str) -> tuple[list[str], list[str]]:
    with open(SIB_DEV, encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE) if r["lang"] == lang]
    return [r["text"] for r in rows], [r["category"] for r in rows]


@pytest.mark.parametrize("lang", ["eng_Latn", "zho_Hans", "tha_Thai", "swh_Latn"])
def test_shipped_domain_model_beats_chance_on_sib200_dev(lang: str) -> None:
    texts, gold = _sib(lang)
    result = evaluate(Domain(), texts, gold)
    assert result.accuracy > 0.35  # 12 topic classes (chance 0.08); the card lists every language


def test_edu_heuristic_prefers_exposition_over_navigation() -> None:
    texts, _ = _sib("eng_Latn")
    lesson = "\n".join(texts[:40])
    menu = "Home\nAbout us\nContact\nLogin\nCart\n" * 5
    assert edu_heuristic(lesson) > edu_heuristic(menu)
    out = EduHeuristic().label(_table([lesson, menu, ""])).to_pydict()
    assert out["edu_model"] == ["edu_heuristic", "edu_heuristic", "edu_floor"] and out["edu_score"][2] == 0


def test_registry_lists_known_names_on_a_miss() -> None:
    with pytest.raises(ConfigError, match="known annotators: .*domain"):
        registry.get_class("nope")
    with pytest.raises(TypeError):
        registry.known()["x"] = "y"  # read-only view


def test_eval_reads_tsv_and_reports_per_class(tmp_path) -> None:
    texts, gold = _sib("eng_Latn")
    path = tmp_path / "gold.tsv"
    path.write_text("text\tlabel\n" + "".join(f"{t}\t{g}\n" for t, g in zip(texts[:30], gold[:30])), encoding="utf-8")
    t, g = read_labels(str(path))
    result = evaluate(Domain(), t, g)
    assert result.n == 30 and {c.label for c in result.classes} >= set(g)
    assert result.accuracy == pytest.approx(sum(c.recall * c.support for c in result.classes) / 30)
    (tmp_path / "bad.tsv").write_text("only one column\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        read_labels(str(tmp_path / "bad.tsv"))


def test_registry_takes_plugins_but_never_over_builtins(monkeypatch) -> None:
    from importlib.metadata import EntryPoint

    eps = [
        EntryPoint("mine", "corpusmill.annotators.n_chars:NChars", registry.ENTRY_POINT_GROUP),
        EntryPoint("domain", "somewhere:Else", registry.ENTRY_POINT_GROUP),
    ]
    monkeypatch.setattr(registry, "entry_points", lambda group: eps if group == registry.ENTRY_POINT_GROUP else [])
    known = registry.known()
    assert (
        known["mine"] == "corpusmill.annotators.n_chars:NChars"
        and known["domain"] == "corpusmill.annotators.domain:Domain"
    )
    assert registry.create("mine").name == "n_chars"


def test_batches_are_bounded_by_characters(tmp_path) -> None:
    from corpusmill import storage
    from corpusmill.annotators.base import BatchHint
    from corpusmill.annotators.sidecar import read_batches
    from corpusmill.schema import DOCUMENT_SCHEMA

    texts = ["x" * 10, "y" * 5_000, "z" * 10, "w" * 10]
    rows = [{"id": str(i), "text": t, "source": "s", "uri": "u", "meta": "{}"} for i, t in enumerate(texts)]
    path = str(tmp_path / "part-00000.parquet")
    storage.write_parquet(pa.Table.from_pylist(rows, schema=DOCUMENT_SCHEMA), path)
    batches = list(read_batches(path, BatchHint(max_docs=3, max_chars=1_000)))
    assert [b.column("id").to_pylist() for b in batches] == [["0"], ["1"], ["2"], ["3"]]
    batches = list(read_batches(path, BatchHint(max_docs=2, max_chars=100_000)))
    assert [b.num_rows for b in batches] == [2, 2] and batches[0].column_names == ["id", "text", "uri"]
