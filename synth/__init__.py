"""Generators and verifiers for synthetic math, code and textbook data. Never imports Beam."""
