"""Benchmarks and the corpus generator behind docs/performance.md (figures, not tests)."""
