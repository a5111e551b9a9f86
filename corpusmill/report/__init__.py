"""The corpus report: one self-contained HTML page of charts built from DuckDB aggregates.

from corpusmill.report import build_report
build_report("out/docs", "report.html", annotations="out/annotations", shards="out/shards")
"""

from corpusmill.report.build import ReportResult, build_report

__all__ = ["ReportResult", "build_report"]
