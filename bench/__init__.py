"""Benchmarks: each runs our code and a peer on the same data in one run and prints the ratio."""
