"""The dedup job's options, validated once, and LSH banding chosen from the threshold."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from corpusmill.errors import ConfigError

KEEP_RULES = ("edu_score", "first")
# The chance that a pair exactly at the threshold becomes a candidate, when bands are chosen
# for the user. FineWeb's 14 x 8 gives 0.92 at 0.8; we ask for more and let the Jaccard check
# (not the banding) hold precision.
TARGET_CANDIDATE_RATE = 0.95


def candidate_probability(jaccard: float, bands: int, rows: int) -> float:
    """P(a pair of Jaccard similarity `jaccard` shares at least one band): the LSH S-curve."""
    return 1.0 - (1.0 - jaccard**rows) ** bands


def choose_bands(threshold: float, num_perm: int, target: float = TARGET_CANDIDATE_RATE) -> tuple[int, int]:
    """The steepest banding (most rows per band) within `num_perm` hashes that still makes a
    pair at `threshold` a candidate with probability >= `target`; steeper curves send fewer
    dissimilar pairs to the Jaccard check."""
    for rows in range(num_perm, 0, -1):
        bands = num_perm // rows
        if candidate_probability(threshold, bands, rows) >= target:
            return bands, rows
    raise ConfigError(f"no banding of {num_perm} hashes reaches threshold {threshold}; use more hashes")


def verify_floor(threshold: float, num_perm: int) -> float:
    """The signature-Jaccard estimate a candidate pair must reach: three standard errors
    below the threshold, so that pairs truly at the threshold pass 99.9 % of the time."""
    return max(0.0, threshold - 3.0 * math.sqrt(threshold * (1.0 - threshold) / num_perm))


@dataclass(frozen=True)
class DedupConfig:
    threshold: float = 0.8
    ngram: int = 5
    num_perm: int = 112
    bands: int | None = None
    rows: int | None = None
    seed: int = 1
    # Documents with fewer tokens than this get no signature (too short to judge).
    min_tokens: int = 0
    verify: bool = True
    keep: str = "edu_score"

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ConfigError(f"--threshold must be in (0, 1], got {self.threshold}")
        if self.ngram < 1 or self.num_perm < 8:
            raise ConfigError("--ngram must be >= 1 and the number of hashes >= 8")
        if (self.bands is None) != (self.rows is None):
            raise ConfigError("give --bands and --rows together (or neither: they follow from --threshold)")
        if self.bands is not None and self.rows is not None:
            if self.bands < 1 or self.rows < 1:
                raise ConfigError("--bands and --rows must be >= 1")
            object.__setattr__(self, "num_perm", self.bands * self.rows)
        else:
            bands, rows = choose_bands(self.threshold, self.num_perm)
            object.__setattr__(self, "bands", bands)
            object.__setattr__(self, "rows", rows)
        if self.min_tokens == 0:
            object.__setattr__(self, "min_tokens", self.ngram)
        if self.keep not in KEEP_RULES:
            raise ConfigError(f"--keep must be one of {', '.join(KEEP_RULES)}, got {self.keep!r}")

    @property
    def band_count(self) -> int:
        assert self.bands is not None
        return self.bands

    @property
    def row_count(self) -> int:
        assert self.rows is not None
        return self.rows

    @property
    def verify_floor(self) -> float:
        return verify_floor(self.threshold, self.num_perm) if self.verify else 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def s_curve(config: DedupConfig, points: tuple[float, ...] = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0)) -> str:
    """The S-curve of the chosen banding as a small table, for the job to print."""
    lines = [
        f"LSH {config.band_count} bands x {config.row_count} rows ({config.num_perm} hashes, "
        f"{config.ngram}-grams), threshold {config.threshold}:"
    ]
    lines.append("  Jaccard   " + " ".join(f"{j:>5.2f}" for j in points))
    lines.append(
        "  P(cand.)  "
        + " ".join(f"{candidate_probability(j, config.band_count, config.row_count):>5.3f}" for j in points)
    )
    if config.verify:
        lines.append(f"  candidates are kept when their signature estimate is >= {config.verify_floor:.3f}")
    return "\n".join(lines)
