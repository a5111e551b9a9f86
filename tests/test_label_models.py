"""Issue 12: education, domain and safety labels on the failures seen on real documents, and bad input."""

from __future__ import annotations

import base64
import os
import shutil

import pyarrow as pa
import pytest

from corpusmill.annotators import registry
from corpusmill.annotators.detectors import code_score, math_score
from corpusmill.annotators.domain import DOMAINS, Domain
from corpusmill.annotators.edu import EduHeuristic, EduValue, below_floor
from corpusmill.annotators.labeling import label_batch, sidecar_schema
from corpusmill.annotators.safety import Safety, SafetyLexicon
from corpusmill.annotators.safety_lexicon import LexiconScorer, lexicon_score, load_lexicons
from corpusmill.annotators.url_blocklist import UrlBlocklist
from corpusmill.errors import ConfigError, ModelNotFoundError

GREEK_PROSE = (
    "Η Ελλάδα είναι χώρα της νοτιοανατολικής Ευρώπης, με χιλιάδες νησιά στο Αιγαίο και στο Ιόνιο. "
    "Ο Πυθαγόρας, ο Αρχιμήδης και ο Ευκλείδης έζησαν εδώ· η φιλοσοφία και η ιστορία της είναι πλούσιες. "
    "Τι θα δούμε σήμερα; Θα περπατήσουμε στην Ακρόπολη και θα δούμε τον Παρθενώνα, που χτίστηκε τον 5ο "
    "αιώνα π.Χ. Η θάλασσα, ο ήλιος και η γεωγραφία της έχουν θέλγει ταξιδιώτες για αιώνες."
)
GREEK_EQUATIONS = (
    "Η εξίσωση x^2 + 3x - 4 = 0 έχει δύο λύσεις, x = 1 και x = -4. Το εμβαδόν του κύκλου δίνεται από τον "
    "τύπο E = πr^2, όπου π ≈ 3,14. Αν r = 2, τότε E = 4π ≈ 12,57. Η παράγωγος της f(x) = x^3 είναι 3x^2."
)
FISH = "Il pesce è sempre cucinato con mano leggera."
NOVEL = (
    "It was late in the evening when Katrine came down the stairs, her candle trembling in her hand. "
    "She had not slept; the wind had moaned all night about the old house, and she had lain listening, "
    'thinking of her father and of the letter that had come that morning. "You are early, child," said '
    "her aunt, looking up from the fire. Katrine smiled, but her eyes were wet, and she turned away to the "
    "window so that the old woman should not see. Outside the snow lay deep upon the fields, and far off "
    "the church bell was ringing for the first service of the day."
)

# Written for this test (not from any training text): novel passages in other languages.
NOVELS = {
    "fra": (
        "Il était tard lorsque Madeleine descendit l'escalier, sa bougie tremblant dans sa main. Elle n'avait pas "
        "dormi ; toute la nuit le vent avait gémi autour de la vieille maison. « Tu es bien matinale, mon enfant », "
        "dit sa tante sans lever les yeux du feu. Madeleine sourit, mais ses yeux étaient humides, et elle se tourna "
        "vers la fenêtre pour que la vieille femme ne la vît pas pleurer."
    ),
    "deu": (
        "Es war schon spät am Abend, als Klara leise die Treppe hinunterging, die Kerze zitterte in ihrer Hand. Sie "
        "hatte nicht geschlafen; die ganze Nacht hatte der Wind um das alte Haus geheult. „Du bist früh auf, Kind“, "
        "sagte die Tante, ohne vom Feuer aufzusehen. Klara lächelte, aber ihre Augen waren feucht, und sie wandte "
        "sich zum Fenster, damit die alte Frau ihre Tränen nicht sähe."
    ),
    "ita": (
        "Era già sera quando Lucia scese piano le scale, con la candela che le tremava nella mano. Non aveva dormito; "
        "tutta la notte il vento aveva gemuto intorno alla vecchia casa. «Sei mattiniera, figliola», disse la zia "
        "senza alzare gli occhi dal fuoco. Lucia sorrise, ma aveva gli occhi lucidi, e si voltò verso la finestra "
        "perché la vecchia non la vedesse piangere."
    ),
}


def _table(texts: list[str], langs: list[str] | None = None, uris: list[str] | None = None) -> pa.Table:
    cols = {"id": [str(i) for i in range(len(texts))], "text": pa.array(texts, pa.large_string())}
    if langs is not None:
        cols["lang"] = langs
    if uris is not None:
        cols["uri"] = uris
    return pa.table(cols)


def test_greek_prose_is_not_math_and_greek_equations_are() -> None:
    assert math_score(GREEK_PROSE) == 0 and code_score(GREEK_PROSE) < 0.4  # `;` is the Greek question mark
    assert math_score(GREEK_EQUATIONS) >= 0.5
    out = Domain().label(_table([GREEK_PROSE, GREEK_EQUATIONS])).column("domain").to_pylist()
    assert out[0] != "math" and out[1] == "math"


def test_math_needs_notation_not_numbers_in_prose() -> None:
    assert math_score("The match ended 3-1 on 12/05/2020, with 2-0 at half time before 45,000 fans.") == 0
    assert math_score("Tickets cost $5 and $10; the shop is open 9-5 and room 3/4 is upstairs.") == 0
    assert math_score(r"Let $x^2 + y^2 = 1$. Then \frac{dy}{dx} = -x/y and \int_0^1 x dx = 1/2.") >= 0.5


def test_italian_fish_sentence_is_safe() -> None:
    out = Safety().label(_table([FISH], ["ita_Latn"])).to_pydict()
    assert out["safety"] == ["safe"] and out["safety_score"][0] < 0.5
    # Even the lexicon alone: one ambiguous term is never enough.
    assert LexiconScorer().score(FISH, "ita_Latn") == 0


def test_lexicons_match_only_their_own_language_and_in_context() -> None:
    lex = load_lexicons()
    scorer = LexiconScorer()
    obscene = "what the fuck is this shit, fucking hell"
    assert lexicon_score(obscene, lex["eng"]) > 0.5
    assert scorer.score(obscene, "eng_Latn") > 0.5
    assert scorer.score(obscene, "ita_Latn") == 0 and scorer.score(obscene, None) == 0  # not its language
    assert lexicon_score("fuck", lex["eng"]) == 0  # a single hit is not context
    assert lexicon_score("这个网站有三级片和色情片", lex["zho"]) > 0.5  # no spaces in Chinese
    assert "zho" in lex and "arb" in lex and "pes" in lex  # macrolanguages map to FLORES codes
    out = SafetyLexicon().label(_table(["A quiet walk in the park.", obscene], ["eng_Latn"] * 2)).to_pydict()
    assert out["safety"] == ["safe", "unsafe:sexual"] and out["safety_model"][0] == "safety_lexicon+urls"


def test_student_flags_hate_and_threats_in_several_languages() -> None:
    texts = [
        "I hate all immigrants, they are vermin and should be thrown out of this country.",
        "Ich hasse alle Ausländer, diese Parasiten sollen verschwinden.",
        "We will shoot every one of those immigrants.",
        "The museum opens at nine and the guided tours are free on Sundays.",
        "Das Museum öffnet um neun Uhr, die Führungen sind sonntags kostenlos.",
    ]
    out = Safety().label(_table(texts, ["eng_Latn", "deu_Latn", "eng_Latn", "eng_Latn", "deu_Latn"])).to_pydict()
    assert out["safety"][0].startswith("unsafe:") and out["safety"][1].startswith("unsafe:")
    assert out["safety"][2] == "unsafe:violence"
    assert out["safety"][3:] == ["safe", "safe"]
    assert out["safety_model"][0] == "safety_fasttext+lexicon+urls" and "student-" in out["safety_model_version"][0]


def test_student_flags_sexual_and_self_harm_but_not_talk_about_them() -> None:
    texts = [
        "She pulled off his shirt and pushed him onto the bed. They kissed hungrily, and he slid his hand "
        "between her thighs as she moaned and begged him to fuck her harder.",
        "Hot horny girls want to have sex with you tonight. Watch free porn videos of wet pussy and big cocks, "
        "live nude cams, no sign-up.",
        "I cut myself again last night. The razor makes the pain go away for a while, and I keep thinking that "
        "taking all my pills would end it for good.",
        "Sex education teaches teenagers about puberty, consent, contraception and how to prevent sexually "
        "transmitted infections.",
        "Suicide rates fell by ten percent after the national prevention programme expanded crisis hotlines.",
    ]
    out = Safety().label(_table(texts, ["eng_Latn"] * len(texts))).to_pydict()
    assert out["safety"] == ["unsafe:sexual", "unsafe:sexual", "unsafe:self-harm", "safe", "safe"]


def test_url_blocklist_is_its_own_column() -> None:
    bl = UrlBlocklist.from_path(None)
    assert bl.match("https://www.020sextoy.com/sk/anything") == "ut1_adult"  # a UT1 `urls` entry
    assert bl.match("https://free-porn-videos.example.org/x") == "adult_host_word"
    assert bl.match("https://en.wikipedia.org/wiki/Sussex") is None and bl.match("s://3") is None
    assert bl.match("http://[::1") is None  # malformed URL: no signal, no crash
    uris = ["https://free-porn-videos.example.org/a", "https://example.org/a"]
    out = Safety().label(_table(["A page.", "A page."], ["eng_Latn"] * 2, uris)).to_pydict()
    assert out["safety_url"] == ["adult_host_word", None] and out["safety"] == ["unsafe:sexual", "safe"]


def test_url_blocklist_folder(tmp_path) -> None:
    (tmp_path / "domains").write_text("bad.example\n", encoding="utf-8")
    bl = UrlBlocklist.from_path(str(tmp_path))
    assert bl.match("https://www.sub.bad.example/page") == "ut1_adult" and bl.match("https://good.example/") is None
    with pytest.raises(ConfigError, match="UT1 category folder"):
        UrlBlocklist.from_path(str(tmp_path / "missing"))


def test_one_character_and_short_text_score_edu_zero() -> None:
    out = EduValue().label(_table(["É", "", "Hello there, a short note."])).to_pydict()
    assert out["edu_score"] == [0, 0, 0] and out["edu_model"] == ["edu_floor"] * 3
    lesson = (
        "Photosynthesis is the process by which green plants use light energy to turn water and carbon "
        "dioxide into glucose and oxygen. It takes place in the chloroplasts, which contain chlorophyll. "
    ) * 4
    out = EduValue().label(_table([lesson])).to_pydict()
    assert out["edu_model"] == ["edu_fasttext"] and 0 < out["edu_score"][0] <= 5


def test_edu_heuristic_is_a_named_fallback() -> None:
    assert registry.create("edu_heuristic").name == "edu_heuristic"
    menu = "Home\nAbout us\nContact\nLogin\nCart\n" * 10
    out = EduHeuristic().label(_table(["É", menu])).to_pydict()
    assert out["edu_score"][0] == 0 and out["edu_model"] == ["edu_floor", "edu_heuristic"]


def test_a_novel_is_literature() -> None:
    out = Domain().label(_table([NOVEL])).to_pydict()
    assert out["domain"] == ["literature/fiction"]
    assert set(DOMAINS) >= {"literature/fiction", "religion", "law", "finance/business", "education/reference"}


@pytest.mark.parametrize("lang", sorted(NOVELS))
def test_a_novel_in_another_language_is_literature(lang: str) -> None:
    assert Domain().label(_table([NOVELS[lang]])).column("domain").to_pylist() == ["literature/fiction"]


def test_the_shipped_model_predicts_finance_and_education() -> None:
    business = (
        "The company reported quarterly revenue of 4.2 billion dollars, up 8 percent from a year earlier, and raised "
        "its profit forecast. Its shares rose 5 percent as investors welcomed the lower operating costs and the "
        "higher dividend paid to shareholders."
    )
    lesson = (
        "In this chapter you will learn how to take notes during a lecture and how to review them before an exam. "
        "Students who plan their study time and test themselves on the key terms of each section remember more "
        "of the course material."
    )
    out = Domain().label(_table([business, lesson])).column("domain").to_pylist()
    assert out == ["finance/business", "education/reference"]


def test_bad_inputs_get_labels_not_crashes() -> None:
    blob = base64.b64encode(os.urandom(3000)).decode()
    hexdump = os.urandom(2000).hex()
    texts = [
        "",
        "a",
        "spam " * 5000,
        blob,
        hexdump,
        "ᏣᎳᎩ ᎦᏬᏂᎯᏍᏗ ᎠᏓᏁᏗ ᎤᏂᎪᎯᏍᏗ ᎧᏃᎮᏛ ᏗᏕᎶᏆᏍᏗ ᎠᏕᎶᏆᏍᏗ ᏧᎾᏕᎶᏆᏍᏗ" * 5,
        "Bonjour à tous, voici le menu. Das ist ein gemischtes Dokument. Сегодня хорошая погода. 今天很好。" * 3,
    ]
    langs = [None, None, "eng_Latn", None, None, "chr_Cher", "fra_Latn"]
    annotators = [registry.create(n) for n in ("edu", "domain", "safety")]
    result = label_batch(annotators, _table(texts, langs), sidecar_schema(annotators))
    out = result.table.to_pydict()
    assert not result.dead_letters and result.table.num_rows == len(texts)
    assert [out["edu_score"][i] for i in (0, 1, 3, 4)] == [0, 0, 0, 0]  # empty, 1 char, base64, hex
    assert all(s in DOMAINS for s in out["domain"])
    assert out["safety"][5] == "safe"  # Cherokee: no data, no lexicon, not flagged for being unknown
    assert below_floor(blob) and below_floor(hexdump) and not below_floor(NOVEL)


def test_fifty_megabytes_are_bounded() -> None:
    huge = ("The river floods every spring and farmers plant rice after the water recedes. " * 700_000)[:50_000_000]
    annotators = [registry.create(n) for n in ("edu", "domain", "safety")]
    result = label_batch(annotators, _table([huge], ["eng_Latn"]), sidecar_schema(annotators))
    assert not result.dead_letters and result.table.column("safety").to_pylist() == ["safe"]
    # Every labeler reads a bounded sample: the labels of 50 MB are those of its first 100 kB.
    head = label_batch(annotators, _table([huge[:100_000]], ["eng_Latn"]), sidecar_schema(annotators))
    assert result.table.equals(head.table)


def test_later_labelers_see_earlier_labels() -> None:
    obscene = "what the fuck is this shit, fucking hell"
    lang_first = [registry.create("lang_id"), registry.create("safety_lexicon")]
    out = label_batch(lang_first, _table([obscene]), sidecar_schema(lang_first)).table.to_pydict()
    assert out["lang"][0] == "eng_Latn" and out["safety"] == ["unsafe:sexual"]


@pytest.mark.parametrize("name,file", [("domain", "domain.ftz"), ("edu", "edu.ftz"), ("safety", "safety.ftz")])
def test_missing_or_corrupt_model_fails_before_the_job(tmp_path, monkeypatch, name: str, file: str) -> None:
    from corpusmill.annotators import domain as domain_module

    monkeypatch.setattr(domain_module, "PACKAGE_MODELS", str(tmp_path))
    with pytest.raises(ModelNotFoundError, match=file):
        registry.create(name)
    (tmp_path / file).write_bytes(b"not a model at all")
    with pytest.raises(ConfigError, match="corrupt"):
        registry.create(name)
    shutil.copy(os.path.join(os.path.dirname(domain_module.__file__), "models", file), tmp_path / file)
    with open(tmp_path / file, "r+b") as fh:  # a good header, a truncated body
        fh.truncate(4096)
    with pytest.raises(ConfigError, match="corrupt"):
        registry.create(name)


def test_eval_prints_a_per_language_table(tmp_path, capsys) -> None:
    from corpusmill.commands import main as cli_main

    rows = [
        ("The museum opens at nine and the guided tours are free on Sundays.", "safe", "eng_Latn"),
        ("Das Museum öffnet um neun Uhr, die Führungen sind sonntags kostenlos.", "safe", "deu_Latn"),
        ("I hate all immigrants, they are vermin and should be thrown out of this country.", "unsafe:hate", "eng_Latn"),
    ]
    path = tmp_path / "gold.tsv"
    path.write_text("text\tlabel\tlang\n" + "".join("\t".join(r) + "\n" for r in rows), encoding="utf-8")
    assert cli_main(["annotators", "eval", "--labels", str(path), "--annotator", "safety"]) == 0
    out = capsys.readouterr().out
    assert "lang\tn\taccuracy" in out and "deu_Latn\t1\t1.0000" in out and "eng_Latn\t2\t" in out


def test_shipped_models_are_checked_by_their_recorded_hash(tmp_path, monkeypatch) -> None:
    from corpusmill.annotators import domain as domain_module

    models = os.path.join(os.path.dirname(domain_module.__file__), "models")
    for name in ("domain.ftz", "checksums.json"):
        shutil.copy(os.path.join(models, name), tmp_path / name)
    monkeypatch.setattr(domain_module, "PACKAGE_MODELS", str(tmp_path))
    assert registry.create("domain").topic_path == str(tmp_path / "domain.ftz")  # intact: accepted
    data = bytearray((tmp_path / "domain.ftz").read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte in the weights
    (tmp_path / "domain.ftz").write_bytes(bytes(data))
    with pytest.raises(ConfigError, match="differs from the file recorded"):
        registry.create("domain")
