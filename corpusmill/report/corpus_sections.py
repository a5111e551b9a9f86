"""Sections about the corpus itself: overview, languages, domains, education value, safety, sources."""

from __future__ import annotations

from corpusmill.languages import qwen3_languages
from corpusmill.report.html import Chart, Kpis, Section, Table
from corpusmill.report.queries import EDU_BIN_WIDTH, Composition, Group
from corpusmill.report.svg import Panel, Series, bar_table, histogram, human

UNDETERMINED = "und"
MAX_ROWS = 60  # sources, domains, safety categories: the rest is summed into one row


def measure(comp: Composition) -> str:
    """Tokens when the mixer's token counts exist, else characters."""
    return "tokens" if comp.tokenized_docs else "chars"


def amount(comp: Composition, g: Group) -> int:
    return g.tokens if measure(comp) == "tokens" else g.chars


def _panels(comp: Composition, groups: list[Group]) -> list[Panel]:
    m = measure(comp)
    return [
        Panel("documents", [Series("documents", [g.docs for g in groups])]),
        Panel(m, [Series(m, [amount(comp, g) for g in groups])]),
    ]


def _capped(groups: list[Group], label_none: str) -> tuple[list[str], list[Group]]:
    """Labels and groups, the long tail folded into one "other" row."""
    head, tail = groups[:MAX_ROWS], groups[MAX_ROWS:]
    labels = [label_none if g.key is None else str(g.key) for g in head]
    if tail:
        labels.append(f"other ({len(tail)})")
        head = head + [Group(None, sum(g.docs for g in tail), sum(g.chars for g in tail), sum(g.tokens for g in tail))]
    return labels, head


def overview(comp: Composition, dead_letters_total: int | None) -> Section:
    covered = {g.key for g in comp.by.get("lang", []) if g.docs}
    qwen3 = [lang.code for lang in qwen3_languages()]
    items = [("documents", f"{comp.docs:,}"), ("characters", human(comp.chars))]
    if comp.tokenized_docs:
        items.append(("tokens", human(comp.tokens)))
    if comp.lang_from:
        items.append(("Qwen3 languages present", f"{len(covered & set(qwen3))} / {len(qwen3)}"))
    if dead_letters_total is not None:
        items.append(("dead letters", f"{dead_letters_total:,}"))
    section = Section("overview", "Overview", blocks=[Kpis(items)])
    if comp.tokenized_docs and comp.tokenized_docs < comp.docs:
        section.intro = (
            f"Token counts exist for {comp.tokenized_docs:,} of {comp.docs:,} documents "
            "(the mixer's token sidecar); token bars cover those only."
        )
    if comp.models:
        rows = [[family, ", ".join(models)] for family, models in sorted(comp.models.items())]
        section.blocks.append(
            Table(
                "label_models",
                ["label", "model and version"],
                rows,
                note="Every label row names the model (and version) that made it.",
            )
        )
    return section


def languages(comp: Composition) -> Section | None:
    """All 119 Qwen3 languages, zero bars included, then what lies outside the list."""
    if "lang" not in comp.by:
        return None
    found = {g.key: g for g in comp.by["lang"]}
    known = qwen3_languages()
    rows = [(f"{lang.name} · {lang.code}", found.get(lang.code, Group(lang.code, 0, 0, 0))) for lang in known]
    # Most documents first; ties (languages without documents at the bottom) keep the list's
    # order, since the sort is stable.
    rows.sort(key=lambda r: -r[1].docs)
    codes = {lang.code for lang in known}
    others = [g for g in comp.by["lang"] if g.key not in codes and g.key not in (None, UNDETERMINED)]
    extra = [("undetermined · und", found.get(UNDETERMINED)), ("no language label", found.get(None))]
    if others:
        extra.insert(
            0,
            (
                f"outside Qwen3's list ({len(others)} codes)",
                Group(
                    "other", sum(g.docs for g in others), sum(g.chars for g in others), sum(g.tokens for g in others)
                ),
            ),
        )
    rows += [(label, g) for label, g in extra if g is not None]
    groups = [g for _, g in rows]
    origin = (
        "the `lang` annotation" if comp.lang_from == "annotations" else "documents' meta.lang (no `lang` annotation)"
    )
    note = f"Language from {origin}. Hover a bar for exact numbers."
    if others:
        top = sorted(others, key=lambda g: -g.docs)[:12]
        note += (
            " Outside the list: " + ", ".join(f"{g.key} ({g.docs:,})" for g in top) + ("…" if len(others) > 12 else "")
        )
    chart = Chart(
        "lang",
        f"Documents and {measure(comp)} by language (all {len(known)} Qwen3 languages)",
        bar_table([label for label, _ in rows], _panels(comp, groups), label_w=250),
        note,
    )
    return Section("languages", "Languages", blocks=[chart])


def by_dimension(comp: Composition, dim: str, key: str, title: str, none_label: str) -> Section | None:
    if not comp.by.get(dim):
        return None
    labels, groups = _capped(comp.by[dim], none_label)
    chart = Chart(key, f"Documents and {measure(comp)} by {title}", bar_table(labels, _panels(comp, groups)))
    return Section(key, title.capitalize(), blocks=[chart])


def education(comp: Composition) -> Section | None:
    groups = {g.key: g for g in comp.by.get("edu_bin", [])}
    if not groups:
        return None
    bins = [i * EDU_BIN_WIDTH for i in range(int(5 / EDU_BIN_WIDTH))]
    labels = [f"{b:g}–{b + EDU_BIN_WIDTH:g}" for b in bins]
    docs = [groups[b].docs if b in groups else 0 for b in bins]
    blocks: list[Chart | Table | Kpis] = [
        Chart(
            "edu",
            "Education value (edu_score 0–5): documents per half-point bin",
            histogram(labels, docs, title="documents"),
            "The last bin includes 5.",
        )
    ]
    unlabeled = groups.get(None)
    if unlabeled:
        blocks.append(Kpis([("documents without edu_score", f"{unlabeled.docs:,}")]))
    return Section("education", "Education value", blocks=blocks)
