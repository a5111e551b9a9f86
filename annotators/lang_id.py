"""`LangId`: language, script and confidence of every document (119 Qwen3 languages and more).

The model is corpusmill's own fastText classifier, trained on SIB-200 (205 languages;
languages outside Qwen3's list keep their own labels), shipped in `annotators/models/`
with its model card (`lid.md`). See `docs/lang_id.md` for the columns and rules.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pyarrow as pa

from corpusmill.annotators.base import Annotator
from corpusmill.annotators.langid.close_pairs import ClosePairs
from corpusmill.annotators.langid.document import label_span
from corpusmill.annotators.langid.model import LidModel, read_metadata
from corpusmill.annotators.langid.noise import LetterModel
from corpusmill.annotators.langid.sample import spans
from corpusmill.errors import ModelNotFoundError

log = logging.getLogger(__name__)

DEFAULT_MODEL = Path(__file__).parent / "models" / "lid.ftz"


# One entry of `langs`: a language and its share of the document's text.
LANG_SHARE = pa.struct([("lang", pa.string()), ("share", pa.float32())])


class LangId(Annotator):
    """Labels `lang` (FLORES-200-style code or `und`), `lang_score`, `lang_mix`, `langs`, `script`.

    `lang` is the label with the most text (`und`: no language, e.g. code or noise);
    `lang_score` its calibrated probability of being right; `lang_mix` the share of the
    document's text not in `lang` (0.0: one language throughout); `langs` the top
    languages with their shares. Long documents are read as at most 16 windows spread
    over the whole text (`document`), so cost and memory stay bounded.
    """

    name = "lang_id"
    columns = pa.schema(
        [
            ("lang", pa.string()),
            ("lang_score", pa.float32()),
            ("lang_mix", pa.float32()),
            ("langs", pa.list_(LANG_SHARE)),
            ("script", pa.string()),
            ("lang_model", pa.string()),
            ("lang_model_version", pa.string()),
        ]
    )

    def __init__(self, *, model_path: str | None = None) -> None:
        self.model_path = Path(model_path) if model_path else DEFAULT_MODEL
        meta_path = self.model_path.with_suffix(".json")
        self._require(self.model_path, meta_path)
        meta = read_metadata(self.model_path)
        if meta.get("pairs"):
            self._require(ClosePairs.path_for(self.model_path))
        if meta.get("letters"):
            self._require(LetterModel.path_for(self.model_path))
        self.model_name: str = meta["name"]
        self.version: str = meta["version"]
        self._model: LidModel | None = None

    @staticmethod
    def _require(*paths: Path) -> None:
        for path in paths:
            if not path.is_file():
                raise ModelNotFoundError(
                    f"language-ID model file {path} not found: pass the .ftz of "
                    "`python -m corpusmill.annotators.training.langid --sib200 DIR --out DIR` (its .json "
                    "_pairs.npz and _letters.npz must sit beside it), or omit the model path to use the shipped model"
                )

    def setup(self) -> None:
        """Load the model (once per worker process)."""
        if self._model is None:
            self._model = LidModel.load(self.model_path)
            log.info("loaded %s %s from %s", self.model_name, self.version, self.model_path)

    def label(self, batch: pa.Table) -> pa.Table:
        """One row of `columns` per row of `batch` (same order), from its `text` column."""
        self.setup()
        assert self._model is not None
        column = batch.column("text")
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            column = column.cast(pa.large_string())
        labels = [label_span(self._model, span) for span in spans(column)]
        n = len(labels)
        return pa.table(
            [
                pa.array([doc.lang for doc in labels], pa.string()),
                pa.array([doc.score for doc in labels], pa.float32()),
                pa.array([doc.mix for doc in labels], pa.float32()),
                pa.array(
                    [[{"lang": lang, "share": share} for lang, share in doc.langs] for doc in labels],
                    pa.list_(LANG_SHARE),
                ),
                pa.array([doc.script for doc in labels], pa.string()),
                pa.array([self.model_name] * n, pa.string()),
                pa.array([self.version] * n, pa.string()),
            ],
            schema=self.columns,
        )
