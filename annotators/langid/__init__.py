"""Language identification internals: scripts, text preparation, the fastText model, training.

The annotator itself is `annotators.lang_id.LangId`.
"""
