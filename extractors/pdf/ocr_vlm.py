"""OCR with a vision-language model (Qwen2.5-VL, olmOCR...) through the LLM client.

The child process renders each OCR page upright to a PNG whose longest side is about
1,300 pixels; here the images go to the model in one batch (the client bounds concurrency,
retries transient failures and caches answers by content, so a re-run sends nothing twice).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from corpusmill.extractors.pdf.layout import Block
from corpusmill.extractors.pdf.worker import PageResult
from corpusmill.llm import Image, Ledger, LLMClient, Request, system, user

ENGINE = "vlm"
PROMPT_VERSION = "1"
SYSTEM_PROMPT = (
    "You convert images of document pages to text. Transcribe everything on the page in "
    "natural reading order (columns one after the other) as plain text. Write tables as "
    "Markdown tables and mathematics as LaTeX ($...$ inline, $$...$$ displayed). Leave out "
    "running headers, footers and page numbers. Do not describe, summarize, translate or "
    "comment; if the page has no text, answer with nothing."
)
USER_PROMPT = "Transcribe this page."
_FENCE = re.compile(r"^```[a-zA-Z]*\n(.*)\n```$", re.DOTALL)


@dataclass(frozen=True)
class VlmSettings:
    model: str | None = None  # None: the client's model
    max_tokens: int = 4096


def clean_answer(text: str) -> str:
    """The transcription without the Markdown code fence some models wrap it in."""
    text = text.strip()
    fenced = _FENCE.match(text)
    return fenced.group(1).strip() if fenced else text


def request_for(page: PageResult, tag: str, settings: VlmSettings) -> Request:
    assert page.image is not None
    return Request(
        messages=(system(SYSTEM_PROMPT), user(USER_PROMPT, Image(page.image, "image/png"))),
        model=settings.model,
        temperature=0.0,
        max_tokens=settings.max_tokens,
        tag=tag,
    )


def read_pages(client: LLMClient, pages: list[PageResult], uri: str, settings: VlmSettings, ledger: Ledger) -> None:
    """Fill `blocks` (or `error`) of every page that carries an image; drops the images.
    Every result is added to `ledger`."""
    todo = [p for p in pages if p.image is not None]
    if not todo:
        return
    results = client.run_batch([request_for(p, f"{uri}#page={p.number + 1}", settings) for p in todo])
    for page, result in zip(todo, results, strict=True):
        ledger.add(result)
        page.image = None
        if not result.ok:
            page.error = (f"vlm_{result.reason}", result.message)
            continue
        text = clean_answer(result.text)
        page.blocks = [Block(0.0, 0.0, 0.0, 0.0, text, "vlm")] if text else []
        page.engine = ENGINE
        page.tokens = (result.prompt_tokens, result.completion_tokens)
        page.engine_version = f"{result.model} prompt-{PROMPT_VERSION}"
        if result.finish_reason == "length":
            page.why += "+truncated"
