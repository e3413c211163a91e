"""Benchmark suite for skdeep (see ``benchmarks/README.md``).

Run ``python benchmarks/run.py --help`` from the repository root.
"""
