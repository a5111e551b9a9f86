"""Per-document labelers (language, quality, education value, domain, safety). Never imports Beam."""
