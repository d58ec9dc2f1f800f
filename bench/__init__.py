"""Benchmarks: each ``bench/bench_*.py`` prints its figures beside a baseline measured in the same run."""
