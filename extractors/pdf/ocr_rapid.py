"""CPU OCR with RapidOCR (PP-OCRv4 ONNX models), an optional engine: `pip install corpusmill[rapidocr]`.

`rapidocr-onnxruntime` 1.4 ships its detection, orientation and recognition models inside
the wheel (`rapidocr_onnxruntime/models/*.onnx`), so nothing is downloaded at run time.
`rapidocr` 3.x (checked: 3.4.0) carries the same three PP-OCRv4 models but fetches every
other one (other languages, PP-OCRv5) on first use, which offline workers cannot. Its recognizer knows Chinese and English only: `bench/ocr_engines.py` compares it
with Tesseract per script, and docs/pdf.md records where each is better.
"""

from __future__ import annotations

import functools
from typing import Any

from corpusmill.errors import ConfigError
from corpusmill.extractors.pdf.ocr_words import Word

ENGINE = "rapidocr"
PACKAGE = "rapidocr-onnxruntime"
SCRIPTS = frozenset({"Latin", "Han"})  # what its bundled recognition model reads


def available() -> bool:
    try:
        import rapidocr_onnxruntime  # noqa: F401
    except (ImportError, OSError):  # also OpenCV without its system libraries (libGL)
        return False
    return True


@functools.cache
def _engine() -> Any:
    """One engine per process: loading the three models takes about a second."""
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as exc:
        raise ConfigError(f"RapidOCR is not installed: pip install 'corpusmill[rapidocr]' ({PACKAGE})") from exc
    # One thread per page: parallelism comes from workers, as for Tesseract.
    return RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)


def version() -> str:
    from importlib.metadata import version as dist_version

    return f"{ENGINE}-{dist_version(PACKAGE)}"


def recognize(pix: Any) -> list[Word]:
    """Text lines of a rendered page (a pymupdf Pixmap, RGB or gray), as Words in pixels."""
    import numpy as np

    image = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.stride)[:, : pix.width * pix.n]
    image = image.reshape(pix.height, pix.width, pix.n)
    if pix.n == 1:
        image = np.repeat(image, 3, axis=2)
    found, _ = _engine()(np.ascontiguousarray(image[:, :, :3]))
    words = []
    for number, (box, text, score) in enumerate(found or []):
        xs, ys = [p[0] for p in box], [p[1] for p in box]
        # Each detection is a line: its own block and line; `words_to_blocks` regroups them.
        words.append(Word(min(xs), min(ys), max(xs), max(ys), text, 100.0 * float(score), number, 0))
    return words
