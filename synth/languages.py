"""Language codes the generators accept, and the names prompts use for them.

Short ISO 639-1 codes (`en`, `zh`...) for the common languages, and every Qwen3 language by
its FLORES-200 style code (`swh_Latn`, `yue_Hant`) or ISO 639-3 code, from
`corpusmill.languages`, so textbook prompts can target all 119.
"""

from __future__ import annotations

from corpusmill.errors import ConfigError
from corpusmill.languages import qwen3_languages

# Names as a prompt should say them; codes are ISO 639-1 where one exists (ISO 639-3 otherwise).
LANGUAGE_NAMES = {
    "en": "English",
    "zh": "Simplified Chinese",
    "fr": "French",
    "es": "Spanish",
    "de": "German",
    "ru": "Russian",
    "ar": "Modern Standard Arabic",
    "ja": "Japanese",
    "hi": "Hindi",
    "pt": "Portuguese",
    "it": "Italian",
    "ko": "Korean",
    "id": "Indonesian",
    "vi": "Vietnamese",
    "th": "Thai",
    "tr": "Turkish",
    "pl": "Polish",
    "nl": "Dutch",
    "uk": "Ukrainian",
    "bn": "Bengali",
    "fa": "Persian",
    "sw": "Swahili",
    "ur": "Urdu",
    "he": "Hebrew",
    "el": "Greek",
    "cs": "Czech",
    "sv": "Swedish",
    "ro": "Romanian",
    "hu": "Hungarian",
    "ta": "Tamil",
    "te": "Telugu",
    "mr": "Marathi",
    "yue": "Cantonese",
}


def language_name(code: str) -> str:
    if code in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[code]
    for lang in qwen3_languages():
        if code in (lang.code, lang.iso639_3):
            return lang.name
    raise ConfigError(
        f"unknown language code {code!r}: use an ISO 639-1 code ({', '.join(sorted(LANGUAGE_NAMES))}) "
        "or a Qwen3 language's FLORES-200 code such as swh_Latn"
    )
