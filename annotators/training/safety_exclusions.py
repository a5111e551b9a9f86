"""Rebuild `lexicons/neutral_terms.txt`: lexicon terms that are ordinary words somewhere.

    python -m corpusmill.annotators.training.safety_exclusions --sib200 /path/to/sib200

The 28 LDNOOBW lists are matched in every document whatever its language, so a term that is
obscene in one language but a common word in another ("con", "del") would flag ordinary
Spanish or Italian text. SIB-200's train sentences (FLORES-200: Wikinews, Wikivoyage,
Wikibooks; 205 languages) are neutral text: a term found in at least `MIN_SENTENCES` of them
is written to the exclusion list, which `safety.load_lexicon` drops.
"""

from __future__ import annotations

import argparse
import os
from collections import Counter

from corpusmill.annotators.safety import LEXICON_DIR, NEUTRAL_FILE, load_lexicon
from corpusmill.annotators.sib200 import read_split
from corpusmill.annotators.words import split_words

MIN_SENTENCES = 3


def neutral_terms(sib200: str) -> list[str]:
    index = load_lexicon(exclude=False)
    seen: Counter[tuple[str, ...]] = Counter()
    for example in read_split(sib200, "train"):
        words = [w.lower() for w in split_words(example.text)]
        found = {t for i, w in enumerate(words) if w in index for t in index[w] if tuple(words[i : i + len(t)]) == t}
        seen.update(found)
    return sorted(" ".join(t) for t, n in seen.items() if n >= MIN_SENTENCES)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sib200", required=True)
    args = parser.parse_args(argv)
    terms = neutral_terms(args.sib200)
    with open(os.path.join(LEXICON_DIR, NEUTRAL_FILE), "w", encoding="utf-8") as fh:
        fh.write("".join(f"{t}\n" for t in terms))
    print(f"{len(terms)} terms occur in >= {MIN_SENTENCES} neutral SIB-200 sentences; excluded")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
