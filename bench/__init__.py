"""Benchmarks of our components against their anchors, each writing one JSON record (see bench/README.md)."""
