"""The rules by which the test server answers: deterministic, derived only from the request.

A chat answer is `echo: <last user text>` followed by `[image WxH png]` for each image; a
completion answer is `echo: <prompt>`. With a JSON schema the answer is a JSON value built
from the schema (strings take words of the prompt). Tokens are whitespace-separated words.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from typing import Any


def prompt_parts(body: dict[str, Any]) -> tuple[str, list[bytes]]:
    """The text the answer echoes (last user turn or the prompt) and the decoded images."""
    if "prompt" in body:
        prompt = body["prompt"]
        return (prompt if isinstance(prompt, str) else " ".join(map(str, prompt))), []
    text, images = "", []
    for message in body["messages"]:
        content = message.get("content") or ""
        parts: list[dict[str, Any]] = [{"type": "text", "text": content}] if isinstance(content, str) else content
        texts = [p["text"] for p in parts if p.get("type") == "text"]
        if message.get("role") == "user":
            text = " ".join(texts)
        for p in parts:
            if p.get("type") == "image_url":
                images.append(_decode_data_url(p["image_url"]["url"]))
    return text, images


def prompt_tokens(body: dict[str, Any]) -> int:
    """Words in every message (or the prompt) plus 64 per image, a stand-in for a tokenizer."""
    if "prompt" in body:
        return len(prompt_parts(body)[0].split())
    words = 0
    for message in body["messages"]:
        content = message.get("content") or ""
        parts: list[dict[str, Any]] = [{"type": "text", "text": content}] if isinstance(content, str) else content
        words += sum(len(p["text"].split()) if p.get("type") == "text" else 64 for p in parts)
    return words


def answer_text(text: str, images: list[bytes]) -> str:
    out = f"echo: {text}"
    for image in images:
        width, height, kind = image_size(image)
        out += f" [image {width}x{height} {kind}]"
    return out


def image_size(data: bytes) -> tuple[int, int, str]:
    """(width, height, kind) of PNG or JPEG bytes; (0, 0, "unknown") otherwise."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height, "png"
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    return 0, 0, "unknown"


def _jpeg_size(data: bytes) -> tuple[int, int, str]:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        # Start-of-frame markers carry the size; C4 (Huffman), C8 and CC (arithmetic) do not.
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height, "jpeg"
        i += 2 + length
    return 0, 0, "jpeg"


def _decode_data_url(url: str) -> bytes:
    if not url.startswith("data:") or ";base64," not in url:
        return b""
    return base64.b64decode(url.split(";base64,", 1)[1])


def truncate(text: str, max_tokens: int | None, stop: Any) -> tuple[str, str]:
    """Apply `stop` strings and `max_tokens` (in words); returns (text, finish_reason)."""
    for s in [stop] if isinstance(stop, str) else (stop or []):
        if s and s in text:
            text = text[: text.index(s)]
    words = text.split(" ")
    if max_tokens is not None and len(words) > max_tokens:
        return " ".join(words[:max_tokens]), "length"
    return text, "stop"


def schema_value(schema: dict[str, Any], text: str, path: str = "") -> Any:
    """A value valid under `schema` (the common subset vLLM's guided decoding supports)."""
    seed = int.from_bytes(hashlib.blake2b(f"{text}|{path}".encode(), digest_size=4).digest(), "big")
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][seed % len(schema["enum"])]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return schema_value(schema[key][0], text, path)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for sub in schema["allOf"]:
            merged.update(sub)
        return schema_value(merged, text, path)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    return _VALUE_OF[kind](schema, text, path, seed)


def _object(schema: dict[str, Any], text: str, path: str, seed: int) -> dict[str, Any]:
    props = schema.get("properties", {})
    return {name: schema_value(sub, text, f"{path}/{name}") for name, sub in props.items()}


def _array(schema: dict[str, Any], text: str, path: str, seed: int) -> list[Any]:
    count = max(schema.get("minItems", 1), min(schema.get("maxItems", 2), 2))
    items = schema.get("items", {"type": "string"})
    return [schema_value(items, text, f"{path}/{i}") for i in range(count)]


def _string(schema: dict[str, Any], text: str, path: str, seed: int) -> str:
    words = text.split() or ["text"]
    value = " ".join(words[seed % len(words) :][:3])
    value = value.ljust(schema.get("minLength", 0), "x")
    return value[: schema["maxLength"]] if "maxLength" in schema else value


def _integer(schema: dict[str, Any], text: str, path: str, seed: int) -> int:
    low = int(schema.get("minimum", schema.get("exclusiveMinimum", -1) + 1))
    high = int(schema.get("maximum", schema.get("exclusiveMaximum", low + 101) - 1))
    return low + seed % max(1, high - low + 1)


def _number(schema: dict[str, Any], text: str, path: str, seed: int) -> float:
    low = float(schema.get("minimum", 0.0))
    high = float(schema.get("maximum", low + 1.0))
    return round(low + (seed % 1000) / 999 * (high - low), 3)


_VALUE_OF = {
    "object": _object,
    "array": _array,
    "string": _string,
    "integer": _integer,
    "number": _number,
    "boolean": lambda schema, text, path, seed: bool(seed % 2),
    "null": lambda schema, text, path, seed: None,
}


def off_schema_value(schema: dict[str, Any]) -> str:
    """JSON text that the schema rejects (for the `off_schema` fault)."""
    return json.dumps(12345 if schema.get("type") == "string" else "off schema")
