"""One self-contained HTML page from sections of charts and tables.

Styles, SVG and the few lines of script (table sorting) are inline; a Content-Security-
Policy forbids every network request, so the page is the same offline as online.
The page holds no timestamp: the same inputs give the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"

STYLE = """
body{font-family:system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#23395d;color:#fff;padding:14px 24px}
header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;font-size:13px;opacity:.85}
nav{padding:8px 24px;background:#e8edf4;font-size:13px}
nav a{margin-right:14px;color:#23395d}
main{padding:8px 24px 40px}
section{margin:18px 0 28px}
h2{font-size:18px;border-bottom:1px solid #ccd;padding-bottom:4px}
figure{margin:12px 0;background:#fff;border:1px solid #dde;padding:10px;overflow-x:auto}
.multiples{display:flex;flex-wrap:wrap;gap:6px 14px}
details summary{cursor:pointer;color:#3b6fb6;margin:6px 0}
figcaption{font-weight:600;margin-bottom:6px}
.note,.intro{font-size:13px;color:#555;margin:4px 0}
table{border-collapse:collapse;font-size:13px;background:#fff;margin:10px 0}
th,td{border:1px solid #dde;padding:3px 8px;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}
th{background:#eef1f6;cursor:pointer;user-select:none}
.kpis{display:flex;flex-wrap:wrap;gap:12px;margin:10px 0}
.kpi{background:#fff;border:1px solid #dde;padding:8px 14px;min-width:120px}
.kpi b{display:block;font-size:20px}
"""

# Click a header to sort by that column; numeric cells carry their value in data-v.
SORT_SCRIPT = """
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, col) {
    th.addEventListener('click', function () {
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var dir = th.dataset.dir === 'asc' ? -1 : 1;
      th.dataset.dir = dir === 1 ? 'asc' : 'desc';
      rows.sort(function (a, b) {
        var x = a.cells[col], y = b.cells[col];
        var vx = x.dataset.v !== undefined ? parseFloat(x.dataset.v) : x.textContent;
        var vy = y.dataset.v !== undefined ? parseFloat(y.dataset.v) : y.textContent;
        return (vx < vy ? -1 : vx > vy ? 1 : 0) * dir;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"""


@dataclass(frozen=True)
class Chart:
    key: str  # stable id: `data-chart` attribute, what tests and readers look for
    title: str
    svg: str
    note: str = ""


@dataclass(frozen=True)
class Table:
    key: str
    headers: Sequence[str]
    rows: Sequence[Sequence[object]]
    note: str = ""


@dataclass(frozen=True)
class Kpis:
    items: Sequence[tuple[str, str]]  # (label, value)


@dataclass
class Section:
    key: str
    title: str
    intro: str = ""
    blocks: list[Chart | Table | Kpis] = field(default_factory=list)


def _cell(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return f"<td>{'' if value is None else escape(str(value))}</td>"
    if isinstance(value, (int, float)):
        shown = f"{value:,}" if isinstance(value, int) else f"{value:,.4g}"
        return f'<td class="num" data-v="{value!r}">{shown}</td>'
    return f"<td>{escape(str(value))}</td>"


def _table(t: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in t.headers)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in t.rows)
    note = f'<p class="note">{escape(t.note)}</p>' if t.note else ""
    return (
        f'<table class="sortable" data-table="{escape(t.key)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>{note}"
    )


def _block(b: Chart | Table | Kpis) -> str:
    if isinstance(b, Chart):
        note = f'<p class="note">{escape(b.note)}</p>' if b.note else ""
        return f'<figure class="chart" data-chart="{escape(b.key)}"><figcaption>{escape(b.title)}</figcaption>{b.svg}{note}</figure>'
    if isinstance(b, Table):
        return _table(b)
    items = "".join(f'<div class="kpi">{escape(label)}<b>{escape(value)}</b></div>' for label, value in b.items)
    return f'<div class="kpis">{items}</div>'


def render_page(title: str, subtitle: str, sections: Sequence[Section]) -> str:
    """The whole page as one string."""
    nav = "".join(f'<a href="#{escape(s.key)}">{escape(s.title)}</a>' for s in sections)
    body = []
    for s in sections:
        intro = f'<p class="intro">{escape(s.intro)}</p>' if s.intro else ""
        body.append(
            f'<section id="{escape(s.key)}"><h2>{escape(s.title)}</h2>{intro}'
            + "".join(_block(b) for b in s.blocks)
            + "</section>"
        )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<header><h1>{escape(title)}</h1><p>{escape(subtitle)}</p></header><nav>{nav}</nav>"
        f"<main>{''.join(body)}</main><script>{SORT_SCRIPT}</script></body></html>\n"
    )
