"""Language codes the generators accept, and the names prompts use for them."""

from __future__ import annotations

from corpusmill.errors import ConfigError

# Names as a prompt should say them; codes are ISO 639-1 where one exists (ISO 639-3 otherwise).
LANGUAGE_NAMES = {
    "en": "English", "zh": "Simplified Chinese", "fr": "French", "es": "Spanish", "de": "German",
    "ru": "Russian", "ar": "Modern Standard Arabic", "ja": "Japanese", "hi": "Hindi", "pt": "Portuguese",
    "it": "Italian", "ko": "Korean", "id": "Indonesian", "vi": "Vietnamese", "th": "Thai", "tr": "Turkish",
    "pl": "Polish", "nl": "Dutch", "uk": "Ukrainian", "bn": "Bengali", "fa": "Persian", "sw": "Swahili",
    "ur": "Urdu", "he": "Hebrew", "el": "Greek", "cs": "Czech", "sv": "Swedish", "ro": "Romanian",
    "hu": "Hungarian", "ta": "Tamil", "te": "Telugu", "mr": "Marathi", "yue": "Cantonese",
}


def language_name(code: str) -> str:
    try:
        return LANGUAGE_NAMES[code]
    except KeyError:
        raise ConfigError(f"unknown language code {code!r}; known: {', '.join(sorted(LANGUAGE_NAMES))}") from None
