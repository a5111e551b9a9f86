"""`lang_score` that means what it says: the raw model probability mapped, per length band,
to how often answers with that probability were right on dev text.

fastText's renormalized probability is near 1 for almost any short text ("She is like
Tina Turner." is Albanian at 1.0). An isotonic (monotone) fit of right/wrong against the
raw score, one per band of the text's letters (< 50, 50-200, more), learned on dev
sentences and paragraphs (SIB-200 dev and our UD dev split), gives a score that holds on
unseen text: of answers scored 0.9 or more, 90 % or more are right (see the model card).
No prior over languages is used: every language counts as equally likely.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Band edges in letters: sentences under 50 letters, sentences, paragraphs and documents.
BANDS = (50, 200)
BAND_NAMES = ("< 50", "50-200", ">= 200")
# Fewer dev answers than this in a band: that band maps scores through unchanged.
MIN_ANSWERS = 200
# The fit is pooled over bins of this many answers at least, so one noisy bin cannot
# create a step.
MIN_BIN = 50


def band(letters: int) -> int:
    return sum(letters >= edge for edge in BANDS)


@dataclass(frozen=True)
class Calibration:
    """Per band, breakpoints (raw score -> calibrated score) of a monotone map."""

    raw: tuple[tuple[float, ...], ...]
    calibrated: tuple[tuple[float, ...], ...]

    def __call__(self, score: float, letters: int) -> float:
        i = band(letters)
        if not self.raw[i]:
            return score
        return float(np.interp(score, self.raw[i], self.calibrated[i]))

    def to_json(self) -> dict:
        return {
            "bands": list(BAND_NAMES),
            "raw": [list(row) for row in self.raw],
            "calibrated": [list(row) for row in self.calibrated],
        }

    @classmethod
    def from_json(cls, entry: dict | None) -> Calibration:
        if not entry:
            return IDENTITY
        return cls(tuple(map(tuple, entry["raw"])), tuple(map(tuple, entry["calibrated"])))


IDENTITY = Calibration(((),) * len(BAND_NAMES), ((),) * len(BAND_NAMES))


def fit(answers: list[tuple[float, int, bool]]) -> Calibration:
    """The map from (raw score, letters, right?) answers, one isotonic fit per band."""
    raw: list[tuple[float, ...]] = []
    calibrated: list[tuple[float, ...]] = []
    for i in range(len(BAND_NAMES)):
        scored = sorted((score, ok) for score, letters, ok in answers if band(letters) == i)
        if len(scored) < MIN_ANSWERS:
            raw.append(())
            calibrated.append(())
            continue
        xs, ys = _isotonic(scored)
        raw.append(tuple(round(x, 6) for x in xs))
        calibrated.append(tuple(round(y, 6) for y in ys))
    return Calibration(tuple(raw), tuple(calibrated))


def _isotonic(scored: list[tuple[float, bool]]) -> tuple[list[float], list[float]]:
    """Pool-adjacent-violators over bins of MIN_BIN answers: (mean raw score, rate right)."""
    blocks: list[list[float]] = []  # [sum of scores, right, count]
    for start in range(0, len(scored), MIN_BIN):
        part = scored[start : start + MIN_BIN]
        blocks.append([sum(s for s, _ in part), float(sum(ok for _, ok in part)), float(len(part))])
        # Merge while the rate right does not rise, or the mean scores coincide (raw 1.0
        # is common): the map must be a function of the raw score.
        while len(blocks) > 1 and (
            blocks[-2][1] / blocks[-2][2] >= blocks[-1][1] / blocks[-1][2]
            or blocks[-2][0] / blocks[-2][2] >= blocks[-1][0] / blocks[-1][2] - 1e-9
        ):
            last = blocks.pop()
            blocks[-1] = [a + b for a, b in zip(blocks[-1], last)]
    xs = [b[0] / b[2] for b in blocks]
    ys = [b[1] / b[2] for b in blocks]
    # Anchors at 0 and 1 so every raw score maps inside the fitted range.
    if xs[0] > 0.0:
        xs, ys = [0.0, *xs], [0.0, *ys]
    if xs[-1] < 1.0:
        xs, ys = [*xs, 1.0], [*ys, ys[-1]]
    return xs, ys
