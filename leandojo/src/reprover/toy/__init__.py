"""The demo's toy world: a generated benchmark in the Benchmark 4 format whose tactics a small kernel checks.

:mod:`reprover.toy.bench` writes the benchmark; :mod:`reprover.toy.kernel` is its environment (``--env rewrite``).
"""
