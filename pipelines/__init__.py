"""Beam jobs: each builds read -> transforms -> write from the domain rooms; no domain logic here."""
