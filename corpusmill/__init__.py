"""corpusmill: a labeled, queryable pretraining corpus and mixed training shards, on Beam."""

from corpusmill.corpus import Corpus, open_corpus

__all__ = ["Corpus", "open_corpus"]
__version__ = "0.1.0"
