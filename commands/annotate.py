"""`corpusmill annotate DOCS_DIR -o ANN_DIR` and `corpusmill annotators list|train|eval`."""

from __future__ import annotations

import argparse
import math
import os

from corpusmill.commands.common import (
    add_job_flags,
    add_llm_flags,
    add_serve_flags,
    llm_limits,
    print_counts,
    with_served_model,
)
from corpusmill.errors import ConfigError
from corpusmill.layout import LLM_CACHE_DIR


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "annotate",
        help="label every document (language, quality, edu value, domain, safety) in one pass",
        description=(
            "Run all labelers over DOCS_DIR/*.parquet in one Beam job and write ANN_DIR/part-NNNNN.parquet "
            "(one row per document id; `corpusmill query` joins it as the `corpus` view), label failures "
            "to ANN_DIR/_dead_letters/ and counts to ANN_DIR/_summary.json. Finished files are skipped on a re-run."
        ),
    )
    p.add_argument("docs", metavar="DOCS_DIR")
    p.add_argument("-o", "--out", required=True, metavar="ANN_DIR")
    _model_flags(p)
    p.add_argument(
        "--annotators",
        default=None,
        help="comma-separated names (default: all built in; `teacher` is added when --teacher-url is given)",
    )
    add_llm_flags(p)
    add_job_flags(p)
    p.set_defaults(func=with_served_model(_annotate, url="teacher_url", model="teacher_model"))

    a = sub.add_parser("annotators", help="list, train and evaluate labelers")
    verbs = a.add_subparsers(dest="verb", metavar="VERB", required=True)
    verbs.add_parser("list", help="registered annotators and their columns").set_defaults(func=_list)
    t = verbs.add_parser("train", help="teacher -> student: label a sample with the LLM, train fastText")
    t.add_argument("task", choices=["edu", "domain", "field", "safety"])
    t.add_argument("docs", metavar="DOCS_DIR")
    t.add_argument("--teacher-url", default=None, help="OpenAI-compatible server of the teacher (or --serve)")
    t.add_argument("--teacher-model", default=None)
    t.add_argument("--sample", type=int, default=10_000, help="documents to label with the teacher")
    t.add_argument("-o", "--out", default="models", metavar="MODELS_DIR", help="where the student and card go")
    t.add_argument("--seed", type=int, default=0)
    add_serve_flags(t, "--teacher-url")
    t.set_defaults(func=with_served_model(_train, url="teacher_url", model="teacher_model"))
    e = verbs.add_parser(
        "eval",
        help="accuracy, per-class precision/recall and per-language accuracy on a text<TAB>label[<TAB>lang] file",
    )
    e.add_argument("--labels", required=True, metavar="FILE.tsv")
    e.add_argument("--annotator", required=True)
    e.add_argument("--column", default=None, help="label column to compare (default: the annotator's first)")
    e.add_argument("--models", default=None, metavar="DIR")
    e.set_defaults(func=_eval)


def _model_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--models", default=None, metavar="DIR", help="folder with trained students/models")
    p.add_argument("--teacher-url", default=None, help="OpenAI-compatible server for teacher labels")
    p.add_argument("--teacher-model", default=None)
    p.add_argument(
        "--url-blocklist", default=None, metavar="DIR", help="UT1 category folder (domains, urls) for `safety_url`"
    )
    add_serve_flags(p, "--teacher-url")


def _annotate(args: argparse.Namespace) -> int:
    from corpusmill.pipelines.annotate import build_annotators, run_annotate  # Beam only when a job runs

    names = args.annotators.split(",") if args.annotators else None
    if names is None and args.teacher_url:
        from corpusmill.annotators.registry import DEFAULT_ANNOTATORS

        names = [*DEFAULT_ANNOTATORS, "teacher"]
    annotators = build_annotators(
        names,
        models_dir=args.models,
        url_blocklist=args.url_blocklist,
        teacher_url=args.teacher_url,
        teacher_model=args.teacher_model,
        teacher_cache_dir=os.path.join(args.out, LLM_CACHE_DIR, "teacher"),
        teacher_limits=llm_limits(args),
    )
    s = run_annotate(
        args.docs,
        args.out,
        annotators=annotators,
        workers=args.workers,
        beam_args=args.beam_args,
        overwrite=args.overwrite,
        progress=not args.quiet,
        retry_failed=args.retry_failed,
    )
    print_counts("annotate", s, args.out)
    return 0


def _list(args: argparse.Namespace) -> int:
    from corpusmill.annotators import registry

    for name, target in registry.known().items():
        print(f"{name}\t{target}")
    return 0


def _train(args: argparse.Namespace) -> int:
    from corpusmill.annotators.teacher import TeacherConfig
    from corpusmill.annotators.training.students import train_student

    if not args.teacher_url:
        raise ConfigError("annotators train needs --teacher-url or --serve MODEL (an OpenAI-compatible server)")

    cache = os.path.join(args.out, LLM_CACHE_DIR, "teacher")  # a re-run asks the teacher nothing twice
    m = train_student(
        args.task,
        args.docs,
        args.out,
        TeacherConfig(args.teacher_url, args.teacher_model, cache_dir=cache),
        sample=args.sample,
        seed=args.seed,
    )
    metric = f"spearman={m['spearman']:.3f}" if "spearman" in m else f"accuracy={m['accuracy']:.3f}"
    if "spearman" in m and math.isnan(m["spearman"]):
        metric = "spearman=nan (constant predictions or labels)"
    print(f"train {args.task}: labeled={m['labeled']} train={m['train']} held_out={m['held_out']} {metric}")
    print(f"  model and card in {args.out}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from corpusmill.annotators import registry
    from corpusmill.annotators.evaluate import evaluate, read_labeled

    texts, gold, langs = read_labeled(args.labels)
    result = evaluate(registry.create(args.annotator, models_dir=args.models), texts, gold, args.column, langs)
    print(f"{args.annotator}.{result.column}: n={result.n} accuracy={result.accuracy:.4f}")
    print("label\tsupport\tprecision\trecall")
    for c in result.classes:
        print(f"{c.label}\t{c.support}\t{c.precision:.4f}\t{c.recall:.4f}")
    if result.by_lang:
        print("lang\tn\taccuracy")
        for lang, (n, acc) in result.by_lang.items():
            print(f"{lang}\t{n}\t{acc:.4f}")
    return 0
