"""Turning files into documents: PDF page analysis, OCR engines, the rewrite step. Never imports Beam."""
