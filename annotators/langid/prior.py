"""A documented prior over languages for short text (under `SHORT_LETTERS` letters).

A few words carry little evidence: "She is like Tina Turner." is as likely Albanian as
English to a model trained on a flat 701 sentences per language. In a web corpus it is not:
a short Latin-script text is far more often English than Limburgish. For short pieces the
model's probabilities are multiplied by these weights and renormalized; longer text is
left to the model alone. The weights are a stated default, not estimated: 1 for the
languages with the largest shares of web text (Common Crawl's top languages that Qwen3
lists), `QWEN3_WEIGHT` for Qwen3's other languages, `OTHER_WEIGHT` for the rest of the labels.
"""

from __future__ import annotations

# Fewer letters than this make a piece short. At 50, a few SIB-200 dev sentences of
# low-resource languages lost their label to the prior; at 40 none did.
SHORT_LETTERS = 40
QWEN3_WEIGHT = 0.05
OTHER_WEIGHT = 0.01
WEB_LANGUAGES = frozenset(
    "eng_Latn rus_Cyrl deu_Latn jpn_Jpan spa_Latn fra_Latn zho_Hans zho_Hant ita_Latn por_Latn "
    "pol_Latn nld_Latn tur_Latn vie_Latn ind_Latn ces_Latn kor_Hang ukr_Cyrl hun_Latn swe_Latn "
    "arb_Arab pes_Arab ron_Latn ell_Grek dan_Latn fin_Latn heb_Hebr tha_Thai slk_Latn bul_Cyrl "
    "nob_Latn hin_Deva".split()
)


def weights(labels: list[str], qwen3: frozenset[str]) -> dict[str, float]:
    """The prior weight of each label."""
    return {
        label: 1.0 if label in WEB_LANGUAGES else QWEN3_WEIGHT if label in qwen3 else OTHER_WEIGHT for label in labels
    }
