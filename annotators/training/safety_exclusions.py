"""Rebuild `lexicons/neutral_terms.txt`: lexicon terms that are ordinary words somewhere.

    python -m corpusmill.annotators.training.safety_exclusions --sib200 /path/to/sib200

Each LDNOOBW list is matched only in documents of its own language, yet some of its terms
are ordinary words there too. SIB-200's train sentences (FLORES-200: Wikinews, Wikivoyage,
Wikibooks; 205 languages) are neutral text: a term found in at least `MIN_SENTENCES` of them
is written to the exclusion list, which `safety_lexicon.load_lexicons` drops.
"""

from __future__ import annotations

import argparse
import os
from collections import Counter

from corpusmill.annotators.safety_lexicon import LEXICON_DIR, NEUTRAL_FILE, load_lexicons
from corpusmill.annotators.sib200 import read_split
from corpusmill.annotators.words import split_words

MIN_SENTENCES = 3


def neutral_terms(sib200: str) -> list[str]:
    index: dict[str, set[tuple[str, ...]]] = {}
    for terms in load_lexicons(exclude=False).values():  # every list, whatever its language
        for first, ts in terms.items():
            index.setdefault(first, set()).update(ts)
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
