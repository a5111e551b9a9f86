"""The OpenAI wire format: request bodies out, HTTP answers classified and parsed back.

Nothing here does I/O; the client sends the bytes built here and hands back what came in.
Every HTTP outcome maps to a `Response` or to a `Failure` with a stable reason code.
"""

from __future__ import annotations

import dataclasses
import json
import re
from functools import lru_cache
from typing import Any

import jsonschema

from corpusmill.llm.types import Failure, Request, Response

GUIDED_MODES = ("both", "response_format", "guided_json")

# vLLM: "This model's maximum context length is 4096 tokens..."; OpenAI: code context_length_exceeded;
# SGLang: "...longer than the model's context length".
CONTEXT_RE = re.compile(r"context.length|max_model_len|maximum model length|too many tokens", re.I)


def endpoint(request: Request) -> str:
    return "/chat/completions" if request.is_chat else "/completions"


def build_body(request: Request, model: str, guided: str) -> bytes:
    """The JSON body for `request`: sampling fields set on it, guided JSON as `guided` says."""
    body: dict[str, Any] = {"model": model, **request.sampling()}
    if request.is_chat:
        body["messages"] = [m.to_openai() for m in request.messages]
    else:
        body["prompt"] = request.prompt
    if request.json_schema is not None:
        schema = dict(request.json_schema)
        if guided in ("both", "response_format"):
            body["response_format"] = {"type": "json_schema", "json_schema": {"name": "output", "schema": schema}}
        if guided in ("both", "guided_json"):
            body["guided_json"] = schema
    if request.extra:
        body.update(request.extra)
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")


def http_failure(tag: str, status: int, raw: bytes) -> Failure:
    """The failure an HTTP status other than 200 stands for."""
    message = error_message(raw)
    if status == 429:
        reason = "rate_limited"
    elif status >= 500:
        reason = "server_error"
    elif status == 408:
        reason = "timeout"
    elif status in (401, 403):
        reason = "unauthorized"
    elif status == 404:
        reason = "not_found"
    elif status in (400, 413, 422) and CONTEXT_RE.search(message):
        reason = "context_length_exceeded"
    elif status == 422:
        reason = "invalid_request"
    else:
        reason = "bad_request"
    return Failure(tag=tag, reason=reason, error=f"HTTP {status}", message=message, status=status)


def error_message(raw: bytes) -> str:
    """The server's error text: OpenAI's `{"error": {"message": ...}}`, vLLM's `{"message": ...}` or raw."""
    text = raw.decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except ValueError:
        return text[:500]
    if isinstance(data, dict):
        err = data.get("error", data)
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])[:2000]
        if isinstance(err, str):
            return err[:2000]
    return text[:500]


def parse_response(request: Request, raw: bytes) -> Response | Failure:
    """A 200 body as a Response; a body that is not a completion is `malformed_response`."""
    try:
        data = json.loads(raw)
        choices = sorted(data["choices"], key=lambda c: c.get("index", 0))
        if request.is_chat:
            texts = tuple(c["message"]["content"] for c in choices)
        else:
            texts = tuple(c["text"] for c in choices)
        if not texts:
            raise ValueError("no choices")
        if not all(isinstance(t, str) for t in texts):
            # `content: null` (a refusal, a tool call, a reasoning model that ran out of
            # tokens) is no transcription or label: an empty string would pass for one.
            raise ValueError("an answer's content is null or not text")
        usage = data.get("usage") or {}
        response = Response(
            tag=request.tag, text=texts[0], texts=texts, finish_reason=choices[0].get("finish_reason") or "",
            model=str(data.get("model", "")), prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
        )  # fmt: skip
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        snippet = raw[:200].decode("utf-8", "replace")
        return Failure(request.tag, "malformed_response", type(exc).__name__, f"{exc}: {snippet!r}", status=200)
    if request.json_schema is None:
        return response
    return check_json(request, response)


def check_json(request: Request, response: Response) -> Response | Failure:
    """Parse every choice as JSON and validate it; `parsed` is the first choice's value."""
    validator = _validator(json.dumps(request.json_schema, sort_keys=True))
    parsed = []
    for text in response.texts:
        try:
            value = json.loads(text)
        except ValueError as exc:
            return Failure(request.tag, "schema_mismatch", "JSONDecodeError", f"answer is not JSON: {exc}", status=200)
        error = jsonschema.exceptions.best_match(validator.iter_errors(value))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            return Failure(
                request.tag, "schema_mismatch", "ValidationError", f"at {where}: {error.message}", status=200
            )
        parsed.append(value)
    return dataclasses.replace(response, parsed=parsed[0])


def schema_problem(request: Request) -> Failure | None:
    """`invalid_request` when the request's own JSON schema is not a valid schema (nothing is sent)."""
    if request.json_schema is None:
        return None
    try:
        _validator(json.dumps(request.json_schema, sort_keys=True))
    except (jsonschema.exceptions.SchemaError, TypeError, ValueError) as exc:
        return Failure(request.tag, "invalid_request", type(exc).__name__, f"json_schema is not a valid schema: {exc}")
    return None


@lru_cache(maxsize=64)
def _validator(schema_json: str) -> Any:
    schema = json.loads(schema_json)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    cls.check_schema(schema)
    return cls(schema)
