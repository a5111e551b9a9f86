"""Name -> annotator class, imported on first use.

Built-in annotators are listed here as `"module:Class"` strings, so importing the registry
imports no model code. Third-party packages add theirs through the `corpusmill.annotators`
entry-point group (`name = "package.module:Class"`); a plugin cannot silently replace a
built-in name. Versions are attributes of the class, never part of the name.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from importlib.metadata import entry_points
from types import MappingProxyType
from typing import Any

from corpusmill.annotators.base import Annotator
from corpusmill.errors import ConfigError

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "corpusmill.annotators"

_BUILTIN: dict[str, str] = {
    "n_chars": "corpusmill.annotators.n_chars:NChars",
    "lang_id": "corpusmill.annotators.lang_id:LangId",
    "quality": "corpusmill.annotators.quality:QualitySignals",
    "gates": "corpusmill.annotators.gates:QualityGates",
    "edu": "corpusmill.annotators.edu:EduValue",
    "edu_heuristic": "corpusmill.annotators.edu:EduHeuristic",
    "domain": "corpusmill.annotators.domain:Domain",
    "safety": "corpusmill.annotators.safety:Safety",
    "safety_lexicon": "corpusmill.annotators.safety:SafetyLexicon",
    "teacher": "corpusmill.annotators.teacher:Teacher",
}

# The labelers `corpusmill annotate` runs when no list is given, in output column order.
DEFAULT_ANNOTATORS = ("n_chars", "lang_id", "quality", "gates", "edu", "domain", "safety")


def _plugins() -> dict[str, str]:
    found: dict[str, str] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in _BUILTIN:
            log.warning("ignoring plugin annotator %r (%s): the name is built in", ep.name, ep.value)
            continue
        found[ep.name] = ep.value
    return found


def known() -> MappingProxyType[str, str]:
    """Read-only view of every registered name -> `"module:Class"`."""
    return MappingProxyType({**_BUILTIN, **_plugins()})


def get_class(name: str) -> type[Annotator]:
    """The annotator class registered as `name`; `ConfigError` listing known names otherwise."""
    # A plugin never replaces a built-in name, so built-ins skip the entry-point scan (tens of
    # milliseconds per call: it reads every installed distribution's metadata).
    table = _BUILTIN if name in _BUILTIN else known()
    if name not in table:
        raise ConfigError(f"unknown annotator {name!r}; known annotators: {', '.join(sorted(table))}")
    module_name, _, class_name = table[name].partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"annotator {name!r} is registered as {table[name]!r} but cannot be imported: {exc}") from exc
    return cls


def create(name: str, **options: Any) -> Annotator:
    """Instantiate annotator `name`, passing only the options its constructor accepts.

    Shared options (`models_dir`, `teacher_url`...) are offered to every annotator; each
    takes what it understands, so one command line configures all of them.
    """
    cls = get_class(name)
    params = inspect.signature(cls).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        accepted = options
    else:
        accepted = {k: v for k, v in options.items() if k in params}
    return cls(**accepted)
