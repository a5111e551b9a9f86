"""Quality gates: named SQL conditions that keep junk out of every stage of a recipe.

A gate holds for a document that must not be trained on (too short, undecodable, mostly
symbols, a licence file, an error page). The default recipes carry `DEFAULT_GATES`, which read
the columns of the `gates` annotator; a recipe sets its own with a `gates:` mapping, where
`default` means the shipped condition and `off` switches a gate off. Gates run in order and a
removed document is charged to the first gate that holds, so the plan's funnel adds up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from corpusmill.errors import ConfigError

DEFAULT_GATES: dict[str, str] = {
    # One-character texts, page numbers, empty-looking pages.
    "too_short": "gate_visible_chars < 20",
    # U+FFFD / control / private-use characters: undecodable text and glyph-less PDF pages.
    "bad_chars": "gate_bad_char_frac > 0.005",
    # Mostly digits and symbols. Code and math have their own buckets and their own look
    # (a Chinese derivation in LaTeX is ~30% letters), so they are exempt.
    "non_letters": "gate_letter_frac < 0.25 AND coalesce(domain, '') NOT IN ('code', 'math')",
    "boilerplate_file": "gate_boilerplate_file",
    "error_page": "gate_error_page",
}
OFF = ("off", "false", "no", "none")


@dataclass(frozen=True)
class Gate:
    name: str
    where: str  # holds for a document the gate removes

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").replace("-", "").isalnum():
            raise ConfigError(f"gate name {self.name!r}: use letters, digits, '_' or '-'")
        if not isinstance(self.where, str) or not self.where.strip():
            raise ConfigError(f"gate {self.name}: needs a SQL condition, `default` or `off`")


def gates_from_dict(d: Any) -> tuple[Gate, ...]:
    """Gates from a recipe's `gates:` mapping (order kept); `default` and `off` as described above."""
    if d is None or (isinstance(d, str) and d.strip().lower() in OFF):
        return ()
    if d == "default":
        return tuple(Gate(n, w) for n, w in DEFAULT_GATES.items())
    if not isinstance(d, dict):
        raise ConfigError(f"recipe gates must be a mapping of name -> SQL condition, `default` or `off`, got {d!r}")
    out = []
    for name, value in d.items():
        if value is False or value is None or (isinstance(value, str) and value.strip().lower() in OFF):
            continue
        if isinstance(value, str) and value.strip().lower() == "default":
            if name not in DEFAULT_GATES:
                raise ConfigError(f"gate {name}: no default condition; defaults: {', '.join(DEFAULT_GATES)}")
            value = DEFAULT_GATES[name]
        out.append(Gate(str(name), value))
    return tuple(out)


def merge_gates(base: tuple[Gate, ...], d: Any) -> tuple[Gate, ...]:
    """`base` with a recipe's `gates:` mapping applied on top: entries replace, `off` removes, new ones append."""
    if d is None:
        return base
    if not isinstance(d, dict):
        return gates_from_dict(d)
    merged: dict[str, Any] = {g.name: g.where for g in base}
    for name, value in d.items():
        merged[name] = value
    return gates_from_dict(merged)


def first_gate_sql(gates: tuple[Gate, ...]) -> str:
    """SQL naming the first gate that removes a row, or NULL when none does."""
    if not gates:
        return "NULL::VARCHAR"
    whens = " ".join(f"WHEN coalesce(({g.where}), FALSE) THEN '{g.name}'" for g in gates)
    return f"CASE {whens} END"


def passes_sql(gates: tuple[Gate, ...]) -> str:
    return " AND ".join(f"NOT coalesce(({g.where}), FALSE)" for g in gates) or "TRUE"
