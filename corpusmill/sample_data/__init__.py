"""Sample data bundled with corpusmill (SIB-200 derived, CC BY-SA 4.0; see README.md here)."""

from __future__ import annotations

from importlib import resources


def sample_jsonl() -> str:
    """Path of the bundled multilingual sample (850 documents, 35 languages)."""
    return str(resources.files(__name__) / "sib200_sample.jsonl.gz")
