"""Tools that build the shipped models and word lists (run by hand or by `corpusmill annotators train`)."""
