"""Registry of benchmark suites (each a callable printing its own medians)."""

ALL: list = []
