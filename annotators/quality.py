"""`QualitySignals`: Gopher / C4 / FineWeb-style quality numbers for every document.

Numbers, not verdicts: the mixer picks thresholds (per language if it wants) in SQL.
A document longer than `SAMPLE_CHARS` is measured on its first `SAMPLE_CHARS` characters,
so a 50 MB document costs what a 100 KB one does. Character-class fractions run over the
whole batch in Arrow's C++ regex engine (whitespace: `str.count` of RE2's five whitespace characters);
the rest is per text (see `quality_signals`).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from corpusmill.annotators.base import Annotator, BatchHint, constant, model_columns
from corpusmill.annotators.base import texts as base_texts
from corpusmill.annotators.gates import space_count
from corpusmill.annotators.quality_signals import signals

SAMPLE_CHARS = 100_000

_INT = ("q_n_words",)
_BOOL = ("q_has_lorem_ipsum", "q_has_curly_bracket", "q_has_javascript")
_FLOAT = (
    "q_mean_word_len",
    "q_alpha_word_frac",
    "q_symbol_word_ratio",
    "q_newline_word_ratio",
    "q_top_2gram_frac",
    "q_top_3gram_frac",
    "q_top_4gram_frac",
    "q_dup_5gram_frac",
    "q_dup_10gram_frac",
    "q_bullet_line_frac",
    "q_ellipsis_line_frac",
    "q_terminal_punct_line_frac",
    "q_short_line_frac",
    "q_dup_line_frac",
    "q_dup_line_char_frac",
    "q_dup_para_frac",
    "q_dup_para_char_frac",
    "q_unspaced_frac",
)
# Character classes counted in Arrow (RE2 syntax): digits, punctuation and symbols,
# whitespace, and control/unassigned/replacement characters (binary-looking text).
_CHAR_CLASSES = {
    "q_digit_frac": r"\pN",
    "q_punct_frac": r"[\pP\pS]",
    "q_whitespace_frac": r"\s",
    "q_nonprint_frac": r"[\pC\x{FFFD}]",
}


class QualitySignals(Annotator):
    name = "quality"
    version = "1"
    columns = pa.schema(
        [pa.field(c, pa.int32()) for c in _INT]
        + [pa.field(c, pa.float32()) for c in (*_FLOAT, *_CHAR_CLASSES)]
        + [pa.field(c, pa.bool_()) for c in _BOOL]
        + model_columns("q")
    )

    def batch_hint(self) -> BatchHint:
        return BatchHint(min_docs=16, max_docs=512)

    def label(self, batch: pa.Table) -> pa.Table:
        n = batch.num_rows
        sample = pc.utf8_slice_codeunits(batch.column("text"), 0, SAMPLE_CHARS)
        texts = [t[:SAMPLE_CHARS] for t in base_texts(batch)]  # the same strings as `sample`
        rows = [signals(t) for t in texts]
        arrays: dict[str, pa.Array] = {c: pa.array([r[c] for r in rows], pa.int32()) for c in _INT}
        arrays.update({c: pa.array([r[c] for r in rows], pa.float32()) for c in _FLOAT})
        lengths = pc.max_element_wise(pc.utf8_length(sample), 1)
        for col, pattern in _CHAR_CLASSES.items():
            if col == "q_whitespace_frac":  # five ASCII characters: `str.count` beats a regex pass
                counts = pa.array([space_count(t) for t in texts], pa.int32())
            else:
                counts = pc.count_substring_regex(sample, pattern)
            arrays[col] = pc.cast(
                pc.divide(pc.cast(counts, pa.float64()), pc.cast(lengths, pa.float64())), pa.float32()
            )
        arrays.update({c: pa.array([r[c] for r in rows], pa.bool_()) for c in _BOOL})
        arrays["q_model"] = constant(self.name, n)
        arrays["q_model_version"] = constant(self.version, n)
        return pa.Table.from_arrays([arrays[f.name] for f in self.columns], schema=self.columns)
