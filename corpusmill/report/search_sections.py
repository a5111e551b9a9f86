"""The mixture-search section: what `corpusmill mix search` tried, how well the fit ranks it, what it chose.

Reads only SEARCH_DIR/search.json. Three views a data engineer needs to trust the choice:
predicted (out of fold) against observed loss, each bucket's share against loss over the
proxies, and the chosen mixture against the prior.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from corpusmill import storage
from corpusmill.report.html import Chart, Kpis, Section, Table
from corpusmill.report.svg import FONT, PALETTE, Panel, Series, bar_table, percent

SEARCH_FILE = "search.json"
PLOT_W, PLOT_H, PAD = 260, 200, 38


def load_search(search_dir: str) -> dict[str, Any]:
    return storage.read_json(storage.join(search_dir, SEARCH_FILE))


def scatter(points: Sequence[tuple[float, float, str]], *, x_label: str, y_label: str, diagonal: bool = False) -> str:
    """A small scatter plot as inline SVG; each point's `<title>` carries its numbers."""
    w, h = PLOT_W + 2 * PAD, PLOT_H + 2 * PAD
    parts = [
        f'<svg class="chart-svg" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
        f'style="{FONT}" role="img">'
    ]
    if not points:
        return parts[0] + "</svg>"
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    if diagonal:
        lo, hi = min(xs + ys), max(xs + ys)
        x0, x1, y0, y1 = lo, hi, lo, hi
    else:
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    sx = lambda v: PAD + PLOT_W * (v - x0) / ((x1 - x0) or 1)  # noqa: E731
    sy = lambda v: PAD + PLOT_H - PLOT_H * (v - y0) / ((y1 - y0) or 1)  # noqa: E731
    parts.append(f'<rect x="{PAD}" y="{PAD}" width="{PLOT_W}" height="{PLOT_H}" fill="none" stroke="#ccc"/>')
    if diagonal:
        parts.append(
            f'<line x1="{sx(x0):.1f}" y1="{sy(y0):.1f}" x2="{sx(x1):.1f}" y2="{sy(y1):.1f}" stroke="#bbb" stroke-dasharray="4 3"/>'
        )
    for x, y, tip in points:
        parts.append(
            f'<circle class="point" cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3.5" fill="{PALETTE[0]}" fill-opacity="0.75">'
            f"<title>{escape(tip)}</title></circle>"
        )
    parts.append(f'<text x="{PAD + PLOT_W / 2}" y="{h - 6}" text-anchor="middle">{escape(x_label)}</text>')
    parts.append(
        f'<text x="12" y="{PAD + PLOT_H / 2}" text-anchor="middle" transform="rotate(-90 12 {PAD + PLOT_H / 2})">{escape(y_label)}</text>'
    )
    for v, anchor_x in ((x0, PAD), (x1, PAD + PLOT_W)):
        parts.append(f'<text x="{anchor_x}" y="{PAD + PLOT_H + 14}" text-anchor="middle">{v:.3g}</text>')
    for v, anchor_y in ((y0, PAD + PLOT_H), (y1, PAD)):
        parts.append(f'<text x="{PAD - 4}" y="{anchor_y + 4}" text-anchor="end">{v:.3g}</text>')
    parts.append("</svg>")
    return "".join(parts)


def search_section(doc: dict[str, Any]) -> Section:
    names = doc["buckets"]
    proxies = doc["proxies"]
    ok = [p for p in proxies if p["status"] == "ok"]
    fit, chosen = doc["fit"], doc["chosen"]
    kpis = Kpis(
        [
            ("proxies", f"{len(ok)} ok / {len(proxies) + len(doc['failed'])}"),
            ("fit", fit["model"]),
            ("CV Spearman", f"{fit['cv_spearman'][fit['model']]:.3f}"),
            ("predicted loss, chosen", f"{chosen['predicted_loss']:.4f}"),
            ("predicted loss, prior", f"{chosen['prior_predicted_loss']:.4f}"),
        ]
    )
    mix = Chart(
        "search-chosen-vs-prior",
        "Chosen mixture against the prior (share of the stage's tokens)",
        bar_table(
            names,
            [
                Panel(
                    "share",
                    [
                        Series("chosen", [chosen["weights"][n] for n in names]),
                        Series("prior", [doc["prior"][n] for n in names]),
                    ],
                    fmt=percent,
                )
            ],
        ),
        "recipe.yaml carries the chosen shares; the prior is each bucket's natural token share unless the space gave one.",
    )
    fit_chart = Chart(
        "search-predicted-vs-observed",
        f"Predicted (out of fold, {fit['model']}) against observed target loss per proxy",
        scatter(
            [
                (
                    p["cv_predicted"],
                    p["loss"],
                    f"proxy {p['index']}: predicted {p['cv_predicted']:.4f}, observed {p['loss']:.4f}",
                )
                for p in ok
                if p.get("cv_predicted") is not None
            ],
            x_label="predicted loss",
            y_label="observed loss",
            diagonal=True,
        ),
        "Each point was predicted by a model that never saw it; points on the dashed line are predicted exactly.",
    )
    per_bucket = [
        Chart(
            f"search-bucket-{n}",
            f"{n}: share against target loss",
            scatter(
                [
                    (p["weights"][n], p["loss"], f"proxy {p['index']}: {n} {p['weights'][n]:.3f}, loss {p['loss']:.4f}")
                    for p in ok
                ],
                x_label=f"share of {n}",
                y_label="loss",
            ),
        )
        for n in names
    ]
    table = Table(
        "search-proxies",
        ["proxy", "status", *names, "loss", "predicted"],
        [
            [p["index"], p["status"], *(round(p["weights"][n], 4) for n in names), p["loss"], p.get("cv_predicted")]
            for p in proxies
        ]
        + [[f["index"], f"failed: {f['reason']}", *([None] * len(names)), None, None] for f in doc["failed"]],
        "Proxy 0 trains on the prior. Failed proxies (trainer errors) are left out of the fit; diverged ones too.",
    )
    intro = (
        f"{len(proxies) + len(doc['failed'])} proxies of {doc['proxy_tokens']:,} tokens, sequence length {doc['seq_len']}, "
        f"targets {', '.join(f'{k} (weight {v:g})' for k, v in doc['targets'].items())}."
    )
    return Section("search", f"Mixture search: {doc['space']}", intro, [kpis, mix, fit_chart, *per_bucket, table])
