"""Reference data shipped with corpusmill (see README.md in this folder for sources)."""
