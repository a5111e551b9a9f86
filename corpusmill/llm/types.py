"""The values that cross the client's boundary: requests in, results out.

A `Request` is frozen, picklable data (a Beam element can carry one). Images stay raw bytes
inside the request: they are hashed for the cache key and base64-encoded only when sent.
A result is either a `Response` or a `Failure`; the client never raises for one request.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol

from corpusmill import storage
from corpusmill.errors import ConfigError

# Reasons a failure can carry that are retried with backoff; a request still failing after the
# last retry ends with its last one. Every other reason (context_length_exceeded, bad_request,
# invalid_request, unauthorized, not_found, schema_mismatch, answer_too_large) is final at once
# and is cached like a response, because the same request would fail the same way again;
# internal_error is final and not cached.
TRANSIENT_REASONS = frozenset(
    {"timeout", "unreachable", "connection_error", "rate_limited", "server_error", "malformed_response"}
)
# How the steps that call models name a client failure in their dead letters: PDF pages (and
# a PDF none of whose pages could be read) `vlm_<reason>`, annotate `teacher_<reason>`; the
# synth generators keep the bare reason under their stage `llm`.
LLM_REASON_PREFIXES = ("vlm_", "teacher_")
LLM_STAGE = "llm"


def is_transient(stage: str, reason: str) -> bool:
    """Whether a dead letter stands for a transient LLM failure (a server down or overloaded,
    a timeout, a garbled answer), which a re-run of the job retries; every other dead letter
    is final. A PDF child's own `timeout` (stage extract_pdf) is final: it is not an LLM's."""
    if stage == LLM_STAGE and reason in TRANSIENT_REASONS:
        return True
    return any(reason.startswith(p) and reason[len(p) :] in TRANSIENT_REASONS for p in LLM_REASON_PREFIXES)


def transient_dead_letters(paths: Iterable[str]) -> int:
    """Rows of these dead-letter files that stand for transient LLM failures (`is_transient`)."""
    n = 0
    for path in paths:
        table = storage.read_parquet(path, columns=["stage", "reason"])
        pairs = zip(table.column("stage").to_pylist(), table.column("reason").to_pylist(), strict=True)
        n += sum(is_transient(stage, reason) for stage, reason in pairs)
    return n


_MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))


@dataclass(frozen=True)
class Image:
    """Raw image bytes (PNG, JPEG or WebP) to send inside a chat message."""

    data: bytes = field(repr=False)
    mime: str = ""

    def __post_init__(self) -> None:
        if not self.mime:
            sniffed = next((m for magic, m in _MAGIC if self.data.startswith(magic)), None)
            if self.data[:4] == b"RIFF" and self.data[8:12] == b"WEBP":
                sniffed = "image/webp"
            if sniffed is None:
                raise ConfigError("Image: not PNG, JPEG or WebP bytes; pass mime= explicitly")
            object.__setattr__(self, "mime", sniffed)

    @classmethod
    def from_file(cls, path: str | Path) -> Image:
        return cls(Path(path).read_bytes())

    def digest(self) -> str:
        return hashlib.blake2b(self.data, digest_size=16).hexdigest()

    def data_url(self) -> str:
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"


Part = str | Image


@dataclass(frozen=True)
class Message:
    """One chat message; `parts` mixes text and images in the order the model should see them."""

    role: str
    parts: tuple[Part, ...]

    def to_openai(self, image: Any = Image.data_url) -> dict[str, Any]:
        """The OpenAI wire form; `image` renders an Image (the cache key renders its digest)."""
        if len(self.parts) == 1 and isinstance(self.parts[0], str):
            return {"role": self.role, "content": self.parts[0]}
        content = [
            {"type": "text", "text": p} if isinstance(p, str) else {"type": "image_url", "image_url": {"url": image(p)}}
            for p in self.parts
        ]
        return {"role": self.role, "content": content}


def system(text: str) -> Message:
    return Message("system", (text,))


def user(*parts: Part) -> Message:
    """A user turn: `user("Transcribe this page.", Image.from_file("p1.png"))`."""
    if not parts:
        raise ConfigError("user(): give at least one text or Image part")
    return Message("user", tuple(parts))


def assistant(text: str) -> Message:
    return Message("assistant", (text,))


@dataclass(frozen=True)
class Request:
    """One generation. Give `messages` for /chat/completions or `prompt` for /completions.

    Sampling fields left at None are not sent, so the server's defaults apply. `json_schema`
    asks for guided JSON decoding; the answer is parsed into `Response.parsed` and checked
    against the schema. `extra` is merged into the request body as is (e.g. vLLM's `top_k`).
    `tag` is the caller's label (a document or page id); it is carried into the result and is
    not part of the cache key.
    """

    messages: tuple[Message, ...] = ()
    prompt: str | None = None
    model: str | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] | None = None
    seed: int | None = None
    n: int | None = None
    json_schema: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] | None = None
    tag: str = ""

    def __post_init__(self) -> None:
        if bool(self.messages) == (self.prompt is not None):
            raise ConfigError("Request: give exactly one of messages= (chat) or prompt= (completion)")
        if not isinstance(self.messages, tuple):
            object.__setattr__(self, "messages", tuple(self.messages))
        if not all(isinstance(m, Message) for m in self.messages):
            raise ConfigError("Request: messages must be Message values, built with system(), user(), assistant()")
        if isinstance(self.stop, str):
            object.__setattr__(self, "stop", (self.stop,))
        elif self.stop is not None and not isinstance(self.stop, tuple):
            object.__setattr__(self, "stop", tuple(self.stop))

    @property
    def is_chat(self) -> bool:
        return self.prompt is None

    def sampling(self) -> dict[str, Any]:
        """The sampling fields that are set, in wire form."""
        out: dict[str, Any] = {}
        for name in ("temperature", "top_p", "max_tokens", "seed", "n"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.stop:
            out["stop"] = list(self.stop)
        return out

    def replace(self, **changes: Any) -> Request:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Response:
    """A successful generation. `text` is the first choice, `texts` all `n` of them."""

    tag: str
    text: str
    texts: tuple[str, ...]
    finish_reason: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    parsed: Any = None
    attempts: int = 0
    seconds: float = 0.0
    cached: bool = False
    # The tag of the `Result` union: `if result.ok:` narrows it to a Response for the type checker.
    ok: ClassVar[Literal[True]] = True


@dataclass(frozen=True)
class Failure:
    """A request that ended without a usable answer; `reason` is a stable snake_case code."""

    tag: str
    reason: str
    error: str
    message: str
    status: int | None = None
    attempts: int = 0
    seconds: float = 0.0
    cached: bool = False
    ok: ClassVar[Literal[False]] = False

    @property
    def transient(self) -> bool:
        return self.reason in TRANSIENT_REASONS


Result = Response | Failure

LEDGER_FIELDS = (
    "requests", "http_requests", "responses", "failures", "retries", "cache_hits",
    "prompt_tokens", "completion_tokens",
)  # fmt: skip


@dataclass
class Ledger:
    """What a client spent: requests asked for, HTTP requests sent, tokens, failures, time.

    Built only from results (`add`), so the ledgers of several workers simply add up.
    `seconds` sums the time requests spent on the wire (every attempt, not the waits for a
    concurrency slot or between retries), so it is not wall time.
    """

    requests: int = 0
    http_requests: int = 0
    responses: int = 0
    failures: int = 0
    retries: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    failure_reasons: dict[str, int] = field(default_factory=dict)

    def add(self, result: Result) -> None:
        self.requests += 1
        self.http_requests += result.attempts
        self.retries += max(0, result.attempts - 1)
        self.seconds += result.seconds
        self.cache_hits += result.cached
        if isinstance(result, Response):
            self.responses += 1
            self.prompt_tokens += result.prompt_tokens
            self.completion_tokens += result.completion_tokens
        else:
            self.failures += 1
            self.failure_reasons[result.reason] = self.failure_reasons.get(result.reason, 0) + 1

    def merge(self, other: Ledger) -> None:
        for name in LEDGER_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.seconds += other.seconds
        for reason, n in other.failure_reasons.items():
            self.failure_reasons[reason] = self.failure_reasons.get(reason, 0) + n

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: getattr(self, name) for name in LEDGER_FIELDS}
        out["seconds"] = round(self.seconds, 3)
        out["failure_reasons"] = dict(sorted(self.failure_reasons.items()))
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Ledger:
        """The inverse of `as_dict` (a ledger written by a worker, read back by the driver)."""
        counts = {name: int(data.get(name, 0)) for name in LEDGER_FIELDS}
        return cls(
            **counts, seconds=float(data.get("seconds", 0.0)), failure_reasons=dict(data.get("failure_reasons", {}))
        )


# LLM usage of one object, per step ("teacher", "vlm", "rewrite", "generate"): the unit every
# job folds, whatever made the calls.
Usage = dict[str, Ledger]


class UsesLLM(Protocol):
    """An annotator, generator or extractor that calls models: the job takes its usage after
    each batch (so nothing is counted twice) and folds it into the run summary."""

    def take_ledger(self) -> Usage: ...


def fold_usage(usages: Iterable[Usage]) -> Usage:
    """The sum of several usages, step by step (the one fold every job uses)."""
    total: Usage = {}
    for usage in usages:
        for step, ledger in usage.items():
            total.setdefault(step, Ledger()).merge(ledger)
    return dict(sorted(total.items()))


def usage_as_dict(usage: Usage) -> dict[str, dict[str, Any]]:
    """JSON form of a usage; steps that made no request are left out."""
    return {step: ledger.as_dict() for step, ledger in sorted(usage.items()) if ledger.requests}


def usage_from_dict(data: dict[str, dict[str, Any]]) -> Usage:
    return {step: Ledger.from_dict(ledger) for step, ledger in data.items()}
