"""Settings of PDF extraction, validated once before any file is opened."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from corpusmill.errors import ConfigError
from corpusmill.extractors.pdf.ocr_tesseract import available_langs, check_langs
from corpusmill.extractors.pdf.route import RoutePolicy
from corpusmill.llm.client import LLMLimits

OCR_MODES = ("auto", "vlm", "tesseract", "off")
REWRITE_SCOPES = ("ocr", "all")
VLM, TESSERACT, NO_OCR = "vlm", "tesseract", "none"


@dataclass(frozen=True)
class PdfConfig:
    """How to read PDFs. `ocr="auto"` uses the VLM when `llm_url` is set, else Tesseract."""

    ocr: str = "auto"
    llm_url: str | None = None  # OpenAI-compatible server of a vision-language model
    vlm_model: str | None = None  # None: the server's first model
    rewrite_url: str | None = None  # OpenAI-compatible server for the rewrite step
    rewrite_model: str | None = None
    rewrite_scope: str = "ocr"  # rewrite OCR pages only, or every page
    ocr_langs: str | None = None  # Tesseract packs ("eng+chi_sim"); None: from the text layer
    ocr_dpi: int = 200  # Tesseract render resolution
    vlm_longest_side: int = 1300  # VLM page image size in pixels
    detect_orientation: bool = True
    route: RoutePolicy = field(default_factory=RoutePolicy)
    max_pages: int = 5000
    max_bytes: int = 512 * 2**20
    # Per document, in the child process. Each page has its own limit too, so this is a cap
    # for pathological files; a scanned book needs ~4 s a page with Tesseract at 200 dpi.
    time_limit_s: float = 3600.0
    page_time_limit_s: float = 180.0  # per page
    memory_limit_mb: int = 3072  # address-space limit of the child process
    # Timeouts, deadline, retries and answer size of the VLM and rewrite requests: they bound
    # the run's cost, not its output, so the job leaves them out of its fingerprint.
    llm: LLMLimits = field(default_factory=LLMLimits)

    def __post_init__(self) -> None:
        if self.ocr not in OCR_MODES:
            raise ConfigError(f"--ocr must be one of {', '.join(OCR_MODES)}, got {self.ocr!r}")
        if self.rewrite_scope not in REWRITE_SCOPES:
            raise ConfigError(f"rewrite scope must be one of {', '.join(REWRITE_SCOPES)}")
        if self.ocr == VLM and not self.llm_url:
            raise ConfigError("--ocr vlm needs --llm-url (an OpenAI-compatible server of a VLM)")
        if self.ocr == TESSERACT and not available_langs():
            raise ConfigError(
                "--ocr tesseract: Tesseract data not found; install tesseract-ocr (see Makefile APT_PACKAGES)"
            )
        if self.ocr_langs and self.ocr_engine == TESSERACT:
            object.__setattr__(self, "ocr_langs", check_langs(self.ocr_langs, available_langs()))
        for name in ("ocr_dpi", "vlm_longest_side", "max_pages", "max_bytes", "memory_limit_mb"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive")
        if self.time_limit_s <= 0 or self.page_time_limit_s <= 0:
            raise ConfigError("time limits must be positive")

    @property
    def ocr_engine(self) -> str:
        """The engine OCR pages go to: "vlm", "tesseract" or "none"."""
        if self.ocr == "off":
            return NO_OCR
        if self.ocr == VLM or (self.ocr == "auto" and self.llm_url):
            return VLM
        if self.ocr == TESSERACT or available_langs():
            return TESSERACT
        return NO_OCR

    def as_meta(self) -> dict[str, Any]:
        """The resolved settings as stored in the job summary."""
        out = asdict(self)
        out["ocr_engine"] = self.ocr_engine
        return out
