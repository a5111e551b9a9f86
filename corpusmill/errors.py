"""Errors named by what a job does with them.

`ConfigError` stops a job before it starts, `RecordError` turns one record into a
dead letter and the job goes on, `RetryableError` is retried with backoff and then
dead-lettered. Each also subclasses the builtin it resembles so callers that know
nothing of corpusmill can still catch it sensibly.
"""

from __future__ import annotations


class CorpusmillError(Exception):
    """Base class of every error corpusmill raises on purpose."""


class ConfigError(CorpusmillError, ValueError):
    """Bad options, paths or recipes: fail before any work starts."""


class InputNotFoundError(ConfigError, FileNotFoundError):
    """A source path or glob matched nothing."""


class ModelNotFoundError(ConfigError, FileNotFoundError):
    """A model file a labeler needs is missing."""


class OutputExistsError(ConfigError, FileExistsError):
    """The output folder already holds a finished run of other inputs."""


class RecordError(CorpusmillError, ValueError):
    """One record is bad: it becomes a dead letter with `reason`, the job goes on.

    `reason` is a stable snake_case code (``invalid_utf8``, ``empty_text``...) so that
    dead letters can be counted and queried by it.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class RetryableError(CorpusmillError):
    """A transient failure (timeout, 429, 5xx): retry with backoff, then dead-letter."""
