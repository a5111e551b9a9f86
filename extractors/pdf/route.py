"""Per-page routing: keep the text layer, or send the page to OCR.

OCR costs seconds per page (Tesseract) or GPU time (a VLM), the text layer about a
millisecond, so a page goes to OCR only when its text layer is missing or bad and there is
something on the page to recognize. A text layer of broken-encoding marks (U+FFFD,
private-use code points) or of a shaped script in glyph order is never kept, however
short: the glyphs on the page are what OCR reads instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from corpusmill.errors import ConfigError
from corpusmill.extractors.pdf.analysis import PageAnalysis

TEXT, OCR = "text", "ocr"


@dataclass(frozen=True)
class RoutePolicy:
    """Thresholds of the routing rule (see `route_page`)."""

    min_score: float = 0.5  # text-layer quality below this goes to OCR
    min_chars: int = 32  # fewer non-space characters than this counts as "no text layer"
    scan_coverage: float = 0.5  # an image covering this much of a page...
    scan_max_chars: int = 200  # ...with this little text is a scan with a stray text line
    min_image_coverage: float = 0.05  # below this there is nothing worth recognizing
    max_garbage: float = 0.3  # this share of broken-encoding marks makes the layer unusable
    max_implausible: float = 0.03  # words in glyph order (correct text: <= 0.004 measured)

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_score <= 1.0:
            raise ConfigError(f"min_score must be in [0, 1], got {self.min_score}")
        if self.min_chars < 0 or self.scan_max_chars < 0:
            raise ConfigError("min_chars and scan_max_chars must be >= 0")
        if not (0.0 < self.max_garbage <= 1.0 and 0.0 < self.max_implausible <= 1.0):
            raise ConfigError("max_garbage and max_implausible must be in (0, 1]")


@dataclass(frozen=True)
class Route:
    route: str  # TEXT or OCR
    why: str  # short snake_case reason, stored in the page's meta


def route_page(page: PageAnalysis, policy: RoutePolicy = RoutePolicy()) -> Route:
    """Decide how to read one page."""
    signals = page.text
    has_images = page.image_coverage >= policy.min_image_coverage
    if signals.chars and signals.garbage_ratio >= policy.max_garbage:
        return Route(OCR, "garbled_text_layer")  # U+FFFD / private-use glyphs: read the pixels
    if signals.implausible_ratio >= policy.max_implausible:
        return Route(OCR, "glyph_order_text_layer")  # vowel signs first, presentation forms
    if signals.chars < policy.min_chars:
        return Route(OCR, "no_text_layer") if has_images else Route(TEXT, "blank")
    if page.image_coverage >= policy.scan_coverage and signals.chars < policy.scan_max_chars:
        return Route(OCR, "scan_with_sparse_text")
    if signals.score < policy.min_score:
        return Route(OCR, "bad_text_layer")
    return Route(TEXT, "good_text_layer")
