"""One client for every model call: OCR, rewrite, synthesis and teacher labeling.

The client owns transport (concurrency, timeouts, retries, several servers, images, guided
JSON, a durable cache); callers only build requests and read results.

Build requests::

    from corpusmill.llm import ClientConfig, Image, LLMClient, Request, system, user

    ocr = Request(
        messages=(system("You transcribe scanned pages to Markdown."),
                  user("Transcribe this page.", Image.from_file("page-3.png"))),   # PNG/JPEG bytes
        max_tokens=4096, temperature=0.0, tag="doc42/p3")
    label = Request(
        messages=(user("Rate the educational value of:\\n" + text),),
        json_schema={"type": "object", "properties": {"score": {"type": "integer", "minimum": 0,
                     "maximum": 5}}, "required": ["score"]},                        # guided JSON
        temperature=0.0, seed=1, tag=doc_id)
    more = Request(prompt="def fib(n):", max_tokens=128, stop=("\\n\\n",))          # /v1/completions

Run a batch from plain code (results come back in order, one per request, never raised)::

    config = ClientConfig(urls=("http://gpu1:8000/v1", "http://gpu2:8000/v1"),
                          model="Qwen/Qwen2.5-VL-7B-Instruct", cache_dir=f"{out}/_llm_cache/ocr")
    with LLMClient(config) as client:
        for result in client.run_batch([ocr, label]):
            if result.ok:      # Response: .text, .texts (n choices), .parsed (guided JSON value),
                ...            #   .finish_reason, .prompt_tokens, .completion_tokens, .cached
            else:              # Failure: .reason (snake_case code), .error, .message, .status
                ...            #   -> corpusmill.schema.dead_letter(reason=result.reason, ...)
        print(client.ledger.as_dict())   # requests, http_requests, retries, tokens, failures...

Async code awaits `client.agenerate_many(requests)` instead. Failure reasons:
transient (retried with backoff, then returned) `timeout`, `unreachable`, `connection_error`,
`rate_limited`, `server_error`, `malformed_response` (also a `content: null`); permanent
(returned at once and cached) `context_length_exceeded`, `bad_request`, `unauthorized`,
`not_found`, `invalid_request`, `schema_mismatch` (answer is not JSON or does not match
`json_schema`), `answer_too_large` (over `max_answer_bytes`, checked while reading);
`internal_error` (an unexpected error in the client, not cached). `timeout` bounds one attempt,
`deadline` a request over all its attempts. Jobs treat transient dead letters
(`types.is_transient`) as unfinished work: a re-run retries them.

What an annotator, generator or extractor spent is taken with `take_ledger()` (a `Usage`:
one `Ledger` per step) after each batch, and jobs add usages up with `fold_usage`.

`corpusmill.llm.testing.LLMTestServer` is a local OpenAI-protocol server with deterministic
answers and fault injection for tests and dry runs; `corpusmill.llm.launcher.VLLMServer`
starts and watches a `vllm serve` process for a job (`--serve MODEL` on the LLM commands).
See docs/llm.md.
"""

from corpusmill.llm.client import ClientConfig, LLMClient, LLMLimits, run_batch
from corpusmill.llm.types import (
    Failure,
    Image,
    Ledger,
    Message,
    Request,
    Response,
    Result,
    Usage,
    UsesLLM,
    assistant,
    fold_usage,
    system,
    usage_as_dict,
    usage_from_dict,
    user,
)

__all__ = [
    "ClientConfig",
    "Failure",
    "Image",
    "LLMClient",
    "LLMLimits",
    "Ledger",
    "Message",
    "Request",
    "Response",
    "Result",
    "Usage",
    "UsesLLM",
    "assistant",
    "fold_usage",
    "run_batch",
    "system",
    "usage_as_dict",
    "usage_from_dict",
    "user",
]
