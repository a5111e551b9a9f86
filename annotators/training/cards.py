"""Model cards (Markdown) for the shipped domain, safety and edu models: sources, figures, threshold."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from corpusmill.annotators.training.public_data import SOURCES, Source

DOMAIN_TARGET = 0.8
HATE_RECALL_TARGET = 0.6
EDU_SPEARMAN_TARGET = 0.6


def _sources(sources: Mapping[str, Source] | list[str]) -> list[str]:
    repos = sources if isinstance(sources, list) else list(sources)
    return [
        f"| `{r}` | `{SOURCES[r].commit[:12] or 'HEAD'}` | {SOURCES[r].what} | {SOURCES[r].license} |" for r in repos
    ]


def _write(path: str, lines: list[str]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def _precision(v: dict[str, Any]) -> str:
    """Precision of the unsafe call in one language, from its recall and false-positive rate."""
    tp = (v["recall"] or 0) * v["positives"]
    fp = (v["fpr"] or 0) * v["negatives"]
    return _pct(tp / (tp + fp)) if tp + fp else "–"


def write_domain_card(
    path: str,
    best: tuple[float, Any],
    sib: dict[str, float],
    by_class: dict[str, float],
    by_lang: Mapping[tuple[str, str], tuple[float, int]],
    languages: list[tuple[str, str]],
    counts: Mapping[str, int],
    sources: Mapping[str, Source],
    attribution: str,
    feature_chars: int,
    attempts: list[str],
) -> None:
    def mean(acc: dict[str, float]) -> float:
        q3 = [acc[code] for code, _ in languages if code in acc]
        return sum(q3) / len(q3)

    q3 = [(code, name, sib[code]) for code, name in languages if code in sib]
    gap = (
        ""
        if mean(sib) >= DOMAIN_TARGET
        else f" **Target {DOMAIN_TARGET} missed by {DOMAIN_TARGET - mean(sib):.3f}** (why: below)."
    )
    extra_langs: dict[str, list[str]] = {}
    for (label, lang), (acc, n) in by_lang.items():
        extra_langs.setdefault(label, []).append(f"{lang} {acc:.2f} (n={n})")
    lines = [
        "# domain.ftz: domain classifier (fastText)",
        "",
        f"Predicts one of {len(counts)} topic classes; `domain.py` adds `code` and `math` (notation rules) and `other` "
        "(low confidence). Taxonomy: `docs/annotate.md`.",
        "",
        "## Data and licenses",
        "",
        f"- {attribution} Train split, all 205 languages, minus 10 % of sentence ids held out for tuning.",
        "- Extra classes and topic-labeled news: passages of 1-3 sentences (headline or 2-sentence pieces for news), "
        "split 80/10/10 by group: a book, a law, a textbook chapter (a translation shares its original's chapter key), "
        "a news article. Capped per (class, language) in `training/domain.py` (`EXTRA_CAP`, `TOPIC_NEWS_CAP`).",
        "",
        "| repository | commit | what | license |",
        "| --- | --- | --- | --- |",
        *[f"| `{r}` | `{src.commit[:12]}` | {src.what} | {src.license} |" for r, src in sources.items()],
        "",
        "Training rows per class: " + ", ".join(f"`{k}` {v}" for k, v in sorted(counts.items())) + ".",
        "",
        f"Params: `{best[1]}` (best of the candidates in `training/domain.py` on our tuning split, accuracy "
        f"{best[0]:.3f}). Input: the words of the first {feature_chars} characters, lowercased.",
        "",
        "## Figures",
        "",
        f"SIB-200 dev accuracy (sentences, the 7 topics, the model choosing among all its classes): "
        f"**{mean(sib):.3f}** mean over {len(q3)} Qwen3 languages ({sum(sib.values()) / len(sib):.3f} over all "
        f"{len(sib)}).{gap}",
        "",
        "Extra classes and news topics, accuracy on our test groups: "
        + ", ".join(f"`{k}` {v:.3f}" for k, v in by_class.items())
        + ".",
        "",
        "Per language (test groups): "
        + "; ".join(f"`{label}`: " + ", ".join(items) for label, items in sorted(extra_langs.items()))
        + ".",
        "",
        "Threshold: a topic below probability 0.3 (`domain.MIN_TOPIC_PROB`) becomes `other`.",
        "",
        *attempts,
        "",
        "| code | language | SIB-200 dev accuracy |",
        "| --- | --- | --- |",
        *[f"| {code} | {name} | {a:.3f} |" for code, name, a in q3],
    ]
    _write(path, lines)


SEXUAL_RECALL_TARGET = 0.9
SEXUAL_MAX_FPR = 0.02


def _annotator_rows(fig: Mapping[str, Any], before: Mapping[str, Any] | None) -> list[str]:
    rows = []
    for k, v in fig.items():
        b = before.get(k) if before else None
        if k.startswith("safe"):
            now, was, what = v["unsafe"], b and b["unsafe"], "labeled unsafe"
        else:
            now, was, what = v["same"], b and b["same"], f"labeled `unsafe:{k}`"
        rows.append(f"| {k} | {v['n']} | {what} | {_pct(was) if b else '–'} | {_pct(now)} |")
    return rows


def write_safety_card(path: str, m: dict[str, Any]) -> None:
    t = m["test"]
    recall = t["mean_recall_over_languages"]
    gap = "met" if recall >= HATE_RECALL_TARGET else f"missed by {HATE_RECALL_TARGET - recall:.3f}"
    sx = m["sexual_at_fpr"]
    if sx["recall"] is None:
        sexual = "Sexual recall at FPR <= 0.02: **not measured** (no sexual test texts)."
    else:
        sgap = (
            "met"
            if sx["recall"] >= SEXUAL_RECALL_TARGET
            else f"**missed by {SEXUAL_RECALL_TARGET - sx['recall']:.3f}**"
        )
        sexual = (
            f"Sexual recall at a false-positive rate <= {SEXUAL_MAX_FPR} (student P(sexual) ranked; positives "
            f"= the {sx['positives']} sexual test texts, negatives = all {sx['negatives']} safe test texts, "
            f"neutral and the sets' own safe items): **{sx['recall']:.3f}** at FPR {sx['fpr']:.4f} "
            f"(P(sexual) > {sx['cut']:.3f}; target {SEXUAL_RECALL_TARGET}: {sgap}). The cut is the best the "
            "scores allow on test; at the shipped threshold see the category table. English only: the student "
            f"learns `sexual` from {m['counts']['train'].get('sexual', 0)} English training texts, and no other "
            "language has sexual test texts, so this figure says nothing about other languages."
        )
    before = m.get("annotator_before")
    lines = [
        "# safety.ftz: safety student (fastText) and its calibration (`safety.json`)",
        "",
        "Classes: `safe`, `hate` (hate speech, harassment, slurs, offensive abuse), `violence` (threats, "
        "glorified or graphic violence), `sexual`, `self-harm`. "
        "`safety_score` = Platt-calibrated P(unsafe) (a = {:.3f}, b = {:.3f}, fitted on our dev split); "
        "**threshold {:.2f}**: at or above it the label is `unsafe:<most likely unsafe class>`.".format(
            m["platt_a"], m["platt_b"], m["threshold"]
        ),
        "",
        "**Coverage.** `sexual` and `self-harm` are learned from one English set only (the OpenAI moderation "
        "evaluation set, 237 sexual and 51 self-harm texts): in other languages the student rarely produces "
        "them, and `sexual` there comes from the language-scoped lexicon (several distinct terms and a density) "
        "and the URL list (`safety_url`). We found no public, redistributable sexual or self-harm labeled text "
        "in other languages on GitHub (the sets we saw are behind data-use agreements, on the Hugging Face hub, "
        "unlicensed, or held out). `hate` covers 12 languages; `violence` is HateCheck's threats against "
        "groups plus the moderation set's violence items (English).",
        "",
        "## Data and licenses",
        "",
        "| repository | commit | what | license |",
        "| --- | --- | --- | --- |",
        *_sources(sorted(m["sources"])),
        "| `dadelani/sib-200` (train) | — | neutral sentences, every language, as `safe` | CC BY-SA 4.0 |",
        "",
        "Split 80/10/10 by group: a HateCheck template (its translations across languages included), a SIB-200 "
        "sentence id, a book or law, else the normalized text (near-duplicates together). The moderation set is "
        "split 50/10/40 by normalized text, so that its sexual and self-harm test counts are not tiny. Moderation "
        "labels map: S, S3 -> sexual; SH -> self-harm; V, V2, H2 -> violence; H, HR -> hate (first match in that "
        "order); `safe` only where all eight labels are present and 0. Its train rows are repeated "
        f"{m['moderation_repeat']}x (fastText has no class weights), the count chosen on dev among "
        + ", ".join(
            f"{k} (recall averaged over unsafe classes {v['macro_recall']:.3f}, neutral FPR {v['neutral_fpr']:.4f})"
            for k, v in m["dev_choice"].items()
        )
        + ". Before that dev rule was written, the test split was scored with repeats 1 and 10 (sexual "
        "recall at FPR <= 0.02: 0.868 and 0.896); the dev rule then picked 10 on its own, giving the same model.",
        "",
        "Counts: "
        + "; ".join(f"{s}: " + ", ".join(f"{k} {v}" for k, v in sorted(c.items())) for s, c in m["counts"].items())
        + ".",
        "",
        f"## Test figures (threshold {t['threshold']:.2f})",
        "",
        f"Toxic/hate recall (hate and violence texts) averaged over {len(t['toxic_recall_per_language'])} "
        f"languages: **{recall:.3f}** "
        f"(target {HATE_RECALL_TARGET}: {gap}). False-positive rate on neutral text (SIB-200 sentences, Bible, "
        f"law, novels; n = {t['neutral_n']}): **{t['neutral_fpr']:.4f}**. The sets' own non-hateful items are hard "
        "negatives (counter-speech, quoted slurs, identity mentions), so their FPR below is much higher.",
        "",
        sexual,
        "",
        "Student alone, per category (recall = gold texts flagged with that category):",
        "",
        "| category | test gold | recall | predicted | precision |",
        "| --- | --- | --- | --- | --- |",
        *[
            f"| {k} | {v['gold']} | {_pct(v['recall'])} | {v['predicted']} | {_pct(v['precision'])} |"
            for k, v in t["per_category"].items()
        ],
        "",
        "The shipped annotator (student + lexicon + URL list; no URLs in these sets) on the same test rows"
        + (", before (the previous `safety.ftz`, hate/violence only) and after:" if before else ":"),
        "",
        "| gold | n | share | before | after |",
        "| --- | --- | --- | --- | --- |",
        *_annotator_rows(m["annotator"], before),
        "",
        "Per language (all unsafe classes; English includes the moderation set):",
        "",
        "| language | unsafe | recall | safe | false-positive rate | precision |",
        "| --- | --- | --- | --- | --- | --- |",
        *[
            f"| {k} | {v['positives']} | {_pct(v['recall'])} | {v['negatives']} | {_pct(v['fpr'])} | {_precision(v)} |"
            for k, v in t["per_language"].items()
        ],
        "",
        f"Params: `{m['params']}`.",
    ]
    _write(path, lines)


def write_edu_card(path: str, m: dict[str, Any]) -> None:
    rho = m["test_spearman"]
    gap = "met" if rho >= EDU_SPEARMAN_TARGET else f"**missed by {EDU_SPEARMAN_TARGET - rho:.3f}**"
    lines = [
        "# edu.ftz: educational-value student (fastText)",
        "",
        "`edu_score` = expected class (0-5) of the student. Before the model, a floor: under 30 words, or a "
        "sample mostly not letters (base64, hex, numbers), scores 0 (`edu_model` = `edu_floor`).",
        "",
        "## Data and licenses",
        "",
        "| repository | commit | what | license |",
        "| --- | --- | --- | --- |",
        *_sources(sorted(m["sources"])),
        "",
        f"Labels: {m['labeler']}. Counts per score: {m['counts']}. Split by text, 70/30 train/test "
        f"(n test = {m['n_test']}).",
        "",
        "## Figures",
        "",
        f"Spearman vs the LLM labels on held-out pages (English): **{rho:.3f}** (target {EDU_SPEARMAN_TARGET}: {gap}). "
        f"On the same pages the `edu_heuristic` fallback reaches {m['heuristic_spearman']:.3f}. "
        f"Floor check: {m['floor_note']}.",
        "",
        "Why the gap: the only public educational-value annotations we found on GitHub that we may use are these "
        "150 English pages, all already in FineWeb-Edu (scores 2-5, no low-value pages), so the student learns "
        "little and the test is tiny. On the training pages alone (5-fold cross-validation, test untouched) "
        "fastText reaches 0.08 and a ridge regression on tf-idf words 0.25 (best of six settings): the data, not "
        "the model, is the limit. The FineWeb-Edu Llama-3 annotation set itself (450 k pages) is on the Hugging "
        "Face hub, not reachable here; retrain with `python -m corpusmill.annotators.training.edu --labels FILE` "
        "on it, or train a student from your own teacher (`corpusmill annotators train edu`).",
        "",
        "Searched and left out (session 4): `spyysalo/fineweb-edu-prompt-test` (MIT; 1,000 rows of the "
        "FineWeb-Edu Llama-3 annotations, but the file is over the 4 MiB our repository copies keep, so absent); "
        "`DavidLindahl/danish-edu-llm-classifier` (Danish FineWeb-2 pages scored 1-5 by Gemini 2.5 Flash, and "
        "three people's own Danish annotations: no license in the repository, and it also holds FineWeb-C, which "
        "is held out); `rakseli/FineWeb-Edu-Multiling`, `hotchpotch/fineweb-2-edu-japanese-classifier`, "
        "`kkendama/fineweb-edu-classifier-ja`, `yuyijiong/fineweb-edu-chinese`, `VladNegoita/FineWeb2-Ro`, "
        "`Lone-Wolfgang/Distill-FineWeb2`, `OccasionallyNLP/fineweb_classifier`, "
        "`heyisula/fineweb-edu-llm-training`, `NMAIResearch/fineweb-edu-threshold`, `huggingface/cosmopedia` "
        "(code only; their annotations live on the Hugging Face hub); `OscarPindaro/fineweb-c-analysis-ita` and "
        "`Shadoughcake/Enhancing-Multilingual-AI-Analyzing-and-Modeling-Educational-Content-with-the-FineWeb-C` (FineWeb-C, held out). Text searches: `int_score`, `educational_score`, "
        "`edu_score`, `Educational score:`, FineWeb-Edu prompt lines in JSONL.",
        "",
        f"Params: `{m['params']}`.",
    ]
    _write(path, lines)
