"""Models shipped with corpusmill (data files; see each model card `*.md`)."""
