"""PDF extraction: per-page routing between the text layer and OCR, then a guarded rewrite.

Start with `extractor.PdfExtractor` (one PDF in, one document or dead letter out) and
`config.PdfConfig`; `parts` is the unit of work of the `extract-pdf` job; `samples` makes
small PDFs with known text. This package stays light on import: the child process that
parses PDFs imports only `worker` and what it needs.
"""
