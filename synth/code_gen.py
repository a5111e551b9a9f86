"""LLM-written Python functions with unit tests, kept only when the tests pass in the sandbox.

The model answers with two fenced blocks: the solution and `test_...` functions. Both run
together in `corpusmill.synth.sandbox` (own network namespace, resource limits, empty working dir,
wall-clock timeout); a small harness calls every test and prints a JSON report on its last
line. The report, the sandbox status and its isolation go into `meta`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from corpusmill.errors import ConfigError, RecordError
from corpusmill.llm import ClientConfig, Request, user
from corpusmill.progress import NO_COUNTERS, CounterSink
from corpusmill.schema import meta_json, stable_id
from corpusmill.synth.base import Outcome
from corpusmill.synth.llm_base import LLMGenerator
from corpusmill.synth.math_programmatic import item_rng
from corpusmill.synth.prompts import prompt, prompt_id
from corpusmill.synth.sandbox import Limits, RunResult, bwrap_path, run_python

DEFAULT_TOPICS = (
    "string processing",
    "lists and sorting",
    "dictionaries and counting",
    "recursion",
    "dynamic programming",
    "number theory",
    "dates and calendars",
    "parsing text formats",
    "geometry",
    "graphs and search",
    "matrices",
    "bit manipulation",
    "stacks and queues",
    "simulation",
    "combinatorics",
    "intervals",
)
DIFFICULTIES = ("easy", "medium", "hard")
REPORT_MARK = "__CORPUSMILL_TEST_REPORT__"
_BLOCK = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.DOTALL)
_HARNESS = f"""

def __corpusmill_run_tests():
    import json as _json, traceback as _tb
    report = {{}}
    for name, fn in sorted(globals().items()):
        if name.startswith("test_") and callable(fn):
            try:
                fn()
                report[name] = "passed"
            except BaseException as exc:
                report[name] = ("failed: " + type(exc).__name__ + ": " + str(exc))[:300]
    print("{REPORT_MARK}" + _json.dumps(report))

__corpusmill_run_tests()
"""


def split_answer(text: str) -> tuple[str, str]:
    """(solution, tests) from a model answer with two fenced Python blocks; `RecordError` otherwise."""
    blocks = [b.strip() for b in _BLOCK.findall(text)]
    if len(blocks) < 2:
        raise RecordError("malformed_answer", f"expected 2 fenced code blocks, found {len(blocks)}")
    solution, tests = blocks[0], "\n\n".join(blocks[1:])
    if "def test_" not in tests:
        raise RecordError("no_tests", "the second block defines no test_ function")
    for part, name in ((solution, "solution"), (tests, "tests")):
        try:
            compile(part, name, "exec")
        except SyntaxError as exc:
            raise RecordError("syntax_error", f"{name}: {exc}") from None
    return solution, tests


def judge(run: RunResult) -> tuple[str | None, dict[str, str]]:
    """(dead-letter reason or None when every test passed, per-test report)."""
    report: dict[str, str] = {}
    for line in run.stdout.splitlines():
        if line.startswith(REPORT_MARK):
            try:
                report = json.loads(line[len(REPORT_MARK) :])
            except json.JSONDecodeError:
                report = {}
    if run.violations:
        return "sandbox_violation", report
    if run.status != "ok":
        return ("tests_failed" if run.status == "error" else run.status), report
    if not report:
        return "no_test_report", report
    if any(v != "passed" for v in report.values()):
        return "tests_failed", report
    return None, report


class LLMCode(LLMGenerator):
    kind = "code"
    name = "llm_code"
    version = "1"
    batch_size = 32

    def __init__(
        self,
        client: ClientConfig,
        *,
        seed: int = 0,
        topics: Sequence[str] | None = None,
        limits: Limits = Limits(),
        sandboxes: int = 2,
        temperature: float = 0.7,
        max_tokens: int = 1536,
    ) -> None:
        super().__init__(client, seed=seed, temperature=temperature)
        if sandboxes < 1:
            raise ConfigError("need at least one sandbox")
        bwrap_path()  # no bubblewrap: say so before the job starts, not once per generated item
        self.topics, self.limits, self.sandboxes, self.max_tokens = (
            tuple(topics or DEFAULT_TOPICS),
            limits,
            sandboxes,
            max_tokens,
        )

    def config(self) -> dict[str, Any]:
        return {
            "generator": self.name,
            "version": self.version,
            "topics": list(self.topics),
            "limits": vars(self.limits),
            "max_tokens": self.max_tokens,
            **self.llm_config(),
        }

    def _uri(self, index: int) -> str:
        return f"synth://code/llm/seed={self.seed}/{index}"

    def generate(self, start: int, end: int, counters: CounterSink = NO_COUNTERS) -> Iterator[Outcome]:
        asks = []
        for i in range(start, end):
            topic = self.topics[i % len(self.topics)]
            difficulty = item_rng(self.seed, i).choice(DIFFICULTIES)
            text = prompt("code.txt").format(topic=topic, difficulty=difficulty)
            asks.append(
                (
                    i,
                    topic,
                    difficulty,
                    Request(
                        messages=(user(text),),
                        temperature=self.temperature,
                        max_tokens=self.max_tokens,
                        seed=self.seed * 1_000_003 + i,
                        tag=self._uri(i),
                    ),
                )
            )
        runnable = []
        for (i, topic, difficulty, _), result in zip(asks, self.ask([a[-1] for a in asks])):
            if not result.ok:
                counters.inc(f"dead_{result.reason}")
                yield self.failed_request(i, self._uri(i), result)
                continue
            try:
                solution, tests = split_answer(result.text)
            except RecordError as exc:
                counters.inc(f"dead_{exc.reason}")
                yield self.failed(i, self._uri(i), "generate", exc.reason, str(exc))
                continue
            runnable.append((i, topic, difficulty, result.model, solution, tests))
        # Sandboxes are child processes: threads only wait on them.
        with ThreadPoolExecutor(max_workers=self.sandboxes) as pool:
            runs = list(pool.map(lambda r: run_python(r[4] + "\n\n" + r[5] + _HARNESS, self.limits), runnable))
        for (i, topic, difficulty, model, solution, tests), run in zip(runnable, runs):
            reason, report = judge(run)
            if reason is not None:
                counters.inc(f"dead_{reason}")
                detail = "; ".join(run.violations) or run.stderr.strip()[-300:] or json.dumps(report)[:300]
                yield self.failed(i, self._uri(i), "sandbox", reason, f"{run.status}: {detail}")
                continue
            counters.inc("tests_passed")
            yield Outcome(i, document=self._document(i, topic, difficulty, model, solution, tests, run, report))

    def _document(
        self,
        i: int,
        topic: str,
        difficulty: str,
        model: str,
        solution: str,
        tests: str,
        run: RunResult,
        report: dict[str, str],
    ) -> dict[str, Any]:
        meta = {
            "kind": "code",
            "language": "python",
            "generator": "corpusmill.synth.code_gen",
            "generator_version": self.version,
            "model": model,
            "template": prompt_id("code.txt"),
            "seed": self.seed,
            "index": i,
            "params": {
                "topic": topic,
                "difficulty": difficulty,
                "temperature": self.temperature,
                "max_tokens": self.max_tokens,
            },
            "tests": {"count": len(report), "passed": sum(v == "passed" for v in report.values()), "results": report},
            "verification": {"method": "unit_tests_in_sandbox", "passed": True, "sandbox": run.to_meta()},
        }
        text = f"{solution}\n\n\n{tests}\n"
        return {
            "id": stable_id("synth/code", "llm", str(self.seed), str(i)),
            "text": text,
            "source": "synth/code",
            "uri": self._uri(i),
            "meta": meta_json(meta),
        }
