"""Charts as inline SVG strings: horizontal bar tables and a column histogram.

Plain SVG keeps the report one file that opens anywhere without network or JavaScript;
each bar carries a `<title>`, which browsers show as a tooltip with the exact numbers.
Every chart is an `<svg class="chart-svg">` whose bars are `<rect class="bar">`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#3b6fb6", "#e0893a", "#5a9e5a", "#b5485d", "#7d62a8", "#8c8c8c")
LABEL_W = 190
PANEL_W = 300
VALUE_W = 78  # room right of the longest bar for its number
BAR_H = 11
ROW_GAP = 5
HEAD_H = 22
FONT = "font-family:system-ui,sans-serif;font-size:11px"

Formatter = Callable[[float], str]


def human(x: float) -> str:
    """1234567 -> '1.23M': short enough to sit beside a bar."""
    x = float(x)
    for div, unit in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.3g}{unit}"
    return f"{x:.3g}" if x != int(x) else f"{int(x)}"


def percent(x: float) -> str:
    return f"{x * 100:.3g}%"


def exact(x: float) -> str:
    """The full number for a tooltip: 1234567 -> '1,234,567'."""
    return f"{int(x):,}" if float(x).is_integer() else f"{x:,.6f}".rstrip("0")


def exact_percent(x: float) -> str:
    return f"{x * 100:.4f}%"


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]  # one per row; None draws no bar (e.g. a bucket without target)


@dataclass(frozen=True)
class Panel:
    """A column of bars sharing one scale; several series draw side by side within a row."""

    title: str
    series: Sequence[Series]
    fmt: Formatter = human  # beside the bar
    tip: Formatter = exact  # in the tooltip


def _text(x: float, y: float, s: str, *, anchor: str = "start", cls: str = "", weight: str = "normal") -> str:
    cls_attr = f' class="{cls}"' if cls else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-weight="{weight}"{cls_attr}>{escape(s)}</text>'


def _legend(panels: Sequence[Panel], x0: float) -> list[str]:
    parts = []
    for p_i, panel in enumerate(panels):
        x = x0 + p_i * PANEL_W
        parts.append(_text(x, 14, panel.title, weight="bold"))
        if len(panel.series) > 1:
            lx = x + 7 * len(panel.title) + 12
            for s_i, s in enumerate(panel.series):
                parts.append(f'<rect x="{lx:.1f}" y="5" width="10" height="10" fill="{PALETTE[s_i % len(PALETTE)]}"/>')
                parts.append(_text(lx + 13, 14, s.name))
                lx += 13 + 6.5 * len(s.name) + 12
    return parts


def _bar(x: float, y: float, w: float, color: str, tip: str) -> str:
    return (
        f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{max(w, 0.0):.1f}" height="{BAR_H}" '
        f'fill="{color}"><title>{escape(tip)}</title></rect>'
    )


def bar_table(labels: Sequence[str], panels: Sequence[Panel], *, label_w: int = LABEL_W) -> str:
    """Rows of labeled horizontal bars; each panel has its own scale, all rows share the panels.

    A zero value still draws a (zero-width) bar and its number, so "none yet" is visible.
    """
    n_series = max(len(p.series) for p in panels)
    row_h = n_series * BAR_H + ROW_GAP
    width = label_w + len(panels) * PANEL_W
    height = HEAD_H + len(labels) * row_h + 4
    parts = [
        f'<svg class="chart-svg" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" style="{FONT}" role="img">'
    ]
    parts += _legend(panels, label_w)
    scales = [max([v or 0 for s in p.series for v in s.values] + [0]) or 1 for p in panels]
    for r, label in enumerate(labels):
        y = HEAD_H + r * row_h
        parts.append(_text(label_w - 6, y + n_series * BAR_H / 2 + 4, label, anchor="end", cls="label"))
        for p_i, (panel, scale) in enumerate(zip(panels, scales)):
            x = label_w + p_i * PANEL_W
            for s_i, s in enumerate(panel.series):
                value = s.values[r]
                if value is None:
                    continue
                w = (PANEL_W - VALUE_W) * value / scale
                by = y + s_i * BAR_H
                color = PALETTE[s_i % len(PALETTE)]
                parts.append(_bar(x, by, w, color, f"{label} · {panel.title} · {s.name}: {panel.tip(value)}"))
                parts.append(_text(x + w + 3, by + BAR_H - 2, panel.fmt(value)))
    parts.append("</svg>")
    return "".join(parts)


def histogram(labels: Sequence[str], values: Sequence[float], *, title: str, fmt: Formatter = human) -> str:
    """Vertical columns, one per bin, labels under them."""
    col_w, gap, plot_h, top, bottom = 46, 8, 160, HEAD_H + 14, 22
    width = max(len(labels) * (col_w + gap) + gap, 200)
    height = top + plot_h + bottom
    scale = max(list(values) + [0]) or 1
    parts = [
        f'<svg class="chart-svg" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" style="{FONT}" role="img">',
        _text(gap, 14, title, weight="bold"),
    ]
    base = top + plot_h
    parts.append(f'<line x1="0" y1="{base}" x2="{width}" y2="{base}" stroke="#999"/>')
    for i, (label, value) in enumerate(zip(labels, values)):
        x = gap + i * (col_w + gap)
        h = plot_h * value / scale
        parts.append(
            f'<rect class="bar" x="{x}" y="{base - h:.1f}" width="{col_w}" height="{h:.1f}" '
            f'fill="{PALETTE[0]}"><title>{escape(f"{label}: {exact(value)}")}</title></rect>'
        )
        parts.append(_text(x + col_w / 2, base - h - 3, fmt(value), anchor="middle"))
        parts.append(_text(x + col_w / 2, base + 14, label, anchor="middle", cls="label"))
    parts.append("</svg>")
    return "".join(parts)
