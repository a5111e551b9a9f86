"""The PDF development set (`bench/pdf_devset.py`): each check kind passes at >= 0.85."""

from __future__ import annotations

import json

from bench.pdf_devset import DEVSET, cases, score


def test_devset_pass_rate_by_kind_at_least_085() -> None:
    rates = score()
    assert {"present", "absent", "order", "table"} <= set(rates)
    for kind, by in rates.items():
        ok, n = by["all"]
        assert n > 0 and ok / n >= 0.85, f"{kind}: {ok}/{n}"
    assert rates["all"]["pub"][1] >= 50  # the public PDFs carry a good part of the checks


def test_devset_files_match_their_pinned_sources() -> None:
    import hashlib

    sources = json.loads((DEVSET / "sources.json").read_text(encoding="utf-8"))
    checks = json.loads((DEVSET / "checks.json").read_text(encoding="utf-8"))
    assert set(checks) == set(sources)
    for name, src in sources.items():
        path = DEVSET / name
        assert path.exists() or not src["shipped"], f"{name} is marked shipped but missing"
        if path.exists():
            assert hashlib.sha256(path.read_bytes()).hexdigest() == src["sha256"], name
    # every generated and shipped document yields at least one check
    assert all(checks for _, _, checks in cases())
