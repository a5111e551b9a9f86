"""Language identification internals: scripts, text preparation, the fastText model, training.

The annotator itself is `corpusmill.annotators.lang_id.LangId`.
"""
